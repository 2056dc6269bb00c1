//! The VDI 1.1 on-disk format (VirtualBox's native image; layout as in qemu's `block/vdi.c`):
//! header and block map as pure encode/decode functions, and the checks that decide whether an
//! image is sound enough to open.
//!
//! ```text
//! 0x000  header (512 bytes: text, signature 0xBEDA107F, version 1.1, ...)
//! 0x200  block map: one little-endian u32 per 1 MiB block, padded to 512 bytes
//! data   the allocated blocks, 1 MiB each, in allocation order
//! ```
//!
//! A block-map entry is the index of the data block that holds the guest block, or
//! [`BLOCK_FREE`] (never written) or [`BLOCK_ZERO`] (discarded or compacted away); both read as
//! zeros. In a differencing image `BLOCK_FREE` means "not changed here: ask the parent".

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::storage::{Storage, StorageError};

/// Size of the header area, including the unused tail.
pub const HEADER_LEN: usize = 512;
/// The signature at offset 0x40.
pub const SIGNATURE: u32 = 0xBEDA_107F;
/// Version 1.1.
pub const VERSION_1_1: u32 = 0x0001_0001;
/// Header size counted from offset 0x48 for version 1.1.
pub const HEADER_SIZE_V1_1: u32 = 0x180;
/// Sector size; the only one qemu and VirtualBox accept.
pub const SECTOR_SIZE: u32 = 512;
/// Block size; the only one qemu and VirtualBox create.
pub const BLOCK_SIZE: u32 = 1 << 20;
/// Block-map entry of a block that was never written.
pub const BLOCK_FREE: u32 = 0xFFFF_FFFF;
/// Block-map entry of a block that reads as zeros without data (discarded or compacted).
pub const BLOCK_ZERO: u32 = 0xFFFF_FFFE;
/// Where Labvisor (like qemu) puts the block map.
pub const DEFAULT_BMAP_OFFSET: u32 = 0x200;
/// Labvisor starts the data area on a 1 MiB boundary (qemu needs only 512): every data block
/// then sits at the same alignment in the host file as the guest block it holds, so the host's
/// page cache treats it as it treats a raw file (whole pages, same large-folio behaviour), and
/// a guest write never makes the host read a partly covered page first. The gap before the
/// data is a hole: it takes no host space.
pub const DATA_ALIGN: u64 = 1 << 20;
/// The most blocks an image may have: the block map must stay addressable by a u32 offset
/// (the same limit as qemu's `VDI_BLOCKS_IN_IMAGE_MAX`).
pub const MAX_BLOCKS: u32 = 0x3FFF_FFFF;
/// The most blocks [`load`] accepts: 64 TiB of 1 MiB blocks, a 256 MiB block map in memory.
/// (Labvisor creates images up to 16 TiB; larger ones made elsewhere open up to this.)
pub const MAX_OPEN_BLOCKS: u32 = 64 << 20;
/// Byte offset of the `blocks_allocated` field, rewritten on every allocation.
pub const BLOCKS_ALLOCATED_OFFSET: u64 = 0x184;
/// The text Labvisor writes at the start of its images.
pub const LABVISOR_TEXT: &str = "<<< Labvisor VM Disk Image >>>\n";

/// A UUID as stored in a VDI header (the first three fields little-endian, as VirtualBox does).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The all-zero UUID, meaning "none".
    pub const NIL: Uuid = Uuid([0; 16]);

    /// A random (version 4) UUID from 16 bytes of entropy supplied by the caller.
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> Uuid {
        // Stored little-endian: the version nibble lives in the high byte of the third field.
        bytes[7] = (bytes[7] & 0x0F) | 0x40;
        bytes[8] = (bytes[8] & 0x3F) | 0x80;
        Uuid(bytes)
    }

    /// Whether this is the nil UUID.
    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-",
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9]
        )?;
        b[10..].iter().try_for_each(|x| write!(f, "{x:02x}"))
    }
}

