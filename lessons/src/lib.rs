//! # labvisor-lessons
//!
//! The curriculum: one folder per lesson under `content/` (`NN-id/en.md`, `ko.md`,
//! `lesson.toml`), embedded in the crate at build time, and the code that loads, validates and
//! grades it. Top-down:
//!
//! - [`curriculum`]: the embedded lessons, loaded once.
//! - [`load`]: reading and validating one lesson folder; every problem with file:line:column.
//! - [`model`]: what a lesson and an exercise are; [`model::Spec`] holds each exercise kind's
//!   fields.
//! - [`kind`]: one module per exercise kind (`choice`, `classify`, `host`, `net`, `disk`), each
//!   owning its fields' checks, the steps it takes and its grader; [`kind::ExerciseKind`] and
//!   [`kind::LabKind`] name the kinds.
//! - [`action`]: what a learner does, as a serializable log (TOML, JSON, postcard).
//! - [`grade`](mod@grade): replaying a log against an exercise: pass or fail, the mistake and its hint,
//!   and a trace. Deterministic, no I/O.
//! - [`key`]: the answer key, taken from `labvisor-core`'s model; the network and disk kinds
//!   are graded by simulation in `core::net` (`kind::net`) and `core::disk` (`kind::disk`).
//! - [`lint`]: replaying every reference solution and wrong attempt, as `labvisor lesson lint`
//!   and the curriculum snapshot tests do.
//! - [`followup`]: follow-up questions aimed at a named misconception, probing its boundary.
//! - [`glossary`]: the course's terms in both languages and the Korean wordings lint refuses.
//! - [`course_vm`]: the VM `web` that lessons 6, 7, 9 and 12 continue, and grading from it.
//! - [`progress`]: what a learner has done, as the file both front ends read and write.
//!
//! `docs/authoring.md` explains the file format to instructors.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod action;
pub mod course_vm;
pub mod followup;
pub mod glossary;
pub mod grade;
pub mod key;
pub mod kind;
mod kind_names;
pub mod lint;
pub mod load;
pub mod model;
pub mod progress;
pub mod size;
mod source;

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use action::{Action, ActionLog};
pub use grade::{grade, Grade, Verdict};
/// Lesson text in both languages: the core's own type (a missing language is a lint error).
pub use labvisor_core::lang::Bilingual;
pub use load::{load_lesson, LessonSource, Problem, Severity};
pub use model::{Engine, Exercise, Lesson};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// All lessons, in course order.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Curriculum {
    /// The lessons, ordered by their number.
    pub lessons: Vec<Lesson>,
}

impl Curriculum {
    /// Loads lessons from their sources, reporting every problem of every lesson, plus lesson
    /// ids or numbers used twice.
    pub fn from_sources(sources: &[LessonSource]) -> Result<Curriculum, Vec<Problem>> {
        let mut lessons = Vec::new();
        let mut problems = Vec::new();
        for source in sources {
            match load_lesson(source) {
                Ok(lesson) => lessons.push(lesson),
                Err(mut found) => problems.append(&mut found),
            }
        }
        lessons.sort_by_key(|l| l.number);
        for pair in lessons.windows(2) {
            if pair[0].number == pair[1].number || pair[0].id == pair[1].id {
                problems.push(Problem {
                    file: pair[1].folder.clone(),
                    line: 0,
                    column: 0,
                    severity: Severity::Error,
                    message: format!(
                        "lessons {:?} and {:?} share a number or an id",
                        pair[0].folder, pair[1].folder
                    ),
                });
            }
        }
        problems.extend(course_vm_problems(&lessons));
        if problems.iter().any(|p| p.severity == Severity::Error) {
            return Err(problems);
        }
        Ok(Curriculum { lessons })
    }

