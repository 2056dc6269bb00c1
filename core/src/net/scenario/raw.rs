//! The scenario file as TOML gives it: the `Raw*` types serde reads (with spans where a
//! message must point), the context errors are reported into, and the small readers of the
//! file's notations (modes, services, port pools, DHCP ranges, timeouts, rules).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::ops::Range;

use ipnet::Ipv4Net;
use serde::Deserialize;
use toml::Spanned;

use super::ScenarioError;
use crate::lang::Bilingual;
use crate::net::clock::Duration;
use crate::net::forward::PortForward;
use crate::net::nat::{Behavior, NatConfig, PortPool};
use crate::net::packet::Proto;
use crate::net::topology::NodeKind;
use crate::net::vbox::Mode;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub(super) title: Option<Spanned<toml::Value>>,
    pub(super) description: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) node: Vec<RawNode>,
    #[serde(default)]
    pub(super) natnetwork: Vec<RawNatNetwork>,
    #[serde(default)]
    pub(super) step: Vec<Spanned<RawStep>>,
    pub(super) goal: Option<Spanned<RawGoal>>,
}

/// `[goal]`: see [`super::goal`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGoal {
    pub(super) text: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) check: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    pub(super) solution: Vec<Spanned<RawStep>>,
}

/// One packet of a goal: sent from `from`, it must arrive at `reach` (on `port`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    pub(super) from: String,
    pub(super) to: Ipv4Addr,
    pub(super) proto: Proto,
    pub(super) dport: Option<u16>,
    pub(super) reach: String,
    pub(super) port: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNode {
    pub(super) name: Spanned<String>,
    pub(super) kind: NodeKind,
    pub(super) host: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) nic: Vec<RawNic>,
    #[serde(default)]
    pub(super) route: Vec<RawRoute>,
    pub(super) nat: Option<RawNat>,
    #[serde(default)]
    pub(super) listen: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNic {
    pub(super) name: Option<String>,
    pub(super) segment: Option<String>,
    pub(super) mode: Option<Spanned<String>>,
    pub(super) network: Option<String>,
    pub(super) ip: Option<Ipv4Net>,
    pub(super) gateway: Option<Ipv4Addr>,
    pub(super) dhcp: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) forward: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub(super) to: Ipv4Net,
    pub(super) via: Option<Ipv4Addr>,
    pub(super) nic: String,
}

/// `profile = "..."` of a NAT: where its settings start from (the other keys override them).
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
pub(super) enum RawProfile {
    /// [`NatConfig::default`]: RFC 4787's behaviours, set one by one.
    Teaching,
    /// [`NatConfig::linux`]: Linux MASQUERADE, as checked against the kernel.
    Linux,
}

