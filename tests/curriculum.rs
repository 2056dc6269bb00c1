//! The curriculum, replayed: for every exercise of every lesson, the reference solution and
//! each typical wrong attempt are graded, and the result, the hint and the trace are
//! snapshotted (`tests/snapshots/curriculum/`). Any change to an engine or a lesson that alters
//! what a learner sees shows up as a snapshot diff to review with `cargo insta review`.
//!
//! Also fails when a lesson lacks a translation or an exercise lacks a reference solution.

use std::fmt::Write as _;

use labvisor_lessons::{
    curriculum, embedded_sources, grade, load_lesson, Exercise, Grade, Lesson, Verdict,
};

fn lessons() -> &'static [Lesson] {
    match curriculum() {
        Ok(course) => &course.lessons,
        Err(problems) => {
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            panic!("the lessons do not load:\n{}", text.join("\n"));
        }
    }
}

#[test]
fn every_lesson_exists_in_both_languages_and_every_exercise_has_a_reference_solution() {
    let lessons = lessons();
    assert_eq!(lessons.len(), 12, "the course has twelve lessons");
    for lesson in lessons {
        for (what, missing) in [
            ("title", lesson.title.missing()),
            ("explanation (en.md / ko.md)", lesson.prose.missing()),
            ("lab description", lesson.lab.description.missing()),
        ] {
            assert!(
                missing.is_empty(),
                "lesson {} lacks its {what} in {missing:?}",
                lesson.id
            );
        }
        assert!(
            lesson.exercises.len() >= 2,
            "lesson {} has fewer than two exercises",
            lesson.id
        );
        for exercise in &lesson.exercises {
            assert!(
                exercise.prompt.missing().is_empty(),
                "{}/{} lacks a translation of its prompt",
                lesson.id,
                exercise.id
            );
            assert!(
                !exercise.solution.is_empty()
                    || exercise.spec.kind() == labvisor_lessons::model::ExerciseKind::NetMode,
                "{}/{} has no reference solution",
                lesson.id,
                exercise.id
            );
            assert!(
                !exercise.attempts.is_empty(),
                "{}/{} has no typical wrong attempt",
                lesson.id,
                exercise.id
            );
            for hint in &exercise.hints {
                assert!(
                    !hint.en.trim().is_empty() && !hint.ko.trim().is_empty(),
                    "{}/{}: the hint for {:?} lacks a translation",
                    lesson.id,
                    exercise.id,
                    hint.mistake
                );
            }
        }
    }
}

#[test]
fn a_lesson_without_its_korean_text_is_rejected() {
    let mut source = embedded_sources().remove(0);
    source.files.remove("ko.md");
    let problems = load_lesson(&source).expect_err("a lesson without ko.md must not load");
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("missing Korean translation")),
        "{problems:?}"
    );
}

#[test]
fn an_exercise_without_a_reference_solution_is_rejected() {
    let mut source = embedded_sources().remove(10);
    let toml = source.files["lesson.toml"].replacen("solution = [{ answer = \"user\" }]\n", "", 1);
    source.files.insert("lesson.toml".into(), toml);
    let problems = load_lesson(&source).expect_err("an exercise without a solution must not load");
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("has no reference solution")),
        "{problems:?}"
    );
}

fn describe(out: &mut String, result: &Grade) {
    let verdict = match result.verdict {
        Verdict::Pass => "pass".to_string(),
        Verdict::Fail => format!("fail, mistake {}", result.mistake.as_deref().unwrap_or("?")),
        Verdict::NeedsEngine(engine) => format!("not graded: needs engine {}", engine.module()),
    };
    let _ = writeln!(out, "  verdict: {verdict}");
    for (label, said) in [
        ("note", &result.note),
        ("why", &result.why),
        ("hint", &result.hint),
    ] {
        if let Some(said) = said {
            let _ = writeln!(out, "  {label}.en: {}", said.en);
            let _ = writeln!(out, "  {label}.ko: {}", said.ko);
        }
    }
    let _ = writeln!(out, "  trace:");
    for line in &result.trace {
        let _ = writeln!(out, "    {line}");
    }
}

