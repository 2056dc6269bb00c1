//! [`FileStorage`]: the core's [`Storage`] on a real file.
//!
//! Positional reads and writes (`pread`/`pwrite`), sparse growth by `set_len`, space reserved
//! with `fallocate` (falling back to writing zeros where the file system cannot), holes punched
//! with `FALLOC_FL_PUNCH_HOLE`, and allocation queried with `SEEK_DATA`. Host bytes are the
//! file's allocated blocks (`st_blocks × 512`), what `du` shows.
//!
//! Every image is locked while it is open, with `flock` as VirtualBox and QEMU lock theirs: a
//! file opened for writing (or created) holds an exclusive lock, a file opened read-only a
//! shared one, both taken without waiting. So two writers never interleave their block
//! allocations, a reader never sees a half-done change, and whoever comes second is refused
//! at once with [`in_use`]'s error instead of waiting.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use labvisor_core::disk::storage::{Storage, StorageError, StorageErrorKind};
use rustix::fs::{FallocateFlags, FlockOperation, SeekFrom};
use vm_memory::{VolatileMemoryError, VolatileSlice, WriteVolatile};

/// A file holding an image.
#[derive(Debug)]
pub struct FileStorage {
    file: File,
    path: PathBuf,
}

/// Preallocation proceeds in pieces this large so progress can be shown.
const PREALLOCATE_PIECE: u64 = 256 << 20;

