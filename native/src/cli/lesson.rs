//! `labvisor lesson`: read the lessons, grade attempts and check lesson files.
//!
//! `list` and `show` read the curriculum embedded in the binary; `check` grades an actions file
//! against an exercise; `solve` prints the reference solution as an actions file `check`
//! accepts; `lint` validates a lesson folder on disk and replays its exercises.
//!
//! The exercises of lessons 6, 7, 9 and 12 that continue the course VM (`web`) start from the
//! VM kept in the progress file ([`crate::progress_file`], the browser's export format), and a
//! right answer saves the VM's new state there; `--fresh` starts them from the default VM and
//! leaves the file alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use labvisor_core::lang::Lang;
use labvisor_lessons::action::{parse_actions_file, ActionsFile};
use labvisor_lessons::course_vm::{self, CourseStep, CourseVm};
use labvisor_lessons::followup;
use labvisor_lessons::model::Spec;
use labvisor_lessons::progress::exercise_activity;
use labvisor_lessons::{
    curriculum, grade, lint, ActionLog, Curriculum, Exercise, Lesson, LessonSource, Severity,
    Verdict,
};
use serde::Serialize;

use super::output::{display_width, emit, print_json, Table};
use super::{CliError, CliResult, Global};
use crate::files;
use crate::progress_file;
use labvisor_core::lang::particle::{euro_ro, i_ga};

/// Read the lessons, grade your attempts, check lesson files.
#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// List the lessons in course order.
    List,
    /// Show a lesson: the explanation, the lab and the exercises.
    Show {
        /// Lesson id (`nat`), folder (`03-nat`) or number (`3`).
        id: String,
        #[command(flatten)]
        course: CourseVmArgs,
    },
    /// Grade an attempt. Exit status: 0 pass, 1 fail or not gradable in this build.
    ///
    /// The actions file is JSON (an array of steps such as `[{"answer": "private"}]`, or what
    /// `lesson solve` prints), TOML (`actions = [...]`) or a share link's postcard bytes (`.bin`).
    /// `--share` takes a share link's code instead.
    #[command(group(clap::ArgGroup::new("attempt").required(true).args(["actions", "share"])))]
    Check {
        /// Lesson id, folder or number.
        id: String,
        /// Exercise id, as `lesson show` lists it.
        exercise: String,
        /// The file with the learner's steps; `-` reads standard input (JSON).
        #[arg(long, value_name = "FILE")]
        actions: Option<PathBuf>,
        /// A share link's code (what `lesson solve --share` prints).
        #[arg(long, value_name = "CODE")]
        share: Option<String>,
        #[command(flatten)]
        course: CourseVmArgs,
    },
    /// Answer a follow-up question aimed at a misconception `lesson check` found.
    ///
    /// Without `--answer`, prints follow-up number `--asked`. With it, grades that question,
    /// then prints the next one until two in a row are right. Exit status: 0 right, 1 wrong.
    FollowUp {
        /// Lesson id, folder or number.
        id: String,
        /// The exercise the misconception showed in.
        exercise: String,
        /// The misconception, as `lesson check` names it (e.g. `unknown-ports`).
        misconception: String,
        /// How many follow-ups were asked before this one.
        #[arg(long, default_value_t = 0)]
        asked: u32,
        /// Right answers in a row so far.
        #[arg(long, default_value_t = 0)]
        right: u32,
        /// The answer to the follow-up.
        #[arg(long)]
        answer: Option<String>,
    },
    /// Print an exercise's reference solution as an actions file (JSON) or a share code.
    Solve {
        /// Lesson id, folder or number.
        id: String,
        /// Exercise id.
        exercise: String,
        /// Print the compact share-link code instead of JSON.
        #[arg(long)]
        share: bool,
    },
    /// Check lesson files: one lesson folder, or a folder of lesson folders.
    ///
    /// Reports missing translations, unknown exercise kinds and node names, missing reference
    /// solutions, and replays each reference solution and typical wrong attempt. Exit status 1
    /// when there are errors.
    Lint {
        /// A lesson folder (`NN-id/` with lesson.toml, en.md, ko.md) or a folder of them.
        dir: PathBuf,
    },
}

