//! Grading: replay a learner's steps against an exercise and decide, deterministically, whether
//! the goal is reached; if not, name the mistake (so the hint written for it can be shown) and
//! keep a trace of how the decision was made.
//!
//! Each kind's grader is in its module under [`crate::kind`]; answer keys come from
//! [`crate::key`], i.e. from the core model; a lesson file only says what is asked.

use serde::Serialize;

use crate::action::Action;
use crate::model::{Accept, Engine, Exercise, Hint};
use labvisor_core::lang::Bilingual;

/// The outcome of grading one attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grade {
    /// Pass, fail, or cannot be graded in this build.
    pub verdict: Verdict,
    /// The mistake the grader recognised (a hint key such as `wrong-guest-port`); `None` on pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mistake: Option<String>,
    /// The hint for that mistake, in both languages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<Bilingual>,
    /// Why the right answer is right (on pass, when the exercise says).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<Bilingual>,
    /// On pass with an accepted answer other than the key's: how it differs from the usual one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Bilingual>,
    /// How the decision was made, one line per step.
    pub trace: Vec<String>,
}

impl Grade {
    /// Whether the attempt reached the goal.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }
}

/// Whether an attempt reached the goal. In JSON: `"pass"`, `"fail"`, or
/// `{"needs-engine": "net"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The goal is reached.
    Pass,
    /// The goal is not reached; see the mistake and the hint.
    Fail,
    /// Grading this kind needs an engine this build does not have yet.
    NeedsEngine(Engine),
}

/// Grades `actions` against `exercise`. Pure and deterministic: the same log always gets the
/// same grade, trace included.
pub fn grade(exercise: &Exercise, actions: &[Action]) -> Grade {
    if let Some(engine) = exercise.engine().filter(|e| !e.available()) {
        return Grade {
            verdict: Verdict::NeedsEngine(engine),
            mistake: None,
            hint: None,
            why: None,
            note: None,
            trace: vec![format!(
                "kind {:?} is graded by simulating it in {}, which this build does not include yet; {} step(s) not replayed",
                exercise.spec.kind().name(),
                engine.module(),
                actions.len()
            )],
        };
    }
    let judgement = if exercise.setup.is_empty() {
        crate::kind::grade(&exercise.spec, &[], actions)
    } else {
        let all: Vec<Action> = exercise.setup.iter().chain(actions).cloned().collect();
        let mut judgement = crate::kind::grade(&exercise.spec, &exercise.setup, &all);
        let taken = match exercise.setup.len() {
            1 => "step 1 was".to_string(),
            n => format!("steps 1–{n} were"),
        };
        judgement.trace.insert(
            0,
            format!(
                "the lab as found: {taken} taken before you; yours start at step {}",
                exercise.setup.len() + 1
            ),
        );
        judgement
    };
    let pass = |trace, note| Grade {
        verdict: Verdict::Pass,
        mistake: None,
        hint: None,
        why: exercise.why.clone(),
        note,
        trace,
    };
    match judgement.mistake {
        None => pass(judgement.trace, None),
        Some(mistake) => match accepted(exercise, &mistake) {
            Some(accept) => {
                let mut trace = judgement.trace;
                trace.push(format!(
                    "{:?} is accepted: another reading than the key's, with a note",
                    accept.answer
                ));
                pass(trace, Some(accept.note.clone()))
            }
            None => Grade {
                verdict: Verdict::Fail,
                hint: {
                    let feedback = exercise.hint_for(&mistake).map(Hint::text);
                    if nothing_tried(exercise, actions) {
                        Some(nothing_yet(exercise, feedback))
                    } else {
                        feedback
                    }
                },
                mistake: Some(mistake),
                why: None,
                note: None,
                trace: judgement.trace,
            },
        },
    }
}

/// Whether the learner has done nothing yet: no step, or only blank answers, in a lab that was
/// not broken for them first. (In a troubleshooting exercise, checking the lab as found is a
/// real attempt: it shows the fault.)
pub fn nothing_tried(exercise: &Exercise, actions: &[Action]) -> bool {
    !exercise.troubleshooting()
        && actions
            .iter()
            .all(|a| matches!(a, Action::Answer(text) if text.trim().is_empty()))
}

