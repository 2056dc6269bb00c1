//! The devices with the guest's side fuzzed, driven without KVM: a virtio-blk disk or a
//! virtio-net NIC behind the virtio-mmio transport, over guest memory whose descriptor
//! tables, rings, request headers and frames come from the input, and a sequence of register
//! reads and writes, queue notifications and guest-memory stores (a guest changing its rings
//! between notifications) from the input too. Nothing may panic, and:
//!
//! - virtio-blk: the backend only ever sees requests inside the disk, and no write to a
//!   read-only disk (the device checks every sector and length, the guest never does);
//! - virtio-net: every frame the guest sends reaches the link whole (at most
//!   `MAX_FRAME_LEN` bytes), and the link's frame count matches the device's counter.
//!
//! Input layout: `[device][read-only][ram length: u16 LE][ram…][operations…]`; the ram is
//! copied to guest address 0, where queue 0's descriptor table (0x0), available ring (0x1000)
//! and used ring (0x2000) are, and queue 1's at 0x3000, 0x4000 and 0x5000. Each operation is
//! 8 bytes: `[kind][offset: u16 LE][value: u32 LE][width]`.
//!
//! This file is shared by `fuzz/fuzz_targets/virtio.rs` and the VMM's regression test.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use labvisor_vmm::devices::block::{BlockBackend, BlockCounters, BlockError, VirtioBlock};
use labvisor_vmm::devices::net::{Link, VirtioNet, DEFAULT_MAC, MAX_FRAME_LEN};
use labvisor_vmm::devices::virtio_mmio::{reg, MmioTransport, VirtioDevice};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

const MEMORY: u64 = 1 << 20;
const QUEUE_SIZE: u32 = 16;
const DISK_BYTES: u64 = 64 * 1024;
/// Where each queue's descriptor table, available ring and used ring are.
const QUEUES: [(u64, u64, u64); 2] = [(0x0, 0x1000, 0x2000), (0x3000, 0x4000, 0x5000)];

/// Runs one input; panics when an invariant does not hold.
pub fn check(data: &[u8]) {
    let [device, read_only, lo, hi, rest @ ..] = data else {
        return;
    };
    let ram_len = usize::from(u16::from_le_bytes([*lo, *hi])).min(rest.len());
    let (ram, ops) = rest.split_at(ram_len);
    let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), MEMORY as usize)])
        .expect("1 MiB of guest memory");
    mem.write_slice(ram, GuestAddress(0))
        .expect("the ram fits in guest memory");

    let link = Arc::new(Link::default());
    let net = device & 1 == 1;
    let device: Box<dyn VirtioDevice> = if net {
        for i in 0..3u8 {
            link.send_to_guest(vec![i; 60 + usize::from(i) * 500]);
        }
        Box::new(VirtioNet::new(DEFAULT_MAC, link.clone()))
    } else {
        let disk = CheckedDisk {
            bytes: vec![0x5a; DISK_BYTES as usize],
            read_only: read_only & 1 == 1,
        };
        let counters = Arc::new(Mutex::new(BlockCounters::default()));
        Box::new(VirtioBlock::new(
            Arc::new(Mutex::new(Box::new(disk))),
            counters,
        ))
    };
    let queues = if net { 2 } else { 1 };
    let mut transport =
        MmioTransport::new(Some(device), mem.clone()).expect("the devices' queues are valid");
    bring_up(&mut transport, queues);

    let mut sent = VecDeque::new();
    let mut frames_seen = 0u64;
    for op in ops.chunks_exact(8) {
        let offset = u64::from(u16::from_le_bytes([op[1], op[2]]));
        let value = [op[3], op[4], op[5], op[6]];
        let width = usize::from(op[7] % 8) + 1;
        let bytes: Vec<u8> = value.iter().copied().cycle().take(width).collect();
        match op[0] % 4 {
            0 => transport.write(offset % 0x200, &bytes),
            1 => {
                let mut buf = bytes;
                transport.read(offset % 0x200, &mut buf);
            }
            2 => {
                let index = u32::from(op[3]) % 3;
                transport.write(reg::QUEUE_NOTIFY, &index.to_le_bytes());
            }
            _ => {
                let at = (offset * 4) % (QUEUES[1].2 + 0x1000);
                mem.write_slice(&value, GuestAddress(at))
                    .expect("inside guest memory");
            }
        }
        if net {
            link.take_from_guest(&mut sent);
            for frame in &sent {
                assert!(
                    frame.len() <= MAX_FRAME_LEN,
                    "a {}-byte frame left the device",
                    frame.len()
                );
            }
            frames_seen += sent.len() as u64;
            assert_eq!(
                frames_seen,
                link.counters().tx_frames,
                "every frame the device counted reached the link"
            );
        }
    }
}

/// The guest driver's start-up (virtio 1.2 §3.1.1) with the queues at their fixed places.
fn bring_up(transport: &mut MmioTransport, queues: usize) {
    let mut w = |offset: u64, value: u32| transport.write(offset, &value.to_le_bytes());
    w(reg::STATUS, 3);
    w(reg::DRIVER_FEATURES_SEL, 1);
    w(reg::DRIVER_FEATURES, 1);
    w(reg::STATUS, 0xb);
    for (index, &(desc, avail, used)) in QUEUES.iter().enumerate().take(queues) {
        w(reg::QUEUE_SEL, index as u32);
        w(reg::QUEUE_NUM, QUEUE_SIZE);
        w(reg::QUEUE_DESC_LOW, desc as u32);
        w(reg::QUEUE_DRIVER_LOW, avail as u32);
        w(reg::QUEUE_DEVICE_LOW, used as u32);
        w(reg::QUEUE_READY, 1);
    }
    w(reg::STATUS, 0xf);
}

/// A disk in memory that fails the run if the device lets a request past its end, or a
/// write onto a read-only disk, through.
struct CheckedDisk {
    bytes: Vec<u8>,
    read_only: bool,
}

impl CheckedDisk {
    fn range(&self, what: &str, offset: u64, len: u64) -> std::ops::Range<usize> {
        let end = offset
            .checked_add(len)
            .unwrap_or_else(|| panic!("{what} at {offset} of {len} bytes overflows"));
        assert!(
            end <= self.bytes.len() as u64,
            "{what} at {offset} of {len} bytes passes the {}-byte disk's end",
            self.bytes.len()
        );
        offset as usize..end as usize
    }

    fn writable(&self, what: &str) {
        assert!(!self.read_only, "{what} reached a read-only disk");
    }
}

impl BlockBackend for CheckedDisk {
    fn capacity(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn read_only(&self) -> bool {
        self.read_only
    }
    fn id(&self) -> String {
        "fuzz".into()
    }
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let range = self.range("a read", offset, buf.len() as u64);
        buf.copy_from_slice(&self.bytes[range]);
        Ok(())
    }
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), BlockError> {
        self.writable("a write");
        let range = self.range("a write", offset, data.len() as u64);
        self.bytes[range].copy_from_slice(data);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
    fn discard(&mut self, offset: u64, len: u64) -> Result<(), BlockError> {
        self.writable("a discard");
        let range = self.range("a discard", offset, len);
        self.bytes[range].fill(0);
        Ok(())
    }
    fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BlockError> {
        self.writable("write-zeroes");
        let range = self.range("write-zeroes", offset, len);
        self.bytes[range].fill(0);
        Ok(())
    }
}
