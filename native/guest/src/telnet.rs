//! The TCP shell's line discipline: bytes from a telnet or `nc` peer in, command lines out.
//! Telnet's option negotiation (IAC WILL/WONT/DO/DONT, subnegotiations) is skipped, not
//! answered; an escaped 0xff is data. Lines are printable ASCII, at most [`LINE_MAX`] bytes;
//! `\r\n`, `\r` and `\n` all end one, backspace and DEL erase.

use alloc::string::String;

/// Longest command line kept; further characters are dropped.
pub const LINE_MAX: usize = 256;

const IAC: u8 = 0xff;
const SB: u8 = 250;
const SE: u8 = 240;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    /// After IAC.
    Command,
    /// After IAC WILL/WONT/DO/DONT: one option byte follows.
    Option,
    /// Inside IAC SB ... IAC SE.
    Subnegotiation,
    SubnegotiationIac,
}

#[derive(Debug, Clone)]
pub struct LineReader {
    state: State,
    line: String,
}

impl Default for LineReader {
    fn default() -> Self {
        LineReader::new()
    }
}

impl LineReader {
    pub const fn new() -> LineReader {
        LineReader {
            state: State::Data,
            line: String::new(),
        }
    }

    /// Takes one received byte; a completed, non-empty line comes out.
    pub fn feed(&mut self, byte: u8) -> Option<String> {
        let (state, data) = match (self.state, byte) {
            (State::Data, IAC) => (State::Command, None),
            (State::Data, _) => (State::Data, Some(byte)),
            (State::Command, IAC) => (State::Data, Some(byte)),
            (State::Command, SB) => (State::Subnegotiation, None),
            (State::Command, 251..=254) => (State::Option, None),
            (State::Command, _) | (State::Option, _) => (State::Data, None),
            (State::Subnegotiation, IAC) => (State::SubnegotiationIac, None),
            (State::Subnegotiation, _) => (State::Subnegotiation, None),
            (State::SubnegotiationIac, SE) => (State::Data, None),
            (State::SubnegotiationIac, _) => (State::Subnegotiation, None),
        };
        self.state = state;
        self.edit(data?)
    }

    fn edit(&mut self, byte: u8) -> Option<String> {
        match byte {
            // The empty line between a `\r` and its `\n` is not a command.
            b'\r' | b'\n' if !self.line.is_empty() => return Some(core::mem::take(&mut self.line)),
            0x08 | 0x7f => {
                self.line.pop();
            }
            0x20..=0x7e if self.line.len() < LINE_MAX => self.line.push(byte as char),
            _ => {}
        }
        None
    }

    /// Forgets a partial line and any negotiation in progress (a new connection).
    pub fn reset(&mut self) {
        *self = LineReader::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn lines(bytes: &[u8]) -> Vec<String> {
        let mut reader = LineReader::new();
        bytes.iter().filter_map(|&b| reader.feed(b)).collect()
    }

    #[test]
    fn nc_and_telnet_line_ends_both_end_a_line() {
        assert_eq!(lines(b"uptime\nip\r\nmem\r"), ["uptime", "ip", "mem"]);
    }

    #[test]
    fn telnet_negotiation_is_not_typed() {
        // IAC DO ECHO, IAC WILL NAWS, IAC SB NAWS 0 80 0 24 IAC SE, then an escaped 0xff.
        let bytes = b"\xff\xfd\x01\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0up\xff\xfftime\n";
        assert_eq!(lines(bytes), ["uptime"]);
    }

    #[test]
    fn backspace_erases_and_long_lines_are_cut() {
        assert_eq!(lines(b"upx\x08time\n"), ["uptime"]);
        let long = [b'a'; 1000];
        let got = lines(&[&long[..], b"\n"].concat());
        assert_eq!(got[0].len(), LINE_MAX);
    }

    proptest! {
        #[test]
        fn any_bytes_give_short_printable_lines(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            for line in lines(&bytes) {
                prop_assert!(!line.is_empty() && line.len() <= LINE_MAX);
                prop_assert!(line.bytes().all(|b| (0x20..=0x7e).contains(&b)));
            }
        }

        #[test]
        fn plain_text_lines_come_out_unchanged(text in proptest::collection::vec("[ -~]{1,100}", 0..10)) {
            let bytes: Vec<u8> = text.iter().flat_map(|l| l.bytes().chain(*b"\r\n")).collect();
            prop_assert_eq!(lines(&bytes), text);
        }
    }
}
