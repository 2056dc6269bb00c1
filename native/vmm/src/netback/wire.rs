//! The frames the backend handles, as smoltcp's checked wire types read them: what a guest
//! frame is (for the dispatcher in [`super`]), a UDP datagram built for the guest, and the
//! smoltcp `phy::Device` that the host-side TCP engine reads guest frames from and writes its
//! frames to.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use smoltcp::phy::{self, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, IpProtocol, Ipv4Packet, Ipv4Repr, TcpPacket, UdpPacket, UdpRepr,
};

/// A guest frame, classified. Parsing checks every length and the IPv4 and UDP checksums;
/// TCP's is checked by smoltcp when the frame reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum GuestFrame {
    /// An ARP packet: who asks about `target`, from which hardware address.
    Arp {
        sender_mac: [u8; 6],
        sender_ip: Ipv4Addr,
        target: Ipv4Addr,
        request: bool,
    },
    Tcp {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        sport: u16,
        dport: u16,
        flags: u8,
    },
    Udp {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        sport: u16,
        dport: u16,
        /// Offset and length of the payload within the frame.
        payload: (usize, usize),
    },
    /// An ICMP message to `dst`.
    Icmp { dst: Ipv4Addr },
    /// Anything else, with why it cannot go anywhere.
    Unusable(&'static str),
}

/// Reads a frame the guest sent.
pub(super) fn classify(frame: &[u8]) -> GuestFrame {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return GuestFrame::Unusable("truncated ethernet header");
    };
    match eth.ethertype() {
        EthernetProtocol::Arp => classify_arp(eth.payload()),
        EthernetProtocol::Ipv4 => classify_ipv4(frame),
        _ => GuestFrame::Unusable("not IPv4 or ARP"),
    }
}

fn classify_arp(payload: &[u8]) -> GuestFrame {
    let parsed = ArpPacket::new_checked(payload).and_then(|p| ArpRepr::parse(&p));
    match parsed {
        Ok(ArpRepr::EthernetIpv4 {
            operation,
            source_hardware_addr,
            source_protocol_addr,
            target_protocol_addr,
            ..
        }) => GuestFrame::Arp {
            sender_mac: source_hardware_addr.0,
            sender_ip: source_protocol_addr,
            target: target_protocol_addr,
            request: operation == ArpOperation::Request,
        },
        _ => GuestFrame::Unusable("malformed ARP"),
    }
}

fn classify_ipv4(frame: &[u8]) -> GuestFrame {
    let Ok(ip) = Ipv4Packet::new_checked(&frame[EthernetFrame::<&[u8]>::header_len()..]) else {
        return GuestFrame::Unusable("truncated or inconsistent IPv4 header");
    };
    if !ip.verify_checksum() {
        return GuestFrame::Unusable("bad IPv4 checksum");
    }
    if ip.more_frags() || ip.frag_offset() != 0 {
        return GuestFrame::Unusable("IPv4 fragment");
    }
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let ip_start = EthernetFrame::<&[u8]>::header_len();
    let payload_start = ip_start + usize::from(ip.header_len());
    match ip.next_header() {
        IpProtocol::Tcp => match TcpPacket::new_checked(ip.payload()) {
            Ok(tcp) => GuestFrame::Tcp {
                src,
                dst,
                sport: tcp.src_port(),
                dport: tcp.dst_port(),
                flags: tcp_flags(&tcp),
            },
            Err(_) => GuestFrame::Unusable("truncated TCP header"),
        },
        IpProtocol::Udp => match UdpPacket::new_checked(ip.payload()) {
            Ok(udp) if !udp.verify_checksum(&src.into(), &dst.into()) => {
                GuestFrame::Unusable("bad UDP checksum")
            }
            Ok(udp) => GuestFrame::Udp {
                src,
                dst,
                sport: udp.src_port(),
                dport: udp.dst_port(),
                payload: (payload_start + 8, udp.payload().len()),
            },
            Err(_) => GuestFrame::Unusable("truncated UDP header"),
        },
        IpProtocol::Icmp => GuestFrame::Icmp { dst },
        _ => GuestFrame::Unusable("an IP protocol the NAT does not carry"),
    }
}

