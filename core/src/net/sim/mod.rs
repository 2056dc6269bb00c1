//! The engine: runs packets through a wired topology, hop by hop, and records a trace.
//!
//! ```text
//! Network::new(topology)       wire it (wiring), create NAT tables
//!   .apply(Action::Send(..))   -> Vec<Step>: the packet's journey, and the answer's
//!   .apply(Action::Advance(..))-> Vec<Step>: conntrack entries that expired
//!   .apply(Action::AddForward{..} | RemoveForward{..} | SetMode{..})
//!   .apply(Action::AddVm{..} | RenameVm{..} | RemoveVm{..} | AddNic{..} | ...)
//! ```
//!
//! Every change to the lab itself (a VM added, renamed, moved to another host or removed, a
//! NIC added, removed, re-attached or given an address) is an action too: it is validated by
//! wiring the changed topology, and refused whole (the network untouched) when the wiring
//! finds a problem. [`Network::removal`] says beforehand what removing a VM or a NIC takes
//! with it.
//!
//! At each node a packet goes through, in order: the NAT's inbound side (reply or
//! port-forwarded traffic addressed to the NAT), local delivery, TTL, the routing table
//! (longest-prefix match), the NAT's outbound side, then ARP on the egress segment. Hosts
//! answer pings, SYNs (SYN-ACK when listening, RST otherwise) and UDP (a reply when
//! listening, ICMP port unreachable otherwise); routers send ICMP time-exceeded, net- and
//! host-unreachable. Everything is deterministic: same network, same actions, same trace.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::clock::{Duration, Instant};
use super::conntrack::{Entry, FlowKey};
use super::forward::PortForward;
use super::nat::{Decision, NatConfig, NatTable};
use super::packet::{Packet, Proto, TcpFlags, Transport, Unreachable};
use super::topology::{
    Attach, Fabric, NatId, NicSpec, NodeKind, NodeSpec, Problem, Role, Topology,
};
use super::trace::{CtChange, DropCause, Event, Step};
use super::vbox::Mode;
use super::wiring;

mod edit;
mod error;
mod path;
mod probe;
pub use error::ActionError;

/// Where a forwarding rule lives.
///
/// Externally tagged (serde's default), so that postcard can read it back: share links and
/// the browser build's embedded examples are postcard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleTarget {
    /// A VM's NAT-mode NIC.
    VmNic {
        /// The VM.
        vm: String,
        /// The NIC name.
        nic: String,
    },
    /// A NAT Network.
    NatNetwork {
        /// Its name.
        name: String,
    },
    /// A router doing NAT.
    Router {
        /// Its name.
        name: String,
    },
}

/// A packet to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendSpec {
    /// The sending node.
    pub from: String,
    /// Destination address.
    pub to: Ipv4Addr,
    /// Protocol.
    pub proto: Proto,
    /// Source port (ICMP: echo identifier).
    pub sport: u16,
    /// Destination port (ignored for ICMP).
    pub dport: u16,
    /// TCP flags (default SYN).
    pub flags: TcpFlags,
    /// TTL.
    pub ttl: u8,
    /// Payload label.
    pub label: String,
    /// Whether the destination answers (SYN-ACK, echo reply, UDP reply or an error).
    pub answer: bool,
}

impl SendSpec {
    /// A packet with the defaults: source port 40000, TCP SYN, TTL 64, answered.
    pub fn new(from: &str, to: Ipv4Addr, proto: Proto, dport: u16) -> SendSpec {
        SendSpec {
            from: from.to_string(),
            to,
            proto,
            sport: if proto == Proto::Icmp { 1 } else { 40000 },
            dport,
            flags: TcpFlags::SYN,
            ttl: super::packet::DEFAULT_TTL,
            label: String::new(),
            answer: true,
        }
    }
}

