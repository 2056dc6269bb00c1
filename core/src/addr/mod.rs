//! IPv4 addresses as a learner meets them: strict parsing, the historical classes A–E, the
//! scope of an address from the IANA special-purpose registry, and CIDR arithmetic.
//!
//! Layers, top-down:
//!
//! - [`classify`] / [`Ipv4Info::of`]: everything we teach about one address (class, default
//!   mask, scope, the RFC behind the answer).
//! - [`Cidr`]: an address with a prefix length (`192.168.0.10/24`) and what follows from it:
//!   network, broadcast, usable hosts, membership, splitting into subnets. `ipnet` does the
//!   arithmetic; this module adds the teaching rules (the /31 and /32 cases).
//! - [`parse_ipv4`]: the strict dotted-quad parser both build on.
//!
//! The scope table follows the IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its
//! updates, RFC 8190) plus the multicast block of RFC 5771. The registry also lists a few
//! single-purpose anycast blocks that *are* globally reachable (AS112 192.31.196.0/24 and
//! 192.175.48.0/24, AMT 192.52.193.0/24, the deprecated 6to4 relay 192.88.99.0/24, and
//! 192.0.0.9/32 and 192.0.0.10/32 inside 192.0.0.0/24); they are reported as the surrounding
//! block or as public, which is what matters for reaching them.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

mod explain;

use crate::lang::Text;

/// Why a string is not an IPv4 address or CIDR block, naming the offending part.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AddrError {
    /// Nothing was given.
    #[error("empty address: expected four decimal numbers 0-255 separated by dots, such as 192.168.0.10")]
    Empty,
    /// Not exactly four dot-separated parts.
    #[error("{input:?} has {found} part(s): expected four decimal numbers 0-255 separated by dots, such as 192.168.0.10")]
    WrongPartCount {
        /// The whole input.
        input: String,
        /// How many dot-separated parts it has.
        found: usize,
    },
    /// Two dots in a row, or a dot at either end.
    #[error("{input:?} has an empty part {position}: expected a number 0-255 between every pair of dots")]
    EmptyPart {
        /// The whole input.
        input: String,
        /// Which part (1-4) is empty.
        position: usize,
    },
    /// A part holds something other than the digits 0-9.
    #[error("{part:?} in {input:?} is not a decimal number: expected digits 0-9 only")]
    NotDecimal {
        /// The whole input.
        input: String,
        /// The offending part.
        part: String,
    },
    /// A part such as `010`, which some parsers read as octal (8) and others as decimal (10).
    #[error("{part:?} in {input:?} has a leading zero: write {canonical} (some software reads leading zeros as octal)")]
    LeadingZero {
        /// The whole input.
        input: String,
        /// The offending part.
        part: String,
        /// The part without leading zeros.
        canonical: String,
    },
    /// A part above 255.
    #[error("{part} in {input:?} is out of range: each part of an IPv4 address is 0-255")]
    OctetOutOfRange {
        /// The whole input.
        input: String,
        /// The offending part.
        part: String,
    },
    /// The prefix length after `/` is not a number.
    #[error("prefix {prefix:?} in {input:?} is not a number: expected /0 to /32")]
    PrefixNotNumber {
        /// The whole input.
        input: String,
        /// What followed the `/`.
        prefix: String,
    },
    /// The prefix length is above 32.
    #[error("prefix /{prefix} in {input:?} is too long: an IPv4 prefix is /0 to /32")]
    PrefixTooLong {
        /// The whole input.
        input: String,
        /// What followed the `/`.
        prefix: String,
    },
    /// A prefix length was required but none was given.
    #[error("{input:?} has no prefix length: expected ADDRESS/PREFIX such as 192.168.0.0/24")]
    MissingPrefix {
        /// The whole input.
        input: String,
    },
}

/// Parses a dotted-quad IPv4 address strictly: exactly four decimal parts 0-255, no leading
/// zeros, no signs or spaces, no shorthand such as `127.1`.
///
/// ```
/// use labvisor_core::addr::parse_ipv4;
/// assert_eq!(parse_ipv4("192.168.0.10").unwrap().octets(), [192, 168, 0, 10]);
/// assert!(parse_ipv4("256.1.1.1").is_err());
/// assert!(parse_ipv4("1.2.3").is_err());
/// assert!(parse_ipv4("010.0.0.1").is_err());
/// ```
pub fn parse_ipv4(input: &str) -> Result<Ipv4Addr, AddrError> {
    if input.is_empty() {
        return Err(AddrError::Empty);
    }
    let parts: Vec<&str> = input.split('.').collect();
    if parts.len() != 4 {
        return Err(AddrError::WrongPartCount {
            input: input.to_string(),
            found: parts.len(),
        });
    }
    let mut octets = [0u8; 4];
    for (i, part) in parts.iter().enumerate() {
        octets[i] = parse_octet(input, i + 1, part)?;
    }
    Ok(Ipv4Addr::from(octets))
}

