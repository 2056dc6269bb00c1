//! The boot-info block: what the VMM tells the guest about its VM. Written at
//! [`crate::memory::BOOT_INFO_ADDR`], little-endian, [`BootInfo::SIZE`] bytes:
//!
//! | offset | type | field |
//! | --- | --- | --- |
//! | 0x00 | u64 | magic `"LABVBOOT"` |
//! | 0x08 | u32 | version = 1 |
//! | 0x0c | u32 | vCPUs |
//! | 0x10 | u64 | RAM bytes |
//! | 0x18 | u64 | control device base |
//! | 0x20 | u64 | first virtio-mmio slot |
//! | 0x28 | u32 | number of virtio-mmio slots |
//! | 0x2c | u32 | workload length |
//! | 0x30 | u64 | workload address, UTF-8, not NUL-terminated |
//! | 0x38 | u32 | SSH keys length, 0 when the VMM passes none (see [`crate::ssh`]) |
//! | 0x3c | u32 | reserved, 0 |
//! | 0x40 | u64 | SSH keys address |
//!
//! Encoding and decoding are one piece of code used by both sides, so they cannot disagree.

/// `"LABVBOOT"`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"LABVBOOT");
/// The layout above (2 added the SSH keys).
pub const VERSION: u32 = 2;

/// The block's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BootInfo {
    pub cpus: u32,
    pub mem_bytes: u64,
    pub control_base: u64,
    pub virtio_base: u64,
    pub virtio_slots: u32,
    pub workload_len: u32,
    pub workload_addr: u64,
    pub ssh_keys_len: u32,
    pub ssh_keys_addr: u64,
}

/// Why bytes are not a boot-info block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootInfoError {
    BadMagic(u64),
    UnknownVersion(u32),
}

impl BootInfo {
    /// Bytes of the block.
    pub const SIZE: usize = 72;

    /// The block as the VMM writes it.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0x00..0x08].copy_from_slice(&MAGIC.to_le_bytes());
        b[0x08..0x0c].copy_from_slice(&VERSION.to_le_bytes());
        b[0x0c..0x10].copy_from_slice(&self.cpus.to_le_bytes());
        b[0x10..0x18].copy_from_slice(&self.mem_bytes.to_le_bytes());
        b[0x18..0x20].copy_from_slice(&self.control_base.to_le_bytes());
        b[0x20..0x28].copy_from_slice(&self.virtio_base.to_le_bytes());
        b[0x28..0x2c].copy_from_slice(&self.virtio_slots.to_le_bytes());
        b[0x2c..0x30].copy_from_slice(&self.workload_len.to_le_bytes());
        b[0x30..0x38].copy_from_slice(&self.workload_addr.to_le_bytes());
        b[0x38..0x3c].copy_from_slice(&self.ssh_keys_len.to_le_bytes());
        b[0x40..0x48].copy_from_slice(&self.ssh_keys_addr.to_le_bytes());
        b
    }

    /// The block as the guest reads it.
    pub fn decode(b: &[u8; Self::SIZE]) -> Result<BootInfo, BootInfoError> {
        let u32_at = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let u64_at = |at: usize| u64::from(u32_at(at)) | (u64::from(u32_at(at + 4)) << 32);
        match (u64_at(0x00), u32_at(0x08)) {
            (MAGIC, VERSION) => Ok(BootInfo {
                cpus: u32_at(0x0c),
                mem_bytes: u64_at(0x10),
                control_base: u64_at(0x18),
                virtio_base: u64_at(0x20),
                virtio_slots: u32_at(0x28),
                workload_len: u32_at(0x2c),
                workload_addr: u64_at(0x30),
                ssh_keys_len: u32_at(0x38),
                ssh_keys_addr: u64_at(0x40),
            }),
            (MAGIC, version) => Err(BootInfoError::UnknownVersion(version)),
            (magic, _) => Err(BootInfoError::BadMagic(magic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_vmm_encodes_the_guest_decodes() {
        let info = BootInfo {
            cpus: 3,
            mem_bytes: 64 << 20,
            control_base: 0xd000_0000,
            virtio_base: 0xd000_1000,
            virtio_slots: 8,
            workload_len: 6,
            workload_addr: 0x5100,
            ssh_keys_len: 40,
            ssh_keys_addr: 0x6000,
        };
        let bytes = info.encode();
        assert_eq!(&bytes[..8], b"LABVBOOT");
        assert_eq!(BootInfo::decode(&bytes), Ok(info));
    }

    #[test]
    fn a_foreign_block_is_refused() {
        let mut bytes = BootInfo::default().encode();
        bytes[8] = 1;
        assert_eq!(
            BootInfo::decode(&bytes),
            Err(BootInfoError::UnknownVersion(1))
        );
        assert!(matches!(
            BootInfo::decode(&[0; BootInfo::SIZE]),
            Err(BootInfoError::BadMagic(0))
        ));
    }
}
