//! The NAT engine's link (`core::net::gateway`) on arbitrary guest frames: ARP, DHCP, ping,
//! TCP, UDP and DNS as a hostile guest could send them, with time moving. Nothing may panic,
//! and the module's stated invariants hold:
//!
//! - every frame gets exactly one verdict, and a drop (and only a drop) is counted once;
//! - a frame the engine answers with is well formed, and its IPv4 checksums are valid;
//! - the ranges a verdict points at lie inside the frame, the payload inside the packet;
//! - a UDP datagram's reply goes back through the table and the engine writes a frame for it
//!   with valid checksums.
//!
//! Input layout: records `[control][length: u16 LE][frame…]`; the control byte advances the
//! clock by that many seconds.
//!
//! This file is shared by `fuzz/fuzz_targets/gateway.rs` and the core's regression test.

use std::net::Ipv4Addr;

use labvisor_core::net::clock::Instant;
use labvisor_core::net::gateway::{Gateway, GatewayConfig, Verdict};

use super::wire::checksums_valid;

const ETHERNET_HEADER: usize = 14;

/// Runs one input; panics when an invariant does not hold.
pub fn check(data: &[u8]) {
    let mut gateway = Gateway::new(GatewayConfig::virtualbox(Ipv4Addr::new(192, 168, 1, 20)));
    let mut now = 0;
    let mut rest = data;
    while let [control, lo, hi, tail @ ..] = rest {
        let take = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
        let (frame, next) = tail.split_at(take);
        rest = next;
        now += u64::from(*control) * 1_000;
        let drops_before = gateway.drops().total();
        let verdict = gateway.from_guest(frame, Instant(now));
        let drops_after = gateway.drops().total();
        let counted = drops_after - drops_before;
        match &verdict {
            Verdict::Drop(_) => assert_eq!(counted, 1, "a drop is counted once: {verdict:?}"),
            _ => assert_eq!(counted, 0, "only drops are counted: {verdict:?}"),
        }
        match verdict {
            Verdict::Reply(reply) => assert_frame_valid(&reply, "a reply"),
            Verdict::Tcp(bound) => {
                assert!(bound.ip.end <= frame.len() && bound.ip.start <= bound.ip.end);
                assert!(bound.ip.start <= bound.payload.start && bound.payload.end <= bound.ip.end);
            }
            Verdict::Udp(bound) => {
                assert!(bound.ip.end <= frame.len() && bound.ip.start <= bound.ip.end);
                assert!(bound.ip.start <= bound.payload.start && bound.payload.end <= bound.ip.end);
                let reply_key = bound.decision.after.reversed();
                if let Ok(decision) = gateway.from_host(reply_key, None, Instant(now)) {
                    if let Ok(back) = gateway.udp_to_guest(&decision.after, b"reply") {
                        assert_frame_valid(&back, "a UDP reply");
                    }
                }
            }
            Verdict::Dns(query) => {
                assert!(
                    query.payload.start <= query.payload.end && query.payload.end <= frame.len()
                );
                if let Ok(back) = gateway.udp_to_guest(&query.query.reversed(), b"answer") {
                    assert_frame_valid(&back, "a DNS answer");
                }
            }
            Verdict::Consumed | Verdict::Drop(_) => {}
        }
        let _ = gateway.expire(Instant(now));
    }
}

/// An Ethernet frame the engine wrote: IPv4 inside has valid checksums; ARP has its length.
fn assert_frame_valid(frame: &[u8], what: &str) {
    assert!(
        frame.len() >= ETHERNET_HEADER,
        "{what} shorter than its Ethernet header"
    );
    match u16::from_be_bytes([frame[12], frame[13]]) {
        0x0800 => assert_eq!(
            checksums_valid(&frame[ETHERNET_HEADER..]),
            Some(true),
            "{what} with a bad checksum: {frame:02x?}"
        ),
        0x0806 => assert!(frame.len() >= ETHERNET_HEADER + 28, "{what}: short ARP"),
        other => panic!("{what} with ethertype {other:#06x}"),
    }
}
