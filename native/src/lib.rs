//! # labvisor (native)
//!
//! The `labvisor` command line. The binary in `main.rs` is a thin shell around [`cli`]; the
//! library form lets integration tests and benchmarks call the same code.
#![deny(unsafe_code)]

pub mod cli;
pub mod hostinfo;