/// The kind of image, from the header's `image_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageType {
    /// 1: blocks are allocated as the guest writes ("dynamically allocated").
    Dynamic,
    /// 2: all blocks allocated at creation ("fixed size").
    Fixed,
    /// 4: a snapshot's changes on top of a parent image.
    Differencing,
}

impl ImageType {
    /// The header value.
    pub fn code(self) -> u32 {
        match self {
            ImageType::Dynamic => 1,
            ImageType::Fixed => 2,
            ImageType::Differencing => 4,
        }
    }
}

/// A decoded VDI 1.1 header. Fields keep their on-disk meaning; [`VdiHeader::check`] decides
/// whether they describe an image Labvisor will open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VdiHeader {
    /// The 64-byte text at the start, up to its first NUL.
    pub text: String,
    /// Must be [`SIGNATURE`].
    pub signature: u32,
    /// Must be [`VERSION_1_1`].
    pub version: u32,
    /// Must be [`HEADER_SIZE_V1_1`].
    pub header_size: u32,
    /// 1 dynamic, 2 fixed, 3 undo, 4 differencing.
    pub image_type: u32,
    /// Unused flags.
    pub image_flags: u32,
    /// Free text; Labvisor keeps snapshot names here.
    pub description: String,
    /// Byte offset of the block map.
    pub offset_bmap: u32,
    /// Byte offset of the first data block.
    pub offset_data: u32,
    /// Legacy geometry (cylinders, heads, sectors); zero means "let the host choose".
    pub geometry: [u32; 3],
    /// Must be [`SECTOR_SIZE`].
    pub sector_size: u32,
    /// Virtual size in bytes.
    pub disk_size: u64,
    /// Must be [`BLOCK_SIZE`].
    pub block_size: u32,
    /// Extra bytes before each block; must be 0.
    pub block_extra: u32,
    /// Blocks the virtual disk spans.
    pub blocks_in_image: u32,
    /// Blocks with data in the file.
    pub blocks_allocated: u32,
    /// This image's identity.
    pub uuid_image: Uuid,
    /// Changes on every modification in VirtualBox; Labvisor sets it at creation.
    pub uuid_last_snap: Uuid,
    /// Unused link UUID.
    pub uuid_link: Uuid,
    /// For differencing images, the parent's `uuid_image`.
    pub uuid_parent: Uuid,
}

