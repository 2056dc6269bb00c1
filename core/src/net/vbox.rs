//! VirtualBox's attachment modes with their default addressing, the DHCP model, and the
//! wiring that turns a described [`Topology`] into a [`Fabric`].
//!
//! What the wiring creates, per the VirtualBox manual (chapter 6):
//!
//! | mode | segment | router | DHCP | guest gets |
//! |---|---|---|---|---|
//! | NAT, adapter n | private `vm/natn`, 10.0.(n+1).0/24 | a NAT engine per VM NIC at .2 (DNS .3) | .2 | .15, gateway .2 |
//! | NAT Network | shared `natnet/NAME`, default 10.0.2.0/24 | one NAT engine at **.1** | .3 | .4 upwards, gateway .1 |
//! | bridged | the host's LAN | the LAN's router | the LAN's | a LAN address |
//! | host-only `vboxnetK` | 192.168.(56+K).0/24, host at .1 | none | .100 | .101 upwards, no gateway |
//! | internal | `intnet/NAME`, VMs only | none | none | static addresses only |
//! | not attached | none | | | nothing ("no cable plugged in") |
//!
//! A NAT engine lives in the host's VirtualBox process: its outside is the host's own network
//! stack, which is why the host and the internet can only reach the guest through port
//! forwarding, and why two VMs on NAT cannot reach each other (each has its own 10.0.2.0/24).

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::lang::{Lang, Text};

use super::forward::PortForward;
use super::route::Route;
use super::topology::{
    Attach, Fabric, Lease, NatId, Nic, Node, NodeKind, Problem, Role, Segment, SegmentKind,
    Severity, Topology,
};

/// A VirtualBox network attachment mode.
///
/// Externally tagged (serde's default), so that postcard can read it back: share links and
/// the browser build's embedded examples are postcard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// "Not attached": the NIC exists, "as if no cable was plugged in".
    NotAttached,
    /// NAT: a private NAT router for this NIC, with its port-forwarding rules (`--natpfN`).
    Nat {
        /// Port-forwarding rules.
        forwards: Vec<PortForward>,
    },
    /// NAT Network: a NAT router shared by the VMs on the named network.
    NatNetwork(String),
    /// Bridged: the VM sits on the host's LAN like another PC.
    Bridged,
    /// Host-only: a network between the host and its VMs (`vboxnet0`).
    HostOnly(String),
    /// Internal: a network of VMs only.
    Internal(String),
}

impl Mode {
    /// The mode with its network's name, in `lang`: the English is the `Display` form, the
    /// Korean uses the terms of VirtualBox's Korean interface ("호스트 전용 어댑터 vboxnet0").
    pub fn name_in(&self, lang: Lang) -> String {
        let kind = match self {
            Mode::NotAttached => Text::new("not attached", "연결 안 됨"),
            Mode::Nat { .. } => Text::new("NAT", "NAT"),
            Mode::NatNetwork(_) => Text::new("NAT Network", "NAT 네트워크"),
            Mode::Bridged => Text::new("bridged", "어댑터에 브리지"),
            Mode::HostOnly(_) => Text::new("host-only", "호스트 전용 어댑터"),
            Mode::Internal(_) => Text::new("internal", "내부 네트워크"),
        }
        .get(lang);
        match self {
            Mode::NatNetwork(n) | Mode::HostOnly(n) | Mode::Internal(n) => format!("{kind} {n}"),
            _ => kind.to_string(),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name_in(Lang::En))
    }
}

/// A DHCP server: hands out addresses from `first` to `last`, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpServer {
    /// The server's own address.
    pub server: Ipv4Addr,
    /// First address of the pool.
    pub first: Ipv4Addr,
    /// Last address of the pool.
    pub last: Ipv4Addr,
    /// The default gateway it announces.
    pub gateway: Option<Ipv4Addr>,
    /// The DNS server it announces.
    pub dns: Option<Ipv4Addr>,
}

/// The network a NAT-mode adapter gets: 10.0.(n+1).0/24 for adapter n (1-based).
pub fn nat_network_for_adapter(adapter: usize) -> Option<Ipv4Net> {
    let third = u8::try_from(adapter + 1).ok()?;
    Ipv4Net::new(Ipv4Addr::new(10, 0, third, 0), 24).ok()
}

