//! Reading and validating lessons. Sans-IO: callers hand in the files' text (embedded at build
//! time, or read from a directory by `labvisor lesson lint`), and get back a [`Lesson`] or every
//! problem found, each with file, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use labvisor_core::lang::Lang;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::action::Action;
use crate::key;
use crate::model::*;
use crate::size::parse_size;
use labvisor_core::lang::Bilingual;

mod spec;
use spec::build_spec;

/// The files of one lesson folder.
#[derive(Clone, Debug, Default)]
pub struct LessonSource {
    /// How to show the folder in messages, e.g. `lessons/content/03-nat`.
    pub dir: String,
    /// The folder's name, e.g. `03-nat`.
    pub folder: String,
    /// File name → contents (`lesson.toml`, `en.md`, `ko.md`).
    pub files: BTreeMap<String, String>,
}

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
struct Reporter<'a> {
    file: String,
    text: &'a str,
    problems: Vec<Problem>,
}

impl Reporter<'_> {
    fn at(&mut self, span: Range<usize>, severity: Severity, message: String) {
        let (line, column) = line_column(self.text, span.start);
        self.problems.push(Problem {
            file: self.file.clone(),
            line,
            column,
            severity,
            message,
        });
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.at(span, Severity::Error, message.into());
    }

    fn location(&self, span: Range<usize>) -> Location {
        let (line, column) = line_column(self.text, span.start);
        Location {
            file: self.file.clone(),
            line,
            column,
        }
    }

    fn translations(&mut self, span: Range<usize>, what: &str, text: &Bilingual) {
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

fn language_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Ko => "Korean",
    }
}

/// Splits `03-nat` into `(3, "nat")`.
pub fn split_folder(folder: &str) -> Option<(u8, &str)> {
    let (number, slug) = folder.split_once('-')?;
    if number.len() != 2 || !number.bytes().all(|b| b.is_ascii_digit()) || slug.is_empty() {
        return None;
    }
    Some((number.parse().ok()?, slug))
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Loads and validates one lesson. Every problem is reported, not just the first.
pub fn load_lesson(source: &LessonSource) -> Result<Lesson, Vec<Problem>> {
    let mut problems = Vec::new();
    let file = |name: &str| format!("{}/{name}", source.dir);
    let whole_file = |name: &str, message: String| Problem {
        file: file(name),
        line: 0,
        column: 0,
        severity: Severity::Error,
        message,
    };

    let folder_parts = split_folder(&source.folder);
    if folder_parts.is_none() {
        problems.push(Problem {
            file: source.dir.clone(),
            line: 0,
            column: 0,
            severity: Severity::Error,
            message: format!(
                "lesson folder {:?} must be named NN-id, e.g. `03-nat` (two digits, a dash, the lesson id)",
                source.folder
            ),
        });
    }

    let mut prose = Bilingual::default();
    for (lang, name) in [(Lang::En, "en.md"), (Lang::Ko, "ko.md")] {
        match source.files.get(name) {
            Some(text) if !text.trim().is_empty() => match lang {
                Lang::En => prose.en = text.clone(),
                Lang::Ko => prose.ko = text.clone(),
            },
            Some(_) => problems.push(whole_file(
                name,
                format!(
                    "{name} is empty: the {} explanation is missing",
                    language_name(lang)
                ),
            )),
            None => problems.push(whole_file(
                name,
                format!(
                    "missing {} translation: {name} does not exist",
                    language_name(lang)
                ),
            )),
        }
    }

    let Some(toml_text) = source.files.get("lesson.toml") else {
        problems.push(whole_file(
            "lesson.toml",
            "lesson.toml does not exist: every lesson needs its id, title, lab and exercises there"
                .into(),
        ));
        return Err(problems);
    };
    let mut report = Reporter {
        file: file("lesson.toml"),
        text: toml_text,
        problems: Vec::new(),
    };
    let parsed: LessonFile = match toml::from_str(toml_text) {
        Ok(parsed) => parsed,
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            report.error(span, err.message().trim().to_string());
            problems.append(&mut report.problems);
            return Err(problems);
        }
    };

    let id = parsed.id.get_ref().clone();
    if let Some((_, slug)) = folder_parts {
        if id != slug {
            report.error(
                parsed.id.span(),
                format!(
                    "lesson id {id:?} must match its folder name {:?} (without the number)",
                    source.folder
                ),
            );
        }
    }
    report.translations(parsed.title.span(), "the title", parsed.title.get_ref());
    report.translations(
        parsed.lab.span(),
        "the lab description",
        &parsed.lab.get_ref().description,
    );
    let lab_kind = parsed.lab.get_ref().kind.trim();
    if lab_kind.is_empty() {
        report.error(parsed.lab.span(), "the lab has no `kind`");
    } else if LabKind::from_name(lab_kind).is_none() {
        report.error(
            parsed.lab.span(),
            format!(
                "unknown lab kind {lab_kind:?}: expected one of {}",
                names(LabKind::ALL.map(LabKind::name))
            ),
        );
    }

    if parsed.exercises.len() < 2 {
        report.error(
            parsed.id.span(),
            format!(
                "a lesson needs at least two exercises, this one has {}",
                parsed.exercises.len()
            ),
        );
    }
    let mut seen = BTreeSet::new();
    let mut exercises = Vec::new();
    for exercise in &parsed.exercises {
        let ex_id = exercise.get_ref().id.get_ref();
        if !seen.insert(ex_id.clone()) {
            report.error(
                exercise.get_ref().id.span(),
                format!("exercise id {ex_id:?} is used twice in this lesson"),
            );
        }
        if let Some(valid) = validate_exercise(exercise, &mut report) {
            exercises.push(valid);
        }
    }

    problems.append(&mut report.problems);
    if problems.iter().any(|p| p.severity == Severity::Error) {
        return Err(problems);
    }
    Ok(Lesson {
        number: folder_parts.map_or(0, |(n, _)| n),
        folder: source.folder.clone(),
        id,
        title: parsed.title.into_inner(),
        prose,
        lab: parsed.lab.into_inner(),
        exercises,
    })
}

