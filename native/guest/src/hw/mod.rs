//! The devices the kernel drives, all by polling: port I/O and MMIO never fault under PVM.

pub mod blk;
pub mod control;
pub mod net;
pub mod serial;
pub mod virtio;

use core::arch::asm;

/// Writes a byte to an I/O port.
pub fn outb(port: u16, value: u8) {
    // SAFETY: port I/O has no memory effects; the ports used are the VMM's devices.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a byte from an I/O port.
pub fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: as for `outb`.
    unsafe {
        asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags))
    }
    value
}

/// Reads a 32-bit device register at physical address `addr`.
pub fn mmio_read32(addr: u64) -> u32 {
    // SAFETY: `addr` is a device register in the identity-mapped MMIO window; reads of it
    // exit to the VMM (or read as 0/all-ones where nothing is there).
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

/// Reads a 64-bit device register at physical address `addr`.
pub fn mmio_read64(addr: u64) -> u64 {
    // SAFETY: as for `mmio_read32`.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

/// Writes a 64-bit device register at physical address `addr` (one access, so both halves
/// reach the device together).
pub fn mmio_write64(addr: u64, value: u64) {
    // SAFETY: as for `mmio_read32`; writes go to the VMM.
    unsafe { core::ptr::write_volatile(addr as *mut u64, value) }
}

/// Writes a 32-bit device register at physical address `addr`.
pub fn mmio_write32(addr: u64, value: u32) {
    // SAFETY: as for `mmio_read32`; writes go to the VMM.
    unsafe { core::ptr::write_volatile(addr as *mut u32, value) }
}

/// The time-stamp counter: runs directly in every mode of this host and under QEMU.
pub fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` only reads the counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The TSC's frequency in kHz as CPUID reports it: the hypervisor timing leaf 0x4000_0010
/// (KVM, QEMU with invariant TSC), else the processor's base frequency (leaf 0x16).
pub fn tsc_khz() -> Option<u64> {
    use core::arch::x86_64::__cpuid;
    let hypervisor_max = __cpuid(0x4000_0000).eax;
    if (0x4000_0010..0x4000_0100).contains(&hypervisor_max) {
        let khz = __cpuid(0x4000_0010).eax;
        if khz != 0 {
            return Some(khz.into());
        }
    }
    if __cpuid(0).eax >= 0x16 {
        let mhz = __cpuid(0x16).eax & 0xffff;
        if mhz != 0 {
            return Some(u64::from(mhz) * 1000);
        }
    }
    None
}
