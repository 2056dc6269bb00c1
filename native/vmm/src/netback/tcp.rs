//! The guest's TCP, terminated on the host by smoltcp and spliced to host `TcpStream`s.
//!
//! smoltcp runs with `any_ip`, so it takes segments for any destination; it has no wildcard
//! listen, so a guest SYN that the NAT admitted first gets a socket listening on exactly its
//! (destination, port), with its SYN-ACK held back (`pause_synack`) until the host's
//! non-blocking `connect()` succeeds. A refused connect aborts the socket, which answers the
//! guest with a RST; a SYN the NAT refused finds no socket, and smoltcp answers that with a
//! RST too. A forwarded connection runs the other way: the host accepted it, and smoltcp
//! connects from the gateway to the guest's port; if the guest refuses, the host client is
//! reset (SO_LINGER 0). Delayed ACKs are off and each direction's buffer holds at least
//! [`BUFFER_BYTES`] and [`BUFFER_SEGMENTS`] full frames, so that the window, not the engine,
//! is never what limits loopback speed.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4};

use mio::{Interest, Registry, Token};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, IpEndpoint};

use labvisor_core::net::conntrack::FlowKey;

use super::wire::EngineWire;
use super::GuestSide;

/// The least each direction's buffer in the engine holds, per connection.
pub const BUFFER_BYTES: usize = 256 * 1024;
/// Connections the engine holds at once, at most: each has two buffers, so the NAT table's
/// bound (65 536 entries by default) would be gigabytes.
pub const MAX_FLOWS: usize = 4096;
/// Full-size segments each buffer holds at least: at MTU 65520, 256 KiB would be four
/// segments in flight, and every one a round trip through two threads.
pub const BUFFER_SEGMENTS: usize = 32;
/// Full-size segments of host data a connection may have on their way to the guest and not
/// yet acknowledged; the rest waits in the host socket. The frames for the guest form one
/// first-in first-out line, so without a bound a bulk transfer puts its whole window (the
/// guest's 256 KiB, 180 frames) in front of every other connection's SYN and ACK: seconds,
/// for a guest whose instructions are emulated. 32 frames is about what QEMU's slirp keeps in
/// flight to a guest, and more than a guest polling natively takes in one round.
pub const IN_FLIGHT_SEGMENTS: usize = 32;
/// How long the engine holds back the acknowledgement of the guest's data, waiting for host
/// data or a FIN to carry it. Every frame costs the guest an ingress round's work, which is
/// milliseconds when its instructions are emulated: an echo answered and closed by the host
/// within this delay reaches the guest as one FIN-ACK, not an ACK and then a FIN (the extra
/// frame cost an emulated guest about a tenth of its connection rate). One millisecond is
/// far below what an emulated guest notices, and smoltcp still acknowledges every second
/// full-size segment at once (RFC 1122 §4.2.3.2), so bulk transfers are not held back.
pub const ACK_DELAY: Duration = Duration::from_millis(1);

/// One spliced connection.
pub(super) struct TcpFlow {
    side: GuestSide,
    /// The NAT entry's original tuple.
    orig: FlowKey,
    handle: SocketHandle,
    host: mio::net::TcpStream,
    /// The host connection is up (an outbound `connect()` completed, or it was accepted).
    host_connected: bool,
    host_read_done: bool,
    host_write_done: bool,
    /// The guest's side reached ESTABLISHED at least once.
    guest_established: bool,
    /// Ended by the NAT (its entry expired): nothing more is delivered either way.
    expired: bool,
}

/// The engine: smoltcp's interface and sockets, and the flows they belong to.
pub(super) struct TcpEngine {
    iface: Interface,
    pub(super) wire: EngineWire,
    sockets: SocketSet<'static>,
    flows: HashMap<Token, TcpFlow>,
    by_side: HashMap<GuestSide, Token>,
}