/// Where the course VM comes from, for the exercises that continue it (lessons 6, 7, 9, 12).
#[derive(Debug, clap::Args)]
pub struct CourseVmArgs {
    /// The progress file that keeps the course VM: the file the browser's "Export progress"
    /// saves, and which it imports. Default: $XDG_DATA_HOME/labvisor/progress.json
    /// (~/.local/share/labvisor/progress.json).
    #[arg(long, value_name = "FILE", env = "LABVISOR_PROGRESS")]
    pub progress: Option<PathBuf>,
    /// Start from the course's default VM instead of the one in the progress file, which is
    /// then neither read nor written.
    #[arg(long)]
    pub fresh: bool,
}

/// The course VM an exercise starts from, and where it came from.
struct CourseStart {
    /// The progress file, read; `None` with `--fresh`.
    file: Option<(PathBuf, labvisor_lessons::progress::Progress)>,
    vm: CourseVm,
}

impl CourseVmArgs {
    /// Reads the course VM, unless `--fresh` says to start from the default.
    fn start(&self) -> Result<CourseStart, CliError> {
        if self.fresh {
            return Ok(CourseStart {
                file: None,
                vm: CourseVm::default(),
            });
        }
        if self.progress.as_deref() == Some(Path::new("-")) {
            return Err(CliError::Usage(
                "--progress -: the progress file is read and written, so it must be a file, not standard input".into(),
            ));
        }
        let path = progress_file::locate(self.progress.as_deref()).map_err(usage)?;
        let progress = progress_file::read(&path).map_err(usage)?;
        Ok(CourseStart {
            vm: progress.course_vm.clone(),
            file: Some((path, progress)),
        })
    }
}

/// A progress file the user must fix or point elsewhere (exit 2, as a malformed actions file).
fn usage(e: progress_file::ProgressFileError) -> CliError {
    match e {
        progress_file::ProgressFileError::Write { .. } => CliError::Runtime(e.to_string()),
        progress_file::ProgressFileError::Read(read) => CliError::from(read),
        _ => CliError::Usage(e.to_string()),
    }
}

/// Runs `labvisor lesson …`.
pub fn run(args: Args, global: &Global) -> CliResult {
    let lang = global.lang();
    match args {
        Args::List => list(global, lang),
        Args::Show { id, course } => show(&id, &course, global, lang),
        Args::Check {
            id,
            exercise,
            actions,
            share,
            course,
        } => {
            let file = match (actions, share) {
                (_, Some(code)) => ActionLog::from_share_code(&code)
                    .map(ActionsFile::Log)
                    .map_err(CliError::Usage)?,
                (Some(path), None) => read_actions(&path)?,
                (None, None) => {
                    return Err(CliError::Usage(
                        "give the attempt with --actions FILE or --share CODE".into(),
                    ))
                }
            };
            check(&id, &exercise, &file, &course, global, lang)
        }
        Args::Solve {
            id,
            exercise,
            share,
        } => solve(&id, &exercise, share, lang),
        Args::Lint { dir } => lint_dir(&dir, global),
        Args::FollowUp {
            id,
            exercise,
            misconception,
            asked,
            right,
            answer,
        } => {
            let at = followup::Progress { asked, right };
            follow_up(&id, &exercise, &misconception, at, answer, global, lang)
        }
    }
}

fn course() -> Result<&'static Curriculum, CliError> {
    curriculum().map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        CliError::Runtime(format!(
            "the lessons built into this binary are invalid:\n{}",
            lines.join("\n")
        ))
    })
}

fn find_lesson<'a>(course: &'a Curriculum, id: &str) -> Result<&'a Lesson, CliError> {
    course.find(id).ok_or_else(|| {
        let ids: Vec<&str> = course.lessons.iter().map(|l| l.id.as_str()).collect();
        CliError::Usage(format!(
            "no lesson {id:?}; lessons: {} (or their numbers 1-{})",
            ids.join(", "),
            course.lessons.len()
        ))
    })
}

fn find_exercise<'a>(lesson: &'a Lesson, id: &str) -> Result<&'a Exercise, CliError> {
    lesson.exercise(id).ok_or_else(|| {
        let ids: Vec<&str> = lesson.exercises.iter().map(|e| e.id.as_str()).collect();
        CliError::Usage(format!(
            "lesson {:?} has no exercise {id:?}; its exercises: {}",
            lesson.id,
            ids.join(", ")
        ))
    })
}

