//! How the core's types are spelled in action logs: the forms lesson files, drafts in the
//! browser and share codes have always used. The log's types are the core's; only these
//! spellings are the lessons' own.

use std::net::Ipv4Addr;

use labvisor_core::net::forward::PortForward;
use labvisor_core::net::packet::Proto;
use labvisor_core::net::vbox::{Mode, DEFAULT_HOST_ONLY};
use serde::{Deserialize, Serialize};

use super::ForwardStep;

/// The NAT Network a lesson's VMs join: VirtualBox's default name for the first one.
pub const LESSON_NAT_NETWORK: &str = "NatNetwork";

/// The internal network a lesson's VMs join: VirtualBox's default name.
pub const LESSON_INTERNAL_NETWORK: &str = "intnet";

/// A mode by kind, as logs name it. The variants' order is the postcard layout: keep it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum ModeKind {
    Nat,
    NatNetwork,
    Bridged,
    HostOnly,
    Internal,
    NotAttached,
}

impl ModeKind {
    const ALL: [ModeKind; 6] = [
        ModeKind::Nat,
        ModeKind::NatNetwork,
        ModeKind::Bridged,
        ModeKind::HostOnly,
        ModeKind::Internal,
        ModeKind::NotAttached,
    ];

    fn of(mode: &Mode) -> ModeKind {
        match mode {
            Mode::Nat { .. } => ModeKind::Nat,
            Mode::NatNetwork(_) => ModeKind::NatNetwork,
            Mode::Bridged => ModeKind::Bridged,
            Mode::HostOnly(_) => ModeKind::HostOnly,
            Mode::Internal(_) => ModeKind::Internal,
            Mode::NotAttached => ModeKind::NotAttached,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ModeKind::Nat => "nat",
            ModeKind::NatNetwork => "nat-network",
            ModeKind::Bridged => "bridged",
            ModeKind::HostOnly => "host-only",
            ModeKind::Internal => "internal",
            ModeKind::NotAttached => "not-attached",
        }
    }

    pub(super) fn mode(self) -> Mode {
        match self {
            ModeKind::Nat => Mode::Nat {
                forwards: Vec::new(),
            },
            ModeKind::NatNetwork => Mode::NatNetwork(LESSON_NAT_NETWORK.into()),
            ModeKind::Bridged => Mode::Bridged,
            ModeKind::HostOnly => Mode::HostOnly(DEFAULT_HOST_ONLY.into()),
            ModeKind::Internal => Mode::Internal(LESSON_INTERNAL_NETWORK.into()),
            ModeKind::NotAttached => Mode::NotAttached,
        }
    }
}

/// The name a log gives `mode`'s kind: `nat`, `nat-network`, `bridged`, `host-only`,
/// `internal` or `not-attached`.
pub fn mode_name(mode: &Mode) -> &'static str {
    ModeKind::of(mode).name()
}

/// The mode a log's kind name stands for. A lesson has one network of each kind, VirtualBox's
/// default: the NAT Network [`LESSON_NAT_NETWORK`], the host-only [`DEFAULT_HOST_ONLY`], the
/// internal [`LESSON_INTERNAL_NETWORK`]; a NAT adapter starts with no rules (steps add them).
pub fn lesson_mode(name: &str) -> Option<Mode> {
    ModeKind::ALL
        .into_iter()
        .find(|kind| kind.name() == name)
        .map(ModeKind::mode)
}

/// Every mode a lesson knows, one of each kind (see [`lesson_mode`]), in VirtualBox's order.
pub fn lesson_modes() -> Vec<Mode> {
    ModeKind::ALL.into_iter().map(ModeKind::mode).collect()
}

/// `#[serde(with)]` for a list of modes (a lesson VM's NICs), each as [`mode_kind`] writes it.
pub(crate) mod mode_kinds {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Mode, ModeKind};

    pub fn serialize<S: Serializer>(modes: &[Mode], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(modes.iter().map(ModeKind::of))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Mode>, D::Error> {
        let kinds = Vec::<ModeKind>::deserialize(d)?;
        Ok(kinds.into_iter().map(ModeKind::mode).collect())
    }
}

/// `#[serde(with)]` for a step's mode: written as its kind, read as [`lesson_mode`].
pub(crate) mod mode_kind {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Mode, ModeKind};

    pub fn serialize<S: Serializer>(mode: &Mode, s: S) -> Result<S::Ok, S::Error> {
        ModeKind::of(mode).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Mode, D::Error> {
        ModeKind::deserialize(d).map(ModeKind::mode)
    }
}

/// A forwarding step's fields as logs write them: flat, with VirtualBox's names.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct ForwardFields {
    pub name: String,
    pub proto: Proto,
    // No `skip_serializing_if`: postcard is not self-describing and needs every field.
    #[serde(default)]
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    #[serde(default)]
    pub guest_ip: Option<Ipv4Addr>,
    pub guest_port: u16,
    #[serde(default)]
    pub vm: Option<String>,
}

impl TryFrom<ForwardFields> for ForwardStep {
    type Error = String;

    /// Refuses what VBoxManage would: no name, a name holding its separators, ICMP.
    fn try_from(f: ForwardFields) -> Result<ForwardStep, String> {
        if f.name.trim().is_empty() {
            return Err("a forwarding rule needs a name, e.g. \"ssh\"".into());
        }
        if f.name.contains([',', ':']) {
            return Err(format!(
                "rule name {:?}: VBoxManage separates a rule's fields with ',' and ':', so a name cannot hold them",
                f.name
            ));
        }
        if f.proto == Proto::Icmp {
            return Err(
                "a forwarding rule carries tcp or udp; ping (icmp) is not forwarded".into(),
            );
        }
        Ok(ForwardStep {
            rule: PortForward {
                name: f.name,
                proto: f.proto,
                host_ip: f.host_ip,
                host_port: f.host_port,
                guest_ip: f.guest_ip,
                guest_port: f.guest_port,
            },
            vm: f.vm,
        })
    }
}

impl From<ForwardStep> for ForwardFields {
    fn from(step: ForwardStep) -> ForwardFields {
        let rule = step.rule;
        ForwardFields {
            name: rule.name,
            proto: rule.proto,
            host_ip: rule.host_ip,
            host_port: rule.host_port,
            guest_ip: rule.guest_ip,
            guest_port: rule.guest_port,
            vm: step.vm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_kind_reads_back_as_the_mode_it_names() {
        for kind in ModeKind::ALL {
            let mode = kind.mode();
            assert_eq!(ModeKind::of(&mode), kind);
            assert_eq!(lesson_mode(mode_name(&mode)), Some(mode));
        }
        assert_eq!(lesson_mode("nat network"), None);
    }
}
