//! The packets the simulator moves: IPv4 with TCP, UDP or ICMP, a TTL and a payload label.
//!
//! A [`Packet`] prints like tcpdump: `10.0.2.15.40000 > 8.8.8.8.53: UDP "dns query"`.
//! ICMP errors quote the header of the packet that caused them, as real routers do (RFC 792),
//! so a NAT can translate the quote back.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// The transport protocol, with its IP protocol number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// ICMP, protocol 1.
    Icmp,
    /// TCP, protocol 6.
    Tcp,
    /// UDP, protocol 17.
    Udp,
}

impl Proto {
    /// The IP protocol number.
    pub const fn number(self) -> u8 {
        match self {
            Proto::Icmp => 1,
            Proto::Tcp => 6,
            Proto::Udp => 17,
        }
    }

    /// The protocol for an IP protocol number, if the engine knows it.
    pub const fn from_number(n: u8) -> Option<Proto> {
        match n {
            1 => Some(Proto::Icmp),
            6 => Some(Proto::Tcp),
            17 => Some(Proto::Udp),
            _ => None,
        }
    }

    /// Lower-case name, as conntrack prints it.
    pub const fn name(self) -> &'static str {
        match self {
            Proto::Icmp => "icmp",
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Proto {
    type Err = String;
    fn from_str(s: &str) -> Result<Proto, String> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            "icmp" => Ok(Proto::Icmp),
            other => Err(format!(
                "unknown protocol {other:?}: expected tcp, udp or icmp"
            )),
        }
    }
}