impl FileStorage {
    /// Creates a new, empty file; fails if `path` exists (nothing is ever overwritten).
    pub fn create_new(path: &Path) -> io::Result<FileStorage> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        lock(&file, true)?;
        Ok(FileStorage {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing regular file, read-only unless `writable`; a FIFO, device or
    /// directory is refused at once (never waited on).
    pub fn open(path: &Path, writable: bool) -> io::Result<FileStorage> {
        let file = crate::files::open_regular(path, OpenOptions::new().read(true).write(writable))?;
        lock(&file, writable)?;
        Ok(FileStorage {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a VM's memory at `offset` as it stands, without copying it out first. vm-memory's
    /// safe volatile I/O has no positional form, so this seeks and writes; every other access
    /// to the file is positional, so its position matters to nothing else.
    pub fn write_volatile_at(
        &mut self,
        offset: u64,
        data: &VolatileSlice<'_>,
    ) -> Result<(), StorageError> {
        let what = format!("write of {} bytes", data.len());
        let mut file = &self.file;
        file.seek(io::SeekFrom::Start(offset))
            .map_err(|e| self.error(&what, offset, e))?;
        file.write_all_volatile(data).map_err(|e| {
            let e = match e {
                VolatileMemoryError::IOError(e) => e,
                other => io::Error::other(other.to_string()),
            };
            self.error(&what, offset, e)
        })
    }

    fn error(&self, what: &str, offset: u64, err: io::Error) -> StorageError {
        let kind = match err.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => StorageErrorKind::NoSpace,
            io::ErrorKind::UnexpectedEof => StorageErrorKind::UnexpectedEof,
            io::ErrorKind::Unsupported => StorageErrorKind::Unsupported,
            _ => StorageErrorKind::Io,
        };
        StorageError::new(
            kind,
            // The caller names the file (every error path adds it): saying it here too would
            // print it twice.
            format!(
                "{what} at offset {offset}: {}",
                crate::files::os_reason(&err)
            ),
        )
    }
}

/// Takes the lock of an open image: exclusive for a writer, shared for a reader, never
/// waiting. A file system that has no locks at all is used unlocked.
fn lock(file: &File, exclusive: bool) -> io::Result<()> {
    let operation = if exclusive {
        FlockOperation::NonBlockingLockExclusive
    } else {
        FlockOperation::NonBlockingLockShared
    };
    match rustix::fs::flock(file, operation) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(in_use()),
        Err(e) if is_unsupported(&e) || e == rustix::io::Errno::NOLCK => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The error for an image another process holds: kind [`io::ErrorKind::WouldBlock`].
pub fn in_use() -> io::Error {
    io::Error::new(
        io::ErrorKind::WouldBlock,
        "is in use by another labvisor process (it holds the image's lock): wait until it ends, then try again",
    )
}

fn is_unsupported(err: &rustix::io::Errno) -> bool {
    *err == rustix::io::Errno::OPNOTSUPP || *err == rustix::io::Errno::NOSYS
}

impl Storage for FileStorage {
    fn len(&self) -> Result<u64, StorageError> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| self.error("stat", 0, e))
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| self.error(&format!("read of {} bytes", buf.len()), offset, e))
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), StorageError> {
        self.file
            .write_all_at(data, offset)
            .map_err(|e| self.error(&format!("write of {} bytes", data.len()), offset, e))
    }

    fn set_len(&mut self, len: u64) -> Result<(), StorageError> {
        self.file
            .set_len(len)
            .map_err(|e| self.error("truncate", len, e))
    }

    fn host_bytes(&self) -> Result<u64, StorageError> {
        self.file
            .metadata()
            .map(|m| m.blocks() * 512)
            .map_err(|e| self.error("stat", 0, e))
    }

    fn preallocate(
        &mut self,
        offset: u64,
        len: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), StorageError> {
        let mut done = 0;
        while done < len {
            let n = PREALLOCATE_PIECE.min(len - done);
            match rustix::fs::fallocate(&self.file, FallocateFlags::empty(), offset + done, n) {
                Ok(()) => {}
                Err(e) if is_unsupported(&e) && done == 0 => {
                    // This file system cannot reserve space: write the zeros instead.
                    return write_zeros(self, offset, len, progress);
                }
                Err(e) => return Err(self.error("preallocation", offset + done, e.into())),
            }
            done += n;
            progress(done, len);
        }
        Ok(())
    }

    fn punch_hole(&mut self, offset: u64, len: u64) -> Result<(), StorageError> {
        let flags = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
        match rustix::fs::fallocate(&self.file, flags, offset, len) {
            Ok(()) => Ok(()),
            Err(e) if is_unsupported(&e) => {
                let zeros = vec![0u8; len.min(1 << 20) as usize];
                let mut done = 0;
                while done < len {
                    let n = (len - done).min(zeros.len() as u64);
                    self.write_at(offset + done, &zeros[..n as usize])?;
                    done += n;
                }
                Ok(())
            }
            Err(e) => Err(self.error("hole punching", offset, e.into())),
        }
    }

    fn is_allocated(&self, offset: u64, len: u64) -> Result<bool, StorageError> {
        match rustix::fs::seek(&self.file, SeekFrom::Data(offset)) {
            Ok(data) => Ok(data < offset.saturating_add(len)),
            // No data at or after `offset`.
            Err(e) if e == rustix::io::Errno::NXIO => Ok(false),
            Err(e) if e == rustix::io::Errno::INVAL => Ok(true),
            Err(e) => Err(self.error("SEEK_DATA", offset, e.into())),
        }
    }

    fn next_data(&self, offset: u64) -> Result<Option<u64>, StorageError> {
        match rustix::fs::seek(&self.file, SeekFrom::Data(offset)) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e == rustix::io::Errno::NXIO => Ok(None),
            // No SEEK_DATA here: every byte may be data.
            Err(e) if e == rustix::io::Errno::INVAL => Ok((offset < self.len()?).then_some(offset)),
            Err(e) => Err(self.error("SEEK_DATA", offset, e.into())),
        }
    }

    fn flush(&mut self) -> Result<(), StorageError> {
        self.file.sync_data().map_err(|e| self.error("sync", 0, e))
    }
}

fn write_zeros(
    storage: &mut FileStorage,
    offset: u64,
    len: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), StorageError> {
    let zeros = vec![0u8; 1 << 20];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(zeros.len() as u64);
        storage.write_at(offset + done, &zeros[..n as usize])?;
        done += n;
        progress(done, len);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_growth_preallocation_and_holes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.raw");
        let mut s = FileStorage::create_new(&path).unwrap();
        assert!(FileStorage::create_new(&path).is_err(), "never overwrites");
        s.set_len(64 << 20).unwrap();
        assert_eq!(s.len().unwrap(), 64 << 20);
        assert!(
            s.host_bytes().unwrap() < 1 << 20,
            "a sparse file spends nothing yet"
        );
        assert!(!s.is_allocated(0, 64 << 20).unwrap());
        s.write_at(8 << 20, &[7u8; 4096]).unwrap();
        assert!(s.is_allocated(8 << 20, 4096).unwrap());
        assert!(!s.is_allocated(0, 4 << 20).unwrap());
        let mut calls = 0;
        s.preallocate(16 << 20, 16 << 20, &mut |_, _| calls += 1)
            .unwrap();
        assert!(calls >= 1);
        assert!(s.host_bytes().unwrap() >= 16 << 20);
        s.punch_hole(16 << 20, 16 << 20).unwrap();
        assert!(s.host_bytes().unwrap() < 1 << 20);
        let mut b = [0u8; 2];
        s.read_at((8 << 20) + 4095, &mut b).unwrap();
        assert_eq!(b, [7, 0]);
        let err = s.read_at(64 << 20, &mut b).unwrap_err();
        assert_eq!(err.kind, StorageErrorKind::UnexpectedEof);
        assert_eq!(
            err.message,
            format!(
                "read of 2 bytes at offset {}: failed to fill whole buffer",
                64 << 20
            )
        );
    }
}
