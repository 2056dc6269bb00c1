//! Port forwards: each rule's host listener, bound before the VM boots, and what the backend
//! does when a host client arrives: the NAT admits it with `inbound_as` (the guest sees it
//! come from the gateway, as VirtualBox proxies it), then TCP is connected into the guest
//! through the engine and UDP datagrams are carried both ways.

use std::io::ErrorKind;
use std::net::SocketAddr;

use labvisor_core::net::conntrack::FlowKey;
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::packet::Proto;

use super::{lock, reversed, wire, Backend, FlowNat, GuestSide, GATEWAY_IP, GATEWAY_MAC};
use std::net::SocketAddrV4;

/// A forward listener, bound before boot.
pub(super) enum ListenSocket {
    Tcp(mio::net::TcpListener),
    Udp(mio::net::UdpSocket),
}

pub(super) struct Listener {
    pub(super) rule: PortForward,
    pub(super) addr: SocketAddrV4,
    pub(super) socket: ListenSocket,
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
                Err(_) => return self.dropped("tcp forward: accept failed"),
            };
            let SocketAddr::V4(client) = client else {
                continue;
            };
            let key = FlowKey {
                proto: Proto::Tcp,
                src: *client.ip(),
                sport: client.port(),
                dst: *self.listeners[index].addr.ip(),
                dport: self.listeners[index].addr.port(),
            };
            let decision = lock(&self.nat).inbound(key, Some(0x02), true);
            let d = match decision {
                Ok(d) => d,
                Err(e) => {
                    self.dropped(format!("tcp forward: {e}"));
                    continue;
                }
            };
            let side = GuestSide {
                proto: Proto::Tcp,
                guest_port: d.after.dport,
                remote: d.after.src,
                remote_port: d.after.sport,
            };
            let nat = FlowNat {
                orig: key,
                from_guest: reversed(d.after),
                to_guest: key,
                ext_ip: GATEWAY_IP,
            };
            let token = self.token();
            let registry = self.poll.registry();
            match self
                .tcp
                .open_inbound(token, side, nat, stream, d.after.dst, registry)
            {
                Ok(()) => {
                    self.by_orig.insert(key, side);
                }
                Err(_) => self.dropped("tcp forward: the engine could not connect to the guest"),
            }
        }
    }

    pub(super) fn forward_udp(&mut self, index: usize) {
        let mut buf = vec![0u8; 65_536];
        loop {
            let ListenSocket::Udp(socket) = &self.listeners[index].socket else {
                return;
            };
            let (n, client) = match socket.recv_from(&mut buf) {
                Ok(got) => got,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => return,
            };
            let (SocketAddr::V4(client_v4), Some(guest_mac)) = (client, self.guest_mac) else {
                self.dropped(
                    "udp forward: the guest has not sent a frame yet (its MAC is unknown)",
                );
                continue;
            };
            let key = FlowKey {
                proto: Proto::Udp,
                src: *client_v4.ip(),
                sport: client_v4.port(),
                dst: *self.listeners[index].addr.ip(),
                dport: self.listeners[index].addr.port(),
            };
            let decision = lock(&self.nat).inbound(key, None, true);
            let d = match decision {
                Ok(d) => d,
                Err(e) => {
                    self.dropped(format!("udp forward: {e}"));
                    continue;
                }
            };
            let side = GuestSide {
                proto: Proto::Udp,
                guest_port: d.after.dport,
                remote: d.after.src,
                remote_port: d.after.sport,
            };
            self.udp_peers.insert(side, (index, client));
            self.by_orig.insert(key, side);
            let frame = wire::udp_frame(
                (GATEWAY_MAC, guest_mac),
                (d.after.src, d.after.sport),
                (d.after.dst, d.after.dport),
                &buf[..n],
            );
            self.send_to_guest(frame);
        }
    }
}
