//! Real packets: the NAT table's decisions applied to IPv4 packets in bytes.
//!
//! [`translate`] parses an IPv4 packet carrying TCP, UDP or ICMP echo, asks the
//! [`NatTable`] what to do (the same table the simulator uses), rewrites addresses and ports
//! in place and fixes the IP and transport checksums incrementally (RFC 1624), so the cost
//! does not depend on the payload size. Anything malformed, truncated or not translatable
//! is rejected with a [`WireError`] naming what is wrong; no input panics.
//!
//! ICMP errors (destination unreachable, time exceeded, parameter problem) are translated as
//! Linux translates RELATED packets: the connection is found from the quoted packet (its
//! inverse is one of the entry's tuples), the quoted header's addresses and ports are put back
//! as they were before translation, the outer destination becomes the quote's source (and the
//! outer source the quote's destination when the error comes from that endpoint itself), and
//! the outer IP, quoted IP, quoted transport (where quoted) and ICMP checksums are fixed.
//!
//! Forwarding duties (TTL, fragmentation, generating ICMP errors) belong to the router around
//! it; this layer only translates. Fragments are rejected (their ports are not visible past
//! the first one).

use std::net::Ipv4Addr;

use super::clock::Instant;
use super::conntrack::FlowKey;
use super::nat::{Decision, NatDrop, NatTable};
use super::packet::{Proto, TcpFlags};
use crate::lang::particle::{eul_reul, eun_neun, i_ga};
use crate::lang::{Explain, Lang};

/// Why a packet could not be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Fewer bytes than a header needs.
    #[error("truncated {what}: needs {need} bytes, has {have}")]
    Truncated {
        /// Which header.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// Not IPv4.
    #[error("IP version {0}, expected 4")]
    NotIpv4(u8),
    /// A header length field is impossible.
    #[error("bad {what}: {value}")]
    BadLength {
        /// Which field.
        what: &'static str,
        /// Its value.
        value: usize,
    },
    /// The IPv4 header checksum is wrong.
    #[error("IPv4 header checksum {found:#06x} is wrong (expected {expected:#06x})")]
    BadChecksum {
        /// In the packet.
        found: u16,
        /// Computed.
        expected: u16,
    },
    /// A fragment.
    #[error("fragmented packet (offset {offset}, more fragments {more}): not translated")]
    Fragment {
        /// Fragment offset in 8-byte units.
        offset: u16,
        /// The MF flag.
        more: bool,
    },
    /// A protocol the NAT does not translate.
    #[error("IP protocol {0} is not translated (only TCP 6, UDP 17 and ICMP echo 1)")]
    Protocol(u8),
    /// An ICMP message other than echo request/reply and the errors.
    #[error(
        "ICMP type {0} is not translated (only echo request 8, echo reply 0 and the errors \
         destination unreachable 3, time exceeded 11, parameter problem 12)"
    )]
    IcmpType(u8),
    /// An ICMP error's checksum is wrong.
    #[error("ICMP checksum {found:#06x} is wrong (expected {expected:#06x})")]
    BadIcmpChecksum {
        /// In the packet.
        found: u16,
        /// Computed.
        expected: u16,
    },
    /// The packet an ICMP error quotes is malformed.
    #[error("ICMP error's quoted packet: {0}")]
    Quoted(Box<WireError>),
    /// An ICMP error whose quoted packet belongs to no tracked connection.
    #[error("ICMP error quoting {0} belongs to no tracked connection")]
    Unrelated(FlowKey),
    /// The NAT refused the packet.
    #[error("dropped by NAT: {0}")]
    Nat(NatDrop),
}

impl Explain for WireError {
    fn explain_in(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            WireError::Truncated { what, need, have } => {
                format!("잘린 {what}: {need}바이트가 필요한데 {have}바이트뿐입니다")
            }
            WireError::NotIpv4(v) => format!("IP 버전 {v}: 4여야 합니다"),
            WireError::BadLength { what, value } => format!("있을 수 없는 {what}: {value}"),
            WireError::BadChecksum { found, expected } => format!(
                "IPv4 헤더 체크섬 {} 틀렸습니다(올바른 값 {expected:#06x})",
                i_ga(format!("{found:#06x}"))
            ),
            WireError::Fragment { offset, more } => {
                format!("조각난 패킷(오프셋 {offset}, 추가 조각 {more}): 변환하지 않습니다")
            }
            WireError::Protocol(p) => format!(
                "IP 프로토콜 {} 변환하지 않습니다(TCP 6, UDP 17, ICMP 에코 1만 변환)",
                eun_neun(p)
            ),
            WireError::IcmpType(t) => format!(
                "ICMP 타입 {} 변환하지 않습니다(에코 요청 8, 에코 응답 0, 오류 3·11·12만 변환)",
                eun_neun(t)
            ),
            WireError::BadIcmpChecksum { found, expected } => format!(
                "ICMP 체크섬 {} 틀렸습니다(올바른 값 {expected:#06x})",
                i_ga(format!("{found:#06x}"))
            ),
            WireError::Quoted(e) => {
                format!("ICMP 오류가 인용한 패킷: {}", e.explain_in(lang))
            }
            WireError::Unrelated(k) => {
                format!(
                    "{} 인용한 ICMP 오류는 추적 중인 어떤 연결에도 속하지 않습니다",
                    eul_reul(k)
                )
            }
            WireError::Nat(n) => format!("NAT가 버렸습니다: {}", n.explain_in(lang)),
        }
    }
}

/// Which way the packet crosses the NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From inside, leaving through the outside interface with this external address.
    Outbound(Ipv4Addr),
    /// Arrived on the outside interface, addressed to the NAT.
    Inbound,
}

pub(super) fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(x) => u16::from_be_bytes([x[0], x[1]]),
        None => 0,
    }
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    if let Some(x) = b.get_mut(at..at + 2) {
        x.copy_from_slice(&v.to_be_bytes());
    }
}

