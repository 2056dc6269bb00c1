//! # The NAT engine's own link: what a real VM's user-mode NAT decides, without doing I/O
//!
//! A VirtualBox NAT adapter (and QEMU's `-netdev user`) puts the guest on a private Ethernet
//! link, 10.0.2.0/24, whose other end is the NAT engine: the gateway 10.0.2.2 (which also
//! stands for the host's loopback), the DNS proxy 10.0.2.3 and a DHCP server that leases
//! 10.0.2.15. [`Gateway`] is that engine's sans-IO half: the VMM gives it every frame the guest
//! sends and every packet a host socket receives for the guest, with the time, and does what
//! it says. It never touches a socket.
//!
//! Reading top-down, as a guest frame meets it:
//!
//! - [`Gateway::from_guest`]: one frame in, one [`Verdict`] out: a frame to send back
//!   (ARP, DHCP, ping answered by the engine itself), a TCP segment or UDP datagram for the
//!   host (with the NAT table's [`Decision`]: the external port the host must bind and where
//!   to connect), a DNS query for the host's resolver, or a [`GuestDrop`], counted per
//!   [`DropKind`].
//! - [`Gateway::from_host`], [`Gateway::track_to_guest`], [`Gateway::udp_to_guest`]: the
//!   other way: a host socket's packet mapped through the same table (replies, port
//!   forwards), segments the host's TCP stack made for the guest, reply datagrams in frames.
//! - [`Gateway::port_in_use`]: the host could not bind the port the table chose; the table
//!   avoids it and chooses again, so the port the table shows is the port the host used.
//! - [`ethernet`], [`arp`] (RFC 826), [`dhcp`] (RFC 2131/2132), [`icmp`] (RFC 792 echo),
//!   [`ipv4`] (the packets the engine writes), [`pcap`] (libpcap files), [`drops`] (reasons and counters).
//!
//! Invariants: no input panics; every frame gets exactly one verdict and every drop is
//! counted; the guest can never claim the engine's addresses (ARP spoofing is dropped); the
//! NAT table ([`NatTable`], Linux's conntrack states and timeouts) admits, maps and expires
//! every TCP and UDP flow, and nothing else does.

pub mod arp;
pub mod dhcp;
pub mod drops;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod pcap;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::Range;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use self::arp::{ArpOp, ArpPacket};
use self::dhcp::{DhcpRequest, DhcpService};
pub use self::drops::{DropCounts, DropKind, GuestDrop};
pub use self::ethernet::Mac;
use self::ethernet::{EthernetHeader, ETHERTYPE_ARP, ETHERTYPE_IPV4, HEADER_LEN};
use super::clock::{Duration, Instant};
use super::conntrack::{Entry, FlowKey};
use super::forward::{ForwardConflict, PortForward};
use super::nat::{Behavior, Decision, NatConfig, NatTable};
use super::packet::{Proto, TcpFlags};
use super::vbox::{nat_network_for_adapter, DhcpServer};
use super::wire::{self, be16, transport_sum, Parsed};

/// The first five octets of the NAT engine's MACs; the sixth is the last octet of the address
/// it answers for, so 10.0.2.2 is at 52:54:00:12:35:02 and 10.0.2.3 at 52:54:00:12:35:03.
/// Source: VirtualBox, `src/VBox/Devices/Network/slirp/slirp.c` (`special_ethaddr`
/// 52:54:00:12:35:00; its ARP reply sets the last byte to the target address's last octet).
pub const ENGINE_MAC_PREFIX: [u8; 5] = [0x52, 0x54, 0x00, 0x12, 0x35];

/// The MAC the NAT engine answers ARP with for its address `ip`.
pub fn engine_mac(ip: Ipv4Addr) -> Mac {
    let [a, b, c, d, e] = ENGINE_MAC_PREFIX;
    Mac([a, b, c, d, e, ip.octets()[3]])
}

/// How long a DHCP lease lasts: one day, as VirtualBox's and QEMU's slirp (`bootp.c`,
/// `LEASE_TIME`) grant.
pub const LEASE_TIME: Duration = Duration::from_secs(24 * 3600);

