//! The virtio-mmio transport (virtio 1.2 §4.2, "version 2" register layout), ready for the
//! block and network devices that later plug into it.
//!
//! The transport owns the register file, feature negotiation, the device-status state
//! machine and the virtqueues (`virtio-queue`'s split queues). A device only implements
//! [`VirtioDevice`]: its id, features, config space and what to do with a notified queue.
//! Every access to guest memory goes through `vm-memory` (descriptor tables, rings and
//! buffers are bounds-checked against the guest's RAM), so a guest that writes nonsense
//! addresses or loops its descriptor chains gets errors, not host memory.
//!
//! An empty slot answers with device id 0, which the spec tells drivers to ignore, so the
//! guest can probe every slot.

use virtio_queue::{Queue, QueueT};
use vm_memory::{GuestAddress, GuestMemoryMmap};

pub use labvisor_guest_abi::virtio::{
    reg, status, F_VERSION_1 as VIRTIO_F_VERSION_1, MAGIC as MAGIC_VALUE, VERSION,
};
/// PCI-style vendor id for Labvisor's devices ("LV").
pub const VENDOR_ID: u32 = 0x4c56;
/// Interrupt status bit: a used buffer was added.
pub const INT_USED_RING: u32 = 1;

/// A virtio device behind the transport (blk and net come later).
pub trait VirtioDevice: Send {
    /// Device id (virtio 1.2 §5: 1 net, 2 block, …).
    fn device_id(&self) -> u32;
    /// Feature bits offered (the transport adds `VIRTIO_F_VERSION_1`).
    fn features(&self) -> u64;
    /// Maximum size of each queue (a power of two, at most 32768); the length is the number
    /// of queues.
    fn queue_max_sizes(&self) -> &[u16];
    /// Bytes of device config space. The transport passes on only accesses of 1, 2, 4 or 8
    /// bytes that lie wholly inside it.
    fn config_size(&self) -> u64 {
        0
    }
    /// Reads device config space at `offset`.
    fn read_config(&self, offset: u64, data: &mut [u8]);
    /// Writes device config space at `offset`.
    fn write_config(&mut self, offset: u64, data: &[u8]);
    /// The driver notified queue `index`; returns whether used buffers were added.
    fn process_queue(&mut self, index: usize, queue: &mut Queue, mem: &GuestMemoryMmap) -> bool;
    /// The driver reset the device.
    fn reset(&mut self) {}
}

/// A device whose queue size the transport cannot offer (zero, not a power of two, or over
/// 32768): a mistake in the VMM, refused when the slot is built rather than dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("virtio device {device_id}: queue {index} has maximum size {size}, not a power of two from 1 to 32768")]
pub struct InvalidQueueSize {
    pub device_id: u32,
    pub index: usize,
    pub size: u16,
}

/// One virtio-mmio slot.
pub struct MmioTransport {
    device: Option<Box<dyn VirtioDevice>>,
    mem: GuestMemoryMmap,
    queues: Vec<Queue>,
    queue_sel: u32,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    status: u32,
    interrupt_status: u32,
    config_generation: u32,
    /// Accesses that made no sense (bad offset, width or state), for the boot report.
    pub ignored: u64,
}

