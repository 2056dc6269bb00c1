//! Port forwarding (DNAT) rules, with VirtualBox's fields, parsed from VirtualBox's and QEMU's
//! syntaxes.
//!
//! - VirtualBox NAT: `VBoxManage modifyvm VM --natpf1 "guestssh,tcp,,2222,,22"`
//!   (name, protocol, host IP, host port, guest IP, guest port; empty IPs mean "any host
//!   address" and "the guest's DHCP address").
//! - VirtualBox NAT Network: `--port-forward-4 "ssh:tcp:[]:1022:[10.0.2.4]:22"`.
//! - QEMU user networking: `hostfwd=tcp:127.0.0.1:2222-:22`.
//! - Docker: `docker run -p 8080:80` (`-p [hostip:]hostport:containerport[/tcp|udp]`): the same
//!   forwarding, from a host port to a port of the container's own address.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::packet::Proto;
use crate::lang::particle::eun_neun;
use crate::lang::{Explain, Lang};

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
    pub problem: ForwardProblem,
}

/// Which end of a rule a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The host's address or port (where connections arrive).
    Host,
    /// The guest's address or port (where they are sent).
    Guest,
}

impl Side {
    fn name_in(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Side::Host, Lang::En) => "host",
            (Side::Guest, Lang::En) => "guest",
            (Side::Host, Lang::Ko) => "호스트",
            (Side::Guest, Lang::Ko) => "게스트",
        }
    }
}

/// What is wrong with a rule: one variant per mistake, so each language can say it exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardProblem {
    /// VirtualBox NAT syntax with other than six comma-separated fields (how many there were).
    VboxFieldCount(usize),
    /// NAT Network syntax with other than six colon-separated fields (how many there were).
    NatNetworkFieldCount(usize),
    /// The first field, the rule's name, is empty.
    NoName,
    /// A protocol other than TCP or UDP (as typed, lowercased).
    NotForwardable(String),
    /// Port 0.
    PortZero(Side),
    /// A port that is not a number in 1-65535 (as typed).
    NotAPort(Side, String),
    /// An address that is not IPv4 (as typed).
    NotAnAddress(Side, String),
    /// A NAT Network address without its brackets.
    NotBracketed(Side),
    /// A NAT Network rule without a guest address.
    GuestAddressRequired,
    /// QEMU syntax without the '-' between host and guest.
    QemuNoDash,
    /// QEMU syntax whose host part is not proto:addr:port.
    QemuHostPart,
    /// QEMU syntax whose guest part is not addr:port.
    QemuGuestPart,
    /// Docker syntax that is not `[hostip:]hostport:containerport[/proto]` (how many
    /// colon-separated fields there were; 1 is Docker's "any free host port", not a fixed rule).
    DockerForm(usize),
    /// None of the syntaxes.
    UnknownSyntax,
}

const VBOX_FORM: &str = "\"ssh,tcp,,2222,,22\"";
const NATNET_FORM: &str = "\"ssh:tcp:[]:1022:[10.0.2.4]:22\"";
const QEMU_EN: &str = "expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport (e.g. \"tcp:127.0.0.1:2222-:22\")";
const DOCKER_FORM: &str = "\"-p 8080:80\" or \"-p 127.0.0.1:8080:80/tcp\"";
const DOCKER_FORM_KO: &str = "\"-p 8080:80\", \"-p 127.0.0.1:8080:80/tcp\"";
const QEMU_KO: &str = "QEMU 문법은 [tcp|udp]:[호스트주소]:호스트포트-[게스트주소]:게스트포트입니다(예: \"tcp:127.0.0.1:2222-:22\")";

