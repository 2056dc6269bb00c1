//! The checks behind Labvisor's fuzz targets, one module per untrusted input. Each module's
//! `check(&[u8])` runs one input and panics when an invariant does not hold; the fuzz target
//! calls it under libFuzzer, and the owning crate's `fuzz_regressions` test calls the same
//! file (included by path) on every input kept in `fuzz/regressions/<target>/`, on stable.

pub mod actions;
pub mod disk_image;
pub mod gateway;
pub mod lesson;
pub mod parsers;
pub mod replay;
pub mod scenario;
pub mod share_code;
pub mod virtio;
pub mod wire;
