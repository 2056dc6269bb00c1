//! A polling virtio-blk driver (virtio 1.2 §5.2) over the virtio-mmio transport: one request
//! queue of [`QUEUE_SIZE`] entries, one request in flight, each a chain of header, data and
//! status. No interrupts: after the notify the driver watches the used ring.

use core::ptr::{addr_of, addr_of_mut, read_volatile};
use core::sync::atomic::{fence, AtomicBool, Ordering};

use super::virtio::{Desc, Rings, DESC_NEXT, DESC_WRITE};
use super::{control, mmio_read32, mmio_read64, mmio_write32};

const QUEUE_SIZE: u16 = 16;
/// The unit of `sector`.
pub const SECTOR: u64 = ABI_SECTOR;
/// Most bytes one request moves (the device's size_max).
pub const MAX_CHUNK: usize = 1 << 20;

use labvisor_guest_abi::virtio::blk::{feature, request, SECTOR as ABI_SECTOR};
use labvisor_guest_abi::virtio::{reg, status, F_VERSION_1};

/// The queue's rings and the request's header, range segment and status, in memory the
/// device reads and writes.
#[repr(C)]
struct QueueMemory {
    rings: Rings<{ QUEUE_SIZE as usize }>,
    header: [u8; 16],
    range: [u8; 16],
    status: u8,
}

static mut QUEUE: QueueMemory = QueueMemory {
    rings: Rings::new(),
    header: [0; 16],
    range: [0; 16],
    status: 0,
};
/// Only one driver owns [`QUEUE`].
static CLAIMED: AtomicBool = AtomicBool::new(false);

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlkError {
    /// The device answered IOERR (past the end, refused, a host failure).
    Io,
    /// The device does not do that.
    Unsupported,
    /// No answer in the used ring.
    NoAnswer,
    /// The offset or size is not a whole number of sectors.
    Unaligned,
    /// The disk is read-only.
    ReadOnly,
}

impl BlkError {
    pub fn describe(self) -> &'static str {
        match self {
            BlkError::Io => "the device answered IOERR",
            BlkError::Unsupported => "the device does not support that request",
            BlkError::NoAnswer => "the device did not answer",
            BlkError::Unaligned => "offset and size must be multiples of 512 bytes",
            BlkError::ReadOnly => "the disk is read-only",
        }
    }
}

/// A virtio-blk device the driver has brought up.
pub struct Blk {
    base: u64,
    pub capacity: u64,
    pub read_only: bool,
    pub discard: bool,
    pub write_zeroes: bool,
    pub flush: bool,
    last_used: u16,
}

/// Brings up the block device at slot address `base`, if it is one and no other driver
/// already owns the queue memory.
pub fn open(base: u64) -> Option<Blk> {
    if mmio_read32(base + reg::MAGIC_VALUE) != labvisor_guest_abi::virtio::MAGIC
        || mmio_read32(base + reg::DEVICE_ID) != labvisor_guest_abi::virtio::blk::DEVICE_ID
        || CLAIMED.swap(true, Ordering::AcqRel)
    {
        return None;
    }
    let blk = init(base);
    if blk.is_none() {
        CLAIMED.store(false, Ordering::Release);
    }
    blk
}

