//! Disk images on real files: the core's disk model ([`labvisor_core::disk`]) over
//! [`FileStorage`], snapshot chains kept as VirtualBox-style differencing VDI files, and
//! sparse-aware backup copies.
//!
//! On-disk layout of a disk with snapshots (see `docs/disk.md`):
//!
//! ```text
//! disk.vdi                      the base image (never written once a snapshot exists)
//! disk.vdi.snapshots/<uuid>.vdi one differencing VDI per snapshot; its header's
//!                               uuid_parent names the image below it, its description
//!                               holds the snapshot's name
//! ```
//!
//! The chain order comes from the parent UUIDs alone, as in VirtualBox, so there is no second
//! copy of the truth that could disagree with the images.

pub mod backup;
pub mod bench;
pub mod chain;
pub mod file;
pub mod vm_disk;

pub use chain::{has_vdi_signature, probe_format, DiskChain, DiskError};
pub use file::FileStorage;

use labvisor_core::disk::vdi::Uuid;

/// A fresh random UUID (the core takes randomness as an input; this is where it comes from).
pub fn random_uuid() -> Uuid {
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if from_os.is_err() {
        // Unique enough for naming files when /dev/urandom is missing: time and process.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = (nanos ^ (u128::from(std::process::id()) << 96)).to_le_bytes();
    }
    Uuid::from_random_bytes(bytes)
}

/// The byte `labvisor disk write --pattern data` puts at guest offset `offset`: never zero
/// (so compaction keeps it) and different from one byte to the next, so a misplaced block
/// shows.
pub fn pattern_byte(offset: u64) -> u8 {
    (offset % 251) as u8 + 1
}

/// Fills `buf` with the data pattern as if it were at guest offset `offset`.
pub fn fill_pattern(offset: u64, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = pattern_byte(offset + i as u64);
    }
}
