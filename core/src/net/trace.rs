//! The trace: every step of every packet's journey, in order.
//!
//! A trace is a list of [`Step`]s (virtual time + [`Event`]). Events name nodes, NICs and
//! segments by name and carry packets by value, so a trace is self-contained: the browser
//! animates it step by step, the lessons grade it, and snapshot tests record its text form,
//! one line per step:
//!
//! ```text
//!   0.000  vm1: send 10.0.2.15.40000 > 8.8.8.8.53: UDP "dns query"
//!   0.000  vm1: route default via 10.0.2.2 dev eth0
//!   0.000  vm1 eth0 -> vm1/nat1 eth0 [vm1/nat1]: 10.0.2.15.40000 > 8.8.8.8.53: UDP "dns query"
//! ```

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::lang::{Explain, Lang, Text};

use super::clock::Instant;
use super::packet::Packet;

/// Why a packet was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropCause {
    /// No route matched the destination.
    NoRoute,
    /// The next hop did not answer ARP on the link.
    NoArp,
    /// The TTL reached zero.
    TtlExceeded,
    /// A host (not a router) received a packet for someone else.
    NotForwarding,
    /// The NIC is not attached to anything.
    NotAttached,
    /// The NIC has no address.
    NoAddress,
    /// The NAT refused it (no mapping, filtered, pool or table exhausted, hairpin off).
    Nat,
    /// Nothing listens on the port (answered by RST or ICMP port unreachable).
    PortClosed,
    /// The journey exceeded the hop budget (a routing loop).
    Loop,
}

impl Explain for DropCause {
    fn explain_in(&self, lang: Lang) -> String {
        use DropCause::*;
        let text = match self {
            NoRoute => Text::new(
                "No route in the routing table matches the destination.",
                "목적지로 가는 경로가 라우팅 테이블에 없습니다.",
            ),
            NoArp => Text::new(
                "The next hop did not answer ARP on the link.",
                "같은 링크에서 다음 홉이 ARP에 응답하지 않았습니다.",
            ),
            TtlExceeded => Text::new(
                "The TTL reached zero, so the packet was discarded.",
                "TTL이 0이 되어 패킷이 버려졌습니다.",
            ),
            NotForwarding => Text::new(
                "A host that is not a router received a packet for another destination and discarded it.",
                "라우터가 아닌 호스트가 다른 목적지로 가는 패킷을 받아서 버렸습니다.",
            ),
            NotAttached => Text::new(
                "The NIC is not attached to anything (the cable is unplugged).",
                "NIC이 어디에도 연결되어 있지 않습니다(케이블이 빠진 상태).",
            ),
            NoAddress => Text::new("The NIC has no IP address.", "NIC에 IP 주소가 없습니다."),
            Nat => Text::new(
                "The NAT refused it: no mapping lets it in, a filter stopped it, the port pool or the table is full, or hairpinning is off.",
                "NAT가 거부했습니다. 들어오게 해 주는 매핑이 없거나, 필터링에 걸렸거나, 포트 풀이나 테이블이 가득 찼거나, 헤어핀이 꺼져 있습니다.",
            ),
            PortClosed => Text::new(
                "Nothing listens on that port, so the answer is a refusal (a TCP RST or an ICMP port unreachable).",
                "그 포트에서 대기(listen)하는 서비스가 없어서 거부로 응답했습니다(TCP RST 또는 ICMP 포트 도달 불가).",
            ),
            Loop => Text::new(
                "The packet went round in circles (a routing loop).",
                "패킷이 같은 곳을 맴돌았습니다(라우팅 루프).",
            ),
        };
        text.get(lang).to_string()
    }
}

