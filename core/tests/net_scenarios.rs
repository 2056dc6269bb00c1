//! Snapshot tests of scenario runs: the four ready examples, trace and final NAT tables.

use labvisor_core::net::scenario::{Scenario, EXAMPLES};

fn run(name: &str) -> String {
    let (_, src) = EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .expect("example exists");
    let file = format!("{name}.toml");
    let scenario = Scenario::parse(&file, src).unwrap_or_else(|e| panic!("{e}"));
    let run = scenario.run(&file).unwrap_or_else(|e| panic!("{e}"));
    format!("{}\n{}", run.trace_text(), run.nat_text())
}

#[test]
fn home_router() {
    insta::assert_snapshot!(run("home-router"));
}

#[test]
fn nat_network() {
    insta::assert_snapshot!(run("nat-network"));
}

#[test]
fn port_forward_ssh() {
    insta::assert_snapshot!(run("port-forward-ssh"));
}

#[test]
fn host_only() {
    insta::assert_snapshot!(run("host-only"));
}

#[test]
fn internal_networks() {
    insta::assert_snapshot!(run("internal-networks"));
}

mod robustness {
    use labvisor_core::net::scenario::{Scenario, EXAMPLES};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any edit of an example either parses and runs, or fails with located errors; it
        /// never panics.
        #[test]
        fn edited_examples_never_panic(which in 0usize..5, at in 0usize..4000, cut in 0usize..40, insert in "\\PC{0,12}") {
            let src = EXAMPLES[which].1;
            let at = at.min(src.len());
            let at = (0..=at).rev().find(|i| src.is_char_boundary(*i)).unwrap_or(0);
            let end = (at + cut).min(src.len());
            let end = (end..=src.len()).find(|i| src.is_char_boundary(*i)).unwrap_or(src.len());
            let edited = format!("{}{}{}", &src[..at], insert, &src[end..]);
            match Scenario::parse("edited.toml", &edited) {
                Ok(s) => { let _ = s.run("edited.toml"); }
                Err(e) => prop_assert!(e.0.iter().all(|x| x.line >= 1 && x.column >= 1 && !x.message.is_empty())),
            }
        }
    }
}

#[test]
fn privileged_host_ports_are_flagged() {
    let src = r#"
[[node]]
name = "pc"
kind = "host"
nic = [{ segment = "lan", ip = "192.168.1.10/24" }]

[[node]]
name = "vm1"
kind = "vm"
host = "pc"
nic = [{ mode = "nat", forward = ["http,tcp,,80,,80", "ssh,tcp,,2222,,22"] }]
"#;
    let run = Scenario::parse("p.toml", src)
        .unwrap()
        .run("p.toml")
        .unwrap();
    let warnings: Vec<String> = run.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        ["warning: vm1 eth0: rule \"http\" listens on host port 80 (below 1024): on a Linux host VirtualBox, run as a user, cannot open it (net.ipv4.ip_unprivileged_port_start = 1024)"]
    );
}

#[test]
fn conflicting_rules_and_unknown_references_are_all_reported() {
    let src = r#"
[[node]]
name = "pc"
kind = "host"
nic = [{ segment = "lan", ip = "192.168.1.10/24" }]

[[node]]
name = "vm1"
kind = "vm"
host = "pc"
nic = [{ mode = "nat", forward = ["ssh,tcp,,2222,,22", "ssh2,tcp,,2222,,23"] }, { mode = "natnetwork", network = "Nowhere" }]

[[step]]
send = { from = "vm9", to = "8.8.8.8", proto = "udp", dport = 53 }
"#;
    let errors = Scenario::parse("c.toml", src).unwrap_err().to_string();
    assert_eq!(
        errors,
        "c.toml:13:1: unknown node \"vm9\": expected one of pc, vm1\n\
         c.toml:8:8: vm1 eth0: rule \"ssh2\" conflicts: host port tcp/2222 is already forwarded by rule \"ssh\" (ssh,tcp,,2222,,22)\n\
         c.toml:8:8: vm1 eth1: unknown NAT Network \"Nowhere\": declare it in [[natnetwork]]"
    );
}

