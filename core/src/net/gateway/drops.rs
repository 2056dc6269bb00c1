//! Why the gateway dropped a guest's frame, and the per-reason counters a learner (and the
//! hostile-frame tests) read. A drop never stops the link: the frame is counted and forgotten.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::dhcp::DhcpError;
use super::ethernet::Mac;
use crate::lang::particle::{eul_reul, eun_neun, euro_ro};
use crate::lang::{Explain, Lang};
use crate::net::conntrack::FlowKey;
use crate::net::nat::NatDrop;
use crate::net::packet::Proto;
use crate::net::wire::WireError;

/// Why a frame from the guest (or a packet the host side received for it) was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuestDrop {
    /// Shorter than the Ethernet header.
    #[error("a frame of {len} bytes is shorter than the 14-byte Ethernet header")]
    FrameTooShort {
        /// Its length.
        len: usize,
    },
    /// Longer than any IPv4 packet in a frame.
    #[error("a frame of {len} bytes is longer than the {max}-byte limit")]
    FrameTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Sent to a unicast MAC that belongs to no one on the link.
    #[error("a frame for {dst}, a MAC address no one on this link has")]
    ForeignMac {
        /// The destination MAC.
        dst: Mac,
    },
    /// A broadcast or multicast MAC as the source, which no station may use.
    #[error("a frame from {src}, a group address no station may send from")]
    GroupSource {
        /// The source MAC.
        src: Mac,
    },
    /// Neither IPv4 nor ARP.
    #[error("EtherType {0:#06x} is neither IPv4 (0x0800) nor ARP (0x0806)")]
    EtherType(u16),
    /// A malformed ARP packet.
    #[error("malformed ARP packet: {0}")]
    BadArp(&'static str),
    /// The guest claimed the gateway's (or the DNS server's) address or MAC as its own.
    #[error("spoofing: the guest sent from {ip} / {mac}, which belong to the NAT engine")]
    Spoofed {
        /// The source address claimed.
        ip: Ipv4Addr,
        /// The source MAC claimed.
        mac: Mac,
    },
    /// An ARP request for an address no one on the link has.
    #[error("ARP request for {0}: no one on this link has that address")]
    ArpNotOurs(Ipv4Addr),
    /// The IPv4 packet is malformed (truncated, bad length, checksum, fragment, protocol).
    #[error("{0}")]
    Ip(WireError),
    /// A UDP or ICMP checksum is wrong.
    #[error("{proto} checksum is wrong")]
    BadChecksum {
        /// Which protocol.
        proto: Proto,
    },
    /// A DHCP message the server cannot accept.
    #[error("DHCP: {0}")]
    Dhcp(DhcpError),
    /// A ping to an address other than the NAT engine's own.
    #[error("ping to {0}: the NAT engine answers pings to its own addresses only")]
    IcmpElsewhere(Ipv4Addr),
    /// Something other than DNS over UDP port 53 sent to the DNS address.
    #[error("{proto} port {port} at the DNS address {dns}: only DNS over UDP port 53 is served")]
    NotDns {
        /// The DNS address.
        dns: Ipv4Addr,
        /// The protocol.
        proto: Proto,
        /// The port.
        port: u16,
    },
    /// To an address no one owns: another address of the NAT network, a broadcast, a
    /// multicast or a loopback address.
    #[error("destination {0} is not routable from the NAT network")]
    Unroutable(Ipv4Addr),
    /// To the gateway, which stands for the host's loopback, while that is switched off.
    #[error("{0} is the host's loopback, and host loopback is switched off")]
    HostLoopbackOff(Ipv4Addr),
    /// A TCP segment without SYN for a connection no one knows: the engine terminates TCP,
    /// so unlike a router's conntrack it cannot pick a connection up in the middle.
    #[error("{0}: a TCP segment without SYN for a connection the NAT engine does not know")]
    TcpNoConnection(FlowKey),
    /// The NAT table refused the flow.
    #[error("dropped by NAT: {0}")]
    Nat(NatDrop),
}

