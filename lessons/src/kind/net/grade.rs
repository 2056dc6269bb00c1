//! Grading the network kinds by simulation in `core::net`: the exercise's topology and the
//! learner's changes become a network-engine topology, and each goal is a real connection
//! sent through it. Whether it arrives decides pass or fail; where and why it stopped (the
//! engine's trace) decides the mistake.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::nat::NatConfig;
use labvisor_core::net::packet::Proto;
use labvisor_core::net::sim::{Network, SendSpec};
use labvisor_core::net::topology::{
    Attach, NatNetworkSpec, NicSpec, NodeKind, NodeSpec, RouterNat, Topology,
};
use labvisor_core::net::trace::{DropCause, Event, Step};
use labvisor_core::net::vbox::Mode;

use crate::action::{mode_name, Action, ForwardStep, LESSON_NAT_NETWORK};
use crate::kind::common::Judgement;
use crate::model::{Goal, NetworkSpec};

/// The host's address when the exercise does not give one (documentation range, RFC 5737).
const DEFAULT_HOST_IP: &str = "203.0.113.20";
/// The internet machine every virtualbox topology includes, on the host's segment.
const INTERNET_NODE: &str = "internet";
/// `a.b.c.d` → `a.b.c.n`.
fn host_in_24(addr: Ipv4Addr, n: u8) -> Ipv4Addr {
    let [a, b, c, _] = addr.octets();
    Ipv4Addr::new(a, b, c, n)
}

/// Builds the engine's network from a topology; problems become the trace.
fn build(topology: Topology) -> Result<Network, Vec<String>> {
    Network::new(topology).map_err(|problems| problems.iter().map(|p| format!("{p:?}")).collect())
}

/// A NIC plugged into a named segment with a static address.
fn segment_nic(name: &str, segment: &str, ip: Ipv4Addr, gateway: Option<Ipv4Addr>) -> NicSpec {
    NicSpec {
        name: name.into(),
        attach: Attach::Segment(segment.into()),
        addr: Ipv4Net::new(ip, 24).ok(),
        gateway,
        dhcp: None,
    }
}

/// A node with no routes, NAT or services of its own.
fn node(name: &str, kind: NodeKind, nics: Vec<NicSpec>) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        kind,
        host: None,
        nics,
        routes: Vec::new(),
        nat: None,
        listen: Vec::new(),
    }
}

/// `tcp/22` → (TCP, 22).
fn parse_service(text: &str) -> Result<(Proto, u16), Vec<String>> {
    let invalid = || {
        vec![format!(
            "invalid service {text:?}: expected proto/port, like \"tcp/22\""
        )]
    };
    let (proto, port) = text.split_once('/').ok_or_else(invalid)?;
    Ok((
        proto.parse().map_err(|_| invalid())?,
        port.parse().map_err(|_| invalid())?,
    ))
}

fn parse_ip(text: &str) -> Result<Ipv4Addr, Vec<String>> {
    text.parse()
        .map_err(|_| vec![format!("{text:?} is not an IPv4 address")])
}

/// Every step of a send, as the engine prints it.
fn render(steps: &[Step], trace: &mut Vec<String>) {
    for step in steps {
        trace.push(format!("  {}", step.event));
    }
}

// --- nat-source ------------------------------------------------------------------------------

