//! The NAT link with real packet bytes: frames built by etherparse, replies checked by it.

use std::net::Ipv4Addr;

use etherparse::{
    ArpEthIpv4Packet, ArpOperation, Icmpv4Header, Icmpv4Type, NetHeaders, PacketBuilder,
    PacketHeaders, TransportHeader, UdpHeader,
};
use proptest::prelude::*;

use super::*;
use crate::net::conntrack::Dir;

const GUEST_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const GW_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x35, 0x02];
const DNS_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x35, 0x03];
const GW: [u8; 4] = [10, 0, 2, 2];
const DNS: [u8; 4] = [10, 0, 2, 3];
const GUEST: [u8; 4] = [10, 0, 2, 15];
/// A documentation address (RFC 5737) standing for a server on the internet.
const REMOTE: [u8; 4] = [198, 51, 100, 7];
const HOST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const T0: Instant = Instant(0);

fn gateway() -> Gateway {
    Gateway::new(GatewayConfig::virtualbox(HOST))
}

fn udp_frame_from(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let dst_mac = if dst == DNS { DNS_MAC } else { GW_MAC };
    let mut v = Vec::new();
    PacketBuilder::ethernet2(GUEST_MAC, dst_mac)
        .ipv4(src, dst, 64)
        .udp(sport, dport)
        .write(&mut v, payload)
        .unwrap();
    v
}

fn udp_from_guest(sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    udp_frame_from(GUEST, sport, dst, dport, payload)
}

#[derive(Clone, Copy)]
enum Seg {
    Syn,
    SynAck,
    Ack,
}

