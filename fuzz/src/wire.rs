//! The packet path: `wire::translate` on arbitrary IPv4 bytes, both ways, against a NAT table
//! with live flows (a UDP DNS query, a TCP connection, a ping) and a port forward, with time
//! moving so flows also expire. Nothing may panic, and:
//!
//! - a packet that is refused is left exactly as it was;
//! - a packet whose checksums were all valid (IPv4 header, TCP, UDP, ICMP; as etherparse
//!   computes them) still has valid checksums after it is rewritten, and the same length.
//!
//! Input layout: records `[control][length][bytes…]`; control bit 0 is the direction (inbound
//! when set), bit 1 asks for the record's checksums to be made valid first (so most inputs get
//! past the checks to the translation), bits 2–7 advance the clock by that many seconds.
//!
//! This file is shared by `fuzz/fuzz_targets/wire.rs` and the core's regression test.

use std::net::Ipv4Addr;

use etherparse::{Icmpv4Header, NetHeaders, PacketBuilder, PacketHeaders, TransportHeader};
use labvisor_core::net::clock::Instant;
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::nat::{NatConfig, NatTable};
use labvisor_core::net::wire::{ones_sum, translate, Direction};

/// The NAT's external address.
pub const EXTERNAL: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);
const GUEST: [u8; 4] = [10, 0, 2, 15];

/// Runs one input; panics when an invariant does not hold.
pub fn check(data: &[u8]) {
    let mut nat = table_with_live_flows();
    let mut now = 1_000;
    let mut rest = data;
    while let [control, len, tail @ ..] = rest {
        let take = usize::from(*len).min(tail.len());
        let (bytes, next) = tail.split_at(take);
        rest = next;
        now += u64::from(control >> 2) * 1_000;
        let mut packet = bytes.to_vec();
        if control & 2 != 0 {
            fix_checksums(&mut packet);
        }
        let dir = if control & 1 == 0 {
            Direction::Outbound(EXTERNAL)
        } else {
            Direction::Inbound
        };
        let valid_before = checksums_valid(&packet) == Some(true);
        let original = packet.clone();
        match translate(&mut nat, &mut packet, dir, Instant(now)) {
            Ok(_) => {
                assert_eq!(packet.len(), original.len());
                if valid_before {
                    assert_eq!(
                        checksums_valid(&packet),
                        Some(true),
                        "a valid {dir:?} packet was rewritten with a bad checksum:\n before {original:02x?}\n after  {packet:02x?}"
                    );
                }
            }
            Err(e) => assert_eq!(packet, original, "refused ({e}) but changed"),
        }
    }
}

/// A table that has seen a DNS query, a TCP SYN and a ping go out, and forwards host port 2222
/// to the guest's SSH.
pub fn table_with_live_flows() -> NatTable {
    let mut nat = NatTable::new(NatConfig::default());
    let rule = PortForward::parse_vbox("ssh,tcp,,2222,10.0.2.15,22").expect("a valid rule");
    nat.add_forward(rule).expect("the only rule");
    for mut packet in live_flow_packets() {
        translate(
            &mut nat,
            &mut packet,
            Direction::Outbound(EXTERNAL),
            Instant(0),
        )
        .expect("a plain outbound packet translates");
    }
    nat
}

/// The packets that open the table's flows, as the guest sends them.
pub fn live_flow_packets() -> Vec<Vec<u8>> {
    let mut udp = Vec::new();
    PacketBuilder::ipv4(GUEST, [8, 8, 8, 8], 64)
        .udp(40000, 53)
        .write(&mut udp, b"dns query")
        .expect("writes to a Vec");
    let mut tcp = Vec::new();
    PacketBuilder::ipv4(GUEST, [93, 184, 216, 34], 64)
        .tcp(40001, 80, 1000, 65535)
        .syn()
        .write(&mut tcp, b"")
        .expect("writes to a Vec");
    let mut ping = Vec::new();
    PacketBuilder::ipv4(GUEST, [1, 1, 1, 1], 64)
        .icmpv4_echo_request(7, 1)
        .write(&mut ping, b"ping")
        .expect("writes to a Vec");
    vec![udp, tcp, ping]
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Makes the IPv4 header checksum and the TCP, UDP or ICMP checksum right, where the header's
/// lengths allow; other bytes are left alone.
pub fn fix_checksums(b: &mut [u8]) {
    if b.len() < 20 || b[0] >> 4 != 4 {
        return;
    }
    let ihl = usize::from(b[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([b[2], b[3]]));
    if ihl < 20 || ihl > total || total > b.len() {
        return;
    }
    put16(b, 10, 0);
    let sum = !ones_sum(&b[..ihl]);
    put16(b, 10, sum);
    let segment_len = total - ihl;
    let at = match b[9] {
        6 if segment_len >= 20 => ihl + 16,
        17 if segment_len >= 8 => ihl + 6,
        1 if segment_len >= 8 => {
            put16(b, ihl + 2, 0);
            let sum = !ones_sum(&b[ihl..total]);
            put16(b, ihl + 2, sum);
            return;
        }
        _ => return,
    };
    put16(b, at, 0);
    let mut pseudo = Vec::with_capacity(12 + segment_len);
    pseudo.extend_from_slice(&b[12..20]);
    pseudo.extend_from_slice(&[0, b[9]]);
    pseudo.extend_from_slice(&(segment_len as u16).to_be_bytes());
    pseudo.extend_from_slice(&b[ihl..total]);
    let sum = match !ones_sum(&pseudo) {
        0 if b[9] == 17 => 0xffff,
        sum => sum,
    };
    put16(b, at, sum);
}

/// Whether every checksum etherparse can see is right (`None`: etherparse cannot read it as
/// IPv4). A UDP checksum of zero means "none" (RFC 768) and counts as right.
pub fn checksums_valid(b: &[u8]) -> Option<bool> {
    let headers = PacketHeaders::from_ip_slice(b).ok()?;
    let Some(NetHeaders::Ipv4(ip, _)) = &headers.net else {
        return None;
    };
    if ip.header_checksum != ip.calc_header_checksum() {
        return Some(false);
    }
    if ip.is_fragmenting_payload() {
        return Some(true);
    }
    let payload = headers.payload.slice();
    Some(match &headers.transport {
        Some(TransportHeader::Udp(u)) => {
            u.checksum == 0 || u.calc_checksum_ipv4(ip, payload).ok() == Some(u.checksum)
        }
        Some(TransportHeader::Tcp(t)) => t.calc_checksum_ipv4(ip, payload).ok() == Some(t.checksum),
        Some(TransportHeader::Icmpv4(i)) => {
            Icmpv4Header::with_checksum(i.icmp_type.clone(), payload).checksum == i.checksum
        }
        Some(TransportHeader::Icmpv6(_)) => false,
        None => true,
    })
}
