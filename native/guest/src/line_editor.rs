//! The SSH shell's line discipline: an interactive session with a PTY sends raw keystrokes and
//! expects the server to echo them, as a terminal's line discipline would. Printable ASCII is
//! echoed and kept (at most [`LINE_MAX`] bytes), backspace and DEL erase one character,
//! Ctrl-U the line, Ctrl-C abandons it, Ctrl-D on an empty line ends the session, and escape
//! sequences (arrow keys, function keys) are skipped whole.

use alloc::string::String;
use alloc::vec::Vec;

pub use crate::telnet::LINE_MAX;

const ESC: u8 = 0x1b;
const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const CTRL_U: u8 = 0x15;

/// What one keystroke did to the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// The line is still being typed.
    Pending,
    /// Enter: the line (possibly empty) is complete.
    Line(String),
    /// Ctrl-C: the line was abandoned; the shell prompts again.
    Interrupt,
    /// Ctrl-D on an empty line: the user wants to leave.
    EndOfInput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Typing,
    /// The previous byte was `\r`: a `\n` right after it is the same Enter.
    AfterReturn,
    /// After ESC.
    Escape,
    /// Inside `ESC [` (CSI) or `ESC O` (SS3) up to the final byte.
    Sequence,
}

#[derive(Debug, Clone)]
pub struct LineEditor {
    state: State,
    line: String,
}

impl Default for LineEditor {
    fn default() -> Self {
        LineEditor::new()
    }
}

impl LineEditor {
    pub const fn new() -> LineEditor {
        LineEditor {
            state: State::Typing,
            line: String::new(),
        }
    }

    /// Takes one keystroke byte, appending to `echo` what the terminal must show for it.
    pub fn feed(&mut self, byte: u8, echo: &mut Vec<u8>) -> Edit {
        let state = self.state;
        self.state = State::Typing;
        match (state, byte) {
            (State::Escape, b'[' | b'O') => {
                self.state = State::Sequence;
                Edit::Pending
            }
            (State::Escape, _) => Edit::Pending,
            (State::Sequence, 0x40..=0x7e) => Edit::Pending,
            (State::Sequence, _) => {
                self.state = State::Sequence;
                Edit::Pending
            }
            (State::AfterReturn, b'\n') => Edit::Pending,
            (_, ESC) => {
                self.state = State::Escape;
                Edit::Pending
            }
            (_, b'\r' | b'\n') => {
                if byte == b'\r' {
                    self.state = State::AfterReturn;
                }
                echo.extend_from_slice(b"\r\n");
                Edit::Line(core::mem::take(&mut self.line))
            }
            (_, 0x08 | 0x7f) => {
                if self.line.pop().is_some() {
                    echo.extend_from_slice(b"\x08 \x08");
                }
                Edit::Pending
            }
            (_, CTRL_U) => {
                for _ in 0..self.line.len() {
                    echo.extend_from_slice(b"\x08 \x08");
                }
                self.line.clear();
                Edit::Pending
            }
            (_, CTRL_C) => {
                self.line.clear();
                echo.extend_from_slice(b"^C\r\n");
                Edit::Interrupt
            }
            (_, CTRL_D) if self.line.is_empty() => Edit::EndOfInput,
            (_, 0x20..=0x7e) if self.line.len() < LINE_MAX => {
                self.line.push(byte as char);
                echo.push(byte);
                Edit::Pending
            }
            _ => Edit::Pending,
        }
    }

    /// Forgets a partial line (a new session).
    pub fn reset(&mut self) {
        *self = LineEditor::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn type_all(editor: &mut LineEditor, bytes: &[u8]) -> (Vec<Edit>, Vec<u8>) {
        let mut echo = Vec::new();
        let edits = bytes
            .iter()
            .map(|&b| editor.feed(b, &mut echo))
            .filter(|e| *e != Edit::Pending)
            .collect();
        (edits, echo)
    }

    #[test]
    fn enter_completes_the_line_and_echoes_what_was_typed() {
        let mut editor = LineEditor::new();
        let (edits, echo) = type_all(&mut editor, b"uptime\r\n");
        assert_eq!(edits, [Edit::Line("uptime".into())]);
        assert_eq!(echo, b"uptime\r\n");
    }

    #[test]
    fn backspace_erases_on_screen_and_in_the_line() {
        let mut editor = LineEditor::new();
        let (edits, echo) = type_all(&mut editor, b"ls\x7fs\x7f\x7f\x7fhelp\r");
        assert_eq!(edits, [Edit::Line("help".into())]);
        assert_eq!(echo, b"ls\x08 \x08s\x08 \x08\x08 \x08help\r\n");
    }

    #[test]
    fn arrow_keys_are_skipped_whole() {
        let mut editor = LineEditor::new();
        let (edits, _) = type_all(&mut editor, b"up\x1b[Ati\x1bOBme\x1b[1;5C\r");
        assert_eq!(edits, [Edit::Line("uptime".into())]);
    }

    #[test]
    fn ctrl_c_abandons_and_ctrl_d_leaves_only_on_an_empty_line() {
        let mut editor = LineEditor::new();
        let (edits, _) = type_all(&mut editor, b"poweroff\x03ab\x04\x15\x04");
        assert_eq!(edits, [Edit::Interrupt, Edit::EndOfInput]);
    }

    #[test]
    fn a_lone_newline_and_crlf_are_one_enter_each() {
        let mut editor = LineEditor::new();
        let (edits, _) = type_all(&mut editor, b"a\r\nb\nc\r\r");
        let lines: Vec<Edit> = ["a", "b", "c", ""]
            .iter()
            .map(|l| Edit::Line((*l).into()))
            .collect();
        assert_eq!(edits, lines);
    }

    proptest! {
        #[test]
        fn any_keystrokes_give_bounded_printable_lines(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut editor = LineEditor::new();
            let (edits, echo) = type_all(&mut editor, &bytes);
            for edit in edits {
                if let Edit::Line(line) = edit {
                    prop_assert!(line.len() <= LINE_MAX);
                    prop_assert!(line.bytes().all(|b| (0x20..=0x7e).contains(&b)));
                }
            }
            prop_assert!(editor.line.len() <= LINE_MAX);
            // The echo never carries a control byte the peer did not ask for.
            prop_assert!(echo.iter().all(|&b| matches!(b, 0x20..=0x7e | b'\r' | b'\n' | 0x08)));
        }

        #[test]
        fn a_typed_command_comes_back_unchanged(line in "[ -~]{0,200}") {
            let mut editor = LineEditor::new();
            // ESC is not printable, so no escape sequence can start inside the line.
            let mut bytes = line.clone().into_bytes();
            bytes.push(b'\r');
            let (edits, echo) = type_all(&mut editor, &bytes);
            prop_assert_eq!(edits, [Edit::Line(line.clone())]);
            prop_assert_eq!(&echo[..line.len()], line.as_bytes());
        }
    }
}
