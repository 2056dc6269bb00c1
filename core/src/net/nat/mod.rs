//! NAPT (RFC 3022) over the connection-tracking table: source NAT for flows leaving through
//! the outside interface, destination NAT for port-forwarded and admitted inbound flows,
//! with RFC 4787 mapping and filtering behaviours and hairpinning.
//!
//! A *binding* is the external port a NAT gave an internal endpoint. Endpoint-independent
//! mapping (EIM) reuses the binding for every destination; address-dependent mapping per
//! destination address; address-and-port-dependent mapping (symmetric) per destination
//! address and port. Filtering decides which *unsolicited* inbound packets a binding admits.
//! Source ports are preserved when free, otherwise allocated from [`PortPool`].

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::clock::Instant;
use super::conntrack::{initial_state, ConnTrack, Dir, Entry, FlowKey, InsertError, Transition};
use super::flow::SeededHash;
use super::forward::{ForwardConflict, PortForward};
use super::packet::{Proto, TcpFlags};

mod config;
mod drops;
mod ports;
#[cfg(test)]
mod tests;

pub use config::{
    cone_name, linux_port_class, Behavior, NatConfig, PortChoice, PortPool, LINUX_PORT_SEED,
};
pub use drops::NatDrop;

/// What the NAT did with a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The packet's key on arrival.
    pub before: FlowKey,
    /// The packet's key after translation.
    pub after: FlowKey,
    /// The entry's slot in the table.
    pub slot: u32,
    /// Which tuple the packet matched.
    pub dir: Dir,
    /// Whether this packet created the entry.
    pub created: bool,
    /// A state change, if any.
    pub transition: Option<Transition>,
    /// The forwarding rule that created the entry, if it was this packet.
    pub rule: Option<String>,
    /// Entries found expired while handling the packet.
    pub expired: Vec<Entry>,
    /// The entry as this packet left it, when the packet ended it at once (see
    /// [`Transition::killed`]): it is no longer in the table, and `slot` is stale.
    pub killed: Option<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Binding {
    int_ip: Ipv4Addr,
    /// The remote address an address-dependent mapping belongs to (unspecified otherwise).
    remote: Ipv4Addr,
    int_port: u16,
    /// Outbound-created entries using the binding; it is released at zero.
    refs: u32,
}

const fn bind_key(proto: Proto, port: u16) -> u32 {
    ((proto.number() as u32) << 16) | port as u32
}

/// A NAT: its configuration, forwarding rules, bindings and conntrack table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "NatData", into = "NatData")]
pub struct NatTable {
    config: NatConfig,
    forwards: Vec<PortForward>,
    ct: ConnTrack,
    /// `bind_key(proto, external port)` → binding.
    bindings: HashMap<u32, Binding, SeededHash>,
    /// Internal endpoint (+ remote address for address-dependent mapping) → external port,
    /// for bindings not found by port preservation.
    by_internal: HashMap<FlowKey, u16, SeededHash>,
    /// Address-dependent filtering: (binding, remote address) → entries that opened it.
    permits: HashMap<(u32, Ipv4Addr), u32, SeededHash>,
    cursor: u16,
    /// Draws made for [`PortChoice::Linux`] (not serialized: a table read back starts again).
    draws: u64,
    /// `bind_key`s of external ports the host could not bind (see [`NatTable::avoid_port`]);
    /// not serialized: they describe the host of this run.
    avoided: HashSet<u32, SeededHash>,
}

#[derive(Serialize, Deserialize)]
struct NatData {
    config: NatConfig,
    forwards: Vec<PortForward>,
    entries: Vec<Entry>,
}

impl From<NatTable> for NatData {
    fn from(t: NatTable) -> NatData {
        let entries = t.ct.entries().to_vec();
        NatData {
            config: t.config,
            forwards: t.forwards,
            entries,
        }
    }
}

impl From<NatData> for NatTable {
    fn from(d: NatData) -> NatTable {
        let mut t = NatTable::new(d.config);
        t.forwards = d.forwards;
        for e in d.entries {
            t.adopt(e);
        }
        t
    }
}

impl NatTable {
    /// An empty NAT.
    pub fn new(config: NatConfig) -> NatTable {
        NatTable {
            ct: ConnTrack::new(config.timeouts.clone(), config.max_entries),
            cursor: config.pool.first,
            draws: 0,
            avoided: HashSet::default(),
            config,
            forwards: Vec::new(),
            bindings: HashMap::default(),
            by_internal: HashMap::default(),
            permits: HashMap::default(),
        }
    }