/// A list of names as an error message gives them: `a, b, c`.
fn names<const N: usize>(list: [&str; N]) -> String {
    list.join(", ")
}

/// Which optional fields each kind uses (besides id, kind, prompt, solution, hints, attempts).
fn fields_of(kind: ExerciseKind) -> &'static [&'static str] {
    match kind {
        ExerciseKind::Choice => &["options", "correct"],
        ExerciseKind::ClassifyAddress | ExerciseKind::ClassifyPort => &["subject", "ask"],
        ExerciseKind::ClassifyHypervisor => &["subject", "ask"],
        ExerciseKind::HostReserve => &["host", "reserve-percent", "ask"],
        ExerciseKind::HostSizing => &["host", "reserve-percent", "vm-count"],
        ExerciseKind::NatSource => &["network"],
        ExerciseKind::NetMode | ExerciseKind::PortForward => &["network", "goals"],
        ExerciseKind::DiskFit => &["host-disk", "vms"],
        ExerciseKind::DiskCompact => &["image", "target-allocated"],
        ExerciseKind::DiskRestore => &["vm", "lives-on", "disks"],
    }
}

fn validate_exercise(
    spanned: &Spanned<ExerciseFile>,
    report: &mut Reporter<'_>,
) -> Option<Exercise> {
    let ex = spanned.get_ref();
    let at = spanned.span();
    let id = ex.id.get_ref().clone();
    let errors_before = report.problems.len();
    let what = |thing: &str| format!("exercise {id:?}: {thing}");

    if !is_kebab(&id) {
        report.error(
            ex.id.span(),
            what("ids are lowercase words joined by dashes, e.g. `ssh-to-vm2`"),
        );
    }
    let kind_name = ex.kind.get_ref().as_str();
    let Some(kind) = ExerciseKind::from_name(kind_name) else {
        report.error(
            ex.kind.span(),
            what(&format!(
                "unknown exercise kind {kind_name:?}; known kinds: {}",
                names(ExerciseKind::ALL.map(ExerciseKind::name))
            )),
        );
        return None;
    };

    // Fields that mean nothing for this kind are most likely a mistake (a field of another kind).
    let present: [(&str, Option<Range<usize>>); 14] = [
        ("subject", ex.subject.as_ref().map(Spanned::span)),
        ("ask", ex.ask.as_ref().map(Spanned::span)),
        ("correct", ex.correct.as_ref().map(Spanned::span)),
        ("options", ex.options.first().map(Spanned::span)),
        ("host", ex.host.as_ref().map(Spanned::span)),
        (
            "reserve-percent",
            ex.reserve_percent.as_ref().map(Spanned::span),
        ),
        ("vm-count", ex.vm_count.as_ref().map(Spanned::span)),
        ("network", ex.network.as_ref().map(Spanned::span)),
        ("goals", ex.goals.first().map(Spanned::span)),
        ("host-disk", ex.host_disk.as_ref().map(Spanned::span)),
        ("vms", ex.vms.as_ref().map(Spanned::span)),
        ("image", ex.image.as_ref().map(Spanned::span)),
        (
            "target-allocated",
            ex.target_allocated.as_ref().map(Spanned::span),
        ),
        ("vm", ex.vm.as_ref().map(Spanned::span)),
    ];
    let extra = [
        ("lives-on", ex.lives_on.as_ref().map(Spanned::span)),
        ("disks", ex.disks.as_ref().map(Spanned::span)),
    ];
    for (field, span) in present.into_iter().chain(extra) {
        if let Some(span) = span {
            if !fields_of(kind).contains(&field) {
                report.error(
                    span,
                    what(&format!(
                        "`{field}` has no meaning for kind {:?} (it uses: {})",
                        kind.name(),
                        fields_of(kind).join(", ")
                    )),
                );
            }
        }
    }

    let prompt = match &ex.prompt {
        Some(prompt) => {
            report.translations(prompt.span(), &what("the prompt"), prompt.get_ref());
            prompt.get_ref().clone()
        }
        None => {
            report.error(at.clone(), what("has no `prompt`"));
            Bilingual::default()
        }
    };

    let spec = build_spec(ex, kind, &at, report, &what);

    // Hints: every text in both languages, one catch-all, no key twice.
    let mut keys = BTreeSet::new();
    for hint in &ex.hints {
        let h = hint.get_ref();
        if !keys.insert(h.mistake.clone()) {
            report.error(
                hint.span(),
                what(&format!("two hints answer the mistake {:?}", h.mistake)),
            );
        }
        report.translations(
            hint.span(),
            &what(&format!("the hint for {:?}", h.mistake)),
            &h.text(),
        );
    }
    if !keys.contains("*") {
        report.error(
            at.clone(),
            what("needs a catch-all hint: `[[exercises.hints]]` with `mistake = \"*\"`"),
        );
    }

    let solution = match &ex.solution {
        Some(solution) if !solution.get_ref().is_empty() || kind == ExerciseKind::NetMode => {
            check_actions(
                solution.get_ref(),
                solution.span(),
                kind,
                spec.as_ref(),
                report,
                &what("the reference solution"),
            );
            solution.get_ref().clone()
        }
        Some(solution) => {
            report.error(solution.span(), what("the reference solution is empty"));
            Vec::new()
        }
        None => {
            report.error(
                at.clone(),
                what("has no reference solution: add `solution = [...]`"),
            );
            Vec::new()
        }
    };

    if ex.attempts.is_empty() {
        report.error(at.clone(), what("needs at least one typical wrong attempt (`[[exercises.attempts]]`) so lint and the snapshot tests can check its hint"));
    }
    for attempt in &ex.attempts {
        let a = attempt.get_ref();
        check_actions(
            &a.actions,
            attempt.span(),
            kind,
            spec.as_ref(),
            report,
            &what(&format!("attempt {:?}", a.name)),
        );
        if a.mistake == "*" || !keys.contains(&a.mistake) {
            report.error(
                attempt.span(),
                what(&format!(
                    "attempt {:?} expects the mistake {:?}, which has no hint of its own",
                    a.name, a.mistake
                )),
            );
        }
    }

    if report.problems.len() > errors_before {
        return None;
    }
    Some(Exercise {
        id,
        prompt,
        spec: spec?,
        hints: ex.hints.iter().map(|h| h.get_ref().clone()).collect(),
        solution,
        attempts: ex.attempts.iter().map(|a| a.get_ref().clone()).collect(),
        location: report.location(at),
    })
}

