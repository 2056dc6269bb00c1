//! Action logs, the learner's answers as the grader reads them: a file in JSON, TOML or
//! postcard bytes (`lesson check --actions`), chosen by the input's first byte. Nothing may
//! panic. A log that reads is graded against its exercise when the curriculum has it, and
//! survives the trip through the share link's bytes and code: postcard and base64url give
//! back the same log.
//!
//! This file is shared by `fuzz/fuzz_targets/actions.rs` and the lessons' regression test.

use labvisor_lessons::action::{parse_actions_file, ActionsFile};
use labvisor_lessons::{curriculum, grade, ActionLog};

/// Runs one input; panics when an invariant does not hold.
pub fn check(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let name = match selector % 3 {
        0 => "actions.json",
        1 => "actions.toml",
        _ => "actions.bin",
    };
    match parse_actions_file(name, body) {
        Ok(ActionsFile::Log(log)) => {
            check_round_trip(&log);
            grade_against_curriculum(&log);
        }
        Ok(ActionsFile::Steps(actions)) => {
            let log = ActionLog {
                lesson: String::new(),
                exercise: String::new(),
                actions,
            };
            check_round_trip(&log);
        }
        Err(message) => assert!(
            message.starts_with(name),
            "an error names the file: {message}"
        ),
    }
}

/// Postcard bytes and the share code give back the same log.
pub fn check_round_trip(log: &ActionLog) {
    let bytes = log.to_postcard();
    let back = ActionLog::from_postcard(&bytes)
        .unwrap_or_else(|e| panic!("a log's own bytes do not read back: {e}"));
    assert_eq!(&back, log, "postcard round trip");
    let code = log.to_share_code();
    let back = ActionLog::from_share_code(&code)
        .unwrap_or_else(|e| panic!("a log's own share code does not read back: {e}"));
    assert_eq!(&back, log, "share code round trip");
}

/// Grades the log against the exercise it names, as `lesson check` does.
pub fn grade_against_curriculum(log: &ActionLog) {
    let Ok(course) = curriculum() else {
        return;
    };
    let Some(lesson) = course.find(&log.lesson) else {
        return;
    };
    if let Some(exercise) = lesson.exercises.iter().find(|e| e.id == log.exercise) {
        let _ = grade(exercise, &log.actions);
    }
}
