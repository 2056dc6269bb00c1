//! virtio-net (virtio 1.2 §5.1): the guest's network card. The device only moves Ethernet
//! frames between the guest's queues and a [`Link`], two bounded frame queues shared with the
//! network backend (the user-mode NAT in [`crate::netback`]); it never parses a frame.
//!
//! TX (queue 1): on the guest's notification, each descriptor chain is a scatter list of
//! device-readable buffers holding the 12-byte header then the frame. Its length is checked
//! against [`MAX_CHAIN_BYTES`] *before* anything is copied, then the chain is copied out of
//! guest memory once, into one buffer, and only that copy goes to the backend. RX (queue 0):
//! the backend pushes frames and asks the transport to [`poll`](super::virtio_mmio::MmioTransport::poll)
//! the queue; each frame goes into one device-writable chain after a header with
//! `num_buffers = 1`. The guest polls its used rings, so no interrupt is raised.
//!
//! The guest is untrusted: a chain with a readable buffer where a writable one belongs (or the
//! reverse), too short for the header, too long, with too many segments or outside guest RAM
//! is completed with length 0 and counted, never half-used. Every notification handles at most
//! one queue's worth of chains, and the link's queues are bounded: a guest that sends faster
//! than the backend drains finds its TX ring full and waits; frames for a guest that gives no
//! RX buffers are dropped (counted), as a real NIC does.

pub mod driver;
pub mod stand_in;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use serde::Serialize;
use virtio_queue::desc::split::Descriptor;
use virtio_queue::{Queue, QueueOwnedT, QueueT};
use vm_memory::{Address, Bytes, GuestMemoryMmap};

use super::virtio_mmio::VirtioDevice;

pub use labvisor_guest_abi::virtio::net::{
    config, feature, header, DEVICE_ID, HEADER_LEN, LINK_UP, MAX_FRAME, NEEDS_CSUM, RX_QUEUE,
    TX_QUEUE,
};

/// Entries in each queue.
pub const QUEUE_SIZE: u16 = 256;
/// The longest frame either direction carries: an Ethernet header and the largest IPv4
/// datagram, enough for the 65520-byte MTU that user-mode networks offer on loopback.
pub const MAX_FRAME_LEN: usize = 14 + 65_535;
/// The most bytes one TX chain may hold, header included; a longer chain is refused before
/// a byte of it is copied.
pub const MAX_CHAIN_BYTES: usize = HEADER_LEN + MAX_FRAME_LEN;
/// The most descriptors in one chain.
pub const MAX_SEGMENTS: usize = 64;
/// Frames waiting in each direction before further ones are dropped.
pub const LINK_QUEUE_FRAMES: usize = 4096;

/// A locally administered unicast MAC, as VirtualBox and QEMU give their NICs by default
/// (QEMU's 52:54:00:12:34:56).
pub const DEFAULT_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/// What the device moved and what it refused, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NetCounters {
    /// Frames the guest sent (TX) and their bytes, headers excluded.
    pub tx_frames: u64,
    pub tx_bytes: u64,
    /// Frames given to the guest (RX) and their bytes.
    pub rx_frames: u64,
    pub rx_bytes: u64,
    /// TX chains refused: wrong direction, too short for the header, too long, too many
    /// segments, or outside guest memory.
    pub tx_malformed: u64,
    /// RX chains the guest offered that could not hold a header (refused the same way).
    pub rx_malformed: u64,
    /// Frames for the guest dropped because the link's queue towards it was full (the guest
    /// did not give buffers fast enough). The other way the guest waits instead.
    pub rx_dropped_full: u64,
    /// Frames for the guest bigger than the buffer it offered.
    pub rx_dropped_too_big: u64,
}

#[derive(Default)]
struct AtomicCounters {
    tx_frames: AtomicU64,
    tx_bytes: AtomicU64,
    rx_frames: AtomicU64,
    rx_bytes: AtomicU64,
    tx_malformed: AtomicU64,
    rx_malformed: AtomicU64,
    rx_dropped_full: AtomicU64,
    rx_dropped_too_big: AtomicU64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// The wire between the device and its backend: frames from the guest, frames for the
/// guest, each queue bounded by [`LINK_QUEUE_FRAMES`], and a way to wake the backend.
#[derive(Default)]
pub struct Link {
    from_guest: Mutex<VecDeque<Vec<u8>>>,
    to_guest: Mutex<VecDeque<Vec<u8>>>,
    wake_backend: OnceLock<Box<dyn Fn() + Send + Sync>>,
    counters: AtomicCounters,
}

impl Link {
    /// Called whenever frames from the guest arrive (the backend's wake-up).
    pub fn on_guest_frames(&self, wake: impl Fn() + Send + Sync + 'static) {
        let _ = self.wake_backend.set(Box::new(wake));
    }

    /// Takes every frame the guest has sent so far into `into` (emptied first).
    pub fn take_from_guest(&self, into: &mut VecDeque<Vec<u8>>) {
        into.clear();
        std::mem::swap(&mut *lock(&self.from_guest), into);
    }

