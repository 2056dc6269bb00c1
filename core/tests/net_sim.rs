//! The simulator's behaviour on the ready examples: ICMP errors, TTL, mode changes, expiry,
//! hairpinning, and robustness against arbitrary actions.

mod common;
use common::{delivered_to, example};
use std::net::Ipv4Addr;

use labvisor_core::net::clock::Duration;
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::packet::{Proto, TcpFlags};
use labvisor_core::net::scenario::{Scenario, EXAMPLES};
use labvisor_core::net::sim::{Action, Network, RuleTarget, SendSpec};
use labvisor_core::net::trace::{render, DropCause, Event, Step};
use labvisor_core::net::vbox::Mode;

#[test]
fn ttl_exceeded_comes_back_through_the_nat() {
    let mut net = example("home-router");
    let mut spec = SendSpec::new("pc", Ipv4Addr::new(8, 8, 8, 8), Proto::Udp, 33434);
    spec.ttl = 2; // the home router decrements to 1, the ISP router to 0
    let steps = net.apply(&Action::Send(spec)).unwrap();
    let text = render(&steps);
    assert!(steps.iter().any(|s| matches!(&s.event, Event::Drop { node, cause: DropCause::TtlExceeded, .. } if node == "isp")), "{text}");
    assert!(text.contains("isp: send 203.0.113.1 > 203.0.113.7: ICMP time exceeded in-transit [udp 203.0.113.7.40000 > 8.8.8.8.33434]"), "{text}");
    assert!(text.contains("home-router: un-NAT (ICMP error)"), "{text}");
    assert!(text.contains("pc: deliver 203.0.113.1 > 192.168.1.100: ICMP time exceeded in-transit [udp 192.168.1.100.40000 > 8.8.8.8.33434]"), "{text}");
}

#[test]
fn closed_udp_port_answers_port_unreachable_through_the_nat() {
    let mut net = example("home-router");
    let steps = net
        .apply(&Action::Send(SendSpec::new(
            "pc",
            Ipv4Addr::new(8, 8, 8, 8),
            Proto::Udp,
            9999,
        )))
        .unwrap();
    let text = render(&steps);
    assert!(
        text.contains(
            "dns: DROP 203.0.113.7.40000 > 8.8.8.8.9999: UDP ttl 62: nothing listens on udp/9999"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "pc: deliver 8.8.8.8 > 192.168.1.100: ICMP 8.8.8.8 udp port 9999 unreachable"
        ),
        "{text}"
    );
}

#[test]
fn changing_a_nic_to_bridged_puts_the_vm_on_the_lan() {
    let mut net = example("port-forward-ssh");
    let probe = SendSpec::new("laptop", Ipv4Addr::new(192, 168, 1, 21), Proto::Tcp, 22);
    assert!(!delivered_to(
        &net.clone().apply(&Action::Send(probe.clone())).unwrap(),
        "vm1"
    ));
    let steps = net
        .apply(&Action::SetMode {
            vm: "vm1".into(),
            nic: "eth0".into(),
            mode: Mode::Bridged,
        })
        .unwrap();
    let text = render(&steps);
    assert!(
        text.contains("vm1: eth0: attachment NAT -> bridged"),
        "{text}"
    );
    // The port-forward-ssh LAN has no DHCP server, so the bridged NIC gets no address.
    assert!(!text.contains("DHCP lease"), "{text}");
    // With a DHCP server (home-router example), a bridged VM gets a LAN lease.
    let mut home = example("host-only");
    let steps = home
        .apply(&Action::SetMode {
            vm: "vm2".into(),
            nic: "eth0".into(),
            mode: Mode::Bridged,
        })
        .unwrap();
    assert!(render(&steps).contains("vm2: eth0: attachment host-only vboxnet0 -> bridged"));
    // NAT engines of other VMs keep their connections across the rewiring.
    assert!(home.nats().contains_key("vm1/nat1"));
}