    /// Hashes every table with `seed` from now on: the VMM gives each VM a random one, so a
    /// guest cannot predict where its flows land ([`SeededHash`]).
    pub fn with_hash_seed(mut self, seed: u64) -> NatTable {
        fn rehashed<K: std::hash::Hash + Eq, V>(
            map: HashMap<K, V, SeededHash>,
            hash: SeededHash,
        ) -> HashMap<K, V, SeededHash> {
            let mut fresh = HashMap::with_capacity_and_hasher(map.len(), hash);
            fresh.extend(map);
            fresh
        }
        let hash = SeededHash::new(seed);
        self.ct.reseed(seed);
        self.bindings = rehashed(self.bindings, hash);
        self.by_internal = rehashed(self.by_internal, hash);
        self.permits = rehashed(self.permits, hash);
        let mut avoided = HashSet::with_capacity_and_hasher(self.avoided.len(), hash);
        avoided.extend(self.avoided);
        self.avoided = avoided;
        self
    }

    /// Reserves room for `n` connections, so the hot path never rehashes.
    pub fn reserve(&mut self, n: usize) {
        self.ct.reserve(n);
        self.bindings.reserve(n);
    }

    /// The configuration.
    pub fn config(&self) -> &NatConfig {
        &self.config
    }

    /// The connection-tracking table.
    pub fn conntrack(&self) -> &ConnTrack {
        &self.ct
    }

    /// The forwarding rules.
    pub fn forwards(&self) -> &[PortForward] {
        &self.forwards
    }

    /// Adds a forwarding rule, unless it conflicts with one already there.
    pub fn add_forward(&mut self, rule: PortForward) -> Result<(), ForwardConflict> {
        if let Some(why) = rule.conflict_with(&self.forwards) {
            return Err(why);
        }
        self.forwards.push(rule);
        Ok(())
    }

    /// Removes the rule named `name`; existing connections it created live on until they expire.
    pub fn remove_forward(&mut self, name: &str) -> Option<PortForward> {
        let i = self.forwards.iter().position(|r| r.name == name)?;
        Some(self.forwards.remove(i))
    }

    /// Heap bytes held by the table and its indexes, at their capacities.
    pub fn heap_bytes(&self) -> usize {
        fn map_bytes<K, V, S>(m: &HashMap<K, V, S>) -> usize {
            if m.capacity() == 0 {
                return 0;
            }
            let buckets = (m.capacity() * 8 / 7).next_power_of_two();
            buckets * (std::mem::size_of::<(K, V)>() + 1) + 16
        }
        self.ct.heap_bytes()
            + map_bytes(&self.bindings)
            + map_bytes(&self.by_internal)
            + map_bytes(&self.permits)
    }

    /// Never hands out external port `port` for `proto` again: a NAT whose outside is a real
    /// host's stack learns this way that the host could not bind that port (another program
    /// holds it). Mappings already holding it are not changed.
    pub fn avoid_port(&mut self, proto: Proto, port: u16) {
        self.avoided.insert(bind_key(proto, port));
    }

    /// Removes the connection `key` belongs to (either tuple), releasing its binding; returns
    /// it. For a NAT whose outside is a real host: the host could not open the socket the
    /// entry stands for, so the entry must not outlive it.
    pub fn forget(&mut self, key: &FlowKey) -> Option<Entry> {
        let (slot, _) = self.ct.find(key)?;
        let e = self.ct.remove(slot)?;
        self.release(&e);
        Some(e)
    }

    /// Removes entries expired at `now`, releasing their bindings; returns them.
    pub fn expire(&mut self, now: Instant) -> Vec<Entry> {
        let gone = self.ct.expire(now);
        for e in &gone {
            self.release(e);
        }
        gone
    }

    fn is_snat(e: &Entry) -> bool {
        e.holds_binding()
    }

