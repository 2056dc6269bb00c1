//! The reachability matrix: who can open a connection to whom, found by simulating traffic.
//!
//! For every ordered pair of machines (hosts, VMs, servers), the probe sends a TCP SYN from
//! one to each address of the other (to a port the target listens on, if any) on a copy of the
//! network, and counts the pair as reachable when the target receives it and its answer comes
//! back. Where that fails, it tries every port-forwarding rule that leads to the target,
//! addressed to the NAT's outside (the host's addresses for a VirtualBox NAT engine, 127.0.0.1
//! from the host itself, the router's WAN address for a router). A pair that is not reachable
//! keeps what happened to its direct SYN ([`Blocked`]), so every cell can say why in both
//! languages ([`Explain`]).

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::packet::{Proto, TcpFlags, Transport};
use super::sim::{Network, SendSpec};
use super::topology::{NodeKind, Role};
use super::trace::{DropCause, Event};
use crate::lang::particle::{eul_reul, eun_neun, euro_ro, i_ga};
use crate::lang::{Explain, Lang};

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "reach")]
pub enum Cell {
    /// The node itself.
    Myself,
    /// Reachable directly, at this address.
    Direct {
        /// The address that worked.
        addr: Ipv4Addr,
    },
    /// Reachable only through a port-forwarding rule.
    PortForward {
        /// The rule's name.
        rule: String,
        /// The address:port the source connects to.
        via: String,
    },
    /// Not reachable, and why.
    No {
        /// What happened to the SYN sent straight to the machine's first address.
        why: Blocked,
    },
}

/// Why one machine cannot open a connection to another: the fate of the TCP SYN sent to the
/// target's first address (the address a learner would try first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Blocked {
    /// The target has no IPv4 address at all (every NIC unplugged or without a lease).
    NoAddress,
    /// The address is also the sender's own, so the SYN never leaves the sender (two VMs on
    /// VirtualBox's NAT both get 10.0.2.15).
    OwnAddress {
        /// The address tried.
        addr: Ipv4Addr,
    },
    /// The SYN arrived at another machine, which owns that address where it ended up.
    ArrivedAt {
        /// The address tried.
        addr: Ipv4Addr,
        /// Where the SYN arrived.
        node: String,
    },
    /// The SYN was dropped on the way.
    Dropped {
        /// The address tried.
        addr: Ipv4Addr,
        /// Where.
        node: String,
        /// Why, as the engine says.
        cause: DropCause,
    },
    /// No answer got back to the sender.
    NoAnswer {
        /// The address tried.
        addr: Ipv4Addr,
    },
    /// The engine could not send the SYN (its message).
    NotSent {
        /// The address tried.
        addr: Ipv4Addr,
        /// The engine's reason.
        why: String,
    },
}

impl Explain for Blocked {
    fn explain_in(&self, lang: Lang) -> String {
        match (self, lang) {
            (Blocked::NoAddress, Lang::En) => "it has no IPv4 address to connect to".into(),
            (Blocked::NoAddress, Lang::Ko) => "접속할 IPv4 주소가 없습니다".into(),
            (Blocked::OwnAddress { addr }, Lang::En) => format!(
                "its address {addr} is the sender's own address too, so the SYN never leaves the sender"
            ),
            (Blocked::OwnAddress { addr }, Lang::Ko) => format!(
                "그 주소 {} 보내는 쪽 자신의 주소이기도 해서 SYN이 보내는 쪽 밖으로 나가지 않습니다",
                eun_neun(addr)
            ),
            (Blocked::ArrivedAt { addr, node }, Lang::En) => {
                format!("a TCP SYN to {addr} arrives at {node} instead")
            }
            (Blocked::ArrivedAt { addr, node }, Lang::Ko) => format!(
                "{} 보낸 TCP SYN이 엉뚱하게 {node}에 도착합니다",
                euro_ro(addr)
            ),
            (Blocked::Dropped { addr, node, cause }, Lang::En) => format!(
                "{node} drops a TCP SYN to {addr}: {}",
                cause.explain_in(lang)
            ),
            (Blocked::Dropped { addr, node, cause }, Lang::Ko) => format!(
                "{} 보낸 TCP SYN을 {} 버립니다: {}",
                euro_ro(addr),
                i_ga(node),
                cause.explain_in(lang)
            ),
            (Blocked::NoAnswer { addr }, Lang::En) => {
                format!("a TCP SYN to {addr} gets no answer back")
            }
            (Blocked::NoAnswer { addr }, Lang::Ko) => format!(
                "{} 보낸 TCP SYN에 돌아오는 응답이 없습니다",
                euro_ro(addr)
            ),
            (Blocked::NotSent { addr, why }, Lang::En) => {
                format!("a TCP SYN to {addr} cannot be sent: {why}")
            }
            (Blocked::NotSent { addr, why }, Lang::Ko) => format!(
                "{} TCP SYN을 보낼 수 없습니다: {why}",
                euro_ro(addr)
            ),
        }
    }
}

