//! One voice: every result, warning and error a learner sees explains itself in the core, in
//! both languages, and the CLI and the browser print that same sentence.
//!
//! Table-driven: [`samples`] holds one value of every variant of every explained type, and each
//! type's `variant` function is an exhaustive `match`, so a new variant does not compile until
//! it has a sample here.

use labvisor_core::addr::{AddrError, SplitError};
use labvisor_core::lang::{Explain, Lang};
use labvisor_core::net::conntrack::FlowKey;
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::forward::{ForwardConflict, ForwardProblem, Side};
use labvisor_core::net::gateway::dhcp::{DhcpError, MessageType};
use labvisor_core::net::gateway::{GuestDrop, Mac};
use labvisor_core::net::nat::NatDrop;
use labvisor_core::net::packet::Proto;
use labvisor_core::net::reach::{Blocked, Cell};
use labvisor_core::net::sim::ActionError;
use labvisor_core::net::topology::{
    Issue, NameError, NodeKind, Problem as TopologyProblem, Severity,
};
use labvisor_core::net::trace::DropCause;
use labvisor_core::net::wire::WireError;
use labvisor_core::port::PortError;
use labvisor_core::size::SizeError;
use labvisor_core::sizing::{Problem, SizingError, Warning};
use std::net::Ipv4Addr;

fn s(text: &str) -> String {
    text.to_string()
}

/// One sample of every variant of one type, checked to cover them all.
struct Table<T> {
    name: &'static str,
    variants: usize,
    samples: Vec<T>,
    variant: fn(&T) -> usize,
}

impl<T: Explain> Table<T> {
    fn check(&self) -> Vec<(String, &T)> {
        let mut seen: Vec<usize> = self.samples.iter().map(self.variant).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(
            seen,
            (0..self.variants).collect::<Vec<_>>(),
            "{}: a variant has no sample",
            self.name
        );
        self.samples
            .iter()
            .map(|v| (self.name.to_string(), v))
            .collect()
    }
}

fn both_languages_say_it<T: Explain>(table: &Table<T>) {
    for (name, value) in table.check() {
        let both = value.explain();
        assert!(
            both.missing().is_empty(),
            "{name}: {both:?} lacks a language"
        );
        assert_ne!(both.en, both.ko, "{name}: the Korean is the English");
        assert_eq!(value.explain_in(Lang::En), both.en);
        assert_eq!(value.explain_in(Lang::Ko), both.ko);
    }
}

fn sizing_problems() -> Table<Problem> {
    Table {
        name: "sizing::Problem",
        variants: 3,
        samples: vec![
            Problem::RamOvercommit {
                requested_mib: 8192,
                available_mib: 6553,
            },
            Problem::NoCpuLeft {
                host_cpus: 1,
                reserved: 1,
            },
            Problem::VmWiderThanHost {
                vm: s("web"),
                vcpus: 8,
                host_cpus: 4,
            },
        ],
        variant: |p| match p {
            Problem::RamOvercommit { .. } => 0,
            Problem::NoCpuLeft { .. } => 1,
            Problem::VmWiderThanHost { .. } => 2,
        },
    }
}

fn sizing_warnings() -> Table<Warning> {
    Table {
        name: "sizing::Warning",
        variants: 3,
        samples: vec![
            Warning::VcpuOvercommit {
                requested: 4,
                available: 3,
                ratio: 1.33,
            },
            Warning::RamOvercommitAllowed {
                requested_mib: 8192,
                available_mib: 6144,
            },
            Warning::DiskOvercommit {
                requested_mib: 20480,
                host_mib: 10240,
            },
        ],
        variant: |w| match w {
            Warning::VcpuOvercommit { .. } => 0,
            Warning::RamOvercommitAllowed { .. } => 1,
            Warning::DiskOvercommit { .. } => 2,
        },
    }
}

fn sizing_errors() -> Table<SizingError> {
    use SizingError::*;
    Table {
        name: "sizing::SizingError",
        variants: 8,
        samples: vec![
            BadSize { input: s("16Q") },
            SizeOutOfRange { input: s("0G") },
            DecimalSize {
                input: s("16GB"),
                bytes: 16_000_000_000,
            },
            BadPercent { input: s("120%") },
            BadVmSpec { input: s("2") },
            EmptyVm {
                name: s("vm1"),
                what: s("vcpus"),
            },
            EmptyHost { what: s("ram") },
            BadCount { input: s("many") },
        ],
        variant: |e| match e {
            BadSize { .. } => 0,
            SizeOutOfRange { .. } => 1,
            BadPercent { .. } => 2,
            BadVmSpec { .. } => 3,
            EmptyVm { .. } => 4,
            EmptyHost { .. } => 5,
            BadCount { .. } => 6,
            DecimalSize { .. } => 7,
        },
    }
}