/// What a Check on nothing says. A blank answer gets no feedback at all: the feedback for "no
/// answer" could only be about the answer. An untouched lab is described as it stands, said
/// to be untouched, so the feedback does not read as a verdict on steps never taken (lint
/// keeps every feedback from spelling out the answer).
fn nothing_yet(exercise: &Exercise, feedback: Option<Bilingual>) -> Bilingual {
    let answered = exercise
        .solution
        .iter()
        .all(|a| matches!(a, Action::Answer(_)));
    match feedback {
        Some(now) if !answered => Bilingual::new(
            format!(
                "You have not added a step yet. The lab as it stands: {}",
                now.en
            ),
            format!(
                "아직 추가한 단계가 없습니다. 지금 실습 상태로는: {}",
                now.ko
            ),
        ),
        _ if answered => Bilingual::new(
            "Nothing to check yet: write your answer first. Stuck? Ask for a hint.",
            "아직 채점할 답이 없습니다. 먼저 답을 적으세요. 막히면 힌트를 보세요.",
        ),
        _ => Bilingual::new(
            "Nothing to check yet: add your steps first. Stuck? Ask for a hint.",
            "아직 채점할 단계가 없습니다. 먼저 단계를 추가하세요. 막히면 힌트를 보세요.",
        ),
    }
}

