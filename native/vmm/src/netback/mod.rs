//! The user-mode NAT backend behind the virtio-net device, in VirtualBox's NAT layout: the
//! guest is 10.0.2.15, the gateway 10.0.2.2 (the host's loopback, unless turned off) and the
//! DNS proxy 10.0.2.3. No root, no TAP device: the guest's traffic becomes ordinary host
//! sockets, as with VirtualBox NAT, QEMU `-netdev user` and slirp4netns.
//!
//! **The core decides, the backend does the I/O.** Every flow is admitted, mapped and expired
//! by the core's [`NatTable`] (`outbound_to` for the guest's flows, `inbound_as` for
//! forwarded ones, with Linux conntrack's states and timeouts), and its host socket is bound
//! to the external port the table chose, so the port the table shows is the port the host
//! used. Every frame of a flow, both ways, goes through the table, which keeps its state
//! current (`SYN_SENT` … `ESTABLISHED` … `TIME_WAIT`); a flow whose entry expires is closed.
//!
//! One thread runs an event loop on epoll through `mio`: the device wakes it when the guest
//! sends, host sockets wake it when they have data. Guest TCP is terminated by smoltcp
//! ([`tcp`]), UDP uses a host socket per flow ([`udp`]), DNS to 10.0.2.3:53 is a UDP flow to
//! the configured upstream resolver. Forward listeners are bound before the VM boots, so a
//! port in use is an error before anything starts. The backend never blocks: a socket that
//! cannot take more leaves the data in smoltcp's window (TCP) or drops the datagram (UDP).

mod forward;
mod nat;
mod tcp;
mod udp;
mod wire;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labvisor_core::net::conntrack::FlowKey;
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::nat::{Decision, NatConfig, NatTable};
use labvisor_core::net::packet::Proto;
use mio::{Events, Interest, Poll, Token, Waker};
use serde::Serialize;

use crate::devices::net::{Link, NetCounters};
use forward::{ListenSocket, Listener};
use nat::NatState;
use wire::GuestFrame;

/// The guest's address (VirtualBox's first NAT NIC).
pub const GUEST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
/// The gateway, which is also the host's loopback.
pub const GATEWAY_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
/// The DNS proxy.
pub const DNS_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);
/// The gateway's hardware address (QEMU's slirp uses the same: 52:55 then the IP).
pub const GATEWAY_MAC: [u8; 6] = [0x52, 0x55, 0x0a, 0x00, 0x02, 0x02];

const WAKE: Token = Token(0);
const FIRST_FLOW: usize = 1 << 16;
const EXPIRY_EVERY: Duration = Duration::from_millis(500);

/// What the network looks like.
#[derive(Debug, Clone)]
pub struct NetConfig {
    pub mac: [u8; 6],
    pub forwards: Vec<PortForward>,
    /// Where DNS queries to 10.0.2.3:53 go.
    pub dns_upstream: SocketAddrV4,
    /// Whether 10.0.2.2 reaches the host's 127.0.0.1.
    pub host_loopback: bool,
    /// Bytes of IP in a frame (1500 on a real Ethernet).
    pub mtu: usize,
    pub nat: NatConfig,
}

/// Why the network could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("port forward {rule}: cannot listen on {addr}: {source}{hint}")]
    Listen {
        rule: String,
        addr: SocketAddrV4,
        source: std::io::Error,
        hint: &'static str,
    },
    #[error("port forward {rule}: the NAT refused it: {why}")]
    Rule { rule: String, why: String },
    #[error("the network backend could not start: {0}")]
    Start(std::io::Error),
}

/// The guest's side of a flow: its port, and the remote address and port it talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct GuestSide {
    proto: Proto,
    guest_port: u16,
    remote: Ipv4Addr,
    remote_port: u16,
}