    /// Queues `frame` for the guest; `false` (and counted) when the queue is full. The caller
    /// then polls the RX queue so the frame reaches the guest's buffers.
    pub fn send_to_guest(&self, frame: Vec<u8>) -> bool {
        let mut queue = lock(&self.to_guest);
        if queue.len() >= LINK_QUEUE_FRAMES {
            bump(&self.counters.rx_dropped_full, 1);
            return false;
        }
        queue.push_back(frame);
        true
    }

    /// Frames waiting for guest buffers.
    pub fn pending_for_guest(&self) -> usize {
        lock(&self.to_guest).len()
    }

    pub fn counters(&self) -> NetCounters {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        NetCounters {
            tx_frames: get(&c.tx_frames),
            tx_bytes: get(&c.tx_bytes),
            rx_frames: get(&c.rx_frames),
            rx_bytes: get(&c.rx_bytes),
            tx_malformed: get(&c.tx_malformed),
            rx_malformed: get(&c.rx_malformed),
            rx_dropped_full: get(&c.rx_dropped_full),
            rx_dropped_too_big: get(&c.rx_dropped_too_big),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The virtio-net device.
pub struct VirtioNet {
    mac: [u8; 6],
    link: std::sync::Arc<Link>,
}

impl VirtioNet {
    /// A NIC with address `mac` on `link`.
    pub fn new(mac: [u8; 6], link: std::sync::Arc<Link>) -> VirtioNet {
        VirtioNet { mac, link }
    }

    fn config(&self) -> [u8; CONFIG_BYTES] {
        let mut c = [0u8; CONFIG_BYTES];
        c[..6].copy_from_slice(&self.mac);
        c[6..8].copy_from_slice(&LINK_UP.to_le_bytes());
        c
    }

    /// Copies each TX chain's frame out of guest memory and hands it to the link. While the
    /// link is full, chains stay in the ring, as on a real NIC whose transmit ring is full:
    /// the guest waits instead of losing frames, and the backend polls the queue again once
    /// it has taken what was queued.
    fn transmit(&mut self, queue: &mut Queue, mem: &GuestMemoryMmap) -> bool {
        let c = &self.link.counters;
        let mut used = false;
        let mut sent = 0usize;
        for _ in 0..queue.size() {
            if lock(&self.link.from_guest).len() >= LINK_QUEUE_FRAMES {
                break;
            }
            let Some(chain) = queue.pop_descriptor_chain(mem) else {
                break;
            };
            let head = chain.head_index();
            let descriptors: Vec<Descriptor> = chain.take(MAX_SEGMENTS + 1).collect();
            match copy_out(mem, &descriptors).and_then(finish_checksum) {
                Some(bytes) => {
                    bump(&c.tx_frames, 1);
                    bump(&c.tx_bytes, bytes.len() as u64);
                    lock(&self.link.from_guest).push_back(bytes);
                    sent += 1;
                }
                None => bump(&c.tx_malformed, 1),
            }
            used |= queue.add_used(mem, head, 0).is_ok();
        }
        if sent > 0 {
            if let Some(wake) = self.link.wake_backend.get() {
                wake();
            }
        }
        used
    }

    /// Fills the guest's RX buffers with waiting frames.
    fn receive(&mut self, queue: &mut Queue, mem: &GuestMemoryMmap) -> bool {
        let c = &self.link.counters;
        let mut used = false;
        let mut to_guest = lock(&self.link.to_guest);
        for _ in 0..queue.size() {
            if to_guest.is_empty() {
                break;
            }
            let Some(chain) = queue.pop_descriptor_chain(mem) else {
                break;
            };
            let head = chain.head_index();
            let descriptors: Vec<Descriptor> = chain.take(MAX_SEGMENTS + 1).collect();
            let Some(room) = writable_room(&descriptors) else {
                bump(&c.rx_malformed, 1);
                used |= queue.add_used(mem, head, 0).is_ok();
                continue;
            };
            // Frames too big for the guest's buffer are dropped, the buffer kept for the next.
            while to_guest
                .front()
                .is_some_and(|f| HEADER_LEN + f.len() > room)
            {
                to_guest.pop_front();
                bump(&c.rx_dropped_too_big, 1);
            }
            let Some(frame) = to_guest.pop_front() else {
                queue.go_to_previous_position();
                break;
            };
            let mut header = [0u8; HEADER_LEN];
            header[10..12].copy_from_slice(&1u16.to_le_bytes()); // num_buffers
            let written = write_scattered(mem, &descriptors, &[&header, &frame]);
            match written {
                Some(n) => {
                    bump(&c.rx_frames, 1);
                    bump(&c.rx_bytes, frame.len() as u64);
                    used |= queue.add_used(mem, head, n as u32).is_ok();
                }
                None => {
                    bump(&c.rx_malformed, 1);
                    used |= queue.add_used(mem, head, 0).is_ok();
                }
            }
        }
        used
    }
}

/// Bytes of config space: `mac` and `status` (virtio 1.2 §5.1.4).
const CONFIG_BYTES: usize = 8;

/// The frame of a TX chain (its header skipped), copied out in one pass, or `None` if the
/// chain is not a well-formed one (see the module's doc).
/// Finishes the checksum a frame was sent with [`NEEDS_CSUM`] for: the ones' complement sum
/// from `csum_start` to the end of the frame (the checksum field holds the pseudo-header's
/// sum), complemented, at `csum_start + csum_offset`. A place outside the frame refuses it.
fn finish_checksum((header, mut frame): ([u8; HEADER_LEN], Vec<u8>)) -> Option<Vec<u8>> {
    if header[header::FLAGS] & NEEDS_CSUM == 0 {
        return Some(frame);
    }
    let field = |at: usize| usize::from(u16::from_le_bytes([header[at], header[at + 1]]));
    let start = field(header::CSUM_START);
    let at = start.checked_add(field(header::CSUM_OFFSET))?;
    if at.checked_add(2)? > frame.len() {
        return None;
    }
    // A zero result goes out as all ones, as Linux's skb_checksum_help writes it: the same
    // value to TCP, and to UDP the difference between a checksum and none (RFC 768).
    let sum = match labvisor_core::net::wire::checksum(&frame[start..]) {
        0 => 0xffff,
        sum => sum,
    };
    frame[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    Some(frame)
}

/// The header and the frame of a TX chain, copied out of guest memory.
fn copy_out(
    mem: &GuestMemoryMmap,
    descriptors: &[Descriptor],
) -> Option<([u8; HEADER_LEN], Vec<u8>)> {
    if descriptors.len() > MAX_SEGMENTS || descriptors.iter().any(|d| d.is_write_only()) {
        return None;
    }
    let total = descriptors
        .iter()
        .try_fold(0usize, |sum, d| sum.checked_add(d.len() as usize))?;
    if !(HEADER_LEN..=MAX_CHAIN_BYTES).contains(&total) {
        return None;
    }
    let mut frame = vec![0u8; total - HEADER_LEN];
    let mut header = [0u8; HEADER_LEN];
    let (mut skip, mut at) = (HEADER_LEN, 0usize);
    for d in descriptors {
        let len = d.len() as usize;
        let skipped = skip.min(len);
        if skipped > 0 {
            let from = HEADER_LEN - skip;
            mem.read_slice(&mut header[from..from + skipped], d.addr())
                .ok()?;
            skip -= skipped;
        }
        let n = len - skipped;
        if n > 0 {
            let addr = d.addr().checked_add(skipped as u64)?;
            mem.read_slice(&mut frame[at..at + n], addr).ok()?;
            at += n;
        }
    }
    Some((header, frame))
}

/// How many bytes an RX chain can take, or `None` if it is not all device-writable, has too
/// many segments or cannot hold a header.
fn writable_room(descriptors: &[Descriptor]) -> Option<usize> {
    if descriptors.len() > MAX_SEGMENTS || descriptors.iter().any(|d| !d.is_write_only()) {
        return None;
    }
    let room = descriptors
        .iter()
        .fold(0usize, |sum, d| sum.saturating_add(d.len() as usize));
    (room >= HEADER_LEN).then_some(room)
}

/// Writes `parts` one after the other across `buffers`; `None` if a buffer lies outside
/// guest memory.
fn write_scattered(
    mem: &GuestMemoryMmap,
    buffers: &[Descriptor],
    parts: &[&[u8]],
) -> Option<usize> {
    let mut buffers = buffers.iter();
    let (mut addr, mut left) = (vm_memory::GuestAddress(0), 0usize);
    let mut written = 0usize;
    for part in parts {
        let mut part: &[u8] = part;
        while !part.is_empty() {
            if left == 0 {
                let d = buffers.next()?;
                (addr, left) = (d.addr(), d.len() as usize);
                continue;
            }
            let n = left.min(part.len());
            mem.write_slice(&part[..n], addr).ok()?;
            addr = addr.checked_add(n as u64)?;
            (left, part, written) = (left - n, &part[n..], written + n);
        }
    }
    Some(written)
}

impl VirtioDevice for VirtioNet {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }

    fn features(&self) -> u64 {
        feature::CSUM | feature::MAC | feature::STATUS
    }

    fn queue_max_sizes(&self) -> &[u16] {
        &[QUEUE_SIZE, QUEUE_SIZE]
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
        // The MAC is writable only with VIRTIO_NET_F_CTRL_MAC_ADDR, which is not offered.
    }

    fn process_queue(&mut self, index: usize, queue: &mut Queue, mem: &GuestMemoryMmap) -> bool {
        match u16::try_from(index) {
            Ok(RX_QUEUE) => self.receive(queue, mem),
            Ok(TX_QUEUE) => self.transmit(queue, mem),
            _ => false,
        }
    }

    fn reset(&mut self) {
        // Frames in flight belong to the driver that reset the device.
        lock(&self.link.to_guest).clear();
    }
}

#[cfg(test)]
mod tests;
