//! Forwarding rules without a NAT Network live on a VM's NAT adapter, as in VirtualBox
//! (`VBoxManage modifyvm VM --natpf1`); when several VMs are on NAT the grader cannot tell
//! whose adapter a rule is for, and says so instead of guessing.

use labvisor_core::net::forward::PortForward;
use labvisor_core::net::packet::Proto;
use labvisor_lessons::action::{lesson_mode, Action, ForwardStep};
use labvisor_lessons::model::{Exercise, Goal, NetworkKind, NetworkSpec, Spec, VmSpec};
use labvisor_lessons::{grade, Bilingual, Verdict};

fn exercise(vms: &[&str]) -> Exercise {
    Exercise {
        id: "ssh".into(),
        prompt: Bilingual::new("Reach sshd.", "sshd에 닿으세요."),
        spec: Spec::PortForward {
            network: NetworkSpec {
                kind: NetworkKind::Virtualbox,
                router_public_ip: None,
                pcs: Vec::new(),
                servers: Vec::new(),
                send: None,
                host_ip: Some("203.0.113.20".into()),
                vms: vms
                    .iter()
                    .map(|name| VmSpec {
                        name: (*name).into(),
                        nics: vec![lesson_mode("nat").expect("a mode")],
                        listens: vec!["tcp/22".into()],
                    })
                    .collect(),
            },
            goals: vec![Goal {
                from: "host".into(),
                to: vms[0].into(),
                proto: Proto::Tcp,
                port: Some(22),
                dial: Some("127.0.0.1:2222".into()),
            }],
        },
        ladder: Vec::new(),
        hints: Vec::new(),
        solution: Vec::new(),
        attempts: Vec::new(),
        why: None,
        setup: Vec::new(),
        accepts: Vec::new(),
        course_vm: None,
        location: Default::default(),
    }
}

fn rule(name: &str, host_port: u16, vm: Option<&str>) -> Action {
    Action::AddForward(ForwardStep {
        rule: PortForward {
            name: name.into(),
            proto: Proto::Tcp,
            host_ip: None,
            host_port,
            guest_ip: None,
            guest_port: 22,
        },
        vm: vm.map(Into::into),
    })
}

fn ssh_rule() -> Vec<Action> {
    vec![rule("ssh", 2222, None)]
}

#[test]
fn a_rule_reaches_the_only_vm_on_nat_through_its_nat_engine() {
    let g = grade(&exercise(&["vm1"]), &ssh_rule());
    assert_eq!(g.verdict, Verdict::Pass, "{:#?}", g.trace);
    // The guest sees the connection come from the NAT engine's gateway, 10.0.2.2.
    assert!(g
        .trace
        .iter()
        .any(|l| l.contains("10.0.2.2.49152 > 10.0.2.15.22")));
}

#[test]
fn without_a_rule_the_host_itself_refuses_and_the_rule_is_missing() {
    let g = grade(&exercise(&["vm1"]), &[]);
    assert_eq!(g.mistake.as_deref(), Some("missing-rule"), "{:#?}", g.trace);
}

#[test]
fn with_two_vms_on_nat_a_rule_is_not_guessed_onto_one() {
    let g = grade(&exercise(&["vm1", "vm2"]), &ssh_rule());
    assert_eq!(g.verdict, Verdict::Fail);
    assert!(
        g.trace.iter().any(|l| l.contains("vm1, vm2 are on NAT")),
        "{:#?}",
        g.trace
    );
}

#[test]
fn two_vms_on_nat_each_get_their_own_rule_on_their_own_adapter() {
    let mut ex = exercise(&["vm1", "vm2"]);
    if let Spec::PortForward { goals, .. } = &mut ex.spec {
        let mut second = goals[0].clone();
        second.to = "vm2".into();
        second.dial = Some("127.0.0.1:2223".into());
        goals.push(second);
    }
    let both = [
        rule("ssh1", 2222, Some("vm1")),
        rule("ssh2", 2223, Some("vm2")),
    ];
    let g = grade(&ex, &both);
    assert_eq!(g.verdict, Verdict::Pass, "{:#?}", g.trace);
    // Swapped, each connection lands in the other VM.
    let swapped = [
        rule("ssh1", 2222, Some("vm2")),
        rule("ssh2", 2223, Some("vm1")),
    ];
    let g = grade(&ex, &swapped);
    assert_eq!(
        g.mistake.as_deref(),
        Some("wrong-guest-ip"),
        "{:#?}",
        g.trace
    );
}

#[test]
fn a_rule_for_a_vm_without_a_nat_adapter_is_refused_by_name() {
    let g = grade(&exercise(&["vm1"]), &[rule("ssh", 2222, Some("db"))]);
    assert_eq!(g.verdict, Verdict::Fail);
    assert!(
        g.trace
            .iter()
            .any(|l| l.contains("for db, which has no NIC on NAT")),
        "{:#?}",
        g.trace
    );
}
