//! The `[[step]]` tables: each read into the engine's [`Action`], checked against the
//! topology and against the node names as earlier steps leave them.

use super::raw::*;
use crate::net::clock::Duration;
use crate::net::forward::PortForward;
use crate::net::packet::{Proto, TcpFlags};
use crate::net::sim::{Action, RuleTarget, SendSpec};
use crate::net::topology::{Attach, Topology};
use crate::net::vbox::Mode;

fn rule_target(r: &RawRule) -> Result<RuleTarget, String> {
    match (&r.vm, &r.natnetwork, &r.router) {
        (Some(vm), None, None) => Ok(RuleTarget::VmNic { vm: vm.clone(), nic: r.nic.clone().unwrap_or_else(|| "eth0".into()) }),
        (None, Some(n), None) => Ok(RuleTarget::NatNetwork { name: n.clone() }),
        (None, None, Some(n)) => Ok(RuleTarget::Router { name: n.clone() }),
        _ => Err("say where the rule goes: exactly one of vm = \"...\" (with nic), natnetwork = \"...\" or router = \"...\"".into()),
    }
}

pub(super) fn step_action(
    s: &RawStep,
    t: &Topology,
    names: &mut Vec<String>,
) -> Result<Action, String> {
    let count = [
        s.send.is_some(),
        s.advance.is_some(),
        s.forward_add.is_some(),
        s.forward_remove.is_some(),
        s.set_mode.is_some(),
        s.add_vm.is_some(),
        s.remove_vm.is_some(),
        s.rename_vm.is_some(),
        s.set_host.is_some(),
        s.add_nic.is_some(),
        s.remove_nic.is_some(),
        s.set_address.is_some(),
        s.add_natnetwork.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if count != 1 {
        return Err("each [[step]] needs exactly one of send, advance, forward-add, forward-remove, set-mode, add-vm, remove-vm, rename-vm, set-host, add-nic, remove-nic, set-address, add-natnetwork".into());
    }
    if let Some(action) = edit_step(s, names)? {
        return Ok(action);
    }
    let known = |name: &str| known_node(names, name);
    if let Some(x) = &s.send {
        known(&x.from)?;
        return send_step(x).map(Action::Send);
    }
    if let Some(d) = &s.advance {
        return d
            .parse::<Duration>()
            .map(Action::Advance)
            .map_err(|e| e.to_string());
    }
    let check_target = |target: &RuleTarget| check_rule_target(t, names, target);
    if let Some(r) = &s.forward_add {
        let target = rule_target(r)?;
        check_target(&target)?;
        let text = r
            .rule
            .as_deref()
            .ok_or("forward-add needs rule = \"name,tcp,,2222,,22\"")?;
        let rule = PortForward::parse_any(text).map_err(|e| e.to_string())?;
        return Ok(Action::AddForward { target, rule });
    }
    if let Some(r) = &s.forward_remove {
        let target = rule_target(r)?;
        check_target(&target)?;
        let name = r
            .name
            .clone()
            .ok_or("forward-remove needs name = \"...\" (the rule's name)")?;
        return Ok(Action::RemoveForward { target, name });
    }
    if let Some(m) = &s.set_mode {
        known(&m.vm)?;
        let mut forwards = Vec::new();
        for r in &m.forward {
            forwards.push(PortForward::parse_any(r).map_err(|e| e.to_string())?);
        }
        let mode = parse_mode(&m.mode, m.network.as_deref(), forwards)?;
        return Ok(Action::SetMode {
            vm: m.vm.clone(),
            nic: m.nic.clone(),
            mode,
        });
    }
    Err("empty step".into())
}

/// `name` is a node of the scenario (or one a step created).
pub(super) fn known_node(names: &[String], name: &str) -> Result<(), String> {
    if names.iter().any(|n| n == name) {
        Ok(())
    } else {
        Err(format!(
            "unknown node {name:?}: expected one of {}",
            names.join(", ")
        ))
    }
}

/// A `send` step as the packet it sends.
fn send_step(x: &RawSend) -> Result<SendSpec, String> {
    let mut spec = SendSpec::new(&x.from, x.to, x.proto, x.dport.unwrap_or(0));
    if x.proto != Proto::Icmp && x.dport.is_none() {
        return Err(format!("a {} packet needs dport", x.proto));
    }
    if let Some(p) = x.sport.or(x.id) {
        spec.sport = p;
    }
    if let Some(f) = &x.flags {
        spec.flags = TcpFlags::parse(f)?;
    }
    if let Some(ttl) = x.ttl {
        spec.ttl = ttl;
    }
    spec.label = x.label.clone();
    spec.answer = x.answer.unwrap_or(true);
    Ok(spec)
}

/// Where a forwarding rule is added or removed must exist and take rules: a NAT-mode NIC, a
/// router doing NAT, or a NAT Network.
fn check_rule_target(t: &Topology, names: &[String], target: &RuleTarget) -> Result<(), String> {
    match target {
        RuleTarget::VmNic { vm, nic } => {
            known_node(names, vm)?;
            let Some(node) = t.nodes.iter().find(|n| &n.name == vm) else {
                return Ok(()); // created by a step: the engine checks it when it runs
            };
            match node.nics.iter().find(|x| &x.name == nic) {
                Some(x) if matches!(x.attach, Attach::Vbox(Mode::Nat { .. })) => Ok(()),
                Some(_) => Err(format!("{vm} {nic} is not attached in NAT mode: forwarding rules belong to NAT-mode NICs")),
                None => Err(format!(
                    "{vm} has no NIC {nic:?}: expected one of {}",
                    node.nics.iter().map(|x| x.name.as_str()).collect::<Vec<_>>().join(", ")
                )),
            }
        }
        RuleTarget::Router { name } => {
            known_node(names, name)?;
            match t.node(name) {
                Some(n) if n.nat.is_some() => Ok(()),
                _ => Err(format!(
                    "{name:?} is not a router doing NAT (it needs nat = {{ outside = \"...\" }})"
                )),
            }
        }
        RuleTarget::NatNetwork { name } => {
            if t.nat_networks.iter().any(|n| &n.name == name) {
                Ok(())
            } else {
                Err(format!("unknown NAT Network {name:?}"))
            }
        }
    }
}

/// The steps that edit the lab itself; `names` follows the VMs they create, rename and delete.
fn edit_step(s: &RawStep, names: &mut Vec<String>) -> Result<Option<Action>, String> {
    let known = |names: &[String], name: &str| -> Result<(), String> {
        if names.iter().any(|n| n == name) {
            Ok(())
        } else {
            Err(format!(
                "unknown node {name:?}: expected one of {}",
                names.join(", ")
            ))
        }
    };
    let action = if let Some(x) = &s.add_vm {
        crate::net::topology::check_name(&x.vm).map_err(|e| e.to_string())?;
        known(names, &x.host)?;
        names.push(x.vm.clone());
        Action::AddVm {
            name: x.vm.clone(),
            host: x.host.clone(),
        }
    } else if let Some(vm) = &s.remove_vm {
        known(names, vm)?;
        names.retain(|n| n != vm);
        Action::RemoveVm { name: vm.clone() }
    } else if let Some(x) = &s.rename_vm {
        known(names, &x.from)?;
        crate::net::topology::check_name(&x.to).map_err(|e| e.to_string())?;
        for n in names.iter_mut().filter(|n| **n == x.from) {
            *n = x.to.clone();
        }
        Action::RenameVm {
            from: x.from.clone(),
            to: x.to.clone(),
        }
    } else if let Some(x) = &s.set_host {
        known(names, &x.vm)?;
        known(names, &x.host)?;
        Action::SetHost {
            vm: x.vm.clone(),
            host: x.host.clone(),
        }
    } else if let Some(x) = &s.add_nic {
        known(names, &x.vm)?;
        Action::AddNic {
            vm: x.vm.clone(),
            mode: parse_mode(&x.mode, x.network.as_deref(), Vec::new())?,
        }
    } else if let Some(x) = &s.remove_nic {
        known(names, &x.vm)?;
        Action::RemoveNic {
            vm: x.vm.clone(),
            nic: x.nic.clone(),
        }
    } else if let Some(x) = &s.set_address {
        known(names, &x.vm)?;
        Action::SetAddress {
            vm: x.vm.clone(),
            nic: x.nic.clone(),
            addr: x.ip,
        }
    } else if let Some(x) = &s.add_natnetwork {
        known(names, &x.host)?;
        Action::AddNatNetwork {
            name: x.name.clone(),
            cidr: x.cidr,
            host: x.host.clone(),
        }
    } else {
        return Ok(None);
    };
    Ok(Some(action))
}
