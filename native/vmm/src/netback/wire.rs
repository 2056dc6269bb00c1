//! What the backend reads and writes of frames itself, with smoltcp's checked wire types
//! (the core's gateway handles everything else): the key and flags of a segment the engine
//! sends (for the NAT table), the ARP reply that tells the engine the guest's hardware
//! address, and the smoltcp `phy::Device` the engine reads guest frames from and writes its
//! frames to.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use labvisor_core::net::conntrack::FlowKey;
use labvisor_core::net::packet::Proto;
use smoltcp::phy::{self, Checksum, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, IpProtocol, Ipv4Packet, TcpPacket,
};

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

/// The key (as the guest sees it) and flags of a TCP segment the engine sends to the guest,
/// if the frame is one.
pub(super) fn tcp_key(frame: &[u8]) -> Option<(FlowKey, u8)> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.next_header() != IpProtocol::Tcp {
        return None;
    }
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    let key = FlowKey {
        proto: Proto::Tcp,
        src: ip.src_addr(),
        sport: tcp.src_port(),
        dst: ip.dst_addr(),
        dport: tcp.dst_port(),
    };
    Some((key, tcp_flags(&tcp)))
}

/// Whether `frame` is an ARP reply.
pub(super) fn is_arp_reply(frame: &[u8]) -> bool {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return false;
    };
    eth.ethertype() == EthernetProtocol::Arp
        && ArpPacket::new_checked(eth.payload())
            .is_ok_and(|arp| arp.operation() == ArpOperation::Reply)
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
        // The gateway has checked the IPv4 and TCP checksums of every segment it lets through:
        // the engine only computes its own.
        caps.checksum.ipv4 = Checksum::Tx;
        caps.checksum.tcp = Checksum::Tx;
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
