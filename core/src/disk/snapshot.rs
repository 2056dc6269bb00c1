//! Snapshots as differencing images, the way VirtualBox keeps them.
//!
//! Taking a snapshot freezes the current image and puts an empty differencing VDI on top of
//! it; from then on the guest writes only to the newest image, and reads fall through the
//! chain to the first image that has the block. Reverting throws the newest image's changes
//! away; deleting a snapshot merges the newest image into its parent.
//!
//! All images of a chain live on the same host storage: a snapshot protects against a bad
//! change in the guest, not against losing the host's disk (see [`super::backup`]).

use serde::{Deserialize, Serialize};

use super::image::{BlockLookup, Extent, Image, ImageError, ImageKind, WriteReport};
use super::storage::Storage;
use super::vdi::{Uuid, BLOCK_SIZE};

/// Why a snapshot operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum SnapshotError {
    /// The image below failed.
    #[error("{0}")]
    Image(#[from] ImageError),
    /// Revert or merge with no snapshot taken.
    #[error("there is no snapshot to {0}: the chain has only the base image")]
    NoSnapshot(&'static str),
    /// Images that do not form a chain.
    #[error("image {index} of the chain is not a child of image {}: its parent UUID is {parent}, the image before it is {previous}", index - 1)]
    BrokenChain {
        /// Position in the chain (base = 0).
        index: usize,
        /// The parent UUID the image names.
        parent: String,
        /// The UUID of the image before it.
        previous: String,
    },
    /// Only the base may be a non-differencing image.
    #[error("image {index} of the chain is a {} image; only the base may be one", kind.describe())]
    NotDifferencing {
        /// Position in the chain.
        index: usize,
        /// What it is.
        kind: ImageKind,
    },
    /// A name longer than a VDI header's description field holds.
    #[error("the snapshot name is {len} bytes long; a VDI keeps at most {MAX_NAME_BYTES} bytes of it (in its header's description): choose a shorter name")]
    NameTooLong {
        /// The name's length in UTF-8 bytes.
        len: usize,
    },
    /// A differencing image cannot be a base.
    #[error("the base of a chain cannot be a differencing image (its parent is missing)")]
    OrphanBase,
}

/// The longest snapshot name, in UTF-8 bytes: a VDI header's 256-byte description, less the
/// terminating NUL.
pub const MAX_NAME_BYTES: usize = 255;

/// Refuses a snapshot name the image could not keep whole (it is never cut silently).
pub fn check_name(name: &str) -> Result<(), SnapshotError> {
    if name.len() > MAX_NAME_BYTES {
        return Err(SnapshotError::NameTooLong { len: name.len() });
    }
    Ok(())
}

/// A base image and its differencing images, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain<S> {
    images: Vec<Image<S>>,
}

/// Result of a merge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeReport {
    /// Blocks copied into the parent.
    pub blocks_merged: u32,
}

impl<S: Storage> Chain<S> {
    /// A chain with only a base image.
    pub fn new(base: Image<S>) -> Chain<S> {
        Chain { images: vec![base] }
    }

    /// A chain from images opened separately, checking that each names the one before it as
    /// its parent.
    pub fn from_images(images: Vec<Image<S>>) -> Result<Chain<S>, SnapshotError> {
        let Some(base) = images.first() else {
            return Err(SnapshotError::NoSnapshot("build a chain from"));
        };
        if base.kind() == ImageKind::VdiDifferencing {
            return Err(SnapshotError::OrphanBase);
        }
        for index in 1..images.len() {
            let image = &images[index];
            if image.kind() != ImageKind::VdiDifferencing {
                return Err(SnapshotError::NotDifferencing {
                    index,
                    kind: image.kind(),
                });
            }
            let previous = images[index - 1].header().map(|h| h.uuid_image);
            let parent = image.header().map(|h| h.uuid_parent);
            if previous != parent || image.virtual_size() != images[index - 1].virtual_size() {
                return Err(SnapshotError::BrokenChain {
                    index,
                    parent: parent.map(|u| u.to_string()).unwrap_or_default(),
                    previous: previous.map(|u| u.to_string()).unwrap_or_default(),
                });
            }
        }
        Ok(Chain { images })
    }

    /// The images, base first.
    pub fn images(&self) -> &[Image<S>] {
        &self.images
    }

    /// The images, mutably (for storage limits).
    pub fn images_mut(&mut self) -> &mut [Image<S>] {
        &mut self.images
    }

    /// Gives the images back, base first.
    pub fn into_images(self) -> Vec<Image<S>> {
        self.images
    }

    /// Number of snapshots taken (differencing images on top of the base).
    pub fn snapshots(&self) -> usize {
        self.images.len() - 1
    }

    /// The image the guest writes to.
    pub fn newest(&self) -> &Image<S> {
        &self.images[self.images.len() - 1]
    }

    /// The image the guest writes to, mutably.
    pub fn newest_mut(&mut self) -> &mut Image<S> {
        let last = self.images.len() - 1;
        &mut self.images[last]
    }

    /// The size the guest sees.
    pub fn virtual_size(&self) -> u64 {
        self.images[0].virtual_size()
    }

    /// Host bytes of all images together.
    pub fn host_bytes(&self) -> Result<u64, ImageError> {
        self.images.iter().map(|i| i.host_bytes()).sum()
    }

