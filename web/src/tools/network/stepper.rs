//! Driving the trace: the player (play at a chosen speed, pause, step, seek), the trace beside
//! the selected step's card and the NAT tables of that step, and predictions at NAT hops.
//! The bar stays in view at the bottom of the screen while the lab is on it, so Play is
//! always reachable.

use std::collections::BTreeMap;

use super::packet_card::step_card;
use super::predict::{grades, is_nat_hop, Predict, Revealed, PREDICT_MODE};
use super::*;

/// The lab, compared by identity: a new run is a new lab.
#[derive(Clone)]
pub struct LabRef(pub Rc<Lab>);

impl PartialEq for LabRef {
    fn eq(&self, other: &LabRef) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Properties, PartialEq)]
pub struct StepperProps {
    pub lab: LabRef,
    /// The selected step.
    pub at: usize,
}

/// Play speeds: (label, milliseconds per step).
const SPEEDS: [(&str, u32); 5] = [
    ("0.5×", 1400),
    ("1×", 700),
    ("2×", 350),
    ("4×", 175),
    ("8×", 90),
];

/// Whether the hash asks for predictions (`#/tool/network…?predict`, as the NAT and
/// port-forwarding lessons link to the lab).
pub fn predict_requested(hash: &str) -> bool {
    hash.split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|p| p == "predict" || p == "predict=1"))
}

#[function_component]
pub fn Stepper(props: &StepperProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let lab = props.lab.0.clone();
    let total = lab.steps.len();
    let at = props.at.min(total.saturating_sub(1));
    let playing = use_state(|| false);
    let speed = use_state(|| 1usize);
    let predicting = use_state(|| predict_requested(&crate::browser::location_hash()));
    let revealed = use_state(BTreeMap::<usize, Revealed>::new);
    {
        // A new run (another scenario, an edit) starts the predictions afresh.
        let revealed = revealed.clone();
        use_effect_with(props.lab.clone(), move |_| revealed.set(BTreeMap::new()));
    }
    let step = lab.steps.get(at).map(|(_, s)| s);
    let pending =
        *predicting && step.is_some_and(|s| is_nat_hop(&s.event)) && !revealed.contains_key(&at);
    let hidden_from = predicting.then_some(if pending { at } else { at + 1 });
    use_player(
        app.clone(),
        playing.clone(),
        at,
        total,
        SPEEDS[*speed].1,
        pending,
    );
    use_current_step_in_view(at);

    let select = edit_lab(&app, |lab, i: usize| lab.network.step = i as u32);
    let step_to = |delta: i64| {
        edit_lab(&app, move |lab, _: MouseEvent| {
            lab.network.step = (i64::from(lab.network.step) + delta).clamp(0, 100_000) as u32;
        })
    };
    let seek = edit_lab(&app, |lab, e: InputEvent| {
        if let Some(n) = input_number::<u32>(&e) {
            lab.network.step = n;
        }
    });
    let toggle = {
        let playing = playing.clone();
        Callback::from(move |_: MouseEvent| playing.set(!*playing))
    };
    let restart = edit_lab(&app, |lab, _: MouseEvent| lab.network.step = 0);
    let keys = {
        let select = select.clone();
        Callback::from(move |e: KeyboardEvent| {
            if let Some(to) = trace::key_target(&e.key(), at, total) {
                e.prevent_default();
                select.emit(to);
            }
        })
    };
    let choose_speed = {
        let speed = speed.clone();
        Callback::from(move |e: DomEvent| {
            if let Ok(i) = input_value(&e).parse::<usize>() {
                speed.set(i.min(SPEEDS.len() - 1));
            }
        })
    };
    let toggle_predict = {
        let predicting = predicting.clone();
        Callback::from(move |_: DomEvent| predicting.set(!*predicting))
    };
    let on_reveal = {
        let revealed = revealed.clone();
        Callback::from(move |(i, r): (usize, Revealed)| {
            let mut next = (*revealed).clone();
            next.insert(i, r);
            revealed.set(next);
        })
    };

    let card = match step.map(|s| &s.event) {
        Some(Event::Translate {
            node,
            before,
            after,
            ..
        }) if pending => html! {
            <Predict key={at} {at} node={node.clone()} before={before.clone()} after={after.clone()} {on_reveal} />
        },
        _ => html! {
            <>
            if let Some(r) = revealed.get(&at) { { grades(lang, r) } }
            { step_card(lang, &lab, at) }
            </>
        },
    };
    html! {
        <div class="lv-net-lab">
            <div class="lv-player-bar" role="group" aria-label={PLAYER.get(lang)}>
                <div class="lv-player">
                    <button class="lv-button lv-ghost" onclick={restart} aria-label={RESTART.get(lang)} title={RESTART.get(lang)}>{ "↺" }</button>
                    <button class="lv-button lv-ghost" onclick={step_to(-1)} disabled={at == 0}
                        aria-label={BACK.get(lang)} title={BACK.get(lang)}>{ "◀" }</button>
                    <button class="lv-button lv-play" onclick={toggle} aria-pressed={playing.to_string()}>
                        { if *playing { PAUSE.get(lang) } else { PLAY.get(lang) } }
                    </button>
                    <button class="lv-button lv-ghost" onclick={step_to(1)} disabled={at + 1 >= total}
                        aria-label={FORWARD.get(lang)} title={FORWARD.get(lang)}>{ "▶" }</button>
                    <label class="lv-label lv-speed" for="lv-net-speed">{ SPEED.get(lang) }</label>
                    <select id="lv-net-speed" class="lv-select" onchange={choose_speed}>
                        { for SPEEDS.iter().enumerate().map(|(i, (label, _))| html! {
                            <option value={i.to_string()} selected={i == *speed}>{ *label }</option>
                        }) }
                    </select>
                    <span class="lv-mono lv-player-pos" aria-live="polite">{ format!("{}/{}", at + 1, total) }</span>
                </div>
                <input type="range" class="lv-range" min="0" max={total.saturating_sub(1).to_string()}
                    value={at.to_string()} oninput={seek} aria-label={POSITION.get(lang)} />
                <label class="lv-check lv-predict-toggle">
                    <input type="checkbox" id="lv-net-predict" checked={*predicting} onchange={toggle_predict} />
                    { PREDICT_MODE.get(lang) }
                </label>
            </div>
            <div class="lv-net-follow">
                <section class="lv-panel lv-net-trace" aria-labelledby="lv-net-trace-title" tabindex="0" onkeydown={keys}>
                    <h2 id="lv-net-trace-title">{ TRACE.get(lang) }</h2>
                    <p class="lv-muted lv-small-text">{ KEYS.get(lang) }</p>
                    { trace_list(lang, &lab, at, hidden_from, &select) }
                </section>
                <div class="lv-net-now">
                    <section class="lv-panel lv-net-step" aria-labelledby="lv-net-step-title">
                        <h2 id="lv-net-step-title">{ format!("{} {}", STEP.get(lang), at + 1) }</h2>
                        { card }
                    </section>
                    { nat_tables(lang, &lab, at, pending) }
                </div>
            </div>
        </div>
    }
}

