//! `lesson lint`: beyond loading, replay every reference solution and every typical wrong
//! attempt through the grader, so an unreachable goal or a hint that never shows is caught
//! before a learner sees it; and read the hints as a learner meets them, so feedback does not
//! hand over the answer and the hint ladder does not repeat the feedback.

use crate::action::{Action, ForwardStep};
use crate::course_vm::CourseVm;
use crate::grade::{grade, Verdict};
use crate::load::{Problem, Severity};
use crate::model::{same_text, Exercise, Lesson};

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
        for problem in hint_problems(exercise) {
            report(Severity::Error, problem);
        }
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
        match CourseVm::default().after(exercise, &exercise.solution) {
            None if exercise.course_vm.is_some() => report(
                Severity::Error,
                format!(
                    "`course-vm`: the reference solution leaves nothing to save: no step of it is for the course VM {:?}",
                    crate::course_vm::NAME
                ),
            ),
            Some(Err(why)) => report(
                Severity::Error,
                format!("`course-vm`: the reference solution makes a VM the course cannot carry: {why}"),
            ),
            _ => {}
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

/// What is wrong with an exercise's hints as a learner meets them: feedback on a wrong attempt
/// that spells out the answer (the learner should reach it, or climb the ladder to it), and a
/// rung of the ladder that says word for word what some feedback says.
fn hint_problems(exercise: &Exercise) -> Vec<String> {
    let mut problems = Vec::new();
    for hint in &exercise.hints {
        if gives_away(&hint.en, &exercise.solution) || gives_away(&hint.ko, &exercise.solution) {
            problems.push(format!(
                "the feedback for {:?} spells out the answer: say what is wrong with the attempt, and leave the answer to the last hint of the ladder or to Show solution",
                hint.mistake
            ));
        }
    }
    for (n, rung) in exercise.ladder.iter().enumerate() {
        if let Some(hint) = exercise.hints.iter().find(|h| same_text(rung, &h.text())) {
            problems.push(format!(
                "hint {} of the ladder repeats the feedback for {:?} word for word: a hint asked for after that feedback must add something",
                n + 1,
                hint.mistake
            ));
        }
    }
    problems
}

/// Whether `text` spells out the answer of `solution`: an answer that holds a digit (a rule, an
/// address, a port) written in it, or every port and address of one of its forwarding rules.
pub fn gives_away(text: &str, solution: &[Action]) -> bool {
    // Numbers and addresses as whole words: "22" is not found inside "2222".
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .collect();
    let said = |word: &str| words.contains(&word);
    let folded = text.to_ascii_lowercase();
    solution.iter().any(|step| match step {
        Action::Answer(answer) => {
            let answer = answer.trim().to_ascii_lowercase();
            answer.len() > 2
                && answer.contains(|c: char| c.is_ascii_digit())
                && folded.contains(&answer)
        }
        Action::AddForward(ForwardStep { rule, vm }) => {
            said(&rule.host_port.to_string())
                && said(&rule.guest_port.to_string())
                && rule.guest_ip.is_none_or(|ip| said(&ip.to_string()))
                && vm.as_deref().is_none_or(said)
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use labvisor_core::net::forward::PortForward;

    fn rule(text: &str, vm: Option<&str>) -> Action {
        Action::AddForward(ForwardStep {
            rule: PortForward::parse_any(text).unwrap(),
            vm: vm.map(String::from),
        })
    }

    #[test]
    fn feedback_that_writes_the_whole_rule_gives_it_away() {
        let ssh = [rule("ssh,tcp,,2222,10.0.2.5,22", None)];
        assert!(gives_away(
            "Add a rule: tcp, host port 2222, guest 10.0.2.5 port 22.",
            &ssh
        ));
        assert!(gives_away("호스트 2222 → 10.0.2.5:22", &ssh));
        // Naming the ports of a mistake is feedback; the guest address is still to be found.
        assert!(!gives_away(
            "sshd listens on 22 inside the VM; 2222 is only the host side.",
            &ssh
        ));
        let on_vm2 = [rule("ssh,tcp,,2223,,22", Some("vm2"))];
        assert!(gives_away(
            "Give vm2 host port 2223 to its port 22.",
            &on_vm2
        ));
        assert!(!gives_away(
            "Give it host port 2223 to its port 22.",
            &on_vm2
        ));
    }

    #[test]
    fn feedback_that_writes_the_answer_gives_it_away() {
        let docker = [Action::Answer("-p 8080:80".into())];
        assert!(gives_away(
            "Docker writes the host side first: `-p 8080:80`.",
            &docker
        ));
        assert!(!gives_away("Docker writes the host side first.", &docker));
        // A word answer is a choice among few; naming it is not a give-away.
        assert!(!gives_away(
            "It is private.",
            &[Action::Answer("private".into())]
        ));
    }

    #[test]
    fn a_ladder_rung_that_repeats_feedback_is_reported() {
        let mut ex = crate::curriculum()
            .expect("lessons load")
            .find("port-forwarding")
            .and_then(|l| l.exercise("routing-vs-forwarding"))
            .expect("the exercise")
            .clone();
        assert!(hint_problems(&ex).is_empty(), "{:?}", hint_problems(&ex));
        ex.ladder.insert(0, ex.hints[0].text());
        let problems = hint_problems(&ex);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("hint 1 of the ladder repeats the feedback"));
    }
}
