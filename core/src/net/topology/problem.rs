//! What can be wrong with a topology, found by [`super::Topology::check`], the wiring and
//! [`super::warnings`]: each [`Issue`] a typed value that explains itself in both languages.

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::{NameError, NodeKind};
use crate::lang::particle::{eul_reul, eun_neun, euro_ro, i_ga};
use crate::lang::{Explain, Lang};
use crate::net::forward::PortForward;

/// How serious a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The topology cannot run.
    Error,
    /// It runs, but probably not as meant.
    Warning,
}

/// One thing wrong with a topology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// Which element (`vm1 eth0`, `natnetwork NatNetwork`).
    pub at: String,
    /// What is wrong.
    pub issue: Issue,
}

impl Problem {
    /// An error at `at`.
    pub(crate) fn error(at: impl Into<String>, issue: Issue) -> Problem {
        Problem {
            severity: Severity::Error,
            at: at.into(),
            issue,
        }
    }
}

/// `error: vm1 eth0: …`: the severity, the element, the English explanation.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}", self.explain_in(Lang::En))
    }
}

/// The element, then what is wrong with it: `vm1 eth0: gateway … is outside …`. The severity
/// is the front end's label to add.
impl Explain for Problem {
    fn explain_in(&self, lang: Lang) -> String {
        format!("{}: {}", self.at, self.issue.explain_in(lang))
    }
}

/// What is wrong with one element of a topology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Issue {
    /// A node's name breaks the naming rule.
    BadName(NameError),
    /// Two nodes share a name.
    DuplicateNode,
    /// Two NICs of one node share a name.
    DuplicateNic,
    /// A VM's NIC is plugged into a segment instead of a VirtualBox mode.
    VmOnSegment {
        /// The segment.
        segment: String,
    },
    /// A machine other than a VM has a VirtualBox mode.
    ModeOnMachine {
        /// What the machine is.
        kind: NodeKind,
        /// The mode, as VirtualBox names it.
        mode: String,
    },
    /// A NIC's gateway is not on its subnet.
    GatewayOutsideSubnet {
        /// The gateway.
        gateway: Ipv4Addr,
        /// The NIC's subnet.
        subnet: Ipv4Net,
    },
    /// A DHCP server on a NIC without a static address.
    DhcpWithoutAddress,
    /// A DHCP pool that is not a range inside the NIC's subnet.
    DhcpPoolOutside {
        /// First address of the pool.
        first: Ipv4Addr,
        /// Last address of the pool.
        last: Ipv4Addr,
        /// The NIC's subnet.
        subnet: Ipv4Net,
    },
    /// A NIC names a NAT Network that is not declared.
    UnknownNatNetwork {
        /// The name.
        name: String,
    },
    /// A VM without the host that runs it.
    VmWithoutHost,
    /// A host name that names no node (or no host).
    UnknownHost {
        /// The name.
        name: String,
    },
    /// A VM's host is another kind of machine.
    NotAHost {
        /// The name.
        name: String,
        /// What it is.
        kind: NodeKind,
    },
    /// A machine other than a VM says it runs on a host.
    HostOfNonVm {
        /// What it is.
        kind: NodeKind,
    },
    /// A machine other than a router does NAT.
    NatOnNonRouter {
        /// What it is.
        kind: NodeKind,
    },
    /// A router's NAT names an outside NIC it does not have.
    UnknownNatOutside {
        /// The NIC's name.
        nic: String,
    },
    /// A route goes out of a NIC the node does not have.
    RouteUnknownNic {
        /// The route, as `ip route` prints it.
        route: String,
        /// The NIC's name.
        nic: String,
    },
    /// Two NAT Networks share a name.
    DuplicateNatNetwork,
    /// A NAT Network smaller than a /29.
    NatNetworkTooSmall {
        /// Its network.
        cidr: Ipv4Net,
    },
    /// A NAT Network's rule forwards outside the network.
    ForwardOutside {
        /// The rule's name.
        rule: String,
        /// Where it forwards.
        guest: Ipv4Addr,
        /// The network.
        cidr: Ipv4Net,
    },
    /// A NAT Network's rule without the guest's address.
    ForwardWithoutGuest {
        /// The rule's name.
        rule: String,
    },
    /// Two rules claim the same name or the same host port.
    ForwardConflict {
        /// The later rule.
        rule: PortForward,
        /// The earlier rule it clashes with.
        with: PortForward,
    },
    /// A rule on a host port below 1024 (a warning).
    PrivilegedPort {
        /// The rule's name.
        rule: String,
        /// The host port.
        port: u16,
    },
    /// A NAT adapter numbered beyond what NAT numbering gives addresses to.
    AdapterBeyondNat {
        /// The adapter's number, from 1.
        adapter: usize,
    },
    /// Bridged to a host that has no NIC on a LAN.
    BridgedWithoutLan {
        /// The host.
        host: String,
    },
    /// A host-only network named unlike a host-only adapter.
    NotHostOnlyName {
        /// The name.
        name: String,
    },
    /// A DHCP server with no address left.
    DhcpExhausted {
        /// The server.
        server: Ipv4Addr,
        /// First address of the pool.
        first: Ipv4Addr,
        /// Last address of the pool.
        last: Ipv4Addr,
    },
    /// Two NICs on one segment with the same address.
    AddressInUse {
        /// The address.
        addr: Ipv4Addr,
        /// The NIC that had it first.
        other: String,
        /// The segment.
        segment: String,
    },
}