/// A NAT link's layout and policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayConfig {
    /// The link's network (10.0.2.0/24).
    pub network: Ipv4Net,
    /// The DHCP model: the engine's address (the gateway), the pool, the DNS address.
    pub dhcp: DhcpServer,
    /// The host's address toward remote destinations: the NAT's external address in the
    /// table for flows that do not go to the host's loopback.
    pub host_addr: Ipv4Addr,
    /// Whether the gateway's address reaches the host's loopback (VirtualBox and QEMU: yes).
    /// Off, a guest cannot reach services that listen on the host's 127.0.0.1 only.
    pub host_loopback: bool,
    /// DHCP lease time.
    pub lease_time: Duration,
    /// The NAT table's behaviour.
    pub nat: NatConfig,
}

impl GatewayConfig {
    /// VirtualBox's first NAT adapter: 10.0.2.0/24, gateway .2, DNS .3, the guest at .15, a
    /// day's lease, host loopback on. The table maps address-and-port-dependently and keeps
    /// source ports when free, so every flow has an external port of its own: one host socket
    /// per flow, bound to exactly the port the table shows.
    pub fn virtualbox(host_addr: Ipv4Addr) -> GatewayConfig {
        let network = nat_network_for_adapter(1).unwrap_or_default();
        GatewayConfig {
            network,
            dhcp: DhcpServer::nat_adapter(network),
            host_addr,
            host_loopback: true,
            lease_time: LEASE_TIME,
            nat: NatConfig {
                mapping: Behavior::AddressAndPortDependent,
                filtering: Behavior::AddressAndPortDependent,
                hairpin: false,
                ..NatConfig::default()
            },
        }
    }
}

/// What the host side must do with one guest frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The engine answered (ARP, DHCP, ping): send this frame to the guest.
    Reply(Vec<u8>),
    /// Taken in, nothing to send (an ARP reply or announcement, a DHCP release).
    Consumed,
    /// A TCP segment for the host's TCP stack.
    Tcp(HostBound),
    /// A UDP datagram for the host socket of its flow.
    Udp(HostBound),
    /// A DNS query for the host's resolver; answer with [`Gateway::udp_to_guest`] on
    /// `query.reversed()`.
    Dns(DnsQuery),
    /// Dropped, and counted.
    Drop(GuestDrop),
}

/// A guest TCP segment or UDP datagram, as the NAT table decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostBound {
    /// The table's decision: `before` as the guest sent it, `after` as it leaves the host
    /// (source: the external address and port the host binds; destination: where it
    /// connects). `dir` is [`Dir::Reply`](super::conntrack::Dir::Reply) for a guest answering
    /// a port-forwarded connection; `created` marks a new flow.
    pub decision: Decision,
    /// TCP flags.
    pub flags: Option<TcpFlags>,
    /// Where the IPv4 packet is in the frame (what a host TCP stack takes in).
    pub ip: Range<usize>,
    /// Where the TCP or UDP payload is in the frame.
    pub payload: Range<usize>,
}

/// A DNS query to the engine's DNS address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuery {
    /// The query's key as the guest sent it.
    pub query: FlowKey,
    /// Where the DNS message is in the frame.
    pub payload: Range<usize>,
}

/// A VirtualBox-style NAT engine's link state: its DHCP leases, the guest's MAC, the NAT
/// table and the drop counters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gateway {
    config: GatewayConfig,
    dhcp: DhcpService,
    nat: NatTable,
    guest_mac: Option<Mac>,
    drops: DropCounts,
}

impl Gateway {
    /// A link with no guest seen yet.
    pub fn new(config: GatewayConfig) -> Gateway {
        Gateway {
            dhcp: DhcpService::new(
                config.dhcp.clone(),
                config.network.netmask(),
                config.lease_time,
            ),
            nat: NatTable::new(config.nat.clone()),
            guest_mac: None,
            drops: DropCounts::default(),
            config,
        }
    }

