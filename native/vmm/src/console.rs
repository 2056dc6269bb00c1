//! The terminal side of the serial console: raw mode while the VM runs (restored on drop),
//! and a thread that moves keystrokes from stdin into the UART's input queue.
//!
//! As in QEMU, `Ctrl-A x` stops the VM, `Ctrl-A h` prints help and `Ctrl-A Ctrl-A` sends
//! a literal Ctrl-A. The escape is only looked for when stdin is a terminal: piped input
//! reaches the guest byte for byte.

use std::io::{IsTerminal, Read, Write};
use std::sync::mpsc::Sender;

use vmm_sys_util::terminal::Terminal;

use super::devices::serial::InputQueue;
use super::VmEvent;

const CTRL_A: u8 = 0x01;

/// Puts the terminal in raw mode for as long as it lives.
pub struct RawTerminal {
    active: bool,
}

impl RawTerminal {
    /// Raw mode if stdin is a terminal; a no-op otherwise.
    pub fn enter() -> RawTerminal {
        let stdin = std::io::stdin();
        let active = stdin.is_terminal() && stdin.lock().set_raw_mode().is_ok();
        RawTerminal { active }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        if self.active {
            let _ = std::io::stdin().lock().set_canon_mode();
        }
    }
}

/// Starts the thread feeding stdin to the guest. It ends at end of input; when the VM ends
/// first the process exits and takes it along.
pub fn spawn_stdin_reader(input: InputQueue, events: Sender<VmEvent>) {
    let interactive = std::io::stdin().is_terminal();
    let _ = std::thread::Builder::new().name("stdin".into()).spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 256];
        let mut escape = false;
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => return,
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
                        b'h' | b'H' => {
                            let mut err = std::io::stderr();
                            let _ = write!(err, "\r\nC-a x    stop the VM\r\nC-a h    this help\r\nC-a C-a  send C-a\r\n");
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
            input.lock().unwrap_or_else(|p| p.into_inner()).extend(bytes);
        }
    });
}
