//! `cargo xtask bench-disk`: write throughput of VDI (fixed, dynamic) against raw files, in a
//! release build, on files under `target/bench-disk/`.

use anyhow::Result;

use crate::sh::{self, cargo};

/// Options of `cargo xtask bench-disk`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory for the benchmark files (on the disk you want to measure).
    #[arg(long, default_value = "target/bench-disk")]
    dir: String,
}

/// Builds and runs the benchmark in release mode.
pub fn run(args: Args) -> Result<()> {
    sh::run(cargo().args([
        "run",
        "--release",
        "-q",
        "-p",
        "labvisor",
        "--example",
        "bench_disk",
        "--",
        &args.dir,
    ]))
}
