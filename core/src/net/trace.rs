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
use super::packet::{Packet, Proto};

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

/// A packet's two ends as `address:port` (ICMP: the address alone).
fn ends(p: &Packet) -> (String, String) {
    match (p.proto(), p.ports()) {
        (Proto::Tcp | Proto::Udp, Some((sport, dport))) => {
            (format!("{}:{sport}", p.src), format!("{}:{dport}", p.dst))
        }
        _ => (p.src.to_string(), p.dst.to_string()),
    }
}

/// What a step means, in words, beside the line Linux would print for it (the tcpdump,
/// `ip route` and `conntrack -E` style of [`Event`]'s `Display`). Sources: conntrack's states
/// and `[UNREPLIED]`/`[ASSURED]` as in conntrack(8) and the kernel's nf_conntrack; SNAT, DNAT
/// and port forwarding as in RFC 3022 and the VirtualBox manual (Network Address Translation).
impl Explain for Event {
    fn explain_in(&self, lang: Lang) -> String {
        use crate::lang::particle::{eul_reul, euro_ro, i_ga};
        let ko = lang == Lang::Ko;
        match self {
            Event::Lease {
                node,
                nic,
                addr,
                server,
                gateway,
                dns,
            } => {
                let mut s = if ko {
                    format!(
                        "{node}의 {} DHCP 서버 {server}에게서 주소 {}받았습니다.",
                        i_ga(nic),
                        eul_reul(addr)
                    )
                } else {
                    format!("{node} {nic} got the address {addr} from the DHCP server {server}.")
                };
                match (gateway, dns, ko) {
                    (Some(g), Some(d), true) => {
                        s += &format!(" 기본 게이트웨이는 {g}, DNS 서버는 {d}입니다.")
                    }
                    (Some(g), None, true) => s += &format!(" 기본 게이트웨이는 {g}입니다."),
                    (Some(g), Some(d), false) => {
                        s += &format!(" Its default gateway is {g}, its DNS server {d}.")
                    }
                    (Some(g), None, false) => s += &format!(" Its default gateway is {g}."),
                    _ => {}
                }
                s
            }
            Event::Send { node, packet } => {
                let (from, to) = ends(packet);
                let proto = packet.proto().name().to_ascii_uppercase();
                if ko {
                    format!(
                        "{} {proto} 패킷을 만들어 보냅니다. 출발지 {from}, 목적지 {to}.",
                        i_ga(node)
                    )
                } else {
                    format!("{node} builds a {proto} packet and sends it: from {from} to {to}.")
                }
            }
            Event::Route { node, route } => {
                if ko {
                    format!(
                        "{} 라우팅 테이블에서 목적지에 가장 길게 일치하는 경로를 골랐습니다: {route}",
                        i_ga(node)
                    )
                } else {
                    format!("{node} picks the longest matching route in its routing table: {route}")
                }
            }
            Event::Transmit {
                from,
                from_nic,
                to,
                to_nic,
                segment,
                ..
            } => {
                if ko {
                    format!(
                        "프레임이 {from}의 {from_nic}에서 나가 세그먼트 {} 거쳐 {to}의 {to_nic}에 도착합니다. 이더넷 주소는 이 링크의 두 NIC 것입니다.",
                        eul_reul(segment)
                    )
                } else {
                    format!("The frame leaves {from} {from_nic}, crosses segment {segment} and arrives at {to} {to_nic}. Its Ethernet addresses are those of this link's two NICs.")
                }
            }
            Event::HostStack {
                engine,
                host,
                into_host,
                ..
            } => match (into_host, ko) {
                (true, true) => format!(
                    "VirtualBox NAT 엔진 {} 패킷을 호스트 {host}의 네트워크 스택에 넘깁니다. 이제 호스트의 프로그램이 보낸 것처럼 나갑니다.",
                    i_ga(engine)
                ),
                (true, false) => format!("The VirtualBox NAT engine {engine} hands the packet to {host}'s own network stack: it leaves as if a program on the host had sent it."),
                (false, true) => format!(
                    "호스트 {host}의 네트워크 스택이 패킷을 NAT 엔진 {engine}에 돌려줍니다."
                ),
                (false, false) => {
                    format!("{host}'s network stack hands the packet back to the NAT engine {engine}.")
                }
            },
            Event::Translate {
                node,
                kind,
                before,
                after,
                rule,
            } => {
                let ((bs, bd), (as_, ad)) = (ends(before), ends(after));
                let rule_ko = rule
                    .as_ref()
                    .map(|r| format!(" 포트 포워딩 규칙 {r}에 따른 변환입니다."))
                    .unwrap_or_default();
                let rule_en = rule
                    .as_ref()
                    .map(|r| format!(" The port-forwarding rule {r} says so."))
                    .unwrap_or_default();
                match (kind.as_str(), ko) {
                    ("SNAT", true) => format!("{} 출발지를 {bs}에서 {} 바꿉니다(SNAT). 바깥에서는 NAT의 주소만 보이고, 응답은 이 주소로 돌아옵니다.{rule_ko}", i_ga(node), euro_ro(&as_)),
                    ("SNAT", false) => format!("{node} rewrites the source from {bs} to {as_} (SNAT): outside, only the NAT's address is seen, and answers come back to it.{rule_en}"),
                    ("DNAT", true) => format!("{} 목적지를 {bd}에서 {} 바꿉니다(DNAT). 바깥에서 NAT의 주소로 온 패킷이 안쪽 호스트로 갑니다.{rule_ko}", i_ga(node), euro_ro(&ad)),
                    ("DNAT", false) => format!("{node} rewrites the destination from {bd} to {ad} (DNAT): a packet sent to the NAT's address goes on to a host inside.{rule_en}"),
                    ("SNAT+DNAT", true) => format!("{} 출발지({bs} → {as_})와 목적지({bd} → {ad})를 모두 바꿉니다.{rule_ko}", i_ga(node)),
                    ("SNAT+DNAT", false) => format!("{node} rewrites both the source ({bs} → {as_}) and the destination ({bd} → {ad}).{rule_en}"),
                    ("un-NAT", true) => format!("{} 이 패킷이 conntrack 항목의 응답 방향과 일치함을 찾아 변환을 되돌립니다: {bs} → {bd}에서 {as_} → {} 바뀝니다.", i_ga(node), euro_ro(&ad)),
                    ("un-NAT", false) => format!("{node} finds that this packet matches a conntrack entry in the reply direction and undoes the translation: {bs} → {bd} becomes {as_} → {ad}."),
                    ("NAT", true) => format!("{} 이미 있는 연결의 패킷이므로 첫 패킷과 같은 변환을 적용합니다: {bs} → {bd}에서 {as_} → {} 바뀝니다.", i_ga(node), euro_ro(&ad)),
                    ("NAT", false) => format!("{node} applies the same translation as to the connection's first packet: {bs} → {bd} becomes {as_} → {ad}."),
                    (_, true) if kind.starts_with("un-NAT") => format!("{} ICMP 오류 메시지 안에 인용된 헤더를 conntrack 항목에 맞게 되돌려, 원래 보낸 호스트 {}에게 전달합니다.", i_ga(node), after.dst),
                    (_, false) if kind.starts_with("un-NAT") => format!("{node} translates the header quoted inside the ICMP error back through its conntrack entry and passes the error to the original sender {}.", after.dst),
                    (_, true) => format!("{} 이 연결을 conntrack 테이블에 기록하지만 주소는 바꾸지 않습니다.", i_ga(node)),
                    (_, false) => format!("{node} tracks this connection in its conntrack table but rewrites no address."),
                }
            }
            Event::Conntrack { change, .. } => {
                let text = match change {
                    CtChange::New => Text::new(
                        "conntrack records a new connection (NEW). [UNREPLIED]: no packet in the reply direction has been seen yet. The number after the protocol is the seconds left before the entry expires.",
                        "conntrack 테이블에 새 연결이 기록됩니다(NEW). [UNREPLIED]는 아직 응답 방향의 패킷을 보지 못했다는 뜻입니다. 프로토콜 다음의 숫자는 항목이 만료되기까지 남은 초입니다.",
                    ),
                    CtChange::Update => Text::new(
                        "The conntrack entry changes state (UPDATE): once an answer is seen [UNREPLIED] goes, and once the connection is confirmed it is [ASSURED] with a longer timeout.",
                        "conntrack 항목의 상태가 바뀝니다(UPDATE). 응답을 보면 [UNREPLIED]가 사라지고, 연결이 확인되면 [ASSURED]가 붙으며 만료 시간이 길어집니다.",
                    ),
                    CtChange::Expired => Text::new(
                        "The entry's timeout ran out and it is removed (DESTROY). A later packet of this flow is a new connection, and one from outside finds no entry.",
                        "만료 시간이 다 되어 항목이 지워집니다(DESTROY). 이 흐름의 다음 패킷은 새 연결이 되고, 바깥에서 온 패킷은 맞는 항목을 찾지 못합니다.",
                    ),
                    CtChange::Killed => Text::new(
                        "A TCP RST ended the connection: the entry is removed at once (DESTROY).",
                        "TCP RST가 연결을 끝냈으므로 항목이 바로 지워집니다(DESTROY).",
                    ),
                };
                text.get(lang).to_string()
            }
            Event::Deliver { node, .. } => {
                if ko {
                    format!(
                        "{} 패킷을 받습니다. 목적지 주소가 자신의 주소입니다.",
                        i_ga(node)
                    )
                } else {
                    format!("{node} receives the packet: the destination is one of its own addresses.")
                }
            }
            Event::Drop { node, cause, .. } => {
                if ko {
                    format!("{} 패킷을 버립니다. {}", i_ga(node), cause.explain_in(lang))
                } else {
                    format!("{node} drops the packet. {}", cause.explain_in(lang))
                }
            }
            Event::Clock { from, to } => {
                if ko {
                    format!("가상 시간이 {from}초에서 {to}초로 흐릅니다. 만료 시간이 다 된 conntrack 항목은 지워집니다.")
                } else {
                    format!("Virtual time moves from {from} s to {to} s; conntrack entries whose timeout ran out are removed.")
                }
            }
            Event::Config { node, change } => {
                if ko {
                    format!("{node}의 설정이 바뀝니다: {change}")
                } else {
                    format!("{node}'s configuration changes: {change}")
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::scenario::{Scenario, EXAMPLES};
    use crate::net::sim::Network;

    fn every_example_step() -> Vec<Step> {
        let mut all = Vec::new();
        for (name, src) in EXAMPLES {
            let s = Scenario::parse(name, src).unwrap();
            let mut net = Network::new(s.topology.clone()).unwrap();
            all.extend(net.lease_steps());
            for (_, a) in &s.actions {
                all.extend(net.apply(a).unwrap());
            }
        }
        all
    }

    #[test]
    fn every_step_of_every_example_is_explained_in_korean_without_double_particles() {
        let steps = every_example_step();
        assert!(steps.len() > 100, "only {} steps", steps.len());
        for step in &steps {
            let ko = step.event.explain_in(Lang::Ko);
            assert!(
                ko.chars().any(|c| ('가'..='힣').contains(&c)),
                "{step}: {ko}"
            );
            for both in ["을(를)", "이(가)", "은(는)", "와(과)", "(으)로"] {
                assert!(!ko.contains(both), "{step}: {ko}");
            }
            assert!(!step.event.explain_in(Lang::En).is_empty());
        }
    }

    #[test]
    fn a_source_nat_is_explained_with_the_address_before_and_after() {
        let steps = every_example_step();
        let snat = steps
            .iter()
            .find(|s| matches!(&s.event, Event::Translate { kind, node, .. } if kind == "SNAT" && node == "home-router"))
            .unwrap();
        let ko = snat.event.explain_in(Lang::Ko);
        assert!(
            ko.starts_with("home-router가 출발지를 192.168.1.100:40000에서 203.0.113.7:40000으로 바꿉니다(SNAT)"),
            "{ko}"
        );
        let en = snat.event.explain_in(Lang::En);
        assert!(
            en.contains("from 192.168.1.100:40000 to 203.0.113.7:40000"),
            "{en}"
        );
    }
}
