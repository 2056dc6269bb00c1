//! The console: the 16550 UART at 0x3f8 (COM1), polled (transmit when the holding register
//! is empty, receive when the line status says data is ready), and, under Labvisor's VMM, the
//! control device's `CONSOLE_WRITE`, which prints a whole buffer for one exit where the UART
//! takes two per byte.
//!
//! While a command of a network shell session runs, its output is captured instead
//! ([`capture`]) and sent to the session's TCP peer.

use alloc::vec::Vec;
use core::fmt::{self, Write};

use crate::sync::SpinLock;

use super::{control, inb, outb};

const COM1: u16 = 0x3f8;
const LSR: u16 = 5;
const LSR_DATA_READY: u8 = 0x01;
const LSR_THR_EMPTY: u8 = 0x20;

fn put_byte(byte: u8) {
    // Bounded wait: a VMM whose UART never drains must not hang the kernel forever.
    for _ in 0..100_000 {
        if inb(COM1 + LSR) & LSR_THR_EMPTY != 0 {
            break;
        }
        core::hint::spin_loop();
    }
    outb(COM1, byte);
}

/// A byte from the keyboard side of the console, if one is waiting.
pub fn try_read() -> Option<u8> {
    if inb(COM1 + LSR) & LSR_DATA_READY != 0 {
        Some(inb(COM1))
    } else {
        None
    }
}

/// Collects formatted text on the stack and hands it over in as few writes as it can.
struct Console {
    buf: [u8; 256],
    len: usize,
}

/// Output of the command being run for a network session; `None` when output goes to the
/// console.
static CAPTURED: SpinLock<Option<Vec<u8>>> = SpinLock::new(None);
/// Most bytes one command's captured output keeps (a `flood` from a session stops there).
const CAPTURE_MAX: usize = 4 << 20;

/// Runs `command` with everything it prints collected instead of shown, and returns that.
pub fn capture(command: impl FnOnce()) -> Vec<u8> {
    *CAPTURED.lock() = Some(Vec::new());
    command();
    CAPTURED.lock().take().unwrap_or_default()
}

/// Sends output to the console again, whatever command was being captured (a panic must be
/// seen).
pub fn stop_capturing() {
    if let Some(mut captured) = CAPTURED.try_lock() {
        *captured = None;
    }
}

impl Console {
    fn flush(&mut self) {
        let bytes = &self.buf[..self.len];
        if let Some(captured) = CAPTURED.lock().as_mut() {
            let room = CAPTURE_MAX.saturating_sub(captured.len());
            captured.extend_from_slice(&bytes[..bytes.len().min(room)]);
            self.len = 0;
            return;
        }
        if !control::console_write(bytes) {
            bytes.iter().for_each(|&b| put_byte(b));
        }
        self.len = 0;
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

/// Prints formatted text. Lines end in `\r\n` where the caller writes them so.
pub fn print(args: fmt::Arguments) {
    // Output of several CPUs may interleave; per-CPU work reports through CPU 0.
    let mut console = Console {
        buf: [0; 256],
        len: 0,
    };
    let _ = console.write_fmt(args);
    console.flush();
}

/// `print!` for the kernel.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::hw::serial::print(format_args!($($arg)*)) };
}

/// `println!` for the kernel: ends the line with `\r\n`, as a terminal in raw mode needs.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::kprint!("\r\n") };
    ($($arg:tt)*) => {{ $crate::hw::serial::print(format_args!($($arg)*)); $crate::kprint!("\r\n") }};
}