pub(super) fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    match b.get(at..at + 4) {
        Some(x) => Ipv4Addr::new(x[0], x[1], x[2], x[3]),
        None => Ipv4Addr::UNSPECIFIED,
    }
}

/// The one's-complement sum of `data` folded to 16 bits (RFC 1071), not inverted. Summed 32
/// bits at a time into 64 (RFC 1071 §2: the sum may be taken in wider words and folded), four
/// times fewer additions than 16-bit words: a real VM's every UDP datagram is checked.
pub fn ones_sum(data: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        sum += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    let mut rest = words.remainder().chunks_exact(2);
    for c in &mut rest {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = rest.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The Internet checksum of `data` (RFC 1071): the complement of its [`ones_sum`], the value
/// a header's checksum field holds when the field itself was summed as zero.
pub fn checksum(data: &[u8]) -> u16 {
    !ones_sum(data)
}

/// The one's-complement sum of a TCP or UDP `segment` together with its IPv4 pseudo-header
/// (source, destination, protocol, length: RFC 768, RFC 793): `0xffff` when the segment's
/// checksum is right, and the complement of the checksum to write when that field is zero.
pub fn transport_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: Proto, segment: &[u8]) -> u16 {
    let (s, d) = (src.to_bits(), dst.to_bits());
    let pseudo = (s >> 16)
        + (s & 0xffff)
        + (d >> 16)
        + (d & 0xffff)
        + u32::from(proto.number())
        // A segment is at most 65 535 bytes (it lives in an IPv4 packet); more cannot occur.
        + (segment.len() as u32 & 0xffff);
    fold(pseudo + u32::from(ones_sum(segment)))
}

fn fold(mut s: u32) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// RFC 1624 eqn. 3: the checksum after a 16-bit word changed from `old` to `new`.
fn update16(csum: u16, old: u16, new: u16) -> u16 {
    !fold((!csum) as u32 + (!old) as u32 + new as u32)
}

fn update32(csum: u16, old: Ipv4Addr, new: Ipv4Addr) -> u16 {
    let (o, n) = (old.to_bits(), new.to_bits());
    update16(
        update16(csum, (o >> 16) as u16, (n >> 16) as u16),
        o as u16,
        n as u16,
    )
}

/// What [`parse`] found: the flow key, TCP flags, and where things are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// The packet's flow key (ICMP echo: the identifier as both ports).
    pub key: FlowKey,
    /// TCP flags, for TCP.
    pub flags: Option<TcpFlags>,
    /// Offset of the transport header.
    pub l4: usize,
    /// Total length of the IP packet (bytes past it are ignored).
    pub len: usize,
}

/// Parses and validates an IPv4 packet for translation.
pub fn parse(b: &[u8]) -> Result<Parsed, WireError> {
    if b.len() < 20 {
        return Err(WireError::Truncated {
            what: "IPv4 header",
            need: 20,
            have: b.len(),
        });
    }
    let version = b[0] >> 4;
    if version != 4 {
        return Err(WireError::NotIpv4(version));
    }
    let ihl = ((b[0] & 0x0f) as usize) * 4;
    if ihl < 20 {
        return Err(WireError::BadLength {
            what: "IPv4 header length",
            value: ihl,
        });
    }
    if b.len() < ihl {
        return Err(WireError::Truncated {
            what: "IPv4 options",
            need: ihl,
            have: b.len(),
        });
    }
    let len = be16(b, 2) as usize;
    if len < ihl {
        return Err(WireError::BadLength {
            what: "IPv4 total length",
            value: len,
        });
    }
    if b.len() < len {
        return Err(WireError::Truncated {
            what: "IPv4 packet",
            need: len,
            have: b.len(),
        });
    }
    let frag = be16(b, 6);
    let (more, offset) = (frag & 0x2000 != 0, frag & 0x1fff);
    if more || offset != 0 {
        return Err(WireError::Fragment { offset, more });
    }
    if ones_sum(&b[..ihl]) != 0xffff {
        let mut hdr = [0u8; 60];
        hdr[..ihl].copy_from_slice(&b[..ihl]);
        hdr[10..12].fill(0);
        return Err(WireError::BadChecksum {
            found: be16(b, 10),
            expected: !ones_sum(&hdr[..ihl]),
        });
    }
    let (src, dst) = (ip_at(b, 12), ip_at(b, 16));
    let l4 = ihl;
    let (proto, sport, dport, flags) = transport(b, l4, len - l4)?;
    Ok(Parsed {
        key: FlowKey {
            proto,
            src,
            dst,
            sport,
            dport,
        },
        flags,
        l4,
        len,
    })
}

/// The transport header at `l4` of a packet with `seg` bytes past the IP header: protocol,
/// ports (an ICMP echo's identifier as both) and TCP flags, checked against `seg`.
fn transport(
    b: &[u8],
    l4: usize,
    seg: usize,
) -> Result<(Proto, u16, u16, Option<TcpFlags>), WireError> {
    match b[9] {
        6 => {
            if seg < 20 {
                return Err(WireError::Truncated {
                    what: "TCP header",
                    need: 20,
                    have: seg,
                });
            }
            let off = ((b[l4 + 12] >> 4) as usize) * 4;
            if off < 20 || off > seg {
                return Err(WireError::BadLength {
                    what: "TCP data offset",
                    value: off,
                });
            }
            Ok((
                Proto::Tcp,
                be16(b, l4),
                be16(b, l4 + 2),
                Some(TcpFlags(b[l4 + 13] & 0x1f)),
            ))
        }
        17 => {
            if seg < 8 {
                return Err(WireError::Truncated {
                    what: "UDP header",
                    need: 8,
                    have: seg,
                });
            }
            let ulen = be16(b, l4 + 4) as usize;
            if ulen < 8 || ulen > seg {
                return Err(WireError::BadLength {
                    what: "UDP length",
                    value: ulen,
                });
            }
            Ok((Proto::Udp, be16(b, l4), be16(b, l4 + 2), None))
        }
        1 => {
            if seg < 8 {
                return Err(WireError::Truncated {
                    what: "ICMP echo header",
                    need: 8,
                    have: seg,
                });
            }
            match b[l4] {
                0 | 8 => {
                    let id = be16(b, l4 + 4);
                    Ok((Proto::Icmp, id, id, None))
                }
                // `translate` handles errors separately; here they are not a flow of their own.
                t => Err(WireError::IcmpType(t)),
            }
        }
        p => Err(WireError::Protocol(p)),
    }
}