/// Something a scenario or a learner does.
///
/// Externally tagged (serde's default), so that postcard can read it back: share links and
/// the browser build's embedded examples are postcard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Send a packet.
    Send(SendSpec),
    /// Advance the clock (conntrack entries may expire).
    Advance(Duration),
    /// Add a port-forwarding rule.
    AddForward {
        /// Where.
        target: RuleTarget,
        /// The rule.
        rule: PortForward,
    },
    /// Remove a port-forwarding rule by name.
    RemoveForward {
        /// Where.
        target: RuleTarget,
        /// The rule's name.
        name: String,
    },
    /// Change a VM NIC's attachment mode (DHCP addresses are leased again; a static one,
    /// set in the guest, stays).
    SetMode {
        /// The VM.
        vm: String,
        /// The NIC name.
        nic: String,
        /// The new mode.
        mode: Mode,
    },
    /// Create a VM on `host`, as VirtualBox's wizard does: one NIC (`eth0`, adapter 1) on
    /// NAT. It runs an SSH server (listens on tcp/22), so there is something to connect to.
    AddVm {
        /// Its name (see [`check_name`]).
        name: String,
        /// The host that runs it.
        host: String,
    },
    /// Delete a VM with its NICs; forwarding rules that lead to it go too (see
    /// [`Network::removal`]).
    RemoveVm {
        /// The VM.
        name: String,
    },
    /// Rename a VM (`VBoxManage modifyvm OLD --name NEW`).
    RenameVm {
        /// Its name now.
        from: String,
        /// Its new name (see [`check_name`]).
        to: String,
    },
    /// Move a VM to another host.
    SetHost {
        /// The VM.
        vm: String,
        /// The host that runs it from now on.
        host: String,
    },
    /// Add a NIC (the next adapter, named `ethN`) attached in `mode`.
    AddNic {
        /// The VM.
        vm: String,
        /// Its attachment.
        mode: Mode,
    },
    /// Remove a NIC, with its forwarding rules and the rules that lead to its address.
    RemoveNic {
        /// The VM.
        vm: String,
        /// The NIC name.
        nic: String,
    },
    /// Create a NAT Network (`VBoxManage natnetwork add --netname NAME --network CIDR
    /// --dhcp on`): gateway .1, DHCP server .3, guests from .4.
    AddNatNetwork {
        /// Its name (see [`check_name`]).
        name: String,
        /// Its network, at most a /29 (the gateway, the DHCP server and guests need room).
        cidr: Ipv4Net,
        /// The host running it.
        host: String,
    },
    /// Give a VM's NIC a static address, as configured inside the guest (`ip addr add`), or
    /// `None` to ask DHCP again. Internal networks have no DHCP server, so their NICs need one.
    SetAddress {
        /// The VM.
        vm: String,
        /// The NIC name.
        nic: String,
        /// The address with its prefix length.
        addr: Option<Ipv4Net>,
    },
}

/// Most network adapters a VirtualBox VM has (`VBoxManage modifyvm --nic1` to `--nic8`).
pub const MAX_ADAPTERS: usize = 8;

/// What removing a VM or one of its NICs takes with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// The NICs removed, with their attachment.
    pub nics: Vec<(String, Mode)>,
    /// The forwarding rules removed: the NICs' own (NAT mode) and those of NAT Networks and
    /// routers that forward to one of the removed NICs' addresses.
    pub rules: Vec<(RuleTarget, PortForward)>,
}

/// The hop budget of one journey; more means a routing loop.
const MAX_HOPS: u32 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum From_ {
    Local,
    Nic(usize),
    /// Into a host's stack from one of its NAT engines.
    Engine,
    /// Into a NAT engine from its host's stack.
    HostStack,
}

/// A running network: the topology, its wiring, every NAT table and the clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Network {
    topology: Topology,
    fabric: Fabric,
    nats: BTreeMap<String, NatTable>,
    now: Instant,
    /// Ports nodes sent from: their sockets receive the answers (node, protocol, port).
    sockets: std::collections::BTreeSet<(String, Proto, u16)>,
}

impl Network {
    /// Wires `topology` and starts its clock at zero.
    pub fn new(topology: Topology) -> Result<Network, Vec<Problem>> {
        let fabric = wiring::wire(&topology)?;
        let mut net = Network {
            topology,
            fabric,
            nats: BTreeMap::new(),
            now: Instant(0),
            sockets: Default::default(),
        };
        net.sync_nats(BTreeMap::new());
        Ok(net)
    }

    /// The DHCP leases handed out while wiring, as trace steps.
    pub fn lease_steps(&self) -> Vec<Step> {
        self.fabric
            .leases
            .iter()
            .map(|l| Step {
                at: self.now,
                event: Event::Lease {
                    node: l.node.clone(),
                    nic: l.nic.clone(),
                    addr: l.addr,
                    server: l.server,
                    gateway: l.gateway,
                    dns: l.dns,
                },
            })
            .collect()
    }

    /// The description.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The wiring.
    pub fn fabric(&self) -> &Fabric {
        &self.fabric
    }

