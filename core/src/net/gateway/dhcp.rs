//! The NAT engine's DHCP server (RFC 2131, options from RFC 2132): DISCOVER → OFFER,
//! REQUEST → ACK (or NAK when the guest asks for an address it cannot have), RELEASE and
//! DECLINE free the lease, INFORM gets the options without an address. The pool and the
//! options come from the core's model of VirtualBox's DHCP ([`DhcpServer`]).
//!
//! Parsing is strict and bounded: a BOOTREQUEST of at least the 236-byte fixed part and the
//! magic cookie, Ethernet addresses only, and an options walk in which every length is checked
//! against what is left before it is used; a message without an END option is refused.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::ethernet::Mac;
use crate::lang::particle::{eun_neun, i_ga};
use crate::lang::{Explain, Lang};
use crate::net::clock::{Duration, Instant};
use crate::net::vbox::DhcpServer;

/// The fixed BOOTP part (`op` to `file`).
const FIXED_LEN: usize = 236;
/// RFC 2131 §3: the magic cookie 99.130.83.99 that starts the options.
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// RFC 1542 §3.2.1: the smallest BOOTP message relays and old clients accept.
const MIN_MESSAGE: usize = 300;
/// The server's UDP port.
pub const SERVER_PORT: u16 = 67;
/// The client's UDP port.
pub const CLIENT_PORT: u16 = 68;
/// RFC 2131 §2: the flag a client sets when it cannot receive unicast before it has an address.
pub const BROADCAST_FLAG: u16 = 0x8000;
/// How long an offered address is held for the guest that was offered it.
const OFFER_HOLD: Duration = Duration::from_secs(60);

mod option {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS: u8 = 6;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const END: u8 = 255;
}

/// A DHCP message type (option 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// A client looks for servers.
    Discover,
    /// A server offers an address.
    Offer,
    /// A client asks for the offered (or its current) address.
    Request,
    /// A client found the address in use.
    Decline,
    /// The server grants the address.
    Ack,
    /// The server refuses the request.
    Nak,
    /// The client gives the address back.
    Release,
    /// A client with an address asks for the other options.
    Inform,
}

impl MessageType {
    fn from_code(code: u8) -> Option<MessageType> {
        Some(match code {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            _ => return None,
        })
    }

    /// The option 53 value.
    pub fn code(self) -> u8 {
        match self {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
        }
    }

    /// The name RFC 2131 gives it (`DHCPDISCOVER`, …).
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Discover => "DHCPDISCOVER",
            MessageType::Offer => "DHCPOFFER",
            MessageType::Request => "DHCPREQUEST",
            MessageType::Decline => "DHCPDECLINE",
            MessageType::Ack => "DHCPACK",
            MessageType::Nak => "DHCPNAK",
            MessageType::Release => "DHCPRELEASE",
            MessageType::Inform => "DHCPINFORM",
        }
    }
}

/// Why a DHCP message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhcpError {
    /// Shorter than the fixed part and the magic cookie.
    #[error("a message of {have} bytes is shorter than the 240 bytes of BOOTP's fixed part and the magic cookie")]
    Truncated {
        /// Bytes present.
        have: usize,
    },
    /// Not a BOOTREQUEST.
    #[error("op {0} is not BOOTREQUEST (1): only clients send to port 67")]
    NotRequest(u8),
    /// Not Ethernet addresses.
    #[error(
        "hardware type {htype} with {hlen}-byte addresses: only Ethernet (1, 6 bytes) is served"
    )]
    Hardware {
        /// `htype`.
        htype: u8,
        /// `hlen`.
        hlen: u8,
    },
    /// The options do not start with 99.130.83.99.
    #[error("the magic cookie is not 99.130.83.99")]
    BadCookie,
    /// An option's length runs past the message.
    #[error("option {code} runs past the end of the message")]
    OptionOverrun {
        /// The option code.
        code: u8,
    },
    /// An option has a length its meaning does not allow.
    #[error("option {code} is {len} bytes long, expected {expected}")]
    OptionLength {
        /// The option code.
        code: u8,
        /// Its length.
        len: usize,
        /// The length it must have.
        expected: usize,
    },
    /// The options have no END (255).
    #[error("the options do not end with END (255)")]
    NoEnd,
    /// No option 53.
    #[error("no message type (option 53): a BOOTP message, not DHCP")]
    NoMessageType,
    /// Option 53 holds an unknown value.
    #[error("message type {0} is not one RFC 2132 defines (1-8)")]
    UnknownMessageType(u8),
    /// A server's message sent by the guest.
    #[error("{} is a server's message; a client does not send it", .0.name())]
    NotFromClient(MessageType),
    /// No address is left to offer.
    #[error("no free address in the pool {first}-{last}")]
    PoolExhausted {
        /// The pool's first address.
        first: Ipv4Addr,
        /// The pool's last address.
        last: Ipv4Addr,
    },
}