fn parse_octet(input: &str, position: usize, part: &str) -> Result<u8, AddrError> {
    if part.is_empty() {
        return Err(AddrError::EmptyPart {
            input: input.to_string(),
            position,
        });
    }
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddrError::NotDecimal {
            input: input.to_string(),
            part: part.to_string(),
        });
    }
    if part.len() > 1 && part.starts_with('0') {
        let canonical = part.trim_start_matches('0');
        return Err(AddrError::LeadingZero {
            input: input.to_string(),
            part: part.to_string(),
            canonical: if canonical.is_empty() { "0" } else { canonical }.to_string(),
        });
    }
    // At most three digits without leading zeros fit a u16; longer runs are out of range.
    match part.parse::<u16>() {
        Ok(v) if part.len() <= 3 && v <= 255 => Ok(v as u8),
        _ => Err(AddrError::OctetOutOfRange {
            input: input.to_string(),
            part: part.to_string(),
        }),
    }
}

/// The classful addressing of RFC 791 (1981), replaced by CIDR in 1993 (RFC 1519, now RFC
/// 4632). Routers no longer use classes; they survive in teaching and in default masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Class {
    /// Leading bit `0`: 0.0.0.0-127.255.255.255, default mask /8.
    A,
    /// Leading bits `10`: 128.0.0.0-191.255.255.255, default mask /16.
    B,
    /// Leading bits `110`: 192.0.0.0-223.255.255.255, default mask /24.
    C,
    /// Leading bits `1110`: 224.0.0.0-239.255.255.255, multicast, no mask.
    D,
    /// Leading bits `1111`: 240.0.0.0-255.255.255.255, reserved, no mask.
    E,
}

impl Class {
    /// The class of `addr`, decided by its leading bits.
    pub fn of(addr: Ipv4Addr) -> Class {
        match addr.octets()[0] {
            0..=127 => Class::A,
            128..=191 => Class::B,
            192..=223 => Class::C,
            224..=239 => Class::D,
            240..=255 => Class::E,
        }
    }

    /// The leading bits that define the class, e.g. `"110"` for class C.
    pub fn leading_bits(self) -> &'static str {
        match self {
            Class::A => "0",
            Class::B => "10",
            Class::C => "110",
            Class::D => "1110",
            Class::E => "1111",
        }
    }

    /// The default (classful) prefix length: /8, /16 or /24; none for D and E.
    pub fn default_prefix(self) -> Option<u8> {
        match self {
            Class::A => Some(8),
            Class::B => Some(16),
            Class::C => Some(24),
            Class::D | Class::E => None,
        }
    }

    /// The first and last address of the class.
    pub fn range(self) -> (Ipv4Addr, Ipv4Addr) {
        let (first, last) = match self {
            Class::A => (0, 127),
            Class::B => (128, 191),
            Class::C => (192, 223),
            Class::D => (224, 239),
            Class::E => (240, 255),
        };
        (
            Ipv4Addr::new(first, 0, 0, 0),
            Ipv4Addr::new(last, 255, 255, 255),
        )
    }

    /// The single letter, `"A"` to `"E"`.
    pub fn letter(self) -> &'static str {
        match self {
            Class::A => "A",
            Class::B => "B",
            Class::C => "C",
            Class::D => "D",
            Class::E => "E",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.letter())
    }
}

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

/// Everything we teach about one IPv4 address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ipv4Info {
    /// The address.
    pub address: Ipv4Addr,
    /// Its class by leading bits.
    pub class: Class,
    /// The leading bits that make the class.
    pub class_bits: &'static str,
    /// The class's default prefix length (none for D and E).
    pub default_prefix: Option<u8>,
    /// The class's default mask, e.g. 255.255.255.0 for class C.
    pub default_mask: Option<Ipv4Addr>,
    /// Where the address can be used.
    pub scope: Scope,
    /// The special-purpose block it is in, if any.
    pub block: Option<Ipv4Net>,
    /// The registry's name for that block, or `"Globally reachable unicast"`.
    pub block_name: &'static str,
    /// The document the answer comes from.
    pub rfc: &'static str,
    /// Whether the address is globally reachable (public).
    pub globally_reachable: bool,
    /// The address in binary, octets separated by dots.
    pub binary: String,
}

