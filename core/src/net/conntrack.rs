//! Connection tracking: the table a NAT keeps of every flow it has seen, with Linux's states
//! and default timeouts.
//!
//! Each [`Entry`] holds the flow's *original* tuple (as the first packet looked when it
//! arrived) and its *reply* tuple (what a reply looks like on the wire after translation),
//! exactly like Linux's `nf_conntrack`. Translating a packet is then symmetric: a packet
//! matching one tuple is rewritten into the inverse of the other. The table prints both like
//! `conntrack -L` and like Cisco's `show ip nat translations`.
//!
//! The table is built for the real-packet hot path: entries live in a dense `Vec`, and one
//! open-addressing index with inline keys (the `flow_index` module) maps both tuples of every
//! entry to its slot, so finding an entry costs one index slot and the entry itself. Expiry
//! is lazy (an expired entry found by a lookup is dropped) plus an explicit
//! [`ConnTrack::expire`] sweep the simulator runs when the clock advances, so expiry is
//! deterministic either way.

use std::fmt;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::clock::{Duration, Instant};
pub use super::flow::FlowKey;
use super::flow_index::{FlowIndex, MAX_SLOTS};
use super::packet::{Proto, TcpFlags};

/// Which tuple of an entry a packet matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// The direction of the flow's first packet.
    Original,
    /// The answering direction.
    Reply,
}

impl Dir {
    /// The other direction.
    pub const fn flip(self) -> Dir {
        match self {
            Dir::Original => Dir::Reply,
            Dir::Reply => Dir::Original,
        }
    }
}

/// Connection state, as `conntrack -L` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    /// TCP: the opening SYN was seen.
    SynSent,
    /// TCP: the SYN-ACK answer was seen.
    SynRecv,
    /// TCP: the three-way handshake completed.
    Established,
    /// TCP: one side sent FIN.
    FinWait,
    /// TCP: the FIN was acknowledged; the other side may still send.
    CloseWait,
    /// TCP: both sides sent FIN; waiting for the last ACK.
    LastAck,
    /// TCP: closed; lingering so late segments are recognised.
    TimeWait,
    /// TCP: reset.
    Close,
    /// UDP (stateless; `[UNREPLIED]` until a reply is seen).
    Udp,
    /// ICMP echo.
    Icmp,
}

impl State {
    /// The state's name as `conntrack -L` prints it (empty for UDP and ICMP).
    pub const fn name(self) -> &'static str {
        match self {
            State::SynSent => "SYN_SENT",
            State::SynRecv => "SYN_RECV",
            State::Established => "ESTABLISHED",
            State::FinWait => "FIN_WAIT",
            State::CloseWait => "CLOSE_WAIT",
            State::LastAck => "LAST_ACK",
            State::TimeWait => "TIME_WAIT",
            State::Close => "CLOSE",
            State::Udp => "UDP",
            State::Icmp => "ICMP",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How long an idle entry lives, per state, in seconds. Defaults are Linux's
/// (`Documentation/networking/nf_conntrack-sysctl.rst`); every one is configurable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Timeouts {
    /// `nf_conntrack_tcp_timeout_syn_sent`.
    pub tcp_syn_sent: u32,
    /// `nf_conntrack_tcp_timeout_syn_recv`.
    pub tcp_syn_recv: u32,
    /// `nf_conntrack_tcp_timeout_established` (5 days).
    pub tcp_established: u32,
    /// `nf_conntrack_tcp_timeout_fin_wait`.
    pub tcp_fin_wait: u32,
    /// `nf_conntrack_tcp_timeout_close_wait`.
    pub tcp_close_wait: u32,
    /// `nf_conntrack_tcp_timeout_last_ack`.
    pub tcp_last_ack: u32,
    /// `nf_conntrack_tcp_timeout_time_wait`.
    pub tcp_time_wait: u32,
    /// `nf_conntrack_tcp_timeout_close`.
    pub tcp_close: u32,
    /// `nf_conntrack_udp_timeout`: UDP until the flow is a stream (see [`UDP_STREAM_AFTER`]).
    pub udp: u32,
    /// `nf_conntrack_udp_timeout_stream`: UDP once the flow is a stream.
    pub udp_stream: u32,
    /// `nf_conntrack_icmp_timeout`.
    pub icmp: u32,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            tcp_syn_sent: 120,
            tcp_syn_recv: 60,
            tcp_established: 432_000,
            tcp_fin_wait: 120,
            tcp_close_wait: 60,
            tcp_last_ack: 30,
            tcp_time_wait: 120,
            tcp_close: 10,
            udp: 30,
            udp_stream: 120,
            icmp: 30,
        }
    }
}

