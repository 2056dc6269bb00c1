//! The hidden `net-hostile [SYNS [PORT]]` command: frames a well-behaved guest never sends,
//! for tests of the VMM's virtio-net device and NAT backend (which must drop and count each
//! one and keep working), then a flood of SYNs to the gateway, then a ping to show the
//! network still works.
//!
//! Bad descriptors (empty, shorter than the virtio header, 4 GiB long, outside guest RAM),
//! then bad frames in good descriptors (a runt, broken IPv4 headers, bad checksums, a UDP
//! length past its datagram, ARP replies claiming the gateway's address or with absurd
//! address lengths, a frame past the MTU).

use alloc::vec;
use alloc::vec::Vec;

use smoltcp::socket::tcp;
use smoltcp::wire::Ipv4Address;

use super::Stack;
use crate::hw::net::RawDescriptor;
use crate::kprintln;
use labvisor_guest_abi::virtio::net::HEADER_LEN;

const BROADCAST: [u8; 6] = [0xff; 6];
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const SECOND: u64 = 1_000_000_000;

/// The one's-complement sum of RFC 1071.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A virtio header (all zeros) and an Ethernet frame around `payload`.
fn frame(src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; HEADER_LEN];
    bytes.extend_from_slice(&BROADCAST);
    bytes.extend_from_slice(&src);
    bytes.extend_from_slice(&ethertype.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// An IPv4 header (correct checksum) and `payload`.
fn ipv4(src: Ipv4Address, dst: Ipv4Address, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut header = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, protocol, 0, 0];
    header[2..4].copy_from_slice(&total.to_be_bytes());
    header.extend_from_slice(&src.octets());
    header.extend_from_slice(&dst.octets());
    let sum = checksum(&header);
    header[10..12].copy_from_slice(&sum.to_be_bytes());
    header.extend_from_slice(payload);
    header
}

