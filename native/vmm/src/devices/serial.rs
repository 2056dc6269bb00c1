//! The serial console: a 16550 UART (vm-superio) on 0x3f8 whose output goes to the terminal
//! and whose input comes from the stdin thread (see `vmm::console`).
//!
//! Output is buffered and flushed at each newline and whenever the guest idles, so a guest
//! printing byte by byte costs one `write(2)` per line, not per byte. The last few KiB are kept
//! for error messages ("last console lines").

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vm_superio::serial::NoEvents;
use vm_superio::{Serial, Trigger};

use crate::console::TerminalWriter;

/// COM1's first port.
pub const COM1_BASE: u16 = 0x3f8;
/// Ports the UART decodes.
pub const COM1_PORTS: u16 = 8;
const TAIL_BYTES: usize = 4096;

/// The UART's interrupt line (IRQ 4): an eventfd KVM's in-kernel irqchip listens to, or
/// nothing when the guest polls (Labvisor's guest never enables interrupts).
#[derive(Debug, Default)]
pub struct IrqLine(Option<vmm_sys_util::eventfd::EventFd>);

impl IrqLine {
    /// A line wired to `eventfd` (registered with `KVM_IRQFD` by the caller).
    pub fn wired(eventfd: vmm_sys_util::eventfd::EventFd) -> IrqLine {
        IrqLine(Some(eventfd))
    }
}

impl Trigger for IrqLine {
    type E = std::io::Error;
    fn trigger(&self) -> Result<(), Self::E> {
        match &self.0 {
            Some(fd) => fd.write(1),
            None => Ok(()),
        }
    }
}

/// Most console output waiting for a slow terminal before more is dropped (and counted).
const TERMINAL_BACKLOG: usize = 1 << 20;

/// Where console output goes, with the recent tail kept.
pub struct ConsoleOut {
    terminal: TerminalWriter,
    pending: Vec<u8>,
    tail: VecDeque<u8>,
}

impl Write for ConsoleOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        for &b in buf {
            if self.tail.len() == TAIL_BYTES {
                self.tail.pop_front();
            }
            self.tail.push_back(b);
        }
        if buf.contains(&b'\n') || self.pending.len() >= 4096 {
            self.push();
        }
        Ok(buf.len())
    }

    /// The UART flushes after every byte; buffering is the point, so that is a no-op and
    /// [`ConsoleOut::push`] does the real work.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ConsoleOut {
    /// Hands buffered output to the terminal's writer thread (never blocks).
    fn push(&mut self) {
        if !self.pending.is_empty() {
            self.terminal.send(&self.pending);
            self.pending.clear();
        }
    }
}

/// Keystrokes waiting for room in the UART's receive FIFO, and whether standard input has
/// ended (a pipe or file at its end; a terminal never ends).
#[derive(Debug, Default)]
pub struct Input {
    pub bytes: VecDeque<u8>,
    pub ended: bool,
}

/// The input shared by the stdin thread and the UART.
pub type InputQueue = Arc<Mutex<Input>>;

/// How long a guest must find nothing to read, after the last byte of an ended input, before
/// the VM ends: the guest's shell polls every half millisecond, so this is hundreds of polls.
const STARVED_FOR: Duration = Duration::from_millis(300);
/// The line-status register and its data-ready bit.
const LSR: u8 = 5;
const LSR_DATA_READY: u8 = 0x01;

/// The UART plus the input queue feeding it.
pub struct SerialConsole {
    uart: Mutex<Serial<IrqLine, NoEvents, ConsoleOut>>,
    input: InputQueue,
    /// End the VM when the guest keeps polling for input that has ended (Labvisor's guest
    /// only: another kernel may read the line status for other reasons).
    end_with_input: bool,
    /// Since when the guest has found nothing to read after the input ended.
    starved_since: Mutex<Option<std::time::Instant>>,
}

impl SerialConsole {
    /// A console writing to `sink` (from a thread of its own), reading from `input`, raising
    /// `irq`.
    pub fn new(sink: Box<dyn Write + Send>, input: InputQueue, irq: IrqLine) -> SerialConsole {
        let out = ConsoleOut {
            terminal: TerminalWriter::spawn(sink, TERMINAL_BACKLOG),
            pending: Vec::new(),
            tail: VecDeque::new(),
        };
        SerialConsole {
            uart: Mutex::new(Serial::new(irq, out)),
            input,
            end_with_input: false,
            starved_since: Mutex::new(None),
        }
    }

    /// Ends the VM (see [`SerialConsole::read`]) once the guest has read everything of an
    /// input that ended and keeps asking for more.
    pub fn ending_with_input(self) -> SerialConsole {
        SerialConsole {
            end_with_input: true,
            ..self
        }
    }