/// A nat-source exercise's network in the engine: the PCs on a LAN behind a NAT router whose
/// outside address is `public`, an ISP router, each server on its own segment beyond it; with
/// the address of the server the packet goes to and the router's LAN address.
fn home_router(
    net: &NetworkSpec,
    send: &crate::model::Send,
    public: &str,
) -> Result<(Network, Ipv4Addr, Ipv4Addr), Vec<String>> {
    let public = parse_ip(public)?;
    let mut topology = Topology::default();
    let mut lan_router = None;
    for pc in &net.pcs {
        let ip = parse_ip(&pc.ip)?;
        let gw = host_in_24(ip, 1);
        lan_router.get_or_insert(gw);
        let nic = segment_nic("eth0", "lan", ip, Some(gw));
        topology
            .nodes
            .push(node(&pc.name, NodeKind::Host, vec![nic]));
    }
    let lan_router = lan_router.ok_or_else(|| vec!["no PC on the LAN".to_string()])?;
    let isp = host_in_24(public, if public.octets()[3] == 1 { 254 } else { 1 });
    let mut router = node(
        "router",
        NodeKind::Router,
        vec![
            segment_nic("lan", "lan", lan_router, None),
            segment_nic("wan", "isp", public, Some(isp)),
        ],
    );
    router.nat = Some(RouterNat {
        outside: "wan".into(),
        config: NatConfig::default(),
        forwards: Vec::new(),
    });
    topology.nodes.push(router);
    let mut isp_nics = vec![segment_nic("cust", "isp", isp, None)];
    let mut server_ip = None;
    for (i, server) in net.servers.iter().enumerate() {
        let ip = parse_ip(&server.ip)?;
        let gw = host_in_24(ip, if ip.octets()[3] == 1 { 254 } else { 1 });
        let segment = format!("inet{i}");
        isp_nics.push(segment_nic(&format!("core{i}"), &segment, gw, None));
        let mut machine = node(
            &server.name,
            NodeKind::Server,
            vec![segment_nic("eth0", &segment, ip, Some(gw))],
        );
        if send.to == server.name {
            server_ip = Some(ip);
            machine.listen.push((send.proto, send.dport));
        }
        topology.nodes.push(machine);
    }
    topology.nodes.push(node("isp", NodeKind::Router, isp_nics));
    let server_ip =
        server_ip.ok_or_else(|| vec![format!("`send.to` = {:?} is not a server", send.to)])?;
    Ok((build(topology)?, server_ip, lan_router))
}

/// What does the server see as the source of the exercise's packet?
pub(in crate::kind) fn nat_source(
    net: &NetworkSpec,
    answer: Option<String>,
    mut trace: Vec<String>,
) -> Judgement {
    let (Some(send), Some(public)) = (&net.send, &net.router_public_ip) else {
        return Judgement::fail(
            "invalid-exercise",
            vec!["no packet or no router address".into()],
        );
    };
    let built = home_router(net, send, public);
    let (mut network, server_ip, lan_router) = match built {
        Ok(b) => b,
        Err(problems) => return Judgement::fail("invalid-exercise", problems),
    };
    let mut spec = SendSpec::new(&send.from, server_ip, send.proto, send.dport);
    spec.sport = send.sport;
    let steps = match network.send(&spec) {
        Ok(steps) => steps,
        Err(e) => return Judgement::fail("invalid-exercise", vec![e.to_string()]),
    };
    trace.push(format!(
        "core net: {} sends to {server_ip}:{}",
        send.from, send.dport
    ));
    render(&steps, &mut trace);
    let seen = steps.iter().find_map(|s| match &s.event {
        Event::Deliver { node, packet } if *node == send.to => {
            Some((packet.src, packet.ports().map_or(0, |(sport, _)| sport)))
        }
        _ => None,
    });
    let Some((seen_ip, seen_port)) = seen else {
        trace.push("the packet never reached the server".into());
        return Judgement::fail("invalid-exercise", trace);
    };
    let Some(given) = answer else {
        return Judgement::fail("no-answer", trace);
    };
    let (ip_text, port_text) = match given.trim().rsplit_once(':') {
        Some((ip, port)) => (ip.trim(), Some(port.trim())),
        None => (given.trim(), None),
    };
    let pc_ip = net
        .pcs
        .iter()
        .find(|p| p.name == send.from)
        .map(|p| p.ip.as_str());
    let Ok(ip) = ip_text.parse::<Ipv4Addr>() else {
        trace.push(format!("{given:?} is not an address"));
        return Judgement::fail(format!("answer:{}", given.trim()), trace);
    };
    if ip != seen_ip {
        trace.push(format!("{ip} is not the source the server saw"));
        let mistake = if Some(ip_text) == pc_ip {
            "not-translated".to_string()
        } else if ip == lan_router {
            "router-inside-address".to_string()
        } else {
            format!("answer:{}", given.trim())
        };
        return Judgement::fail(mistake, trace);
    }
    if let Some(port) = port_text {
        if port.parse::<u16>() != Ok(seen_port) {
            trace.push(format!(
                "the address is right; port {port} is not the one the server saw"
            ));
            return Judgement::fail("wrong-port", trace);
        }
    }
    trace.push(format!("{given:?} is what {} saw: correct", send.to));
    Judgement::pass(trace)
}

