//! Design edits on a running network ([`Network::apply`] dispatches here): each changes a
//! copy of the topology, wires it again and says what changed, keeping the leases that still
//! hold.

use ipnet::Ipv4Net;

use super::{drop_rules, nic_spec, ActionError, Network, Removal, RuleTarget, MAX_ADAPTERS};
use crate::net::forward::PortForward;
use crate::net::nat::NatConfig;
use crate::net::topology::{
    check_name, Attach, NameError, NatId, NatNetworkSpec, NodeKind, NodeSpec, Topology,
};
use crate::net::trace::{Event, Step};
use crate::net::vbox::Mode;
use crate::net::wiring;

impl Network {
    /// Re-attaches a NIC in another mode; its new lease is a step.
    pub(super) fn set_mode(
        &mut self,
        vm: &str,
        nic: &str,
        mode: &Mode,
    ) -> Result<Vec<Step>, ActionError> {
        let mut t = self.topology.clone();
        let node = t
            .nodes
            .iter_mut()
            .find(|n| n.name == vm)
            .ok_or_else(|| ActionError::UnknownNode(vm.to_string()))?;
        let spec = node
            .nics
            .iter_mut()
            .find(|n| n.name == nic)
            .ok_or_else(|| ActionError::UnknownNic {
                node: vm.to_string(),
                nic: nic.to_string(),
            })?;
        let before = match &spec.attach {
            Attach::Vbox(m) => m.to_string(),
            Attach::Segment(s) => format!("segment {s}"),
        };
        // A static address is the guest's own configuration: it stays, as it would
        // in the guest when the cable moves. Leased addresses are leased again.
        spec.attach = Attach::Vbox(mode.clone());
        let leases_before = self.fabric.leases.clone();
        self.rewire(t)?;
        let mut steps = vec![self.step(Event::Config {
            node: vm.to_string(),
            change: format!("{nic}: attachment {before} -> {mode}"),
        })];
        steps.extend(self.lease_steps().into_iter().filter(|s| {
            match &s.event {
                Event::Lease {
                    node, nic: n, addr, ..
                } => !leases_before
                    .iter()
                    .any(|l| &l.node == node && &l.nic == n && &l.addr == addr),
                _ => false,
            }
        }));
        Ok(steps)
    }

    /// A new VM with one NIC on NAT, as VirtualBox creates it.
    pub(super) fn add_vm(&mut self, name: &str, host: &str) -> Result<Vec<Step>, ActionError> {
        check_name(name).map_err(ActionError::Name)?;
        if self.topology.node(name).is_some() {
            return Err(ActionError::Name(NameError::Taken(name.to_string())));
        }
        let mut t = self.topology.clone();
        t.nodes.push(NodeSpec {
            name: name.to_string(),
            kind: NodeKind::Vm,
            host: Some(host.to_string()),
            nics: vec![nic_spec(
                "eth0",
                Mode::Nat {
                    forwards: Vec::new(),
                },
            )],
            routes: Vec::new(),
            nat: None,
            listen: vec![(crate::net::packet::Proto::Tcp, 22)],
        });
        self.rewire_with_leases(t, name, format!("created on {host}, eth0 on NAT"))
    }

    /// Deletes a VM with its NICs and the forwarding rules that pointed at them.
    pub(super) fn remove_vm(&mut self, name: &str) -> Result<Vec<Step>, ActionError> {
        let removal = self.removal(name, None)?;
        let mut t = self.topology.clone();
        t.nodes.retain(|n| n.name != name);
        drop_rules(&mut t, &removal.rules);
        self.rewire(t)?;
        Ok(vec![self.step(Event::Config {
            node: name.to_string(),
            change: format!("deleted{}", removal.summary()),
        })])
    }

    /// Renames a VM; its leases follow it (DHCP knows it by MAC).
    pub(super) fn rename_vm(&mut self, from: &str, to: &str) -> Result<Vec<Step>, ActionError> {
        check_name(to).map_err(ActionError::Name)?;
        self.vm(from)?;
        if self.topology.node(to).is_some() {
            return Err(ActionError::Name(NameError::Taken(to.to_string())));
        }
        let mut t = self.topology.clone();
        for n in &mut t.nodes {
            if n.name == from {
                n.name = to.to_string();
            }
        }
        // The DHCP servers know the VM by its MAC address, which a rename keeps.
        let mut leases = self.fabric.leases.clone();
        for l in leases.iter_mut().filter(|l| l.node == from) {
            l.node = to.to_string();
        }
        self.rewire_keeping(t, &leases)?;
        Ok(vec![self.step(Event::Config {
            node: to.to_string(),
            change: format!("renamed from {from}"),
        })])
    }

