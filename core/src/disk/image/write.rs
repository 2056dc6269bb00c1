//! A guest's writes: into allocated blocks in place, into new blocks of a dynamic VDI in the
//! crash-safe order the module above describes (data, then count and map entry).

use serde::{Deserialize, Serialize};

use super::{block_len, segments, BlockLookup, Image, ImageError, Layout, WriteReport};
use crate::disk::size::ByteSize;
use crate::disk::storage::{Storage, StorageError};
use crate::disk::vdi::{BLOCKS_ALLOCATED_OFFSET, BLOCK_SIZE};

/// A run of storage an in-place write covers: the next `len` bytes of the guest's data go to
/// `host_offset` onwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extent {
    /// Storage offset of the run's first byte.
    pub host_offset: u64,
    /// Bytes in the run.
    pub len: u64,
}

impl<S: Storage> Image<S> {
    /// Where a write of `len` bytes at `offset` goes when it changes nothing but data: every
    /// byte falls in a block this image already holds (any block of a raw image or a fixed
    /// VDI, a block of a dynamic VDI written before), so writing the guest's bytes to these
    /// runs of storage, in order, is the whole write, with no header or block-map update to
    /// order after it. `None` when some block is not allocated here yet: [`Image::write`] then
    /// does the write. The caller does the I/O (the VMM straight from guest memory); runs are
    /// merged where blocks lie back to back in the storage.
    pub fn write_in_place(&self, offset: u64, len: u64) -> Result<Option<Vec<Extent>>, ImageError> {
        self.check_range("write", offset, len)?;
        let mut runs: Vec<Extent> = Vec::new();
        let mut done = 0u64;
        while done < len {
            let at = offset + done;
            let within = at % block_len();
            let n = (block_len() - within).min(len - done);
            let BlockLookup::Data { host_offset } = self.lookup(at / block_len()) else {
                return Ok(None);
            };
            let host_offset = host_offset + within;
            match runs.last_mut() {
                Some(last) if last.host_offset + last.len == host_offset => last.len += n,
                _ => runs.push(Extent {
                    host_offset,
                    len: n,
                }),
            }
            done += n;
        }
        Ok(Some(runs))
    }

