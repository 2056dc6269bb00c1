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
use std::fmt;
use std::net::Ipv4Addr;

use rustc_hash::FxBuildHasher;
use serde::{Deserialize, Serialize};

use super::clock::Instant;
use super::conntrack::{
    initial_state, ConnTrack, Dir, Entry, FlowKey, InsertError, Timeouts, Transition,
};
use super::forward::PortForward;
use super::packet::{Proto, TcpFlags};
use crate::lang::{Explain, Lang};

/// An RFC 4787 behaviour, used for both mapping (§4.1) and filtering (§5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behavior {
    /// Independent of the remote endpoint.
    EndpointIndependent,
    /// Depends on the remote address.
    AddressDependent,
    /// Depends on the remote address and port.
    AddressAndPortDependent,
}

impl fmt::Display for Behavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Behavior::EndpointIndependent => "endpoint-independent",
            Behavior::AddressDependent => "address-dependent",
            Behavior::AddressAndPortDependent => "address-and-port-dependent",
        })
    }
}

/// The RFC 3489 name of a mapping × filtering combination, where it has one.
pub fn cone_name(mapping: Behavior, filtering: Behavior) -> Option<&'static str> {
    use Behavior::*;
    match (mapping, filtering) {
        (EndpointIndependent, EndpointIndependent) => Some("full cone"),
        (EndpointIndependent, AddressDependent) => Some("restricted cone"),
        (EndpointIndependent, AddressAndPortDependent) => Some("port-restricted cone"),
        (AddressAndPortDependent, AddressAndPortDependent) => Some("symmetric"),
        _ => None,
    }
}

/// The external ports a NAT allocates from when it cannot keep the source port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortPool {
    /// First port of the pool.
    pub first: u16,
    /// Last port of the pool (inclusive).
    pub last: u16,
}

/// How a NAT picks an external port when it cannot keep the source port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortChoice {
    /// A port is taken while a binding holds it; the next free port of the pool after the last
    /// one handed out is used. Predictable, so a lesson can say which port comes next.
    #[default]
    Sequential,
    /// Linux's choice (`nf_nat_core.c`, `get_unique_tuple` and `nf_nat_l4proto_unique_tuple`):
    /// a port is taken only while the whole reply tuple (remote address and port, external
    /// address, port) is in use, so two hosts may share an external port towards different
    /// servers. When the source port is taken, the search starts at a random offset in the
    /// source port's class (1–511, 600–1023 or 1024–65535; ICMP identifiers 0–65535) and
    /// goes up from there. Linux draws the offset from `get_random_u16()`; the model has no
    /// random source, so it draws from `seed` and a count of draws: a deterministic stand-in
    /// that lands on another port than Linux would, in the same range.
    Linux {
        /// Where the stand-in's draws start.
        seed: u64,
    },
}

/// The seed of [`NatConfig::linux`]'s port choice.
pub const LINUX_PORT_SEED: u64 = 0x4c61_6276_6973_6f72;

/// The ports Linux picks from when it must change a source port or ICMP identifier `port`
/// (`nf_nat_l4proto_unique_tuple` without `--to-ports`).
pub fn linux_port_class(proto: Proto, port: u16) -> PortPool {
    let (first, last) = match (proto, port) {
        (Proto::Icmp, _) => (0, 65535),
        (_, 0..=511) => (1, 511),
        (_, 512..=1023) => (600, 1023),
        _ => (1024, 65535),
    };
    PortPool { first, last }
}

/// How a NAT behaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct NatConfig {
    /// Mapping behaviour (RFC 4787 REQ-1 asks for endpoint-independent).
    pub mapping: Behavior,
    /// Filtering behaviour.
    pub filtering: Behavior,
    /// Whether inside hosts can reach each other through the NAT's external address (RFC 4787 REQ-9).
    pub hairpin: bool,
    /// Keep the internal source port when it is free (Linux MASQUERADE does).
    pub preserve_ports: bool,
    /// Where ports come from when the source port is taken.
    pub pool: PortPool,
    /// The table's bound (`nf_conntrack_max`).
    pub max_entries: u32,
    /// Conntrack timeouts.
    pub timeouts: Timeouts,
    /// How a port is picked when the source port cannot be kept.
    pub port_choice: PortChoice,
}