impl Explain for DhcpError {
    fn explain_in(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            DhcpError::Truncated { have } => format!(
                "{have}바이트 메시지는 BOOTP 고정부와 매직 쿠키를 합친 240바이트보다 짧습니다"
            ),
            DhcpError::NotRequest(op) => format!(
                "op {} BOOTREQUEST(1)가 아닙니다: 67번 포트로는 클라이언트만 보냅니다",
                eun_neun(op)
            ),
            DhcpError::Hardware { htype, hlen } => {
                format!("하드웨어 타입 {htype}, 주소 {hlen}바이트: 이더넷(1, 6바이트)만 지원합니다")
            }
            DhcpError::BadCookie => "매직 쿠키가 99.130.83.99가 아닙니다".to_string(),
            DhcpError::OptionOverrun { code } => {
                format!("옵션 {} 메시지 끝을 넘어갑니다", i_ga(code))
            }
            DhcpError::OptionLength {
                code,
                len,
                expected,
            } => format!("옵션 {code}의 길이가 {len}바이트인데, {expected}바이트여야 합니다"),
            DhcpError::NoEnd => "옵션이 END(255)로 끝나지 않습니다".to_string(),
            DhcpError::NoMessageType => {
                "메시지 타입(옵션 53)이 없습니다: DHCP가 아닌 BOOTP 메시지입니다".to_string()
            }
            DhcpError::UnknownMessageType(t) => {
                format!(
                    "메시지 타입 {} RFC 2132가 정의한 값(1-8)이 아닙니다",
                    eun_neun(t)
                )
            }
            DhcpError::NotFromClient(kind) => format!(
                "{} 메시지는 서버가 보냅니다. 클라이언트는 보내지 않습니다",
                kind.name()
            ),
            DhcpError::PoolExhausted { first, last } => {
                format!("주소 풀 {first}-{last}에 남은 주소가 없습니다")
            }
        }
    }
}

/// A client's DHCP message, as far as the server reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpRequest {
    /// Option 53.
    pub kind: MessageType,
    /// The transaction id the reply must echo.
    pub xid: u32,
    /// The flags (the broadcast bit, 0x8000).
    pub flags: u16,
    /// The client's current address (RENEWING, INFORM, RELEASE), else 0.0.0.0.
    pub ciaddr: Ipv4Addr,
    /// The relay agent's address (0.0.0.0 on the NAT link).
    pub giaddr: Ipv4Addr,
    /// The client's MAC.
    pub chaddr: Mac,
    /// Option 50.
    pub requested: Option<Ipv4Addr>,
    /// Option 54: the server the client chose.
    pub server_id: Option<Ipv4Addr>,
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |x| u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
}

fn addr_option(code: u8, value: &[u8]) -> Result<Ipv4Addr, DhcpError> {
    match value {
        [a, b, c, d] => Ok(Ipv4Addr::new(*a, *b, *c, *d)),
        _ => Err(DhcpError::OptionLength {
            code,
            len: value.len(),
            expected: 4,
        }),
    }
}

