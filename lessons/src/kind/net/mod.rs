//! `nat-source`, `net-mode`, `port-forward`: their fields, checked when a lesson loads, and
//! their grading by simulation in `core::net` ([`grade`]).

use std::net::Ipv4Addr;

use super::common::Fields;
use crate::action::Action;
use crate::key;
use crate::model::{NetworkKind, NetworkSpec, Spec};

mod grade;
pub(super) use grade::port_forward as grade_port_forward;
pub(super) use grade::{nat_source as grade_nat_source, net_mode as grade_net_mode};

/// A home-router network: what source the far end sees.
pub(super) fn build_nat_source(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let network = f.required(&ex.network, "network")?;
    let net = network.get_ref();
    if net.kind != NetworkKind::HomeRouter {
        f.error(
            network.span(),
            "a nat-source exercise needs `network.kind = \"home-router\"`",
        );
    }
    if net.router_public_ip.is_none() {
        f.error(network.span(), "the home router needs `router-public-ip`");
    }
    for host in net.pcs.iter().chain(&net.servers) {
        if let Err(e) = key::address(&host.ip) {
            f.error(network.span(), &format!("node {:?}: {e}", host.name));
        }
    }
    match &net.send {
        None => f.error(network.span(), "needs `network.send`: the packet to follow"),
        Some(send) => {
            for node in [&send.from, &send.to] {
                if !net.node_names().contains(&node.as_str()) {
                    f.error(
                        network.span(),
                        &format!(
                            "`send` names unknown node {node:?}; nodes: {}",
                            net.node_names().join(", ")
                        ),
                    );
                }
            }
        }
    }
    Some(Spec::NatSource {
        network: net.clone(),
    })
}

/// A VirtualBox network and the connections that must (or must not) work: `net-mode` and
/// `port-forward` alike.
pub(super) fn build_goals(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let network = f.required(&ex.network, "network")?;
    let net = network.get_ref();
    if net.kind != NetworkKind::Virtualbox {
        f.error(network.span(), "needs `network.kind = \"virtualbox\"`");
    }
    check_listens(f, net, network.span());
    if ex.goals.is_empty() {
        f.error(f.at.clone(), "needs at least one `[[exercises.goals]]`");
    }
    check_goals(f, net);
    let goals = ex.goals.iter().map(|g| g.get_ref().clone()).collect();
    let network = net.clone();
    Some(if f.kind == crate::kind_names::ExerciseKind::NetMode {
        Spec::NetMode { network, goals }
    } else {
        Spec::PortForward { network, goals }
    })
}

/// Every VM's services read as `tcp/22` or `udp/53`.
fn check_listens(f: &mut Fields<'_, '_>, net: &NetworkSpec, span: std::ops::Range<usize>) {
    for vm in &net.vms {
        for listen in &vm.listens {
            let ok = listen
                .split_once('/')
                .is_some_and(|(p, n)| matches!(p, "tcp" | "udp") && n.parse::<u16>().is_ok());
            if !ok {
                f.error(
                    span.clone(),
                    &format!(
                        "vm {:?} listens on {listen:?}: write `tcp/22` or `udp/53`",
                        vm.name
                    ),
                );
            }
        }
    }
}

/// Every goal names known nodes, dials something that exists, and has a port unless it pings.
fn check_goals(f: &mut Fields<'_, '_>, net: &NetworkSpec) {
    let names = net.node_names();
    for goal in &f.ex.goals {
        let g = goal.get_ref();
        for node in [&g.from, &g.to] {
            if !names.contains(&node.as_str()) {
                f.error(
                    goal.span(),
                    &format!(
                        "goal names unknown node {node:?}; nodes: {}",
                        names.join(", ")
                    ),
                );
            }
        }
        if let Some(dial) = &g.dial {
            let ok = dial.split_once(':').is_some_and(|(node, port)| {
                (names.contains(&node) || node.parse::<Ipv4Addr>().is_ok())
                    && port.parse::<u16>().is_ok()
            });
            if !ok {
                f.error(
                    goal.span(),
                    &format!(
                        "`dial = {dial:?}` must be `node:port` with a known node, or `address:port` (e.g. `127.0.0.1:2222`)"
                    ),
                );
            }
        }
        if g.proto != labvisor_core::net::packet::Proto::Icmp && g.port.is_none() {
            f.error(goal.span(), "a tcp or udp goal needs `port`");
        }
    }
}

/// What is wrong with a step of a VirtualBox exercise beyond its VM: a NIC the VM does not
/// have, a rule for a VM the exercise does not have.
pub(super) fn step_problem(spec: &Spec, network: &NetworkSpec, action: &Action) -> Option<String> {
    match (action, spec) {
        (Action::SetMode { vm, nic, .. }, Spec::NetMode { .. }) => {
            let nics = network
                .vms
                .iter()
                .find(|v| &v.name == vm)
                .map_or(0, |v| v.nics.len());
            (*nic == 0 || usize::from(*nic) > nics).then(|| {
                format!("{vm:?} has no NIC {nic} (NICs are numbered from 1; it has {nics})")
            })
        }
        (Action::AddForward(step), Spec::PortForward { .. }) => {
            let vm = step.vm.as_ref()?;
            let names: Vec<&str> = network.vms.iter().map(|v| v.name.as_str()).collect();
            (!names.contains(&vm.as_str())).then(|| {
                format!(
                    "rule {:?} is for unknown VM {vm:?}; this exercise has: {}",
                    step.rule.name,
                    names.join(", ")
                )
            })
        }
        _ => None,
    }
}