fn addr_errors() -> Table<AddrError> {
    use AddrError::*;
    let input = s("10.0.010.1");
    Table {
        name: "addr::AddrError",
        variants: 9,
        samples: vec![
            Empty,
            WrongPartCount {
                input: s("1.2.3"),
                found: 3,
            },
            EmptyPart {
                input: s("1..2.3"),
                position: 2,
            },
            NotDecimal {
                input: s("1.x.2.3"),
                part: s("x"),
            },
            LeadingZero {
                input: input.clone(),
                part: s("010"),
                canonical: s("10"),
            },
            OctetOutOfRange {
                input: s("1.2.3.256"),
                part: s("256"),
            },
            PrefixNotNumber {
                input: s("1.2.3.4/x"),
                prefix: s("x"),
            },
            PrefixTooLong {
                input: s("1.2.3.4/33"),
                prefix: s("33"),
            },
            MissingPrefix { input },
        ],
        variant: |e| match e {
            Empty => 0,
            WrongPartCount { .. } => 1,
            EmptyPart { .. } => 2,
            NotDecimal { .. } => 3,
            LeadingZero { .. } => 4,
            OctetOutOfRange { .. } => 5,
            PrefixNotNumber { .. } => 6,
            PrefixTooLong { .. } => 7,
            MissingPrefix { .. } => 8,
        },
    }
}

fn split_errors() -> Table<SplitError> {
    use SplitError::*;
    Table {
        name: "addr::SplitError",
        variants: 3,
        samples: vec![
            Zero {
                block: s("10.0.0.0/24"),
            },
            TooMany {
                block: s("10.0.0.0/30"),
                prefix: 30,
                requested: 8,
                max: 4,
            },
            TooManyToList { requested: 100_000 },
        ],
        variant: |e| match e {
            Zero { .. } => 0,
            TooMany { .. } => 1,
            TooManyToList { .. } => 2,
        },
    }
}

fn port_errors() -> Table<PortError> {
    use PortError::*;
    Table {
        name: "port::PortError",
        variants: 4,
        samples: vec![
            Empty,
            NotANumber { input: s("2x") },
            OutOfRange { input: s("70000") },
            UnknownService {
                input: s("gopher2"),
            },
        ],
        variant: |e| match e {
            Empty => 0,
            NotANumber { .. } => 1,
            OutOfRange { .. } => 2,
            UnknownService { .. } => 3,
        },
    }
}

fn size_errors() -> Table<SizeError> {
    use SizeError::*;
    Table {
        name: "size::SizeError",
        variants: 6,
        samples: vec![
            Empty,
            NotANumber { text: s("lots") },
            Negative { text: s("-5G") },
            UnknownUnit {
                text: s("5X"),
                unit: s("X"),
            },
            TooLarge {
                text: s("99999999T"),
            },
            NotWholeBytes { text: s("1.3B") },
        ],
        variant: |e| match e {
            Empty => 0,
            NotANumber { .. } => 1,
            Negative { .. } => 2,
            UnknownUnit { .. } => 3,
            TooLarge { .. } => 4,
            NotWholeBytes { .. } => 5,
        },
    }
}

fn drop_causes() -> Table<DropCause> {
    use DropCause::*;
    Table {
        name: "trace::DropCause",
        variants: 9,
        samples: vec![
            NoRoute,
            NoArp,
            TtlExceeded,
            NotForwarding,
            NotAttached,
            NoAddress,
            Nat,
            PortClosed,
            Loop,
        ],
        variant: |c| match c {
            NoRoute => 0,
            NoArp => 1,
            TtlExceeded => 2,
            NotForwarding => 3,
            NotAttached => 4,
            NoAddress => 5,
            Nat => 6,
            PortClosed => 7,
            Loop => 8,
        },
    }
}

