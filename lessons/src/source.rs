//! Where things are in a lesson's files and what is wrong there: the [`Problem`]s the loader
//! reports, each with file, line and column, and the [`Reporter`] that collects them. Below the
//! model, the loader and the kinds' validators, which all point into the files; it knows
//! nothing of lessons.

use std::fmt;
use std::ops::Range;

use labvisor_core::lang::{Bilingual, Lang};
use serde::{Deserialize, Serialize};

/// How serious a [`Problem`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The lesson cannot be used as it is.
    Error,
    /// Worth knowing; the lesson works.
    Note,
}

/// Something wrong (or worth noting) in a lesson, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file, as given in [`LessonSource::dir`] plus the file name.
    pub file: String,
    /// 1-based line (0 when the problem concerns a whole file).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Error or note.
    pub severity: Severity,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Note => "note",
        };
        if self.line == 0 {
            write!(f, "{}: {severity}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {severity}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

/// Where something is in a file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Collects problems against one file's text.
pub(crate) struct Reporter<'a> {
    pub file: String,
    pub text: &'a str,
    pub problems: Vec<Problem>,
}

impl Reporter<'_> {
    pub fn at(&mut self, span: Range<usize>, severity: Severity, message: String) {
        let (line, column) = line_column(self.text, span.start);
        self.problems.push(Problem {
            file: self.file.clone(),
            line,
            column,
            severity,
            message,
        });
    }

    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.at(span, Severity::Error, message.into());
    }

    pub fn location(&self, span: Range<usize>) -> Location {
        let (line, column) = line_column(self.text, span.start);
        Location {
            file: self.file.clone(),
            line,
            column,
        }
    }

    pub fn translations(&mut self, span: Range<usize>, what: &str, text: &Bilingual) {
        for lang in text.missing() {
            self.error(
                span.clone(),
                format!(
                    "{what} has no {} text: write `{}`",
                    language_name(lang),
                    lang.code()
                ),
            );
        }
    }
}

/// The language's name in English, for messages.
pub(crate) fn language_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Ko => "Korean",
    }
}
