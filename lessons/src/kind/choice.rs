//! `choice`: pick one option. The key is in the lesson file, for facts no engine models.

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
    Some(Spec::Choice {
        options: ex.options.iter().map(|o| o.get_ref().clone()).collect(),
        correct: correct.get_ref().clone(),
    })
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
