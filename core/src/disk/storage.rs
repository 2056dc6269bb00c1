//! Where image bytes live: the [`Storage`] trait, and [`MemStorage`], a sparse in-memory
//! implementation for tests and the browser.
//!
//! The native crate implements [`Storage`] on real files (sparse files, `fallocate`, hole
//! punching). Everything above this module is written against the trait only, so the same
//! VDI code produces the same bytes in memory and on disk.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What went wrong in the storage below an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StorageErrorKind {
    /// The host has no space left (ENOSPC, or the pool's capacity).
    NoSpace,
    /// A read past the end of the file.
    UnexpectedEof,
    /// The operation is not supported by this storage.
    Unsupported,
    /// Any other I/O failure.
    Io,
}

/// A storage failure: its kind and a message that names the operation and the offset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct StorageError {
    /// The kind, for callers that react to it (a full host pauses the VM).
    pub kind: StorageErrorKind,
    /// What happened, for people.
    pub message: String,
}

impl StorageError {
    /// A new error.
    pub fn new(kind: StorageErrorKind, message: impl Into<String>) -> StorageError {
        StorageError {
            kind,
            message: message.into(),
        }
    }
}

/// A byte-addressed store that grows on write, like a file.
///
/// Offsets are absolute. `write_at` past the end extends the store (the gap reads as zeros);
/// `read_at` past the end is an error, never a short read.
// A store's length is fallible I/O, so an `is_empty` shortcut would only hide the error.
#[allow(clippy::len_without_is_empty)]
pub trait Storage {
    /// Current length in bytes.
    fn len(&self) -> Result<u64, StorageError>;
    /// Reads exactly `buf.len()` bytes at `offset`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), StorageError>;
    /// Writes all of `data` at `offset`, extending the store if needed.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), StorageError>;
    /// Truncates or extends (sparsely) to `len` bytes.
    fn set_len(&mut self, len: u64) -> Result<(), StorageError>;
    /// Bytes the host really spends on this store (a sparse file spends less than its length).
    fn host_bytes(&self) -> Result<u64, StorageError>;
    /// Reserves real space for `[offset, offset + len)` so later writes cannot fail for lack of
    /// space, extending the store if needed. Calls `progress(done, total)` as it goes.
    ///
    /// The default writes zeros in 1 MiB pieces.
    fn preallocate(
        &mut self,
        offset: u64,
        len: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), StorageError> {
        const PIECE: u64 = 1 << 20;
        let zeros = vec![0u8; PIECE as usize];
        let mut done = 0;
        while done < len {
            let n = PIECE.min(len - done);
            self.write_at(offset + done, &zeros[..n as usize])?;
            done += n;
            progress(done, len);
        }
        Ok(())
    }
    /// Gives `[offset, offset + len)` back to the host; the range then reads as zeros. The
    /// length does not change. The default writes zeros (nothing is given back).
    fn punch_hole(&mut self, offset: u64, len: u64) -> Result<(), StorageError> {
        let zeros = vec![0u8; len.min(1 << 20) as usize];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(zeros.len() as u64);
            self.write_at(offset + done, &zeros[..n as usize])?;
            done += n;
        }
        Ok(())
    }
    /// Whether any byte of `[offset, offset + len)` has host space behind it. The default
    /// (for stores that cannot tell) says yes.
    fn is_allocated(&self, _offset: u64, _len: u64) -> Result<bool, StorageError> {
        Ok(true)
    }
    /// The first offset at or after `offset` with host space behind it, or `None` when there
    /// is none before the end: lets a scan jump over a sparse file's holes instead of asking
    /// about every piece of a terabyte. The default (for stores that cannot tell) is `offset`.
    fn next_data(&self, offset: u64) -> Result<Option<u64>, StorageError> {
        Ok((offset < self.len()?).then_some(offset))
    }
    /// Makes written data durable.
    fn flush(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}

/// The allocation unit of [`MemStorage`], like a file system block.
pub const MEM_CHUNK: u64 = 4096;

