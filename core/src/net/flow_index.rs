//! The conntrack index: flow key → entry slot and direction, built for the packet hot path.
//!
//! An open-addressing table with linear probing whose 16-byte slots hold the key inline
//! (both addresses in one word, both ports in another, the protocol packed with the value),
//! so a lookup reads one slot, usually one cache line, and compares two words. A general
//! hash map keeps its control bytes apart from its buckets, which costs a second cache miss
//! per lookup once the table outgrows the caches. Removal shifts the following slots back
//! (no tombstones), so lookups never slow down as flows come and go.

use super::flow::{mix64, FlowKey};
use super::packet::Proto;

/// The largest entry slot the value can carry (`slot << 3 | proto << 1 | dir` in 32 bits,
/// with one value reserved for "empty").
pub const MAX_SLOTS: u32 = (1 << 29) - 1;

const EMPTY: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    addrs: u64,
    ports: u32,
    /// `entry slot << 3 | protocol code << 1 | direction`, or [`EMPTY`].
    value: u32,
}

const VACANT: Slot = Slot {
    addrs: 0,
    ports: 0,
    value: EMPTY,
};

const fn proto_code(p: Proto) -> u32 {
    match p {
        Proto::Icmp => 1,
        Proto::Tcp => 2,
        Proto::Udp => 3,
    }
}

/// The key's two words and its protocol code.
#[inline]
fn words(k: &FlowKey) -> (u64, u32, u32) {
    (
        ((k.src.to_bits() as u64) << 32) | k.dst.to_bits() as u64,
        ((k.sport as u32) << 16) | k.dport as u32,
        proto_code(k.proto),
    )
}

#[inline]
fn hash(seed: u64, addrs: u64, ports: u32, code: u32) -> u64 {
    mix64(addrs ^ mix64((((ports as u64) << 8) | code as u64) ^ seed))
}

/// Flow key → `entry slot << 1 | (direction == reply)`.
#[derive(Debug, Clone, Default)]
pub struct FlowIndex {
    slots: Vec<Slot>,
    len: usize,
    /// Mixed into every hash, so a guest that chooses its flows' ports cannot predict where
    /// they land (see [`super::flow::SeededHash`]).
    seed: u64,
}

impl FlowIndex {
    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// Number of keys.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes held, at capacity.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }

    /// Hashes with `seed` from now on (the keys already held are placed again).
    pub fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        let buckets = self.slots.len();
        if buckets > 0 {
            self.resize(buckets);
        }
    }

    /// Makes room for `n` keys in total without growing again.
    pub fn reserve(&mut self, n: usize) {
        // At most 7/8 full: linear probing stays short.
        let want = n.saturating_mul(8) / 7 + 1;
        if want > self.slots.len() {
            self.resize(want.next_power_of_two().max(16));
        }
    }

    fn resize(&mut self, buckets: usize) {
        let old = std::mem::replace(&mut self.slots, vec![VACANT; buckets]);
        self.len = 0;
        for s in old.into_iter().filter(|s| s.value != EMPTY) {
            self.place(s);
        }
    }

    /// The slot holding `key`, or the empty slot where it would go.
    #[inline]
    fn probe(&self, addrs: u64, ports: u32, code: u32) -> usize {
        let mask = self.mask();
        let mut i = hash(self.seed, addrs, ports, code) as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.value == EMPTY
                || (s.addrs == addrs && s.ports == ports && (s.value >> 1) & 3 == code)
            {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    fn place(&mut self, s: Slot) {
        let code = (s.value >> 1) & 3;
        let i = self.probe(s.addrs, s.ports, code);
        if self.slots[i].value == EMPTY {
            self.len += 1;
        }
        self.slots[i] = s;
    }

    /// The value stored for `key`.
    #[inline]
    pub fn get(&self, key: &FlowKey) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let (addrs, ports, code) = words(key);
        let s = self.slots[self.probe(addrs, ports, code)];
        (s.value != EMPTY).then_some(((s.value >> 3) << 1) | (s.value & 1))
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &FlowKey) -> bool {
        self.get(key).is_some()
    }

    /// Stores `value` (`entry slot << 1 | dir`, entry slot ≤ [`MAX_SLOTS`]) for `key`,
    /// replacing any previous value.
    pub fn insert(&mut self, key: &FlowKey, value: u32) {
        self.reserve(self.len + 1);
        let (addrs, ports, code) = words(key);
        self.place(Slot {
            addrs,
            ports,
            value: ((value >> 1) << 3) | (code << 1) | (value & 1),
        });
    }

    /// Removes `key`, shifting back the slots that probed past it.
    pub fn remove(&mut self, key: &FlowKey) {
        if self.slots.is_empty() {
            return;
        }
        let mask = self.mask();
        let (addrs, ports, code) = words(key);
        let mut hole = self.probe(addrs, ports, code);
        if self.slots[hole].value == EMPTY {
            return;
        }
        self.len -= 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s.value == EMPTY {
                break;
            }
            let home = hash(self.seed, s.addrs, s.ports, (s.value >> 1) & 3) as usize & mask;
            // `s` may fill the hole unless its home lies cyclically in (hole, j].
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = VACANT;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::net::Ipv4Addr;

    fn key(p: u8, a: u8, sport: u16, dport: u16) -> FlowKey {
        FlowKey {
            proto: [Proto::Icmp, Proto::Tcp, Proto::Udp][p as usize % 3],
            src: Ipv4Addr::new(10, 0, 0, a),
            dst: Ipv4Addr::new(8, 8, 8, a % 4),
            sport,
            dport,
        }
    }

    proptest! {
        /// Any sequence of inserts and removes agrees with a std `HashMap`.
        #[test]
        fn behaves_like_a_hash_map(
            ops in prop::collection::vec((any::<bool>(), 0u8..3, 0u8..8, 0u16..6, 0u16..3, 0u32..1000), 0..400),
            seed in any::<u64>(),
            reseed_at in 0usize..400,
        ) {
            let mut idx = FlowIndex::default();
            idx.reseed(seed);
            let mut model = HashMap::new();
            for (step, (ins, p, a, sp, dp, v)) in ops.into_iter().enumerate() {
                if step == reseed_at {
                    // A new seed places every key again; none is lost.
                    idx.reseed(seed.rotate_left(17) ^ 1);
                }
                let k = key(p, a, sp, dp);
                if ins {
                    idx.insert(&k, v);
                    model.insert(k, v);
                } else {
                    idx.remove(&k);
                    model.remove(&k);
                }
                prop_assert_eq!(idx.len(), model.len());
            }
            for p in 0..3 {
                for a in 0..8 {
                    for sp in 0..6 {
                        for dp in 0..3 {
                            let k = key(p, a, sp, dp);
                            prop_assert_eq!(idx.get(&k), model.get(&k).copied());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn protocols_are_distinct_keys() {
        let mut idx = FlowIndex::default();
        idx.insert(&key(1, 1, 5, 5), 2);
        idx.insert(&key(2, 1, 5, 5), 5);
        assert_eq!(idx.get(&key(1, 1, 5, 5)), Some(2));
        assert_eq!(idx.get(&key(2, 1, 5, 5)), Some(5));
        assert_eq!(idx.get(&key(0, 1, 5, 5)), None);
        idx.remove(&key(1, 1, 5, 5));
        assert_eq!(idx.get(&key(2, 1, 5, 5)), Some(5));
        assert_eq!(idx.len(), 1);
    }
}
