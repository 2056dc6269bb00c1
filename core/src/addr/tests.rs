//! Tests of the parent module.

use super::*;
use proptest::prelude::*;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn course_examples() {
    let home = classify("192.168.0.10").unwrap();
    assert_eq!(home.class, Class::C);
    assert_eq!(home.scope, Scope::Private);
    assert_eq!(home.rfc, "RFC 1918");
    assert_eq!(home.default_mask, Some(ip("255.255.255.0")));
    assert!(!home.globally_reachable);

    let google = classify("8.8.8.8").unwrap();
    assert_eq!(google.class, Class::A);
    assert_eq!(google.scope, Scope::Public);
    assert!(google.globally_reachable);
    assert_eq!(google.block, None);
}

#[test]
fn rejects_malformed_addresses_with_specific_errors() {
    assert!(
        matches!(parse_ipv4("256.1.1.1"), Err(AddrError::OctetOutOfRange { part, .. }) if part == "256")
    );
    assert!(matches!(
        parse_ipv4("1.2.3"),
        Err(AddrError::WrongPartCount { found: 3, .. })
    ));
    assert!(matches!(
        parse_ipv4("1.2.3.4.5"),
        Err(AddrError::WrongPartCount { found: 5, .. })
    ));
    assert!(
        matches!(parse_ipv4("010.0.0.1"), Err(AddrError::LeadingZero { canonical, .. }) if canonical == "10")
    );
    assert!(
        matches!(parse_ipv4("00.0.0.1"), Err(AddrError::LeadingZero { canonical, .. }) if canonical == "0")
    );
    assert!(matches!(
        parse_ipv4("1..2.3"),
        Err(AddrError::EmptyPart { position: 2, .. })
    ));
    assert!(matches!(
        parse_ipv4("1.2.3.x"),
        Err(AddrError::NotDecimal { .. })
    ));
    assert!(matches!(
        parse_ipv4(" 1.2.3.4"),
        Err(AddrError::NotDecimal { .. })
    ));
    assert!(matches!(
        parse_ipv4("+1.2.3.4"),
        Err(AddrError::NotDecimal { .. })
    ));
    assert!(matches!(
        parse_ipv4("1.2.3.4444444444444444444444"),
        Err(AddrError::OctetOutOfRange { .. })
    ));
    assert_eq!(parse_ipv4(""), Err(AddrError::Empty));
    assert_eq!(parse_ipv4("0.0.0.0"), Ok(Ipv4Addr::UNSPECIFIED));
    let msg = parse_ipv4("256.1.1.1").unwrap_err().to_string();
    assert!(msg.contains("256") && msg.contains("0-255"), "{msg}");
}

#[test]
fn classes_follow_leading_bits() {
    let cases = [
        ("0.0.0.0", Class::A),
        ("127.255.255.255", Class::A),
        ("128.0.0.0", Class::B),
        ("191.255.0.1", Class::B),
        ("192.0.0.1", Class::C),
        ("223.255.255.255", Class::C),
        ("224.0.0.1", Class::D),
        ("239.255.255.250", Class::D),
        ("240.0.0.1", Class::E),
        ("255.255.255.255", Class::E),
    ];
    for (addr, class) in cases {
        assert_eq!(Class::of(ip(addr)), class, "{addr}");
        let bits = binary(ip(addr));
        assert!(bits.starts_with(class.leading_bits()), "{addr} {bits}");
    }
    assert_eq!(Class::D.default_prefix(), None);
    assert_eq!(Class::B.default_prefix(), Some(16));
}

#[test]
fn scopes_follow_the_iana_registry() {
    let cases = [
        ("0.1.2.3", Scope::ThisNetwork),
        ("10.255.0.1", Scope::Private),
        ("172.15.255.255", Scope::Public),
        ("172.16.0.0", Scope::Private),
        ("172.31.255.255", Scope::Private),
        ("172.32.0.0", Scope::Public),
        ("192.168.56.1", Scope::Private),
        ("100.63.255.255", Scope::Public),
        ("100.64.0.1", Scope::SharedAddressSpace),
        ("100.127.255.255", Scope::SharedAddressSpace),
        ("127.0.0.1", Scope::Loopback),
        ("169.254.10.20", Scope::LinkLocal),
        ("192.0.0.8", Scope::IetfProtocolAssignments),
        ("192.0.0.9", Scope::Public),
        ("192.0.0.10", Scope::Public),
        ("192.0.0.11", Scope::IetfProtocolAssignments),
        ("0.0.0.0", Scope::ThisNetwork),
        ("0.1.2.3", Scope::ThisNetwork),
        ("192.0.2.1", Scope::Documentation),
        ("198.51.100.7", Scope::Documentation),
        ("203.0.113.200", Scope::Documentation),
        ("198.18.0.1", Scope::Benchmarking),
        ("198.19.255.255", Scope::Benchmarking),
        ("198.20.0.0", Scope::Public),
        ("224.0.0.251", Scope::Multicast),
        ("239.255.255.255", Scope::Multicast),
        ("240.0.0.1", Scope::Reserved),
        ("255.255.255.254", Scope::Reserved),
        ("255.255.255.255", Scope::LimitedBroadcast),
        ("1.1.1.1", Scope::Public),
    ];
    for (addr, scope) in cases {
        assert_eq!(scope_of(ip(addr)), scope, "{addr}");
    }
}

