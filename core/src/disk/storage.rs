//! Where image bytes live: the [`Storage`] trait, and [`MemStorage`], a sparse in-memory
//! implementation for tests and the browser.
//!
//! The native crate implements [`Storage`] on real files (sparse files, `fallocate`, hole
//! punching). Everything above this module is written against the trait only, so the same
//! VDI code produces the same bytes in memory and on disk.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::zero;

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
#[serde(try_from = "StoredMemStorage")]
pub struct MemStorage {
    len: u64,
    /// Written chunks by chunk index.
    chunks: BTreeMap<u64, Chunk>,
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

    /// Every allocated chunk, counted without visiting the written chunks outside the
    /// preallocated ranges: the browser's disk views and the compaction engine ask after every
    /// step, and an image holds thousands of chunks.
    fn host_bytes_now(&self) -> u64 {
        let (reserved, written_inside) =
            self.reserved
                .iter()
                .fold((0, 0), |(reserved, inside), (&start, &end)| {
                    let written = self.chunks.range(start..end).count() as u64;
                    (reserved + (end - start), inside + written)
                });
        (reserved + self.chunks.len() as u64 - written_inside) * MEM_CHUNK
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
                data.zero(within, n);
            }
            pos += n as u64;
        }
    }
}

/// A [`MemStorage`] as serialized, checked against the store's invariants before it becomes
/// one: a tampered or damaged state is refused with what is wrong, never turned into a store
/// that panics on a read, counts its host bytes wrong or shows stale bytes when it grows.
#[derive(Deserialize)]
struct StoredMemStorage {
    len: u64,
    chunks: BTreeMap<u64, Chunk>,
    reserved: BTreeMap<u64, u64>,
    limit: Option<u64>,
}

impl TryFrom<StoredMemStorage> for MemStorage {
    type Error = String;

    fn try_from(stored: StoredMemStorage) -> Result<MemStorage, String> {
        let StoredMemStorage {
            len,
            chunks,
            reserved,
            limit,
        } = stored;
        let chunk_count = len.div_ceil(MEM_CHUNK);
        for (&index, chunk) in &chunks {
            if index >= chunk_count {
                return Err(format!(
                    "chunk {index} lies past the store's end ({len} bytes, {chunk_count} chunks)"
                ));
            }
            if let Chunk::Bytes(bytes) = chunk {
                if bytes.len() as u64 != MEM_CHUNK {
                    return Err(format!(
                        "chunk {index} holds {} bytes, expected {MEM_CHUNK}",
                        bytes.len()
                    ));
                }
                if zero::is_all(bytes, bytes[0]) {
                    return Err(format!(
                        "chunk {index} lists {MEM_CHUNK} copies of byte {}, expected it as one repeated byte",
                        bytes[0]
                    ));
                }
            }
        }
        let tail_from = len % MEM_CHUNK;
        if tail_from != 0 {
            if let Some(last) = chunks.get(&(chunk_count - 1)) {
                let mut tail = vec![0u8; (MEM_CHUNK - tail_from) as usize];
                last.read(tail_from as usize, &mut tail);
                if !zero::is_zero(&tail) {
                    return Err(format!(
                        "bytes past the store's end ({len} bytes) are not zero in its last chunk"
                    ));
                }
            }
        }
        let mut previous_end = None;
        for (&start, &end) in &reserved {
            if start >= end || end > chunk_count {
                return Err(format!(
                    "preallocated range {start}..{end} is empty or ends past the store's {chunk_count} chunks"
                ));
            }
            if previous_end.is_some_and(|previous| start <= previous) {
                return Err(format!(
                    "preallocated range {start}..{end} overlaps or touches the one before it"
                ));
            }
            previous_end = Some(end);
        }
        Ok(MemStorage {
            len,
            chunks,
            reserved,
            limit,
        })
    }
}

/// The bytes of one written chunk. A chunk of one repeated byte (what a zero-fill writes, or
/// a lesson's pattern) keeps only that byte: a disk lesson's image of 64 MiB then takes
/// kilobytes of the browser's memory, and copying or comparing it costs as little.
///
/// Invariant: a chunk is `Repeated` whenever its bytes are all one value, so that two stores
/// holding the same bytes compare equal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Chunk {
    Repeated(u8),
    /// Exactly [`MEM_CHUNK`] bytes, not all the same.
    Bytes(Box<[u8]>),
}

impl Chunk {
    /// The chunk holding `bytes` (exactly [`MEM_CHUNK`] of them).
    fn holding(bytes: &[u8]) -> Chunk {
        match bytes.first() {
            Some(&first) if zero::is_all(bytes, first) => Chunk::Repeated(first),
            _ => Chunk::Bytes(bytes.into()),
        }
    }

    fn read(&self, within: usize, out: &mut [u8]) {
        match self {
            Chunk::Repeated(value) => out.fill(*value),
            Chunk::Bytes(bytes) => out.copy_from_slice(&bytes[within..within + out.len()]),
        }
    }

    /// Replaces the bytes at `within` with `data`.
    fn write(&mut self, within: usize, data: &[u8]) {
        if data.len() == MEM_CHUNK as usize {
            *self = Chunk::holding(data);
            return;
        }
        if let Chunk::Repeated(value) = *self {
            if zero::is_all(data, value) {
                return;
            }
            *self = Chunk::Bytes(vec![value; MEM_CHUNK as usize].into());
        }
        if let Chunk::Bytes(bytes) = self {
            bytes[within..within + data.len()].copy_from_slice(data);
            if zero::is_all(bytes, bytes[0]) {
                *self = Chunk::Repeated(bytes[0]);
            }
        }
    }