impl TcpEngine {
    /// An engine answering as the gateway `gateway_mac`/`gateway_ip` on a /24, with frames of
    /// at most `mtu` bytes of IP.
    pub(super) fn new(gateway_mac: [u8; 6], gateway_ip: Ipv4Addr, mtu: usize) -> TcpEngine {
        let mut wire = EngineWire {
            rx: Default::default(),
            tx: Vec::new(),
            mtu,
        };
        let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(gateway_mac)));
        config.random_seed = random_seed();
        let mut iface = Interface::new(config, &mut wire, Instant::ZERO);
        iface.set_any_ip(true);
        iface.update_ip_addrs(|addrs| {
            let _ = addrs.push(IpCidr::new(gateway_ip.into(), 24));
        });
        TcpEngine {
            iface,
            wire,
            sockets: SocketSet::new(Vec::new()),
            flows: HashMap::new(),
            by_side: HashMap::new(),
        }
    }

    /// Whether the engine holds [`MAX_FLOWS`] connections.
    pub(super) fn is_full(&self) -> bool {
        self.flows.len() >= MAX_FLOWS
    }

    /// The bytes of host data one connection may have in flight to the guest.
    fn in_flight_bytes(&self) -> usize {
        IN_FLIGHT_SEGMENTS * self.wire.mtu
    }

    fn new_socket(&self) -> tcp::Socket<'static> {
        let bytes = BUFFER_BYTES.max(BUFFER_SEGMENTS * self.wire.mtu);
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0u8; bytes]),
            tcp::SocketBuffer::new(vec![0u8; bytes]),
        );
        socket.set_ack_delay(Some(ACK_DELAY));
        socket.set_nagle_enabled(false);
        socket
    }

    /// A guest SYN the NAT admitted: connect to `target` from `bind` on the host and listen
    /// for the guest on (remote, remote port) with the SYN-ACK held.
    pub(super) fn open_outbound(
        &mut self,
        token: Token,
        side: GuestSide,
        orig: FlowKey,
        bind: SocketAddrV4,
        target: SocketAddrV4,
        registry: &Registry,
    ) -> std::io::Result<()> {
        let host = connect_from(bind, target)?;
        let mut host = mio::net::TcpStream::from_std(host);
        registry.register(&mut host, token, Interest::READABLE | Interest::WRITABLE)?;
        let mut socket = self.new_socket();
        socket
            .listen(IpEndpoint::new(side.remote.into(), side.remote_port))
            .map_err(|e| std::io::Error::other(format!("smoltcp listen: {e}")))?;
        socket.pause_synack(true);
        let handle = self.sockets.add(socket);
        self.insert(token, side, orig, handle, host, false);
        Ok(())
    }

    /// A host client accepted on a forward: connect into the guest from the gateway.
    pub(super) fn open_inbound(
        &mut self,
        token: Token,
        side: GuestSide,
        orig: FlowKey,
        mut host: mio::net::TcpStream,
        guest_ip: Ipv4Addr,
        registry: &Registry,
    ) -> std::io::Result<()> {
        registry.register(&mut host, token, Interest::READABLE | Interest::WRITABLE)?;
        let mut socket = self.new_socket();
        socket
            .connect(
                self.iface.context(),
                IpEndpoint::new(guest_ip.into(), side.guest_port),
                IpEndpoint::new(side.remote.into(), side.remote_port),
            )
            .map_err(|e| std::io::Error::other(format!("smoltcp connect: {e}")))?;
        let handle = self.sockets.add(socket);
        self.insert(token, side, orig, handle, host, true);
        Ok(())
    }

    fn insert(
        &mut self,
        token: Token,
        side: GuestSide,
        orig: FlowKey,
        handle: SocketHandle,
        host: mio::net::TcpStream,
        host_connected: bool,
    ) {
        self.by_side.insert(side, token);
        self.flows.insert(
            token,
            TcpFlow {
                side,
                orig,
                handle,
                host,
                host_connected,
                host_read_done: false,
                host_write_done: false,
                guest_established: false,
                expired: false,
            },
        );
    }

    /// Runs smoltcp and moves data between every flow and its host socket until nothing
    /// moves; flows that ended are removed, their NAT entries' original tuples returned.
    pub(super) fn poll(&mut self, now: Instant, registry: &Registry) -> Vec<FlowKey> {
        let mut ended = Vec::new();
        let in_flight = self.in_flight_bytes();
        for _ in 0..16 {
            self.iface.poll(now, &mut self.wire, &mut self.sockets);
            let mut moved = false;
            let tokens: Vec<Token> = self.flows.keys().copied().collect();
            for token in tokens {
                let Some(flow) = self.flows.get_mut(&token) else {
                    continue;
                };
                let socket = self.sockets.get_mut::<tcp::Socket>(flow.handle);
                // Judged after smoltcp's poll, so the RST of an abort has gone out.
                if finished(flow, socket) {
                    let flow = self.flows.remove(&token).expect("present");
                    self.remove(flow, registry, &mut ended);
                    continue;
                }
                moved |= splice(flow, socket, in_flight);
            }
            if !moved {
                break;
            }
        }
        ended
    }

    fn remove(&mut self, mut flow: TcpFlow, registry: &Registry, ended: &mut Vec<FlowKey>) {
        self.by_side.remove(&flow.side);
        let socket = self.sockets.remove(flow.handle);
        if matches!(socket, smoltcp::socket::Socket::Tcp(ref s) if s.state() == State::TimeWait)
            && !flow.host_write_done
        {
            // Both FINs were exchanged with the guest (TIME-WAIT is reached no other way), the
            // guest's in the same poll that ends the flow: it is owed to the host peer as a
            // FIN, before the socket closes.
            let _ = flow.host.shutdown(Shutdown::Write);
            flow.host_write_done = true;
        }
        let _ = registry.deregister(&mut flow.host);
        if !(flow.host_read_done && flow.host_write_done) {
            // The guest reset or refused the connection: the host peer sees a RST, not an
            // orderly close.
            let _ = socket2::SockRef::from(&flow.host).set_linger(Some(std::time::Duration::ZERO));
        }
        ended.push(flow.orig);
    }

    /// Aborts the flow of `side`, whose NAT entry expired: the guest gets a RST, the host
    /// peer too.
    pub(super) fn abort(&mut self, side: &GuestSide) {
        if let Some(flow) = self.by_side.get(side).and_then(|t| self.flows.get_mut(t)) {
            self.sockets.get_mut::<tcp::Socket>(flow.handle).abort();
            flow.host_read_done = false;
            flow.expired = true;
        }
    }

    /// How long smoltcp may sleep before it has timers to run.
    pub(super) fn poll_delay(&mut self, now: Instant) -> Option<std::time::Duration> {
        self.iface
            .poll_delay(now, &self.sockets)
            .map(|d| std::time::Duration::from_micros(d.total_micros()))
    }
}

