//! A virtio-net driver on the host side, standing in for a guest: it brings the device up
//! through the transport's registers, keeps the RX queue full of buffers, and sends and
//! receives frames through the split rings in guest memory exactly as a guest's driver does.
//! The device tests, the backend tests and `cargo xtask bench-net` (the backend alone, no
//! guest) use it.

use std::sync::atomic::{fence, Ordering};
use std::sync::{Arc, Mutex};

use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

use super::{HEADER_LEN, RX_QUEUE, TX_QUEUE};
use crate::devices::virtio_mmio::{reg, status, MmioTransport, VIRTIO_F_VERSION_1};
use labvisor_guest_abi::virtio::net::feature;

/// Entries the driver uses in each queue.
pub const QUEUE_ENTRIES: u16 = 256;
const WRITE: u16 = 2;

/// Where one queue's rings and buffers lie in guest memory.
#[derive(Clone, Copy)]
struct Rings {
    desc: u64,
    avail: u64,
    used: u64,
    buffers: u64,
}

impl Rings {
    fn at(base: u64) -> Rings {
        Rings {
            desc: base,
            avail: base + 0x1000,
            used: base + 0x2000,
            buffers: base + 0x4000,
        }
    }
}

/// Guest memory this driver needs for buffers of `buffer_bytes`.
pub fn memory_bytes(buffer_bytes: u32) -> usize {
    2 * queue_bytes(buffer_bytes) as usize
}

/// Bytes of one queue's rings and buffers, whole pages: the TX queue starts after the RX one.
fn queue_bytes(buffer_bytes: u32) -> u64 {
    (0x4000 + u64::from(QUEUE_ENTRIES) * u64::from(buffer_bytes)).next_multiple_of(0x1000)
}

/// Why the device would not come up.
#[derive(Debug, thiserror::Error)]
#[error("the virtio-net device refused the driver: status {status:#x}")]
pub struct Refused {
    pub status: u32,
}

/// A host-side driver of one virtio-net device.
pub struct HostDriver {
    transport: Arc<Mutex<MmioTransport>>,
    mem: GuestMemoryMmap,
    buffer_bytes: u32,
    rx: Rings,
    tx: Rings,
    rx_avail: u16,
    rx_seen: u16,
    tx_avail: u16,
    /// The device's MAC, read from its config space.
    pub mac: [u8; 6],
}

impl HostDriver {
    /// Negotiates VERSION_1 and MAC, puts both queues in `mem` (at least
    /// [`memory_bytes`]`(buffer_bytes)` from address 0) and fills the RX queue.
    pub fn start(
        transport: Arc<Mutex<MmioTransport>>,
        mem: GuestMemoryMmap,
        buffer_bytes: u32,
    ) -> Result<HostDriver, Refused> {
        let per_queue = queue_bytes(buffer_bytes);
        let mut driver = HostDriver {
            transport,
            mem,
            buffer_bytes,
            rx: Rings::at(0),
            tx: Rings::at(per_queue),
            rx_avail: 0,
            rx_seen: 0,
            tx_avail: 0,
            mac: [0; 6],
        };
        {
            let mut t = driver.transport.lock().unwrap_or_else(|p| p.into_inner());
            let w = |t: &mut MmioTransport, offset: u64, value: u32| {
                t.write(offset, &value.to_le_bytes())
            };
            w(&mut t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
            let features = VIRTIO_F_VERSION_1 | feature::MAC;
            w(&mut t, reg::DRIVER_FEATURES_SEL, 0);
            w(&mut t, reg::DRIVER_FEATURES, features as u32);
            w(&mut t, reg::DRIVER_FEATURES_SEL, 1);
            w(&mut t, reg::DRIVER_FEATURES, (features >> 32) as u32);
            w(&mut t, reg::STATUS, 0xb);
            for (index, rings) in [(RX_QUEUE, driver.rx), (TX_QUEUE, driver.tx)] {
                w(&mut t, reg::QUEUE_SEL, u32::from(index));
                w(&mut t, reg::QUEUE_NUM, u32::from(QUEUE_ENTRIES));
                w(&mut t, reg::QUEUE_DESC_LOW, rings.desc as u32);
                w(&mut t, reg::QUEUE_DESC_HIGH, (rings.desc >> 32) as u32);
                w(&mut t, reg::QUEUE_DRIVER_LOW, rings.avail as u32);
                w(&mut t, reg::QUEUE_DRIVER_HIGH, (rings.avail >> 32) as u32);
                w(&mut t, reg::QUEUE_DEVICE_LOW, rings.used as u32);
                w(&mut t, reg::QUEUE_DEVICE_HIGH, (rings.used >> 32) as u32);
                w(&mut t, reg::QUEUE_READY, 1);
            }
            w(&mut t, reg::STATUS, 0xf);
            if t.status() != 0xf {
                return Err(Refused { status: t.status() });
            }
            for (i, byte) in driver.mac.iter_mut().enumerate() {
                let mut b = [0u8];
                t.read(reg::CONFIG + i as u64, &mut b);
                *byte = b[0];
            }
        }
        for id in 0..QUEUE_ENTRIES {
            driver.offer_rx(id);
        }
        driver.notify(RX_QUEUE);
        Ok(driver)
    }

    fn buffer(&self, rings: Rings, id: u16) -> u64 {
        rings.buffers + u64::from(id) * u64::from(self.buffer_bytes)
    }

    fn write_desc(&self, rings: Rings, id: u16, len: u32, flags: u16) {
        let at = GuestAddress(rings.desc + 16 * u64::from(id));
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&self.buffer(rings, id).to_le_bytes());
        raw[8..12].copy_from_slice(&len.to_le_bytes());
        raw[12..14].copy_from_slice(&flags.to_le_bytes());
        self.mem.write_slice(&raw, at).expect("rings lie in memory");
    }

