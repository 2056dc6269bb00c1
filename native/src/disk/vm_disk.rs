//! A disk chain as a real VM's disk: the VMM's [`BlockBackend`] over the disk engine, so a
//! guest's writes land in the same VDI or raw files `labvisor disk` shows, grow them block by
//! block, and free whole blocks on TRIM.
//!
//! `--disk FILE,snapshot` puts a temporary differencing image on top (in the system's
//! temporary directory), as QEMU's `snapshot=on` does: the guest's writes go there and are
//! gone when the VM ends; the image itself is opened read-only.
//!
//! A write that changes only data (every block of a raw image or a fixed VDI, a block of a
//! dynamic VDI written before) goes from guest memory to the file as it stands, without a
//! copy, as QEMU's `pwritev` does; a write that allocates a block takes the copy
//! [`BlockBackend::write`] gets, since the block map is updated after it.

use std::path::{Path, PathBuf};

use labvisor_core::disk::image::{Extent, ImageError};
use labvisor_core::disk::storage::{Storage, StorageError};
use labvisor_vmm::devices::block::{BlockBackend, BlockError, DiskUsage};
use vm_memory::VolatileSlice;

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

    fn write_from_guest(
        &mut self,
        offset: u64,
        data: &[VolatileSlice<'_>],
    ) -> Result<bool, BlockError> {
        let len = data.iter().map(|piece| piece.len() as u64).sum();
        let runs = match self.chain.chain().write_in_place(offset, len) {
            Ok(Some(runs)) => runs,
            Ok(None) => return Ok(false),
            Err(e) => return Err(self.error(e)),
        };
        let storage = self.chain.chain_mut().newest_mut().storage_mut();
        match write_runs(storage, &runs, data) {
            Ok(()) => Ok(true),
            Err(e) => Err(self.error(e.into())),
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

/// Writes the guest's buffers `data`, in order, over the storage runs `runs` (which cover as
/// many bytes): a buffer may span runs and a run may take several buffers.
fn write_runs(
    storage: &mut FileStorage,
    runs: &[Extent],
    data: &[VolatileSlice<'_>],
) -> Result<(), StorageError> {
    let mut buffers = data.iter();
    let mut rest: Option<VolatileSlice<'_>> = None;
    for run in runs {
        let (mut at, mut left) = (run.host_offset, run.len);
        while left > 0 {
            let buffer = match rest.take() {
                Some(buffer) if !buffer.is_empty() => buffer,
                _ => match buffers.next() {
                    Some(buffer) => *buffer,
                    None => return Err(short_of_data(run)),
                },
            };
            let n = (buffer.len() as u64).min(left);
            let (head, tail) = buffer
                .split_at(n as usize)
                .map_err(|_| short_of_data(run))?;
            storage.write_volatile_at(at, &head)?;
            rest = Some(tail);
            at += n;
            left -= n;
        }
    }
    Ok(())
}

fn short_of_data(run: &Extent) -> StorageError {
    StorageError::new(
        labvisor_core::disk::storage::StorageErrorKind::Io,
        format!(
            "the guest's buffers end before the write of {} bytes at offset {}",
            run.len, run.host_offset
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use labvisor_core::disk::image::{Allocation, CreateSpec, Format, Image};
    use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

    const MIB: u64 = 1 << 20;

    fn create(path: &Path, format: Format, allocation: Allocation) {
        let spec = CreateSpec {
            format,
            allocation,
            virtual_size: 4 * MIB,
            uuid: random_uuid(),
            modification_uuid: random_uuid(),
        };
        let storage = FileStorage::create_new(path).unwrap();
        Image::create(storage, spec, &mut |_, _| {}).unwrap();
    }

    /// Two guest buffers, 1000 and 3096 bytes, apart in guest memory, with their contents.
    fn guest_buffers() -> (GuestMemoryMmap, Vec<(GuestAddress, usize)>, Vec<u8>) {
        let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 1 << 20)]).unwrap();
        let buffers = vec![(GuestAddress(0x1000), 1000), (GuestAddress(0x8000), 3096)];
        let mut expected = Vec::new();
        for (i, &(addr, len)) in buffers.iter().enumerate() {
            let bytes: Vec<u8> = (0..len)
                .map(|j| (j % 199) as u8 + 10 * i as u8 + 1)
                .collect();
            mem.write_slice(&bytes, addr).unwrap();
            expected.extend_from_slice(&bytes);
        }
        (mem, buffers, expected)
    }

    fn slices<'m>(
        mem: &'m GuestMemoryMmap,
        buffers: &[(GuestAddress, usize)],
    ) -> Vec<VolatileSlice<'m>> {
        buffers
            .iter()
            .map(|&(addr, len)| mem.get_slice(addr, len).unwrap())
            .collect()
    }

    fn read(disk: &mut VmDisk, offset: u64, len: usize) -> Vec<u8> {
        let mut back = vec![0u8; len];
        disk.read(offset, &mut back).unwrap();
        back
    }

    #[test]
    fn rewrites_go_straight_from_guest_memory_and_first_writes_take_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vm.vdi");
        create(&path, Format::Vdi, Allocation::Dynamic);
        let (mem, buffers, expected) = guest_buffers();
        // Across the boundary of blocks 0 and 1, the first buffer in block 0 only.
        let offset = MIB - 1024;
        let mut disk = VmDisk::open(&path, Attach::ReadWrite).unwrap();
        let len_before = std::fs::metadata(&path).unwrap().len();
        assert!(
            !disk
                .write_from_guest(offset, &slices(&mem, &buffers))
                .unwrap(),
            "blocks 0 and 1 are not allocated yet"
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len_before);
        assert_eq!(read(&mut disk, offset, 4096), vec![0u8; 4096]);

        // Block 1 first, so the two blocks lie the other way round in the file.
        disk.write(MIB, &[0xee; MIB as usize]).unwrap();
        disk.write(0, &[0xdd; MIB as usize]).unwrap();
        assert!(disk
            .write_from_guest(offset, &slices(&mem, &buffers))
            .unwrap());
        assert_eq!(read(&mut disk, offset, 4096), expected);
        assert_eq!(read(&mut disk, offset - 1, 1), [0xdd]);
        assert_eq!(read(&mut disk, offset + 4096, 1), [0xee]);
        assert_eq!(disk.usage().unwrap().blocks_used, 2);
        drop(disk);

        let mut reopened = VmDisk::open(&path, Attach::ReadOnly).unwrap();
        assert_eq!(read(&mut reopened, offset, 4096), expected);
    }

    #[test]
    fn a_raw_image_is_written_in_place_from_the_first_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vm.raw");
        create(&path, Format::Raw, Allocation::Dynamic);
        let (mem, buffers, expected) = guest_buffers();
        let mut disk = VmDisk::open(&path, Attach::ReadWrite).unwrap();
        assert!(disk
            .write_from_guest(4096, &slices(&mem, &buffers))
            .unwrap());
        drop(disk);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[4096..8192], &expected[..]);
        assert!(bytes[..4096].iter().all(|&b| b == 0));
        assert_eq!(bytes.len() as u64, 4 * MIB);
    }

    #[test]
    fn in_snapshot_mode_the_base_image_is_never_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vm.vdi");
        create(&path, Format::Vdi, Allocation::Fixed);
        let (mem, buffers, expected) = guest_buffers();
        let mut disk = VmDisk::open(&path, Attach::Snapshot).unwrap();
        assert!(
            !disk.write_from_guest(0, &slices(&mem, &buffers)).unwrap(),
            "block 0 is the base's: the write copies it up first"
        );
        disk.write(0, &[7u8; 512]).unwrap();
        assert!(disk.write_from_guest(0, &slices(&mem, &buffers)).unwrap());
        assert_eq!(read(&mut disk, 0, 4096), expected);
        drop(disk);
        let mut base = VmDisk::open(&path, Attach::ReadOnly).unwrap();
        assert_eq!(read(&mut base, 0, 4096), vec![0u8; 4096]);
    }
}
