//! The disk image a guest sees: a format over a [`Storage`], and the guest's operations on it
//! (write, read, zero-fill, discard, "delete a file") plus the host's compaction.
//!
//! What the learner watches: a dynamically allocated VDI grows one 1 MiB block at a time as
//! the guest writes; deleting a file in the guest changes nothing on the host; compaction
//! frees only blocks that are entirely zero, so it frees nothing until the guest zeroes its
//! free space first.
//!
//! Crash-safety order when a dynamic VDI allocates a block: the data block is written first
//! (past the old end of the file), then the header's `blocks_allocated` and the block-map
//! entry, in one write where they share a page (`commit_allocation`). An interrupted
//! allocation therefore leaves at worst a leaked block that nothing references, never an entry
//! pointing at unwritten data or two entries sharing a block.

use serde::{Deserialize, Serialize};

use super::raw;
use super::size::ByteSize;
use super::storage::{Storage, StorageError, StorageErrorKind};
use super::vdi::{
    self, encode_block_map, ImageType, Uuid, VdiError, VdiHeader, BLOCKS_ALLOCATED_OFFSET,
    BLOCK_FREE, BLOCK_SIZE, BLOCK_ZERO,
};

mod reclaim;
mod report;
mod write;

pub use report::block_picture;
pub use write::Extent;

/// On-disk format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// VirtualBox's VDI 1.1.
    Vdi,
    /// Raw bytes.
    Raw,
}

/// How host space is given to the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Allocation {
    /// Grows as the guest writes (VirtualBox: "dynamically allocated"; raw: sparse file).
    Dynamic,
    /// All space taken at creation (VirtualBox: "fixed size"; raw: preallocated).
    Fixed,
}

/// Format and allocation together, as the learner names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageKind {
    /// A dynamically allocated VDI.
    VdiDynamic,
    /// A fixed-size VDI.
    VdiFixed,
    /// A snapshot's differencing VDI.
    VdiDifferencing,
    /// A sparse raw file.
    RawSparse,
    /// A preallocated raw file.
    RawPreallocated,
}

impl ImageKind {
    /// Short human name.
    pub fn describe(self) -> &'static str {
        match self {
            ImageKind::VdiDynamic => "VDI, dynamically allocated",
            ImageKind::VdiFixed => "VDI, fixed size",
            ImageKind::VdiDifferencing => "VDI, differencing (snapshot)",
            ImageKind::RawSparse => "raw, sparse",
            ImageKind::RawPreallocated => "raw, preallocated",
        }
    }
}

/// What to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSpec {
    /// VDI or raw.
    pub format: Format,
    /// Dynamic or fixed.
    pub allocation: Allocation,
    /// Size the guest sees, a multiple of 512.
    pub virtual_size: u64,
    /// Identity of a new VDI (ignored for raw).
    pub uuid: Uuid,
    /// The VDI "last modification" UUID (ignored for raw).
    pub modification_uuid: Uuid,
}

/// Where a guest block's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockLookup {
    /// In this image, at this byte offset of the storage.
    Data {
        /// Storage offset of the block's first byte.
        host_offset: u64,
    },
    /// Reads as zeros, no data stored (discarded or compacted).
    Zero,
    /// Never written here (in a differencing image: ask the parent).
    Unallocated,
}

/// The state of one block, for pictures and counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockState {
    /// Host space holds data for it.
    Data,
    /// Marked zero without data.
    Zero,
    /// Never written.
    Free,
}