impl Explain for ForwardProblem {
    /// The problem in `lang`; the English is the `Display` form.
    fn explain_in(&self, lang: Lang) -> String {
        use ForwardProblem::*;
        match (self, lang) {
            (VboxFieldCount(n), Lang::En) => format!("expected 6 comma-separated fields name,proto,hostip,hostport,guestip,guestport (e.g. {VBOX_FORM}), found {n}"),
            (VboxFieldCount(n), Lang::Ko) => format!("쉼표로 구분된 필드 6개(이름,프로토콜,호스트IP,호스트포트,게스트IP,게스트포트, 예: {VBOX_FORM})가 필요한데 {n}개입니다"),
            (NatNetworkFieldCount(n), Lang::En) => format!("expected name:proto:[hostip]:hostport:[guestip]:guestport (e.g. {NATNET_FORM}), found {n} colon-separated fields"),
            (NatNetworkFieldCount(n), Lang::Ko) => format!("NAT 네트워크 규칙은 이름:프로토콜:[호스트IP]:호스트포트:[게스트IP]:게스트포트 형식입니다(예: {NATNET_FORM}). 콜론으로 나뉜 필드가 {n}개입니다"),
            (NoName, Lang::En) => "the rule needs a name (first field)".into(),
            (NoName, Lang::Ko) => "규칙에는 이름(첫 필드)이 필요합니다".into(),
            (NotForwardable(p), Lang::En) => format!("protocol {p:?} is not forwardable: expected tcp or udp"),
            (NotForwardable(p), Lang::Ko) => format!("프로토콜 {} 포워딩할 수 없습니다. tcp 또는 udp여야 합니다", eun_neun(format!("{p:?}"))),
            (PortZero(side), Lang::En) => format!("{} port 0 is not a usable port: expected 1-65535", side.name_in(lang)),
            (PortZero(side), Lang::Ko) => format!("{} 포트 0은 쓸 수 없습니다. 포트는 1–65535 범위의 숫자여야 합니다", side.name_in(lang)),
            (NotAPort(side, s), Lang::En) => format!("{} port {s:?} is not a number in 1-65535", side.name_in(lang)),
            (NotAPort(side, s), Lang::Ko) => format!("{} 포트 {s:?}: 포트는 1–65535 범위의 숫자여야 합니다", side.name_in(lang)),
            (NotAnAddress(side, s), Lang::En) => format!("{} address {s:?} is not an IPv4 address like 127.0.0.1", side.name_in(lang)),
            (NotAnAddress(side, s), Lang::Ko) => format!("{} 주소 {} 127.0.0.1 같은 IPv4 주소가 아닙니다", side.name_in(lang), eun_neun(format!("{s:?}"))),
            (NotBracketed(side), Lang::En) => format!("the {} address must be in brackets, like [] or [10.0.2.4]", side.name_in(lang)),
            (NotBracketed(side), Lang::Ko) => format!("{} 주소는 [] 또는 [10.0.2.4]처럼 대괄호 안에 적습니다", side.name_in(lang)),
            (GuestAddressRequired, Lang::En) => "a NAT Network rule must name the guest address: the network has many guests".into(),
            (GuestAddressRequired, Lang::Ko) => "NAT 네트워크의 규칙은 게스트 주소를 적어야 합니다. 네트워크에 게스트가 여럿이니까요".into(),
            (QemuNoDash, Lang::En) => format!("{QEMU_EN}: no '-' between host and guest parts"),
            (QemuNoDash, Lang::Ko) => format!("{QEMU_KO}. 호스트 부분과 게스트 부분 사이에 '-'가 없습니다"),
            (QemuHostPart, Lang::En) => format!("{QEMU_EN}: the host part needs proto:addr:port"),
            (QemuHostPart, Lang::Ko) => format!("{QEMU_KO}. 호스트 부분은 프로토콜:주소:포트입니다"),
            (QemuGuestPart, Lang::En) => format!("{QEMU_EN}: the guest part needs addr:port"),
            (QemuGuestPart, Lang::Ko) => format!("{QEMU_KO}. 게스트 부분은 주소:포트입니다"),
            (DockerForm(1), Lang::En) => format!("Docker's -p with one port publishes it on a host port the OS picks; a fixed rule is -p [hostip:]hostport:containerport[/tcp|udp] (e.g. {DOCKER_FORM})"),
            (DockerForm(1), Lang::Ko) => format!("Docker의 -p에 포트를 하나만 적으면 OS가 고른 호스트 포트로 공개합니다. 고정 규칙은 -p [호스트IP:]호스트포트:컨테이너포트[/tcp|udp]입니다(예: {DOCKER_FORM_KO})"),
            (DockerForm(n), Lang::En) => format!("expected Docker's -p [hostip:]hostport:containerport[/tcp|udp] (e.g. {DOCKER_FORM}), found {n} colon-separated fields"),
            (DockerForm(n), Lang::Ko) => format!("Docker 문법은 -p [호스트IP:]호스트포트:컨테이너포트[/tcp|udp]입니다(예: {DOCKER_FORM_KO}). 콜론으로 나뉜 필드가 {n}개입니다"),
            (UnknownSyntax, Lang::En) => format!("not a rule in VirtualBox ({VBOX_FORM}), NAT Network (\"ssh:tcp:[]:2222:[10.0.2.4]:22\"), QEMU (\"tcp::2222-:22\") or Docker (\"-p 2222:22\") syntax"),
            (UnknownSyntax, Lang::Ko) => format!("VirtualBox({VBOX_FORM}), NAT 네트워크(\"ssh:tcp:[]:2222:[10.0.2.4]:22\"), QEMU(\"tcp::2222-:22\"), Docker(\"-p 2222:22\") 문법 중 어느 것도 아닙니다"),
        }
    }
}