/// A drop reason without its values: what the counters count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropKind {
    /// [`GuestDrop::FrameTooShort`].
    FrameTooShort,
    /// [`GuestDrop::FrameTooLong`].
    FrameTooLong,
    /// [`GuestDrop::ForeignMac`].
    ForeignMac,
    /// [`GuestDrop::GroupSource`].
    GroupSource,
    /// [`GuestDrop::EtherType`].
    EtherType,
    /// [`GuestDrop::BadArp`].
    BadArp,
    /// [`GuestDrop::Spoofed`].
    Spoofed,
    /// [`GuestDrop::ArpNotOurs`].
    ArpNotOurs,
    /// An IPv4 header or packet shorter than it says.
    IpTruncated,
    /// An IPv4, TCP or UDP length field that cannot be.
    IpBadLength,
    /// A wrong IPv4 header checksum.
    IpBadChecksum,
    /// Not IPv4.
    NotIpv4,
    /// A fragment.
    IpFragment,
    /// An IP protocol other than TCP, UDP and ICMP.
    IpProtocol,
    /// An ICMP type other than echo.
    IcmpType,
    /// [`GuestDrop::BadChecksum`].
    BadChecksum,
    /// [`GuestDrop::Dhcp`].
    Dhcp,
    /// [`GuestDrop::IcmpElsewhere`].
    IcmpElsewhere,
    /// [`GuestDrop::NotDns`].
    NotDns,
    /// [`GuestDrop::Unroutable`].
    Unroutable,
    /// [`GuestDrop::HostLoopbackOff`].
    HostLoopbackOff,
    /// [`GuestDrop::TcpNoConnection`].
    TcpNoConnection,
    /// The NAT's conntrack table is full.
    NatTableFull,
    /// The NAT has no free external port.
    NatPoolExhausted,
    /// Any other refusal by the NAT (no mapping, filtered, tuple clash).
    NatRefused,
}

impl GuestDrop {
    /// What the counters count this drop as.
    pub fn kind(&self) -> DropKind {
        match self {
            GuestDrop::FrameTooShort { .. } => DropKind::FrameTooShort,
            GuestDrop::FrameTooLong { .. } => DropKind::FrameTooLong,
            GuestDrop::ForeignMac { .. } => DropKind::ForeignMac,
            GuestDrop::GroupSource { .. } => DropKind::GroupSource,
            GuestDrop::EtherType(_) => DropKind::EtherType,
            GuestDrop::BadArp(_) => DropKind::BadArp,
            GuestDrop::Spoofed { .. } => DropKind::Spoofed,
            GuestDrop::ArpNotOurs(_) => DropKind::ArpNotOurs,
            GuestDrop::Ip(e) => wire_kind(e),
            GuestDrop::BadChecksum { .. } => DropKind::BadChecksum,
            GuestDrop::Dhcp(_) => DropKind::Dhcp,
            GuestDrop::IcmpElsewhere(_) => DropKind::IcmpElsewhere,
            GuestDrop::NotDns { .. } => DropKind::NotDns,
            GuestDrop::Unroutable(_) => DropKind::Unroutable,
            GuestDrop::HostLoopbackOff(_) => DropKind::HostLoopbackOff,
            GuestDrop::TcpNoConnection(_) => DropKind::TcpNoConnection,
            GuestDrop::Nat(NatDrop::TableFull { .. }) => DropKind::NatTableFull,
            GuestDrop::Nat(NatDrop::PoolExhausted { .. }) => DropKind::NatPoolExhausted,
            GuestDrop::Nat(_) => DropKind::NatRefused,
        }
    }
}

fn wire_kind(e: &WireError) -> DropKind {
    match e {
        WireError::Truncated { .. } => DropKind::IpTruncated,
        WireError::NotIpv4(_) => DropKind::NotIpv4,
        WireError::BadLength { .. } => DropKind::IpBadLength,
        WireError::BadChecksum { .. } => DropKind::IpBadChecksum,
        WireError::Fragment { .. } => DropKind::IpFragment,
        WireError::Protocol(_) => DropKind::IpProtocol,
        WireError::IcmpType(_) | WireError::Quoted(_) | WireError::Unrelated(_) => {
            DropKind::IcmpType
        }
        WireError::BadIcmpChecksum { .. } => DropKind::BadChecksum,
        WireError::Nat(NatDrop::TableFull { .. }) => DropKind::NatTableFull,
        WireError::Nat(NatDrop::PoolExhausted { .. }) => DropKind::NatPoolExhausted,
        WireError::Nat(_) => DropKind::NatRefused,
    }
}

