//! Editing a running lab: VMs created, renamed, moved and deleted, NICs added, removed and
//! re-attached to named networks. Every edit is validated by the wiring and refused whole.

mod common;
use common::{delivered_to, example};
use std::net::Ipv4Addr;

use labvisor_core::net::packet::Proto;
use labvisor_core::net::scenario::Scenario;
use labvisor_core::net::sim::{Action, ActionError, Network, RuleTarget, SendSpec, MAX_ADAPTERS};
use labvisor_core::net::trace::{render, DropCause, Event, Step};
use labvisor_core::net::vbox::Mode;

fn ping(net: &mut Network, from: &str, to: Ipv4Addr) -> Vec<Step> {
    net.apply(&Action::Send(SendSpec::new(from, to, Proto::Icmp, 0)))
        .expect("a send always runs")
}

fn addr_of(net: &Network, node: &str, nic: &str) -> Option<Ipv4Addr> {
    let n = &net.fabric().nodes[net.fabric().node_index(node)?];
    n.nics
        .iter()
        .find(|x| x.name == nic)?
        .addr
        .map(|a| a.addr())
}

#[test]
fn a_created_vm_gets_nat_and_a_lease_and_bad_names_are_refused() {
    let mut net = example("host-only");
    let steps = net
        .apply(&Action::AddVm {
            name: "web".into(),
            host: "pc".into(),
        })
        .unwrap();
    let text = render(&steps);
    assert!(text.contains("web: created on pc, eth0 on NAT"), "{text}");
    assert!(
        text.contains("10.0.2.15"),
        "the NAT engine's DHCP lease: {text}"
    );
    let before = net.topology().clone();
    for (bad, why) in [
        ("", "cannot be empty"),
        ("my vm", "contains ' '"),
        ("vm/1", "contains '/'"),
        ("-vm", "must start with a letter or a digit"),
        (&"x".repeat(33) as &str, "at most 32"),
        ("web", "already a node named \"web\""),
        ("pc", "already a node named \"pc\""),
    ] {
        let e = net
            .apply(&Action::AddVm {
                name: bad.into(),
                host: "pc".into(),
            })
            .unwrap_err();
        assert!(e.to_string().contains(why), "{bad:?}: {e}");
    }
    // A Korean name is a name.
    net.apply(&Action::AddVm {
        name: "우분투".into(),
        host: "pc".into(),
    })
    .unwrap();
    assert_eq!(net.topology().nodes.len(), before.nodes.len() + 1);
    // A VM needs a host that is a host.
    let e = net
        .apply(&Action::AddVm {
            name: "vm9".into(),
            host: "home-router".into(),
        })
        .unwrap_err();
    assert!(e.to_string().contains("is a router, not a host"), "{e}");
}

#[test]
fn renaming_keeps_the_vm_working_and_refuses_taken_or_bad_names() {
    let mut net = example("port-forward-ssh");
    net.apply(&Action::RenameVm {
        from: "vm1".into(),
        to: "web-1".into(),
    })
    .unwrap();
    assert!(net.topology().node("vm1").is_none());
    assert!(
        net.nats().contains_key("web-1/nat1"),
        "the NAT engine follows"
    );
    // The rule still forwards host port 2222 to the renamed VM.
    let steps = net
        .apply(&Action::Send(SendSpec::new(
            "pc",
            Ipv4Addr::LOCALHOST,
            Proto::Tcp,
            2222,
        )))
        .unwrap();
    assert!(delivered_to(&steps, "web-1"), "{}", render(&steps));
    for (to, why) in [("pc", "already a node"), ("a b", "contains ' '")] {
        let before = net.topology().clone();
        let e = net
            .apply(&Action::RenameVm {
                from: "web-1".into(),
                to: to.into(),
            })
            .unwrap_err();
        assert!(e.to_string().contains(why), "{e}");
        assert_eq!(net.topology(), &before, "a refused edit changes nothing");
    }
    assert!(matches!(
        net.apply(&Action::RenameVm {
            from: "pc".into(),
            to: "pc2".into()
        }),
        Err(ActionError::NotAVm(..))
    ));
}