#[test]
fn connections_expire_when_the_clock_advances() {
    let mut net = example("home-router");
    net.apply(&Action::Send(SendSpec::new(
        "pc",
        Ipv4Addr::new(8, 8, 8, 8),
        Proto::Icmp,
        0,
    )))
    .unwrap();
    assert_eq!(net.nats()["home-router"].conntrack().len(), 1);
    let steps = net
        .apply(&Action::Advance(Duration::from_secs(29)))
        .unwrap();
    assert_eq!(steps.len(), 1, "only the clock moved");
    let steps = net.apply(&Action::Advance(Duration::from_secs(1))).unwrap();
    assert!(
        render(&steps).contains("home-router: conntrack [DESTROY] icmp 1 0"),
        "{}",
        render(&steps)
    );
    assert_eq!(net.nats()["home-router"].conntrack().len(), 0);
}

#[test]
fn router_port_forward_and_hairpin() {
    let mut net = example("home-router");
    let rule = PortForward::parse_vbox("web,tcp,,8080,192.168.1.100,443").unwrap();
    net.apply(&Action::AddForward {
        target: RuleTarget::Router {
            name: "home-router".into(),
        },
        rule: rule.clone(),
    })
    .unwrap();
    // The pc listens nowhere, so it answers RST: still, the SYN reached it from the internet.
    let steps = net
        .apply(&Action::Send(SendSpec::new(
            "dns",
            Ipv4Addr::new(203, 0, 113, 7),
            Proto::Tcp,
            8080,
        )))
        .unwrap();
    let text = render(&steps);
    assert!(text.contains("home-router: DNAT 8.8.8.8.40000 > 203.0.113.7.8080: Flags [S] ttl 63 => 8.8.8.8.40000 > 192.168.1.100.443"), "{text}");
    assert!(
        text.contains("dns: deliver 203.0.113.7.8080 > 8.8.8.8.40000: Flags [R.]"),
        "{text}"
    );
    // From inside, through the public address: hairpinning.
    let mut spec = SendSpec::new("pc", Ipv4Addr::new(203, 0, 113, 7), Proto::Tcp, 8080);
    spec.sport = 41000;
    let text = render(&net.apply(&Action::Send(spec)).unwrap());
    assert!(
        text.contains("home-router: SNAT+DNAT 192.168.1.100.41000 > 203.0.113.7.8080"),
        "{text}"
    );
    // A conflicting rule is refused with the reason.
    let err = net.apply(&Action::AddForward {
        target: RuleTarget::Router {
            name: "home-router".into(),
        },
        rule: PortForward::parse_vbox("web2,tcp,,8080,192.168.1.100,80").unwrap(),
    });
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("already forwarded by rule \"web\""));
}

