//! `labvisor disk backup`: a sparse-aware, verified copy of a disk's whole chain into a
//! directory on another device.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use labvisor_core::disk::storage::Storage;
use serde::Serialize;

use super::chain::{chain_snapshots_dir, snapshots_dir, DiskChain, DiskError};
use super::file::FileStorage;

/// What a backup copied.
#[derive(Debug, Serialize)]
pub struct BackupOutcome {
    /// Files written, base first.
    pub files: Vec<PathBuf>,
    /// Bytes of data copied (holes are not copied).
    pub bytes_copied: u64,
    /// Whether source and destination share a device (one failure domain).
    pub same_device: bool,
}

/// Why a backup was refused.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The disk could not be opened or read.
    #[error("{0}")]
    Disk(#[from] DiskError),
    /// Destination on the same device.
    #[error("{dest} is on the same device as {src}: if that disk dies, the backup dies with it (a snapshot is not a backup, and neither is a copy next to the original). Choose a directory on another disk, or pass --allow-same-device for a practice copy")]
    SameDevice {
        /// Source.
        src: String,
        /// Destination directory.
        dest: String,
    },
    /// A destination file exists.
    #[error("{0} already exists; refusing to overwrite it")]
    Exists(String),
    /// Destination inside the image's own snapshot directory.
    #[error("{dest} is inside {src}'s own snapshot chain ({chain}): a copy there would join the chain and make the disk unopenable. Choose a directory outside it, on another disk")]
    InsideChain {
        /// Source.
        src: String,
        /// Destination directory.
        dest: String,
        /// The chain's directory.
        chain: String,
    },
    /// Destination not a directory.
    #[error("{0} is not a directory")]
    NotADirectory(String),
    /// I/O on the copy.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// The copy reads back different from the source.
    #[error("verification failed: {copy} differs from {original} at offset {offset}; the copy was removed")]
    Mismatch {
        /// Source file.
        original: String,
        /// Copy.
        copy: String,
        /// First differing offset.
        offset: u64,
    },
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> BackupError {
    BackupError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Copies the disk at `src` with its snapshots into `dest_dir`, keeping the layout, skipping
/// holes and all-zero pieces, and verifying every byte afterwards.
pub fn backup(
    src: &Path,
    dest_dir: &Path,
    allow_same_device: bool,
) -> Result<BackupOutcome, BackupError> {
    let disk = DiskChain::open(src, None, false)?;
    let dest_meta = fs::metadata(dest_dir).map_err(|e| io_err(dest_dir, e))?;
    if !dest_meta.is_dir() {
        return Err(BackupError::NotADirectory(dest_dir.display().to_string()));
    }
    let chain_dir = fs::canonicalize(chain_snapshots_dir(src)).ok();
    let dest_real = fs::canonicalize(dest_dir).map_err(|e| io_err(dest_dir, e))?;
    if let Some(chain) = chain_dir.filter(|c| dest_real.starts_with(c)) {
        return Err(BackupError::InsideChain {
            src: src.display().to_string(),
            dest: dest_dir.display().to_string(),
            chain: chain.display().to_string(),
        });
    }
    let src_meta = fs::metadata(src).map_err(|e| io_err(src, e))?;
    let same_device = src_meta.dev() == dest_meta.dev();
    if same_device && !allow_same_device {
        return Err(BackupError::SameDevice {
            src: src.display().to_string(),
            dest: dest_dir.display().to_string(),
        });
    }
    let base_name = src.file_name().unwrap_or_default();
    let dest_base = dest_dir.join(base_name);
    let dest_snapshots = snapshots_dir(&dest_base);
    let mut plan = Vec::new();
    for (i, path) in disk.paths().into_iter().enumerate() {
        let target = if i == 0 {
            dest_base.clone()
        } else {
            dest_snapshots.join(path.file_name().unwrap_or_default())
        };
        if target.exists() {
            return Err(BackupError::Exists(target.display().to_string()));
        }
        plan.push((path, target));
    }
    if plan.len() > 1 {
        fs::create_dir_all(&dest_snapshots).map_err(|e| io_err(&dest_snapshots, e))?;
    }
    let mut outcome = BackupOutcome {
        files: Vec::new(),
        bytes_copied: 0,
        same_device,
    };
    for (from, to) in &plan {
        match copy_verified(from, to) {
            Ok(bytes) => {
                outcome.bytes_copied += bytes;
                outcome.files.push(to.clone());
            }
            Err(e) => {
                for written in outcome.files.iter().chain(std::iter::once(to)) {
                    let _ = fs::remove_file(written);
                }
                let _ = fs::remove_dir(&dest_snapshots);
                return Err(e);
            }
        }
    }
    // The copy must open as a valid chain on its own.
    DiskChain::open(&dest_base, None, false)?;
    Ok(outcome)
}

const PIECE: u64 = 1 << 20;

fn copy_verified(from: &Path, to: &Path) -> Result<u64, BackupError> {
    let src = FileStorage::open(from, false).map_err(|e| io_err(from, e))?;
    let mut dst = FileStorage::create_new(to).map_err(|e| io_err(to, e))?;
    let len = src.len().map_err(|e| io_err(from, e))?;
    let mut buf = vec![0u8; PIECE as usize];
    let mut copied = 0;
    let mut offset = 0;
    while offset < len {
        let n = PIECE.min(len - offset) as usize;
        if src
            .is_allocated(offset, n as u64)
            .map_err(|e| io_err(from, e))?
        {
            src.read_at(offset, &mut buf[..n])
                .map_err(|e| io_err(from, e))?;
            if buf[..n].iter().any(|&b| b != 0) {
                dst.write_at(offset, &buf[..n]).map_err(|e| io_err(to, e))?;
                copied += n as u64;
            }
        }
        offset += n as u64;
    }
    dst.set_len(len).map_err(|e| io_err(to, e))?;
    dst.flush().map_err(|e| io_err(to, e))?;
    let mut other = vec![0u8; PIECE as usize];
    let mut offset = 0;
    while offset < len {
        let n = PIECE.min(len - offset) as usize;
        src.read_at(offset, &mut buf[..n])
            .map_err(|e| io_err(from, e))?;
        dst.read_at(offset, &mut other[..n])
            .map_err(|e| io_err(to, e))?;
        if let Some(i) = (0..n).find(|&i| buf[i] != other[i]) {
            return Err(BackupError::Mismatch {
                original: from.display().to_string(),
                copy: to.display().to_string(),
                offset: offset + i as u64,
            });
        }
        offset += n as u64;
    }
    Ok(copied)
}
