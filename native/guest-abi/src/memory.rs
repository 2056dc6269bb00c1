//! The guest-physical memory map.
//!
//! ```text
//! 0x0000_5000  boot-info block; the workload text at +0x100
//! 0x0000_6000  the SSH keys (crate::ssh), when the VMM passes them
//! 0x0010_0000  the kernel (ELF segments at their p_paddr)
//!   …          RAM up to the VM's size (at most 3 GiB)
//! 0xd000_0000  MMIO window: the control device (4 KiB), then the virtio-mmio slots (4 KiB each)
//! ```
//!
//! The VMM's own structures (GDT, page tables, Linux's zero page) are placed by the VMM and
//! are not part of this interface.

/// Labvisor's boot-info block ([`crate::BootInfo`]); the VMM passes it in `rdi`.
pub const BOOT_INFO_ADDR: u64 = 0x5000;
/// Where the workload text (`vm run --run`) goes, right after the block.
pub const WORKLOAD_ADDR: u64 = BOOT_INFO_ADDR + 0x100;
/// Longest workload text, so that it stays inside the block's page.
pub const WORKLOAD_MAX: usize = 0x1000 - 0x100;
/// Where the SSH keys go ([`crate::ssh`]), the page after the block's.
pub const SSH_KEYS_ADDR: u64 = BOOT_INFO_ADDR + 0x1000;
/// First byte above the legacy area: kernels load here.
pub const KERNEL_START: u64 = 0x10_0000;
/// Start of the MMIO window; RAM ends below it.
pub const MMIO_START: u64 = 0xd000_0000;