/// How a flow's packets are presented to the NAT table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlowNat {
    /// The entry's original tuple (what expiry reports).
    orig: FlowKey,
    /// The key of the guest's packets, and of packets towards the guest.
    from_guest: FlowKey,
    to_guest: FlowKey,
    ext_ip: Ipv4Addr,
}

/// What the network did, for `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct NetReport {
    pub mac: String,
    pub device: NetCounters,
    pub nat_type: String,
    pub forwards: Vec<String>,
    /// The final table, like `conntrack -L`.
    pub conntrack: Vec<String>,
    /// The final table, like Cisco's `show ip nat translations`.
    pub translations: Vec<[String; 5]>,
    /// The NAT's decisions: each new flow and each state change, in order.
    pub decisions: Vec<Decision>,
    pub decisions_not_kept: u64,
    /// Frames and packets dropped, by reason.
    pub drops: BTreeMap<String, u64>,
}

/// The backend, its forward listeners bound, not yet running.
pub struct NetBackend {
    config: NetConfig,
    listeners: Vec<Listener>,
    table: NatTable,
}

impl NetBackend {
    /// Checks the rules with the NAT and binds every forward's host port: a port in use is
    /// an error now, before the VM boots. A rule without a host address listens on
    /// 127.0.0.1 only (see [`NetBackend::listening`]).
    pub fn bind(config: NetConfig) -> Result<NetBackend, NetError> {
        let mut table = NatTable::new(config.nat.clone());
        let mut listeners = Vec::new();
        for rule in &config.forwards {
            table
                .add_forward(rule.clone())
                .map_err(|why| NetError::Rule {
                    rule: rule.to_string(),
                    why,
                })?;
            let addr =
                SocketAddrV4::new(rule.host_ip.unwrap_or(Ipv4Addr::LOCALHOST), rule.host_port);
            let failed = |source: std::io::Error| NetError::Listen {
                rule: rule.to_string(),
                addr,
                hint: match source.kind() {
                    ErrorKind::AddrInUse => {
                        ": something on the host already uses that port; choose another host port"
                    }
                    ErrorKind::PermissionDenied => {
                        ": ports below 1024 need root on Linux; use 1024 or above"
                    }
                    ErrorKind::AddrNotAvailable => ": that address is not one of this host's",
                    _ => "",
                },
                source,
            };
            let socket = match rule.proto {
                Proto::Udp => ListenSocket::Udp(
                    mio::net::UdpSocket::bind(SocketAddr::V4(addr)).map_err(failed)?,
                ),
                _ => ListenSocket::Tcp(
                    mio::net::TcpListener::bind(SocketAddr::V4(addr)).map_err(failed)?,
                ),
            };
            listeners.push(Listener {
                rule: rule.clone(),
                addr,
                socket,
            });
        }
        Ok(NetBackend {
            config,
            listeners,
            table,
        })
    }

    /// Each forward and the host address it listens on.
    pub fn listening(&self) -> Vec<(PortForward, SocketAddrV4)> {
        self.listeners
            .iter()
            .map(|l| (l.rule.clone(), l.addr))
            .collect()
    }