fn replay(lesson: &Lesson, exercise: &Exercise) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}/{} ({})",
        lesson.id,
        exercise.id,
        exercise.spec.kind()
    );
    let reference = grade(exercise, &exercise.solution);
    let steps = serde_json::to_string(&exercise.solution).unwrap_or_default();
    let _ = writeln!(out, "\nreference solution: {steps}");
    describe(&mut out, &reference);
    match reference.verdict {
        Verdict::Pass | Verdict::NeedsEngine(_) => {}
        Verdict::Fail => panic!(
            "{}/{}: the reference solution fails:\n{out}",
            lesson.id, exercise.id
        ),
    }
    for accept in &exercise.accepts {
        let actions = [labvisor_lessons::Action::Answer(accept.answer.clone())];
        let result = grade(exercise, &actions);
        let _ = writeln!(out, "\naccepted answer {:?}", accept.answer);
        describe(&mut out, &result);
        assert!(
            result.passed() && result.note.is_some(),
            "{}/{}: the accepted answer {:?} does not pass with its note",
            lesson.id,
            exercise.id,
            accept.answer
        );
    }
    for attempt in &exercise.attempts {
        let result = grade(exercise, &attempt.actions);
        let steps = serde_json::to_string(&attempt.actions).unwrap_or_default();
        let _ = writeln!(out, "\nwrong attempt {:?}: {steps}", attempt.name);
        describe(&mut out, &result);
        match result.verdict {
            Verdict::NeedsEngine(_) => {}
            Verdict::Pass => panic!(
                "{}/{}: the wrong attempt {:?} passes",
                lesson.id, exercise.id, attempt.name
            ),
            Verdict::Fail => {
                assert_eq!(
                    result.mistake.as_deref(),
                    Some(attempt.mistake.as_str()),
                    "{}/{}: attempt {:?} graded as another mistake",
                    lesson.id,
                    exercise.id,
                    attempt.name
                );
                // A Check on nothing says so rather than the mistake's feedback.
                let feedback = exercise
                    .hints
                    .iter()
                    .find(|h| h.mistake == attempt.mistake)
                    .map(|h| h.text());
                let intended = if labvisor_lessons::grade::nothing_tried(exercise, &attempt.actions)
                {
                    feedback.and_then(|f| {
                        result.hint.clone().filter(|h| {
                            h.en.starts_with("You have not added a step yet")
                                && h.en.ends_with(&f.en)
                        })
                    })
                } else {
                    feedback
                };
                assert_eq!(
                    result.hint, intended,
                    "{}/{}: attempt {:?} shows another hint",
                    lesson.id, exercise.id, attempt.name
                );
            }
        }
    }
    out
}

#[test]
fn every_exercise_replays_as_snapshotted() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/curriculum");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for lesson in lessons() {
            for exercise in &lesson.exercises {
                let name = format!("{:02}-{}__{}", lesson.number, lesson.id, exercise.id);
                insta::assert_snapshot!(name, replay(lesson, exercise));
            }
        }
    });
}

/// The course VM through lessons 6, 7, 9 and 12, each solved with its reference solution: what
/// each exercise says the VM is as it starts, and what a pass saves.
fn course_vm_chain() -> String {
    use labvisor_lessons::course_vm::{self, CourseVm};
    let mut vm = CourseVm::default();
    let mut out = String::new();
    for lesson in lessons() {
        for exercise in &lesson.exercises {
            let Some(step) = exercise.course_vm else {
                continue;
            };
            let _ = writeln!(
                out,
                "{}/{} (course-vm = {:?})",
                lesson.id,
                exercise.id,
                step.name()
            );
            let note = vm.starting_note(step, lessons());
            let _ = writeln!(out, "  starts.en: {}", note.en);
            let _ = writeln!(out, "  starts.ko: {}", note.ko);
            let attempt = course_vm::grade(exercise, &vm, &exercise.solution);
            assert!(
                attempt.grade.passed(),
                "{}/{}: the reference solution fails from the VM the lessons before it left: {:?}",
                lesson.id,
                exercise.id,
                attempt.grade
            );
            vm = match attempt.vm_after {
                Some(Ok(next)) => next,
                other => panic!(
                    "{}/{}: a pass saves no VM: {other:?}",
                    lesson.id, exercise.id
                ),
            };
            let summary = vm.summary();
            let _ = writeln!(out, "  saved.en: {}", summary.en);
            let _ = writeln!(out, "  saved.ko: {}", summary.ko);
            let _ = writeln!(
                out,
                "  saved: {}\n",
                serde_json::to_string(&vm).unwrap_or_default()
            );
        }
    }
    out
}

#[test]
fn the_course_vm_carries_through_its_lessons_as_snapshotted() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/curriculum");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("course-vm", course_vm_chain()));
}

#[test]
fn replay_is_deterministic() {
    for lesson in lessons() {
        for exercise in &lesson.exercises {
            assert_eq!(replay(lesson, exercise), replay(lesson, exercise));
        }
    }
}