/// The syntaxes a rule can be written in, told apart by their separators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSyntax {
    /// `name,proto,hostip,hostport,guestip,guestport` (`VBoxManage modifyvm --natpf1`, and the
    /// columns of the Port Forwarding dialog).
    VirtualBox,
    /// `name:proto:[hostip]:hostport:[guestip]:guestport` (`VBoxManage natnetwork
    /// --port-forward-4`).
    NatNetwork,
    /// `[hostfwd=][tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport` (QEMU `-netdev user`).
    Qemu,
    /// `-p [hostip:]hostport:containerport[/proto]` (`docker run`).
    Docker,
}

impl RuleSyntax {
    /// The syntax `input` is written in, by its separators; `None` when it is none of them.
    pub fn of(input: &str) -> Option<RuleSyntax> {
        if PortForward::looks_like_docker(input) {
            Some(RuleSyntax::Docker)
        } else if input.contains(',') {
            Some(RuleSyntax::VirtualBox)
        } else if input.contains('[') {
            Some(RuleSyntax::NatNetwork)
        } else if input.contains('-') {
            Some(RuleSyntax::Qemu)
        } else {
            None
        }
    }

    /// How the two forms a learner meets most are written, for under any error: whatever
    /// was typed, both stand there to copy.
    pub fn both_forms_in(lang: Lang) -> &'static str {
        match lang {
            Lang::En => "Write a rule as VirtualBox does, name,proto,hostip,hostport,guestip,guestport (\"ssh,tcp,,2222,10.0.2.5,22\"; empty addresses mean any host address and the guest's own), or as QEMU's hostfwd does, proto:hostaddr:hostport-guestaddr:guestport (\"tcp::2222-10.0.2.5:22\"). Docker's \"-p 2222:22\" is read too.",
            Lang::Ko => "규칙은 VirtualBox처럼 이름,프로토콜,호스트IP,호스트포트,게스트IP,게스트포트(\"ssh,tcp,,2222,10.0.2.5,22\", 주소를 비우면 호스트의 모든 주소와 게스트 자신의 주소)로 쓰거나, QEMU의 hostfwd처럼 프로토콜:호스트주소:호스트포트-게스트주소:게스트포트(\"tcp::2222-10.0.2.5:22\")로 씁니다. Docker의 \"-p 2222:22\"도 읽습니다.",
        }
    }
}

impl Explain for RuleSyntax {
    /// Which form was read, as a front end says it: "VirtualBox's NAT form".
    fn explain_in(&self, lang: Lang) -> String {
        match (self, lang) {
            (RuleSyntax::VirtualBox, Lang::En) => {
                "VirtualBox's form (VBoxManage --natpf1, the Port Forwarding dialog)"
            }
            (RuleSyntax::VirtualBox, Lang::Ko) => {
                "VirtualBox 형식(VBoxManage --natpf1, 포트 포워딩 대화 상자)"
            }
            (RuleSyntax::NatNetwork, Lang::En) => {
                "VirtualBox's NAT Network form (VBoxManage natnetwork --port-forward-4)"
            }
            (RuleSyntax::NatNetwork, Lang::Ko) => {
                "VirtualBox NAT 네트워크 형식(VBoxManage natnetwork --port-forward-4)"
            }
            (RuleSyntax::Qemu, Lang::En) => "QEMU's hostfwd form",
            (RuleSyntax::Qemu, Lang::Ko) => "QEMU의 hostfwd 형식",
            (RuleSyntax::Docker, Lang::En) => "Docker's -p form",
            (RuleSyntax::Docker, Lang::Ko) => "Docker의 -p 형식",
        }
        .to_string()
    }
}

