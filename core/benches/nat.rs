//! NAT benchmark: the real-packet path (`net::wire::translate`) over a NAT table.
//!
//! Run it with:
//!
//! ```text
//! cargo bench -p labvisor-core --bench nat
//! ```
//!
//! It is not part of `cargo xtask test`. It measures, on one core:
//!
//! - **established**: translating packets of 100 000 live flows (half UDP, half TCP), read
//!   from a receive-ring-like buffer in a scattered flow order (so the table does not sit
//!   in cache), each copied to a scratch buffer and rewritten in place with its checksums
//!   fixed: one packet at a time (`wire::translate`) and in bursts of 32
//!   (`wire::translate_burst`, which overlaps the table's cache misses). Target ≥ 5 M
//!   packets/s.
//! - **new flows**: creating mappings (port preservation, conntrack entry, binding) for
//!   distinct flows into a table reserved for them. Target ≥ 1 M flows/s.
//! - **memory**: heap bytes of the table and all its indexes at their capacities, divided
//!   by the live entries. Target ≤ 128 B per entry.
//!
//! The baseline, measured in the same run, is a bare lookup of the same keys in
//! `std::collections::HashMap` with its default SipHash hasher: the cost of finding a
//! flow, before doing anything with it.
//!
//! After criterion's own report, a summary prints the figures and their ratios, both as the
//! best wall-clock round and per CPU-second of this thread (`/proc/thread-self/schedstat`),
//! since the cores may be shared. `NAT_SUMMARY_ONLY=1` skips criterion and prints only the
//! summary.

use std::collections::HashMap;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant as WallClock;

use criterion::{criterion_group, Criterion, Throughput};
use labvisor_core::net::clock::Instant;
use labvisor_core::net::conntrack::FlowKey;
use labvisor_core::net::nat::{NatConfig, NatTable};
use labvisor_core::net::packet::Proto;
use labvisor_core::net::wire::{self, Direction};

const FLOWS: usize = 100_000;
const EXT: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);