/// Moves what can move between the guest's socket and the host's, keeping at most
/// `in_flight` bytes of host data queued for the guest; returns whether anything did.
fn splice(flow: &mut TcpFlow, socket: &mut tcp::Socket, in_flight: usize) -> bool {
    let mut moved = false;
    if !flow.host_connected {
        match flow.host.take_error() {
            Ok(None) if flow.host.peer_addr().is_ok() => {
                flow.host_connected = true;
                socket.pause_synack(false);
                moved = true;
            }
            Ok(None) => return false,
            Ok(Some(_)) | Err(_) => {
                // Refused or unreachable: the guest gets a RST.
                socket.abort();
                flow.host_read_done = true;
                flow.host_write_done = true;
                return true;
            }
        }
    }
    if socket.state() == State::Established {
        flow.guest_established = true;
    }
    // Guest → host.
    while socket.can_recv() {
        let wrote = socket.recv(|buf| match flow.host.write(buf) {
            Ok(n) => (n, Ok(n)),
            Err(e) => (0, Err(e)),
        });
        match wrote {
            Ok(Ok(n)) if n > 0 => moved = true,
            Ok(Err(e)) if e.kind() != ErrorKind::WouldBlock => {
                socket.abort();
                return true;
            }
            _ => break,
        }
    }
    if !socket.may_recv()
        && socket.recv_queue() == 0
        && flow.guest_established
        && !flow.host_write_done
    {
        let _ = flow.host.shutdown(Shutdown::Write);
        flow.host_write_done = true;
        moved = true;
    }
    // A host peer that closed its socket answers the guest's data after its FIN with a reset.
    // Relayed at once, not at the next write (the next segment from the guest, which may
    // be a whole window it has queued, each frame checksummed instruction by instruction
    // when the guest is emulated), so the guest stops sending into a closed connection.
    if flow.host_read_done && !flow.host_write_done {
        if let Ok(Some(_)) = flow.host.take_error() {
            socket.abort();
            return true;
        }
    }
    // Host → guest. The host socket is read again whenever the guest's ACKs make room: each
    // poll tries every flow, so no readiness event is needed.
    while !flow.host_read_done && socket.can_send() && socket.send_queue() < in_flight {
        let room = in_flight - socket.send_queue();
        let read = socket.send(|buf| {
            let take = room.min(buf.len());
            let buf = &mut buf[..take];
            match flow.host.read(buf) {
                Ok(n) => (n, Ok(n)),
                Err(e) => (0, Err(e)),
            }
        });
        match read {
            Ok(Ok(0)) => {
                flow.host_read_done = true;
                socket.close();
                moved = true;
            }
            Ok(Ok(_)) => moved = true,
            Ok(Err(e)) if e.kind() == ErrorKind::WouldBlock => break,
            Ok(Err(_)) => {
                socket.abort();
                return true;
            }
            Err(_) => break,
        }
    }
    moved
}

/// Whether a flow is over: the guest's side closed (or never opened) with nothing left for
/// the host, or the NAT ended it (data a host peer never read is not kept for it).
fn finished(flow: &TcpFlow, socket: &tcp::Socket) -> bool {
    match socket.state() {
        State::Closed | State::TimeWait => {
            flow.expired || socket.recv_queue() == 0 || flow.host_write_done
        }
        _ => false,
    }
}

/// A non-blocking TCP connection from `bind` to `target`, started; it completes (or fails)
/// later, reported through the socket's writability and `SO_ERROR`. `SO_REUSEADDR` lets the
/// NAT's port be reused towards another destination, as the table allows.
fn connect_from(bind: SocketAddrV4, target: SocketAddrV4) -> std::io::Result<std::net::TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_reuse_address(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&SocketAddr::V4(bind).into())?;
    match socket.connect(&SocketAddr::V4(target).into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// A seed for smoltcp's initial sequence numbers, fresh in every run from the host's
/// `getrandom`: predictable sequence numbers would let anyone who can reach a forward
/// guess their way into its connections.
fn random_seed() -> u64 {
    let mut seed = [0u8; 8];
    // Without the kernel's randomness (never on Linux ≥ 3.17), fall back to the clock.
    if getrandom::getrandom(&mut seed).is_err() {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        return now.map_or(0, |d| d.as_nanos() as u64);
    }
    u64::from_le_bytes(seed)
}