#[derive(Serialize)]
struct ListEntry<'a> {
    number: u8,
    id: &'a str,
    title: &'a str,
    exercises: Vec<&'a str>,
    /// Engines beyond the foundation its exercises are graded with.
    engines: Vec<&'static str>,
}

fn engines_of(lesson: &Lesson) -> Vec<&'static str> {
    let mut engines: Vec<&'static str> = lesson
        .exercises
        .iter()
        .filter_map(|e| e.engine().map(|engine| engine.module()))
        .collect();
    engines.sort_unstable();
    engines.dedup();
    engines
}

fn list(global: &Global, lang: Lang) -> CliResult {
    let course = course()?;
    if global.json {
        let entries: Vec<ListEntry<'_>> = course
            .lessons
            .iter()
            .map(|l| ListEntry {
                number: l.number,
                id: &l.id,
                title: l.title.get(lang),
                exercises: l.exercises.iter().map(|e| e.id.as_str()).collect(),
                engines: engines_of(l),
            })
            .collect();
        print_json(&entries)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new();
    let header = match lang {
        Lang::En => ["#", "id", "exercises", "title"],
        Lang::Ko => ["#", "id", "연습 문제", "제목"],
    };
    table.row(header);
    for lesson in &course.lessons {
        table.row([
            lesson.number.to_string(),
            lesson.id.clone(),
            lesson.exercises.len().to_string(),
            lesson.title.get(lang).to_string(),
        ]);
    }
    let footer = match lang {
        Lang::En => "Read one with `labvisor lesson show ID` (`--lang ko` for Korean).",
        Lang::Ko => "`labvisor lesson show ID`로 읽으세요 (영어는 `--lang en`).",
    };
    emit(&format!("{}\n{footer}\n", table.render()))?;
    Ok(ExitCode::SUCCESS)
}

fn show(id: &str, args: &CourseVmArgs, global: &Global, lang: Lang) -> CliResult {
    let course = course()?;
    let lesson = find_lesson(course, id)?;
    if global.json {
        print_json(lesson)?;
        return Ok(ExitCode::SUCCESS);
    }
    // Only a lesson with an exercise that continues the course VM reads the progress file.
    let vm = if lesson.exercises.iter().any(|e| e.course_vm.is_some()) {
        args.start()?.vm
    } else {
        CourseVm::default()
    };
    emit(&render_lesson(lesson, &vm, &course.lessons, lang))?;
    Ok(ExitCode::SUCCESS)
}

/// The whole lesson as terminal text: prose, lab, exercises (the one that continues the course
/// VM with the VM it starts from, `vm`).
fn render_lesson(lesson: &Lesson, vm: &CourseVm, lessons: &[Lesson], lang: Lang) -> String {
    let (lab_title, exercises_title, try_it, choose, answer_with) = match lang {
        Lang::En => ("Lab", "Exercises", "Try", "Options", "Answer with"),
        Lang::Ko => ("실습", "연습 문제", "해 보기", "보기", "답하는 방법"),
    };
    let mut out = format!("Lesson {} · {}\n\n", lesson.number, lesson.id);
    out.push_str(&render_markdown(lesson.prose.get(lang)));
    out.push('\n');
    out.push_str(&underline(lab_title, '─'));
    out.push_str(lesson.lab.description.get(lang).trim());
    out.push('\n');
    if !lesson.lab.commands.is_empty() {
        out.push_str(&format!("\n{try_it}:\n"));
        for command in &lesson.lab.commands {
            out.push_str(&format!("    $ {command}\n"));
        }
    }
    out.push('\n');
    out.push_str(&underline(exercises_title, '─'));
    for (i, exercise) in lesson.exercises.iter().enumerate() {
        out.push_str(&format!(
            "{}. [{}] {}\n",
            i + 1,
            exercise.id,
            exercise.prompt.get(lang).trim()
        ));
        if let Some(step) = exercise.course_vm {
            let label = course_vm_label(lang);
            let note = vm.starting_note(step, lessons);
            out.push_str(&format!("   {label}: {}\n", note.get(lang)));
        }
        if let Spec::Choice { options, .. } = &exercise.spec {
            out.push_str(&format!("   {choose}:\n"));
            for option in options {
                let label = match lang {
                    Lang::En => &option.en,
                    Lang::Ko => &option.ko,
                };
                out.push_str(&format!("     - {}: {label}\n", option.id));
            }
        }
        if let Some(engine) = exercise.engine() {
            out.push_str(&match (lang, engine.available()) {
                (Lang::En, true) => {
                    format!(
                        "   (graded by simulating your steps in {})\n",
                        engine.module()
                    )
                }
                (Lang::Ko, true) => {
                    format!(
                        "   ({}에서 여러분의 단계를 시뮬레이션해 채점합니다)\n",
                        engine.module()
                    )
                }
                (Lang::En, false) => format!(
                    "   (graded by {}; not gradable in this build yet)\n",
                    engine.module()
                ),
                (Lang::Ko, false) => format!(
                    "   ({} 채점합니다. 이 빌드에서는 아직 채점할 수 없습니다)\n",
                    euro_ro(engine.module())
                ),
            });
        }
        out.push_str(&format!(
            "   {answer_with}: labvisor lesson check {} {} --actions FILE\n\n",
            lesson.id, exercise.id
        ));
    }
    out
}

fn course_vm_label(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Course VM",
        Lang::Ko => "과정 VM",
    }
}

