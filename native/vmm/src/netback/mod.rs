//! The user-mode NAT backend behind the virtio-net device, in VirtualBox's NAT layout: the
//! guest leases 10.0.2.15 by DHCP, the gateway is 10.0.2.2 (the host's loopback, unless
//! turned off) and the DNS proxy 10.0.2.3. No root, no TAP device: the guest's traffic
//! becomes ordinary host sockets, as with VirtualBox NAT, QEMU `-netdev user` and slirp4netns.
//!
//! **The core decides, the backend does the I/O.** Every guest frame goes to the core's
//! [`Gateway`] first, which answers ARP, DHCP and ping itself, drops (and counts) whatever
//! is malformed or not allowed, and runs every TCP and UDP flow through its `NatTable`
//! (Linux conntrack's states and timeouts). A new flow's host socket is bound to exactly the
//! external port the table chose (if the host cannot bind it, the table chooses again), so
//! the port the table shows is the port the host used. Segments the engine makes for the
//! guest are shown to the table too, so its states follow the connection; a flow whose entry
//! expires is closed.
//!
//! One thread runs an event loop on epoll through `mio`: the device wakes it when the guest
//! sends, host sockets when they have data. Guest TCP is terminated by smoltcp ([`tcp`]), UDP
//! uses a host socket per flow ([`udp`]), DNS queries go to the configured upstream through a
//! socket per query flow, and forwards ([`forward`]) listen on host ports bound before the VM
//! boots. The loop never blocks on a socket: one that cannot take more leaves the data in
//! smoltcp's window (TCP) or drops the datagram (UDP), counted.

mod batch;
mod capture;
mod forward;
mod nat;
mod tcp;
mod udp;
mod wire;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labvisor_core::net::conntrack::FlowKey;
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::gateway::{
    engine_mac, DropCounts, Gateway, GatewayConfig, GuestDrop, HostBound, Verdict,
};
use labvisor_core::net::nat::Decision;
use labvisor_core::net::packet::Proto;
use mio::{Events, Poll, Token, Waker};
use serde::Serialize;
use vmm_sys_util::eventfd::EventFd;

use crate::devices::net::driver::HostDriver;
use crate::devices::net::{Link, NetCounters};
use crate::devices::virtio_mmio::MmioTransport;
use capture::Capture;
use forward::{ListenSocket, Listener};
use nat::{HostDrop, NatState};

/// The guest's address (VirtualBox's first NAT NIC), which the DHCP server leases.
pub const GUEST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
/// The gateway, which is also the host's loopback.
pub const GATEWAY_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
/// The DNS proxy.
pub const DNS_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);

const WAKE: Token = Token(0);
/// The guest's queue notifications, when KVM delivers them on an eventfd (see
/// [`NetBackend::kicked_by`]).
const TX_KICK: Token = Token(FIRST_FLOW - 1);
const FIRST_FLOW: usize = 1 << 16;
const EXPIRY_EVERY: Duration = Duration::from_millis(500);
/// How often the table may choose again when the host cannot bind its port.
const BIND_TRIES: usize = 8;

/// What the network looks like.
#[derive(Debug, Clone)]
pub struct NetConfig {
    pub mac: [u8; 6],
    pub forwards: Vec<PortForward>,
    /// Where DNS queries to 10.0.2.3:53 go.
    pub dns_upstream: SocketAddrV4,
    /// Bytes of IP in a frame the engine sends (1500 on a real Ethernet).
    pub mtu: usize,
    /// Layout, host loopback and NAT behaviour.
    pub gateway: GatewayConfig,
    /// Where to write the guest's frames as a pcap file.
    pub pcap: Option<PathBuf>,
}

impl NetConfig {
    /// VirtualBox's first NAT adapter, 10.0.2.2 reaching the host's loopback when
    /// `host_loopback`.
    pub fn virtualbox(
        forwards: Vec<PortForward>,
        dns_upstream: SocketAddrV4,
        host_loopback: bool,
    ) -> NetConfig {
        let mut gateway = GatewayConfig::virtualbox(Ipv4Addr::UNSPECIFIED);
        gateway.host_loopback = host_loopback;
        NetConfig {
            mac: crate::devices::net::DEFAULT_MAC,
            forwards,
            dns_upstream,
            mtu: 1500,
            gateway,
            pcap: None,
        }
    }
}

