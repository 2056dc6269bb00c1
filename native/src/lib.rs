//! # labvisor (native)
//!
//! The `labvisor` command line. The binary in `main.rs` is a thin shell around [`cli`]; the
//! library form lets integration tests and benchmarks call the same code.
#![deny(unsafe_code)]

pub mod cli;
pub mod disk;
pub mod files;
pub mod hostinfo;

/// The KVM virtual machine monitor. `unsafe` is allowed here and nowhere else in the crate:
/// giving KVM a guest-memory mapping, reading KVM's statistics file, asking the kernel which
/// guest pages are resident, and marking the boot-info block as plain bytes have no safe
/// interface. Each block says why it is sound in a `// SAFETY:` comment.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub mod vmm;
