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
///
/// With the control device the guest reads its clock at most once every 50 ms
/// ([`CarriedClock::CARRY_NS`]): in between, the time-stamp counter carries it forward at the
/// rate measured between the device's own readings. Every reading is a VM exit, and the
/// network stack asks for the time every polling round; emulated, a round is milliseconds,
/// natively microseconds.
pub fn monotonic_ns() -> u64 {
    match base() {
        Some(b) => DEVICE_CLOCK.now(|| mmio_read64(b + REG_CLOCK_NS)),
        None => tsc_ns(),
    }
}

fn tsc_ns() -> u64 {
    static NS_PER_TICK: AtomicU64 = AtomicU64::new(0);
    let rate = match NS_PER_TICK.load(Ordering::Relaxed) {
        0 => {
            let khz = super::tsc_khz().unwrap_or(2_000_000);
            let rate = ns_per_tick(1_000_000, khz);
            NS_PER_TICK.store(rate, Ordering::Relaxed);
            rate
        }
        rate => rate,
    };
    ticks_to_ns(super::rdtsc(), rate)
}

/// Nanoseconds per counter tick as a 32.32 fixed-point number, from `ns` nanoseconds taking
/// `ticks` ticks: the one division, done once, so that turning ticks into time is a multiply
/// (a 128-bit division is a library call of a hundred instructions, each one emulated when the
/// guest is).
fn ns_per_tick(ns: u64, ticks: u64) -> u64 {
    u64::try_from((u128::from(ns) << 32) / u128::from(ticks.max(1))).unwrap_or(u64::MAX)
}

fn ticks_to_ns(ticks: u64, ns_per_tick: u64) -> u64 {
    u64::try_from((u128::from(ticks) * u128::from(ns_per_tick)) >> 32).unwrap_or(u64::MAX)
}

static DEVICE_CLOCK: CarriedClock = CarriedClock::new();

/// A slow clock (one exit per reading) carried forward by the time-stamp counter between
/// readings. Only the network stack's CPU (the first) uses it; the others read the device.
struct CarriedClock {
    /// The first reading, and the counter then: the span to the latest reading gives the
    /// counter's rate, more precisely the longer the VM runs.
    first_ns: AtomicU64,
    first_tsc: AtomicU64,
    /// The latest reading and the counter then.
    read_ns: AtomicU64,
    read_tsc: AtomicU64,
    /// Nanoseconds per tick (32.32 fixed point), once measured over [`Self::MEASURE_NS`].
    ns_per_tick: AtomicU64,
    /// The largest time returned, so that a rate slightly too high never turns time back.
    returned: AtomicU64,
}

impl CarriedClock {
    /// How long the counter carries the clock before the next reading. The rate is measured
    /// over the whole run, so its error over this span is microseconds at most.
    const CARRY_NS: u64 = 50_000_000;
    /// The shortest span over which the counter's rate is measured; until then every call
    /// reads the clock.
    const MEASURE_NS: u64 = 20_000_000;

    const fn new() -> CarriedClock {
        CarriedClock {
            first_ns: AtomicU64::new(0),
            first_tsc: AtomicU64::new(0),
            read_ns: AtomicU64::new(0),
            read_tsc: AtomicU64::new(0),
            ns_per_tick: AtomicU64::new(0),
            returned: AtomicU64::new(0),
        }
    }

    fn now(&self, read: impl FnOnce() -> u64) -> u64 {
        let tsc = super::rdtsc();
        let rate = self.ns_per_tick.load(Ordering::Relaxed);
        let carried = ticks_to_ns(
            tsc.wrapping_sub(self.read_tsc.load(Ordering::Relaxed)),
            rate,
        );
        let ns = if rate != 0 && carried < Self::CARRY_NS {
            self.read_ns.load(Ordering::Relaxed) + carried
        } else {
            self.read(tsc, read())
        };
        // A load and a store, not `fetch_max`: a locked compare-and-exchange is among the
        // dearest instructions to emulate, and only one CPU reads this clock.
        let ns = ns.max(self.returned.load(Ordering::Relaxed));
        self.returned.store(ns, Ordering::Relaxed);
        ns
    }

    /// Records a reading of the clock taken at counter value `tsc`; returns it.
    fn read(&self, tsc: u64, ns: u64) -> u64 {
        if self.first_tsc.load(Ordering::Relaxed) == 0 {
            self.first_ns.store(ns, Ordering::Relaxed);
            self.first_tsc.store(tsc, Ordering::Relaxed);
        }
        let span_ns = ns.saturating_sub(self.first_ns.load(Ordering::Relaxed));
        if span_ns >= Self::MEASURE_NS {
            let span_ticks = tsc.wrapping_sub(self.first_tsc.load(Ordering::Relaxed));
            self.ns_per_tick
                .store(ns_per_tick(span_ns, span_ticks), Ordering::Relaxed);
        }
        self.read_ns.store(ns, Ordering::Relaxed);
        self.read_tsc.store(tsc, Ordering::Relaxed);
        ns
    }
}

/// Gives the CPU back only once polling has found nothing to do for a while. A round that
/// found work is usually followed by more (the next segment of a connection, the next
/// client), and an idle costs a VM exit and a wake-up; spinning for a short while first
/// answers those without either.
#[derive(Debug, Default)]
pub struct Backoff {
    quiet_since: Option<u64>,
}

impl Backoff {
    /// How long nothing must have moved before the CPU is given back.
    const SPIN_NS: u64 = 2_000_000;

    /// After a polling round: `moved` says whether it did anything; when nothing has for
    /// [`Self::SPIN_NS`], idles for up to `us` microseconds (a backend with work for the
    /// guest ends the idle early).
    pub fn after_round(&mut self, moved: bool, us: u32) {
        if moved {
            self.quiet_since = None;
            return;
        }
        let now = monotonic_ns();
        let since = *self.quiet_since.get_or_insert(now);
        if now.saturating_sub(since) >= Self::SPIN_NS {
            idle(us);
        }
    }
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
