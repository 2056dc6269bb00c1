//! ICMP echo (RFC 792) answered by the NAT engine itself: a ping to the gateway or the DNS
//! address never leaves the link, as in VirtualBox and QEMU.

use std::net::Ipv4Addr;

use super::drops::GuestDrop;
use super::ethernet::Mac;
use super::ipv4::ipv4_frame;
use crate::net::packet::Proto;
use crate::net::wire::{checksum, ones_sum, WireError};

/// ICMP echo request's type.
const ECHO_REQUEST: u8 = 8;
/// ICMP echo reply's type.
const ECHO_REPLY: u8 = 0;

/// The echo reply frame to the echo request `message` (the ICMP message: type, code, checksum,
/// identifier, sequence, data) that `guest` sent to `ours`: same identifier, sequence and
/// data, type 0, checksums computed afresh. Refuses anything but a checksummed echo request.
pub fn echo_reply(
    macs: (Mac, Mac),
    ours: Ipv4Addr,
    guest: Ipv4Addr,
    message: &[u8],
) -> Result<Vec<u8>, GuestDrop> {
    match message.first() {
        Some(&ECHO_REQUEST) => {}
        Some(&t) => return Err(GuestDrop::Ip(WireError::IcmpType(t))),
        None => {
            return Err(GuestDrop::Ip(WireError::Truncated {
                what: "ICMP echo header",
                need: 8,
                have: 0,
            }))
        }
    }
    if message.len() < 8 {
        return Err(GuestDrop::Ip(WireError::Truncated {
            what: "ICMP echo header",
            need: 8,
            have: message.len(),
        }));
    }
    if ones_sum(message) != 0xffff {
        return Err(GuestDrop::BadChecksum { proto: Proto::Icmp });
    }
    ipv4_frame(macs, (ours, guest), Proto::Icmp, message.len(), |f| {
        let at = f.len();
        f.extend_from_slice(&[ECHO_REPLY, 0, 0, 0]);
        f.extend_from_slice(&message[4..]);
        let sum = checksum(&f[at..]);
        f[at + 2..at + 4].copy_from_slice(&sum.to_be_bytes());
    })
}
