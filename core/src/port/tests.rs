//! Tests of the parent module.

use super::*;
use proptest::prelude::*;

#[test]
fn course_examples() {
    let ssh = lookup("22").unwrap();
    assert_eq!(ssh.range, PortRange::System);
    assert!(ssh.linux_privileged);
    assert_eq!(ssh.services[0].name, "ssh");

    let mysql = lookup("3306").unwrap();
    assert_eq!(mysql.range, PortRange::User);
    assert!(!mysql.linux_privileged);
    assert_eq!(mysql.services[0].name, "mysql");
}

#[test]
fn range_boundaries() {
    assert_eq!(range_of(0), PortRange::System);
    assert_eq!(range_of(1023), PortRange::System);
    assert_eq!(range_of(1024), PortRange::User);
    assert_eq!(range_of(49151), PortRange::User);
    assert_eq!(range_of(49152), PortRange::Dynamic);
    assert_eq!(range_of(65535), PortRange::Dynamic);
    for r in PortRange::ALL {
        let (a, b) = r.bounds();
        assert_eq!((range_of(a), range_of(b)), (r, r));
    }
    assert!(Port(1023).privileged_on_linux());
    assert!(!Port(1024).privileged_on_linux());
}

#[test]
fn ephemeral_ranges() {
    assert_eq!(lookup("40000").unwrap().ephemeral_in, ["Linux"]);
    assert_eq!(lookup("50000").unwrap().ephemeral_in, ["Linux", "Windows"]);
    assert_eq!(lookup("61000").unwrap().ephemeral_in, ["Windows"]);
    assert!(lookup("8080").unwrap().ephemeral_in.is_empty());
}

#[test]
fn parse_rejects_with_specific_errors() {
    assert_eq!(Port::parse("65535"), Ok(Port(65535)));
    assert_eq!(Port::parse("0"), Ok(Port(0)));
    assert_eq!(Port::parse("00022"), Ok(Port(22)));
    assert!(matches!(
        Port::parse("65536"),
        Err(PortError::OutOfRange { .. })
    ));
    assert!(matches!(
        Port::parse("99999999999999999999999"),
        Err(PortError::OutOfRange { .. })
    ));
    assert!(matches!(
        Port::parse("-1"),
        Err(PortError::NotANumber { .. })
    ));
    assert!(matches!(
        Port::parse("0x50"),
        Err(PortError::NotANumber { .. })
    ));
    assert!(matches!(
        Port::parse(" 22"),
        Err(PortError::NotANumber { .. })
    ));
    assert_eq!(Port::parse(""), Err(PortError::Empty));
    assert!(matches!(
        lookup("gopherz"),
        Err(PortError::UnknownService { .. })
    ));
    assert!(matches!(lookup("-5"), Err(PortError::NotANumber { .. })));
    assert!(matches!(lookup("70000"), Err(PortError::OutOfRange { .. })));
    let msg = lookup("70000").unwrap_err().to_string();
    assert!(msg.contains("70000") && msg.contains("0-65535"), "{msg}");
}

#[test]
fn catalog_is_rich_sorted_and_consistent() {
    assert!(services().len() >= 30);
    assert!(services().windows(2).all(|w| w[0].port <= w[1].port));
    for s in services() {
        assert_eq!(
            service_by_name(s.name).map(|f| f.port),
            Some(s.port),
            "{}",
            s.name
        );
        for alias in s.aliases {
            assert_eq!(
                service_by_name(alias).map(|f| f.port),
                Some(s.port),
                "{alias}"
            );
        }
        assert!(!s.transports.is_empty());
    }
    let dns = service_by_name("DNS").unwrap();
    assert_eq!((dns.port, dns.transport_label().as_str()), (53, "tcp+udp"));
    let expected = [
        ("ssh", 22),
        ("http", 80),
        ("https", 443),
        ("mysql", 3306),
        ("rdp", 3389),
        ("postgres", 5432),
        ("redis", 6379),
    ];
    for (name, port) in expected {
        assert_eq!(service_by_name(name).unwrap().port, port, "{name}");
    }
}

#[test]
fn serializes() {
    let json = serde_json::to_value(lookup("https").unwrap()).unwrap();
    assert_eq!(json["port"], 443);
    assert_eq!(json["range"], "system");
    assert_eq!(
        json["services"][0]["transports"],
        serde_json::json!(["tcp", "udp"])
    );
}

proptest! {
    #[test]
    fn lookup_never_panics(s in "\\PC*") {
        let _ = lookup(&s);
        let _ = Port::parse(&s);
    }

    #[test]
    fn numbers_round_trip(n in any::<u16>()) {
        prop_assert_eq!(Port::parse(&n.to_string()), Ok(Port(n)));
        prop_assert_eq!(lookup(&n.to_string()).map(|i| i.port), Ok(Port(n)));
    }

    #[test]
    fn numbers_above_16_bits_are_out_of_range(n in 65_536u64..) {
        let is_out_of_range = matches!(Port::parse(&n.to_string()), Err(PortError::OutOfRange { .. }));
        prop_assert!(is_out_of_range);
    }
}

#[test]
fn only_port_zero_carries_the_reserved_note() {
    let zero = lookup("0").unwrap().note.expect("port 0 has a note");
    assert!(zero.en.contains("Reserved") && zero.en.contains("bind()"));
    assert!(zero.ko.contains("Reserved"));
    for n in ["1", "22", "1023", "65535"] {
        assert_eq!(lookup(n).unwrap().note, None, "{n}");
    }
}
