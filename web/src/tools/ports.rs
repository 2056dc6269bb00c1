//! The port lookup: a view of `labvisor_core::port`.

use labvisor_core::lang::{Explain, Lang, Text};
use labvisor_core::port::{self, PortInfo, PortRange};
use yew::prelude::*;

use super::common::{facts, input_value, yes_no, ToolPage};
use crate::app::{edit_lab, use_app, use_completion};

/// The goal: find MySQL's port (by name or number).
fn goal_met(info: Option<&PortInfo>) -> bool {
    info.is_some_and(|i| i.port.number() == 3306)
}

#[function_component]
pub fn PortsTool() -> Html {
    let app = use_app();
    let lang = app.lang;
    let query = app.lab.ports.query.clone();
    let result = port::lookup(&query);
    use_completion(
        super::activity_id(crate::route::ToolId::Ports),
        goal_met(result.as_ref().ok()),
    );
    let on_input = edit_lab(&app, |lab, e: InputEvent| lab.ports.query = input_value(&e));
    let pick = |q: String| edit_lab(&app, move |lab, _: MouseEvent| lab.ports.query = q.clone());
    let error = result.as_ref().err().map(|e| e.explain_in(lang));
    html! {
        <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={goal_met(result.as_ref().ok())}>
            <section class="lv-panel lv-tool-input">
                <label class="lv-label" for="lv-port-input">{ QUERY.get(lang) }</label>
                <input id="lv-port-input" class="lv-input lv-mono lv-big" value={query.clone()}
                    oninput={on_input} spellcheck="false" autocomplete="off" placeholder="22, ssh, mysql…"
                    aria-invalid={error.is_some().to_string()} aria-describedby="lv-port-error" />
                <p id="lv-port-error" class="lv-field-error" role="status">{ error.unwrap_or_default() }</p>
            </section>
            if let Ok(info) = &result {
                <div class="lv-grid-2">
                    { summary(lang, info) }
                    { services(lang, info) }
                </div>
            }
            <section class="lv-panel">
                <h2>{ CATALOG.get(lang) }</h2>
                <div class="lv-chips">
                    { for port::services().iter().map(|s| {
                        let current = result.as_ref().is_ok_and(|i| i.port.number() == s.port);
                        html! {
                            <button class={classes!("lv-chip", current.then_some("lv-chip-on"))}
                                aria-pressed={current.to_string()} onclick={pick(s.name.to_string())}>
                                <span>{ s.name }</span>{ " " }<span class="lv-mono lv-muted">{ s.port }</span>
                            </button>
                        }
                    }) }
                </div>
            </section>
        </ToolPage>
    }
}

fn summary(lang: Lang, info: &PortInfo) -> Html {
    let n = info.port.number();
    html! {
        <section class="lv-panel" aria-labelledby="lv-port-title">
            <h2 id="lv-port-title">{ PORT.get(lang) }{ " " }<span class="lv-mono">{ n }</span></h2>
            { range_bar(lang, info.range, n) }
            if let Some(note) = info.note {
                <p class="lv-port-note">{ note.get(lang) }</p>
            }
            <p>{ info.range.explanation().get(lang) }</p>
            { facts(lang, &[
                (RANGE, html! { <>{ info.range.name().get(lang) }{ format!(" ({}–{})", info.range_bounds.0, info.range_bounds.1) }</> }),
                (PRIVILEGED, html! { <>{ yes_no(lang, info.linux_privileged) }{ " — " }{
                    if info.linux_privileged { PRIVILEGED_YES.get(lang) } else { PRIVILEGED_NO.get(lang) }
                }</> }),
                (EPHEMERAL, html! { if info.ephemeral_in.is_empty() {
                    { NONE.get(lang) }
                } else {
                    { info.ephemeral_in.join(", ") }
                } }),
            ]) }
        </section>
    }
}