    /// Writes guest bytes, allocating 1 MiB blocks of a dynamic VDI as needed. If the host is
    /// full the error says so ([`ImageError::is_no_space`]) and every block written before is
    /// intact.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<WriteReport, ImageError> {
        self.check_range("write", offset, data.len() as u64)?;
        if let Layout::Raw { .. } = self.layout {
            self.storage.write_at(offset, data)?;
            return Ok(WriteReport {
                bytes: data.len() as u64,
                new_blocks: 0,
            });
        }
        let mut report = WriteReport {
            bytes: data.len() as u64,
            new_blocks: 0,
        };
        for (block, within, range) in segments(offset, data.len()) {
            match self.lookup(block) {
                BlockLookup::Data { host_offset } => {
                    self.storage.write_at(host_offset + within, &data[range])?
                }
                // A write of the whole block is the block's content as it stands: no zeroed
                // copy to fill around it (the guest's 1 MiB-aligned writes, every one of them).
                _ if range.len() == BLOCK_SIZE as usize => {
                    self.allocate(block, &data[range])?;
                    report.new_blocks += 1;
                }
                _ => {
                    let mut content = vec![0u8; BLOCK_SIZE as usize];
                    content[within as usize..within as usize + range.len()]
                        .copy_from_slice(&data[range]);
                    self.allocate(block, &content)?;
                    report.new_blocks += 1;
                }
            }
        }
        Ok(report)
    }

    /// Writes one whole guest block (`content` is 1 MiB), allocating it if needed. The
    /// snapshot chain uses this to copy a parent's block up before changing part of it.
    pub fn write_whole_block(&mut self, block: u64, content: &[u8]) -> Result<bool, ImageError> {
        if content.len() != BLOCK_SIZE as usize || block >= self.blocks_total() {
            return Err(ImageError::OutOfRange {
                what: "whole-block write",
                offset: block * block_len(),
                len: content.len() as u64,
                size: ByteSize(self.virtual_size()),
            });
        }
        match self.lookup(block) {
            BlockLookup::Data { host_offset } => {
                let usable = (self.virtual_size() - block * block_len()).min(block_len());
                if let Layout::Raw { .. } = self.layout {
                    self.storage
                        .write_at(host_offset, &content[..usable as usize])?;
                } else {
                    self.storage.write_at(host_offset, content)?;
                }
                Ok(false)
            }
            _ => {
                self.allocate(block, content)?;
                Ok(true)
            }
        }
    }

    /// Gives guest block `block` a data block: data first, then the header count, then the
    /// block-map entry (see the module docs for why this order).
    fn allocate(&mut self, block: u64, content: &[u8]) -> Result<(), ImageError> {
        let Layout::Vdi {
            header,
            bmap,
            next_slot,
        } = &mut self.layout
        else {
            return Ok(());
        };
        let slot = *next_slot;
        let old_len = self.storage.len()?;
        if let Err(e) = self.storage.write_at(header.data_offset(slot), content) {
            // Leave no half-written tail behind (ignored if it fails: the tail is unreferenced).
            if self.storage.len().unwrap_or(old_len) > old_len {
                let _ = self.storage.set_len(old_len.max(header.data_offset(slot)));
            }
            return Err(e.into());
        }
        let count = header.blocks_allocated + 1;
        let entry_offset = u64::from(header.offset_bmap) + block * 4;
        commit_allocation(&mut self.storage, count, entry_offset, slot)?;
        header.blocks_allocated = count;
        *next_slot = slot + 1;
        bmap[block as usize] = slot;
        Ok(())
    }

    /// The guest writes zeros over a range (like `dd if=/dev/zero` or `zerofree`). On a
    /// dynamic VDI this allocates blocks that were never written: zeros are data too.
    pub fn zero_fill(&mut self, offset: u64, len: u64) -> Result<WriteReport, ImageError> {
        self.check_range("zero-fill", offset, len)?;
        let zeros = vec![0u8; BLOCK_SIZE as usize];
        let mut report = WriteReport::default();
        let mut done = 0;
        while done < len {
            let at = offset + done;
            let n = (block_len() - at % block_len()).min(len - done);
            let r = self.write(at, &zeros[..n as usize])?;
            report.bytes += r.bytes;
            report.new_blocks += r.new_blocks;
            done += n;
        }
        Ok(report)
    }
}

/// Records an allocation: the header's `blocks_allocated` = `count` and the block-map entry at
/// `entry_offset` = `slot`. Where both lie in one 4 KiB page (the first 896 blocks of an image
/// with its map at 0x200) they go out in one `pwrite` of that page's span, so a process killed
/// at any moment leaves both or neither: count and map never disagree, which `qemu-img check`
/// would report as corruption. Beyond that, the count first, then the entry: an interrupted
/// allocation then leaves the count one ahead, a leaked block and never a shared one.
fn commit_allocation<S: Storage>(
    storage: &mut S,
    count: u32,
    entry_offset: u64,
    slot: u32,
) -> Result<(), StorageError> {
    const PAGE: u64 = 4096;
    let end = entry_offset + 4;
    if entry_offset > BLOCKS_ALLOCATED_OFFSET && BLOCKS_ALLOCATED_OFFSET / PAGE == (end - 1) / PAGE
    {
        let mut span = vec![0u8; (end - BLOCKS_ALLOCATED_OFFSET) as usize];
        storage.read_at(BLOCKS_ALLOCATED_OFFSET, &mut span)?;
        let last = span.len() - 4;
        span[..4].copy_from_slice(&count.to_le_bytes());
        span[last..].copy_from_slice(&slot.to_le_bytes());
        return storage.write_at(BLOCKS_ALLOCATED_OFFSET, &span);
    }
    storage.write_at(BLOCKS_ALLOCATED_OFFSET, &count.to_le_bytes())?;
    storage.write_at(entry_offset, &slot.to_le_bytes())
}