// --- virtualbox topologies -------------------------------------------------------------------

/// The learner's topology after their steps: NIC modes and forwarding rules.
struct Lab {
    vms: Vec<(String, Vec<Mode>, Vec<String>)>,
    rules: Vec<ForwardStep>,
}

impl Lab {
    /// The NICs of `vm`, named by step `step`.
    fn nics_of(&mut self, vm: &str, step: usize) -> Result<&mut Vec<Mode>, String> {
        self.vms
            .iter_mut()
            .find(|v| v.0 == vm)
            .map(|v| &mut v.1)
            .ok_or(format!("step {step}: no VM {vm:?}"))
    }

    fn uses_nat_network(&self) -> bool {
        self.vms
            .iter()
            .any(|v| v.1.iter().any(|m| matches!(m, Mode::NatNetwork(_))))
    }

    /// Whether `rule` lives on the NAT Network rather than on a VM's NAT adapter: a rule that
    /// names no VM does, when a VM is on the NAT Network.
    fn on_nat_network(&self, rule: &ForwardStep) -> bool {
        rule.vm.is_none() && self.uses_nat_network()
    }

    /// `rule` in the syntax of where it lands, as VBoxManage takes it there: on a NAT Network
    /// `name:tcp:[host-ip]:port:[guest-ip]:port`, on a VM's NAT (`modifyvm --natpf1`)
    /// `name,tcp,host-ip,port,guest-ip,port`, where the guest address may stay empty.
    fn rule_text(&self, step: &ForwardStep) -> String {
        let rule = &step.rule;
        let (name, proto, host_port, guest_port) =
            (&rule.name, rule.proto, rule.host_port, rule.guest_port);
        let address = |a: Option<Ipv4Addr>| a.map(|a| a.to_string()).unwrap_or_default();
        let (host_ip, guest_ip) = (address(rule.host_ip), address(rule.guest_ip));
        if self.on_nat_network(step) {
            format!("{name}:{proto}:[{host_ip}]:{host_port}:[{guest_ip}]:{guest_port}")
        } else {
            format!("{name},{proto},{host_ip},{host_port},{guest_ip},{guest_port}")
        }
    }
}

fn apply(net: &NetworkSpec, actions: &[Action], trace: &mut Vec<String>) -> Result<Lab, String> {
    let mut lab = Lab {
        vms: net
            .vms
            .iter()
            .map(|v| (v.name.clone(), v.nics.clone(), v.listens.clone()))
            .collect(),
        rules: Vec::new(),
    };
    for (i, action) in actions.iter().enumerate() {
        let step = i + 1;
        match action {
            Action::SetMode { vm, nic, mode } => {
                let nics = lab.nics_of(vm, step)?;
                let slot = nics
                    .get_mut(usize::from(*nic).wrapping_sub(1))
                    .ok_or(format!("step {step}: {vm} has no NIC {nic}"))?;
                *slot = mode.clone();
                trace.push(format!("step {step}: {vm} NIC {nic} → {}", mode_name(mode)));
            }
            Action::AddNic { vm, mode } => {
                let nics = lab.nics_of(vm, step)?;
                nics.push(mode.clone());
                trace.push(format!(
                    "step {step}: {vm} gets NIC {} on {}",
                    nics.len(),
                    mode_name(mode)
                ));
            }
            Action::AddForward(rule) => {
                let text = lab.rule_text(rule);
                trace.push(match (&rule.vm, lab.on_nat_network(rule)) {
                    (_, true) => format!("step {step}: forward {text} (NAT Network)"),
                    (Some(vm), false) => format!("step {step}: forward {text} on {vm}'s NAT"),
                    (None, false) => format!("step {step}: forward {text} (NAT)"),
                });
                lab.rules.push(rule.clone());
            }
            Action::RemoveForward { name } => {
                trace.push(format!("step {step}: remove forward {name:?}"));
                lab.rules.retain(|r| &r.rule.name != name);
            }
            other => trace.push(format!("step {step}: `{}` ignored", other.name())),
        }
    }
    Ok(lab)
}