fn underline(title: &str, mark: char) -> String {
    let line: String = std::iter::repeat_n(mark, display_width(title)).collect();
    format!("{title}\n{line}\n")
}

/// Markdown for a terminal: headings underlined, tables aligned (Hangul-aware), code blocks
/// indented, `**` emphasis markers dropped. Deterministic: no colours.
pub fn render_markdown(markdown: &str) -> String {
    let mut out = String::new();
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut in_code = false;
    let flush_table = |table: &mut Vec<Vec<String>>, out: &mut String| {
        if table.is_empty() {
            return;
        }
        let mut t = Table::new();
        for row in table.drain(..) {
            t.row(row);
        }
        for line in t.render().lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    };
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let trimmed = line.trim();
        if trimmed.starts_with('|') {
            let cells: Vec<String> = trimmed
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().replace("**", ""))
                .collect();
            let separator = cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')));
            if !separator {
                table.push(cells);
            }
            continue;
        }
        flush_table(&mut table, &mut out);
        let text = line.replace("**", "");
        if let Some(title) = text.strip_prefix("# ") {
            out.push_str(&underline(title, '═'));
        } else if let Some(title) = text.strip_prefix("## ") {
            out.push_str(&underline(title, '─'));
        } else {
            out.push_str(&text);
            out.push('\n');
        }
    }
    flush_table(&mut table, &mut out);
    out
}

fn read_actions(path: &Path) -> Result<ActionsFile, CliError> {
    let bytes = files::read_bytes(path, "actions file", files::ACTIONS_LIMIT)?;
    // A malformed file is the user's to fix (exit 2), as a bad --share code is; exit 1 means
    // a wrong answer.
    parse_actions_file(&path.display().to_string(), &bytes).map_err(CliError::Usage)
}

#[derive(Serialize)]
struct CheckReport<'a> {
    lesson: &'a str,
    exercise: &'a str,
    #[serde(flatten)]
    grade: &'a labvisor_lessons::Grade,
    /// For an exercise that continues the course VM.
    #[serde(rename = "course-vm", skip_serializing_if = "Option::is_none")]
    course_vm: Option<CourseVmReport<'a>>,
}

/// What `check` did with the course VM.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct CourseVmReport<'a> {
    step: CourseStep,
    /// The progress file read (and written on a pass); `None` with `--fresh`.
    progress_file: Option<String>,
    /// The VM the exercise started from.
    start: &'a CourseVm,
    /// The VM saved after a pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    saved: Option<&'a CourseVm>,
    /// Why a pass saved nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    not_saved: Option<&'a str>,
}

/// What a pass did to the course VM.
enum Saved {
    /// Written to the progress file.
    To(PathBuf, CourseVm),
    /// Passed with `--fresh`: nothing read, nothing written.
    Fresh,
    /// The VM the steps made is not one the course carries.
    Refused(String),
}

