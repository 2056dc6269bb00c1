//! Probing the virtio-mmio slots the VMM announces (virtio 1.2 §4.2.2), and the split
//! virtqueue (§2.7) both drivers, blk and net, hand their buffers over in.

use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};
use core::sync::atomic::{fence, Ordering};

use labvisor_guest_abi::virtio::{reg, MAGIC};

use super::{mmio_read32, mmio_write32};

/// What a slot holds.
pub struct Slot {
    pub base: u64,
    pub version: u32,
    /// 0 = no device behind the transport.
    pub device_id: u32,
}

/// Reads slot `index` of the window at `base` (slots `stride` bytes apart); `None` when no
/// transport answers there.
pub fn probe(base: u64, stride: u64, index: u32) -> Option<Slot> {
    let at = base + u64::from(index) * stride;
    if mmio_read32(at + reg::MAGIC_VALUE) != MAGIC {
        return None;
    }
    Some(Slot {
        base: at,
        version: mmio_read32(at + reg::VERSION),
        device_id: mmio_read32(at + reg::DEVICE_ID),
    })
}

/// The name of a virtio device id (virtio 1.2 §5).
pub fn device_name(id: u32) -> &'static str {
    match id {
        0 => "empty slot",
        1 => "network card",
        2 => "block device",
        3 => "console",
        4 => "entropy source",
        _ => "other device",
    }
}

/// Descriptor flag: the chain goes on at `next` (virtio 1.2 §2.7.5).
pub const DESC_NEXT: u16 = 1;
/// Descriptor flag: the device writes this buffer.
pub const DESC_WRITE: u16 = 2;
/// Available-ring flag: the driver polls, so the device need not interrupt it (§2.7.7).
pub const AVAIL_NO_INTERRUPT: u16 = 1;

/// One buffer of a chain, as the device reads it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Desc {
    pub addr: u64,
    pub len: u32,
    pub flags: u16,
    pub next: u16,
}

impl Desc {
    pub const EMPTY: Desc = Desc {
        addr: 0,
        len: 0,
        flags: 0,
        next: 0,
    };
}

/// The rings of one split virtqueue of `N` entries, page-aligned: the descriptor table, the
/// available ring the driver fills and the used ring the device fills. `N` is a power of two,
/// so positions that wrap at 2^16 wrap with the rings.
#[repr(C, align(4096))]
pub struct Rings<const N: usize> {
    pub desc: [Desc; N],
    avail_flags: u16,
    avail_idx: u16,
    avail_ring: [u16; N],
    avail_used_event: u16,
    /// Keeps the used ring 4-byte aligned (N is even).
    _pad: u16,
    used_flags: u16,
    used_idx: u16,
    used_ring: [[u32; 2]; N],
}

impl<const N: usize> Rings<N> {
    /// Empty rings, for a driver that polls.
    pub const fn new() -> Rings<N> {
        assert!(N.is_power_of_two() && N >= 2 && N <= 32768);
        Rings {
            desc: [Desc::EMPTY; N],
            avail_flags: AVAIL_NO_INTERRUPT,
            avail_idx: 0,
            avail_ring: [0; N],
            avail_used_event: 0,
            _pad: 0,
            used_flags: 0,
            used_idx: 0,
            used_ring: [[0; 2]; N],
        }
    }

    /// Tells the device at `base` where queue `index`'s rings are and enables the queue;
    /// `false` if the device cannot take `N` entries or does not enable it.
    pub fn attach(&self, base: u64, index: u16) -> bool {
        mmio_write32(base + reg::QUEUE_SEL, u32::from(index));
        if mmio_read32(base + reg::QUEUE_NUM_MAX) < N as u32 {
            return false;
        }
        mmio_write32(base + reg::QUEUE_NUM, N as u32);
        for (low, high, addr) in [
            (
                reg::QUEUE_DESC_LOW,
                reg::QUEUE_DESC_HIGH,
                addr_of!(self.desc) as u64,
            ),
            (
                reg::QUEUE_DRIVER_LOW,
                reg::QUEUE_DRIVER_HIGH,
                addr_of!(self.avail_flags) as u64,
            ),
            (
                reg::QUEUE_DEVICE_LOW,
                reg::QUEUE_DEVICE_HIGH,
                addr_of!(self.used_flags) as u64,
            ),
        ] {
            mmio_write32(base + low, addr as u32);
            mmio_write32(base + high, (addr >> 32) as u32);
        }
        mmio_write32(base + reg::QUEUE_READY, 1);
        mmio_read32(base + reg::QUEUE_READY) == 1
    }

    /// Makes the chain headed by descriptor `head` available to the device, without
    /// notifying it (callers batch notifications).
    pub fn publish(&mut self, head: u16) {
        let slot = usize::from(self.avail_idx) % N;
        self.avail_ring[slot] = head;
        // The device must see the descriptors and the ring entry before the index that
        // publishes them; this fence compiles to a locked instruction on this target (no
        // SSE2 `mfence`, which KVM's instruction emulator lacks).
        fence(Ordering::SeqCst);
        let next = self.avail_idx.wrapping_add(1);
        // SAFETY: a field of rings this driver owns; volatile because the device reads it
        // concurrently.
        unsafe { write_volatile(addr_of_mut!(self.avail_idx), next) };
    }

    /// How many entries the device has used since the queue was enabled, wrapping at 2^16.
    pub fn used_idx(&self) -> u16 {
        // SAFETY: a field of rings this driver owns; volatile because the device writes it.
        unsafe { read_volatile(addr_of!(self.used_idx)) }
    }

    /// The used entry at `position` (wrapping), once [`Rings::used_idx`] has passed it:
    /// `[descriptor id, bytes written]`, both the device's word, to be checked before use.
    pub fn used(&self, position: u16) -> [u32; 2] {
        fence(Ordering::SeqCst);
        let slot = usize::from(position) % N;
        // SAFETY: as for `used_idx`; the entry is complete once `used_idx` covers it.
        unsafe { read_volatile(addr_of!(self.used_ring[slot])) }
    }
}