/// The engine topology of a virtualbox exercise after the learner's steps: the host, an
/// internet machine on the host's segment, the VMs and, when a NIC uses it, the NAT Network.
fn virtualbox_topology(
    net: &NetworkSpec,
    lab: &Lab,
) -> Result<(Topology, Ipv4Addr, Ipv4Addr), Vec<String>> {
    let host_ip = parse_ip(net.host_ip.as_deref().unwrap_or(DEFAULT_HOST_IP))?;
    let internet_ip = host_in_24(host_ip, if host_ip.octets()[3] == 99 { 98 } else { 99 });
    let mut topology = Topology::default();
    topology.nodes.push(node(
        "host",
        NodeKind::Host,
        vec![segment_nic("eth0", "wan", host_ip, Some(internet_ip))],
    ));
    let mut internet = node(
        INTERNET_NODE,
        NodeKind::Server,
        vec![segment_nic("eth0", "wan", internet_ip, None)],
    );
    internet.listen = vec![
        (Proto::Tcp, 22),
        (Proto::Tcp, 80),
        (Proto::Tcp, 443),
        (Proto::Udp, 53),
    ];
    topology.nodes.push(internet);
    let uses_nat_network = lab.uses_nat_network();
    let nat_vms: Vec<&str> = lab
        .vms
        .iter()
        .filter(|v| v.1.iter().any(|m| matches!(m, Mode::Nat { .. })))
        .map(|v| v.0.as_str())
        .collect();
    // Where each rule goes: the NAT adapter of the VM it names; else the NAT Network when a VM
    // is on one; else the NAT adapter of the one VM on NAT (VirtualBox keeps NAT-mode rules per
    // VM: `VBoxManage modifyvm VM --natpf1`).
    let mut on_vm: BTreeMap<&str, Vec<PortForward>> = BTreeMap::new();
    let mut on_nat_network = Vec::new();
    for rule in &lab.rules {
        let forward = rule.rule.clone();
        let vm = match (&rule.vm, nat_vms.as_slice()) {
            _ if lab.on_nat_network(rule) => {
                on_nat_network.push(forward);
                continue;
            }
            (Some(vm), _) if nat_vms.contains(&vm.as_str()) => vm.as_str(),
            (Some(vm), _) => {
                return Err(vec![format!(
                    "rule {:?} is for {vm}, which has no NIC on NAT to hold it",
                    rule.rule.name
                )])
            }
            (None, [only]) => only,
            (None, []) => {
                return Err(vec![format!(
                    "rule {:?} needs a VM on NAT or a NAT Network to live on; no NIC is on either",
                    rule.rule.name
                )])
            }
            (None, several) => {
                return Err(vec![format!(
                    "rule {:?} does not say which VM's NAT adapter holds it, and {} are on NAT",
                    rule.rule.name,
                    several.join(", ")
                )])
            }
        };
        on_vm.entry(vm).or_default().push(forward);
    }
    for (name, modes, listens) in &lab.vms {
        let mut rules_here = on_vm.remove(name.as_str());
        let nics = modes
            .iter()
            .enumerate()
            .map(|(i, mode)| NicSpec {
                name: format!("eth{i}"),
                attach: Attach::Vbox(match mode {
                    // The first NAT adapter takes the rules, as `--natpf1` does.
                    Mode::Nat { .. } => Mode::Nat {
                        forwards: rules_here.take().unwrap_or_default(),
                    },
                    other => other.clone(),
                }),
                addr: None,
                gateway: None,
                dhcp: None,
            })
            .collect();
        let mut vm = node(name, NodeKind::Vm, nics);
        vm.host = Some("host".into());
        vm.listen = listens
            .iter()
            .map(|l| parse_service(l))
            .collect::<Result<_, _>>()?;
        topology.nodes.push(vm);
    }
    if uses_nat_network {
        topology.nat_networks.push(NatNetworkSpec {
            name: LESSON_NAT_NETWORK.into(),
            cidr: "10.0.2.0/24".parse().expect("a valid network"),
            host: "host".into(),
            forwards: on_nat_network,
            config: NatConfig::default(),
        });
    }
    Ok((topology, host_ip, internet_ip))
}