/// Raises the process's soft limit of open files towards `wanted`, as far as its hard limit
/// allows: the backend holds a host socket per flow, and its bounds (4096 TCP connections,
/// 1024 UDP flows, 256 DNS queries) are meant to be what stops a guest, not the default soft
/// limit of 1024 descriptors. Where the hard limit is lower, sockets past it are refused and
/// counted (`host-socket-refused`).
fn raise_open_files_limit(wanted: usize) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct it is given, which lives here.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    let target = (wanted as libc::rlim_t).min(limit.rlim_max);
    if limit.rlim_cur < target {
        limit.rlim_cur = target;
        // SAFETY: setrlimit only reads the struct; raising the soft limit up to the hard
        // limit needs no privilege, and a refusal leaves the old limit in place.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    }
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
    #[error("cannot write the capture file {path}: {source}")]
    Capture {
        path: PathBuf,
        source: std::io::Error,
    },
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

impl GuestSide {
    /// The side of a packet the guest sent with key `k`.
    fn sent(k: &FlowKey) -> GuestSide {
        GuestSide {
            proto: k.proto,
            guest_port: k.sport,
            remote: k.dst,
            remote_port: k.dport,
        }
    }

    /// The side of a packet the guest receives with key `k`.
    fn received(k: &FlowKey) -> GuestSide {
        GuestSide::sent(&k.reversed())
    }
}

/// What the network did, for `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct NetReport {
    pub mac: String,
    /// The guest's DHCP lease at the end, if it took one.
    pub guest_ip: Option<Ipv4Addr>,
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
    /// The same changes as the simulator's trace steps (conntrack new, update, killed,
    /// expired), and as its text.
    pub trace: Vec<labvisor_core::net::trace::Step>,
    pub trace_text: String,
    /// Guest frames the gateway dropped, by reason.
    pub guest_drops: DropCounts,
    /// What the host side dropped, by reason.
    pub host_drops: BTreeMap<String, u64>,
    /// Frames written to the `--pcap` file.
    pub captured_frames: u64,
}

/// The backend, its forward listeners bound, not yet running.
pub struct NetBackend {
    config: NetConfig,
    listeners: Vec<Listener>,
    gateway: Gateway,
    capture: Option<Capture>,
    tx_kick: Option<EventFd>,
}

impl NetBackend {
    /// Checks the rules with the NAT, binds every forward's host port (a port in use is an
    /// error now, before the VM boots; a rule without a host address listens on 127.0.0.1
    /// only, see [`NetBackend::listening`]) and opens the capture file.
    pub fn bind(config: NetConfig) -> Result<NetBackend, NetError> {
        raise_open_files_limit(tcp::MAX_FLOWS + udp::MAX_FLOWS + udp::DNS_FLOWS + 64);
        // A seed the guest cannot know, so it cannot aim its flows at one hash bucket.
        let mut gateway = Gateway::new(config.gateway.clone())
            .with_hash_seed(crate::devices::control::random_u64());
        let mut listeners = Vec::new();
        for rule in &config.forwards {
            gateway
                .add_forward(rule.clone())
                .map_err(|why| NetError::Rule {
                    rule: rule.to_string(),
                    why: why.to_string(),
                })?;
            listeners.push(Listener::bind(rule)?);
        }
        let capture = match &config.pcap {
            Some(path) => Some(Capture::create(path).map_err(|source| NetError::Capture {
                path: path.clone(),
                source,
            })?),
            None => None,
        };
        Ok(NetBackend {
            config,
            listeners,
            gateway,
            capture,
            tx_kick: None,
        })
    }

    /// Has the backend poll the device's queues when `kick` is signalled: KVM signals it for
    /// the guest's notifications without leaving the guest (an ioeventfd), as QEMU's virtio
    /// devices do, so the vCPU goes on at once while this thread copies the guest's frames
    /// out and fills the RX buffers it gave back.
    pub fn kicked_by(mut self, kick: EventFd) -> NetBackend {
        self.tx_kick = Some(kick);
        self
    }