    /// The NAT tables, by node name (routers doing NAT and VirtualBox NAT engines).
    pub fn nats(&self) -> &BTreeMap<String, NatTable> {
        &self.nats
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Recreates NAT tables after (re)wiring, keeping the connections of NATs that survive.
    fn sync_nats(&mut self, mut old: BTreeMap<String, NatTable>) {
        let mut wanted: Vec<(String, NatConfig, Vec<PortForward>)> = Vec::new();
        for n in &self.topology.nodes {
            if let Some(nat) = &n.nat {
                wanted.push((n.name.clone(), nat.config.clone(), nat.forwards.clone()));
            }
            let mut adapter = 0;
            for nic in &n.nics {
                if let Attach::Vbox(mode) = &nic.attach {
                    adapter += 1;
                    if let Mode::Nat { forwards } = mode {
                        wanted.push((
                            format!("{}/nat{adapter}", n.name),
                            NatConfig::default(),
                            forwards.clone(),
                        ));
                    }
                }
            }
        }
        for nn in &self.topology.nat_networks {
            wanted.push((
                NatId::nat_network(&nn.name).to_string(),
                nn.config.clone(),
                nn.forwards.clone(),
            ));
        }
        for (name, config, forwards) in wanted {
            let mut table = match old.remove(&name) {
                Some(t) if *t.config() == config => t,
                _ => NatTable::new(config),
            };
            let names: Vec<String> = table.forwards().iter().map(|r| r.name.clone()).collect();
            for n in names {
                table.remove_forward(&n);
            }
            for r in forwards {
                // Conflicts were rejected by validation.
                let _ = table.add_forward(r);
            }
            self.nats.insert(name, table);
        }
    }

    /// Applies an action, returning what happened.
    pub fn apply(&mut self, action: &Action) -> Result<Vec<Step>, ActionError> {
        match action {
            Action::Send(spec) => self.send(spec),
            Action::Advance(d) => Ok(self.advance(*d)),
            Action::AddForward { target, rule } => self.edit_rules(target, |rules| {
                if let Some(why) = rule.conflict_with(rules) {
                    return Err(ActionError::Rule(format!("cannot add rule {rule}: {why}")));
                }
                rules.push(rule.clone());
                Ok(format!("add forwarding rule {rule}"))
            }),
            Action::RemoveForward { target, name } => self.edit_rules(target, |rules| {
                let i = rules.iter().position(|r| &r.name == name).ok_or_else(|| {
                    ActionError::Rule(format!("no forwarding rule named {name:?}"))
                })?;
                let r = rules.remove(i);
                Ok(format!("remove forwarding rule {r}"))
            }),
            Action::SetMode { vm, nic, mode } => self.set_mode(vm, nic, mode),
            Action::AddVm { name, host } => self.add_vm(name, host),
            Action::RemoveVm { name } => self.remove_vm(name),
            Action::RenameVm { from, to } => self.rename_vm(from, to),
            Action::SetHost { vm, host } => self.set_host(vm, host),
            Action::AddNic { vm, mode } => self.add_nic(vm, mode),
            Action::RemoveNic { vm, nic } => self.remove_nic(vm, nic),
            Action::AddNatNetwork { name, cidr, host } => self.add_nat_network(name, cidr, host),
            Action::SetAddress { vm, nic, addr } => self.set_address(vm, nic, addr),
        }
    }

    /// The VM named `name`, or why there is none.
    fn vm(&self, name: &str) -> Result<&NodeSpec, ActionError> {
        let n = self
            .topology
            .node(name)
            .ok_or_else(|| ActionError::UnknownNode(name.to_string()))?;
        if n.kind != NodeKind::Vm {
            return Err(ActionError::NotAVm(name.to_string(), n.kind));
        }
        Ok(n)
    }

    /// What removing the VM `vm` (or only its NIC `nic`) takes with it: the NICs, their own
    /// forwarding rules, and the rules of NAT Networks and routers that forward to one of
    /// their addresses. (VirtualBox keeps a NAT Network's rules when a VM is deleted; here
    /// they go with it, because a freed address is leased to the next VM that asks, and the
    /// rule would silently lead there.)
    pub fn removal(&self, vm: &str, nic: Option<&str>) -> Result<Removal, ActionError> {
        let spec = self.vm(vm)?;
        if let Some(nic) = nic {
            if !spec.nics.iter().any(|x| x.name == nic) {
                return Err(ActionError::UnknownNic {
                    node: vm.to_string(),
                    nic: nic.to_string(),
                });
            }
        }
        let mut out = Removal::default();
        let mut addrs = Vec::new();
        let node = self.fabric.node_index(vm).map(|i| &self.fabric.nodes[i]);
        for x in spec.nics.iter().filter(|x| nic.is_none_or(|n| n == x.name)) {
            let Attach::Vbox(mode) = &x.attach else {
                continue;
            };
            out.nics.push((x.name.clone(), mode.clone()));
            if let Mode::Nat { forwards } = mode {
                let target = RuleTarget::VmNic {
                    vm: vm.to_string(),
                    nic: x.name.clone(),
                };
                out.rules
                    .extend(forwards.iter().map(|r| (target.clone(), r.clone())));
            }
            if let Some(a) = node
                .and_then(|n| n.nics.iter().find(|f| f.name == x.name))
                .and_then(|f| f.addr)
            {
                addrs.push((a.addr(), mode.clone()));
            }
        }
        for (ip, mode) in addrs {
            match mode {
                Mode::NatNetwork(net) => {
                    if let Some(nn) = self.topology.nat_networks.iter().find(|n| n.name == net) {
                        for r in nn.forwards.iter().filter(|r| r.guest_ip == Some(ip)) {
                            out.rules
                                .push((RuleTarget::NatNetwork { name: net.clone() }, r.clone()));
                        }
                    }
                }
                Mode::Bridged => {
                    for n in &self.topology.nodes {
                        for r in n
                            .nat
                            .iter()
                            .flat_map(|nat| &nat.forwards)
                            .filter(|r| r.guest_ip == Some(ip))
                        {
                            out.rules.push((
                                RuleTarget::Router {
                                    name: n.name.clone(),
                                },
                                r.clone(),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Rewires to `t` and reports the change on `node` with the DHCP leases it brought.
    fn rewire_with_leases(
        &mut self,
        t: Topology,
        node: &str,
        change: String,
    ) -> Result<Vec<Step>, ActionError> {
        let leases_before = self.fabric.leases.clone();
        self.rewire(t)?;
        let mut steps = vec![self.step(Event::Config {
            node: node.to_string(),
            change,
        })];
        steps.extend(self.lease_steps().into_iter().filter(|s| {
            match &s.event {
                Event::Lease {
                    node, nic, addr, ..
                } => !leases_before
                    .iter()
                    .any(|l| &l.node == node && &l.nic == nic && &l.addr == addr),
                _ => false,
            }
        }));
        Ok(steps)
    }

    fn rewire(&mut self, t: Topology) -> Result<(), ActionError> {
        let leases = self.fabric.leases.clone();
        self.rewire_keeping(t, &leases)
    }

    /// Rewires to `t`; guests keep the `leases` that still hold on their networks.
    fn rewire_keeping(
        &mut self,
        t: Topology,
        leases: &[super::topology::Lease],
    ) -> Result<(), ActionError> {
        let fabric = wiring::rewire(&t, leases).map_err(ActionError::Invalid)?;
        self.topology = t;
        self.fabric = fabric;
        let old = std::mem::take(&mut self.nats);
        self.sync_nats(old);
        Ok(())
    }

    fn edit_rules(
        &mut self,
        target: &RuleTarget,
        edit: impl FnOnce(&mut Vec<PortForward>) -> Result<String, ActionError>,
    ) -> Result<Vec<Step>, ActionError> {
        let mut t = self.topology.clone();
        let (rules, node) = match target {
            RuleTarget::VmNic { vm, nic } => {
                let n = t
                    .nodes
                    .iter_mut()
                    .find(|n| &n.name == vm)
                    .ok_or_else(|| ActionError::UnknownNode(vm.clone()))?;
                let spec = n.nics.iter_mut().find(|x| &x.name == nic).ok_or_else(|| {
                    ActionError::UnknownNic {
                        node: vm.clone(),
                        nic: nic.clone(),
                    }
                })?;
                match &mut spec.attach {
                    Attach::Vbox(Mode::Nat { forwards }) => (forwards, format!("{vm} {nic}")),
                    other => {
                        let m = match other {
                            Attach::Vbox(m) => m.to_string(),
                            Attach::Segment(s) => format!("segment {s}"),
                        };
                        return Err(ActionError::Rule(format!("{vm} {nic} is attached as {m}: port forwarding needs NAT mode (or a NAT Network's rules)")));
                    }
                }
            }
            RuleTarget::NatNetwork { name } => {
                let nn = t
                    .nat_networks
                    .iter_mut()
                    .find(|n| &n.name == name)
                    .ok_or_else(|| ActionError::UnknownNode(format!("natnetwork {name}")))?;
                (&mut nn.forwards, NatId::nat_network(name).to_string())
            }
            RuleTarget::Router { name } => {
                let n = t
                    .nodes
                    .iter_mut()
                    .find(|n| &n.name == name)
                    .ok_or_else(|| ActionError::UnknownNode(name.clone()))?;
                match &mut n.nat {
                    Some(nat) => (&mut nat.forwards, name.clone()),
                    None => {
                        return Err(ActionError::Rule(format!(
                            "router {name:?} does no NAT, so it has no forwarding rules"
                        )))
                    }
                }
            }
        };
        let change = edit(rules)?;
        self.rewire(t)?;
        Ok(vec![self.step(Event::Config { node, change })])
    }

    /// Advances the clock by `d`; entries that time out are destroyed.
    pub fn advance(&mut self, d: Duration) -> Vec<Step> {
        let from = self.now;
        self.now = self.now.after(d);
        let mut steps = vec![self.step(Event::Clock { from, to: self.now })];
        let now = self.now;
        let mut expired: Vec<(String, Entry)> = Vec::new();
        for (name, t) in &mut self.nats {
            for e in t.expire(now) {
                expired.push((name.clone(), e));
            }
        }
        for (node, e) in expired {
            steps.push(self.step(Event::Conntrack {
                node,
                change: CtChange::Expired,
                entry: e.conntrack_line(e.expires),
            }));
        }
        steps
    }

    fn step(&self, event: Event) -> Step {
        Step {
            at: self.now,
            event,
        }
    }

    /// Sends a packet from a node and follows it (and the answer) to the end.
    pub fn send(&mut self, spec: &SendSpec) -> Result<Vec<Step>, ActionError> {
        let from = self
            .fabric
            .node_index(&spec.from)
            .ok_or_else(|| ActionError::UnknownNode(spec.from.clone()))?;
        let transport = match spec.proto {
            Proto::Tcp => Transport::Tcp {
                sport: spec.sport,
                dport: spec.dport,
                flags: spec.flags,
            },
            Proto::Udp => Transport::Udp {
                sport: spec.sport,
                dport: spec.dport,
            },
            Proto::Icmp => Transport::EchoRequest {
                id: spec.sport,
                seq: 1,
            },
        };
        let mut steps = Vec::new();
        let src = match self.source_for(from, spec.to) {
            Some(src) => src,
            None => {
                let packet = Packet {
                    src: Ipv4Addr::UNSPECIFIED,
                    dst: spec.to,
                    ttl: spec.ttl,
                    transport,
                    label: spec.label.clone(),
                };
                steps.push(self.step(Event::Drop { node: spec.from.clone(), packet, cause: DropCause::NoRoute, reason: format!("connect: Network is unreachable (no route to {} and no address to send from)", spec.to) }));
                return Ok(steps);
            }
        };
        let packet = Packet {
            src,
            dst: spec.to,
            ttl: spec.ttl,
            transport,
            label: spec.label.clone(),
        };
        if spec.proto != Proto::Icmp {
            self.sockets
                .insert((spec.from.clone(), spec.proto, spec.sport));
        }
        steps.push(self.step(Event::Send {
            node: spec.from.clone(),
            packet: packet.clone(),
        }));
        self.travel(from, packet, From_::Local, spec.answer, &mut steps);
        Ok(steps)
    }

    /// The source address a node uses towards `dst`: the address of the NIC its route uses.
    fn source_for(&self, node: usize, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        let n = self.fabric.nodes.get(node)?;
        if dst.is_loopback() {
            return Some(Ipv4Addr::LOCALHOST);
        }
        if n.owns(dst) {
            return Some(dst);
        }
        let r = n.routes.lookup(dst)?;
        n.nics
            .iter()
            .find(|x| x.name == r.nic)?
            .addr
            .map(|a| a.addr())
    }

    fn engines_of(&self, host: usize) -> Vec<usize> {
        self.fabric
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.role, Role::NatEngine { host: h, .. } if h == host))
            .map(|(i, _)| i)
            .collect()
    }

    /// The one guest address behind a NAT-mode engine.
    fn engine_guest(&self, engine: usize) -> Option<Ipv4Addr> {
        let seg = self.fabric.nodes.get(engine)?.nics.first()?.segment?;
        self.fabric
            .on_segment(seg)
            .filter(|&(n, _)| n != engine)
            .find_map(|(n, k)| self.fabric.nodes[n].nics[k].addr.map(|a| a.addr()))
    }

    fn record_nat(
        &self,
        node: &str,
        d: &Decision,
        before: &Packet,
        after: &Packet,
        steps: &mut Vec<Step>,
    ) {
        for e in &d.expired {
            steps.push(self.step(Event::Conntrack {
                node: node.to_string(),
                change: CtChange::Expired,
                entry: e.conntrack_line(e.expires),
            }));
        }
        let kind = if !d.created {
            "un-NAT"
        } else {
            match (
                before.src != after.src
                    || before.ports().map(|p| p.0) != after.ports().map(|p| p.0),
                before.dst != after.dst
                    || before.ports().map(|p| p.1) != after.ports().map(|p| p.1),
            ) {
                (true, true) => "SNAT+DNAT",
                (true, false) => "SNAT",
                (false, true) => "DNAT",
                (false, false) => "track",
            }
        };
        let kind = if !d.created && d.dir == super::conntrack::Dir::Original {
            "NAT"
        } else {
            kind
        };
        steps.push(self.step(Event::Translate {
            node: node.to_string(),
            kind: kind.to_string(),
            before: before.clone(),
            after: after.clone(),
            rule: d.rule.clone(),
        }));
        if let Some(e) = &d.killed {
            steps.push(self.step(Event::Conntrack {
                node: node.to_string(),
                change: CtChange::Killed,
                entry: e.conntrack_line(self.now),
            }));
        } else if let Some(e) = self
            .nats
            .get(node)
            .and_then(|t| t.conntrack().get(d.slot as usize))
        {
            if d.created {
                steps.push(self.step(Event::Conntrack {
                    node: node.to_string(),
                    change: CtChange::New,
                    entry: e.conntrack_line(self.now),
                }));
            } else if d.transition.is_some() {
                steps.push(self.step(Event::Conntrack {
                    node: node.to_string(),
                    change: CtChange::Update,
                    entry: e.conntrack_line(self.now),
                }));
            }
        }
    }

    /// Runs a NAT decision on `pkt` at `node`; on success returns the rewritten packet.
    fn nat_step(
        &mut self,
        node: usize,
        pkt: &Packet,
        steps: &mut Vec<Step>,
        decide: impl FnOnce(
            &mut NatTable,
            FlowKey,
            Option<TcpFlags>,
            Instant,
        ) -> Result<Decision, super::nat::NatDrop>,
    ) -> Result<Packet, String> {
        let name = self.fabric.nodes[node].name.clone();
        let now = self.now;
        let Some((sport, dport)) = pkt.ports() else {
            return Err("not translatable".into());
        };
        let key = FlowKey {
            proto: pkt.proto(),
            src: pkt.src,
            dst: pkt.dst,
            sport,
            dport,
        };
        let table = self.nats.get_mut(&name).ok_or("no NAT table")?;
        match decide(table, key, pkt.tcp_flags(), now) {
            Ok(d) => {
                let mut after = pkt.clone();
                after.src = d.after.src;
                after.dst = d.after.dst;
                after.set_sport(d.after.sport);
                after.set_dport(d.after.dport);
                self.record_nat(&name, &d, pkt, &after, steps);
                Ok(after)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Translates an ICMP error's quote back through `node`'s NAT, if it belongs to it.
    fn nat_icmp_error(
        &mut self,
        node: usize,
        pkt: &Packet,
        steps: &mut Vec<Step>,
    ) -> Option<Packet> {
        let name = self.fabric.nodes[node].name.clone();
        let q = match &pkt.transport {
            Transport::Unreachable { quoted, .. } | Transport::TimeExceeded { quoted } => *quoted,
            _ => return None,
        };
        let key = FlowKey {
            proto: q.proto,
            src: q.src,
            dst: q.dst,
            sport: q.sport,
            dport: q.dport,
        };
        let now = self.now;
        let orig = self.nats.get_mut(&name)?.untranslate_quote(key, now)?;
        let mut after = pkt.clone();
        let quoted = super::packet::Quoted {
            proto: orig.proto,
            src: orig.src,
            sport: orig.sport,
            dst: orig.dst,
            dport: orig.dport,
        };
        if pkt.dst != orig.src {
            after.dst = orig.src;
        }
        match &mut after.transport {
            Transport::Unreachable { quoted: qq, .. } | Transport::TimeExceeded { quoted: qq } => {
                *qq = quoted
            }
            _ => {}
        }
        steps.push(self.step(Event::Translate {
            node: name,
            kind: "un-NAT (ICMP error)".into(),
            before: pkt.clone(),
            after: after.clone(),
            rule: None,
        }));
        Some(after)
    }

    fn is_local(&self, node: usize, dst: Ipv4Addr, from: From_) -> bool {
        let n = &self.fabric.nodes[node];
        n.owns(dst) || (dst.is_loopback() && matches!(from, From_::Local | From_::Engine))
    }

    fn drop_(
        &self,
        node: usize,
        packet: Packet,
        cause: DropCause,
        reason: String,
        steps: &mut Vec<Step>,
    ) {
        steps.push(self.step(Event::Drop {
            node: self.fabric.nodes[node].name.clone(),
            packet,
            cause,
            reason,
        }));
    }

    /// A packet whose TTL runs out at `node`: dropped, and answered with ICMP time exceeded.
    fn ttl_exceeded(
        &mut self,
        node: usize,
        ingress: Option<usize>,
        pkt: &Packet,
        steps: &mut Vec<Step>,
    ) {
        self.drop_(
            node,
            pkt.clone(),
            DropCause::TtlExceeded,
            "TTL exceeded in transit".into(),
            steps,
        );
        let quoted = pkt.quote();
        self.icmp_error(
            node,
            ingress,
            pkt,
            Transport::TimeExceeded { quoted },
            steps,
        );
    }

    /// An ICMP error from `node` about `pkt` (never about another ICMP error, RFC 1122).
    fn icmp_error(
        &mut self,
        node: usize,
        ingress: Option<usize>,
        pkt: &Packet,
        transport: Transport,
        steps: &mut Vec<Step>,
    ) {
        if pkt.is_icmp_error() {
            return;
        }
        let n = &self.fabric.nodes[node];
        let src = ingress
            .and_then(|i| n.nics.get(i))
            .and_then(|x| x.addr)
            .map(|a| a.addr())
            .or_else(|| self.source_for(node, pkt.src));
        let Some(src) = src else { return };
        let err = Packet::new(src, pkt.src, transport);
        steps.push(self.step(Event::Send {
            node: n.name.clone(),
            packet: err.clone(),
        }));
        self.travel(node, err, From_::Local, false, steps);
    }

    /// The answer a node gives to a packet delivered to it, if any.
    fn answer(
        &self,
        node: usize,
        pkt: &Packet,
    ) -> Result<Option<Packet>, (DropCause, String, Transport)> {
        let n = &self.fabric.nodes[node];
        if let Some((_, dport)) = pkt.ports() {
            if self.sockets.contains(&(n.name.clone(), pkt.proto(), dport)) && !pkt.is_icmp_error()
            {
                // The answer to a socket this node opened.
                return Ok(None);
            }
        }
        let listens = |proto: Proto, port: u16| {
            n.listen.contains(&(proto, port))
                // A NAT engine's DNS proxy (10.0.x.3) answers DNS.
                || (matches!(n.role, Role::NatEngine { .. }) && proto == Proto::Udp && port == 53)
        };
        let mut reply = match &pkt.transport {
            Transport::EchoRequest { id, seq } => Packet::new(
                pkt.dst,
                pkt.src,
                Transport::EchoReply { id: *id, seq: *seq },
            ),
            Transport::Tcp {
                sport,
                dport,
                flags,
            } if flags.contains(TcpFlags::SYN) && !flags.contains(TcpFlags::ACK) => {
                if listens(Proto::Tcp, *dport) {
                    Packet::tcp(
                        pkt.dst,
                        *dport,
                        pkt.src,
                        *sport,
                        TcpFlags::SYN.with(TcpFlags::ACK),
                    )
                } else {
                    return Err((
                        DropCause::PortClosed,
                        format!("nothing listens on tcp/{dport}: answered with RST"),
                        Transport::Tcp {
                            sport: *dport,
                            dport: *sport,
                            flags: TcpFlags::RST.with(TcpFlags::ACK),
                        },
                    ));
                }
            }
            Transport::Udp { sport, dport } => {
                if listens(Proto::Udp, *dport) {
                    Packet::udp(pkt.dst, *dport, pkt.src, *sport).labelled("reply")
                } else {
                    return Err((
                        DropCause::PortClosed,
                        format!(
                            "nothing listens on udp/{dport}: answered with ICMP port unreachable"
                        ),
                        Transport::Unreachable {
                            why: Unreachable::Port,
                            quoted: pkt.quote(),
                        },
                    ));
                }
            }
            _ => return Ok(None),
        };
        reply.ttl = super::packet::DEFAULT_TTL;
        Ok(Some(reply))
    }

    fn deliver(&mut self, node: usize, pkt: Packet, answer: bool, steps: &mut Vec<Step>) {
        match self.answer(node, &pkt) {
            Ok(reply) => {
                steps.push(self.step(Event::Deliver {
                    node: self.fabric.nodes[node].name.clone(),
                    packet: pkt,
                }));
                if let (true, Some(r)) = (answer, reply) {
                    steps.push(self.step(Event::Send {
                        node: self.fabric.nodes[node].name.clone(),
                        packet: r.clone(),
                    }));
                    self.travel(node, r, From_::Local, false, steps);
                }
            }
            Err((cause, reason, transport)) => {
                self.drop_(node, pkt.clone(), cause, reason, steps);
                if answer {
                    let r = Packet::new(pkt.dst, pkt.src, transport);
                    steps.push(self.step(Event::Send {
                        node: self.fabric.nodes[node].name.clone(),
                        packet: r.clone(),
                    }));
                    self.travel(node, r, From_::Local, false, steps);
                }
            }
        }
    }

    /// Finds `next_hop` on the segment of `node`'s NIC `nic` (ARP) and records the transmission.
    fn l2_next(
        &self,
        node: usize,
        nic: usize,
        next_hop: Ipv4Addr,
        pkt: &Packet,
        steps: &mut Vec<Step>,
    ) -> Option<(usize, usize)> {
        let n = &self.fabric.nodes[node];
        let x = n.nics.get(nic)?;
        let Some(seg) = x.segment else {
            self.drop_(
                node,
                pkt.clone(),
                DropCause::NotAttached,
                format!("{} is not attached (no cable plugged in)", x.name),
                steps,
            );
            return None;
        };
        if x.addr.is_none() {
            self.drop_(
                node,
                pkt.clone(),
                DropCause::NoAddress,
                format!("{} has no IPv4 address", x.name),
                steps,
            );
            return None;
        }
        let found = self.fabric.on_segment(seg).find(|&(m, k)| {
            m != node
                && self.fabric.nodes[m].nics[k]
                    .addr
                    .is_some_and(|a| a.addr() == next_hop)
        });
        match found {
            Some((m, k)) => {
                steps.push(self.step(Event::Transmit {
                    from: n.name.clone(),
                    from_nic: x.name.clone(),
                    to: self.fabric.nodes[m].name.clone(),
                    to_nic: self.fabric.nodes[m].nics[k].name.clone(),
                    segment: self.fabric.segments[seg].name.clone(),
                    packet: pkt.clone(),
                }));
                Some((m, k))
            }
            None => {
                let seg_name = &self.fabric.segments[seg].name;
                self.drop_(
                    node,
                    pkt.clone(),
                    DropCause::NoArp,
                    format!(
                        "no ARP reply for {next_hop} on {seg_name}: nobody has that address there"
                    ),
                    steps,
                );
                None
            }
        }
    }

    /// A packet addressed to the host that belongs to one of its NAT engines: a reply to a
    /// guest's connection, or a port-forwarded connection.
    fn host_to_engine(
        &mut self,
        host: usize,
        pkt: &Packet,
        steps: &mut Vec<Step>,
    ) -> Option<(usize, Packet)> {
        let (sport, dport) = pkt.ports()?;
        let key = FlowKey {
            proto: pkt.proto(),
            src: pkt.src,
            dst: pkt.dst,
            sport,
            dport,
        };
        let engines = self.engines_of(host);
        let now = self.now;
        let tracked = engines.iter().copied().find(|e| {
            self.nats
                .get(&self.fabric.nodes[*e].name)
                .is_some_and(|t| t.tracks(&key, now))
        });
        let chosen = tracked.or_else(|| {
            engines.iter().copied().find(|e| {
                self.nats
                    .get(&self.fabric.nodes[*e].name)
                    .is_some_and(|t| t.would_admit(&key))
            })
        })?;
        // VirtualBox's NAT engines proxy forwarded connections: the guest sees them coming
        // from the gateway address.
        let proxy = self.fabric.nodes[chosen].nics[0].addr.map(|a| a.addr());
        let guest = match &self.fabric.nodes[chosen].role {
            Role::NatEngine { vm: Some(_), .. } => self.engine_guest(chosen),
            _ => None,
        };
        self.nat_step(chosen, pkt, steps, |t, k, f, now| {
            t.inbound_as(k, f, guest, proxy, now)
        })
        .ok()
        .map(|p| (chosen, p))
    }
}

fn nic_spec(name: &str, mode: Mode) -> NicSpec {
    NicSpec {
        name: name.to_string(),
        attach: Attach::Vbox(mode),
        addr: None,
        gateway: None,
        dhcp: None,
    }
}

/// Removes `rules` from where they live in `t`.
fn drop_rules(t: &mut Topology, rules: &[(RuleTarget, PortForward)]) {
    for (target, rule) in rules {
        let list = match target {
            RuleTarget::VmNic { vm, nic } => t
                .nodes
                .iter_mut()
                .filter(|n| &n.name == vm)
                .flat_map(|n| n.nics.iter_mut())
                .find(|x| &x.name == nic)
                .and_then(|x| match &mut x.attach {
                    Attach::Vbox(Mode::Nat { forwards }) => Some(forwards),
                    _ => None,
                }),
            RuleTarget::NatNetwork { name } => t
                .nat_networks
                .iter_mut()
                .find(|n| &n.name == name)
                .map(|n| &mut n.forwards),
            RuleTarget::Router { name } => t
                .nodes
                .iter_mut()
                .find(|n| &n.name == name)
                .and_then(|n| n.nat.as_mut())
                .map(|n| &mut n.forwards),
        };
        if let Some(list) = list {
            list.retain(|r| r.name != rule.name);
        }
    }
}

impl Removal {
    /// The removal as text for a trace line: `" with eth0 (NAT), rule ssh on vm1 eth0"`.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .nics
            .iter()
            .map(|(n, m)| format!("{n} ({m})"))
            .collect();
        parts.extend(
            self.rules
                .iter()
                .map(|(t, r)| format!("rule {} on {t}", r.name)),
        );
        if parts.is_empty() {
            String::new()
        } else {
            format!(" with {}", parts.join(", "))
        }
    }
}

impl std::fmt::Display for RuleTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleTarget::VmNic { vm, nic } => write!(f, "{vm} {nic}"),
            RuleTarget::NatNetwork { name } => write!(f, "NAT Network {name}"),
            RuleTarget::Router { name } => write!(f, "router {name}"),
        }
    }
}
