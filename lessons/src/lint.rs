//! `lesson lint`: beyond loading, replay every reference solution and every typical wrong
//! attempt through the grader, so an unreachable goal or a hint that never shows is caught
//! before a learner sees it.

use crate::action::Action;
use crate::grade::{grade, Verdict};
use crate::load::{Problem, Severity};
use crate::model::Lesson;

/// Replays the lesson's exercises; returns errors for goals the reference solution does not
/// reach and attempts graded differently than declared, and a note for each exercise whose
/// engine this build lacks.
pub fn replay(lesson: &Lesson) -> Vec<Problem> {
    let mut problems = Vec::new();
    for exercise in &lesson.exercises {
        let loc = &exercise.location;
        let mut report = |severity, message: String| {
            problems.push(Problem {
                file: loc.file.clone(),
                line: loc.line,
                column: loc.column,
                severity,
                message: format!("exercise {:?}: {message}", exercise.id),
            })
        };
        let reference = grade(exercise, &exercise.solution);
        match reference.verdict {
            Verdict::NeedsEngine(engine) => {
                report(
                    Severity::Note,
                    format!(
                        "needs engine {}: its reference solution and {} wrong attempt(s) are defined but cannot be replayed in this build",
                        engine.module(),
                        exercise.attempts.len()
                    ),
                );
                continue;
            }
            Verdict::Fail => report(
                Severity::Error,
                format!(
                    "unreachable goal: the reference solution fails with mistake {:?}; trace: {}",
                    reference.mistake.unwrap_or_default(),
                    reference.trace.join(" | ")
                ),
            ),
            Verdict::Pass => {}
        }
        if !exercise.setup.is_empty() && grade(exercise, &[]).passed() {
            report(
                Severity::Error,
                "the setup's lab is not broken: it passes with no step of the learner's".into(),
            );
        }
        for accept in &exercise.accepts {
            let result = grade(exercise, &[Action::Answer(accept.answer.clone())]);
            match (result.verdict, &result.note) {
                (Verdict::Pass, Some(_)) => {}
                (Verdict::Pass, None) => report(
                    Severity::Error,
                    format!(
                        "the accepted answer {:?} is the key itself; an accepted answer is another one",
                        accept.answer
                    ),
                ),
                _ => report(
                    Severity::Error,
                    format!(
                        "the accepted answer {:?} does not pass (mistake {:?}): accept an answer the grader reads as `answer:…`",
                        accept.answer,
                        result.mistake.unwrap_or_default()
                    ),
                ),
            }
        }
        for attempt in &exercise.attempts {
            let result = grade(exercise, &attempt.actions);
            match result.verdict {
                Verdict::Pass => report(
                    Severity::Error,
                    format!(
                        "the wrong attempt {:?} passes; it should fail with {:?}",
                        attempt.name, attempt.mistake
                    ),
                ),
                Verdict::Fail if result.mistake.as_deref() != Some(&attempt.mistake) => report(
                    Severity::Error,
                    format!(
                        "the wrong attempt {:?} fails with mistake {:?}, expected {:?}",
                        attempt.name,
                        result.mistake.unwrap_or_default(),
                        attempt.mistake
                    ),
                ),
                _ => {}
            }
        }
    }
    problems
}