/// A machine's kind in Korean.
fn kind_ko(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Host => "호스트",
        NodeKind::Vm => "VM",
        NodeKind::Router => "라우터",
        NodeKind::Server => "서버",
    }
}

impl Explain for Issue {
    fn explain_in(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.english(),
            Lang::Ko => self.korean(),
        }
    }
}

impl Issue {
    fn english(&self) -> String {
        use Issue::*;
        match self {
            BadName(why) => why.to_string(),
            DuplicateNode => "another node has the same name".into(),
            DuplicateNic => "another NIC of this node has the same name".into(),
            VmOnSegment { segment } => format!("a VM's NIC is attached in a VirtualBox mode (nat, natnetwork, bridged, hostonly, internal, none), not to segment {segment:?}"),
            ModeOnMachine { kind, mode } => format!("only VMs have VirtualBox attachment modes; this {kind} has mode {mode}: plug it into a segment"),
            GatewayOutsideSubnet { gateway, subnet } => format!("gateway {gateway} is outside the NIC's subnet {subnet}"),
            DhcpWithoutAddress => "a DHCP server needs a static address on its NIC".into(),
            DhcpPoolOutside { first, last, subnet } => format!("DHCP pool {first}-{last} is not a range inside {subnet}"),
            UnknownNatNetwork { name } => format!("unknown NAT Network {name:?}: declare it in [[natnetwork]]"),
            VmWithoutHost => "a VM needs the host that runs it (host = \"...\")".into(),
            UnknownHost { name } => format!("unknown host {name:?}"),
            NotAHost { name, kind } => format!("{name:?} is a {kind}, not a host"),
            HostOfNonVm { kind } => format!("only VMs run on a host; this is a {kind}"),
            NatOnNonRouter { kind } => format!("only routers do NAT; this is a {kind}"),
            UnknownNatOutside { nic } => format!("NAT outside NIC {nic:?} is not one of its NICs"),
            RouteUnknownNic { route, nic } => format!("route {route} uses unknown NIC {nic:?}"),
            DuplicateNatNetwork => "another NAT Network has the same name".into(),
            NatNetworkTooSmall { cidr } => format!("{cidr} is smaller than a /29: no room for the gateway .1, the DHCP server .3 and guests from .4"),
            ForwardOutside { rule, guest, cidr } => format!("rule {rule:?} forwards to {guest}, outside the network {cidr}"),
            ForwardWithoutGuest { rule } => format!("rule {rule:?} must name the guest address"),
            ForwardConflict { rule, with } => format!(
                "rule {:?} conflicts: {}",
                rule.name,
                rule.conflict_with(std::slice::from_ref(with))
                    .map(|c| c.explain_in(Lang::En))
                    .unwrap_or_default()
            ),
            PrivilegedPort { rule, port } => format!("rule {rule:?} listens on host port {port} (below 1024): on a Linux host VirtualBox, run as a user, cannot open it (net.ipv4.ip_unprivileged_port_start = 1024)"),
            AdapterBeyondNat { adapter } => format!("adapter {adapter} is beyond what NAT numbering supports"),
            BridgedWithoutLan { host } => format!("bridged to host {host:?}, which has no NIC on a LAN"),
            NotHostOnlyName { name } => {
                let windows = crate::net::vbox::WINDOWS_HOST_ONLY;
                format!("host-only network {name:?} is not a host-only adapter's name: expected vboxnetN (Linux, macOS) or \"{windows}\" / \"{windows} #N\" (Windows)")
            }
            DhcpExhausted { server, first, last } => format!("the DHCP server {server} has no free address left in {first}-{last}"),
            AddressInUse { addr, other, segment } => format!("address {addr} is already used by {other} on segment {segment}"),
        }
    }