impl Timeouts {
    /// The timeout for an entry in `state`; UDP depends on whether the flow is a stream
    /// (replied to, and still active more than [`UDP_STREAM_AFTER`] after it began).
    pub fn for_state(&self, state: State, stream: bool) -> Duration {
        let secs = match state {
            State::SynSent => self.tcp_syn_sent,
            State::SynRecv => self.tcp_syn_recv,
            State::Established => self.tcp_established,
            State::FinWait => self.tcp_fin_wait,
            State::CloseWait => self.tcp_close_wait,
            State::LastAck => self.tcp_last_ack,
            State::TimeWait => self.tcp_time_wait,
            State::Close => self.tcp_close,
            State::Udp if stream => self.udp_stream,
            State::Udp => self.udp,
            State::Icmp => self.icmp,
        };
        Duration::from_secs(secs as u64)
    }
}

/// How long after its first packet a replied UDP flow must still be active to count as a
/// stream: Linux's `stream_ts` (`nf_conntrack_proto_udp.c`, `2 * HZ` after the entry is
/// created). A query and its answer inside that window stay at the 30 s timeout and are never
/// `[ASSURED]`; a packet after it, once a reply was seen, moves the entry to the 120 s stream
/// timeout and makes it `[ASSURED]`.
pub const UDP_STREAM_AFTER: Duration = Duration(2_000);

const SEEN_REPLY: u8 = 1;
const ASSURED: u8 = 2;
/// Which side sent the first FIN (set: the reply side).
const FIN_FROM_REPLY: u8 = 4;
/// The entry holds a NAT binding (its source was translated by an outbound mapping).
const HOLDS_BINDING: u8 = 8;
/// UDP: [`UDP_STREAM_AFTER`] has run out since the entry's first packet.
const STREAM_DUE: u8 = 16;

/// One tracked connection. 40 bytes: the table's per-entry cost is this plus two index slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The flow as its first packet arrived.
    pub orig: FlowKey,
    /// What a reply looks like on the wire (after translation of the original).
    pub reply: FlowKey,
    /// Current state.
    pub state: State,
    flags: u8,
    /// UDP: milliseconds of [`UDP_STREAM_AFTER`] still to run after the entry's last packet
    /// (0 once it has run out). Kept relative to the last packet, which is `expires` minus the
    /// `udp` timeout until the flow is a stream, so the entry stays 40 bytes.
    #[serde(default)]
    stream_wait: u16,
    /// When the entry expires unless a packet refreshes it.
    pub expires: Instant,
}

impl Entry {
    /// Whether a packet in the reply direction has been seen (else conntrack shows `[UNREPLIED]`).
    pub fn seen_reply(&self) -> bool {
        self.flags & SEEN_REPLY != 0
    }

    /// Whether the connection is `[ASSURED]` (Linux never early-drops it): TCP once the
    /// handshake completed, UDP once it is a stream.
    pub fn assured(&self) -> bool {
        self.flags & ASSURED != 0
    }

    /// Whether the entry holds a NAT binding (an outbound mapping translated its source).
    pub fn holds_binding(&self) -> bool {
        self.flags & HOLDS_BINDING != 0
    }

    /// The packet key after translation, for a packet that matched `dir`.
    pub fn translate(&self, dir: Dir) -> FlowKey {
        match dir {
            Dir::Original => self.reply.reversed(),
            Dir::Reply => self.orig.reversed(),
        }
    }

    /// Seconds left at `now`, as `conntrack -L` prints them.
    pub fn remaining(&self, now: Instant) -> u64 {
        self.expires.since(now).as_secs()
    }