impl fmt::Display for ForwardProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain_in(Lang::En))
    }
}

fn err(input: &str, problem: ForwardProblem) -> ForwardError {
    ForwardError {
        input: input.to_string(),
        problem,
    }
}

fn parse_proto(input: &str, s: &str) -> Result<Proto, ForwardError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "tcp" => Ok(Proto::Tcp),
        "udp" => Ok(Proto::Udp),
        other => Err(err(
            input,
            ForwardProblem::NotForwardable(other.to_string()),
        )),
    }
}

fn parse_port(input: &str, side: Side, s: &str) -> Result<u16, ForwardError> {
    match s.trim().parse::<u16>() {
        Ok(0) => Err(err(input, ForwardProblem::PortZero(side))),
        Ok(p) => Ok(p),
        Err(_) => Err(err(
            input,
            ForwardProblem::NotAPort(side, s.trim().to_string()),
        )),
    }
}

fn parse_ip(input: &str, side: Side, s: &str) -> Result<Option<Ipv4Addr>, ForwardError> {
    let s = s.trim();
    if s.is_empty() || s == "0.0.0.0" {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| err(input, ForwardProblem::NotAnAddress(side, s.to_string())))
}

impl PortForward {
    /// Parses VirtualBox NAT syntax: `name,proto,hostip,hostport,guestip,guestport`.
    pub fn parse_vbox(input: &str) -> Result<PortForward, ForwardError> {
        let f: Vec<&str> = input.split(',').collect();
        if f.len() != 6 {
            return Err(err(input, ForwardProblem::VboxFieldCount(f.len())));
        }
        let name = f[0].trim();
        if name.is_empty() {
            return Err(err(input, ForwardProblem::NoName));
        }
        Ok(PortForward {
            name: name.to_string(),
            proto: parse_proto(input, f[1])?,
            host_ip: parse_ip(input, Side::Host, f[2])?,
            host_port: parse_port(input, Side::Host, f[3])?,
            guest_ip: parse_ip(input, Side::Guest, f[4])?,
            guest_port: parse_port(input, Side::Guest, f[5])?,
        })
    }

    /// Parses VirtualBox NAT Network syntax: `name:proto:[hostip]:hostport:[guestip]:guestport`.
    pub fn parse_natnetwork(input: &str) -> Result<PortForward, ForwardError> {
        let f: Vec<&str> = input.split(':').collect();
        if f.len() != 6 {
            return Err(err(input, ForwardProblem::NatNetworkFieldCount(f.len())));
        }
        let bracketed = |s: &str, side: Side| -> Result<Option<Ipv4Addr>, ForwardError> {
            let inner = s
                .trim()
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .ok_or_else(|| err(input, ForwardProblem::NotBracketed(side)))?;
            parse_ip(input, side, inner)
        };
        let name = f[0].trim();
        if name.is_empty() {
            return Err(err(input, ForwardProblem::NoName));
        }
        // A comma in the name mixes the two VirtualBox syntaxes: the rule could not be printed
        // and read back (found by fuzzing).
        if name.contains(',') {
            return Err(err(input, ForwardProblem::UnknownSyntax));
        }
        let rule = PortForward {
            name: name.to_string(),
            proto: parse_proto(input, f[1])?,
            host_ip: bracketed(f[2], Side::Host)?,
            host_port: parse_port(input, Side::Host, f[3])?,
            guest_ip: bracketed(f[4], Side::Guest)?,
            guest_port: parse_port(input, Side::Guest, f[5])?,
        };
        if rule.guest_ip.is_none() {
            return Err(err(input, ForwardProblem::GuestAddressRequired));
        }
        Ok(rule)
    }