/// Why an image operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum ImageError {
    /// The VDI structures are invalid; the image was not touched.
    #[error("{0}")]
    Vdi(#[from] VdiError),
    /// The storage failed (a full host is [`StorageErrorKind::NoSpace`]).
    #[error("{0}")]
    Storage(#[from] StorageError),
    /// A guest request outside the disk.
    #[error("{what} of {len} bytes at offset {offset} goes past the end of the {size} disk")]
    OutOfRange {
        /// The operation.
        what: &'static str,
        /// Start.
        offset: u64,
        /// Length.
        len: u64,
        /// Virtual size.
        size: ByteSize,
    },
    /// A size that cannot be created.
    #[error("cannot create a {size}-byte image: {reason}")]
    BadSize {
        /// Requested size.
        size: u64,
        /// Why not.
        reason: String,
    },
    /// Creation was asked on storage that already holds data.
    #[error("refusing to create an image over {len} bytes of existing data")]
    NotEmpty {
        /// Existing length.
        len: u64,
    },
    /// The operation does not apply to this kind of image.
    #[error("{operation} is not possible on a {} image: {reason}", kind.describe())]
    Unsupported {
        /// What was asked.
        operation: &'static str,
        /// The image kind.
        kind: ImageKind,
        /// Why not.
        reason: &'static str,
    },
}

impl ImageError {
    /// Whether the host ran out of space (VirtualBox would suspend the VM).
    pub fn is_no_space(&self) -> bool {
        matches!(self, ImageError::Storage(e) if e.kind == StorageErrorKind::NoSpace)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Layout {
    Raw {
        size: u64,
        allocation: Allocation,
    },
    Vdi {
        header: Box<VdiHeader>,
        bmap: Vec<u32>,
        /// The data-block index the next allocation takes: past every referenced block, so an
        /// image whose count lags (interrupted write) can still never double-allocate.
        next_slot: u32,
    },
}

/// Result of a guest write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteReport {
    /// Bytes written.
    pub bytes: u64,
    /// Blocks newly allocated in the image (each grows a dynamic VDI by 1 MiB).
    pub new_blocks: u32,
}

/// Result of a discard (TRIM).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscardReport {
    /// Whole blocks released.
    pub blocks_released: u32,
    /// Host bytes before and after.
    pub host_bytes_before: u64,
    /// Host bytes after.
    pub host_bytes_after: u64,
}

/// Result of deleting a file in the guest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteReport {
    /// Bytes the guest file system now counts as free.
    pub guest_bytes_freed: u64,
    /// Host bytes still spent on the deleted range: the file's data is still in the image.
    pub host_bytes_still_used: u64,
    /// Host bytes of the image (unchanged by the delete).
    pub host_bytes: u64,
}

/// Result of a compaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactReport {
    /// Blocks dropped because they were all zeros.
    pub zero_blocks_dropped: u32,
    /// Data blocks moved to fill holes.
    pub blocks_moved: u32,
    /// Host bytes before.
    pub host_bytes_before: u64,
    /// Host bytes after.
    pub host_bytes_after: u64,
}

/// What `disk info` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// VDI or raw.
    pub format: Format,
    /// Format and allocation.
    pub kind: ImageKind,
    /// Size the guest sees.
    pub virtual_size: u64,
    /// Length of the file.
    pub file_len: u64,
    /// Bytes the host really spends.
    pub host_bytes: u64,
    /// Block size used for counts and pictures.
    pub block_size: u64,
    /// Blocks the disk spans.
    pub blocks_total: u64,
    /// Blocks with data.
    pub blocks_used: u64,
    /// Blocks marked zero without data (VDI).
    pub blocks_zero: u64,
    /// The VDI's UUID.
    pub uuid: Option<String>,
    /// The parent's UUID (differencing images).
    pub parent_uuid: Option<String>,
    /// The VDI's description (snapshot name).
    pub description: Option<String>,
}

fn block_len() -> u64 {
    u64::from(BLOCK_SIZE)
}

/// The largest image [`Image::create`] makes: 16 TiB. A VDI of that size has a 64 MiB
/// block map, held in memory while the image is open.
pub const MAX_CREATE_SIZE: u64 = 16 << 40;

/// A disk image over storage `S`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image<S> {
    storage: S,
    layout: Layout,
}

