//! A disk chain as a real VM's disk: the VMM's [`BlockBackend`] over the disk engine, so a
//! guest's writes land in the same VDI or raw files `labvisor disk` shows, grow them block by
//! block, and free whole blocks on TRIM.
//!
//! `--disk FILE,snapshot` puts a temporary differencing image on top (in the system's
//! temporary directory), as QEMU's `snapshot=on` does: the guest's writes go there and are
//! gone when the VM ends; the image itself is opened read-only.

use std::path::{Path, PathBuf};

use labvisor_core::disk::image::ImageError;
use labvisor_core::disk::storage::Storage;
use labvisor_vmm::devices::block::{BlockBackend, BlockError, DiskUsage};

use super::{random_uuid, DiskChain, DiskError, FileStorage};

/// How `--disk` attaches an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Attach {
    /// Reads and writes reach the image.
    #[default]
    ReadWrite,
    /// The guest sees a read-only disk.
    ReadOnly,
    /// Writes go to a temporary differencing image, thrown away at the end.
    Snapshot,
}

/// `FILE`, `FILE,readonly` or `FILE,snapshot`.
pub fn parse_disk_arg(arg: &str) -> Result<(PathBuf, Attach), String> {
    let (path, option) = match arg.rsplit_once(',') {
        Some((path, option)) => (path, Some(option)),
        None => (arg, None),
    };
    let attach = match option {
        None => Attach::ReadWrite,
        Some("readonly" | "ro") => Attach::ReadOnly,
        Some("snapshot") => Attach::Snapshot,
        Some(other) => {
            return Err(format!(
            "`{other}` in --disk {arg} is not an option: use FILE, FILE,readonly or FILE,snapshot"
        ))
        }
    };
    if path.is_empty() {
        return Err(format!("--disk {arg} names no file"));
    }
    Ok((PathBuf::from(path), attach))
}

/// An image chain attached to a VM.
#[derive(Debug)]
pub struct VmDisk {
    chain: DiskChain,
    read_only: bool,
    id: String,
    /// Where the temporary differencing image of `snapshot` mode was made (already unlinked:
    /// it lives as long as its open file).
    scratch: Option<PathBuf>,
}

impl VmDisk {
    /// Opens `path` (and its snapshots) for a VM. Every image's header and block map are
    /// checked before the VM starts.
    pub fn open(path: &Path, attach: Attach) -> Result<VmDisk, DiskError> {
        let writable = attach == Attach::ReadWrite;
        let mut chain = DiskChain::open(path, None, writable)?;
        let mut scratch = None;
        if attach == Attach::Snapshot {
            let uuid = random_uuid();
            let file = std::env::temp_dir().join(format!(
                "labvisor-snapshot-{}-{uuid}.vdi",
                std::process::id()
            ));
            let storage = FileStorage::create_new(&file).map_err(|source| DiskError::Io {
                path: file.clone(),
                source,
            })?;
            if let Err(source) =
                chain
                    .chain_mut()
                    .take(storage, uuid, random_uuid(), "vm run --disk snapshot")
            {
                let _ = std::fs::remove_file(&file);
                return Err(DiskError::Snapshot {
                    path: path.to_path_buf(),
                    source,
                });
            }
            // Unlinked at once: the open file lives on until the VM's process ends, however
            // it ends (even by kill -9), and nothing is ever left behind in $TMPDIR. Before,
            // removal waited for the disk to be dropped, which a vCPU thread the process does
            // not join could still hold at exit.
            let _ = std::fs::remove_file(&file);
            scratch = Some(file);
        }
        let id = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(VmDisk {
            chain,
            read_only: attach == Attach::ReadOnly,
            id,
            scratch,
        })
    }

    fn error(&self, e: ImageError) -> BlockError {
        if e.is_no_space() {
            BlockError::NoSpace(self.chain.newest_error(e).to_string())
        } else {
            BlockError::Io(self.chain.newest_error(e).to_string())
        }
    }
}

impl BlockBackend for VmDisk {
    fn capacity(&self) -> u64 {
        self.chain.chain().virtual_size()
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn id(&self) -> String {
        self.id.clone()
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.chain
            .chain()
            .read(offset, buf)
            .map_err(|e| self.error(e))
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), BlockError> {
        match self.chain.chain_mut().write(offset, data) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        let newest = self.chain.chain_mut().newest_mut();
        match newest.storage_mut().flush() {
            Ok(()) => Ok(()),
            Err(e) => Err(self.error(e.into())),
        }
    }

    fn discard(&mut self, offset: u64, len: u64) -> Result<(), BlockError> {
        match self.chain.chain_mut().newest_mut().discard(offset, len) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }

    fn snapshot(&mut self) -> Result<String, BlockError> {
        if self.scratch.is_some() {
            return Err(BlockError::Io(
                "this disk runs with ,snapshot: its writes are thrown away at the end anyway"
                    .into(),
            ));
        }
        if self.read_only {
            return Err(BlockError::Io(
                "this disk is read-only: nothing changes to keep apart".into(),
            ));
        }
        let name = format!("live snapshot {}", self.chain.chain().snapshots() + 1);
        self.chain
            .take_snapshot(&name)
            .map(|path| path.display().to_string())
            .map_err(|e| BlockError::Io(e.to_string()))
    }

    fn usage(&self) -> Option<DiskUsage> {
        let images = self.chain.chain().images();
        let newest = self.chain.chain().newest().info().ok()?;
        let mut usage = DiskUsage {
            virtual_bytes: newest.virtual_size,
            blocks_used: newest.blocks_used,
            blocks_total: newest.blocks_total,
            ..DiskUsage::default()
        };
        for image in images {
            let info = image.info().ok()?;
            usage.file_bytes += info.file_len;
            usage.host_bytes += info.host_bytes;
        }
        Some(usage)
    }

    fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BlockError> {
        match self.chain.chain_mut().newest_mut().zero_fill(offset, len) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }
}
