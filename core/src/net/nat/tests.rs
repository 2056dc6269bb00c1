use super::*;
use crate::net::clock::Duration;
use crate::net::conntrack::{State, Timeouts};

const EXT: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);
const A: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
const B: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 11);
const X: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const Y: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

fn k(proto: Proto, src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> FlowKey {
    FlowKey {
        proto,
        src,
        sport,
        dst,
        dport,
    }
}

fn udp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> FlowKey {
    k(Proto::Udp, src, sport, dst, dport)
}

fn nat(mapping: Behavior, filtering: Behavior) -> NatTable {
    NatTable::new(NatConfig {
        mapping,
        filtering,
        ..NatConfig::default()
    })
}

#[test]
fn the_linux_profile_keeps_ports_per_reply_tuple_and_draws_another_on_a_clash() {
    let mut n = NatTable::new(NatConfig::linux());
    let t = Instant(0);
    // Two hosts, one source port, different server ports: the reply tuples differ, so both
    // keep 40000 (a teaching NAT reserves the port for the first host).
    let a = n.outbound(udp(A, 40000, X, 53), None, EXT, t).unwrap();
    let b = n.outbound(udp(B, 40000, X, 5353), None, EXT, t).unwrap();
    assert_eq!((a.after.sport, b.after.sport), (40000, 40000));
    // The same server port: a clash, and another port of the same class, drawn.
    let c = n.outbound(udp(B, 40000, X, 53), None, EXT, t).unwrap();
    assert_ne!(c.after.sport, 40000);
    assert!(c.after.sport >= 1024);
    let d = n.outbound(udp(B, 700, X, 53), None, EXT, t).unwrap();
    assert_eq!(d.after.sport, 700);
    let e = n.outbound(udp(A, 700, X, 53), None, EXT, t).unwrap();
    assert!((600..=1023).contains(&e.after.sport) && e.after.sport != 700);
    // Deterministic: the same traffic draws the same ports.
    let mut again = NatTable::new(NatConfig::linux());
    again.outbound(udp(A, 40000, X, 53), None, EXT, t).unwrap();
    again
        .outbound(udp(B, 40000, X, 5353), None, EXT, t)
        .unwrap();
    let c2 = again.outbound(udp(B, 40000, X, 53), None, EXT, t).unwrap();
    assert_eq!(c2.after.sport, c.after.sport);
    assert!(n.config().type_name().starts_with("Linux MASQUERADE"));
}

/// RFC 4787 §4.1 and §5, tested on every combination: which external port the NAT picks
/// for one internal endpoint talking to X:3478, X:3479 and Y:3478, and which unsolicited
/// packets it then admits.
#[test]
fn rfc4787_mapping_and_filtering_combinations() {
    use Behavior::*;
    let all = [
        EndpointIndependent,
        AddressDependent,
        AddressAndPortDependent,
    ];
    let mut names = Vec::new();
    for mapping in all {
        for filtering in all {
            let t0 = Instant(0);
            let mut n = nat(mapping, filtering);
            let p1 = n
                .outbound(udp(A, 40000, X, 3478), None, EXT, t0)
                .unwrap()
                .after
                .sport;
            assert_eq!(p1, 40000, "source port preserved");
            // Filtering is judged while only X:3478 has been contacted.
            let from_x = n.inbound(udp(X, 3478, EXT, p1), None, None, t0);
            assert_eq!(
                from_x.unwrap().after,
                udp(X, 3478, A, 40000),
                "a reply always gets in"
            );
            let other_port = n.would_admit(&udp(X, 9999, EXT, p1));
            let other_addr = n.would_admit(&udp(Y, 3478, EXT, p1));
            match filtering {
                EndpointIndependent => assert!(other_port && other_addr),
                AddressDependent => assert!(other_port && !other_addr),
                AddressAndPortDependent => assert!(!other_port && !other_addr),
            }
            let p2 = n
                .outbound(udp(A, 40000, X, 3479), None, EXT, t0)
                .unwrap()
                .after
                .sport;
            let p3 = n
                .outbound(udp(A, 40000, Y, 3478), None, EXT, t0)
                .unwrap()
                .after
                .sport;
            match mapping {
                EndpointIndependent => assert!(p1 == p2 && p2 == p3),
                AddressDependent => assert!(p1 == p2 && p2 != p3),
                AddressAndPortDependent => assert!(p1 != p2 && p2 != p3 && p1 != p3),
            }
            names.push(format!(
                "{mapping} × {filtering}: {}",
                n.config().type_name()
            ));
        }
    }
    assert_eq!(
        names,
        [
            "endpoint-independent × endpoint-independent: full cone",
            "endpoint-independent × address-dependent: restricted cone",
            "endpoint-independent × address-and-port-dependent: port-restricted cone",
            "address-dependent × endpoint-independent: address-dependent mapping, endpoint-independent filtering",
            "address-dependent × address-dependent: address-dependent mapping, address-dependent filtering",
            "address-dependent × address-and-port-dependent: address-dependent mapping, address-and-port-dependent filtering",
            "address-and-port-dependent × endpoint-independent: address-and-port-dependent mapping, endpoint-independent filtering",
            "address-and-port-dependent × address-dependent: address-and-port-dependent mapping, address-dependent filtering",
            "address-and-port-dependent × address-and-port-dependent: symmetric",
        ]
    );
}

#[test]
fn full_cone_admits_strangers_to_the_inside_host() {
    let mut n = nat(Behavior::EndpointIndependent, Behavior::EndpointIndependent);
    n.outbound(udp(A, 5000, X, 3478), None, EXT, Instant(0))
        .unwrap();
    let d = n
        .inbound(udp(Y, 1234, EXT, 5000), None, None, Instant(0))
        .unwrap();
    assert!(d.created);
    assert_eq!(d.after, udp(Y, 1234, A, 5000));
    let e = n
        .inbound(udp(Y, 1234, EXT, 5001), None, None, Instant(0))
        .unwrap_err();
    assert_eq!(
        e,
        NatDrop::NoMapping {
            proto: Proto::Udp,
            port: 5001
        }
    );
}

#[test]
fn taken_source_ports_come_from_the_pool_and_exhaustion_drops() {
    let mut n = NatTable::new(NatConfig {
        pool: PortPool {
            first: 50000,
            last: 50001,
        },
        ..NatConfig::default()
    });
    let t = Instant(0);
    assert_eq!(
        n.outbound(udp(A, 40000, X, 53), None, EXT, t)
            .unwrap()
            .after
            .sport,
        40000
    );
    assert_eq!(
        n.outbound(udp(B, 40000, X, 53), None, EXT, t)
            .unwrap()
            .after
            .sport,
        50000
    );
    let c = Ipv4Addr::new(192, 168, 1, 12);
    assert_eq!(
        n.outbound(udp(c, 40000, X, 53), None, EXT, t)
            .unwrap()
            .after
            .sport,
        50001
    );
    let d = Ipv4Addr::new(192, 168, 1, 13);
    let err = n.outbound(udp(d, 40000, X, 53), None, EXT, t).unwrap_err();
    assert_eq!(
        err,
        NatDrop::PoolExhausted {
            proto: Proto::Udp,
            first: 50000,
            last: 50001
        }
    );
    assert!(err.to_string().contains("run out of mappings"));
    // Once the UDP entries expire (30 s unreplied) their ports return to the pool.
    assert_eq!(n.expire(Instant(30_000)).len(), 3);
    assert_eq!(
        n.outbound(udp(d, 40000, X, 53), None, EXT, Instant(30_000))
            .unwrap()
            .after
            .sport,
        40000
    );
}

#[test]
fn full_table_drops_new_connections_but_not_existing_ones() {
    let mut n = NatTable::new(NatConfig {
        max_entries: 1,
        ..NatConfig::default()
    });
    let t = Instant(0);
    n.outbound(udp(A, 1, X, 53), None, EXT, t).unwrap();
    assert_eq!(
        n.outbound(udp(A, 2, X, 53), None, EXT, t).unwrap_err(),
        NatDrop::TableFull { max: 1 }
    );
    assert!(n.outbound(udp(A, 1, X, 53), None, EXT, t).is_ok());
}

#[test]
fn port_forwarding_and_hairpinning() {
    let mut n = NatTable::new(NatConfig::default());
    n.add_forward(PortForward::parse_vbox("web,tcp,,8080,192.168.1.11,80").unwrap())
        .unwrap();
    let t = Instant(0);
    let syn = Some(TcpFlags::SYN);
    let d = n
        .inbound(k(Proto::Tcp, X, 50000, EXT, 8080), syn, None, t)
        .unwrap();
    assert_eq!(d.after, k(Proto::Tcp, X, 50000, B, 80));
    assert_eq!(d.rule.as_deref(), Some("web"));
    // The server's answer goes back out as if from the router's port 8080.
    let back = n
        .outbound(
            k(Proto::Tcp, B, 80, X, 50000),
            Some(TcpFlags::SYN.with(TcpFlags::ACK)),
            EXT,
            t,
        )
        .unwrap();
    assert_eq!(back.after, k(Proto::Tcp, EXT, 8080, X, 50000));
    // Hairpin: A reaches B through the external address; B sees A's external mapping.
    let hp = n
        .outbound(k(Proto::Tcp, A, 41000, EXT, 8080), syn, EXT, t)
        .unwrap();
    assert_eq!(hp.after, k(Proto::Tcp, EXT, 41000, B, 80));
    let mut off = NatTable::new(NatConfig {
        hairpin: false,
        ..NatConfig::default()
    });
    off.add_forward(PortForward::parse_vbox("web,tcp,,8080,192.168.1.11,80").unwrap())
        .unwrap();
    assert_eq!(
        off.outbound(k(Proto::Tcp, A, 41000, EXT, 8080), syn, EXT, t)
            .unwrap_err(),
        NatDrop::HairpinOff
    );
    // The pool never hands out a forwarded port.
    let mut pf = NatTable::new(NatConfig::default());
    pf.add_forward(PortForward::parse_vbox("ssh,tcp,,2222,10.0.2.15,22").unwrap())
        .unwrap();
    let d = pf
        .outbound(k(Proto::Tcp, A, 2222, X, 80), syn, EXT, t)
        .unwrap();
    assert_ne!(d.after.sport, 2222);
}

#[test]
fn a_rst_answering_a_syn_ends_the_entry_at_once_and_still_gets_through() {
    let mut n = NatTable::new(NatConfig::default());
    let syn = Some(TcpFlags::SYN);
    n.outbound(k(Proto::Tcp, A, 40000, X, 81), syn, EXT, Instant(0))
        .unwrap();
    let rst = Some(TcpFlags::RST.with(TcpFlags::ACK));
    let d = n
        .inbound(k(Proto::Tcp, X, 81, EXT, 40000), rst, None, Instant(1))
        .unwrap();
    assert_eq!(d.after, k(Proto::Tcp, X, 81, A, 40000));
    assert_eq!(d.killed.map(|e| e.state), Some(State::Close));
    assert!(n.conntrack().is_empty());
    // Its port is free again.
    let again = n
        .outbound(k(Proto::Tcp, B, 40000, X, 81), syn, EXT, Instant(2))
        .unwrap();
    assert_eq!(again.after.sport, 40000);
    // A RST after a reply was seen keeps the entry, in CLOSE for 10 s.
    n.inbound(
        k(Proto::Tcp, X, 81, EXT, 40000),
        Some(TcpFlags::SYN.with(TcpFlags::ACK)),
        None,
        Instant(3),
    )
    .unwrap();
    let d = n
        .outbound(k(Proto::Tcp, B, 40000, X, 81), rst, EXT, Instant(4))
        .unwrap();
    assert_eq!(d.killed, None);
    assert_eq!(state_and_timeout(&n, Instant(4)), (State::Close, 10));
}

fn state_and_timeout(n: &NatTable, now: Instant) -> (State, u64) {
    let e = &n.conntrack().entries()[0];
    (e.state, e.remaining(now))
}

/// The whole life of a TCP connection, with Linux's default timeouts at every step.
#[test]
fn tcp_states_follow_linux_with_default_timeouts() {
    let mut n = NatTable::new(NatConfig::default());
    let out = k(Proto::Tcp, A, 40000, X, 443);
    let back = k(Proto::Tcp, X, 443, EXT, 40000);
    let f = |s: &str| Some(TcpFlags::parse(s).unwrap());
    let t = Instant(0);
    let steps: [(bool, &str, State, u64); 8] = [
        (true, "S", State::SynSent, 120),
        (false, "SA", State::SynRecv, 60),
        (true, "A", State::Established, 432_000),
        (true, "FA", State::FinWait, 120),
        (false, "A", State::CloseWait, 60),
        (false, "FA", State::LastAck, 30),
        (true, "A", State::TimeWait, 120),
        (true, "S", State::SynSent, 120),
    ];
    for (outbound, flags, state, secs) in steps {
        if outbound {
            n.outbound(out, f(flags), EXT, t).unwrap();
        } else {
            n.inbound(back, f(flags), None, t).unwrap();
        }
        assert_eq!(
            state_and_timeout(&n, t),
            (state, secs),
            "after {flags} ({})",
            if outbound { "out" } else { "in" }
        );
    }
    let line = n.conntrack_lines(t)[0].clone();
    assert_eq!(line, "tcp 6 120 SYN_SENT src=192.168.1.10 dst=198.51.100.1 sport=40000 dport=443 src=198.51.100.1 dst=203.0.113.7 sport=443 dport=40000 [ASSURED] mark=0 use=1");
    n.inbound(back, f("R"), None, t).unwrap();
    assert_eq!(state_and_timeout(&n, t), (State::Close, 10));
    assert!(n.expire(Instant(9_999)).is_empty());
    assert_eq!(n.expire(Instant(10_000)).len(), 1);
}

#[test]
fn established_lasts_five_days_and_timeouts_are_configurable() {
    let mut n = NatTable::new(NatConfig::default());
    let out = k(Proto::Tcp, A, 40000, X, 443);
    n.outbound(out, Some(TcpFlags::ACK), EXT, Instant(0))
        .unwrap(); // mid-stream pickup
    assert_eq!(
        state_and_timeout(&n, Instant(0)),
        (State::Established, 432_000)
    );
    assert!(n.expire(Instant(431_999_999)).is_empty());
    assert_eq!(n.expire(Instant(432_000_000)).len(), 1);

    let timeouts = Timeouts {
        udp: 5,
        ..Timeouts::default()
    };
    let mut short = NatTable::new(NatConfig {
        timeouts,
        ..NatConfig::default()
    });
    short
        .outbound(udp(A, 1, X, 53), None, EXT, Instant(0))
        .unwrap();
    assert_eq!(short.expire(Instant(5_000)).len(), 1);
}

#[test]
fn a_quick_udp_query_and_answer_stays_at_30s_and_is_not_assured() {
    // Linux 6.18, measured: `udp 17 29 ... mark=0 use=1` after one query and one reply.
    let mut n = NatTable::new(NatConfig::default());
    let server = Ipv4Addr::new(203, 0, 113, 53);
    n.outbound(udp(A, 40000, server, 53), None, EXT, Instant(0))
        .unwrap();
    assert_eq!(
        n.conntrack_lines(Instant(1000))[0],
        "udp 17 29 src=192.168.1.10 dst=203.0.113.53 sport=40000 dport=53 [UNREPLIED] src=203.0.113.53 dst=203.0.113.7 sport=53 dport=40000 mark=0 use=1"
    );
    let answer = n
        .inbound(udp(server, 53, EXT, 40000), None, None, Instant(5))
        .unwrap();
    assert_eq!(answer.transition, None);
    assert_eq!(
        n.conntrack_lines(Instant(1000))[0],
        "udp 17 29 src=192.168.1.10 dst=203.0.113.53 sport=40000 dport=53 src=203.0.113.53 dst=203.0.113.7 sport=53 dport=40000 mark=0 use=1"
    );
    // More packets inside the first 2 s change nothing either.
    n.outbound(udp(A, 40000, server, 53), None, EXT, Instant(2000))
        .unwrap();
    assert!(!n.conntrack().entries()[0].assured());
    assert_eq!(n.conntrack().entries()[0].remaining(Instant(2000)), 30);
}

#[test]
fn udp_becomes_a_120s_assured_stream_with_traffic_after_2s_once_replied() {
    let mut n = NatTable::new(NatConfig::default());
    let q = udp(A, 40000, Ipv4Addr::new(8, 8, 8, 8), 53);
    let r = udp(Ipv4Addr::new(8, 8, 8, 8), 53, EXT, 40000);
    n.outbound(q, None, EXT, Instant(0)).unwrap();
    // Unanswered packets after 2 s: still 30 s, not a stream.
    n.outbound(q, None, EXT, Instant(2500)).unwrap();
    assert!(!n.conntrack().entries()[0].assured());
    // The first reply, late: seen now, but the reply itself does not make a stream.
    let d = n.inbound(r, None, None, Instant(3000)).unwrap();
    assert_eq!(d.transition, None);
    assert_eq!(n.conntrack().entries()[0].remaining(Instant(3000)), 30);
    // The next packet, either way: a stream.
    let d = n.outbound(q, None, EXT, Instant(3100)).unwrap();
    assert!(d.transition.unwrap().became_assured);
    assert_eq!(n.conntrack().entries()[0].remaining(Instant(3100)), 120);
    // The 2 s count from the first packet, across refreshes.
    let mut m = NatTable::new(NatConfig::default());
    m.outbound(q, None, EXT, Instant(0)).unwrap();
    m.inbound(r, None, None, Instant(1500)).unwrap();
    m.outbound(q, None, EXT, Instant(2000)).unwrap();
    assert!(!m.conntrack().entries()[0].assured());
    m.inbound(r, None, None, Instant(2001)).unwrap();
    assert!(m.conntrack().entries()[0].assured());
}

#[test]
fn an_unreplied_udp_flow_is_gone_after_30s() {
    let q = udp(A, 40000, Ipv4Addr::new(8, 8, 8, 8), 53);
    // An unreplied flow is gone after 30 s, and a late reply no longer gets in.
    let mut m = NatTable::new(NatConfig::default());
    m.outbound(q, None, EXT, Instant(0)).unwrap();
    let late = m.inbound(
        udp(Ipv4Addr::new(8, 8, 8, 8), 53, EXT, 40000),
        None,
        None,
        Instant(30_000),
    );
    assert!(late.is_err());
    assert_eq!(
        late.unwrap_err(),
        NatDrop::NoMapping {
            proto: Proto::Udp,
            port: 40000
        }
    );
}

#[test]
fn an_icmp_error_finding_its_connection_expired_releases_the_binding() {
    let mut n = NatTable::new(NatConfig::default());
    n.outbound(udp(A, 40000, X, 53), None, EXT, Instant(0))
        .unwrap();
    let late = Instant(0).after(Duration::from_secs(31));
    assert_eq!(n.untranslate_quote(udp(EXT, 40000, X, 53), late), None);
    assert!(n.conntrack().is_empty());
    // Port 40000 is free again, so another inside host keeps it.
    let d = n.outbound(udp(B, 40000, X, 53), None, EXT, late).unwrap();
    assert_eq!(d.after, udp(EXT, 40000, X, 53));
}

#[test]
fn icmp_echo_tracks_by_identifier_for_30s() {
    let mut n = NatTable::new(NatConfig::default());
    let ping = k(Proto::Icmp, A, 7, X, 7);
    let d = n.outbound(ping, None, EXT, Instant(0)).unwrap();
    assert_eq!(d.after, k(Proto::Icmp, EXT, 7, X, 7));
    let pong = n
        .inbound(k(Proto::Icmp, X, 7, EXT, 7), None, None, Instant(1000))
        .unwrap();
    assert_eq!(pong.after, k(Proto::Icmp, X, 7, A, 7));
    assert_eq!(n.conntrack().entries()[0].remaining(Instant(1000)), 30);
    assert!(n.conntrack_lines(Instant(1000))[0].starts_with(
        "icmp 1 30 src=192.168.1.10 dst=198.51.100.1 type=8 code=0 id=7 src=198.51.100.1"
    ));
}

#[test]
fn cisco_view_and_serde_round_trip() {
    let mut n = NatTable::new(NatConfig::default());
    n.outbound(udp(A, 40000, X, 53), None, EXT, Instant(0))
        .unwrap();
    assert_eq!(
        n.cisco_rows()[0],
        [
            "udp",
            "203.0.113.7:40000",
            "192.168.1.10:40000",
            "198.51.100.1:53",
            "198.51.100.1:53"
        ]
        .map(String::from)
    );
    let json = serde_json::to_string(&n).unwrap();
    let mut back: NatTable = serde_json::from_str(&json).unwrap();
    assert_eq!(
        back.conntrack_lines(Instant(0)),
        n.conntrack_lines(Instant(0))
    );
    // The binding came back too: another inside host cannot take port 40000.
    assert_ne!(
        back.outbound(udp(B, 40000, X, 53), None, EXT, Instant(0))
            .unwrap()
            .after
            .sport,
        40000
    );
}

#[test]
fn a_hash_seed_changes_where_flows_are_kept_but_no_decision() {
    // The same traffic through tables hashed with different seeds: every translation, refusal
    // and listing is the same (no decision may depend on a table's order).
    let run = |seed: u64, config: NatConfig| {
        let mut n = NatTable::new(config).with_hash_seed(seed);
        let mut seen = Vec::new();
        for i in 0..300u16 {
            let t = Instant(u64::from(i) * 1000);
            let host = if i % 2 == 0 { A } else { B };
            let server = if i % 3 == 0 { X } else { Y };
            seen.push(format!(
                "{:?}",
                n.outbound(udp(host, 40000 + i % 7, server, 53 + i % 5), None, EXT, t)
            ));
            seen.push(format!(
                "{:?}",
                n.inbound(udp(server, 53 + i % 5, EXT, 40000 + i % 11), None, None, t)
            ));
        }
        seen.extend(n.conntrack_lines(Instant(300_000)));
        seen
    };
    for config in [NatConfig::linux(), NatConfig::default()] {
        let plain = run(0, config.clone());
        assert_eq!(plain, run(0x5eed_0fa1, config.clone()));
        assert_eq!(plain, run(u64::MAX, config));
    }
}

#[test]
fn seeded_hashes_differ_between_seeds_and_repeat_within_one() {
    use std::hash::BuildHasher;
    let key = udp(A, 40000, X, 53);
    let (one, two) = (SeededHash::new(1), SeededHash::new(2));
    assert_eq!(one.hash_one(key), one.hash_one(key));
    assert_ne!(one.hash_one(key), two.hash_one(key));
    // Keys that differ in one low bit land far apart.
    let next = udp(A, 40001, X, 53);
    assert!((one.hash_one(key) ^ one.hash_one(next)).count_ones() > 16);
}