impl MmioTransport {
    /// A slot holding `device` (or nothing), with access to guest memory `mem`. Every queue the
    /// device names is created, at its own index, or the slot is refused.
    pub fn new(
        device: Option<Box<dyn VirtioDevice>>,
        mem: GuestMemoryMmap,
    ) -> Result<MmioTransport, InvalidQueueSize> {
        let queues = match &device {
            Some(d) => d
                .queue_max_sizes()
                .iter()
                .enumerate()
                .map(|(index, &size)| {
                    Queue::new(size).map_err(|_| InvalidQueueSize {
                        device_id: d.device_id(),
                        index,
                        size,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        Ok(MmioTransport {
            device,
            mem,
            queues,
            queue_sel: 0,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: 0,
            status: 0,
            interrupt_status: 0,
            config_generation: 0,
            ignored: 0,
        })
    }

    /// Whether a config-space access of `len` bytes at `offset` (from the config base) is one
    /// the device should see: a natural width, wholly inside its config space.
    fn config_access_ok(&self, offset: u64, len: usize) -> bool {
        let size = self.device.as_ref().map_or(0, |d| d.config_size());
        matches!(len, 1 | 2 | 4 | 8)
            && offset
                .checked_add(len as u64)
                .is_some_and(|end| end <= size)
    }

    /// The device status register.
    pub fn status(&self) -> u32 {
        self.status
    }

    fn device_features(&self) -> u64 {
        self.device
            .as_ref()
            .map_or(0, |d| d.features() | VIRTIO_F_VERSION_1)
    }

    fn selected_queue(&mut self) -> Option<&mut Queue> {
        self.queues.get_mut(self.queue_sel as usize)
    }

    /// Whether queue configuration may change now (before DRIVER_OK, queue not ready).
    fn queue_configurable(&mut self) -> bool {
        self.status & status::DRIVER_OK == 0 && self.selected_queue().is_some_and(|q| !q.ready())
    }

    /// A guest read of `data.len()` bytes at `offset`.
    pub fn read(&mut self, offset: u64, data: &mut [u8]) {
        if let Some(config) = offset.checked_sub(reg::CONFIG) {
            match &self.device {
                Some(d) if self.config_access_ok(config, data.len()) => d.read_config(config, data),
                _ => {
                    data.fill(0);
                    self.ignored += 1;
                }
            }
            return;
        }
        if data.len() != 4 {
            self.ignored += 1;
            data.fill(0);
            return;
        }
        let value = match offset {
            reg::MAGIC_VALUE => MAGIC_VALUE,
            reg::VERSION => VERSION,
            reg::DEVICE_ID => self.device.as_ref().map_or(0, |d| d.device_id()),
            reg::VENDOR_ID => VENDOR_ID,
            reg::DEVICE_FEATURES => match self.device_features_sel {
                0 => self.device_features() as u32,
                1 => (self.device_features() >> 32) as u32,
                _ => 0,
            },
            reg::QUEUE_NUM_MAX => self.selected_queue().map_or(0, |q| u32::from(q.max_size())),
            reg::QUEUE_READY => self.selected_queue().map_or(0, |q| u32::from(q.ready())),
            reg::INTERRUPT_STATUS => self.interrupt_status,
            reg::STATUS => self.status,
            reg::CONFIG_GENERATION => self.config_generation,
            _ => {
                self.ignored += 1;
                0
            }
        };
        data.copy_from_slice(&value.to_le_bytes());
    }

    /// A guest write of `data` at `offset`.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        if let Some(config) = offset.checked_sub(reg::CONFIG) {
            let allowed =
                self.status & status::FAILED == 0 && self.config_access_ok(config, data.len());
            match &mut self.device {
                Some(d) if allowed => {
                    d.write_config(config, data);
                    self.config_generation = self.config_generation.wrapping_add(1);
                }
                _ => self.ignored += 1,
            }
            return;
        }
        let Ok(word) = <[u8; 4]>::try_from(data) else {
            self.ignored += 1;
            return;
        };
        let value = u32::from_le_bytes(word);
        let ok = match offset {
            reg::DEVICE_FEATURES_SEL => {
                self.device_features_sel = value;
                true
            }
            reg::DRIVER_FEATURES_SEL => {
                self.driver_features_sel = value;
                true
            }
            reg::DRIVER_FEATURES => self.write_driver_features(value),
            reg::QUEUE_SEL => {
                self.queue_sel = value;
                true
            }
            reg::QUEUE_NUM
            | reg::QUEUE_DESC_LOW
            | reg::QUEUE_DESC_HIGH
            | reg::QUEUE_DRIVER_LOW
            | reg::QUEUE_DRIVER_HIGH
            | reg::QUEUE_DEVICE_LOW
            | reg::QUEUE_DEVICE_HIGH
                if self.queue_configurable() =>
            {
                self.selected_queue()
                    .is_some_and(|q| configure_queue(q, offset, value))
            }
            reg::QUEUE_READY => {
                let mem = self.mem.clone();
                match self.selected_queue() {
                    // A queue whose rings do not fit in guest RAM never becomes ready.
                    Some(q) if value == 1 => {
                        q.set_ready(true);
                        if !q.is_valid(&mem) {
                            q.set_ready(false);
                        }
                        q.ready()
                    }
                    Some(q) if value == 0 => {
                        q.set_ready(false);
                        true
                    }
                    _ => false,
                }
            }
            reg::QUEUE_NOTIFY => self.notify(value),
            reg::INTERRUPT_ACK => {
                self.interrupt_status &= !value;
                true
            }
            reg::STATUS => self.write_status(value),
            _ => false,
        };
        if !ok {
            self.ignored += 1;
        }
    }

    fn write_driver_features(&mut self, value: u32) -> bool {
        if self.status & status::FEATURES_OK != 0 || self.status & status::DRIVER == 0 {
            return false;
        }
        match self.driver_features_sel {
            0 => self.driver_features = (self.driver_features & !0xffff_ffff) | u64::from(value),
            1 => {
                self.driver_features =
                    (self.driver_features & 0xffff_ffff) | (u64::from(value) << 32)
            }
            _ => return false,
        }
        true
    }

    /// A write of the device status (virtio 1.2 §3.1.1). Writing 0 resets. Otherwise bits are
    /// only added, never removed, and the result must keep the spec's order: DRIVER needs
    /// ACKNOWLEDGE, FEATURES_OK needs DRIVER, DRIVER_OK needs FEATURES_OK — judged on the
    /// status the write asks for, so one write may add several steps at once. FEATURES_OK is
    /// kept only if the device accepts the driver's features; when it does not, the driver
    /// sees the bit clear (its cue to give up), and a DRIVER_OK in the same write is refused.
    fn write_status(&mut self, value: u32) -> bool {
        if value == 0 {
            self.reset();
            return true;
        }
        if value & self.status != self.status {
            return false;
        }
        let added = value & !self.status;
        let mut wanted = value;
        if added & status::FEATURES_OK != 0 && !self.features_acceptable() {
            wanted &= !(status::FEATURES_OK | status::DRIVER_OK);
        }
        let needs = [
            (status::DRIVER, status::ACKNOWLEDGE),
            (status::FEATURES_OK, status::DRIVER),
            (status::DRIVER_OK, status::FEATURES_OK),
        ];
        if needs
            .iter()
            .any(|&(bit, needed)| wanted & bit != 0 && wanted & needed == 0)
        {
            return false;
        }
        self.status = wanted;
        // A DRIVER_OK dropped with a refused FEATURES_OK is a malformed request.
        wanted == value || added & status::DRIVER_OK == 0
    }

    /// Whether the driver asked only for offered features, VERSION_1 among them.
    fn features_acceptable(&self) -> bool {
        self.driver_features & !self.device_features() == 0
            && self.driver_features & VIRTIO_F_VERSION_1 != 0
    }

    fn notify(&mut self, index: u32) -> bool {
        if self.status & status::DRIVER_OK == 0 || self.status & status::NEEDS_RESET != 0 {
            return false;
        }
        let mem = self.mem.clone();
        let (Some(device), Some(queue)) =
            (self.device.as_mut(), self.queues.get_mut(index as usize))
        else {
            return false;
        };
        if !queue.ready() {
            return false;
        }
        if device.process_queue(index as usize, queue, &mem) {
            self.interrupt_status |= INT_USED_RING;
        }
        true
    }

    /// The host side has work for queue `index` (a network backend with frames for the
    /// guest): the device processes it as on a notification, if the driver has it running.
    /// Returns whether used buffers were added.
    pub fn poll(&mut self, index: u16) -> bool {
        if self.status & status::DRIVER_OK == 0 || self.status & status::NEEDS_RESET != 0 {
            return false;
        }
        let mem = self.mem.clone();
        let (Some(device), Some(queue)) = (
            self.device.as_mut(),
            self.queues.get_mut(usize::from(index)),
        ) else {
            return false;
        };
        let used = queue.ready() && device.process_queue(usize::from(index), queue, &mem);
        if used {
            self.interrupt_status |= INT_USED_RING;
        }
        used
    }

    fn reset(&mut self) {
        // Each queue returns to its state at creation (size = maximum, not ready, no rings).
        for q in &mut self.queues {
            q.reset();
        }
        if let Some(d) = &mut self.device {
            d.reset();
        }
        self.queue_sel = 0;
        self.device_features_sel = 0;
        self.driver_features_sel = 0;
        self.driver_features = 0;
        self.status = 0;
        self.interrupt_status = 0;
    }
}

/// Applies a write to one of the selected queue's configuration registers. `false` when the
/// value is refused (a size that is not a power of two up to the maximum or that does not fit
/// 16 bits, a misaligned ring): the queue then keeps its previous value.
fn configure_queue(q: &mut Queue, offset: u64, value: u32) -> bool {
    let low = |old: u64| (old & !0xffff_ffff) | u64::from(value);
    let high = |old: u64| (old & 0xffff_ffff) | (u64::from(value) << 32);
    match offset {
        reg::QUEUE_NUM => u16::try_from(value).is_ok_and(|size| q.try_set_size(size).is_ok()),
        reg::QUEUE_DESC_LOW => q
            .try_set_desc_table_address(GuestAddress(low(q.desc_table())))
            .is_ok(),
        reg::QUEUE_DESC_HIGH => q
            .try_set_desc_table_address(GuestAddress(high(q.desc_table())))
            .is_ok(),
        reg::QUEUE_DRIVER_LOW => q
            .try_set_avail_ring_address(GuestAddress(low(q.avail_ring())))
            .is_ok(),
        reg::QUEUE_DRIVER_HIGH => q
            .try_set_avail_ring_address(GuestAddress(high(q.avail_ring())))
            .is_ok(),
        reg::QUEUE_DEVICE_LOW => q
            .try_set_used_ring_address(GuestAddress(low(q.used_ring())))
            .is_ok(),
        reg::QUEUE_DEVICE_HIGH => q
            .try_set_used_ring_address(GuestAddress(high(q.used_ring())))
            .is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use vm_memory::Bytes;

    /// A device that reads every readable buffer and fills every writable one, as blk and
    /// net will: the worst case for bounds checks.
    struct Echo {
        bytes_read: usize,
    }

    impl VirtioDevice for Echo {
        fn device_id(&self) -> u32 {
            0x2a
        }
        fn features(&self) -> u64 {
            0
        }
        fn queue_max_sizes(&self) -> &[u16] {
            &[16, 16]
        }
        fn config_size(&self) -> u64 {
            8
        }
        fn read_config(&self, _offset: u64, data: &mut [u8]) {
            data.fill(0xaa);
        }
        fn write_config(&mut self, _offset: u64, _data: &[u8]) {}
        fn process_queue(
            &mut self,
            _index: usize,
            queue: &mut Queue,
            mem: &GuestMemoryMmap,
        ) -> bool {
            let mut used = false;
            // Bounded: a malicious avail index cannot make this loop forever.
            for _ in 0..64 {
                let Some(chain) = queue.pop_descriptor_chain(mem) else {
                    break;
                };
                let head = chain.head_index();
                let mut written = 0u32;
                for desc in chain {
                    let len = (desc.len() as usize).min(4096);
                    let mut buf = vec![0u8; len];
                    if desc.is_write_only() {
                        if mem.write_slice(&buf, desc.addr()).is_ok() {
                            written = written.saturating_add(len as u32);
                        }
                    } else if mem.read_slice(&mut buf, desc.addr()).is_ok() {
                        self.bytes_read += len;
                    }
                }
                used |= queue.add_used(mem, head, written).is_ok();
            }
            used
        }
    }

    fn memory() -> GuestMemoryMmap {
        GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 1 << 20)]).unwrap()
    }

    fn w(t: &mut MmioTransport, offset: u64, value: u32) {
        t.write(offset, &value.to_le_bytes());
    }
    fn r(t: &mut MmioTransport, offset: u64) -> u32 {
        let mut b = [0u8; 4];
        t.read(offset, &mut b);
        u32::from_le_bytes(b)
    }

    #[test]
    fn empty_slot_identifies_as_virtio_with_no_device() {
        let mut t = MmioTransport::new(None, memory()).unwrap();
        assert_eq!(r(&mut t, reg::MAGIC_VALUE), MAGIC_VALUE);
        assert_eq!(r(&mut t, reg::VERSION), 2);
        assert_eq!(r(&mut t, reg::DEVICE_ID), 0);
        assert_eq!(r(&mut t, reg::QUEUE_NUM_MAX), 0);
    }

    /// The driver side of virtio 1.2 §3.1.1, then one request through queue 0.
    #[test]
    fn initialises_and_processes_a_request() {
        let mem = memory();
        let mut t =
            MmioTransport::new(Some(Box::new(Echo { bytes_read: 0 })), mem.clone()).unwrap();
        w(&mut t, reg::STATUS, status::ACKNOWLEDGE);
        w(&mut t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
        w(&mut t, reg::DEVICE_FEATURES_SEL, 1);
        assert_eq!(r(&mut t, reg::DEVICE_FEATURES), 1, "VERSION_1 offered");
        w(&mut t, reg::DRIVER_FEATURES_SEL, 1);
        w(&mut t, reg::DRIVER_FEATURES, 1);
        w(
            &mut t,
            reg::STATUS,
            status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK,
        );
        assert_ne!(t.status() & status::FEATURES_OK, 0);
        w(&mut t, reg::QUEUE_SEL, 0);
        assert_eq!(r(&mut t, reg::QUEUE_NUM_MAX), 16);
        w(&mut t, reg::QUEUE_NUM, 4);
        w(&mut t, reg::QUEUE_DESC_LOW, 0x1000);
        w(&mut t, reg::QUEUE_DRIVER_LOW, 0x2000);
        w(&mut t, reg::QUEUE_DEVICE_LOW, 0x3000);
        w(&mut t, reg::QUEUE_READY, 1);
        assert_eq!(r(&mut t, reg::QUEUE_READY), 1);
        w(&mut t, reg::STATUS, 0xf);
        // One descriptor: 8 readable bytes at 0x8000; avail ring: flags, idx=1, ring[0]=0.
        mem.write_obj(0x8000u64, GuestAddress(0x1000)).unwrap();
        mem.write_obj(8u32, GuestAddress(0x1008)).unwrap();
        mem.write_obj(0u16, GuestAddress(0x100c)).unwrap();
        mem.write_obj(1u16, GuestAddress(0x2002)).unwrap();
        mem.write_obj(0u16, GuestAddress(0x2004)).unwrap();
        w(&mut t, reg::QUEUE_NOTIFY, 0);
        assert_eq!(r(&mut t, reg::INTERRUPT_STATUS), INT_USED_RING);
        let used_idx: u16 = mem.read_obj(GuestAddress(0x3002)).unwrap();
        assert_eq!(used_idx, 1);
        assert_eq!(t.ignored, 0);
    }

    fn echo() -> MmioTransport {
        MmioTransport::new(Some(Box::new(Echo { bytes_read: 0 })), memory()).unwrap()
    }

    /// ACKNOWLEDGE | DRIVER, driver features `features`, queue 0 set up at 0x1000..0x3000.
    fn negotiated(features: u64) -> MmioTransport {
        let mut t = echo();
        w(&mut t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
        w(&mut t, reg::DRIVER_FEATURES_SEL, 0);
        w(&mut t, reg::DRIVER_FEATURES, features as u32);
        w(&mut t, reg::DRIVER_FEATURES_SEL, 1);
        w(&mut t, reg::DRIVER_FEATURES, (features >> 32) as u32);
        w(&mut t, reg::QUEUE_NUM, 4);
        w(&mut t, reg::QUEUE_DESC_LOW, 0x1000);
        w(&mut t, reg::QUEUE_DRIVER_LOW, 0x2000);
        w(&mut t, reg::QUEUE_DEVICE_LOW, 0x3000);
        w(&mut t, reg::QUEUE_READY, 1);
        t
    }

    #[test]
    fn driver_ok_with_refused_features_is_refused_and_the_device_stays_idle() {
        // Feature bit 0 is not offered, so FEATURES_OK must not stick, nor DRIVER_OK with it.
        let mut t = negotiated(VIRTIO_F_VERSION_1 | 1);
        w(&mut t, reg::STATUS, 0xf);
        assert_eq!(t.status() & (status::FEATURES_OK | status::DRIVER_OK), 0);
        assert_eq!(t.ignored, 1, "the DRIVER_OK in that write is counted");
        w(&mut t, reg::QUEUE_NOTIFY, 0);
        assert_eq!(
            r(&mut t, reg::INTERRUPT_STATUS),
            0,
            "no request is processed"
        );
    }

    #[test]
    fn features_ok_and_driver_ok_may_arrive_in_one_write() {
        let mut t = negotiated(VIRTIO_F_VERSION_1);
        w(&mut t, reg::STATUS, 0xf);
        assert_eq!(t.status(), 0xf);
        assert_eq!(t.ignored, 0);
    }

    #[test]
    fn status_bits_keep_the_specs_order() {
        let mut t = echo();
        w(&mut t, reg::STATUS, status::DRIVER);
        assert_eq!(t.status(), 0, "DRIVER without ACKNOWLEDGE");
        w(&mut t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER_OK);
        assert_eq!(t.status(), 0, "DRIVER_OK without FEATURES_OK");
        assert_eq!(t.ignored, 2);
    }

    #[test]
    fn a_queue_size_over_16_bits_is_refused_not_truncated() {
        let mut t = echo();
        w(&mut t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
        w(&mut t, reg::QUEUE_NUM, 0x1_0004);
        assert_eq!(t.ignored, 1);
        w(&mut t, reg::QUEUE_NUM, 3);
        assert_eq!(t.ignored, 2, "not a power of two");
        assert_eq!(t.queues[0].size(), 16, "the size stays the maximum");
        w(&mut t, reg::QUEUE_NUM, 4);
        assert_eq!((t.ignored, t.queues[0].size()), (2, 4));
    }

    #[test]
    fn misaligned_rings_are_refused() {
        let mut t = echo();
        w(&mut t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
        w(&mut t, reg::QUEUE_DESC_LOW, 0x1001);
        assert_eq!(t.ignored, 1);
        assert_eq!(t.queues[0].desc_table(), 0);
    }

    #[test]
    fn a_queue_ready_write_without_a_queue_is_counted_not_a_panic() {
        let mut t = echo();
        w(&mut t, reg::QUEUE_SEL, 7);
        w(&mut t, reg::QUEUE_READY, 1);
        assert_eq!(t.ignored, 1);
    }

    #[test]
    fn a_device_with_an_invalid_queue_size_is_refused_whole() {
        struct Odd;
        impl VirtioDevice for Odd {
            fn device_id(&self) -> u32 {
                9
            }
            fn features(&self) -> u64 {
                0
            }
            fn queue_max_sizes(&self) -> &[u16] {
                &[16, 3, 16]
            }
            fn read_config(&self, _: u64, _: &mut [u8]) {}
            fn write_config(&mut self, _: u64, _: &[u8]) {}
            fn process_queue(&mut self, _: usize, _: &mut Queue, _: &GuestMemoryMmap) -> bool {
                false
            }
        }
        let err = MmioTransport::new(Some(Box::new(Odd)), memory())
            .err()
            .expect("queue 1 cannot be built, and queue 2 must not take its index");
        assert_eq!(
            err,
            InvalidQueueSize {
                device_id: 9,
                index: 1,
                size: 3
            }
        );
    }

    #[test]
    fn config_space_sees_only_natural_widths_inside_it() {
        let mut t = echo();
        let mut quad = [0u8; 8];
        t.read(reg::CONFIG, &mut quad);
        assert_eq!(quad, [0xaa; 8]);
        let mut three = [0u8; 3];
        t.read(reg::CONFIG, &mut three);
        assert_eq!(three, [0; 3], "a 3-byte access");
        let mut word = [0u8; 4];
        t.read(reg::CONFIG + 6, &mut word);
        assert_eq!(word, [0; 4], "crosses the end of config space");
        t.write(reg::CONFIG + 0x800, &[1]);
        assert_eq!(t.ignored, 3);
        let mut empty = MmioTransport::new(None, memory()).unwrap();
        empty.read(reg::CONFIG, &mut word);
        assert_eq!(empty.ignored, 1, "an empty slot has no config space");
    }

    #[test]
    fn rings_outside_guest_memory_never_become_ready() {
        let mut t = MmioTransport::new(Some(Box::new(Echo { bytes_read: 0 })), memory()).unwrap();
        w(&mut t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
        w(&mut t, reg::QUEUE_NUM, 16);
        w(&mut t, reg::QUEUE_DESC_HIGH, 0xffff_ffff);
        w(&mut t, reg::QUEUE_READY, 1);
        assert_eq!(r(&mut t, reg::QUEUE_READY), 0);
    }

    proptest! {
        /// Any sequence of register writes over guest memory full of garbage, with queue
        /// notifications, never panics and never reaches outside guest memory.
        #[test]
        fn survives_garbage(
            ram in proptest::collection::vec(any::<u8>(), 0x4000),
            ops in proptest::collection::vec((0u64..0x110, any::<u32>(), 1usize..9), 0..200),
        ) {
            let mem = memory();
            mem.write_slice(&ram, GuestAddress(0)).unwrap();
            let mut t = MmioTransport::new(Some(Box::new(Echo { bytes_read: 0 })), mem).unwrap();
            // Bring the device up with queues in the garbage, so notifies reach the device.
            for (offset, value) in [(reg::STATUS, 3), (reg::DRIVER_FEATURES_SEL, 1), (reg::DRIVER_FEATURES, 1),
                (reg::STATUS, 0xb), (reg::QUEUE_NUM, 16), (reg::QUEUE_DESC_LOW, 0x0),
                (reg::QUEUE_DRIVER_LOW, 0x1000), (reg::QUEUE_DEVICE_LOW, 0x2000), (reg::QUEUE_READY, 1),
                (reg::STATUS, 0xf)] {
                w(&mut t, offset, value);
            }
            for (offset, value, width) in ops {
                let offset = offset & !3;
                let bytes = value.to_le_bytes().iter().copied().cycle().take(width).collect::<Vec<_>>();
                if value % 3 == 0 {
                    let mut buf = bytes.clone();
                    t.read(offset, &mut buf);
                } else {
                    t.write(offset, &bytes);
                }
                w(&mut t, reg::QUEUE_NOTIFY, value % 3);
            }
        }
    }
}
