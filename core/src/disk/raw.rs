//! Raw images: the guest's bytes at the same offsets in the file, nothing else.
//!
//! A raw image has no header and no block map, so what is "allocated" is whatever the host
//! file system has space behind: a sparse raw file grows as the guest writes, a preallocated one
//! was given all its space up front. There is nothing to snapshot against, which is why VDI
//! (and qcow2) exist.

use super::storage::{Storage, StorageError};

/// The granularity at which raw images are compacted and pictured.
pub const RAW_SCAN_UNIT: u64 = 64 << 10;

/// Whether a raw file of `len` bytes has space behind all of it (preallocated) or not (sparse).
pub fn is_preallocated(storage: &dyn Storage, len: u64) -> Result<bool, StorageError> {
    Ok(storage.host_bytes()? >= len)
}

/// Gives back the host space of every all-zero piece of a raw image. Returns bytes freed.
pub fn punch_zero_ranges(storage: &mut dyn Storage, len: u64) -> Result<u64, StorageError> {
    let before = storage.host_bytes()?;
    let mut buf = vec![0u8; RAW_SCAN_UNIT as usize];
    let mut offset = 0;
    while offset < len {
        let n = RAW_SCAN_UNIT.min(len - offset);
        if storage.is_allocated(offset, n)? {
            storage.read_at(offset, &mut buf[..n as usize])?;
            if buf[..n as usize].iter().all(|&b| b == 0) {
                storage.punch_hole(offset, n)?;
            }
        }
        offset += n;
    }
    Ok(before.saturating_sub(storage.host_bytes()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::storage::MemStorage;

    #[test]
    fn zero_pieces_are_punched_and_data_kept() {
        let mut s = MemStorage::new();
        s.set_len(1 << 20).unwrap();
        s.write_at(0, &vec![0u8; 256 << 10]).unwrap();
        s.write_at(512 << 10, &[5u8; 10]).unwrap();
        assert_eq!(s.host_bytes().unwrap(), (256 << 10) + 4096);
        let freed = punch_zero_ranges(&mut s, 1 << 20).unwrap();
        assert_eq!(freed, 256 << 10);
        let mut b = [0u8; 10];
        s.read_at(512 << 10, &mut b).unwrap();
        assert_eq!(b, [5u8; 10]);
        assert!(!is_preallocated(&s, 1 << 20).unwrap());
    }
}
