//! `cargo xtask test`: what CI runs, in order, stopping at the first failure.

use anyhow::Result;

use crate::sh::{self, cargo};

/// Options of `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs formatting and lint checks, the whole test suite, every fuzz target briefly, and the
/// wasm32 build of the core.
pub fn run(_args: Args) -> Result<()> {
    sh::run(cargo().args(["fmt", "--all", "--check"]))?;
    crate::guest::ci_step()?;
    sh::run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    crate::netns::ensure_tools();
    // The guest's network is also checked under QEMU's user-mode NAT (native/tests/
    // vm_qemu_net.rs); without QEMU that test prints SKIP rather than failing the run.
    if let Err(e) = crate::bench_boot::ensure_qemu() {
        eprintln!("xtask test: QEMU could not be installed ({e:#}); the QEMU checks will SKIP");
    }
    // --no-fail-fast: one run reports every failing test binary, not just the first.
    sh::run(cargo().args(["test", "--workspace", "--no-fail-fast"]))?;
    crate::fuzz::ci_step()?;
    sh::ensure_rust_target("wasm32-unknown-unknown")?;
    sh::run(cargo().args([
        "build",
        "-p",
        "labvisor-core",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;
    crate::web_test::run()?;
    eprintln!("xtask test: all checks passed");
    Ok(())
}
