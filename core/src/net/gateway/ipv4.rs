//! The IPv4 packets the gateway writes toward the guest: a plain 20-byte header (no options,
//! not fragmented) and UDP datagrams, each in an Ethernet frame, checksums computed with the
//! [`wire`](crate::net::wire) module's RFC 1071 code.

use std::net::{Ipv4Addr, SocketAddrV4};

use super::drops::GuestDrop;
use super::ethernet::{EthernetHeader, Mac, ETHERTYPE_IPV4, HEADER_LEN, MAX_FRAME};
use crate::net::packet::{Proto, DEFAULT_TTL};
use crate::net::wire::{checksum, transport_sum};

/// The header length of the packets the gateway writes.
pub const IPV4_HEADER_LEN: usize = 20;
/// A UDP header's length.
pub const UDP_HEADER_LEN: usize = 8;

/// Appends a 20-byte IPv4 header for a packet of `payload_len` bytes of `proto` from `src` to
/// `dst` (TTL 64, "don't fragment", identification 0 as RFC 6864 allows for atomic packets).
/// `payload_len` must leave the total within 65 535 bytes; callers check it.
fn put_ipv4_header(
    out: &mut Vec<u8>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: Proto,
    payload_len: usize,
) {
    let total = (IPV4_HEADER_LEN + payload_len) as u16;
    let start = out.len();
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0x40, 0, DEFAULT_TTL, proto.number(), 0, 0]);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    let sum = checksum(&out[start..]);
    out[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
}

/// An Ethernet frame from `src_mac` to `dst_mac` holding an IPv4 packet of `proto` from `src`
/// to `dst` whose payload `body` writes (given the packet's header start, so it can checksum).
/// Refuses a payload that does not fit one IPv4 packet.
pub(super) fn ipv4_frame(
    (src_mac, dst_mac): (Mac, Mac),
    (src, dst): (Ipv4Addr, Ipv4Addr),
    proto: Proto,
    payload_len: usize,
    body: impl FnOnce(&mut Vec<u8>),
) -> Result<Vec<u8>, GuestDrop> {
    let len = HEADER_LEN + IPV4_HEADER_LEN + payload_len;
    if len > MAX_FRAME {
        return Err(GuestDrop::FrameTooLong {
            len,
            max: MAX_FRAME,
        });
    }
    let mut frame = Vec::with_capacity(len);
    let eth = EthernetHeader {
        dst: dst_mac,
        src: src_mac,
        ethertype: ETHERTYPE_IPV4,
    };
    frame.extend_from_slice(&eth.to_bytes());
    put_ipv4_header(&mut frame, src, dst, proto, payload_len);
    body(&mut frame);
    Ok(frame)
}

/// An Ethernet frame carrying a UDP datagram from `src` to `dst` with `payload`, IPv4 and UDP
/// checksums right.
pub fn udp_frame(
    macs: (Mac, Mac),
    src: SocketAddrV4,
    dst: SocketAddrV4,
    payload: &[u8],
) -> Result<Vec<u8>, GuestDrop> {
    let udp_len = UDP_HEADER_LEN + payload.len();
    ipv4_frame(macs, (*src.ip(), *dst.ip()), Proto::Udp, udp_len, |f| {
        let at = f.len();
        f.extend_from_slice(&src.port().to_be_bytes());
        f.extend_from_slice(&dst.port().to_be_bytes());
        f.extend_from_slice(&(udp_len as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(payload);
        let mut sum = !transport_sum(*src.ip(), *dst.ip(), Proto::Udp, &f[at..]);
        // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
        if sum == 0 {
            sum = 0xffff;
        }
        f[at + 6..at + 8].copy_from_slice(&sum.to_be_bytes());
    })
}
