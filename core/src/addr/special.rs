//! The IANA IPv4 Special-Purpose Address Registry as the lessons teach it: each block's scope,
//! name and defining document, most specific first.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::lang::Text;

/// Where an address can be used, from the IANA special-purpose registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// 0.0.0.0/8: "this network"; 0.0.0.0 as a source means "this host" before it has an address.
    ThisNetwork,
    /// RFC 1918 private-use blocks: 10/8, 172.16/12, 192.168/16.
    Private,
    /// 100.64.0.0/10, RFC 6598: between a carrier-grade NAT and its customers.
    SharedAddressSpace,
    /// 127.0.0.0/8: the host itself.
    Loopback,
    /// 169.254.0.0/16, RFC 3927: self-assigned when no DHCP server answers.
    LinkLocal,
    /// 192.0.0.0/24: IETF protocol assignments.
    IetfProtocolAssignments,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, RFC 5737: for examples in documents.
    Documentation,
    /// 198.18.0.0/15, RFC 2544: benchmarking network devices.
    Benchmarking,
    /// 224.0.0.0/4, RFC 5771: multicast groups (class D).
    Multicast,
    /// 240.0.0.0/4, RFC 1112: reserved for future use (class E).
    Reserved,
    /// 255.255.255.255/32, RFC 919 and RFC 8190: every host on this link.
    LimitedBroadcast,
    /// Everything else: globally reachable unicast.
    Public,
}

impl Scope {
    /// Whether packets to this scope may cross the public Internet.
    pub fn globally_reachable(self) -> bool {
        matches!(self, Scope::Public)
    }

    /// A short name in both languages.
    pub fn name(self) -> Text {
        match self {
            Scope::ThisNetwork => Text::new("this network", "이 네트워크"),
            Scope::Private => Text::new("private", "사설"),
            Scope::SharedAddressSpace => {
                Text::new("shared address space (CGNAT)", "공유 주소 공간 (CGNAT)")
            }
            Scope::Loopback => Text::new("loopback", "루프백"),
            Scope::LinkLocal => Text::new("link-local", "링크 로컬"),
            Scope::IetfProtocolAssignments => {
                Text::new("IETF protocol assignments", "IETF 프로토콜 할당")
            }
            Scope::Documentation => Text::new("documentation", "문서용"),
            Scope::Benchmarking => Text::new("benchmarking", "벤치마크용"),
            Scope::Multicast => Text::new("multicast", "멀티캐스트"),
            Scope::Reserved => Text::new("reserved", "예약됨"),
            Scope::LimitedBroadcast => Text::new("limited broadcast", "제한 브로드캐스트"),
            Scope::Public => Text::new("public", "공인"),
        }
    }

