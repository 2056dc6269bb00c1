//! `cargo xtask guest`: builds Labvisor's guest OS (native/guest) for x86_64-unknown-none.
//!
//! The VMM's build does the same from native/vmm/build.rs to embed it; this task builds it
//! on its own (for QEMU, or to look at it), and [`check`] lints it and runs its library's
//! tests for `cargo xtask test`, since the workspace's fmt, clippy and tests do not see a
//! crate of another workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::sh::{self, cargo};

/// The guest's target triple.
pub const TARGET: &str = "x86_64-unknown-none";

/// Options of `cargo xtask guest`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Builds the guest and prints where the ELF is.
pub fn run(_args: Args) -> Result<()> {
    let elf = build()?;
    println!("{}", elf.display());
    Ok(())
}

fn guest_dir() -> PathBuf {
    sh::workspace_root().join("native").join("guest")
}

fn target_dir() -> PathBuf {
    sh::workspace_root().join("target").join("guest")
}

/// A cargo command run inside native/guest, without the outer cargo's settings.
fn guest_cargo() -> Command {
    let mut cmd = cargo();
    cmd.current_dir(guest_dir());
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Builds the guest (release) and returns the path of its ELF.
pub fn build() -> Result<PathBuf> {
    sh::ensure_rust_target(TARGET)?;
    let target_dir = target_dir();
    sh::run(
        guest_cargo()
            .args(["build", "--release", "--locked", "--target", TARGET])
            .arg("--target-dir")
            .arg(&target_dir),
    )?;
    Ok(elf_path(&target_dir))
}

fn elf_path(target_dir: &Path) -> PathBuf {
    target_dir
        .join(TARGET)
        .join("release")
        .join("labvisor-guest")
}

/// What `cargo xtask test` needs from the guests: the guest crate linted, and the Linux
/// guest (cached) for the `vm_linux` integration test.
pub fn ci_step() -> Result<()> {
    check()?;
    // A package mirror that is down must not fail every check: the Linux test then prints
    // `SKIP:` with the reason, and this says why.
    if let Err(e) = crate::linux_guest::run(crate::linux_guest::Args { force: false }) {
        eprintln!("xtask test: warning: no Linux guest, its test will be skipped: {e:#}");
    }
    Ok(())
}

/// `cargo fmt --check` and clippy (`-D warnings`) for the guest crate.
pub fn check() -> Result<()> {
    sh::ensure_rust_target(TARGET)?;
    sh::run(guest_cargo().args(["fmt", "--check"]))?;
    sh::run(
        guest_cargo()
            .args([
                "clippy",
                "--release",
                "--locked",
                "--target",
                TARGET,
                "--target-dir",
            ])
            .arg(target_dir())
            .args(["--", "-D", "warnings"]),
    )?;
    // The guest's library (parsers of what the network sends) is tested on the host.
    sh::run(
        guest_cargo()
            .args(["test", "--lib", "--locked", "--target-dir"])
            .arg(target_dir()),
    )
}
