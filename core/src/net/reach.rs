//! The reachability matrix: who can open a connection to whom, found by simulating traffic.
//!
//! For every ordered pair of machines (hosts, VMs, servers), the probe sends a TCP SYN from
//! one to each address of the other (to a port the target listens on, if any) on a copy of the
//! network, and counts the pair as reachable when the target receives it and its answer comes
//! back. Where that fails, it tries every port-forwarding rule that leads to the target,
//! addressed to the NAT's outside (the host's addresses for a VirtualBox NAT engine, 127.0.0.1
//! from the host itself, the router's WAN address for a router).

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::packet::{Proto, TcpFlags};
use super::sim::{Network, SendSpec};
use super::topology::{NodeKind, Role};
use super::trace::{DropCause, Event};

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
    /// Not reachable.
    No,
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Myself => f.write_str("·"),
            Cell::Direct { .. } => f.write_str("+"),
            Cell::PortForward { via, .. } => write!(f, "pf {via}"),
            Cell::No => f.write_str("-"),
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

/// Whether a probe from `from` to `dst:port` reaches node `to` and gets an answer back.
pub fn probe(net: &Network, from: &str, to: &str, dst: Ipv4Addr, port: u16) -> bool {
    let mut copy = net.clone();
    let mut spec = SendSpec::new(from, dst, Proto::Tcp, port);
    spec.sport = 49152;
    spec.flags = TcpFlags::SYN;
    let Ok(steps) = copy.send(&spec) else {
        return false;
    };
    let mut arrived = false;
    for s in &steps {
        match &s.event {
            Event::Deliver { node, .. } if node == to && !arrived => arrived = true,
            Event::Drop {
                node,
                cause: DropCause::PortClosed,
                ..
            } if node == to && !arrived => arrived = true,
            Event::Deliver { node, .. } if node == from && arrived => return true,
            _ => {}
        }
    }
    false
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
    for addr in f.nodes[b].addrs() {
        if probe(net, from, to, addr, port) {
            return Cell::Direct { addr };
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
                if probe(net, from, to, ip, rule.host_port) {
                    return Cell::PortForward {
                        rule: rule.name.clone(),
                        via: format!("{ip}:{}", rule.host_port),
                    };
                }
            }
        }
    }
    Cell::No
}