/// A conntrack change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CtChange {
    /// A new entry.
    New,
    /// A state change.
    Update,
    /// The entry timed out.
    Expired,
    /// A packet ended the entry at once (a TCP RST before any reply, as Linux does).
    Killed,
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum Event {
    /// A DHCP server leased an address.
    Lease {
        /// Client node.
        node: String,
        /// Client NIC.
        nic: String,
        /// The leased address.
        addr: Ipv4Net,
        /// The server.
        server: Ipv4Addr,
        /// The announced gateway.
        gateway: Option<Ipv4Addr>,
        /// The announced DNS server.
        dns: Option<Ipv4Addr>,
    },
    /// A node originates a packet.
    Send {
        /// Sender.
        node: String,
        /// The packet.
        packet: Packet,
    },
    /// A routing decision.
    Route {
        /// The node deciding.
        node: String,
        /// The route that matched, like `ip route`.
        route: String,
    },
    /// A packet crosses a segment from one NIC to another.
    Transmit {
        /// Sending node.
        from: String,
        /// Sending NIC.
        from_nic: String,
        /// Receiving node.
        to: String,
        /// Receiving NIC.
        to_nic: String,
        /// The segment.
        segment: String,
        /// The packet on the wire.
        packet: Packet,
    },
    /// A packet passes from a VirtualBox NAT engine into its host's network stack or back.
    HostStack {
        /// The NAT engine.
        engine: String,
        /// The host.
        host: String,
        /// True when going from the engine into the host.
        into_host: bool,
        /// The packet.
        packet: Packet,
    },
    /// A NAT rewrote a packet.
    Translate {
        /// The NAT's node.
        node: String,
        /// `SNAT`, `DNAT`, `SNAT+DNAT`, or `un-NAT` for packets of an existing connection.
        kind: String,
        /// Before.
        before: Packet,
        /// After.
        after: Packet,
        /// The forwarding rule that created the mapping, if any.
        rule: Option<String>,
    },
    /// A conntrack entry was created, changed state or expired.
    Conntrack {
        /// The NAT's node.
        node: String,
        /// What happened.
        change: CtChange,
        /// The entry as `conntrack -L` prints it, after the change.
        entry: String,
    },
    /// A packet reached its destination.
    Deliver {
        /// The receiving node.
        node: String,
        /// The packet.
        packet: Packet,
    },
    /// A packet was dropped.
    Drop {
        /// Where.
        node: String,
        /// The packet.
        packet: Packet,
        /// Category.
        cause: DropCause,
        /// Explanation.
        reason: String,
    },
    /// The clock advanced.
    Clock {
        /// From.
        from: Instant,
        /// To.
        to: Instant,
    },
    /// A configuration change (rule added or removed, NIC mode changed).
    Config {
        /// The node changed.
        node: String,
        /// What changed.
        change: String,
    },
}

/// An event at a point in virtual time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// When.
    pub at: Instant,
    /// What.
    pub event: Event,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Lease {
                node,
                nic,
                addr,
                server,
                gateway,
                dns,
            } => {
                write!(f, "{node} {nic}: DHCP lease {addr} from {server}")?;
                if let Some(g) = gateway {
                    write!(f, ", gateway {g}")?;
                }
                if let Some(d) = dns {
                    write!(f, ", DNS {d}")?;
                }
                Ok(())
            }
            Event::Send { node, packet } => write!(f, "{node}: send {packet}"),
            Event::Route { node, route } => write!(f, "{node}: route {route}"),
            Event::Transmit {
                from,
                from_nic,
                to,
                to_nic,
                segment,
                packet,
            } => {
                write!(
                    f,
                    "{from} {from_nic} -> {to} {to_nic} [{segment}]: {packet}"
                )
            }
            Event::HostStack {
                engine,
                host,
                into_host,
                packet,
            } => {
                if *into_host {
                    write!(f, "{engine} -> {host} (host network stack): {packet}")
                } else {
                    write!(f, "{host} (host network stack) -> {engine}: {packet}")
                }
            }
            Event::Translate {
                node,
                kind,
                before,
                after,
                rule,
            } => {
                write!(f, "{node}: {kind} {before} => {after}")?;
                if let Some(r) = rule {
                    write!(f, " (rule {r})")?;
                }
                Ok(())
            }
            Event::Conntrack {
                node,
                change,
                entry,
            } => {
                let c = match change {
                    CtChange::New => "[NEW]",
                    CtChange::Update => "[UPDATE]",
                    CtChange::Expired | CtChange::Killed => "[DESTROY]",
                };
                write!(f, "{node}: conntrack {c} {entry}")
            }
            Event::Deliver { node, packet } => write!(f, "{node}: deliver {packet}"),
            Event::Drop {
                node,
                packet,
                reason,
                ..
            } => write!(f, "{node}: DROP {packet}: {reason}"),
            Event::Clock { from, to } => write!(f, "clock {from} -> {to}"),
            Event::Config { node, change } => write!(f, "{node}: {change}"),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>9}  {}", self.at.to_string(), self.event)
    }
}

/// Renders steps one per line.
pub fn render(steps: &[Step]) -> String {
    let mut s = String::new();
    for step in steps {
        s.push_str(&step.to_string());
        s.push('\n');
    }
    s
}