#[test]
fn removing_a_vm_says_what_goes_with_it() {
    // nat-network: vm1 (10.0.2.4) is the target of the NAT Network's rule ssh-vm1.
    let mut net = example("nat-network");
    assert_eq!(
        addr_of(&net, "vm1", "eth0"),
        Some(Ipv4Addr::new(10, 0, 2, 4))
    );
    let removal = net.removal("vm1", None).unwrap();
    assert_eq!(
        removal.nics,
        vec![("eth0".to_string(), Mode::NatNetwork("NatNetwork".into()))]
    );
    assert_eq!(removal.rules.len(), 1);
    assert_eq!(
        removal.rules[0].0,
        RuleTarget::NatNetwork {
            name: "NatNetwork".into()
        }
    );
    assert_eq!(removal.rules[0].1.name, "ssh-vm1");
    let steps = net.apply(&Action::RemoveVm { name: "vm1".into() }).unwrap();
    let text = render(&steps);
    assert!(
        text.contains("vm1: deleted with eth0 (NAT Network NatNetwork), rule ssh-vm1 on NAT Network NatNetwork"),
        "{text}"
    );
    assert!(net.topology().node("vm1").is_none());
    assert!(net.topology().nat_networks[0].forwards.is_empty());
    // The DHCP server remembers vm2: it keeps 10.0.2.5, it does not move up to vm1's .4.
    assert_eq!(
        addr_of(&net, "vm2", "eth0"),
        Some(Ipv4Addr::new(10, 0, 2, 5))
    );
    // A VM that joins gets the free .4; a renamed VM keeps its lease.
    net.apply(&Action::AddVm {
        name: "vm3".into(),
        host: "pc".into(),
    })
    .unwrap();
    net.apply(&Action::SetMode {
        vm: "vm3".into(),
        nic: "eth0".into(),
        mode: Mode::NatNetwork("NatNetwork".into()),
    })
    .unwrap();
    assert_eq!(
        addr_of(&net, "vm3", "eth0"),
        Some(Ipv4Addr::new(10, 0, 2, 4))
    );
    net.apply(&Action::RenameVm {
        from: "vm2".into(),
        to: "db".into(),
    })
    .unwrap();
    assert_eq!(
        addr_of(&net, "db", "eth0"),
        Some(Ipv4Addr::new(10, 0, 2, 5))
    );
    // port-forward-ssh: the VM's own NAT rule goes with its NIC, and with it the engine.
    let mut net = example("port-forward-ssh");
    let removal = net.removal("vm1", None).unwrap();
    assert_eq!(removal.rules.len(), 1);
    assert_eq!(
        removal.rules[0].0,
        RuleTarget::VmNic {
            vm: "vm1".into(),
            nic: "eth0".into()
        }
    );
    net.apply(&Action::RemoveVm { name: "vm1".into() }).unwrap();
    assert!(!net.nats().contains_key("vm1/nat1"));
    assert!(matches!(
        net.apply(&Action::RemoveVm { name: "vm1".into() }),
        Err(ActionError::UnknownNode(_))
    ));
    assert!(matches!(
        net.removal("pc", None),
        Err(ActionError::NotAVm(..))
    ));
}