impl RawProfile {
    pub(super) fn config(profile: Option<RawProfile>) -> NatConfig {
        match profile {
            Some(RawProfile::Linux) => NatConfig::linux(),
            Some(RawProfile::Teaching) | None => NatConfig::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawNatConfig {
    pub(super) profile: Option<RawProfile>,
    pub(super) mapping: Option<Behavior>,
    pub(super) filtering: Option<Behavior>,
    pub(super) hairpin: Option<bool>,
    pub(super) preserve_ports: Option<bool>,
    pub(super) pool: Option<Spanned<String>>,
    pub(super) max_entries: Option<u32>,
    #[serde(default)]
    pub(super) timeouts: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNat {
    pub(super) outside: String,
    #[serde(default)]
    pub(super) forward: Vec<Spanned<String>>,
    #[serde(flatten)]
    pub(super) config: RawNatConfigFlat,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub(super) struct RawNatConfigFlat {
    pub(super) profile: Option<RawProfile>,
    pub(super) mapping: Option<Behavior>,
    pub(super) filtering: Option<Behavior>,
    pub(super) hairpin: Option<bool>,
    pub(super) preserve_ports: Option<bool>,
    pub(super) pool: Option<String>,
    pub(super) max_entries: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNatNetwork {
    pub(super) name: Spanned<String>,
    #[serde(default = "default_natnet")]
    pub(super) cidr: Ipv4Net,
    pub(super) host: Spanned<String>,
    #[serde(default)]
    pub(super) forward: Vec<Spanned<String>>,
    pub(super) nat: Option<RawNatConfig>,
}

pub(super) fn default_natnet() -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::new(10, 0, 2, 0), 24).unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawStep {
    pub(super) send: Option<RawSend>,
    pub(super) advance: Option<String>,
    pub(super) forward_add: Option<RawRule>,
    pub(super) forward_remove: Option<RawRule>,
    pub(super) set_mode: Option<RawSetMode>,
    pub(super) add_vm: Option<RawVmHost>,
    pub(super) remove_vm: Option<String>,
    pub(super) rename_vm: Option<RawRename>,
    pub(super) set_host: Option<RawVmHost>,
    pub(super) add_nic: Option<RawAddNic>,
    pub(super) remove_nic: Option<RawNicRef>,
    pub(super) set_address: Option<RawSetAddress>,
    pub(super) add_natnetwork: Option<RawAddNatNetwork>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVmHost {
    #[serde(alias = "name")]
    pub(super) vm: String,
    pub(super) host: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRename {
    pub(super) from: String,
    pub(super) to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAddNic {
    pub(super) vm: String,
    pub(super) mode: String,
    pub(super) network: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNicRef {
    pub(super) vm: String,
    pub(super) nic: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSetAddress {
    pub(super) vm: String,
    pub(super) nic: String,
    /// `a.b.c.d/prefix`, or absent for DHCP.
    pub(super) ip: Option<Ipv4Net>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAddNatNetwork {
    pub(super) name: String,
    #[serde(default = "default_natnet")]
    pub(super) cidr: Ipv4Net,
    pub(super) host: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSend {
    pub(super) from: String,
    pub(super) to: Ipv4Addr,
    pub(super) proto: Proto,
    pub(super) sport: Option<u16>,
    pub(super) dport: Option<u16>,
    pub(super) id: Option<u16>,
    pub(super) flags: Option<String>,
    pub(super) ttl: Option<u8>,
    #[serde(default)]
    pub(super) label: String,
    pub(super) answer: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub(super) vm: Option<String>,
    pub(super) nic: Option<String>,
    pub(super) natnetwork: Option<String>,
    pub(super) router: Option<String>,
    pub(super) rule: Option<String>,
    pub(super) name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSetMode {
    pub(super) vm: String,
    pub(super) nic: String,
    pub(super) mode: String,
    pub(super) network: Option<String>,
    #[serde(default)]
    pub(super) forward: Vec<String>,
}

pub(super) struct Ctx<'a> {
    pub(super) file: &'a str,
    pub(super) src: &'a str,
    pub(super) errors: Vec<ScenarioError>,
    /// Where each line starts: every step asks for its line, so counting newlines from the
    /// top each time made parsing quadratic in the file's length.
    line_starts: Vec<usize>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(file: &'a str, src: &'a str) -> Ctx<'a> {
        let line_starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Ctx {
            file,
            src,
            errors: Vec::new(),
            line_starts,
        }
    }

    /// The 1-based line and column (in characters) of byte `offset`.
    pub(super) fn pos(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self
            .src
            .get(start..offset)
            .map_or(0, |text| text.chars().count())
            + 1;
        (line, column)
    }

    pub(super) fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
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
pub(super) fn bilingual(ctx: &mut Ctx, key: &str, raw: Option<&Spanned<toml::Value>>) -> Bilingual {
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

pub(super) fn parse_mode(
    s: &str,
    network: Option<&str>,
    forwards: Vec<PortForward>,
) -> Result<Mode, String> {
    Ok(match s {
        "nat" => Mode::Nat { forwards },
        "natnetwork" | "nat-network" => {
            Mode::NatNetwork(network.unwrap_or("NatNetwork").to_string())
        }
        "bridged" => Mode::Bridged,
        "hostonly" | "host-only" => Mode::HostOnly(
            network
                .unwrap_or(crate::net::vbox::DEFAULT_HOST_ONLY)
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

pub(super) fn parse_service(s: &str) -> Result<(Proto, u16), String> {
    let err =
        || format!("invalid service {s:?}: expected proto/port, like \"tcp/22\" or \"udp/53\"");
    let (p, port) = s.split_once('/').ok_or_else(err)?;
    let proto: Proto = p.parse().map_err(|_| err())?;
    if proto == Proto::Icmp {
        return Err(err());
    }
    Ok((proto, port.parse().map_err(|_| err())?))
}

pub(super) fn parse_pool(s: &str) -> Result<PortPool, String> {
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

pub(super) fn parse_range(s: &str) -> Result<(Ipv4Addr, Ipv4Addr), String> {
    let err = || {
        format!("invalid DHCP pool {s:?}: expected first-last addresses, like \"192.168.1.100-192.168.1.199\"")
    };
    let (a, b) = s.split_once('-').ok_or_else(err)?;
    Ok((
        a.trim().parse().map_err(|_| err())?,
        b.trim().parse().map_err(|_| err())?,
    ))
}

pub(super) fn apply_timeouts(
    ctx: &mut Ctx,
    config: &mut NatConfig,
    raw: &BTreeMap<String, Spanned<String>>,
) {
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

pub(super) fn rules(
    ctx: &mut Ctx,
    raw: &[Spanned<String>],
    parse: fn(&str) -> Result<PortForward, crate::net::forward::ForwardError>,
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
