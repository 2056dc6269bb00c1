//! Topologies: what a lab is made of. Two levels:
//!
//! - [`Topology`] is the *description*: hosts, routers, servers and VMs, with NICs plugged into
//!   named segments (switches) or attached in a VirtualBox mode. It is what a scenario file or
//!   a lesson writes.
//! - [`Fabric`] is the *wiring* the description expands to (see [`super::vbox`]): every NIC
//!   with its address, every segment, the NAT engines VirtualBox would create, and every
//!   node's routing table. The simulator runs packets through a fabric.

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::forward::PortForward;
use super::nat::NatConfig;
use super::packet::Proto;
use super::route::{Route, RoutingTable};
use super::vbox::{DhcpServer, Mode};
use crate::lang::particle::eun_neun;
use crate::lang::{Explain, Lang};

mod problem;
pub use problem::{Issue, Problem, Severity};

/// What kind of machine a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A PC; it can run VirtualBox VMs. Does not forward packets.
    Host,
    /// A virtual machine on a host; its NICs are attached in VirtualBox modes.
    Vm,
    /// A router (home router, ISP): forwards packets, may do NAT.
    Router,
    /// A server on the internet or a LAN (8.8.8.8).
    Server,
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeKind::Host => "host",
            NodeKind::Vm => "vm",
            NodeKind::Router => "router",
            NodeKind::Server => "server",
        })
    }
}

/// Where a NIC is plugged in.
///
/// Externally tagged (serde's default), so that postcard can read it back: share links and
/// the browser build's embedded examples are postcard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attach {
    /// Into a named segment (a switch or cable): for hosts, routers and servers.
    Segment(String),
    /// In a VirtualBox mode: for VMs.
    Vbox(Mode),
}

/// A NIC as described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NicSpec {
    /// Interface name (`eth0`, …).
    pub name: String,
    /// Where it is plugged in.
    pub attach: Attach,
    /// A static address; `None` asks the segment's DHCP server.
    pub addr: Option<Ipv4Net>,
    /// A static default gateway.
    pub gateway: Option<Ipv4Addr>,
    /// A DHCP server this NIC runs on its segment (routers).
    pub dhcp: Option<DhcpServer>,
}

/// A NAT a router does on one of its NICs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterNat {
    /// The outside (WAN) NIC, whose address is the external address.
    pub outside: String,
    /// Behaviour.
    pub config: NatConfig,
    /// Port-forwarding rules.
    pub forwards: Vec<PortForward>,
}

/// A node as described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSpec {
    /// Unique name.
    pub name: String,
    /// What it is.
    pub kind: NodeKind,
    /// For VMs: the host that runs it.
    pub host: Option<String>,
    /// NICs, in order (a VM's first NIC is "adapter 1").
    pub nics: Vec<NicSpec>,
    /// Extra static routes.
    pub routes: Vec<Route>,
    /// For routers: NAT on the outside NIC.
    pub nat: Option<RouterNat>,
    /// Services listening (answered by SYN-ACK or a UDP reply; others get RST or ICMP port
    /// unreachable).
    pub listen: Vec<(Proto, u16)>,
}

/// The name of a NAT table and of its segment, typed: a node's own NAT (a router, or a VM's
/// `vm1/nat1` engine) or a NAT Network's, written `natnet/NAME`. The one place that name is
/// formatted and read back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NatId {
    /// A node's NAT, by the node's (or engine's) name.
    Node(String),
    /// A NAT Network's, by the network's name.
    NatNetwork(String),
}

impl NatId {
    const NAT_NETWORK: &'static str = "natnet/";

    /// The id a table name stands for: `natnet/lab` is NAT Network `lab`, anything else a node.
    pub fn parse(name: &str) -> NatId {
        match name.strip_prefix(Self::NAT_NETWORK) {
            Some(net) => NatId::NatNetwork(net.to_string()),
            None => NatId::Node(name.to_string()),
        }
    }

    /// The NAT Network `name`'s id.
    pub fn nat_network(name: &str) -> NatId {
        NatId::NatNetwork(name.to_string())
    }
}

impl fmt::Display for NatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NatId::Node(name) => f.write_str(name),
            NatId::NatNetwork(name) => write!(f, "{}{name}", Self::NAT_NETWORK),
        }
    }
}

/// A VirtualBox NAT Network ("NatNetwork"): a shared NAT router for several VMs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatNetworkSpec {
    /// Its name (`--netname`).
    pub name: String,
    /// Its network (default 10.0.2.0/24).
    pub cidr: Ipv4Net,
    /// The host running it.
    pub host: String,
    /// Port-forwarding rules (they must name the guest address).
    pub forwards: Vec<PortForward>,
    /// NAT behaviour.
    pub config: NatConfig,
}

