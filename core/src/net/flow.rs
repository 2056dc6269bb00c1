//! A flow's identity ([`FlowKey`]), the one hash mixer the engine uses ([`mix64`]) and the
//! seeded hashing of its tables ([`SeededHash`]). Below both the conntrack table and its index,
//! so neither imports the other for its key.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::packet::Proto;

/// A flow's identity in one direction: protocol, addresses and ports (ICMP echo: the
/// identifier as both ports, as conntrack does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FlowKey {
    /// Protocol.
    pub proto: Proto,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
}

impl Hash for FlowKey {
    // One well-mixed word instead of five small writes: this is the hot path's only hash,
    // and a multiplicative hash alone spreads these keys (addresses and ports that differ in a few low
    // bits) poorly over hashbrown's buckets.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let addrs = ((self.src.to_bits() as u64) << 32) | self.dst.to_bits() as u64;
        let rest =
            ((self.sport as u64) << 24) | ((self.dport as u64) << 8) | self.proto.number() as u64;
        state.write_u64(mix64(addrs ^ mix64(rest)));
    }
}

/// Hashing for the NAT's tables, from a seed: a guest chooses the ports and addresses its flows
/// carry, so with a hash it could predict it could aim every flow at one bucket and make each
/// lookup walk them all. With a seed it does not know (the VMM draws one per VM from the host's
/// `getrandom`; the simulator and the tests use 0, so the core stays deterministic) it cannot.
/// Every write goes through [`mix64`], so no input bit survives unmixed into the bucket index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeededHash {
    seed: u64,
}

impl SeededHash {
    /// Hashing from `seed`.
    pub const fn new(seed: u64) -> SeededHash {
        SeededHash { seed }
    }
}

impl std::hash::BuildHasher for SeededHash {
    type Hasher = SeededHasher;

    fn build_hasher(&self) -> SeededHasher {
        SeededHasher { state: self.seed }
    }
}

/// The hasher [`SeededHash`] builds.
#[derive(Debug, Clone)]
pub struct SeededHasher {
    state: u64,
}

impl Hasher for SeededHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(n.into());
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(n.into());
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(n.into());
    }

    fn write_u64(&mut self, n: u64) {
        self.state = mix64(self.state.rotate_left(23) ^ n);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.state
    }
}

/// MurmurHash3's 64-bit finalizer: every input bit affects every output bit.
pub(crate) const fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

impl FlowKey {
    /// The key a reply to this flow would carry if nothing translated it.
    pub const fn reversed(self) -> FlowKey {
        FlowKey {
            proto: self.proto,
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
        }
    }
}

impl fmt::Display for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.proto {
            Proto::Icmp => write!(f, "icmp {} > {} id {}", self.src, self.dst, self.sport),
            p => write!(
                f,
                "{p} {}:{} > {}:{}",
                self.src, self.sport, self.dst, self.dport
            ),
        }
    }
}
