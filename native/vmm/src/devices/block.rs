//! virtio-blk (virtio 1.2 §5.2): a disk for the guest, backed by whatever implements
//! [`BlockBackend`] (the CLI gives it the disk engine's VDI and raw images).
//!
//! A request is a descriptor chain: a 16-byte header the device reads (type, sector), data
//! buffers, and a last, device-writable byte for the status. The guest is untrusted: the header
//! is copied out of guest memory before it is looked at, every length is capped, every sector
//! sum is checked, a request past the end of the disk gets `IOERR`, and a chain without a
//! writable status byte is completed with nothing written rather than guessed at. Each
//! notification handles at most one queue's worth of chains.
//!
//! A write's data goes from guest memory to the disk without a copy where the backend can
//! take it so ([`BlockBackend::write_from_guest`]), as QEMU writes with `pwritev`: a guest
//! that changes a buffer while its write is in flight may find either version, or a mix, on
//! the disk, as on real hardware. That is the guest's own data only: what keeps an image
//! consistent (a VDI's header and block map) the backend writes from its own state.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use virtio_queue::desc::split::Descriptor;

use virtio_queue::{Queue, QueueT};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, VolatileSlice};

use super::virtio_mmio::VirtioDevice;

pub use labvisor_guest_abi::virtio::blk::{feature, request, status, DEVICE_ID, SECTOR};
/// Entries in the request queue.
pub const QUEUE_SIZE: u16 = 256;
/// Largest data transfer one request may ask for (the `size_max` × `seg_max` the device
/// announces); bigger requests are refused, not buffered.
pub const MAX_REQUEST_BYTES: u64 = 4 << 20;
/// Most data segments one request may have.
pub const SEG_MAX: u32 = 128;

/// Bytes of the device id `GET_ID` returns.
pub const ID_BYTES: usize = 20;
/// Bytes of one DISCARD / WRITE_ZEROES segment: sector (u64), sectors (u32), flags (u32).
const RANGE_BYTES: usize = 16;

/// Why a backend could not carry out a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The host has no room for the data (a full filesystem).
    #[error("the host has no space left: {0}")]
    NoSpace(String),
    /// Anything else the storage reported.
    #[error("{0}")]
    Io(String),
}

/// A disk as the device sees it: byte offsets, already checked against [`capacity`].
///
/// [`capacity`]: BlockBackend::capacity
pub trait BlockBackend: Send {
    /// Size in bytes (a multiple of [`SECTOR`]).
    fn capacity(&self) -> u64;
    /// Whether writes are refused.
    fn read_only(&self) -> bool;
    /// A short identifier for `GET_ID` (at most 20 bytes are used).
    fn id(&self) -> String;
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError>;
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), BlockError>;
    /// Writes the guest's buffers `data`, in order from `offset`, straight from guest memory
    /// where it can. `Ok(false)`, with nothing written, when the backend needs the bytes
    /// copied out first: the device then copies them and calls [`write`](BlockBackend::write).
    /// The default always asks for the copy.
    fn write_from_guest(
        &mut self,
        _offset: u64,
        _data: &[VolatileSlice<'_>],
    ) -> Result<bool, BlockError> {
        Ok(false)
    }
    /// Makes every completed write durable on the host.
    fn flush(&mut self) -> Result<(), BlockError>;
    /// The guest no longer needs these bytes; whole blocks may be given back to the host.
    fn discard(&mut self, offset: u64, len: u64) -> Result<(), BlockError>;
    /// The bytes read as zero from now on.
    fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BlockError>;
    /// What the disk costs the host now, where the backend can tell.
    fn usage(&self) -> Option<DiskUsage> {
        None
    }
    /// Takes a live snapshot: what is written so far is frozen and later writes go to a new
    /// image. Returns where they go now, for the console.
    fn snapshot(&mut self) -> Result<String, BlockError> {
        Err(BlockError::Io("this disk cannot take snapshots".into()))
    }
}

/// A disk's size as the guest sees it and what it costs on the host: the figures the disk
/// lessons compare (`labvisor disk info` shows the same).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiskUsage {
    pub virtual_bytes: u64,
    /// Length of the image files.
    pub file_bytes: u64,
    /// Bytes the host filesystem really spends on them.
    pub host_bytes: u64,
    /// Blocks with data, of `blocks_total` (1 MiB each for VDI).
    pub blocks_used: u64,
    pub blocks_total: u64,
}

/// A backend shared by the device (for the guest's requests) and the VMM (for the usage
/// figures at boot, on `Ctrl-A d` and at the end).
pub type SharedBackend = Arc<Mutex<Box<dyn BlockBackend>>>;