/// Rewrites the packet `b` (as [`parse`] described it) from `from` to `to`, fixing checksums.
pub fn rewrite(b: &mut [u8], p: &Parsed, to: &FlowKey) {
    let from = p.key;
    let l4 = p.l4;
    let mut ip_sum = be16(b, 10);
    ip_sum = update32(ip_sum, from.src, to.src);
    ip_sum = update32(ip_sum, from.dst, to.dst);
    put16(b, 10, ip_sum);
    if let Some(x) = b.get_mut(12..16) {
        x.copy_from_slice(&to.src.octets());
    }
    if let Some(x) = b.get_mut(16..20) {
        x.copy_from_slice(&to.dst.octets());
    }
    match from.proto {
        Proto::Tcp | Proto::Udp => {
            let at = if from.proto == Proto::Tcp {
                l4 + 16
            } else {
                l4 + 6
            };
            let old = be16(b, at);
            // UDP checksum 0 means "none" (RFC 768): leave it so.
            if from.proto == Proto::Udp && old == 0 {
                put16(b, l4, to.sport);
                put16(b, l4 + 2, to.dport);
                return;
            }
            let mut c = update32(old, from.src, to.src);
            c = update32(c, from.dst, to.dst);
            c = update16(c, from.sport, to.sport);
            c = update16(c, from.dport, to.dport);
            if from.proto == Proto::Udp && c == 0 {
                c = 0xffff;
            }
            put16(b, at, c);
            put16(b, l4, to.sport);
            put16(b, l4 + 2, to.dport);
        }
        Proto::Icmp => {
            let mut c = update16(be16(b, l4 + 2), from.sport, to.sport);
            put16(b, l4 + 4, to.sport);
            // Eqn. 3 cannot tell a message summing to +0 (all zeros, whose checksum must be
            // 0xffff) from one summing to -0 (checksum 0): where it gives 0, sum the message.
            if c == 0 {
                put16(b, l4 + 2, 0);
                c = !ones_sum(&b[l4..p.len.min(b.len())]);
            }
            put16(b, l4 + 2, c);
        }
    }
}

/// Translates one packet in place. On success the bytes hold the translated packet and the
/// NAT's decision is returned; on error the bytes are unchanged.
pub fn translate(
    table: &mut NatTable,
    b: &mut [u8],
    dir: Direction,
    now: Instant,
) -> Result<Decision, WireError> {
    match parse(b) {
        Ok(p) => translate_parsed(table, b, &p, dir, now),
        Err(WireError::IcmpType(t)) if is_icmp_error(t) => translate_icmp_error(table, b, now),
        Err(e) => Err(e),
    }
}

/// ICMP types that quote the packet that caused them: destination unreachable, time
/// exceeded, parameter problem.
fn is_icmp_error(t: u8) -> bool {
    matches!(t, 3 | 11 | 12)
}

/// The flow key of the packet an ICMP error quotes at `q` (its IPv4 header and at least the
/// first 8 bytes of its transport header), and where its transport header starts.
fn parse_quote(b: &[u8], q: usize, end: usize) -> Result<(FlowKey, usize), WireError> {
    let have = end.saturating_sub(q);
    if have < 20 {
        return Err(WireError::Truncated {
            what: "quoted IPv4 header",
            need: 20,
            have,
        });
    }
    let version = b[q] >> 4;
    if version != 4 {
        return Err(WireError::NotIpv4(version));
    }
    let ihl = ((b[q] & 0x0f) as usize) * 4;
    if ihl < 20 {
        return Err(WireError::BadLength {
            what: "quoted IPv4 header length",
            value: ihl,
        });
    }
    if have < ihl + 8 {
        return Err(WireError::Truncated {
            what: "quoted IPv4 header and 8 bytes of transport header",
            need: ihl + 8,
            have,
        });
    }
    let frag = be16(b, q + 6);
    if frag & 0x1fff != 0 {
        return Err(WireError::Fragment {
            offset: frag & 0x1fff,
            more: frag & 0x2000 != 0,
        });
    }
    let t = q + ihl;
    let (proto, sport, dport) = match b[q + 9] {
        6 => (Proto::Tcp, be16(b, t), be16(b, t + 2)),
        17 => (Proto::Udp, be16(b, t), be16(b, t + 2)),
        1 => match b[t] {
            0 | 8 => {
                let id = be16(b, t + 4);
                (Proto::Icmp, id, id)
            }
            ty => return Err(WireError::IcmpType(ty)),
        },
        p => return Err(WireError::Protocol(p)),
    };
    let key = FlowKey {
        proto,
        src: ip_at(b, q + 12),
        dst: ip_at(b, q + 16),
        sport,
        dport,
    };
    Ok((key, t))
}

fn put_ip(b: &mut [u8], at: usize, ip: Ipv4Addr) {
    if let Some(x) = b.get_mut(at..at + 4) {
        x.copy_from_slice(&ip.octets());
    }
}

