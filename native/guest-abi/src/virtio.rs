//! The virtio-mmio slots (virtio 1.2 §4.2.2): a window of [`SLOTS`] transports after the
//! control device, [`SLOT_SIZE`] bytes apart; the transport's registers and status bits; and
//! what a block device and a network device say to their drivers ([`blk`], [`net`]). The
//! VMM's devices and the guest's drivers both name them from here.

use crate::control;

/// The first slot.
pub const BASE: u64 = control::BASE + control::SIZE;
/// Bytes between two slots.
pub const SLOT_SIZE: u64 = 0x1000;
/// How many slots the window has.
pub const SLOTS: u32 = 8;

/// `"virt"`, read from [`reg::MAGIC_VALUE`].
pub const MAGIC: u32 = u32::from_le_bytes(*b"virt");
/// Register layout version 2 (virtio 1.0 and later), read from [`reg::VERSION`].
pub const VERSION: u32 = 2;
/// `VIRTIO_F_VERSION_1`: the modern interface, which both sides require.
pub const F_VERSION_1: u64 = 1 << 32;

/// The address of slot `index`.
pub const fn slot(index: u32) -> u64 {
    BASE + index as u64 * SLOT_SIZE
}

/// Register offsets within a slot (virtio 1.2 §4.2.2, version 2 layout).
pub mod reg {
    pub const MAGIC_VALUE: u64 = 0x000;
    pub const VERSION: u64 = 0x004;
    pub const DEVICE_ID: u64 = 0x008;
    pub const VENDOR_ID: u64 = 0x00c;
    pub const DEVICE_FEATURES: u64 = 0x010;
    pub const DEVICE_FEATURES_SEL: u64 = 0x014;
    pub const DRIVER_FEATURES: u64 = 0x020;
    pub const DRIVER_FEATURES_SEL: u64 = 0x024;
    pub const QUEUE_SEL: u64 = 0x030;
    pub const QUEUE_NUM_MAX: u64 = 0x034;
    pub const QUEUE_NUM: u64 = 0x038;
    pub const QUEUE_READY: u64 = 0x044;
    pub const QUEUE_NOTIFY: u64 = 0x050;
    pub const INTERRUPT_STATUS: u64 = 0x060;
    pub const INTERRUPT_ACK: u64 = 0x064;
    pub const STATUS: u64 = 0x070;
    pub const QUEUE_DESC_LOW: u64 = 0x080;
    pub const QUEUE_DESC_HIGH: u64 = 0x084;
    pub const QUEUE_DRIVER_LOW: u64 = 0x090;
    pub const QUEUE_DRIVER_HIGH: u64 = 0x094;
    pub const QUEUE_DEVICE_LOW: u64 = 0x0a0;
    pub const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
    pub const CONFIG_GENERATION: u64 = 0x0fc;
    pub const CONFIG: u64 = 0x100;
}

/// Device status bits (virtio 1.2 §2.1).
pub mod status {
    pub const ACKNOWLEDGE: u32 = 1;
    pub const DRIVER: u32 = 2;
    pub const DRIVER_OK: u32 = 4;
    pub const FEATURES_OK: u32 = 8;
    pub const NEEDS_RESET: u32 = 0x40;
    pub const FAILED: u32 = 0x80;
}

/// virtio-blk (virtio 1.2 §5.2): device id, features, request types and status values.
pub mod blk {
    /// The device id of a block device.
    pub const DEVICE_ID: u32 = 2;
    /// The unit of a request's `sector`, whatever the disk's block size.
    pub const SECTOR: u64 = 512;

    /// Feature bits.
    pub mod feature {
        pub const SIZE_MAX: u64 = 1 << 1;
        pub const SEG_MAX: u64 = 1 << 2;
        pub const RO: u64 = 1 << 5;
        pub const BLK_SIZE: u64 = 1 << 6;
        pub const FLUSH: u64 = 1 << 9;
        pub const DISCARD: u64 = 1 << 13;
        pub const WRITE_ZEROES: u64 = 1 << 14;
    }

    /// Request types (the header's first field).
    pub mod request {
        pub const IN: u32 = 0;
        pub const OUT: u32 = 1;
        pub const FLUSH: u32 = 4;
        pub const GET_ID: u32 = 8;
        pub const DISCARD: u32 = 11;
        pub const WRITE_ZEROES: u32 = 13;
    }

    /// Status byte values.
    pub mod status {
        pub const OK: u8 = 0;
        pub const IOERR: u8 = 1;
        pub const UNSUPP: u8 = 2;
    }
}

/// virtio-net (virtio 1.2 §5.1): device id, features, queues, the per-frame header and the
/// config layout. With `VIRTIO_F_VERSION_1` the header is always [`net::HEADER_LEN`] bytes
/// (`num_buffers` included), before every frame in both directions.
pub mod net {
    /// The device id of a network device.
    pub const DEVICE_ID: u32 = 1;
    /// The receive queue's index.
    pub const RX_QUEUE: u16 = 0;
    /// The transmit queue's index.
    pub const TX_QUEUE: u16 = 1;
    /// Bytes of `virtio_net_hdr` under VERSION_1: flags, gso_type, hdr_len, gso_size,
    /// csum_start, csum_offset, num_buffers.
    pub const HEADER_LEN: usize = 12;
    /// The longest Ethernet frame (without FCS) at the default MTU of 1500.
    pub const MAX_FRAME: usize = 1514;
    /// `gso_type` of a frame without segmentation offload.
    pub const GSO_NONE: u8 = 0;

    /// The header's `flags`: `csum_start` and `csum_offset` say where the device must finish
    /// the frame's TCP or UDP checksum (with [`feature::CSUM`]).
    pub const NEEDS_CSUM: u8 = 1;
    /// Offsets within the header.
    pub mod header {
        /// 1 byte: [`super::NEEDS_CSUM`] or 0.
        pub const FLAGS: usize = 0;
        /// 2 bytes, little-endian: where the checksummed bytes start in the frame.
        pub const CSUM_START: usize = 6;
        /// 2 bytes, little-endian: where, after `CSUM_START`, the checksum goes.
        pub const CSUM_OFFSET: usize = 8;
    }

    /// Feature bits.
    pub mod feature {
        /// The device finishes the checksum of a frame the driver sends with
        /// [`super::NEEDS_CSUM`]: the driver leaves the pseudo-header's sum in the checksum
        /// field, and the device sums from `csum_start` to the end (virtio 1.2 §5.1.6.2).
        pub const CSUM: u64 = 1 << 0;
        /// The device's config holds a MAC address.
        pub const MAC: u64 = 1 << 5;
        /// The device's config holds a link status.
        pub const STATUS: u64 = 1 << 16;
    }

    /// Offsets within the device's config space.
    pub mod config {
        /// 6 bytes: the MAC address.
        pub const MAC: u64 = 0;
        /// 2 bytes: [`super::LINK_UP`] when the link is up.
        pub const STATUS: u64 = 6;
    }

    /// The `status` config field's link-up bit.
    pub const LINK_UP: u16 = 1;
}