    fn korean(&self) -> String {
        use Issue::*;
        match self {
            BadName(why) => why.explain_in(Lang::Ko),
            DuplicateNode => "같은 이름의 노드가 또 있습니다".into(),
            DuplicateNic => "이 노드에 같은 이름의 NIC이 또 있습니다".into(),
            VmOnSegment { segment } => format!("VM의 NIC은 세그먼트 {} 아니라 VirtualBox 연결 모드(nat, natnetwork, bridged, hostonly, internal, none)로 연결합니다", i_ga(format!("{segment:?}"))),
            ModeOnMachine { kind, mode } => format!("VirtualBox 연결 모드는 VM에만 있습니다. 이 {}에 모드 {} 있습니다. 세그먼트에 연결하세요", kind_ko(*kind), i_ga(mode)),
            GatewayOutsideSubnet { gateway, subnet } => format!("게이트웨이 {} NIC의 서브넷 {subnet} 밖에 있습니다", i_ga(gateway)),
            DhcpWithoutAddress => "DHCP 서버는 자기 NIC에 고정 주소가 있어야 합니다".into(),
            DhcpPoolOutside { first, last, subnet } => format!("DHCP 풀 {first}-{} {subnet} 안의 범위가 아닙니다", i_ga(last)),
            UnknownNatNetwork { name } => format!("{name:?}라는 NAT 네트워크가 없습니다. [[natnetwork]]에 선언하세요"),
            VmWithoutHost => "VM에는 자기를 실행할 호스트가 필요합니다(host = \"...\")".into(),
            UnknownHost { name } => format!("{name:?}라는 호스트가 없습니다"),
            NotAHost { name, kind } => format!("{} 호스트가 아니라 {}입니다", eun_neun(format!("{name:?}")), kind_ko(*kind)),
            HostOfNonVm { kind } => format!("호스트 위에서 실행되는 것은 VM뿐입니다. 이것은 {}입니다", kind_ko(*kind)),
            NatOnNonRouter { kind } => format!("NAT는 라우터만 합니다. 이것은 {}입니다", kind_ko(*kind)),
            UnknownNatOutside { nic } => format!("NAT 바깥쪽 NIC {} 이 노드의 NIC이 아닙니다", eun_neun(format!("{nic:?}"))),
            RouteUnknownNic { route, nic } => format!("경로 {} 없는 NIC {} 씁니다", i_ga(route), eul_reul(format!("{nic:?}"))),
            DuplicateNatNetwork => "같은 이름의 NAT 네트워크가 또 있습니다".into(),
            NatNetworkTooSmall { cidr } => format!("{} /29보다 작습니다. 게이트웨이 .1, DHCP 서버 .3, 그리고 .4부터 게스트가 쓸 주소가 없습니다", eun_neun(cidr)),
            ForwardOutside { rule, guest, cidr } => format!("규칙 {} 네트워크 {cidr} 밖의 {} 포워딩합니다", i_ga(format!("{rule:?}")), euro_ro(guest)),
            ForwardWithoutGuest { rule } => format!("규칙 {rule:?}에는 게스트 주소가 있어야 합니다"),
            ForwardConflict { rule, with } => format!(
                "규칙 {:?}: 충돌합니다. {}",
                rule.name,
                rule.conflict_with(std::slice::from_ref(with))
                    .map(|c| c.explain_in(Lang::Ko))
                    .unwrap_or_default()
            ),
            PrivilegedPort { rule, port } => format!("규칙 {} 호스트 포트 {port}(1024 미만)에서 수신합니다. Linux 호스트에서 일반 사용자로 실행한 VirtualBox는 이 포트를 열 수 없습니다(net.ipv4.ip_unprivileged_port_start = 1024)", eun_neun(format!("{rule:?}"))),
            AdapterBeyondNat { adapter } => format!("어댑터 {adapter}번은 NAT 번호 매기기가 지원하는 범위를 넘습니다"),
            BridgedWithoutLan { host } => format!("호스트 {host:?}에 브리지했지만 그 호스트에는 LAN에 연결된 NIC이 없습니다"),
            NotHostOnlyName { name } => {
                let windows = crate::net::vbox::WINDOWS_HOST_ONLY;
                format!("호스트 전용 네트워크 {} 호스트 전용 어댑터의 이름이 아닙니다. vboxnetN(Linux, macOS) 또는 \"{windows}\" / \"{windows} #N\"(Windows)이어야 합니다", eun_neun(format!("{name:?}")))
            }
            DhcpExhausted { server, first, last } => format!("DHCP 서버 {server}에 {first}-{last} 범위의 남은 주소가 없습니다"),
            AddressInUse { addr, other, segment } => format!("주소 {} 세그먼트 {segment}에서 이미 {} 쓰고 있습니다", eun_neun(addr), i_ga(other)),
        }
    }
}
