//! Space going back: a guest's discard (TRIM), "deleting a file" (which frees nothing on the
//! host), compaction of all-zero blocks, and emptying a differencing image.

use super::*;

impl<S: Storage> Image<S> {
    /// The guest discards (TRIMs) a range. Whole blocks of a dynamic or differencing VDI are
    /// released (marked zero, the file shrinks); partial blocks are zeroed in place. Sparse raw
    /// files get holes punched. Fixed images keep their space and read zeros there.
    pub fn discard(&mut self, offset: u64, len: u64) -> Result<DiscardReport, ImageError> {
        self.check_range("discard", offset, len)?;
        let before = self.host_bytes()?;
        let mut released = 0;
        match self.kind() {
            ImageKind::RawSparse => self.storage.punch_hole(offset, len)?,
            ImageKind::RawPreallocated | ImageKind::VdiFixed => {
                self.zero_fill(offset, len)?;
            }
            ImageKind::VdiDynamic | ImageKind::VdiDifferencing => {
                let differencing = self.kind() == ImageKind::VdiDifferencing;
                let mut whole = Vec::new();
                for (block, within, range) in segments(offset, len as usize) {
                    let full = within == 0 && range.len() as u64 == block_len();
                    match (self.lookup(block), full) {
                        (BlockLookup::Data { .. }, true) => whole.push(block),
                        // In a differencing image a discarded block must hide the parent's.
                        (BlockLookup::Unallocated, true) if differencing => whole.push(block),
                        (BlockLookup::Data { host_offset }, false) => {
                            let zeros = vec![0u8; range.len()];
                            self.storage.write_at(host_offset + within, &zeros)?;
                        }
                        _ => {}
                    }
                }
                released = self.mark_zero(&whole)?;
                self.pack()?;
            }
        }
        Ok(DiscardReport {
            blocks_released: released,
            host_bytes_before: before,
            host_bytes_after: self.host_bytes()?,
        })
    }

    /// Marks blocks as zero without data. Entries first, then the header count (a crash in
    /// between leaves a leaked block, the safe direction). Returns data blocks released.
    fn mark_zero(&mut self, blocks: &[u64]) -> Result<u32, ImageError> {
        let Layout::Vdi { header, bmap, .. } = &mut self.layout else {
            return Ok(0);
        };
        let mut released = 0;
        for &block in blocks {
            let entry = bmap[block as usize];
            if entry == BLOCK_ZERO {
                continue;
            }
            let entry_offset = u64::from(header.offset_bmap) + block * 4;
            self.storage
                .write_at(entry_offset, &BLOCK_ZERO.to_le_bytes())?;
            bmap[block as usize] = BLOCK_ZERO;
            if entry != BLOCK_FREE {
                released += 1;
            }
        }
        if released > 0 {
            let count = header.blocks_allocated - released;
            self.storage
                .write_at(BLOCKS_ALLOCATED_OFFSET, &count.to_le_bytes())?;
            header.blocks_allocated = count;
        }
        Ok(released)
    }

    /// Moves the last data blocks into holes left by released blocks, then truncates the file.
    /// Each move copies the data before repointing the entry, so the entry always points at a
    /// complete copy. Returns blocks moved.
    fn pack(&mut self) -> Result<u32, ImageError> {
        let Layout::Vdi {
            header,
            bmap,
            next_slot,
        } = &mut self.layout
        else {
            return Ok(0);
        };
        let mut owner = vec![None; *next_slot as usize];
        for (block, &entry) in bmap.iter().enumerate() {
            if entry != BLOCK_FREE && entry != BLOCK_ZERO {
                owner[entry as usize] = Some(block);
            }
        }
        let mut moved = 0;
        let mut buf = vec![0u8; BLOCK_SIZE as usize];
        let mut hole = 0usize;
        let mut last = owner.len();
        loop {
            while hole < owner.len() && owner[hole].is_some() {
                hole += 1;
            }
            while last > 0 && owner[last - 1].is_none() {
                last -= 1;
            }
            if last == 0 || hole >= last - 1 {
                break;
            }
            let from = last - 1;
            let Some(block) = owner[from] else { break };
            self.storage
                .read_at(header.data_offset(from as u32), &mut buf)?;
            self.storage
                .write_at(header.data_offset(hole as u32), &buf)?;
            let entry_offset = u64::from(header.offset_bmap) + block as u64 * 4;
            self.storage
                .write_at(entry_offset, &(hole as u32).to_le_bytes())?;
            bmap[block] = hole as u32;
            owner[hole] = Some(block);
            owner[from] = None;
            moved += 1;
        }
        let used = owner.iter().filter(|o| o.is_some()).count() as u32;
        *next_slot = used;
        let end = header.data_offset(used);
        if self.storage.len()? > end {
            self.storage.set_len(end)?;
        }
        self.storage.flush()?;
        Ok(moved)
    }

