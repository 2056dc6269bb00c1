//! A host's storage: physical capacity shared by the VM disks on it.
//!
//! Fixed images take their whole size at creation, so they must fit then. Dynamic images take
//! space as their guests write, so the sizes promised to guests may add up to more than the
//! host has (overcommit). That works until the guests really fill the host: then a guest
//! write cannot be stored and VirtualBox suspends the VM (a `DrvVD_DISKFULL` runtime error,
//! raised before the guest sees any I/O error; VirtualBox redoes the write on resume). Nothing
//! written before is lost, and the VM can resume once space is freed. The model does not keep
//! the pending write: the guest writes it again after `resume`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::image::{Allocation, CreateSpec, Format, Image, ImageError, WriteReport};
use super::size::ByteSize;
use super::snapshot::{Chain, MergeReport, SnapshotError};
use super::storage::MemStorage;
use super::vdi::{Uuid, BLOCK_SIZE, DEFAULT_BMAP_OFFSET, MAX_BLOCKS};

/// Why a pool operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum PoolError {
    /// No such disk.
    #[error("no disk named `{0}` in this pool")]
    UnknownDisk(String),
    /// Name taken.
    #[error("a disk named `{0}` already exists in this pool")]
    DiskExists(String),
    /// A fixed image larger than the free space.
    #[error("a fixed-size image takes all {} at creation, but only {} of {} is free", ByteSize(*needed), ByteSize(*free), ByteSize(*capacity))]
    DoesNotFit {
        /// Host bytes needed now.
        needed: u64,
        /// Host bytes free.
        free: u64,
        /// Capacity.
        capacity: u64,
    },
    /// The pool's disk died.
    #[error("the host disk of pool `{0}` has failed: every image on it is gone")]
    HostDiskFailed(String),
    /// The VM is paused because the host disk was full.
    #[error("the VM using `{0}` is paused because the host disk is full: free space, then resume")]
    Paused(String),
    /// The image layer failed.
    #[error("{0}")]
    Image(#[from] ImageError),
    /// The snapshot layer failed.
    #[error("{0}")]
    Snapshot(#[from] SnapshotError),
}

/// Something that happened in the pool, for the lesson's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum PoolEvent {
    /// A disk was created.
    Created {
        /// Disk name.
        disk: String,
        /// Size the guest sees.
        virtual_size: u64,
        /// Dynamic or fixed.
        allocation: Allocation,
        /// Host bytes it took at creation.
        host_bytes: u64,
    },
    /// A guest write could not be stored because the host is full; the VM was paused (the
    /// guest itself sees no error).
    GuestIoError {
        /// Disk name.
        disk: String,
        /// Guest offset of the failed write.
        offset: u64,
        /// Its length.
        len: u64,
        /// Host bytes free when it failed.
        free: u64,
    },
    /// The VM was resumed.
    Resumed {
        /// Disk name.
        disk: String,
    },
    /// A disk was deleted.
    Deleted {
        /// Disk name.
        disk: String,
        /// Host bytes freed.
        freed: u64,
    },
    /// The host's disk died.
    HostDiskDied {
        /// Disks lost, with all their snapshots.
        lost_disks: Vec<String>,
        /// Images lost (bases and snapshots).
        lost_images: usize,
    },
}

/// Outcome of a guest write through the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuestWrite {
    /// Written.
    Done(WriteReport),
    /// The host was full: the write was not stored and the VM is now paused.
    IoError {
        /// Host bytes free.
        free: u64,
    },
}

/// A host storage pool (one physical disk) in one failure domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    name: String,
    failure_domain: String,
    capacity: u64,
    disks: BTreeMap<String, Chain<MemStorage>>,
    paused: BTreeSet<String>,
    failed: bool,
    events: Vec<PoolEvent>,
}

