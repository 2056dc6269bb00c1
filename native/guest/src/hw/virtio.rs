//! Probing the virtio-mmio slots the VMM announces (virtio 1.2 §4.2.2). Drivers for blk and
//! net come with those devices.

use labvisor_guest_abi::virtio::{reg, MAGIC};

use super::mmio_read32;

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
