//! The wiring: a described [`Topology`] in, a [`Fabric`] out, in the phases VirtualBox itself
//! goes through: NAT Networks, then each machine's NICs in their modes (creating NAT engines
//! and host-only adapters on the way), DHCP leases, routing tables, and a last check for
//! duplicate addresses. Every phase records its problems and the wiring goes on, so that
//! every problem is reported at once.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::{
    host, host_only_network, nat_network_for_adapter, with_prefix, DhcpServer, Mode,
    WINDOWS_HOST_ONLY,
};
use crate::net::route::{Route, RoutingTable};
use crate::net::topology::{
    Attach, Fabric, Lease, NatId, Nic, NicSpec, Node, NodeKind, NodeSpec, Problem, Role, Segment,
    SegmentKind, Severity, Topology,
};

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
    let mut w = Wiring::new(t);
    w.nat_networks();
    for (i, spec) in t.nodes.iter().enumerate() {
        w.machine(i, spec);
    }
    w.adopt_host_nics_and_engines();
    w.keep_leases(previous);
    w.lease_the_rest();
    w.routes();
    w.duplicate_addresses();
    problems.append(&mut w.problems);
    if problems.is_empty() {
        Ok(w.fabric)
    } else {
        Err(problems)
    }
}

/// Per described NIC: gateway from the description, to be completed by DHCP.
struct Pending {
    node: usize,
    nic: usize,
    gateway: Option<Ipv4Addr>,
}

/// The fabric as it is being built, and what the later phases still need.
struct Wiring<'t> {
    t: &'t Topology,
    fabric: Fabric,
    segments: BTreeMap<String, usize>,
    dhcp: BTreeMap<usize, (DhcpServer, Ipv4Net)>,
    problems: Vec<Problem>,
    /// Every NIC, in node order, waiting for DHCP and routes.
    pending: Vec<Pending>,
    /// NAT engines, added after the machines.
    engines: Vec<Node>,
    /// Host-only adapters, added to their hosts after the machines.
    host_nics: Vec<(usize, Nic)>,
}

