//! `cargo xtask`: the project's tasks, written in Rust so they run the same on every machine.
//!
//! Each task installs what it needs (rustup targets, apt packages, npm tools) idempotently and
//! caches it under `target/`, so a fresh clone needs nothing but Rust.

mod bench_boot;
mod bench_disk;
mod bench_net;
mod bench_ssh;
mod bench_vm_disk;
mod fuzz;
mod guest;
mod linux_guest;
mod netns;
mod serve;
mod sh;
mod test;
mod web;
mod web_test;

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
    /// Run the fuzz targets in fuzz/ (cargo-fuzz on nightly, both installed if missing) and
    /// print executions and coverage per target.
    Fuzz(fuzz::Args),
    /// Build Labvisor's guest OS (native/guest) for x86_64-unknown-none and print its path.
    Guest(guest::Args),
    /// Fetch Debian's kernel and busybox (apt-get download) and build a busybox initramfs,
    /// cached under target/linux-guest.
    LinuxGuest(linux_guest::Args),
    /// Boot the embedded guest N times and print start-to-banner, start-to-exit and VMM memory,
    /// against QEMU microvm booting the same ELF where it can.
    BenchBoot(bench_boot::Args),
    /// A real VM's disk: sequential and random writes on raw, fixed and dynamic VDI images,
    /// labvisor against QEMU microvm on the same images (MB/s, writes/s and ratios).
    BenchVmDisk(bench_vm_disk::Args),
    /// The network backend alone: UDP and TCP from a host-side driver of the virtio-net queues
    /// through the NAT to 127.0.0.1, at MTU 1500 and 65520 (frames/s, Gbit/s, against the
    /// published slirp4netns and gvisor-tap-vsock figures).
    BenchNet(bench_net::Args),
    /// Builds the browser app as a static site in target/site/ (wasm32, wasm-bindgen, wasm-opt).
    BuildWeb(web::BuildArgs),
    /// Builds the site and serves it on http://127.0.0.1:8080/ for learning locally.
    Serve(serve::Args),
    /// Only the browser tests: component tests and end-to-end tests in headless Chromium.
    TestWeb,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    sh::enter_workspace_root()?;
    match cli.task {
        Task::Test(args) => test::run(args),
        Task::BenchDisk(args) => bench_disk::run(args),
        Task::Fuzz(args) => fuzz::run(args),
        Task::Guest(args) => guest::run(args),
        Task::LinuxGuest(args) => linux_guest::run(args).map(|_| ()),
        Task::BenchBoot(args) => bench_boot::run(args),
        Task::BenchVmDisk(args) => bench_vm_disk::run(args),
        Task::BenchNet(args) => bench_net::run(args),
        Task::BuildWeb(args) => web::build(&args).map(drop),
        Task::Serve(args) => serve::run(args),
        Task::TestWeb => web_test::run(),
    }
}