/// A sparse store in memory: only written 4 KiB chunks take memory, preallocated ranges are
/// recorded as ranges, and an optional limit on host bytes simulates a full disk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemStorage {
    len: u64,
    /// Written chunks by chunk index, each exactly [`MEM_CHUNK`] bytes.
    chunks: BTreeMap<u64, Vec<u8>>,
    /// Preallocated chunk ranges `start -> end` (chunk indices, disjoint, not adjacent).
    reserved: BTreeMap<u64, u64>,
    /// The most host bytes this store may use; a write needing more fails with `NoSpace`.
    limit: Option<u64>,
}

impl MemStorage {
    /// An empty store.
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// A store holding `bytes`, every chunk of it allocated.
    pub fn from_bytes(bytes: &[u8]) -> MemStorage {
        let mut store = MemStorage::new();
        // Infallible: no limit is set.
        let _ = store.write_at(0, bytes);
        store
    }

    /// Sets or clears the most host bytes this store may use.
    pub fn set_limit(&mut self, limit: Option<u64>) {
        self.limit = limit;
    }

    /// The whole content (for tests and small images).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; usize::try_from(self.len).unwrap_or(0)];
        // Infallible: the buffer has exactly the store's length.
        let _ = self.read_at(0, &mut out);
        out
    }

    fn is_reserved(&self, chunk: u64) -> bool {
        self.reserved
            .range(..=chunk)
            .next_back()
            .is_some_and(|(_, &end)| chunk < end)
    }

    /// Allocated chunks in `[first, end)`.
    fn allocated_chunks(&self, first: u64, end: u64) -> u64 {
        let mut count = 0;
        for (&s, &e) in &self.reserved {
            let (s, e) = (s.max(first), e.min(end));
            if s < e {
                count += e - s;
            }
        }
        count
            + self
                .chunks
                .range(first..end)
                .filter(|(&c, _)| !self.is_reserved(c))
                .count() as u64
    }

    fn check_room(&self, first: u64, end: u64) -> Result<(), StorageError> {
        if let Some(limit) = self.limit {
            let new = (end - first) - self.allocated_chunks(first, end);
            let after = self.host_bytes_now() + new * MEM_CHUNK;
            if new > 0 && after > limit {
                return Err(StorageError::new(
                    StorageErrorKind::NoSpace,
                    format!(
                        "no space left on the host: {} more bytes needed, {} free",
                        new * MEM_CHUNK,
                        limit.saturating_sub(self.host_bytes_now())
                    ),
                ));
            }
        }
        Ok(())
    }

    fn host_bytes_now(&self) -> u64 {
        self.allocated_chunks(0, u64::MAX / MEM_CHUNK + 1) * MEM_CHUNK
    }

    fn reserve(&mut self, first: u64, end: u64) {
        let (mut first, mut end) = (first, end);
        let overlapping: Vec<(u64, u64)> = self
            .reserved
            .range(..=end)
            .filter(|(_, &e)| e >= first)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in overlapping {
            self.reserved.remove(&s);
            first = first.min(s);
            end = end.max(e);
        }
        self.reserved.insert(first, end);
    }

    fn unreserve(&mut self, first: u64, end: u64) {
        let overlapping: Vec<(u64, u64)> = self
            .reserved
            .range(..end)
            .filter(|(_, &e)| e > first)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in overlapping {
            self.reserved.remove(&s);
            if s < first {
                self.reserved.insert(s, first);
            }
            if e > end {
                self.reserved.insert(end, e);
            }
        }
    }

    fn zero_within_chunks(&mut self, offset: u64, len: u64) {
        let mut pos = offset;
        let end = offset + len;
        while pos < end {
            let chunk = pos / MEM_CHUNK;
            let within = (pos % MEM_CHUNK) as usize;
            let n = ((MEM_CHUNK - pos % MEM_CHUNK).min(end - pos)) as usize;
            if let Some(data) = self.chunks.get_mut(&chunk) {
                data[within..within + n].fill(0);
            }
            pos += n as u64;
        }
    }
}