#[test]
fn traces_serialize_and_replay_identically() {
    let src = EXAMPLES
        .iter()
        .find(|(n, _)| *n == "nat-network")
        .unwrap()
        .1;
    let s = Scenario::parse("nat-network.toml", src).unwrap();
    let a = s.run("nat-network.toml").unwrap();
    let b = s.run("nat-network.toml").unwrap();
    assert_eq!(a.trace_text(), b.trace_text());
    let json = serde_json::to_string(&a.actions).unwrap();
    let back: Vec<(Action, Vec<Step>)> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a.actions);
    // The whole network state survives a round trip and keeps working the same way.
    let state = serde_json::to_string(&a.network).unwrap();
    let mut restored: Network = serde_json::from_str(&state).unwrap();
    let mut original = a.network.clone();
    let spec = SendSpec::new("vm2", Ipv4Addr::new(8, 8, 8, 8), Proto::Udp, 53);
    assert_eq!(
        render(&restored.apply(&Action::Send(spec.clone())).unwrap()),
        render(&original.apply(&Action::Send(spec)).unwrap())
    );
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Any packet from any node, with any ports, flags and TTL, on any example: the engine
        /// ends every journey with a delivery or an explained drop, and never panics.
        #[test]
        fn arbitrary_sends_never_panic(
            which in 0usize..5, from in 0usize..8, to: [u8; 4], proto in 0u8..3,
            sport: u16, dport: u16, flags: u8, ttl: u8,
        ) {
            let mut net = example(EXAMPLES[which].0);
            let nodes: Vec<String> = net.topology().nodes.iter().map(|n| n.name.clone()).collect();
            let proto = [Proto::Tcp, Proto::Udp, Proto::Icmp][proto as usize];
            let mut spec = SendSpec::new(&nodes[from % nodes.len()], Ipv4Addr::from(to), proto, dport);
            spec.sport = sport;
            spec.flags = TcpFlags(flags & 0x1f);
            spec.ttl = ttl;
            let steps = net.apply(&Action::Send(spec)).unwrap();
            prop_assert!(!steps.is_empty());
        }

        /// Any sequence of lab edits (VMs created, renamed, moved, removed; NICs added,
        /// removed, re-attached to any named network, given any address), with names drawn
        /// from the lab's own and some bad ones: the engine never panics, an accepted edit
        /// leaves a topology that wires, and a refused edit leaves the network as it was.
        #[test]
        fn arbitrary_edits_are_applied_whole_or_not_at_all(
            which in 0usize..5,
            edits in proptest::collection::vec((0u8..9, 0usize..8, 0usize..8, 0u8..7, any::<[u8; 4]>(), 0u8..33), 1..12),
        ) {
            let mut net = example(EXAMPLES[which].0);
            for (kind, a, b, mode, ip, prefix) in edits {
                let mut names: Vec<String> = net.topology().nodes.iter().map(|n| n.name.clone()).collect();
                names.extend(["vm7".into(), "bad name".into(), String::new(), "우분투".into()]);
                let name = names[a % names.len()].clone();
                let other = names[b % names.len()].clone();
                let nic = format!("eth{}", b % 3);
                let network = ["intnet", "vboxnet0", "vboxnet1", "NatNetwork", "x/y", "", "VirtualBox Host-Only Ethernet Adapter #2"][b % 7].to_string();
                let mode = match mode {
                    0 => Mode::NotAttached,
                    1 => Mode::Nat { forwards: Vec::new() },
                    2 => Mode::NatNetwork(network),
                    3 => Mode::Bridged,
                    4 => Mode::HostOnly(network),
                    _ => Mode::Internal(network),
                };
                let action = match kind {
                    0 => Action::AddVm { name, host: other },
                    1 => Action::RemoveVm { name },
                    2 => Action::RenameVm { from: name, to: other },
                    3 => Action::SetHost { vm: name, host: other },
                    4 => Action::AddNic { vm: name, mode },
                    5 => Action::RemoveNic { vm: name, nic },
                    6 => Action::SetMode { vm: name, nic, mode },
                    7 => Action::SetAddress {
                        vm: name,
                        nic,
                        addr: ipnet::Ipv4Net::new(Ipv4Addr::from(ip), prefix).ok(),
                    },
                    _ => match ipnet::Ipv4Net::new(Ipv4Addr::from(ip), prefix) {
                        Ok(cidr) => Action::AddNatNetwork { name, cidr, host: other },
                        Err(_) => Action::RemoveVm { name },
                    },
                };
                let before = net.topology().clone();
                match net.apply(&action) {
                    Ok(steps) => {
                        prop_assert!(!steps.is_empty());
                        prop_assert!(Network::new(net.topology().clone()).is_ok());
                    }
                    Err(e) => {
                        prop_assert!(!e.to_string().is_empty());
                        prop_assert_eq!(net.topology(), &before);
                    }
                }
            }
        }
    }
}

#[test]
fn actions_and_topologies_serialize() {
    let actions = vec![
        Action::Advance(Duration::from_secs(5)),
        Action::SetMode {
            vm: "vm1".into(),
            nic: "eth0".into(),
            mode: Mode::NatNetwork("NatNetwork".into()),
        },
        Action::RemoveForward {
            target: RuleTarget::NatNetwork {
                name: "NatNetwork".into(),
            },
            name: "ssh".into(),
        },
        Action::Send(SendSpec::new(
            "pc",
            Ipv4Addr::new(8, 8, 8, 8),
            Proto::Icmp,
            0,
        )),
    ];
    let json = serde_json::to_string(&actions).unwrap();
    let back: Vec<Action> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, actions);
    for (name, src) in EXAMPLES {
        let t = Scenario::parse(name, src).unwrap().topology;
        let back: labvisor_core::net::topology::Topology =
            serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t, "{name}");
    }
}
