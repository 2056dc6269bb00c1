//! A lesson folder as an author writes it (`lesson.toml`, `en.md`, `ko.md`): loaded and
//! validated, and when it loads, every exercise replayed through the grader (the reference
//! solutions, the typical wrong attempts, and no attempt at all). Nothing may panic; every
//! problem names a file of the folder and, when it has a line, a line within that file.
//!
//! Input layout: the folder's name (`03-nat`: the lesson's id must match it) and the three
//! files' texts, separated by NUL bytes, in that order.
//!
//! This file is shared by `fuzz/fuzz_targets/lesson.rs` and the lessons' regression test.

use std::collections::BTreeMap;

use labvisor_lessons::{grade, lint, load_lesson, LessonSource};

const FILES: [&str; 3] = ["lesson.toml", "en.md", "ko.md"];
/// The folder as problems name it.
const DIR: &str = "fuzz/lesson";

/// Runs one input; panics when an invariant does not hold.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let folder = parts.next().unwrap_or_default();
    let files: BTreeMap<String, String> = FILES
        .iter()
        .zip(parts)
        .map(|(name, body)| (name.to_string(), body.to_string()))
        .collect();
    let source = LessonSource {
        dir: DIR.into(),
        folder: folder.into(),
        files: files.clone(),
    };
    match load_lesson(&source) {
        Ok(lesson) => {
            for problem in lint::replay(&lesson) {
                assert!(!problem.message.trim().is_empty());
            }
            for exercise in &lesson.exercises {
                let _ = grade(exercise, &[]);
            }
        }
        Err(problems) => {
            assert!(!problems.is_empty(), "a refused lesson says why");
            for p in &problems {
                assert!(!p.message.trim().is_empty(), "a problem with no message");
                let Some(name) = p.file.strip_prefix(DIR) else {
                    panic!("a problem outside the lesson's folder: {}", p.file);
                };
                let Some(name) = name.strip_prefix('/') else {
                    // About the folder itself.
                    continue;
                };
                if p.line == 0 {
                    continue;
                }
                let body = files.get(name).map_or("", String::as_str);
                let lines = body.split('\n').count();
                assert!(
                    p.line <= lines,
                    "{}:{} is past the file's {lines} lines: {}",
                    p.file,
                    p.line,
                    p.message
                );
            }
        }
    }
}
