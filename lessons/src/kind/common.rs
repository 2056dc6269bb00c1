//! What every kind's validator and grader share: [`Fields`], an exercise's fields as its
//! kind's builder reads them, reporting into the lesson file; [`Judgement`], a grader's
//! decision; and how an answer is read (the last one counts, spelled canonically).

use std::ops::Range;

use labvisor_core::lang::Bilingual;
use toml::Spanned;

use crate::action::Action;
use crate::kind_names::ExerciseKind;
use crate::model::ExerciseFile;
use crate::source::Reporter;

/// One `[[exercises]]` table while its kind's builder reads it: the fields, where the table
/// is, and where problems go, each message naming the exercise.
pub(crate) struct Fields<'a, 'r> {
    /// The table as written.
    pub ex: &'a ExerciseFile,
    /// Its kind.
    pub kind: ExerciseKind,
    /// The whole table, for problems about a missing field.
    pub at: Range<usize>,
    /// Where problems go.
    pub report: &'a mut Reporter<'r>,
}

impl<'a> Fields<'a, '_> {
    /// `thing`, said of this exercise: `exercise "ssh": thing`.
    pub fn what(&self, thing: &str) -> String {
        format!("exercise {:?}: {thing}", self.ex.id.get_ref())
    }

    /// Reports `thing` about this exercise at `span`.
    pub fn error(&mut self, span: Range<usize>, thing: &str) {
        let message = self.what(thing);
        self.report.error(span, message);
    }

    /// Reports a text of this exercise that lacks a language.
    pub fn translations(&mut self, span: Range<usize>, thing: &str, text: &Bilingual) {
        let what = self.what(thing);
        self.report.translations(span, &what, text);
    }

    /// `field`, reporting that the kind needs it when it is missing.
    pub fn required<T>(
        &mut self,
        field: &'a Option<Spanned<T>>,
        name: &str,
    ) -> Option<&'a Spanned<T>> {
        if field.is_none() {
            let thing = format!("kind {:?} needs `{name}`", self.kind.name());
            self.error(self.at.clone(), &thing);
        }
        field.as_ref()
    }

    /// The value of an `ask` field among `choices`, reporting any other.
    pub fn parse_choice<T: Copy>(
        &mut self,
        field: &Spanned<String>,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let value = field.get_ref().as_str();
        let found = choices
            .iter()
            .find(|(name, _)| *name == value)
            .map(|(_, v)| *v);
        if found.is_none() {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            self.error(
                field.span(),
                &format!("`ask = {value:?}` is not one of: {}", names.join(", ")),
            );
        }
        found
    }
}

/// What a kind's grader decided, before the hint is looked up.
pub(crate) struct Judgement {
    pub mistake: Option<String>,
    pub trace: Vec<String>,
}

impl Judgement {
    pub(crate) fn pass(trace: Vec<String>) -> Judgement {
        Judgement {
            mistake: None,
            trace,
        }
    }

    pub(crate) fn fail(mistake: impl Into<String>, trace: Vec<String>) -> Judgement {
        Judgement {
            mistake: Some(mistake.into()),
            trace,
        }
    }
}

/// The learner's final answer (the last `answer` step counts) and the trace of all of them.
pub(crate) fn final_answer(actions: &[Action], trace: &mut Vec<String>) -> Option<String> {
    let mut last = None;
    for (i, action) in actions.iter().enumerate() {
        match action {
            Action::Answer(text) => {
                trace.push(format!("step {}: answer {text:?}", i + 1));
                last = Some(text.clone());
            }
            other => trace.push(format!(
                "step {}: `{}` ignored: this exercise takes an answer",
                i + 1,
                other.name()
            )),
        }
    }
    if last.is_none() {
        trace.push("no answer given".into());
    }
    last
}

/// ASCII-lowercased (answers are ids and English words; Hangul has no case), trimmed, inner whitespace and underscores as single dashes.
pub(crate) fn canonical(text: &str) -> String {
    text.trim()
        .to_ascii_lowercase()
        .split(|c: char| c.is_whitespace() || c == '_')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Maps what learners write (in English or Korean) to the key's spelling.
pub(crate) fn synonym(text: &str, table: &[(&str, &[&str])]) -> String {
    let c = canonical(text);
    for (key, words) in table {
        if c == *key || words.contains(&c.as_str()) {
            return (*key).to_string();
        }
    }
    c
}

/// Passes when `answer` is `key`; else fails with `answer:<given>` (or `no-answer`).
pub(crate) fn compare(answer: Option<String>, key: &str, mut trace: Vec<String>) -> Judgement {
    match answer {
        None => Judgement::fail("no-answer", trace),
        Some(given) if given == key => {
            trace.push(format!("{given:?} matches the key: correct"));
            Judgement::pass(trace)
        }
        Some(given) => {
            trace.push(format!("{given:?} does not match the key"));
            Judgement::fail(format!("answer:{given}"), trace)
        }
    }
}
