//! `serve udp-echo PORT`: the UDP echo service of RFC 862, each datagram sent back to
//! whoever sent it, so a test can make a UDP round trip through a port forward. Stepped by
//! every poll like the TCP services.

use alloc::vec;

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp;

/// Datagrams queued each way before smoltcp drops more.
const DATAGRAMS: usize = 16;
/// Payload bytes queued each way: a few full-MTU datagrams.
const BUFFER: usize = 16 * 1024;
/// The largest datagram echoed whole; a larger one is cut by the receive buffer.
const DATAGRAM_MAX: usize = 1500;

pub struct UdpEcho {
    pub port: u16,
    handle: SocketHandle,
    pub datagrams: u64,
    pub bytes: u64,
}

impl UdpEcho {
    /// Binds `port`; `None` if smoltcp refuses it.
    pub fn new(sockets: &mut SocketSet<'static>, port: u16) -> Option<UdpEcho> {
        let buffer =
            || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; DATAGRAMS], vec![0; BUFFER]);
        let mut socket = udp::Socket::new(buffer(), buffer());
        socket.bind(port).ok()?;
        Some(UdpEcho {
            port,
            handle: sockets.add(socket),
            datagrams: 0,
            bytes: 0,
        })
    }

    /// Echoes what arrived while there is room to send it; `true` if anything was echoed.
    pub fn step(&mut self, sockets: &mut SocketSet<'static>) -> bool {
        let socket = sockets.get_mut::<udp::Socket>(self.handle);
        let mut datagram = [0u8; DATAGRAM_MAX];
        let before = self.datagrams;
        while socket.can_recv() && socket.can_send() {
            let Ok((n, meta)) = socket.recv_slice(&mut datagram) else {
                break;
            };
            if socket.send_slice(&datagram[..n], meta).is_ok() {
                self.datagrams += 1;
                self.bytes += n as u64;
            }
        }
        self.datagrams != before
    }
}
