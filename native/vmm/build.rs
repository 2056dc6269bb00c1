//! Builds Labvisor's guest OS (native/guest, target x86_64-unknown-none) so the VMM can embed
//! it: `labvisor vm run` then needs nothing but its own binary.
//!
//! The guest is built by a nested cargo with its own target directory (sharing ours would
//! deadlock on cargo's build-directory lock) and from inside native/guest, with the outer
//! build's cargo/rustc environment removed so its flags and target do not leak in.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "x86_64-unknown-none";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let native_dir = manifest_dir.parent().expect("native/vmm has a parent");
    let guest_dir = native_dir.join("guest");
    for path in [
        "src",
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "link.ld",
        ".cargo",
        "vendor",
    ] {
        println!("cargo:rerun-if-changed={}", guest_dir.join(path).display());
    }
    // The guest compiles the ABI crate too.
    for path in ["src", "Cargo.toml"] {
        println!(
            "cargo:rerun-if-changed={}",
            native_dir.join("guest-abi").join(path).display()
        );
    }
    println!("cargo:rerun-if-env-changed=LABVISOR_GUEST_ELF");

    let elf = match std::env::var_os("LABVISOR_GUEST_ELF") {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => build_guest(&guest_dir, &out_dir.join("guest-target")),
    };
    let embedded = out_dir.join("labvisor-guest.elf");
    std::fs::copy(&elf, &embedded)
        .unwrap_or_else(|e| panic!("cannot copy the guest kernel {}: {e}", elf.display()));
}

fn build_guest(guest_dir: &Path, target_dir: &Path) -> PathBuf {
    ensure_target();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(guest_dir)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(target_dir);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let leaks = (key.starts_with("CARGO_") && key != "CARGO_HOME")
            || key.starts_with("RUSTC")
            || key == "RUSTFLAGS"
            || key == "RUSTDOCFLAGS"
            || key == "TARGET"
            || key == "HOST"
            || key == "OUT_DIR"
            || key == "PROFILE"
            || key == "OPT_LEVEL"
            || key == "DEBUG";
        if leaks {
            cmd.env_remove(key.as_ref());
        }
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the guest: {e}"));
    if !status.success() {
        panic!("building the guest OS (native/guest) failed: {status}");
    }
    target_dir
        .join(TARGET)
        .join("release")
        .join("labvisor-guest")
}

/// Installs the guest's target with rustup when it is missing (idempotent; no-op offline if
/// already there).
fn ensure_target() {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        })
        .unwrap_or(false);
    if !installed {
        let _ = Command::new("rustup")
            .args(["target", "add", TARGET])
            .status();
    }
}