    /// Parses QEMU syntax: `[hostfwd=][tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`.
    pub fn parse_qemu(input: &str) -> Result<PortForward, ForwardError> {
        let body = input
            .trim()
            .strip_prefix("hostfwd=")
            .unwrap_or(input.trim());
        let (host, guest) = body
            .split_once('-')
            .ok_or_else(|| err(input, ForwardProblem::QemuNoDash))?;
        let hf: Vec<&str> = host.split(':').collect();
        if hf.len() != 3 {
            return Err(err(input, ForwardProblem::QemuHostPart));
        }
        let proto = if hf[0].trim().is_empty() {
            Proto::Tcp
        } else {
            parse_proto(input, hf[0])?
        };
        let (gaddr, gport) = guest
            .split_once(':')
            .ok_or_else(|| err(input, ForwardProblem::QemuGuestPart))?;
        let host_port = parse_port(input, Side::Host, hf[2])?;
        Ok(PortForward {
            name: format!("{}{}", proto.name(), host_port),
            proto,
            host_ip: parse_ip(input, Side::Host, hf[1])?,
            host_port,
            guest_ip: parse_ip(input, Side::Guest, gaddr)?,
            guest_port: parse_port(input, Side::Guest, gport)?,
        })
    }

    /// Parses Docker's publish syntax: `[-p |--publish ][hostip:]hostport:containerport[/proto]`.
    /// The container is the guest: its address is the one Docker gave it (`guest_ip` `None`),
    /// and an empty host IP means every host address, as in Docker.
    pub fn parse_docker(input: &str) -> Result<PortForward, ForwardError> {
        let trimmed = input.trim();
        let body = ["--publish=", "--publish ", "-p=", "-p "]
            .iter()
            .find_map(|flag| trimmed.strip_prefix(flag))
            .unwrap_or(trimmed)
            .trim();
        let (ports, proto) = match body.split_once('/') {
            Some((ports, proto)) => (ports, parse_proto(input, proto)?),
            None => (body, Proto::Tcp),
        };
        let f: Vec<&str> = ports.split(':').collect();
        let (host_ip, host_port, guest_port) = match f[..] {
            [host_port, guest_port] => (None, host_port, guest_port),
            [host_ip, host_port, guest_port] => {
                (parse_ip(input, Side::Host, host_ip)?, host_port, guest_port)
            }
            _ => return Err(err(input, ForwardProblem::DockerForm(f.len()))),
        };
        let host_port = parse_port(input, Side::Host, host_port)?;
        Ok(PortForward {
            name: format!("{}{}", proto.name(), host_port),
            proto,
            host_ip,
            host_port,
            guest_ip: None,
            guest_port: parse_port(input, Side::Guest, guest_port)?,
        })
    }

    /// Whether `input` is written in Docker's publish syntax: it starts with `-p`/`--publish`,
    /// or it is made of ports, dots, colons and a `/proto` only (`8080:80`, `127.0.0.1:8080:80`).
    fn looks_like_docker(input: &str) -> bool {
        let t = input.trim();
        if t.starts_with("-p") || t.starts_with("--publish") {
            return true;
        }
        let ports = t.split_once('/').map_or(t, |(ports, _)| ports);
        ports.contains(':')
            && ports
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
    }

    /// Parses any of the four syntaxes, telling them apart by their separators.
    pub fn parse_any(input: &str) -> Result<PortForward, ForwardError> {
        PortForward::read(input).map(|(rule, _)| rule)
    }

    /// Parses any of the four syntaxes and says which one it read, so a front end can tell
    /// the learner ("read as QEMU's hostfwd form"). An error is the chosen syntax's.
    pub fn read(input: &str) -> Result<(PortForward, RuleSyntax), ForwardError> {
        let syntax =
            RuleSyntax::of(input).ok_or_else(|| err(input, ForwardProblem::UnknownSyntax))?;
        let rule = match syntax {
            RuleSyntax::Docker => PortForward::parse_docker(input),
            RuleSyntax::VirtualBox => PortForward::parse_vbox(input),
            RuleSyntax::NatNetwork => PortForward::parse_natnetwork(input),
            RuleSyntax::Qemu => PortForward::parse_qemu(input),
        }?;
        Ok((rule, syntax))
    }

    /// Whether listening on the host port needs root on a Linux host (ports below
    /// `net.ipv4.ip_unprivileged_port_start`, 1024 by default; macOS dropped the restriction in
    /// 10.14, Windows never had it).
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

    /// Why `self` cannot be added next to `existing`, if it cannot: the first rule it clashes
    /// with, and how.
    pub fn conflict_with(&self, existing: &[PortForward]) -> Option<ForwardConflict> {
        existing.iter().find_map(|other| {
            if other.name == self.name {
                return Some(ForwardConflict::SameName {
                    with: other.clone(),
                });
            }
            let ips_overlap = match (self.host_ip, other.host_ip) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            (other.proto == self.proto && other.host_port == self.host_port && ips_overlap).then(
                || ForwardConflict::SameHostPort {
                    with: other.clone(),
                },
            )
        })
    }
}