/// What the device has done, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BlockCounters {
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
    pub discards: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    /// Requests answered with IOERR or UNSUPP, and chains too malformed to answer.
    pub errors: u64,
    /// Times the VM paused because the host had no room for a write.
    pub pauses: u64,
}

impl BlockCounters {
    fn add(&mut self, other: &BlockCounters) {
        self.reads += other.reads;
        self.writes += other.writes;
        self.flushes += other.flushes;
        self.discards += other.discards;
        self.bytes_read += other.bytes_read;
        self.bytes_written += other.bytes_written;
        self.errors += other.errors;
        self.pauses += other.pauses;
    }
}

/// What happens to the VM when a disk's host runs out of space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpaceEvent {
    /// A write found no room: the vCPU waits (the VM is paused) and retries.
    Paused { disk: String, why: String },
    /// The write went through: the VM runs on.
    Resumed { disk: String },
}

/// The pause VirtualBox calls `DrvVD_DISKFULL`: a write the host cannot store holds the vCPU
/// that issued it, retried every [`RETRY`](PauseGate::RETRY) or at once on
/// [`resume`](PauseGate::resume), instead of failing inside the guest. Nothing is lost: the
/// write completes when space comes back.
pub struct PauseGate {
    disk: String,
    paused: Mutex<bool>,
    wake: Condvar,
    notify: Box<dyn Fn(SpaceEvent) + Send + Sync>,
}

impl PauseGate {
    /// How long a paused write waits before it tries again on its own.
    pub const RETRY: Duration = Duration::from_secs(1);

    /// A gate for disk `disk` that reports pauses and resumptions to `notify`.
    pub fn new(disk: String, notify: impl Fn(SpaceEvent) + Send + Sync + 'static) -> PauseGate {
        PauseGate {
            disk,
            paused: Mutex::new(false),
            wake: Condvar::new(),
            notify: Box::new(notify),
        }
    }

    /// Waits until [`resume`](PauseGate::resume) or [`RETRY`](PauseGate::RETRY) has passed.
    /// Returns whether this started a pause (the first failed try).
    fn wait_for_room(&self, why: &str) -> bool {
        let mut paused = self.paused.lock().unwrap_or_else(|p| p.into_inner());
        let started = !*paused;
        if started {
            *paused = true;
            (self.notify)(SpaceEvent::Paused {
                disk: self.disk.clone(),
                why: why.to_string(),
            });
        }
        let _ = self
            .wake
            .wait_timeout(paused, Self::RETRY)
            .unwrap_or_else(|p| p.into_inner());
        started
    }

    /// A write went through: ends a pause, if there was one.
    fn wrote(&self) {
        let mut paused = self.paused.lock().unwrap_or_else(|p| p.into_inner());
        if *paused {
            *paused = false;
            (self.notify)(SpaceEvent::Resumed {
                disk: self.disk.clone(),
            });
        }
    }

    /// Retries a paused write now (`Ctrl-A r`).
    pub fn resume(&self) {
        self.wake.notify_all();
    }
}

/// The virtio-blk device.
pub struct VirtioBlock {
    backend: SharedBackend,
    /// Where a write waits for host space; without one it fails with IOERR.
    gate: Option<Arc<PauseGate>>,
    /// Fixed for the device's life, read without taking the backend's lock.
    capacity: u64,
    read_only: bool,
    counters: Arc<Mutex<BlockCounters>>,
    /// Where an OUT request's data is copied out of guest memory for a backend that cannot
    /// write it in place; it only grows, to the largest such request seen, at most
    /// [`MAX_REQUEST_BYTES`] (the span check comes first).
    out_buffer: Vec<u8>,
}

impl VirtioBlock {
    /// A device over `backend`. `counters` is shared with whoever reports them.
    pub fn new(backend: SharedBackend, counters: Arc<Mutex<BlockCounters>>) -> VirtioBlock {
        let (capacity, read_only) = {
            let b = backend.lock().unwrap_or_else(|p| p.into_inner());
            (b.capacity(), b.read_only())
        };
        VirtioBlock {
            backend,
            gate: None,
            capacity,
            read_only,
            counters,
            out_buffer: Vec::new(),
        }
    }

    /// Pauses at `gate` when the host has no room for a write, instead of failing it.
    pub fn pausing_at(self, gate: Arc<PauseGate>) -> VirtioBlock {
        VirtioBlock {
            gate: Some(gate),
            ..self
        }
    }

