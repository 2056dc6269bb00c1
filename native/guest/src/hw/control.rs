//! Labvisor's paravirtual control device (register layout in docs/vmm.md), and what stands
//! in for it under other VMMs: no clock, QEMU's isa-debug-exit and the i8042 reset line.

use core::sync::atomic::{AtomicU64, Ordering};

use super::{mmio_read32, mmio_read64, mmio_write32, mmio_write64, outb};

pub use labvisor_guest_abi::control::CpuMode;
use labvisor_guest_abi::control::{
    console_write as console_write_request, CONSOLE_WRITE_MAX, MAGIC, REG_CLOCK_NS,
    REG_CONSOLE_WRITE, REG_CPU_MODE, REG_IDLE_US, REG_MAGIC, REG_MARK, REG_RANDOM,
};
pub use labvisor_guest_abi::control::{REG_CPUS, REG_POWER_OFF};

/// Base address of the device, or 0 when there is none.
static BASE: AtomicU64 = AtomicU64::new(0);

/// Uses the device at `base` if it answers with Labvisor's magic.
pub fn init(base: u64) {
    if base != 0 && mmio_read32(base + REG_MAGIC) == MAGIC {
        BASE.store(base, Ordering::Relaxed);
    }
}

fn base() -> Option<u64> {
    match BASE.load(Ordering::Relaxed) {
        0 => None,
        b => Some(b),
    }
}

/// Whether the control device is present.
pub fn present() -> bool {
    base().is_some()
}

/// Nanoseconds since the VM was created, or 0 without the control device.
pub fn clock_ns() -> u64 {
    base().map_or(0, |b| mmio_read64(b + REG_CLOCK_NS))
}

/// How the VMM runs this CPU, when it says.
pub fn cpu_mode() -> Option<CpuMode> {
    base().and_then(|b| CpuMode::from_register(mmio_read32(b + REG_CPU_MODE)))
}

/// Prints `bytes` on the console in one exit; `false` (nothing printed) without the control
/// device. `bytes` must be in identity-mapped RAM, as every kernel buffer is.
pub fn console_write(bytes: &[u8]) -> bool {
    let Some(b) = base() else {
        return false;
    };
    for chunk in bytes.chunks(CONSOLE_WRITE_MAX as usize) {
        // Kernel buffers live in RAM below 4 GiB, so the request always fits.
        if let Some(request) = console_write_request(chunk.as_ptr() as u64, chunk.len() as u32) {
            mmio_write64(b + REG_CONSOLE_WRITE, request);
        }
    }
    true
}

/// Records a boot-progress mark; the VMM timestamps it.
pub fn mark(id: u32) {
    if let Some(b) = base() {
        mmio_write32(b + REG_MARK, id);
    }
}

/// Gives the host CPU back for up to `us` microseconds: a paravirtual `hlt`, since `hlt`
/// itself never returns under PVM without interrupts.
pub fn idle(us: u32) {
    match base() {
        Some(b) => mmio_write32(b + REG_IDLE_US, us),
        None => core::hint::spin_loop(),
    }
}

/// Writes `value` to register `offset` (the hidden `ctrl-garbage` workload uses this).
pub fn raw_write(offset: u64, value: u32) {
    if let Some(b) = base() {
        mmio_write32(b + offset, value);
    }
}

/// Reads register `offset` (the hidden `ctrl-garbage` workload uses this).
pub fn raw_read(offset: u64) -> u32 {
    base().map_or(0, |b| mmio_read32(b + offset))
}

/// Ends the VM with `status`. Falls back to QEMU's isa-debug-exit (port 0xf4, which exits
/// with `(status << 1) | 1`) and then to a reset through the i8042 controller.
pub fn power_off(status: u8) -> ! {
    if let Some(b) = base() {
        mmio_write32(b + REG_POWER_OFF, u32::from(status));
    }
    outb(0xf4, status);
    outb(0x64, 0xfe);
    loop {
        core::hint::spin_loop();
    }
}

/// Pulses the reset line through the i8042 keyboard controller (command 0xfe to port 0x64),
/// the PC's oldest way to reboot; the Labvisor VMM ends the VM on it.
pub fn reset() -> ! {
    outb(0x64, 0xfe);
    loop {
        core::hint::spin_loop();
    }
}

/// 64 random bits for the network stack's seeds: the control device's `RANDOM` (the host's
/// `getrandom`), or without it (under QEMU) the time-stamp counter stirred through
/// SplitMix64. `rdrand` is not used: KVM's instruction emulator, which runs every instruction
/// under PVM's emulated mode, has no entry for it, and an unemulated instruction ends the VM.
pub fn random_u64() -> u64 {
    if let Some(b) = base() {
        return mmio_read64(b + REG_RANDOM);
    }
    static DRAWS: AtomicU64 = AtomicU64::new(0);
    let mut z = super::rdtsc().wrapping_add(
        DRAWS
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Nanoseconds of a clock that always runs: the control device's, or without it the
/// time-stamp counter at the frequency CPUID reports (2 GHz when it reports none), which is
/// enough for the network stack's timers under QEMU.
pub fn monotonic_ns() -> u64 {
    if let Some(b) = base() {
        return mmio_read64(b + REG_CLOCK_NS);
    }
    static TSC_KHZ: AtomicU64 = AtomicU64::new(0);
    let khz = match TSC_KHZ.load(Ordering::Relaxed) {
        0 => {
            let khz = super::tsc_khz().unwrap_or(2_000_000);
            TSC_KHZ.store(khz, Ordering::Relaxed);
            khz
        }
        khz => khz,
    };
    (u128::from(super::rdtsc()) * 1_000_000 / u128::from(khz)) as u64
}

/// getrandom's custom backend (selected in .cargo/config.toml) for the SSH server's keys and
/// nonces: [`random_u64`], that is the host's `getrandom` through the control device, or the
/// weaker time-stamp-counter fallback where there is none (QEMU; the boot line says which).
///
/// # Safety
/// getrandom calls it with `dest` valid for writes of `len` bytes.
#[no_mangle]
unsafe extern "Rust" fn __getrandom_v03_custom(
    dest: *mut u8,
    len: usize,
) -> Result<(), getrandom::Error> {
    // SAFETY: getrandom passes a buffer valid for `len` writable bytes; it is zeroed first so
    // that the slice never covers uninitialized memory.
    let buf = unsafe {
        core::ptr::write_bytes(dest, 0, len);
        core::slice::from_raw_parts_mut(dest, len)
    };
    for chunk in buf.chunks_mut(8) {
        let bits = random_u64().to_le_bytes();
        chunk.copy_from_slice(&bits[..chunk.len()]);
    }
    Ok(())
}
