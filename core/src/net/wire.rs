//! Real packets: the NAT table's decisions applied to IPv4 packets in bytes.
//!
//! [`translate`] parses an IPv4 packet carrying TCP, UDP or ICMP echo, asks the
//! [`NatTable`] what to do (the same table the simulator uses), rewrites addresses and ports
//! in place and fixes the IP and transport checksums incrementally (RFC 1624), so the cost
//! does not depend on the payload size. Anything malformed, truncated or not translatable
//! is rejected with a [`WireError`] naming what is wrong; no input panics.
//!
//! Forwarding duties (TTL, fragmentation, ICMP errors) belong to the router around it; this
//! layer only translates. Fragments are rejected (their ports are not visible past the
//! first one), as are ICMP errors (translating their quoted header is done by the
//! simulator, not yet on bytes).

use std::net::Ipv4Addr;

use super::clock::Instant;
use super::conntrack::FlowKey;
use super::nat::{Decision, NatDrop, NatTable};
use super::packet::{Proto, TcpFlags};

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
    /// An ICMP message other than echo request/reply.
    #[error("ICMP type {0} is not translated (only echo request 8 and echo reply 0)")]
    IcmpType(u8),
    /// The NAT refused the packet.
    #[error("dropped by NAT: {0}")]
    Nat(NatDrop),
}

/// Which way the packet crosses the NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From inside, leaving through the outside interface with this external address.
    Outbound(Ipv4Addr),
    /// Arrived on the outside interface, addressed to the NAT.
    Inbound,
}

fn be16(b: &[u8], at: usize) -> u16 {
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

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    match b.get(at..at + 4) {
        Some(x) => Ipv4Addr::new(x[0], x[1], x[2], x[3]),
        None => Ipv4Addr::UNSPECIFIED,
    }
}

/// The one's-complement sum of `data` folded to 16 bits (RFC 1071), not inverted.
pub fn ones_sum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [last] = chunks.remainder() {
        sum += (*last as u32) << 8;
    }
    fold(sum)
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
    let seg = len - l4;
    let (proto, sport, dport, flags) = match b[9] {
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
            (
                Proto::Tcp,
                be16(b, l4),
                be16(b, l4 + 2),
                Some(TcpFlags(b[l4 + 13] & 0x1f)),
            )
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
            (Proto::Udp, be16(b, l4), be16(b, l4 + 2), None)
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
                    (Proto::Icmp, id, id, None)
                }
                t => return Err(WireError::IcmpType(t)),
            }
        }
        p => return Err(WireError::Protocol(p)),
    };
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
            let c = update16(be16(b, l4 + 2), from.sport, to.sport);
            put16(b, l4 + 2, c);
            put16(b, l4 + 4, to.sport);
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
    let p = parse(b)?;
    translate_parsed(table, b, &p, dir, now)
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
    use crate::net::forward::PortForward;
    use crate::net::nat::NatConfig;
    use etherparse::{Icmpv4Header, NetHeaders, PacketBuilder, PacketHeaders, TransportHeader};
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

    proptest! {
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
