//! Output helpers shared by the subcommands: aligned text tables, JSON, and the one way every
//! command writes to standard output ([`emit`], [`out!`], [`outln!`]) and standard error
//! ([`to_stderr`], [`errln!`]).
//!
//! Nothing here panics when a stream cannot be written: a full disk or a closed descriptor on
//! stdout becomes a [`CliError::Runtime`] (exit 1), a closed pipe (`… | head`) ends the output
//! quietly, and a failing stderr is ignored, since there is nowhere left to report it.

use std::io::Write as _;

use labvisor_core::lang::Lang;
use serde::Serialize;

use super::CliError;

/// `en` or `ko`, whichever `lang` asks for: for labels written inline.
pub fn pick<'a>(lang: Lang, en: &'a str, ko: &'a str) -> &'a str {
    match lang {
        Lang::En => en,
        Lang::Ko => ko,
    }
}

/// "yes"/"no" in `lang`.
pub fn yes_no(lang: Lang, value: bool) -> &'static str {
    match (lang, value) {
        (Lang::En, true) => "yes",
        (Lang::En, false) => "no",
        (Lang::Ko, true) => "예",
        (Lang::Ko, false) => "아니요",
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Runtime(format!("cannot encode JSON output: {e}")))?;
    emit(&format!("{text}\n"))
}

/// Writes `text` to standard output and flushes it, so a failure shows at once.
pub fn emit(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Runtime(format!(
            "cannot write to standard output: {}",
            crate::files::os_reason(&e)
        ))),
        _ => Ok(()),
    }
}

/// Writes `text` to standard error; a failure is ignored (there is nowhere left to report it).
pub fn to_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// `print!` through [`emit`]: evaluates to `Result<(), CliError>`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::emit(&format!($($arg)*))
    };
}

/// `println!` through [`emit`]: evaluates to `Result<(), CliError>`.
macro_rules! outln {
    () => {
        $crate::cli::output::emit("\n")
    };
    ($($arg:tt)*) => {
        $crate::cli::output::emit(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` through [`to_stderr`]: never fails, never panics.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::output::to_stderr(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};

/// A table whose columns are padded to line up; the last column is never padded.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table.
    pub fn new() -> Table {
        Table::default()
    }

    /// Adds a row of cells.
    pub fn row<I, S>(&mut self, cells: I) -> &mut Table
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// The table as text, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(display_width(cell));
            }
        }
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths[i] - display_width(cell) + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Columns a string takes in a terminal: Hangul and other wide characters take two.
pub fn display_width(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF |
        0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF |
        0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_with_wide_characters() {
        let mut t = Table::new();
        t.row(["범위", "ports"]).row(["system", "0-1023"]);
        assert_eq!(t.render(), "범위    ports\nsystem  0-1023\n");
    }
}
