//! `choice`: pick one option. The key is in the lesson file, for facts no engine models.
//!
//! The options are shown in an order shuffled by the exercise's id ([`display_order`]), the same
//! in the terminal and in the browser, so the right answer is not wherever the author happened
//! to write it first. Grading reads an option by its id; a number picks by the shown order.

use std::collections::BTreeSet;

use labvisor_core::lang::Bilingual;

use super::common::{canonical, compare, final_answer, Fields, Judgement};
use crate::action::Action;
use crate::model::{ChoiceOption, Spec};

/// Options with unique ids, the correct one among them, hints naming options.
pub(super) fn build(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let correct = f.required(&ex.correct, "correct")?;
    if ex.options.len() < 2 {
        f.error(
            f.at.clone(),
            "a choice needs at least two `[[exercises.options]]`",
        );
    }
    let mut ids = BTreeSet::new();
    for option in &ex.options {
        let o = option.get_ref();
        if !ids.insert(o.id.as_str()) {
            f.error(
                option.span(),
                &format!("option id {:?} is used twice", o.id),
            );
        }
        f.translations(
            option.span(),
            &format!("option {:?}", o.id),
            &Bilingual::new(o.en.clone(), o.ko.clone()),
        );
    }
    if !ids.contains(correct.get_ref().as_str()) {
        f.error(
            correct.span(),
            &format!("`correct = {:?}` names no option", correct.get_ref()),
        );
    }
    for hint in &ex.hints {
        if let Some(option) = hint.get_ref().mistake.strip_prefix("answer:") {
            if !ids.contains(option) {
                f.error(
                    hint.span(),
                    &format!("the hint for {:?} names no option", hint.get_ref().mistake),
                );
            }
        }
    }
    let written: Vec<ChoiceOption> = ex.options.iter().map(|o| o.get_ref().clone()).collect();
    Some(Spec::Choice {
        options: display_order(ex.id.get_ref(), written),
        correct: correct.get_ref().clone(),
    })
}

/// `options` in the order a learner sees them: a Fisher–Yates shuffle driven by a hash of the
/// exercise's id. Deterministic (no clock, no randomness), so every build, the CLI and the
/// browser show one order, and a lesson's snapshot changes only when its options do.
pub(crate) fn display_order(
    exercise_id: &str,
    mut options: Vec<ChoiceOption>,
) -> Vec<ChoiceOption> {
    // FNV-1a (64-bit) of the id seeds SplitMix64; both are fixed, published algorithms, so
    // the order cannot drift with a compiler or a dependency.
    let mut state = exercise_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..options.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        options.swap(i, j);
    }
    options
}

/// The last answer, an option's id or its number, against the correct option.
pub(super) fn grade(options: &[ChoiceOption], correct: &str, actions: &[Action]) -> Judgement {
    let mut trace = Vec::new();
    let answer = final_answer(actions, &mut trace).map(|raw| {
        let c = canonical(&raw);
        // "2" picks the second option, as a learner clicking it would.
        match c.parse::<usize>() {
            Ok(n) if (1..=options.len()).contains(&n) => options[n - 1].id.clone(),
            _ => c,
        }
    });
    if let Some(given) = &answer {
        if !options.iter().any(|o| &o.id == given) {
            trace.push(format!("{given:?} is none of the options"));
        }
    }
    compare(answer, correct, trace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Spec;

    fn options(ids: &[&str]) -> Vec<ChoiceOption> {
        ids.iter()
            .map(|id| ChoiceOption {
                id: (*id).into(),
                en: id.to_uppercase(),
                ko: String::new(),
            })
            .collect()
    }

    fn ids(options: &[ChoiceOption]) -> Vec<&str> {
        options.iter().map(|o| o.id.as_str()).collect()
    }

    #[test]
    fn the_order_depends_on_the_exercise_id_alone() {
        let written = options(&["a", "b", "c", "d"]);
        let once = display_order("routing-vs-forwarding", written.clone());
        let again = display_order("routing-vs-forwarding", written.clone());
        assert_eq!(once, again, "the same id gives the same order");
        let mut sorted = ids(&once);
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            ["a", "b", "c", "d"],
            "a shuffle keeps every option once"
        );
        let orders: BTreeSet<String> = (0..40)
            .map(|n| display_order(&format!("exercise-{n}"), written.clone()))
            .map(|o| ids(&o).join(","))
            .collect();
        assert!(
            orders.len() > 10,
            "ids spread over many orders: {}",
            orders.len()
        );
    }

    #[test]
    fn most_ids_move_the_first_option() {
        let written = options(&["first", "second", "third"]);
        let moved = (0..300)
            .map(|n| display_order(&format!("question-{n}"), written.clone()))
            .filter(|o| o[0].id != "first")
            .count();
        // A fair shuffle of three leaves the first option first one time in three.
        assert!((170..=230).contains(&moved), "{moved} of 300 moved");
    }

    #[test]
    fn the_course_does_not_put_the_right_option_first_as_a_rule() {
        let course = crate::curriculum().expect("the embedded lessons load");
        let choices: Vec<(&str, &str)> = course
            .lessons
            .iter()
            .flat_map(|l| &l.exercises)
            .filter_map(|e| match &e.spec {
                Spec::Choice { options, correct } => {
                    Some((options[0].id.as_str(), correct.as_str()))
                }
                _ => None,
            })
            .collect();
        let first_right = choices
            .iter()
            .filter(|(first, right)| first == right)
            .count();
        assert!(choices.len() >= 10, "the course has its choice questions");
        assert!(
            first_right * 2 < choices.len(),
            "{first_right} of {} choice questions show the right option first",
            choices.len()
        );
    }

    #[test]
    fn grading_reads_the_option_by_id_and_a_number_by_the_shown_order() {
        let shown = display_order("which-one", options(&["right", "wrong", "other"]));
        let right_at = shown.iter().position(|o| o.id == "right").unwrap() + 1;
        let pick = |text: &str| grade(&shown, "right", &[Action::Answer(text.into())]).mistake;
        assert_eq!(pick("right"), None);
        assert_eq!(pick(&right_at.to_string()), None, "the number as shown");
        let wrong_at = shown.iter().position(|o| o.id == "wrong").unwrap() + 1;
        assert_eq!(pick(&wrong_at.to_string()).as_deref(), Some("answer:wrong"));
    }
}
