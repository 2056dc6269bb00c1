//! A lesson's lab: the page around the network lab when a lesson opened it
//! (`#/tool/network/<scenario>?from=<lesson>`), with the way back to that lesson and the
//! scenario's goal, judged by the core on the live simulation (`scenario::goal`), never by
//! which edits were made.

use labvisor_core::lang::{Explain, Lang, Text};
use labvisor_core::net::scenario::goal::{CheckResult, Goal};
use labvisor_core::net::sim::Network;
use yew::prelude::*;

use crate::app::use_app;
use crate::route::Route;

/// The goal's checks, run on a copy of `network` (the lab after every action, the learner's
/// included).
pub fn evaluate(goal: &Goal, network: &Network) -> Vec<CheckResult> {
    goal.evaluate(network)
}

/// The goal panel: the task, Done or Not yet, and for each packet how it went now.
pub fn goal_panel(lang: Lang, goal: &Goal, results: &[CheckResult]) -> Html {
    let done = !results.is_empty() && results.iter().all(|r| r.outcome.reached());
    let (state, class) = if done {
        (DONE.get(lang), "lv-scene-goal lv-scene-goal-done")
    } else {
        (NOT_YET.get(lang), "lv-scene-goal")
    };
    html! {
        <section class={class} aria-labelledby="lv-scene-goal-title">
            <h2 id="lv-scene-goal-title">
                { GOAL.get(lang) }
                <span class="lv-scene-goal-state" role="status">{ state }</span>
            </h2>
            <p>{ goal.text.get(lang) }</p>
            <ul class="lv-scene-checks" role="list">
                { for results.iter().map(|r| html! {
                    <li class={classes!(r.outcome.reached().then_some("lv-scene-check-ok"))}>
                        <span aria-hidden="true">{ if r.outcome.reached() { "✓ " } else { "✗ " } }</span>
                        <code class="lv-mono">{ r.check.summary() }</code>
                        { ": " }{ r.outcome.explain_in(lang) }
                    </li>
                }) }
            </ul>
        </section>
    }
}

#[derive(Clone, PartialEq, Properties)]
pub struct LessonLabProps {
    /// The lesson that opened the lab, if any.
    pub from: Option<String>,
    /// The scenario's title in the learner's language.
    pub title: AttrValue,
    #[prop_or_default]
    pub children: Html,
}

/// The page of a lesson's lab: back to the lesson ("← Lesson 9: Port forwarding"), the
/// scenario's title, then the lab.
#[function_component]
pub fn LessonLab(props: &LessonLabProps) -> Html {
    let lang = use_app().lang;
    let lesson = props
        .from
        .as_ref()
        .and_then(|id| crate::lesson::lessons().iter().find(|l| &l.id == id));
    let back = match lesson {
        Some(l) => html! {
            <a class="lv-crumb lv-scene-back" href={Route::Lesson { id: l.id.clone(), exercise: 1 }.to_hash()}>
                { "← " }{ format!("{} {}: {}", LESSON.get(lang), l.number, l.title.get(lang)) }
            </a>
        },
        None => html! {
            <a class="lv-crumb" href="#/">{ "← " }{ crate::text::HOME.get(lang) }</a>
        },
    };
    html! {
        <article class="lv-page lv-tool lv-scene">
            <header class="lv-tool-head">
                { back }
                <h1 tabindex="-1">{ props.title.clone() }</h1>
            </header>
            { props.children.clone() }
        </article>
    }
}

const GOAL: Text = Text::new("Your task", "과제");
const DONE: Text = Text::new("Done", "완료");
const NOT_YET: Text = Text::new("Not yet", "아직");
const LESSON: Text = Text::new("Lesson", "레슨");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::NetEdit;
    use labvisor_core::net::forward::PortForward;
    use labvisor_core::net::sim::{Action, RuleTarget};

    fn goal_met(edits: &[NetEdit]) -> bool {
        let lab = super::super::load("forward-to-vm2", edits).expect("loads");
        let goal = lab.scenario.goal.as_ref().expect("a goal");
        evaluate(goal, &lab.network)
            .iter()
            .all(|r| r.outcome.reached())
    }

    fn rule(text: &str) -> NetEdit {
        NetEdit::Act(Action::AddForward {
            target: RuleTarget::NatNetwork {
                name: "NatNetwork".into(),
            },
            rule: PortForward::parse_any(text).expect("a rule"),
        })
    }

    #[test]
    fn the_lesson_9_goal_is_met_by_the_rule_in_either_syntax_and_not_by_a_wrong_one() {
        assert!(!goal_met(&[]));
        assert!(goal_met(&[rule("ssh-vm2:tcp:[]:2222:[10.0.2.5]:22")]));
        assert!(!goal_met(&[rule("ssh-vm2:tcp:[]:2222:[10.0.2.4]:22")]));
        assert!(!goal_met(&[rule("ssh-vm2:tcp:[]:2223:[10.0.2.5]:22")]));
    }

    #[test]
    fn every_lesson_lab_loads_with_its_goal_not_yet_met() {
        for lesson in crate::lesson::lessons() {
            let Some(name) = &lesson.lab.scenario else {
                continue;
            };
            let lab = super::super::load(name, &[]).expect("loads");
            let goal = lab.scenario.goal.as_ref().expect("a goal");
            assert!(
                !evaluate(goal, &lab.network)
                    .iter()
                    .all(|r| r.outcome.reached()),
                "{name}"
            );
        }
    }
}