#[test]
fn cidr_arithmetic() {
    let c = Cidr::parse("192.168.0.10/24").unwrap();
    assert_eq!(c.network(), ip("192.168.0.0"));
    assert_eq!(c.broadcast(), ip("192.168.0.255"));
    assert_eq!(c.first_host(), ip("192.168.0.1"));
    assert_eq!(c.last_host(), ip("192.168.0.254"));
    assert_eq!(c.host_count(), 254);
    assert_eq!(c.netmask(), ip("255.255.255.0"));
    assert_eq!(c.wildcard(), ip("0.0.0.255"));
    assert!(c.contains(ip("192.168.0.200")));
    assert!(!c.contains(ip("192.168.1.1")));
    assert_eq!(c.to_string(), "192.168.0.10/24");

    let p2p = Cidr::parse("10.0.0.0/31").unwrap();
    assert_eq!(
        (p2p.host_count(), p2p.first_host(), p2p.last_host()),
        (2, ip("10.0.0.0"), ip("10.0.0.1"))
    );
    let host = Cidr::parse("10.0.0.7/32").unwrap();
    assert_eq!(
        (host.host_count(), host.first_host(), host.last_host()),
        (1, ip("10.0.0.7"), ip("10.0.0.7"))
    );
    let all = Cidr::parse("0.0.0.0/0").unwrap();
    assert_eq!((all.size(), all.host_count()), (1 << 32, (1 << 32) - 2));
}

#[test]
fn cidr_rejects_bad_prefixes() {
    assert!(matches!(
        Cidr::parse("10.0.0.0/33"),
        Err(AddrError::PrefixTooLong { .. })
    ));
    assert!(matches!(
        Cidr::parse("10.0.0.0/999999999999"),
        Err(AddrError::PrefixTooLong { .. })
    ));
    assert!(matches!(
        Cidr::parse("10.0.0.0/"),
        Err(AddrError::PrefixNotNumber { .. })
    ));
    assert!(matches!(
        Cidr::parse("10.0.0.0/024"),
        Err(AddrError::PrefixNotNumber { .. })
    ));
    assert!(matches!(
        Cidr::parse("10.0.0.0/x"),
        Err(AddrError::PrefixNotNumber { .. })
    ));
    assert!(matches!(
        Cidr::parse("10.0.0.0"),
        Err(AddrError::MissingPrefix { .. })
    ));
    assert!(matches!(
        Cidr::parse("10.0.0/8"),
        Err(AddrError::WrongPartCount { .. })
    ));
}

#[test]
fn same_subnet_decides_whether_a_router_is_needed() {
    assert!(same_subnet(ip("192.168.0.10"), ip("192.168.0.20"), 24));
    assert!(!same_subnet(ip("192.168.0.10"), ip("192.168.1.20"), 24));
    assert!(same_subnet(ip("192.168.0.10"), ip("192.168.1.20"), 16));
    assert!(same_subnet(ip("1.2.3.4"), ip("200.2.3.4"), 0));
}

#[test]
fn split_into_power_of_two_subnets() {
    let c = Cidr::parse("192.168.0.0/24").unwrap();
    let four: Vec<String> = c.split(4).unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        four,
        [
            "192.168.0.0/26",
            "192.168.0.64/26",
            "192.168.0.128/26",
            "192.168.0.192/26"
        ]
    );
    assert_eq!(c.split(3).unwrap().len(), 4);
    assert_eq!(
        c.split(1).unwrap(),
        vec![Cidr::parse("192.168.0.0/24").unwrap()]
    );
    assert!(matches!(c.split(0), Err(SplitError::Zero { .. })));
    assert!(matches!(
        c.split(257),
        Err(SplitError::TooMany { max: 256, .. })
    ));
    assert_eq!(c.split(256).unwrap().len(), 256);
    let all = Cidr::parse("0.0.0.0/0").unwrap();
    assert!(matches!(
        all.split(u32::MAX),
        Err(SplitError::TooMany { .. })
    ));
    assert!(matches!(
        all.split(MAX_SPLIT + 1),
        Err(SplitError::TooManyToList { .. })
    ));
}