/// Playing advances one step every `delay` ms until the end, or until a NAT hop waits for a
/// prediction.
#[hook]
fn use_player(
    app: crate::app::AppHandle,
    playing: UseStateHandle<bool>,
    at: usize,
    total: usize,
    delay: u32,
    waiting: bool,
) {
    use_effect_with(
        (*playing, at, total, delay, waiting),
        move |(is_playing, at, total, delay, waiting)| {
            let go_on = *is_playing && at + 1 < *total && !*waiting;
            let timer = go_on.then(|| {
                let app = app.clone();
                gloo_timers::callback::Timeout::new(*delay, move || {
                    app.dispatch(crate::app::Action::EditLab(Rc::new(|lab| {
                        lab.network.step += 1
                    })));
                })
            });
            if *is_playing && !go_on {
                playing.set(false);
            }
            move || drop(timer)
        },
    );
}

/// Keeps the current step in view inside the trace panel (without scrolling the page).
#[hook]
fn use_current_step_in_view(at: usize) {
    use_effect_with(at, |_| {
        use wasm_bindgen::JsCast;
        let doc = crate::browser::document();
        let find = |sel: &str| {
            doc.as_ref()
                .and_then(|d| d.query_selector(sel).ok().flatten())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        };
        if let (Some(panel), Some(now)) = (find(".lv-net-trace"), find(".lv-trace-now")) {
            let target = now.offset_top() - panel.offset_top() - panel.client_height() / 2;
            panel.set_scroll_top(target.max(0));
        }
    });
}

const PLAYER: Text = Text::new("Simulation controls", "시뮬레이션 조작");
const RESTART: Text = Text::new("Back to the start", "처음으로");
const BACK: Text = Text::new("Step back", "한 단계 뒤로");
const FORWARD: Text = Text::new("Step forward", "한 단계 앞으로");
const PLAY: Text = Text::new("Play", "재생");
const PAUSE: Text = Text::new("Pause", "일시정지");
const SPEED: Text = Text::new("Speed", "속도");
const POSITION: Text = Text::new("Position in the trace", "추적 위치");
const TRACE: Text = Text::new("Packet trace", "패킷 추적");
const STEP: Text = Text::new("Step", "단계");
const KEYS: Text = Text::new(
    "Click a line to select it; with the trace focused, ←/→ step and Home/End jump to the ends.",
    "줄을 누르면 그 단계로 갑니다. 추적 목록에 포커스가 있을 때 ←/→로 한 단계씩, Home/End로 처음과 끝으로 이동합니다.",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_predict_flag_is_read_from_the_route_query() {
        assert!(predict_requested("#/tool/network?predict"));
        assert!(predict_requested(
            "#/tool/network/port-forward-ssh?predict=1"
        ));
        assert!(predict_requested("#/tool/network?lang=ko&predict"));
        assert!(!predict_requested("#/tool/network"));
        assert!(!predict_requested("#/tool/network/predict"));
        assert!(!predict_requested("#/tool/network?predictions"));
    }
}