impl Default for NatConfig {
    /// A Linux home router: endpoint-independent mapping with source-port preservation and
    /// address-and-port-dependent filtering (a port-restricted cone), hairpinning on,
    /// ports 1024–65535, 65 536 entries.
    fn default() -> NatConfig {
        NatConfig {
            mapping: Behavior::EndpointIndependent,
            filtering: Behavior::AddressAndPortDependent,
            hairpin: true,
            preserve_ports: true,
            pool: PortPool {
                first: 1024,
                last: 65535,
            },
            max_entries: 65_536,
            timeouts: Timeouts::default(),
            port_choice: PortChoice::Sequential,
        }
    }
}

impl NatConfig {
    /// Linux as a router configures it: `iptables -t nat -A POSTROUTING -o OUTSIDE -j
    /// MASQUERADE`, with DNAT rules (`-i OUTSIDE`) for port forwards; the profile the
    /// differential test (`tests/linux_nat`) holds against the kernel. The source port is kept
    /// unless the reply tuple is taken, then chosen as [`PortChoice::Linux`] says; so a
    /// mapping is not guaranteed to be reused for another destination (address-and-port-
    /// dependent mapping in RFC 4787's terms, though it looks endpoint-independent while
    /// ports are kept); only exact replies get in (address-and-port-dependent filtering); no
    /// hairpinning (a DNAT rule on `-i OUTSIDE` does not see inside hosts' packets).
    pub fn linux() -> NatConfig {
        NatConfig {
            mapping: Behavior::AddressAndPortDependent,
            filtering: Behavior::AddressAndPortDependent,
            hairpin: false,
            port_choice: PortChoice::Linux {
                seed: LINUX_PORT_SEED,
            },
            ..NatConfig::default()
        }
    }

    /// The RFC 3489 name of this NAT's behaviour, or its RFC 4787 description.
    pub fn type_name(&self) -> String {
        if let PortChoice::Linux { .. } = self.port_choice {
            return format!(
                "Linux MASQUERADE: ports kept unless taken, {} filtering",
                self.filtering
            );
        }
        match cone_name(self.mapping, self.filtering) {
            Some(n) => n.to_string(),
            None => format!("{} mapping, {} filtering", self.mapping, self.filtering),
        }
    }
}

/// Why the NAT dropped a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum NatDrop {
    /// No free external port in the pool.
    #[error("no free {proto} port in the pool {first}-{last}: the NAT has run out of mappings")]
    PoolExhausted {
        /// Protocol.
        proto: Proto,
        /// Pool start.
        first: u16,
        /// Pool end.
        last: u16,
    },
    /// The conntrack table is full.
    #[error(
        "conntrack table full ({max} entries): new connections are dropped until entries expire"
    )]
    TableFull {
        /// The bound.
        max: u32,
    },
    /// An inbound packet matched no connection, binding or forwarding rule.
    #[error("no connection, mapping or port-forwarding rule for {proto} port {port}: unsolicited inbound packet")]
    NoMapping {
        /// Protocol.
        proto: Proto,
        /// The external port it was sent to.
        port: u16,
    },
    /// A binding exists but its filtering refuses this remote endpoint.
    #[error("filtered: a {nat_type} NAT admits on port {port} only {admits}")]
    Filtered {
        /// The NAT type name.
        nat_type: String,
        /// The external port.
        port: u16,
        /// What it would admit.
        admits: String,
    },
    /// An inside host addressed the NAT's external address and hairpinning is off.
    #[error(
        "hairpinning is off: inside hosts cannot reach each other through the external address"
    )]
    HairpinOff,
    /// Tuple clash with an existing entry (the reply tuple is already in use).
    #[error("the translated tuple {0} is already in use by another connection")]
    Clash(String),
}

