//! ARP for IPv4 over Ethernet (RFC 826): the 28-byte packet, parsed strictly and written back.
//! The gateway answers requests for its own addresses; what it answers is decided in
//! [`super::Gateway`], which knows the addresses.

use std::net::Ipv4Addr;

use super::drops::GuestDrop;
use super::ethernet::{Mac, ETHERTYPE_IPV4};

/// An ARP packet's length for Ethernet hardware and IPv4 protocol addresses.
pub const ARP_LEN: usize = 28;

/// Request or reply (RFC 826's `ar$op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpOp {
    /// "Who has `target_ip`? Tell `sender_ip`."
    Request,
    /// "`sender_ip` is at `sender_mac`."
    Reply,
}

/// An ARP packet for IPv4 over Ethernet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket {
    /// Request or reply.
    pub op: ArpOp,
    /// The sender's MAC.
    pub sender_mac: Mac,
    /// The sender's IPv4 address (0.0.0.0 in a probe, RFC 5227).
    pub sender_ip: Ipv4Addr,
    /// The target's MAC (ignored in a request).
    pub target_mac: Mac,
    /// The address asked about, or answered to.
    pub target_ip: Ipv4Addr,
}

fn mac_at(b: &[u8; ARP_LEN], at: usize) -> Mac {
    let mut m = [0; 6];
    m.copy_from_slice(&b[at..at + 6]);
    Mac(m)
}

fn ip_at(b: &[u8; ARP_LEN], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

impl ArpPacket {
    /// Parses the ARP packet at the start of `payload` (an Ethernet frame's payload, which may
    /// carry padding after it), refusing anything but Ethernet/IPv4 requests and replies.
    pub fn parse(payload: &[u8]) -> Result<ArpPacket, GuestDrop> {
        let Some(b) = payload.first_chunk::<ARP_LEN>() else {
            return Err(GuestDrop::BadArp("shorter than 28 bytes"));
        };
        if b[0..2] != [0, 1] {
            return Err(GuestDrop::BadArp("hardware type is not Ethernet (1)"));
        }
        if b[2..4] != ETHERTYPE_IPV4.to_be_bytes() {
            return Err(GuestDrop::BadArp("protocol type is not IPv4 (0x0800)"));
        }
        if b[4] != 6 || b[5] != 4 {
            return Err(GuestDrop::BadArp("address lengths are not 6 and 4"));
        }
        let op = match b[6..8] {
            [0, 1] => ArpOp::Request,
            [0, 2] => ArpOp::Reply,
            _ => {
                return Err(GuestDrop::BadArp(
                    "operation is neither request (1) nor reply (2)",
                ))
            }
        };
        Ok(ArpPacket {
            op,
            sender_mac: mac_at(b, 8),
            sender_ip: ip_at(b, 14),
            target_mac: mac_at(b, 18),
            target_ip: ip_at(b, 24),
        })
    }

    /// The 28 bytes.
    pub fn to_bytes(&self) -> [u8; ARP_LEN] {
        let mut b = [0; ARP_LEN];
        b[0..2].copy_from_slice(&[0, 1]);
        b[2..4].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        b[4] = 6;
        b[5] = 4;
        b[6..8].copy_from_slice(match self.op {
            ArpOp::Request => &[0, 1],
            ArpOp::Reply => &[0, 2],
        });
        b[8..14].copy_from_slice(&self.sender_mac.0);
        b[14..18].copy_from_slice(&self.sender_ip.octets());
        b[18..24].copy_from_slice(&self.target_mac.0);
        b[24..28].copy_from_slice(&self.target_ip.octets());
        b
    }

    /// The reply to this request from the owner of `target_ip`, whose MAC is `mac`.
    pub fn answer(&self, mac: Mac) -> ArpPacket {
        ArpPacket {
            op: ArpOp::Reply,
            sender_mac: mac,
            sender_ip: self.target_ip,
            target_mac: self.sender_mac,
            target_ip: self.sender_ip,
        }
    }
}
