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

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

mod cidr;
mod explain;
mod special;

pub use cidr::{parse_address_and_prefix, same_subnet, Cidr, CidrInfo, SplitError, MAX_SPLIT};
pub use special::{scope_of, special_block, Scope, SpecialBlock, SPECIAL_BLOCKS};

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

#[cfg(test)]
mod tests;