    /// A `conntrack -L` line at time `now`.
    pub fn conntrack_line(&self, now: Instant) -> String {
        use std::fmt::Write;
        let mut s = format!(
            "{} {} {}",
            self.orig.proto.name(),
            self.orig.proto.number(),
            self.remaining(now)
        );
        if matches!(self.orig.proto, Proto::Tcp) {
            let _ = write!(s, " {}", self.state);
        }
        let tuple = |k: &FlowKey| match k.proto {
            Proto::Icmp => format!("src={} dst={} type=8 code=0 id={}", k.src, k.dst, k.sport),
            _ => format!(
                "src={} dst={} sport={} dport={}",
                k.src, k.dst, k.sport, k.dport
            ),
        };
        let _ = write!(s, " {}", tuple(&self.orig));
        if !self.seen_reply() {
            s.push_str(" [UNREPLIED]");
        }
        let reply_tuple = match self.reply.proto {
            Proto::Icmp => format!(
                "src={} dst={} type=0 code=0 id={}",
                self.reply.src, self.reply.dst, self.reply.sport
            ),
            _ => tuple(&self.reply),
        };
        let _ = write!(s, " {reply_tuple}");
        if self.assured() {
            s.push_str(" [ASSURED]");
        }
        s.push_str(" mark=0 use=1");
        s
    }
}

/// Why the table refused a new entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum InsertError {
    /// Every slot holds a live connection; existing flows keep working, new ones are dropped
    /// (Linux: "nf_conntrack: table full, dropping packet").
    #[error(
        "conntrack table full ({max} entries): new connections are dropped until entries expire"
    )]
    Full {
        /// The table's bound.
        max: u32,
    },
    /// One of the tuples is already tracked.
    #[error("tuple already tracked")]
    Clash,
}

/// A state change caused by a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// Before.
    pub from: State,
    /// After.
    pub to: State,
    /// Whether this packet made the entry `[ASSURED]`.
    pub became_assured: bool,
    /// Whether the packet ends the entry at once: a TCP RST on a connection that never saw a
    /// reply (Linux's `nf_conntrack_tcp_packet` kills it, "If only reply is a RST ... delete
    /// the conntrack immediately"). The packet itself is still translated.
    pub killed: bool,
}

/// The connection-tracking table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "TableData", into = "TableData")]
pub struct ConnTrack {
    entries: Vec<Entry>,
    /// Both tuples of every entry → `slot << 1 | (dir == Reply)`.
    index: FlowIndex,
    timeouts: Timeouts,
    max: u32,
    last_full_sweep: Option<Instant>,
}

#[derive(Serialize, Deserialize)]
struct TableData {
    entries: Vec<Entry>,
    timeouts: Timeouts,
    max: u32,
}

impl From<TableData> for ConnTrack {
    fn from(d: TableData) -> ConnTrack {
        let mut t = ConnTrack::new(d.timeouts, d.max);
        for e in d.entries {
            // A serialized table is consistent unless edited by hand; a clashing entry is skipped.
            let _ = t.restore(e);
        }
        t
    }
}

impl From<ConnTrack> for TableData {
    fn from(t: ConnTrack) -> TableData {
        TableData {
            entries: t.entries,
            timeouts: t.timeouts,
            max: t.max,
        }
    }
}

impl ConnTrack {
    /// An empty table holding at most `max` entries.
    pub fn new(timeouts: Timeouts, max: u32) -> ConnTrack {
        ConnTrack {
            entries: Vec::new(),
            index: FlowIndex::default(),
            timeouts,
            max,
            last_full_sweep: None,
        }
    }

    /// Hashes the index with `seed` (see [`super::flow::SeededHash`]).
    pub fn reseed(&mut self, seed: u64) {
        self.index.reseed(seed);
    }

    /// Reserves room for `n` entries up front, so the hot path never rehashes.
    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
        self.index.reserve(n.saturating_mul(2));
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    /// Number of live (not yet swept) entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry in `slot`.
    pub fn get(&self, slot: usize) -> Option<&Entry> {
        self.entries.get(slot)
    }