impl Ipv4Info {
    /// Describes `address`.
    pub fn of(address: Ipv4Addr) -> Ipv4Info {
        let class = Class::of(address);
        let special = special_block(address);
        let scope = special.map_or(Scope::Public, |b| b.scope);
        let default_prefix = class.default_prefix();
        Ipv4Info {
            address,
            class,
            class_bits: class.leading_bits(),
            default_prefix,
            default_mask: default_prefix.map(mask_of),
            scope,
            block: special.map(|b| b.block),
            block_name: special.map_or("Globally reachable unicast", |b| b.name),
            rfc: special.map_or("RFC 6890: in no special-purpose block", |b| b.rfc),
            globally_reachable: scope.globally_reachable(),
            binary: binary(address),
        }
    }
}

/// Parses `input` strictly and describes the address.
///
/// ```
/// use labvisor_core::addr::{classify, Class, Scope};
/// let info = classify("192.168.0.10").unwrap();
/// assert_eq!((info.class, info.scope), (Class::C, Scope::Private));
/// ```
pub fn classify(input: &str) -> Result<Ipv4Info, AddrError> {
    parse_ipv4(input).map(Ipv4Info::of)
}

/// The netmask of a prefix length: 24 → 255.255.255.0. Lengths above 32 read as 32.
pub fn mask_of(prefix: u8) -> Ipv4Addr {
    let prefix = prefix.min(32) as u32;
    let bits = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    Ipv4Addr::from(bits)
}

/// The address in binary, octets separated by dots: 192.168.0.10 → `11000000.10101000.00000000.00001010`.
pub fn binary(addr: Ipv4Addr) -> String {
    let o = addr.octets();
    format!("{:08b}.{:08b}.{:08b}.{:08b}", o[0], o[1], o[2], o[3])
}

/// An address together with a prefix length, as written `192.168.0.10/24`.
///
/// Unlike [`Ipv4Net`] in routing tables, the address may have host bits set: it names a host
/// *and* its subnet, which is how an interface's address is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Cidr {
    net: Ipv4Net,
}

/// The most subnets [`Cidr::split`] will list.
pub const MAX_SPLIT: u32 = 65_536;

/// Why a block cannot be split as asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum SplitError {
    /// Zero subnets were asked for.
    #[error("cannot split {block} into 0 subnets: expected at least 1")]
    Zero {
        /// The block to split.
        block: String,
    },
    /// More subnets than the block has room for.
    #[error("cannot split {block} into {requested} subnets: a /{prefix} holds at most {max} subnets (of /32)")]
    TooMany {
        /// The block to split.
        block: String,
        /// Its prefix length.
        prefix: u8,
        /// Subnets requested.
        requested: u32,
        /// Subnets possible.
        max: u64,
    },
    /// More subnets than we list at once.
    #[error("cannot list {requested} subnets: at most {MAX_SPLIT} at a time")]
    TooManyToList {
        /// Subnets requested.
        requested: u32,
    },
}

impl Cidr {
    /// `address/prefix`; fails when the prefix is above 32.
    pub fn new(address: Ipv4Addr, prefix: u8) -> Result<Cidr, AddrError> {
        Ipv4Net::new(address, prefix)
            .map(|net| Cidr { net })
            .map_err(|_| AddrError::PrefixTooLong {
                input: format!("{address}/{prefix}"),
                prefix: prefix.to_string(),
            })
    }

    /// Parses `ADDRESS/PREFIX` strictly (the address as [`parse_ipv4`], the prefix 0-32
    /// without leading zeros).
    pub fn parse(input: &str) -> Result<Cidr, AddrError> {
        match parse_address_and_prefix(input)? {
            (address, Some(prefix)) => Cidr::new(address, prefix),
            (_, None) => Err(AddrError::MissingPrefix {
                input: input.to_string(),
            }),
        }
    }

    /// The address as written (may have host bits).
    pub fn address(&self) -> Ipv4Addr {
        self.net.addr()
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.net.prefix_len()
    }

    /// The block as an `ipnet` network (host bits cleared).
    pub fn net(&self) -> Ipv4Net {
        self.net.trunc()
    }

    /// The netmask, e.g. 255.255.255.0 for /24.
    pub fn netmask(&self) -> Ipv4Addr {
        self.net.netmask()
    }

    /// The wildcard (host) mask, e.g. 0.0.0.255 for /24, as in Cisco ACLs.
    pub fn wildcard(&self) -> Ipv4Addr {
        self.net.hostmask()
    }

    /// The network address: the first address of the block.
    pub fn network(&self) -> Ipv4Addr {
        self.net.network()
    }

    /// The broadcast address: the last address of the block.
    pub fn broadcast(&self) -> Ipv4Addr {
        self.net.broadcast()
    }

