//! Port forwarding (DNAT) rules, with VirtualBox's fields, parsed from VirtualBox's and QEMU's
//! syntaxes.
//!
//! - VirtualBox NAT: `VBoxManage modifyvm VM --natpf1 "guestssh,tcp,,2222,,22"`
//!   (name, protocol, host IP, host port, guest IP, guest port; empty IPs mean "any host
//!   address" and "the guest's DHCP address").
//! - VirtualBox NAT Network: `--port-forward-4 "ssh:tcp:[]:1022:[10.0.2.4]:22"`.
//! - QEMU user networking: `hostfwd=tcp:127.0.0.1:2222-:22`.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::packet::Proto;

/// One forwarding rule: connections to `host_ip:host_port` go to `guest_ip:guest_port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortForward {
    /// The rule's name (VirtualBox requires one; QEMU rules are named `tcp2222`).
    pub name: String,
    /// TCP or UDP.
    pub proto: Proto,
    /// The host address to listen on; `None` means every host address.
    pub host_ip: Option<Ipv4Addr>,
    /// The host port.
    pub host_port: u16,
    /// The guest address; `None` means the guest's DHCP address (VirtualBox NAT only).
    pub guest_ip: Option<Ipv4Addr>,
    /// The guest port.
    pub guest_port: u16,
}

/// Why a rule did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid port-forwarding rule {input:?}: {problem}")]
pub struct ForwardError {
    /// The rule as given.
    pub input: String,
    /// What is wrong, and what was expected.
    pub problem: String,
}

fn err(input: &str, problem: impl Into<String>) -> ForwardError {
    ForwardError {
        input: input.to_string(),
        problem: problem.into(),
    }
}

fn parse_proto(input: &str, s: &str) -> Result<Proto, ForwardError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "tcp" => Ok(Proto::Tcp),
        "udp" => Ok(Proto::Udp),
        other => Err(err(
            input,
            format!("protocol {other:?} is not forwardable: expected tcp or udp"),
        )),
    }
}

fn parse_port(input: &str, which: &str, s: &str) -> Result<u16, ForwardError> {
    match s.trim().parse::<u16>() {
        Ok(0) => Err(err(
            input,
            format!("{which} port 0 is not a usable port: expected 1-65535"),
        )),
        Ok(p) => Ok(p),
        Err(_) => Err(err(
            input,
            format!("{which} port {:?} is not a number in 1-65535", s.trim()),
        )),
    }
}

fn parse_ip(input: &str, which: &str, s: &str) -> Result<Option<Ipv4Addr>, ForwardError> {
    let s = s.trim();
    if s.is_empty() || s == "0.0.0.0" {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| {
        err(
            input,
            format!("{which} address {s:?} is not an IPv4 address like 127.0.0.1"),
        )
    })
}

impl PortForward {
    /// Parses VirtualBox NAT syntax: `name,proto,hostip,hostport,guestip,guestport`.
    pub fn parse_vbox(input: &str) -> Result<PortForward, ForwardError> {
        let f: Vec<&str> = input.split(',').collect();
        if f.len() != 6 {
            return Err(err(
                input,
                format!(
                    "expected 6 comma-separated fields name,proto,hostip,hostport,guestip,guestport (e.g. \"ssh,tcp,,2222,,22\"), found {}",
                    f.len()
                ),
            ));
        }
        let name = f[0].trim();
        if name.is_empty() {
            return Err(err(input, "the rule needs a name (first field)"));
        }
        Ok(PortForward {
            name: name.to_string(),
            proto: parse_proto(input, f[1])?,
            host_ip: parse_ip(input, "host", f[2])?,
            host_port: parse_port(input, "host", f[3])?,
            guest_ip: parse_ip(input, "guest", f[4])?,
            guest_port: parse_port(input, "guest", f[5])?,
        })
    }

    /// Parses VirtualBox NAT Network syntax: `name:proto:[hostip]:hostport:[guestip]:guestport`.
    pub fn parse_natnetwork(input: &str) -> Result<PortForward, ForwardError> {
        let expected = "expected name:proto:[hostip]:hostport:[guestip]:guestport (e.g. \"ssh:tcp:[]:1022:[10.0.2.4]:22\")";
        let f: Vec<&str> = input.split(':').collect();
        if f.len() != 6 {
            return Err(err(
                input,
                format!("{expected}, found {} colon-separated fields", f.len()),
            ));
        }
        let bracketed = |s: &str, which: &str| -> Result<Option<Ipv4Addr>, ForwardError> {
            let inner = s
                .trim()
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .ok_or_else(|| {
                    err(
                        input,
                        format!("the {which} address must be in brackets, like [] or [10.0.2.4]"),
                    )
                })?;
            parse_ip(input, which, inner)
        };
        let name = f[0].trim();
        if name.is_empty() {
            return Err(err(input, "the rule needs a name (first field)"));
        }
        let rule = PortForward {
            name: name.to_string(),
            proto: parse_proto(input, f[1])?,
            host_ip: bracketed(f[2], "host")?,
            host_port: parse_port(input, "host", f[3])?,
            guest_ip: bracketed(f[4], "guest")?,
            guest_port: parse_port(input, "guest", f[5])?,
        };
        if rule.guest_ip.is_none() {
            return Err(err(
                input,
                "a NAT Network rule must name the guest address: the network has many guests",
            ));
        }
        Ok(rule)
    }