    /// Sets `len` bytes at `within` to zero.
    fn zero(&mut self, within: usize, len: usize) {
        if let Chunk::Repeated(0) = self {
            return;
        }
        self.write(within, &[0u8; MEM_CHUNK as usize][..len]);
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
                Some(data) => data.read(within, &mut buf[out..out + n]),
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
            self.chunks
                .entry(chunk)
                .or_insert(Chunk::Repeated(0))
                .write(within, &data[consumed..consumed + n]);
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

    #[test]
    fn a_damaged_state_is_refused_with_what_is_wrong() {
        let mut s = MemStorage::from_bytes(&[7u8; 5000]);
        s.write_at(1, b"x").unwrap();
        s.preallocate(0, 4096, &mut |_, _| {}).unwrap();
        let good = serde_json::to_value(&s).unwrap();
        assert_eq!(
            serde_json::from_value::<MemStorage>(good.clone()).unwrap(),
            s
        );
        let refused = |change: &dyn Fn(&mut serde_json::Value)| {
            let mut state = good.clone();
            change(&mut state);
            serde_json::from_value::<MemStorage>(state)
                .unwrap_err()
                .to_string()
        };
        let short_chunk = refused(&|v| v["chunks"]["0"]["Bytes"] = serde_json::json!([1, 2, 3]));
        assert!(
            short_chunk.contains("chunk 0 holds 3 bytes, expected 4096"),
            "{short_chunk}"
        );
        let uniform = refused(&|v| v["chunks"]["0"]["Bytes"] = vec![9u8; 4096].into());
        assert!(uniform.contains("4096 copies of byte 9"), "{uniform}");
        let past_end = refused(&|v| v["len"] = 4096.into());
        assert!(
            past_end.contains("chunk 1 lies past the store's end"),
            "{past_end}"
        );
        let stale_tail = refused(&|v| v["len"] = 4100.into());
        assert!(
            stale_tail.contains("past the store's end (4100 bytes) are not zero"),
            "{stale_tail}"
        );
        let overlapping = refused(&|v| v["reserved"]["1"] = 2.into());
        assert!(
            overlapping.contains("range 1..2 overlaps or touches"),
            "{overlapping}"
        );
        let beyond = refused(&|v| v["reserved"]["0"] = 3.into());
        assert!(
            beyond.contains("range 0..3 is empty or ends past"),
            "{beyond}"
        );
    }

    use proptest::prelude::*;

    /// One change to a store: offsets and lengths in quarter chunks over 64 chunks, so that
    /// writes, holes and preallocated ranges overlap and split one another.
    fn change() -> impl Strategy<Value = (u8, u64, u64)> {
        (0u8..4, 0u64..256, 0u64..64).prop_map(|(kind, at, len)| (kind, at * 1024, len * 1024))
    }

    /// Bytes to write: mostly one value repeated (the case kept small), sometimes varied.
    fn content() -> impl Strategy<Value = Vec<u8>> {
        (0u64..40, any::<u8>(), proptest::option::of(any::<u8>())).prop_map(
            |(quarters, value, step)| {
                let len = quarters * 1024 + u64::from(value % 3);
                (0..len)
                    .map(|i| step.map_or(value, |s| value.wrapping_add((i as u8).wrapping_mul(s))))
                    .collect()
            },
        )
    }

    proptest! {
        #[test]
        fn reads_what_a_flat_model_holds_and_keeps_repeated_chunks_small(
            changes in proptest::collection::vec((0u8..3, 0u64..40_000, content()), 0..24)
        ) {
            let mut s = MemStorage::new();
            let mut model: Vec<u8> = Vec::new();
            for (kind, at, data) in changes {
                let end = at as usize + data.len();
                match kind {
                    0 => {
                        s.write_at(at, &data).unwrap();
                        if !data.is_empty() {
                            model.resize(model.len().max(end), 0);
                            model[at as usize..end].copy_from_slice(&data);
                        }
                    }
                    1 => {
                        s.punch_hole(at, data.len() as u64).unwrap();
                        let end = end.min(model.len());
                        if (at as usize) < end {
                            model[at as usize..end].fill(0);
                        }
                    }
                    _ => {
                        s.set_len(at).unwrap();
                        model.resize(at as usize, 0);
                    }
                }
                prop_assert_eq!(s.to_bytes(), model.clone());
                let json = serde_json::to_string(&s).unwrap();
                prop_assert_eq!(serde_json::from_str::<MemStorage>(&json).unwrap(), s.clone());
                for chunk in s.chunks.values() {
                    if let Chunk::Bytes(bytes) = chunk {
                        prop_assert_eq!(bytes.len() as u64, MEM_CHUNK);
                        prop_assert!(!zero::is_all(bytes, bytes[0]), "a repeated byte kept whole");
                    }
                }
            }
        }

        #[test]
        fn host_bytes_counts_every_allocated_chunk_once(changes in proptest::collection::vec(change(), 0..24)) {
            let mut s = MemStorage::new();
            for (kind, at, len) in changes {
                match kind {
                    0 => s.write_at(at, &vec![1u8; len as usize]).unwrap(),
                    1 => s.punch_hole(at, len).unwrap(),
                    2 => s.preallocate(at, len, &mut |_, _| {}).unwrap(),
                    _ => s.set_len(at).unwrap(),
                }
                // The definition, chunk by chunk: written or inside a preallocated range.
                let end = s.len().unwrap().div_ceil(MEM_CHUNK) + 64;
                let counted = (0..end)
                    .filter(|c| s.chunks.contains_key(c) || s.is_reserved(*c))
                    .count() as u64;
                prop_assert_eq!(s.host_bytes().unwrap(), counted * MEM_CHUNK);
                let json = serde_json::to_string(&s).unwrap();
                prop_assert_eq!(serde_json::from_str::<MemStorage>(&json).unwrap(), s.clone());
            }
        }
    }
}
