//! The terminal side of the serial console: raw mode while the VM runs (restored on drop),
//! a thread that moves keystrokes from stdin into the UART's input queue, and a thread that
//! writes the guest's output to the terminal ([`TerminalWriter`]), so that a slow or stuck
//! terminal never holds up a vCPU.
//!
//! As in QEMU, `Ctrl-A x` stops the VM, `Ctrl-A h` prints help and `Ctrl-A Ctrl-A` sends
//! a literal Ctrl-A. The escape is only looked for when stdin is a terminal: piped input
//! reaches the guest byte for byte.

use std::io::{IsTerminal, Read, Write};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use vmm_sys_util::terminal::Terminal;

use super::devices::doorbell::Doorbell;
use super::devices::serial::InputQueue;
use super::VmEvent;

const CTRL_A: u8 = 0x01;

/// Puts the terminal in raw mode for as long as it lives.
///
/// It works on a descriptor of its own: the stdin thread holds std's stdin lock while it waits
/// in `read`, so restoring the mode through that lock would wait for a key press before
/// `vm run` could exit.
pub struct RawTerminal {
    terminal: Option<Tty>,
}

/// A descriptor of the terminal, owned for as long as the value lives.
struct Tty(std::os::fd::OwnedFd);

// SAFETY: `tty_fd` returns the descriptor this value owns, open for its whole life; it was
// duplicated from stdin after `is_terminal` said stdin is a terminal.
unsafe impl Terminal for Tty {
    fn tty_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.0.as_raw_fd()
    }
}

impl RawTerminal {
    /// Raw mode if stdin is a terminal; a no-op otherwise.
    pub fn enter() -> RawTerminal {
        use std::os::fd::AsFd;
        let stdin = std::io::stdin();
        let terminal = stdin
            .is_terminal()
            .then(|| stdin.as_fd().try_clone_to_owned().ok())
            .flatten()
            .map(Tty)
            .filter(|t| t.set_raw_mode().is_ok());
        RawTerminal { terminal }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        if let Some(terminal) = &self.terminal {
            let _ = terminal.set_canon_mode();
        }
    }
}

/// Starts the thread feeding stdin to the guest (ringing `doorbell` so a guest idling for a
/// key reads it at once). It ends at end of input; when the VM ends first the process exits
/// and takes it along.
pub fn spawn_stdin_reader(input: InputQueue, doorbell: Arc<Doorbell>, events: Sender<VmEvent>) {
    let interactive = std::io::stdin().is_terminal();
    let _ = std::thread::Builder::new().name("stdin".into()).spawn(move || {
        crate::seccomp::confine_thread(crate::seccomp::Role::Stdin);
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 256];
        let mut escape = false;
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    input.lock().unwrap_or_else(|p| p.into_inner()).ended = true;
                    doorbell.ring();
                    return;
                }
                Ok(n) => n,
            };
            let mut bytes = Vec::with_capacity(n);
            for &b in &buf[..n] {
                if !interactive {
                    bytes.push(b);
                } else if escape {
                    escape = false;
                    match b {
                        b'x' | b'X' => {
                            let _ = events.send(VmEvent::ConsoleQuit);
                            return;
                        }
                        b'd' | b'D' => {
                            let _ = events.send(VmEvent::ShowDisks);
                        }
                        b'n' | b'N' => {
                            let _ = events.send(VmEvent::ShowNat);
                        }
                        b'r' | b'R' => {
                            let _ = events.send(VmEvent::Resume);
                        }
                        b's' | b'S' => {
                            let _ = events.send(VmEvent::Snapshot);
                        }
                        b'h' | b'H' => {
                            let mut err = std::io::stderr();
                            let _ = write!(err, "\r\nC-a x    stop the VM\r\nC-a d    each disk's size and host usage\r\nC-a n    the NAT table (conntrack -L and show ip nat translations)\r\nC-a r    retry writes paused for host space\r\nC-a s    take a live snapshot of every disk\r\nC-a h    this help\r\nC-a C-a  send C-a\r\n");
                        }
                        CTRL_A => bytes.push(CTRL_A),
                        _ => {}
                    }
                } else if b == CTRL_A {
                    escape = true;
                } else {
                    bytes.push(b);
                }
            }
            input
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .bytes
                .extend(bytes);
            doorbell.ring();
        }
    });
}

/// Where console output goes: stdout, or stderr when stdout carries `--json`, through a
/// descriptor of its own, so that a terminal that stops reading blocks only the console's
/// writer thread, never the VMM's other output through std's locked stdout or stderr.
pub fn terminal_sink(to_stderr: bool) -> Result<Box<dyn Write + Send>, crate::VmmError> {
    use std::os::fd::AsFd;
    let terminal = if to_stderr {
        std::io::stderr().as_fd().try_clone_to_owned()
    } else {
        std::io::stdout().as_fd().try_clone_to_owned()
    }
    .map_err(|e| {
        crate::VmmError::Host(format!("cannot duplicate the console's descriptor: {e}"))
    })?;
    Ok(Box::new(std::fs::File::from(terminal)))
}

/// Output waiting for the terminal, shared by the vCPUs (through the UART) and the writer
/// thread.
#[derive(Default)]
struct Outbox {
    bytes: Vec<u8>,
    /// Bytes refused because the outbox was full: the terminal did not keep up.
    dropped: u64,
    closed: bool,
}