impl DhcpRequest {
    /// Parses a UDP payload sent to port 67.
    pub fn parse(b: &[u8]) -> Result<DhcpRequest, DhcpError> {
        if b.len() < FIXED_LEN + MAGIC_COOKIE.len() {
            return Err(DhcpError::Truncated { have: b.len() });
        }
        if b[0] != 1 {
            return Err(DhcpError::NotRequest(b[0]));
        }
        if b[1] != 1 || b[2] != 6 {
            return Err(DhcpError::Hardware {
                htype: b[1],
                hlen: b[2],
            });
        }
        if b[FIXED_LEN..FIXED_LEN + 4] != MAGIC_COOKIE {
            return Err(DhcpError::BadCookie);
        }
        let mut chaddr = [0; 6];
        chaddr.copy_from_slice(&b[28..34]);
        let (mut kind, mut requested, mut server_id) = (None, None, None);
        let mut at = FIXED_LEN + 4;
        loop {
            let Some(&code) = b.get(at) else {
                return Err(DhcpError::NoEnd);
            };
            match code {
                option::PAD => {
                    at += 1;
                    continue;
                }
                option::END => break,
                _ => {}
            }
            let len = *b.get(at + 1).ok_or(DhcpError::OptionOverrun { code })? as usize;
            let value = b
                .get(at + 2..at + 2 + len)
                .ok_or(DhcpError::OptionOverrun { code })?;
            match code {
                option::MESSAGE_TYPE => {
                    let [t] = value else {
                        return Err(DhcpError::OptionLength {
                            code,
                            len,
                            expected: 1,
                        });
                    };
                    kind =
                        Some(MessageType::from_code(*t).ok_or(DhcpError::UnknownMessageType(*t))?);
                }
                option::REQUESTED_IP => requested = Some(addr_option(code, value)?),
                option::SERVER_ID => server_id = Some(addr_option(code, value)?),
                _ => {}
            }
            at += 2 + len;
        }
        Ok(DhcpRequest {
            kind: kind.ok_or(DhcpError::NoMessageType)?,
            xid: be32(b, 4),
            flags: u16::from_be_bytes([b[10], b[11]]),
            ciaddr: Ipv4Addr::from_bits(be32(b, 12)),
            giaddr: Ipv4Addr::from_bits(be32(b, 24)),
            chaddr: Mac(chaddr),
            requested,
            server_id,
        })
    }
}

/// A lease the server holds for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The client.
    pub mac: Mac,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Acknowledged (else only offered).
    pub bound: bool,
    /// When it runs out.
    pub expires: Instant,
}

/// The server's answer, to be sent to the client's MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpReply {
    /// OFFER, ACK or NAK.
    pub kind: MessageType,
    /// The client it goes to.
    pub chaddr: Mac,
    /// The BOOTP message (the UDP payload from port 67 to port 68).
    pub message: Vec<u8>,
}

/// The DHCP server of one NAT link: its model and its leases (at most one per pool address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpService {
    server: DhcpServer,
    netmask: Ipv4Addr,
    lease_time: Duration,
    leases: Vec<Lease>,
}

impl DhcpService {
    /// A server with `server`'s pool and options, announcing `netmask` and leases of
    /// `lease_time`.
    pub fn new(server: DhcpServer, netmask: Ipv4Addr, lease_time: Duration) -> DhcpService {
        DhcpService {
            server,
            netmask,
            lease_time,
            leases: Vec::new(),
        }
    }

    /// The server's model.
    pub fn server(&self) -> &DhcpServer {
        &self.server
    }

    /// The leases held, offered or bound.
    pub fn leases(&self) -> &[Lease] {
        &self.leases
    }

    /// The address bound to `mac` at `now`, if any.
    pub fn bound(&self, mac: Mac, now: Instant) -> Option<Ipv4Addr> {
        self.leases
            .iter()
            .find(|l| l.mac == mac && l.bound && l.expires > now)
            .map(|l| l.ip)
    }

    /// Handles a client's message: the reply to send, if any.
    pub fn handle(
        &mut self,
        req: &DhcpRequest,
        now: Instant,
    ) -> Result<Option<DhcpReply>, DhcpError> {
        match req.kind {
            MessageType::Discover => {
                let ip = self.offer_for(req.chaddr, now)?;
                Ok(Some(self.reply(MessageType::Offer, req, ip)))
            }
            MessageType::Request => Ok(self.request(req, now)),
            MessageType::Release | MessageType::Decline => {
                self.leases.retain(|l| l.mac != req.chaddr);
                Ok(None)
            }
            MessageType::Inform => Ok(Some(self.reply(
                MessageType::Ack,
                req,
                Ipv4Addr::UNSPECIFIED,
            ))),
            kind @ (MessageType::Offer | MessageType::Ack | MessageType::Nak) => {
                Err(DhcpError::NotFromClient(kind))
            }
        }
    }

    /// The address for `mac`: the one it holds, else the first free one of the pool, held
    /// for [`OFFER_HOLD`].
    fn offer_for(&mut self, mac: Mac, now: Instant) -> Result<Ipv4Addr, DhcpError> {
        self.leases.retain(|l| l.expires > now || l.mac == mac);
        if let Some(l) = self.leases.iter_mut().find(|l| l.mac == mac) {
            l.expires = l.expires.max(now.after(OFFER_HOLD));
            return Ok(l.ip);
        }
        let ip = self.free_address()?;
        self.leases.push(Lease {
            mac,
            ip,
            bound: false,
            expires: now.after(OFFER_HOLD),
        });
        Ok(ip)
    }

