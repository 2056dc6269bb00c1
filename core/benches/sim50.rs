//! One simulation step on a 50-node topology.
//!
//! Run it with:
//!
//! ```text
//! cargo bench -p labvisor-core --bench sim50
//! ```
//!
//! It is not part of `cargo xtask test`. One step is `Network::apply(Send)` on
//! `net::testbed::router_chain(24)` (24 routers in a line, 25 hosts, a web server: 50 nodes):
//! a TCP SYN crosses every router and the SYN-ACK comes back, with the full trace recorded.
//! Each iteration starts from a fresh copy of the network (made outside the timing), so
//! every step does the same work (ARP resolution at every hop included). Target (the
//! browser's, measured by the end-to-end run): ≤ 1 ms.
//!
//! The baseline, measured in the same run, is the same step on the smallest chain
//! (`router_chain(1)`: one router, 4 nodes); the summary prints both and their ratio.
//! `SIM50_SUMMARY_ONLY=1` skips criterion and prints only the summary.

use std::hint::black_box;
use std::time::Instant as WallClock;

use criterion::{criterion_group, BatchSize, Criterion};
use labvisor_core::net::sim::{Action, Network};
use labvisor_core::net::testbed::router_chain;

fn network(routers: usize) -> (Network, Action) {
    let (topology, send) = router_chain(routers);
    let network = Network::new(topology).expect("the chain wires");
    (network, Action::Send(send))
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim-step");
    for (name, routers) in [("4-nodes-baseline", 1), ("50-nodes", 24)] {
        let (net, action) = network(routers);
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || net.clone(),
                |n| black_box(n.apply(&action)),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// Best mean over 20 rounds of 200 steps, each on a fresh copy, in microseconds.
fn best_us(routers: usize) -> f64 {
    let (net, action) = network(routers);
    let mut best = f64::INFINITY;
    for _ in 0..20 {
        let mut copies = vec![net.clone(); 200];
        let t0 = WallClock::now();
        for n in &mut copies {
            let _ = black_box(n.apply(&action));
        }
        best = best.min(t0.elapsed().as_secs_f64() * 1e6 / copies.len() as f64);
    }
    best
}

fn summary() {
    let base = best_us(1);
    let fifty = best_us(24);
    println!("\nsim50 summary (best round, native, one core):");
    println!("  baseline, 4-node chain:  {base:8.1} µs per step");
    println!(
        "  50-node chain:           {fifty:8.1} µs per step  ({:.1}× the baseline; browser target ≤ 1000 µs)",
        fifty / base
    );
}

criterion_group!(benches, bench);

fn main() {
    if std::env::var_os("SIM50_SUMMARY_ONLY").is_none() {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
    summary();
}