    /// What an address in this scope means in practice.
    pub fn explanation(self) -> Text {
        match self {
            Scope::ThisNetwork => Text::new(
                "0.0.0.0/8 means \"this network\". 0.0.0.0 is used as a source by a host that has no address yet (DHCP) and, when binding a socket, means \"every local address\". Never a destination on the wire.",
                "0.0.0.0/8은 \"이 네트워크\"를 뜻합니다. 0.0.0.0은 아직 주소가 없는 호스트가 출발지로 쓰고(DHCP), 소켓을 바인드할 때는 \"모든 로컬 주소\"를 뜻합니다. 목적지로는 쓰이지 않습니다.",
            ),
            Scope::Private => Text::new(
                "Private address (RFC 1918): unique only inside one network, handed out by a router; not routed on the Internet, so reaching the Internet needs NAT to the router's public address.",
                "사설 주소(RFC 1918): 하나의 네트워크 안에서만 유일하며 공유기(라우터)가 나눠 줍니다. 인터넷에서 라우팅되지 않으므로 인터넷에 나가려면 공유기의 공인 주소로 NAT해야 합니다.",
            ),
            Scope::SharedAddressSpace => Text::new(
                "Shared address space (RFC 6598): used between an ISP's carrier-grade NAT and its customers' routers. Not private-use and not public: not routed on the Internet.",
                "공유 주소 공간(RFC 6598): 통신사의 CGNAT와 가입자 공유기 사이에서 씁니다. 사설(RFC 1918)도 공인도 아니며 인터넷에서 라우팅되지 않습니다.",
            ),
            Scope::Loopback => Text::new(
                "Loopback: every address in 127.0.0.0/8 is this host itself; packets never leave the machine.",
                "루프백: 127.0.0.0/8의 모든 주소는 이 호스트 자신입니다. 패킷이 기계 밖으로 나가지 않습니다.",
            ),
            Scope::LinkLocal => Text::new(
                "Link-local (RFC 3927): a host picks one itself when no DHCP server answers; valid only on the local link, never routed.",
                "링크 로컬(RFC 3927): DHCP 서버가 응답하지 않을 때 호스트가 스스로 정하는 주소입니다. 같은 링크 안에서만 유효하고 라우팅되지 않습니다.",
            ),
            Scope::IetfProtocolAssignments => Text::new(
                "IETF protocol assignments (RFC 6890): reserved for specific protocols such as DS-Lite (192.0.0.0/29); not for ordinary hosts.",
                "IETF 프로토콜 할당(RFC 6890): DS-Lite(192.0.0.0/29) 같은 특정 프로토콜용으로 예약되어 일반 호스트에는 쓰지 않습니다.",
            ),
            Scope::Documentation => Text::new(
                "Documentation (RFC 5737, TEST-NET): for examples in books and manuals; never used on a real network.",
                "문서용(RFC 5737, TEST-NET): 책과 매뉴얼의 예시용이며 실제 네트워크에서는 쓰지 않습니다.",
            ),
            Scope::Benchmarking => Text::new(
                "Benchmarking (RFC 2544): for testing network devices in a lab; not routed on the Internet.",
                "벤치마크용(RFC 2544): 실험실에서 네트워크 장비를 시험할 때 쓰며 인터넷에서 라우팅되지 않습니다.",
            ),
            Scope::Multicast => Text::new(
                "Multicast (class D, RFC 5771): names a group of receivers, not one host; only a destination, never a source.",
                "멀티캐스트(D 클래스, RFC 5771): 한 호스트가 아니라 수신자 그룹을 가리킵니다. 목적지로만 쓰고 출발지로는 쓰지 않습니다.",
            ),
            Scope::Reserved => Text::new(
                "Reserved (class E, RFC 1112): set aside for future use; most systems refuse to use it.",
                "예약됨(E 클래스, RFC 1112): 미래를 위해 남겨 둔 주소로, 대부분의 시스템은 사용을 거부합니다.",
            ),
            Scope::LimitedBroadcast => Text::new(
                "Limited broadcast (RFC 919, RFC 8190): every host on the local link; routers never forward it.",
                "제한 브로드캐스트(RFC 919, RFC 8190): 같은 링크의 모든 호스트에게 보내며 라우터는 절대 전달하지 않습니다.",
            ),
            Scope::Public => Text::new(
                "Public (globally reachable): unique on the whole Internet, assigned through an ISP; reachable from outside unless a firewall says no.",
                "공인(전 세계에서 도달 가능): 인터넷 전체에서 유일하며 ISP를 통해 할당됩니다. 방화벽이 막지 않으면 외부에서 접근할 수 있습니다.",
            ),
        }
    }
}

/// One row of the special-purpose table: a block, its scope and the RFC that defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SpecialBlock {
    /// The block, e.g. `10.0.0.0/8`.
    pub block: Ipv4Net,
    /// What addresses in it are for.
    pub scope: Scope,
    /// The registry's name for the block.
    pub name: &'static str,
    /// The defining document, e.g. `"RFC 1918"`.
    pub rfc: &'static str,
}