/// The accepted answer the grader's `mistake` stands for: one that, given alone, is graded as
/// the same mistake (so its synonyms are accepted with it).
fn accepted<'e>(exercise: &'e Exercise, mistake: &str) -> Option<&'e Accept> {
    if !mistake.starts_with("answer:") {
        return None;
    }
    exercise.accepts.iter().find(|accept| {
        let alone = [Action::Answer(accept.answer.clone())];
        crate::kind::grade(&exercise.spec, &[], &alone)
            .mistake
            .as_deref()
            == Some(mistake)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curriculum;

    fn exercise(lesson: &str, id: &str) -> &'static Exercise {
        curriculum()
            .expect("embedded lessons load")
            .find(lesson)
            .and_then(|l| l.exercise(id))
            .expect("exercise exists")
    }

    fn answer(text: &str) -> Vec<Action> {
        vec![Action::Answer(text.into())]
    }

    #[test]
    fn korean_and_textbook_synonyms_are_accepted() {
        let range = exercise("ports", "range-of-3306");
        for given in ["user", "Registered", "등록된 포트", "사용자"] {
            assert!(grade(range, &answer(given)).passed(), "{given}");
        }
        let kvm = exercise("hypervisors", "kvm-type");
        for given in ["type-1", "Type 1", "bare-metal", "타입 1", "베어메탈"] {
            assert!(grade(kvm, &answer(given)).passed(), "{given}");
        }
        let class = exercise("public-private-ip", "class-of-home-pc");
        for given in ["C", "class C", "클래스 C"] {
            assert!(grade(class, &answer(given)).passed(), "{given}");
        }
    }

    #[test]
    fn kvm_as_type_2_passes_with_a_note_and_a_wrong_answer_still_fails() {
        let kvm = exercise("hypervisors", "kvm-type");
        for given in ["type-2", "hosted", "타입 2", "hybrid"] {
            let result = grade(kvm, &answer(given));
            assert!(result.passed(), "{given}: {result:?}");
            assert!(result.note.is_some(), "{given} passes without its note");
            assert!(result.why.is_some(), "{given}: the why is shown on pass");
        }
        let key = grade(kvm, &answer("type-1"));
        assert!(key.passed() && key.note.is_none() && key.why.is_some());
        let wrong = grade(kvm, &answer("emulator"));
        assert_eq!(wrong.mistake.as_deref(), Some("answer:emulator"));
        assert!(wrong.why.is_none() && wrong.note.is_none());
    }

    #[test]
    fn the_last_answer_counts_and_options_can_be_picked_by_number() {
        let ex = exercise("virtualbox-network-modes", "host-reaches-vm");
        let changed_mind = vec![
            Action::Answer("nat".into()),
            Action::Answer("host-only".into()),
        ];
        assert!(grade(ex, &changed_mind).passed());
        // A number picks by the order the options are shown in, which is shuffled.
        let crate::model::Spec::Choice { options, .. } = &ex.spec else {
            panic!("a choice")
        };
        let shown_at =
            |id: &str| (options.iter().position(|o| o.id == id).unwrap() + 1).to_string();
        assert!(grade(ex, &answer(&shown_at("host-only"))).passed());
        assert_eq!(
            grade(ex, &answer(&shown_at("nat"))).mistake.as_deref(),
            Some("answer:nat")
        );
    }

    #[test]
    fn a_wrong_answer_gets_the_hint_written_for_it_and_others_the_catch_all() {
        let ex = exercise("ports", "range-of-3306");
        let unknown = grade(ex, &answer("unknown"));
        assert_eq!(unknown.verdict, Verdict::Fail);
        assert!(unknown.hint.unwrap().en.contains("not a standard term"));
        let system = grade(ex, &answer("well-known"));
        assert_eq!(system.mistake.as_deref(), Some("answer:system"));
        assert!(system.hint.unwrap().en.contains("end at 1023"));
        let nonsense = grade(ex, &answer("banana"));
        assert_eq!(nonsense.mistake.as_deref(), Some("answer:banana"));
        assert!(nonsense.hint.unwrap().en.contains("boundaries"));
        let silent = grade(ex, &[]);
        assert_eq!(silent.mistake.as_deref(), Some("no-answer"));
    }

    #[test]
    fn checking_nothing_gives_no_answer_away() {
        let ex = exercise("port-forwarding", "ssh-to-vm2");
        let empty = grade(ex, &[]);
        assert_eq!(empty.mistake.as_deref(), Some("missing-rule"));
        let said = empty.hint.expect("a Check on nothing still says something");
        assert!(
            said.en.starts_with("You have not added a step yet"),
            "{said:?}"
        );
        // The lab is described as it stands; the rule (host 2222 → 10.0.2.5:22) is not given.
        for text in [&said.en, &said.ko] {
            assert!(
                !text.contains("10.0.2.5") && !text.contains(",2222,"),
                "{text}"
            );
        }
        assert!(!crate::lint::gives_away(&said.en, &ex.solution));
        let docker = exercise("port-forwarding", "docker-publish");
        let blank = grade(docker, &answer("  "));
        assert!(blank.hint.unwrap().en.contains("write your answer first"));
        // A troubleshooting lab checked as found is an attempt: it shows its fault.
        let fix = exercise("port-forwarding", "fix-forward-on-the-wrong-vm");
        assert_eq!(grade(fix, &[]).mistake.as_deref(), Some("wrong-guest-ip"));
        assert!(!grade(fix, &[]).hint.unwrap().en.starts_with("You have not"));
    }

    #[test]
    fn the_first_hint_asked_for_never_repeats_the_feedback_just_given() {
        for lesson in &crate::curriculum().expect("lessons load").lessons {
            for ex in &lesson.exercises {
                for attempt in &ex.attempts {
                    let feedback = grade(ex, &attempt.actions).hint;
                    let ladder = ex.hints_beside(feedback.as_ref());
                    if let (Some(first), Some(feedback)) = (ladder.first(), &feedback) {
                        assert_ne!(first.en, feedback.en, "{}/{}", lesson.id, ex.id);
                    }
                }
            }
        }
    }

    #[test]
    fn sizing_rejects_a_seventh_vm_and_duplicates() {
        let ex = exercise("host-sizing", "six-vms-on-eight-cores");
        let mut plan: Vec<Action> = ex.solution.clone();
        plan.push(Action::AddVm {
            name: "vm7".into(),
            vcpus: 1,
            ram_mib: 512,
        });
        assert_eq!(grade(ex, &plan).mistake.as_deref(), Some("wrong-vm-count"));
        let mut dup = ex.solution.clone();
        dup[5] = dup[0].clone();
        assert_eq!(grade(ex, &dup).mistake.as_deref(), Some("duplicate-vm"));
    }

    #[test]
    fn grading_is_deterministic() {
        let ex = exercise("host-sizing", "six-vms-on-eight-cores");
        assert_eq!(
            grade(ex, &ex.attempts[0].actions),
            grade(ex, &ex.attempts[0].actions)
        );
    }
}