    fn backend(&self) -> std::sync::MutexGuard<'_, Box<dyn BlockBackend>> {
        self.backend.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn config(&self) -> [u8; CONFIG_BYTES] {
        let mut c = [0u8; CONFIG_BYTES];
        let sectors = self.capacity / SECTOR;
        c[0..8].copy_from_slice(&sectors.to_le_bytes());
        c[8..12].copy_from_slice(&(1u32 << 20).to_le_bytes()); // size_max
        c[12..16].copy_from_slice(&SEG_MAX.to_le_bytes()); // seg_max
        c[20..24].copy_from_slice(&(SECTOR as u32).to_le_bytes()); // blk_size
        let limit = (MAX_REQUEST_BYTES / SECTOR) as u32;
        c[36..40].copy_from_slice(&limit.to_le_bytes()); // max_discard_sectors
        c[40..44].copy_from_slice(&1u32.to_le_bytes()); // max_discard_seg
        c[44..48].copy_from_slice(&1u32.to_le_bytes()); // discard_sector_alignment
        c[48..52].copy_from_slice(&limit.to_le_bytes()); // max_write_zeroes_sectors
        c[52..56].copy_from_slice(&1u32.to_le_bytes()); // max_write_zeroes_seg
        c
    }

    /// Carries out one request; returns the status and the bytes written into the guest's
    /// buffers (data for IN and GET_ID).
    fn execute(&mut self, mem: &GuestMemoryMmap, req: &Request) -> (u8, u32) {
        // Counted locally and added at the end: a write may wait for host space, and the
        // shared counters must stay readable meanwhile.
        let mut counters = BlockCounters::default();
        let result = match req.kind {
            request::IN => self.transfer_in(mem, req, &mut counters),
            request::OUT if self.read_only => Err(status::IOERR),
            request::OUT => self.transfer_out(mem, req, &mut counters),
            request::FLUSH => {
                counters.flushes += 1;
                self.backend()
                    .flush()
                    .map(|()| 0)
                    .map_err(|_| status::IOERR)
            }
            request::GET_ID => {
                let mut id = [0u8; ID_BYTES];
                let text = self.backend().id();
                let n = text.len().min(ID_BYTES);
                id[..n].copy_from_slice(&text.as_bytes()[..n]);
                write_buffers(mem, &req.data, &id)
                    .map(|n| n as u32)
                    .ok_or(status::IOERR)
            }
            request::DISCARD | request::WRITE_ZEROES if self.read_only => Err(status::IOERR),
            request::DISCARD | request::WRITE_ZEROES => {
                counters.discards += 1;
                self.ranges(mem, req)
            }
            _ => Err(status::UNSUPP),
        };
        let answer = match result {
            Ok(written) => (status::OK, written),
            Err(code) => {
                counters.errors += 1;
                (code, 0)
            }
        };
        self.counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(&counters);
        answer
    }

    /// The byte range a data transfer covers, checked against the disk.
    fn span(&self, req: &Request) -> Result<(u64, u64), u8> {
        let len: u64 = req.data.iter().map(|d| u64::from(d.len())).sum();
        if len % SECTOR != 0 || len > MAX_REQUEST_BYTES {
            return Err(status::IOERR);
        }
        let offset = req.sector.checked_mul(SECTOR).ok_or(status::IOERR)?;
        let end = offset.checked_add(len).ok_or(status::IOERR)?;
        if end > self.capacity {
            return Err(status::IOERR);
        }
        Ok((offset, len))
    }

    fn transfer_in(
        &mut self,
        mem: &GuestMemoryMmap,
        req: &Request,
        counters: &mut BlockCounters,
    ) -> Result<u32, u8> {
        if req.data.iter().any(|d| !d.is_write_only()) {
            return Err(status::IOERR);
        }
        let (offset, len) = self.span(req)?;
        let mut bytes = vec![0u8; len as usize];
        self.backend()
            .read(offset, &mut bytes)
            .map_err(|_| status::IOERR)?;
        write_buffers(mem, &req.data, &bytes).ok_or(status::IOERR)?;
        counters.reads += 1;
        counters.bytes_read += len;
        Ok(len as u32)
    }