fn host(net: Ipv4Net, n: u32) -> Ipv4Addr {
    Ipv4Addr::from_bits(net.network().to_bits().wrapping_add(n))
}

fn with_prefix(ip: Ipv4Addr, net: Ipv4Net) -> Ipv4Net {
    Ipv4Net::new(ip, net.prefix_len()).unwrap_or(net)
}

/// What Windows hosts call the first host-only adapter; the next ones end in ` #2`, ` #3`, ….
pub const WINDOWS_HOST_ONLY: &str = "VirtualBox Host-Only Ethernet Adapter";

/// The first host-only adapter VirtualBox creates on Linux and macOS, the one a host-only NIC
/// is attached to when no other is named.
pub const DEFAULT_HOST_ONLY: &str = "vboxnet0";

/// The host-only network `vboxnetK` (Linux and macOS hosts): 192.168.(56+K).0/24. On Windows
/// the same adapters are called "VirtualBox Host-Only Ethernet Adapter" (K = 0) and
/// "VirtualBox Host-Only Ethernet Adapter #N" (K = N - 1).
pub fn host_only_network(name: &str) -> Option<Ipv4Net> {
    let k: u8 = match name.strip_prefix(WINDOWS_HOST_ONLY) {
        Some("") => 0,
        Some(rest) => rest
            .strip_prefix(" #")?
            .parse::<u8>()
            .ok()?
            .checked_sub(1)?,
        None => name.strip_prefix("vboxnet")?.parse().ok()?,
    };
    let third = 56u8.checked_add(k)?;
    Ipv4Net::new(Ipv4Addr::new(192, 168, third, 0), 24).ok()
}

struct Wiring {
    fabric: Fabric,
    segments: BTreeMap<String, usize>,
    dhcp: BTreeMap<usize, (DhcpServer, Ipv4Net)>,
    problems: Vec<Problem>,
}

impl Wiring {
    fn segment(&mut self, name: &str, kind: SegmentKind) -> usize {
        if let Some(&i) = self.segments.get(name) {
            return i;
        }
        let i = self.fabric.segments.len();
        self.fabric.segments.push(Segment {
            name: name.to_string(),
            kind,
        });
        self.segments.insert(name.to_string(), i);
        i
    }

    fn error(&mut self, at: String, message: String) {
        self.problems.push(Problem {
            severity: Severity::Error,
            at,
            message,
        });
    }
}

/// Per described NIC: gateway from the description, to be completed by DHCP.
struct Pending {
    node: usize,
    nic: usize,
    gateway: Option<Ipv4Addr>,
}

/// Wires a topology: creates segments, NAT engines and host-only adapters, hands out DHCP
/// leases and builds routing tables. Reports every problem at once.
pub fn wire(t: &Topology) -> Result<Fabric, Vec<Problem>> {
    rewire(t, &[])
}