/// A cell in words: reachable or not, and how or why.
impl Explain for Cell {
    fn explain_in(&self, lang: Lang) -> String {
        match (self, lang) {
            (Cell::Myself, Lang::En) => "the machine itself".into(),
            (Cell::Myself, Lang::Ko) => "자기 자신".into(),
            (Cell::Direct { addr }, Lang::En) => {
                format!("reachable at {addr}: a TCP SYN gets there and the answer comes back")
            }
            (Cell::Direct { addr }, Lang::Ko) => format!(
                "{} 닿습니다. TCP SYN이 도착하고 응답도 돌아옵니다",
                euro_ro(addr)
            ),
            (Cell::PortForward { rule, via }, Lang::En) => {
                format!("only through the port-forwarding rule “{rule}”: connect to {via}")
            }
            (Cell::PortForward { rule, via }, Lang::Ko) => format!(
                "포트 포워딩 규칙 {} 거쳐서만 닿습니다. {via}에 접속합니다",
                eul_reul(format!("“{rule}”"))
            ),
            (Cell::No { why }, Lang::En) => format!("unreachable: {}", why.explain_in(lang)),
            (Cell::No { why }, Lang::Ko) => format!("닿지 않습니다. {}", why.explain_in(lang)),
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Myself => f.write_str("·"),
            Cell::Direct { .. } => f.write_str("+"),
            Cell::PortForward { via, .. } => write!(f, "pf {via}"),
            Cell::No { .. } => f.write_str("-"),
        }
    }
}

/// Who reaches whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    /// The machines, in topology order.
    pub nodes: Vec<String>,
    /// `cells[from][to]`.
    pub cells: Vec<Vec<Cell>>,
}

impl Matrix {
    /// The cell for `from` → `to`.
    pub fn get(&self, from: &str, to: &str) -> Option<&Cell> {
        let i = self.nodes.iter().position(|n| n == from)?;
        let j = self.nodes.iter().position(|n| n == to)?;
        self.cells.get(i)?.get(j)
    }
}

/// Whether a probe from `from` to `dst:port` reaches node `to` and gets an answer back; if
/// not, what happened to it.
pub fn probe(net: &Network, from: &str, to: &str, dst: Ipv4Addr, port: u16) -> Result<(), Blocked> {
    let mut copy = net.clone();
    let mut spec = SendSpec::new(from, dst, Proto::Tcp, port);
    spec.sport = 49152;
    spec.flags = TcpFlags::SYN;
    let steps = copy.send(&spec).map_err(|e| Blocked::NotSent {
        addr: dst,
        why: e.to_string(),
    })?;
    let mut arrived = false;
    // The first thing that went wrong before the SYN arrived.
    let mut blocked: Option<Blocked> = None;
    for s in &steps {
        match &s.event {
            Event::Deliver { node, .. } if node == to && !arrived => arrived = true,
            Event::Drop {
                node,
                cause: DropCause::PortClosed,
                ..
            } if node == to && !arrived => arrived = true,
            Event::Deliver { node, .. } if node == from && arrived => return Ok(()),
            // The SYN itself delivered elsewhere (an ICMP error back to the sender is not).
            Event::Deliver { node, packet }
                if !arrived
                    && blocked.is_none()
                    && matches!(packet.transport, Transport::Tcp { .. }) =>
            {
                blocked = Some(if node == from {
                    Blocked::OwnAddress { addr: dst }
                } else {
                    Blocked::ArrivedAt {
                        addr: dst,
                        node: node.clone(),
                    }
                });
            }
            Event::Drop { node, cause, .. } if !arrived && blocked.is_none() => {
                blocked = Some(match cause {
                    DropCause::PortClosed => Blocked::ArrivedAt {
                        addr: dst,
                        node: node.clone(),
                    },
                    cause => Blocked::Dropped {
                        addr: dst,
                        node: node.clone(),
                        cause: *cause,
                    },
                });
            }
            _ => {}
        }
    }
    Err(match blocked {
        Some(why) if !arrived => why,
        _ => Blocked::NoAnswer { addr: dst },
    })
}