    /// The NIC's hardware address.
    pub fn mac(&self) -> [u8; 6] {
        self.config.mac
    }

    /// Each forward and the host address it listens on.
    pub fn listening(&self) -> Vec<(PortForward, SocketAddrV4)> {
        self.listeners
            .iter()
            .map(|l| (l.rule.clone(), l.addr))
            .collect()
    }

    /// Starts the backend's thread on `link`; `deliver` makes the device take the frames
    /// queued for the guest and the guest's frames it held back while the link was full (it
    /// polls the RX and TX queues).
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
        let mut listeners = self.listeners;
        for (i, l) in listeners.iter_mut().enumerate() {
            l.register(poll.registry(), Token(1 + i))
                .map_err(NetError::Start)?;
        }
        if let Some(kick) = &self.tx_kick {
            poll.registry()
                .register(
                    &mut mio::unix::SourceFd(&kick.as_raw_fd()),
                    TX_KICK,
                    mio::Interest::READABLE,
                )
                .map_err(NetError::Start)?;
        }
        let nat = Arc::new(Mutex::new(NatState::new(self.gateway)));
        let stop = Arc::new(AtomicBool::new(false));
        let gateway_mac = engine_mac(GATEWAY_IP).0;
        let backend = Backend {
            tcp: tcp::TcpEngine::new(gateway_mac, GATEWAY_IP, self.config.mtu),
            udp: udp::UdpFlows::default(),
            poll,
            link: link.clone(),
            deliver: Box::new(deliver),
            nat: nat.clone(),
            listeners,
            next_token: FIRST_FLOW,
            known_guest: None,
            by_orig: HashMap::new(),
            inbox: VecDeque::new(),
            capture: self.capture,
            stop: stop.clone(),
            config: self.config,
            tx_kick: self.tx_kick,
        };
        let thread = std::thread::Builder::new()
            .name("net".into())
            .spawn(move || {
                crate::seccomp::confine_thread(crate::seccomp::Role::Net);
                backend.run()
            })
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

impl NetBackend {
    /// Runs the backend behind a device of its own over fresh memory, driven from the host
    /// by a [`HostDriver`] with RX buffers of `buffer_bytes`, as tests and `bench-net` do.
    pub fn start_host_driven(self, buffer_bytes: u32) -> Result<(HostDriver, NetHandle), NetError> {
        use vm_memory::{GuestAddress, GuestMemoryMmap};
        let bytes = crate::devices::net::driver::memory_bytes(buffer_bytes);
        let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), bytes)])
            .map_err(|e| NetError::Start(std::io::Error::other(e.to_string())))?;
        let link = Arc::new(Link::default());
        let device = crate::devices::net::VirtioNet::new(self.config.mac, link.clone());
        let transport = MmioTransport::new(Some(Box::new(device)), mem.clone())
            .map_err(|e| NetError::Start(std::io::Error::other(e.to_string())))?;
        let transport = Arc::new(Mutex::new(transport));
        let slot = transport.clone();
        let handle = self.start(link, move || {
            let mut transport = lock(&slot);
            transport.poll(crate::devices::net::RX_QUEUE);
            transport.poll(crate::devices::net::TX_QUEUE);
        })?;
        let driver = HostDriver::start(transport, mem, buffer_bytes)
            .map_err(|e| NetError::Start(std::io::Error::other(e.to_string())))?;
        Ok((driver, handle))
    }
}

impl std::fmt::Debug for NetBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetBackend")
            .field("config", &self.config)
            .field("listening", &self.listening())
            .finish()
    }
}