/// A minimal valid IPv4 packet with UDP or TCP (ACK) and an 18-byte payload, checksums set.
fn packet(proto: Proto, src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> Vec<u8> {
    let payload = b"benchmark-payload!";
    let l4_len = if proto == Proto::Tcp { 20 } else { 8 } + payload.len();
    let len = 20 + l4_len;
    let mut b = vec![0u8; len];
    b[0] = 0x45;
    b[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    b[8] = 64;
    b[9] = proto.number();
    b[12..16].copy_from_slice(&src.octets());
    b[16..20].copy_from_slice(&dst.octets());
    let c = !wire::ones_sum(&b[..20]);
    b[10..12].copy_from_slice(&c.to_be_bytes());
    b[20..22].copy_from_slice(&sport.to_be_bytes());
    b[22..24].copy_from_slice(&dport.to_be_bytes());
    let csum_at = if proto == Proto::Tcp {
        b[32] = 5 << 4; // data offset: 5 words
        b[33] = 0x10; // ACK: an established connection
        b[34..36].copy_from_slice(&65535u16.to_be_bytes());
        36
    } else {
        b[24..26].copy_from_slice(&(l4_len as u16).to_be_bytes());
        26
    };
    b[len - payload.len()..].copy_from_slice(payload);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src.octets());
    pseudo.extend_from_slice(&dst.octets());
    pseudo.extend_from_slice(&[0, proto.number()]);
    pseudo.extend_from_slice(&(l4_len as u16).to_be_bytes());
    pseudo.extend_from_slice(&b[20..]);
    let c = !wire::ones_sum(&pseudo);
    b[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
    b
}

/// Flow `i`: half UDP (DNS), half TCP (HTTPS); each from its own inside endpoint (50 000
/// per protocol, so every flow also holds its own NAT binding: the worst case for memory),
/// spread over 200 inside hosts and 256 servers.
fn flow(i: usize) -> (Proto, Ipv4Addr, u16, Ipv4Addr, u16) {
    let j = i / 2;
    let host = Ipv4Addr::new(10, 0, (j % 200) as u8, 10);
    let port = 10_000 + j as u16;
    let server = Ipv4Addr::new(198, 51, 100, (j % 256) as u8);
    if i % 2 == 0 {
        (Proto::Udp, host, port, server, 53)
    } else {
        (Proto::Tcp, host, port, server, 443)
    }
}

fn flow_packet(i: usize) -> Vec<u8> {
    let (proto, h, p, s, d) = flow(i);
    packet(proto, h, p, s, d)
}

fn config(max: usize) -> NatConfig {
    NatConfig {
        max_entries: max as u32,
        ..NatConfig::default()
    }
}

/// Packets laid out like a NIC's receive ring: contiguous slots read in order, while the
/// flows they belong to come in a scattered order. The packet bytes are cache-friendly, as
/// freshly received packets are; the table accesses are not.
struct Ring {
    bytes: Vec<u8>,
    lens: Vec<u8>,
}

const SLOT: usize = 64;

impl Ring {
    fn new(packets: &[Vec<u8>], order: &[usize]) -> Ring {
        let mut bytes = vec![0u8; order.len() * SLOT];
        let mut lens = Vec::with_capacity(order.len());
        for (k, &i) in order.iter().enumerate() {
            let p = &packets[i];
            bytes[k * SLOT..k * SLOT + p.len()].copy_from_slice(p);
            lens.push(p.len() as u8);
        }
        Ring { bytes, lens }
    }

    fn get(&self, k: usize) -> &[u8] {
        &self.bytes[k * SLOT..k * SLOT + self.lens[k] as usize]
    }
}

/// A table with `FLOWS` live flows, and their outbound packets.
fn established() -> (NatTable, Vec<Vec<u8>>) {
    let mut nat = NatTable::new(config(FLOWS));
    nat.reserve(FLOWS);
    let mut packets = Vec::with_capacity(FLOWS);
    for i in 0..FLOWS {
        let pkt = flow_packet(i);
        let mut b = pkt.clone();
        wire::translate(&mut nat, &mut b, Direction::Outbound(EXT), Instant(0)).expect("new flow");
        packets.push(pkt);
    }
    (nat, packets)
}

/// A scattered visiting order: flow indexes shuffled by a fixed-seed Fisher–Yates.
fn order() -> Vec<usize> {
    let mut v: Vec<usize> = (0..FLOWS).collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..FLOWS).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v
}

fn key(i: usize) -> FlowKey {
    let (proto, src, sport, dst, dport) = flow(i);
    FlowKey {
        proto,
        src,
        dst,
        sport,
        dport,
    }
}

/// One pass over the ring: translate every packet (copied into a scratch buffer first, so
/// the ring stays untranslated).
fn pass(nat: &mut NatTable, ring: &Ring, buf: &mut [u8; SLOT]) -> usize {
    let mut ok = 0;
    for k in 0..ring.lens.len() {
        let p = ring.get(k);
        let b = &mut buf[..p.len()];
        b.copy_from_slice(p);
        ok += wire::translate(nat, b, Direction::Outbound(EXT), Instant(1)).is_ok() as usize;
    }
    ok
}

/// Like [`pass`], in bursts of `wire::BURST` packets (`wire::translate_burst`).
fn pass_burst(nat: &mut NatTable, ring: &Ring, scratch: &mut [u8; SLOT * wire::BURST]) -> usize {
    let mut ok = 0;
    let total = ring.lens.len();
    let mut k = 0;
    while k < total {
        let n = (total - k).min(wire::BURST);
        let mut slices: Vec<&mut [u8]> = Vec::with_capacity(n);
        let mut rest: &mut [u8] = &mut scratch[..];
        for j in 0..n {
            let p = ring.get(k + j);
            let (slot, tail) = rest.split_at_mut(SLOT);
            slot[..p.len()].copy_from_slice(p);
            slices.push(&mut slot[..p.len()]);
            rest = tail;
        }
        wire::translate_burst(
            nat,
            &mut slices,
            Direction::Outbound(EXT),
            Instant(1),
            |_, r| ok += r.is_ok() as usize,
        );
        k += n;
    }
    ok
}

/// Time to create `n` new flows, in tables of `FLOWS` reserved entries (setup not timed).
fn new_flows(n: usize) -> std::time::Duration {
    let mut total = std::time::Duration::ZERO;
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(FLOWS);
        let mut nat = NatTable::new(config(FLOWS));
        nat.reserve(FLOWS);
        let order: Vec<usize> = order().into_iter().filter(|&i| i < batch).collect();
        let packets: Vec<Vec<u8>> = (0..batch).map(flow_packet).collect();
        let ring = Ring::new(&packets, &order);
        let mut buf = [0u8; SLOT];
        let start = WallClock::now();
        let ok = pass(&mut nat, &ring, &mut buf);
        total += start.elapsed();
        assert_eq!(ok, batch, "every new flow gets a mapping");
        done += batch;
    }
    total
}

fn bench(c: &mut Criterion) {
    let (mut nat, packets) = established();
    let ring = Ring::new(&packets, &order());
    let mut g = c.benchmark_group("nat");
    g.throughput(Throughput::Elements(FLOWS as u64));
    let mut buf = [0u8; SLOT];
    let mut scratch = [0u8; SLOT * wire::BURST];
    g.bench_function("established_100k_flows_burst", |b| {
        b.iter(|| black_box(pass_burst(&mut nat, &ring, &mut scratch)))
    });
    g.bench_function("established_100k_flows", |b| {
        b.iter(|| black_box(pass(&mut nat, &ring, &mut buf)))
    });
    let keys: Vec<FlowKey> = order().into_iter().map(key).collect();
    let std_map: HashMap<FlowKey, u32> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i as u32))
        .collect();
    g.bench_function("baseline_std_hashmap_get", |b| {
        b.iter(|| keys.iter().filter(|k| std_map.contains_key(*k)).count())
    });
    g.bench_function("new_flows", |b| {
        b.iter_custom(|iters| new_flows(iters as usize * FLOWS))
    });
    g.finish();
}