#[test]
fn two_internal_networks_are_isolated_and_one_connects() {
    let mut net = example("host-only");
    let set = |vm: &str, network: &str, ip: &str| {
        vec![
            Action::SetMode {
                vm: vm.into(),
                nic: "eth0".into(),
                mode: Mode::Internal(network.into()),
            },
            Action::SetAddress {
                vm: vm.into(),
                nic: "eth0".into(),
                addr: Some(ip.parse().unwrap()),
            },
        ]
    };
    for a in set("vm1", "intnet-a", "10.10.0.1/24")
        .into_iter()
        .chain(set("vm2", "intnet-b", "10.10.0.2/24"))
    {
        net.apply(&a).unwrap();
    }
    let steps = ping(&mut net, "vm1", Ipv4Addr::new(10, 10, 0, 2));
    assert!(!delivered_to(&steps, "vm2"), "{}", render(&steps));
    assert!(
        steps.iter().any(|s| matches!(
            &s.event,
            Event::Drop { cause: DropCause::NoArp, reason, .. } if reason.contains("intnet/intnet-a")
        )),
        "{}",
        render(&steps)
    );
    // The same two VMs on one internal network reach each other. Moving the cable keeps
    // the address configured in the guest.
    net.apply(&Action::SetMode {
        vm: "vm2".into(),
        nic: "eth0".into(),
        mode: Mode::Internal("intnet-a".into()),
    })
    .unwrap();
    assert_eq!(
        addr_of(&net, "vm2", "eth0"),
        Some(Ipv4Addr::new(10, 10, 0, 2))
    );
    let steps = ping(&mut net, "vm1", Ipv4Addr::new(10, 10, 0, 2));
    assert!(delivered_to(&steps, "vm2"), "{}", render(&steps));
    // Internal networks have no DHCP server: without a static address, no address at all.
    net.apply(&Action::SetAddress {
        vm: "vm2".into(),
        nic: "eth0".into(),
        addr: None,
    })
    .unwrap();
    assert_eq!(addr_of(&net, "vm2", "eth0"), None);
    // Two VMs with one address on one network are refused by the wiring.
    let e = net
        .apply(&Action::SetAddress {
            vm: "vm2".into(),
            nic: "eth0".into(),
            addr: Some("10.10.0.1/24".parse().unwrap()),
        })
        .unwrap_err();
    assert!(e.to_string().contains("already used by vm1 eth0"), "{e}");
}

#[test]
fn host_only_adapters_have_their_linux_and_windows_names() {
    let mut net = example("host-only");
    for (name, host_ip) in [
        ("vboxnet1", "192.168.57.1"),
        ("VirtualBox Host-Only Ethernet Adapter #3", "192.168.58.1"),
    ] {
        net.apply(&Action::SetMode {
            vm: "vm2".into(),
            nic: "eth0".into(),
            mode: Mode::HostOnly(name.into()),
        })
        .unwrap();
        assert_eq!(
            addr_of(&net, "pc", name).map(|a| a.to_string()),
            Some(host_ip.to_string()),
            "{name}"
        );
    }
    let e = net
        .apply(&Action::SetMode {
            vm: "vm2".into(),
            nic: "eth0".into(),
            mode: Mode::HostOnly("eth7".into()),
        })
        .unwrap_err();
    assert!(e.to_string().contains("expected vboxnetN"), "{e}");
}

#[test]
fn nics_are_added_up_to_eight_and_removed_with_their_rules() {
    let mut net = example("host-only");
    let steps = net
        .apply(&Action::AddNic {
            vm: "vm2".into(),
            mode: Mode::Nat {
                forwards: Vec::new(),
            },
        })
        .unwrap();
    let text = render(&steps);
    assert!(text.contains("vm2: new NIC eth1 attached to NAT"), "{text}");
    // vm2's second adapter on NAT gets 10.0.3.0/24 (adapter n: 10.0.(n+1).0/24).
    assert_eq!(
        addr_of(&net, "vm2", "eth1"),
        Some(Ipv4Addr::new(10, 0, 3, 15))
    );
    for _ in 2..MAX_ADAPTERS {
        net.apply(&Action::AddNic {
            vm: "vm2".into(),
            mode: Mode::NotAttached,
        })
        .unwrap();
    }
    assert!(matches!(
        net.apply(&Action::AddNic {
            vm: "vm2".into(),
            mode: Mode::NotAttached
        }),
        Err(ActionError::TooManyNics(_))
    ));
    net.apply(&Action::AddForward {
        target: RuleTarget::VmNic {
            vm: "vm2".into(),
            nic: "eth1".into(),
        },
        rule: labvisor_core::net::forward::PortForward::parse_any("ssh2,tcp,,2223,,22").unwrap(),
    })
    .unwrap();
    let removal = net.removal("vm2", Some("eth1")).unwrap();
    assert_eq!(removal.nics.len(), 1);
    assert_eq!(removal.rules[0].1.name, "ssh2");
    let steps = net
        .apply(&Action::RemoveNic {
            vm: "vm2".into(),
            nic: "eth1".into(),
        })
        .unwrap();
    assert!(render(&steps).contains("vm2: NIC eth1 removed with eth1 (NAT), rule ssh2 on vm2 eth1"));
    assert!(!net.nats().contains_key("vm2/nat2"));
    assert!(matches!(
        net.apply(&Action::RemoveNic {
            vm: "vm2".into(),
            nic: "eth1".into()
        }),
        Err(ActionError::UnknownNic { .. })
    ));
}

