//! The virtio-mmio slots (virtio 1.2 §4.2.2): a window of [`SLOTS`] transports after the
//! control device, [`SLOT_SIZE`] bytes apart.

use crate::control;

/// The first slot.
pub const BASE: u64 = control::BASE + control::SIZE;
/// Bytes between two slots.
pub const SLOT_SIZE: u64 = 0x1000;
/// How many slots the window has.
pub const SLOTS: u32 = 8;

/// Transport registers the guest reads to find what a slot holds.
pub const REG_MAGIC_VALUE: u64 = 0x000;
pub const REG_VERSION: u64 = 0x004;
pub const REG_DEVICE_ID: u64 = 0x008;
/// `"virt"`.
pub const MAGIC: u32 = u32::from_le_bytes(*b"virt");

/// The address of slot `index`.
pub const fn slot(index: u32) -> u64 {
    BASE + index as u64 * SLOT_SIZE
}
