//! Labvisor's paravirtual control device: a 4 KiB MMIO window at [`BASE`], little-endian
//! registers. What each register means is in docs/vmm.md ("Labvisor control device").

use crate::memory;

/// Where the device's window starts.
pub const BASE: u64 = memory::MMIO_START;
/// Bytes of the window.
pub const SIZE: u64 = 0x1000;

/// `"LABV"`, read from [`REG_MAGIC`].
pub const MAGIC: u32 = u32::from_le_bytes(*b"LABV");
/// Read from [`REG_VERSION`].
pub const VERSION: u32 = 1;

/// 4 bytes, read: [`MAGIC`].
pub const REG_MAGIC: u64 = 0x00;
/// 4 bytes, read: [`VERSION`].
pub const REG_VERSION: u64 = 0x04;
/// 4 bytes, read: the VM's vCPUs.
pub const REG_CPUS: u64 = 0x08;
/// 4 bytes, read: how the vCPUs run, a [`CpuMode`].
pub const REG_CPU_MODE: u64 = 0x0c;
/// 8 bytes (or two 4-byte halves), read: nanoseconds since the VMM started building the VM.
pub const REG_CLOCK_NS: u64 = 0x10;
/// 4 bytes, write: record boot mark `value` ([`crate::mark`]) at the current clock.
pub const REG_MARK: u64 = 0x20;
/// 4 bytes, write: end the VM with exit status `value & 0xff`.
pub const REG_POWER_OFF: u64 = 0x24;
/// 4 bytes, write: give the host CPU back for up to `value` µs (capped at [`MAX_IDLE_US`]);
/// Labvisor's VMM ends the wait early when frames or keys arrive for the guest.
pub const REG_IDLE_US: u64 = 0x28;
/// 8 bytes (or two 4-byte halves), read: guest RAM in bytes.
pub const REG_MEM_BYTES: u64 = 0x30;
/// 8 bytes, write: print a buffer of guest memory on the console ([`console_write`]).
pub const REG_CONSOLE_WRITE: u64 = 0x38;

/// 8 bytes (or two 4-byte halves), read: 64 fresh random bits from the host's `getrandom`,
/// different on every read (seeds for the guest's TCP sequence numbers and ports).
pub const REG_RANDOM: u64 = 0x40;

/// Longest idle one `IDLE_US` write gets.
pub const MAX_IDLE_US: u32 = 10_000;
/// Most bytes one `CONSOLE_WRITE` prints.
pub const CONSOLE_WRITE_MAX: u32 = 4096;

/// The value of a `CONSOLE_WRITE`: `len` bytes at guest-physical `addr`, in one 8-byte write
/// so that both halves reach the device together. `None` when they do not fit (an address
/// above 4 GiB, which RAM never reaches, or more than [`CONSOLE_WRITE_MAX`] bytes).
pub const fn console_write(addr: u64, len: u32) -> Option<u64> {
    if addr > u32::MAX as u64 || len > CONSOLE_WRITE_MAX {
        None
    } else {
        Some(((len as u64) << 32) | addr)
    }
}

/// The buffer a `CONSOLE_WRITE` value names, as `(addr, len)`; `None` when it is too long.
pub const fn console_buffer(value: u64) -> Option<(u64, u32)> {
    let (addr, len) = (value & 0xffff_ffff, (value >> 32) as u32);
    if len > CONSOLE_WRITE_MAX {
        None
    } else {
        Some((addr, len))
    }
}

/// How the VMM runs the vCPUs ([`REG_CPU_MODE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuMode {
    /// VT-x/AMD-V: the CPU runs the guest itself.
    Hardware,
    /// PVM with the host's native opt-in: the guest's instructions run on the CPU.
    PvmNative,
    /// PVM's non-PVM mode: KVM's instruction emulator runs every guest instruction.
    PvmEmulated,
}

impl CpuMode {
    /// The register's value.
    pub const fn register(self) -> u32 {
        match self {
            CpuMode::Hardware => 1,
            CpuMode::PvmNative => 2,
            CpuMode::PvmEmulated => 3,
        }
    }

    /// The mode a register value names.
    pub const fn from_register(value: u32) -> Option<CpuMode> {
        match value {
            1 => Some(CpuMode::Hardware),
            2 => Some(CpuMode::PvmNative),
            3 => Some(CpuMode::PvmEmulated),
            _ => None,
        }
    }

    /// In words, for the guest's banner.
    pub const fn describe(self) -> &'static str {
        match self {
            CpuMode::Hardware => "hardware-assisted",
            CpuMode::PvmNative => "native under PVM",
            CpuMode::PvmEmulated => "emulated under PVM",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_console_write_round_trips_and_refuses_what_does_not_fit() {
        assert_eq!(
            console_buffer(console_write(0x1234, 12).unwrap()),
            Some((0x1234, 12))
        );
        assert_eq!(console_write(1 << 32, 1), None);
        assert_eq!(console_write(0, CONSOLE_WRITE_MAX + 1), None);
        assert_eq!(console_buffer(u64::MAX), None);
    }

    #[test]
    fn cpu_modes_round_trip_through_the_register() {
        for mode in [CpuMode::Hardware, CpuMode::PvmNative, CpuMode::PvmEmulated] {
            assert_eq!(CpuMode::from_register(mode.register()), Some(mode));
        }
        assert_eq!(CpuMode::from_register(0), None);
    }
}
