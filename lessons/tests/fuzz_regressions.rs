//! The lessons' fuzz targets' kept inputs (seed corpus and fixed crashes, `fuzz/`) through
//! the same checks the targets run, on stable: lesson folders, action logs in JSON, TOML and
//! postcard, and share-link codes. See docs/security.md.

#[path = "../../fuzz/src/actions.rs"]
mod actions;
#[path = "../../fuzz/src/lesson.rs"]
mod lesson;
#[path = "../../fuzz/src/replay.rs"]
mod replay;
#[path = "../../fuzz/src/share_code.rs"]
mod share_code;

use std::path::Path;

fn fuzz_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz"))
}

#[test]
fn lesson_problems_point_into_the_lessons_files() {
    replay::replay(fuzz_dir(), "lesson", lesson::check);
}

#[test]
fn action_logs_read_grade_and_round_trip() {
    replay::replay(fuzz_dir(), "actions", actions::check);
}

#[test]
fn share_codes_read_back_to_the_same_log() {
    replay::replay(fuzz_dir(), "share_code", share_code::check);
}