fn reach_blocked() -> Table<Blocked> {
    let addr = Ipv4Addr::new(10, 0, 2, 15);
    Table {
        name: "reach::Blocked",
        variants: 6,
        samples: vec![
            Blocked::NoAddress,
            Blocked::OwnAddress { addr },
            Blocked::ArrivedAt {
                addr,
                node: s("pc"),
            },
            Blocked::Dropped {
                addr,
                node: s("isp"),
                cause: DropCause::NoRoute,
            },
            Blocked::NoAnswer { addr },
            Blocked::NotSent {
                addr,
                why: s("unknown node \"vm9\""),
            },
        ],
        variant: |b| match b {
            Blocked::NoAddress => 0,
            Blocked::OwnAddress { .. } => 1,
            Blocked::ArrivedAt { .. } => 2,
            Blocked::Dropped { .. } => 3,
            Blocked::NoAnswer { .. } => 4,
            Blocked::NotSent { .. } => 5,
        },
    }
}

fn reach_cells() -> Table<Cell> {
    Table {
        name: "reach::Cell",
        variants: 4,
        samples: vec![
            Cell::Myself,
            Cell::Direct {
                addr: Ipv4Addr::new(192, 168, 56, 101),
            },
            Cell::PortForward {
                rule: s("ssh"),
                via: s("127.0.0.1:2222"),
            },
            Cell::No {
                why: Blocked::NoAddress,
            },
        ],
        variant: |c| match c {
            Cell::Myself => 0,
            Cell::Direct { .. } => 1,
            Cell::PortForward { .. } => 2,
            Cell::No { .. } => 3,
        },
    }
}

fn name_errors() -> Table<NameError> {
    use NameError::*;
    Table {
        name: "topology::NameError",
        variants: 5,
        samples: vec![
            Empty,
            TooLong(s("a-very-long-name-that-goes-on-and-on"), 36),
            BadChar(s("vm 1"), ' '),
            BadStart(s("-vm")),
            Taken(s("vm1")),
        ],
        variant: |e| match e {
            Empty => 0,
            TooLong(..) => 1,
            BadChar(..) => 2,
            BadStart(..) => 3,
            Taken(..) => 4,
        },
    }
}

fn action_errors() -> Table<ActionError> {
    use ActionError::*;
    Table {
        name: "sim::ActionError",
        variants: 8,
        samples: vec![
            UnknownNode(s("vm9")),
            UnknownNic {
                node: s("vm1"),
                nic: s("eth7"),
            },
            Rule(s("no rule named \"ssh\"")),
            Name(NameError::Taken(s("vm1"))),
            NotAVm(s("pc"), NodeKind::Host),
            TooSmall("10.0.2.0/30".parse().unwrap()),
            TooManyNics(s("vm1")),
            Invalid(Vec::new()),
        ],
        variant: |e| match e {
            UnknownNode(_) => 0,
            UnknownNic { .. } => 1,
            Rule(_) => 2,
            Name(_) => 3,
            NotAVm(..) => 4,
            TooSmall(_) => 5,
            TooManyNics(_) => 6,
            Invalid(_) => 7,
        },
    }
}

fn forward_conflicts() -> Table<ForwardConflict> {
    use ForwardConflict::*;
    let with = PortForward::parse_vbox("ssh,tcp,,2222,,22").unwrap();
    Table {
        name: "forward::ForwardConflict",
        variants: 2,
        samples: vec![SameName { with: with.clone() }, SameHostPort { with }],
        variant: |c| match c {
            SameName { .. } => 0,
            SameHostPort { .. } => 1,
        },
    }
}

fn forward_problems() -> Table<ForwardProblem> {
    use ForwardProblem::*;
    Table {
        name: "forward::ForwardProblem",
        variants: 14,
        samples: vec![
            VboxFieldCount(4),
            NatNetworkFieldCount(3),
            NoName,
            NotForwardable(s("icmp")),
            PortZero(Side::Host),
            NotAPort(Side::Guest, s("ssh")),
            NotAnAddress(Side::Host, s("localhost")),
            NotBracketed(Side::Guest),
            GuestAddressRequired,
            QemuNoDash,
            QemuHostPart,
            QemuGuestPart,
            DockerForm(1),
            DockerForm(4),
            UnknownSyntax,
        ],
        variant: |p| match p {
            VboxFieldCount(_) => 0,
            NatNetworkFieldCount(_) => 1,
            NoName => 2,
            NotForwardable(_) => 3,
            PortZero(_) => 4,
            NotAPort(..) => 5,
            NotAnAddress(..) => 6,
            NotBracketed(_) => 7,
            GuestAddressRequired => 8,
            QemuNoDash => 9,
            QemuHostPart => 10,
            QemuGuestPart => 11,
            DockerForm(_) => 12,
            UnknownSyntax => 13,
        },
    }
}