/// The three RFC 6335 ranges side by side, the port marked in its range. The segments are
/// equal-width (the system range is 1.6 % of the space and would vanish), so the bounds are
/// printed on each.
fn range_bar(lang: Lang, range: PortRange, n: u16) -> Html {
    html! {
        <div class="lv-rangebar" role="img"
            aria-label={format!("{} {n}: {}", PORT.get(lang), range.name().get(lang))}>
            { for PortRange::ALL.iter().map(|r| {
                let (lo, hi) = r.bounds();
                let here = *r == range;
                let pos = if here { (f64::from(n - lo) / f64::from(hi - lo).max(1.0)) * 100.0 } else { 0.0 };
                html! {
                    <div class={classes!("lv-rangebar-seg", here.then_some("lv-rangebar-here"))}>
                        <span class="lv-rangebar-name">{ r.name().get(lang) }</span>
                        <span class="lv-mono lv-rangebar-bounds">{ format!("{lo}–{hi}") }</span>
                        if here {
                            <span class="lv-rangebar-mark" style={format!("left: {pos:.1}%")} aria-hidden="true">{ "▲" }</span>
                        }
                    </div>
                }
            }) }
        </div>
    }
}

fn services(lang: Lang, info: &PortInfo) -> Html {
    html! {
        <section class="lv-panel">
            <h2>{ SERVICES.get(lang) }</h2>
            if info.services.is_empty() {
                <p class="lv-muted">{ NO_SERVICE.get(lang) }</p>
            } else {
                <ul class="lv-list">
                    { for info.services.iter().map(|s| html! {
                        <li>
                            <strong>{ s.name }</strong>{ " " }
                            <span class="lv-tag lv-mono">{ s.transport_label() }</span>
                            <p class="lv-muted">{ s.description.get(lang) }</p>
                        </li>
                    }) }
                </ul>
            }
            <p class="lv-note">{ CUSTOMARY.get(lang) }</p>
        </section>
    }
}

const TITLE: Text = Text::new("Ports and services", "포트와 서비스");
const INTRO: Text = Text::new(
    "Type a port number or a service name. Labvisor shows its IANA range (RFC 6335), whether an ordinary user may listen on it, and the services customarily found there.",
    "포트 번호나 서비스 이름을 입력하세요. IANA 범위(RFC 6335), 일반 사용자가 그 포트를 열 수 있는지, 그 포트에서 흔히 쓰이는 서비스를 보여 줍니다.",
);
const GOAL: Text = Text::new(
    "Which port does a MySQL server listen on? Find it by name.",
    "MySQL 서버는 어느 포트에서 대기(listen)할까요? 이름으로 찾아보세요.",
);
const QUERY: Text = Text::new("Port number or service name", "포트 번호 또는 서비스 이름");
const PORT: Text = Text::new("Port", "포트");
const RANGE: Text = Text::new("IANA range", "IANA 범위");
const PRIVILEGED: Text = Text::new("Needs root on Linux", "리눅스에서 root 필요");
const PRIVILEGED_YES: Text = Text::new(
    "below net.ipv4.ip_unprivileged_port_start (1024): root or CAP_NET_BIND_SERVICE",
    "net.ipv4.ip_unprivileged_port_start(1024) 미만: root 또는 CAP_NET_BIND_SERVICE 필요",
);
const PRIVILEGED_NO: Text = Text::new("any user may listen on it", "누구나 열 수 있음");
const EPHEMERAL: Text = Text::new(
    "Ephemeral (client) port on",
    "임시(클라이언트) 포트로 쓰는 OS",
);
const NONE: Text = Text::new("none by default", "기본 설정에서는 없음");
const SERVICES: Text = Text::new("Services", "서비스");
const NO_SERVICE: Text = Text::new(
    "No common service in the catalog uses this port.",
    "카탈로그에 이 포트를 쓰는 흔한 서비스가 없습니다.",
);
const CUSTOMARY: Text = Text::new(
    "A port number alone does not prove which service answers: these are customary assignments, and any program may listen on any port.",
    "포트 번호만으로 어떤 서비스인지 단정할 수는 없습니다. 관례적인 할당일 뿐, 어떤 프로그램이든 어느 포트에서나 대기할 수 있습니다.",
);
const CATALOG: Text = Text::new("Common services", "자주 쓰는 서비스");
