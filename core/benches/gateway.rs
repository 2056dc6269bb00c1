//! NAT link benchmark: what `Gateway::from_guest` costs per guest frame, the decision a real
//! VM's user-mode NAT backend takes for every frame before any host I/O.
//!
//! Run it with:
//!
//! ```text
//! cargo bench -p labvisor-core --bench gateway
//! ```
//!
//! It is not part of `cargo xtask test`. On one core, for frames of an established flow:
//! TCP segments (the host's TCP stack checks their checksum, so the gateway does not) and
//! UDP datagrams (checksum verified here), at MTU 1500 (1514-byte frames) and MTU 65520. The
//! baseline, measured in the same run, is copying each frame once into a scratch buffer: the
//! copy out of guest memory the device does for every frame anyway. Figures are frames per
//! second and Gbit/s of frame bytes, best of several rounds, and the ratio to the baseline.
//! The backend's target is 3 Gbit/s at MTU 1500 end to end; the decision is one part of it.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant as WallClock;

use etherparse::PacketBuilder;
use labvisor_core::net::clock::Instant;
use labvisor_core::net::gateway::{Gateway, GatewayConfig, Verdict};

const GUEST_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const GW_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x35, 0x02];
const ROUNDS: usize = 7;

/// An Ethernet frame of `len` bytes from the guest to 10.0.2.2:8000, TCP (SYN when `syn`,
/// else ACK with data) or UDP.
fn frame(tcp: bool, syn: bool, len: usize) -> Vec<u8> {
    let builder =
        PacketBuilder::ethernet2(GUEST_MAC, GW_MAC).ipv4([10, 0, 2, 15], [10, 0, 2, 2], 64);
    let mut v = Vec::new();
    if tcp {
        let payload = vec![0x5a; if syn { 0 } else { len - 54 }];
        let b = builder.tcp(40000, 8000, 1, 65535);
        let b = if syn { b.syn() } else { b.ack(1) };
        b.write(&mut v, &payload).unwrap();
    } else {
        let payload = vec![0x5a; len - 42];
        builder.udp(40000, 8000).write(&mut v, &payload).unwrap();
    }
    v
}

/// Frames per second over `n` passes through `frames`, best of [`ROUNDS`].
fn rate(n: usize, frames: &[Vec<u8>], mut each: impl FnMut(&[u8]) -> usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..ROUNDS {
        let start = WallClock::now();
        let mut sink = 0usize;
        for _ in 0..n {
            for f in frames {
                sink = sink.wrapping_add(each(f));
            }
        }
        black_box(sink);
        best = best.min(start.elapsed().as_secs_f64());
    }
    (n * frames.len()) as f64 / best
}

fn measure(name: &str, tcp: bool, len: usize) {
    let mut gw = Gateway::new(GatewayConfig::virtualbox(Ipv4Addr::new(192, 0, 2, 10)));
    if tcp {
        gw.from_guest(&frame(true, true, len), Instant(0));
    }
    let frames = vec![frame(tcp, false, len); 64];
    let n = (400_000_000 / (len * frames.len())).max(10);
    let decided = rate(n, &frames, |f| match gw.from_guest(f, Instant(1)) {
        Verdict::Tcp(b) | Verdict::Udp(b) => b.payload.len(),
        other => panic!("{name}: {other:?}"),
    });
    let mut scratch = vec![0u8; len];
    let copied = rate(n, &frames, |f| {
        scratch.copy_from_slice(f);
        black_box(&scratch);
        scratch[len / 2] as usize
    });
    let gbit = |fps: f64| fps * len as f64 * 8.0 / 1e9;
    println!(
        "{name:<28} decide {:>10.0} frames/s {:>7.2} Gbit/s | copy once (baseline) {:>10.0} frames/s {:>7.2} Gbit/s | decide/copy {:.2}",
        decided,
        gbit(decided),
        copied,
        gbit(copied),
        decided / copied
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    measure("TCP, MTU 1500 (1514 B)", true, 1514);
    measure("UDP, MTU 1500 (1514 B)", false, 1514);
    measure("TCP, MTU 65520 (65534 B)", true, 65_534);
    measure("UDP, MTU 65520 (65534 B)", false, 65_534);
}