impl<'t> Wiring<'t> {
    fn new(t: &'t Topology) -> Wiring<'t> {
        Wiring {
            t,
            fabric: Fabric::default(),
            segments: BTreeMap::new(),
            dhcp: BTreeMap::new(),
            problems: Vec::new(),
            pending: Vec::new(),
            engines: Vec::new(),
            host_nics: Vec::new(),
        }
    }

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

    /// NAT Networks first, so VMs can join them: a segment, its DHCP server at .3 and its NAT
    /// engine at .1.
    fn nat_networks(&mut self) {
        let t = self.t;
        for nn in &t.nat_networks {
            let name = NatId::nat_network(&nn.name).to_string();
            let seg = self.segment(&name, SegmentKind::NatNetwork);
            let net = nn.cidr.trunc();
            let gw = host(net, 1);
            // u64: a /0 has 2^32 addresses.
            let last = u32::try_from((1u64 << (32 - nn.cidr.prefix_len())).saturating_sub(2))
                .unwrap_or(u32::MAX);
            let server = DhcpServer {
                server: host(net, 3),
                first: host(net, 4),
                last: host(net, last),
                gateway: Some(gw),
                dns: None,
            };
            self.dhcp.insert(seg, (server, net));
            let host_idx = t.nodes.iter().position(|n| n.name == nn.host).unwrap_or(0);
            self.engines.push(engine_node(
                &name,
                host_idx,
                None,
                seg,
                with_prefix(gw, nn.cidr),
            ));
        }
    }

    /// One machine: each NIC attached to its segment or in its VirtualBox mode.
    fn machine(&mut self, i: usize, spec: &NodeSpec) {
        let mut nics = Vec::new();
        let mut vm_adapter = 0;
        for (j, nic) in spec.nics.iter().enumerate() {
            let mac = if spec.kind == NodeKind::Vm {
                [0x08, 0x00, 0x27, 0x00, i as u8, j as u8]
            } else {
                [0x02, 0x00, 0x00, 0x00, i as u8, j as u8]
            };
            let (segment, attachment) = match &nic.attach {
                Attach::Segment(s) => (
                    Some(self.segment(s, SegmentKind::Lan)),
                    format!("segment {s}"),
                ),
                Attach::Vbox(mode) => {
                    vm_adapter += 1;
                    (
                        self.vbox_segment(spec, nic, mode, vm_adapter),
                        mode.to_string(),
                    )
                }
            };
            if let (Some(d), Some(seg), Some(addr)) = (&nic.dhcp, segment, nic.addr) {
                let mut d = d.clone();
                d.server = addr.addr();
                d.gateway = d.gateway.or(Some(addr.addr()));
                self.dhcp.insert(seg, (d, addr.trunc()));
            }
            nics.push(Nic {
                name: nic.name.clone(),
                mac,
                segment,
                addr: nic.addr,
                attachment,
            });
            self.pending.push(Pending {
                node: i,
                nic: j,
                gateway: nic.gateway,
            });
        }
        self.fabric.nodes.push(Node {
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

    /// The segment a VM's adapter number `adapter` joins in `mode`, creating what VirtualBox
    /// creates for it.
    fn vbox_segment(
        &mut self,
        spec: &NodeSpec,
        nic: &NicSpec,
        mode: &Mode,
        adapter: usize,
    ) -> Option<usize> {
        let t = self.t;
        let at = format!("{} {}", spec.name, nic.name);
        let host_idx = spec
            .host
            .as_deref()
            .and_then(|h| t.nodes.iter().position(|n| n.name == h))
            .unwrap_or(0);
        match mode {
            Mode::NotAttached => None,
            Mode::Nat { forwards: _ } => self.nat_engine(spec, adapter, host_idx, at),
            Mode::NatNetwork(n) => {
                Some(self.segment(&NatId::nat_network(n).to_string(), SegmentKind::NatNetwork))
            }
            Mode::Bridged => self.bridged(host_idx, at),
            Mode::HostOnly(name) => self.host_only(name, host_idx, at),
            Mode::Internal(n) => Some(self.segment(&format!("intnet/{n}"), SegmentKind::Internal)),
        }
    }

    /// NAT mode: a private segment per adapter with its own NAT engine at .2, DNS at .3, the
    /// guest at .15.
    fn nat_engine(
        &mut self,
        spec: &NodeSpec,
        adapter: usize,
        host_idx: usize,
        at: String,
    ) -> Option<usize> {
        let Some(net) = nat_network_for_adapter(adapter) else {
            self.error(
                at,
                format!("adapter {adapter} is beyond what NAT numbering supports"),
            );
            return None;
        };
        let name = format!("{}/nat{adapter}", spec.name);
        let seg = self.segment(&name, SegmentKind::Nat);
        let server = DhcpServer::nat_adapter(net);
        let gw = server.server;
        self.dhcp.insert(seg, (server, net));
        self.engines.push(engine_node(
            &name,
            host_idx,
            Some(spec.name.clone()),
            seg,
            with_prefix(gw, net),
        ));
        Some(seg)
    }

    /// Bridged: the LAN of the host's first NIC on one.
    fn bridged(&mut self, host_idx: usize, at: String) -> Option<usize> {
        let host_spec = &self.t.nodes[host_idx];
        let lan = host_spec.nics.iter().find_map(|n| match &n.attach {
            Attach::Segment(s) => Some(s.clone()),
            _ => None,
        });
        match lan {
            Some(s) => Some(self.segment(&s, SegmentKind::Lan)),
            None => {
                let message = format!(
                    "bridged to host {:?}, which has no NIC on a LAN",
                    host_spec.name
                );
                self.error(at, message);
                None
            }
        }
    }

    /// Host-only: the adapter's segment, created with its DHCP server at .100 and the host's
    /// own adapter at .1 the first time a VM names it.
    fn host_only(&mut self, name: &str, host_idx: usize, at: String) -> Option<usize> {
        let Some(net) = host_only_network(name) else {
            self.error(
                at,
                format!("host-only network {name:?} is not a host-only adapter's name: expected vboxnetN (Linux, macOS) or \"{WINDOWS_HOST_ONLY}\" / \"{WINDOWS_HOST_ONLY} #N\" (Windows)"),
            );
            return None;
        };
        let existed = self.segments.contains_key(name);
        let seg = self.segment(name, SegmentKind::HostOnly);
        if !existed {
            let server = DhcpServer {
                server: host(net, 100),
                first: host(net, 101),
                last: host(net, 254),
                gateway: None,
                dns: None,
            };
            self.dhcp.insert(seg, (server, net));
            self.host_nics.push((
                host_idx,
                Nic {
                    name: name.to_string(),
                    mac: [0x0a, 0x00, 0x27, 0x00, 0x00, seg as u8],
                    segment: Some(seg),
                    addr: Some(with_prefix(host(net, 1), net)),
                    attachment: format!("host-only adapter {name}"),
                },
            ));
        }
        Some(seg)
    }

    /// The host-only adapters join their hosts, and the NAT engines join the fabric.
    fn adopt_host_nics_and_engines(&mut self) {
        for (h, nic) in std::mem::take(&mut self.host_nics) {
            if let Some(node) = self.fabric.nodes.get_mut(h) {
                self.pending.push(Pending {
                    node: h,
                    nic: node.nics.len(),
                    gateway: None,
                });
                node.nics.push(nic);
            }
        }
        self.fabric.nodes.append(&mut self.engines);
    }

    /// DHCP, first pass: the previous leases that still hold (same NIC, segment and server,
    /// in the server's range, address free).
    fn keep_leases(&mut self, previous: &[Lease]) {
        for p in &self.pending {
            let Some(nic) = self
                .fabric
                .nodes
                .get(p.node)
                .and_then(|n| n.nics.get(p.nic))
            else {
                continue;
            };
            let (Some(seg), None) = (nic.segment, nic.addr) else {
                continue;
            };
            let Some((server, net)) = self.dhcp.get(&seg).cloned() else {
                continue;
            };
            let node_name = &self.fabric.nodes[p.node].name;
            let segment = &self.fabric.segments[seg].name;
            let kept = previous.iter().find(|l| {
                &l.node == node_name
                    && l.nic == nic.name
                    && &l.segment == segment
                    && l.server == server.server
                    && l.addr.prefix_len() == net.prefix_len()
                    && (server.first..=server.last).contains(&l.addr.addr())
            });
            let Some(l) = kept else { continue };
            let taken = self.fabric.on_segment(seg).any(|(a, b)| {
                self.fabric.nodes[a].nics[b]
                    .addr
                    .is_some_and(|x| x.addr() == l.addr.addr())
            });
            if !taken {
                self.fabric.nodes[p.node].nics[p.nic].addr = Some(l.addr);
                self.fabric.leases.push(Lease {
                    gateway: server.gateway,
                    dns: server.dns,
                    ..l.clone()
                });
            }
        }
    }

    /// DHCP, second pass: new leases in node order, skipping addresses taken; a NIC with a
    /// lease takes its gateway from it.
    fn lease_the_rest(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        for p in &mut pending {
            self.lease(p);
        }
        self.pending = pending;
    }

    fn lease(&mut self, p: &mut Pending) {
        let Some(nic) = self
            .fabric
            .nodes
            .get(p.node)
            .and_then(|n| n.nics.get(p.nic))
        else {
            return;
        };
        if let Some(l) = self
            .fabric
            .leases
            .iter()
            .find(|l| l.node == self.fabric.nodes[p.node].name && l.nic == nic.name)
        {
            p.gateway = p.gateway.or(l.gateway);
            return;
        }
        if nic.addr.is_some() {
            return;
        }
        let Some(seg) = nic.segment else { return };
        let Some((server, net)) = self.dhcp.get(&seg).cloned() else {
            return;
        };
        let taken: Vec<Ipv4Addr> = self
            .fabric
            .on_segment(seg)
            .filter_map(|(a, b)| self.fabric.nodes[a].nics[b].addr.map(|x| x.addr()))
            .collect();
        let lease = (server.first.to_bits()..=server.last.to_bits())
            .map(Ipv4Addr::from_bits)
            .find(|ip| !taken.contains(ip) && *ip != server.server);
        let (node_name, nic_name) = (self.fabric.nodes[p.node].name.clone(), nic.name.clone());
        match lease {
            Some(ip) => {
                let addr = with_prefix(ip, net);
                self.fabric.nodes[p.node].nics[p.nic].addr = Some(addr);
                p.gateway = p.gateway.or(server.gateway);
                self.fabric.leases.push(Lease {
                    node: node_name,
                    nic: nic_name,
                    addr,
                    server: server.server,
                    gateway: server.gateway,
                    dns: server.dns,
                    segment: self.fabric.segments[seg].name.clone(),
                });
            }
            None => self.error(
                format!("{node_name} {nic_name}"),
                format!(
                    "the DHCP server {} has no free address left in {}-{}",
                    server.server, server.first, server.last
                ),
            ),
        }
    }

    /// Routes: connected networks, the first gateway as default, then static routes.
    fn routes(&mut self) {
        let mut defaults: BTreeMap<usize, (Ipv4Addr, String)> = BTreeMap::new();
        for p in &self.pending {
            if let (Some(gw), Some(nic)) = (
                p.gateway,
                self.fabric
                    .nodes
                    .get(p.node)
                    .and_then(|n| n.nics.get(p.nic)),
            ) {
                defaults.entry(p.node).or_insert((gw, nic.name.clone()));
            }
        }
        for (i, node) in self.fabric.nodes.iter_mut().enumerate() {
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
            if let Some(spec) = self.t.nodes.get(i) {
                for r in &spec.routes {
                    node.routes.add(r.clone());
                }
            }
        }
    }

    /// Duplicate addresses on a segment.
    fn duplicate_addresses(&mut self) {
        for seg in 0..self.fabric.segments.len() {
            let mut seen: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
            let members: Vec<(usize, usize)> = self.fabric.on_segment(seg).collect();
            for (a, b) in members {
                let (node, nic) = (&self.fabric.nodes[a], &self.fabric.nodes[a].nics[b]);
                let Some(addr) = nic.addr else { continue };
                let who = format!("{} {}", node.name, nic.name);
                if let Some(other) = seen.insert(addr.addr(), who.clone()) {
                    let seg_name = self.fabric.segments[seg].name.clone();
                    self.error(
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
}

fn engine_node(name: &str, host: usize, vm: Option<String>, seg: usize, addr: Ipv4Net) -> Node {
    let mut routes = RoutingTable::new();
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