    /// Hashes the NAT's tables with `seed` (the VMM's random one per VM; see
    /// [`NatTable::with_hash_seed`]).
    pub fn with_hash_seed(mut self, seed: u64) -> Gateway {
        self.nat = self.nat.with_hash_seed(seed);
        self
    }

    /// The layout and policy.
    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    /// The NAT table (print it with `conntrack_lines` and `cisco_rows`).
    pub fn nat(&self) -> &NatTable {
        &self.nat
    }

    /// The DHCP server and its leases.
    pub fn dhcp(&self) -> &DhcpService {
        &self.dhcp
    }

    /// Drops so far, per reason.
    pub fn drops(&self) -> &DropCounts {
        &self.drops
    }

    /// The guest's MAC, learned from its frames.
    pub fn guest_mac(&self) -> Option<Mac> {
        self.guest_mac
    }

    /// The gateway's address (10.0.2.2), the engine's DHCP server address.
    pub fn gateway_ip(&self) -> Ipv4Addr {
        self.config.dhcp.server
    }

    /// The DNS proxy's address (10.0.2.3), if the link has one.
    pub fn dns_ip(&self) -> Option<Ipv4Addr> {
        self.config.dhcp.dns
    }

    /// The guest's address: its DHCP lease at `now`.
    pub fn guest_ip(&self, now: Instant) -> Option<Ipv4Addr> {
        self.dhcp.bound(self.guest_mac?, now)
    }

    /// Adds a port-forwarding rule to the table, unless it conflicts with one there.
    pub fn add_forward(&mut self, rule: PortForward) -> Result<(), ForwardConflict> {
        self.nat.add_forward(rule)
    }

    /// Where `rule` sends connections at `now`: its guest address, or the guest's DHCP
    /// address when the rule leaves it empty (VirtualBox's `--natpf1 "ssh,tcp,,2222,,22"`).
    pub fn forward_target(&self, rule: &PortForward, now: Instant) -> Option<SocketAddrV4> {
        let ip = rule.guest_ip.or_else(|| self.guest_ip(now))?;
        Some(SocketAddrV4::new(ip, rule.guest_port))
    }

    /// Whether `ip` is one of the engine's own addresses.
    fn is_ours(&self, ip: Ipv4Addr) -> bool {
        ip == self.gateway_ip() || Some(ip) == self.dns_ip()
    }

    /// Whether `mac` is one of the engine's MACs.
    fn is_engine_mac(&self, mac: Mac) -> bool {
        mac == engine_mac(self.gateway_ip()) || self.dns_ip().is_some_and(|d| mac == engine_mac(d))
    }

    /// Handles one frame from the guest.
    pub fn from_guest(&mut self, frame: &[u8], now: Instant) -> Verdict {
        match self.classify(frame, now) {
            Ok(v) => v,
            Err(d) => {
                self.drops.count(d.kind());
                Verdict::Drop(d)
            }
        }
    }

    fn classify(&mut self, frame: &[u8], now: Instant) -> Result<Verdict, GuestDrop> {
        let eth = EthernetHeader::parse(frame)?;
        if eth.src.is_group() {
            return Err(GuestDrop::GroupSource { src: eth.src });
        }
        if !eth.dst.is_group() && !self.is_engine_mac(eth.dst) {
            return Err(GuestDrop::ForeignMac { dst: eth.dst });
        }
        let payload = &frame[HEADER_LEN..];
        match eth.ethertype {
            ETHERTYPE_ARP => self.arp(&eth, payload),
            ETHERTYPE_IPV4 => self.ipv4(&eth, payload, now),
            t => Err(GuestDrop::EtherType(t)),
        }
    }

    /// Refuses a frame claiming the engine's address or MAC; otherwise learns the guest's MAC.
    fn check_source(&mut self, ip: Ipv4Addr, macs: [Mac; 2]) -> Result<(), GuestDrop> {
        if let Some(&mac) = macs.iter().find(|&&m| self.is_engine_mac(m)) {
            return Err(GuestDrop::Spoofed { ip, mac });
        }
        if self.is_ours(ip) {
            return Err(GuestDrop::Spoofed { ip, mac: macs[0] });
        }
        self.guest_mac = Some(macs[0]);
        Ok(())
    }

