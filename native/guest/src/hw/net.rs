//! A polling virtio-net driver (virtio 1.2 §5.1) over the virtio-mmio transport, as
//! smoltcp's [`Device`]: a receive queue kept full of [`BUFFER`]-byte buffers and a transmit
//! queue of as many, each frame behind the 12-byte `virtio_net_hdr` of VERSION_1.
//!
//! No interrupts: receiving looks at the used ring, transmitting reclaims what the device has
//! used and notifies. The rings and buffers come from the heap, so a VM without a NIC pays
//! nothing. The driver is ours rather than `virtio-drivers`' `VirtIONetRaw` because the
//! transport and the barriers the host's two CPU modes accept are already here (`blk.rs`),
//! and its HAL would add DMA-mapping indirection an identity-mapped kernel does not need.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::read_volatile;

use labvisor_guest_abi::virtio::net::{config, feature, DEVICE_ID, HEADER_LEN, LINK_UP};
use labvisor_guest_abi::virtio::net::{MAX_FRAME, RX_QUEUE, TX_QUEUE};
use labvisor_guest_abi::virtio::{reg, status, F_VERSION_1, MAGIC};
use smoltcp::phy::{self, Checksum, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use super::virtio::{Rings, DESC_WRITE};
use super::{mmio_read32, mmio_write32};

/// Entries per queue.
const QUEUE_SIZE: u16 = 64;
/// Frames smoltcp may send on its own initiative in one round (between two [`Net::flush`]es)
/// before it has to look at what arrived. Without a bound, one `poll` sends as much as the
/// peer's window allows before reading a single frame: a 256 KiB window is 180 frames, which
/// an emulated guest, computing every checksum instruction by instruction, takes seconds
/// to send, while the ACKs, FINs and SYNs waiting for it go unread.
const SENT_PER_ROUND: u64 = QUEUE_SIZE as u64 / 2;
/// Bytes of one buffer: the header and a full frame, rounded up.
const BUFFER: usize = 2048;
const _: () = assert!(HEADER_LEN + MAX_FRAME <= BUFFER);

/// A queue: its rings, its buffers (descriptor `i` always points at buffer `i`) and how far
/// the driver has read the used ring.
struct Queue {
    rings: Box<Rings<{ QUEUE_SIZE as usize }>>,
    buffers: Vec<[u8; BUFFER]>,
    last_used: u16,
    index: u16,
}

impl Queue {
    fn new(index: u16) -> Queue {
        let mut buffers = Vec::with_capacity(usize::from(QUEUE_SIZE));
        buffers.resize(usize::from(QUEUE_SIZE), [0u8; BUFFER]);
        let mut rings = Box::new(Rings::new());
        for (desc, buffer) in rings.desc.iter_mut().zip(&buffers) {
            desc.addr = buffer.as_ptr() as u64;
        }
        Queue {
            rings,
            buffers,
            last_used: 0,
            index,
        }
    }

    /// Tells the device where the rings are; `false` if it cannot take [`QUEUE_SIZE`].
    fn attach(&self, base: u64) -> bool {
        self.rings.attach(base, self.index)
    }

    /// Offers descriptor `id` (its buffer, `len` bytes) to the device. Returns without
    /// notifying; the caller batches notifications.
    fn offer(&mut self, id: u16, len: u32, flags: u16) {
        let desc = &mut self.rings.desc[usize::from(id)];
        desc.len = len;
        desc.flags = flags;
        self.rings.publish(id);
    }

    /// The next `(descriptor id, bytes written)` the device has used, if any. The id and
    /// length are the device's word: both are checked before use.
    fn take_used(&mut self) -> Option<(u16, usize)> {
        if self.rings.used_idx() == self.last_used {
            return None;
        }
        let [id, len] = self.rings.used(self.last_used);
        self.last_used = self.last_used.wrapping_add(1);
        let id = u16::try_from(id).ok().filter(|&id| id < QUEUE_SIZE)?;
        Some((id, (len as usize).min(BUFFER)))
    }
}

/// What `net` and `ip` print about the card.
#[derive(Clone, Copy)]
pub struct NetInfo {
    pub mac: [u8; 6],
    /// `None` when the device does not report a link status.
    pub link_up: Option<bool>,
    /// Frames received and sent, and frames the driver dropped (bad length, no buffer).
    pub received: u64,
    pub sent: u64,
    pub dropped: u64,
    /// Whether the card finishes TCP and UDP checksums (`VIRTIO_NET_F_CSUM` negotiated).
    pub checksum_offload: bool,
}

/// A virtio-net device the driver has brought up.
pub struct Net {
    base: u64,
    rx: Queue,
    tx: Queue,
    /// Transmit descriptors the device has given back.
    tx_free: Vec<u16>,
    /// Receive descriptors consumed since the last notify.
    rx_refilled: bool,
    /// Transmit descriptors offered since the last notify.
    tx_offered: bool,
    /// `info.sent` at the last [`Net::flush`], the start of this round.
    sent_before_round: u64,
    info: NetInfo,
}

/// Brings up the network card at slot address `base`, if it is one. `fallback_mac` is used
/// when the device offers no MAC address.
pub fn open(base: u64, fallback_mac: [u8; 6]) -> Option<Net> {
    if mmio_read32(base + reg::MAGIC_VALUE) != MAGIC
        || mmio_read32(base + reg::DEVICE_ID) != DEVICE_ID
    {
        return None;
    }
    mmio_write32(base + reg::STATUS, 0);
    mmio_write32(base + reg::STATUS, status::ACKNOWLEDGE);
    mmio_write32(base + reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
    let mut offered = 0u64;
    for sel in 0..2u32 {
        mmio_write32(base + reg::DEVICE_FEATURES_SEL, sel);
        offered |= u64::from(mmio_read32(base + reg::DEVICE_FEATURES)) << (32 * sel);
    }
    // Checksum offload where offered (Labvisor's VMM; not QEMU's with slirp): the device
    // finishes each TCP and UDP checksum, a sum over the whole segment that costs an emulated
    // guest thousands of instructions per full frame. No segmentation offload.
    let wanted = offered & (F_VERSION_1 | feature::CSUM | feature::MAC | feature::STATUS);
    if wanted & F_VERSION_1 == 0 {
        mmio_write32(base + reg::STATUS, status::FAILED);
        return None;
    }
    for sel in 0..2u32 {
        mmio_write32(base + reg::DRIVER_FEATURES_SEL, sel);
        mmio_write32(base + reg::DRIVER_FEATURES, (wanted >> (32 * sel)) as u32);
    }
    let status = status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK;
    mmio_write32(base + reg::STATUS, status);
    if mmio_read32(base + reg::STATUS) & status::FEATURES_OK == 0 {
        return None;
    }
    let mut net = Net {
        base,
        rx: Queue::new(RX_QUEUE),
        tx: Queue::new(TX_QUEUE),
        tx_free: (0..QUEUE_SIZE).collect(),
        rx_refilled: false,
        tx_offered: false,
        sent_before_round: 0,
        info: NetInfo {
            mac: if wanted & feature::MAC != 0 {
                read_mac(base)
            } else {
                fallback_mac
            },
            link_up: None,
            received: 0,
            sent: 0,
            dropped: 0,
            checksum_offload: wanted & feature::CSUM != 0,
        },
    };
    if !net.rx.attach(base) || !net.tx.attach(base) {
        mmio_write32(base + reg::STATUS, status::FAILED);
        return None;
    }
    for id in 0..QUEUE_SIZE {
        net.rx.offer(id, BUFFER as u32, DESC_WRITE);
    }
    mmio_write32(base + reg::STATUS, status | status::DRIVER_OK);
    mmio_write32(base + reg::QUEUE_NOTIFY, u32::from(RX_QUEUE));
    if wanted & feature::STATUS != 0 {
        net.info.link_up = Some(read_link_status(base) & LINK_UP != 0);
    }
    Some(net)
}

fn read_mac(base: u64) -> [u8; 6] {
    let mut mac = [0u8; 6];
    for (i, byte) in mac.iter_mut().enumerate() {
        // Byte-wide config reads: the MAC is not 4-byte aligned at its end.
        // SAFETY: a device config byte in the identity-mapped MMIO window.
        *byte =
            unsafe { read_volatile((base + reg::CONFIG + config::MAC + i as u64) as *const u8) };
    }
    mac
}

fn read_link_status(base: u64) -> u16 {
    // SAFETY: as in `read_mac`: a 2-byte config field.
    unsafe { read_volatile((base + reg::CONFIG + config::STATUS) as *const u16) }
}

impl Net {
    pub fn info(&self) -> NetInfo {
        let mut info = self.info;
        if info.link_up.is_some() {
            info.link_up = Some(read_link_status(self.base) & LINK_UP != 0);
        }
        info
    }

    pub fn mac(&self) -> [u8; 6] {
        self.info.mac
    }

    /// Frames received and sent so far, from the driver's own counters: unlike [`Net::info`]
    /// it reads no device register, so the network's poll loop can ask every round (a
    /// register read is a VM exit, and emulated, one costs as much as thousands of
    /// instructions).
    pub fn frames_moved(&self) -> (u64, u64) {
        (self.info.received, self.info.sent)
    }

    fn reclaim_tx(&mut self) {
        while let Some((id, _)) = self.tx.take_used() {
            if !self.tx_free.contains(&id) {
                self.tx_free.push(id);
            }
        }
    }

    /// Tells the device, with one notification per queue, about the frames queued to send
    /// and the receive buffers given back since the last call. A notification is a VM exit,
    /// the costliest step of a frame in native mode, so sending notifies once per round as
    /// receiving does, not once per frame.
    pub fn flush(&mut self) {
        self.sent_before_round = self.info.sent;
        self.flush_tx();
        if self.rx_refilled {
            self.rx_refilled = false;
            mmio_write32(self.base + reg::QUEUE_NOTIFY, u32::from(RX_QUEUE));
        }
    }

    fn flush_tx(&mut self) {
        if self.tx_offered {
            self.tx_offered = false;
            mmio_write32(self.base + reg::QUEUE_NOTIFY, u32::from(TX_QUEUE));
        }
    }

    /// Reclaims sent buffers; when none is free, has the device take the frames offered so
    /// far first (it sends them during the notification) and reclaims again.
    fn reclaim_tx_or_flush(&mut self) {
        self.reclaim_tx();
        if self.tx_free.is_empty() && self.tx_offered {
            self.flush_tx();
            self.reclaim_tx();
        }
    }

    /// Sends what a well-behaved driver never would (for the hidden `net-hostile` command):
    /// `frame` (header included) in a free transmit buffer, described to the device as
    /// `descriptor` says. Waits a bounded time for a free buffer; `false` if none came.
    pub fn send_raw(&mut self, frame: &[u8], descriptor: RawDescriptor) -> bool {
        let mut waited = 0u32;
        loop {
            self.reclaim_tx_or_flush();
            if !self.tx_free.is_empty() {
                break;
            }
            if waited > 20_000 {
                return false;
            }
            super::control::idle(50);
            waited += 1;
        }
        let Some(id) = self.tx_free.pop() else {
            return false;
        };
        let buffer = &mut self.tx.buffers[usize::from(id)];
        let n = frame.len().min(BUFFER);
        buffer[..n].copy_from_slice(&frame[..n]);
        let (len, addr) = match descriptor {
            RawDescriptor::AsIs => (n as u32, None),
            RawDescriptor::Length(len) => (len, None),
            RawDescriptor::OutsideRam => (BUFFER as u32, Some(OUTSIDE_RAM)),
        };
        if let Some(addr) = addr {
            self.tx.rings.desc[usize::from(id)].addr = addr;
        }
        self.tx.offer(id, len, 0);
        self.tx_offered = true;
        self.flush_tx();
        // Once the device has given the descriptor back (read or refused), it points at its
        // own buffer again; one the device keeps past a second is restored all the same.
        if addr.is_some() {
            let mut back = false;
            while !back && waited < 20_000 {
                match self.tx.take_used() {
                    Some((used, _)) if used == id => back = true,
                    Some((used, _)) if !self.tx_free.contains(&used) => self.tx_free.push(used),
                    Some(_) => {}
                    None => {
                        super::control::idle(50);
                        waited += 1;
                    }
                }
            }
            let own = self.tx.buffers[usize::from(id)].as_ptr() as u64;
            self.tx.rings.desc[usize::from(id)].addr = own;
            if back {
                self.tx_free.push(id);
            }
        }
        self.info.sent += 1;
        true
    }
}

/// An address no guest RAM reaches (the top of the 48-bit space).
const OUTSIDE_RAM: u64 = 0x0000_7fff_ffff_f000;

/// How [`Net::send_raw`] describes a frame to the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawDescriptor {
    /// Its true length, in its buffer.
    AsIs,
    /// A length of the caller's choosing (0, shorter than the header, past the buffer).
    Length(u32),
    /// A buffer outside guest RAM.
    OutsideRam,
}

/// A received frame: descriptor `id`'s buffer, `len` bytes with the header.
pub struct RxToken<'a> {
    queue: &'a mut Queue,
    refilled: &'a mut bool,
    id: u16,
    len: usize,
}