/// A lab, as described.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// Machines.
    pub nodes: Vec<NodeSpec>,
    /// NAT Networks.
    pub nat_networks: Vec<NatNetworkSpec>,
}

/// What a node is in the fabric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "role")]
pub enum Role {
    /// A described node.
    Machine {
        /// Its kind.
        kind: NodeKind,
    },
    /// A VirtualBox NAT engine: a NAT router living inside `host`'s VirtualBox process. Its
    /// outside is the host's own network stack.
    NatEngine {
        /// The host's node index.
        host: usize,
        /// The VM it serves (NAT mode), or `None` for a NAT Network.
        vm: Option<String>,
    },
}

/// A NIC in the fabric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nic {
    /// Interface name.
    pub name: String,
    /// MAC address (VirtualBox's 08:00:27 prefix for VMs).
    pub mac: [u8; 6],
    /// The segment it is on; `None` when not attached.
    pub segment: Option<usize>,
    /// Its address, if it has one.
    pub addr: Option<Ipv4Net>,
    /// How it was attached, for display ("NAT", "bridged", "segment lan").
    pub attachment: String,
}

/// A node in the fabric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Name.
    pub name: String,
    /// What it is.
    pub role: Role,
    /// NICs.
    pub nics: Vec<Nic>,
    /// Routing table.
    pub routes: RoutingTable,
    /// Whether it forwards packets not addressed to it (routers and NAT engines).
    pub forwarding: bool,
    /// Listening services.
    pub listen: Vec<(Proto, u16)>,
    /// For routers doing NAT: the outside NIC's index.
    pub nat_outside: Option<usize>,
}

impl Node {
    /// Whether `ip` is one of this node's addresses.
    pub fn owns(&self, ip: Ipv4Addr) -> bool {
        self.nics
            .iter()
            .any(|n| n.addr.is_some_and(|a| a.addr() == ip))
    }

    /// The node's addresses, in NIC order.
    pub fn addrs(&self) -> Vec<Ipv4Addr> {
        self.nics
            .iter()
            .filter_map(|n| n.addr.map(|a| a.addr()))
            .collect()
    }

    /// The index of the NIC named `name`.
    pub fn nic_index(&self, name: &str) -> Option<usize> {
        self.nics.iter().position(|n| n.name == name)
    }

    /// Whether it is a described machine of `kind`.
    pub fn is(&self, kind: NodeKind) -> bool {
        self.role == Role::Machine { kind }
    }
}

/// What a segment is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SegmentKind {
    /// A described segment (switch, cable).
    Lan,
    /// The private network of one VM NIC's NAT engine.
    Nat,
    /// A NAT Network.
    NatNetwork,
    /// A host-only network.
    HostOnly,
    /// An internal network.
    Internal,
}

/// A layer-2 segment: every NIC on it can reach every other directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Name (`lan`, `vm1/nat1`, `natnet/NatNetwork`, `vboxnet0`, `intnet/intnet`).
    pub name: String,
    /// What it is.
    pub kind: SegmentKind,
}

/// The wired-up lab the simulator runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fabric {
    /// Nodes: the described ones first, in order, then NAT engines.
    pub nodes: Vec<Node>,
    /// Segments.
    pub segments: Vec<Segment>,
    /// DHCP leases handed out while wiring: (node, NIC, address, server, gateway).
    pub leases: Vec<Lease>,
}

/// An address a DHCP server handed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The client node.
    pub node: String,
    /// The client NIC.
    pub nic: String,
    /// The address and prefix.
    pub addr: Ipv4Net,
    /// The DHCP server's address.
    pub server: Ipv4Addr,
    /// The default gateway it announced.
    pub gateway: Option<Ipv4Addr>,
    /// The DNS server it announced.
    pub dns: Option<Ipv4Addr>,
    /// The segment it was leased on (a lease holds only on its own network).
    pub segment: String,
}

impl Fabric {
    /// The node named `name`.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The NICs on segment `seg`: (node, nic).
    pub fn on_segment(&self, seg: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.nodes.iter().enumerate().flat_map(move |(i, n)| {
            n.nics
                .iter()
                .enumerate()
                .filter(move |(_, nic)| nic.segment == Some(seg))
                .map(move |(j, _)| (i, j))
        })
    }
}

/// Most characters in a node name.
pub const MAX_NAME: usize = 32;

/// Why a name is refused (see [`check_name`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum NameError {
    /// Nothing typed.
    #[error("a name cannot be empty")]
    Empty,
    /// More than [`MAX_NAME`] characters (the name, its length).
    #[error("name {0:?} is {1} characters long: at most {MAX_NAME}")]
    TooLong(String, usize),
    /// A character outside the rule.
    #[error("name {0:?} contains {1:?}: use letters, digits, '-', '_' or '.'")]
    BadChar(String, char),
    /// Starts with `-`, `_` or `.`.
    #[error("name {0:?} must start with a letter or a digit")]
    BadStart(String),
    /// Another node has it.
    #[error("there is already a node named {0:?}")]
    Taken(String),
}

