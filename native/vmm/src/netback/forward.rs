//! Port forwards: each rule's host listener, bound before the VM boots, and what the backend
//! does when a host client arrives: the gateway's table admits it (the guest's DHCP address
//! where the rule has none, and the gateway as the source the guest sees, as VirtualBox
//! proxies forwarded connections), then TCP is connected into the guest through the engine
//! and UDP datagrams are carried both ways.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use labvisor_core::net::conntrack::FlowKey;
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::packet::Proto;
use mio::{Interest, Registry, Token};

use super::nat::HostDrop;
use super::{lock, Backend, GuestSide, NetError};

/// A forward's host socket.
pub(super) enum ListenSocket {
    Tcp(mio::net::TcpListener),
    Udp(mio::net::UdpSocket),
}

pub(super) struct Listener {
    pub(super) rule: PortForward,
    pub(super) addr: SocketAddrV4,
    pub(super) socket: ListenSocket,
}

impl Listener {
    /// Listens for `rule` on its host address, 127.0.0.1 when it names none.
    pub(super) fn bind(rule: &PortForward) -> Result<Listener, NetError> {
        let addr = SocketAddrV4::new(rule.host_ip.unwrap_or(Ipv4Addr::LOCALHOST), rule.host_port);
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
            Proto::Udp => {
                ListenSocket::Udp(mio::net::UdpSocket::bind(SocketAddr::V4(addr)).map_err(failed)?)
            }
            _ => ListenSocket::Tcp(
                mio::net::TcpListener::bind(SocketAddr::V4(addr)).map_err(failed)?,
            ),
        };
        Ok(Listener {
            rule: rule.clone(),
            addr,
            socket,
        })
    }

    pub(super) fn register(&mut self, registry: &Registry, token: Token) -> std::io::Result<()> {
        match &mut self.socket {
            ListenSocket::Tcp(s) => registry.register(s, token, Interest::READABLE),
            ListenSocket::Udp(s) => registry.register(s, token, Interest::READABLE),
        }
    }
}

impl Backend {
    /// A forward's listener is readable: accept (TCP) or take datagrams (UDP).
    pub(super) fn accept(&mut self, index: usize) {
        match &self.listeners[index].socket {
            ListenSocket::Tcp(_) => self.accept_tcp(index),
            ListenSocket::Udp(_) => self.forward_udp(index),
        }
    }

    fn accept_tcp(&mut self, index: usize) {
        loop {
            let ListenSocket::Tcp(listener) = &self.listeners[index].socket else {
                return;
            };
            let (stream, client) = match listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => return self.host_drop(HostDrop::SocketRefused),
            };
            let SocketAddr::V4(client) = client else {
                continue;
            };
            if self.tcp.is_full() {
                // Dropped unanswered: the client's connection is closed.
                self.host_drop(HostDrop::TcpFlowsFull);
                continue;
            }
            let key = arrival(client, self.listeners[index].addr, Proto::Tcp);
            // Refused by the table (no guest address yet, table full): the client's
            // connection is dropped, which closes it.
            let Ok(d) = lock(&self.nat).host_received(key, Some(0x02)) else {
                continue;
            };
            self.learn_guest(d.after.dst);
            let side = GuestSide::received(&d.after);
            let token = self.token();
            let registry = self.poll.registry();
            if self
                .tcp
                .open_inbound(token, side, key, stream, d.after.dst, registry)
                .is_ok()
            {
                self.by_orig.insert(key, side);
            }
        }
    }

    fn forward_udp(&mut self, index: usize) {
        let mut buf = vec![0u8; 65_536];
        loop {
            let ListenSocket::Udp(socket) = &self.listeners[index].socket else {
                return;
            };
            let (n, client) = match socket.recv_from(&mut buf) {
                Ok((n, SocketAddr::V4(client))) => (n, client),
                Ok(_) => continue,
                Err(_) => return,
            };
            let key = arrival(client, self.listeners[index].addr, Proto::Udp);
            let mut nat = lock(&self.nat);
            let Ok(d) = nat.host_received(key, None) else {
                continue;
            };
            let frame = nat.gateway.udp_to_guest(&d.after, &buf[..n]);
            drop(nat);
            match frame {
                Ok(f) => {
                    self.by_orig.insert(key, GuestSide::received(&d.after));
                    self.send_to_guest(f);
                }
                Err(_) => self.host_drop(HostDrop::FrameNotBuilt),
            }
        }
    }
}

/// The key of a packet from `client` arriving at the forward listening on `at`.
fn arrival(client: SocketAddrV4, at: SocketAddrV4, proto: Proto) -> FlowKey {
    FlowKey {
        proto,
        src: *client.ip(),
        sport: client.port(),
        dst: *at.ip(),
        dport: at.port(),
    }
}