    /// The guest deletes a file occupying `[offset, offset + len)`: its file system marks the
    /// blocks free in its own metadata. The image does not change at all, and the file's bytes
    /// are still in it.
    pub fn delete_file(&self, offset: u64, len: u64) -> Result<DeleteReport, ImageError> {
        self.check_range("delete", offset, len)?;
        let mut still_used = 0;
        match &self.layout {
            Layout::Raw { .. } => {
                let end = offset + len;
                let mut at = offset;
                while let Some(data) = raw::next_data_unit(&self.storage, at, end)? {
                    let n = raw::RAW_SCAN_UNIT.min(end - data);
                    if self.storage.is_allocated(data, n)? {
                        still_used += n;
                    }
                    at = data + n;
                }
            }
            Layout::Vdi { .. } => {
                for (block, _, range) in segments(offset, len as usize) {
                    if let BlockLookup::Data { .. } = self.lookup(block) {
                        still_used += range.len() as u64;
                    }
                }
            }
        }
        Ok(DeleteReport {
            guest_bytes_freed: len,
            host_bytes_still_used: still_used,
            host_bytes: self.host_bytes()?,
        })
    }

    /// Compacts like `VBoxManage modifymedium --compact`: blocks that are entirely zero are
    /// dropped and the file shrinks. Blocks the guest merely deleted files from are not zero,
    /// so they stay.
    pub fn compact(&mut self) -> Result<CompactReport, ImageError> {
        let before = self.host_bytes()?;
        let kind = self.kind();
        match kind {
            ImageKind::VdiFixed | ImageKind::RawPreallocated => Err(ImageError::Unsupported {
                operation: "compacting",
                kind,
                reason:
                    "a fixed-size image keeps all its space by design (convert it to dynamic first)",
            }),
            ImageKind::RawSparse => {
                let size = self.virtual_size();
                raw::punch_zero_ranges(&mut self.storage, size)?;
                Ok(CompactReport {
                    zero_blocks_dropped: 0,
                    blocks_moved: 0,
                    host_bytes_before: before,
                    host_bytes_after: self.host_bytes()?,
                })
            }
            ImageKind::VdiDynamic | ImageKind::VdiDifferencing => {
                let mut zero_blocks = Vec::new();
                let mut buf = vec![0u8; BLOCK_SIZE as usize];
                for block in 0..self.blocks_total() {
                    if let BlockLookup::Data { host_offset } = self.lookup(block) {
                        self.storage.read_at(host_offset, &mut buf)?;
                        if crate::disk::zero::is_zero(&buf) {
                            zero_blocks.push(block);
                        }
                    }
                }
                let dropped = self.mark_zero(&zero_blocks)?;
                let moved = self.pack()?;
                Ok(CompactReport {
                    zero_blocks_dropped: dropped,
                    blocks_moved: moved,
                    host_bytes_before: before,
                    host_bytes_after: self.host_bytes()?,
                })
            }
        }
    }

    /// Forgets every change in a differencing image (reverting to its snapshot): all entries
    /// "ask the parent", count zero, file cut back to the block map.
    pub fn reset_differencing(&mut self) -> Result<u32, ImageError> {
        let kind = self.kind();
        let Layout::Vdi {
            header,
            bmap,
            next_slot,
        } = &mut self.layout
        else {
            return Err(ImageError::Unsupported {
                operation: "reverting",
                kind,
                reason: "only a differencing image holds changes to discard",
            });
        };
        if kind != ImageKind::VdiDifferencing {
            return Err(ImageError::Unsupported {
                operation: "reverting",
                kind,
                reason: "only a differencing image holds changes to discard",
            });
        }
        let dropped = header.blocks_allocated;
        bmap.fill(BLOCK_FREE);
        self.storage
            .write_at(header.offset_bmap.into(), &encode_block_map(bmap))?;
        self.storage
            .write_at(BLOCKS_ALLOCATED_OFFSET, &0u32.to_le_bytes())?;
        header.blocks_allocated = 0;
        *next_slot = 0;
        self.storage.set_len(header.offset_data.into())?;
        self.storage.flush()?;
        Ok(dropped)
    }
}
