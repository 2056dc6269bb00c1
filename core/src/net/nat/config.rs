//! How a NAT behaves: the RFC 4787 mapping and filtering behaviours, where new external ports
//! come from, the table's limits and timeouts, and the Linux profile.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::net::conntrack::Timeouts;
use crate::net::packet::Proto;

/// An RFC 4787 behaviour, used for both mapping (§4.1) and filtering (§5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behavior {
    /// Independent of the remote endpoint.
    EndpointIndependent,
    /// Depends on the remote address.
    AddressDependent,
    /// Depends on the remote address and port.
    AddressAndPortDependent,
}

impl fmt::Display for Behavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Behavior::EndpointIndependent => "endpoint-independent",
            Behavior::AddressDependent => "address-dependent",
            Behavior::AddressAndPortDependent => "address-and-port-dependent",
        })
    }
}

/// The RFC 3489 name of a mapping × filtering combination, where it has one.
pub fn cone_name(mapping: Behavior, filtering: Behavior) -> Option<&'static str> {
    use Behavior::*;
    match (mapping, filtering) {
        (EndpointIndependent, EndpointIndependent) => Some("full cone"),
        (EndpointIndependent, AddressDependent) => Some("restricted cone"),
        (EndpointIndependent, AddressAndPortDependent) => Some("port-restricted cone"),
        (AddressAndPortDependent, AddressAndPortDependent) => Some("symmetric"),
        _ => None,
    }
}

/// The external ports a NAT allocates from when it cannot keep the source port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortPool {
    /// First port of the pool.
    pub first: u16,
    /// Last port of the pool (inclusive).
    pub last: u16,
}

/// How a NAT picks an external port when it cannot keep the source port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortChoice {
    /// A port is taken while a binding holds it; the next free port of the pool after the last
    /// one handed out is used. Predictable, so a lesson can say which port comes next.
    #[default]
    Sequential,
    /// Linux's choice (`nf_nat_core.c`, `get_unique_tuple` and `nf_nat_l4proto_unique_tuple`):
    /// a port is taken only while the whole reply tuple (remote address and port, external
    /// address, port) is in use, so two hosts may share an external port towards different
    /// servers. When the source port is taken, the search starts at a random offset in the
    /// source port's class (1–511, 600–1023 or 1024–65535; ICMP identifiers 0–65535) and
    /// goes up from there. Linux draws the offset from `get_random_u16()`; the model has no
    /// random source, so it draws from `seed` and a count of draws: a deterministic stand-in
    /// that lands on another port than Linux would, in the same range.
    Linux {
        /// Where the stand-in's draws start.
        seed: u64,
    },
}

/// The seed of [`NatConfig::linux`]'s port choice.
pub const LINUX_PORT_SEED: u64 = 0x4c61_6276_6973_6f72;

/// The ports Linux picks from when it must change a source port or ICMP identifier `port`
/// (`nf_nat_l4proto_unique_tuple` without `--to-ports`).
pub fn linux_port_class(proto: Proto, port: u16) -> PortPool {
    let (first, last) = match (proto, port) {
        (Proto::Icmp, _) => (0, 65535),
        (_, 0..=511) => (1, 511),
        (_, 512..=1023) => (600, 1023),
        _ => (1024, 65535),
    };
    PortPool { first, last }
}

/// How a NAT behaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct NatConfig {
    /// Mapping behaviour (RFC 4787 REQ-1 asks for endpoint-independent).
    pub mapping: Behavior,
    /// Filtering behaviour.
    pub filtering: Behavior,
    /// Whether inside hosts can reach each other through the NAT's external address (RFC 4787 REQ-9).
    pub hairpin: bool,
    /// Keep the internal source port when it is free (Linux MASQUERADE does).
    pub preserve_ports: bool,
    /// Where ports come from when the source port is taken.
    pub pool: PortPool,
    /// The table's bound (`nf_conntrack_max`).
    pub max_entries: u32,
    /// Conntrack timeouts.
    pub timeouts: Timeouts,
    /// How a port is picked when the source port cannot be kept.
    pub port_choice: PortChoice,
}

impl Default for NatConfig {
    /// A Linux home router: endpoint-independent mapping with source-port preservation and
    /// address-and-port-dependent filtering (a port-restricted cone), hairpinning on,
    /// ports 1024–65535, 65 536 entries.
    fn default() -> NatConfig {
        NatConfig {
            mapping: Behavior::EndpointIndependent,
            filtering: Behavior::AddressAndPortDependent,
            hairpin: true,
            preserve_ports: true,
            pool: PortPool {
                first: 1024,
                last: 65535,
            },
            max_entries: 65_536,
            timeouts: Timeouts::default(),
            port_choice: PortChoice::Sequential,
        }
    }
}

impl NatConfig {
    /// Linux as a router configures it: `iptables -t nat -A POSTROUTING -o OUTSIDE -j
    /// MASQUERADE`, with DNAT rules (`-i OUTSIDE`) for port forwards; the profile the
    /// differential test (`tests/linux_nat`) holds against the kernel. The source port is kept
    /// unless the reply tuple is taken, then chosen as [`PortChoice::Linux`] says; so a
    /// mapping is not guaranteed to be reused for another destination (address-and-port-
    /// dependent mapping in RFC 4787's terms, though it looks endpoint-independent while
    /// ports are kept); only exact replies get in (address-and-port-dependent filtering); no
    /// hairpinning (a DNAT rule on `-i OUTSIDE` does not see inside hosts' packets).
    pub fn linux() -> NatConfig {
        NatConfig {
            mapping: Behavior::AddressAndPortDependent,
            filtering: Behavior::AddressAndPortDependent,
            hairpin: false,
            port_choice: PortChoice::Linux {
                seed: LINUX_PORT_SEED,
            },
            ..NatConfig::default()
        }
    }

    /// The RFC 3489 name of this NAT's behaviour, or its RFC 4787 description.
    pub fn type_name(&self) -> String {
        if let PortChoice::Linux { .. } = self.port_choice {
            return format!(
                "Linux MASQUERADE: ports kept unless taken, {} filtering",
                self.filtering
            );
        }
        match cone_name(self.mapping, self.filtering) {
            Some(n) => n.to_string(),
            None => format!("{} mapping, {} filtering", self.mapping, self.filtering),
        }
    }
}
