//! The topology a scenario describes: each `[[node]]` and `[[natnetwork]]` as the engine's
//! specs, host references checked where they are written, and the wiring's problems located
//! at the node or network they name.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::ops::Range;

use super::raw::*;
use crate::lang::{Explain, Lang};
use crate::net::forward::PortForward;
use crate::net::nat::{Behavior, NatConfig};
use crate::net::route::Route;
use crate::net::topology::{Attach, Issue, NatNetworkSpec, NicSpec, NodeSpec, RouterNat, Topology};
use crate::net::vbox::{DhcpServer, Mode};

/// A `[[node]]` as the engine describes it.
pub(super) fn node_spec(ctx: &mut Ctx<'_>, n: &RawNode) -> NodeSpec {
    let nics = (n.nic.iter().enumerate())
        .filter_map(|(j, nic)| nic_spec(ctx, n, j, nic))
        .collect();
    let mut listen = Vec::new();
    for s in &n.listen {
        match parse_service(s.get_ref()) {
            Ok(x) => listen.push(x),
            Err(e) => ctx.error(s.span(), e),
        }
    }
    let nat = n.nat.as_ref().map(|raw| {
        let c = &raw.config;
        let mut config = RawProfile::config(c.profile);
        let (map, filter, keep) = (c.mapping, c.filtering, c.preserve_ports);
        override_nat(&mut config, map, filter, c.hairpin, keep, c.max_entries);
        if let Some(p) = &c.pool {
            match parse_pool(p) {
                Ok(p) => config.pool = p,
                Err(e) => ctx.error(n.name.span(), e),
            }
        }
        RouterNat {
            outside: raw.outside.clone(),
            config,
            forwards: rules(ctx, &raw.forward, PortForward::parse_any),
        }
    });
    NodeSpec {
        name: n.name.get_ref().clone(),
        kind: n.kind,
        host: n.host.as_ref().map(|h| h.get_ref().clone()),
        nics,
        routes: n
            .route
            .iter()
            .map(|r| Route {
                dest: r.to,
                via: r.via,
                nic: r.nic.clone(),
            })
            .collect(),
        nat,
        listen,
    }
}

/// The `j`-th `[[node.nic]]` of `n`; `None` (with the problem reported) when it is neither on
/// a segment nor in a mode, or both.
fn nic_spec(ctx: &mut Ctx<'_>, n: &RawNode, j: usize, nic: &RawNic) -> Option<NicSpec> {
    let name = nic.name.clone().unwrap_or_else(|| format!("eth{j}"));
    let node = n.name.get_ref();
    let attach = match (&nic.segment, &nic.mode) {
        (Some(s), None) => Attach::Segment(s.clone()),
        (None, Some(m)) => {
            let forwards = rules(ctx, &nic.forward, PortForward::parse_any);
            match parse_mode(m.get_ref(), nic.network.as_deref(), forwards) {
                Ok(mode) => Attach::Vbox(mode),
                Err(e) => {
                    ctx.error(m.span(), e);
                    return None;
                }
            }
        }
        (Some(_), Some(m)) => {
            ctx.error(m.span(), format!("{node} {name}: give either segment (hosts, routers, servers) or mode (VMs), not both"));
            return None;
        }
        (None, None) => {
            ctx.error(n.name.span(), format!("{node} {name}: the NIC needs segment = \"...\" (hosts, routers, servers) or mode = \"...\" (VMs)"));
            return None;
        }
    };
    let dhcp = nic
        .dhcp
        .as_ref()
        .and_then(|d| match parse_range(d.get_ref()) {
            Ok((first, last)) => Some(DhcpServer {
                server: Ipv4Addr::UNSPECIFIED,
                first,
                last,
                gateway: None,
                dns: None,
            }),
            Err(e) => {
                ctx.error(d.span(), e);
                None
            }
        });
    if !nic.forward.is_empty() && !matches!(attach, Attach::Vbox(Mode::Nat { .. })) {
        ctx.error(n.name.span(), format!("{node} {name}: forward rules belong to NAT-mode NICs (or to a router's nat, or a natnetwork)"));
    }
    Some(NicSpec {
        name,
        attach,
        addr: nic.ip,
        gateway: nic.gateway,
        dhcp,
    })
}

/// A `[[natnetwork]]` as the engine describes it.
pub(super) fn nat_network_spec(ctx: &mut Ctx<'_>, nn: &RawNatNetwork) -> NatNetworkSpec {
    let mut config = RawProfile::config(nn.nat.as_ref().and_then(|c| c.profile));
    if let Some(c) = &nn.nat {
        let (map, filter, keep) = (c.mapping, c.filtering, c.preserve_ports);
        override_nat(&mut config, map, filter, c.hairpin, keep, c.max_entries);
        if let Some(p) = &c.pool {
            match parse_pool(p.get_ref()) {
                Ok(p) => config.pool = p,
                Err(e) => ctx.error(p.span(), e),
            }
        }
        apply_timeouts(ctx, &mut config, &c.timeouts);
    }
    NatNetworkSpec {
        name: nn.name.get_ref().clone(),
        cidr: nn.cidr,
        host: nn.host.get_ref().clone(),
        forwards: rules(ctx, &nn.forward, PortForward::parse_any),
        config,
    }
}

/// A NAT's settings over its profile's: each key given replaces the profile's value.
fn override_nat(
    config: &mut NatConfig,
    mapping: Option<Behavior>,
    filtering: Option<Behavior>,
    hairpin: Option<bool>,
    preserve_ports: Option<bool>,
    max_entries: Option<u32>,
) {
    config.mapping = mapping.unwrap_or(config.mapping);
    config.filtering = filtering.unwrap_or(config.filtering);
    config.hairpin = hairpin.unwrap_or(config.hairpin);
    config.preserve_ports = preserve_ports.unwrap_or(config.preserve_ports);
    config.max_entries = max_entries.unwrap_or(config.max_entries);
}

/// Every `host = "..."` names a `[[node]]`, reported at the reference itself.
pub(super) fn check_host_references(ctx: &mut Ctx<'_>, raw: &RawScenario) {
    let is_node = |name: &String| raw.node.iter().any(|m| m.name.get_ref() == name);
    let hosts = (raw.node.iter().filter_map(|n| n.host.as_ref()))
        .chain(raw.natnetwork.iter().map(|nn| &nn.host));
    for h in hosts.filter(|h| !is_node(h.get_ref())) {
        ctx.error(
            h.span(),
            format!("unknown host {:?}: no [[node]] has that name", h.get_ref()),
        );
    }
}

/// The problems the wiring finds, located at the node or NAT Network they name (unknown hosts
/// were already reported, at the reference itself).
pub(super) fn report_wiring_problems(
    ctx: &mut Ctx<'_>,
    topology: &Topology,
    name_spans: &BTreeMap<String, Range<usize>>,
) {
    let problems = crate::net::wiring::wire(topology).err().unwrap_or_default();
    for p in problems
        .into_iter()
        .filter(|p| !matches!(p.issue, Issue::UnknownHost { .. }))
    {
        let span = name_spans
            .iter()
            .filter(|(name, _)| {
                p.at == **name
                    || p.at.starts_with(&format!("{name} "))
                    || p.at == format!("node {name}")
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, s)| s.clone())
            .unwrap_or(0..0);
        ctx.error(span, p.explain_in(Lang::En));
    }
}