    fn arp(&mut self, eth: &EthernetHeader, payload: &[u8]) -> Result<Verdict, GuestDrop> {
        let arp = ArpPacket::parse(payload)?;
        self.check_source(arp.sender_ip, [eth.src, arp.sender_mac])?;
        match arp.op {
            ArpOp::Reply => Ok(Verdict::Consumed),
            ArpOp::Request if self.is_ours(arp.target_ip) => {
                let mac = engine_mac(arp.target_ip);
                let header = EthernetHeader {
                    dst: eth.src,
                    src: mac,
                    ethertype: ETHERTYPE_ARP,
                };
                Ok(Verdict::Reply(header.frame(&arp.answer(mac).to_bytes())))
            }
            // A probe (RFC 5227) or an announcement: no one else here may answer it.
            ArpOp::Request if arp.sender_ip.is_unspecified() || arp.sender_ip == arp.target_ip => {
                Ok(Verdict::Consumed)
            }
            ArpOp::Request => Err(GuestDrop::ArpNotOurs(arp.target_ip)),
        }
    }

    fn ipv4(
        &mut self,
        eth: &EthernetHeader,
        packet: &[u8],
        now: Instant,
    ) -> Result<Verdict, GuestDrop> {
        let p = wire::parse(packet).map_err(GuestDrop::Ip)?;
        self.check_source(p.key.src, [eth.src, eth.src])?;
        if self.is_for_engine(&p.key) {
            self.for_engine(eth, &packet[p.l4..p.len], &p, now)
        } else {
            self.through_host(&packet[p.l4..p.len], &p, now)
        }
    }

    /// DHCP (broadcast or to the server), pings, and anything for the DNS address: the engine
    /// answers these itself or hands them to its DNS proxy.
    fn is_for_engine(&self, k: &FlowKey) -> bool {
        let dhcp = k.proto == Proto::Udp
            && k.dport == dhcp::SERVER_PORT
            && (k.dst.is_broadcast() || k.dst == self.gateway_ip());
        dhcp || k.proto == Proto::Icmp || Some(k.dst) == self.dns_ip()
    }

    /// What [`Gateway::is_for_engine`] picked out, given the transport `segment`.
    fn for_engine(
        &mut self,
        eth: &EthernetHeader,
        segment: &[u8],
        p: &Parsed,
        now: Instant,
    ) -> Result<Verdict, GuestDrop> {
        let k = &p.key;
        match k.proto {
            Proto::Icmp if self.is_ours(k.dst) => {
                let macs = (engine_mac(k.dst), eth.src);
                icmp::echo_reply(macs, k.dst, k.src, segment).map(Verdict::Reply)
            }
            Proto::Icmp => Err(GuestDrop::IcmpElsewhere(k.dst)),
            Proto::Udp if k.dport == dhcp::SERVER_PORT && Some(k.dst) != self.dns_ip() => {
                check_udp(k, segment)?;
                self.dhcp_request(eth, udp_payload(segment)?, now)
            }
            Proto::Udp if k.dport == 53 => {
                check_udp(k, segment)?;
                let len = udp_payload(segment)?.len();
                let start = HEADER_LEN + p.l4 + 8;
                Ok(Verdict::Dns(DnsQuery {
                    query: *k,
                    payload: start..start + len,
                }))
            }
            proto => Err(GuestDrop::NotDns {
                dns: k.dst,
                proto,
                port: k.dport,
            }),
        }
    }