/// The most machines [`matrix`] takes: each of its N² cells replays the network, so its cost
/// grows as N³ (800 machines took minutes), and a table wider than 64 columns is not read.
pub const MAX_MACHINES: usize = 64;

/// A network with more machines than [`MAX_MACHINES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reachability matrix has one cell per pair of machines, so it is drawn for at most {MAX_MACHINES} hosts, VMs and servers; this network has {0}. Split it, or ask about one pair with a `send` step in `labvisor net run`")]
pub struct TooManyMachines(pub usize);

impl crate::lang::Explain for TooManyMachines {
    fn explain_in(&self, lang: crate::lang::Lang) -> String {
        match lang {
            crate::lang::Lang::En => self.to_string(),
            crate::lang::Lang::Ko => format!("도달 가능성 표는 머신 두 대마다 칸이 하나라서 호스트, VM, 서버가 {MAX_MACHINES}대까지일 때만 그립니다. 이 네트워크에는 {}대가 있습니다. 네트워크를 나누거나, 한 쌍만 알아보려면 `labvisor net run`에서 `send` 단계를 쓰세요", self.0),
        }
    }
}

/// The matrix over every host, VM and server.
pub fn matrix(net: &Network) -> Result<Matrix, TooManyMachines> {
    let fabric = net.fabric();
    let machines: Vec<usize> = fabric
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(n.role, Role::Machine { kind } if kind != NodeKind::Router))
        .map(|(i, _)| i)
        .collect();
    if machines.len() > MAX_MACHINES {
        return Err(TooManyMachines(machines.len()));
    }
    let nodes: Vec<String> = machines
        .iter()
        .map(|&i| fabric.nodes[i].name.clone())
        .collect();
    let mut cells = Vec::new();
    for &a in &machines {
        let mut row = Vec::new();
        for &b in &machines {
            row.push(if a == b {
                Cell::Myself
            } else {
                cell(net, a, b)
            });
        }
        cells.push(row);
    }
    Ok(Matrix { nodes, cells })
}

fn cell(net: &Network, a: usize, b: usize) -> Cell {
    let f = net.fabric();
    let (from, to) = (&f.nodes[a].name, &f.nodes[b].name);
    let port = f.nodes[b]
        .listen
        .iter()
        .find(|(p, _)| *p == Proto::Tcp)
        .map(|&(_, p)| p)
        .unwrap_or(7);
    let mut first_failure = None;
    for addr in f.nodes[b].addrs() {
        match probe(net, from, to, addr, port) {
            Ok(()) => return Cell::Direct { addr },
            Err(why) => {
                first_failure.get_or_insert(why);
            }
        }
    }
    // Port forwarding: every rule on every NAT that leads to `to`.
    for (nat_name, table) in net.nats() {
        let Some(ni) = f.node_index(nat_name) else {
            continue;
        };
        let nat_node = &f.nodes[ni];
        let b_addrs = f.nodes[b].addrs();
        for rule in table.forwards().iter().filter(|r| r.proto == Proto::Tcp) {
            let leads_to_b = match (&nat_node.role, rule.guest_ip) {
                (Role::NatEngine { vm: Some(vm), .. }, None) => vm == to,
                (_, Some(ip)) => b_addrs.contains(&ip),
                _ => false,
            };
            if !leads_to_b {
                continue;
            }
            let mut outside: Vec<Ipv4Addr> = match &nat_node.role {
                Role::NatEngine { host, .. } => {
                    let mut v = f.nodes[*host].addrs();
                    if *host == a {
                        v.insert(0, Ipv4Addr::LOCALHOST);
                    }
                    v
                }
                _ => nat_node
                    .nat_outside
                    .and_then(|o| nat_node.nics[o].addr)
                    .map(|x| vec![x.addr()])
                    .unwrap_or_default(),
            };
            if let Some(ip) = rule.host_ip {
                outside.retain(|x| *x == ip);
            }
            for ip in outside {
                if probe(net, from, to, ip, rule.host_port).is_ok() {
                    return Cell::PortForward {
                        rule: rule.name.clone(),
                        via: format!("{ip}:{}", rule.host_port),
                    };
                }
            }
        }
    }
    Cell::No {
        why: first_failure.unwrap_or(Blocked::NoAddress),
    }
}