/// Room for one frame in transmit descriptor `id`.
pub struct TxToken<'a> {
    checksum_offload: bool,
    offered: &'a mut bool,
    queue: &'a mut Queue,
    free: &'a mut Vec<u16>,
    sent: &'a mut u64,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let frame = &self.queue.buffers[usize::from(self.id)][HEADER_LEN..self.len];
        let result = f(frame);
        self.queue.offer(self.id, BUFFER as u32, DESC_WRITE);
        *self.refilled = true;
        result
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(MAX_FRAME);
        // `transmit` hands out a token only with a free descriptor.
        let id = self.free.pop().unwrap_or(0);
        let buffer = &mut self.queue.buffers[usize::from(id)];
        // GSO_NONE; num_buffers is RX-only.
        buffer[..HEADER_LEN].fill(0);
        let result = f(&mut buffer[HEADER_LEN..HEADER_LEN + len]);
        if self.checksum_offload {
            let (header, frame) = buffer.split_at_mut(HEADER_LEN);
            leave_checksum_to_the_device(header, &mut frame[..len]);
        }
        self.queue.offer(id, (HEADER_LEN + len) as u32, 0);
        // The device hears of it at the next `flush`, with the rest of this round's frames.
        *self.offered = true;
        *self.sent += 1;
        result
    }
}