/// Wires `t` again after a change, keeping the `previous` leases that still hold: a DHCP
/// server remembers its clients, so a guest that stays on its network keeps its address when
/// another VM leaves or joins (otherwise removing the first VM of a NAT Network would
/// renumber all the others).
pub fn rewire(t: &Topology, previous: &[Lease]) -> Result<Fabric, Vec<Problem>> {
    // Keep wiring after problems in the description, so that every problem is reported at once.
    let mut problems = t.check();
    let mut w = Wiring {
        fabric: Fabric::default(),
        segments: BTreeMap::new(),
        dhcp: BTreeMap::new(),
        problems: Vec::new(),
    };
    let mut pending = Vec::new();
    let mut engines: Vec<(Node, usize)> = Vec::new(); // engine node, its segment
    let mut host_nics: Vec<(usize, Nic)> = Vec::new();

    // NAT Networks first, so VMs can join them.
    for nn in &t.nat_networks {
        let seg = w.segment(
            &NatId::nat_network(&nn.name).to_string(),
            SegmentKind::NatNetwork,
        );
        let gw = host(nn.cidr.trunc(), 1);
        w.dhcp.insert(
            seg,
            (
                DhcpServer {
                    server: host(nn.cidr.trunc(), 3),
                    first: host(nn.cidr.trunc(), 4),
                    last: host(
                        nn.cidr.trunc(),
                        // u64: a /0 has 2^32 addresses.
                        u32::try_from((1u64 << (32 - nn.cidr.prefix_len())).saturating_sub(2))
                            .unwrap_or(u32::MAX),
                    ),
                    gateway: Some(gw),
                    dns: None,
                },
                nn.cidr.trunc(),
            ),
        );
        let host_idx = t.nodes.iter().position(|n| n.name == nn.host).unwrap_or(0);
        engines.push((
            engine_node(
                &NatId::nat_network(&nn.name).to_string(),
                host_idx,
                None,
                seg,
                with_prefix(gw, nn.cidr),
            ),
            seg,
        ));
    }

    for (i, spec) in t.nodes.iter().enumerate() {
        let mut nics = Vec::new();
        let mut vm_adapter = 0;
        for (j, nic) in spec.nics.iter().enumerate() {
            let at = format!("{} {}", spec.name, nic.name);
            let mac = if spec.kind == NodeKind::Vm {
                [0x08, 0x00, 0x27, 0x00, i as u8, j as u8]
            } else {
                [0x02, 0x00, 0x00, 0x00, i as u8, j as u8]
            };
            let (segment, attachment) = match &nic.attach {
                Attach::Segment(s) => {
                    (Some(w.segment(s, SegmentKind::Lan)), format!("segment {s}"))
                }
                Attach::Vbox(mode) => {
                    vm_adapter += 1;
                    let host_idx = spec
                        .host
                        .as_deref()
                        .and_then(|h| t.nodes.iter().position(|n| n.name == h))
                        .unwrap_or(0);
                    let seg = match mode {
                        Mode::NotAttached => None,
                        Mode::Nat { forwards: _ } => match nat_network_for_adapter(vm_adapter) {
                            Some(net) => {
                                let name = format!("{}/nat{vm_adapter}", spec.name);
                                let seg = w.segment(&name, SegmentKind::Nat);
                                let gw = host(net, 2);
                                w.dhcp.insert(
                                    seg,
                                    (
                                        DhcpServer {
                                            server: gw,
                                            first: host(net, 15),
                                            last: host(net, 15),
                                            gateway: Some(gw),
                                            dns: Some(host(net, 3)),
                                        },
                                        net,
                                    ),
                                );
                                engines.push((
                                    engine_node(
                                        &name,
                                        host_idx,
                                        Some(spec.name.clone()),
                                        seg,
                                        with_prefix(gw, net),
                                    ),
                                    seg,
                                ));
                                Some(seg)
                            }
                            None => {
                                w.error(at.clone(), format!("adapter {vm_adapter} is beyond what NAT numbering supports"));
                                None
                            }
                        },
                        Mode::NatNetwork(n) => Some(
                            w.segment(&NatId::nat_network(n).to_string(), SegmentKind::NatNetwork),
                        ),
                        Mode::Bridged => {
                            let host_spec = &t.nodes[host_idx];
                            match host_spec.nics.iter().find_map(|n| match &n.attach {
                                Attach::Segment(s) => Some(s.clone()),
                                _ => None,
                            }) {
                                Some(s) => Some(w.segment(&s, SegmentKind::Lan)),
                                None => {
                                    w.error(
                                        at.clone(),
                                        format!(
                                            "bridged to host {:?}, which has no NIC on a LAN",
                                            host_spec.name
                                        ),
                                    );
                                    None
                                }
                            }
                        }
                        Mode::HostOnly(name) => match host_only_network(name) {
                            Some(net) => {
                                let existed = w.segments.contains_key(name);
                                let seg = w.segment(name, SegmentKind::HostOnly);
                                if !existed {
                                    w.dhcp.insert(
                                        seg,
                                        (
                                            DhcpServer {
                                                server: host(net, 100),
                                                first: host(net, 101),
                                                last: host(net, 254),
                                                gateway: None,
                                                dns: None,
                                            },
                                            net,
                                        ),
                                    );
                                    host_nics.push((
                                        host_idx,
                                        Nic {
                                            name: name.clone(),
                                            mac: [0x0a, 0x00, 0x27, 0x00, 0x00, seg as u8],
                                            segment: Some(seg),
                                            addr: Some(with_prefix(host(net, 1), net)),
                                            attachment: format!("host-only adapter {name}"),
                                        },
                                    ));
                                }
                                Some(seg)
                            }
                            None => {
                                w.error(
                                    at.clone(),
                                    format!("host-only network {name:?} is not a host-only adapter's name: expected vboxnetN (Linux, macOS) or \"{WINDOWS_HOST_ONLY}\" / \"{WINDOWS_HOST_ONLY} #N\" (Windows)"),
                                );
                                None
                            }
                        },
                        Mode::Internal(n) => {
                            Some(w.segment(&format!("intnet/{n}"), SegmentKind::Internal))
                        }
                    };
                    (seg, mode.to_string())
                }
            };
            if let (Some(d), Some(seg), Some(addr)) = (&nic.dhcp, segment, nic.addr) {
                let mut d = d.clone();
                d.server = addr.addr();
                d.gateway = d.gateway.or(Some(addr.addr()));
                w.dhcp.insert(seg, (d, addr.trunc()));
            }
            nics.push(Nic {
                name: nic.name.clone(),
                mac,
                segment,
                addr: nic.addr,
                attachment,
            });
            pending.push(Pending {
                node: i,
                nic: j,
                gateway: nic.gateway,
            });
        }
        w.fabric.nodes.push(Node {
            name: spec.name.clone(),
            role: Role::Machine { kind: spec.kind },
            nics,
            routes: Default::default(),
            forwarding: spec.kind == NodeKind::Router,
            listen: spec.listen.clone(),
            nat_outside: spec
                .nat
                .as_ref()
                .and_then(|n| spec.nics.iter().position(|x| x.name == n.outside)),
        });
    }
    for (h, nic) in host_nics {
        if let Some(node) = w.fabric.nodes.get_mut(h) {
            pending.push(Pending {
                node: h,
                nic: node.nics.len(),
                gateway: None,
            });
            node.nics.push(nic);
        }
    }
    for (engine, _) in engines {
        w.fabric.nodes.push(engine);
    }

    // DHCP: first the previous leases that still hold, then new ones in node order, skipping
    // addresses taken.
    for p in &pending {
        let Some(nic) = w.fabric.nodes.get(p.node).and_then(|n| n.nics.get(p.nic)) else {
            continue;
        };
        let (Some(seg), None) = (nic.segment, nic.addr) else {
            continue;
        };
        let Some((server, net)) = w.dhcp.get(&seg).cloned() else {
            continue;
        };
        let node_name = &w.fabric.nodes[p.node].name;
        let segment = &w.fabric.segments[seg].name;
        let kept = previous.iter().find(|l| {
            &l.node == node_name
                && l.nic == nic.name
                && &l.segment == segment
                && l.server == server.server
                && l.addr.prefix_len() == net.prefix_len()
                && (server.first..=server.last).contains(&l.addr.addr())
        });
        if let Some(l) = kept {
            let taken = w.fabric.on_segment(seg).any(|(a, b)| {
                w.fabric.nodes[a].nics[b]
                    .addr
                    .is_some_and(|x| x.addr() == l.addr.addr())
            });
            if !taken {
                w.fabric.nodes[p.node].nics[p.nic].addr = Some(l.addr);
                w.fabric.leases.push(Lease {
                    gateway: server.gateway,
                    dns: server.dns,
                    ..l.clone()
                });
            }
        }
    }
    for p in &mut pending {
        let Some(nic) = w.fabric.nodes.get(p.node).and_then(|n| n.nics.get(p.nic)) else {
            continue;
        };
        if let Some(l) = w
            .fabric
            .leases
            .iter()
            .find(|l| l.node == w.fabric.nodes[p.node].name && l.nic == nic.name)
        {
            p.gateway = p.gateway.or(l.gateway);
            continue;
        }
        if nic.addr.is_some() {
            continue;
        }
        let Some(seg) = nic.segment else { continue };
        let Some((server, net)) = w.dhcp.get(&seg).cloned() else {
            continue;
        };
        let taken: Vec<Ipv4Addr> = w
            .fabric
            .on_segment(seg)
            .filter_map(|(a, b)| w.fabric.nodes[a].nics[b].addr.map(|x| x.addr()))
            .collect();
        let lease = (server.first.to_bits()..=server.last.to_bits())
            .map(Ipv4Addr::from_bits)
            .find(|ip| !taken.contains(ip) && *ip != server.server);
        let (node_name, nic_name) = (w.fabric.nodes[p.node].name.clone(), nic.name.clone());
        match lease {
            Some(ip) => {
                let addr = with_prefix(ip, net);
                w.fabric.nodes[p.node].nics[p.nic].addr = Some(addr);
                p.gateway = p.gateway.or(server.gateway);
                w.fabric.leases.push(Lease {
                    node: node_name,
                    nic: nic_name,
                    addr,
                    server: server.server,
                    gateway: server.gateway,
                    dns: server.dns,
                    segment: w.fabric.segments[seg].name.clone(),
                });
            }
            None => w.error(
                format!("{node_name} {nic_name}"),
                format!(
                    "the DHCP server {} has no free address left in {}-{}",
                    server.server, server.first, server.last
                ),
            ),
        }
    }

    // Routes: connected networks, the first gateway as default, then static routes.
    let mut defaults: BTreeMap<usize, (Ipv4Addr, String)> = BTreeMap::new();
    for p in &pending {
        if let (Some(gw), Some(nic)) = (
            p.gateway,
            w.fabric.nodes.get(p.node).and_then(|n| n.nics.get(p.nic)),
        ) {
            defaults.entry(p.node).or_insert((gw, nic.name.clone()));
        }
    }
    for (i, node) in w.fabric.nodes.iter_mut().enumerate() {
        for nic in &node.nics {
            if let (Some(addr), Some(_)) = (nic.addr, nic.segment) {
                node.routes.add(Route {
                    dest: addr.trunc(),
                    via: None,
                    nic: nic.name.clone(),
                });
            }
        }
        if let Some((gw, nic)) = defaults.get(&i) {
            node.routes.add(Route {
                dest: Ipv4Net::default(),
                via: Some(*gw),
                nic: nic.clone(),
            });
        }
        if let Some(spec) = t.nodes.get(i) {
            for r in &spec.routes {
                node.routes.add(r.clone());
            }
        }
    }

    // Duplicate addresses on a segment.
    for seg in 0..w.fabric.segments.len() {
        let mut seen: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
        let members: Vec<(usize, usize)> = w.fabric.on_segment(seg).collect();
        for (a, b) in members {
            let (node, nic) = (&w.fabric.nodes[a], &w.fabric.nodes[a].nics[b]);
            if let Some(addr) = nic.addr {
                let who = format!("{} {}", node.name, nic.name);
                if let Some(other) = seen.insert(addr.addr(), who.clone()) {
                    let seg_name = w.fabric.segments[seg].name.clone();
                    w.error(
                        who,
                        format!(
                            "address {} is already used by {other} on segment {seg_name}",
                            addr.addr()
                        ),
                    );
                }
            }
        }
    }
    problems.append(&mut w.problems);
    if problems.is_empty() {
        Ok(w.fabric)
    } else {
        Err(problems)
    }
}

