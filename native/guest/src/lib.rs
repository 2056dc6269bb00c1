//! The part of the guest OS that needs no hardware: parsers of what the network sends (HTTP
//! responses, URLs, the TCP shell's telnet bytes, the SSH shell's keystrokes), kept
//! here so that they are tested (property tests included) on the host with `cargo test
//! --lib`, while the kernel (`main.rs`) uses them unchanged.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod http;
pub mod line_editor;
pub mod telnet;
