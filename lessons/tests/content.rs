//! The embedded curriculum loads, and every exercise the foundation can grade replays as
//! declared.

use labvisor_lessons::{curriculum, lint, Severity};

#[test]
fn embedded_curriculum_loads_twelve_lessons_in_order() {
    let course = match curriculum() {
        Ok(c) => c,
        Err(problems) => {
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            panic!("the embedded lessons have problems:\n{}", text.join("\n"));
        }
    };
    let numbers: Vec<u8> = course.lessons.iter().map(|l| l.number).collect();
    assert_eq!(numbers, (1..=12).collect::<Vec<u8>>());
    for lesson in &course.lessons {
        assert!(
            lesson.exercises.len() >= 2,
            "{} has fewer than two exercises",
            lesson.id
        );
    }
}

#[test]
fn every_replayable_exercise_passes_its_solution_and_fails_its_attempts_as_declared() {
    let course = curriculum().expect("embedded lessons load");
    let errors: Vec<String> = course
        .lessons
        .iter()
        .flat_map(lint::replay)
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.to_string())
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