/// TCP flags, as a bit set (the on-the-wire bit positions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN: no more data from the sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN: synchronize sequence numbers (open).
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST: reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH: push.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK: the acknowledgement field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);

    /// Whether every flag in `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets together.
    pub const fn with(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | other.0)
    }

    /// Parses tcpdump's letters (`S`, `SA`, `F.`, `R`, `P.`); `.` and `A` both mean ACK.
    pub fn parse(s: &str) -> Result<TcpFlags, String> {
        let mut f = TcpFlags::default();
        for c in s.chars() {
            f = f.with(match c.to_ascii_uppercase() {
                'S' => TcpFlags::SYN,
                'F' => TcpFlags::FIN,
                'R' => TcpFlags::RST,
                'P' => TcpFlags::PSH,
                'A' | '.' => TcpFlags::ACK,
                other => {
                    return Err(format!(
                        "unknown TCP flag {other:?} in {s:?}: expected letters from S F R P A (or . for ACK)"
                    ))
                }
            });
        }
        Ok(f)
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump style: `[S]`, `[S.]`, `[F.]`, `[R.]`, `[P.]`, `[.]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (flag, letter) in [
            (TcpFlags::SYN, "S"),
            (TcpFlags::FIN, "F"),
            (TcpFlags::PSH, "P"),
            (TcpFlags::RST, "R"),
        ] {
            if self.contains(flag) {
                f.write_str(letter)?;
            }
        }
        if self.contains(TcpFlags::ACK) {
            f.write_str(".")?;
        }
        if self.0 == 0 {
            f.write_str("none")?;
        }
        f.write_str("]")
    }
}

/// Why an ICMP destination-unreachable was sent (RFC 792 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unreachable {
    /// Code 0: no route to the destination network.
    Net,
    /// Code 1: the destination host did not answer on its link (no ARP reply).
    Host,
    /// Code 3: nothing listens on the destination UDP port.
    Port,
    /// Code 13: administratively prohibited (a filter dropped it).
    Prohibited,
}

impl Unreachable {
    /// The ICMP code.
    pub const fn code(self) -> u8 {
        match self {
            Unreachable::Net => 0,
            Unreachable::Host => 1,
            Unreachable::Port => 3,
            Unreachable::Prohibited => 13,
        }
    }
}

/// The address-and-port header of a packet, as an ICMP error quotes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quoted {
    /// Protocol of the quoted packet.
    pub proto: Proto,
    /// Its source address.
    pub src: Ipv4Addr,
    /// Its source port (ICMP echo: the identifier).
    pub sport: u16,
    /// Its destination address.
    pub dst: Ipv4Addr,
    /// Its destination port (ICMP echo: the identifier).
    pub dport: u16,
}

/// The transport part of a packet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Transport {
    /// A TCP segment.
    Tcp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Flags.
        flags: TcpFlags,
    },
    /// A UDP datagram.
    Udp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
    },
    /// ICMP echo request (`ping`).
    EchoRequest {
        /// Identifier (what NAT uses as the "port").
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// ICMP echo reply.
    EchoReply {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// ICMP destination unreachable, quoting the offending packet.
    Unreachable {
        /// Why.
        why: Unreachable,
        /// The offending packet's header.
        quoted: Quoted,
    },
    /// ICMP time exceeded in transit (TTL reached zero), quoting the offending packet.
    TimeExceeded {
        /// The offending packet's header.
        quoted: Quoted,
    },
}

/// An IPv4 packet as the simulator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Packet {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live: decremented by every router; at zero the packet dies.
    pub ttl: u8,
    /// Transport header.
    pub transport: Transport,
    /// What the payload stands for ("dns query", "ssh"); printed in quotes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
}

/// Linux's default TTL (`net.ipv4.ip_default_ttl`).
pub const DEFAULT_TTL: u8 = 64;

impl Packet {
    /// A packet with the default TTL and no label.
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, transport: Transport) -> Packet {
        Packet {
            src,
            dst,
            ttl: DEFAULT_TTL,
            transport,
            label: String::new(),
        }
    }

    /// A UDP datagram.
    pub fn udp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> Packet {
        Packet::new(src, dst, Transport::Udp { sport, dport })
    }

    /// A TCP segment.
    pub fn tcp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, flags: TcpFlags) -> Packet {
        Packet::new(
            src,
            dst,
            Transport::Tcp {
                sport,
                dport,
                flags,
            },
        )
    }

    /// An ICMP echo request.
    pub fn ping(src: Ipv4Addr, dst: Ipv4Addr, id: u16, seq: u16) -> Packet {
        Packet::new(src, dst, Transport::EchoRequest { id, seq })
    }

    /// The same packet with a payload label.
    pub fn labelled(mut self, label: &str) -> Packet {
        self.label = label.to_string();
        self
    }

    /// The protocol.
    pub fn proto(&self) -> Proto {
        match self.transport {
            Transport::Tcp { .. } => Proto::Tcp,
            Transport::Udp { .. } => Proto::Udp,
            _ => Proto::Icmp,
        }
    }

    /// Source and destination "ports": TCP/UDP ports, the ICMP echo identifier for both, or
    /// `None` for ICMP errors (which belong to the connection they quote).
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.transport {
            Transport::Tcp { sport, dport, .. } | Transport::Udp { sport, dport } => {
                Some((sport, dport))
            }
            Transport::EchoRequest { id, .. } | Transport::EchoReply { id, .. } => Some((id, id)),
            Transport::Unreachable { .. } | Transport::TimeExceeded { .. } => None,
        }
    }

    /// Replaces the source port (or echo identifier).
    pub fn set_sport(&mut self, port: u16) {
        match &mut self.transport {
            Transport::Tcp { sport, .. } | Transport::Udp { sport, .. } => *sport = port,
            Transport::EchoRequest { id, .. } | Transport::EchoReply { id, .. } => *id = port,
            _ => {}
        }
    }

    /// Replaces the destination port (or echo identifier).
    pub fn set_dport(&mut self, port: u16) {
        match &mut self.transport {
            Transport::Tcp { dport, .. } | Transport::Udp { dport, .. } => *dport = port,
            Transport::EchoRequest { id, .. } | Transport::EchoReply { id, .. } => *id = port,
            _ => {}
        }
    }

    /// TCP flags, if this is TCP.
    pub fn tcp_flags(&self) -> Option<TcpFlags> {
        match self.transport {
            Transport::Tcp { flags, .. } => Some(flags),
            _ => None,
        }
    }

    /// Whether this is an ICMP error (which must never cause another one, RFC 1122 3.2.2).
    pub fn is_icmp_error(&self) -> bool {
        matches!(
            self.transport,
            Transport::Unreachable { .. } | Transport::TimeExceeded { .. }
        )
    }

    /// The header an ICMP error about this packet quotes.
    pub fn quote(&self) -> Quoted {
        let (sport, dport) = self.ports().unwrap_or((0, 0));
        Quoted {
            proto: self.proto(),
            src: self.src,
            sport,
            dst: self.dst,
            dport,
        }
    }
}

impl fmt::Display for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.proto {
            Proto::Icmp => write!(f, "icmp {} > {} id {}", self.src, self.dst, self.sport),
            p => write!(
                f,
                "{p} {}.{} > {}.{}",
                self.src, self.sport, self.dst, self.dport
            ),
        }
    }
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            Transport::Tcp {
                sport,
                dport,
                flags,
            } => write!(
                f,
                "{}.{sport} > {}.{dport}: Flags {flags}",
                self.src, self.dst
            )?,
            Transport::Udp { sport, dport } => {
                write!(f, "{}.{sport} > {}.{dport}: UDP", self.src, self.dst)?
            }
            Transport::EchoRequest { id, seq } => write!(
                f,
                "{} > {}: ICMP echo request, id {id}, seq {seq}",
                self.src, self.dst
            )?,
            Transport::EchoReply { id, seq } => write!(
                f,
                "{} > {}: ICMP echo reply, id {id}, seq {seq}",
                self.src, self.dst
            )?,
            Transport::Unreachable { why, quoted } => {
                let what = match why {
                    Unreachable::Net => format!("net {} unreachable", quoted.dst),
                    Unreachable::Host => format!("host {} unreachable", quoted.dst),
                    Unreachable::Port => {
                        format!(
                            "{} {} port {} unreachable",
                            quoted.dst, quoted.proto, quoted.dport
                        )
                    }
                    Unreachable::Prohibited => {
                        format!("host {} unreachable - admin prohibited", quoted.dst)
                    }
                };
                write!(f, "{} > {}: ICMP {what} [{quoted}]", self.src, self.dst)?
            }
            Transport::TimeExceeded { quoted } => write!(
                f,
                "{} > {}: ICMP time exceeded in-transit [{quoted}]",
                self.src, self.dst
            )?,
        }
        if self.ttl != DEFAULT_TTL {
            write!(f, " ttl {}", self.ttl)?;
        }
        if !self.label.is_empty() {
            write!(f, " {:?}", self.label)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_tcpdump() {
        let a = Ipv4Addr::new(10, 0, 2, 15);
        let b = Ipv4Addr::new(8, 8, 8, 8);
        assert_eq!(
            Packet::udp(a, 40000, b, 53).to_string(),
            "10.0.2.15.40000 > 8.8.8.8.53: UDP"
        );
        let syn = Packet::tcp(a, 40000, b, 443, TcpFlags::SYN.with(TcpFlags::ACK)).labelled("hi");
        assert_eq!(
            syn.to_string(),
            "10.0.2.15.40000 > 8.8.8.8.443: Flags [S.] \"hi\""
        );
        let mut p = Packet::ping(a, b, 7, 1);
        p.ttl = 1;
        assert_eq!(
            p.to_string(),
            "10.0.2.15 > 8.8.8.8: ICMP echo request, id 7, seq 1 ttl 1"
        );
    }

    #[test]
    fn flags_parse_tcpdump_letters() {
        assert_eq!(TcpFlags::parse("S."), Ok(TcpFlags(0x12)));
        assert_eq!(TcpFlags::parse("FA"), Ok(TcpFlags(0x11)));
        assert!(TcpFlags::parse("SX").is_err());
    }
}
