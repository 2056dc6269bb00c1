//! `cargo xtask bench-net`: the network path's throughput.
//!
//! The backend alone (`native/vmm/examples/net_backend.rs`): no VM; a host-side driver of the
//! virtio-net queues stands in for the guest, and the real device, the core's gateway and NAT
//! table and the backend carry UDP and TCP to a socket on 127.0.0.1, at MTU 1500 and 65520,
//! printed in frames/s and Gbit/s beside the published figures for slirp4netns (1.69 Gbit/s
//! at MTU 1500) and gvisor-tap-vsock (2.46), with the ratios. Target: ≥ 3 Gbit/s at 1500.

use anyhow::Result;

use crate::sh;

/// Options of `cargo xtask bench-net`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds per row.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
}

pub fn run(args: Args) -> Result<()> {
    sh::run(sh::cargo().args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "labvisor-vmm",
        "--example",
        "net_backend",
        "--",
        &args.seconds.to_string(),
    ]))
}