#[test]
fn serializes_as_strings() {
    let c = Cidr::parse("10.0.2.15/24").unwrap();
    assert_eq!(serde_json::to_string(&c).unwrap(), "\"10.0.2.15/24\"");
    let back: Cidr = serde_json::from_str("\"10.0.2.15/24\"").unwrap();
    assert_eq!(back, c);
    assert!(serde_json::from_str::<Cidr>("\"10.0.2.15/40\"").is_err());
    let info = serde_json::to_value(classify("10.0.2.15").unwrap()).unwrap();
    assert_eq!(info["scope"], "private");
    assert_eq!(info["block"], "10.0.0.0/8");
}

proptest! {
    #[test]
    fn parsers_never_panic(s in "\\PC*") {
        let _ = parse_ipv4(&s);
        let _ = Cidr::parse(&s);
        let _ = classify(&s);
    }

    #[test]
    fn parsers_never_panic_on_near_misses(s in "[0-9./]{0,24}") {
        if let Ok(addr) = parse_ipv4(&s) {
            prop_assert_eq!(addr.to_string(), s.clone());
        }
        let _ = parse_address_and_prefix(&s);
    }

    #[test]
    fn display_parse_round_trips(a in any::<u32>(), p in 0u8..=32) {
        let c = Cidr::new(Ipv4Addr::from(a), p).unwrap();
        prop_assert_eq!(Cidr::parse(&c.to_string()), Ok(c));
        prop_assert_eq!(parse_ipv4(&Ipv4Addr::from(a).to_string()), Ok(Ipv4Addr::from(a)));
    }

    #[test]
    fn cidr_arithmetic_is_consistent(a in any::<u32>(), p in 0u8..=32) {
        let c = Cidr::new(Ipv4Addr::from(a), p).unwrap();
        let net = u32::from(c.network()) as u64;
        let bcast = u32::from(c.broadcast()) as u64;
        prop_assert_eq!(bcast - net + 1, c.size());
        prop_assert!(c.contains(c.address()));
        prop_assert!(c.contains(c.first_host()) && c.contains(c.last_host()));
        prop_assert_eq!(u32::from(c.last_host()) as u64 - u32::from(c.first_host()) as u64 + 1, c.host_count());
        prop_assert_eq!(u32::from(c.netmask()) | u32::from(c.wildcard()), u32::MAX);
        prop_assert!(same_subnet(c.address(), c.network(), p));
    }

    #[test]
    fn split_subnets_tile_the_block(a in any::<u32>(), p in 0u8..=32, n in 1u32..=64) {
        let c = Cidr::new(Ipv4Addr::from(a), p).unwrap();
        match c.split(n) {
            Ok(parts) => {
                prop_assert!(parts.len() as u32 >= n);
                prop_assert!(parts.len().is_power_of_two());
                prop_assert_eq!(parts[0].network(), c.network());
                prop_assert_eq!(parts[parts.len() - 1].broadcast(), c.broadcast());
                for pair in parts.windows(2) {
                    prop_assert_eq!(u32::from(pair[0].broadcast()) as u64 + 1, u32::from(pair[1].network()) as u64);
                }
                let nets: Vec<Ipv4Net> = parts.iter().map(Cidr::net).collect();
                prop_assert_eq!(Ipv4Net::aggregate(&nets), vec![c.net()]);
            }
            Err(SplitError::TooMany { .. }) => prop_assert!(n.next_power_of_two() as u64 > c.size()),
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }
}

#[test]
fn the_anycast_addresses_inside_192_0_0_0_24_cite_their_own_rfcs() {
    assert_eq!(
        special_block(ip("192.0.0.9")).map(|b| b.rfc),
        Some("RFC 7723")
    );
    assert_eq!(
        special_block(ip("192.0.0.10")).map(|b| b.rfc),
        Some("RFC 8155")
    );
    assert_eq!(
        special_block(ip("0.0.0.0")).map(|b| b.rfc),
        Some("RFC 1122")
    );
    assert_eq!(special_block(ip("0.0.0.1")).map(|b| b.rfc), Some("RFC 791"));
}
