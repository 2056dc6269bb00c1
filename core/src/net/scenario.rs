//! Scenario files: a topology and a list of actions, in TOML.
//!
//! ```toml
//! title = { en = "A VM on NAT asks 8.8.8.8 for a name", ko = "NAT 모드 VM이 8.8.8.8에 이름을 묻다" }
//! description = { en = """...""", ko = """...""" }   # or one plain string: English only
//!
//! [[node]]
//! name = "pc"
//! kind = "host"                      # host | vm | router | server
//! nic = [{ name = "eth0", segment = "lan", ip = "192.168.1.10/24", gateway = "192.168.1.1" }]
//!
//! [[node]]
//! name = "vm1"
//! kind = "vm"
//! host = "pc"
//! nic = [{ mode = "nat", forward = ["ssh,tcp,,2222,,22"] }]   # nat | natnetwork | bridged | hostonly | internal | none
//! listen = ["tcp/22"]
//!
//! [[node]]
//! name = "router"
//! kind = "router"
//! # profile: "teaching" (the default: RFC 4787 behaviours, each settable with mapping,
//! # filtering, hairpin, preserve-ports, pool) or "linux" (iptables MASQUERADE, as the
//! # differential test tests/linux_nat checks it against the kernel)
//! nat = { outside = "wan", profile = "linux" }
//! nic = [{ name = "lan", segment = "lan", ip = "192.168.1.1/24" }, { name = "wan", segment = "isp", ip = "203.0.113.7/24" }]
//!
//! [[step]]
//! send = { from = "vm1", to = "8.8.8.8", proto = "udp", dport = 53, label = "dns query" }
//! [[step]]
//! advance = "31s"
//! # The lab itself can change too: add-vm = { name, host }, rename-vm = { from, to },
//! # remove-vm = "vm1", set-host = { vm, host }, add-nic = { vm, mode, network },
//! # remove-nic = { vm, nic }, set-address = { vm, nic, ip = "10.10.0.1/24" } (no ip: DHCP),
//! # add-natnetwork = { name, cidr, host }, set-mode = { vm, nic, mode, network }.
//! ```
//!
//! Parsed from a `&str` (the browser has no files); every error names `file:line:column` and
//! what was expected.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::lang::{Bilingual, Lang};

use super::clock::{Duration, Instant};
use super::forward::PortForward;
use super::nat::NatTable;
use super::nat::{Behavior, NatConfig, PortPool};
use super::packet::{Proto, TcpFlags};
use super::route::Route;
use super::sim::{Action, Network, RuleTarget, SendSpec};
use super::topology::{
    Attach, NatNetworkSpec, NicSpec, NodeKind, NodeSpec, Problem, RouterNat, Topology,
};
use super::trace::Step;
use super::vbox::{DhcpServer, Mode};

/// The ready examples (`labvisor net example NAME`), embedded so the browser has them too.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("home-router", include_str!("examples/home-router.toml")),
    ("nat-network", include_str!("examples/nat-network.toml")),
    (
        "port-forward-ssh",
        include_str!("examples/port-forward-ssh.toml"),
    ),
    ("host-only", include_str!("examples/host-only.toml")),
    (
        "internal-networks",
        include_str!("examples/internal-networks.toml"),
    ),
];

/// One error in a scenario file, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioError {
    /// The file name as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// All the errors found in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A parsed scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// Title, in English and Korean (Korean empty when the file has only one language).
    pub title: Bilingual,
    /// What it shows, likewise.
    pub description: Bilingual,
    /// The lab.
    pub topology: Topology,
    /// The actions, in order, each with the 1-based line it starts on.
    pub actions: Vec<(usize, Action)>,
}