impl Explain for NatDrop {
    fn explain_in(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            NatDrop::PoolExhausted { proto, first, last } => format!(
                "포트 풀 {first}-{last}에 남은 {proto} 포트가 없습니다: NAT의 매핑이 바닥났습니다"
            ),
            NatDrop::TableFull { max } => format!(
                "conntrack 테이블이 가득 찼습니다({max}개): 항목이 만료될 때까지 새 연결을 버립니다"
            ),
            NatDrop::NoMapping { proto, port } => format!(
                "{proto} 포트 {port}에 연결도, 매핑도, 포트 포워딩 규칙도 없습니다: 요청하지 않은 인바운드 패킷입니다"
            ),
            NatDrop::Filtered {
                nat_type,
                port,
                admits,
            } => format!("필터링됨: {nat_type} NAT는 포트 {port}에 다음만 받아들입니다: {admits}"),
            NatDrop::HairpinOff => "헤어피닝이 꺼져 있습니다: 내부 호스트끼리 외부 주소를 거쳐 닿을 수 없습니다"
                .to_string(),
            NatDrop::Clash(tuple) => {
                format!("변환된 튜플 {tuple}을(를) 이미 다른 연결이 쓰고 있습니다")
            }
        }
    }
}

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
    bindings: HashMap<u32, Binding, FxBuildHasher>,
    /// Internal endpoint (+ remote address for address-dependent mapping) → external port,
    /// for bindings not found by port preservation.
    by_internal: HashMap<FlowKey, u16, FxBuildHasher>,
    /// Address-dependent filtering: (binding, remote address) → entries that opened it.
    permits: HashMap<(u32, Ipv4Addr), u32, FxBuildHasher>,
    cursor: u16,
    /// Draws made for [`PortChoice::Linux`] (not serialized: a table read back starts again).
    draws: u64,
    /// `bind_key`s of external ports the host could not bind (see [`NatTable::avoid_port`]);
    /// not serialized: they describe the host of this run.
    avoided: HashSet<u32, FxBuildHasher>,
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
    pub fn add_forward(&mut self, rule: PortForward) -> Result<(), String> {
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

    fn port_free(&self, proto: Proto, port: u16) -> bool {
        !self.bindings.contains_key(&bind_key(proto, port))
            && !self.avoided.contains(&bind_key(proto, port))
            && !self
                .forwards
                .iter()
                .any(|r| r.proto == proto && r.host_port == port)
    }

    /// The external port for a new outbound flow `k` whose replies come from `dst:dport` to
    /// `ext_ip`: an existing binding where the mapping behaviour allows reuse, the source port
    /// if free, else a free port as [`PortChoice`] says.
    fn map_port(
        &mut self,
        k: &FlowKey,
        dst: Ipv4Addr,
        dport: u16,
        ext_ip: Ipv4Addr,
    ) -> Result<u16, NatDrop> {
        match self.config.mapping {
            Behavior::EndpointIndependent => {
                if let Some(b) = self.bindings.get(&bind_key(k.proto, k.sport)) {
                    if b.int_ip == k.src && b.int_port == k.sport {
                        return Ok(k.sport);
                    }
                }
                let ik = internal_key(k.proto, k.src, k.sport, Ipv4Addr::UNSPECIFIED);
                if let Some(&p) = self.by_internal.get(&ik) {
                    return Ok(p);
                }
            }
            Behavior::AddressDependent => {
                if let Some(&p) = self
                    .by_internal
                    .get(&internal_key(k.proto, k.src, k.sport, k.dst))
                {
                    return Ok(p);
                }
            }
            Behavior::AddressAndPortDependent => {}
        }
        if let PortChoice::Linux { seed } = self.config.port_choice {
            return self.linux_port(k, dst, dport, ext_ip, seed);
        }
        if self.config.preserve_ports && self.port_free(k.proto, k.sport) {
            return Ok(k.sport);
        }
        let PortPool { first, last } = self.config.pool;
        let size = (last as u32).saturating_sub(first as u32) + 1;
        let mut p = self.cursor.clamp(first, last);
        for _ in 0..size {
            let candidate = p;
            p = if p >= last { first } else { p + 1 };
            if self.port_free(k.proto, candidate) {
                self.cursor = p;
                return Ok(candidate);
            }
        }
        Err(NatDrop::PoolExhausted {
            proto: k.proto,
            first,
            last,
        })
    }

    /// [`PortChoice::Linux`]: the source port unless the reply tuple is taken, else the first
    /// free one from a drawn offset in the source port's class.
    fn linux_port(
        &mut self,
        k: &FlowKey,
        dst: Ipv4Addr,
        dport: u16,
        ext_ip: Ipv4Addr,
        seed: u64,
    ) -> Result<u16, NatDrop> {
        let free = |port: u16| {
            !self.avoided.contains(&bind_key(k.proto, port))
                && !self.ct.holds(&FlowKey {
                    proto: k.proto,
                    src: dst,
                    sport: if k.proto == Proto::Icmp { port } else { dport },
                    dst: ext_ip,
                    dport: port,
                })
        };
        if self.config.preserve_ports && free(k.sport) {
            return Ok(k.sport);
        }
        let PortPool { first, last } = linux_port_class(k.proto, k.sport);
        let size = u32::from(last) - u32::from(first) + 1;
        let offset = (super::flow::mix64(seed ^ self.draws) % u64::from(size)) as u32;
        self.draws = self.draws.wrapping_add(1);
        (0..size)
            .map(|i| (u32::from(first) + (offset + i) % size) as u16)
            .find(|&p| free(p))
            .ok_or(NatDrop::PoolExhausted {
                proto: k.proto,
                first,
                last,
            })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::clock::Duration;
    use crate::net::conntrack::State;

    const EXT: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);
    const A: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    const B: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 11);
    const X: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
    const Y: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

    fn k(proto: Proto, src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> FlowKey {
        FlowKey {
            proto,
            src,
            sport,
            dst,
            dport,
        }
    }

    fn udp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> FlowKey {
        k(Proto::Udp, src, sport, dst, dport)
    }

    fn nat(mapping: Behavior, filtering: Behavior) -> NatTable {
        NatTable::new(NatConfig {
            mapping,
            filtering,
            ..NatConfig::default()
        })
    }

    #[test]
    fn the_linux_profile_keeps_ports_per_reply_tuple_and_draws_another_on_a_clash() {
        let mut n = NatTable::new(NatConfig::linux());
        let t = Instant(0);
        // Two hosts, one source port, different server ports: the reply tuples differ, so both
        // keep 40000 (a teaching NAT reserves the port for the first host).
        let a = n.outbound(udp(A, 40000, X, 53), None, EXT, t).unwrap();
        let b = n.outbound(udp(B, 40000, X, 5353), None, EXT, t).unwrap();
        assert_eq!((a.after.sport, b.after.sport), (40000, 40000));
        // The same server port: a clash, and another port of the same class, drawn.
        let c = n.outbound(udp(B, 40000, X, 53), None, EXT, t).unwrap();
        assert_ne!(c.after.sport, 40000);
        assert!(c.after.sport >= 1024);
        let d = n.outbound(udp(B, 700, X, 53), None, EXT, t).unwrap();
        assert_eq!(d.after.sport, 700);
        let e = n.outbound(udp(A, 700, X, 53), None, EXT, t).unwrap();
        assert!((600..=1023).contains(&e.after.sport) && e.after.sport != 700);
        // Deterministic: the same traffic draws the same ports.
        let mut again = NatTable::new(NatConfig::linux());
        again.outbound(udp(A, 40000, X, 53), None, EXT, t).unwrap();
        again
            .outbound(udp(B, 40000, X, 5353), None, EXT, t)
            .unwrap();
        let c2 = again.outbound(udp(B, 40000, X, 53), None, EXT, t).unwrap();
        assert_eq!(c2.after.sport, c.after.sport);
        assert!(n.config().type_name().starts_with("Linux MASQUERADE"));
    }

    /// RFC 4787 §4.1 and §5, tested on every combination: which external port the NAT picks
    /// for one internal endpoint talking to X:3478, X:3479 and Y:3478, and which unsolicited
    /// packets it then admits.
    #[test]
    fn rfc4787_mapping_and_filtering_combinations() {
        use Behavior::*;
        let all = [
            EndpointIndependent,
            AddressDependent,
            AddressAndPortDependent,
        ];
        let mut names = Vec::new();
        for mapping in all {
            for filtering in all {
                let t0 = Instant(0);
                let mut n = nat(mapping, filtering);
                let p1 = n
                    .outbound(udp(A, 40000, X, 3478), None, EXT, t0)
                    .unwrap()
                    .after
                    .sport;
                assert_eq!(p1, 40000, "source port preserved");
                // Filtering is judged while only X:3478 has been contacted.
                let from_x = n.inbound(udp(X, 3478, EXT, p1), None, None, t0);
                assert_eq!(
                    from_x.unwrap().after,
                    udp(X, 3478, A, 40000),
                    "a reply always gets in"
                );
                let other_port = n.would_admit(&udp(X, 9999, EXT, p1));
                let other_addr = n.would_admit(&udp(Y, 3478, EXT, p1));
                match filtering {
                    EndpointIndependent => assert!(other_port && other_addr),
                    AddressDependent => assert!(other_port && !other_addr),
                    AddressAndPortDependent => assert!(!other_port && !other_addr),
                }
                let p2 = n
                    .outbound(udp(A, 40000, X, 3479), None, EXT, t0)
                    .unwrap()
                    .after
                    .sport;
                let p3 = n
                    .outbound(udp(A, 40000, Y, 3478), None, EXT, t0)
                    .unwrap()
                    .after
                    .sport;
                match mapping {
                    EndpointIndependent => assert!(p1 == p2 && p2 == p3),
                    AddressDependent => assert!(p1 == p2 && p2 != p3),
                    AddressAndPortDependent => assert!(p1 != p2 && p2 != p3 && p1 != p3),
                }
                names.push(format!(
                    "{mapping} × {filtering}: {}",
                    n.config().type_name()
                ));
            }
        }
        assert_eq!(
            names,
            [
                "endpoint-independent × endpoint-independent: full cone",
                "endpoint-independent × address-dependent: restricted cone",
                "endpoint-independent × address-and-port-dependent: port-restricted cone",
                "address-dependent × endpoint-independent: address-dependent mapping, endpoint-independent filtering",
                "address-dependent × address-dependent: address-dependent mapping, address-dependent filtering",
                "address-dependent × address-and-port-dependent: address-dependent mapping, address-and-port-dependent filtering",
                "address-and-port-dependent × endpoint-independent: address-and-port-dependent mapping, endpoint-independent filtering",
                "address-and-port-dependent × address-dependent: address-and-port-dependent mapping, address-dependent filtering",
                "address-and-port-dependent × address-and-port-dependent: symmetric",
            ]
        );
    }

    #[test]
    fn full_cone_admits_strangers_to_the_inside_host() {
        let mut n = nat(Behavior::EndpointIndependent, Behavior::EndpointIndependent);
        n.outbound(udp(A, 5000, X, 3478), None, EXT, Instant(0))
            .unwrap();
        let d = n
            .inbound(udp(Y, 1234, EXT, 5000), None, None, Instant(0))
            .unwrap();
        assert!(d.created);
        assert_eq!(d.after, udp(Y, 1234, A, 5000));
        let e = n
            .inbound(udp(Y, 1234, EXT, 5001), None, None, Instant(0))
            .unwrap_err();
        assert_eq!(
            e,
            NatDrop::NoMapping {
                proto: Proto::Udp,
                port: 5001
            }
        );
    }

    #[test]
    fn taken_source_ports_come_from_the_pool_and_exhaustion_drops() {
        let mut n = NatTable::new(NatConfig {
            pool: PortPool {
                first: 50000,
                last: 50001,
            },
            ..NatConfig::default()
        });
        let t = Instant(0);
        assert_eq!(
            n.outbound(udp(A, 40000, X, 53), None, EXT, t)
                .unwrap()
                .after
                .sport,
            40000
        );
        assert_eq!(
            n.outbound(udp(B, 40000, X, 53), None, EXT, t)
                .unwrap()
                .after
                .sport,
            50000
        );
        let c = Ipv4Addr::new(192, 168, 1, 12);
        assert_eq!(
            n.outbound(udp(c, 40000, X, 53), None, EXT, t)
                .unwrap()
                .after
                .sport,
            50001
        );
        let d = Ipv4Addr::new(192, 168, 1, 13);
        let err = n.outbound(udp(d, 40000, X, 53), None, EXT, t).unwrap_err();
        assert_eq!(
            err,
            NatDrop::PoolExhausted {
                proto: Proto::Udp,
                first: 50000,
                last: 50001
            }
        );
        assert!(err.to_string().contains("run out of mappings"));
        // Once the UDP entries expire (30 s unreplied) their ports return to the pool.
        assert_eq!(n.expire(Instant(30_000)).len(), 3);
        assert_eq!(
            n.outbound(udp(d, 40000, X, 53), None, EXT, Instant(30_000))
                .unwrap()
                .after
                .sport,
            40000
        );
    }

    #[test]
    fn full_table_drops_new_connections_but_not_existing_ones() {
        let mut n = NatTable::new(NatConfig {
            max_entries: 1,
            ..NatConfig::default()
        });
        let t = Instant(0);
        n.outbound(udp(A, 1, X, 53), None, EXT, t).unwrap();
        assert_eq!(
            n.outbound(udp(A, 2, X, 53), None, EXT, t).unwrap_err(),
            NatDrop::TableFull { max: 1 }
        );
        assert!(n.outbound(udp(A, 1, X, 53), None, EXT, t).is_ok());
    }

    #[test]
    fn port_forwarding_and_hairpinning() {
        let mut n = NatTable::new(NatConfig::default());
        n.add_forward(PortForward::parse_vbox("web,tcp,,8080,192.168.1.11,80").unwrap())
            .unwrap();
        let t = Instant(0);
        let syn = Some(TcpFlags::SYN);
        let d = n
            .inbound(k(Proto::Tcp, X, 50000, EXT, 8080), syn, None, t)
            .unwrap();
        assert_eq!(d.after, k(Proto::Tcp, X, 50000, B, 80));
        assert_eq!(d.rule.as_deref(), Some("web"));
        // The server's answer goes back out as if from the router's port 8080.
        let back = n
            .outbound(
                k(Proto::Tcp, B, 80, X, 50000),
                Some(TcpFlags::SYN.with(TcpFlags::ACK)),
                EXT,
                t,
            )
            .unwrap();
        assert_eq!(back.after, k(Proto::Tcp, EXT, 8080, X, 50000));
        // Hairpin: A reaches B through the external address; B sees A's external mapping.
        let hp = n
            .outbound(k(Proto::Tcp, A, 41000, EXT, 8080), syn, EXT, t)
            .unwrap();
        assert_eq!(hp.after, k(Proto::Tcp, EXT, 41000, B, 80));
        let mut off = NatTable::new(NatConfig {
            hairpin: false,
            ..NatConfig::default()
        });
        off.add_forward(PortForward::parse_vbox("web,tcp,,8080,192.168.1.11,80").unwrap())
            .unwrap();
        assert_eq!(
            off.outbound(k(Proto::Tcp, A, 41000, EXT, 8080), syn, EXT, t)
                .unwrap_err(),
            NatDrop::HairpinOff
        );
        // The pool never hands out a forwarded port.
        let mut pf = NatTable::new(NatConfig::default());
        pf.add_forward(PortForward::parse_vbox("ssh,tcp,,2222,10.0.2.15,22").unwrap())
            .unwrap();
        let d = pf
            .outbound(k(Proto::Tcp, A, 2222, X, 80), syn, EXT, t)
            .unwrap();
        assert_ne!(d.after.sport, 2222);
    }

    #[test]
    fn a_rst_answering_a_syn_ends_the_entry_at_once_and_still_gets_through() {
        let mut n = NatTable::new(NatConfig::default());
        let syn = Some(TcpFlags::SYN);
        n.outbound(k(Proto::Tcp, A, 40000, X, 81), syn, EXT, Instant(0))
            .unwrap();
        let rst = Some(TcpFlags::RST.with(TcpFlags::ACK));
        let d = n
            .inbound(k(Proto::Tcp, X, 81, EXT, 40000), rst, None, Instant(1))
            .unwrap();
        assert_eq!(d.after, k(Proto::Tcp, X, 81, A, 40000));
        assert_eq!(d.killed.map(|e| e.state), Some(State::Close));
        assert!(n.conntrack().is_empty());
        // Its port is free again.
        let again = n
            .outbound(k(Proto::Tcp, B, 40000, X, 81), syn, EXT, Instant(2))
            .unwrap();
        assert_eq!(again.after.sport, 40000);
        // A RST after a reply was seen keeps the entry, in CLOSE for 10 s.
        n.inbound(
            k(Proto::Tcp, X, 81, EXT, 40000),
            Some(TcpFlags::SYN.with(TcpFlags::ACK)),
            None,
            Instant(3),
        )
        .unwrap();
        let d = n
            .outbound(k(Proto::Tcp, B, 40000, X, 81), rst, EXT, Instant(4))
            .unwrap();
        assert_eq!(d.killed, None);
        assert_eq!(state_and_timeout(&n, Instant(4)), (State::Close, 10));
    }

    fn state_and_timeout(n: &NatTable, now: Instant) -> (State, u64) {
        let e = &n.conntrack().entries()[0];
        (e.state, e.remaining(now))
    }

    /// The whole life of a TCP connection, with Linux's default timeouts at every step.
    #[test]
    fn tcp_states_follow_linux_with_default_timeouts() {
        let mut n = NatTable::new(NatConfig::default());
        let out = k(Proto::Tcp, A, 40000, X, 443);
        let back = k(Proto::Tcp, X, 443, EXT, 40000);
        let f = |s: &str| Some(TcpFlags::parse(s).unwrap());
        let t = Instant(0);
        let steps: [(bool, &str, State, u64); 8] = [
            (true, "S", State::SynSent, 120),
            (false, "SA", State::SynRecv, 60),
            (true, "A", State::Established, 432_000),
            (true, "FA", State::FinWait, 120),
            (false, "A", State::CloseWait, 60),
            (false, "FA", State::LastAck, 30),
            (true, "A", State::TimeWait, 120),
            (true, "S", State::SynSent, 120),
        ];
        for (outbound, flags, state, secs) in steps {
            if outbound {
                n.outbound(out, f(flags), EXT, t).unwrap();
            } else {
                n.inbound(back, f(flags), None, t).unwrap();
            }
            assert_eq!(
                state_and_timeout(&n, t),
                (state, secs),
                "after {flags} ({})",
                if outbound { "out" } else { "in" }
            );
        }
        let line = n.conntrack_lines(t)[0].clone();
        assert_eq!(line, "tcp 6 120 SYN_SENT src=192.168.1.10 dst=198.51.100.1 sport=40000 dport=443 src=198.51.100.1 dst=203.0.113.7 sport=443 dport=40000 [ASSURED] mark=0 use=1");
        n.inbound(back, f("R"), None, t).unwrap();
        assert_eq!(state_and_timeout(&n, t), (State::Close, 10));
        assert!(n.expire(Instant(9_999)).is_empty());
        assert_eq!(n.expire(Instant(10_000)).len(), 1);
    }

    #[test]
    fn established_lasts_five_days_and_timeouts_are_configurable() {
        let mut n = NatTable::new(NatConfig::default());
        let out = k(Proto::Tcp, A, 40000, X, 443);
        n.outbound(out, Some(TcpFlags::ACK), EXT, Instant(0))
            .unwrap(); // mid-stream pickup
        assert_eq!(
            state_and_timeout(&n, Instant(0)),
            (State::Established, 432_000)
        );
        assert!(n.expire(Instant(431_999_999)).is_empty());
        assert_eq!(n.expire(Instant(432_000_000)).len(), 1);

        let timeouts = Timeouts {
            udp: 5,
            ..Timeouts::default()
        };
        let mut short = NatTable::new(NatConfig {
            timeouts,
            ..NatConfig::default()
        });
        short
            .outbound(udp(A, 1, X, 53), None, EXT, Instant(0))
            .unwrap();
        assert_eq!(short.expire(Instant(5_000)).len(), 1);
    }

    #[test]
    fn a_quick_udp_query_and_answer_stays_at_30s_and_is_not_assured() {
        // Linux 6.18, measured: `udp 17 29 ... mark=0 use=1` after one query and one reply.
        let mut n = NatTable::new(NatConfig::default());
        let server = Ipv4Addr::new(203, 0, 113, 53);
        n.outbound(udp(A, 40000, server, 53), None, EXT, Instant(0))
            .unwrap();
        assert_eq!(
            n.conntrack_lines(Instant(1000))[0],
            "udp 17 29 src=192.168.1.10 dst=203.0.113.53 sport=40000 dport=53 [UNREPLIED] src=203.0.113.53 dst=203.0.113.7 sport=53 dport=40000 mark=0 use=1"
        );
        let answer = n
            .inbound(udp(server, 53, EXT, 40000), None, None, Instant(5))
            .unwrap();
        assert_eq!(answer.transition, None);
        assert_eq!(
            n.conntrack_lines(Instant(1000))[0],
            "udp 17 29 src=192.168.1.10 dst=203.0.113.53 sport=40000 dport=53 src=203.0.113.53 dst=203.0.113.7 sport=53 dport=40000 mark=0 use=1"
        );
        // More packets inside the first 2 s change nothing either.
        n.outbound(udp(A, 40000, server, 53), None, EXT, Instant(2000))
            .unwrap();
        assert!(!n.conntrack().entries()[0].assured());
        assert_eq!(n.conntrack().entries()[0].remaining(Instant(2000)), 30);
    }

    #[test]
    fn udp_becomes_a_120s_assured_stream_with_traffic_after_2s_once_replied() {
        let mut n = NatTable::new(NatConfig::default());
        let q = udp(A, 40000, Ipv4Addr::new(8, 8, 8, 8), 53);
        let r = udp(Ipv4Addr::new(8, 8, 8, 8), 53, EXT, 40000);
        n.outbound(q, None, EXT, Instant(0)).unwrap();
        // Unanswered packets after 2 s: still 30 s, not a stream.
        n.outbound(q, None, EXT, Instant(2500)).unwrap();
        assert!(!n.conntrack().entries()[0].assured());
        // The first reply, late: seen now, but the reply itself does not make a stream.
        let d = n.inbound(r, None, None, Instant(3000)).unwrap();
        assert_eq!(d.transition, None);
        assert_eq!(n.conntrack().entries()[0].remaining(Instant(3000)), 30);
        // The next packet, either way: a stream.
        let d = n.outbound(q, None, EXT, Instant(3100)).unwrap();
        assert!(d.transition.unwrap().became_assured);
        assert_eq!(n.conntrack().entries()[0].remaining(Instant(3100)), 120);
        // The 2 s count from the first packet, across refreshes.
        let mut m = NatTable::new(NatConfig::default());
        m.outbound(q, None, EXT, Instant(0)).unwrap();
        m.inbound(r, None, None, Instant(1500)).unwrap();
        m.outbound(q, None, EXT, Instant(2000)).unwrap();
        assert!(!m.conntrack().entries()[0].assured());
        m.inbound(r, None, None, Instant(2001)).unwrap();
        assert!(m.conntrack().entries()[0].assured());
    }

    #[test]
    fn an_unreplied_udp_flow_is_gone_after_30s() {
        let q = udp(A, 40000, Ipv4Addr::new(8, 8, 8, 8), 53);
        // An unreplied flow is gone after 30 s, and a late reply no longer gets in.
        let mut m = NatTable::new(NatConfig::default());
        m.outbound(q, None, EXT, Instant(0)).unwrap();
        let late = m.inbound(
            udp(Ipv4Addr::new(8, 8, 8, 8), 53, EXT, 40000),
            None,
            None,
            Instant(30_000),
        );
        assert!(late.is_err());
        assert_eq!(
            late.unwrap_err(),
            NatDrop::NoMapping {
                proto: Proto::Udp,
                port: 40000
            }
        );
    }

    #[test]
    fn an_icmp_error_finding_its_connection_expired_releases_the_binding() {
        let mut n = NatTable::new(NatConfig::default());
        n.outbound(udp(A, 40000, X, 53), None, EXT, Instant(0))
            .unwrap();
        let late = Instant(0).after(Duration::from_secs(31));
        assert_eq!(n.untranslate_quote(udp(EXT, 40000, X, 53), late), None);
        assert!(n.conntrack().is_empty());
        // Port 40000 is free again, so another inside host keeps it.
        let d = n.outbound(udp(B, 40000, X, 53), None, EXT, late).unwrap();
        assert_eq!(d.after, udp(EXT, 40000, X, 53));
    }

    #[test]
    fn icmp_echo_tracks_by_identifier_for_30s() {
        let mut n = NatTable::new(NatConfig::default());
        let ping = k(Proto::Icmp, A, 7, X, 7);
        let d = n.outbound(ping, None, EXT, Instant(0)).unwrap();
        assert_eq!(d.after, k(Proto::Icmp, EXT, 7, X, 7));
        let pong = n
            .inbound(k(Proto::Icmp, X, 7, EXT, 7), None, None, Instant(1000))
            .unwrap();
        assert_eq!(pong.after, k(Proto::Icmp, X, 7, A, 7));
        assert_eq!(n.conntrack().entries()[0].remaining(Instant(1000)), 30);
        assert!(n.conntrack_lines(Instant(1000))[0].starts_with(
            "icmp 1 30 src=192.168.1.10 dst=198.51.100.1 type=8 code=0 id=7 src=198.51.100.1"
        ));
    }

    #[test]
    fn cisco_view_and_serde_round_trip() {
        let mut n = NatTable::new(NatConfig::default());
        n.outbound(udp(A, 40000, X, 53), None, EXT, Instant(0))
            .unwrap();
        assert_eq!(
            n.cisco_rows()[0],
            [
                "udp",
                "203.0.113.7:40000",
                "192.168.1.10:40000",
                "198.51.100.1:53",
                "198.51.100.1:53"
            ]
            .map(String::from)
        );
        let json = serde_json::to_string(&n).unwrap();
        let mut back: NatTable = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.conntrack_lines(Instant(0)),
            n.conntrack_lines(Instant(0))
        );
        // The binding came back too: another inside host cannot take port 40000.
        assert_ne!(
            back.outbound(udp(B, 40000, X, 53), None, EXT, Instant(0))
                .unwrap()
                .after
                .sport,
            40000
        );
    }
}