    fn transfer_out(
        &mut self,
        mem: &GuestMemoryMmap,
        req: &Request,
        counters: &mut BlockCounters,
    ) -> Result<u32, u8> {
        if req.data.iter().any(|d| d.is_write_only()) {
            return Err(status::IOERR);
        }
        let (offset, len) = self.span(req)?;
        let mut buffers = Vec::with_capacity(req.data.len());
        for d in &req.data {
            // A buffer may span two regions of guest memory: one slice each.
            for slice in mem.get_slices(d.addr(), d.len() as usize) {
                buffers.push(slice.map_err(|_| status::IOERR)?);
            }
        }
        let len = len as usize;
        let mut copied = false;
        loop {
            let mut backend = self.backend.lock().unwrap_or_else(|p| p.into_inner());
            let result = match backend.write_from_guest(offset, &buffers) {
                Ok(true) => Ok(()),
                Ok(false) => {
                    if !copied {
                        copy_out(&buffers, &mut self.out_buffer, len);
                        copied = true;
                    }
                    backend.write(offset, &self.out_buffer[..len])
                }
                Err(e) => Err(e),
            };
            drop(backend);
            match (result, &self.gate) {
                (Ok(()), gate) => {
                    if let Some(gate) = gate {
                        gate.wrote();
                    }
                    break;
                }
                (Err(BlockError::NoSpace(why)), Some(gate)) => {
                    if gate.wait_for_room(&why) {
                        counters.pauses += 1;
                    }
                }
                (Err(_), _) => return Err(status::IOERR),
            }
        }
        counters.writes += 1;
        counters.bytes_written += len as u64;
        Ok(0)
    }

    /// DISCARD or WRITE_ZEROES: one range (max_*_seg is 1), checked against the disk.
    fn ranges(&mut self, mem: &GuestMemoryMmap, req: &Request) -> Result<u32, u8> {
        let [segment] = req.data.as_slice() else {
            return Err(status::UNSUPP);
        };
        if segment.is_write_only() || segment.len() as usize != RANGE_BYTES {
            return Err(status::UNSUPP);
        }
        let mut raw = [0u8; RANGE_BYTES];
        mem.read_slice(&mut raw, segment.addr())
            .map_err(|_| status::IOERR)?;
        let sector = u64::from_le_bytes(raw[0..8].try_into().expect("8 bytes"));
        let sectors = u32::from_le_bytes(raw[8..12].try_into().expect("4 bytes"));
        let offset = sector.checked_mul(SECTOR).ok_or(status::IOERR)?;
        let len = u64::from(sectors) * SECTOR;
        let end = offset.checked_add(len).ok_or(status::IOERR)?;
        if end > self.capacity || len > MAX_REQUEST_BYTES {
            return Err(status::IOERR);
        }
        let done = if req.kind == request::DISCARD {
            self.backend().discard(offset, len)
        } else {
            self.backend().write_zeroes(offset, len)
        };
        done.map(|()| 0).map_err(|_| status::IOERR)
    }
}

/// Bytes of config space this device has (through `max_write_zeroes_seg` and
/// `write_zeroes_may_unmap`, virtio 1.2 §5.2.4).
const CONFIG_BYTES: usize = 60;

/// A request as copied out of its descriptor chain.
struct Request {
    kind: u32,
    sector: u64,
    data: Vec<Descriptor>,
}

/// Splits a chain into header, data and status descriptors and copies the header out.
/// `None`: the chain has no room for a status byte the device may write.
fn parse_chain(
    mem: &GuestMemoryMmap,
    descriptors: &[Descriptor],
) -> Option<(Result<Request, u8>, GuestAddress)> {
    let (status_desc, rest) = descriptors.split_last()?;
    if !status_desc.is_write_only() || status_desc.len() < 1 {
        return None;
    }
    let status_addr = status_desc.addr();
    let parsed = (|| {
        let (header, data) = rest.split_first().ok_or(status::IOERR)?;
        if header.is_write_only() || header.len() < 16 || data.len() > SEG_MAX as usize {
            return Err(status::IOERR);
        }
        let mut raw = [0u8; 16];
        mem.read_slice(&mut raw, header.addr())
            .map_err(|_| status::IOERR)?;
        Ok(Request {
            kind: u32::from_le_bytes(raw[0..4].try_into().expect("4 bytes")),
            sector: u64::from_le_bytes(raw[8..16].try_into().expect("8 bytes")),
            data: data.to_vec(),
        })
    })();
    Some((parsed, status_addr))
}

