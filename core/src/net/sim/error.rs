//! Why an action on a running [`Network`](super::Network) could not be applied, in both
//! languages ([`Explain`]); the English is the `Display` form.

use ipnet::Ipv4Net;

use super::MAX_ADAPTERS;
use crate::lang::particle::eun_neun;
use crate::lang::{Explain, Lang};
use crate::net::topology::{NameError, NodeKind, Problem};

/// Why an action could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// A node name that does not exist.
    #[error("unknown node {0:?}")]
    UnknownNode(String),
    /// A NIC name that does not exist.
    #[error("node {node:?} has no NIC {nic:?}")]
    UnknownNic {
        /// The node.
        node: String,
        /// The NIC.
        nic: String,
    },
    /// A forwarding rule could not be added or removed.
    #[error("{0}")]
    Rule(String),
    /// A name that breaks the naming rule, or is taken.
    #[error("{0}")]
    Name(NameError),
    /// The node is not a VM (only VMs are created, renamed and removed here).
    #[error("{0:?} is a {1}, not a VM: only VMs can be changed this way")]
    NotAVm(String, NodeKind),
    /// A NAT Network too small for its gateway, DHCP server and a guest.
    #[error("a NAT Network needs room for the gateway .1, the DHCP server .3 and guests from .4: {0} is smaller than a /29")]
    TooSmall(Ipv4Net),
    /// A VM has no room for another adapter.
    #[error("{0} already has {MAX_ADAPTERS} network adapters, the most a VirtualBox VM has")]
    TooManyNics(String),
    /// The change makes the topology invalid.
    #[error("the change makes the topology invalid: {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
}

impl Explain for ActionError {
    fn explain_in(&self, lang: Lang) -> String {
        use ActionError::*;
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            UnknownNode(n) => format!("{n:?}라는 노드가 없습니다"),
            UnknownNic { node, nic } => format!("{node}에는 {nic:?}라는 NIC이 없습니다"),
            Rule(m) => format!("포워딩 규칙을 바꿀 수 없습니다({m})"),
            Name(n) => n.explain_in(lang),
            NotAVm(n, k) => format!("{} VM이 아니라 {k}입니다. 이렇게 바꿀 수 있는 것은 VM뿐입니다", eun_neun(format!("{n:?}"))),
            TooSmall(net) => format!("NAT 네트워크에는 게이트웨이 .1, DHCP 서버 .3, 그리고 .4부터 게스트가 쓸 주소가 필요합니다. {} /29보다 작습니다", eun_neun(net)),
            TooManyNics(vm) => format!("{vm}에는 이미 네트워크 어댑터가 {MAX_ADAPTERS}개 있습니다. VirtualBox VM이 가질 수 있는 최대 개수입니다"),
            Invalid(p) => format!(
                "이 변경은 토폴로지를 잘못되게 만듭니다: {}",
                p.iter()
                    .map(|p| p.explain_in(lang))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
}