    fn uart(&self) -> std::sync::MutexGuard<'_, Serial<IrqLine, NoEvents, ConsoleOut>> {
        self.uart.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A guest read of register `offset`, and whether the VM should end because the guest
    /// has been waiting for input that will never come ([`STARVED_FOR`] after it ended).
    pub fn read(&self, offset: u8) -> (u8, bool) {
        let mut uart = self.uart();
        let room = uart.fifo_capacity();
        let mut input = self.input.lock().unwrap_or_else(|p| p.into_inner());
        if room > 0 {
            let n = room.min(input.bytes.len());
            if n > 0 {
                let bytes: Vec<u8> = input.bytes.drain(..n).collect();
                let _ = uart.enqueue_raw_bytes(&bytes);
            }
        }
        let value = uart.read(offset);
        let starved = self.end_with_input
            && offset == LSR
            && value & LSR_DATA_READY == 0
            && input.ended
            && input.bytes.is_empty();
        let mut since = self.starved_since.lock().unwrap_or_else(|p| p.into_inner());
        let done = match (*since, starved) {
            (_, false) => {
                *since = None;
                false
            }
            (None, true) => {
                *since = Some(std::time::Instant::now());
                false
            }
            (Some(at), true) => at.elapsed() >= STARVED_FOR,
        };
        (value, done)
    }

    /// A guest write of `value` to register `offset`.
    pub fn write(&self, offset: u8, value: u8) {
        // An interrupt that cannot be raised (eventfd full) is dropped: the guest polls anyway.
        let _ = self.uart().write(offset, value);
    }

    /// Output the guest hands over whole (the control device's `CONSOLE_WRITE`), in order with
    /// what it wrote through the UART.
    pub fn write_bytes(&self, bytes: &[u8]) {
        let _ = self.uart().writer_mut().write(bytes);
    }

    /// Pushes buffered output to the terminal.
    pub fn flush(&self) {
        self.uart().writer_mut().push();
    }

    /// At the VM's end: pushes what is buffered and waits up to `wait` for the terminal to take
    /// it. Returns the bytes dropped because the terminal did not keep up.
    pub fn finish(&self, wait: Duration) -> u64 {
        let mut uart = self.uart();
        let out = uart.writer_mut();
        out.push();
        out.terminal.finish(wait);
        out.terminal.dropped()
    }

    /// The last `n` lines the guest printed (control characters removed).
    pub fn last_lines(&self, n: usize) -> Vec<String> {
        let uart = self.uart();
        let tail: Vec<u8> = uart.writer().tail.iter().copied().collect();
        let text = String::from_utf8_lossy(&tail);
        let lines: Vec<String> = text
            .split('\n')
            .map(|l| l.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|l| !l.trim().is_empty())
            .collect();
        lines[lines.len().saturating_sub(n)..].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn output_is_line_buffered_and_input_reaches_the_guest() {
        let sink = Shared::default();
        let input: InputQueue = Arc::default();
        let console = SerialConsole::new(Box::new(sink.clone()), input.clone(), IrqLine::default());
        for b in b"hello" {
            console.write(0, *b);
        }
        std::thread::sleep(Duration::from_millis(20));
        assert!(sink.0.lock().unwrap().is_empty(), "no newline yet");
        console.write(0, b'\n');
        assert_eq!(console.finish(Duration::from_secs(5)), 0);
        assert_eq!(&*sink.0.lock().unwrap(), b"hello\n");
        assert_eq!(console.last_lines(1), vec!["hello".to_string()]);

        input.lock().unwrap().bytes.extend(b"hi");
        assert_eq!(console.read(5).0 & 1, 1, "data ready");
        assert_eq!(console.read(0).0, b'h');
        assert_eq!(console.read(0).0, b'i');
        assert_eq!(console.read(5).0 & 1, 0, "drained");
    }

    #[test]
    fn a_guest_waiting_for_input_that_ended_is_told_apart_from_one_still_reading() {
        let input: InputQueue = Arc::default();
        let console = SerialConsole::new(Box::new(io::sink()), input.clone(), IrqLine::default())
            .ending_with_input();
        input.lock().unwrap().bytes.extend(b"x");
        input.lock().unwrap().ended = true;
        assert_eq!(console.read(LSR), (LSR_DATA_READY | 0x60, false));
        assert_eq!(console.read(0), (b'x', false));
        assert!(!console.read(LSR).1, "the starving has just begun");
        std::thread::sleep(STARVED_FOR);
        assert!(console.read(LSR).1, "nothing more will come");
        let open: InputQueue = Arc::default();
        let waiting =
            SerialConsole::new(Box::new(io::sink()), open, IrqLine::default()).ending_with_input();
        waiting.read(LSR);
        std::thread::sleep(STARVED_FOR);
        assert!(
            !waiting.read(LSR).1,
            "an open input may still bring something"
        );
    }
}