/// Translates an ICMP error (whose outer IPv4 header [`parse`] has validated) through the
/// connection its quoted packet belongs to. The decision describes the quoted packet: its
/// key as it arrived and as it leaves.
fn translate_icmp_error(
    table: &mut NatTable,
    b: &mut [u8],
    now: Instant,
) -> Result<Decision, WireError> {
    let icmp = ((b[0] & 0x0f) as usize) * 4;
    let end = be16(b, 2) as usize;
    let Some(message) = b.get(icmp..end) else {
        return Err(WireError::Truncated {
            what: "ICMP header",
            need: 8,
            have: 0,
        });
    };
    if ones_sum(message) != 0xffff {
        let mut zeroed = message.to_vec();
        if let Some(x) = zeroed.get_mut(2..4) {
            x.fill(0);
        }
        return Err(WireError::BadIcmpChecksum {
            found: be16(b, icmp + 2),
            expected: !ones_sum(&zeroed),
        });
    }
    let q = icmp + 8;
    let (quoted, t) = parse_quote(b, q, end).map_err(|e| WireError::Quoted(Box::new(e)))?;
    let (to, slot, dir) = table
        .related(quoted, now)
        .ok_or(WireError::Unrelated(quoted))?;

    // Outer header: the error goes to the quote's (untranslated) source; an error from the
    // quoted packet's own destination is translated like that endpoint's packets are.
    let (src, dst) = (ip_at(b, 12), ip_at(b, 16));
    let new_src = if src == quoted.dst { to.dst } else { src };
    let mut c = update32(be16(b, 10), src, new_src);
    c = update32(c, dst, to.src);
    put16(b, 10, c);
    put_ip(b, 12, new_src);
    put_ip(b, 16, to.src);

    // Quoted IPv4 header.
    let mut c = update32(be16(b, q + 10), quoted.src, to.src);
    c = update32(c, quoted.dst, to.dst);
    put16(b, q + 10, c);
    put_ip(b, q + 12, to.src);
    put_ip(b, q + 16, to.dst);

    // Quoted transport header: its checksum only where the quote holds it (a quote is
    // guaranteed 8 bytes, so TCP's, at 16, is often cut off; Linux leaves it then too).
    let pseudo = |c: u16| {
        let c = update32(c, quoted.src, to.src);
        let c = update32(c, quoted.dst, to.dst);
        let c = update16(c, quoted.sport, to.sport);
        update16(c, quoted.dport, to.dport)
    };
    match quoted.proto {
        Proto::Tcp => {
            if t + 18 <= end {
                let c = pseudo(be16(b, t + 16));
                put16(b, t + 16, c);
            }
            put16(b, t, to.sport);
            put16(b, t + 2, to.dport);
        }
        Proto::Udp => {
            let old = be16(b, t + 6);
            if old != 0 {
                let c = match pseudo(old) {
                    0 => 0xffff,
                    c => c,
                };
                put16(b, t + 6, c);
            }
            put16(b, t, to.sport);
            put16(b, t + 2, to.dport);
        }
        Proto::Icmp => {
            let c = update16(be16(b, t + 2), quoted.sport, to.sport);
            put16(b, t + 2, c);
            put16(b, t + 4, to.sport);
        }
    }

    // The ICMP checksum covers the whole rewritten quote: recompute it, as Linux does.
    put16(b, icmp + 2, 0);
    let c = !ones_sum(b.get(icmp..end).unwrap_or_default());
    put16(b, icmp + 2, c);

    Ok(Decision {
        before: quoted,
        after: to,
        slot: slot as u32,
        dir,
        created: false,
        transition: None,
        rule: None,
        expired: Vec::new(),
        killed: None,
    })
}

/// The most packets [`translate_burst`] looks ahead over.
pub const BURST: usize = 32;

/// Translates a burst of packets, like [`translate`] on each in order, calling `each` with
/// every packet's index and outcome.
///
/// It first parses the whole burst and touches each packet's table entry, so the cache
/// misses of up to [`BURST`] lookups overlap instead of being paid one after another; then it
/// translates. Results are identical to translating one by one.
pub fn translate_burst(
    table: &mut NatTable,
    packets: &mut [&mut [u8]],
    dir: Direction,
    now: Instant,
    mut each: impl FnMut(usize, Result<Decision, WireError>),
) {
    const NO_KEY: FlowKey = FlowKey {
        proto: Proto::Udp,
        src: Ipv4Addr::UNSPECIFIED,
        dst: Ipv4Addr::UNSPECIFIED,
        sport: 0,
        dport: 0,
    };
    for (chunk_no, chunk) in packets.chunks_mut(BURST).enumerate() {
        let mut parsed: [Option<Result<Parsed, WireError>>; BURST] = [const { None }; BURST];
        let mut keys = [NO_KEY; BURST];
        let mut n = 0;
        for (i, b) in chunk.iter().enumerate() {
            let p = parse(b);
            if let Ok(p) = &p {
                keys[n] = p.key;
                n += 1;
            }
            parsed[i] = Some(p);
        }
        std::hint::black_box(table.warm(&keys[..n]));
        for (i, b) in chunk.iter_mut().enumerate() {
            let r = match parsed[i].take() {
                Some(Ok(p)) => translate_parsed(table, b, &p, dir, now),
                Some(Err(WireError::IcmpType(t))) if is_icmp_error(t) => {
                    translate_icmp_error(table, b, now)
                }
                Some(Err(e)) => Err(e),
                None => continue,
            };
            each(chunk_no * BURST + i, r);
        }
    }
}