    /// All entries, in slot order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Heap bytes the table holds: the entry vector and the index, at their capacities.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>() + self.index.heap_bytes()
    }

    /// Loads the index slots and entries of `keys` without changing anything, returning a
    /// value derived from them so the loads cannot be optimised away. The loads are
    /// independent, so a CPU overlaps their cache misses.
    pub fn warm(&self, keys: &[FlowKey]) -> u64 {
        let mut found = [u32::MAX; 64];
        for (slot, k) in found.iter_mut().zip(keys) {
            if let Some(v) = self.index.get(k) {
                *slot = v >> 1;
            }
        }
        let mut acc = 0u64;
        for &slot in found.iter().take(keys.len()) {
            if let Some(e) = self.entries.get(slot as usize) {
                acc = acc.wrapping_add(e.expires.0);
            }
        }
        acc
    }

    /// Whether `key` is one of the tuples of any entry, live or expired but not yet swept (a
    /// new entry may not reuse it).
    pub fn holds(&self, key: &FlowKey) -> bool {
        self.index.contains_key(key)
    }

    /// The slot of the entry `key` is a tuple of, and which tuple, live or expired but not yet
    /// swept (changes nothing).
    #[inline]
    pub fn find(&self, key: &FlowKey) -> Option<(usize, Dir)> {
        let v = self.index.get(key)?;
        let dir = if v & 1 == 1 {
            Dir::Reply
        } else {
            Dir::Original
        };
        Some(((v >> 1) as usize, dir))
    }

    /// Whether `key` belongs to an entry live at `now` (changes nothing).
    pub fn peek(&self, key: &FlowKey, now: Instant) -> bool {
        self.index
            .get(key)
            .and_then(|v| self.entries.get((v >> 1) as usize))
            .is_some_and(|e| e.expires > now)
    }

    /// Finds the live entry a packet key belongs to. An entry found expired at `now` is removed
    /// and returned as the second value, so the caller can report it.
    #[inline]
    pub fn lookup(&mut self, key: &FlowKey, now: Instant) -> (Option<(usize, Dir)>, Option<Entry>) {
        let Some((slot, dir)) = self.find(key) else {
            return (None, None);
        };
        match self.entries.get(slot) {
            Some(e) if e.expires > now => (Some((slot, dir)), None),
            Some(_) => (None, self.remove(slot)),
            None => (None, None),
        }
    }

    /// Adds a new connection whose first packet is `orig` and whose replies look like `reply`.
    /// When the table is full, expired entries are reclaimed first (they are returned).
    pub fn insert(
        &mut self,
        orig: FlowKey,
        reply: FlowKey,
        state: State,
        now: Instant,
    ) -> Result<(usize, Vec<Entry>), InsertError> {
        if self.index.contains_key(&orig) || self.index.contains_key(&reply) {
            return Err(InsertError::Clash);
        }
        let mut reclaimed = Vec::new();
        // The index addresses at most `MAX_SLOTS` entries, far beyond any real bound.
        let max = self.max.min(MAX_SLOTS);
        if self.entries.len() >= max as usize {
            // Sweep at most once per instant, so a flood of new flows at a full table costs
            // one pass, not one pass per packet.
            if self.last_full_sweep != Some(now) {
                self.last_full_sweep = Some(now);
                reclaimed = self.expire(now);
            }
            if self.entries.len() >= max as usize {
                return Err(InsertError::Full { max: self.max });
            }
        }
        let expires = now.after(self.timeouts.for_state(state, false));
        let stream_wait = match state {
            State::Udp => UDP_STREAM_AFTER.0 as u16,
            _ => 0,
        };
        let slot = self.push(Entry {
            orig,
            reply,
            state,
            flags: 0,
            stream_wait,
            expires,
        });
        Ok((slot, reclaimed))
    }

    /// Puts back an entry exactly as it was (state, flags, expiry), e.g. after deserializing.
    pub fn restore(&mut self, e: Entry) -> Result<usize, InsertError> {
        if self.index.contains_key(&e.orig) || self.index.contains_key(&e.reply) {
            return Err(InsertError::Clash);
        }
        if self.entries.len() >= MAX_SLOTS as usize {
            return Err(InsertError::Full { max: MAX_SLOTS });
        }
        Ok(self.push(e))
    }

    fn push(&mut self, e: Entry) -> usize {
        let slot = self.entries.len();
        self.index.insert(&e.orig, (slot as u32) << 1);
        self.index.insert(&e.reply, ((slot as u32) << 1) | 1);
        self.entries.push(e);
        slot
    }

    /// Marks the entry in `slot` as holding a NAT binding.
    pub fn mark_binding(&mut self, slot: usize) {
        if let Some(e) = self.entries.get_mut(slot) {
            e.flags |= HOLDS_BINDING;
        }
    }

    /// Removes the entry in `slot`; the last entry moves into its place.
    pub fn remove(&mut self, slot: usize) -> Option<Entry> {
        if slot >= self.entries.len() {
            return None;
        }
        let e = self.entries.swap_remove(slot);
        self.index.remove(&e.orig);
        self.index.remove(&e.reply);
        if let Some(moved) = self.entries.get(slot) {
            self.index.insert(&moved.orig, (slot as u32) << 1);
            self.index.insert(&moved.reply, ((slot as u32) << 1) | 1);
        }
        Some(e)
    }

    /// Removes every entry expired at `now`, returning them in a deterministic order.
    pub fn expire(&mut self, now: Instant) -> Vec<Entry> {
        let mut gone = Vec::new();
        let mut slot = 0;
        while slot < self.entries.len() {
            if self.entries[slot].expires <= now {
                if let Some(e) = self.remove(slot) {
                    gone.push(e);
                }
            } else {
                slot += 1;
            }
        }
        gone.sort_by_key(|e| e.orig);
        gone
    }

    /// Records a packet of the entry in `slot` travelling in `dir`: updates the state machine
    /// and refreshes the timeout. Returns the state change, if any. Like Linux, the protocol's
    /// rules see whether a reply was seen *before* this packet.
    #[inline]
    pub fn update(
        &mut self,
        slot: usize,
        dir: Dir,
        flags: Option<TcpFlags>,
        now: Instant,
    ) -> Option<Transition> {
        let timeouts = &self.timeouts;
        let e = self.entries.get_mut(slot)?;
        let from = e.state;
        let was_assured = e.flags & ASSURED != 0;
        let replied_before = e.flags & SEEN_REPLY != 0;
        if dir == Dir::Reply {
            e.flags |= SEEN_REPLY;
        }
        let mut killed = false;
        match (e.state, flags) {
            (State::Udp, _) => {
                udp_stream_clock(e, timeouts, now);
                if replied_before && e.flags & STREAM_DUE != 0 {
                    e.flags |= ASSURED;
                }
            }
            (State::Icmp, _) => {}
            (_, Some(f)) => {
                let (next, fin_from_reply) =
                    tcp_next(e.state, e.flags & FIN_FROM_REPLY != 0, dir, f);
                e.state = next;
                if fin_from_reply {
                    e.flags |= FIN_FROM_REPLY;
                }
                if next == State::Established {
                    e.flags |= ASSURED;
                }
                killed = f.contains(TcpFlags::RST) && !replied_before;
            }
            (_, None) => {}
        }
        e.expires = now.after(timeouts.for_state(e.state, e.flags & ASSURED != 0));
        let became_assured = !was_assured && e.flags & ASSURED != 0;
        (from != e.state || became_assured || killed).then_some(Transition {
            from,
            to: e.state,
            became_assured,
            killed,
        })
    }
}