    /// The first free pool address. Only as many addresses as there are leases (and the
    /// server's own) can be taken, so the search looks at no more than that many plus one.
    fn free_address(&self) -> Result<Ipv4Addr, DhcpError> {
        let (first, last) = (self.server.first.to_bits(), self.server.last.to_bits());
        (first..=last)
            .take(self.leases.len() + 4)
            .map(Ipv4Addr::from_bits)
            .find(|&ip| self.is_free(ip))
            .ok_or(DhcpError::PoolExhausted {
                first: self.server.first,
                last: self.server.last,
            })
    }

    /// Whether `ip` is in the pool, not the server's own and held by no lease.
    fn is_free(&self, ip: Ipv4Addr) -> bool {
        let ours = [
            Some(self.server.server),
            self.server.gateway,
            self.server.dns,
        ];
        (self.server.first..=self.server.last).contains(&ip)
            && !ours.contains(&Some(ip))
            && !self.leases.iter().any(|l| l.ip == ip)
    }

    /// REQUEST: ACK when the address asked for is the one this client holds (or a free pool
    /// address it asks for after a reboot), NAK otherwise; silence when the client chose
    /// another server.
    fn request(&mut self, req: &DhcpRequest, now: Instant) -> Option<DhcpReply> {
        if req.server_id.is_some_and(|s| s != self.server.server) {
            return None;
        }
        let asked = req
            .requested
            .or((!req.ciaddr.is_unspecified()).then_some(req.ciaddr));
        self.leases
            .retain(|l| l.expires > now || l.mac == req.chaddr);
        let held = self.leases.iter().position(|l| l.mac == req.chaddr);
        let grant = match (asked, held) {
            (Some(ip), Some(i)) if self.leases[i].ip == ip => Some(i),
            (Some(ip), None) if self.is_free(ip) => {
                self.leases.push(Lease {
                    mac: req.chaddr,
                    ip,
                    bound: false,
                    expires: now,
                });
                Some(self.leases.len() - 1)
            }
            _ => None,
        };
        let Some(i) = grant else {
            return Some(self.reply(MessageType::Nak, req, Ipv4Addr::UNSPECIFIED));
        };
        let lease = &mut self.leases[i];
        lease.bound = true;
        lease.expires = now.after(self.lease_time);
        let ip = lease.ip;
        Some(self.reply(MessageType::Ack, req, ip))
    }

    /// A BOOTREPLY of `kind` to `req` giving `yiaddr`, with the options RFC 2131 table 3
    /// lists for it.
    fn reply(&self, kind: MessageType, req: &DhcpRequest, yiaddr: Ipv4Addr) -> DhcpReply {
        let mut m = vec![0u8; FIXED_LEN];
        m[0] = 2;
        m[1] = 1;
        m[2] = 6;
        m[4..8].copy_from_slice(&req.xid.to_be_bytes());
        m[10..12].copy_from_slice(&req.flags.to_be_bytes());
        if matches!(kind, MessageType::Ack) {
            m[12..16].copy_from_slice(&req.ciaddr.octets());
        }
        m[16..20].copy_from_slice(&yiaddr.octets());
        m[24..28].copy_from_slice(&req.giaddr.octets());
        m[28..34].copy_from_slice(&req.chaddr.0);
        m.extend_from_slice(&MAGIC_COOKIE);
        m.extend_from_slice(&[option::MESSAGE_TYPE, 1, kind.code()]);
        put_addr(&mut m, option::SERVER_ID, self.server.server);
        if kind != MessageType::Nak {
            if req.kind != MessageType::Inform {
                let secs = u32::try_from(self.lease_time.as_secs()).unwrap_or(u32::MAX);
                m.extend_from_slice(&[option::LEASE_TIME, 4]);
                m.extend_from_slice(&secs.to_be_bytes());
            }
            put_addr(&mut m, option::SUBNET_MASK, self.netmask);
            if let Some(gw) = self.server.gateway {
                put_addr(&mut m, option::ROUTER, gw);
            }
            if let Some(dns) = self.server.dns {
                put_addr(&mut m, option::DNS, dns);
            }
        }
        m.push(option::END);
        if m.len() < MIN_MESSAGE {
            m.resize(MIN_MESSAGE, option::PAD);
        }
        DhcpReply {
            kind,
            chaddr: req.chaddr,
            message: m,
        }
    }
}

fn put_addr(m: &mut Vec<u8>, code: u8, ip: Ipv4Addr) {
    m.extend_from_slice(&[code, 4]);
    m.extend_from_slice(&ip.octets());
}
