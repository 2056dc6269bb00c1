//! What the build prepared (`build.rs`): the validated curriculum and the core's example
//! scenarios, embedded in postcard and read once, on first use. Reading bytes made by this same
//! build cannot fail unless the build is broken; callers still get an empty list, not a panic.

use std::sync::OnceLock;

use labvisor_core::net::scenario::Scenario;
use labvisor_lessons::{Curriculum, Lesson};

const CURRICULUM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/curriculum.postcard"));
const EXAMPLE_SCENARIOS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/examples.postcard"));

/// The lessons of this build, in course order.
pub fn lessons() -> &'static [Lesson] {
    static LESSONS: OnceLock<Vec<Lesson>> = OnceLock::new();
    LESSONS.get_or_init(|| {
        Curriculum::from_postcard(CURRICULUM)
            .map(|c| c.lessons)
            .unwrap_or_else(|e| {
                crate::browser::log_error(&e);
                Vec::new()
            })
    })
}

/// The example scenarios, by name, in the core's order.
pub fn examples() -> &'static [(String, Scenario)] {
    static EXAMPLES: OnceLock<Vec<(String, Scenario)>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        postcard::from_bytes(EXAMPLE_SCENARIOS).unwrap_or_else(|e| {
            crate::browser::log_error(&format!("the embedded examples are unreadable: {e}"));
            Vec::new()
        })
    })
}

/// The example called `name`.
pub fn example(name: &str) -> Option<&'static Scenario> {
    examples().iter().find(|(n, _)| n == name).map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_curriculum_is_the_one_the_lesson_files_give() {
        let from_files = labvisor_lessons::curriculum().expect("the lesson files load");
        assert_eq!(lessons().len(), from_files.lessons.len());
        let embedded = Curriculum {
            lessons: lessons().to_vec(),
        };
        assert_eq!(
            embedded.to_postcard(),
            from_files.for_browser().to_postcard()
        );
        // The typical wrong attempts stay with the lesson files (lint and the tests replay them).
        let attempts = |c: &Curriculum| {
            c.lessons
                .iter()
                .flat_map(|l| &l.exercises)
                .map(|e| e.attempts.len())
                .sum::<usize>()
        };
        assert_eq!(attempts(&embedded), 0);
        assert!(attempts(from_files) > 20);
    }

    #[test]
    fn every_core_example_is_embedded_as_the_core_parses_it() {
        let names: Vec<&str> = examples().iter().map(|(n, _)| n.as_str()).collect();
        let core: Vec<&str> = labvisor_core::net::scenario::EXAMPLES
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(names, core);
        for (name, text) in labvisor_core::net::scenario::EXAMPLES {
            let parsed = Scenario::parse(&format!("{name}.toml"), text).unwrap();
            assert_eq!(example(name), Some(&parsed));
        }
    }
}