/// Runs a UDP entry's stream clock up to `now`: sets [`STREAM_DUE`] once more than
/// [`UDP_STREAM_AFTER`] has passed since its first packet (Linux: `time_after(jiffies,
/// stream_ts)`). Until then every packet refreshed it with the `udp` timeout, so its last
/// packet was at `expires - udp`.
fn udp_stream_clock(e: &mut Entry, timeouts: &Timeouts, now: Instant) {
    if e.flags & STREAM_DUE != 0 {
        return;
    }
    let last = Instant(
        e.expires
            .0
            .saturating_sub(Duration::from_secs(timeouts.udp as u64).0),
    );
    let waited = now.since(last).0;
    if waited > e.stream_wait as u64 {
        e.flags |= STREAM_DUE;
        e.stream_wait = 0;
    } else {
        e.stream_wait -= waited as u16;
    }
}

/// The TCP state machine (a simplification of Linux's `tcp_conntracks` table): the next state
/// after a segment with `flags` travelling in `dir`, and whether the reply side sent the
/// first FIN.
pub fn tcp_next(state: State, fin_from_reply: bool, dir: Dir, flags: TcpFlags) -> (State, bool) {
    use State::*;
    let syn = flags.contains(TcpFlags::SYN);
    let ack = flags.contains(TcpFlags::ACK);
    let fin = flags.contains(TcpFlags::FIN);
    let first_fin_dir = if fin_from_reply {
        Dir::Reply
    } else {
        Dir::Original
    };
    if flags.contains(TcpFlags::RST) {
        return (Close, fin_from_reply);
    }
    let next = match state {
        SynSent if dir == Dir::Reply && syn && ack => SynRecv,
        SynRecv if dir == Dir::Original && ack && !syn => Established,
        Established if fin => return (FinWait, dir == Dir::Reply),
        FinWait if dir != first_fin_dir && fin => LastAck,
        FinWait if dir != first_fin_dir && ack => CloseWait,
        CloseWait if dir != first_fin_dir && fin => LastAck,
        LastAck if ack && !fin => TimeWait,
        TimeWait | Close if dir == Dir::Original && syn && !ack => SynSent,
        s => s,
    };
    (next, fin_from_reply)
}