    /// Starts the backend's thread on `link`; `deliver` makes the device take frames queued
    /// for the guest (it polls the RX queue).
    pub fn start(
        self,
        link: Arc<Link>,
        deliver: impl Fn() + Send + 'static,
    ) -> Result<NetHandle, NetError> {
        let poll = Poll::new().map_err(NetError::Start)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE).map_err(NetError::Start)?);
        let wake = waker.clone();
        link.on_guest_frames(move || {
            let _ = wake.wake();
        });
        let nat = Arc::new(Mutex::new(NatState {
            table: self.table,
            epoch: std::time::Instant::now(),
            decisions: Vec::new(),
            decisions_not_kept: 0,
            drops: BTreeMap::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mut listeners = self.listeners;
        for (i, l) in listeners.iter_mut().enumerate() {
            let token = Token(1 + i);
            let registered = match &mut l.socket {
                ListenSocket::Tcp(s) => poll.registry().register(s, token, Interest::READABLE),
                ListenSocket::Udp(s) => poll.registry().register(s, token, Interest::READABLE),
            };
            registered.map_err(NetError::Start)?;
        }
        let backend = Backend {
            tcp: tcp::TcpEngine::new(GATEWAY_MAC, GATEWAY_IP, self.config.mtu),
            udp: udp::UdpFlows::default(),
            poll,
            link: link.clone(),
            deliver: Box::new(deliver),
            nat: nat.clone(),
            listeners,
            next_token: FIRST_FLOW,
            guest_mac: None,
            udp_peers: HashMap::new(),
            by_orig: HashMap::new(),
            inbox: VecDeque::new(),
            stop: stop.clone(),
            config: self.config,
        };
        let thread = std::thread::Builder::new()
            .name("net".into())
            .spawn(move || backend.run())
            .map_err(NetError::Start)?;
        Ok(NetHandle {
            waker,
            stop,
            nat,
            link,
            thread: Some(thread),
        })
    }
}

/// The running backend, as the VMM holds it.
pub struct NetHandle {
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    nat: Arc<Mutex<NatState>>,
    link: Arc<Link>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NetHandle {
    /// The live NAT table as `labvisor net run` prints it (`Ctrl-A n`).
    pub fn table_text(&self) -> String {
        lock(&self.nat).text()
    }

    /// Stops the backend and reports what the network did.
    pub fn finish(mut self, mac: [u8; 6]) -> NetReport {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let nat = lock(&self.nat);
        let now = nat.now();
        NetReport {
            mac: mac.map(|b| format!("{b:02x}")).join(":"),
            device: self.link.counters(),
            nat_type: nat.table.config().type_name(),
            forwards: nat.table.forwards().iter().map(|r| r.to_string()).collect(),
            conntrack: nat.table.conntrack_lines(now),
            translations: nat.table.cisco_rows(),
            decisions: nat.decisions.clone(),
            decisions_not_kept: nat.decisions_not_kept,
            drops: nat.drops.clone(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where a new flow of the guest goes on the host: the address the NAT rewrites the
/// destination to (`redirect`), the external address it maps the source to, and the port
/// to connect to when it differs from the guest's (the DNS upstream's).
struct Route {
    redirect: Option<Ipv4Addr>,
    ext_ip: Ipv4Addr,
    port: Option<u16>,
}

/// The backend thread's state.
struct Backend {
    config: NetConfig,
    poll: Poll,
    link: Arc<Link>,
    deliver: Box<dyn Fn() + Send>,
    nat: Arc<Mutex<NatState>>,
    tcp: tcp::TcpEngine,
    udp: udp::UdpFlows,
    listeners: Vec<Listener>,
    next_token: usize,
    guest_mac: Option<[u8; 6]>,
    /// Forwarded UDP flows: the guest's side → (listener, client).
    udp_peers: HashMap<GuestSide, (usize, SocketAddr)>,
    /// A flow's side by its entry's original tuple, to close it when the entry expires.
    by_orig: HashMap<FlowKey, GuestSide>,
    inbox: VecDeque<Vec<u8>>,
    stop: Arc<AtomicBool>,
}

impl Backend {
    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        let mut last_expiry = std::time::Instant::now();
        while !self.stop.load(Ordering::SeqCst) {
            let now = smoltcp_now(&self.nat);
            let timeout = self
                .tcp
                .poll_delay(now)
                .map_or(EXPIRY_EVERY, |d| d.min(EXPIRY_EVERY));
            if self.poll.poll(&mut events, Some(timeout)).is_err() {
                std::thread::sleep(Duration::from_millis(1));
            }
            for event in events.iter() {
                match event.token() {
                    WAKE => {}
                    Token(i) if (1..=self.listeners.len()).contains(&i) => self.accept(i - 1),
                    token => self.udp_replies(token),
                }
            }
            self.guest_frames();
            self.run_tcp();
            if last_expiry.elapsed() >= EXPIRY_EVERY {
                self.expire();
                last_expiry = std::time::Instant::now();
            }
            if self.link.pending_for_guest() > 0 {
                (self.deliver)();
            }
        }
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    fn guest_frames(&mut self) {
        let mut inbox = std::mem::take(&mut self.inbox);
        self.link.take_from_guest(&mut inbox);
        for frame in inbox.drain(..) {
            self.guest_frame(frame);
        }
        self.inbox = inbox;
    }

    fn send_to_guest(&mut self, frame: Vec<u8>) {
        self.link.send_to_guest(frame);
    }

    fn dropped(&self, why: impl Into<String>) {
        lock(&self.nat).count_drop(why);
    }

    /// One frame from the guest.
    fn guest_frame(&mut self, frame: Vec<u8>) {
        if frame.len() >= 12 {
            let mut src = [0u8; 6];
            src.copy_from_slice(&frame[6..12]);
            self.learn_guest_mac(src);
        }
        match wire::classify(&frame) {
            GuestFrame::Arp {
                sender_ip, target, ..
            } => {
                if sender_ip == GATEWAY_IP || sender_ip == DNS_IP {
                    self.dropped("ARP claiming the gateway's or DNS proxy's address");
                } else if target == GATEWAY_IP || target == DNS_IP {
                    self.tcp.wire.rx.push_back(frame);
                } else {
                    self.dropped("ARP for an address the NAT does not own");
                }
            }
            GuestFrame::Tcp { src, .. } | GuestFrame::Udp { src, .. } if src != GUEST_IP => {
                self.dropped("source address is not the guest's (10.0.2.15)")
            }
            GuestFrame::Tcp {
                dst,
                sport,
                dport,
                flags,
                ..
            } => self.tcp_from_guest(frame, dst, sport, dport, flags),
            GuestFrame::Udp {
                dst,
                sport,
                dport,
                payload,
                ..
            } => {
                let (at, len) = payload;
                self.udp_from_guest(&frame[at..at + len], dst, sport, dport);
            }
            GuestFrame::Icmp { dst } if dst == GATEWAY_IP || dst == DNS_IP => {
                // smoltcp answers echo requests to the addresses it owns.
                self.tcp.wire.rx.push_back(frame);
            }
            GuestFrame::Icmp { .. } => self.dropped("ICMP beyond the gateway is not carried"),
            GuestFrame::Unusable(why) => self.dropped(why),
        }
    }

    /// The guest's hardware address, from its frames: smoltcp is told it with an ARP reply
    /// so that it never has to ask (and drop frames while it asks).
    fn learn_guest_mac(&mut self, mac: [u8; 6]) {
        let unicast = mac[0] & 1 == 0;
        if unicast && self.guest_mac != Some(mac) {
            self.guest_mac = Some(mac);
            let arp = wire::arp_reply(mac, GUEST_IP, (GATEWAY_MAC, GATEWAY_IP));
            self.tcp.wire.rx.push_back(arp);
        }
    }

    /// Where a new flow to `dst:port` goes, or why it may not.
    fn route(&self, dst: Ipv4Addr, port: u16, proto: Proto) -> Result<Route, &'static str> {
        if dst == GATEWAY_IP {
            if !self.config.host_loopback {
                return Err("10.0.2.2 does not reach the host (--no-host-loopback)");
            }
            return Ok(Route {
                redirect: Some(Ipv4Addr::LOCALHOST),
                ext_ip: Ipv4Addr::LOCALHOST,
                port: None,
            });
        }
        if dst == DNS_IP {
            if proto != Proto::Udp || port != 53 {
                return Err("10.0.2.3 answers DNS over UDP port 53 only");
            }
            let upstream = self.config.dns_upstream;
            return Ok(Route {
                redirect: Some(*upstream.ip()),
                ext_ip: if upstream.ip().is_loopback() {
                    Ipv4Addr::LOCALHOST
                } else {
                    Ipv4Addr::UNSPECIFIED
                },
                port: Some(upstream.port()),
            });
        }
        if dst.is_loopback() || dst.is_broadcast() || dst.is_multicast() || dst.is_unspecified() {
            return Err("destination is not a unicast address beyond the NAT");
        }
        Ok(Route {
            redirect: None,
            ext_ip: Ipv4Addr::UNSPECIFIED,
            port: None,
        })
    }

    fn tcp_from_guest(&mut self, frame: Vec<u8>, dst: Ipv4Addr, sport: u16, dport: u16, flags: u8) {
        let side = GuestSide {
            proto: Proto::Tcp,
            guest_port: sport,
            remote: dst,
            remote_port: dport,
        };
        if let Some(nat) = self.tcp.nat_of(&side).copied() {
            if let Err(e) = lock(&self.nat).outbound(nat.from_guest, Some(flags), nat.ext_ip, None)
            {
                self.dropped(format!("tcp: {e}"));
            }
            self.tcp.wire.rx.push_back(frame);
            return;
        }
        let syn_only = flags & 0x12 == 0x02;
        if !syn_only {
            // No connection: smoltcp answers with a RST (no socket listens there).
            self.dropped("TCP segment of no connection (answered with RST)");
            self.tcp.wire.rx.push_back(frame);
            return;
        }
        match self.route(dst, dport, Proto::Tcp) {
            Ok(route) => self.open_tcp(side, route, flags),
            Err(why) => self.dropped(why),
        }
        // With a listening socket smoltcp answers it (once the host connects); without one,
        // with a RST.
        self.tcp.wire.rx.push_back(frame);
    }

    fn open_tcp(&mut self, side: GuestSide, route: Route, flags: u8) {
        let key = FlowKey {
            proto: Proto::Tcp,
            src: GUEST_IP,
            sport: side.guest_port,
            dst: side.remote,
            dport: side.remote_port,
        };
        let decision = lock(&self.nat).outbound(key, Some(flags), route.ext_ip, route.redirect);
        let d = match decision {
            Ok(d) => d,
            Err(e) => return self.dropped(format!("tcp: {e}")),
        };
        let nat = FlowNat {
            orig: key,
            from_guest: key,
            to_guest: reversed(d.after),
            ext_ip: route.ext_ip,
        };
        let bind = SocketAddrV4::new(d.after.src, d.after.sport);
        let target = SocketAddrV4::new(d.after.dst, d.after.dport);
        let token = self.token();
        match self
            .tcp
            .open_outbound(token, side, nat, bind, target, self.poll.registry())
        {
            Ok(()) => {
                self.by_orig.insert(key, side);
            }
            Err(e) => self.dropped(format!(
                "tcp: the host could not connect from {bind}: {}",
                e.kind()
            )),
        }
    }

    fn run_tcp(&mut self) {
        let now = smoltcp_now(&self.nat);
        let ended = self.tcp.poll(now, self.poll.registry());
        for e in ended {
            self.by_orig.remove(&e.nat.orig);
        }
        let frames = std::mem::take(&mut self.tcp.wire.tx);
        for frame in frames {
            if let Some((src, sport, dport, flags)) = wire::tcp_to_guest(&frame) {
                let side = GuestSide {
                    proto: Proto::Tcp,
                    guest_port: dport,
                    remote: src,
                    remote_port: sport,
                };
                if let Some(nat) = self.tcp.nat_of(&side).copied() {
                    let _ = lock(&self.nat).inbound(nat.to_guest, Some(flags), false);
                }
            }
            self.send_to_guest(frame);
        }
    }

    fn udp_from_guest(&mut self, payload: &[u8], dst: Ipv4Addr, sport: u16, dport: u16) {
        let side = GuestSide {
            proto: Proto::Udp,
            guest_port: sport,
            remote: dst,
            remote_port: dport,
        };
        let key = FlowKey {
            proto: Proto::Udp,
            src: GUEST_IP,
            sport,
            dst,
            dport,
        };
        if let Some(&(listener, client)) = self.udp_peers.get(&side) {
            let _ = lock(&self.nat).outbound(key, None, GATEWAY_IP, None);
            if let ListenSocket::Udp(s) = &self.listeners[listener].socket {
                let _ = s.send_to(payload, client);
            }
            return;
        }
        if let Some(flow) = self.udp.get(&side) {
            let _ = lock(&self.nat).outbound(key, None, flow.nat.ext_ip, None);
            if !udp::UdpFlows::send(flow, payload) {
                self.dropped("udp: the host socket did not take the datagram");
            }
            return;
        }
        if dst.is_broadcast() && dport == 67 {
            self.dropped("DHCP (the guest has a fixed lease of 10.0.2.15)");
            return;
        }
        let route = match self.route(dst, dport, Proto::Udp) {
            Ok(r) => r,
            Err(why) => return self.dropped(why),
        };
        let decision = lock(&self.nat).outbound(key, None, route.ext_ip, route.redirect);
        let d = match decision {
            Ok(d) => d,
            Err(e) => return self.dropped(format!("udp: {e}")),
        };
        let nat = FlowNat {
            orig: key,
            from_guest: key,
            to_guest: reversed(d.after),
            ext_ip: route.ext_ip,
        };
        let bind = SocketAddrV4::new(d.after.src, d.after.sport);
        let target = SocketAddrV4::new(d.after.dst, route.port.unwrap_or(d.after.dport));
        let token = self.token();
        match self
            .udp
            .open(token, side, nat, bind, target, self.poll.registry())
        {
            Ok(flow) => {
                if !udp::UdpFlows::send(flow, payload) {
                    self.dropped("udp: the host socket did not take the datagram");
                }
                self.by_orig.insert(key, side);
            }
            Err(e) => self.dropped(format!("udp: the host could not bind {bind}: {}", e.kind())),
        }
    }

    /// Datagrams on a flow's socket: replies for the guest, if the NAT still has the flow.
    fn udp_replies(&mut self, token: Token) {
        let Some(guest_mac) = self.guest_mac else {
            return;
        };
        let mut frames = Vec::new();
        let nat = &self.nat;
        self.udp.receive(token, |flow, payload| {
            let mut state = lock(nat);
            if state.inbound(flow.nat.to_guest, None, false).is_err() {
                state.count_drop("udp: a reply after the NAT forgot the flow");
                return;
            }
            frames.push(wire::udp_frame(
                (GATEWAY_MAC, guest_mac),
                (flow.side.remote, flow.side.remote_port),
                (GUEST_IP, flow.side.guest_port),
                payload,
            ));
        });
        for f in frames {
            self.send_to_guest(f);
        }
    }

    /// Closes the flows whose entries the table expired.
    fn expire(&mut self) {
        let gone = {
            let mut nat = lock(&self.nat);
            let now = nat.now();
            nat.table.expire(now)
        };
        for entry in gone {
            let Some(side) = self.by_orig.remove(&entry.orig) else {
                continue;
            };
            match side.proto {
                Proto::Tcp => self.tcp.abort(&side),
                _ => {
                    self.udp.close(&side, self.poll.registry());
                    self.udp_peers.remove(&side);
                }
            }
        }
    }
}

/// The key of a packet going the other way.
fn reversed(k: FlowKey) -> FlowKey {
    FlowKey {
        proto: k.proto,
        src: k.dst,
        sport: k.dport,
        dst: k.src,
        dport: k.sport,
    }
}

fn smoltcp_now(nat: &Mutex<NatState>) -> smoltcp::time::Instant {
    let elapsed = lock(nat).epoch.elapsed();
    smoltcp::time::Instant::from_micros(elapsed.as_micros() as i64)
}

#[cfg(test)]
mod tests;