    /// A TCP segment or UDP datagram leaving through the host: the NAT table decides it.
    fn through_host(
        &mut self,
        segment: &[u8],
        p: &Parsed,
        now: Instant,
    ) -> Result<Verdict, GuestDrop> {
        let k = p.key;
        if self.unroutable(k.dst) {
            return Err(GuestDrop::Unroutable(k.dst));
        }
        let (ext, redirect) = if k.dst == self.gateway_ip() {
            if !self.config.host_loopback && !self.nat.tracks(&k, now) {
                return Err(GuestDrop::HostLoopbackOff(k.dst));
            }
            (Ipv4Addr::LOCALHOST, Some(Ipv4Addr::LOCALHOST))
        } else {
            (self.config.host_addr, None)
        };
        let opens = p.flags.is_some_and(|f| f.contains(TcpFlags::SYN));
        if k.proto == Proto::Tcp && !opens && !self.nat.tracks(&k, now) {
            return Err(GuestDrop::TcpNoConnection(k));
        }
        let ip = HEADER_LEN..HEADER_LEN + p.len;
        let l4 = HEADER_LEN + p.l4;
        let payload = match k.proto {
            Proto::Udp => {
                check_udp(&k, segment)?;
                let len = udp_payload(segment)?.len();
                l4 + 8..l4 + 8 + len
            }
            _ => {
                check_tcp(&k, segment)?;
                l4 + segment.get(12).map_or(20, |b| usize::from(b >> 4) * 4)..ip.end
            }
        };
        let decision = self
            .nat
            .outbound_to(k, p.flags, ext, redirect, now)
            .map_err(GuestDrop::Nat)?;
        let bound = HostBound {
            decision,
            flags: p.flags,
            ip,
            payload,
        };
        Ok(match k.proto {
            Proto::Udp => Verdict::Udp(bound),
            _ => Verdict::Tcp(bound),
        })
    }

    /// Addresses no one owns from the guest's point of view: the network's other addresses
    /// (no other station is on the link), broadcasts, multicast, loopback, "this network".
    fn unroutable(&self, dst: Ipv4Addr) -> bool {
        let net = self.config.network;
        dst.is_unspecified()
            || dst.is_broadcast()
            || dst.is_multicast()
            || dst.is_loopback()
            || dst.octets()[0] == 0
            || (net.contains(&dst) && !self.is_ours(dst))
    }

    fn dhcp_request(
        &mut self,
        eth: &EthernetHeader,
        message: &[u8],
        now: Instant,
    ) -> Result<Verdict, GuestDrop> {
        let req = DhcpRequest::parse(message).map_err(GuestDrop::Dhcp)?;
        let Some(reply) = self.dhcp.handle(&req, now).map_err(GuestDrop::Dhcp)? else {
            return Ok(Verdict::Consumed);
        };
        let to_mac = if req.flags & dhcp::BROADCAST_FLAG != 0 {
            Mac::BROADCAST
        } else {
            eth.src
        };
        let server = self.gateway_ip();
        ipv4::udp_frame(
            (engine_mac(server), to_mac),
            SocketAddrV4::new(server, dhcp::SERVER_PORT),
            SocketAddrV4::new(Ipv4Addr::BROADCAST, dhcp::CLIENT_PORT),
            &reply.message,
        )
        .map(Verdict::Reply)
    }

    /// A packet a host socket received for the guest, with key `key` as it arrived on the host
    /// (source: the remote end; destination: the host address and port it arrived at):
    /// a reply on a flow the guest opened, or a connection or datagram to a port-forwarding
    /// rule, which the table admits with the guest's DHCP address where the rule has none and
    /// the gateway as the source the guest sees (VirtualBox proxies forwarded connections).
    /// The decision's `after` is the packet as the guest must receive it.
    pub fn from_host(
        &mut self,
        key: FlowKey,
        flags: Option<TcpFlags>,
        now: Instant,
    ) -> Result<Decision, GuestDrop> {
        let guest = self.guest_ip(now);
        let proxy = Some(self.gateway_ip());
        self.nat
            .inbound_as(key, flags, guest, proxy, now)
            .map_err(|e| self.dropped(GuestDrop::Nat(e)))
    }

