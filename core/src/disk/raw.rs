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
    while let Some(at) = next_data_unit(storage, offset, len)? {
        let n = RAW_SCAN_UNIT.min(len - at);
        storage.read_at(at, &mut buf[..n as usize])?;
        if super::zero::is_zero(&buf[..n as usize]) {
            storage.punch_hole(at, n)?;
        }
        offset = at + n;
    }
    Ok(before.saturating_sub(storage.host_bytes()?))
}

/// The start of the first [`RAW_SCAN_UNIT`] piece at or after `offset` (and before `end`)
/// with host space behind it: holes are skipped in one step each, so the cost of a scan
/// follows the data, not the size (a 15 TB sparse file with one block of data is one step).
pub fn next_data_unit(
    storage: &dyn Storage,
    offset: u64,
    end: u64,
) -> Result<Option<u64>, StorageError> {
    if offset >= end {
        return Ok(None);
    }
    Ok(storage
        .next_data(offset)?
        .map(|at| (at - at % RAW_SCAN_UNIT).max(offset))
        .filter(|&at| at < end))
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

    #[test]
    fn a_scan_jumps_over_holes() {
        let mut s = MemStorage::new();
        s.set_len(1 << 50).unwrap();
        s.write_at((1 << 49) + 70_000, &[1u8; 10]).unwrap();
        let unit = (1 << 49) + RAW_SCAN_UNIT;
        assert_eq!(next_data_unit(&s, 0, 1 << 50).unwrap(), Some(unit));
        assert_eq!(
            next_data_unit(&s, unit + 10, 1 << 50).unwrap(),
            Some(unit + 10)
        );
        assert_eq!(
            next_data_unit(&s, (1 << 49) + RAW_SCAN_UNIT * 2, 1 << 50).unwrap(),
            None
        );
        assert_eq!(
            next_data_unit(&s, 0, 1 << 49).unwrap(),
            None,
            "data past the end"
        );
        // One petabyte with one piece of data: one step, done at once.
        assert_eq!(punch_zero_ranges(&mut s, 1 << 50).unwrap(), 0);
    }
}
