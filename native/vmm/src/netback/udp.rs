//! The guest's UDP: one host `UdpSocket` per flow, bound to the external port the NAT chose
//! and connected to the destination, so the kernel itself filters replies from anyone else.
//! A reply is checked against the NAT table again before it is turned into a frame: once the
//! table has expired the flow, replies are dropped, as a real NAT drops them.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{SocketAddr, SocketAddrV4};
use std::ops::Range;
use std::time::{Duration, Instant};

use labvisor_core::net::conntrack::FlowKey;
use mio::{Interest, Registry, Token};

use super::{batch, GuestSide};

/// How long a DNS query's socket waits for answers: the NAT's unreplied-UDP timeout.
pub(super) const DNS_IDLE: Duration = Duration::from_secs(30);
/// DNS query flows open at once, at most (each is a host socket).
pub(super) const DNS_FLOWS: usize = 256;
/// Other UDP flows open at once, at most: each holds a host socket (a file descriptor), and a
/// guest that sends from or to ever new ports would otherwise open one per datagram until the
/// NAT table expires them. QEMU's slirp has no bound of its own.
pub(super) const MAX_FLOWS: usize = 1024;

/// The longest datagram carried (the largest IPv4 UDP payload).
const MAX_DATAGRAM: usize = 65_507;

pub(super) struct UdpFlow {
    pub(super) side: GuestSide,
    /// The NAT entry's original tuple (a DNS query's key, for DNS).
    pub(super) orig: FlowKey,
    /// The address the socket is bound to: the external address and port.
    pub(super) local: SocketAddrV4,
    socket: mio::net::UdpSocket,
    last_used: Instant,
}

/// The UDP flows, by token and by the guest's side.
#[derive(Default)]
pub(super) struct UdpFlows {
    flows: HashMap<Token, UdpFlow>,
    by_side: HashMap<GuestSide, Token>,
    scratch: Vec<u8>,
    /// Guest datagrams to send at the end of this wake-up: the flow, the frame, and where in
    /// it the payload is. Sent by [`UdpFlows::flush`], a flow's burst in one system call.
    outbox: Vec<(Token, Vec<u8>, Range<usize>)>,
}

impl UdpFlows {
    /// The flow of a guest datagram, if it has one.
    pub(super) fn get(&self, side: &GuestSide) -> Option<&UdpFlow> {
        self.by_side.get(side).and_then(|t| self.flows.get(t))
    }

    /// A new flow: a socket bound to `bind`, connected to `target`.
    pub(super) fn open(
        &mut self,
        token: Token,
        side: GuestSide,
        orig: FlowKey,
        bind: SocketAddrV4,
        target: SocketAddrV4,
        registry: &Registry,
    ) -> std::io::Result<&UdpFlow> {
        let socket = std::net::UdpSocket::bind(bind)?;
        socket.connect(target)?;
        let local = match socket.local_addr()? {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(_) => bind,
        };
        socket.set_nonblocking(true)?;
        let mut socket = mio::net::UdpSocket::from_std(socket);
        registry.register(&mut socket, token, Interest::READABLE)?;
        self.by_side.insert(side, token);
        Ok(self.flows.entry(token).or_insert(UdpFlow {
            side,
            orig,
            local,
            socket,
            last_used: Instant::now(),
        }))
    }

    /// Queues a guest datagram (its `payload` range of `frame`) on the flow of `side`, for
    /// [`UdpFlows::flush`]; `false` if the side has no flow.
    pub(super) fn queue(
        &mut self,
        side: &GuestSide,
        frame: Vec<u8>,
        payload: Range<usize>,
    ) -> bool {
        let Some(&token) = self.by_side.get(side) else {
            return false;
        };
        self.outbox.push((token, frame, payload));
        true
    }

    /// Sends every queued datagram, each flow's in order and in as few system calls as
    /// [`batch::send_all`] needs. Returns how many the host refused (a full socket buffer
    /// drops a datagram, as UDP may).
    pub(super) fn flush(&mut self) -> u64 {
        let mut outbox = std::mem::take(&mut self.outbox);
        // A stable sort: flows interleaved by the guest become one burst each, in order.
        outbox.sort_by_key(|(token, _, _)| token.0);
        let mut refused = 0;
        let mut rest = &outbox[..];
        while let Some((token, _, _)) = rest.first() {
            let run = rest.iter().take_while(|(t, _, _)| t == token).count();
            let (burst, after) = rest.split_at(run);
            rest = after;
            let sent = match self.flows.get(token) {
                Some(flow) => {
                    let payloads: Vec<&[u8]> =
                        burst.iter().map(|(_, f, r)| &f[r.clone()]).collect();
                    batch::send_all(&flow.socket, &payloads)
                }
                None => 0,
            };
            refused += (run - sent) as u64;
        }
        outbox.clear();
        self.outbox = outbox;
        refused
    }

    /// Every datagram waiting on flow `token`'s socket, to `each` with the flow and the
    /// sender.
    pub(super) fn receive(
        &mut self,
        token: Token,
        mut each: impl FnMut(&UdpFlow, SocketAddrV4, &[u8]),
    ) {
        let Some(flow) = self.flows.get_mut(&token) else {
            return;
        };
        flow.last_used = Instant::now();
        self.scratch.resize(MAX_DATAGRAM, 0);
        loop {
            match flow.socket.recv_from(&mut self.scratch) {
                Ok((n, SocketAddr::V4(from))) => each(flow, from, &self.scratch[..n]),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                // An ICMP error from the host's stack (port unreachable): nothing to carry.
                Err(_) => break,
            }
        }
    }

    /// Closes the flow of `side` (its NAT entry expired).
    pub(super) fn close(&mut self, side: &GuestSide, registry: &Registry) {
        if let Some(token) = self.by_side.remove(side) {
            if let Some(mut flow) = self.flows.remove(&token) {
                let _ = registry.deregister(&mut flow.socket);
            }
        }
    }

    /// DNS query flows open now.
    pub(super) fn dns_flows(&self) -> usize {
        self.flows
            .values()
            .filter(|f| f.side.remote == super::DNS_IP)
            .count()
    }

    /// Whether [`MAX_FLOWS`] flows other than DNS queries are open.
    pub(super) fn is_full(&self) -> bool {
        self.flows.len() >= MAX_FLOWS && self.flows.len() - self.dns_flows() >= MAX_FLOWS
    }

    /// Closes DNS flows (those without a NAT entry to expire them) idle for `idle`.
    pub(super) fn close_idle(&mut self, idle: Duration, registry: &Registry) {
        let stale: Vec<GuestSide> = self
            .flows
            .values()
            .filter(|f| f.side.remote == super::DNS_IP && f.last_used.elapsed() >= idle)
            .map(|f| f.side)
            .collect();
        for side in stale {
            self.close(&side, registry);
        }
    }
}