impl Pool {
    /// An empty pool of `capacity` bytes in `failure_domain` (e.g. a host's name: everything
    /// in one failure domain is lost together).
    pub fn new(name: &str, failure_domain: &str, capacity: u64) -> Pool {
        Pool {
            name: name.to_string(),
            failure_domain: failure_domain.to_string(),
            capacity,
            disks: BTreeMap::new(),
            paused: BTreeSet::new(),
            failed: false,
            events: Vec::new(),
        }
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The failure domain it lives in.
    pub fn failure_domain(&self) -> &str {
        &self.failure_domain
    }

    /// Physical capacity.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// What happened, oldest first.
    pub fn events(&self) -> &[PoolEvent] {
        &self.events
    }

    /// Whether the host disk has died.
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// Names of the disks.
    pub fn disk_names(&self) -> Vec<String> {
        self.disks.keys().cloned().collect()
    }

    /// A disk's chain.
    pub fn disk(&self, name: &str) -> Result<&Chain<MemStorage>, PoolError> {
        self.alive()?;
        self.disks
            .get(name)
            .ok_or_else(|| PoolError::UnknownDisk(name.to_string()))
    }

    /// Whether a disk's VM is paused.
    pub fn is_paused(&self, name: &str) -> bool {
        self.paused.contains(name)
    }

    fn alive(&self) -> Result<(), PoolError> {
        if self.failed {
            Err(PoolError::HostDiskFailed(self.name.clone()))
        } else {
            Ok(())
        }
    }

    /// Host bytes used by every image (snapshots included).
    pub fn used(&self) -> u64 {
        self.disks
            .values()
            .map(|c| c.host_bytes().unwrap_or(0))
            .fold(0, u64::saturating_add)
    }

    /// Host bytes free.
    pub fn free(&self) -> u64 {
        self.capacity.saturating_sub(self.used())
    }

    /// Sum of the sizes promised to guests.
    pub fn provisioned(&self) -> u64 {
        self.disks
            .values()
            .map(Chain::virtual_size)
            .fold(0, u64::saturating_add)
    }

    /// Provisioned / capacity: above 1.0 the pool is overcommitted.
    pub fn overcommit_ratio(&self) -> f64 {
        ratio(self.provisioned(), self.capacity)
    }

    /// Lets every image of `name` grow only into the pool's free space.
    fn limit(&mut self, name: &str) {
        let free = self.free();
        if let Some(chain) = self.disks.get_mut(name) {
            for image in chain.images_mut() {
                let own = image.host_bytes().unwrap_or(0);
                image.storage_mut().set_limit(Some(own + free));
            }
        }
    }

    fn chain_mut(&mut self, name: &str) -> Result<&mut Chain<MemStorage>, PoolError> {
        self.alive()?;
        if !self.disks.contains_key(name) {
            return Err(PoolError::UnknownDisk(name.to_string()));
        }
        self.limit(name);
        self.disks
            .get_mut(name)
            .ok_or_else(|| PoolError::UnknownDisk(name.to_string()))
    }

    /// Creates a VDI disk. A fixed image must fit now; a dynamic one only needs room for its
    /// header and block map.
    pub fn create_disk(
        &mut self,
        name: &str,
        virtual_size: u64,
        allocation: Allocation,
        uuid: Uuid,
    ) -> Result<(), PoolError> {
        self.alive()?;
        if self.disks.contains_key(name) {
            return Err(PoolError::DiskExists(name.to_string()));
        }
        let needed = vdi_host_bytes_at_creation(virtual_size, allocation);
        let free = self.free();
        if needed > free {
            return Err(PoolError::DoesNotFit {
                needed,
                free,
                capacity: self.capacity,
            });
        }
        let mut storage = MemStorage::new();
        storage.set_limit(Some(free));
        let spec = CreateSpec {
            format: Format::Vdi,
            allocation,
            virtual_size,
            uuid,
            modification_uuid: uuid,
        };
        let image = Image::create(storage, spec, &mut |_, _| {})?;
        let host_bytes = image.host_bytes()?;
        self.disks.insert(name.to_string(), Chain::new(image));
        self.events.push(PoolEvent::Created {
            disk: name.to_string(),
            virtual_size,
            allocation,
            host_bytes,
        });
        Ok(())
    }

    /// Adds a chain copied from elsewhere (a restore or a backup copy), if it fits.
    pub fn insert_chain(&mut self, name: &str, chain: Chain<MemStorage>) -> Result<(), PoolError> {
        self.alive()?;
        if self.disks.contains_key(name) {
            return Err(PoolError::DiskExists(name.to_string()));
        }
        let needed = chain.host_bytes()?;
        let free = self.free();
        if needed > free {
            return Err(PoolError::DoesNotFit {
                needed,
                free,
                capacity: self.capacity,
            });
        }
        self.disks.insert(name.to_string(), chain);
        Ok(())
    }

    /// Deletes a disk with its snapshots, freeing its space.
    pub fn delete_disk(&mut self, name: &str) -> Result<u64, PoolError> {
        self.alive()?;
        let chain = self
            .disks
            .remove(name)
            .ok_or_else(|| PoolError::UnknownDisk(name.to_string()))?;
        self.paused.remove(name);
        let freed = chain.host_bytes()?;
        self.events.push(PoolEvent::Deleted {
            disk: name.to_string(),
            freed,
        });
        Ok(freed)
    }

    /// The guest writes. If the host is full the write is not stored, the VM pauses, and every
    /// byte written before stays intact.
    pub fn guest_write(
        &mut self,
        name: &str,
        offset: u64,
        data: &[u8],
    ) -> Result<GuestWrite, PoolError> {
        if self.paused.contains(name) {
            return Err(PoolError::Paused(name.to_string()));
        }
        let chain = self.chain_mut(name)?;
        match chain.write(offset, data) {
            Ok(report) => Ok(GuestWrite::Done(report)),
            Err(e) if e.is_no_space() => {
                let free = self.free();
                self.paused.insert(name.to_string());
                self.events.push(PoolEvent::GuestIoError {
                    disk: name.to_string(),
                    offset,
                    len: data.len() as u64,
                    free,
                });
                Ok(GuestWrite::IoError { free })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The guest reads.
    pub fn guest_read(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<(), PoolError> {
        Ok(self.disk(name)?.read(offset, buf)?)
    }

    /// Resumes a paused VM (after space was freed; a write that still does not fit pauses it
    /// again).
    pub fn resume(&mut self, name: &str) -> Result<(), PoolError> {
        self.alive()?;
        if self.paused.remove(name) {
            self.events.push(PoolEvent::Resumed {
                disk: name.to_string(),
            });
        }
        Ok(())
    }

    /// Takes a snapshot of a disk; the differencing image lives in this same pool.
    pub fn take_snapshot(&mut self, name: &str, uuid: Uuid, label: &str) -> Result<(), PoolError> {
        let free = self.free();
        let chain = self.chain_mut(name)?;
        let mut storage = MemStorage::new();
        storage.set_limit(Some(free));
        chain.take(storage, uuid, uuid, label)?;
        Ok(())
    }

    /// Reverts a disk to its newest snapshot.
    pub fn revert(&mut self, name: &str) -> Result<u32, PoolError> {
        Ok(self.chain_mut(name)?.revert()?)
    }

    /// Deletes a disk's newest snapshot, merging it into its parent.
    pub fn merge(&mut self, name: &str) -> Result<MergeReport, PoolError> {
        Ok(self.chain_mut(name)?.merge()?.1)
    }

    /// The host's disk dies: every image on it, snapshots included, is gone.
    pub fn fail(&mut self) {
        let lost_images = self.disks.values().map(|c| c.images().len()).sum();
        let lost_disks = self.disk_names();
        self.disks.clear();
        self.paused.clear();
        self.failed = true;
        self.events.push(PoolEvent::HostDiskDied {
            lost_disks,
            lost_images,
        });
    }

    /// Puts in a new, empty disk of the same capacity after a failure.
    pub fn replace_disk(&mut self) {
        self.failed = false;
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::INFINITY
    } else {
        a as f64 / b as f64
    }
}

/// Host bytes a new VDI takes: header and block map, plus every block if fixed. Computed
/// without overflow; a size no 64-bit count can hold comes out as `u64::MAX`.
pub fn vdi_host_bytes_at_creation(virtual_size: u64, allocation: Allocation) -> u64 {
    u64::try_from(vdi_host_bytes_exact(virtual_size, allocation)).unwrap_or(u64::MAX)
}

fn vdi_host_bytes_exact(virtual_size: u64, allocation: Allocation) -> u128 {
    let blocks = u128::from(virtual_size.div_ceil(u64::from(BLOCK_SIZE)));
    // Header and block map (4 bytes a block, in whole sectors), in whole 4 KiB file-system
    // blocks; the gap up to the data area is a hole.
    let bmap = (blocks * 4).div_ceil(512) * 512;
    let metadata = (u128::from(DEFAULT_BMAP_OFFSET) + bmap).div_ceil(4096) * 4096;
    match allocation {
        Allocation::Dynamic => metadata,
        Allocation::Fixed => metadata + blocks * u128::from(BLOCK_SIZE),
    }
}

/// The largest disk a VDI can describe: [`MAX_BLOCKS`] blocks of 1 MiB (1024 TiB − 1 MiB).
pub const VDI_MAX_SIZE: u64 = MAX_BLOCKS as u64 * BLOCK_SIZE as u64;

/// Why a plan was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A disk larger than any VDI can be.
    #[error("vm{index}: {size} bytes ({}) is larger than a VDI image can be: at most 0x3FFFFFFF blocks of 1 MiB, just under 1024 TiB", ByteSize(*size))]
    TooLarge {
        /// 1-based position of the disk, as the plan's table numbers it.
        index: usize,
        /// Its size in bytes.
        size: u64,
    },
}

/// [`plan`], refusing disks no VDI can hold, so every figure in the plan is a real one.
pub fn try_plan(capacity: u64, disks: &[(u64, Allocation)]) -> Result<Plan, PlanError> {
    if let Some((i, &(size, _))) = disks.iter().enumerate().find(|(_, d)| d.0 > VDI_MAX_SIZE) {
        return Err(PlanError::TooLarge { index: i + 1, size });
    }
    Ok(plan(capacity, disks))
}

/// One VM disk in a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedDisk {
    /// Size the guest sees.
    pub virtual_size: u64,
    /// Dynamic or fixed.
    pub allocation: Allocation,
    /// Host bytes taken at creation.
    pub at_creation: u64,
    /// Host bytes when the guest has written every block.
    pub when_full: u64,
}

/// Whether a set of VM disks fits on a host disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Host disk capacity.
    pub capacity: u64,
    /// The disks.
    pub disks: Vec<PlannedDisk>,
    /// Sum of guest-visible sizes.
    pub provisioned: u64,
    /// Host bytes taken at creation.
    pub at_creation: u64,
    /// Host bytes if every guest fills its disk.
    pub when_full: u64,
    /// Whether the disks can be created at all (fixed ones take their space now).
    pub fits_at_creation: bool,
    /// Whether the host can hold every disk completely full.
    pub fits_when_full: bool,
    /// provisioned / capacity.
    pub overcommit_ratio: f64,
    /// Bytes dynamic disks may grow by before the host is full.
    pub growth_room: u64,
}

/// Plans VDI disks on a host disk of `capacity` bytes.
pub fn plan(capacity: u64, sizes: &[(u64, Allocation)]) -> Plan {
    let disks: Vec<PlannedDisk> = sizes
        .iter()
        .map(|&(virtual_size, allocation)| PlannedDisk {
            virtual_size,
            allocation,
            at_creation: vdi_host_bytes_at_creation(virtual_size, allocation),
            when_full: vdi_host_bytes_at_creation(virtual_size, Allocation::Fixed),
        })
        .collect();
    // Summed in 128 bits: the verdicts compare exact totals, and a total past 64 bits shows
    // as u64::MAX instead of wrapping around to a small number that "fits".
    let total = |f: &dyn Fn(&(u64, Allocation)) -> u128| -> u128 { sizes.iter().map(f).sum() };
    let provisioned = total(&|d| u128::from(d.0));
    let at_creation = total(&|d| vdi_host_bytes_exact(d.0, d.1));
    let when_full = total(&|d| vdi_host_bytes_exact(d.0, Allocation::Fixed));
    let clamp = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
    Plan {
        capacity,
        provisioned: clamp(provisioned),
        at_creation: clamp(at_creation),
        when_full: clamp(when_full),
        fits_at_creation: at_creation <= u128::from(capacity),
        fits_when_full: when_full <= u128::from(capacity),
        overcommit_ratio: if capacity == 0 {
            f64::INFINITY
        } else {
            provisioned as f64 / capacity as f64
        },
        growth_room: clamp(u128::from(capacity).saturating_sub(at_creation)),
        disks,
    }
}