fn nat_drops() -> Table<NatDrop> {
    use NatDrop::*;
    Table {
        name: "nat::NatDrop",
        variants: 6,
        samples: vec![
            PoolExhausted {
                proto: Proto::Tcp,
                first: 1024,
                last: 65535,
            },
            TableFull { max: 8 },
            NoMapping {
                proto: Proto::Udp,
                port: 5353,
            },
            Filtered {
                nat_type: s("port-restricted cone"),
                port: 40000,
                admits: s("replies from the exact address and port the inside host sent to"),
            },
            HairpinOff,
            Clash(s("tcp 10.0.2.2:80 > 127.0.0.1:40000")),
        ],
        variant: |d| match d {
            PoolExhausted { .. } => 0,
            TableFull { .. } => 1,
            NoMapping { .. } => 2,
            Filtered { .. } => 3,
            HairpinOff => 4,
            Clash(_) => 5,
        },
    }
}

fn wire_errors() -> Table<WireError> {
    use WireError::*;
    let key = FlowKey {
        proto: Proto::Udp,
        src: Ipv4Addr::new(10, 0, 2, 15),
        dst: Ipv4Addr::new(10, 0, 2, 2),
        sport: 5000,
        dport: 7,
    };
    Table {
        name: "wire::WireError",
        variants: 11,
        samples: vec![
            Truncated {
                what: "IPv4 header",
                need: 20,
                have: 9,
            },
            NotIpv4(6),
            BadLength {
                what: "UDP length",
                value: 3,
            },
            BadChecksum {
                found: 1,
                expected: 2,
            },
            Fragment {
                offset: 0,
                more: true,
            },
            Protocol(47),
            IcmpType(13),
            BadIcmpChecksum {
                found: 1,
                expected: 2,
            },
            Quoted(Box::new(NotIpv4(6))),
            Unrelated(key),
            Nat(NatDrop::HairpinOff),
        ],
        variant: |e| match e {
            Truncated { .. } => 0,
            NotIpv4(_) => 1,
            BadLength { .. } => 2,
            BadChecksum { .. } => 3,
            Fragment { .. } => 4,
            Protocol(_) => 5,
            IcmpType(_) => 6,
            BadIcmpChecksum { .. } => 7,
            Quoted(_) => 8,
            Unrelated(_) => 9,
            Nat(_) => 10,
        },
    }
}

fn dhcp_errors() -> Table<DhcpError> {
    use DhcpError::*;
    Table {
        name: "gateway::dhcp::DhcpError",
        variants: 11,
        samples: vec![
            Truncated { have: 100 },
            NotRequest(2),
            Hardware { htype: 6, hlen: 6 },
            BadCookie,
            OptionOverrun { code: 12 },
            OptionLength {
                code: 50,
                len: 3,
                expected: 4,
            },
            NoEnd,
            NoMessageType,
            UnknownMessageType(9),
            NotFromClient(MessageType::Offer),
            PoolExhausted {
                first: Ipv4Addr::new(10, 0, 2, 15),
                last: Ipv4Addr::new(10, 0, 2, 15),
            },
        ],
        variant: |e| match e {
            Truncated { .. } => 0,
            NotRequest(_) => 1,
            Hardware { .. } => 2,
            BadCookie => 3,
            OptionOverrun { .. } => 4,
            OptionLength { .. } => 5,
            NoEnd => 6,
            NoMessageType => 7,
            UnknownMessageType(_) => 8,
            NotFromClient(_) => 9,
            PoolExhausted { .. } => 10,
        },
    }
}