fn init(base: u64) -> Option<Blk> {
    mmio_write32(base + reg::STATUS, 0);
    mmio_write32(base + reg::STATUS, status::ACKNOWLEDGE);
    mmio_write32(base + reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
    let mut offered = 0u64;
    for sel in 0..2u32 {
        mmio_write32(base + reg::DEVICE_FEATURES_SEL, sel);
        offered |= u64::from(mmio_read32(base + reg::DEVICE_FEATURES)) << (32 * sel);
    }
    let wanted = offered
        & (F_VERSION_1 | feature::RO | feature::FLUSH | feature::DISCARD | feature::WRITE_ZEROES);
    for sel in 0..2u32 {
        mmio_write32(base + reg::DRIVER_FEATURES_SEL, sel);
        mmio_write32(base + reg::DRIVER_FEATURES, (wanted >> (32 * sel)) as u32);
    }
    let status = status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK;
    mmio_write32(base + reg::STATUS, status);
    if mmio_read32(base + reg::STATUS) & status::FEATURES_OK == 0 {
        return None;
    }
    // SAFETY: QUEUE is claimed by this driver alone (CLAIMED); the device has not been
    // told of it yet.
    if !unsafe { (*addr_of!(QUEUE.rings)).attach(base, 0) } {
        return None;
    }
    mmio_write32(base + reg::STATUS, status | status::DRIVER_OK);
    Some(Blk {
        base,
        capacity: mmio_read64(base + reg::CONFIG).saturating_mul(SECTOR),
        read_only: wanted & feature::RO != 0,
        discard: wanted & feature::DISCARD != 0,
        write_zeroes: wanted & feature::WRITE_ZEROES != 0,
        flush: wanted & feature::FLUSH != 0,
        // SAFETY: as above; the device has not used the queue yet.
        last_used: unsafe { (*addr_of!(QUEUE.rings)).used_idx() },
    })
}

/// A data buffer of a request.
enum Data<'a> {
    None,
    ToDevice(&'a [u8]),
    FromDevice(&'a mut [u8]),
    /// The range segment of DISCARD and WRITE_ZEROES, in the queue memory.
    Range,
}

impl Blk {
    fn check(&self, offset: u64, len: usize) -> Result<(), BlkError> {
        if !offset.is_multiple_of(SECTOR) || !(len as u64).is_multiple_of(SECTOR) {
            Err(BlkError::Unaligned)
        } else {
            Ok(())
        }
    }

    /// Reads `buf.len()` bytes at byte `offset` (whole sectors, at most [`MAX_CHUNK`]).
    pub fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlkError> {
        self.check(offset, buf.len())?;
        self.request(request::IN, offset / SECTOR, Data::FromDevice(buf))
    }

    /// Writes `data` at byte `offset` (whole sectors, at most [`MAX_CHUNK`]).
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), BlkError> {
        self.check(offset, data.len())?;
        if self.read_only {
            return Err(BlkError::ReadOnly);
        }
        self.request(request::OUT, offset / SECTOR, Data::ToDevice(data))
    }

    /// Makes every completed write durable on the host.
    pub fn sync(&mut self) -> Result<(), BlkError> {
        if !self.flush {
            return Err(BlkError::Unsupported);
        }
        self.request(request::FLUSH, 0, Data::None)
    }

    /// The device's id string.
    pub fn id(&mut self, buf: &mut [u8; 20]) -> Result<(), BlkError> {
        self.request(request::GET_ID, 0, Data::FromDevice(buf))
    }

    /// DISCARD (`trim`: the host may give the blocks back) or WRITE_ZEROES (`zero`) of `len`
    /// bytes at `offset`.
    pub fn release(&mut self, trim: bool, offset: u64, len: u64) -> Result<(), BlkError> {
        self.check(offset, len as usize)?;
        if self.read_only {
            return Err(BlkError::ReadOnly);
        }
        if (trim && !self.discard) || (!trim && !self.write_zeroes) {
            return Err(BlkError::Unsupported);
        }
        let sectors = u32::try_from(len / SECTOR).map_err(|_| BlkError::Io)?;
        // SAFETY: the queue memory is this driver's; no request is in flight.
        unsafe {
            let range = &mut *addr_of_mut!(QUEUE.range);
            range[0..8].copy_from_slice(&(offset / SECTOR).to_le_bytes());
            range[8..12].copy_from_slice(&sectors.to_le_bytes());
            range[12..16].copy_from_slice(&0u32.to_le_bytes());
        }
        let kind = if trim {
            request::DISCARD
        } else {
            request::WRITE_ZEROES
        };
        self.request(kind, 0, Data::Range)
    }

    fn request(&mut self, kind: u32, sector: u64, data: Data) -> Result<(), BlkError> {
        // SAFETY: the queue memory belongs to this driver (CLAIMED) and no request is in
        // flight; only addresses of its header, range and status are taken here.
        let (header, range, status) = unsafe {
            (
                addr_of!(QUEUE.header) as u64,
                addr_of!(QUEUE.range) as u64,
                addr_of!(QUEUE.status) as u64,
            )
        };
        let data = match data {
            Data::None => None,
            Data::ToDevice(b) => Some((b.as_ptr() as u64, b.len() as u32, 0)),
            Data::FromDevice(b) => Some((b.as_mut_ptr() as u64, b.len() as u32, DESC_WRITE)),
            Data::Range => Some((range, 16, 0)),
        };
        let mut chain = [(header, 16, 0); 3];
        let mut n = 1;
        if let Some(d) = data {
            chain[n] = d;
            n += 1;
        }
        chain[n] = (status, 1, DESC_WRITE);
        self.submit(kind, sector, &chain[..=n])
    }

    /// Puts the header (`kind`, `sector`) in place, offers `chain` (address, length, flags;
    /// NEXT is added), notifies and waits for the answer in the status byte.
    fn submit(
        &mut self,
        kind: u32,
        sector: u64,
        chain: &[(u64, u32, u16)],
    ) -> Result<(), BlkError> {
        // SAFETY: the queue memory belongs to this driver (CLAIMED) and one request at a
        // time is in flight; the device reads it only between the notify and the used-ring
        // update the loop below waits for. Buffers are identity-mapped RAM.
        unsafe {
            let q = &mut *addr_of_mut!(QUEUE);
            q.header[0..4].copy_from_slice(&kind.to_le_bytes());
            q.header[4..8].copy_from_slice(&0u32.to_le_bytes());
            q.header[8..16].copy_from_slice(&sector.to_le_bytes());
            q.status = 0xff;
            for (i, &(addr, len, flags)) in chain.iter().enumerate() {
                let last = i + 1 == chain.len();
                q.rings.desc[i] = Desc {
                    addr,
                    len,
                    flags: if last { flags } else { flags | DESC_NEXT },
                    next: (i + 1) as u16,
                };
            }
            q.rings.publish(0);
            fence(Ordering::SeqCst);
            mmio_write32(self.base + reg::QUEUE_NOTIFY, 0);
            // Labvisor's VMM completes the request during the notify; another VMM may take a
            // moment (QEMU hands it to a thread), so wait, but not forever: a second through
            // the control device's idle, or a long spin without it.
            let limit: u64 = if control::present() {
                20_000
            } else {
                50_000_000
            };
            let mut waited = 0u64;
            while q.rings.used_idx() == self.last_used {
                if waited > limit {
                    return Err(BlkError::NoAnswer);
                }
                control::idle(50);
                waited += 1;
            }
            fence(Ordering::SeqCst);
            self.last_used = self.last_used.wrapping_add(1);
            match read_volatile(addr_of!(q.status)) {
                0 => Ok(()),
                2 => Err(BlkError::Unsupported),
                _ => Err(BlkError::Io),
            }
        }
    }

    /// Sends a request a well-behaved driver never would (for the hidden `blk-hostile`
    /// command): the device must answer IOERR or leave the status untouched, and keep working.
    pub fn hostile(&mut self, case: Hostile, scratch: &mut [u8; 512]) -> Result<(), BlkError> {
        // SAFETY: only the status byte's address is taken; no request is in flight.
        let status = unsafe { addr_of!(QUEUE.status) as u64 };
        // SAFETY: as above, the header's address.
        let header = unsafe { addr_of!(QUEUE.header) as u64 };
        let buf = scratch.as_mut_ptr() as u64;
        match case {
            Hostile::PastTheEnd => self.submit(
                request::IN,
                self.capacity / SECTOR,
                &[
                    (header, 16, 0),
                    (buf, 512, DESC_WRITE),
                    (status, 1, DESC_WRITE),
                ],
            ),
            Hostile::HugeLength => self.submit(
                request::OUT,
                0,
                &[(header, 16, 0), (buf, u32::MAX, 0), (status, 1, DESC_WRITE)],
            ),
            Hostile::ReadOnlyStatus => self.submit(
                request::IN,
                0,
                &[(header, 16, 0), (buf, 512, DESC_WRITE), (status, 1, 0)],
            ),
            Hostile::NoStatus => self.submit(request::OUT, 0, &[(header, 16, 0), (buf, 512, 0)]),
        }
    }
}

/// The malformed requests of [`Blk::hostile`].
#[derive(Clone, Copy)]
pub enum Hostile {
    /// A read of the sector just past the end.
    PastTheEnd,
    /// A write whose buffer claims 4 GiB.
    HugeLength,
    /// A status byte the device may not write.
    ReadOnlyStatus,
    /// No status descriptor at all: the chain ends with the data.
    NoStatus,
}

impl Hostile {
    pub const ALL: [Hostile; 4] = [
        Hostile::PastTheEnd,
        Hostile::HugeLength,
        Hostile::ReadOnlyStatus,
        Hostile::NoStatus,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Hostile::PastTheEnd => "a read past the end",
            Hostile::HugeLength => "a 4 GiB write buffer",
            Hostile::ReadOnlyStatus => "a read-only status byte",
            Hostile::NoStatus => "no status byte",
        }
    }
}