/// Why an image was refused. Each names the field, the value found and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum VdiError {
    /// Shorter than a header.
    #[error("truncated image: {len} bytes, a VDI header alone needs {HEADER_LEN}")]
    TooShortForHeader {
        /// File length.
        len: u64,
    },
    /// Not a VDI file.
    #[error("bad signature 0x{found:08X} at offset 0x40 (expected 0xBEDA107F): not a VDI image")]
    BadSignature {
        /// What was there.
        found: u32,
    },
    /// Another VDI version.
    #[error("unsupported VDI version {}.{} (0x{found:08X}); only 1.1 is supported", found >> 16, found & 0xFFFF)]
    BadVersion {
        /// What was there.
        found: u32,
    },
    /// A field with a value Labvisor does not accept.
    #[error("bad header field {field} = {found} at offset 0x{offset:03X}: expected {expected}")]
    BadField {
        /// Field name.
        field: &'static str,
        /// Its offset in the header.
        offset: u16,
        /// The value found.
        found: u64,
        /// What would be accepted.
        expected: String,
    },
    /// The block map does not fit before the data area or in the file.
    #[error("block map of {blocks} entries at 0x{offset_bmap:X} ends at 0x{bmap_end:X}, past {limit_name} at 0x{limit:X}")]
    BlockMapOutOfBounds {
        /// Entries.
        blocks: u32,
        /// Where it starts.
        offset_bmap: u32,
        /// Where it ends.
        bmap_end: u64,
        /// What it runs into.
        limit_name: &'static str,
        /// Where that is.
        limit: u64,
    },
    /// An entry points at a data block that cannot exist.
    #[error("block map entry {block} points to data block {entry}, but the image has only {blocks_in_image} blocks")]
    EntryOutOfRange {
        /// Guest block.
        block: u32,
        /// The entry.
        entry: u32,
        /// Blocks in the image.
        blocks_in_image: u32,
    },
    /// An entry points past the end of the file.
    #[error("block map entry {block} points to data at 0x{data_offset:X}..0x{data_end:X}, past the end of the file (0x{file_len:X} bytes): truncated image")]
    EntryPastEnd {
        /// Guest block.
        block: u32,
        /// Data start.
        data_offset: u64,
        /// Data end.
        data_end: u64,
        /// File length.
        file_len: u64,
    },
    /// Two guest blocks share one data block: writing one would change the other.
    #[error("block map entries {first} and {second} both point to data block {entry}")]
    DuplicateEntry {
        /// First guest block.
        first: u32,
        /// Second guest block.
        second: u32,
        /// The shared data block.
        entry: u32,
    },
    /// `blocks_allocated` disagrees with the block map.
    #[error("header says {header} blocks allocated but the block map references {counted}{hint}")]
    CountMismatch {
        /// The header's count.
        header: u32,
        /// Entries that reference data.
        counted: u32,
        /// What probably happened.
        hint: String,
    },
    /// The storage below failed while reading.
    #[error("cannot read the image: {0}")]
    Storage(#[from] StorageError),
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

fn uuid_at(b: &[u8], at: usize) -> Uuid {
    let mut x = [0u8; 16];
    x.copy_from_slice(&b[at..at + 16]);
    Uuid(x)
}

fn text_at(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn put_text(out: &mut [u8], text: &str) {
    // Keep at least one NUL so the text is terminated, and cut on a character boundary.
    let mut n = text.len().min(out.len() - 1);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    out[..n].copy_from_slice(&text.as_bytes()[..n]);
}

/// A header field that is not what a VDI 1.1 image holds: its name, offset, value and what
/// was expected.
fn bad_field(field: &'static str, offset: u16, found: u64, expected: &str) -> VdiError {
    VdiError::BadField {
        field,
        offset,
        found,
        expected: expected.to_string(),
    }
}

impl VdiHeader {
    /// A new header for an image of `disk_size` bytes (a multiple of 512), with the block
    /// map at 0x200 and the data right after it, like qemu and VirtualBox lay it out.
    pub fn new(
        image_type: ImageType,
        disk_size: u64,
        uuid_image: Uuid,
        uuid_last_snap: Uuid,
    ) -> VdiHeader {
        let blocks = disk_size.div_ceil(u64::from(BLOCK_SIZE)) as u32;
        let offset_data = data_offset_for(blocks);
        VdiHeader {
            text: LABVISOR_TEXT.to_string(),
            signature: SIGNATURE,
            version: VERSION_1_1,
            header_size: HEADER_SIZE_V1_1,
            image_type: image_type.code(),
            image_flags: 0,
            description: String::new(),
            offset_bmap: DEFAULT_BMAP_OFFSET,
            offset_data: offset_data as u32,
            geometry: [0; 3],
            sector_size: SECTOR_SIZE,
            disk_size,
            block_size: BLOCK_SIZE,
            block_extra: 0,
            blocks_in_image: blocks,
            blocks_allocated: if image_type == ImageType::Fixed {
                blocks
            } else {
                0
            },
            uuid_image,
            uuid_last_snap,
            uuid_link: Uuid::NIL,
            uuid_parent: Uuid::NIL,
        }
    }

    /// Decodes the first 512 bytes of an image. Only the length is checked here; use
    /// [`VdiHeader::check`] before trusting the fields.
    pub fn decode(bytes: &[u8]) -> Result<VdiHeader, VdiError> {
        if bytes.len() < HEADER_LEN {
            return Err(VdiError::TooShortForHeader {
                len: bytes.len() as u64,
            });
        }
        let b = &bytes[..HEADER_LEN];
        Ok(VdiHeader {
            text: text_at(&b[..0x40]),
            signature: u32_at(b, 0x40),
            version: u32_at(b, 0x44),
            header_size: u32_at(b, 0x48),
            image_type: u32_at(b, 0x4C),
            image_flags: u32_at(b, 0x50),
            description: text_at(&b[0x54..0x154]),
            offset_bmap: u32_at(b, 0x154),
            offset_data: u32_at(b, 0x158),
            geometry: [u32_at(b, 0x15C), u32_at(b, 0x160), u32_at(b, 0x164)],
            sector_size: u32_at(b, 0x168),
            disk_size: u64_at(b, 0x170),
            block_size: u32_at(b, 0x178),
            block_extra: u32_at(b, 0x17C),
            blocks_in_image: u32_at(b, 0x180),
            blocks_allocated: u32_at(b, 0x184),
            uuid_image: uuid_at(b, 0x188),
            uuid_last_snap: uuid_at(b, 0x198),
            uuid_link: uuid_at(b, 0x1A8),
            uuid_parent: uuid_at(b, 0x1B8),
        })
    }

    /// The 512 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        put_text(&mut b[..0x40], &self.text);
        let mut put = |at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put(0x40, self.signature);
        put(0x44, self.version);
        put(0x48, self.header_size);
        put(0x4C, self.image_type);
        put(0x50, self.image_flags);
        put(0x154, self.offset_bmap);
        put(0x158, self.offset_data);
        put(0x15C, self.geometry[0]);
        put(0x160, self.geometry[1]);
        put(0x164, self.geometry[2]);
        put(0x168, self.sector_size);
        put(0x178, self.block_size);
        put(0x17C, self.block_extra);
        put(0x180, self.blocks_in_image);
        put(0x184, self.blocks_allocated);
        b[0x170..0x178].copy_from_slice(&self.disk_size.to_le_bytes());
        put_text(&mut b[0x54..0x154], &self.description);
        b[0x188..0x198].copy_from_slice(&self.uuid_image.0);
        b[0x198..0x1A8].copy_from_slice(&self.uuid_last_snap.0);
        b[0x1A8..0x1B8].copy_from_slice(&self.uuid_link.0);
        b[0x1B8..0x1C8].copy_from_slice(&self.uuid_parent.0);
        b
    }

    /// The image type, if it is one Labvisor opens.
    pub fn kind(&self) -> Option<ImageType> {
        match self.image_type {
            1 => Some(ImageType::Dynamic),
            2 => Some(ImageType::Fixed),
            4 => Some(ImageType::Differencing),
            _ => None,
        }
    }

    /// Checks every header field on its own (the block map is checked by [`check_block_map`]).
    pub fn check(&self) -> Result<ImageType, VdiError> {
        if self.signature != SIGNATURE {
            return Err(VdiError::BadSignature {
                found: self.signature,
            });
        }
        if self.version != VERSION_1_1 {
            return Err(VdiError::BadVersion {
                found: self.version,
            });
        }
        if self.header_size != HEADER_SIZE_V1_1 {
            return Err(bad_field(
                "header_size",
                0x48,
                self.header_size.into(),
                "0x180 (384) for VDI 1.1",
            ));
        }
        let kind = self.kind().ok_or_else(|| {
            bad_field(
                "image_type",
                0x4C,
                self.image_type.into(),
                "1 (dynamic), 2 (fixed) or 4 (differencing)",
            )
        })?;
        self.check_geometry()?;
        self.check_links(kind)?;
        let bmap_end = u64::from(self.offset_bmap) + u64::from(self.blocks_in_image) * 4;
        if bmap_end > u64::from(self.offset_data) {
            return Err(VdiError::BlockMapOutOfBounds {
                blocks: self.blocks_in_image,
                offset_bmap: self.offset_bmap,
                bmap_end,
                limit_name: "the data area",
                limit: self.offset_data.into(),
            });
        }
        Ok(kind)
    }

    /// The offsets, sizes and counts: sector-aligned, in order, and within what a VDI 1.1
    /// holds.
    fn check_geometry(&self) -> Result<(), VdiError> {
        if self.offset_bmap % SECTOR_SIZE != 0 || self.offset_bmap < HEADER_LEN as u32 {
            return Err(bad_field(
                "offset_bmap",
                0x154,
                self.offset_bmap.into(),
                "a multiple of 512, at least 512 (after the header)",
            ));
        }
        if self.offset_data % SECTOR_SIZE != 0 || self.offset_data <= self.offset_bmap {
            return Err(bad_field(
                "offset_data",
                0x158,
                self.offset_data.into(),
                "a multiple of 512 after the block map",
            ));
        }
        if self.sector_size != SECTOR_SIZE {
            return Err(bad_field(
                "sector_size",
                0x168,
                self.sector_size.into(),
                "512",
            ));
        }
        if self.block_size != BLOCK_SIZE {
            return Err(bad_field(
                "block_size",
                0x178,
                self.block_size.into(),
                "1048576 (1 MiB)",
            ));
        }
        if self.block_extra != 0 {
            return Err(bad_field(
                "block_extra",
                0x17C,
                self.block_extra.into(),
                "0",
            ));
        }
        if self.blocks_in_image > MAX_BLOCKS {
            return Err(bad_field(
                "blocks_in_image",
                0x180,
                self.blocks_in_image.into(),
                &format!("at most {MAX_BLOCKS}"),
            ));
        }
        let capacity = u64::from(self.blocks_in_image) * u64::from(BLOCK_SIZE);
        if self.disk_size > capacity || self.disk_size == 0 || self.disk_size % 512 != 0 {
            return Err(bad_field(
                "disk_size",
                0x170,
                self.disk_size,
                &format!(
                    "a non-zero multiple of 512 no larger than blocks_in_image × 1 MiB = {capacity}"
                ),
            ));
        }
        if self.blocks_allocated > self.blocks_in_image {
            return Err(bad_field(
                "blocks_allocated",
                0x184,
                self.blocks_allocated.into(),
                &format!("at most blocks_in_image = {}", self.blocks_in_image),
            ));
        }
        Ok(())
    }

    /// Links are not supported, and only a differencing image names a parent.
    fn check_links(&self, kind: ImageType) -> Result<(), VdiError> {
        if !self.uuid_link.is_nil() {
            return Err(bad_field(
                "uuid_link",
                0x1A8,
                1,
                "the nil UUID (links are not supported)",
            ));
        }
        match kind {
            ImageType::Differencing if self.uuid_parent.is_nil() => {
                return Err(bad_field(
                    "uuid_parent",
                    0x1B8,
                    0,
                    "a parent UUID for a differencing image",
                ));
            }
            ImageType::Dynamic | ImageType::Fixed if !self.uuid_parent.is_nil() => {
                return Err(bad_field(
                    "uuid_parent",
                    0x1B8,
                    1,
                    "the nil UUID for an image that is not differencing",
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// Byte offset in the file of data block `slot`.
    pub fn data_offset(&self, slot: u32) -> u64 {
        u64::from(self.offset_data) + u64::from(slot) * u64::from(self.block_size)
    }
}

/// Where Labvisor puts the data area of an image with `blocks` blocks: after the header and
/// the block map, on a [`DATA_ALIGN`] boundary.
pub fn data_offset_for(blocks: u32) -> u64 {
    (u64::from(DEFAULT_BMAP_OFFSET) + bmap_len(blocks)).div_ceil(DATA_ALIGN) * DATA_ALIGN
}

/// Bytes the block map of `blocks` entries takes, padded to whole sectors.
pub fn bmap_len(blocks: u32) -> u64 {
    (u64::from(blocks) * 4).div_ceil(u64::from(SECTOR_SIZE)) * u64::from(SECTOR_SIZE)
}

/// Decodes a block map: one little-endian u32 per block.
pub fn decode_block_map(bytes: &[u8]) -> Vec<u32> {
    bytes.chunks_exact(4).map(|c| u32_at(c, 0)).collect()
}

/// Encodes a block map, padded with zeros to whole sectors.
pub fn encode_block_map(entries: &[u32]) -> Vec<u8> {
    let mut out = vec![0u8; bmap_len(entries.len() as u32) as usize];
    // Into a buffer of its final size: no growth check per entry (a 4 TiB disk has 4 Mi).
    for (bytes, entry) in out.chunks_exact_mut(4).zip(entries) {
        bytes.copy_from_slice(&entry.to_le_bytes());
    }
    out
}

/// Checks a block map against its header and the file length: every entry is free, zero or a
/// data block inside the image and the file; no data block is used twice; the header's count
/// matches. These are the checks `qemu-img check` makes, plus the file-length one.
pub fn check_block_map(header: &VdiHeader, entries: &[u32], file_len: u64) -> Result<(), VdiError> {
    let mut owner: BTreeMap<u32, u32> = BTreeMap::new();
    for (block, &entry) in entries.iter().enumerate() {
        let block = block as u32;
        if entry == BLOCK_FREE || entry == BLOCK_ZERO {
            continue;
        }
        if entry >= header.blocks_in_image {
            return Err(VdiError::EntryOutOfRange {
                block,
                entry,
                blocks_in_image: header.blocks_in_image,
            });
        }
        let data_offset = header.data_offset(entry);
        let data_end = data_offset + u64::from(header.block_size);
        if data_end > file_len {
            return Err(VdiError::EntryPastEnd {
                block,
                data_offset,
                data_end,
                file_len,
            });
        }
        if let Some(first) = owner.insert(entry, block) {
            return Err(VdiError::DuplicateEntry {
                first,
                second: block,
                entry,
            });
        }
    }
    let counted = owner.len() as u32;
    if counted != header.blocks_allocated {
        let hint = if header.blocks_allocated > counted {
            format!(
                " ({} block(s) leaked, e.g. by an interrupted write; `qemu-img check -r all` repairs it)",
                header.blocks_allocated - counted
            )
        } else {
            " (the header undercounts: the next allocation would overwrite a used block)"
                .to_string()
        };
        return Err(VdiError::CountMismatch {
            header: header.blocks_allocated,
            counted,
            hint,
        });
    }
    Ok(())
}

/// Reads and checks the header and the block map of the VDI image in `storage`. Nothing is
/// written: a rejected image stays exactly as it was.
pub fn load(storage: &dyn Storage) -> Result<(VdiHeader, Vec<u32>), VdiError> {
    let file_len = storage.len()?;
    if file_len < HEADER_LEN as u64 {
        return Err(VdiError::TooShortForHeader { len: file_len });
    }
    let mut raw = [0u8; HEADER_LEN];
    storage.read_at(0, &mut raw)?;
    let header = VdiHeader::decode(&raw)?;
    header.check()?;
    if header.blocks_in_image > MAX_OPEN_BLOCKS {
        // The block map is read whole into memory: a header may not make it gigabytes.
        return Err(VdiError::BadField {
            field: "blocks_in_image",
            offset: 0x180,
            found: header.blocks_in_image.into(),
            expected: format!(
                "at most {MAX_OPEN_BLOCKS} (64 TiB): Labvisor holds the block map in memory"
            ),
        });
    }
    let bmap_end = u64::from(header.offset_bmap) + u64::from(header.blocks_in_image) * 4;
    if bmap_end > file_len {
        return Err(VdiError::BlockMapOutOfBounds {
            blocks: header.blocks_in_image,
            offset_bmap: header.offset_bmap,
            bmap_end,
            limit_name: "the end of the file",
            limit: file_len,
        });
    }
    let mut bytes = vec![0u8; (bmap_end - u64::from(header.offset_bmap)) as usize];
    storage.read_at(header.offset_bmap.into(), &mut bytes)?;
    let entries = decode_block_map(&bytes);
    check_block_map(&header, &entries, file_len)?;
    Ok((header, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> VdiHeader {
        VdiHeader::new(ImageType::Dynamic, 3 << 20, Uuid([1; 16]), Uuid([2; 16]))
    }

    #[test]
    fn header_round_trips_and_lays_out_like_qemu() {
        let h = header();
        let bytes = h.encode();
        assert_eq!(&bytes[0x40..0x44], &[0x7F, 0x10, 0xDA, 0xBE]);
        assert_eq!(u32_at(&bytes, 0x154), 0x200);
        assert_eq!(
            u32_at(&bytes, 0x158),
            0x10_0000,
            "data area on a 1 MiB boundary"
        );
        assert_eq!(u32_at(&bytes, 0x180), 3);
        assert_eq!(VdiHeader::decode(&bytes).unwrap(), h);
        assert_eq!(h.check(), Ok(ImageType::Dynamic));
    }

    #[test]
    fn uuid_prints_like_virtualbox() {
        let u = Uuid([
            0x6b, 0x99, 0x23, 0x50, 0x60, 0x9b, 0x8f, 0x4d, 0x87, 0xef, 0x65, 0x6a, 0x10, 0xf8,
            0xb8, 0x1d,
        ]);
        assert_eq!(u.to_string(), "5023996b-9b60-4d8f-87ef-656a10f8b81d");
        let r = Uuid::from_random_bytes([0xFF; 16]);
        assert!(r.to_string().starts_with("ffffffff-ffff-4fff-bfff"), "{r}");
    }

    #[test]
    fn header_checks_name_the_bad_field() {
        let mut h = header();
        h.signature = 0x1234_5678;
        assert_eq!(
            h.check(),
            Err(VdiError::BadSignature { found: 0x1234_5678 })
        );
        let mut h = header();
        h.version = 0x0001_0000;
        assert!(matches!(h.check(), Err(VdiError::BadVersion { .. })));
        for (mutate, field) in [
            (
                Box::new(|h: &mut VdiHeader| h.block_size = 4096) as Box<dyn Fn(&mut VdiHeader)>,
                "block_size",
            ),
            (
                Box::new(|h: &mut VdiHeader| h.sector_size = 4096),
                "sector_size",
            ),
            (
                Box::new(|h: &mut VdiHeader| h.offset_bmap = 0x201),
                "offset_bmap",
            ),
            (Box::new(|h: &mut VdiHeader| h.image_type = 3), "image_type"),
            (
                Box::new(|h: &mut VdiHeader| h.disk_size = 5 << 20),
                "disk_size",
            ),
            (
                Box::new(|h: &mut VdiHeader| h.blocks_allocated = 9),
                "blocks_allocated",
            ),
            (
                Box::new(|h: &mut VdiHeader| h.uuid_parent = Uuid([3; 16])),
                "uuid_parent",
            ),
        ] {
            let mut h = header();
            mutate(&mut h);
            match h.check() {
                Err(VdiError::BadField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn block_map_checks_find_each_kind_of_corruption() {
        let mut h = header();
        let len = h.data_offset(2);
        h.blocks_allocated = 2;
        assert_eq!(check_block_map(&h, &[0, BLOCK_FREE, 1], len), Ok(()));
        assert!(matches!(
            check_block_map(&h, &[0, 7, 1], len),
            Err(VdiError::EntryOutOfRange {
                block: 1,
                entry: 7,
                ..
            })
        ));
        assert!(matches!(
            check_block_map(&h, &[0, 2, BLOCK_ZERO], len),
            Err(VdiError::EntryPastEnd { block: 1, .. })
        ));
        assert!(matches!(
            check_block_map(&h, &[1, 0, 1], len),
            Err(VdiError::DuplicateEntry {
                first: 0,
                second: 2,
                entry: 1
            })
        ));
        assert!(matches!(
            check_block_map(&h, &[0, BLOCK_FREE, BLOCK_ZERO], len),
            Err(VdiError::CountMismatch {
                header: 2,
                counted: 1,
                ..
            })
        ));
    }

    #[test]
    fn block_map_round_trips_padded_to_sectors() {
        let entries = [0, BLOCK_FREE, BLOCK_ZERO];
        let bytes = encode_block_map(&entries);
        assert_eq!(bytes.len(), 512);
        assert_eq!(&decode_block_map(&bytes)[..3], &entries);
    }
}