/// Why a rule cannot sit next to another: VirtualBox refuses a second rule of the same name,
/// and a second listener on the same host port (and protocol, and overlapping host address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardConflict {
    /// A rule of the same name exists: `with`.
    SameName {
        /// The rule already there.
        with: PortForward,
    },
    /// `with` already listens on the same host port and protocol.
    SameHostPort {
        /// The rule already there.
        with: PortForward,
    },
}

impl ForwardConflict {
    /// The rule already there.
    pub fn with(&self) -> &PortForward {
        match self {
            ForwardConflict::SameName { with } | ForwardConflict::SameHostPort { with } => with,
        }
    }
}

impl Explain for ForwardConflict {
    /// The conflict in `lang`; the English is the `Display` form. The Korean puts no particle
    /// after a rule's name, whose last sound is the learner's choice.
    fn explain_in(&self, lang: Lang) -> String {
        match (self, lang) {
            (ForwardConflict::SameName { with }, Lang::En) => {
                format!("a rule named {:?} already exists ({with})", with.name)
            }
            (ForwardConflict::SameName { with }, Lang::Ko) => {
                format!("같은 이름의 규칙이 이미 있습니다: {:?} ({with})", with.name)
            }
            (ForwardConflict::SameHostPort { with }, Lang::En) => format!(
                "host port {}/{} is already forwarded by rule {:?} ({with})",
                with.proto, with.host_port, with.name
            ),
            (ForwardConflict::SameHostPort { with }, Lang::Ko) => format!(
                "호스트 포트 {}/{} 이미 다른 규칙에서 포워딩하고 있습니다: {:?} ({with})",
                with.proto,
                eun_neun(with.host_port),
                with.name
            ),
        }
    }
}