/// The addresses each node got, from the engine's DHCP leases and the static plan.
fn addresses(
    network: &Network,
    host_ip: Ipv4Addr,
    internet_ip: Ipv4Addr,
) -> BTreeMap<String, Vec<Ipv4Addr>> {
    let mut map: BTreeMap<String, Vec<Ipv4Addr>> = BTreeMap::new();
    map.entry("host".into()).or_default().push(host_ip);
    map.entry(INTERNET_NODE.into())
        .or_default()
        .push(internet_ip);
    for step in network.lease_steps() {
        if let Event::Lease { node, addr, .. } = step.event {
            map.entry(node).or_default().push(addr.addr());
        }
    }
    map
}

/// How one goal's connection went.
enum Outcome {
    /// Arrived and answered.
    Reached,
    /// Arrived at `node`, which answered with a reset (nothing listening on the port).
    PortClosed { node: String },
    /// Arrived at the wrong machine.
    WrongNode { node: String },
    /// Stopped on the way.
    Stopped,
}

fn send_goal(
    network: &Network,
    goal: &Goal,
    dst: Ipv4Addr,
    dport: u16,
    trace: &mut Vec<String>,
) -> Outcome {
    let mut copy = network.clone();
    let mut spec = SendSpec::new(&goal.from, dst, goal.proto, dport);
    spec.sport = 49152;
    let steps = match copy.send(&spec) {
        Ok(steps) => steps,
        Err(e) => {
            trace.push(format!("  cannot send: {e}"));
            return Outcome::Stopped;
        }
    };
    render(&steps, trace);
    let mut arrived_at: Option<(String, bool)> = None;
    for step in &steps {
        match &step.event {
            Event::Deliver { node, .. } if arrived_at.is_none() && *node != goal.from => {
                arrived_at = Some((node.clone(), false));
            }
            Event::Drop {
                node,
                cause: DropCause::PortClosed,
                ..
            } if arrived_at.is_none() => arrived_at = Some((node.clone(), true)),
            Event::Deliver { node, .. } if *node == goal.from && arrived_at.is_some() => {
                if let Some((at, closed)) = &arrived_at {
                    if at == &goal.to && !closed {
                        return Outcome::Reached;
                    }
                }
            }
            _ => {}
        }
    }
    match arrived_at {
        Some((node, _)) if node != goal.to => Outcome::WrongNode { node },
        Some((node, true)) => Outcome::PortClosed { node },
        // Arrived at the right node but the answer did not come back.
        Some((_, false)) => Outcome::Stopped,
        None => Outcome::Stopped,
    }
}

/// The first goal that was not reached, how its connection went, and the learner's rules.
struct Failure<'g> {
    goal: &'g Goal,
    outcome: Outcome,
    rules: Vec<PortForward>,
}