    fn release(&mut self, e: &Entry) {
        if !Self::is_snat(e) {
            return;
        }
        let key = bind_key(e.reply.proto, e.reply.dport);
        if self.config.filtering == Behavior::AddressDependent {
            let pk = (key, e.orig.dst);
            if let Some(n) = self.permits.get_mut(&pk) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.permits.remove(&pk);
                }
            }
        }
        if let Some(b) = self.bindings.get_mut(&key) {
            b.refs = b.refs.saturating_sub(1);
            if b.refs == 0 {
                let b = *b;
                self.bindings.remove(&key);
                let ik = internal_key(e.orig.proto, b.int_ip, b.int_port, b.remote);
                if self.by_internal.get(&ik) == Some(&e.reply.dport) {
                    self.by_internal.remove(&ik);
                }
            }
        }
    }

    /// Re-creates the bookkeeping for a deserialized entry.
    fn adopt(&mut self, e: Entry) {
        if self.ct.restore(e.clone()).is_ok() && Self::is_snat(&e) {
            self.hold(e.orig, e.reply.dport);
        }
    }

    fn hold(&mut self, orig: FlowKey, ext_port: u16) {
        let key = bind_key(orig.proto, ext_port);
        let remote = if self.config.mapping == Behavior::AddressDependent {
            orig.dst
        } else {
            Ipv4Addr::UNSPECIFIED
        };
        let b = self.bindings.entry(key).or_insert(Binding {
            int_ip: orig.src,
            remote,
            int_port: orig.sport,
            refs: 0,
        });
        b.refs = b.refs.saturating_add(1);
        if self.config.filtering == Behavior::AddressDependent {
            *self.permits.entry((key, orig.dst)).or_insert(0) += 1;
        }
        if ext_port != orig.sport || self.config.mapping == Behavior::AddressDependent {
            self.by_internal.insert(
                internal_key(orig.proto, orig.src, orig.sport, remote),
                ext_port,
            );
        }
    }

    /// Where an unsolicited packet `k` addressed to the NAT goes: a forwarding rule, or a
    /// binding whose filtering admits it.
    fn inbound_target(&self, k: &FlowKey) -> Result<(Ipv4Addr, u16, Option<String>), NatDrop> {
        if let Some(r) = self
            .forwards
            .iter()
            .find(|r| r.matches(k.proto, k.dst, k.dport))
        {
            // A rule without a guest address is for a NAT engine, which fills it in; here
            // "unspecified" stays and the caller resolves it.
            return Ok((
                r.guest_ip.unwrap_or(Ipv4Addr::UNSPECIFIED),
                r.guest_port,
                Some(r.name.clone()),
            ));
        }
        let key = bind_key(k.proto, k.dport);
        let Some(b) = self.bindings.get(&key) else {
            return Err(NatDrop::NoMapping {
                proto: k.proto,
                port: k.dport,
            });
        };
        let admitted = match self.config.filtering {
            Behavior::EndpointIndependent => true,
            Behavior::AddressDependent => self.permits.contains_key(&(key, k.src)),
            // Anything it admits is an exact conntrack match, which the caller tried first.
            Behavior::AddressAndPortDependent => false,
        };
        if admitted {
            Ok((b.int_ip, b.int_port, None))
        } else {
            Err(NatDrop::Filtered {
                nat_type: self.config.type_name(),
                port: k.dport,
                admits: match self.config.filtering {
                    Behavior::AddressDependent => {
                        "packets from addresses the inside host has sent to".into()
                    }
                    _ => "replies from the exact address and port the inside host sent to".into(),
                },
            })
        }
    }

    /// Handles a packet leaving through the outside interface, with `ext_ip` as the NAT's
    /// external address (the source it gets if it is new).
    pub fn outbound(
        &mut self,
        k: FlowKey,
        flags: Option<TcpFlags>,
        ext_ip: Ipv4Addr,
        now: Instant,
    ) -> Result<Decision, NatDrop> {
        self.outbound_impl(k, flags, ext_ip, None, true, now)
    }

    /// A VirtualBox NAT engine's outbound side: its external address is the host itself, so a
    /// packet to the host's address is an ordinary connection to the host (never hairpinned
    /// here: the host's stack hands port-forwarded ports back to the engines), and a new flow's
    /// destination is rewritten to `redirect` (the gateway 10.0.2.2 is the host's loopback).
    pub fn outbound_to(
        &mut self,
        k: FlowKey,
        flags: Option<TcpFlags>,
        ext_ip: Ipv4Addr,
        redirect: Option<Ipv4Addr>,
        now: Instant,
    ) -> Result<Decision, NatDrop> {
        self.outbound_impl(k, flags, ext_ip, redirect, false, now)
    }

    fn outbound_impl(
        &mut self,
        k: FlowKey,
        flags: Option<TcpFlags>,
        ext_ip: Ipv4Addr,
        redirect: Option<Ipv4Addr>,
        hairpin_here: bool,
        now: Instant,
    ) -> Result<Decision, NatDrop> {
        let mut expired = Vec::new();
        if let Some(hit) = self.find(&k, flags, now, &mut expired) {
            return Ok(hit);
        }
        let dnat = if hairpin_here && k.dst == ext_ip {
            if !self.config.hairpin {
                return Err(NatDrop::HairpinOff);
            }
            Some(self.inbound_target(&k)?)
        } else {
            None
        };
        let (dst, dport, rule) = dnat.unwrap_or((redirect.unwrap_or(k.dst), k.dport, None));
        let port = self.map_port(&k, dst, dport, ext_ip)?;
        let reply = FlowKey {
            proto: k.proto,
            src: dst,
            // ICMP echo has one identifier for both "ports": the reply carries the new one.
            sport: if k.proto == Proto::Icmp { port } else { dport },
            dst: ext_ip,
            dport: port,
        };
        self.create(k, reply, flags, rule, true, now, expired)
    }

    /// Handles a packet that arrived on the outside interface addressed to the NAT itself.
    /// `guest` fills in a forwarding rule's missing guest address (a VirtualBox NAT engine's
    /// one guest).
    pub fn inbound(
        &mut self,
        k: FlowKey,
        flags: Option<TcpFlags>,
        guest: Option<Ipv4Addr>,
        now: Instant,
    ) -> Result<Decision, NatDrop> {
        self.inbound_as(k, flags, guest, None, now)
    }

    /// Like [`NatTable::inbound`], and a new flow's source address is rewritten to `proxy`:
    /// a VirtualBox NAT engine proxies forwarded connections, so the guest sees them coming
    /// from the gateway (10.0.2.2), not from the real client.
    pub fn inbound_as(
        &mut self,
        k: FlowKey,
        flags: Option<TcpFlags>,
        guest: Option<Ipv4Addr>,
        proxy: Option<Ipv4Addr>,
        now: Instant,
    ) -> Result<Decision, NatDrop> {
        let mut expired = Vec::new();
        if let Some(hit) = self.find(&k, flags, now, &mut expired) {
            return Ok(hit);
        }
        let (mut ip, port, rule) = self.inbound_target(&k)?;
        if ip.is_unspecified() {
            ip = guest.ok_or(NatDrop::NoMapping {
                proto: k.proto,
                port: k.dport,
            })?;
        }
        let reply = FlowKey {
            proto: k.proto,
            src: ip,
            sport: port,
            dst: proxy.unwrap_or(k.src),
            dport: if k.proto == Proto::Icmp {
                port
            } else {
                k.sport
            },
        };
        self.create(k, reply, flags, rule, false, now, expired)
    }

    /// The decision for a packet of a live connection, if it belongs to one; an entry found
    /// expired on the way is released and reported in `expired`.
    fn find(
        &mut self,
        k: &FlowKey,
        flags: Option<TcpFlags>,
        now: Instant,
        expired: &mut Vec<Entry>,
    ) -> Option<Decision> {
        let (hit, lazily_expired) = self.ct.lookup(k, now);
        if let Some(e) = lazily_expired {
            self.release(&e);
            expired.push(e);
        }
        let (slot, dir) = hit?;
        Some(self.existing(*k, slot, dir, flags, now, std::mem::take(expired)))
    }

    /// Whether an unsolicited inbound packet would be translated (without changing anything).
    pub fn would_admit(&self, k: &FlowKey) -> bool {
        self.inbound_target(k).is_ok()
    }

    /// Touches the table memory the given keys will need, so that a burst's cache misses
    /// overlap (see `wire::translate_burst`). Changes nothing.
    pub fn warm(&self, keys: &[FlowKey]) -> u64 {
        self.ct.warm(keys)
    }

    /// Whether a packet with key `k` belongs to a live connection.
    pub fn tracks(&self, k: &FlowKey, now: Instant) -> bool {
        self.ct.peek(k, now)
    }

    fn existing(
        &mut self,
        k: FlowKey,
        slot: usize,
        dir: Dir,
        flags: Option<TcpFlags>,
        now: Instant,
        expired: Vec<Entry>,
    ) -> Decision {
        let transition = self.ct.update(slot, dir, flags, now);
        let after = self.ct.get(slot).map(|e| e.translate(dir)).unwrap_or(k);
        let killed = match transition {
            Some(t) if t.killed => self.ct.remove(slot),
            _ => None,
        };
        if let Some(e) = &killed {
            self.release(e);
        }
        Decision {
            before: k,
            after,
            slot: slot as u32,
            dir,
            created: false,
            transition,
            rule: None,
            expired,
            killed,
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        k: FlowKey,
        reply: FlowKey,
        flags: Option<TcpFlags>,
        rule: Option<String>,
        snat: bool,
        now: Instant,
        mut expired: Vec<Entry>,
    ) -> Result<Decision, NatDrop> {
        let state = initial_state(k.proto, flags);
        match self.ct.insert(k, reply, state, now) {
            Ok((slot, reclaimed)) => {
                for e in &reclaimed {
                    self.release(e);
                }
                expired.extend(reclaimed);
                // `insert` may have swept entries, but the new one is always last.
                let slot = self.ct.len().saturating_sub(1).min(slot);
                if snat {
                    self.ct.mark_binding(slot);
                    self.hold(k, reply.dport);
                }
                Ok(Decision {
                    before: k,
                    after: reply.reversed(),
                    slot: slot as u32,
                    dir: Dir::Original,
                    created: true,
                    transition: None,
                    rule,
                    expired,
                    killed: None,
                })
            }
            Err(InsertError::Full { max }) => Err(NatDrop::TableFull { max }),
            Err(InsertError::Clash) => Err(NatDrop::Clash(reply.to_string())),
        }
    }

    /// If an ICMP error quoting `quoted` belongs to one of our connections, the quote as it was
    /// before translation (its source is where the error must go).
    pub fn untranslate_quote(&mut self, quoted: FlowKey, now: Instant) -> Option<FlowKey> {
        self.related(quoted, now)
            .map(|(untranslated, _, _)| untranslated)
    }

    /// The connection an ICMP error belongs to (Linux's RELATED), from the packet it quotes
    /// as that packet was on the wire: the quote as it must read after translation, and the
    /// entry's slot and the direction the error travels in. Changes no state (an error does
    /// not refresh its connection), except that an expired entry found on the way is released.
    pub fn related(&mut self, quoted: FlowKey, now: Instant) -> Option<(FlowKey, usize, Dir)> {
        let (hit, lazily_expired) = self.ct.lookup(&quoted.reversed(), now);
        if let Some(e) = lazily_expired {
            self.release(&e);
        }
        let (slot, dir) = hit?;
        let e = self.ct.get(slot)?;
        let untranslated = match dir {
            Dir::Reply => e.orig,
            Dir::Original => e.reply,
        };
        Some((untranslated, slot, dir))
    }

    /// The table like `conntrack -L`, one line per entry, sorted.
    pub fn conntrack_lines(&self, now: Instant) -> Vec<String> {
        let mut entries: Vec<&Entry> = self.ct.entries().iter().collect();
        entries.sort_by_key(|e| e.orig);
        entries.iter().map(|e| e.conntrack_line(now)).collect()
    }

    /// The table like Cisco's `show ip nat translations`: (Pro, Inside global, Inside local,
    /// Outside local, Outside global) per entry, inside being the NATed side.
    pub fn cisco_rows(&self) -> Vec<[String; 5]> {
        let mut entries: Vec<&Entry> = self.ct.entries().iter().collect();
        entries.sort_by_key(|e| e.orig);
        let ep = |ip: Ipv4Addr, port: u16, _: Proto| format!("{ip}:{port}");
        entries
            .iter()
            .map(|e| {
                let p = e.orig.proto;
                if Self::is_snat(e) {
                    // Inside host opened it: inside local = orig src, inside global = reply dst.
                    [
                        p.name().to_string(),
                        ep(e.reply.dst, e.reply.dport, p),
                        ep(e.orig.src, e.orig.sport, p),
                        ep(e.orig.dst, e.orig.dport, p),
                        ep(e.reply.src, e.reply.sport, p),
                    ]
                } else {
                    // Outside host opened it through a static (forwarded) mapping.
                    [
                        p.name().to_string(),
                        ep(e.orig.dst, e.orig.dport, p),
                        ep(e.reply.src, e.reply.sport, p),
                        ep(e.orig.src, e.orig.sport, p),
                        ep(e.orig.src, e.orig.sport, p),
                    ]
                }
            })
            .collect()
    }
}

fn internal_key(proto: Proto, ip: Ipv4Addr, port: u16, remote: Ipv4Addr) -> FlowKey {
    FlowKey {
        proto,
        src: ip,
        sport: port,
        dst: remote,
        dport: 0,
    }
}
