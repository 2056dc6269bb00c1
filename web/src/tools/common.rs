//! Pieces every tool page uses: the page frame, the goal box, and reading inputs.

use labvisor_core::lang::{Lang, Text};
use yew::prelude::*;

use crate::app::use_app;

/// The value of the `<input>` or `<select>` an event came from.
pub fn input_value(e: &Event) -> String {
    if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
        return input.value();
    }
    e.target_dyn_into::<web_sys::HtmlSelectElement>()
        .map(|s| s.value())
        .unwrap_or_default()
}

/// The number in an `<input type=range|number>`, if it holds one.
pub fn input_number<T: std::str::FromStr>(e: &Event) -> Option<T> {
    input_value(e).trim().parse().ok()
}

#[derive(Clone, PartialEq, Properties)]
pub struct ToolPageProps {
    pub title: Text,
    pub intro: Text,
    pub goal: Text,
    pub goal_done: bool,
    #[prop_or_default]
    pub children: Html,
}

/// A tool page: title, what it teaches, the learner's goal, then the tool.
#[function_component]
pub fn ToolPage(props: &ToolPageProps) -> Html {
    let lang = use_app().lang;
    html! {
        <article class="lv-page lv-tool">
            <header class="lv-tool-head">
                <a class="lv-crumb" href="#/">{ "← " }{ crate::text::HOME.get(lang) }</a>
                <h1 tabindex="-1">{ props.title.get(lang) }</h1>
                <p class="lv-lede">{ props.intro.get(lang) }</p>
            </header>
            <Goal text={props.goal} done={props.goal_done} />
            { props.children.clone() }
        </article>
    }
}

#[derive(Clone, PartialEq, Properties)]
pub struct GoalProps {
    pub text: Text,
    pub done: bool,
}

/// The challenge of a tool, checked live.
#[function_component]
pub fn Goal(props: &GoalProps) -> Html {
    let lang = use_app().lang;
    let (label, class) = if props.done {
        (GOAL_DONE.get(lang), "lv-goal lv-goal-done")
    } else {
        (GOAL.get(lang), "lv-goal")
    };
    html! {
        <aside class={class} aria-live="polite">
            <span class="lv-goal-icon" aria-hidden="true">{ if props.done { "✓" } else { "◎" } }</span>
            <div>
                <strong>{ label }</strong>
                <p>{ props.text.get(lang) }</p>
            </div>
        </aside>
    }
}

const GOAL: Text = Text::new("Try it", "도전 과제");
const GOAL_DONE: Text = Text::new("Done: saved to your progress", "완료: 진도에 저장했습니다");

/// `label: value` rows, as a definition list.
pub fn facts(lang: Lang, rows: &[(Text, Html)]) -> Html {
    html! {
        <dl class="lv-facts">
            { for rows.iter().map(|(label, value)| html! {
                <div class="lv-fact">
                    <dt>{ label.get(lang) }</dt>
                    <dd>{ value.clone() }</dd>
                </div>
            }) }
        </dl>
    }
}

/// Yes or no, in words (never colour alone).
pub fn yes_no(lang: Lang, yes: bool) -> &'static str {
    match (yes, lang) {
        (true, Lang::En) => "yes",
        (false, Lang::En) => "no",
        (true, Lang::Ko) => "예",
        (false, Lang::Ko) => "아니요",
    }
}