impl Explain for GuestDrop {
    fn explain_in(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            GuestDrop::FrameTooShort { len } => {
                format!("{len}바이트 프레임은 14바이트 이더넷 헤더보다 짧습니다")
            }
            GuestDrop::FrameTooLong { len, max } => {
                format!("{len}바이트 프레임은 한도 {max}바이트보다 깁니다")
            }
            GuestDrop::ForeignMac { dst } => {
                format!(
                    "{} 가는 프레임: 이 링크에 그 MAC 주소를 가진 장치가 없습니다",
                    euro_ro(dst)
                )
            }
            GuestDrop::GroupSource { src } => {
                format!("{src}에서 온 프레임: 그룹 주소는 어떤 장치도 출발지로 쓸 수 없습니다")
            }
            GuestDrop::EtherType(t) => {
                format!(
                    "EtherType {} IPv4(0x0800)도 ARP(0x0806)도 아닙니다",
                    eun_neun(format!("{t:#06x}"))
                )
            }
            GuestDrop::BadArp(what) => format!("잘못된 ARP 패킷: {what}"),
            GuestDrop::Spoofed { ip, mac } => {
                format!(
                    "스푸핑: 게스트가 NAT 엔진의 것인 {ip} / {} 출발지로 보냈습니다",
                    eul_reul(mac)
                )
            }
            GuestDrop::ArpNotOurs(ip) => {
                format!("{ip}에 대한 ARP 요청: 이 링크에 그 주소를 가진 장치가 없습니다")
            }
            GuestDrop::Ip(e) => e.explain_in(lang),
            GuestDrop::BadChecksum { proto } => format!("{proto} 체크섬이 틀렸습니다"),
            GuestDrop::Dhcp(e) => format!("DHCP: {}", e.explain_in(lang)),
            GuestDrop::IcmpElsewhere(ip) => {
                format!(
                    "{} 가는 ping: NAT 엔진은 자기 주소로 오는 ping에만 응답합니다",
                    euro_ro(ip)
                )
            }
            GuestDrop::NotDns { dns, proto, port } => {
                format!("DNS 주소 {dns}의 {proto} 포트 {port}: UDP 53번 포트의 DNS만 제공합니다")
            }
            GuestDrop::Unroutable(ip) => {
                format!(
                    "목적지 {} NAT 네트워크에서 라우팅할 수 없습니다",
                    eun_neun(ip)
                )
            }
            GuestDrop::HostLoopbackOff(ip) => {
                format!(
                    "{} 호스트의 루프백인데, 호스트 루프백이 꺼져 있습니다",
                    eun_neun(ip)
                )
            }
            GuestDrop::TcpNoConnection(k) => {
                format!("{k}: NAT 엔진이 모르는 연결에 SYN 없이 온 TCP 세그먼트입니다")
            }
            GuestDrop::Nat(n) => format!("NAT가 버렸습니다: {}", n.explain_in(lang)),
        }
    }
}

/// How many frames were dropped, per reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropCounts(BTreeMap<DropKind, u64>);

impl DropCounts {
    /// Counts one drop.
    pub fn count(&mut self, kind: DropKind) {
        let n = self.0.entry(kind).or_insert(0);
        *n = n.saturating_add(1);
    }

    /// Drops counted for `kind`.
    pub fn get(&self, kind: DropKind) -> u64 {
        self.0.get(&kind).copied().unwrap_or(0)
    }

    /// Drops counted in all.
    pub fn total(&self) -> u64 {
        self.0.values().fold(0, |a, &n| a.saturating_add(n))
    }

    /// The reasons with a count, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = (DropKind, u64)> + '_ {
        self.0.iter().map(|(&k, &n)| (k, n))
    }
}
