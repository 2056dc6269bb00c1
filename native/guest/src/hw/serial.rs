//! The 16550 UART at 0x3f8 (COM1), polled: transmit when the holding register is empty,
//! receive when the line status says data is ready.

use core::fmt::{self, Write};

use super::{inb, outb};

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

struct Uart;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            put_byte(b);
        }
        Ok(())
    }
}

/// Prints formatted text. Lines end in `\r\n` where the caller writes them so.
pub fn print(args: fmt::Arguments) {
    // Output of several CPUs may interleave; per-CPU work reports through CPU 0.
    let _ = Uart.write_fmt(args);
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