fn range_end(offset: u64, len: u64) -> Result<u64, StorageError> {
    offset.checked_add(len).ok_or_else(|| {
        StorageError::new(
            StorageErrorKind::Io,
            format!("offset {offset} + length {len} overflows"),
        )
    })
}

fn chunk_span(offset: u64, end: u64) -> (u64, u64) {
    (offset / MEM_CHUNK, end.div_ceil(MEM_CHUNK))
}

impl Storage for MemStorage {
    fn len(&self) -> Result<u64, StorageError> {
        Ok(self.len)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        let end = range_end(offset, buf.len() as u64)?;
        if end > self.len {
            return Err(StorageError::new(
                StorageErrorKind::UnexpectedEof,
                format!(
                    "read of {} bytes at offset {offset} goes past the end ({} bytes)",
                    buf.len(),
                    self.len
                ),
            ));
        }
        let mut pos = offset;
        let mut out = 0usize;
        while pos < end {
            let chunk = pos / MEM_CHUNK;
            let within = (pos % MEM_CHUNK) as usize;
            let n = ((MEM_CHUNK - pos % MEM_CHUNK).min(end - pos)) as usize;
            match self.chunks.get(&chunk) {
                Some(data) => buf[out..out + n].copy_from_slice(&data[within..within + n]),
                None => buf[out..out + n].fill(0),
            }
            pos += n as u64;
            out += n;
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), StorageError> {
        let end = range_end(offset, data.len() as u64)?;
        if data.is_empty() {
            return Ok(());
        }
        let (first, last) = chunk_span(offset, end);
        self.check_room(first, last)?;
        let mut pos = offset;
        let mut consumed = 0usize;
        while pos < end {
            let chunk = pos / MEM_CHUNK;
            let within = (pos % MEM_CHUNK) as usize;
            let n = ((MEM_CHUNK - pos % MEM_CHUNK).min(end - pos)) as usize;
            let slot = self
                .chunks
                .entry(chunk)
                .or_insert_with(|| vec![0u8; MEM_CHUNK as usize]);
            slot[within..within + n].copy_from_slice(&data[consumed..consumed + n]);
            pos += n as u64;
            consumed += n;
        }
        self.len = self.len.max(end);
        Ok(())
    }

    fn set_len(&mut self, len: u64) -> Result<(), StorageError> {
        if len < self.len {
            let keep = len.div_ceil(MEM_CHUNK);
            self.chunks.split_off(&keep);
            self.unreserve(keep, u64::MAX);
            // Bytes past the new end inside the last chunk must read as zeros if it grows again.
            let tail = keep * MEM_CHUNK - len;
            if tail > 0 {
                self.zero_within_chunks(len, tail);
            }
        }
        self.len = len;
        Ok(())
    }

    fn host_bytes(&self) -> Result<u64, StorageError> {
        Ok(self.host_bytes_now())
    }

    fn preallocate(
        &mut self,
        offset: u64,
        len: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), StorageError> {
        let end = range_end(offset, len)?;
        if len == 0 {
            return Ok(());
        }
        let (first, last) = chunk_span(offset, end);
        self.check_room(first, last)?;
        self.reserve(first, last);
        self.len = self.len.max(end);
        progress(len, len);
        Ok(())
    }

    fn punch_hole(&mut self, offset: u64, len: u64) -> Result<(), StorageError> {
        let end = range_end(offset, len)?.min(self.len);
        if offset >= end {
            return Ok(());
        }
        let first_whole = offset.div_ceil(MEM_CHUNK);
        let end_whole = end / MEM_CHUNK;
        if first_whole < end_whole {
            let dropped: Vec<u64> = self
                .chunks
                .range(first_whole..end_whole)
                .map(|(&c, _)| c)
                .collect();
            for c in dropped {
                self.chunks.remove(&c);
            }
            self.unreserve(first_whole, end_whole);
            self.zero_within_chunks(offset, first_whole * MEM_CHUNK - offset);
            self.zero_within_chunks(end_whole * MEM_CHUNK, end - end_whole * MEM_CHUNK);
        } else {
            self.zero_within_chunks(offset, end - offset);
        }
        Ok(())
    }

    fn is_allocated(&self, offset: u64, len: u64) -> Result<bool, StorageError> {
        let end = range_end(offset, len)?;
        let (first, last) = chunk_span(offset, end);
        Ok(self.allocated_chunks(first, last) > 0)
    }

    fn next_data(&self, offset: u64) -> Result<Option<u64>, StorageError> {
        let chunk = offset / MEM_CHUNK;
        let written = self.chunks.range(chunk..).next().map(|(&c, _)| c);
        let reserved = self
            .reserved
            .iter()
            .find(|(_, &e)| e > chunk)
            .map(|(&s, _)| s.max(chunk));
        let next = match (written, reserved) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(next
            .map(|c| (c * MEM_CHUNK).max(offset))
            .filter(|&at| at < self.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_read_back_and_gaps_read_as_zeros() {
        let mut s = MemStorage::new();
        s.write_at(10_000, b"hello").unwrap();
        assert_eq!(s.len().unwrap(), 10_005);
        let mut buf = [1u8; 12];
        s.read_at(9_998, &mut buf[..7]).unwrap();
        assert_eq!(&buf[..7], b"\0\0hello");
        s.read_at(0, &mut buf).unwrap();
        assert_eq!(buf, [0u8; 12]);
        assert_eq!(s.host_bytes().unwrap(), MEM_CHUNK);
        let err = s.read_at(10_000, &mut [0u8; 6]).unwrap_err();
        assert_eq!(err.kind, StorageErrorKind::UnexpectedEof);
    }

    #[test]
    fn preallocation_counts_host_bytes_without_data() {
        let mut s = MemStorage::new();
        s.preallocate(0, 1 << 40, &mut |_, _| {}).unwrap();
        assert_eq!(s.host_bytes().unwrap(), 1 << 40);
        s.write_at(5, b"x").unwrap();
        assert_eq!(s.host_bytes().unwrap(), 1 << 40);
        s.punch_hole(0, 1 << 20).unwrap();
        assert_eq!(s.host_bytes().unwrap(), (1 << 40) - (1 << 20));
        let mut b = [9u8; 1];
        s.read_at(5, &mut b).unwrap();
        assert_eq!(b, [0]);
    }

    #[test]
    fn punching_a_partial_chunk_zeros_it_but_keeps_it() {
        let mut s = MemStorage::from_bytes(&[7u8; 8192]);
        s.punch_hole(100, 200).unwrap();
        assert_eq!(s.host_bytes().unwrap(), 8192);
        let bytes = s.to_bytes();
        assert!(bytes[100..300].iter().all(|&b| b == 0));
        assert_eq!(bytes[99], 7);
        assert_eq!(bytes[300], 7);
        s.punch_hole(0, 8192).unwrap();
        assert_eq!(s.host_bytes().unwrap(), 0);
        assert_eq!(s.len().unwrap(), 8192);
    }

    #[test]
    fn truncation_forgets_the_tail() {
        let mut s = MemStorage::from_bytes(&[7u8; 10_000]);
        s.set_len(5_000).unwrap();
        s.set_len(10_000).unwrap();
        let bytes = s.to_bytes();
        assert_eq!(bytes[4_999], 7);
        assert!(bytes[5_000..].iter().all(|&b| b == 0));
        assert_eq!(s.host_bytes().unwrap(), 2 * MEM_CHUNK);
    }

    #[test]
    fn a_limit_refuses_writes_that_need_new_space_and_changes_nothing() {
        let mut s = MemStorage::from_bytes(&[1u8; 4096]);
        s.set_limit(Some(8192));
        s.write_at(0, &[2u8; 4096]).unwrap();
        s.write_at(4096, &[3u8; 4096]).unwrap();
        let before = s.clone();
        let err = s.write_at(4000, &[4u8; 5000]).unwrap_err();
        assert_eq!(err.kind, StorageErrorKind::NoSpace);
        assert_eq!(s, before);
        let err = s.preallocate(8192, 4096, &mut |_, _| {}).unwrap_err();
        assert_eq!(err.kind, StorageErrorKind::NoSpace);
    }
}
