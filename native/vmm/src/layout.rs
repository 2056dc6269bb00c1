//! The guest-physical memory map: where the VMM puts each boot structure and device.
//!
//! ```text
//! 0x0000_0500  GDT (4 entries)
//! 0x0000_5000  Labvisor boot-info block; the workload text at +0x100
//! 0x0000_7000  Linux zero page (boot_params)
//! 0x0000_8ff0  Linux boot stack (grows down)
//! 0x0000_9000  PML4, 0xa000 PDPT, 0xb000..0xf000 four PDs: 0–4 GiB identity-mapped, 2 MiB pages
//! 0x0002_0000  Linux command line (up to 64 KiB)
//! 0x0009_fc00  EBDA .. 1 MiB: reserved (e820)
//! 0x0010_0000  the kernel (ELF segments at their p_paddr; bzImage's protected-mode code)
//!   …          RAM up to --mem; a Linux initrd sits at its top
//! 0xd000_0000  MMIO window: the control device (4 KiB), then the virtio-mmio slots (4 KiB each)
//! ```
//!
//! RAM is one region from 0 and must end below the MMIO window, so `--mem` is at most 3 GiB.
//! What the guest relies on (the boot-info block, the kernel's address, the MMIO window) comes
//! from `labvisor_guest_abi::memory`; the rest is the VMM's own business.

/// The GDT the VMM installs (null, code64, data, TSS placeholder).
pub const GDT_ADDR: u64 = 0x500;
pub use labvisor_guest_abi::memory::{BOOT_INFO_ADDR, MMIO_START, WORKLOAD_ADDR, WORKLOAD_MAX};
/// Linux's zero page.
pub const ZERO_PAGE_ADDR: u64 = 0x7000;
/// Linux's initial stack pointer.
pub const LINUX_STACK_ADDR: u64 = 0x8ff0;
/// Top-level page table.
pub const PML4_ADDR: u64 = 0x9000;
/// Page-directory-pointer table.
pub const PDPT_ADDR: u64 = 0xa000;
/// First of the four page directories.
pub const PD_ADDR: u64 = 0xb000;
/// Linux's command line.
pub const CMDLINE_ADDR: u64 = 0x20000;
/// Longest command line.
pub const CMDLINE_MAX: usize = 0x10000;
/// Start of the Extended BIOS Data Area, reserved up to 1 MiB.
pub const EBDA_START: u64 = 0x9fc00;
/// First byte above the legacy area: kernels load here.
pub const HIMEM_START: u64 = labvisor_guest_abi::memory::KERNEL_START;

/// Labvisor's control device.
pub const CONTROL_BASE: u64 = labvisor_guest_abi::control::BASE;
/// Bytes of the control device's register window.
pub const CONTROL_SIZE: u64 = labvisor_guest_abi::control::SIZE;
/// First virtio-mmio slot.
pub const VIRTIO_BASE: u64 = labvisor_guest_abi::virtio::BASE;
/// Bytes per virtio-mmio slot.
pub const VIRTIO_SLOT_SIZE: u64 = labvisor_guest_abi::virtio::SLOT_SIZE;
/// How many virtio-mmio slots the window has.
pub const VIRTIO_SLOTS: u32 = labvisor_guest_abi::virtio::SLOTS;

/// Smallest RAM the VMM accepts: the kernel at 1 MiB plus its stacks and a heap.
pub const MIN_MEM: u64 = 8 << 20;
/// Largest RAM: everything below the MMIO window, rounded down to 1 GiB.
pub const MAX_MEM: u64 = 3 << 30;
/// Most vCPUs (the embedded guest has stacks for this many).
pub const MAX_CPUS: u8 = labvisor_guest_abi::MAX_CPUS as u8;