/// TCP's flag byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10), as the core's
/// `TcpFlags` holds them.
fn tcp_flags(tcp: &TcpPacket<&[u8]>) -> u8 {
    [
        (tcp.fin(), 0x01),
        (tcp.syn(), 0x02),
        (tcp.rst(), 0x04),
        (tcp.psh(), 0x08),
        (tcp.ack(), 0x10),
    ]
    .iter()
    .filter(|(set, _)| *set)
    .fold(0, |acc, (_, bit)| acc | bit)
}

/// The TCP ports and flags of a frame the engine sends to the guest, if it is one.
pub(super) fn tcp_to_guest(frame: &[u8]) -> Option<(Ipv4Addr, u16, u16, u8)> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.next_header() != IpProtocol::Tcp {
        return None;
    }
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    Some((
        ip.src_addr(),
        tcp.src_port(),
        tcp.dst_port(),
        tcp_flags(&tcp),
    ))
}

/// A UDP datagram for the guest, from `from` to `to`, with its checksums.
pub(super) fn udp_frame(
    macs: ([u8; 6], [u8; 6]),
    from: (Ipv4Addr, u16),
    to: (Ipv4Addr, u16),
    payload: &[u8],
) -> Vec<u8> {
    let udp = UdpRepr {
        src_port: from.1,
        dst_port: to.1,
    };
    let ip = Ipv4Repr {
        src_addr: from.0,
        dst_addr: to.0,
        next_header: IpProtocol::Udp,
        payload_len: udp.header_len() + payload.len(),
        hop_limit: 64,
    };
    let eth = EthernetRepr {
        src_addr: EthernetAddress(macs.0),
        dst_addr: EthernetAddress(macs.1),
        ethertype: EthernetProtocol::Ipv4,
    };
    let mut bytes = vec![0u8; eth.buffer_len() + ip.buffer_len() + ip.payload_len];
    let mut frame = EthernetFrame::new_unchecked(&mut bytes[..]);
    eth.emit(&mut frame);
    let mut packet = Ipv4Packet::new_unchecked(frame.payload_mut());
    let caps = ChecksumCapabilities::default();
    ip.emit(&mut packet, &caps);
    let mut datagram = UdpPacket::new_unchecked(packet.payload_mut());
    udp.emit(
        &mut datagram,
        &from.0.into(),
        &to.0.into(),
        payload.len(),
        |buf| buf.copy_from_slice(payload),
        &caps,
    );
    bytes
}

/// An ARP reply saying `ip` is at `mac`, addressed to `to`: how the engine learns the guest's
/// hardware address without asking (it would drop frames while it asked).
pub(super) fn arp_reply(mac: [u8; 6], ip: Ipv4Addr, to: ([u8; 6], Ipv4Addr)) -> Vec<u8> {
    let arp = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Reply,
        source_hardware_addr: EthernetAddress(mac),
        source_protocol_addr: ip,
        target_hardware_addr: EthernetAddress(to.0),
        target_protocol_addr: to.1,
    };
    let eth = EthernetRepr {
        src_addr: EthernetAddress(mac),
        dst_addr: EthernetAddress(to.0),
        ethertype: EthernetProtocol::Arp,
    };
    let mut bytes = vec![0u8; eth.buffer_len() + arp.buffer_len()];
    let mut frame = EthernetFrame::new_unchecked(&mut bytes[..]);
    eth.emit(&mut frame);
    arp.emit(&mut ArpPacket::new_unchecked(frame.payload_mut()));
    bytes
}

/// smoltcp's view of the link: frames in from the guest, frames out to it.
pub(super) struct EngineWire {
    pub(super) rx: VecDeque<Vec<u8>>,
    pub(super) tx: Vec<Vec<u8>>,
    pub(super) mtu: usize,
}

impl phy::Device for EngineWire {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _: Instant) -> Option<(RxToken, TxToken<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((RxToken(frame), TxToken(&mut self.tx)))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu + EthernetFrame::<&[u8]>::header_len();
        caps.max_burst_size = None;
        caps
    }
}

pub(super) struct RxToken(Vec<u8>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

pub(super) struct TxToken<'a>(&'a mut Vec<Vec<u8>>);

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0u8; len];
        let r = f(&mut frame);
        self.0.push(frame);
        r
    }
}