/// On a pass of an exercise that continues the course VM: the VM saved in the progress file
/// with the exercise marked done, unless `--fresh`.
fn save_course_vm(
    start: CourseStart,
    activity: &str,
    vm_after: Option<Result<CourseVm, String>>,
) -> Result<Option<Saved>, CliError> {
    let next = match vm_after {
        None => return Ok(None),
        Some(Err(why)) => return Ok(Some(Saved::Refused(why))),
        Some(Ok(next)) => next,
    };
    let Some((path, mut progress)) = start.file else {
        return Ok(Some(Saved::Fresh));
    };
    progress.course_vm = next.clone();
    progress.complete(activity);
    progress_file::write(&path, &progress).map_err(usage)?;
    Ok(Some(Saved::To(path, next)))
}

fn check(
    id: &str,
    exercise_id: &str,
    file: &ActionsFile,
    course_args: &CourseVmArgs,
    global: &Global,
    lang: Lang,
) -> CliResult {
    let course = course()?;
    let lesson = find_lesson(course, id)?;
    let exercise = find_exercise(lesson, exercise_id)?;
    if let ActionsFile::Log(log) = file {
        if course.find(&log.lesson).map(|l| l.id.as_str()) != Some(lesson.id.as_str())
            || log.exercise != exercise.id
        {
            return Err(CliError::Usage(format!(
                "the attempt given is for {}/{}, not {}/{}",
                log.lesson, log.exercise, lesson.id, exercise.id
            )));
        }
    }
    let start = match exercise.course_vm {
        Some(_) => course_args.start()?,
        None => CourseStart {
            file: None,
            vm: CourseVm::default(),
        },
    };
    let start_vm = start.vm.clone();
    let progress_path = start.file.as_ref().map(|(p, _)| p.display().to_string());
    let attempt = course_vm::grade(exercise, &start_vm, file.actions());
    let result = attempt.grade;
    let index = lesson
        .exercises
        .iter()
        .position(|e| e.id == exercise.id)
        .unwrap_or_default();
    let activity = exercise_activity(&lesson.id, index);
    let saved = save_course_vm(start, &activity, attempt.vm_after)?;
    if global.json {
        let course_vm = exercise.course_vm.map(|step| CourseVmReport {
            step,
            progress_file: progress_path.clone(),
            start: &start_vm,
            saved: match &saved {
                Some(Saved::To(_, vm)) => Some(vm),
                _ => None,
            },
            not_saved: match &saved {
                Some(Saved::Refused(why)) => Some(why),
                _ => None,
            },
        });
        print_json(&CheckReport {
            lesson: &lesson.id,
            exercise: &exercise.id,
            grade: &result,
            course_vm,
        })?;
    } else {
        let verdict = match (result.verdict, lang) {
            (Verdict::Pass, Lang::En) => "PASS".to_string(),
            (Verdict::Pass, Lang::Ko) => "통과".to_string(),
            (Verdict::Fail, Lang::En) => "FAIL".to_string(),
            (Verdict::Fail, Lang::Ko) => "실패".to_string(),
            (Verdict::NeedsEngine(e), Lang::En) => {
                format!(
                    "NOT GRADED: this exercise needs {}, not in this build yet",
                    e.module()
                )
            }
            (Verdict::NeedsEngine(e), Lang::Ko) => {
                format!(
                    "채점 안 됨: 이 문제는 {} 필요한데 이 빌드에는 아직 없습니다",
                    i_ga(e.module())
                )
            }
        };
        let mut text = format!("{}/{}: {verdict}\n", lesson.id, exercise.id);
        if let Some(step) = exercise.course_vm {
            let from = match (&progress_path, lang) {
                (Some(path), Lang::En) => format!("progress file {path}"),
                (Some(path), Lang::Ko) => format!("진도 파일 {path}"),
                (None, Lang::En) => "--fresh: the default, no progress file".to_string(),
                (None, Lang::Ko) => "--fresh: 기본값, 진도 파일 없이".to_string(),
            };
            let note = start_vm.starting_note(step, &course.lessons);
            text.push_str(&format!(
                "{} ({from}): {}\n",
                course_vm_label(lang),
                note.get(lang)
            ));
        }
        let labelled = [
            (&result.note, "Note", "참고"),
            (&result.why, "Why", "왜"),
            (&result.hint, "Hint", "힌트"),
        ];
        for (said, en, ko) in labelled {
            if let Some(said) = said {
                let label = match lang {
                    Lang::En => en,
                    Lang::Ko => ko,
                };
                text.push_str(&format!("{label}: {}\n", said.get(lang)));
            }
        }
        text.push_str(&saved_text(saved.as_ref(), lang));
        text.push_str("\ntrace:\n");
        for line in &result.trace {
            text.push_str(&format!("  {line}\n"));
        }
        if let Some(found) = followup::misconception(exercise, &result) {
            let start = followup::Progress::default();
            text.push_str(&follow_up_text(lesson, exercise, found, start, lang));
        }
        emit(&text)?;
    }
    Ok(if result.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The line saying what a pass did to the course VM.
fn saved_text(saved: Option<&Saved>, lang: Lang) -> String {
    match (saved, lang) {
        (None, _) => String::new(),
        (Some(Saved::To(path, vm)), Lang::En) => {
            format!("Saved to {}: {}\n", path.display(), vm.summary().en)
        }
        (Some(Saved::To(path, vm)), Lang::Ko) => {
            format!("{}에 저장했습니다: {}\n", path.display(), vm.summary().ko)
        }
        (Some(Saved::Fresh), Lang::En) => {
            "Not saved: --fresh leaves the progress file alone.\n".to_string()
        }
        (Some(Saved::Fresh), Lang::Ko) => {
            "저장하지 않음: --fresh는 진도 파일을 건드리지 않습니다.\n".to_string()
        }
        (Some(Saved::Refused(why)), Lang::En) => {
            format!("Passed, but the course VM was not saved: {why}\n")
        }
        (Some(Saved::Refused(why)), Lang::Ko) => {
            format!("통과했지만 과정 VM은 저장하지 않았습니다: {why}\n")
        }
    }
}

fn solve(id: &str, exercise_id: &str, share: bool, lang: Lang) -> CliResult {
    let course = course()?;
    let lesson = find_lesson(course, id)?;
    let exercise = find_exercise(lesson, exercise_id)?;
    let log = ActionLog {
        lesson: lesson.id.clone(),
        exercise: exercise.id.clone(),
        actions: exercise.solution.clone(),
    };
    if share {
        emit(&format!("{}\n", log.to_share_code()))?;
    } else {
        print_json(&log)?;
    }
    // On standard error, so that what standard output carries stays an actions file.
    if let Some(why) = &exercise.why {
        let label = match lang {
            Lang::En => "why",
            Lang::Ko => "왜",
        };
        super::output::errln!("{label}: {}", why.get(lang));
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads one lesson folder's files.
fn read_lesson_dir(dir: &Path) -> Result<LessonSource, CliError> {
    let mut files = BTreeMap::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CliError::Runtime(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_file() && (name.ends_with(".md") || name.ends_with(".toml")) {
            let text = files::read_text(&path, "lesson file", files::LESSON_FILE_LIMIT)?;
            files.insert(name, text);
        }
    }
    let folder = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    Ok(LessonSource {
        dir: dir.display().to_string().trim_end_matches('/').to_string(),
        folder,
        files,
    })
}

fn lint_dir(dir: &Path, global: &Global) -> CliResult {
    if !dir.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is not a directory: give a lesson folder or a folder of lesson folders",
            dir.display()
        )));
    }
    let sources = if dir.join("lesson.toml").is_file() {
        vec![read_lesson_dir(dir)?]
    } else {
        let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| CliError::Runtime(format!("cannot read {}: {e}", dir.display())))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        folders.sort();
        if folders.is_empty() {
            return Err(CliError::Usage(format!(
                "{} holds no lesson.toml and no lesson folders",
                dir.display()
            )));
        }
        folders
            .iter()
            .map(|f| read_lesson_dir(f))
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut problems = Vec::new();
    let mut exercises = 0;
    let glossary = labvisor_lessons::glossary::Glossary::course();
    for source in &sources {
        problems.extend(glossary.check_lesson(source));
        match labvisor_lessons::load_lesson(source) {
            Ok(lesson) => {
                exercises += lesson.exercises.len();
                problems.extend(lint::replay(&lesson));
            }
            Err(found) => problems.extend(found),
        }
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if global.json {
        #[derive(Serialize)]
        struct LintReport<'a> {
            lessons: usize,
            exercises: usize,
            errors: usize,
            problems: &'a [labvisor_lessons::Problem],
        }
        print_json(&LintReport {
            lessons: sources.len(),
            exercises,
            errors,
            problems: &problems,
        })?;
    } else {
        let mut text: String = problems.iter().map(|p| format!("{p}\n")).collect();
        let notes = problems.len() - errors;
        text.push_str(&format!(
            "{} lesson(s), {exercises} exercise(s) checked: {errors} error(s), {notes} note(s)\n",
            sources.len()
        ));
        emit(&text)?;
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The follow-up question `at.asked` for `found`, and the command that answers it.
fn follow_up_text(
    lesson: &Lesson,
    exercise: &Exercise,
    found: followup::Misconception,
    at: followup::Progress,
    lang: Lang,
) -> String {
    let question = followup::question(exercise, found, at.asked);
    let (label, answer) = match lang {
        Lang::En => ("Follow-up", "answer with"),
        Lang::Ko => ("이어지는 질문", "답하는 명령"),
    };
    let mut text = format!(
        "\n{label} ({}): {}\n",
        found.name(),
        found.explain().get(lang)
    );
    text.push_str(&format!("  {}\n", question.prompt.get(lang)));
    text.push_str(&format!(
        "  {answer}: labvisor lesson follow-up {} {} {} --asked {} --right {} --answer ANSWER\n",
        lesson.id,
        exercise.id,
        found.name(),
        at.asked,
        at.right
    ));
    text
}

#[derive(Serialize)]
struct FollowUpReport<'a> {
    misconception: &'a str,
    question: &'a str,
    #[serde(flatten)]
    grade: &'a labvisor_lessons::Grade,
    progress: followup::Progress,
    finished: bool,
}

/// `lesson follow-up`: the follow-up `at.asked`, graded when answered, then the next one.
fn follow_up(
    id: &str,
    exercise_id: &str,
    misconception: &str,
    at: followup::Progress,
    answer: Option<String>,
    global: &Global,
    lang: Lang,
) -> CliResult {
    let course = course()?;
    let lesson = find_lesson(course, id)?;
    let exercise = find_exercise(lesson, exercise_id)?;
    let found = followup::Misconception::from_name(misconception).ok_or_else(|| {
        CliError::Usage(format!(
            "unknown misconception {misconception:?}: use the name `lesson check` printed"
        ))
    })?;
    let Some(answer) = answer else {
        emit(&follow_up_text(lesson, exercise, found, at, lang))?;
        return Ok(ExitCode::SUCCESS);
    };
    let question = followup::question(exercise, found, at.asked);
    let result = grade(&question, &[labvisor_lessons::Action::Answer(answer)]);
    let next = at.after(result.passed());
    if global.json {
        print_json(&FollowUpReport {
            misconception: found.name(),
            question: question.prompt.get(lang),
            grade: &result,
            progress: next,
            finished: next.finished(),
        })?;
    } else {
        let verdict = match (result.passed(), lang) {
            (true, Lang::En) => "right".to_string(),
            (true, Lang::Ko) => "맞았습니다".to_string(),
            (false, Lang::En) => "not yet".to_string(),
            (false, Lang::Ko) => "아직 아닙니다".to_string(),
        };
        let mut text = format!("{verdict}: {}\n", question.prompt.get(lang));
        for line in &result.trace {
            text.push_str(&format!("  {line}\n"));
        }
        if next.finished() {
            text.push_str(match lang {
                Lang::En => "Two right in a row: the boundary is learnt.\n",
                Lang::Ko => "연속 두 번 맞았습니다. 경계를 익혔습니다.\n",
            });
        } else {
            text.push_str(&follow_up_text(lesson, exercise, found, next, lang));
        }
        emit(&text)?;
    }
    Ok(if result.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