/// Runs every goal; returns the first failing one.
fn run_goals<'g>(
    net: &NetworkSpec,
    goals: &'g [Goal],
    actions: &[Action],
    trace: &mut Vec<String>,
) -> Result<Option<Failure<'g>>, String> {
    let lab = apply(net, actions, trace)?;
    let (topology, host_ip, internet_ip) =
        virtualbox_topology(net, &lab).map_err(|p| p.join("; "))?;
    let network = build(topology)
        .map_err(|p| format!("the engine rejects this network: {}", p.join("; ")))?;
    let addrs = addresses(&network, host_ip, internet_ip);
    for (n, goal) in goals.iter().enumerate() {
        let port = goal.port.unwrap_or(0);
        let targets: Vec<(Ipv4Addr, u16)> = match &goal.dial {
            Some(dial) => {
                let (node, p) = dial.split_once(':').unwrap_or((dial, "0"));
                let dport = p.parse().unwrap_or(0);
                match node.parse::<Ipv4Addr>() {
                    Ok(address) => vec![(address, dport)],
                    Err(_) => addrs
                        .get(node)
                        .into_iter()
                        .flatten()
                        .map(|a| (*a, dport))
                        .collect(),
                }
            }
            None => addrs
                .get(&goal.to)
                .into_iter()
                .flatten()
                .map(|a| (*a, port))
                .collect(),
        };
        let label = format!(
            "goal {}: {} → {}{} {}{}",
            n + 1,
            goal.from,
            goal.dial
                .as_ref()
                .map(|d| format!("{d} → "))
                .unwrap_or_default(),
            goal.to,
            goal.proto,
            goal.port.map(|p| format!("/{p}")).unwrap_or_default()
        );
        if targets.is_empty() {
            trace.push(format!("{label}: {} has no address", goal.to));
            return Ok(Some(Failure {
                goal,
                outcome: Outcome::Stopped,
                rules: lab.rules.into_iter().map(|step| step.rule).collect(),
            }));
        }
        let mut last = Outcome::Stopped;
        let mut reached = false;
        for (dst, dport) in targets {
            trace.push(format!("{label}: connect to {dst}:{dport}"));
            last = send_goal(&network, goal, dst, dport, trace);
            if matches!(last, Outcome::Reached) {
                reached = true;
                break;
            }
        }
        if !reached {
            trace.push(format!("{label}: not reached"));
            return Ok(Some(Failure {
                goal,
                outcome: last,
                rules: lab.rules.into_iter().map(|step| step.rule).collect(),
            }));
        }
        trace.push(format!("{label}: reached"));
    }
    Ok(None)
}

/// Attach NICs so every goal is reachable.
pub(in crate::kind) fn net_mode(
    net: &NetworkSpec,
    goals: &[Goal],
    actions: &[Action],
) -> Judgement {
    let mut trace = Vec::new();
    match first_failure(net, goals, actions, &mut trace) {
        Err(judgement) => judgement,
        Ok(Failure { goal, .. }) => {
            let is_vm = |n: &str| net.vms.iter().any(|v| v.name == n);
            let mistake = if is_vm(&goal.from) && is_vm(&goal.to) {
                "vms-isolated"
            } else if goal.to == INTERNET_NODE {
                "no-internet"
            } else if goal.from == "host" {
                "host-cannot-reach"
            } else {
                "internet-cannot-reach"
            };
            Judgement::fail(mistake, trace)
        }
    }
}

/// The first goal not reached; when every goal is, or the attempt cannot run, the judgement.
fn first_failure<'g>(
    net: &NetworkSpec,
    goals: &'g [Goal],
    actions: &[Action],
    trace: &mut Vec<String>,
) -> Result<Failure<'g>, Judgement> {
    match run_goals(net, goals, actions, trace) {
        Err(e) => {
            trace.push(e);
            Err(Judgement::fail("invalid-attempt", std::mem::take(trace)))
        }
        Ok(None) => {
            trace.push("every goal reached: correct".into());
            Err(Judgement::pass(std::mem::take(trace)))
        }
        Ok(Some(failure)) => Ok(failure),
    }
}

