//! # The guest ABI: what Labvisor's VMM and its guest OS agree on
//!
//! Both sides compile this one crate, so a register offset, a block field or a memory-map
//! address cannot drift between them: the VMM writes the boot-info block with
//! [`BootInfo::encode`] and the guest reads it with [`BootInfo::decode`]; both name the control
//! device's registers through [`control`]. The human-readable tables are in docs/vmm.md.
//!
//! - [`memory`]: the guest-physical memory map (where the block, the kernel and the devices are).
//! - [`BootInfo`]: the boot-info block the VMM writes at [`memory::BOOT_INFO_ADDR`].
//! - [`control`]: Labvisor's paravirtual control device (clock, marks, power-off, idle, console).
//! - [`mark`]: the boot marks the guest reports through the control device.
//! - [`virtio`]: the virtio-mmio slot layout.
//!
//! `no_std`, no dependencies, no `unsafe`: the guest (bare metal) and the VMM (Linux) both use it.
#![no_std]
#![forbid(unsafe_code)]

pub mod control;
pub mod mark;
pub mod memory;
pub mod ssh;
pub mod virtio;

mod boot_info;

pub use boot_info::{BootInfo, BootInfoError};

/// Most vCPUs a VM has (the guest keeps a stack for each).
pub const MAX_CPUS: usize = 16;