fn guest_drops() -> Table<GuestDrop> {
    use GuestDrop::*;
    let gw = Ipv4Addr::new(10, 0, 2, 2);
    let mac = Mac([0x52, 0x54, 0x00, 0x12, 0x35, 0x02]);
    Table {
        name: "gateway::GuestDrop",
        variants: 17,
        samples: vec![
            FrameTooShort { len: 3 },
            FrameTooLong {
                len: 70_000,
                max: 65_549,
            },
            ForeignMac { dst: mac },
            GroupSource {
                src: Mac([1, 0, 0x5e, 0, 0, 1]),
            },
            EtherType(0x86dd),
            BadArp("shorter than 28 bytes"),
            Spoofed { ip: gw, mac },
            ArpNotOurs(Ipv4Addr::new(10, 0, 2, 9)),
            Ip(WireError::NotIpv4(6)),
            BadChecksum { proto: Proto::Udp },
            Dhcp(DhcpError::NoEnd),
            IcmpElsewhere(Ipv4Addr::new(198, 51, 100, 7)),
            NotDns {
                dns: Ipv4Addr::new(10, 0, 2, 3),
                proto: Proto::Tcp,
                port: 53,
            },
            Unroutable(Ipv4Addr::new(10, 0, 2, 77)),
            HostLoopbackOff(gw),
            TcpNoConnection(FlowKey {
                proto: Proto::Tcp,
                src: Ipv4Addr::new(10, 0, 2, 15),
                dst: gw,
                sport: 40000,
                dport: 8000,
            }),
            Nat(NatDrop::TableFull { max: 8 }),
        ],
        variant: |d| match d {
            FrameTooShort { .. } => 0,
            FrameTooLong { .. } => 1,
            ForeignMac { .. } => 2,
            GroupSource { .. } => 3,
            EtherType(_) => 4,
            BadArp(_) => 5,
            Spoofed { .. } => 6,
            ArpNotOurs(_) => 7,
            Ip(_) => 8,
            BadChecksum { .. } => 9,
            Dhcp(_) => 10,
            IcmpElsewhere(_) => 11,
            NotDns { .. } => 12,
            Unroutable(_) => 13,
            HostLoopbackOff(_) => 14,
            TcpNoConnection(_) => 15,
            Nat(_) => 16,
        },
    }
}

fn topology_issues() -> Table<Issue> {
    use Issue::*;
    let rule = |text: &str| PortForward::parse_vbox(text).unwrap();
    let ip = |text: &str| text.parse().unwrap();
    Table {
        name: "topology::Issue",
        variants: 27,
        samples: vec![
            BadName(NameError::BadStart(s("-vm"))),
            DuplicateNode,
            DuplicateNic,
            VmOnSegment { segment: s("lan") },
            ModeOnMachine {
                kind: NodeKind::Router,
                mode: s("bridged"),
            },
            GatewayOutsideSubnet {
                gateway: ip("10.0.9.1"),
                subnet: "10.0.0.0/24".parse().unwrap(),
            },
            DhcpWithoutAddress,
            DhcpPoolOutside {
                first: ip("10.0.1.10"),
                last: ip("10.0.1.20"),
                subnet: "10.0.0.0/24".parse().unwrap(),
            },
            UnknownNatNetwork { name: s("lab") },
            VmWithoutHost,
            UnknownHost { name: s("pc9") },
            NotAHost {
                name: s("router"),
                kind: NodeKind::Router,
            },
            HostOfNonVm {
                kind: NodeKind::Server,
            },
            NatOnNonRouter {
                kind: NodeKind::Host,
            },
            UnknownNatOutside { nic: s("wan") },
            RouteUnknownNic {
                route: s("default via 10.0.0.1 dev eth9"),
                nic: s("eth9"),
            },
            DuplicateNatNetwork,
            NatNetworkTooSmall {
                cidr: "10.0.2.0/30".parse().unwrap(),
            },
            ForwardOutside {
                rule: s("ssh"),
                guest: ip("192.168.1.5"),
                cidr: "10.0.2.0/24".parse().unwrap(),
            },
            ForwardWithoutGuest { rule: s("ssh") },
            ForwardConflict {
                rule: rule("ssh,tcp,,2222,,22"),
                with: rule("ssh,tcp,,2200,,22"),
            },
            ForwardConflict {
                rule: rule("web,tcp,,2222,,80"),
                with: rule("ssh,tcp,,2222,,22"),
            },
            PrivilegedPort {
                rule: s("web"),
                port: 80,
            },
            AdapterBeyondNat { adapter: 300 },
            BridgedWithoutLan { host: s("pc") },
            NotHostOnlyName { name: s("eth0") },
            DhcpExhausted {
                server: ip("10.0.2.2"),
                first: ip("10.0.2.15"),
                last: ip("10.0.2.15"),
            },
            AddressInUse {
                addr: ip("10.0.0.5"),
                other: s("vm1 eth0"),
                segment: s("intnet/lab"),
            },
        ],
        variant: |i| match i {
            BadName(_) => 0,
            DuplicateNode => 1,
            DuplicateNic => 2,
            VmOnSegment { .. } => 3,
            ModeOnMachine { .. } => 4,
            GatewayOutsideSubnet { .. } => 5,
            DhcpWithoutAddress => 6,
            DhcpPoolOutside { .. } => 7,
            UnknownNatNetwork { .. } => 8,
            VmWithoutHost => 9,
            UnknownHost { .. } => 10,
            NotAHost { .. } => 11,
            HostOfNonVm { .. } => 12,
            NatOnNonRouter { .. } => 13,
            UnknownNatOutside { .. } => 14,
            RouteUnknownNic { .. } => 15,
            DuplicateNatNetwork => 16,
            NatNetworkTooSmall { .. } => 17,
            ForwardOutside { .. } => 18,
            ForwardWithoutGuest { .. } => 19,
            ForwardConflict { .. } => 20,
            PrivilegedPort { .. } => 21,
            AdapterBeyondNat { .. } => 22,
            BridgedWithoutLan { .. } => 23,
            NotHostOnlyName { .. } => 24,
            DhcpExhausted { .. } => 25,
            AddressInUse { .. } => 26,
        },
    }
}

