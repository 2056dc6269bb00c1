//! An address with its prefix length: the subnet it names, splitting a block into equal
//! subnets, and whether two addresses share one.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::{mask_of, parse_ipv4, AddrError};

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
