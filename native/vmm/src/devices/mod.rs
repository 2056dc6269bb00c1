//! The devices and the two buses a vCPU exit is dispatched on.
//!
//! | bus | range | device |
//! | --- | --- | --- |
//! | port I/O | 0x3f8–0x3ff | 16550 serial console ([`serial`]) |
//! | port I/O | 0x60–0x64 | i8042 (vm-superio): `0xfe` to port 0x64 resets the VM |
//! | MMIO | 0xd000_0000 + 4 KiB | Labvisor control device ([`control`]) |
//! | MMIO | 0xd000_1000 + n × 4 KiB | virtio-mmio slots ([`virtio_mmio`]); disks ([`block`]) first |
//!
//! Anything else reads as all-ones (like an empty ISA bus) and ignores writes; those accesses
//! are counted. Devices are shared by all vCPUs, each behind its own lock.

pub mod block;
pub mod control;
pub mod doorbell;
pub mod net;
pub mod serial;
pub mod virtio_mmio;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};
use vm_superio::{I8042Device, Trigger};

use super::layout;
use control::{ControlAction, ControlDevice};
use serial::SerialConsole;
use virtio_mmio::MmioTransport;

const I8042_DATA: u16 = 0x60;
const I8042_COMMAND: u16 = 0x64;

/// What the vCPU loop does after an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Continue,
    Idle(Duration),
    PowerOff(u8),
    Reset,
    /// Standard input ended and the guest keeps waiting for more.
    InputEnded,
}

/// Raised by the i8042 when the guest pulses the reset line.
#[derive(Debug, Default, Clone)]
pub struct ResetLine(Arc<AtomicBool>);

impl Trigger for ResetLine {
    type E = std::convert::Infallible;
    fn trigger(&self) -> Result<(), Self::E> {
        self.0.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// Every device of the VM.
pub struct Devices {
    pub console: SerialConsole,
    pub control: ControlDevice,
    i8042: Mutex<I8042Device<ResetLine>>,
    reset: ResetLine,
    virtio: Vec<Arc<Mutex<MmioTransport>>>,
    unclaimed: AtomicU64,
    /// Guest RAM, for the control device's `CONSOLE_WRITE`.
    mem: GuestMemoryMmap,
    /// Ends an idle vCPU's wait when a backend has work for the guest.
    pub doorbell: Arc<doorbell::Doorbell>,
}

impl Devices {
    /// The device set: console, control device, i8042 and the virtio slots.
    pub fn new(
        console: SerialConsole,
        control: ControlDevice,
        virtio: Vec<MmioTransport>,
        mem: GuestMemoryMmap,
    ) -> Devices {
        let reset = ResetLine::default();
        Devices {
            console,
            control,
            i8042: Mutex::new(I8042Device::new(reset.clone())),
            reset,
            virtio: virtio
                .into_iter()
                .map(|t| Arc::new(Mutex::new(t)))
                .collect(),
            unclaimed: AtomicU64::new(0),
            mem,
            doorbell: Arc::default(),
        }
    }

    /// The transport in virtio slot `index`, for a device backend that works on its queues
    /// from a thread of its own (the network's fills RX buffers).
    pub fn virtio_slot(&self, index: usize) -> Option<Arc<Mutex<MmioTransport>>> {
        self.virtio.get(index).cloned()
    }

    /// Accesses no device claimed.
    pub fn unclaimed_accesses(&self) -> u64 {
        self.unclaimed.load(Ordering::Relaxed)
    }

    /// Accesses the control device and virtio transports ignored as malformed.
    pub fn ignored_accesses(&self) -> u64 {
        self.control.ignored_accesses()
            + self
                .virtio
                .iter()
                .map(|t| t.lock().map_or(0, |t| t.ignored))
                .sum::<u64>()
    }

    /// `in` from `port`.
    pub fn pio_read(&self, port: u16, data: &mut [u8]) -> Action {
        match port {
            p if (serial::COM1_BASE..serial::COM1_BASE + serial::COM1_PORTS).contains(&p)
                && data.len() == 1 =>
            {
                let (value, input_ended) = self.console.read((p - serial::COM1_BASE) as u8);
                data[0] = value;
                if input_ended {
                    return Action::InputEnded;
                }
            }
            I8042_DATA | I8042_COMMAND if data.len() == 1 => {
                data[0] = self
                    .i8042
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .read((port - I8042_DATA) as u8);
            }
            _ => {
                data.fill(0xff);
                self.unclaimed.fetch_add(1, Ordering::Relaxed);
            }
        }
        Action::Continue
    }

    /// `out` to `port`.
    pub fn pio_write(&self, port: u16, data: &[u8]) -> Action {
        match port {
            p if (serial::COM1_BASE..serial::COM1_BASE + serial::COM1_PORTS).contains(&p)
                && data.len() == 1 =>
            {
                self.console.write((p - serial::COM1_BASE) as u8, data[0]);
            }
            I8042_DATA | I8042_COMMAND if data.len() == 1 => {
                let _ = self
                    .i8042
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .write((port - I8042_DATA) as u8, data[0]);
                if self.reset.0.swap(false, Ordering::SeqCst) {
                    return Action::Reset;
                }
            }
            _ => {
                self.unclaimed.fetch_add(1, Ordering::Relaxed);
            }
        }
        Action::Continue
    }

    fn virtio_slot_at(&self, addr: u64) -> Option<(&Mutex<MmioTransport>, u64)> {
        let offset = addr.checked_sub(layout::VIRTIO_BASE)?;
        let slot = self
            .virtio
            .get(usize::try_from(offset / layout::VIRTIO_SLOT_SIZE).ok()?)?;
        Some((slot.as_ref(), offset % layout::VIRTIO_SLOT_SIZE))
    }

    /// A read from unbacked guest-physical `addr`.
    pub fn mmio_read(&self, addr: u64, data: &mut [u8]) {
        if let Some(offset) = addr
            .checked_sub(layout::CONTROL_BASE)
            .filter(|&o| o < layout::CONTROL_SIZE)
        {
            self.control.read(offset, data);
        } else if let Some((slot, offset)) = self.virtio_slot_at(addr) {
            slot.lock()
                .unwrap_or_else(|p| p.into_inner())
                .read(offset, data);
        } else {
            data.fill(0xff);
            self.unclaimed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A write to unbacked guest-physical `addr`.
    pub fn mmio_write(&self, addr: u64, data: &[u8]) -> Action {
        if let Some(offset) = addr
            .checked_sub(layout::CONTROL_BASE)
            .filter(|&o| o < layout::CONTROL_SIZE)
        {
            match self.control.write(offset, data) {
                ControlAction::None => {}
                ControlAction::PowerOff(status) => return Action::PowerOff(status),
                ControlAction::Idle(d) => {
                    self.console.flush();
                    return Action::Idle(d);
                }
                ControlAction::ConsoleWrite { addr, len } => {
                    // Copied out of guest memory first (bounds-checked by vm-memory), so a
                    // buffer outside RAM is refused whole, never half-printed.
                    let mut bytes = vec![0u8; len as usize];
                    match self.mem.read_slice(&mut bytes, GuestAddress(addr)) {
                        Ok(()) => self.console.write_bytes(&bytes),
                        Err(_) => self.control.count_ignored(),
                    }
                }
            }
        } else if let Some((slot, offset)) = self.virtio_slot_at(addr) {
            slot.lock()
                .unwrap_or_else(|p| p.into_inner())
                .write(offset, data);
        } else {
            self.unclaimed.fetch_add(1, Ordering::Relaxed);
        }
        Action::Continue
    }
}