#[test]
fn a_vm_moves_to_another_host() {
    let src = r#"
[[node]]
name = "pc"
kind = "host"
nic = [{ segment = "lan", ip = "192.168.1.10/24" }]

[[node]]
name = "laptop"
kind = "host"
nic = [{ segment = "lan", ip = "192.168.1.20/24" }]

[[node]]
name = "vm1"
kind = "vm"
host = "pc"
nic = [{ mode = "hostonly", network = "vboxnet0" }]
"#;
    let mut net = Network::new(Scenario::parse("two-hosts.toml", src).unwrap().topology).unwrap();
    let reaches = |net: &mut Network, from: &str| {
        let steps = net
            .apply(&Action::Send(SendSpec::new(
                from,
                Ipv4Addr::new(192, 168, 56, 101),
                Proto::Icmp,
                0,
            )))
            .unwrap();
        delivered_to(&steps, "vm1")
    };
    assert!(reaches(&mut net, "pc"));
    assert!(!reaches(&mut net, "laptop"));
    net.apply(&Action::SetHost {
        vm: "vm1".into(),
        host: "laptop".into(),
    })
    .unwrap();
    assert!(
        reaches(&mut net, "laptop"),
        "the host-only adapter is the new host's"
    );
    assert!(!reaches(&mut net, "pc"));
}

#[test]
fn a_created_nat_network_joins_two_vms_and_another_keeps_them_apart() {
    let mut net = example("host-only");
    let create = |name: &str, cidr: &str| Action::AddNatNetwork {
        name: name.into(),
        cidr: cidr.parse().unwrap(),
        host: "pc".into(),
    };
    let join = |vm: &str, name: &str| Action::SetMode {
        vm: vm.into(),
        nic: "eth0".into(),
        mode: Mode::NatNetwork(name.into()),
    };
    // Before it exists, a NIC cannot join it.
    let e = net.apply(&join("vm1", "lab")).unwrap_err();
    assert!(e.to_string().contains("unknown NAT Network \"lab\""), "{e}");
    let steps = net.apply(&create("lab", "10.0.5.0/24")).unwrap();
    assert!(render(&steps).contains("NAT Network lab 10.0.5.0/24 created on pc"));
    net.apply(&join("vm1", "lab")).unwrap();
    net.apply(&join("vm2", "lab")).unwrap();
    assert_eq!(
        addr_of(&net, "vm1", "eth0"),
        Some(Ipv4Addr::new(10, 0, 5, 4))
    );
    assert_eq!(
        addr_of(&net, "vm2", "eth0"),
        Some(Ipv4Addr::new(10, 0, 5, 5))
    );
    assert!(delivered_to(
        &ping(&mut net, "vm1", Ipv4Addr::new(10, 0, 5, 5)),
        "vm2"
    ));
    // Another NAT Network with the same addresses is another network.
    net.apply(&create("other", "10.0.5.0/24")).unwrap();
    net.apply(&join("vm2", "other")).unwrap();
    assert_eq!(
        addr_of(&net, "vm2", "eth0"),
        Some(Ipv4Addr::new(10, 0, 5, 4))
    );
    // vm2's old address on "lab" answers no more: nobody there has it.
    let steps = ping(&mut net, "vm1", Ipv4Addr::new(10, 0, 5, 5));
    assert!(!delivered_to(&steps, "vm2"), "{}", render(&steps));
    assert!(
        steps.iter().any(|s| matches!(
            &s.event,
            Event::Drop {
                cause: DropCause::NoArp,
                ..
            }
        )),
        "{}",
        render(&steps)
    );
    for (bad, why) in [
        (create("lab", "10.0.6.0/24"), "already"),
        (create("no good", "10.0.6.0/24"), "contains ' '"),
        (create("tiny", "10.0.6.0/30"), "smaller than a /29"),
    ] {
        let e = net.apply(&bad).unwrap_err();
        assert!(e.to_string().contains(why), "{e}");
    }
}
