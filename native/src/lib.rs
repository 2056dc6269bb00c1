//! # labvisor (native)
//!
//! The `labvisor` command line. The binary in `main.rs` is a thin shell around [`cli`]; the
//! library form lets integration tests and benchmarks call the same code.
//!
//! Real VMs come from the VMM crate, [`labvisor_vmm`] (re-exported as [`vmm`]), which holds all
//! of the project's host-side `unsafe`; this crate has none.
#![forbid(unsafe_code)]

pub mod cli;
pub mod disk;
pub mod files;
pub mod hostinfo;
pub mod progress_file;

pub use labvisor_vmm as vmm;