const fn block(
    octets: [u8; 4],
    prefix: u8,
    scope: Scope,
    name: &'static str,
    rfc: &'static str,
) -> SpecialBlock {
    let [a, b, c, d] = octets;
    SpecialBlock {
        block: Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix),
        scope,
        name,
        rfc,
    }
}

/// The special-purpose blocks we teach, most specific first so the first match wins: the IANA
/// IPv4 Special-Purpose Address Registry's rows, each citing the document the registry cites.
/// Rows for protocol-specific addresses inside `192.0.0.0/24` that are, like their block, not
/// globally reachable (192.0.0.8, 192.0.0.170, ...) are left to that block's row.
pub const SPECIAL_BLOCKS: &[SpecialBlock] = &[
    block(
        [255, 255, 255, 255],
        32,
        Scope::LimitedBroadcast,
        "Limited Broadcast",
        "RFC 919, RFC 8190",
    ),
    block(
        [0, 0, 0, 0],
        32,
        Scope::ThisNetwork,
        "\"This host on this network\"",
        "RFC 1122",
    ),
    block(
        [192, 0, 2, 0],
        24,
        Scope::Documentation,
        "Documentation (TEST-NET-1)",
        "RFC 5737",
    ),
    block(
        [198, 51, 100, 0],
        24,
        Scope::Documentation,
        "Documentation (TEST-NET-2)",
        "RFC 5737",
    ),
    block(
        [203, 0, 113, 0],
        24,
        Scope::Documentation,
        "Documentation (TEST-NET-3)",
        "RFC 5737",
    ),
    // Two anycast addresses inside 192.0.0.0/24 that the registry marks globally reachable,
    // unlike the rest of their block: they must match before it.
    block(
        [192, 0, 0, 9],
        32,
        Scope::Public,
        "Port Control Protocol Anycast",
        "RFC 7723",
    ),
    block(
        [192, 0, 0, 10],
        32,
        Scope::Public,
        "Traversal Using Relays around NAT Anycast",
        "RFC 8155",
    ),
    block(
        [192, 0, 0, 0],
        24,
        Scope::IetfProtocolAssignments,
        "IETF Protocol Assignments",
        "RFC 6890",
    ),
    block(
        [192, 168, 0, 0],
        16,
        Scope::Private,
        "Private-Use",
        "RFC 1918",
    ),
    block(
        [169, 254, 0, 0],
        16,
        Scope::LinkLocal,
        "Link Local",
        "RFC 3927",
    ),
    block(
        [198, 18, 0, 0],
        15,
        Scope::Benchmarking,
        "Benchmarking",
        "RFC 2544",
    ),
    block(
        [172, 16, 0, 0],
        12,
        Scope::Private,
        "Private-Use",
        "RFC 1918",
    ),
    block(
        [100, 64, 0, 0],
        10,
        Scope::SharedAddressSpace,
        "Shared Address Space",
        "RFC 6598",
    ),
    block(
        [0, 0, 0, 0],
        8,
        Scope::ThisNetwork,
        "\"This network\"",
        "RFC 791",
    ),
    block([10, 0, 0, 0], 8, Scope::Private, "Private-Use", "RFC 1918"),
    block([127, 0, 0, 0], 8, Scope::Loopback, "Loopback", "RFC 1122"),
    block([224, 0, 0, 0], 4, Scope::Multicast, "Multicast", "RFC 5771"),
    block([240, 0, 0, 0], 4, Scope::Reserved, "Reserved", "RFC 1112"),
];

/// The special-purpose block `addr` falls in, if any.
pub fn special_block(addr: Ipv4Addr) -> Option<&'static SpecialBlock> {
    SPECIAL_BLOCKS.iter().find(|b| b.block.contains(&addr))
}

/// The scope of `addr`: the most specific special-purpose block it is in, else public.
pub fn scope_of(addr: Ipv4Addr) -> Scope {
    special_block(addr).map_or(Scope::Public, |b| b.scope)
}
