//! The TCP shell on port 23: the console's shell, offered in plain text to whoever connects
//! (telnet's port and telnet's lack of encryption; `nc` works as well as `telnet`).
//!
//! A session turns received bytes into command lines ([`LineReader`]: telnet's option
//! negotiation is skipped, not answered), queues them for the shell, and sends back what the shell's
//! commands printed. Everything a peer can make it hold is bounded: the line, the queue of
//! lines, the output not yet sent.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use labvisor_guest::telnet::LineReader;
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp::{self, State};

use super::SHELL_PORT;

/// Lines typed ahead of the shell.
const QUEUE_MAX: usize = 16;
/// Output waiting for the peer's window; past it, a command's output is cut.
const OUTBOX_MAX: usize = 4 << 20;
const BANNER: &[u8] =
    b"Labvisor guest OS: TCP shell (plain text, unencrypted). `help` lists commands, `exit` leaves.\r\n";
pub const PROMPT: &[u8] = b"labvisor# ";

pub struct Session {
    handle: SocketHandle,
    greeted: bool,
    reader: LineReader,
    commands: VecDeque<String>,
    outbox: VecDeque<u8>,
    /// The shell is running one of this session's commands.
    busy: bool,
    closing: bool,
}

impl Session {
    pub fn new(sockets: &mut SocketSet<'static>) -> Session {
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; 4096]),
            tcp::SocketBuffer::new(vec![0; 64 * 1024]),
        );
        let handle = sockets.add(socket);
        Session {
            handle,
            greeted: false,
            reader: LineReader::new(),
            commands: VecDeque::new(),
            outbox: VecDeque::new(),
            busy: false,
            closing: false,
        }
    }

    fn reset(&mut self) {
        self.greeted = false;
        self.reader.reset();
        self.commands.clear();
        self.outbox.clear();
        self.closing = false;
    }

    /// Moves bytes both ways; re-listens once a connection is over. `true` if anything moved.
    pub fn step(&mut self, sockets: &mut SocketSet<'static>) -> bool {
        let socket = sockets.get_mut::<tcp::Socket>(self.handle);
        match socket.state() {
            State::Closed => {
                self.reset();
                // Listening on a fixed port cannot fail on a closed socket.
                let _ = socket.listen(SHELL_PORT);
                return false;
            }
            State::Listen | State::SynReceived | State::SynSent => return false,
            _ => {}
        }
        let mut moved = false;
        if !self.greeted && socket.may_send() {
            self.greeted = true;
            self.outbox.extend(BANNER);
            self.outbox.extend(PROMPT);
        }
        let mut received = [0u8; 512];
        while socket.can_recv() {
            let Ok(n) = socket.recv_slice(&mut received) else {
                break;
            };
            if n == 0 {
                break;
            }
            moved = true;
            for &byte in &received[..n] {
                if let Some(line) = self.reader.feed(byte) {
                    if self.commands.len() < QUEUE_MAX {
                        self.commands.push_back(line);
                    }
                }
            }
        }
        while !self.outbox.is_empty() && socket.can_send() {
            let (front, _) = self.outbox.as_slices();
            match socket.send_slice(front) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    self.outbox.drain(..n);
                    moved = true;
                }
            }
        }
        let peer_done = socket.state() == State::CloseWait;
        let finished = self.outbox.is_empty() && !self.busy && self.commands.is_empty();
        if (peer_done || self.closing) && finished && socket.is_open() {
            socket.close();
        }
        moved
    }

    /// The next line to run, unless one is running or the session is closing.
    pub fn next_command(&mut self) -> Option<String> {
        if self.busy || self.closing {
            return None;
        }
        let command = self.commands.pop_front()?;
        self.busy = true;
        Some(command)
    }

    pub fn answer(&mut self, output: Vec<u8>, close: bool) {
        self.busy = false;
        if !self.greeted {
            // The peer left while its command ran; the output has nobody to go to.
            return;
        }
        let room = OUTBOX_MAX.saturating_sub(self.outbox.len());
        self.outbox.extend(&output[..output.len().min(room)]);
        if close {
            self.closing = true;
            self.commands.clear();
        } else {
            self.outbox.extend(PROMPT);
        }
    }
}
