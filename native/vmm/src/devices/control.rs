//! Labvisor's paravirtual control device: a clock, boot-progress marks and power-off.
//!
//! A 4 KiB MMIO window at [`layout::CONTROL_BASE`](super::super::layout::CONTROL_BASE);
//! registers are little-endian (full table in docs/vmm.md):
//!
//! | offset | width | access | register |
//! | --- | --- | --- | --- |
//! | 0x00 | 4 | R | `MAGIC` = `"LABV"` (0x5642_414c) |
//! | 0x04 | 4 | R | `VERSION` = 1 |
//! | 0x08 | 4 | R | `CPUS`: vCPUs in this VM |
//! | 0x0c | 4 | R | `CPU_MODE`: how the vCPUs run: 1 hardware, 2 PVM native, 3 PVM emulated |
//! | 0x10 | 8 (or 4+4) | R | `CLOCK_NS`: nanoseconds since the VMM started the VM, monotonic |
//! | 0x20 | 4 | W | `MARK`: record boot mark `value` with the current `CLOCK_NS` |
//! | 0x24 | 4 | W | `POWER_OFF`: end the VM; the VMM exits with `value & 0xff` |
//! | 0x28 | 4 | W | `IDLE_US`: give the host CPU back for up to `value` µs (capped at 10 ms; ended early by the [doorbell](super::doorbell)) |
//! | 0x30 | 8 (or 4+4) | R | `MEM_BYTES`: guest RAM size |
//! | 0x38 | 8 | W | `CONSOLE_WRITE`: print `len` bytes (bits 32–63, at most 4096) from guest-physical `addr` (bits 0–31) on the console |
//! | 0x40 | 8 (or 4+4) | R | `RANDOM`: fresh bits from the host's `getrandom` on every read |
//!
//! Anything else — other offsets, other widths, writes to read-only registers — reads as
//! zero, is ignored, and is counted (`ignored_accesses` in the boot report). The guest is
//! untrusted: no access can make the device misbehave or grow without bound.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::pvm::CpuMode;

pub use labvisor_guest_abi::control::{
    CONSOLE_WRITE_MAX, MAGIC, REG_CLOCK_NS, REG_CONSOLE_WRITE, REG_CPUS, REG_CPU_MODE, REG_IDLE_US,
    REG_MAGIC, REG_MARK, REG_MEM_BYTES, REG_POWER_OFF, REG_RANDOM, REG_VERSION, VERSION,
};
/// Longest idle a guest may ask for in one write.
pub const MAX_IDLE: Duration =
    Duration::from_micros(labvisor_guest_abi::control::MAX_IDLE_US as u64);
/// Marks kept; later ones are counted, not stored.
pub const MAX_MARKS: usize = 64;

/// A boot-progress mark as the device recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub id: u32,
    /// Nanoseconds since the VM's clock started.
    pub at_ns: u64,
}

/// What a write asks of the vCPU loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlAction {
    None,
    PowerOff(u8),
    Idle(Duration),
    /// Print `len` bytes of guest memory at `addr` on the console: a whole line for one exit,
    /// where the UART costs two exits (status poll and data) per byte.
    ConsoleWrite {
        addr: u64,
        len: u32,
    },
}

/// The device's state; shared by all vCPUs.
#[derive(Debug)]
pub struct ControlDevice {
    epoch: Instant,
    cpus: u32,
    mem_bytes: u64,
    cpu_mode: CpuMode,
    panic_at_mark: Option<u32>,
    socket_at_mark: Option<u32>,
    marks: Mutex<Vec<Mark>>,
    dropped_marks: AtomicU64,
    ignored: AtomicU64,
}

impl ControlDevice {
    /// A device whose clock counts from `epoch`.
    pub fn new(epoch: Instant, cpus: u32, mem_bytes: u64, cpu_mode: CpuMode) -> ControlDevice {
        ControlDevice {
            epoch,
            cpus,
            mem_bytes,
            cpu_mode,
            panic_at_mark: None,
            socket_at_mark: None,
            marks: Mutex::new(Vec::new()),
            dropped_marks: AtomicU64::new(0),
            ignored: AtomicU64::new(0),
        }
    }

    /// Test seam: panic when the guest records boot mark `mark`, as a bug in device code
    /// would, so that tests can check a VMM thread's panic ends the VM cleanly.
    pub fn panicking_at_mark(self, mark: Option<u32>) -> ControlDevice {
        ControlDevice {
            panic_at_mark: mark,
            ..self
        }
    }

    /// Test seam: open a socket when the guest records boot mark `mark`, a system call the
    /// vCPU's seccomp filter forbids, as device code taken over by a guest might; tests check
    /// that the sandbox stops the VM and names the call.
    pub fn opening_a_socket_at_mark(self, mark: Option<u32>) -> ControlDevice {
        ControlDevice {
            socket_at_mark: mark,
            ..self
        }
    }