/// The state a new entry starts in, for the flow's first packet. A TCP segment without SYN
/// is picked up mid-stream as ESTABLISHED, as Linux does with `nf_conntrack_tcp_loose = 1`
/// (the default).
pub fn initial_state(proto: Proto, flags: Option<TcpFlags>) -> State {
    match (proto, flags) {
        (Proto::Tcp, Some(f)) if f.contains(TcpFlags::RST) => State::Close,
        (Proto::Tcp, Some(f)) if f.contains(TcpFlags::SYN) && !f.contains(TcpFlags::ACK) => {
            State::SynSent
        }
        (Proto::Tcp, _) => State::Established,
        (Proto::Udp, _) => State::Udp,
        (Proto::Icmp, _) => State::Icmp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(proto: Proto, src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> FlowKey {
        FlowKey {
            proto,
            src: src.into(),
            dst: dst.into(),
            sport,
            dport,
        }
    }

    #[test]
    fn entry_is_compact() {
        assert_eq!(std::mem::size_of::<FlowKey>(), 14);
        assert_eq!(std::mem::size_of::<Entry>(), 40);
    }

    #[test]
    fn full_table_drops_new_flows_and_reclaims_expired_ones() {
        let mut t = ConnTrack::new(Timeouts::default(), 2);
        let k = |p| key(Proto::Udp, [10, 0, 2, 15], p, [8, 8, 8, 8], 53);
        t.insert(k(1), k(1).reversed(), State::Udp, Instant(0))
            .unwrap();
        t.insert(k(2), k(2).reversed(), State::Udp, Instant(0))
            .unwrap();
        assert_eq!(
            t.insert(k(3), k(3).reversed(), State::Udp, Instant(1000)),
            Err(InsertError::Full { max: 2 })
        );
        let (slot, reclaimed) = t
            .insert(k(3), k(3).reversed(), State::Udp, Instant(30_000))
            .unwrap();
        assert_eq!(reclaimed.len(), 2);
        assert_eq!(t.len(), 1);
        assert_eq!(t.get(slot).unwrap().orig, k(3));
    }

    #[test]
    fn removal_keeps_the_index_consistent() {
        let mut t = ConnTrack::new(Timeouts::default(), 10);
        let k = |p| key(Proto::Tcp, [10, 0, 2, 15], p, [8, 8, 8, 8], 80);
        for p in 1..=3 {
            t.insert(k(p), k(p).reversed(), State::SynSent, Instant(0))
                .unwrap();
        }
        t.remove(0);
        assert_eq!(t.lookup(&k(3), Instant(0)).0, Some((0, Dir::Original)));
        assert_eq!(
            t.lookup(&k(2).reversed(), Instant(0)).0,
            Some((1, Dir::Reply))
        );
        assert_eq!(t.lookup(&k(1), Instant(0)).0, None);
        let json = serde_json::to_string(&t).unwrap();
        let mut back: ConnTrack = serde_json::from_str(&json).unwrap();
        assert_eq!(back.lookup(&k(2), Instant(0)).0, Some((1, Dir::Original)));
    }
}