#[test]
fn every_variant_of_every_explained_type_says_itself_in_both_languages() {
    both_languages_say_it(&sizing_problems());
    both_languages_say_it(&sizing_warnings());
    both_languages_say_it(&sizing_errors());
    both_languages_say_it(&addr_errors());
    both_languages_say_it(&split_errors());
    both_languages_say_it(&port_errors());
    both_languages_say_it(&size_errors());
    both_languages_say_it(&drop_causes());
    both_languages_say_it(&reach_blocked());
    both_languages_say_it(&reach_cells());
    both_languages_say_it(&name_errors());
    both_languages_say_it(&action_errors());
    both_languages_say_it(&forward_problems());
    both_languages_say_it(&forward_conflicts());
    both_languages_say_it(&nat_drops());
    both_languages_say_it(&wire_errors());
    both_languages_say_it(&dhcp_errors());
    both_languages_say_it(&guest_drops());
    both_languages_say_it(&topology_issues());
}

#[test]
fn the_cli_and_the_browser_print_the_cores_topology_problems() {
    use labvisor::cli::net::problem_line;
    use labvisor_web::tools::{render_error, EditError};
    for lang in [Lang::En, Lang::Ko] {
        for (_, issue) in topology_issues().check() {
            for severity in [Severity::Error, Severity::Warning] {
                let problem = TopologyProblem {
                    severity,
                    at: s("vm1 eth0"),
                    issue: issue.clone(),
                };
                let core = problem.explain_in(lang);
                assert!(core.starts_with("vm1 eth0: "), "{core}");
                assert!(
                    problem_line(&problem, lang).ends_with(&core),
                    "{lang:?}: the CLI rewords {issue:?}"
                );
                if lang == Lang::En {
                    // English keeps the engine's own line, label and all.
                    assert_eq!(problem_line(&problem, lang), problem.to_string());
                }
                let shown = render_error(lang, &EditError::Topology(vec![problem.clone()]));
                assert!(
                    shown.ends_with(&core),
                    "{lang:?}: the browser rewords {issue:?}"
                );
            }
        }
    }
}

#[test]
fn the_cli_and_the_browser_print_the_cores_sizing_sentences() {
    use labvisor::cli::host::{problem_line, warning_line};
    use labvisor_web::tools::{problem_text, warning_text};
    for lang in [Lang::En, Lang::Ko] {
        for (_, p) in sizing_problems().check() {
            let core = p.explain_in(lang);
            assert_eq!(problem_text(lang, p), core);
            assert!(
                problem_line(p, lang).starts_with(&core),
                "{lang:?}: the CLI rewords {p:?}"
            );
        }
        for (_, w) in sizing_warnings().check() {
            let core = w.explain_in(lang);
            assert_eq!(warning_text(lang, w), core);
            assert!(
                warning_line(w, lang).ends_with(&core),
                "{lang:?}: the CLI rewords {w:?}"
            );
        }
    }
}

#[test]
fn the_browser_says_the_cores_action_errors() {
    use labvisor_core::net::scenario::describe_in;
    use labvisor_core::net::sim::Action;
    use labvisor_web::tools::{render_error, EditError};
    let action = Action::RemoveVm { name: s("vm9") };
    for lang in [Lang::En, Lang::Ko] {
        for (_, e) in action_errors().check() {
            let shown = render_error(
                lang,
                &EditError::Action(Box::new(action.clone()), e.clone()),
            );
            assert_eq!(
                shown,
                format!("{}: {}", describe_in(&action, lang), e.explain_in(lang))
            );
        }
    }
}