fn tcp_from_guest(sport: u16, dst: [u8; 4], dport: u16, seg: Seg, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(GUEST_MAC, GW_MAC)
        .ipv4(GUEST, dst, 64)
        .tcp(sport, dport, 1000, 64240);
    let b = match seg {
        Seg::Syn => b.syn(),
        Seg::SynAck => b.syn().ack(1),
        Seg::Ack => b.ack(1),
    };
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn ping_from_guest(dst: [u8; 4], id: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(GUEST_MAC, GW_MAC)
        .ipv4(GUEST, dst, 64)
        .icmpv4_echo_request(id, seq)
        .write(&mut v, data)
        .unwrap();
    v
}

fn arp_frame(op: ArpOperation, sender_mac: [u8; 6], sender: [u8; 4], target: [u8; 4]) -> Vec<u8> {
    let arp = ArpEthIpv4Packet {
        operation: op,
        sender_mac,
        sender_ipv4: sender,
        target_mac: [0; 6],
        target_ipv4: target,
    };
    let mut v = Vec::new();
    PacketBuilder::ethernet2(sender_mac, [0xff; 6])
        .arp(arp.to_arp_packet())
        .write(&mut v)
        .unwrap();
    v
}

/// A client's DHCP message of type `kind` with the extra `options` (code, value).
fn dhcp_message(kind: u8, options: &[(u8, &[u8])]) -> Vec<u8> {
    let mut m = vec![0u8; 236];
    m[0] = 1;
    m[1] = 1;
    m[2] = 6;
    m[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    m[10] = 0x80; // broadcast flag
    m[28..34].copy_from_slice(&GUEST_MAC);
    m.extend_from_slice(&[99, 130, 83, 99, 53, 1, kind]);
    for (code, value) in options {
        m.push(*code);
        m.push(value.len() as u8);
        m.extend_from_slice(value);
    }
    m.push(255);
    m
}

fn dhcp_frame(message: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(GUEST_MAC, [0xff; 6])
        .ipv4([0, 0, 0, 0], [255, 255, 255, 255], 64)
        .udp(68, 67)
        .write(&mut v, message)
        .unwrap();
    v
}

fn reply(v: Verdict) -> Vec<u8> {
    match v {
        Verdict::Reply(f) => f,
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn dropped(v: Verdict) -> GuestDrop {
    match v {
        Verdict::Drop(d) => d,
        other => panic!("expected a drop, got {other:?}"),
    }
}

fn host_bound(v: Verdict) -> HostBound {
    match v {
        Verdict::Tcp(b) | Verdict::Udp(b) => b,
        other => panic!("expected a flow for the host, got {other:?}"),
    }
}

/// Parses a UDP frame with etherparse, checks its IPv4 and UDP checksums independently, and
/// returns (source, destination, payload) with the Ethernet addresses.
fn verified_udp(frame: &[u8]) -> ((Mac, Mac), SocketAddrV4, SocketAddrV4, Vec<u8>) {
    let h = PacketHeaders::from_ethernet_slice(frame).expect("etherparse parses it");
    let Some(etherparse::LinkHeader::Ethernet2(eth)) = &h.link else {
        panic!("not Ethernet II")
    };
    let Some(NetHeaders::Ipv4(ip, _)) = &h.net else {
        panic!("not IPv4")
    };
    assert_eq!(
        ip.header_checksum,
        ip.calc_header_checksum(),
        "IPv4 checksum"
    );
    let Some(TransportHeader::Udp(udp)) = &h.transport else {
        panic!("not UDP")
    };
    let payload = h.payload.slice().to_vec();
    let expected =
        UdpHeader::with_ipv4_checksum(udp.source_port, udp.destination_port, ip, &payload)
            .unwrap()
            .checksum;
    assert_eq!(udp.checksum, expected, "UDP checksum");
    (
        (Mac(eth.source), Mac(eth.destination)),
        SocketAddrV4::new(ip.source.into(), udp.source_port),
        SocketAddrV4::new(ip.destination.into(), udp.destination_port),
        payload,
    )
}

/// The options of a DHCP reply, walked independently of the server's code.
fn options_of(message: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&message[236..240], &[99, 130, 83, 99], "magic cookie");
    let mut out = Vec::new();
    let mut at = 240;
    while message[at] != 255 {
        if message[at] == 0 {
            at += 1;
            continue;
        }
        let len = message[at + 1] as usize;
        out.push((message[at], message[at + 2..at + 2 + len].to_vec()));
        at += 2 + len;
    }
    out
}

fn option(message: &[u8], code: u8) -> Option<Vec<u8>> {
    options_of(message)
        .into_iter()
        .find(|(c, _)| *c == code)
        .map(|(_, v)| v)
}

/// Runs DISCOVER → OFFER → REQUEST → ACK and returns the ACK's BOOTP message.
fn lease(gw: &mut Gateway, now: Instant) -> Vec<u8> {
    let offer = reply(gw.from_guest(&dhcp_frame(&dhcp_message(1, &[])), now));
    let (_, _, _, offer) = verified_udp(&offer);
    let yiaddr: [u8; 4] = offer[16..20].try_into().unwrap();
    let request = dhcp_message(3, &[(50, &yiaddr), (54, &GW)]);
    let ack = reply(gw.from_guest(&dhcp_frame(&request), now));
    verified_udp(&ack).3
}

#[test]
fn arp_for_the_gateway_and_the_dns_address_is_answered_with_virtualboxs_macs() {
    for (target, mac) in [(GW, GW_MAC), (DNS, DNS_MAC)] {
        let mut gw = gateway();
        let frame = arp_frame(ArpOperation::REQUEST, GUEST_MAC, GUEST, target);
        let answer = reply(gw.from_guest(&frame, T0));
        let h = PacketHeaders::from_ethernet_slice(&answer).unwrap();
        let Some(etherparse::LinkHeader::Ethernet2(eth)) = &h.link else {
            panic!("not Ethernet II")
        };
        assert_eq!((eth.source, eth.destination), (mac, GUEST_MAC));
        let Some(NetHeaders::Arp(arp)) = &h.net else {
            panic!("not ARP")
        };
        let arp = arp.try_eth_ipv4().unwrap();
        assert_eq!(arp.operation, ArpOperation::REPLY);
        assert_eq!((arp.sender_mac, arp.sender_ipv4), (mac, target));
        assert_eq!((arp.target_mac, arp.target_ipv4), (GUEST_MAC, GUEST));
        assert_eq!(
            gw.guest_mac(),
            Some(Mac(GUEST_MAC)),
            "the guest's MAC is learned"
        );
    }
    // The exact bytes of the gateway's answer (RFC 826 layout).
    let mut gw = gateway();
    let answer = reply(gw.from_guest(&arp_frame(ArpOperation::REQUEST, GUEST_MAC, GUEST, GW), T0));
    assert_eq!(
        answer,
        [
            &GUEST_MAC[..],
            &GW_MAC,
            &[0x08, 0x06], // Ethernet
            &[0, 1, 0x08, 0, 6, 4, 0, 2],
            &GW_MAC,
            &GW,
            &GUEST_MAC,
            &GUEST,
        ]
        .concat()
    );
    assert_eq!(
        engine_mac(Ipv4Addr::from(GW)).to_string(),
        "52:54:00:12:35:02"
    );
}

#[test]
fn arp_for_other_addresses_is_not_answered() {
    let mut gw = gateway();
    let d = dropped(gw.from_guest(
        &arp_frame(ArpOperation::REQUEST, GUEST_MAC, GUEST, [10, 0, 2, 9]),
        T0,
    ));
    assert_eq!(d, GuestDrop::ArpNotOurs(Ipv4Addr::new(10, 0, 2, 9)));
    assert_eq!(gw.drops().get(DropKind::ArpNotOurs), 1);
    // A probe for the guest's own address (RFC 5227) and an announcement: silence, no drop.
    let probe = arp_frame(ArpOperation::REQUEST, GUEST_MAC, [0, 0, 0, 0], GUEST);
    assert_eq!(gw.from_guest(&probe, T0), Verdict::Consumed);
    let announce = arp_frame(ArpOperation::REQUEST, GUEST_MAC, GUEST, GUEST);
    assert_eq!(gw.from_guest(&announce, T0), Verdict::Consumed);
    assert_eq!(gw.drops().total(), 1);
}

#[test]
fn a_guest_claiming_the_engines_address_or_mac_is_dropped_and_counted() {
    let mut gw = gateway();
    let claims_gateway_ip = arp_frame(ArpOperation::REPLY, GUEST_MAC, GW, GUEST);
    assert_eq!(
        dropped(gw.from_guest(&claims_gateway_ip, T0)),
        GuestDrop::Spoofed {
            ip: Ipv4Addr::from(GW),
            mac: Mac(GUEST_MAC)
        }
    );
    let claims_gateway_mac = arp_frame(ArpOperation::REQUEST, GW_MAC, GUEST, DNS);
    assert!(matches!(
        dropped(gw.from_guest(&claims_gateway_mac, T0)),
        GuestDrop::Spoofed { .. }
    ));
    let from_dns_ip = udp_frame_from(DNS, 53, REMOTE, 53, b"x");
    assert!(matches!(
        dropped(gw.from_guest(&from_dns_ip, T0)),
        GuestDrop::Spoofed { .. }
    ));
    assert_eq!(gw.drops().get(DropKind::Spoofed), 3);
    assert_eq!(gw.guest_mac(), None, "a spoofing frame teaches nothing");
}

#[test]
fn a_full_dhcp_exchange_leases_10_0_2_15_with_virtualboxs_options() {
    let mut gw = gateway();
    let offer = reply(gw.from_guest(&dhcp_frame(&dhcp_message(1, &[])), T0));
    let ((src_mac, dst_mac), from, to, offer) = verified_udp(&offer);
    assert_eq!((src_mac, dst_mac), (Mac(GW_MAC), Mac::BROADCAST));
    assert_eq!(from, SocketAddrV4::new(GW.into(), 67));
    assert_eq!(to, SocketAddrV4::new(Ipv4Addr::BROADCAST, 68));
    assert_eq!(offer[0], 2, "BOOTREPLY");
    assert_eq!(&offer[4..8], &0x1234_5678u32.to_be_bytes(), "xid echoed");
    assert_eq!(&offer[16..20], &GUEST, "yiaddr");
    assert_eq!(&offer[28..34], &GUEST_MAC, "chaddr");
    assert_eq!(option(&offer, 53), Some(vec![2]), "DHCPOFFER");
    assert_eq!(gw.guest_ip(T0), None, "an offer is not a lease");

    let ack = lease(&mut gw, T0);
    assert_eq!(&ack[16..20], &GUEST);
    let expected: Vec<(u8, Vec<u8>)> = vec![
        (53, vec![5]),
        (54, GW.to_vec()),
        (51, 86_400u32.to_be_bytes().to_vec()),
        (1, vec![255, 255, 255, 0]),
        (3, GW.to_vec()),
        (6, DNS.to_vec()),
    ];
    assert_eq!(options_of(&ack), expected);
    assert!(ack.len() >= 300, "RFC 1542's minimum BOOTP size");
    assert_eq!(gw.guest_ip(T0), Some(Ipv4Addr::from(GUEST)));
    let a_day_later = T0.after(LEASE_TIME);
    assert_eq!(gw.guest_ip(a_day_later), None, "the lease runs out");
}

#[test]
fn a_request_for_another_address_gets_a_nak_and_release_ends_the_lease() {
    let mut gw = gateway();
    lease(&mut gw, T0);
    let wrong = dhcp_message(3, &[(50, &[10, 0, 2, 77])]);
    let nak = verified_udp(&reply(gw.from_guest(&dhcp_frame(&wrong), T0))).3;
    assert_eq!(option(&nak, 53), Some(vec![6]), "DHCPNAK");
    assert_eq!(&nak[16..20], &[0, 0, 0, 0]);
    assert_eq!(option(&nak, 51), None, "a NAK carries no lease");
    // Renewing (RFC 2131 §4.3.2): unicast from the leased address, ciaddr set, no option 50.
    let mut renew = dhcp_message(3, &[]);
    renew[12..16].copy_from_slice(&GUEST);
    let renewal = udp_frame_from(GUEST, 68, GW, 67, &renew);
    let ack = verified_udp(&reply(gw.from_guest(&renewal, Instant(1000)))).3;
    assert_eq!(option(&ack, 53), Some(vec![5]), "DHCPACK");
    assert_eq!(&ack[12..16], &GUEST, "ciaddr echoed");
    assert_eq!(
        gw.guest_ip(T0.after(LEASE_TIME)),
        Some(GUEST.into()),
        "renewed"
    );
    // A REQUEST naming another server is not ours to answer.
    let other = dhcp_message(3, &[(50, &GUEST), (54, &[10, 0, 2, 4])]);
    assert_eq!(gw.from_guest(&dhcp_frame(&other), T0), Verdict::Consumed);
    let release = dhcp_message(7, &[(54, &GW)]);
    assert_eq!(gw.from_guest(&dhcp_frame(&release), T0), Verdict::Consumed);
    assert_eq!(gw.guest_ip(T0), None);
    assert!(gw.dhcp().leases().is_empty());
}

#[test]
fn dhcp_messages_are_parsed_strictly() {
    use super::dhcp::{DhcpError, DhcpRequest};
    let good = dhcp_message(1, &[(50, &GUEST)]);
    assert!(DhcpRequest::parse(&good).is_ok());
    assert_eq!(
        DhcpRequest::parse(&good[..200]),
        Err(DhcpError::Truncated { have: 200 })
    );
    let mut no_end = good.clone();
    no_end.pop();
    assert_eq!(DhcpRequest::parse(&no_end), Err(DhcpError::NoEnd));
    let mut overrun = good[..good.len() - 1].to_vec();
    overrun.extend_from_slice(&[12, 40, b'x']);
    assert_eq!(
        DhcpRequest::parse(&overrun),
        Err(DhcpError::OptionOverrun { code: 12 })
    );
    let short_ip = dhcp_message(3, &[(50, &[10, 0, 2])]);
    assert_eq!(
        DhcpRequest::parse(&short_ip),
        Err(DhcpError::OptionLength {
            code: 50,
            len: 3,
            expected: 4
        })
    );
    let mut reply_op = good.clone();
    reply_op[0] = 2;
    assert_eq!(DhcpRequest::parse(&reply_op), Err(DhcpError::NotRequest(2)));
    let mut cookie = good.clone();
    cookie[236] = 0;
    assert_eq!(DhcpRequest::parse(&cookie), Err(DhcpError::BadCookie));
    assert_eq!(
        DhcpRequest::parse(&dhcp_message(9, &[])),
        Err(DhcpError::UnknownMessageType(9))
    );
    let mut gw = gateway();
    let mut corrupt = dhcp_frame(&dhcp_message(1, &[]));
    let last = corrupt.len() - 2;
    corrupt[last] ^= 0x10;
    assert_eq!(
        dropped(gw.from_guest(&corrupt, T0)),
        GuestDrop::BadChecksum { proto: Proto::Udp }
    );
    let offer_from_guest = dhcp_frame(&dhcp_message(2, &[]));
    assert!(matches!(
        dropped(gw.from_guest(&offer_from_guest, T0)),
        GuestDrop::Dhcp(DhcpError::NotFromClient(_))
    ));
    assert_eq!(gw.drops().get(DropKind::Dhcp), 1);
}

#[test]
fn a_ping_to_the_gateway_is_answered_with_a_checksummed_echo_reply() {
    let mut gw = gateway();
    for (dst, mac) in [(GW, GW_MAC), (DNS, DNS_MAC)] {
        let answer = reply(gw.from_guest(&ping_from_guest(dst, 7, 3, b"abcdefgh"), T0));
        let h = PacketHeaders::from_ethernet_slice(&answer).unwrap();
        let Some(etherparse::LinkHeader::Ethernet2(eth)) = &h.link else {
            panic!("not Ethernet II")
        };
        assert_eq!((eth.source, eth.destination), (mac, GUEST_MAC));
        let Some(NetHeaders::Ipv4(ip, _)) = &h.net else {
            panic!("not IPv4")
        };
        assert_eq!(ip.header_checksum, ip.calc_header_checksum());
        assert_eq!((ip.source, ip.destination), (dst, GUEST));
        let Some(TransportHeader::Icmpv4(icmp)) = &h.transport else {
            panic!("not ICMP")
        };
        let Icmpv4Type::EchoReply(echo) = &icmp.icmp_type else {
            panic!("not an echo reply: {:?}", icmp.icmp_type)
        };
        assert_eq!((echo.id, echo.seq), (7, 3));
        assert_eq!(h.payload.slice(), b"abcdefgh");
        let independent = Icmpv4Header::with_checksum(icmp.icmp_type.clone(), b"abcdefgh");
        assert_eq!(icmp.checksum, independent.checksum, "ICMP checksum");
    }
    let mut bad = ping_from_guest(GW, 7, 3, b"abcdefgh");
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        dropped(gw.from_guest(&bad, T0)),
        GuestDrop::BadChecksum { proto: Proto::Icmp }
    );
    let elsewhere = ping_from_guest(REMOTE, 7, 3, b"x");
    assert_eq!(
        dropped(gw.from_guest(&elsewhere, T0)),
        GuestDrop::IcmpElsewhere(REMOTE.into())
    );
}

#[test]
fn tcp_to_the_gateway_goes_to_the_hosts_loopback_on_the_port_the_table_chose() {
    let mut gw = gateway();
    lease(&mut gw, T0);
    let frame = tcp_from_guest(40000, GW, 8000, Seg::Syn, b"");
    let Verdict::Tcp(b) = gw.from_guest(&frame, T0) else {
        panic!("not TCP")
    };
    let d = &b.decision;
    assert!(d.created);
    assert_eq!(d.before.to_string(), "tcp 10.0.2.15:40000 > 10.0.2.2:8000");
    assert_eq!(d.after.to_string(), "tcp 127.0.0.1:40000 > 127.0.0.1:8000");
    assert_eq!(b.ip, 14..frame.len());
    assert!(b.payload.is_empty());
    assert_eq!(
        gw.nat().conntrack_lines(T0),
        [
            "tcp 6 120 SYN_SENT src=10.0.2.15 dst=10.0.2.2 sport=40000 dport=8000 [UNREPLIED] \
          src=127.0.0.1 dst=127.0.0.1 sport=8000 dport=40000 mark=0 use=1"
        ]
    );
    let data = tcp_from_guest(40000, GW, 8000, Seg::Ack, b"GET / HTTP/1.1\r\n");
    let b = host_bound(gw.from_guest(&data, T0));
    assert_eq!(&data[b.payload.clone()], b"GET / HTTP/1.1\r\n");
    assert!(!b.decision.created);
}

#[test]
fn the_segments_the_host_makes_for_the_guest_move_the_conntrack_state() {
    let mut gw = gateway();
    lease(&mut gw, T0);
    let b = host_bound(gw.from_guest(&tcp_from_guest(40000, GW, 8000, Seg::Syn, b""), T0));
    let syn_ack = b.decision.before.reversed();
    let d = gw
        .track_to_guest(syn_ack, Some(TcpFlags::SYN.with(TcpFlags::ACK)), T0)
        .expect("a live flow");
    assert_eq!(d.dir, Dir::Reply);
    assert_eq!(d.after, syn_ack, "the table agrees on what the guest sees");
    host_bound(gw.from_guest(&tcp_from_guest(40000, GW, 8000, Seg::Ack, b""), T0));
    let line = &gw.nat().conntrack_lines(T0)[0];
    assert!(line.contains("ESTABLISHED"), "{line}");
    assert!(line.contains("[ASSURED]"), "{line}");
    let stranger = FlowKey {
        sport: 9,
        ..syn_ack
    };
    assert_eq!(gw.track_to_guest(stranger, Some(TcpFlags::ACK), T0), None);
}

#[test]
fn a_tcp_segment_without_syn_opens_nothing() {
    let mut gw = gateway();
    lease(&mut gw, T0);
    let stray = tcp_from_guest(40000, REMOTE, 80, Seg::Ack, b"data");
    assert!(matches!(
        dropped(gw.from_guest(&stray, T0)),
        GuestDrop::TcpNoConnection(_)
    ));
    assert!(
        gw.nat().conntrack().is_empty(),
        "no five-day entry for a stray ACK"
    );
    assert_eq!(gw.drops().get(DropKind::TcpNoConnection), 1);
}

#[test]
fn with_host_loopback_off_the_gateway_is_unreachable_but_the_internet_is_not() {
    let mut config = GatewayConfig::virtualbox(HOST);
    config.host_loopback = false;
    let mut gw = Gateway::new(config);
    let d = dropped(gw.from_guest(&tcp_from_guest(40000, GW, 8000, Seg::Syn, b""), T0));
    assert_eq!(d, GuestDrop::HostLoopbackOff(GW.into()));
    assert_eq!(gw.drops().get(DropKind::HostLoopbackOff), 1);
    let b = host_bound(gw.from_guest(&tcp_from_guest(40001, REMOTE, 80, Seg::Syn, b""), T0));
    assert_eq!(b.decision.after.src, HOST);
    assert_eq!(b.decision.after.dst, Ipv4Addr::from(REMOTE));
    // A port forward still works: the guest answers 10.0.2.2 on a flow the table tracks.
    lease(&mut gw, T0);
    gw.add_forward(PortForward::parse_qemu("tcp:127.0.0.1:2323-:23").unwrap())
        .unwrap();
    let client = client_to(Proto::Tcp, 2323);
    gw.from_host(client, Some(TcpFlags::SYN), T0).unwrap();
    let answer = tcp_from_guest(23, GW, 50000, Seg::SynAck, b"");
    assert_eq!(
        host_bound(gw.from_guest(&answer, T0)).decision.dir,
        Dir::Reply
    );
    assert_eq!(gw.drops().get(DropKind::HostLoopbackOff), 1);
}

#[test]
fn udp_goes_to_its_host_socket_and_replies_come_back_as_checksummed_frames() {
    let mut gw = gateway();
    lease(&mut gw, T0);
    let frame = udp_from_guest(5000, GW, 7, b"ping");
    let Verdict::Udp(b) = gw.from_guest(&frame, T0) else {
        panic!("not UDP")
    };
    assert_eq!(&frame[b.payload.clone()], b"ping");
    let out = b.decision.after;
    assert_eq!(out.to_string(), "udp 127.0.0.1:5000 > 127.0.0.1:7");
    let back = gw
        .from_host(out.reversed(), None, Instant(10))
        .expect("the reply of a live flow");
    assert_eq!(back.after.to_string(), "udp 10.0.2.2:7 > 10.0.2.15:5000");
    let ((src_mac, dst_mac), from, to, payload) =
        verified_udp(&gw.udp_to_guest(&back.after, b"pong").unwrap());
    assert_eq!((src_mac, dst_mac), (Mac(GW_MAC), Mac(GUEST_MAC)));
    assert_eq!(
        (from.to_string(), to.to_string()),
        ("10.0.2.2:7".into(), "10.0.2.15:5000".into())
    );
    assert_eq!(payload, b"pong");
    // After the UDP timeout the flow is gone, and a late reply is refused.
    let late = Instant(200_000);
    assert_eq!(gw.expire(late).len(), 1);
    assert!(gw.from_host(out.reversed(), None, late).is_err());
    assert_eq!(gw.drops().get(DropKind::NatRefused), 1);
}

#[test]
fn a_udp_datagram_with_a_wrong_checksum_is_dropped() {
    let mut gw = gateway();
    let mut frame = udp_from_guest(5000, REMOTE, 7, b"ping");
    let last = frame.len() - 1;
    frame[last] ^= 0x40;
    assert_eq!(
        dropped(gw.from_guest(&frame, T0)),
        GuestDrop::BadChecksum { proto: Proto::Udp }
    );
    assert!(
        gw.nat().conntrack().is_empty(),
        "no flow for a corrupt datagram"
    );
}

#[test]
fn a_syn_with_a_wrong_checksum_opens_no_flow() {
    let mut gw = gateway();
    let mut frame = tcp_from_guest(40_000, GW, 8000, Seg::Syn, b"");
    let last = frame.len() - 1;
    frame[last] ^= 0x40;
    assert_eq!(
        dropped(gw.from_guest(&frame, T0)),
        GuestDrop::BadChecksum { proto: Proto::Tcp }
    );
    assert!(gw.nat().conntrack().is_empty(), "no flow for a corrupt SYN");
}

#[test]
fn dns_queries_to_10_0_2_3_go_to_the_hosts_resolver_and_the_answer_comes_from_there() {
    let mut gw = gateway();
    lease(&mut gw, T0);
    let frame = udp_from_guest(33000, DNS, 53, b"query");
    let Verdict::Dns(q) = gw.from_guest(&frame, T0) else {
        panic!("not DNS")
    };
    assert_eq!(&frame[q.payload.clone()], b"query");
    assert!(gw.nat().conntrack().is_empty(), "the proxy answers itself");
    let ((src_mac, _), from, to, payload) =
        verified_udp(&gw.udp_to_guest(&q.query.reversed(), b"answer").unwrap());
    assert_eq!(src_mac, Mac(DNS_MAC));
    assert_eq!(from, SocketAddrV4::new(DNS.into(), 53));
    assert_eq!(to, SocketAddrV4::new(GUEST.into(), 33000));
    assert_eq!(payload, b"answer");
    let tcp = tcp_from_guest(33000, DNS, 53, Seg::Syn, b"");
    assert_eq!(
        dropped(gw.from_guest(&tcp, T0)),
        GuestDrop::NotDns {
            dns: DNS.into(),
            proto: Proto::Tcp,
            port: 53
        }
    );
}

#[test]
fn addresses_no_one_owns_are_unroutable() {
    let mut gw = gateway();
    for dst in [
        [10, 0, 2, 77],
        [255, 255, 255, 255],
        [224, 0, 0, 251],
        [127, 0, 0, 1],
    ] {
        let d = dropped(gw.from_guest(&udp_from_guest(5353, dst, 5353, b"x"), T0));
        assert_eq!(d, GuestDrop::Unroutable(dst.into()));
    }
    assert_eq!(gw.drops().get(DropKind::Unroutable), 4);
}

/// A host-side client at 127.0.0.1:50000 connecting to the host's `port`.
fn client_to(proto: Proto, port: u16) -> FlowKey {
    FlowKey {
        proto,
        src: Ipv4Addr::LOCALHOST,
        sport: 50000,
        dst: Ipv4Addr::LOCALHOST,
        dport: port,
    }
}

#[test]
fn a_udp_forward_round_trip_goes_through_the_table_both_ways() {
    let mut gw = gateway();
    lease(&mut gw, T0);
    gw.add_forward(PortForward::parse_qemu("udp:127.0.0.1:5353-:53").unwrap())
        .unwrap();
    let d = gw.from_host(client_to(Proto::Udp, 5353), None, T0).unwrap();
    let ((_, to_mac), from, to, payload) = verified_udp(&gw.udp_to_guest(&d.after, b"q").unwrap());
    assert_eq!(to_mac, Mac(GUEST_MAC));
    assert_eq!(
        (from.to_string(), to.to_string()),
        ("10.0.2.2:50000".into(), "10.0.2.15:53".into())
    );
    assert_eq!(payload, b"q");
    let answer = udp_from_guest(53, GW, 50000, b"a");
    let Verdict::Udp(b) = gw.from_guest(&answer, Instant(5)) else {
        panic!("not UDP")
    };
    assert_eq!(b.decision.dir, Dir::Reply);
    assert_eq!(
        b.decision.after.to_string(),
        "udp 127.0.0.1:5353 > 127.0.0.1:50000"
    );
    assert_eq!(&answer[b.payload], b"a");
}

#[test]
fn the_links_state_travels_as_json() {
    let mut gw = gateway();
    lease(&mut gw, T0);
    host_bound(gw.from_guest(&tcp_from_guest(40000, GW, 8000, Seg::Syn, b""), T0));
    gw.from_guest(&[0; 3], T0);
    let back: Gateway = serde_json::from_str(&serde_json::to_string(&gw).unwrap()).unwrap();
    assert_eq!(back.guest_ip(T0), Some(GUEST.into()));
    assert_eq!(back.nat().conntrack_lines(T0), gw.nat().conntrack_lines(T0));
    assert_eq!(back.drops(), gw.drops());
}

#[test]
fn a_port_forward_reaches_the_guests_dhcp_address_from_the_gateway() {
    let mut gw = gateway();
    let rule = PortForward::parse_vbox("shell,tcp,127.0.0.1,2323,,23").unwrap();
    gw.add_forward(rule.clone()).unwrap();
    let client = client_to(Proto::Tcp, 2323);
    assert_eq!(gw.forward_target(&rule, T0), None, "no lease yet");
    assert!(matches!(
        gw.from_host(client, Some(TcpFlags::SYN), T0),
        Err(GuestDrop::Nat(_))
    ));
    lease(&mut gw, T0);
    assert_eq!(
        gw.forward_target(&rule, T0),
        Some(SocketAddrV4::new(GUEST.into(), 23))
    );
    let d = gw.from_host(client, Some(TcpFlags::SYN), T0).unwrap();
    assert_eq!(d.rule.as_deref(), Some("shell"));
    assert_eq!(d.after.to_string(), "tcp 10.0.2.2:50000 > 10.0.2.15:23");
    // The guest's SYN-ACK belongs to that connection and goes back to the client.
    let b = host_bound(gw.from_guest(&tcp_from_guest(23, GW, 50000, Seg::SynAck, b""), T0));
    assert_eq!(b.decision.dir, Dir::Reply);
    assert_eq!(
        b.decision.after.to_string(),
        "tcp 127.0.0.1:2323 > 127.0.0.1:50000"
    );
    assert!(gw.nat().conntrack_lines(T0)[0].contains("SYN_RECV"));
}

#[test]
fn a_port_the_host_could_not_bind_is_replaced_and_never_chosen_again() {
    let mut gw = gateway();
    lease(&mut gw, T0);
    let b = host_bound(gw.from_guest(&tcp_from_guest(40000, REMOTE, 80, Seg::Syn, b""), T0));
    assert_eq!(b.decision.after.sport, 40000);
    let again = gw.port_in_use(&b.decision, b.flags, T0).unwrap();
    assert_ne!(again.after.sport, 40000);
    assert_eq!(
        gw.nat().conntrack().len(),
        1,
        "the refused mapping is forgotten"
    );
    let entry = &gw.nat().conntrack().entries()[0];
    assert_eq!(
        entry.reply.dport, again.after.sport,
        "the table shows the new port"
    );
    let other = host_bound(gw.from_guest(
        &tcp_from_guest(40000, [198, 51, 100, 8], 80, Seg::Syn, b""),
        T0,
    ));
    assert_ne!(other.decision.after.sport, 40000);
}

#[test]
fn a_syn_flood_past_the_tables_limit_is_dropped_and_counted() {
    let mut config = GatewayConfig::virtualbox(HOST);
    config.nat.max_entries = 8;
    let mut gw = Gateway::new(config);
    let mut admitted = 0;
    for port in 0..20u16 {
        match gw.from_guest(&tcp_from_guest(30000 + port, REMOTE, 80, Seg::Syn, b""), T0) {
            Verdict::Tcp(_) => admitted += 1,
            Verdict::Drop(d) => assert_eq!(d.kind(), DropKind::NatTableFull),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(admitted, 8);
    assert_eq!(gw.nat().conntrack().len(), 8);
    assert_eq!(gw.drops().get(DropKind::NatTableFull), 12);
}

#[test]
fn malformed_frames_are_dropped_per_reason() {
    let mut gw = gateway();
    let good = udp_from_guest(5000, REMOTE, 7, b"ping");
    let mut foreign = good.clone();
    foreign[0..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 9]);
    let mut group_src = good.clone();
    group_src[6] = 0x01;
    let mut ipv6 = good.clone();
    ipv6[12..14].copy_from_slice(&[0x86, 0xdd]);
    let mut bad_ip_sum = good.clone();
    bad_ip_sum[14 + 10] ^= 0xff;
    let mut fragment = good.clone();
    fragment[14 + 6] = 0x20;
    let cases: Vec<(Vec<u8>, DropKind)> = vec![
        (good[..10].to_vec(), DropKind::FrameTooShort),
        (vec![0; MAX_FRAME_FOR_TESTS + 1], DropKind::FrameTooLong),
        (foreign, DropKind::ForeignMac),
        (group_src, DropKind::GroupSource),
        (ipv6, DropKind::EtherType),
        (good[..30].to_vec(), DropKind::IpTruncated),
        (bad_ip_sum, DropKind::IpBadChecksum),
        (fragment, DropKind::IpFragment),
    ];
    for (frame, kind) in &cases {
        assert_eq!(dropped(gw.from_guest(frame, T0)).kind(), *kind);
    }
    assert_eq!(gw.drops().total(), cases.len() as u64);
    assert_eq!(gw.drops().get(DropKind::IpBadChecksum), 1);
}

const MAX_FRAME_FOR_TESTS: usize = ethernet::MAX_FRAME;

/// Valid frames of every kind the gateway handles.
fn valid_frames() -> Vec<Vec<u8>> {
    vec![
        arp_frame(ArpOperation::REQUEST, GUEST_MAC, GUEST, GW),
        dhcp_frame(&dhcp_message(1, &[])),
        dhcp_frame(&dhcp_message(3, &[(50, &GUEST), (54, &GW)])),
        ping_from_guest(GW, 1, 1, b"data"),
        tcp_from_guest(40000, GW, 8000, Seg::Syn, b""),
        tcp_from_guest(40000, REMOTE, 80, Seg::Syn, b"payload"),
        udp_from_guest(33000, DNS, 53, b"query"),
        udp_from_guest(5000, REMOTE, 7, b"datagram"),
    ]
}

#[test]
fn every_truncation_of_a_valid_frame_is_dropped_cleanly() {
    for frame in valid_frames() {
        for len in 0..frame.len() {
            let mut gw = gateway();
            let v = gw.from_guest(&frame[..len], T0);
            assert!(
                matches!(v, Verdict::Drop(_)),
                "{len} of {}: {v:?}",
                frame.len()
            );
            assert_eq!(gw.drops().total(), 1);
        }
        assert!(!matches!(
            gateway().from_guest(&frame, T0),
            Verdict::Drop(_)
        ));
    }
}

/// Checks the invariant: exactly one verdict, and a drop counted exactly when there is one.
fn one_verdict_and_counted(gw: &mut Gateway, frame: &[u8]) -> Result<(), TestCaseError> {
    let before = gw.drops().total();
    let v = gw.from_guest(frame, T0);
    let counted = gw.drops().total() - before;
    prop_assert_eq!(counted, u64::from(matches!(v, Verdict::Drop(_))));
    if let Verdict::Reply(f) = &v {
        prop_assert!(PacketHeaders::from_ethernet_slice(f).is_ok());
    }
    if let Verdict::Tcp(b) | Verdict::Udp(b) = &v {
        prop_assert!(b.ip.end <= frame.len() && b.payload.end <= b.ip.end);
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_bytes_as_a_guest_frame_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut gw = gateway();
        one_verdict_and_counted(&mut gw, &bytes)?;
    }

    #[test]
    fn mutated_valid_frames_never_panic(which in 0usize..8, at in 0usize..400, val: u8, cut in 0usize..4) {
        let mut frame = valid_frames().swap_remove(which);
        if at < frame.len() {
            frame[at] = val;
        }
        frame.truncate(frame.len().saturating_sub(cut));
        let mut gw = gateway();
        lease(&mut gw, T0);
        one_verdict_and_counted(&mut gw, &frame)?;
    }

    #[test]
    fn any_dhcp_payload_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300), kind in 0u8..10) {
        let mut gw = gateway();
        let mut message = dhcp_message(kind, &[]);
        message.truncate(240);
        message.extend_from_slice(&body);
        one_verdict_and_counted(&mut gw, &dhcp_frame(&message))?;
    }

    /// Any sequence of client messages from a few clients keeps the leases within the pool:
    /// each address held at most once, only pool addresses, never the engine's own.
    #[test]
    fn dhcp_leases_stay_within_the_pool(
        steps in proptest::collection::vec((1u8..9, 0u8..3, 0u8..4, 0u64..200_000), 1..40),
    ) {
        use super::dhcp::{DhcpRequest, DhcpService};
        let mut config = GatewayConfig::virtualbox(HOST);
        config.dhcp.last = Ipv4Addr::new(10, 0, 2, 16);
        let mut server = DhcpService::new(config.dhcp.clone(), config.network.netmask(), LEASE_TIME);
        let mut now = T0;
        for (kind, client, ask, later) in steps {
            now = Instant(now.0 + later);
            let mut message = dhcp_message(kind, &[]);
            message[33] = client;
            let asked = [None, Some([10, 0, 2, 15]), Some([10, 0, 2, 16]), Some(GW)][ask as usize];
            if let Some(ip) = asked {
                message.pop();
                message.extend_from_slice(&[50, 4]);
                message.extend_from_slice(&ip);
                message.push(255);
            }
            let Ok(req) = DhcpRequest::parse(&message) else { continue };
            let _ = server.handle(&req, now);
            let held: Vec<Ipv4Addr> = server.leases().iter().map(|l| l.ip).collect();
            let mut unique = held.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), held.len(), "an address leased twice: {:?}", held);
            for ip in held {
                prop_assert!(ip == Ipv4Addr::new(10, 0, 2, 15) || ip == Ipv4Addr::new(10, 0, 2, 16));
            }
        }
    }
}