    /// Moves a VM to another host.
    pub(super) fn set_host(&mut self, vm: &str, host: &str) -> Result<Vec<Step>, ActionError> {
        self.vm(vm)?;
        let mut t = self.topology.clone();
        if let Some(n) = t.nodes.iter_mut().find(|n| n.name == vm) {
            n.host = Some(host.to_string());
        }
        self.rewire_with_leases(t, vm, format!("now runs on {host}"))
    }

    /// Adds the VM's next free `ethN` in `mode`.
    pub(super) fn add_nic(&mut self, vm: &str, mode: &Mode) -> Result<Vec<Step>, ActionError> {
        let spec = self.vm(vm)?;
        if spec.nics.len() >= MAX_ADAPTERS {
            return Err(ActionError::TooManyNics(vm.to_string()));
        }
        let name = (0..)
            .map(|i| format!("eth{i}"))
            .find(|n| spec.nics.iter().all(|x| &x.name != n))
            .unwrap_or_default();
        let mut t = self.topology.clone();
        if let Some(n) = t.nodes.iter_mut().find(|n| n.name == vm) {
            n.nics.push(nic_spec(&name, mode.clone()));
        }
        self.rewire_with_leases(t, vm, format!("new NIC {name} attached to {mode}"))
    }

    /// Removes a NIC and the forwarding rules that pointed at it.
    pub(super) fn remove_nic(&mut self, vm: &str, nic: &str) -> Result<Vec<Step>, ActionError> {
        let removal = self.removal(vm, Some(nic))?;
        let mut t = self.topology.clone();
        if let Some(n) = t.nodes.iter_mut().find(|n| n.name == vm) {
            n.nics.retain(|x| x.name != nic);
        }
        drop_rules(&mut t, &removal.rules);
        self.rewire(t)?;
        Ok(vec![self.step(Event::Config {
            node: vm.to_string(),
            change: format!("NIC {nic} removed{}", removal.summary()),
        })])
    }

    /// Declares a NAT Network on a host.
    pub(super) fn add_nat_network(
        &mut self,
        name: &str,
        cidr: &Ipv4Net,
        host: &str,
    ) -> Result<Vec<Step>, ActionError> {
        check_name(name).map_err(ActionError::Name)?;
        if self.topology.nat_networks.iter().any(|n| n.name == name) {
            return Err(ActionError::Name(NameError::Taken(name.to_string())));
        }
        if cidr.prefix_len() > 29 {
            return Err(ActionError::TooSmall(*cidr));
        }
        let mut t = self.topology.clone();
        t.nat_networks.push(NatNetworkSpec {
            name: name.to_string(),
            cidr: cidr.trunc(),
            host: host.to_string(),
            forwards: Vec::new(),
            config: NatConfig::default(),
        });
        self.rewire(t)?;
        Ok(vec![self.step(Event::Config {
            node: NatId::nat_network(name).to_string(),
            change: format!("NAT Network {name} {} created on {host}", cidr.trunc()),
        })])
    }

    /// Gives a NIC a static address, or hands it back to DHCP.
    pub(super) fn set_address(
        &mut self,
        vm: &str,
        nic: &str,
        addr: &Option<Ipv4Net>,
    ) -> Result<Vec<Step>, ActionError> {
        let spec = self.vm(vm)?;
        if !spec.nics.iter().any(|x| x.name == nic) {
            return Err(ActionError::UnknownNic {
                node: vm.to_string(),
                nic: nic.to_string(),
            });
        }
        let mut t = self.topology.clone();
        if let Some(x) = t
            .nodes
            .iter_mut()
            .find(|n| n.name == vm)
            .and_then(|n| n.nics.iter_mut().find(|x| x.name == nic))
        {
            x.addr = *addr;
        }
        let change = match addr {
            Some(a) => format!("{nic}: static address {a}"),
            None => format!("{nic}: address from DHCP"),
        };
        self.rewire_with_leases(t, vm, change)
    }
}

impl Network {
    /// The VM named `name`, or why there is none.
    pub(super) fn vm(&self, name: &str) -> Result<&NodeSpec, ActionError> {
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
    pub(super) fn rewire_with_leases(
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

    pub(super) fn rewire(&mut self, t: Topology) -> Result<(), ActionError> {
        let leases = self.fabric.leases.clone();
        self.rewire_keeping(t, &leases)
    }

    /// Rewires to `t`; guests keep the `leases` that still hold on their networks.
    pub(super) fn rewire_keeping(
        &mut self,
        t: Topology,
        leases: &[crate::net::topology::Lease],
    ) -> Result<(), ActionError> {
        let fabric = wiring::rewire(&t, leases).map_err(ActionError::Invalid)?;
        self.topology = t;
        self.fabric = fabric;
        let old = std::mem::take(&mut self.nats);
        self.sync_nats(old);
        Ok(())
    }

    pub(super) fn edit_rules(
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
}