    /// The validated lessons in postcard. The browser build embeds this, made at build time,
    /// rather than the lesson files: it then links neither a TOML nor a JSON parser, and does no
    /// validation at start-up.
    pub fn to_postcard(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// The lessons as the browser embeds them: without each exercise's typical wrong
    /// attempts, which only `labvisor lesson lint` and the tests replay.
    pub fn for_browser(&self) -> Curriculum {
        let mut lessons = self.lessons.clone();
        for exercise in lessons.iter_mut().flat_map(|l| &mut l.exercises) {
            exercise.attempts.clear();
        }
        Curriculum { lessons }
    }

    /// Reads what [`Curriculum::to_postcard`] wrote.
    pub fn from_postcard(bytes: &[u8]) -> Result<Curriculum, String> {
        postcard::from_bytes(bytes)
            .map_err(|e| format!("the embedded curriculum is unreadable: {e}"))
    }

    /// The lesson named by its id (`nat`), its folder (`03-nat`) or its number (`3`, `03`).
    pub fn find(&self, name: &str) -> Option<&Lesson> {
        let name = name.trim();
        let number: Option<u8> = name.parse().ok();
        self.lessons
            .iter()
            .find(|l| l.id == name || l.folder == name || Some(l.number) == number)
    }
}

/// The course VM's steps across lessons: each on one exercise at most, in course order (the
/// VM is sized before it gets a disk, and so on), since each reads the parts made before it.
fn course_vm_problems(lessons: &[Lesson]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen: Vec<(course_vm::CourseStep, &Lesson, &Exercise)> = Vec::new();
    for lesson in lessons {
        for exercise in &lesson.exercises {
            let Some(step) = exercise.course_vm else {
                continue;
            };
            // Lessons come in course order: a step seen already must come before this one.
            let clash = seen.iter().find(|(s, _, _)| *s >= step);
            if let Some((other, l, e)) = clash {
                problems.push(Problem {
                    file: exercise.location.file.clone(),
                    line: exercise.location.line,
                    column: exercise.location.column,
                    severity: Severity::Error,
                    message: format!(
                        "exercise {:?}: `course-vm = {:?}` clashes with {}/{} (`course-vm = {:?}`): each step is on one exercise, in course order ({})",
                        exercise.id,
                        step.name(),
                        l.id,
                        e.id,
                        other.name(),
                        course_vm::CourseStep::ALL.map(|s| s.name()).join(" → ")
                    ),
                });
            }
            seen.push((step, lesson, exercise));
        }
    }
    problems
}

/// The sources of the lessons embedded in this build.
pub fn embedded_sources() -> Vec<LessonSource> {
    let mut by_folder: BTreeMap<&str, LessonSource> = BTreeMap::new();
    for (folder, file, text) in embedded::FILES {
        let source = by_folder.entry(folder).or_insert_with(|| LessonSource {
            dir: format!("lessons/content/{folder}"),
            folder: (*folder).to_string(),
            files: BTreeMap::new(),
        });
        source
            .files
            .insert((*file).to_string(), (*text).to_string());
    }
    by_folder.into_values().collect()
}

/// The embedded curriculum, loaded and validated once. The content is checked by this crate's
/// tests, so an `Err` here means a broken build; callers show the problems.
pub fn curriculum() -> Result<&'static Curriculum, &'static [Problem]> {
    static LOADED: OnceLock<Result<Curriculum, Vec<Problem>>> = OnceLock::new();
    LOADED
        .get_or_init(|| Curriculum::from_sources(&embedded_sources()))
        .as_ref()
        .map_err(Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curriculum_survives_its_postcard_round_trip() {
        let loaded = curriculum().expect("the embedded lessons load");
        let bytes = loaded.to_postcard();
        let read = Curriculum::from_postcard(&bytes).expect("its own bytes read back");
        assert_eq!(read.lessons.len(), loaded.lessons.len());
        assert_eq!(read.to_postcard(), bytes, "a field changed on the way");
        // Grading the copy gives what grading the original gives.
        for (a, b) in loaded.lessons.iter().zip(&read.lessons) {
            for (x, y) in a.exercises.iter().zip(&b.exercises) {
                assert_eq!(grade(x, &x.solution), grade(y, &y.solution), "{}", x.id);
            }
        }
    }

    #[test]
    fn truncated_bytes_are_an_error_not_a_panic() {
        let bytes = curriculum()
            .expect("the embedded lessons load")
            .to_postcard();
        for cut in [0, 1, bytes.len() / 3, bytes.len() - 1] {
            let err = Curriculum::from_postcard(&bytes[..cut]).unwrap_err();
            assert!(err.contains("unreadable"), "{err}");
        }
    }
}
