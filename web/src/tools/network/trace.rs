//! The trace: one line per step, grouped under the action it belongs to, each Linux line with
//! its meaning beside it. A click selects a line; with the list focused, ←/→ (and ↑/↓) step
//! and Home/End jump to the ends. While predictions are on, lines the learner has not reached
//! (and a NAT hop not yet revealed) are hidden, so the trace cannot give the answer away.

use super::*;

pub(super) fn event_class(e: &Event) -> &'static str {
    match e {
        Event::Drop { .. } => "lv-ev-drop",
        Event::Deliver { .. } => "lv-ev-deliver",
        Event::Translate { .. } => "lv-ev-nat",
        Event::Conntrack { .. } => "lv-ev-ct",
        _ => "",
    }
}

/// Where a key moves the selection in a trace of `total` steps, from `at`.
pub(super) fn key_target(key: &str, at: usize, total: usize) -> Option<usize> {
    let last = total.checked_sub(1)?;
    match key {
        "ArrowRight" | "ArrowDown" => Some((at + 1).min(last)),
        "ArrowLeft" | "ArrowUp" => Some(at.saturating_sub(1)),
        "Home" => Some(0),
        "End" => Some(last),
        _ => None,
    }
}

/// The whole trace; `hidden_from` is the first step whose line is hidden (predictions).
pub(super) fn trace_list(
    lang: Lang,
    lab: &Lab,
    at: usize,
    hidden_from: Option<usize>,
    select: &Callback<usize>,
) -> Html {
    html! {
        <ol class="lv-trace">
            { for lab.steps.iter().enumerate().map(|(i, (a, step))| {
                let header = (i == 0 || lab.steps[i - 1].0 != *a).then(|| match a {
                    None => "DHCP".to_string(),
                    Some(k) => format!("{}. {}", k + 1, scenario::describe_in(&lab.actions[*k], lang)),
                });
                let hidden = hidden_from.is_some_and(|h| i >= h);
                let onclick = {
                    let select = select.clone();
                    Callback::from(move |_: MouseEvent| select.emit(i))
                };
                html! {
                    <>
                    if let Some(h) = header { <li class="lv-trace-action" aria-hidden="true">{ h }</li> }
                    <li class={classes!("lv-trace-step", (!hidden).then(|| event_class(&step.event)), (i == at).then_some("lv-trace-now"), (i > at).then_some("lv-trace-future"), hidden.then_some("lv-trace-hidden"))}
                        aria-current={(i == at).then_some("step")} data-step={i.to_string()} {onclick}>
                        <span class="lv-mono lv-trace-time">{ step.at.to_string() }</span>
                        if hidden {
                            <span class="lv-mono lv-muted" title={HIDDEN.get(lang)}>{ "… " }<span class="lv-sr">{ HIDDEN.get(lang) }</span></span>
                        } else {
                            <span class="lv-trace-text">
                                <span class="lv-mono lv-trace-line" lang="en">{ step.event.to_string() }</span>
                                <span class="lv-trace-explain">{ step.event.explain_in(lang) }</span>
                            </span>
                        }
                    </li>
                    </>
                }
            }) }
        </ol>
    }
}

const HIDDEN: Text = Text::new("hidden until you reach it", "이 단계에 도착하면 보입니다");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_step_and_jump_within_the_trace() {
        assert_eq!(key_target("ArrowRight", 3, 10), Some(4));
        assert_eq!(
            key_target("ArrowRight", 9, 10),
            Some(9),
            "stays on the last"
        );
        assert_eq!(key_target("ArrowLeft", 0, 10), Some(0));
        assert_eq!(key_target("ArrowUp", 5, 10), Some(4));
        assert_eq!(key_target("Home", 5, 10), Some(0));
        assert_eq!(key_target("End", 5, 10), Some(9));
        assert_eq!(key_target("a", 5, 10), None);
        assert_eq!(key_target("End", 0, 0), None, "an empty trace");
    }
}
