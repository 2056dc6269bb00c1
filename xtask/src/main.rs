//! `cargo xtask`: the project's tasks, written in Rust so they run the same on every machine.
//!
//! Each task installs what it needs (rustup targets, apt packages, npm tools) idempotently and
//! caches it under `target/`, so a fresh clone needs nothing but Rust.

mod bench_disk;
mod sh;
mod test;

use clap::{Parser, Subcommand};

/// Labvisor's project tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Everything CI checks: fmt, clippy, the test suite and the wasm32 build of the core.
    Test(test::Args),
    /// Disk write benchmark: fixed and dynamic VDI against raw files (MB/s and ratios).
    BenchDisk(bench_disk::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    sh::enter_workspace_root()?;
    match cli.task {
        Task::Test(args) => test::run(args),
        Task::BenchDisk(args) => bench_disk::run(args),
    }
}