/// Copies the guest's buffers, `len` bytes in all, into `out`, grown to fit if need be: a
/// buffer kept between requests, every byte of it overwritten, so a 1 MiB write that needs
/// the copy costs one copy rather than an allocation, a memset and a copy.
fn copy_out(buffers: &[VolatileSlice<'_>], out: &mut Vec<u8>, len: usize) {
    if out.len() < len {
        out.resize(len, 0);
    }
    let mut at = 0usize;
    for buffer in buffers {
        at += buffer.copy_to(&mut out[at..len]);
    }
}

/// Writes `bytes` across `buffers` in order; `None` if a buffer lies outside guest memory or
/// they are too small.
fn write_buffers(mem: &GuestMemoryMmap, buffers: &[Descriptor], bytes: &[u8]) -> Option<usize> {
    let mut at = 0usize;
    for d in buffers {
        if at == bytes.len() {
            break;
        }
        if !d.is_write_only() {
            return None;
        }
        let n = (d.len() as usize).min(bytes.len() - at);
        mem.write_slice(&bytes[at..at + n], d.addr()).ok()?;
        at += n;
    }
    (at == bytes.len()).then_some(at)
}

impl VirtioDevice for VirtioBlock {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }

    fn features(&self) -> u64 {
        let mut f = feature::SIZE_MAX
            | feature::SEG_MAX
            | feature::BLK_SIZE
            | feature::FLUSH
            | feature::DISCARD
            | feature::WRITE_ZEROES;
        if self.read_only {
            f |= feature::RO;
        }
        f
    }

    fn queue_max_sizes(&self) -> &[u16] {
        &[QUEUE_SIZE]
    }

    fn config_size(&self) -> u64 {
        CONFIG_BYTES as u64
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        let config = self.config();
        let start = offset as usize;
        data.copy_from_slice(&config[start..start + data.len()]);
    }

    fn write_config(&mut self, _offset: u64, _data: &[u8]) {
        // writeback is the only writable field and is not offered: writes change nothing.
    }

    fn process_queue(&mut self, _index: usize, queue: &mut Queue, mem: &GuestMemoryMmap) -> bool {
        let mut used = false;
        // At most one queue's worth per notification: a guest that keeps the avail index
        // moving cannot hold the vCPU here.
        for _ in 0..queue.size() {
            let Some(chain) = queue.pop_descriptor_chain(mem) else {
                break;
            };
            let head = chain.head_index();
            let descriptors: Vec<Descriptor> = chain.take(SEG_MAX as usize + 2).collect();
            let written = match parse_chain(mem, &descriptors) {
                Some((request, status_addr)) => {
                    let (code, written) = match request {
                        Ok(req) => self.execute(mem, &req),
                        Err(code) => {
                            self.counters
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .errors += 1;
                            (code, 0)
                        }
                    };
                    match mem.write_obj(code, status_addr) {
                        Ok(()) => written.saturating_add(1),
                        Err(_) => 0,
                    }
                }
                None => {
                    self.counters
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .errors += 1;
                    0
                }
            };
            used |= queue.add_used(mem, head, written).is_ok();
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::virtio_mmio::{reg, MmioTransport};
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A disk in memory.
    struct MemDisk {
        bytes: Vec<u8>,
        read_only: bool,
        zeroed: Vec<(u64, u64)>,
        /// Takes writes straight from guest memory, counting them here.
        in_place: Option<Arc<AtomicUsize>>,
        /// The next write from guest memory finds the host full.
        full_once: bool,
    }

    fn mem_disk(disk_bytes: usize, read_only: bool) -> MemDisk {
        MemDisk {
            bytes: (0..disk_bytes).map(|i| (i % 251) as u8).collect(),
            read_only,
            zeroed: Vec::new(),
            in_place: None,
            full_once: false,
        }
    }

    impl BlockBackend for MemDisk {
        fn capacity(&self) -> u64 {
            self.bytes.len() as u64
        }
        fn read_only(&self) -> bool {
            self.read_only
        }
        fn id(&self) -> String {
            "memdisk".into()
        }
        fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
            let at = offset as usize;
            buf.copy_from_slice(&self.bytes[at..at + buf.len()]);
            Ok(())
        }
        fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), BlockError> {
            let at = offset as usize;
            self.bytes[at..at + data.len()].copy_from_slice(data);
            Ok(())
        }
        fn write_from_guest(
            &mut self,
            offset: u64,
            data: &[VolatileSlice<'_>],
        ) -> Result<bool, BlockError> {
            let Some(count) = &self.in_place else {
                return Ok(false);
            };
            if std::mem::take(&mut self.full_once) {
                return Err(BlockError::NoSpace("no space left on the test disk".into()));
            }
            let mut at = offset as usize;
            for piece in data {
                at += piece.copy_to(&mut self.bytes[at..at + piece.len()]);
            }
            count.fetch_add(1, Ordering::Relaxed);
            Ok(true)
        }
        fn flush(&mut self) -> Result<(), BlockError> {
            Ok(())
        }
        fn discard(&mut self, offset: u64, len: u64) -> Result<(), BlockError> {
            self.zeroed.push((offset, len));
            Ok(())
        }
        fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BlockError> {
            let at = offset as usize;
            self.bytes[at..at + len as usize].fill(0);
            Ok(())
        }
    }

    const DESC: u64 = 0x1000;
    const AVAIL: u64 = 0x2000;
    const USED: u64 = 0x3000;
    const NEXT: u16 = 1;
    const WRITE: u16 = 2;

    struct Rig {
        mem: GuestMemoryMmap,
        transport: MmioTransport,
        counters: Arc<Mutex<BlockCounters>>,
        submitted: u16,
    }

    fn rig(disk_bytes: usize, read_only: bool) -> Rig {
        rig_over(mem_disk(disk_bytes, read_only), None)
    }

    fn rig_over(disk: MemDisk, gate: Option<Arc<PauseGate>>) -> Rig {
        let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 1 << 20)]).unwrap();
        let counters = Arc::new(Mutex::new(BlockCounters::default()));
        let mut device = VirtioBlock::new(Arc::new(Mutex::new(Box::new(disk))), counters.clone());
        if let Some(gate) = gate {
            device = device.pausing_at(gate);
        }
        let mut transport = MmioTransport::new(Some(Box::new(device)), mem.clone()).unwrap();
        let mut w = |offset: u64, value: u32| transport.write(offset, &value.to_le_bytes());
        w(reg::STATUS, 3);
        w(reg::DRIVER_FEATURES_SEL, 1);
        w(reg::DRIVER_FEATURES, 1);
        w(reg::STATUS, 0xb);
        w(reg::QUEUE_NUM, 16);
        w(reg::QUEUE_DESC_LOW, DESC as u32);
        w(reg::QUEUE_DRIVER_LOW, AVAIL as u32);
        w(reg::QUEUE_DEVICE_LOW, USED as u32);
        w(reg::QUEUE_READY, 1);
        w(reg::STATUS, 0xf);
        Rig {
            mem,
            transport,
            counters,
            submitted: 0,
        }
    }

    impl Rig {
        /// Puts a chain of (addr, len, flags) descriptors at 0.. and notifies; returns the
        /// length the device reported in the used ring.
        fn submit(&mut self, chain: &[(u64, u32, u16)]) -> u32 {
            for (i, &(addr, len, flags)) in chain.iter().enumerate() {
                let at = DESC + 16 * i as u64;
                let last = i + 1 == chain.len();
                let flags = if last { flags } else { flags | NEXT };
                self.mem.write_obj(addr, GuestAddress(at)).unwrap();
                self.mem.write_obj(len, GuestAddress(at + 8)).unwrap();
                self.mem.write_obj(flags, GuestAddress(at + 12)).unwrap();
                self.mem
                    .write_obj((i + 1) as u16, GuestAddress(at + 14))
                    .unwrap();
            }
            let slot = AVAIL + 4 + 2 * u64::from(self.submitted % 16);
            self.mem.write_obj(0u16, GuestAddress(slot)).unwrap();
            self.submitted = self.submitted.wrapping_add(1);
            self.mem
                .write_obj(self.submitted, GuestAddress(AVAIL + 2))
                .unwrap();
            self.transport.write(reg::QUEUE_NOTIFY, &0u32.to_le_bytes());
            let used_idx: u16 = self.mem.read_obj(GuestAddress(USED + 2)).unwrap();
            assert_eq!(used_idx, self.submitted, "the chain was completed");
            let elem = USED + 4 + 8 * u64::from((self.submitted - 1) % 16);
            self.mem.read_obj(GuestAddress(elem + 4)).unwrap()
        }

        fn header(&self, kind: u32, sector: u64) -> (u64, u32, u16) {
            self.mem.write_obj(kind, GuestAddress(0x8000)).unwrap();
            self.mem.write_obj(0u32, GuestAddress(0x8004)).unwrap();
            self.mem.write_obj(sector, GuestAddress(0x8008)).unwrap();
            (0x8000, 16, 0)
        }

        fn status(&self) -> u8 {
            self.mem.read_obj(GuestAddress(0x9000)).unwrap()
        }
    }

    const STATUS: (u64, u32, u16) = (0x9000, 1, WRITE);

    #[test]
    fn reads_and_writes_reach_the_disk_and_come_back() {
        let mut rig = rig(64 * 1024, false);
        rig.mem
            .write_slice(&[0x5a; 1024], GuestAddress(0xa000))
            .unwrap();
        let header = rig.header(request::OUT, 4);
        rig.submit(&[header, (0xa000, 1024, 0), STATUS]);
        assert_eq!(rig.status(), status::OK);

        let header = rig.header(request::IN, 3);
        let used = rig.submit(&[header, (0xc000, 1536, WRITE), STATUS]);
        assert_eq!(rig.status(), status::OK);
        assert_eq!(used, 1536 + 1, "data and the status byte");
        let mut back = [0u8; 1536];
        rig.mem.read_slice(&mut back, GuestAddress(0xc000)).unwrap();
        assert_eq!(back[0], ((3 * 512) % 251) as u8, "sector 3 is untouched");
        assert!(
            back[512..].iter().all(|&b| b == 0x5a),
            "sectors 4 and 5 hold the write"
        );
        let c = *rig.counters.lock().unwrap();
        assert_eq!(
            (c.reads, c.writes, c.bytes_written, c.errors),
            (1, 1, 1024, 0)
        );
    }

    /// One OUT request in three buffers, apart in guest memory, read back with one IN.
    fn write_three_buffers_and_read_back(rig: &mut Rig) -> Vec<u8> {
        rig.mem
            .write_slice(&[0x11; 512], GuestAddress(0xa000))
            .unwrap();
        rig.mem
            .write_slice(&[0x22; 1024], GuestAddress(0xd000))
            .unwrap();
        rig.mem
            .write_slice(&[0x33; 512], GuestAddress(0xa400))
            .unwrap();
        let header = rig.header(request::OUT, 2);
        rig.submit(&[
            header,
            (0xa000, 512, 0),
            (0xd000, 1024, 0),
            (0xa400, 512, 0),
            STATUS,
        ]);
        assert_eq!(rig.status(), status::OK);
        let header = rig.header(request::IN, 1);
        rig.submit(&[header, (0xc000, 3072, WRITE), STATUS]);
        assert_eq!(rig.status(), status::OK);
        let mut back = vec![0u8; 3072];
        rig.mem.read_slice(&mut back, GuestAddress(0xc000)).unwrap();
        back
    }

    #[test]
    fn a_write_in_several_buffers_goes_straight_from_guest_memory_or_through_the_copy_alike() {
        let in_place = Arc::new(AtomicUsize::new(0));
        let mut disk = mem_disk(64 * 1024, false);
        disk.in_place = Some(in_place.clone());
        let mut straight = rig_over(disk, None);
        let back = write_three_buffers_and_read_back(&mut straight);
        assert_eq!(in_place.load(Ordering::Relaxed), 1, "no copy was needed");
        assert_eq!(back[0], (512 % 251) as u8, "sector 1 is untouched");
        assert!(back[512..1024].iter().all(|&b| b == 0x11));
        assert!(back[1024..2048].iter().all(|&b| b == 0x22));
        assert!(back[2048..2560].iter().all(|&b| b == 0x33));
        assert_eq!(back[2560], ((6 * 512) % 251) as u8, "sector 6 is untouched");
        let c = *straight.counters.lock().unwrap();
        assert_eq!((c.writes, c.bytes_written, c.errors), (1, 2048, 0));

        let mut copied = rig(64 * 1024, false);
        assert_eq!(write_three_buffers_and_read_back(&mut copied), back);
    }

    #[test]
    fn a_write_from_guest_memory_that_finds_the_host_full_pauses_and_then_completes() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = events.clone();
        let gate = Arc::new(PauseGate::new("disk0".into(), move |e| {
            seen.lock().unwrap().push(e)
        }));
        let in_place = Arc::new(AtomicUsize::new(0));
        let mut disk = mem_disk(64 * 1024, false);
        disk.in_place = Some(in_place.clone());
        disk.full_once = true;
        let mut rig = rig_over(disk, Some(gate));
        let back = write_three_buffers_and_read_back(&mut rig);
        assert!(
            back[512..1024].iter().all(|&b| b == 0x11),
            "the write landed"
        );
        assert!(back[1024..2048].iter().all(|&b| b == 0x22));
        assert!(back[2048..2560].iter().all(|&b| b == 0x33));
        assert_eq!(in_place.load(Ordering::Relaxed), 1);
        assert_eq!(
            *events.lock().unwrap(),
            [
                SpaceEvent::Paused {
                    disk: "disk0".into(),
                    why: "no space left on the test disk".into()
                },
                SpaceEvent::Resumed {
                    disk: "disk0".into()
                }
            ]
        );
        let c = *rig.counters.lock().unwrap();
        assert_eq!((c.writes, c.pauses, c.errors), (1, 1, 0));
    }

    #[test]
    fn requests_past_the_end_or_too_large_get_ioerr() {
        let mut rig = rig(8 * 512, false);
        let header = rig.header(request::IN, 7);
        rig.submit(&[header, (0xc000, 1024, WRITE), STATUS]);
        assert_eq!(
            rig.status(),
            status::IOERR,
            "sector 7 + 2 sectors is past 8"
        );
        let header = rig.header(request::IN, u64::MAX / 2);
        rig.submit(&[header, (0xc000, 512, WRITE), STATUS]);
        assert_eq!(rig.status(), status::IOERR, "the sector overflows as bytes");
        let header = rig.header(request::OUT, 0);
        rig.submit(&[header, (0xc000, 100, 0), STATUS]);
        assert_eq!(rig.status(), status::IOERR, "not a whole sector");
        let header = rig.header(request::OUT, 0);
        rig.submit(&[header, (0xc000, u32::MAX, 0), STATUS]);
        assert_eq!(rig.status(), status::IOERR, "longer than a request may be");
        let header = rig.header(77, 0);
        rig.submit(&[header, STATUS]);
        assert_eq!(rig.status(), status::UNSUPP);
        assert_eq!(rig.counters.lock().unwrap().errors, 5);
    }

    #[test]
    fn a_chain_without_a_writable_status_byte_is_completed_with_nothing_written() {
        let mut rig = rig(8 * 512, false);
        rig.mem.write_obj(0xeeu8, GuestAddress(0x9000)).unwrap();
        let header = rig.header(request::IN, 0);
        let used = rig.submit(&[header, (0xc000, 512, WRITE), (0x9000, 1, 0)]);
        assert_eq!(used, 0);
        assert_eq!(rig.status(), 0xee, "a read-only status byte is not written");
        let used = rig.submit(&[(0x9000, 1, WRITE)]);
        assert_eq!((used, rig.status()), (1, status::IOERR), "no header at all");
    }

    #[test]
    fn a_read_only_disk_refuses_writes_and_says_so_in_its_features() {
        let mut rig = rig(8 * 512, true);
        rig.transport
            .write(reg::DEVICE_FEATURES_SEL, &0u32.to_le_bytes());
        let mut word = [0u8; 4];
        rig.transport.read(reg::DEVICE_FEATURES, &mut word);
        assert_ne!(u64::from(u32::from_le_bytes(word)) & feature::RO, 0);
        let header = rig.header(request::OUT, 0);
        rig.submit(&[header, (0xa000, 512, 0), STATUS]);
        assert_eq!(rig.status(), status::IOERR);
        assert_eq!(rig.counters.lock().unwrap().writes, 0);
    }

    #[test]
    fn capacity_id_and_zeroes() {
        let mut rig = rig(16 * 512, false);
        let mut quad = [0u8; 8];
        rig.transport.read(reg::CONFIG, &mut quad);
        assert_eq!(u64::from_le_bytes(quad), 16, "capacity in sectors");
        let header = rig.header(request::GET_ID, 0);
        rig.submit(&[header, (0xc000, 20, WRITE), STATUS]);
        let mut id = [0u8; 7];
        rig.mem.read_slice(&mut id, GuestAddress(0xc000)).unwrap();
        assert_eq!(&id, b"memdisk");
        // WRITE_ZEROES of sectors 2..4.
        rig.mem.write_obj(2u64, GuestAddress(0xb000)).unwrap();
        rig.mem.write_obj(2u32, GuestAddress(0xb008)).unwrap();
        rig.mem.write_obj(0u32, GuestAddress(0xb00c)).unwrap();
        let header = rig.header(request::WRITE_ZEROES, 0);
        rig.submit(&[header, (0xb000, 16, 0), STATUS]);
        assert_eq!(rig.status(), status::OK);
        let header = rig.header(request::IN, 2);
        rig.submit(&[header, (0xc000, 1024, WRITE), STATUS]);
        let mut back = [1u8; 1024];
        rig.mem.read_slice(&mut back, GuestAddress(0xc000)).unwrap();
        assert!(back.iter().all(|&b| b == 0));
    }

    proptest! {
        /// Any bytes in the descriptor table and the request buffers: the device answers or
        /// skips, never panics, never touches the disk outside its capacity.
        #[test]
        fn survives_garbage_requests(
            table in proptest::collection::vec(any::<u8>(), 16 * 16),
            buffers in proptest::collection::vec(any::<u8>(), 0x1000),
            heads in proptest::collection::vec(0u16..20, 1..16),
            in_place in any::<bool>(),
        ) {
            let mut disk = mem_disk(64 * 512, false);
            if in_place {
                disk.in_place = Some(Arc::new(AtomicUsize::new(0)));
            }
            let mut rig = rig_over(disk, None);
            rig.mem.write_slice(&table, GuestAddress(DESC)).unwrap();
            rig.mem.write_slice(&buffers, GuestAddress(0x8000)).unwrap();
            for (i, head) in heads.iter().enumerate() {
                rig.mem.write_obj(*head, GuestAddress(AVAIL + 4 + 2 * i as u64)).unwrap();
            }
            rig.mem.write_obj(heads.len() as u16, GuestAddress(AVAIL + 2)).unwrap();
            rig.transport.write(reg::QUEUE_NOTIFY, &0u32.to_le_bytes());
        }
    }
}
