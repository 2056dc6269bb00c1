//! A disk as the CLI sees it: a base image file and its snapshot files, opened as one
//! [`Chain`].

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use labvisor_core::disk::image::{Format, Image, ImageError};
use labvisor_core::disk::snapshot::{check_name, Chain, MergeReport, SnapshotError};
use labvisor_core::disk::vdi::{HEADER_LEN, SIGNATURE};

use super::file::FileStorage;
use super::random_uuid;

/// Why a disk could not be opened or changed.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// A file could not be opened, created or removed; an image another process holds
    /// ([`super::file::in_use`]) reads "X is in use by …".
    #[error("{}{}{}", path.display(), if source.kind() == io::ErrorKind::WouldBlock { " " } else { ": " }, crate::files::os_reason(source))]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The image refused the operation or is corrupt.
    #[error("{}: {source}", path.display())]
    Image {
        /// The image file.
        path: PathBuf,
        /// Why.
        source: ImageError,
    },
    /// The snapshot chain is inconsistent or the operation needs a snapshot.
    #[error("{}: {source}", path.display())]
    Snapshot {
        /// The base image.
        path: PathBuf,
        /// Why.
        source: SnapshotError,
    },
    /// `--format raw` on a file that carries a VDI signature: writing would destroy its header.
    #[error("{} carries a VDI header (signature 0xBEDA107F at offset 0x40), but --format raw was given: as raw, the guest's writes would overwrite that header and lose the image. Drop --format to open it as VDI, or add --force-format if it really is a raw disk whose bytes happen to look like a VDI", path.display())]
    FormatContradicted {
        /// The image file.
        path: PathBuf,
    },
    /// The snapshot directory holds images that do not form one chain.
    #[error("{}: {message}", path.display())]
    Chain {
        /// The snapshot directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl DiskError {
    /// Whether the user asked for something impossible (exit 2) rather than the disk failing.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            DiskError::Image {
                source: ImageError::OutOfRange { .. },
                ..
            } | DiskError::FormatContradicted { .. }
                | DiskError::Snapshot {
                    source: SnapshotError::NameTooLong { .. },
                    ..
                }
        )
    }

    fn io(path: &Path, source: io::Error) -> DiskError {
        DiskError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    fn image(path: &Path, source: ImageError) -> DiskError {
        DiskError::Image {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Whether the file at `path` starts with a VDI header's signature (`0xBEDA107F` at 0x40).
pub fn has_vdi_signature(path: &Path) -> Result<bool, DiskError> {
    let storage = FileStorage::open(path, false).map_err(|e| DiskError::io(path, e))?;
    let len = labvisor_core::disk::storage::Storage::len(&storage)
        .map_err(|e| DiskError::image(path, e.into()))?;
    if len < 0x44 {
        return Ok(false);
    }
    let mut signature = [0u8; 4];
    labvisor_core::disk::storage::Storage::read_at(&storage, 0x40, &mut signature)
        .map_err(|e| DiskError::image(path, e.into()))?;
    Ok(signature == SIGNATURE.to_le_bytes())
}

/// Guesses the format of an existing file: VDI if it carries the signature or the VDI text
/// or a `.vdi` name (so a damaged VDI is reported as such, not read as raw), raw otherwise.
pub fn probe_format(path: &Path) -> Result<Format, DiskError> {
    let storage = FileStorage::open(path, false).map_err(|e| DiskError::io(path, e))?;
    let mut head = [0u8; HEADER_LEN];
    let len = labvisor_core::disk::storage::Storage::len(&storage)
        .map_err(|e| DiskError::image(path, e.into()))?;
    let n = (len as usize).min(HEADER_LEN);
    labvisor_core::disk::storage::Storage::read_at(&storage, 0, &mut head[..n])
        .map_err(|e| DiskError::image(path, e.into()))?;
    let signed = n >= 0x44 && head[0x40..0x44] == SIGNATURE.to_le_bytes();
    let texted = head.starts_with(b"<<< ") && head[..64].windows(10).any(|w| w == b"Disk Image");
    let named = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("vdi"));
    Ok(if signed || texted || named {
        Format::Vdi
    } else {
        Format::Raw
    })
}

/// Where the snapshots of `base` live: `<base>.snapshots/` beside the real file, so a disk
/// opened through a symbolic link keeps one chain (a chain beside the link would leave writes
/// through the real path changing the frozen base).
pub fn chain_snapshots_dir(base: &Path) -> PathBuf {
    let is_link = fs::symlink_metadata(base).is_ok_and(|m| m.file_type().is_symlink());
    match is_link.then(|| fs::canonicalize(base)) {
        Some(Ok(real)) => snapshots_dir(&real),
        _ => snapshots_dir(base),
    }
}

/// `<base>.snapshots/`, for `base` as written (see [`chain_snapshots_dir`] for an image's own).
pub fn snapshots_dir(base: &Path) -> PathBuf {
    let mut name = base.file_name().unwrap_or_default().to_os_string();
    name.push(".snapshots");
    base.with_file_name(name)
}

/// A base image and its snapshots, with their files.
#[derive(Debug)]
pub struct DiskChain {
    base: PathBuf,
    chain: Chain<FileStorage>,
}

impl DiskChain {
    /// Opens the disk at `base` (format probed unless given) with its snapshots. Every image
    /// is checked before anything is written; `writable` false opens the files read-only.
    pub fn open(
        base: &Path,
        format: Option<Format>,
        writable: bool,
    ) -> Result<DiskChain, DiskError> {
        let format = match format {
            Some(f) => f,
            None => probe_format(base)?,
        };
        let open_image = |path: &Path, format| -> Result<Image<FileStorage>, DiskError> {
            let storage = FileStorage::open(path, writable).map_err(|e| DiskError::io(path, e))?;
            Image::open(storage, format).map_err(|e| DiskError::image(path, e))
        };
        let mut images = vec![open_image(base, format)?];
        let dir = chain_snapshots_dir(base);
        if dir.is_dir() {
            let mut children = Vec::new();
            for entry in fs::read_dir(&dir).map_err(|e| DiskError::io(&dir, e))? {
                let path = entry.map_err(|e| DiskError::io(&dir, e))?.path();
                if path.extension().is_some_and(|e| e == "vdi") {
                    children.push(open_image(&path, Format::Vdi)?);
                }
            }
            loop {
                let current = images[images.len() - 1].header().map(|h| h.uuid_image);
                let (next, rest): (Vec<_>, Vec<_>) = children
                    .into_iter()
                    .partition(|c| c.header().map(|h| h.uuid_parent) == current);
                children = rest;
                match next.len() {
                    0 => break,
                    1 => images.extend(next),
                    _ => {
                        let names: Vec<String> = next
                            .iter()
                            .map(|i| i.storage().path().display().to_string())
                            .collect();
                        return Err(DiskError::Chain {
                            path: dir,
                            message: format!(
                                "snapshot trees with branches are not supported: {} share one parent",
                                names.join(" and ")
                            ),
                        });
                    }
                }
            }
            if !children.is_empty() {
                let names: Vec<String> = children
                    .iter()
                    .map(|i| i.storage().path().display().to_string())
                    .collect();
                return Err(DiskError::Chain {
                    path: dir,
                    message: format!(
                        "{} do(es) not belong to the chain of {} (parent UUID matches no image)",
                        names.join(", "),
                        base.display()
                    ),
                });
            }
        }
        let chain = Chain::from_images(images).map_err(|source| DiskError::Snapshot {
            path: base.to_path_buf(),
            source,
        })?;
        Ok(DiskChain {
            base: base.to_path_buf(),
            chain,
        })
    }

    /// The base image's path.
    pub fn base_path(&self) -> &Path {
        &self.base
    }

    /// The chain.
    pub fn chain(&self) -> &Chain<FileStorage> {
        &self.chain
    }

    /// The chain, mutably.
    pub fn chain_mut(&mut self) -> &mut Chain<FileStorage> {
        &mut self.chain
    }

    /// Files of the chain, base first.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.chain
            .images()
            .iter()
            .map(|i| i.storage().path().to_path_buf())
            .collect()
    }

    fn newest_path(&self) -> PathBuf {
        self.chain.newest().storage().path().to_path_buf()
    }

    /// Maps an image error to the newest image's file.
    pub fn newest_error(&self, source: ImageError) -> DiskError {
        DiskError::image(&self.newest_path(), source)
    }

    /// Takes a snapshot named `name`: a new differencing image in the snapshots directory.
    pub fn take_snapshot(&mut self, name: &str) -> Result<PathBuf, DiskError> {
        let snapshot_error = |source| DiskError::Snapshot {
            path: self.base.clone(),
            source,
        };
        check_name(name).map_err(snapshot_error)?;
        let dir = chain_snapshots_dir(&self.base);
        let created_dir = !dir.is_dir();
        fs::create_dir_all(&dir).map_err(|e| DiskError::io(&dir, e))?;
        // A failure leaves the disk as it was: no snapshot file, no new empty directory.
        let undo = |path: Option<&Path>| {
            if let Some(path) = path {
                let _ = fs::remove_file(path);
            }
            if created_dir {
                let _ = fs::remove_dir(&dir);
            }
        };
        let uuid = random_uuid();
        let path = dir.join(format!("{{{uuid}}}.vdi"));
        let storage = FileStorage::create_new(&path).map_err(|e| {
            undo(None);
            DiskError::io(&path, e)
        })?;
        if let Err(source) = self.chain.take(storage, uuid, random_uuid(), name) {
            undo(Some(&path));
            return Err(DiskError::Snapshot {
                path: self.base.clone(),
                source,
            });
        }
        Ok(path)
    }

    /// Throws away the changes since the newest snapshot.
    pub fn revert(&mut self) -> Result<u32, DiskError> {
        self.chain.revert().map_err(|source| DiskError::Snapshot {
            path: self.newest_path(),
            source,
        })
    }

    /// Deletes the newest snapshot by merging its image into the parent, then removes its file
    /// (last, so an interruption leaves a consistent chain).
    pub fn merge(&mut self) -> Result<(PathBuf, MergeReport), DiskError> {
        let (storage, report) = self.chain.merge().map_err(|source| DiskError::Snapshot {
            path: self.base.clone(),
            source,
        })?;
        let path = storage.path().to_path_buf();
        drop(storage);
        if let Some(parent) = self.chain.images_mut().last_mut() {
            labvisor_core::disk::storage::Storage::flush(parent.storage_mut())
                .map_err(|e| DiskError::image(&self.base, e.into()))?;
        }
        fs::remove_file(&path).map_err(|e| DiskError::io(&path, e))?;
        let dir = chain_snapshots_dir(&self.base);
        if self.chain.snapshots() == 0 {
            // Only succeeds if empty: anything else in it is left alone.
            let _ = fs::remove_dir(&dir);
        }
        Ok((path, report))
    }
}