fn engine_node(name: &str, host: usize, vm: Option<String>, seg: usize, addr: Ipv4Net) -> Node {
    let mut routes = super::route::RoutingTable::new();
    routes.add(Route {
        dest: addr.trunc(),
        via: None,
        nic: "eth0".into(),
    });
    Node {
        name: name.to_string(),
        role: Role::NatEngine { host, vm },
        nics: vec![Nic {
            name: "eth0".into(),
            mac: [0x52, 0x54, 0x00, 0x12, 0x35, 0x02],
            segment: Some(seg),
            addr: Some(addr),
            attachment: "NAT engine".into(),
        }],
        routes,
        forwarding: true,
        listen: Vec::new(),
        nat_outside: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_is_named_in_both_languages() {
        let modes = [
            Mode::NotAttached,
            Mode::Nat { forwards: vec![] },
            Mode::NatNetwork("natnet1".into()),
            Mode::Bridged,
            Mode::HostOnly("vboxnet0".into()),
            Mode::Internal("intnet".into()),
        ];
        for mode in &modes {
            let ko = mode.name_in(Lang::Ko);
            for english in ["attached", "Network", "bridged", "host-only", "internal"] {
                assert!(!ko.contains(english), "{mode:?}: {ko}");
            }
        }
        assert_eq!(modes[4].name_in(Lang::Ko), "호스트 전용 어댑터 vboxnet0");
        assert_eq!(modes[2].to_string(), "NAT Network natnet1");
    }
}