impl Explain for NameError {
    fn explain_in(&self, lang: Lang) -> String {
        use NameError::*;
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            Empty => "이름은 비워 둘 수 없습니다".into(),
            TooLong(n, len) => {
                format!(
                    "이름 {} {len}자입니다. 최대 {MAX_NAME}자까지 쓸 수 있습니다",
                    eun_neun(format!("{n:?}"))
                )
            }
            BadChar(n, c) => format!(
                "이름 {n:?}에 쓸 수 없는 문자 {c:?}: 글자, 숫자, '-', '_', '.'만 쓸 수 있습니다"
            ),
            BadStart(n) => format!(
                "이름 {} 글자나 숫자로 시작해야 합니다",
                eun_neun(format!("{n:?}"))
            ),
            Taken(n) => format!("{n:?}라는 이름의 노드가 이미 있습니다"),
        }
    }
}

/// The rule for a node's name: 1 to [`MAX_NAME`] letters (any script, so `우분투` is fine),
/// digits, `-`, `_` or `.`, starting with a letter or digit. Names appear in traces
/// (`vm1 eth0`) and in the names of the NAT engines VirtualBox creates (`vm1/nat1`), so
/// spaces and `/` are out.
pub fn check_name(name: &str) -> Result<(), NameError> {
    let len = name.chars().count();
    if len == 0 {
        return Err(NameError::Empty);
    }
    if len > MAX_NAME {
        return Err(NameError::TooLong(name.to_string(), len));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(NameError::BadChar(name.to_string(), c));
    }
    if !name.starts_with(char::is_alphanumeric) {
        return Err(NameError::BadStart(name.to_string()));
    }
    Ok(())
}

impl Topology {
    /// The node described as `name`.
    pub fn node(&self, name: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// Problems visible in the description itself (the wiring finds the rest).
    pub fn check(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let at = format!("node {}", n.name);
            if let Err(why) = check_name(&n.name) {
                out.push(Problem::error(&at, Issue::BadName(why)));
            }
            if self.nodes[..i].iter().any(|m| m.name == n.name) {
                out.push(Problem::error(&at, Issue::DuplicateNode));
            }
            for (j, nic) in n.nics.iter().enumerate() {
                self.check_nic(n, j, nic, &mut out);
            }
            if let Some(issue) = self.host_issue(n) {
                out.push(Problem::error(&at, issue));
            }
            if let Some(nat) = &n.nat {
                if n.kind != NodeKind::Router {
                    out.push(Problem::error(&at, Issue::NatOnNonRouter { kind: n.kind }));
                }
                if !n.nics.iter().any(|x| x.name == nat.outside) {
                    let nic = nat.outside.clone();
                    out.push(Problem::error(&at, Issue::UnknownNatOutside { nic }));
                }
                check_forwards(&nat.forwards, &at, &mut out);
            }
            for r in n
                .routes
                .iter()
                .filter(|r| !n.nics.iter().any(|x| x.name == r.nic))
            {
                let (route, nic) = (r.to_string(), r.nic.clone());
                out.push(Problem::error(&at, Issue::RouteUnknownNic { route, nic }));
            }
        }
        for (i, nn) in self.nat_networks.iter().enumerate() {
            self.check_nat_network(i, nn, &mut out);
        }
        out
    }

    /// The `j`-th NIC of `n`: a unique name, an attachment that suits the machine, a gateway
    /// and a DHCP pool inside its subnet, a NAT Network that exists, rules that do not clash.
    fn check_nic(&self, n: &NodeSpec, j: usize, nic: &NicSpec, out: &mut Vec<Problem>) {
        let at = format!("{} {}", n.name, nic.name);
        let mut error = |issue| out.push(Problem::error(&at, issue));
        if n.nics[..j].iter().any(|m| m.name == nic.name) {
            error(Issue::DuplicateNic);
        }
        match (&nic.attach, n.kind) {
            (Attach::Vbox(_), NodeKind::Vm)
            | (Attach::Segment(_), NodeKind::Host | NodeKind::Router | NodeKind::Server) => {}
            (Attach::Segment(s), NodeKind::Vm) => error(Issue::VmOnSegment { segment: s.clone() }),
            (Attach::Vbox(m), kind) => error(Issue::ModeOnMachine {
                kind,
                mode: m.to_string(),
            }),
        }
        if let (Some(addr), Some(gateway)) = (nic.addr, nic.gateway) {
            if !addr.trunc().contains(&gateway) {
                let subnet = addr.trunc();
                error(Issue::GatewayOutsideSubnet { gateway, subnet });
            }
        }
        if let Some(d) = &nic.dhcp {
            match nic.addr.map(|a| a.trunc()) {
                None => error(Issue::DhcpWithoutAddress),
                Some(subnet)
                    if !subnet.contains(&d.first)
                        || !subnet.contains(&d.last)
                        || d.first > d.last =>
                {
                    let (first, last) = (d.first, d.last);
                    error(Issue::DhcpPoolOutside {
                        first,
                        last,
                        subnet,
                    });
                }
                Some(_) => {}
            }
        }
        match &nic.attach {
            Attach::Vbox(Mode::Nat { forwards }) => check_forwards(forwards, &at, out),
            Attach::Vbox(Mode::NatNetwork(net))
                if !self.nat_networks.iter().any(|x| &x.name == net) =>
            {
                let name = net.clone();
                out.push(Problem::error(&at, Issue::UnknownNatNetwork { name }));
            }
            _ => {}
        }
    }

