//! What an image costs the host: the state of every block, the summary `labvisor disk info`
//! prints, and the one-line picture of the block map.

use super::*;

impl<S: Storage> Image<S> {
    /// The state of every 1 MiB block (for raw: whether the host has space behind it).
    pub fn block_states(&self) -> Result<Vec<BlockState>, ImageError> {
        match &self.layout {
            Layout::Vdi { bmap, .. } => Ok(bmap
                .iter()
                .map(|&e| match e {
                    BLOCK_FREE => BlockState::Free,
                    BLOCK_ZERO => BlockState::Zero,
                    _ => BlockState::Data,
                })
                .collect()),
            Layout::Raw { size, .. } => {
                // Only the pieces with data are visited: the holes of a sparse file are
                // skipped whole, however large.
                let mut states = vec![BlockState::Free; self.blocks_total() as usize];
                let mut at = 0;
                while let Some(data) = raw::next_data_unit(&self.storage, at, *size)? {
                    let block = data / block_len();
                    let start = block * block_len();
                    let n = block_len().min(size - start);
                    if self.storage.is_allocated(start, n)? {
                        states[block as usize] = BlockState::Data;
                    }
                    at = start + n;
                }
                Ok(states)
            }
        }
    }

    /// Everything `disk info` shows.
    pub fn info(&self) -> Result<ImageInfo, ImageError> {
        let states = self.block_states()?;
        let header = self.header();
        Ok(ImageInfo {
            format: self.format(),
            kind: self.kind(),
            virtual_size: self.virtual_size(),
            file_len: self.storage.len()?,
            host_bytes: self.host_bytes()?,
            block_size: block_len(),
            blocks_total: states.len() as u64,
            blocks_used: states.iter().filter(|s| **s == BlockState::Data).count() as u64,
            blocks_zero: states.iter().filter(|s| **s == BlockState::Zero).count() as u64,
            uuid: header.map(|h| h.uuid_image.to_string()),
            parent_uuid: header
                .filter(|h| !h.uuid_parent.is_nil())
                .map(|h| h.uuid_parent.to_string()),
            description: header
                .map(|h| h.description.clone())
                .filter(|d| !d.is_empty()),
        })
    }
}

/// A one-line picture of the block map, `width` cells wide: `#` all data, `+` some data,
/// `z` only zero-marked blocks, `.` never written.
pub fn block_picture(states: &[BlockState], width: usize) -> String {
    if states.is_empty() || width == 0 {
        return String::new();
    }
    let cells = width.min(states.len());
    (0..cells)
        .map(|c| {
            let from = c * states.len() / cells;
            let to = ((c + 1) * states.len() / cells).max(from + 1);
            let group = &states[from..to];
            let data = group.iter().filter(|s| **s == BlockState::Data).count();
            if data == group.len() {
                '#'
            } else if data > 0 {
                '+'
            } else if group.contains(&BlockState::Zero) {
                'z'
            } else {
                '.'
            }
        })
        .collect()
}