    /// Reads through the chain: for each block, the newest image that has it decides.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        self.read_from(self.images.len(), offset, buf)
    }

    /// Reads what the chain looked like using only the first `depth` images.
    fn read_from(&self, depth: usize, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        self.images[0].check_range("read", offset, buf.len() as u64)?;
        let bs = u64::from(BLOCK_SIZE);
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let n = ((bs - at % bs) as usize).min(buf.len() - done);
            let block = at / bs;
            let piece = &mut buf[done..done + n];
            let owner = self.images[..depth]
                .iter()
                .rev()
                .find(|i| i.lookup(block) != BlockLookup::Unallocated);
            match owner {
                Some(image) => image.read(at, piece)?,
                None => piece.fill(0),
            }
            done += n;
        }
        Ok(())
    }

    /// [`Image::write_in_place`] for the chain: the newest image takes every write, so a write
    /// goes in place when each of its blocks is the newest image's own (a block only a parent
    /// holds is copied up first, by [`Chain::write`]).
    pub fn write_in_place(&self, offset: u64, len: u64) -> Result<Option<Vec<Extent>>, ImageError> {
        self.images[0].check_range("write", offset, len)?;
        self.newest().write_in_place(offset, len)
    }

    /// Writes to the newest image. A block the newest image does not have yet is first copied
    /// up whole from the chain below (copy-on-write), then changed.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<WriteReport, ImageError> {
        if self.images.len() == 1 {
            return self.images[0].write(offset, data);
        }
        self.images[0].check_range("write", offset, data.len() as u64)?;
        let bs = u64::from(BLOCK_SIZE);
        let depth = self.images.len();
        let mut report = WriteReport {
            bytes: data.len() as u64,
            new_blocks: 0,
        };
        let mut done = 0usize;
        while done < data.len() {
            let at = offset + done as u64;
            let n = ((bs - at % bs) as usize).min(data.len() - done);
            let block = at / bs;
            let piece = &data[done..done + n];
            if self.newest().lookup(block) == BlockLookup::Unallocated && n as u64 != bs {
                let start = block * bs;
                let usable = (self.virtual_size() - start).min(bs) as usize;
                let mut content = vec![0u8; bs as usize];
                self.read_from(depth - 1, start, &mut content[..usable])?;
                let within = (at - start) as usize;
                content[within..within + n].copy_from_slice(piece);
                self.newest_mut().write_whole_block(block, &content)?;
                report.new_blocks += 1;
            } else {
                report.new_blocks += self.newest_mut().write(at, piece)?.new_blocks;
            }
            done += n;
        }
        Ok(report)
    }

    /// Takes a snapshot: an empty differencing image in `storage` goes on top and receives
    /// every later write. `uuid`s come from the caller (the core has no randomness).
    pub fn take(
        &mut self,
        storage: S,
        uuid: Uuid,
        modification_uuid: Uuid,
        name: &str,
    ) -> Result<(), SnapshotError> {
        check_name(name)?;
        let child =
            Image::create_differencing(storage, self.newest(), uuid, modification_uuid, name)?;
        self.images.push(child);
        Ok(())
    }

    /// Reverts to the newest snapshot: the changes made since are thrown away, the snapshot
    /// stays (as in VirtualBox's "restore snapshot"). Returns blocks discarded.
    pub fn revert(&mut self) -> Result<u32, SnapshotError> {
        if self.images.len() < 2 {
            return Err(SnapshotError::NoSnapshot("revert to"));
        }
        Ok(self.newest_mut().reset_differencing()?)
    }

    /// Deletes the newest snapshot, keeping the current state: the newest image's blocks are
    /// copied into its parent, then the image is removed and its storage handed back for the
    /// caller to delete. Until then the child still overrides the parent with the same bytes,
    /// so an interrupted merge loses nothing.
    pub fn merge(&mut self) -> Result<(S, MergeReport), SnapshotError> {
        if self.images.len() < 2 {
            return Err(SnapshotError::NoSnapshot("merge"));
        }
        let bs = u64::from(BLOCK_SIZE);
        let child_index = self.images.len() - 1;
        let mut report = MergeReport::default();
        let mut content = vec![0u8; bs as usize];
        let mut zero_blocks = Vec::new();
        for block in 0..self.images[child_index].blocks_total() {
            match self.images[child_index].lookup(block) {
                BlockLookup::Data { host_offset } => {
                    self.images[child_index]
                        .storage()
                        .read_at(host_offset, &mut content)
                        .map_err(ImageError::from)?;
                    self.images[child_index - 1].write_whole_block(block, &content)?;
                    report.blocks_merged += 1;
                }
                BlockLookup::Zero => zero_blocks.push(block),
                BlockLookup::Unallocated => {}
            }
        }
        let parent = &mut self.images[child_index - 1];
        let size = parent.virtual_size();
        for block in zero_blocks {
            let start = block * bs;
            parent.discard(start, bs.min(size - start))?;
            report.blocks_merged += 1;
        }
        let child = self.images.pop().map(Image::into_storage);
        match child {
            Some(storage) => Ok((storage, report)),
            None => Err(SnapshotError::NoSnapshot("merge")),
        }
    }
}