fn translate_parsed(
    table: &mut NatTable,
    b: &mut [u8],
    p: &Parsed,
    dir: Direction,
    now: Instant,
) -> Result<Decision, WireError> {
    let p = *p;
    let d = match dir {
        Direction::Outbound(ext) => table.outbound(p.key, p.flags, ext, now),
        Direction::Inbound => table.inbound(p.key, p.flags, None, now),
    }
    .map_err(WireError::Nat)?;
    if d.after != p.key {
        rewrite(b, &p, &d.after);
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::conntrack::Dir;
    use crate::net::forward::PortForward;
    use crate::net::nat::NatConfig;
    use etherparse::icmpv4::{DestUnreachableHeader, TimeExceededCode};
    use etherparse::{
        Icmpv4Header, Icmpv4Type, IpNumber, Ipv4Header, NetHeaders, PacketBuilder, PacketHeaders,
        TransportHeader,
    };
    use proptest::prelude::*;

    const EXT: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);

    fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv4(src, dst, 64)
            .udp(sport, dport)
            .write(&mut v, payload)
            .unwrap();
        v
    }

    fn tcp(
        src: [u8; 4],
        sport: u16,
        dst: [u8; 4],
        dport: u16,
        syn: bool,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut v = Vec::new();
        let b = PacketBuilder::ipv4(src, dst, 64).tcp(sport, dport, 1000, 65535);
        let b = if syn { b.syn() } else { b.ack(1) };
        b.write(&mut v, payload).unwrap();
        v
    }

    fn ping(src: [u8; 4], dst: [u8; 4], id: u16, reply: bool) -> Vec<u8> {
        let mut v = Vec::new();
        let b = PacketBuilder::ipv4(src, dst, 64);
        let b = if reply {
            b.icmpv4_echo_reply(id, 1)
        } else {
            b.icmpv4_echo_request(id, 1)
        };
        b.write(&mut v, b"abcdefgh-ping").unwrap();
        v
    }

    /// Parses with etherparse and checks every checksum against its own computation.
    fn verified(b: &[u8]) -> (Ipv4Addr, u16, Ipv4Addr, u16) {
        let h = PacketHeaders::from_ip_slice(b).expect("etherparse parses it");
        let Some(NetHeaders::Ipv4(ip, _)) = &h.net else {
            panic!("not ipv4")
        };
        assert_eq!(
            ip.header_checksum,
            ip.calc_header_checksum(),
            "IPv4 header checksum"
        );
        let payload = h.payload.slice();
        let (s, d) = (Ipv4Addr::from(ip.source), Ipv4Addr::from(ip.destination));
        match h.transport.expect("transport") {
            TransportHeader::Udp(u) => {
                assert_eq!(
                    u.checksum,
                    u.calc_checksum_ipv4(ip, payload).unwrap(),
                    "UDP checksum"
                );
                (s, u.source_port, d, u.destination_port)
            }
            TransportHeader::Tcp(t) => {
                assert_eq!(
                    t.checksum,
                    t.calc_checksum_ipv4(ip, payload).unwrap(),
                    "TCP checksum"
                );
                (s, t.source_port, d, t.destination_port)
            }
            TransportHeader::Icmpv4(i) => {
                assert_eq!(
                    i.checksum,
                    Icmpv4Header::with_checksum(i.icmp_type.clone(), payload).checksum,
                    "ICMP checksum"
                );
                let id = match i.icmp_type {
                    etherparse::Icmpv4Type::EchoRequest(e)
                    | etherparse::Icmpv4Type::EchoReply(e) => e.id,
                    _ => panic!("not echo"),
                };
                (s, id, d, id)
            }
            TransportHeader::Icmpv6(_) => panic!("icmpv6"),
        }
    }

    #[test]
    fn udp_round_trip_with_valid_checksums() {
        let mut nat = NatTable::new(NatConfig::default());
        let mut q = udp(
            [10, 0, 2, 15],
            40000,
            [8, 8, 8, 8],
            53,
            b"dns query for example.com",
        );
        translate(&mut nat, &mut q, Direction::Outbound(EXT), Instant(0)).unwrap();
        assert_eq!(verified(&q), (EXT, 40000, Ipv4Addr::new(8, 8, 8, 8), 53));
        let mut a = udp([8, 8, 8, 8], 53, [203, 0, 113, 7], 40000, b"an answer");
        translate(&mut nat, &mut a, Direction::Inbound, Instant(10)).unwrap();
        assert_eq!(
            verified(&a),
            (
                Ipv4Addr::new(8, 8, 8, 8),
                53,
                Ipv4Addr::new(10, 0, 2, 15),
                40000
            )
        );
    }

    #[test]
    fn tcp_port_translation_and_port_forward_with_valid_checksums() {
        let mut nat = NatTable::new(NatConfig::default());
        // Another inside host holds port 40000, so this flow's port is rewritten too.
        let mut first = tcp([192, 168, 1, 11], 40000, [198, 51, 100, 1], 443, true, b"");
        translate(&mut nat, &mut first, Direction::Outbound(EXT), Instant(0)).unwrap();
        let mut syn = tcp(
            [192, 168, 1, 10],
            40000,
            [198, 51, 100, 1],
            443,
            true,
            b"odd-length!",
        );
        let d = translate(&mut nat, &mut syn, Direction::Outbound(EXT), Instant(0)).unwrap();
        assert_ne!(d.after.sport, 40000);
        assert_eq!(
            verified(&syn),
            (EXT, d.after.sport, Ipv4Addr::new(198, 51, 100, 1), 443)
        );
        nat.add_forward(PortForward::parse_vbox("ssh,tcp,,2222,192.168.1.10,22").unwrap())
            .unwrap();
        let mut inb = tcp(
            [198, 51, 100, 9],
            50000,
            [203, 0, 113, 7],
            2222,
            true,
            b"SSH-2.0",
        );
        translate(&mut nat, &mut inb, Direction::Inbound, Instant(0)).unwrap();
        assert_eq!(
            verified(&inb),
            (
                Ipv4Addr::new(198, 51, 100, 9),
                50000,
                Ipv4Addr::new(192, 168, 1, 10),
                22
            )
        );
    }

    #[test]
    fn icmp_echo_identifier_is_translated_with_valid_checksum() {
        let mut nat = NatTable::new(NatConfig::default());
        let mut other = ping([192, 168, 1, 11], [8, 8, 8, 8], 7, false);
        translate(&mut nat, &mut other, Direction::Outbound(EXT), Instant(0)).unwrap();
        let mut p = ping([192, 168, 1, 10], [8, 8, 8, 8], 7, false);
        let d = translate(&mut nat, &mut p, Direction::Outbound(EXT), Instant(0)).unwrap();
        assert_ne!(d.after.sport, 7);
        assert_eq!(
            verified(&p),
            (EXT, d.after.sport, Ipv4Addr::new(8, 8, 8, 8), d.after.sport)
        );
        let mut r = ping([8, 8, 8, 8], [203, 0, 113, 7], d.after.sport, true);
        translate(&mut nat, &mut r, Direction::Inbound, Instant(0)).unwrap();
        assert_eq!(
            verified(&r),
            (
                Ipv4Addr::new(8, 8, 8, 8),
                7,
                Ipv4Addr::new(192, 168, 1, 10),
                7
            )
        );
    }

    #[test]
    fn an_all_zero_echo_reply_keeps_its_checksum_of_0xffff() {
        let mut nat = NatTable::new(NatConfig::default());
        let mut reply = Vec::new();
        PacketBuilder::ipv4([10, 0, 2, 15], [8, 8, 8, 8], 64)
            .icmpv4_echo_reply(0, 0)
            .write(&mut reply, &[0; 4])
            .unwrap();
        assert_eq!(be16(&reply, 22), 0xffff, "the message sums to zero");
        translate(&mut nat, &mut reply, Direction::Outbound(EXT), Instant(0)).unwrap();
        assert_eq!(be16(&reply, 22), 0xffff);
        verified(&reply);
    }

    #[test]
    fn udp_without_checksum_stays_without() {
        let mut nat = NatTable::new(NatConfig::default());
        let mut q = udp([10, 0, 2, 15], 40000, [8, 8, 8, 8], 53, b"x");
        q[26] = 0;
        q[27] = 0;
        translate(&mut nat, &mut q, Direction::Outbound(EXT), Instant(0)).unwrap();
        assert_eq!((q[26], q[27]), (0, 0));
        assert_eq!(ip_at(&q, 12), EXT);
    }

    #[test]
    fn rejections_name_the_problem() {
        let mut nat = NatTable::new(NatConfig::default());
        let good = udp([10, 0, 2, 15], 40000, [8, 8, 8, 8], 53, b"hello");
        let t = |b: &mut Vec<u8>, nat: &mut NatTable| {
            translate(nat, b, Direction::Outbound(EXT), Instant(0))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            t(&mut good[..10].to_vec(), &mut nat),
            "truncated IPv4 header: needs 20 bytes, has 10"
        );
        let mut v6 = good.clone();
        v6[0] = 0x65;
        assert_eq!(t(&mut v6, &mut nat), "IP version 6, expected 4");
        let mut bad = good.clone();
        bad[10] ^= 0xff;
        assert!(t(&mut bad, &mut nat).starts_with("IPv4 header checksum"));
        let mut frag = good.clone();
        frag[6] = 0x20; // MF; the checksum is now wrong too, so fix it
        let c = !ones_sum(&{
            let mut h = frag[..20].to_vec();
            h[10] = 0;
            h[11] = 0;
            h
        });
        frag[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            t(&mut frag, &mut nat),
            "fragmented packet (offset 0, more fragments true): not translated"
        );
        let mut short = good.clone();
        short.truncate(24);
        assert!(t(&mut short, &mut nat).starts_with("truncated IPv4 packet"));
        let mut unsolicited = udp([8, 8, 8, 8], 53, [203, 0, 113, 7], 1234, b"");
        let e = translate(&mut nat, &mut unsolicited, Direction::Inbound, Instant(0)).unwrap_err();
        assert!(
            e.to_string().starts_with("dropped by NAT: no connection"),
            "{e}"
        );
        assert_eq!(
            unsolicited,
            udp([8, 8, 8, 8], 53, [203, 0, 113, 7], 1234, b""),
            "bytes unchanged on error"
        );
    }

    #[test]
    fn a_burst_translates_exactly_like_one_by_one() {
        let make = |i: u16| -> Vec<u8> {
            match i % 4 {
                0 => udp([10, 0, 2, 15], 40000 + i % 7, [8, 8, 8, 8], 53, b"q"),
                1 => tcp(
                    [10, 0, 2, 16],
                    40000 + i % 5,
                    [8, 8, 4, 4],
                    443,
                    i % 3 == 0,
                    b"data",
                ),
                2 => ping([10, 0, 2, 17], [1, 1, 1, 1], i % 3, false),
                _ => vec![0x45, 0, 0], // truncated: an error in the middle of the burst
            }
        };
        let packets: Vec<Vec<u8>> = (0..70).map(make).collect();
        let mut one = NatTable::new(NatConfig::default());
        let mut singles = packets.clone();
        let expected: Vec<String> = singles
            .iter_mut()
            .map(|b| {
                format!(
                    "{:?}",
                    translate(&mut one, b, Direction::Outbound(EXT), Instant(0)).map(|d| d.after)
                )
            })
            .collect();
        let mut burst = NatTable::new(NatConfig::default());
        let mut bufs = packets.clone();
        let mut slices: Vec<&mut [u8]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        let mut got = vec![String::new(); packets.len()];
        translate_burst(
            &mut burst,
            &mut slices,
            Direction::Outbound(EXT),
            Instant(0),
            |i, r| {
                got[i] = format!("{:?}", r.map(|d| d.after));
            },
        );
        assert_eq!(got, expected);
        assert_eq!(bufs, singles);
        assert_eq!(
            burst.conntrack_lines(Instant(0)),
            one.conntrack_lines(Instant(0))
        );
    }

    /// An ICMP error from `src` to `dst` quoting `quote`, built and checksummed by etherparse.
    fn icmp_error(src: [u8; 4], dst: [u8; 4], ty: Icmpv4Type, quote: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv4(src, dst, 64)
            .icmpv4(ty)
            .write(&mut v, quote)
            .unwrap();
        v
    }

    fn port_unreachable() -> Icmpv4Type {
        Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::Port)
    }

    /// Checks the outer IPv4 and ICMP checksums with etherparse; returns the outer addresses
    /// and the quote.
    fn verified_error(b: &[u8]) -> (Ipv4Addr, Ipv4Addr, Vec<u8>) {
        let h = PacketHeaders::from_ip_slice(b).expect("etherparse parses it");
        let Some(NetHeaders::Ipv4(ip, _)) = &h.net else {
            panic!("not ipv4")
        };
        assert_eq!(ip.header_checksum, ip.calc_header_checksum(), "outer IPv4");
        let Some(TransportHeader::Icmpv4(i)) = h.transport else {
            panic!("not icmp")
        };
        let quote = h.payload.slice().to_vec();
        assert_eq!(
            i.checksum,
            Icmpv4Header::with_checksum(i.icmp_type.clone(), &quote).checksum,
            "ICMP checksum"
        );
        (ip.source.into(), ip.destination.into(), quote)
    }

    #[test]
    fn port_unreachable_for_a_masqueraded_udp_flow_goes_back_inside() {
        let mut nat = NatTable::new(NatConfig::default());
        let mut out = udp([10, 0, 2, 15], 40000, [8, 8, 8, 8], 53, b"dns query");
        translate(&mut nat, &mut out, Direction::Outbound(EXT), Instant(0)).unwrap();
        // The server quotes the whole datagram it got.
        let mut err = icmp_error([8, 8, 8, 8], EXT.octets(), port_unreachable(), &out);
        let d = translate(&mut nat, &mut err, Direction::Inbound, Instant(5)).unwrap();
        assert_eq!(d.dir, Dir::Reply);
        let (src, dst, quote) = verified_error(&err);
        assert_eq!(
            (src, dst),
            (Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(10, 0, 2, 15))
        );
        // The whole quote is a valid packet again: its IP and UDP checksums check out.
        assert_eq!(
            verified(&quote),
            (
                Ipv4Addr::new(10, 0, 2, 15),
                40000,
                Ipv4Addr::new(8, 8, 8, 8),
                53
            )
        );
        assert_eq!(
            quote,
            udp([10, 0, 2, 15], 40000, [8, 8, 8, 8], 53, b"dns query")
        );
    }

    #[test]
    fn time_exceeded_from_a_router_about_a_port_translated_tcp_syn() {
        let mut nat = NatTable::new(NatConfig::default());
        let mut first = tcp([192, 168, 1, 11], 40000, [198, 51, 100, 1], 443, true, b"");
        translate(&mut nat, &mut first, Direction::Outbound(EXT), Instant(0)).unwrap();
        let mut syn = tcp([192, 168, 1, 10], 40000, [198, 51, 100, 1], 443, true, b"");
        let d = translate(&mut nat, &mut syn, Direction::Outbound(EXT), Instant(0)).unwrap();
        assert_ne!(d.after.sport, 40000);
        let router = [192, 0, 2, 1];
        let ttl = Icmpv4Type::TimeExceeded(TimeExceededCode::TtlExceededInTransit);
        // Whole segment quoted: the TCP checksum is in the quote and must be fixed too.
        let mut err = icmp_error(router, EXT.octets(), ttl.clone(), &syn);
        translate(&mut nat, &mut err, Direction::Inbound, Instant(1)).unwrap();
        let (src, dst, quote) = verified_error(&err);
        assert_eq!(
            (src, dst),
            (Ipv4Addr::from(router), Ipv4Addr::new(192, 168, 1, 10))
        );
        assert_eq!(
            verified(&quote),
            (
                Ipv4Addr::new(192, 168, 1, 10),
                40000,
                Ipv4Addr::new(198, 51, 100, 1),
                443
            )
        );
        // The minimal quote (header + 8 bytes, no TCP checksum in it): the quoted IPv4
        // header's checksum and the ICMP checksum are still right.
        let mut short = icmp_error(router, EXT.octets(), ttl, &syn[..28]);
        translate(&mut nat, &mut short, Direction::Inbound, Instant(1)).unwrap();
        let (_, dst, quote) = verified_error(&short);
        assert_eq!(dst, Ipv4Addr::new(192, 168, 1, 10));
        let (qip, rest) = Ipv4Header::from_slice(&quote).unwrap();
        assert_eq!(
            qip.header_checksum,
            qip.calc_header_checksum(),
            "quoted IPv4"
        );
        assert_eq!(Ipv4Addr::from(qip.source), Ipv4Addr::new(192, 168, 1, 10));
        assert_eq!(be16(rest, 0), 40000);
        assert_eq!(be16(rest, 2), 443);
    }

    #[test]
    fn host_unreachable_about_a_ping_restores_the_identifier() {
        let mut nat = NatTable::new(NatConfig::default());
        let mut other = ping([192, 168, 1, 11], [8, 8, 8, 8], 7, false);
        translate(&mut nat, &mut other, Direction::Outbound(EXT), Instant(0)).unwrap();
        let mut p = ping([192, 168, 1, 10], [8, 8, 8, 8], 7, false);
        let d = translate(&mut nat, &mut p, Direction::Outbound(EXT), Instant(0)).unwrap();
        assert_ne!(d.after.sport, 7);
        let unreachable = Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::Host);
        let mut err = icmp_error([192, 0, 2, 1], EXT.octets(), unreachable, &p);
        translate(&mut nat, &mut err, Direction::Inbound, Instant(0)).unwrap();
        let (_, dst, quote) = verified_error(&err);
        assert_eq!(dst, Ipv4Addr::new(192, 168, 1, 10));
        assert_eq!(quote, ping([192, 168, 1, 10], [8, 8, 8, 8], 7, false));
    }

    #[test]
    fn port_unreachable_from_a_forwarded_guest_leaves_as_the_nat() {
        let mut nat = NatTable::new(NatConfig::default());
        nat.add_forward(PortForward::parse_vbox("dns,udp,,5353,192.168.1.10,53").unwrap())
            .unwrap();
        let mut q = udp([198, 51, 100, 9], 50000, EXT.octets(), 5353, b"query");
        translate(&mut nat, &mut q, Direction::Inbound, Instant(0)).unwrap();
        // The guest has nothing on port 53 and answers from itself, the quote's destination.
        let mut err = icmp_error([192, 168, 1, 10], [198, 51, 100, 9], port_unreachable(), &q);
        translate(&mut nat, &mut err, Direction::Outbound(EXT), Instant(0)).unwrap();
        let (src, dst, quote) = verified_error(&err);
        assert_eq!((src, dst), (EXT, Ipv4Addr::new(198, 51, 100, 9)));
        assert_eq!(
            quote,
            udp([198, 51, 100, 9], 50000, EXT.octets(), 5353, b"query")
        );
    }

    #[test]
    fn icmp_error_rejections_name_the_problem_and_change_nothing() {
        let mut nat = NatTable::new(NatConfig::default());
        let mut out = udp([10, 0, 2, 15], 40000, [8, 8, 8, 8], 53, b"q");
        translate(&mut nat, &mut out, Direction::Outbound(EXT), Instant(0)).unwrap();
        let t = |b: &[u8], nat: &mut NatTable| {
            let mut c = b.to_vec();
            let e = translate(nat, &mut c, Direction::Inbound, Instant(0)).unwrap_err();
            assert_eq!(c, b, "bytes unchanged on error");
            e.to_string()
        };
        let stranger = udp(EXT.octets(), 1, [8, 8, 8, 8], 53, b"q");
        assert_eq!(
            t(
                &icmp_error([8, 8, 8, 8], EXT.octets(), port_unreachable(), &stranger),
                &mut nat
            ),
            "ICMP error quoting udp 203.0.113.7:1 > 8.8.8.8:53 belongs to no tracked connection"
        );
        let mut bad = icmp_error([8, 8, 8, 8], EXT.octets(), port_unreachable(), &out);
        bad[22] ^= 0x55;
        assert!(t(&bad, &mut nat).starts_with("ICMP checksum"));
        assert_eq!(
            t(
                &icmp_error([8, 8, 8, 8], EXT.octets(), port_unreachable(), &out[..24]),
                &mut nat
            ),
            "ICMP error's quoted packet: truncated quoted IPv4 header and 8 bytes of transport \
             header: needs 28 bytes, has 24"
        );
        let mut gre = out.clone();
        gre[9] = 47;
        assert_eq!(
            t(&icmp_error([8, 8, 8, 8], EXT.octets(), port_unreachable(), &gre), &mut nat),
            "ICMP error's quoted packet: IP protocol 47 is not translated (only TCP 6, UDP 17 and ICMP echo 1)"
        );
        // The connection expired: the error is unrelated, and the entry is gone.
        let late = Instant(31_000);
        let mut err = icmp_error([8, 8, 8, 8], EXT.octets(), port_unreachable(), &out);
        assert!(translate(&mut nat, &mut err, Direction::Inbound, late).is_err());
        assert!(nat.conntrack().is_empty());
    }

    /// The one's-complement sum 16 bits at a time, as RFC 1071 defines it.
    fn ones_sum_by_16_bits(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for c in data.chunks(2) {
            sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        fold(sum)
    }

    proptest! {
        /// Summing 32 bits at a time gives RFC 1071's 16-bit sum for any bytes and length.
        #[test]
        fn the_wide_ones_sum_is_rfc_1071s(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            prop_assert_eq!(ones_sum(&data), ones_sum_by_16_bits(&data));
        }

        /// Arbitrary ICMP error bodies (valid outer header and ICMP checksum, so the bytes get
        /// past the outer checks) never panic; whatever is translated keeps valid checksums.
        #[test]
        fn arbitrary_icmp_errors_never_panic(
            ty in prop::sample::select(vec![3u8, 11, 12]),
            body in proptest::collection::vec(any::<u8>(), 0..80),
            from_flow in any::<bool>(), at in 0usize..60, val: u8,
        ) {
            let mut nat = NatTable::new(NatConfig::default());
            let mut out = udp([10, 0, 2, 15], 40000, [8, 8, 8, 8], 53, b"q");
            translate(&mut nat, &mut out, Direction::Outbound(EXT), Instant(0)).unwrap();
            let mut quote = if from_flow { out.clone() } else { body.clone() };
            if from_flow && at < quote.len() { quote[at] = val; }
            let mut icmp = vec![ty, val, 0, 0, 0, 0, 0, 0];
            icmp.extend_from_slice(&quote);
            let c = !ones_sum(&icmp);
            icmp[2..4].copy_from_slice(&c.to_be_bytes());
            let mut b = Vec::new();
            PacketBuilder::ipv4([8, 8, 8, 8], EXT.octets(), 64)
                .write(&mut b, IpNumber::ICMP, &icmp)
                .unwrap();
            if translate(&mut nat, &mut b, Direction::Inbound, Instant(0)).is_ok() {
                prop_assert_eq!(ones_sum(&b[..20]), 0xffff);
                prop_assert_eq!(ones_sum(&b[20..]), 0xffff);
            }
            let mut raw = [vec![0x45, 0, 0, 28 + body.len() as u8], body].concat();
            let _ = translate(&mut nat, &mut raw, Direction::Outbound(EXT), Instant(0));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let mut nat = NatTable::new(NatConfig::default());
            let mut b = bytes.clone();
            let _ = translate(&mut nat, &mut b, Direction::Outbound(EXT), Instant(0));
            let _ = translate(&mut nat, &mut b, Direction::Inbound, Instant(0));
        }

        #[test]
        fn mutated_valid_packets_never_panic_and_stay_checksummed(
            payload in proptest::collection::vec(any::<u8>(), 0..40),
            at in 0usize..80, val: u8, sport: u16, proto in 0u8..3,
        ) {
            let mut nat = NatTable::new(NatConfig::default());
            let mut b = match proto {
                0 => udp([10, 0, 2, 15], sport, [8, 8, 8, 8], 53, &payload),
                1 => tcp([10, 0, 2, 15], sport, [8, 8, 8, 8], 443, true, &payload),
                _ => ping([10, 0, 2, 15], [8, 8, 8, 8], sport, false),
            };
            let original = b.clone();
            if at < b.len() { b[at] = val; }
            match translate(&mut nat, &mut b, Direction::Outbound(EXT), Instant(0)) {
                // Whatever got through must still be a well-formed packet per etherparse
                // whenever the input was (the unmodified case).
                Ok(_) if b.len() == original.len() && at >= original.len() => { verified(&b); }
                _ => {}
            }
        }
    }
}