    /// Parses QEMU syntax: `[hostfwd=][tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`.
    pub fn parse_qemu(input: &str) -> Result<PortForward, ForwardError> {
        let expected = "expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport (e.g. \"tcp:127.0.0.1:2222-:22\")";
        let body = input
            .trim()
            .strip_prefix("hostfwd=")
            .unwrap_or(input.trim());
        let (host, guest) = body.split_once('-').ok_or_else(|| {
            err(
                input,
                format!("{expected}: no '-' between host and guest parts"),
            )
        })?;
        let hf: Vec<&str> = host.split(':').collect();
        if hf.len() != 3 {
            return Err(err(
                input,
                format!("{expected}: the host part needs proto:addr:port"),
            ));
        }
        let proto = if hf[0].trim().is_empty() {
            Proto::Tcp
        } else {
            parse_proto(input, hf[0])?
        };
        let (gaddr, gport) = guest
            .split_once(':')
            .ok_or_else(|| err(input, format!("{expected}: the guest part needs addr:port")))?;
        let host_port = parse_port(input, "host", hf[2])?;
        Ok(PortForward {
            name: format!("{}{}", proto.name(), host_port),
            proto,
            host_ip: parse_ip(input, "host", hf[1])?,
            host_port,
            guest_ip: parse_ip(input, "guest", gaddr)?,
            guest_port: parse_port(input, "guest", gport)?,
        })
    }

    /// Parses any of the three syntaxes, telling them apart by their separators.
    pub fn parse_any(input: &str) -> Result<PortForward, ForwardError> {
        if input.contains(',') {
            PortForward::parse_vbox(input)
        } else if input.contains('[') {
            PortForward::parse_natnetwork(input)
        } else if input.contains('-') {
            PortForward::parse_qemu(input)
        } else {
            Err(err(
                input,
                "not a rule in VirtualBox (\"ssh,tcp,,2222,,22\"), NAT Network (\"ssh:tcp:[]:2222:[10.0.2.4]:22\") or QEMU (\"tcp::2222-:22\") syntax",
            ))
        }
    }

    /// Whether listening on the host port needs root on a Unix host (ports below 1024,
    /// `net.ipv4.ip_unprivileged_port_start` = 1024).
    pub fn needs_privilege(&self) -> bool {
        self.host_port < 1024
    }

    /// The rule in QEMU syntax.
    pub fn to_qemu(&self) -> String {
        let ip = |a: Option<Ipv4Addr>| a.map(|a| a.to_string()).unwrap_or_default();
        format!(
            "hostfwd={}:{}:{}-{}:{}",
            self.proto,
            ip(self.host_ip),
            self.host_port,
            ip(self.guest_ip),
            self.guest_port
        )
    }

    /// Whether the rule accepts a packet for `dst:dport` over `proto`.
    pub fn matches(&self, proto: Proto, dst: Ipv4Addr, dport: u16) -> bool {
        self.proto == proto && self.host_port == dport && self.host_ip.is_none_or(|ip| ip == dst)
    }

    /// Why `self` cannot be added next to `existing`, if it cannot.
    pub fn conflict_with(&self, existing: &[PortForward]) -> Option<String> {
        for other in existing {
            if other.name == self.name {
                return Some(format!(
                    "a rule named {:?} already exists ({other})",
                    self.name
                ));
            }
            let ips_overlap = match (self.host_ip, other.host_ip) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if other.proto == self.proto && other.host_port == self.host_port && ips_overlap {
                return Some(format!(
                    "host port {}/{} is already forwarded by rule {:?} ({other})",
                    self.proto, self.host_port, other.name
                ));
            }
        }
        None
    }
}

