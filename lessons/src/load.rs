//! Reading and validating lessons. Sans-IO: callers hand in the files' text (embedded at build
//! time, or read from a directory by `labvisor lesson lint`), and get back a [`Lesson`] or every
//! problem found, each with file, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use labvisor_core::lang::{Bilingual, Lang};
use toml::Spanned;

use crate::action::Action;
use crate::course_vm::{self, CourseStep};
use crate::kind::{self, Fields};
use crate::model::*;
use crate::source::{language_name, Reporter};
pub use crate::source::{line_column, Location, Problem, Severity};

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

    let prose = read_prose(source, &mut problems);

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

    check_lab_scenario(&mut report, &parsed.lab);

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

/// The lesson's explanation, `en.md` and `ko.md`, each present and not empty.
fn read_prose(source: &LessonSource, problems: &mut Vec<Problem>) -> Bilingual {
    let whole_file = |name: &str, message: String| Problem {
        file: format!("{}/{name}", source.dir),
        line: 0,
        column: 0,
        severity: Severity::Error,
        message,
    };
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
    prose
}

/// A list of names as an error message gives them: `a, b, c`.
fn names<const N: usize>(list: [&str; N]) -> String {
    list.join(", ")
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
    let mut fields = Fields {
        ex,
        kind,
        at: at.clone(),
        report,
    };
    check_fields_of_kind(&mut fields);
    let prompt = match &ex.prompt {
        Some(prompt) => {
            fields.translations(prompt.span(), "the prompt", prompt.get_ref());
            prompt.get_ref().clone()
        }
        None => {
            fields.error(at.clone(), "has no `prompt`");
            Bilingual::default()
        }
    };
    let spec = kind::build(&mut fields);
    let hint_keys = check_hints(&mut fields);
    let solution = check_solution(&mut fields, spec.as_ref());
    check_attempts(&mut fields, spec.as_ref(), &hint_keys);
    check_why_and_accepts(&mut fields);
    check_setup(&mut fields, spec.as_ref());
    let course_vm = check_course_vm(&mut fields, spec.as_ref());

    if report.problems.len() > errors_before {
        return None;
    }
    Some(Exercise {
        id,
        prompt,
        spec: spec?,
        hints: ex.hints.iter().map(|h| h.get_ref().clone()).collect(),
        ladder: ex.ladder.iter().map(|r| r.get_ref().clone()).collect(),
        solution,
        attempts: ex.attempts.iter().map(|a| a.get_ref().clone()).collect(),
        why: ex.why.as_ref().map(|w| w.get_ref().clone()),
        setup: ex
            .setup
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_default(),
        accepts: ex.accept.iter().map(|a| a.get_ref().clone()).collect(),
        course_vm,
        location: report.location(at),
    })
}

/// Fields that mean nothing for this kind are most likely a mistake (a field of another kind).
fn check_fields_of_kind(f: &mut Fields<'_, '_>) {
    let ex = f.ex;
    let present: [(&str, Option<Range<usize>>); 17] = [
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
        (
            "min-disk-size",
            ex.min_disk_size.as_ref().map(Spanned::span),
        ),
        ("image", ex.image.as_ref().map(Spanned::span)),
        (
            "target-allocated",
            ex.target_allocated.as_ref().map(Spanned::span),
        ),
        ("vm", ex.vm.as_ref().map(Spanned::span)),
        ("lives-on", ex.lives_on.as_ref().map(Spanned::span)),
        ("disks", ex.disks.as_ref().map(Spanned::span)),
    ];
    let uses = f.kind.fields();
    for (field, span) in present {
        if let Some(span) = span.filter(|_| !uses.contains(&field)) {
            let thing = format!(
                "`{field}` has no meaning for kind {:?} (it uses: {})",
                f.kind.name(),
                uses.join(", ")
            );
            f.error(span, &thing);
        }
    }
}