/// The outcome of running a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// DHCP leases at start-up.
    pub leases: Vec<Step>,
    /// Per action: its one-line description and what happened.
    pub actions: Vec<(String, Vec<Step>)>,
    /// Warnings about the topology (e.g. privileged host ports).
    pub warnings: Vec<Problem>,
    /// The network at the end (NAT tables, clock).
    pub network: Network,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    title: Option<Spanned<toml::Value>>,
    description: Option<Spanned<toml::Value>>,
    #[serde(default)]
    node: Vec<RawNode>,
    #[serde(default)]
    natnetwork: Vec<RawNatNetwork>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: Spanned<String>,
    kind: NodeKind,
    host: Option<Spanned<String>>,
    #[serde(default)]
    nic: Vec<RawNic>,
    #[serde(default)]
    route: Vec<RawRoute>,
    nat: Option<RawNat>,
    #[serde(default)]
    listen: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNic {
    name: Option<String>,
    segment: Option<String>,
    mode: Option<Spanned<String>>,
    network: Option<String>,
    ip: Option<Ipv4Net>,
    gateway: Option<Ipv4Addr>,
    dhcp: Option<Spanned<String>>,
    #[serde(default)]
    forward: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    to: Ipv4Net,
    via: Option<Ipv4Addr>,
    nic: String,
}

/// `profile = "..."` of a NAT: where its settings start from (the other keys override them).
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum RawProfile {
    /// [`NatConfig::default`]: RFC 4787's behaviours, set one by one.
    Teaching,
    /// [`NatConfig::linux`]: Linux MASQUERADE, as checked against the kernel.
    Linux,
}

