//! Probing the virtio-mmio slots the VMM announces (virtio 1.2 §4.2.2). Drivers for blk and
//! net come with those devices.

use super::mmio_read32;

const MAGIC_VALUE: u64 = 0x000;
const VERSION: u64 = 0x004;
const DEVICE_ID: u64 = 0x008;
const VIRTIO_MAGIC: u32 = u32::from_le_bytes(*b"virt");
/// Bytes between two slots.
pub const SLOT_SIZE: u64 = 0x1000;

/// What a slot holds.
pub struct Slot {
    pub base: u64,
    pub version: u32,
    /// 0 = no device behind the transport.
    pub device_id: u32,
}

/// Reads slot `index` of the window at `base`; `None` when no transport answers there.
pub fn probe(base: u64, index: u32) -> Option<Slot> {
    let at = base + u64::from(index) * SLOT_SIZE;
    if mmio_read32(at + MAGIC_VALUE) != VIRTIO_MAGIC {
        return None;
    }
    Some(Slot {
        base: at,
        version: mmio_read32(at + VERSION),
        device_id: mmio_read32(at + DEVICE_ID),
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