    /// How many addresses the block spans: 2^(32 - prefix).
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix()))
    }

    /// Addresses a host can use. Normally size − 2 (network and broadcast are taken); a /31
    /// has 2 (RFC 3021, point-to-point links) and a /32 has 1 (the host itself).
    pub fn host_count(&self) -> u64 {
        match self.prefix() {
            32 => 1,
            31 => 2,
            _ => self.size() - 2,
        }
    }

    /// The first usable host address.
    pub fn first_host(&self) -> Ipv4Addr {
        match self.prefix() {
            31 | 32 => self.network(),
            _ => Ipv4Addr::from(u32::from(self.network()) + 1),
        }
    }

    /// The last usable host address.
    pub fn last_host(&self) -> Ipv4Addr {
        match self.prefix() {
            31 | 32 => self.broadcast(),
            _ => Ipv4Addr::from(u32::from(self.broadcast()) - 1),
        }
    }

    /// Whether `addr` is inside the block.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.net.contains(&addr)
    }

    /// Splits the block into at least `n` equal subnets: the smallest power of two ≥ `n`,
    /// since subnets of one block have equal, power-of-two sizes. 192.168.0.0/24 into 3 gives
    /// four /26.
    pub fn split(&self, n: u32) -> Result<Vec<Cidr>, SplitError> {
        if n == 0 {
            return Err(SplitError::Zero {
                block: self.net().to_string(),
            });
        }
        let too_many = || SplitError::TooMany {
            block: self.net().to_string(),
            prefix: self.prefix(),
            requested: n,
            max: self.size(),
        };
        let extra_bits = n
            .checked_next_power_of_two()
            .ok_or_else(too_many)?
            .trailing_zeros();
        if extra_bits > 32 - u32::from(self.prefix()) {
            return Err(too_many());
        }
        if n > MAX_SPLIT {
            return Err(SplitError::TooManyToList { requested: n });
        }
        let new_prefix = self.prefix() + extra_bits as u8;
        let subnets = self.net().subnets(new_prefix).map_err(|_| too_many())?;
        Ok(subnets.map(|net| Cidr { net }).collect())
    }

    /// The block's facts in one serializable value.
    pub fn info(&self) -> CidrInfo {
        CidrInfo {
            cidr: *self,
            network: self.network(),
            broadcast: self.broadcast(),
            netmask: self.netmask(),
            wildcard: self.wildcard(),
            prefix: self.prefix(),
            first_host: self.first_host(),
            last_host: self.last_host(),
            host_count: self.host_count(),
            size: self.size(),
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address(), self.prefix())
    }
}

impl FromStr for Cidr {
    type Err = AddrError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cidr::parse(s)
    }
}

impl From<Cidr> for String {
    fn from(c: Cidr) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for Cidr {
    type Error = AddrError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Cidr::parse(&s)
    }
}

/// The computed facts of a [`Cidr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CidrInfo {
    /// The block as written.
    pub cidr: Cidr,
    /// First address of the block.
    pub network: Ipv4Addr,
    /// Last address of the block.
    pub broadcast: Ipv4Addr,
    /// The netmask.
    pub netmask: Ipv4Addr,
    /// The wildcard mask.
    pub wildcard: Ipv4Addr,
    /// The prefix length.
    pub prefix: u8,
    /// First usable host.
    pub first_host: Ipv4Addr,
    /// Last usable host.
    pub last_host: Ipv4Addr,
    /// Usable hosts.
    pub host_count: u64,
    /// Addresses in the block.
    pub size: u64,
}

/// Parses `ADDRESS` or `ADDRESS/PREFIX`.
pub fn parse_address_and_prefix(input: &str) -> Result<(Ipv4Addr, Option<u8>), AddrError> {
    let Some((addr, prefix)) = input.split_once('/') else {
        return parse_ipv4(input).map(|a| (a, None));
    };
    let address = parse_ipv4(addr)?;
    let bad_number = || AddrError::PrefixNotNumber {
        input: input.to_string(),
        prefix: prefix.to_string(),
    };
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_number());
    }
    if prefix.len() > 1 && prefix.starts_with('0') {
        return Err(bad_number());
    }
    match prefix.parse::<u8>() {
        Ok(p) if p <= 32 => Ok((address, Some(p))),
        _ => Err(AddrError::PrefixTooLong {
            input: input.to_string(),
            prefix: prefix.to_string(),
        }),
    }
}

/// Whether `a` and `b` are in the same subnet of length `prefix`, i.e. can talk without a
/// router. Lengths above 32 read as 32.
pub fn same_subnet(a: Ipv4Addr, b: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::from(mask_of(prefix));
    u32::from(a) & mask == u32::from(b) & mask
}

#[cfg(test)]
mod tests;
