//! The test services of `serve`: echo (RFC 862), discard (RFC 863) and chargen (RFC 864) on
//! a TCP port, up to [`SOCKETS`] connections at a time, each socket listening again when its
//! connection ends. They run in the background, stepped by every poll, so benchmarks can drive
//! them while the shell is free.

use alloc::vec;

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp::{self, State};

/// Bytes of a bulk direction's socket buffer (discard's receive, chargen's send): room for a
/// window large enough for bulk runs.
const BULK_BUFFER: usize = 256 * 1024;
/// Bytes of the other buffers: echo's both ways, the direction that carries nothing bulk.
/// Small, because every buffer is zeroed when the service starts, which takes long when
/// the guest is emulated.
const SMALL_BUFFER: usize = 16 * 1024;
/// Sockets per service. smoltcp has no listen backlog: a SYN that finds no socket in LISTEN
/// is answered with a RST. With one socket, a client's next connection often arrives while
/// the last one is still closing (FIN, ACK, LAST-ACK: several poll rounds, long ones when the
/// guest is emulated) and is refused; a second socket already listening takes it.
const SOCKETS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Echo,
    Discard,
    Chargen,
}

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        match name {
            "echo" => Some(Kind::Echo),
            "discard" => Some(Kind::Discard),
            "chargen" => Some(Kind::Chargen),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Echo => "echo",
            Kind::Discard => "discard",
            Kind::Chargen => "chargen",
        }
    }
}

pub struct Service {
    pub kind: Kind,
    pub port: u16,
    sockets: vec::Vec<Connection>,
    pub connections: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// One of a service's sockets and what it knows of its connection.
struct Connection {
    handle: SocketHandle,
    /// Where in chargen's period the next byte is.
    chargen_at: usize,
    connected: bool,
}

/// chargen's output (RFC 864): 95 lines of 72 characters, each starting one character
/// further along the printable ASCII characters, repeated for as long as the peer reads.
const CHARGEN_PERIOD: usize = 95 * 74;

fn chargen_byte(at: usize) -> u8 {
    let (line, column) = (at / 74, at % 74);
    match column {
        72 => b'\r',
        73 => b'\n',
        _ => b' ' + ((line + column) % 95) as u8,
    }
}

/// One period of chargen, built once so that sending is a copy.
fn chargen_pattern() -> &'static [u8] {
    static PATTERN: crate::sync::SpinLock<Option<&'static [u8]>> = crate::sync::SpinLock::new(None);
    let mut pattern = PATTERN.lock();
    pattern.get_or_insert_with(|| {
        let bytes: alloc::vec::Vec<u8> = (0..CHARGEN_PERIOD).map(chargen_byte).collect();
        alloc::vec::Vec::leak(bytes)
    })
}

impl Service {
    pub fn new(sockets: &mut SocketSet<'static>, kind: Kind, port: u16) -> Service {
        let connections = (0..SOCKETS)
            .map(|_| {
                let (receive, send) = match kind {
                    Kind::Discard => (BULK_BUFFER, SMALL_BUFFER),
                    Kind::Chargen => (SMALL_BUFFER, BULK_BUFFER),
                    Kind::Echo => (SMALL_BUFFER, SMALL_BUFFER),
                };
                let mut socket = tcp::Socket::new(
                    tcp::SocketBuffer::new(vec![0; receive]),
                    tcp::SocketBuffer::new(vec![0; send]),
                );
                socket.set_ack_delay(None);
                socket.set_nagle_enabled(false);
                Connection {
                    handle: sockets.add(socket),
                    chargen_at: 0,
                    connected: false,
                }
            })
            .collect();
        Service {
            kind,
            port,
            sockets: connections,
            connections: 0,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// Serves every connection there is; `true` if bytes moved.
    pub fn step(&mut self, sockets: &mut SocketSet<'static>) -> bool {
        let before = self.bytes_in + self.bytes_out;
        for at in 0..self.sockets.len() {
            self.step_one(at, sockets);
        }
        self.bytes_in + self.bytes_out != before
    }

    fn step_one(&mut self, at: usize, sockets: &mut SocketSet<'static>) {
        let connection = &mut self.sockets[at];
        let socket = sockets.get_mut::<tcp::Socket>(connection.handle);
        match socket.state() {
            State::Closed => {
                connection.connected = false;
                let _ = socket.listen(self.port);
                return;
            }
            State::Listen | State::SynReceived | State::SynSent => return,
            _ => {}
        }
        if !connection.connected {
            connection.connected = true;
            self.connections += 1;
        }
        match self.kind {
            Kind::Discard => {
                while let Ok(n) = socket.recv(|data| (data.len(), data.len())) {
                    if n == 0 {
                        break;
                    }
                    self.bytes_in += n as u64;
                }
            }
            Kind::Echo => {
                let mut chunk = [0u8; 2048];
                while socket.can_recv() && socket.can_send() {
                    let room = (socket.send_capacity() - socket.send_queue()).min(chunk.len());
                    let Ok(n) = socket.recv_slice(&mut chunk[..room]) else {
                        break;
                    };
                    if n == 0 {
                        break;
                    }
                    self.bytes_in += n as u64;
                    let sent = socket.send_slice(&chunk[..n]).unwrap_or(0);
                    self.bytes_out += sent as u64;
                }
            }
            Kind::Chargen => {
                while let Ok(n) = socket.recv(|data| (data.len(), data.len())) {
                    if n == 0 {
                        break;
                    }
                    self.bytes_in += n as u64;
                }
                // RFC 864: the data flows until the client closes; none is made after that
                // for a reader who has gone.
                if socket.state() != State::CloseWait {
                    self.bytes_out += send_chargen(socket, &mut connection.chargen_at) as u64;
                }
            }
        }
        // The peer has sent everything: close once the data is read (and echoed back);
        // chargen's data was for a reader who has gone.
        let answered = self.kind == Kind::Chargen || socket.send_queue() == 0;
        if socket.state() == State::CloseWait && !socket.can_recv() && answered {
            socket.close();
        }
    }
}

/// Fills `socket`'s send buffer with chargen's pattern from `at` on; the bytes queued.
fn send_chargen(socket: &mut tcp::Socket, at: &mut usize) -> usize {
    let pattern = chargen_pattern();
    socket
        .send(|room| {
            let mut n = 0;
            while n < room.len() {
                let take = (room.len() - n).min(CHARGEN_PERIOD - *at);
                room[n..n + take].copy_from_slice(&pattern[*at..*at + take]);
                n += take;
                *at = (*at + take) % CHARGEN_PERIOD;
            }
            (n, n)
        })
        .unwrap_or(0)
}
