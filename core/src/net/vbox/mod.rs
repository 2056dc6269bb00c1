//! VirtualBox's attachment modes with their default addressing, the DHCP model, and the
//! wiring that turns a described [`Topology`] into a [`Fabric`].
//!
//! What the wiring creates, per the VirtualBox manual (chapter 6):
//!
//! | mode | segment | router | DHCP | guest gets |
//! |---|---|---|---|---|
//! | NAT, adapter n | private `vm/natn`, 10.0.(n+1).0/24 | a NAT engine per VM NIC at .2 (DNS .3) | .2 | .15, gateway .2 |
//! | NAT Network | shared `natnet/NAME`, default 10.0.2.0/24 | one NAT engine at **.1** | .3 | .4 upwards, gateway .1 |
//! | bridged | the host's LAN | the LAN's router | the LAN's | a LAN address |
//! | host-only `vboxnetK` | 192.168.(56+K).0/24, host at .1 | none | .100 | .101 upwards, no gateway |
//! | internal | `intnet/NAME`, VMs only | none | none | static addresses only |
//! | not attached | none | | | nothing ("no cable plugged in") |
//!
//! A NAT engine lives in the host's VirtualBox process: its outside is the host's own network
//! stack, which is why the host and the internet can only reach the guest through port
//! forwarding, and why two VMs on NAT cannot reach each other (each has its own 10.0.2.0/24).

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::lang::{Lang, Text};

use super::forward::PortForward;

mod wiring;
pub use wiring::{rewire, wire};

/// A VirtualBox network attachment mode.
///
/// Externally tagged (serde's default), so that postcard can read it back: share links and
/// the browser build's embedded examples are postcard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// "Not attached": the NIC exists, "as if no cable was plugged in".
    NotAttached,
    /// NAT: a private NAT router for this NIC, with its port-forwarding rules (`--natpfN`).
    Nat {
        /// Port-forwarding rules.
        forwards: Vec<PortForward>,
    },
    /// NAT Network: a NAT router shared by the VMs on the named network.
    NatNetwork(String),
    /// Bridged: the VM sits on the host's LAN like another PC.
    Bridged,
    /// Host-only: a network between the host and its VMs (`vboxnet0`).
    HostOnly(String),
    /// Internal: a network of VMs only.
    Internal(String),
}

impl Mode {
    /// The mode with its network's name, in `lang`: the English is the `Display` form, the
    /// Korean uses the terms of VirtualBox's Korean interface ("호스트 전용 어댑터 vboxnet0").
    pub fn name_in(&self, lang: Lang) -> String {
        let kind = match self {
            Mode::NotAttached => Text::new("not attached", "연결되지 않음"),
            Mode::Nat { .. } => Text::new("NAT", "NAT"),
            Mode::NatNetwork(_) => Text::new("NAT Network", "NAT 네트워크"),
            Mode::Bridged => Text::new("bridged", "어댑터에 브리지"),
            Mode::HostOnly(_) => Text::new("host-only", "호스트 전용 어댑터"),
            Mode::Internal(_) => Text::new("internal", "내부 네트워크"),
        }
        .get(lang);
        match self {
            Mode::NatNetwork(n) | Mode::HostOnly(n) | Mode::Internal(n) => format!("{kind} {n}"),
            _ => kind.to_string(),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name_in(Lang::En))
    }
}

/// A DHCP server: hands out addresses from `first` to `last`, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpServer {
    /// The server's own address.
    pub server: Ipv4Addr,
    /// First address of the pool.
    pub first: Ipv4Addr,
    /// Last address of the pool.
    pub last: Ipv4Addr,
    /// The default gateway it announces.
    pub gateway: Option<Ipv4Addr>,
    /// The DNS server it announces.
    pub dns: Option<Ipv4Addr>,
}

impl DhcpServer {
    /// The DHCP server of a NAT adapter's engine on `net` (10.0.2.0/24 for adapter 1): the
    /// engine itself at .2 is server and gateway, DNS at .3, and the one guest gets .15.
    pub fn nat_adapter(net: Ipv4Net) -> DhcpServer {
        let gw = host(net, 2);
        DhcpServer {
            server: gw,
            first: host(net, 15),
            last: host(net, 15),
            gateway: Some(gw),
            dns: Some(host(net, 3)),
        }
    }
}

/// The network a NAT-mode adapter gets: 10.0.(n+1).0/24 for adapter n (1-based).
pub fn nat_network_for_adapter(adapter: usize) -> Option<Ipv4Net> {
    let third = u8::try_from(adapter + 1).ok()?;
    Ipv4Net::new(Ipv4Addr::new(10, 0, third, 0), 24).ok()
}

fn host(net: Ipv4Net, n: u32) -> Ipv4Addr {
    Ipv4Addr::from_bits(net.network().to_bits().wrapping_add(n))
}

fn with_prefix(ip: Ipv4Addr, net: Ipv4Net) -> Ipv4Net {
    Ipv4Net::new(ip, net.prefix_len()).unwrap_or(net)
}

/// What Windows hosts call the first host-only adapter; the next ones end in ` #2`, ` #3`, ….
pub const WINDOWS_HOST_ONLY: &str = "VirtualBox Host-Only Ethernet Adapter";

/// The first host-only adapter VirtualBox creates on Linux and macOS, the one a host-only NIC
/// is attached to when no other is named.
pub const DEFAULT_HOST_ONLY: &str = "vboxnet0";

/// The host-only network `vboxnetK` (Linux and macOS hosts): 192.168.(56+K).0/24. On Windows
/// the same adapters are called "VirtualBox Host-Only Ethernet Adapter" (K = 0) and
/// "VirtualBox Host-Only Ethernet Adapter #N" (K = N - 1).
pub fn host_only_network(name: &str) -> Option<Ipv4Net> {
    let k: u8 = match name.strip_prefix(WINDOWS_HOST_ONLY) {
        Some("") => 0,
        Some(rest) => rest
            .strip_prefix(" #")?
            .parse::<u8>()
            .ok()?
            .checked_sub(1)?,
        None => name.strip_prefix("vboxnet")?.parse().ok()?,
    };
    let third = 56u8.checked_add(k)?;
    Ipv4Net::new(Ipv4Addr::new(192, 168, third, 0), 24).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_is_named_in_both_languages() {
        let modes = [
            Mode::NotAttached,
            Mode::Nat { forwards: vec![] },
            Mode::NatNetwork("natnet1".into()),
            Mode::Bridged,
            Mode::HostOnly("vboxnet0".into()),
            Mode::Internal("intnet".into()),
        ];
        for mode in &modes {
            let ko = mode.name_in(Lang::Ko);
            for english in ["attached", "Network", "bridged", "host-only", "internal"] {
                assert!(!ko.contains(english), "{mode:?}: {ko}");
            }
        }
        assert_eq!(modes[4].name_in(Lang::Ko), "호스트 전용 어댑터 vboxnet0");
        assert_eq!(modes[2].to_string(), "NAT Network natnet1");
    }
}