/// Add forwarding rules so every goal is reachable.
pub(in crate::kind) fn port_forward(
    net: &NetworkSpec,
    goals: &[Goal],
    actions: &[Action],
) -> Judgement {
    let mut trace = Vec::new();
    let actions = match rules_from_answers(actions, &mut trace) {
        Ok(actions) => actions,
        Err(judgement) => return judgement,
    };
    let actions = actions.as_slice();
    let mut rules: Vec<&PortForward> = Vec::new();
    for action in actions {
        if let Action::RemoveForward { name } = action {
            rules.retain(|r| &r.name != name);
        }
        if let Action::AddForward(ForwardStep { rule, .. }) = action {
            if let Some(other) = rules
                .iter()
                .find(|r| r.host_port == rule.host_port && r.proto == rule.proto)
            {
                trace.push(format!(
                    "rules {:?} and {:?} both claim {}/{} on the host",
                    other.name, rule.name, rule.host_port, rule.proto
                ));
                return Judgement::fail("rule-conflict", trace);
            }
            rules.push(rule);
        }
    }
    match first_failure(net, goals, actions, &mut trace) {
        Err(judgement) => judgement,
        Ok(Failure {
            goal,
            outcome,
            rules,
        }) => {
            let dialed: Option<u16> = goal
                .dial
                .as_ref()
                .and_then(|d| d.split_once(':'))
                .and_then(|(_, p)| p.parse().ok());
            // A loopback address is the dialling machine itself.
            let dial_node = goal
                .dial
                .as_ref()
                .and_then(|d| d.split_once(':'))
                .map(|(n, _)| match n.parse::<Ipv4Addr>() {
                    Ok(address) if address.is_loopback() => goal.from.as_str(),
                    _ => n,
                });
            let outcome = match outcome {
                // The dialled machine itself answered: nothing forwarded the connection.
                Outcome::WrongNode { node } | Outcome::PortClosed { node }
                    if Some(node.as_str()) == dial_node =>
                {
                    trace.push(format!(
                        "{node} itself answered: no rule forwarded the connection"
                    ));
                    Outcome::Stopped
                }
                other => other,
            };
            let mistake = match outcome {
                Outcome::WrongNode { node } => {
                    trace.push(format!("the connection arrived at {node}, not {}", goal.to));
                    "wrong-guest-ip"
                }
                Outcome::PortClosed { node } if node == goal.to => "wrong-guest-port",
                Outcome::PortClosed { .. } => "wrong-guest-ip",
                Outcome::Reached | Outcome::Stopped => {
                    let on_port = rules.iter().find(|r| Some(r.host_port) == dialed);
                    match on_port {
                        Some(rule) if rule.proto != goal.proto => "wrong-protocol",
                        Some(_) => "unreachable",
                        // `-p 80:8080` for `-p 8080:80`: the two sides swapped.
                        None if rules.iter().any(|r| {
                            Some(r.host_port) == goal.port && Some(r.guest_port) == dialed
                        }) =>
                        {
                            trace.push(
                                "a rule has the ports swapped: the host side is written first"
                                    .into(),
                            );
                            "reversed-ports"
                        }
                        None if rules
                            .iter()
                            .any(|r| r.proto == goal.proto && Some(r.guest_port) == goal.port) =>
                        {
                            "wrong-host-port"
                        }
                        None => "missing-rule",
                    }
                }
            };
            Judgement::fail(mistake, trace)
        }
    }
}

/// The learner's steps with every `answer` (a rule written in Docker's `-p`, VBoxManage's,
/// a NAT Network's or QEMU's syntax) read by the core as the rule it is, so a Docker publish
/// rule is graded by the same engine as a VirtualBox one. A rule that does not read fails the
/// attempt: `-p 80` as `random-host-port` (Docker picks the host port), any other as
/// `invalid-rule`, with the core's reason in the trace.
fn rules_from_answers(
    actions: &[Action],
    trace: &mut Vec<String>,
) -> Result<Vec<Action>, Judgement> {
    use labvisor_core::net::forward::ForwardProblem;
    let mut read = Vec::with_capacity(actions.len());
    for (i, action) in actions.iter().enumerate() {
        let Action::Answer(text) = action else {
            read.push(action.clone());
            continue;
        };
        match PortForward::parse_any(text) {
            Ok(rule) => {
                trace.push(format!(
                    "step {}: {text:?} read as rule {} ({}): host port {} → guest port {}",
                    i + 1,
                    rule.name,
                    rule.proto,
                    rule.host_port,
                    rule.guest_port
                ));
                read.push(Action::AddForward(ForwardStep { rule, vm: None }));
            }
            Err(e) => {
                trace.push(format!("step {}: {e}", i + 1));
                let mistake = if e.problem == ForwardProblem::DockerForm(1) {
                    "random-host-port"
                } else {
                    "invalid-rule"
                };
                return Err(Judgement::fail(mistake, std::mem::take(trace)));
            }
        }
    }
    Ok(read)
}
