//! # labvisor-core
//!
//! The model behind every Labvisor lesson, written so that one copy of it runs both in the
//! browser (wasm32) and in the native `labvisor` command.
//!
//! The crate is **sans-IO and deterministic**: it never touches files, sockets, clocks or
//! randomness. Time and bytes are inputs, so any run can be replayed and snapshot-tested, and
//! every public type is `serde`-serializable so that a learner's lab state can travel in a
//! share link.
//!
//! Reading top-down:
//!
//! - [`lang`]: the two languages, and [`lang::Explain`], how every result, warning and error
//!   says itself in both.
//! - [`hypervisor`]: type 1 and type 2 hypervisors, the virtualization techniques, and a
//!   classification quiz.
//! - [`addr`]: strict IPv4 parsing, classes A–E, the IANA special-purpose registry and CIDR
//!   arithmetic.
//! - [`port`]: TCP/UDP ports, the RFC 6335 ranges and a catalog of common services.
//! - [`size`]: the one parser of sizes (`16G`, `256GB`) and its rule: binary letters, decimal
//!   `…B` units.
//! - [`sizing`]: planning VMs on a host, leaving the host its reserve.
//! - [`disk`]: virtual disks in real VDI and raw formats: dynamic vs fixed, overcommit,
//!   compaction, snapshots and backups.
//! - [`net`]: the network engine: VirtualBox-style topologies, routing, NAT with connection
//!   tracking, port forwarding, real-packet translation and a step-by-step trace.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod addr;
pub mod disk;
pub mod hypervisor;
pub mod lang;
pub mod net;
pub mod port;
pub mod size;
pub mod sizing;
