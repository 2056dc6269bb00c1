//! Virtual disks: what a VM's disk really is on the host, in formats real tools accept.
//!
//! Reading top-down:
//!
//! - [`pool`]: a host's storage with a physical capacity. Fixed images take their space at
//!   creation; dynamic ones overcommit, and a guest write into a full host fails as an I/O
//!   error that pauses the VM without losing anything already written.
//! - [`backup`]: copies of a disk's image chain into another failure domain, and the failure
//!   simulation that shows why a snapshot is not a backup.
//! - [`snapshot`]: snapshots as differencing images: take, read through, write the newest,
//!   revert, merge.
//! - [`image`]: one disk image and the guest's operations on it (write, read, zero-fill,
//!   discard, delete a file) plus compaction.
//! - [`vdi`] and [`raw`]: the on-disk formats as pure encode/decode/check functions.
//! - [`storage`]: the byte store below an image; files in the native crate, memory here.
//! - [`zero`]: whether a block holds only zeros, at memory speed (compaction asks it of every block).
//! - [`size`]: `128G`-style sizes (the crate's one size parser, [`crate::size`], re-exported).
//!
//! Everything is sans-IO: UUIDs and bytes come from the caller, and the same code writes the
//! same bytes into memory (tests, the browser) and into real files (`labvisor disk`).

pub mod backup;
pub mod image;
pub mod pool;
pub mod raw;
pub use crate::size;
pub mod snapshot;
pub mod storage;
pub mod vdi;
pub mod zero;

#[cfg(test)]
mod tests;
