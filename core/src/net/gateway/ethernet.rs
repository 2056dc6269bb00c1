//! Ethernet II frames (IEEE 802.3 with a type field): the 14-byte header the NAT link's
//! frames carry, parsed without trusting a byte and emitted in front of a payload.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::drops::GuestDrop;

/// A MAC address, printed like `ip link` prints it (`52:54:00:12:35:02`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// `ff:ff:ff:ff:ff:ff`: every station on the link.
    pub const BROADCAST: Mac = Mac([0xff; 6]);

    /// Whether the group bit (the least significant bit of the first octet) is set: broadcast
    /// and multicast addresses, which no station may use as its source.
    pub const fn is_group(self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// The EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// The EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// The Ethernet II header's length.
pub const HEADER_LEN: usize = 14;
/// The longest frame the link accepts: the header and the largest IPv4 packet (65 535 bytes,
/// whatever MTU the guest was given).
pub const MAX_FRAME: usize = HEADER_LEN + 65_535;

/// An Ethernet II header as parsed: the payload is everything after byte 14.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetHeader {
    /// Where the frame goes.
    pub dst: Mac,
    /// Who sent it.
    pub src: Mac,
    /// What the payload is (only values of 1536 and up are types; smaller are 802.3 lengths).
    pub ethertype: u16,
}

impl EthernetHeader {
    /// Parses the header of `frame`, refusing a frame shorter than the header or longer than
    /// [`MAX_FRAME`].
    pub fn parse(frame: &[u8]) -> Result<EthernetHeader, GuestDrop> {
        if frame.len() > MAX_FRAME {
            return Err(GuestDrop::FrameTooLong {
                len: frame.len(),
                max: MAX_FRAME,
            });
        }
        let Some(h) = frame.first_chunk::<HEADER_LEN>() else {
            return Err(GuestDrop::FrameTooShort { len: frame.len() });
        };
        let mut dst = [0; 6];
        let mut src = [0; 6];
        dst.copy_from_slice(&h[0..6]);
        src.copy_from_slice(&h[6..12]);
        Ok(EthernetHeader {
            dst: Mac(dst),
            src: Mac(src),
            ethertype: u16::from_be_bytes([h[12], h[13]]),
        })
    }

    /// The 14 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0; HEADER_LEN];
        b[0..6].copy_from_slice(&self.dst.0);
        b[6..12].copy_from_slice(&self.src.0);
        b[12..14].copy_from_slice(&self.ethertype.to_be_bytes());
        b
    }

    /// A frame: this header followed by `payload`.
    pub fn frame(&self, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(HEADER_LEN + payload.len());
        f.extend_from_slice(&self.to_bytes());
        f.extend_from_slice(payload);
        f
    }
}