/// The running backend, as the VMM holds it.
pub struct NetHandle {
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    nat: Arc<Mutex<NatState>>,
    link: Arc<Link>,
    thread: Option<std::thread::JoinHandle<Option<Capture>>>,
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
        let capture = self.thread.take().and_then(|t| t.join().ok()).flatten();
        let captured_frames = capture.map_or(0, Capture::finish);
        let nat = lock(&self.nat);
        let now = nat.now();
        let table = nat.gateway.nat();
        NetReport {
            mac: mac.map(|b| format!("{b:02x}")).join(":"),
            guest_ip: nat.gateway.guest_ip(now),
            device: self.link.counters(),
            nat_type: table.config().type_name(),
            forwards: table.forwards().iter().map(|r| r.to_string()).collect(),
            conntrack: table.conntrack_lines(now),
            translations: table.cisco_rows(),
            decisions: nat.decisions.clone(),
            decisions_not_kept: nat.decisions_not_kept,
            trace: nat.trace.clone(),
            trace_text: labvisor_core::net::trace::render(&nat.trace),
            guest_drops: nat.gateway.drops().clone(),
            host_drops: nat.host_drops(),
            captured_frames,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
    /// The guest's MAC and address as the engine last learned them.
    known_guest: Option<([u8; 6], Ipv4Addr)>,
    /// A flow's side by its entry's original tuple, to close it when the entry expires.
    by_orig: HashMap<FlowKey, GuestSide>,
    inbox: VecDeque<Vec<u8>>,
    capture: Option<Capture>,
    stop: Arc<AtomicBool>,
    tx_kick: Option<EventFd>,
}

impl Backend {
    fn run(mut self) -> Option<Capture> {
        let mut events = Events::with_capacity(256);
        let mut last_expiry = 0u64;
        while !self.stop.load(Ordering::SeqCst) {
            let now = self.tick();
            let timeout = self
                .tcp
                .poll_delay(now)
                .map_or(EXPIRY_EVERY, |d| d.min(EXPIRY_EVERY));
            if self.poll.poll(&mut events, Some(timeout)).is_err() {
                std::thread::sleep(Duration::from_millis(1));
            }
            let now = self.tick();
            let mut kicked = false;
            for event in events.iter() {
                match event.token() {
                    WAKE => {}
                    TX_KICK => kicked = true,
                    Token(i) if (1..=self.listeners.len()).contains(&i) => self.accept(i - 1),
                    token => self.udp_replies(token),
                }
            }
            if kicked {
                if let Some(kick) = &self.tx_kick {
                    // Cleared before the queue is read, so a notification after this read
                    // signals it again and is not lost.
                    let _ = kick.read();
                }
                (self.deliver)();
            }
            let took = self.guest_frames();
            self.run_tcp(now);
            let micros = now.total_micros() as u64;
            if micros.saturating_sub(last_expiry) >= EXPIRY_EVERY.as_micros() as u64 {
                self.expire();
                last_expiry = micros;
            }
            if took || self.link.pending_for_guest() > 0 {
                (self.deliver)();
            }
        }
        self.capture
    }