/// A TCP SYN from `port` to `dst_port` with a deliberately wrong checksum.
fn syn_with_bad_checksum(port: u16, dst_port: u16) -> Vec<u8> {
    let mut tcp = vec![0u8; 20];
    tcp[0..2].copy_from_slice(&port.to_be_bytes());
    tcp[2..4].copy_from_slice(&dst_port.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = 0x02;
    tcp[14..16].copy_from_slice(&1024u16.to_be_bytes());
    tcp[16..18].copy_from_slice(&0xbad0u16.to_be_bytes());
    tcp
}

/// An ARP reply saying `ip` is at `mac`, with `hardware_len`-byte hardware addresses.
fn arp_reply(mac: [u8; 6], ip: Ipv4Address, hardware_len: u8) -> Vec<u8> {
    let mut arp = vec![0, 1, 0x08, 0, hardware_len, 4, 0, 2];
    arp.extend_from_slice(&mac);
    arp.extend_from_slice(&ip.octets());
    arp.extend_from_slice(&BROADCAST);
    arp.extend_from_slice(&ip.octets());
    arp
}

/// The malformed frames, each with what it is and how its descriptor lies.
fn corpus(
    mac: [u8; 6],
    me: Ipv4Address,
    gateway: Ipv4Address,
) -> Vec<(&'static str, Vec<u8>, RawDescriptor)> {
    let good = frame(mac, ETHERTYPE_IPV4, &ipv4(me, gateway, 17, &[0; 8]));
    let mut ihl3 = ipv4(me, gateway, 17, &[0; 8]);
    ihl3[0] = 0x43;
    let mut too_long = ipv4(me, gateway, 17, &[0; 8]);
    too_long[2..4].copy_from_slice(&1400u16.to_be_bytes());
    let mut bad_sum = ipv4(me, gateway, 17, &[0; 8]);
    bad_sum[10] ^= 0xff;
    let udp_past_end = [0x9c, 0x40, 0, 53, 0x05, 0xdc, 0, 0];
    vec![
        (
            "an empty descriptor",
            good.clone(),
            RawDescriptor::Length(0),
        ),
        (
            "a descriptor shorter than the virtio header",
            good.clone(),
            RawDescriptor::Length(5),
        ),
        (
            "a 4 GiB descriptor",
            good.clone(),
            RawDescriptor::Length(u32::MAX),
        ),
        (
            "a buffer outside guest RAM",
            good,
            RawDescriptor::OutsideRam,
        ),
        (
            "a virtio header with no frame",
            vec![0; HEADER_LEN],
            RawDescriptor::AsIs,
        ),
        (
            "a 10-byte runt frame",
            vec![0xff; HEADER_LEN + 10],
            RawDescriptor::AsIs,
        ),
        (
            "an IPv4 header of 12 bytes (IHL 3)",
            frame(mac, ETHERTYPE_IPV4, &ihl3),
            RawDescriptor::AsIs,
        ),
        (
            "an IPv4 total length past the frame",
            frame(mac, ETHERTYPE_IPV4, &too_long),
            RawDescriptor::AsIs,
        ),
        (
            "an IPv4 header with a bad checksum",
            frame(mac, ETHERTYPE_IPV4, &bad_sum),
            RawDescriptor::AsIs,
        ),
        (
            "a TCP SYN with a bad checksum",
            frame(
                mac,
                ETHERTYPE_IPV4,
                &ipv4(me, gateway, 6, &syn_with_bad_checksum(40001, 80)),
            ),
            RawDescriptor::AsIs,
        ),
        (
            "a UDP length past its datagram",
            frame(mac, ETHERTYPE_IPV4, &ipv4(me, gateway, 17, &udp_past_end)),
            RawDescriptor::AsIs,
        ),
        (
            "an ARP reply claiming the gateway's address",
            frame(mac, ETHERTYPE_ARP, &arp_reply(mac, gateway, 6)),
            RawDescriptor::AsIs,
        ),
        (
            "an ARP packet with 200-byte hardware addresses",
            frame(mac, ETHERTYPE_ARP, &arp_reply(mac, gateway, 200)),
            RawDescriptor::AsIs,
        ),
        (
            "a 2000-byte frame (past the 1514 of MTU 1500)",
            frame(mac, ETHERTYPE_IPV4, &[0x45; 2000 - 14 - HEADER_LEN]),
            RawDescriptor::AsIs,
        ),
    ]
}

/// Runs the corpus and the flood; `rest` is `[SYNS [PORT]]` (defaults 1000 and 9).
pub fn run(stack: &mut Stack, rest: &str) {
    let args: Vec<&str> = rest.split_whitespace().collect();
    let syns = args.first().map_or(Some(1000), |a| a.parse::<u16>().ok());
    let port = args
        .get(1)
        .map_or(Some(9), |a| a.parse::<u16>().ok().filter(|&p| p != 0));
    let (Some(syns), Some(port)) = (syns, port) else {
        kprintln!("net-hostile: usage: net-hostile [SYNS (up to 65535) [PORT]]");
        return;
    };
    let Some(lease) = stack.wait_for_lease(3 * SECOND).cloned() else {
        kprintln!("net-hostile: no DHCP lease");
        return;
    };
    let Some(gateway) = lease.gateway else {
        kprintln!("net-hostile: the lease names no gateway");
        return;
    };
    let me = lease.address.address();
    let mac = stack.card().mac;
    let mut sent = 0;
    for (what, bytes, descriptor) in corpus(mac, me, gateway) {
        if stack.device.send_raw(&bytes, descriptor) {
            sent += 1;
            kprintln!("net-hostile: sent {what}");
        } else {
            kprintln!("net-hostile: the device kept every buffer; {what} was not sent");
        }
        stack.poll();
    }
    let flooded = syn_flood(stack, gateway, port, syns);
    kprintln!(
        "net-hostile: sent {sent} malformed frames and {flooded} SYNs to {gateway}:{port}; the network still works if the ping below answers"
    );
    super::commands::ping(stack, &alloc::format!("{gateway} 1"));
}

/// Opens `count` connections to `gateway:port` from distinct ports at once (a SYN each),
/// then abandons them all. Returns how many SYNs went out.
fn syn_flood(stack: &mut Stack, gateway: Ipv4Address, port: u16, count: u16) -> u32 {
    let mut handles = Vec::with_capacity(usize::from(count));
    for i in 0..count {
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; 64]),
            tcp::SocketBuffer::new(vec![0; 64]),
        );
        let local = 1024 + (i % 64000);
        if socket
            .connect(stack.iface.context(), (gateway, port), local)
            .is_ok()
        {
            handles.push(stack.sockets.add(socket));
        }
        if i % 32 == 31 {
            stack.poll();
        }
    }
    stack.poll_until(SECOND / 5, |_| false);
    for &handle in &handles {
        stack.sockets.get_mut::<tcp::Socket>(handle).abort();
    }
    stack.poll();
    for &handle in &handles {
        stack.sockets.remove(handle);
    }
    handles.len() as u32
}
