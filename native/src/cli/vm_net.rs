//! `vm run`'s network options: a NIC on a VirtualBox-style user-mode NAT (guest 10.0.2.15 by
//! DHCP, gateway 10.0.2.2, DNS 10.0.2.3), port forwards in VirtualBox's `--natpf1` syntax or
//! QEMU's `hostfwd=` syntax, the DNS upstream, host loopback and a pcap capture. The forwards
//! are bound here, before the VM boots, so a port in use is an error before anything runs.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;

use clap::Args;
use labvisor_core::lang::{Lang, Text};
use labvisor_core::net::forward::PortForward;

use super::{output, CliError};
use crate::vmm::netback::{NetBackend, NetConfig};

/// Where the host's resolver is named.
const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Options of `vm run` for the network.
#[derive(Debug, Args)]
pub struct NetArgs {
    /// Give the VM a network card on a user-mode NAT, as VirtualBox's NAT mode and QEMU's
    /// `-netdev user` do: no root, no TAP device. The guest gets 10.0.2.15 by DHCP, its
    /// gateway 10.0.2.2 is the host's loopback and 10.0.2.3 answers DNS. Every connection
    /// goes through the same NAT table the lessons teach (`Ctrl-A n` shows it). Implied by
    /// every other network option.
    #[arg(long)]
    pub net: bool,
    /// Forward a host port to the guest, in VirtualBox's `--natpf1` syntax:
    /// NAME,tcp|udp,[HOST_IP],HOST_PORT,[GUEST_IP],GUEST_PORT. E.g. "shell,tcp,127.0.0.1,2323,,23"
    /// makes `nc 127.0.0.1 2323` reach the guest's shell on port 23. Without HOST_IP it
    /// listens on 127.0.0.1 only (write 0.0.0.0 to let other machines in); without GUEST_IP
    /// it goes to the guest's DHCP address. Repeatable.
    #[arg(long = "natpf", value_name = "RULE")]
    pub natpf: Vec<String>,
    /// Forward a host port to the guest, in QEMU's syntax: tcp|udp:[HOST_IP]:HOST_PORT-[GUEST_IP]:GUEST_PORT,
    /// e.g. tcp:127.0.0.1:2323-:23. Same meaning as --natpf. Repeatable.
    #[arg(long = "hostfwd", value_name = "RULE")]
    pub hostfwd: Vec<String>,
    /// Where the guest's DNS queries to 10.0.2.3 go (default: the first IPv4 nameserver
    /// in /etc/resolv.conf, as VirtualBox and QEMU do).
    #[arg(long, value_name = "IP:PORT")]
    pub dns_upstream: Option<SocketAddrV4>,
    /// Do not let 10.0.2.2 reach the host's loopback. By default it does (as in VirtualBox
    /// and QEMU), which means the guest can reach every service on the host that listens on
    /// 127.0.0.1 only — databases, admin panels — services their owners believed reachable
    /// from this machine alone. Turn it off for a guest you do not trust.
    #[arg(long)]
    pub no_host_loopback: bool,
    /// Write every frame on the guest's link, both ways, to FILE as a pcap capture
    /// (`tcpdump -r FILE`, Wireshark).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}

impl NetArgs {
    fn wanted(&self) -> bool {
        self.net
            || !self.natpf.is_empty()
            || !self.hostfwd.is_empty()
            || self.dns_upstream.is_some()
            || self.no_host_loopback
            || self.pcap.is_some()
    }
}

/// The VM's network, its forwards bound, or `None` without network options. Says where each
/// forward listens (on stderr).
pub fn prepare(args: &NetArgs, linux: bool, lang: Lang) -> Result<Option<NetBackend>, CliError> {
    if !args.wanted() {
        return Ok(None);
    }
    if linux {
        return Err(CliError::Usage(
            Text::new(
                "the network works with Labvisor's guest OS; a Linux kernel would need virtio_mmio.device= on its command line, which vm run does not add yet",
                "네트워크는 Labvisor 게스트 OS와 함께 씁니다. 리눅스 커널은 명령줄에 virtio_mmio.device=가 필요한데 vm run은 아직 이를 넣지 않습니다",
            )
            .get(lang)
            .into(),
        ));
    }
    let forwards = args
        .natpf
        .iter()
        .map(|r| ("--natpf", r))
        .chain(args.hostfwd.iter().map(|r| ("--hostfwd", r)))
        .map(|(flag, rule)| {
            PortForward::parse_any(rule).map_err(|e| CliError::Usage(format!("{flag} {rule}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let dns_upstream = match args.dns_upstream {
        Some(addr) => addr,
        None => host_resolver(lang),
    };
    let mut config = NetConfig::virtualbox(forwards, dns_upstream, !args.no_host_loopback);
    config.pcap = args.pcap.clone();
    let backend = NetBackend::bind(config).map_err(|e| CliError::Usage(e.to_string()))?;
    for (rule, addr) in backend.listening() {
        let guest = rule
            .guest_ip
            .map_or_else(|| "10.0.2.15".to_string(), |ip| ip.to_string());
        let loopback_only = Text::new(
            " (no host address given: loopback only; write 0.0.0.0 to listen on every address)",
            " (호스트 주소가 없어 루프백에서만 듣습니다. 모든 주소에서 들으려면 0.0.0.0을 쓰세요)",
        );
        output::errln!(
            "labvisor: {} {}: {} {addr} → {guest}:{}{}",
            rule.proto,
            rule.name,
            Text::new("forward listens on", "포워드가 듣는 곳").get(lang),
            rule.guest_port,
            if rule.host_ip.is_none() {
                loopback_only.get(lang)
            } else {
                ""
            }
        );
    }
    Ok(Some(backend))
}

/// The host's resolver from /etc/resolv.conf, or 127.0.0.1:53 with a note when it names none.
fn host_resolver(lang: Lang) -> SocketAddrV4 {
    let text = std::fs::read_to_string(RESOLV_CONF).unwrap_or_default();
    first_nameserver(&text).unwrap_or_else(|| {
        output::errln!(
            "labvisor: {}",
            Text::new(
                "note: /etc/resolv.conf names no IPv4 nameserver; the guest's DNS goes to 127.0.0.1:53 (set --dns-upstream)",
                "참고: /etc/resolv.conf에 IPv4 네임서버가 없어 게스트의 DNS를 127.0.0.1:53으로 보냅니다(--dns-upstream으로 정하세요)",
            )
            .get(lang)
        );
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 53)
    })
}

/// The first IPv4 `nameserver` of a resolv.conf (resolv.conf(5): a keyword at the start of a
/// line, `#` or `;` start comments), on port 53.
pub fn first_nameserver(text: &str) -> Option<SocketAddrV4> {
    text.lines().find_map(|line| {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        (words.next() == Some("nameserver"))
            .then(|| words.next()?.parse::<Ipv4Addr>().ok())
            .flatten()
            .map(|ip| SocketAddrV4::new(ip, 53))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_first_ipv4_nameserver_is_the_upstream() {
        let conf = "# generated\nsearch lan\nnameserver ::1\nnameserver 192.0.2.53 # main\nnameserver 198.51.100.1\n";
        assert_eq!(
            first_nameserver(conf),
            Some(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 53), 53))
        );
    }

    #[test]
    fn comments_and_other_keywords_name_no_nameserver() {
        assert_eq!(
            first_nameserver("; nameserver 192.0.2.1\n#nameserver 192.0.2.2\noptions ndots:1\n"),
            None
        );
    }

    proptest! {
        /// Any text: never a panic, and whatever is found was written on a nameserver line.
        #[test]
        fn any_text_is_read_without_panicking(text in ".{0,400}") {
            if let Some(addr) = first_nameserver(&text) {
                prop_assert!(text.contains(&addr.ip().to_string()));
                prop_assert_eq!(addr.port(), 53);
            }
        }
    }
}