impl fmt::Display for PortForward {
    /// VirtualBox syntax: `ssh,tcp,,2222,,22`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ip = |a: Option<Ipv4Addr>| a.map(|a| a.to_string()).unwrap_or_default();
        write!(
            f,
            "{},{},{},{},{},{}",
            self.name,
            self.proto,
            ip(self.host_ip),
            self.host_port,
            ip(self.guest_ip),
            self.guest_port
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_three_syntaxes_to_the_same_rule() {
        let vbox = PortForward::parse_vbox("ssh,tcp,127.0.0.1,2222,,22").unwrap();
        let qemu = PortForward::parse_qemu("hostfwd=tcp:127.0.0.1:2222-:22").unwrap();
        assert_eq!(
            (
                vbox.proto,
                vbox.host_ip,
                vbox.host_port,
                vbox.guest_ip,
                vbox.guest_port
            ),
            (
                qemu.proto,
                qemu.host_ip,
                qemu.host_port,
                qemu.guest_ip,
                qemu.guest_port
            )
        );
        assert_eq!(qemu.name, "tcp2222");
        let nn = PortForward::parse_natnetwork("ssh:tcp:[]:1022:[192.168.15.5]:22").unwrap();
        assert_eq!(nn.host_ip, None);
        assert_eq!(nn.guest_ip, Some(Ipv4Addr::new(192, 168, 15, 5)));
        assert_eq!(nn.to_string(), "ssh,tcp,,1022,192.168.15.5,22");
        assert_eq!(
            PortForward::parse_any("udp::5353-:53").unwrap().proto,
            Proto::Udp
        );
        assert_eq!(
            PortForward::parse_qemu("::2222-:22").unwrap().proto,
            Proto::Tcp
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = PortForward::parse_vbox("ssh,tcp,,2222,22").unwrap_err();
        assert!(
            e.to_string().contains("expected 6 comma-separated fields"),
            "{e}"
        );
        let e = PortForward::parse_vbox("ssh,icmp,,2222,,22").unwrap_err();
        assert!(e.problem.contains("\"icmp\" is not forwardable"), "{e}");
        let e = PortForward::parse_vbox("ssh,tcp,,70000,,22").unwrap_err();
        assert!(e.problem.contains("host port \"70000\""), "{e}");
        let e = PortForward::parse_vbox("ssh,tcp,,0,,22").unwrap_err();
        assert!(e.problem.contains("port 0"), "{e}");
        let e = PortForward::parse_vbox("ssh,tcp,localhost,2222,,22").unwrap_err();
        assert!(e.problem.contains("\"localhost\""), "{e}");
        let e = PortForward::parse_natnetwork("ssh:tcp:[]:1022:[]:22").unwrap_err();
        assert!(e.problem.contains("must name the guest address"), "{e}");
        let e = PortForward::parse_qemu("tcp:127.0.0.1:2222").unwrap_err();
        assert!(e.problem.contains("no '-'"), "{e}");
        assert!(PortForward::parse_any("2222").is_err());
    }

    #[test]
    fn conflicts_and_privileges() {
        let ssh = PortForward::parse_vbox("ssh,tcp,,2222,,22").unwrap();
        let same_port = PortForward::parse_vbox("ssh2,tcp,127.0.0.1,2222,,23").unwrap();
        let udp = PortForward::parse_vbox("dns,udp,,2222,,53").unwrap();
        let dup_name = PortForward::parse_vbox("ssh,tcp,,2223,,22").unwrap();
        let existing = vec![ssh.clone()];
        assert!(same_port
            .conflict_with(&existing)
            .unwrap()
            .contains("already forwarded by rule \"ssh\""));
        assert_eq!(udp.conflict_with(&existing), None);
        assert!(dup_name
            .conflict_with(&existing)
            .unwrap()
            .contains("already exists"));
        let a = PortForward::parse_vbox("a,tcp,127.0.0.1,80,,80").unwrap();
        let b = PortForward::parse_vbox("b,tcp,192.168.1.10,80,,80").unwrap();
        assert_eq!(b.conflict_with(std::slice::from_ref(&a)), None);
        assert!(a.needs_privilege());
        assert!(!ssh.needs_privilege());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = PortForward::parse_any(&s);
            let _ = PortForward::parse_vbox(&s);
            let _ = PortForward::parse_qemu(&s);
            let _ = PortForward::parse_natnetwork(&s);
        }

        #[test]
        fn vbox_syntax_round_trips(
            name in "[a-z][a-z0-9]{0,8}", tcp: bool, hip: Option<[u8; 4]>, hport in 1u16..,
            gip: Option<[u8; 4]>, gport in 1u16..,
        ) {
            let rule = PortForward {
                name, proto: if tcp { Proto::Tcp } else { Proto::Udp },
                host_ip: hip.map(Ipv4Addr::from).filter(|a| !a.is_unspecified()), host_port: hport,
                guest_ip: gip.map(Ipv4Addr::from).filter(|a| !a.is_unspecified()), guest_port: gport,
            };
            prop_assert_eq!(PortForward::parse_vbox(&rule.to_string()).unwrap(), rule.clone());
            let q = PortForward::parse_qemu(&rule.to_qemu()).unwrap();
            prop_assert_eq!((q.proto, q.host_ip, q.host_port, q.guest_ip, q.guest_port),
                            (rule.proto, rule.host_ip, rule.host_port, rule.guest_ip, rule.guest_port));
        }
    }
}