impl Device for Net {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        self.reclaim_tx_or_flush();
        if self.tx_free.is_empty() {
            return None;
        }
        let (id, len) = loop {
            let (id, len) = self.rx.take_used()?;
            if len > HEADER_LEN {
                break (id, len);
            }
            // A frame shorter than its header: give the buffer straight back.
            self.info.dropped += 1;
            self.rx.offer(id, BUFFER as u32, DESC_WRITE);
            self.rx_refilled = true;
        };
        self.info.received += 1;
        Some((
            RxToken {
                queue: &mut self.rx,
                refilled: &mut self.rx_refilled,
                id,
                len,
            },
            TxToken {
                checksum_offload: self.info.checksum_offload,
                offered: &mut self.tx_offered,
                queue: &mut self.tx,
                free: &mut self.tx_free,
                sent: &mut self.info.sent,
            },
        ))
    }

    /// A buffer to send in, while this round has sent fewer than [`SENT_PER_ROUND`] frames
    /// (answers to received frames go through [`Device::receive`]'s token, never held).
    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_>> {
        if self.info.sent - self.sent_before_round >= SENT_PER_ROUND {
            return None;
        }
        self.reclaim_tx_or_flush();
        if self.tx_free.is_empty() {
            return None;
        }
        Some(TxToken {
            checksum_offload: self.info.checksum_offload,
            offered: &mut self.tx_offered,
            queue: &mut self.tx,
            free: &mut self.tx_free,
            sent: &mut self.info.sent,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps.max_burst_size = Some(usize::from(QUEUE_SIZE) / 2);
        // Frames arrive by a copy from the host's memory, not over a wire that could flip a
        // bit, so received checksums are not verified (Linux trusts virtio-net the same way
        // when the device marks a frame DATA_VALID); sent ones are computed, or with checksum
        // offload left to the device ([`leave_checksum_to_the_device`]). Summing is the
        // costliest per-byte step where every instruction is emulated.
        let transport = if self.info.checksum_offload {
            Checksum::None
        } else {
            Checksum::Tx
        };
        caps.checksum.ipv4 = Checksum::Tx;
        caps.checksum.tcp = transport;
        caps.checksum.udp = transport;
        caps.checksum.icmpv4 = Checksum::Tx;
        caps
    }
}

/// Asks the device to finish the TCP or UDP checksum of `frame` (IPv4 in Ethernet; anything
/// else is left as smoltcp wrote it): the checksum field gets the pseudo-header's sum (source,
/// destination, protocol, length: RFC 793, RFC 768), and the header says where the device
/// sums from and where it writes (virtio 1.2 §5.1.6.2).
fn leave_checksum_to_the_device(header: &mut [u8], frame: &mut [u8]) {
    use labvisor_guest_abi::virtio::net::{header as field, NEEDS_CSUM};
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] {
        return;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let checksum_at = match ip[9] {
        6 => 16,
        17 => 6,
        _ => return,
    };
    if ihl < 20 || total < ihl + checksum_at + 2 || 14 + total > frame.len() {
        return;
    }
    let segment = (total - ihl) as u32;
    let word = |at: usize| u32::from(u16::from_be_bytes([ip[at], ip[at + 1]]));
    let mut sum = word(12) + word(14) + word(16) + word(18) + u32::from(ip[9]) + segment;
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let start = 14 + ihl;
    frame[start + checksum_at..start + checksum_at + 2]
        .copy_from_slice(&(sum as u16).to_be_bytes());
    header[field::FLAGS] = NEEDS_CSUM;
    header[field::CSUM_START..field::CSUM_START + 2].copy_from_slice(&(start as u16).to_le_bytes());
    header[field::CSUM_OFFSET..field::CSUM_OFFSET + 2]
        .copy_from_slice(&(checksum_at as u16).to_le_bytes());
}