    /// Nanoseconds since the epoch.
    pub fn clock_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Handles a read of `data.len()` bytes at `offset` into the window.
    pub fn read(&self, offset: u64, data: &mut [u8]) {
        let value: Option<u64> = match (offset, data.len()) {
            (REG_MAGIC, 4) => Some(MAGIC.into()),
            (REG_VERSION, 4) => Some(VERSION.into()),
            (REG_CPUS, 4) => Some(self.cpus.into()),
            (REG_CPU_MODE, 4) => Some(self.cpu_mode.abi().register().into()),
            (REG_CLOCK_NS, 8) | (REG_CLOCK_NS, 4) => Some(self.clock_ns()),
            (o, 4) if o == REG_CLOCK_NS + 4 => Some(self.clock_ns() >> 32),
            (REG_MEM_BYTES, 8) | (REG_MEM_BYTES, 4) => Some(self.mem_bytes),
            (o, 4) if o == REG_MEM_BYTES + 4 => Some(self.mem_bytes >> 32),
            (REG_RANDOM, 8) | (REG_RANDOM, 4) => Some(random_u64()),
            (o, 4) if o == REG_RANDOM + 4 => Some(random_u64()),
            _ => None,
        };
        match value {
            Some(v) => {
                let bytes = v.to_le_bytes();
                let n = data.len().min(8);
                data[..n].copy_from_slice(&bytes[..n]);
            }
            None => {
                data.fill(0);
                self.ignored.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Handles a write of `data` at `offset` into the window.
    pub fn write(&self, offset: u64, data: &[u8]) -> ControlAction {
        if let (REG_CONSOLE_WRITE, Ok(quad)) = (offset, <[u8; 8]>::try_from(data)) {
            return match labvisor_guest_abi::control::console_buffer(u64::from_le_bytes(quad)) {
                Some((addr, len)) => ControlAction::ConsoleWrite { addr, len },
                None => {
                    self.count_ignored();
                    ControlAction::None
                }
            };
        }
        let Ok(word) = <[u8; 4]>::try_from(data) else {
            self.ignored.fetch_add(1, Ordering::Relaxed);
            return ControlAction::None;
        };
        let value = u32::from_le_bytes(word);
        match offset {
            REG_MARK => {
                if self.socket_at_mark == Some(value) {
                    // Bound to loopback, never used: only the system call matters.
                    drop(std::net::UdpSocket::bind("127.0.0.1:0"));
                }
                if self.panic_at_mark == Some(value) {
                    panic!(
                        "control device: panicking at boot mark {value}, as the test seam asked"
                    );
                }
                let mark = Mark {
                    id: value,
                    at_ns: self.clock_ns(),
                };
                let mut marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
                if marks.len() < MAX_MARKS {
                    marks.push(mark);
                } else {
                    self.dropped_marks.fetch_add(1, Ordering::Relaxed);
                }
                ControlAction::None
            }
            REG_POWER_OFF => ControlAction::PowerOff(value as u8),
            REG_IDLE_US => ControlAction::Idle(Duration::from_micros(value.into()).min(MAX_IDLE)),
            _ => {
                self.ignored.fetch_add(1, Ordering::Relaxed);
                ControlAction::None
            }
        }
    }

    /// The marks recorded so far, in order.
    pub fn marks(&self) -> Vec<Mark> {
        self.marks.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Marks that did not fit in [`MAX_MARKS`].
    pub fn dropped_marks(&self) -> u64 {
        self.dropped_marks.load(Ordering::Relaxed)
    }

    /// Accesses the device ignored (unknown offset or width, read-only register written).
    pub fn ignored_accesses(&self) -> u64 {
        self.ignored.load(Ordering::Relaxed)
    }

    /// Counts an access that could not be carried out, e.g. a `CONSOLE_WRITE` of memory the
    /// guest does not have.
    pub fn count_ignored(&self) {
        self.ignored.fetch_add(1, Ordering::Relaxed);
    }
}

/// 64 bits from the host's `getrandom`. The guest seeds its TCP sequence numbers and ports
/// from them, so should the kernel refuse (it does not once booted), std's per-process
/// random hasher keys still make them unpredictable from inside the guest.
pub(crate) fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    use std::hash::{BuildHasher, Hasher};
    static FALLBACK_DRAWS: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(FALLBACK_DRAWS.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn device() -> ControlDevice {
        ControlDevice::new(Instant::now(), 2, 64 << 20, CpuMode::Native)
    }

    #[test]
    fn identifies_itself_and_reports_the_machine() {
        let dev = device();
        let mut word = [0u8; 4];
        dev.read(REG_MAGIC, &mut word);
        assert_eq!(&word, b"LABV");
        dev.read(REG_CPUS, &mut word);
        assert_eq!(u32::from_le_bytes(word), 2);
        let mut quad = [0u8; 8];
        dev.read(REG_MEM_BYTES, &mut quad);
        assert_eq!(u64::from_le_bytes(quad), 64 << 20);
        assert_eq!(dev.ignored_accesses(), 0);
    }

    #[test]
    fn clock_is_monotonic() {
        let dev = device();
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        dev.read(REG_CLOCK_NS, &mut a);
        std::thread::sleep(Duration::from_millis(1));
        dev.read(REG_CLOCK_NS, &mut b);
        assert!(u64::from_le_bytes(b) >= u64::from_le_bytes(a) + 1_000_000);
    }

    #[test]
    fn marks_power_off_and_idle() {
        let dev = device();
        assert_eq!(
            dev.write(REG_MARK, &7u32.to_le_bytes()),
            ControlAction::None
        );
        assert_eq!(
            dev.marks().iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![7]
        );
        assert_eq!(
            dev.write(REG_POWER_OFF, &0x1_2345u32.to_le_bytes()),
            ControlAction::PowerOff(0x45)
        );
        assert_eq!(
            dev.write(REG_IDLE_US, &u32::MAX.to_le_bytes()),
            ControlAction::Idle(MAX_IDLE)
        );
    }

    #[test]
    fn a_console_write_names_its_buffer_and_is_bounded() {
        let dev = device();
        let request = (12u64 << 32) | 0x1234;
        assert_eq!(
            dev.write(REG_CONSOLE_WRITE, &request.to_le_bytes()),
            ControlAction::ConsoleWrite {
                addr: 0x1234,
                len: 12
            }
        );
        let too_long = (u64::from(CONSOLE_WRITE_MAX + 1) << 32) | 0x1234;
        assert_eq!(
            dev.write(REG_CONSOLE_WRITE, &too_long.to_le_bytes()),
            ControlAction::None
        );
        assert_eq!(
            dev.write(REG_CONSOLE_WRITE, &0x1234u32.to_le_bytes()),
            ControlAction::None,
            "only an 8-byte write carries both halves at once"
        );
        assert_eq!(dev.ignored_accesses(), 2);
    }

    #[test]
    fn random_reads_differ_in_both_widths() {
        let dev = device();
        let mut draws = std::collections::HashSet::new();
        for _ in 0..64 {
            let mut quad = [0u8; 8];
            dev.read(REG_RANDOM, &mut quad);
            draws.insert(u64::from_le_bytes(quad));
        }
        assert_eq!(draws.len(), 64, "every 8-byte read is a fresh draw");
        let (mut low, mut high) = ([0u8; 4], [0u8; 4]);
        let mut halves = std::collections::HashSet::new();
        let mut bits_seen = 0u32;
        for _ in 0..64 {
            dev.read(REG_RANDOM, &mut low);
            dev.read(REG_RANDOM + 4, &mut high);
            halves.insert((u32::from_le_bytes(low), u32::from_le_bytes(high)));
            bits_seen |= u32::from_le_bytes(high);
        }
        assert_eq!(halves.len(), 64, "4-byte halves are fresh too");
        assert_eq!(
            bits_seen,
            u32::MAX,
            "the high half carries random bits, not zeros"
        );
        assert_eq!(dev.ignored_accesses(), 0);
    }

    #[test]
    fn mark_storage_is_bounded() {
        let dev = device();
        for i in 0..(MAX_MARKS as u32 + 10) {
            dev.write(REG_MARK, &i.to_le_bytes());
        }
        assert_eq!(dev.marks().len(), MAX_MARKS);
        assert_eq!(dev.dropped_marks(), 10);
    }

    proptest! {
        /// Garbage at any offset and width never powers off by accident, never panics, and
        /// reads outside the known registers return zeros.
        #[test]
        fn garbage_is_ignored(offset in 0u64..0x1000, data in proptest::collection::vec(any::<u8>(), 1..9)) {
            let dev = device();
            let action = dev.write(offset, &data);
            if offset != REG_POWER_OFF || data.len() != 4 {
                prop_assert!(!matches!(action, ControlAction::PowerOff(_)));
            }
            if let ControlAction::ConsoleWrite { len, .. } = action {
                prop_assert!(offset == REG_CONSOLE_WRITE && len <= CONSOLE_WRITE_MAX);
            }
            let mut buf = data.clone();
            dev.read(offset, &mut buf);
            let known = [REG_MAGIC, REG_VERSION, REG_CPUS, REG_CPU_MODE, REG_CLOCK_NS, REG_CLOCK_NS + 4, REG_MEM_BYTES, REG_MEM_BYTES + 4, REG_RANDOM, REG_RANDOM + 4];
            if !known.contains(&offset) {
                prop_assert!(buf.iter().all(|&b| b == 0));
            }
        }
    }
}
