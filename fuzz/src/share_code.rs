//! Share-link codes: what follows `#` in a link anyone can send a learner. Nothing may panic;
//! a code that reads gives a log that encodes back to a code reading the same log, and is
//! graded against its exercise when the curriculum has it.
//!
//! This file is shared by `fuzz/fuzz_targets/share_code.rs` and the lessons' regression test.

use labvisor_lessons::ActionLog;

/// Runs one input; panics when an invariant does not hold.
pub fn check(data: &[u8]) {
    let code = String::from_utf8_lossy(data);
    match ActionLog::from_share_code(&code) {
        Ok(log) => {
            super::actions::check_round_trip(&log);
            super::actions::grade_against_curriculum(&log);
        }
        Err(message) => assert!(
            message.starts_with("share code"),
            "a refused code says so: {message}"
        ),
    }
}