    /// What is wrong with where `n` runs: a VM needs a host that is one; nothing else has one.
    fn host_issue(&self, n: &NodeSpec) -> Option<Issue> {
        match (n.kind, &n.host) {
            (NodeKind::Vm, None) => Some(Issue::VmWithoutHost),
            (NodeKind::Vm, Some(h)) => match self.node(h) {
                None => Some(Issue::UnknownHost { name: h.clone() }),
                Some(hn) if hn.kind != NodeKind::Host => Some(Issue::NotAHost {
                    name: h.clone(),
                    kind: hn.kind,
                }),
                _ => None,
            },
            (kind, Some(_)) => Some(Issue::HostOfNonVm { kind }),
            _ => None,
        }
    }

    /// The `i`-th NAT Network: a unique name, room for its fixed addresses, a host, rules that
    /// forward inside it and do not clash.
    fn check_nat_network(&self, i: usize, nn: &NatNetworkSpec, out: &mut Vec<Problem>) {
        let at = format!("natnetwork {}", nn.name);
        if self.nat_networks[..i].iter().any(|m| m.name == nn.name) {
            out.push(Problem::error(&at, Issue::DuplicateNatNetwork));
        }
        if nn.cidr.prefix_len() > 29 {
            out.push(Problem::error(
                &at,
                Issue::NatNetworkTooSmall { cidr: nn.cidr },
            ));
        }
        match self.node(&nn.host) {
            Some(h) if h.kind == NodeKind::Host => {}
            _ => out.push(Problem::error(
                &at,
                Issue::UnknownHost {
                    name: nn.host.clone(),
                },
            )),
        }
        for r in &nn.forwards {
            let rule = r.name.clone();
            match r.guest_ip {
                Some(ip) if nn.cidr.contains(&ip) => {}
                Some(guest) => out.push(Problem::error(
                    &at,
                    Issue::ForwardOutside {
                        rule,
                        guest,
                        cidr: nn.cidr,
                    },
                )),
                None => out.push(Problem::error(&at, Issue::ForwardWithoutGuest { rule })),
            }
        }
        check_forwards(&nn.forwards, &at, out);
    }
}

/// Conflicting forwarding rules are errors.
fn check_forwards(rules: &[PortForward], at: &str, out: &mut Vec<Problem>) {
    for (i, r) in rules.iter().enumerate() {
        let earlier = &rules[..i];
        if let Some(with) = earlier
            .iter()
            .find(|o| r.conflict_with(std::slice::from_ref(o)).is_some())
        {
            out.push(Problem::error(
                at,
                Issue::ForwardConflict {
                    rule: r.clone(),
                    with: with.clone(),
                },
            ));
        }
    }
}

/// Warnings a topology deserves even when it runs.
pub fn warnings(t: &Topology) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut flag = |at: String, r: &PortForward| {
        if r.needs_privilege() {
            out.push(Problem {
                severity: Severity::Warning,
                at,
                issue: Issue::PrivilegedPort {
                    rule: r.name.clone(),
                    port: r.host_port,
                },
            });
        }
    };
    for n in &t.nodes {
        for nic in &n.nics {
            if let Attach::Vbox(Mode::Nat { forwards }) = &nic.attach {
                for r in forwards {
                    flag(format!("{} {}", n.name, nic.name), r);
                }
            }
        }
    }
    for nn in &t.nat_networks {
        for r in &nn.forwards {
            flag(format!("natnetwork {}", nn.name), r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nat_id_reads_back_from_its_table_name() {
        for id in [NatId::nat_network("lab"), NatId::Node("router".into())] {
            assert_eq!(NatId::parse(&id.to_string()), id);
        }
        assert_eq!(NatId::nat_network("lab").to_string(), "natnet/lab");
        assert_eq!(NatId::parse("vm1/nat1"), NatId::Node("vm1/nat1".into()));
    }
}