    /// A segment the host's TCP stack made for the guest, with key `inside` as the guest will
    /// see it: the engine terminates TCP, so these segments are made, not translated, and
    /// this tells the table what it would have seen (a SYN-ACK, a FIN, a RST) so that its
    /// conntrack states follow the connection. `None` if the segment belongs to no live flow.
    pub fn track_to_guest(
        &mut self,
        inside: FlowKey,
        flags: Option<TcpFlags>,
        now: Instant,
    ) -> Option<Decision> {
        let ct = self.nat.conntrack();
        let (slot, dir) = ct.find(&inside.reversed())?;
        let outside = ct.get(slot)?.translate(dir).reversed();
        if !self.nat.tracks(&outside, now) {
            return None;
        }
        self.nat.inbound_as(outside, flags, None, None, now).ok()
    }

    /// The host could not bind the external port `refused.after.sport` the table chose for a
    /// new flow (another program holds it): the table forgets the flow, never offers that port
    /// again, and decides the flow afresh.
    pub fn port_in_use(
        &mut self,
        refused: &Decision,
        flags: Option<TcpFlags>,
        now: Instant,
    ) -> Result<Decision, GuestDrop> {
        let (k, out) = (refused.before, refused.after);
        self.nat.avoid_port(out.proto, out.sport);
        self.nat.forget(&k);
        self.nat
            .outbound_to(k, flags, out.src, Some(out.dst), now)
            .map_err(|e| self.dropped(GuestDrop::Nat(e)))
    }

    /// The frame carrying a UDP datagram with `payload` to the guest, keyed `to_guest` as the
    /// guest must see it (a [`Gateway::from_host`] decision's `after`, or a DNS query's key
    /// reversed). Sent from the engine's MAC for the source address when it is one of the
    /// engine's, else the gateway's.
    pub fn udp_to_guest(&self, to_guest: &FlowKey, payload: &[u8]) -> Result<Vec<u8>, GuestDrop> {
        let from = if self.is_ours(to_guest.src) {
            to_guest.src
        } else {
            self.gateway_ip()
        };
        let to_mac = self.guest_mac.unwrap_or(Mac::BROADCAST);
        ipv4::udp_frame(
            (engine_mac(from), to_mac),
            SocketAddrV4::new(to_guest.src, to_guest.sport),
            SocketAddrV4::new(to_guest.dst, to_guest.dport),
            payload,
        )
    }

    /// Removes the flows expired at `now` (close their host sockets); returns them.
    pub fn expire(&mut self, now: Instant) -> Vec<Entry> {
        self.nat.expire(now)
    }

    fn dropped(&mut self, d: GuestDrop) -> GuestDrop {
        self.drops.count(d.kind());
        d
    }
}

/// The payload of the UDP datagram `segment` (header and what its length field covers).
fn udp_payload(segment: &[u8]) -> Result<&[u8], GuestDrop> {
    // `wire::parse` checked that 8 <= the UDP length <= the segment.
    let len = usize::from(be16(segment, 4));
    segment
        .get(8..len)
        .ok_or(GuestDrop::Ip(wire::WireError::BadLength {
            what: "UDP length",
            value: len,
        }))
}

/// Refuses a TCP segment whose checksum is wrong, before the table sees it: a corrupt SYN must
/// not open a flow (and a host connection) that the host's TCP stack then discards.
fn check_tcp(k: &FlowKey, segment: &[u8]) -> Result<(), GuestDrop> {
    if transport_sum(k.src, k.dst, Proto::Tcp, segment) != 0xffff {
        return Err(GuestDrop::BadChecksum { proto: Proto::Tcp });
    }
    Ok(())
}

/// Refuses a UDP datagram whose checksum is wrong (zero means "none", RFC 768).
fn check_udp(k: &FlowKey, segment: &[u8]) -> Result<(), GuestDrop> {
    let len = usize::from(be16(segment, 4)).min(segment.len());
    if be16(segment, 6) != 0 && transport_sum(k.src, k.dst, Proto::Udp, &segment[..len]) != 0xffff {
        return Err(GuestDrop::BadChecksum { proto: Proto::Udp });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