    /// Reads the clock once for a batch of work: the NAT's time and smoltcp's.
    fn tick(&self) -> smoltcp::time::Instant {
        let micros = lock(&self.nat).tick();
        smoltcp::time::Instant::from_micros(micros as i64)
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    fn host_drop(&self, why: HostDrop) {
        lock(&self.nat).host_drop(why);
    }

    /// Handles every frame the guest sent; returns whether there were any.
    fn guest_frames(&mut self) -> bool {
        let mut inbox = std::mem::take(&mut self.inbox);
        self.link.take_from_guest(&mut inbox);
        let took = !inbox.is_empty();
        for frame in inbox.drain(..) {
            if let Some(c) = &mut self.capture {
                c.frame(&frame);
            }
            self.guest_frame(frame);
        }
        self.inbox = inbox;
        let refused = self.udp.flush();
        lock(&self.nat).host_drops_n(HostDrop::UdpSendFull, refused);
        took
    }

    fn send_to_guest(&mut self, frame: Vec<u8>) {
        if let Some(c) = &mut self.capture {
            c.frame(&frame);
        }
        self.link.send_to_guest(frame);
    }

    /// One frame from the guest: the gateway's verdict, carried out.
    fn guest_frame(&mut self, frame: Vec<u8>) {
        let verdict = lock(&self.nat).guest_sent(&frame);
        match verdict {
            Verdict::Reply(reply) => self.send_to_guest(reply),
            Verdict::Drop(GuestDrop::HostLoopbackOff(_)) => {
                // A refusal, not silence: smoltcp answers a SYN to where nothing listens with
                // a RST, as a host with the port closed would.
                if let Some((key, _)) = wire::tcp_key(&frame) {
                    self.learn_guest(key.src);
                    self.tcp.wire.rx.push_back(frame);
                }
            }
            // smoltcp asks for the guest's address only when it had no frame from it yet (a
            // forward before the guest spoke): the guest's answer is for it too.
            Verdict::Consumed if wire::is_arp_reply(&frame) => self.tcp.wire.rx.push_back(frame),
            Verdict::Consumed | Verdict::Drop(_) => {}
            Verdict::Tcp(bound) => self.tcp_from_guest(frame, bound),
            Verdict::Udp(bound) => self.udp_from_guest(frame, bound),
            Verdict::Dns(query) => {
                let side = GuestSide::sent(&query.query);
                if self.udp.get(&side).is_none() && !self.open_dns(side, query.query) {
                    return;
                }
                self.udp.queue(&side, frame, query.payload.clone());
            }
        }
    }

    /// A socket for a new DNS query flow to the upstream. The table does not track DNS (the
    /// engine answers it), so the number of these is bounded here: a guest asking from more
    /// ports at once than [`udp::DNS_FLOWS`] has the excess dropped, counted.
    fn open_dns(&mut self, side: GuestSide, query: FlowKey) -> bool {
        if self.udp.dns_flows() >= udp::DNS_FLOWS {
            self.host_drop(HostDrop::DnsFlowsFull);
            return false;
        }
        let bind = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
        let target = self.config.dns_upstream;
        let token = self.token();
        let registry = self.poll.registry();
        if self
            .udp
            .open(token, side, query, bind, target, registry)
            .is_err()
        {
            self.host_drop(HostDrop::SocketRefused);
            return false;
        }
        true
    }

    /// Tells smoltcp the guest's hardware address with an ARP reply, whenever the engine
    /// learns a new one, so that it never has to ask (and drop frames while it asks).
    fn learn_guest(&mut self, ip: Ipv4Addr) {
        let Some(mac) = lock(&self.nat).gateway.guest_mac() else {
            return;
        };
        if self.known_guest != Some((mac.0, ip)) {
            self.known_guest = Some((mac.0, ip));
            let gateway = (engine_mac(GATEWAY_IP).0, GATEWAY_IP);
            self.tcp
                .wire
                .rx
                .push_back(wire::arp_reply(mac.0, ip, gateway));
        }
    }

    fn tcp_from_guest(&mut self, frame: Vec<u8>, bound: HostBound) {
        let d = &bound.decision;
        self.learn_guest(d.before.src);
        let syn = bound.flags.is_some_and(|f| f.0 & 0x12 == 0x02);
        if d.created && syn {
            self.open_tcp(bound.clone());
        }
        // With a listening socket smoltcp answers (once the host connects); without one, as
        // for a segment of no connection, with a RST.
        self.tcp.wire.rx.push_back(frame);
    }

    /// Opens the host side of a new guest connection from the port the table chose, asking
    /// the table again while the host has that port in use.
    fn open_tcp(&mut self, mut bound: HostBound) {
        if self.tcp.is_full() {
            // smoltcp answers the SYN with a RST: no socket listens for it.
            return self.host_drop(HostDrop::TcpFlowsFull);
        }
        let flags = bound.flags.map(|f| f.0);
        for _ in 0..BIND_TRIES {
            let d = &bound.decision;
            let side = GuestSide::sent(&d.before);
            let bind = SocketAddrV4::new(d.after.src, d.after.sport);
            let target = SocketAddrV4::new(d.after.dst, d.after.dport);
            let token = self.token();
            let registry = self.poll.registry();
            match self
                .tcp
                .open_outbound(token, side, d.before, bind, target, registry)
            {
                Ok(()) => {
                    self.by_orig.insert(d.before, side);
                    return;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    match lock(&self.nat).port_in_use(d, flags) {
                        Ok(again) => bound.decision = again,
                        Err(_) => return,
                    }
                }
                // Refused at once (nothing listens on a loopback port): smoltcp resets.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return,
                Err(_) => return self.host_drop(HostDrop::SocketRefused),
            }
        }
    }

    fn run_tcp(&mut self, now: smoltcp::time::Instant) {
        for orig in self.tcp.poll(now, self.poll.registry()) {
            self.by_orig.remove(&orig);
        }
        let frames = std::mem::take(&mut self.tcp.wire.tx);
        for frame in frames {
            if let Some((key, flags)) = wire::tcp_key(&frame) {
                lock(&self.nat).track_to_guest(key, flags);
            }
            self.send_to_guest(frame);
        }
    }

    fn udp_from_guest(&mut self, frame: Vec<u8>, bound: HostBound) {
        let d = &bound.decision;
        self.learn_guest(d.before.src);
        let payload = &frame[bound.payload.clone()];
        let side = GuestSide::sent(&d.before);
        if d.dir == labvisor_core::net::conntrack::Dir::Reply {
            // The guest answering a forwarded datagram: back out of the rule's listener.
            let to = SocketAddrV4::new(d.after.dst, d.after.dport);
            let from = SocketAddrV4::new(d.after.src, d.after.sport);
            if let Some(l) = self.listeners.iter().find(|l| l.addr == from) {
                if let ListenSocket::Udp(s) = &l.socket {
                    let _ = s.send_to(payload, SocketAddr::V4(to));
                }
            }
            return;
        }
        if self.udp.get(&side).is_none() {
            if self.udp.is_full() {
                // Dropped like a datagram the host cannot send; the guest may retry once
                // the table expires an idle flow and its socket closes.
                return self.host_drop(HostDrop::UdpFlowsFull);
            }
            let mut d = bound.decision.clone();
            for _ in 0..BIND_TRIES {
                let bind = SocketAddrV4::new(d.after.src, d.after.sport);
                let target = SocketAddrV4::new(d.after.dst, d.after.dport);
                let token = self.token();
                let registry = self.poll.registry();
                match self.udp.open(token, side, d.before, bind, target, registry) {
                    Ok(_) => {
                        self.by_orig.insert(d.before, side);
                        break;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                        match lock(&self.nat).port_in_use(&d, None) {
                            Ok(again) => d = again,
                            Err(_) => return,
                        }
                    }
                    Err(_) => return self.host_drop(HostDrop::SocketRefused),
                }
            }
        }
        self.udp.queue(&side, frame, bound.payload);
    }

    /// Datagrams on a flow's socket: replies for the guest, if the NAT still admits them.
    /// DNS answers come from 10.0.2.3:53, whatever the upstream's address.
    fn udp_replies(&mut self, token: Token) {
        let mut frames = Vec::new();
        let nat = &self.nat;
        self.udp.receive(token, |flow, from, payload| {
            let mut state = lock(nat);
            let to_guest = if flow.side.remote == DNS_IP {
                Ok(flow.orig.reversed())
            } else {
                let key = FlowKey {
                    proto: Proto::Udp,
                    src: *from.ip(),
                    sport: from.port(),
                    dst: *flow.local.ip(),
                    dport: flow.local.port(),
                };
                state.host_received(key, None).map(|d| d.after)
            };
            // A reply the table refuses is counted by the gateway.
            let Ok(to_guest) = to_guest else {
                return;
            };
            match state.gateway.udp_to_guest(&to_guest, payload) {
                Ok(f) => frames.push(f),
                Err(_) => state.host_drop(HostDrop::FrameNotBuilt),
            }
        });
        for f in frames {
            self.send_to_guest(f);
        }
    }

    /// Closes the flows whose entries the table expired, and DNS flows idle as long.
    fn expire(&mut self) {
        let gone = lock(&self.nat).expire();
        for entry in gone {
            let Some(side) = self.by_orig.remove(&entry.orig) else {
                continue;
            };
            match side.proto {
                Proto::Tcp => self.tcp.abort(&side),
                _ => self.udp.close(&side, self.poll.registry()),
            }
        }
        self.udp.close_idle(udp::DNS_IDLE, self.poll.registry());
    }
}

#[cfg(test)]
mod tests;
