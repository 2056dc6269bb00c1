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
//!
//! Where each part lives: this module holds the network, its actions and sending; `edit` the
//! design edits; `path` a packet's journey hop by hop; `nat` the NAT tables (kept across
//! rewiring, asked at every NAT crossing, and their trace lines); `icmp` what a node answers or
//! drops; `probe` the probes the labs send; `record` the NAT tables as each step left them
//! ([`Network::apply_recorded`]), for front ends that show a trace step by step.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::clock::{Duration, Instant};
use super::conntrack::Entry;
use super::forward::PortForward;
use super::nat::NatTable;
use super::packet::{Packet, Proto, TcpFlags, Transport};
use super::topology::{Attach, Fabric, NicSpec, Problem, Topology};
use super::trace::{CtChange, DropCause, Event, Step};
use super::vbox::Mode;
use super::wiring;

mod edit;
mod error;
mod icmp;
mod nat;
mod path;
mod probe;
mod record;
pub use error::ActionError;
pub use record::{touched_entry, Recorded, Tables, TablesFrom};

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
        /// Its name (see [`check_name`](crate::net::topology::check_name)).
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
        /// Its new name (see [`check_name`](crate::net::topology::check_name)).
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
        /// Its name (see [`check_name`](crate::net::topology::check_name)).
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
    /// The tables after each change while [`Network::apply_recorded`] runs.
    #[serde(skip)]
    journal: Option<Vec<TablesFrom>>,
    /// Virtual time each hop takes (see [`Network::set_hop_delay`]).
    #[serde(default)]
    hop_delay: Duration,
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
            journal: None,
            hop_delay: Duration(0),
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

    /// Lets every hop of a journey take `d` of virtual time. By default a journey takes no
    /// time (the command line's traces and the lessons count only `advance`); the browser lab
    /// sets 1 ms so the trace's timestamps show the order of events along the way. Timeouts
    /// then run from the moment each packet crosses its NAT, as on a real host.
    pub fn set_hop_delay(&mut self, d: Duration) {
        self.hop_delay = d;
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
        if !expired.is_empty() {
            self.note_tables(steps.len());
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