impl<S: Storage> Image<S> {
    /// Creates a new image in empty `storage`. For fixed images this preallocates the whole
    /// size, calling `progress(done, total)` as it goes. The header is written last, so an
    /// interrupted creation never leaves something that looks like a valid image.
    pub fn create(
        mut storage: S,
        spec: CreateSpec,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Image<S>, ImageError> {
        let len = storage.len()?;
        if len != 0 {
            return Err(ImageError::NotEmpty { len });
        }
        let size = spec.virtual_size;
        let bad = |reason: &str| ImageError::BadSize {
            size,
            reason: reason.to_string(),
        };
        if size == 0 {
            return Err(bad("a disk needs at least one sector (512 bytes)"));
        }
        if size % 512 != 0 {
            return Err(bad("the size must be a whole number of 512-byte sectors"));
        }
        if size > MAX_CREATE_SIZE {
            return Err(bad(
                "Labvisor creates images up to 16 TiB (a VDI's block map, 4 bytes per 1 MiB block, is held in memory; 16 TiB is also ext4's largest file)",
            ));
        }
        match spec.format {
            Format::Raw => {
                match spec.allocation {
                    Allocation::Dynamic => storage.set_len(size)?,
                    Allocation::Fixed => storage.preallocate(0, size, progress)?,
                }
                Ok(Image {
                    storage,
                    layout: Layout::Raw {
                        size,
                        allocation: spec.allocation,
                    },
                })
            }
            Format::Vdi => {
                if size.div_ceil(block_len()) > u64::from(vdi::MAX_BLOCKS) {
                    return Err(bad("VDI images hold at most 0x3FFFFFFF blocks of 1 MiB"));
                }
                let kind = match spec.allocation {
                    Allocation::Dynamic => ImageType::Dynamic,
                    Allocation::Fixed => ImageType::Fixed,
                };
                let header = VdiHeader::new(kind, size, spec.uuid, spec.modification_uuid);
                let bmap: Vec<u32> = match kind {
                    ImageType::Fixed => (0..header.blocks_in_image).collect(),
                    _ => vec![BLOCK_FREE; header.blocks_in_image as usize],
                };
                Self::write_new_vdi(storage, header, bmap, progress)
            }
        }
    }

    /// Creates an empty differencing image on top of `parent` (a VDI), as taking a snapshot
    /// does: same virtual size, every block "ask the parent".
    pub fn create_differencing<P: Storage>(
        storage: S,
        parent: &Image<P>,
        uuid: Uuid,
        modification_uuid: Uuid,
        description: &str,
    ) -> Result<Image<S>, ImageError> {
        let len = storage.len()?;
        if len != 0 {
            return Err(ImageError::NotEmpty { len });
        }
        let Some(parent_header) = parent.header() else {
            return Err(ImageError::Unsupported {
                operation: "taking a snapshot",
                kind: parent.kind(),
                reason: "a raw file has no block map to record differences; use VDI",
            });
        };
        let mut header = VdiHeader::new(
            ImageType::Differencing,
            parent_header.disk_size,
            uuid,
            modification_uuid,
        );
        header.uuid_parent = parent_header.uuid_image;
        header.description = description.to_string();
        let bmap = vec![BLOCK_FREE; header.blocks_in_image as usize];
        Self::write_new_vdi(storage, header, bmap, &mut |_, _| {})
    }

    fn write_new_vdi(
        mut storage: S,
        header: VdiHeader,
        bmap: Vec<u32>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Image<S>, ImageError> {
        storage.write_at(header.offset_bmap.into(), &encode_block_map(&bmap))?;
        // The padding up to the data area is a hole; the file ends where data would begin.
        storage.set_len(header.offset_data.into())?;
        if header.kind() == Some(ImageType::Fixed) {
            let data_len = u64::from(header.blocks_in_image) * block_len();
            storage.preallocate(header.offset_data.into(), data_len, progress)?;
        }
        storage.write_at(0, &header.encode())?;
        storage.flush()?;
        let next_slot = header.blocks_allocated;
        Ok(Image {
            storage,
            layout: Layout::Vdi {
                header: Box::new(header),
                bmap,
                next_slot,
            },
        })
    }

    /// Opens an existing image. A VDI is checked completely first; if it is rejected, nothing
    /// has been written to it.
    pub fn open(storage: S, format: Format) -> Result<Image<S>, ImageError> {
        match format {
            Format::Raw => {
                let size = storage.len()?;
                let allocation = if size > 0 && raw::is_preallocated(&storage, size)? {
                    Allocation::Fixed
                } else {
                    Allocation::Dynamic
                };
                Ok(Image {
                    storage,
                    layout: Layout::Raw { size, allocation },
                })
            }
            Format::Vdi => {
                let (header, bmap) = vdi::load(&storage)?;
                let next_slot = bmap
                    .iter()
                    .filter(|&&e| e != BLOCK_FREE && e != BLOCK_ZERO)
                    .map(|&e| e + 1)
                    .max()
                    .unwrap_or(0)
                    .max(header.blocks_allocated);
                Ok(Image {
                    storage,
                    layout: Layout::Vdi {
                        header: Box::new(header),
                        bmap,
                        next_slot,
                    },
                })
            }
        }
    }

    /// The format.
    pub fn format(&self) -> Format {
        match self.layout {
            Layout::Raw { .. } => Format::Raw,
            Layout::Vdi { .. } => Format::Vdi,
        }
    }

    /// Format and allocation.
    pub fn kind(&self) -> ImageKind {
        match &self.layout {
            Layout::Raw {
                allocation: Allocation::Dynamic,
                ..
            } => ImageKind::RawSparse,
            Layout::Raw {
                allocation: Allocation::Fixed,
                ..
            } => ImageKind::RawPreallocated,
            Layout::Vdi { header, .. } => match header.kind() {
                Some(ImageType::Fixed) => ImageKind::VdiFixed,
                Some(ImageType::Differencing) => ImageKind::VdiDifferencing,
                _ => ImageKind::VdiDynamic,
            },
        }
    }

    /// The size the guest sees.
    pub fn virtual_size(&self) -> u64 {
        match &self.layout {
            Layout::Raw { size, .. } => *size,
            Layout::Vdi { header, .. } => header.disk_size,
        }
    }

    /// The VDI header, if this is a VDI.
    pub fn header(&self) -> Option<&VdiHeader> {
        match &self.layout {
            Layout::Vdi { header, .. } => Some(header),
            Layout::Raw { .. } => None,
        }
    }

    /// The VDI block map, if this is a VDI.
    pub fn block_map(&self) -> Option<&[u32]> {
        match &self.layout {
            Layout::Vdi { bmap, .. } => Some(bmap),
            Layout::Raw { .. } => None,
        }
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The storage, mutably (for limits; writing through it bypasses the image).
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// Gives the storage back.
    pub fn into_storage(self) -> S {
        self.storage
    }

    /// Bytes the host spends on this image.
    pub fn host_bytes(&self) -> Result<u64, ImageError> {
        Ok(self.storage.host_bytes()?)
    }

    /// Number of 1 MiB blocks the disk spans.
    pub fn blocks_total(&self) -> u64 {
        self.virtual_size().div_ceil(block_len())
    }

    /// Where guest block `block` (1 MiB) lives.
    pub fn lookup(&self, block: u64) -> BlockLookup {
        match &self.layout {
            Layout::Raw { .. } => BlockLookup::Data {
                host_offset: block * block_len(),
            },
            Layout::Vdi { header, bmap, .. } => {
                match bmap.get(block as usize).copied().unwrap_or(BLOCK_FREE) {
                    BLOCK_FREE => BlockLookup::Unallocated,
                    BLOCK_ZERO => BlockLookup::Zero,
                    slot => BlockLookup::Data {
                        host_offset: header.data_offset(slot),
                    },
                }
            }
        }
    }

    /// Fails with [`ImageError::OutOfRange`] unless the range lies inside the disk.
    pub fn check_range(&self, what: &'static str, offset: u64, len: u64) -> Result<(), ImageError> {
        let size = self.virtual_size();
        match offset.checked_add(len) {
            Some(end) if end <= size => Ok(()),
            _ => Err(ImageError::OutOfRange {
                what,
                offset,
                len,
                size: ByteSize(size),
            }),
        }
    }

    /// Reads guest bytes. Unallocated blocks read as zeros (a differencing image read on its
    /// own; the snapshot chain reads through to the parent instead).
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        self.check_range("read", offset, buf.len() as u64)?;
        if let Layout::Raw { .. } = self.layout {
            self.storage.read_at(offset, buf)?;
            return Ok(());
        }
        for (block, within, range) in segments(offset, buf.len()) {
            match self.lookup(block) {
                BlockLookup::Data { host_offset } => self
                    .storage
                    .read_at(host_offset + within, &mut buf[range])?,
                _ => buf[range].fill(0),
            }
        }
        Ok(())
    }
}

/// Splits `[offset, offset + len)` into per-block pieces: (block, offset within the block,
/// range within the caller's buffer).
fn segments(offset: u64, len: usize) -> impl Iterator<Item = (u64, u64, std::ops::Range<usize>)> {
    let bs = block_len();
    let mut done = 0usize;
    std::iter::from_fn(move || {
        if done >= len {
            return None;
        }
        let at = offset + done as u64;
        let within = at % bs;
        let n = ((bs - within) as usize).min(len - done);
        let item = (at / bs, within, done..done + n);
        done += n;
        Some(item)
    })
}