    /// Publishes descriptor `id` at avail position `index` of `rings`.
    fn publish(&self, rings: Rings, index: u16, id: u16) {
        let slot = rings.avail + 4 + 2 * u64::from(index % QUEUE_ENTRIES);
        self.mem
            .write_obj(id, GuestAddress(slot))
            .expect("rings lie in memory");
        fence(Ordering::Release);
        self.mem
            .write_obj(index.wrapping_add(1), GuestAddress(rings.avail + 2))
            .expect("rings lie in memory");
    }

    fn offer_rx(&mut self, id: u16) {
        self.write_desc(self.rx, id, self.buffer_bytes, WRITE);
        self.publish(self.rx, self.rx_avail, id);
        self.rx_avail = self.rx_avail.wrapping_add(1);
    }

    fn notify(&self, queue: u16) {
        self.transport
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write(reg::QUEUE_NOTIFY, &u32::from(queue).to_le_bytes());
    }

    fn used_index(&self, rings: Rings) -> u16 {
        let index = self
            .mem
            .read_obj(GuestAddress(rings.used + 2))
            .expect("rings lie in memory");
        fence(Ordering::Acquire);
        index
    }

    /// Sends one Ethernet frame (the header is added here). `false` if it does not fit a
    /// buffer.
    pub fn send(&mut self, frame: &[u8]) -> bool {
        self.send_batch(std::iter::once(frame)) == 1
    }

    /// Sends frames with one notification per queue's worth; returns how many were queued.
    pub fn send_batch<'a>(&mut self, frames: impl IntoIterator<Item = &'a [u8]>) -> usize {
        let mut queued = 0usize;
        let mut pending = 0u16;
        for frame in frames {
            let len = HEADER_LEN + frame.len();
            if len > self.buffer_bytes as usize {
                continue;
            }
            if pending == QUEUE_ENTRIES {
                self.notify(TX_QUEUE);
                pending = 0;
            }
            // A slot is reused only once the device has completed the chain in it; while the
            // ring is full (the device waits for its backend), wait with it.
            while self.tx_avail.wrapping_sub(self.used_index(self.tx)) >= QUEUE_ENTRIES {
                self.notify(TX_QUEUE);
                pending = 0;
                std::thread::yield_now();
            }
            let id = self.tx_avail % QUEUE_ENTRIES;
            let addr = GuestAddress(self.buffer(self.tx, id));
            self.mem
                .write_slice(&[0u8; HEADER_LEN], addr)
                .expect("buffers lie in memory");
            self.mem
                .write_slice(frame, GuestAddress(addr.0 + HEADER_LEN as u64))
                .expect("buffers lie in memory");
            self.write_desc(self.tx, id, len as u32, 0);
            self.publish(self.tx, self.tx_avail, id);
            self.tx_avail = self.tx_avail.wrapping_add(1);
            pending += 1;
            queued += 1;
        }
        if pending > 0 {
            self.notify(TX_QUEUE);
        }
        queued
    }

    /// Every frame the device has put in the RX queue since the last call, buffers given
    /// back to it at once.
    pub fn receive(&mut self) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        self.receive_with(|frame| frames.push(frame.to_vec()));
        frames
    }

    /// Like [`receive`](Self::receive) without copying: `each` sees every frame in place.
    /// Returns how many there were.
    pub fn receive_with(&mut self, mut each: impl FnMut(&[u8])) -> usize {
        let used = self.used_index(self.rx);
        let mut count = 0usize;
        let reoffered = self.rx_seen != used;
        let mut scratch = Vec::new();
        while self.rx_seen != used {
            let elem = self.rx.used + 4 + 8 * u64::from(self.rx_seen % QUEUE_ENTRIES);
            let id: u32 = self.mem.read_obj(GuestAddress(elem)).expect("in memory");
            let len: u32 = self
                .mem
                .read_obj(GuestAddress(elem + 4))
                .expect("in memory");
            let id = (id % u32::from(QUEUE_ENTRIES)) as u16;
            let len = (len as usize).min(self.buffer_bytes as usize);
            if len > HEADER_LEN {
                scratch.resize(len - HEADER_LEN, 0);
                let at = GuestAddress(self.buffer(self.rx, id) + HEADER_LEN as u64);
                self.mem.read_slice(&mut scratch, at).expect("in memory");
                each(&scratch);
                count += 1;
            }
            self.offer_rx(id);
            self.rx_seen = self.rx_seen.wrapping_add(1);
        }
        if reoffered {
            self.notify(RX_QUEUE);
        }
        count
    }
}