impl RawProfile {
    fn config(profile: Option<RawProfile>) -> NatConfig {
        match profile {
            Some(RawProfile::Linux) => NatConfig::linux(),
            Some(RawProfile::Teaching) | None => NatConfig::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawNatConfig {
    profile: Option<RawProfile>,
    mapping: Option<Behavior>,
    filtering: Option<Behavior>,
    hairpin: Option<bool>,
    preserve_ports: Option<bool>,
    pool: Option<Spanned<String>>,
    max_entries: Option<u32>,
    #[serde(default)]
    timeouts: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNat {
    outside: String,
    #[serde(default)]
    forward: Vec<Spanned<String>>,
    #[serde(flatten)]
    config: RawNatConfigFlat,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawNatConfigFlat {
    profile: Option<RawProfile>,
    mapping: Option<Behavior>,
    filtering: Option<Behavior>,
    hairpin: Option<bool>,
    preserve_ports: Option<bool>,
    pool: Option<String>,
    max_entries: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNatNetwork {
    name: Spanned<String>,
    #[serde(default = "default_natnet")]
    cidr: Ipv4Net,
    host: Spanned<String>,
    #[serde(default)]
    forward: Vec<Spanned<String>>,
    nat: Option<RawNatConfig>,
}

fn default_natnet() -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::new(10, 0, 2, 0), 24).unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStep {
    send: Option<RawSend>,
    advance: Option<String>,
    forward_add: Option<RawRule>,
    forward_remove: Option<RawRule>,
    set_mode: Option<RawSetMode>,
    add_vm: Option<RawVmHost>,
    remove_vm: Option<String>,
    rename_vm: Option<RawRename>,
    set_host: Option<RawVmHost>,
    add_nic: Option<RawAddNic>,
    remove_nic: Option<RawNicRef>,
    set_address: Option<RawSetAddress>,
    add_natnetwork: Option<RawAddNatNetwork>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVmHost {
    #[serde(alias = "name")]
    vm: String,
    host: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRename {
    from: String,
    to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAddNic {
    vm: String,
    mode: String,
    network: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNicRef {
    vm: String,
    nic: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSetAddress {
    vm: String,
    nic: String,
    /// `a.b.c.d/prefix`, or absent for DHCP.
    ip: Option<Ipv4Net>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAddNatNetwork {
    name: String,
    #[serde(default = "default_natnet")]
    cidr: Ipv4Net,
    host: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSend {
    from: String,
    to: Ipv4Addr,
    proto: Proto,
    sport: Option<u16>,
    dport: Option<u16>,
    id: Option<u16>,
    flags: Option<String>,
    ttl: Option<u8>,
    #[serde(default)]
    label: String,
    answer: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    vm: Option<String>,
    nic: Option<String>,
    natnetwork: Option<String>,
    router: Option<String>,
    rule: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSetMode {
    vm: String,
    nic: String,
    mode: String,
    network: Option<String>,
    #[serde(default)]
    forward: Vec<String>,
}

struct Ctx<'a> {
    file: &'a str,
    src: &'a str,
    errors: Vec<ScenarioError>,
}

impl Ctx<'_> {
    fn pos(&self, offset: usize) -> (usize, usize) {
        let before = &self.src[..offset.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        (line, column)
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = self.pos(span.start);
        self.errors.push(ScenarioError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        });
    }
}

/// A title or description: one string (English only) or `{ en = "...", ko = "..." }`.
fn bilingual(ctx: &mut Ctx, key: &str, raw: Option<&Spanned<toml::Value>>) -> Bilingual {
    let Some(raw) = raw else {
        return Bilingual::default();
    };
    match raw.get_ref() {
        toml::Value::String(s) => Bilingual::new(s.as_str(), ""),
        toml::Value::Table(t) => {
            let text = |lang: &str| t.get(lang).and_then(|v| v.as_str());
            let unknown: Vec<&str> = t
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "en" && *k != "ko")
                .collect();
            match (text("en"), text("ko")) {
                (Some(en), Some(ko)) if unknown.is_empty() => Bilingual::new(en, ko),
                _ => {
                    ctx.error(raw.span(), format!("{key}: expected one string (English) or {{ en = \"...\", ko = \"...\" }} with both languages as strings{}", if unknown.is_empty() { String::new() } else { format!("; unknown key(s) {}", unknown.join(", ")) }));
                    Bilingual::default()
                }
            }
        }
        other => {
            ctx.error(
                raw.span(),
                format!("{key}: expected one string (English) or {{ en = \"...\", ko = \"...\" }}, found {}", other.type_str()),
            );
            Bilingual::default()
        }
    }
}

fn parse_mode(s: &str, network: Option<&str>, forwards: Vec<PortForward>) -> Result<Mode, String> {
    Ok(match s {
        "nat" => Mode::Nat { forwards },
        "natnetwork" | "nat-network" => {
            Mode::NatNetwork(network.unwrap_or("NatNetwork").to_string())
        }
        "bridged" => Mode::Bridged,
        "hostonly" | "host-only" => Mode::HostOnly(
            network
                .unwrap_or(super::vbox::DEFAULT_HOST_ONLY)
                .to_string(),
        ),
        "internal" | "intnet" => Mode::Internal(network.unwrap_or("intnet").to_string()),
        "none" | "not-attached" => Mode::NotAttached,
        other => {
            return Err(format!(
            "unknown mode {other:?}: expected nat, natnetwork, bridged, hostonly, internal or none"
        ))
        }
    })
}

fn parse_service(s: &str) -> Result<(Proto, u16), String> {
    let err =
        || format!("invalid service {s:?}: expected proto/port, like \"tcp/22\" or \"udp/53\"");
    let (p, port) = s.split_once('/').ok_or_else(err)?;
    let proto: Proto = p.parse().map_err(|_| err())?;
    if proto == Proto::Icmp {
        return Err(err());
    }
    Ok((proto, port.parse().map_err(|_| err())?))
}

fn parse_pool(s: &str) -> Result<PortPool, String> {
    let err = || format!("invalid port pool {s:?}: expected first-last, like \"1024-65535\"");
    let (a, b) = s.split_once('-').ok_or_else(err)?;
    let (first, last): (u16, u16) = (
        a.trim().parse().map_err(|_| err())?,
        b.trim().parse().map_err(|_| err())?,
    );
    if first == 0 || first > last {
        return Err(err());
    }
    Ok(PortPool { first, last })
}

fn parse_range(s: &str) -> Result<(Ipv4Addr, Ipv4Addr), String> {
    let err = || {
        format!("invalid DHCP pool {s:?}: expected first-last addresses, like \"192.168.1.100-192.168.1.199\"")
    };
    let (a, b) = s.split_once('-').ok_or_else(err)?;
    Ok((
        a.trim().parse().map_err(|_| err())?,
        b.trim().parse().map_err(|_| err())?,
    ))
}

fn apply_timeouts(ctx: &mut Ctx, config: &mut NatConfig, raw: &BTreeMap<String, Spanned<String>>) {
    for (k, v) in raw {
        let d = match v.get_ref().parse::<Duration>() {
            Ok(d) => d.as_secs() as u32,
            Err(e) => {
                ctx.error(v.span(), e.to_string());
                continue;
            }
        };
        let t = &mut config.timeouts;
        let slot = match k.as_str() {
            "tcp-syn-sent" => &mut t.tcp_syn_sent,
            "tcp-syn-recv" => &mut t.tcp_syn_recv,
            "tcp-established" => &mut t.tcp_established,
            "tcp-fin-wait" => &mut t.tcp_fin_wait,
            "tcp-close-wait" => &mut t.tcp_close_wait,
            "tcp-last-ack" => &mut t.tcp_last_ack,
            "tcp-time-wait" => &mut t.tcp_time_wait,
            "tcp-close" => &mut t.tcp_close,
            "udp" => &mut t.udp,
            "udp-stream" => &mut t.udp_stream,
            "icmp" => &mut t.icmp,
            other => {
                ctx.error(v.span(), format!("unknown timeout {other:?}: expected one of tcp-syn-sent, tcp-syn-recv, tcp-established, tcp-fin-wait, tcp-close-wait, tcp-last-ack, tcp-time-wait, tcp-close, udp, udp-stream, icmp"));
                continue;
            }
        };
        *slot = d;
    }
}

fn rules(
    ctx: &mut Ctx,
    raw: &[Spanned<String>],
    parse: fn(&str) -> Result<PortForward, super::forward::ForwardError>,
) -> Vec<PortForward> {
    let mut out = Vec::new();
    for r in raw {
        match parse(r.get_ref()) {
            Ok(rule) => out.push(rule),
            Err(e) => ctx.error(r.span(), e.to_string()),
        }
    }
    out
}

impl Scenario {
    /// Parses a scenario; `file` names it in error messages.
    pub fn parse(file: &str, src: &str) -> Result<Scenario, ScenarioErrors> {
        let mut ctx = Ctx {
            file,
            src,
            errors: Vec::new(),
        };
        let raw: RawScenario = match toml::from_str(src) {
            Ok(r) => r,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                ctx.error(span, e.message().to_string());
                return Err(ScenarioErrors(ctx.errors));
            }
        };
        let title = bilingual(&mut ctx, "title", raw.title.as_ref());
        let description = bilingual(&mut ctx, "description", raw.description.as_ref());
        let mut topology = Topology::default();
        let mut name_spans: BTreeMap<String, Range<usize>> = BTreeMap::new();
        for n in &raw.node {
            name_spans
                .entry(n.name.get_ref().clone())
                .or_insert(n.name.span());
            let mut nics = Vec::new();
            for (j, nic) in n.nic.iter().enumerate() {
                let name = nic.name.clone().unwrap_or_else(|| format!("eth{j}"));
                let attach = match (&nic.segment, &nic.mode) {
                    (Some(s), None) => Attach::Segment(s.clone()),
                    (None, Some(m)) => {
                        let forwards = rules(&mut ctx, &nic.forward, PortForward::parse_any);
                        match parse_mode(m.get_ref(), nic.network.as_deref(), forwards) {
                            Ok(mode) => Attach::Vbox(mode),
                            Err(e) => {
                                ctx.error(m.span(), e);
                                continue;
                            }
                        }
                    }
                    (Some(_), Some(m)) => {
                        ctx.error(m.span(), format!("{} {name}: give either segment (hosts, routers, servers) or mode (VMs), not both", n.name.get_ref()));
                        continue;
                    }
                    (None, None) => {
                        ctx.error(n.name.span(), format!("{} {name}: the NIC needs segment = \"...\" (hosts, routers, servers) or mode = \"...\" (VMs)", n.name.get_ref()));
                        continue;
                    }
                };
                let dhcp = match &nic.dhcp {
                    Some(d) => match parse_range(d.get_ref()) {
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
                    },
                    None => None,
                };
                if !nic.forward.is_empty() && !matches!(attach, Attach::Vbox(Mode::Nat { .. })) {
                    ctx.error(n.name.span(), format!("{} {name}: forward rules belong to NAT-mode NICs (or to a router's nat, or a natnetwork)", n.name.get_ref()));
                }
                nics.push(NicSpec {
                    name,
                    attach,
                    addr: nic.ip,
                    gateway: nic.gateway,
                    dhcp,
                });
            }
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
                config.mapping = c.mapping.unwrap_or(config.mapping);
                config.filtering = c.filtering.unwrap_or(config.filtering);
                config.hairpin = c.hairpin.unwrap_or(config.hairpin);
                config.preserve_ports = c.preserve_ports.unwrap_or(config.preserve_ports);
                config.max_entries = c.max_entries.unwrap_or(config.max_entries);
                if let Some(p) = &c.pool {
                    match parse_pool(p) {
                        Ok(p) => config.pool = p,
                        Err(e) => ctx.error(n.name.span(), e),
                    }
                }
                RouterNat {
                    outside: raw.outside.clone(),
                    config,
                    forwards: rules(&mut ctx, &raw.forward, PortForward::parse_any),
                }
            });
            topology.nodes.push(NodeSpec {
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
            });
        }
        for nn in &raw.natnetwork {
            name_spans
                .entry(format!("natnetwork {}", nn.name.get_ref()))
                .or_insert(nn.name.span());
            let mut config = RawProfile::config(nn.nat.as_ref().and_then(|c| c.profile));
            if let Some(c) = &nn.nat {
                config.mapping = c.mapping.unwrap_or(config.mapping);
                config.filtering = c.filtering.unwrap_or(config.filtering);
                config.hairpin = c.hairpin.unwrap_or(config.hairpin);
                config.preserve_ports = c.preserve_ports.unwrap_or(config.preserve_ports);
                config.max_entries = c.max_entries.unwrap_or(config.max_entries);
                if let Some(p) = &c.pool {
                    match parse_pool(p.get_ref()) {
                        Ok(p) => config.pool = p,
                        Err(e) => ctx.error(p.span(), e),
                    }
                }
                apply_timeouts(&mut ctx, &mut config, &c.timeouts);
            }
            topology.nat_networks.push(NatNetworkSpec {
                name: nn.name.get_ref().clone(),
                cidr: nn.cidr,
                host: nn.host.get_ref().clone(),
                forwards: rules(&mut ctx, &nn.forward, PortForward::parse_any),
                config,
            });
        }
        // Node references, located precisely.
        for n in &raw.node {
            if let Some(h) = &n.host {
                if !raw.node.iter().any(|m| m.name.get_ref() == h.get_ref()) {
                    ctx.error(
                        h.span(),
                        format!("unknown host {:?}: no [[node]] has that name", h.get_ref()),
                    );
                }
            }
        }
        for nn in &raw.natnetwork {
            if !raw
                .node
                .iter()
                .any(|m| m.name.get_ref() == nn.host.get_ref())
            {
                ctx.error(
                    nn.host.span(),
                    format!(
                        "unknown host {:?}: no [[node]] has that name",
                        nn.host.get_ref()
                    ),
                );
            }
        }
        let mut actions = Vec::new();
        // The node names as the steps go: steps may create, rename and delete VMs.
        let mut names: Vec<String> = topology.nodes.iter().map(|n| n.name.clone()).collect();
        for s in &raw.step {
            let span = s.span();
            let line = ctx.pos(span.start).0;
            match step_action(s.get_ref(), &topology, &mut names) {
                Ok(a) => actions.push((line, a)),
                Err(e) => ctx.error(span, e),
            }
        }
        {
            // Problems the wiring finds, located at the node they name (unknown hosts were
            // already reported above, at the reference itself).
            let problems = super::vbox::wire(&topology).err().unwrap_or_default();
            for p in problems
                .into_iter()
                .filter(|p| !p.message.starts_with("unknown host"))
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
                ctx.error(span, format!("{}: {}", p.at, p.message));
            }
        }
        if !ctx.errors.is_empty() {
            return Err(ScenarioErrors(ctx.errors));
        }
        Ok(Scenario {
            title,
            description,
            topology,
            actions,
        })
    }

    /// Runs every action in order. An action that cannot be applied (an unknown node, a
    /// conflicting rule) stops the run with its line.
    pub fn run(&self, file: &str) -> Result<Run, ScenarioErrors> {
        let mut network = Network::new(self.topology.clone()).map_err(|problems| {
            ScenarioErrors(
                problems
                    .into_iter()
                    .map(|p| ScenarioError {
                        file: file.into(),
                        line: 1,
                        column: 1,
                        message: p.to_string(),
                    })
                    .collect(),
            )
        })?;
        let leases = network.lease_steps();
        let mut actions = Vec::new();
        for (line, action) in &self.actions {
            match network.apply(action) {
                Ok(steps) => actions.push((describe(action), steps)),
                Err(e) => {
                    return Err(ScenarioErrors(vec![ScenarioError {
                        file: file.into(),
                        line: *line,
                        column: 1,
                        message: e.to_string(),
                    }]));
                }
            }
        }
        Ok(Run {
            leases,
            actions,
            warnings: super::topology::warnings(&self.topology),
            network,
        })
    }
}

/// One line saying what an action does, in English (`pc sends tcp to 8.8.8.8:443`).
pub fn describe(a: &Action) -> String {
    describe_in(a, Lang::En)
}

/// One line saying what an action does, in `lang`. The Korean lines put names before arrows
/// and colons rather than before particles, which would depend on how each name ends.
pub fn describe_in(a: &Action, lang: Lang) -> String {
    let ko = lang == Lang::Ko;
    match a {
        Action::Send(s) => match (s.proto, ko) {
            (Proto::Icmp, false) => format!("{} pings {}", s.from, s.to),
            (Proto::Icmp, true) => format!("{} → {} ping", s.from, s.to),
            (p, false) => format!("{} sends {p} to {}:{}", s.from, s.to, s.dport),
            (p, true) => format!("{} → {}:{} {p} 전송", s.from, s.to, s.dport),
        },
        Action::Advance(d) if ko => format!("{d} 대기"),
        Action::Advance(d) => format!("wait {d}"),
        Action::AddForward { rule, .. } if ko => format!("포워딩 규칙 추가: {rule}"),
        Action::AddForward { rule, .. } => format!("add forwarding rule {rule}"),
        Action::RemoveForward { name, .. } if ko => format!("포워딩 규칙 삭제: {name}"),
        Action::RemoveForward { name, .. } => format!("remove forwarding rule {name}"),
        Action::SetMode { vm, nic, mode } if ko => {
            format!("{vm} {nic} 연결 방식 → {}", mode.name_in(lang))
        }
        Action::SetMode { vm, nic, mode } => format!("set {vm} {nic} to {mode}"),
        Action::AddVm { name, host } if ko => format!("VM {name} 생성 (호스트 {host})"),
        Action::AddVm { name, host } => format!("create VM {name} on {host}"),
        Action::RemoveVm { name } if ko => format!("VM {name} 삭제"),
        Action::RemoveVm { name } => format!("delete VM {name}"),
        Action::RenameVm { from, to } if ko => format!("VM 이름 변경: {from} → {to}"),
        Action::RenameVm { from, to } => format!("rename VM {from} to {to}"),
        Action::SetHost { vm, host } if ko => format!("{vm} 실행 호스트 → {host}"),
        Action::SetHost { vm, host } => format!("move {vm} to host {host}"),
        Action::AddNic { vm, mode } if ko => format!("{vm}에 NIC 추가 ({})", mode.name_in(lang)),
        Action::AddNic { vm, mode } => format!("add a NIC on {mode} to {vm}"),
        Action::RemoveNic { vm, nic } if ko => format!("{vm} {nic} 제거"),
        Action::RemoveNic { vm, nic } => format!("remove {vm} {nic}"),
        Action::AddNatNetwork { name, cidr, host } if ko => {
            format!("NAT 네트워크 {name} {cidr} 생성 (호스트 {host})")
        }
        Action::AddNatNetwork { name, cidr, host } => {
            format!("create NAT Network {name} {cidr} on {host}")
        }
        Action::SetAddress { vm, nic, addr } => match (addr, ko) {
            (Some(a), false) => format!("set {vm} {nic} address {a}"),
            (Some(a), true) => format!("{vm} {nic} 주소 → {a}"),
            (None, false) => format!("set {vm} {nic} to DHCP"),
            (None, true) => format!("{vm} {nic} 주소 → DHCP"),
        },
    }
}

fn rule_target(r: &RawRule) -> Result<RuleTarget, String> {
    match (&r.vm, &r.natnetwork, &r.router) {
        (Some(vm), None, None) => Ok(RuleTarget::VmNic { vm: vm.clone(), nic: r.nic.clone().unwrap_or_else(|| "eth0".into()) }),
        (None, Some(n), None) => Ok(RuleTarget::NatNetwork { name: n.clone() }),
        (None, None, Some(n)) => Ok(RuleTarget::Router { name: n.clone() }),
        _ => Err("say where the rule goes: exactly one of vm = \"...\" (with nic), natnetwork = \"...\" or router = \"...\"".into()),
    }
}

fn step_action(s: &RawStep, t: &Topology, names: &mut Vec<String>) -> Result<Action, String> {
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
    let known = |name: &str| -> Result<(), String> {
        if names.iter().any(|n| n == name) {
            Ok(())
        } else {
            Err(format!(
                "unknown node {name:?}: expected one of {}",
                names.join(", ")
            ))
        }
    };
    if let Some(x) = &s.send {
        known(&x.from)?;
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
        return Ok(Action::Send(spec));
    }
    if let Some(d) = &s.advance {
        return d
            .parse::<Duration>()
            .map(Action::Advance)
            .map_err(|e| e.to_string());
    }
    let check_target = |target: &RuleTarget| -> Result<(), String> {
        match target {
            RuleTarget::VmNic { vm, nic } => {
                known(vm)?;
                let Some(node) = t.nodes.iter().find(|n| &n.name == vm) else {
                    return Ok(()); // created by a step: the engine checks it when it runs
                };
                let node = Some(node);
                match node.and_then(|n| n.nics.iter().find(|x| &x.name == nic)) {
                    Some(x) if matches!(x.attach, Attach::Vbox(Mode::Nat { .. })) => Ok(()),
                    Some(_) => Err(format!("{vm} {nic} is not attached in NAT mode: forwarding rules belong to NAT-mode NICs")),
                    None => Err(format!("{vm} has no NIC {nic:?}: expected one of {}", node.map(|n| n.nics.iter().map(|x| x.name.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default())),
                }
            }
            RuleTarget::Router { name } => {
                known(name)?;
                match t.node(name) {
                    Some(n) if n.nat.is_some() => Ok(()),
                    _ => Err(format!("{name:?} is not a router doing NAT (it needs nat = {{ outside = \"...\" }})")),
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
    };
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
        super::topology::check_name(&x.vm).map_err(|e| e.to_string())?;
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
        super::topology::check_name(&x.to).map_err(|e| e.to_string())?;
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

impl Run {
    /// The trace as text: leases, then each action with its steps, then warnings.
    pub fn trace_text(&self) -> String {
        let mut s = String::new();
        if !self.leases.is_empty() {
            s.push_str("== start: DHCP\n");
            s.push_str(&super::trace::render(&self.leases));
        }
        for (i, (what, steps)) in self.actions.iter().enumerate() {
            s.push_str(&format!("== {}: {what}\n", i + 1));
            s.push_str(&super::trace::render(steps));
        }
        s
    }

    /// The final NAT tables as text, both like `conntrack -L` and like Cisco's
    /// `show ip nat translations`.
    pub fn nat_text(&self) -> String {
        let now = self.network.now();
        self.network
            .nats()
            .iter()
            .map(|(name, table)| nat_table_text(name, table, now))
            .collect()
    }
}

/// One NAT table as text, both like `conntrack -L` and like Cisco's `show ip nat
/// translations`: what `labvisor net run` prints, and what a real VM's `Ctrl-A n` shows.
pub fn nat_table_text(name: &str, table: &NatTable, now: Instant) -> String {
    let mut s = format!(
        "== {name} NAT ({}), {} connection(s) at t={now}\n",
        table.config().type_name(),
        table.conntrack().len()
    );
    for r in table.forwards() {
        s.push_str(&format!("forward {r}\n"));
    }
    for line in table.conntrack_lines(now) {
        s.push_str(&line);
        s.push('\n');
    }
    let rows = table.cisco_rows();
    if !rows.is_empty() {
        s.push_str(
            "Pro  Inside global        Inside local         Outside local        Outside global\n",
        );
        for r in rows {
            s.push_str(
                &format!(
                    "{:<4} {:<20} {:<20} {:<20} {}\n",
                    r[0], r[1], r[2], r[3], r[4]
                )
                .replace(" \n", "\n"),
            );
        }
    }
    s
}