/// Writes console output to the terminal on a thread of its own. [`TerminalWriter::send`]
/// never blocks: it queues up to `capacity` bytes and counts what does not fit, because a
/// guest must not stall on a terminal nobody reads (and the VMM must not grow without bound).
pub struct TerminalWriter {
    outbox: Arc<(Mutex<Outbox>, Condvar)>,
    capacity: usize,
    done: Mutex<Option<mpsc::Receiver<()>>>,
}

impl TerminalWriter {
    /// Starts the writer thread over `sink`, queueing at most `capacity` bytes.
    pub fn spawn(mut sink: Box<dyn Write + Send>, capacity: usize) -> TerminalWriter {
        let outbox: Arc<(Mutex<Outbox>, Condvar)> = Arc::default();
        let (done_tx, done) = mpsc::channel();
        let shared = outbox.clone();
        let spawned = std::thread::Builder::new()
            .name("console-out".into())
            .spawn(move || {
                crate::seccomp::confine_thread(crate::seccomp::Role::ConsoleOut);
                let (lock, wake) = &*shared;
                loop {
                    let batch = {
                        let mut outbox = lock.lock().unwrap_or_else(|p| p.into_inner());
                        while outbox.bytes.is_empty() && !outbox.closed {
                            outbox = wake.wait(outbox).unwrap_or_else(|p| p.into_inner());
                        }
                        if outbox.bytes.is_empty() {
                            break;
                        }
                        std::mem::take(&mut outbox.bytes)
                    };
                    // A closed terminal must not stop the guest: the output is dropped.
                    let _ = sink.write_all(&batch).and_then(|()| sink.flush());
                }
                let _ = done_tx.send(());
            });
        TerminalWriter {
            outbox,
            capacity,
            done: Mutex::new(spawned.ok().map(|_| done)),
        }
    }

    /// Queues `bytes` for the terminal; what does not fit is counted, not kept.
    pub fn send(&self, bytes: &[u8]) {
        let (lock, wake) = &*self.outbox;
        let mut outbox = lock.lock().unwrap_or_else(|p| p.into_inner());
        if outbox.closed {
            return;
        }
        let room = self.capacity.saturating_sub(outbox.bytes.len());
        let taken = bytes.len().min(room);
        outbox.bytes.extend_from_slice(&bytes[..taken]);
        outbox.dropped += (bytes.len() - taken) as u64;
        wake.notify_one();
    }

    /// Bytes dropped so far because the terminal did not keep up.
    pub fn dropped(&self) -> u64 {
        self.outbox
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .dropped
    }

    /// Stops taking output and waits up to `wait` for the queued bytes to reach the terminal.
    /// Returns whether they all did (a stuck terminal keeps the rest).
    pub fn finish(&self, wait: Duration) -> bool {
        let (lock, wake) = &*self.outbox;
        lock.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        wake.notify_one();
        let done = self.done.lock().unwrap_or_else(|p| p.into_inner()).take();
        done.is_some_and(|done| done.recv_timeout(wait).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A terminal that takes nothing until it is released.
    #[derive(Clone, Default)]
    struct StuckTerminal {
        released: Arc<(Mutex<bool>, Condvar)>,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for StuckTerminal {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (lock, wake) = &*self.released;
            let mut released = lock.lock().unwrap();
            while !*released {
                released = wake.wait(released).unwrap();
            }
            self.written.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_terminal_never_blocks_the_sender_and_excess_output_is_counted() {
        let terminal = StuckTerminal::default();
        let writer = TerminalWriter::spawn(Box::new(terminal.clone()), 1000);
        let start = std::time::Instant::now();
        for _ in 0..100 {
            writer.send(&[b'x'; 100]);
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "sending returned while the terminal was stuck"
        );
        // The writer thread may hold one batch already; the rest waits within capacity.
        assert!(
            writer.dropped() >= 100 * 100 - 2 * 1000,
            "{}",
            writer.dropped()
        );
        assert!(
            !writer.finish(Duration::from_millis(50)),
            "a stuck terminal cannot be drained"
        );

        *terminal.released.0.lock().unwrap() = true;
        terminal.released.1.notify_all();
        let written = terminal.written.clone();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while written.lock().unwrap().len() < 1000 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let kept = written.lock().unwrap().len() as u64;
        assert_eq!(
            kept + writer.dropped(),
            100 * 100,
            "every byte is written or counted"
        );
    }

    #[test]
    fn output_arrives_in_order_and_finish_drains_it() {
        let terminal = StuckTerminal::default();
        *terminal.released.0.lock().unwrap() = true;
        let writer = TerminalWriter::spawn(Box::new(terminal.clone()), 1 << 20);
        for line in 0..100 {
            writer.send(format!("line {line}\n").as_bytes());
        }
        assert!(writer.finish(Duration::from_secs(5)));
        let text = String::from_utf8(terminal.written.lock().unwrap().clone()).unwrap();
        let expected: String = (0..100).map(|l| format!("line {l}\n")).collect();
        assert_eq!(text, expected);
        assert_eq!(writer.dropped(), 0);
    }
}