impl fmt::Display for ForwardConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain_in(Lang::En))
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
        assert!(
            e.problem
                .to_string()
                .contains("\"icmp\" is not forwardable"),
            "{e}"
        );
        let e = PortForward::parse_vbox("ssh,tcp,,70000,,22").unwrap_err();
        assert!(e.problem.to_string().contains("host port \"70000\""), "{e}");
        let e = PortForward::parse_vbox("ssh,tcp,,0,,22").unwrap_err();
        assert!(e.problem.to_string().contains("port 0"), "{e}");
        let e = PortForward::parse_vbox("ssh,tcp,localhost,2222,,22").unwrap_err();
        assert!(e.problem.to_string().contains("\"localhost\""), "{e}");
        let e = PortForward::parse_natnetwork("ssh:tcp:[]:1022:[]:22").unwrap_err();
        assert!(
            e.problem
                .to_string()
                .contains("must name the guest address"),
            "{e}"
        );
        let e = PortForward::parse_qemu("tcp:127.0.0.1:2222").unwrap_err();
        assert!(e.problem.to_string().contains("no '-'"), "{e}");
        assert!(PortForward::parse_any("2222").is_err());
        let e = PortForward::parse_any("-p 80").unwrap_err();
        assert!(
            e.problem.to_string().contains("host port the OS picks"),
            "{e}"
        );
    }

    #[test]
    fn docker_publish_is_the_same_forwarding() {
        let web = PortForward::parse_any("-p 8080:80").unwrap();
        assert_eq!(
            (
                web.proto,
                web.host_ip,
                web.host_port,
                web.guest_ip,
                web.guest_port
            ),
            (Proto::Tcp, None, 8080, None, 80)
        );
        assert_eq!(web, PortForward::parse_any("8080:80").unwrap());
        assert_eq!(
            web,
            PortForward::parse_any("--publish 8080:80/tcp").unwrap()
        );
        let dns = PortForward::parse_any("-p 127.0.0.1:5353:53/udp").unwrap();
        assert_eq!(
            (dns.proto, dns.host_ip, dns.host_port, dns.guest_port),
            (Proto::Udp, Some(Ipv4Addr::LOCALHOST), 5353, 53)
        );
        assert_eq!(
            web.to_qemu(),
            PortForward::parse_any("hostfwd=tcp::8080-:80")
                .unwrap()
                .to_qemu()
        );
        let e = PortForward::parse_any("-p 1:2:3:4").unwrap_err();
        assert_eq!(e.problem, ForwardProblem::DockerForm(4));
        let e = PortForward::parse_any("-p 8080:80/sctp").unwrap_err();
        assert_eq!(e.problem, ForwardProblem::NotForwardable("sctp".into()));
    }

    #[test]
    fn each_syntax_is_read_and_named() {
        let read = |text: &str| PortForward::read(text).map(|(_, syntax)| syntax);
        assert_eq!(
            read("ssh,tcp,,2222,10.0.2.5,22"),
            Ok(RuleSyntax::VirtualBox)
        );
        assert_eq!(read("tcp::2222-10.0.2.5:22"), Ok(RuleSyntax::Qemu));
        assert_eq!(read("hostfwd=tcp:127.0.0.1:2222-:22"), Ok(RuleSyntax::Qemu));
        assert_eq!(
            read("ssh:tcp:[]:2222:[10.0.2.5]:22"),
            Ok(RuleSyntax::NatNetwork)
        );
        assert_eq!(read("-p 2222:22"), Ok(RuleSyntax::Docker));
        let (vbox, _) = PortForward::read("ssh,tcp,,2222,10.0.2.5,22").unwrap();
        let (qemu, _) = PortForward::read("tcp::2222-10.0.2.5:22").unwrap();
        assert_eq!(
            (vbox.host_port, vbox.guest_ip),
            (qemu.host_port, qemu.guest_ip)
        );
        assert!(RuleSyntax::Qemu.explain_in(Lang::En).contains("QEMU"));
        assert!(RuleSyntax::VirtualBox
            .explain_in(Lang::Ko)
            .contains("VirtualBox"));
        assert_eq!(
            PortForward::read("ssh 2222 22").unwrap_err().problem,
            ForwardProblem::UnknownSyntax
        );
        for lang in [Lang::En, Lang::Ko] {
            let help = RuleSyntax::both_forms_in(lang);
            assert!(
                help.contains("ssh,tcp,,2222,10.0.2.5,22")
                    && help.contains("tcp::2222-10.0.2.5:22")
            );
        }
    }

    #[test]
    fn every_problem_is_said_in_korean_too() {
        let inputs = [
            "ssh,tcp,,2222,22",
            "ssh:tcp:[]:1022",
            ",tcp,,2222,,22",
            "ssh,icmp,,2222,,22",
            "ssh,tcp,,0,,22",
            "ssh,tcp,,2222,,seventy",
            "ssh,tcp,localhost,2222,,22",
            "ssh:tcp:127.0.0.1:1022:[10.0.2.4]:22",
            "ssh:tcp:[]:1022:[]:22",
            "tcp:127.0.0.1:2222",
            "tcp:2222-:22",
            "tcp::2222-22",
            "-p 1:2:3:4",
            "2222",
        ];
        let mut seen = Vec::new();
        for input in inputs {
            let e = PortForward::parse_any(input).unwrap_err();
            let ko = e.problem.explain_in(Lang::Ko);
            for english in [
                "expected", "port ", "address", "field", "needs", "must", "syntax",
            ] {
                assert!(!ko.contains(english), "{input}: {ko}");
            }
            seen.push(std::mem::discriminant(&e.problem));
        }
        seen.dedup();
        assert_eq!(seen.len(), inputs.len(), "each input shows another problem");
    }

    #[test]
    fn conflicts_and_privileges() {
        let ssh = PortForward::parse_vbox("ssh,tcp,,2222,,22").unwrap();
        let same_port = PortForward::parse_vbox("ssh2,tcp,127.0.0.1,2222,,23").unwrap();
        let udp = PortForward::parse_vbox("dns,udp,,2222,,53").unwrap();
        let dup_name = PortForward::parse_vbox("ssh,tcp,,2223,,22").unwrap();
        let existing = vec![ssh.clone()];
        assert_eq!(
            same_port.conflict_with(&existing),
            Some(ForwardConflict::SameHostPort { with: ssh.clone() })
        );
        assert!(same_port
            .conflict_with(&existing)
            .unwrap()
            .to_string()
            .contains("already forwarded by rule \"ssh\""));
        assert_eq!(udp.conflict_with(&existing), None);
        assert_eq!(
            dup_name.conflict_with(&existing),
            Some(ForwardConflict::SameName { with: ssh.clone() })
        );
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