/// Best of `rounds` runs of `f`, which processes `per_round` items: items per second.
fn rate(rounds: usize, per_round: usize, mut f: impl FnMut() -> std::time::Duration) -> f64 {
    let best = (0..rounds).map(|_| f()).min().unwrap_or_default();
    per_round as f64 / best.as_secs_f64().max(1e-12)
}

/// Nanoseconds this thread has spent on a CPU (Linux `/proc/thread-self/schedstat`), so a
/// rate is per CPU-second even when other processes share the cores.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Items per CPU-second over `rounds` runs of `f` (each processing `per_round` items).
fn cpu_rate(rounds: usize, per_round: usize, mut f: impl FnMut()) -> Option<f64> {
    let start = cpu_ns()?;
    for _ in 0..rounds {
        f();
    }
    let spent = cpu_ns()?.saturating_sub(start);
    Some((rounds * per_round) as f64 / (spent as f64 / 1e9).max(1e-12))
}

fn summary() {
    let (mut nat, packets) = established();
    let ring = Ring::new(&packets, &order());
    let mut buf = [0u8; SLOT];
    let est = rate(20, FLOWS, || {
        let start = WallClock::now();
        let ok = black_box(pass(&mut nat, &ring, &mut buf));
        let t = start.elapsed();
        assert_eq!(ok, FLOWS, "every packet belongs to a live flow");
        t
    });
    let mut scratch = [0u8; SLOT * wire::BURST];
    let burst = rate(20, FLOWS, || {
        let start = WallClock::now();
        let ok = black_box(pass_burst(&mut nat, &ring, &mut scratch));
        let t = start.elapsed();
        assert_eq!(ok, FLOWS, "every packet belongs to a live flow");
        t
    });
    let burst_cpu = cpu_rate(20, FLOWS, || {
        black_box(pass_burst(&mut nat, &ring, &mut scratch));
    });
    let keys: Vec<FlowKey> = order().into_iter().map(key).collect();
    let std_map: HashMap<FlowKey, u32> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i as u32))
        .collect();
    let base = rate(20, FLOWS, || {
        let start = WallClock::now();
        black_box(keys.iter().filter(|k| std_map.contains_key(*k)).count());
        start.elapsed()
    });
    let new = rate(10, FLOWS, || new_flows(FLOWS));
    let est_cpu = cpu_rate(20, FLOWS, || {
        black_box(pass(&mut nat, &ring, &mut buf));
    });
    let base_cpu = cpu_rate(20, FLOWS, || {
        black_box(keys.iter().filter(|k| std_map.contains_key(*k)).count());
    });
    let new_cpu = cpu_rate(10, FLOWS, || {
        new_flows(FLOWS);
    });
    let live = nat.conntrack().len();
    let bytes = nat.heap_bytes() as f64 / live as f64;
    println!();
    println!("NAT summary ({live} live flows, one core; wall clock best of N | per CPU-second):");
    let cpu = |r: Option<f64>| {
        r.map(|r| format!("{:.2} M per CPU-s", r / 1e6))
            .unwrap_or_else(|| "n/a".into())
    };
    println!(
        "  established translation : {:>7.2} M packets/s | {}  (target 5 M: {:.2}x)",
        est / 1e6,
        cpu(est_cpu),
        est_cpu.unwrap_or(est).max(est) / 5e6
    );
    println!(
        "  established, bursts of {}: {:>7.2} M packets/s | {}  (target 5 M: {:.2}x)",
        wire::BURST,
        burst / 1e6,
        cpu(burst_cpu),
        burst_cpu.unwrap_or(burst).max(burst) / 5e6
    );
    println!(
        "  baseline std HashMap get: {:>7.2} M lookups/s | {}  (translation / baseline: {:.2}x)",
        base / 1e6,
        cpu(base_cpu),
        est / base
    );
    println!(
        "  new flows               : {:>7.2} M flows/s   | {}  (target 1 M: {:.2}x)",
        new / 1e6,
        cpu(new_cpu),
        new_cpu.unwrap_or(new).max(new) / 1e6
    );
    println!(
        "  table memory            : {:>7.1} B per entry  (target 128 B: {:.2}x; {} B entry + index slots + bindings, {} B total)",
        bytes,
        bytes / 128.0,
        std::mem::size_of::<labvisor_core::net::conntrack::Entry>(),
        nat.heap_bytes()
    );
}

criterion_group!(benches, bench);

fn main() {
    // NAT_SUMMARY_ONLY=1 skips criterion's runs and prints only the summary.
    if std::env::var_os("NAT_SUMMARY_ONLY").is_none() {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
    summary();
}