#[test]
fn rule_steps_must_name_an_existing_nat_nic() {
    let base = EXAMPLES
        .iter()
        .find(|(n, _)| *n == "port-forward-ssh")
        .unwrap()
        .1;
    for (step, expected) in [
        (
            "forward-add = { vm = \"vm7\", nic = \"eth0\", rule = \"a,tcp,,1,,2\" }",
            "unknown node \"vm7\"",
        ),
        (
            "forward-add = { vm = \"vm1\", nic = \"eth3\", rule = \"a,tcp,,1,,2\" }",
            "vm1 has no NIC \"eth3\": expected one of eth0",
        ),
        (
            "forward-remove = { router = \"home-router\", name = \"x\" }",
            "\"home-router\" is not a router doing NAT",
        ),
        (
            "forward-add = { natnetwork = \"Nope\", rule = \"a:tcp:[]:1:[10.0.2.4]:2\" }",
            "unknown NAT Network \"Nope\"",
        ),
    ] {
        let src = format!("{base}\n[[step]]\n{step}\n");
        let err = Scenario::parse("r.toml", &src).unwrap_err().to_string();
        assert!(err.contains(expected), "{step}: {err}");
        assert!(err.starts_with("r.toml:"), "{err}");
    }
}

/// A connection forwarded into a NAT Network is answered even when the host has no default
/// route: the reply belongs to a tracked connection, so conntrack, not the routing table,
/// decides where it goes (the guest sees it coming from the gateway, which the host has no
/// route to).
#[test]
fn forwarded_replies_need_no_route_on_the_host() {
    let src = r#"
title = "forwarding without a default route"

[[node]]
name = "pc"
kind = "host"
nic = [{ name = "eth0", segment = "lan", ip = "192.168.1.10/24" }]

[[node]]
name = "laptop"
kind = "host"
nic = [{ name = "eth0", segment = "lan", ip = "192.168.1.20/24" }]

[[node]]
name = "vm1"
kind = "vm"
host = "pc"
nic = [{ mode = "natnetwork", network = "NatNetwork" }]
listen = ["tcp/22"]

[[natnetwork]]
name = "NatNetwork"
cidr = "10.0.2.0/24"
host = "pc"
forward = ["ssh:tcp:[]:1022:[10.0.2.4]:22"]

[[step]]
send = { from = "laptop", to = "192.168.1.10", proto = "tcp", sport = 50000, dport = 1022, flags = "S" }
"#;
    let scenario = Scenario::parse("noroute.toml", src).unwrap_or_else(|e| panic!("{e}"));
    let run = scenario
        .run("noroute.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    let trace = run.trace_text();
    assert!(!trace.contains("no route"), "{trace}");
    let last_delivery = trace
        .lines()
        .rev()
        .find(|l| l.contains("deliver"))
        .unwrap_or_default();
    assert!(
        last_delivery.contains("laptop")
            && last_delivery.contains("192.168.1.10.1022 > 192.168.1.20.50000"),
        "the SYN-ACK should reach the laptop from the host's port 1022:\n{trace}"
    );
}

#[test]
fn titles_are_bilingual_and_one_language_files_still_read() {
    use labvisor_core::lang::Lang;
    for (name, src) in EXAMPLES {
        let s = Scenario::parse(name, src).unwrap();
        assert!(!s.title.en.is_empty() && !s.title.ko.is_empty(), "{name}");
        assert!(!s.description.ko.is_empty(), "{name}");
        assert!(
            s.title.ko.chars().any(|c| ('가'..='힣').contains(&c)),
            "{name}: the Korean title is Korean"
        );
    }
    let port_forward = Scenario::parse("p.toml", EXAMPLES[2].1).unwrap();
    assert_eq!(
        port_forward.title.get(Lang::Ko),
        "포트 포워딩으로 NAT 모드 VM에 SSH 접속하기"
    );
    let node = "\n[[node]]\nname = \"pc\"\nkind = \"host\"\n";
    // The old form: one string, English, shown in both languages.
    let old = Scenario::parse("old.toml", &format!("title = \"Old\"{node}")).unwrap();
    assert_eq!(old.title.get(Lang::Ko), "Old");
    // The inline form.
    let inline = Scenario::parse(
        "inline.toml",
        &format!("title = {{ en = \"Two\", ko = \"둘\" }}{node}"),
    )
    .unwrap();
    assert_eq!(inline.title.get(Lang::Ko), "둘");
    // Anything else is an error at its line.
    for (bad, says) in [
        ("title = { en = \"Only English\" }", "with both languages"),
        (
            "title = { en = \"A\", ko = \"B\", fr = \"C\" }",
            "unknown key(s) fr",
        ),
        ("\n\ndescription = 3", "found integer"),
    ] {
        let e = Scenario::parse("bad.toml", &format!("{bad}{node}")).unwrap_err();
        let line = bad.matches('\n').count() + 1;
        assert_eq!(e.0[0].line, line, "{bad}: {e}");
        assert!(
            e.to_string().starts_with(&format!("bad.toml:{line}:")),
            "{e}"
        );
        assert!(e.to_string().contains(says), "{bad}: {e}");
    }
    // A parsed scenario survives serde (the site may ship scenarios pre-parsed).
    let json = serde_json::to_string(&port_forward).unwrap();
    assert_eq!(
        serde_json::from_str::<Scenario>(&json).unwrap(),
        port_forward
    );
}

/// Share links and the browser build carry scenarios in postcard, which reads no
/// internally or adjacently tagged enum: a serde attribute that brings one back fails here.
#[test]
fn every_example_survives_a_postcard_round_trip() {
    for (name, text) in EXAMPLES {
        let scenario = Scenario::parse(name, text).unwrap();
        let bytes = postcard::to_allocvec(&scenario).unwrap();
        let back: Scenario = postcard::from_bytes(&bytes)
            .unwrap_or_else(|e| panic!("{name}: postcard cannot read it back: {e}"));
        assert_eq!(back, scenario, "{name}");
    }
}

#[test]
fn nat_network_sizes_are_checked_and_a_slash_zero_does_not_overflow() {
    let file = |cidr: &str| {
        format!(
            "[[node]]\nname = \"pc\"\nkind = \"host\"\nnic = [{{ segment = \"lan\", ip = \"192.168.1.10/24\" }}]\n\n[[node]]\nname = \"vm1\"\nkind = \"vm\"\nhost = \"pc\"\nnic = [{{ mode = \"natnetwork\", network = \"N\" }}]\n\n[[natnetwork]]\nname = \"N\"\ncidr = \"{cidr}\"\nhost = \"pc\"\n"
        )
    };
    let e = Scenario::parse("small.toml", &file("10.0.2.0/30")).unwrap_err();
    assert!(e.to_string().contains("smaller than a /29"), "{e}");
    assert_eq!(e.0[0].line, 13, "{e}");
    // The whole IPv4 space is a (silly) network, not a crash.
    let run = Scenario::parse("huge.toml", &file("0.0.0.0/0"))
        .unwrap()
        .run("huge.toml")
        .unwrap();
    assert!(
        run.leases[0].to_string().contains("0.0.0.4/0"),
        "{:?}",
        run.leases
    );
}

#[test]
fn steps_edit_the_lab_and_later_steps_use_the_new_names() {
    let src = r#"
[[node]]
name = "pc"
kind = "host"
nic = [{ segment = "lan", ip = "192.168.1.10/24" }]

[[step]]
add-vm = { name = "a", host = "pc" }
[[step]]
add-vm = { name = "b", host = "pc" }
[[step]]
add-natnetwork = { name = "lab", cidr = "10.0.9.0/24", host = "pc" }
[[step]]
set-mode = { vm = "a", nic = "eth0", mode = "natnetwork", network = "lab" }
[[step]]
set-mode = { vm = "b", nic = "eth0", mode = "natnetwork", network = "lab" }
[[step]]
rename-vm = { from = "b", to = "db" }
[[step]]
send = { from = "a", to = "10.0.9.5", proto = "tcp", dport = 22 }
[[step]]
add-nic = { vm = "db", mode = "internal", network = "back" }
[[step]]
set-address = { vm = "db", nic = "eth1", ip = "10.10.0.2/24" }
[[step]]
remove-nic = { vm = "db", nic = "eth1" }
[[step]]
remove-vm = "db"
[[step]]
send = { from = "a", to = "10.0.9.5", proto = "tcp", dport = 22 }
"#;
    let s = Scenario::parse("edits.toml", src).unwrap_or_else(|e| panic!("{e}"));
    let run = s.run("edits.toml").unwrap_or_else(|e| panic!("{e}"));
    let text = run.trace_text();
    assert!(text.contains("== 6: rename VM b to db"), "{text}");
    assert!(
        text.contains("db: deliver 10.0.9.4.40000 > 10.0.9.5.22: Flags [S]"),
        "{text}"
    );
    assert!(text.contains("== 11: delete VM db"), "{text}");
    assert!(
        text.contains("no ARP reply for 10.0.9.5 on natnet/lab"),
        "{text}"
    );
    // A step naming a VM that an earlier step deleted (or that never was) is located.
    let bad =
        format!("{src}[[step]]\nsend = {{ from = \"db\", to = \"10.0.9.4\", proto = \"icmp\" }}\n");
    let e = Scenario::parse("edits.toml", &bad).unwrap_err();
    let line = src.lines().count() + 1;
    assert!(
        e.to_string().starts_with(&format!(
            "edits.toml:{line}:1: unknown node \"db\": expected one of pc, a"
        )),
        "{e}"
    );
    let e = Scenario::parse(
        "edits.toml",
        &format!("{src}[[step]]\nrename-vm = {{ from = \"a\", to = \"no good\" }}\n"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("contains ' '"), "{e}");
}

/// The lab's action headers in Korean: a different sentence, with the same names and numbers.
#[test]
fn actions_are_described_in_korean_with_the_same_names() {
    use labvisor_core::lang::Lang;
    use labvisor_core::net::scenario::describe_in;
    let mut seen = 0;
    for (name, text) in EXAMPLES {
        let scenario = Scenario::parse(name, text).unwrap();
        for (_, action) in &scenario.actions {
            let en = describe_in(action, Lang::En);
            let ko = describe_in(action, Lang::Ko);
            assert_ne!(en, ko, "{name}: {en}");
            assert!(
                ko.chars().any(|c| ('\u{ac00}'..='\u{d7a3}').contains(&c)) || ko.contains('→'),
                "{name}: {ko}"
            );
            // Every name, address and number of the English line is in the Korean one.
            for word in en
                .split([' ', ':', ','])
                .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
            {
                assert!(
                    ko.contains(word),
                    "{name}: {word:?} of {en:?} missing from {ko:?}"
                );
            }
            seen += 1;
        }
    }
    assert!(seen > 10, "{seen} actions described");
}

#[test]
fn error_columns_count_characters_not_bytes_on_any_line() {
    // Korean before the bad value on its line: the column counts characters, as editors do.
    let src = "[[node]]\nname = \"pc\"\nkind = \"host\"\nnic = [{ name = \"랜카드\", segment = \"lan\", ip = \"999.1.1.1/24\" }]\n";
    let error = Scenario::parse("k.toml", src).unwrap_err().0.remove(0);
    let line = src.lines().nth(3).unwrap();
    let byte = line.find("\"999").unwrap();
    assert_eq!(
        (error.line, error.column),
        (4, line[..byte].chars().count() + 1),
        "{error}"
    );
}