/// Hints: every text in both languages, one catch-all, no key twice. Returns the keys.
fn check_hints(f: &mut Fields<'_, '_>) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for hint in &f.ex.hints {
        let h = hint.get_ref();
        if !keys.insert(h.mistake.clone()) {
            f.error(
                hint.span(),
                &format!("two hints answer the mistake {:?}", h.mistake),
            );
        }
        f.translations(
            hint.span(),
            &format!("the hint for {:?}", h.mistake),
            &h.text(),
        );
    }
    if !keys.contains("*") {
        f.error(
            f.at.clone(),
            "needs a catch-all hint: `[[exercises.hints]]` with `mistake = \"*\"`",
        );
    }
    for (n, rung) in f.ex.ladder.iter().enumerate() {
        let thing = format!("hint {} of the ladder", n + 1);
        f.translations(rung.span(), &thing, rung.get_ref());
    }
    keys
}

/// The reference solution: present, not empty (unless the starting state already passes, as a
/// net-mode exercise may), every step valid.
fn check_solution(f: &mut Fields<'_, '_>, spec: Option<&Spec>) -> Vec<Action> {
    match &f.ex.solution {
        Some(solution) if !solution.get_ref().is_empty() || f.kind == ExerciseKind::NetMode => {
            let whose = f.what("the reference solution");
            check_actions(f, solution.get_ref(), solution.span(), spec, &whose);
            solution.get_ref().clone()
        }
        Some(solution) => {
            f.error(solution.span(), "the reference solution is empty");
            Vec::new()
        }
        None => {
            f.error(
                f.at.clone(),
                "has no reference solution: add `solution = [...]`",
            );
            Vec::new()
        }
    }
}

/// The typical wrong attempts: at least one, every step valid, each expecting a mistake that
/// has a hint of its own.
fn check_attempts(f: &mut Fields<'_, '_>, spec: Option<&Spec>, hint_keys: &BTreeSet<String>) {
    if f.ex.attempts.is_empty() {
        f.error(f.at.clone(), "needs at least one typical wrong attempt (`[[exercises.attempts]]`) so lint and the snapshot tests can check its hint");
    }
    for attempt in &f.ex.attempts {
        let a = attempt.get_ref();
        let whose = f.what(&format!("attempt {:?}", a.name));
        check_actions(f, &a.actions, attempt.span(), spec, &whose);
        if a.mistake == "*" || !hint_keys.contains(&a.mistake) {
            f.error(
                attempt.span(),
                &format!(
                    "attempt {:?} expects the mistake {:?}, which has no hint of its own",
                    a.name, a.mistake
                ),
            );
        }
    }
}

/// The `why` and every accepted answer in both languages; accepted answers only where the
/// learner answers, each answer given once. Whether an accepted answer really passes with its
/// note is for [`crate::lint::replay`], which grades it.
fn check_why_and_accepts(f: &mut Fields<'_, '_>) {
    match &f.ex.why {
        Some(why) => f.translations(why.span(), "the `why`", why.get_ref()),
        None => f.error(
            f.at.clone(),
            "has no `why`: say why the right answer is right (`why.en`, `why.ko`); a learner who passes reads it",
        ),
    }
    let takes_answers = f.kind.steps().contains(&"answer");
    let mut seen = BTreeSet::new();
    for accept in &f.ex.accept {
        let a = accept.get_ref();
        if !takes_answers {
            let thing = format!(
                "`[[exercises.accept]]` needs an exercise answered with `answer`; kind {:?} takes: {}",
                f.kind.name(),
                f.kind.steps().join(", ")
            );
            f.error(accept.span(), &thing);
        }
        if a.answer.trim().is_empty() {
            f.error(accept.span(), "an accepted answer is empty");
        } else if !seen.insert(a.answer.trim().to_string()) {
            f.error(
                accept.span(),
                &format!("the answer {:?} is accepted twice", a.answer),
            );
        }
        f.translations(
            accept.span(),
            &format!("the note of the accepted answer {:?}", a.answer),
            &a.note,
        );
    }
}

