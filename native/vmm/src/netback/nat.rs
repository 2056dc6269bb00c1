//! The core's [`Gateway`] as the backend uses it: the NAT engine's sans-IO half (ARP, DHCP,
//! ping, the NAT table, drop counters), what the table decided (for the report) and what the
//! host side dropped, behind one lock shared with the VMM (`Ctrl-A n`, the report). Every
//! call takes the time from one epoch, so the table's timeouts run in real time.

use std::collections::BTreeMap;

use labvisor_core::net::clock::Instant as NatInstant;
use labvisor_core::net::conntrack::{Entry, FlowKey};
use labvisor_core::net::gateway::{Gateway, GuestDrop, Verdict};
use labvisor_core::net::nat::Decision;
use labvisor_core::net::packet::TcpFlags;
use labvisor_core::net::trace::{CtChange, Event, Step};

/// Decisions (and trace steps) kept for the report; later ones are counted.
const DECISIONS_KEPT: usize = 1000;
/// The NAT's name in the trace.
const TRACE_NODE: &str = "guest NAT";

/// Why the host side dropped something the gateway had let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum HostDrop {
    /// The host refused a socket (bind or connect failed for another reason than a port in
    /// use).
    SocketRefused,
    /// A host UDP socket's buffer was full.
    UdpSendFull,
    /// Too many DNS queries in flight at once.
    DnsFlowsFull,
    /// Too many TCP connections open at once in the engine.
    TcpFlowsFull,
    /// Too many UDP flows (host sockets) open at once.
    UdpFlowsFull,
    /// A frame the engine made could not be built (cannot happen for sane lengths).
    FrameNotBuilt,
}

impl HostDrop {
    fn name(self) -> &'static str {
        match self {
            HostDrop::SocketRefused => "host-socket-refused",
            HostDrop::UdpSendFull => "host-udp-send-full",
            HostDrop::DnsFlowsFull => "dns-flows-full",
            HostDrop::TcpFlowsFull => "tcp-flows-full",
            HostDrop::UdpFlowsFull => "udp-flows-full",
            HostDrop::FrameNotBuilt => "frame-not-built",
        }
    }
}

pub(super) struct NatState {
    pub(super) gateway: Gateway,
    pub(super) epoch: std::time::Instant,
    /// The time of the current batch of work, read from the clock once per batch
    /// ([`NatState::tick`]): a clock read per frame costs more than the frame's NAT lookup.
    now_micros: u64,
    pub(super) decisions: Vec<Decision>,
    pub(super) decisions_not_kept: u64,
    /// The table's changes as the simulator's trace records them (`net run`'s format).
    pub(super) trace: Vec<Step>,
    pub(super) host_drops: BTreeMap<HostDrop, u64>,
}

impl NatState {
    pub(super) fn new(gateway: Gateway) -> NatState {
        NatState {
            gateway,
            epoch: std::time::Instant::now(),
            now_micros: 0,
            decisions: Vec::new(),
            decisions_not_kept: 0,
            trace: Vec::new(),
            host_drops: BTreeMap::new(),
        }
    }

    /// Reads the clock for the next batch of work; returns microseconds since the start.
    pub(super) fn tick(&mut self) -> u64 {
        self.now_micros = self.epoch.elapsed().as_micros() as u64;
        self.now_micros
    }

    /// The table's time: the current batch's.
    pub(super) fn now(&self) -> NatInstant {
        NatInstant(self.now_micros / 1000)
    }

    pub(super) fn host_drop(&mut self, why: HostDrop) {
        self.host_drops_n(why, 1);
    }

    pub(super) fn host_drops_n(&mut self, why: HostDrop, n: u64) {
        if n > 0 {
            *self.host_drops.entry(why).or_insert(0) += n;
        }
    }

    fn record(&mut self, decision: &Decision) {
        if !(decision.created || decision.transition.is_some()) {
            return;
        }
        if self.decisions.len() >= DECISIONS_KEPT {
            self.decisions_not_kept += 1;
            return;
        }
        self.decisions.push(decision.clone());
        let now = self.now();
        let change = match (&decision.killed, decision.created) {
            (Some(e), _) => Some((CtChange::Killed, e.conntrack_line(now))),
            (None, created) => self
                .gateway
                .nat()
                .conntrack()
                .get(decision.slot as usize)
                .map(|e| {
                    let kind = if created {
                        CtChange::New
                    } else {
                        CtChange::Update
                    };
                    (kind, e.conntrack_line(now))
                }),
        };
        if let Some((change, entry)) = change {
            self.trace_conntrack(change, entry);
        }
    }

    /// A conntrack step of the trace, as the simulator writes one.
    fn trace_conntrack(&mut self, change: CtChange, entry: String) {
        let at = self.now();
        self.trace.push(Step {
            at,
            event: Event::Conntrack {
                node: TRACE_NODE.into(),
                change,
                entry,
            },
        });
    }

    /// One frame from the guest.
    pub(super) fn guest_sent(&mut self, frame: &[u8]) -> Verdict {
        let now = self.now();
        let verdict = self.gateway.from_guest(frame, now);
        if let Verdict::Tcp(b) | Verdict::Udp(b) = &verdict {
            self.record(&b.decision);
        }
        verdict
    }

    /// A packet a host socket received for the guest (a reply, or a forwarded connection's).
    pub(super) fn host_received(
        &mut self,
        key: FlowKey,
        flags: Option<u8>,
    ) -> Result<Decision, GuestDrop> {
        let now = self.now();
        let d = self.gateway.from_host(key, flags.map(TcpFlags), now)?;
        self.record(&d);
        Ok(d)
    }

    /// A segment the engine made for the guest, keyed as the guest sees it.
    pub(super) fn track_to_guest(&mut self, inside: FlowKey, flags: u8) {
        let now = self.now();
        if let Some(d) = self
            .gateway
            .track_to_guest(inside, Some(TcpFlags(flags)), now)
        {
            self.record(&d);
        }
    }

    /// The host could not bind the port the table chose: decide the flow again.
    pub(super) fn port_in_use(
        &mut self,
        refused: &Decision,
        flags: Option<u8>,
    ) -> Result<Decision, GuestDrop> {
        let now = self.now();
        let d = self
            .gateway
            .port_in_use(refused, flags.map(TcpFlags), now)?;
        self.record(&d);
        Ok(d)
    }

    pub(super) fn expire(&mut self) -> Vec<Entry> {
        let now = self.now();
        let gone = self.gateway.expire(now);
        for e in &gone {
            if self.trace.len() < DECISIONS_KEPT {
                self.trace_conntrack(CtChange::Expired, e.conntrack_line(e.expires));
            }
        }
        gone
    }

    /// What the host side dropped, by reason.
    pub(super) fn host_drops(&self) -> BTreeMap<String, u64> {
        self.host_drops
            .iter()
            .map(|(why, n)| (why.name().to_string(), *n))
            .collect()
    }

    pub(super) fn text(&self) -> String {
        labvisor_core::net::scenario::nat_table_text("guest", self.gateway.nat(), self.now())
    }
}
