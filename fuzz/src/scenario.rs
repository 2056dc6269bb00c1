//! A scenario file (TOML lab) as a learner or a lesson author writes it: parsed and, when it
//! parses, run through the network simulator. Nothing may panic, and every error points into
//! the file: its line lies within the text (plus one past a final newline) and its column
//! within that line.
//!
//! This file is shared by `fuzz/fuzz_targets/scenario.rs` and the core's regression test.

use labvisor_core::net::scenario::{Scenario, ScenarioErrors};

/// Steps past this are not run: a scenario's cost grows with its steps, and the fuzzer is
/// after malformed input, not long runs.
const MAX_STEPS: usize = 64;

/// Runs one input; panics when an invariant does not hold.
pub fn check(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match Scenario::parse("fuzz.toml", src) {
        Ok(mut scenario) => {
            scenario.actions.truncate(MAX_STEPS);
            if let Err(errors) = scenario.run("fuzz.toml") {
                assert_errors_point_into(src, &errors);
            }
        }
        Err(errors) => {
            assert!(!errors.0.is_empty(), "a refused scenario says why");
            assert_errors_point_into(src, &errors);
        }
    }
}

fn assert_errors_point_into(src: &str, errors: &ScenarioErrors) {
    let lines = src.split('\n').count();
    for e in &errors.0 {
        assert_eq!(e.file, "fuzz.toml");
        assert!(!e.message.trim().is_empty(), "an error with no message");
        assert!(
            (1..=lines).contains(&e.line),
            "error at line {} of a {lines}-line file: {}",
            e.line,
            e.message
        );
        let line_len = src
            .split('\n')
            .nth(e.line - 1)
            .map_or(0, |l| l.chars().count());
        assert!(
            (1..=line_len + 1).contains(&e.column),
            "error at {}:{} past the line's {line_len} characters: {}",
            e.line,
            e.column,
            e.message
        );
    }
}