/// A network lab names its scenario, one of the core's examples that sets a goal; no other lab
/// kind names one.
fn check_lab_scenario(report: &mut Reporter<'_>, lab: &Spanned<Lab>) {
    let kind = LabKind::from_name(lab.get_ref().kind.trim());
    let network = matches!(kind, Some(LabKind::NetTrace | LabKind::NetMatrix));
    let examples = labvisor_core::net::scenario::EXAMPLES;
    match (&lab.get_ref().scenario, network) {
        (None, true) => report.error(
            lab.span(),
            format!(
                "a network lab needs scenario = \"...\", the lesson's own example: one of {}",
                examples
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        (Some(name), false) => report.error(
            lab.span(),
            format!(
                "scenario = {name:?}: only a network lab (net-trace, net-matrix) opens a scenario"
            ),
        ),
        (Some(name), true) => match examples.iter().find(|(n, _)| n == name) {
            None => report.error(
                lab.span(),
                format!(
                    "unknown scenario {name:?}: expected one of {}",
                    examples
                        .iter()
                        .map(|(name, _)| *name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Some((_, src)) => {
                let goal = labvisor_core::net::scenario::Scenario::parse(name, src)
                    .ok()
                    .and_then(|s| s.goal);
                if goal.is_none() {
                    report.error(
                        lab.span(),
                        format!("scenario {name:?} has no [goal]: a lesson's lab sets the learner a task"),
                    );
                }
            }
        },
        (None, false) => {}
    }
}

/// A broken lab's starting steps: steps of the kind that name what the exercise has, and only
/// where the learner acts (an answer has no state to break). That the lab really starts
/// broken is for [`crate::lint::replay`], which grades it with no step of the learner's.
fn check_setup(f: &mut Fields<'_, '_>, spec: Option<&Spec>) {
    let Some(setup) = &f.ex.setup else { return };
    if f.kind.steps() == ["answer"] {
        let thing = format!(
            "`setup` needs an exercise of steps; kind {:?} is answered with `answer`",
            f.kind.name()
        );
        f.error(setup.span(), &thing);
        return;
    }
    let whose = f.what("the setup");
    check_actions(f, setup.get_ref(), setup.span(), spec, &whose);
}

/// `course-vm`: a step of the course VM ([`CourseStep`]), on an exercise of the kind that
/// carries it out, naming the VM `web`, and without a `setup` (it starts from the learner's
/// VM, not from a broken lab).
fn check_course_vm(f: &mut Fields<'_, '_>, spec: Option<&Spec>) -> Option<CourseStep> {
    let field = f.ex.course_vm.as_ref()?;
    let name = field.get_ref().as_str();
    let Some(step) = CourseStep::from_name(name) else {
        let steps: Vec<&str> = CourseStep::ALL.iter().map(|s| s.name()).collect();
        f.error(
            field.span(),
            &format!("`course-vm = {name:?}` is not one of: {}", steps.join(", ")),
        );
        return None;
    };
    if f.kind != step.kind() {
        let thing = format!(
            "`course-vm = {name:?}` is carried out by a {:?} exercise, not {:?}",
            step.kind().name(),
            f.kind.name()
        );
        f.error(field.span(), &thing);
        return None;
    }
    if let Some(setup) = &f.ex.setup {
        f.error(
            setup.span(),
            "an exercise that continues the course VM starts from the learner's VM: it has no `setup`",
        );
    }
    if spec.is_some_and(|spec| !step.names_the_vm(spec)) {
        let thing = format!(
            "`course-vm = {name:?}`: the exercise must name the course VM {:?} ({})",
            course_vm::NAME,
            match step {
                CourseStep::Size => "in `vms`, the VMs the plan must hold",
                CourseStep::Disk => "in `vms`",
                CourseStep::Forward => "among `network.vms`",
                CourseStep::LoseDisk => "as `vm`",
            }
        );
        f.error(field.span(), &thing);
    }
    Some(step)
}

/// Checks that every step is allowed in this kind and names what the exercise has.
fn check_actions(
    f: &mut Fields<'_, '_>,
    actions: &[Action],
    span: Range<usize>,
    spec: Option<&Spec>,
    whose: &str,
) {
    let kind = f.kind;
    for (i, action) in actions.iter().enumerate() {
        let step = i + 1;
        if !kind.steps().contains(&action.name()) {
            f.report.error(
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
        for problem in spec
            .map(|spec| kind::step_problems(spec, action))
            .unwrap_or_default()
        {
            f.report
                .error(span.clone(), format!("{whose}, step {step}: {problem}"));
        }
    }
}