fn required<'a, T>(
    field: &'a Option<Spanned<T>>,
    name: &str,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<&'a Spanned<T>> {
    if field.is_none() {
        report.error(
            at.clone(),
            what(&format!("kind {:?} needs `{name}`", kind.name())),
        );
    }
    field.as_ref()
}

fn parse_choice<T: Copy>(
    field: &Spanned<String>,
    choices: &[(&str, T)],
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<T> {
    let value = field.get_ref().as_str();
    let found = choices
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, v)| *v);
    if found.is_none() {
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        report.error(
            field.span(),
            what(&format!(
                "`ask = {value:?}` is not one of: {}",
                names.join(", ")
            )),
        );
    }
    found
}

/// Checks that every step is allowed in this kind and names known nodes.
fn check_actions(
    actions: &[Action],
    span: Range<usize>,
    kind: ExerciseKind,
    spec: Option<&Spec>,
    report: &mut Reporter<'_>,
    whose: &str,
) {
    for (i, action) in actions.iter().enumerate() {
        let step = i + 1;
        if !kind.steps().contains(&action.name()) {
            report.error(
                span.clone(),
                format!(
                    "{whose}, step {step}: `{}` is not a step of kind {:?} (allowed: {})",
                    action.name(),
                    kind.name(),
                    kind.steps().join(", ")
                ),
            );
            continue;
        }
        let known: Vec<String> = match spec {
            Some(Spec::NetMode { network, .. }) | Some(Spec::PortForward { network, .. }) => {
                network.vms.iter().map(|v| v.name.clone()).collect()
            }
            Some(Spec::DiskFit { vms, .. }) => vms.clone(),
            Some(Spec::DiskCompact { image, .. }) => vec![image.vm.clone()],
            Some(Spec::DiskRestore { vm, .. }) => vec![vm.clone()],
            _ => continue,
        };
        if let Some(vm) = action.vm() {
            if !known.iter().any(|k| k == vm) {
                report.error(
                    span.clone(),
                    format!(
                        "{whose}, step {step}: unknown VM {vm:?}; this exercise has: {}",
                        known.join(", ")
                    ),
                );
            }
        }
        match (action, spec) {
            (
                Action::Backup { to: disk, .. } | Action::Restore { from: disk, .. },
                Some(Spec::DiskRestore { disks, .. }),
            ) if !disks.contains(disk) => {
                report.error(
                    span.clone(),
                    format!(
                        "{whose}, step {step}: unknown disk {disk:?}; this exercise has: {}",
                        disks.join(", ")
                    ),
                );
            }
            (Action::CreateDisk { size, .. }, _) => {
                if let Err(e) = parse_size(size) {
                    report.error(span.clone(), format!("{whose}, step {step}: {e}"));
                }
            }
            (Action::SetMode { vm, nic, .. }, Some(Spec::NetMode { network, .. })) => {
                let nics = network
                    .vms
                    .iter()
                    .find(|v| &v.name == vm)
                    .map_or(0, |v| v.nics.len());
                if *nic == 0 || usize::from(*nic) > nics {
                    report.error(span.clone(), format!("{whose}, step {step}: {vm:?} has no NIC {nic} (NICs are numbered from 1; it has {nics})"));
                }
            }
            (Action::AddForward(rule), Some(Spec::PortForward { network, .. })) => {
                if let Some(vm) = &rule.vm {
                    if !network.vms.iter().any(|v| &v.name == vm) {
                        let names: Vec<&str> =
                            network.vms.iter().map(|v| v.name.as_str()).collect();
                        report.error(
                            span.clone(),
                            format!(
                                "{whose}, step {step}: rule {:?} is for unknown VM {vm:?}; this exercise has: {}",
                                rule.rule.name,
                                names.join(", ")
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}
