//! The network lab: a ready scenario from `labvisor_core::net`, drawn as an SVG topology,
//! with the packet trace played step by step (play, pause, step forward and back) and the NAT
//! tables as they stand after the current action, both like `conntrack -L` and like Cisco's
//! `show ip nat translations`. Every fact comes from the engine: the page replays the same
//! deterministic network up to the current action.

use std::collections::BTreeMap;
use std::rc::Rc;

use labvisor_core::lang::{Lang, Text};
use labvisor_core::net::scenario::{self, Run, Scenario};
use labvisor_core::net::sim::Network;
use labvisor_core::net::topology::{Fabric, Role};
use labvisor_core::net::trace::{Event, Step};
use yew::prelude::*;
use yew::Event as DomEvent;

use super::common::{input_number, input_value, ToolPage};
use crate::app::{edit_lab, use_app, use_completion};

/// One scenario, parsed and run once.
pub struct Lab {
    pub scenario: Scenario,
    pub run: Run,
    /// Every step in order, with the index of the action it belongs to (`None` for DHCP).
    pub steps: Vec<(Option<usize>, Step)>,
}

/// Parses and runs the example `name` (the examples ship inside the core).
pub fn load(name: &str) -> Result<Lab, String> {
    let (file, src) = scenario::EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| format!("no example named {name:?}"))?;
    let scenario = Scenario::parse(file, src).map_err(|e| e.to_string())?;
    let run = scenario.run(file).map_err(|e| e.to_string())?;
    let mut steps: Vec<(Option<usize>, Step)> =
        run.leases.iter().cloned().map(|s| (None, s)).collect();
    for (i, (_, action_steps)) in run.actions.iter().enumerate() {
        steps.extend(action_steps.iter().cloned().map(|s| (Some(i), s)));
    }
    Ok(Lab {
        scenario,
        run,
        steps,
    })
}

/// The network after the actions up to and including `action` (replayed: the engine is
/// deterministic, so this is exactly the state the trace was at).
fn network_after(scenario: &Scenario, action: Option<usize>) -> Option<Network> {
    let mut network = Network::new(scenario.topology.clone()).ok()?;
    let _ = network.lease_steps();
    if let Some(last) = action {
        for (_, a) in scenario.actions.iter().take(last + 1) {
            network.apply(a).ok()?;
        }
    }
    Some(network)
}

#[function_component]
pub fn NetworkTool() -> Html {
    let app = use_app();
    let lang = app.lang;
    let state = app.lab.network.clone();
    let lab = use_memo(state.example.clone(), |name| load(name).map(Rc::new));
    let playing = use_state(|| false);
    let total = lab.as_ref().as_ref().map(|l| l.steps.len()).unwrap_or(0);
    let at = (state.step as usize).min(total.saturating_sub(1));
    let finished = total > 0 && at + 1 == total;
    use_completion(super::activity_id(crate::route::ToolId::Network), finished);

    // Playing advances one step every 700 ms until the end.
    {
        let app = app.clone();
        let playing = playing.clone();
        use_effect_with((*playing, at, total), move |(is_playing, at, total)| {
            let timer = (*is_playing && at + 1 < *total).then(|| {
                let app = app.clone();
                gloo_timers::callback::Timeout::new(700, move || {
                    app.dispatch(crate::app::Action::EditLab(Rc::new(|lab| {
                        lab.network.step += 1
                    })));
                })
            });
            if *is_playing && at + 1 >= *total {
                playing.set(false);
            }
            move || drop(timer)
        });
    }

    // Keep the current step in view inside the trace panel (without scrolling the page).
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

    let choose = edit_lab(&app, |lab, e: DomEvent| {
        lab.network.example = input_value(&e);
        lab.network.step = 0;
    });
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

    let lab = match lab.as_ref() {
        Ok(lab) => lab.clone(),
        Err(e) => {
            return html! {
                <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={false}>
                    <p class="lv-field-error" role="alert">{ e.clone() }</p>
                </ToolPage>
            }
        }
    };
    let current = lab.steps.get(at);
    let action = current.and_then(|(a, _)| *a);
    html! {
        <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={finished}>
            <section class="lv-panel lv-net-head">
                <div class="lv-row">
                    <label class="lv-label" for="lv-net-example">{ SCENARIO.get(lang) }</label>
                    <select id="lv-net-example" class="lv-select lv-grow" onchange={choose}>
                        { for scenario::EXAMPLES.iter().map(|(name, _)| html! {
                            <option value={*name} selected={*name == state.example}>{ *name }</option>
                        }) }
                    </select>
                </div>
                <h2 class="lv-net-title">{ lab.scenario.title.clone() }</h2>
                <p class="lv-muted lv-net-desc">{ lab.scenario.description.clone() }</p>
            </section>
            <div class="lv-net">
                <section class="lv-panel lv-net-diagram" aria-labelledby="lv-net-diagram-title">
                    <h2 id="lv-net-diagram-title">{ TOPOLOGY.get(lang) }</h2>
                    { diagram(lang, lab.run.network.fabric(), current.map(|(_, s)| s)) }
                    <div class="lv-player" role="group" aria-label={PLAYER.get(lang)}>
                        <button class="lv-button lv-ghost" onclick={restart} aria-label={RESTART.get(lang)} title={RESTART.get(lang)}>{ "↺" }</button>
                        <button class="lv-button lv-ghost" onclick={step_to(-1)} disabled={at == 0}
                            aria-label={BACK.get(lang)} title={BACK.get(lang)}>{ "◀" }</button>
                        <button class="lv-button lv-play" onclick={toggle} aria-pressed={playing.to_string()}>
                            { if *playing { PAUSE.get(lang) } else { PLAY.get(lang) } }
                        </button>
                        <button class="lv-button lv-ghost" onclick={step_to(1)} disabled={at + 1 >= total}
                            aria-label={FORWARD.get(lang)} title={FORWARD.get(lang)}>{ "▶" }</button>
                        <span class="lv-mono lv-player-pos" aria-live="polite">{ format!("{}/{}", at + 1, total) }</span>
                    </div>
                    <input type="range" class="lv-range" min="0" max={total.saturating_sub(1).to_string()}
                        value={at.to_string()} oninput={seek} aria-label={POSITION.get(lang)} />
                    if let Some((_, step)) = current {
                        { step_detail(lang, step) }
                    }
                </section>
                <section class="lv-panel lv-net-trace" aria-labelledby="lv-net-trace-title">
                    <h2 id="lv-net-trace-title">{ TRACE.get(lang) }</h2>
                    <ol class="lv-trace">
                        { for lab.steps.iter().enumerate().map(|(i, (a, step))| {
                            let header = (i == 0 || lab.steps[i - 1].0 != *a).then(|| match a {
                                None => "DHCP".to_string(),
                                Some(k) => format!("{}. {}", k + 1, lab.run.actions[*k].0),
                            });
                            html! {
                                <>
                                if let Some(h) = header { <li class="lv-trace-action" aria-hidden="true">{ h }</li> }
                                <li class={classes!("lv-trace-step", event_class(&step.event), (i == at).then_some("lv-trace-now"), (i > at).then_some("lv-trace-future"))}
                                    aria-current={(i == at).then_some("step")}>
                                    <span class="lv-mono lv-trace-time">{ step.at.to_string() }</span>
                                    <span class="lv-mono">{ step.event.to_string() }</span>
                                </li>
                                </>
                            }
                        }) }
                    </ol>
                </section>
            </div>
            { nat_tables(lang, &lab.scenario, action) }
        </ToolPage>
    }
}

fn event_class(e: &Event) -> &'static str {
    match e {
        Event::Drop { .. } => "lv-ev-drop",
        Event::Deliver { .. } => "lv-ev-deliver",
        Event::Translate { .. } => "lv-ev-nat",
        Event::Conntrack { .. } => "lv-ev-ct",
        _ => "",
    }
}

/// What the current step did, with headers before and after a translation.
fn step_detail(lang: Lang, step: &Step) -> Html {
    match &step.event {
        Event::Translate {
            node,
            kind,
            before,
            after,
            rule,
        } => html! {
            <div class="lv-step-detail lv-ev-nat" aria-live="polite">
                <strong>{ format!("{node}: {kind}") }</strong>
                if let Some(r) = rule { <span class="lv-muted">{ format!(" ({} {r})", RULE.get(lang)) }</span> }
                <dl class="lv-facts">
                    <div class="lv-fact"><dt>{ BEFORE.get(lang) }</dt><dd class="lv-mono">{ before.to_string() }</dd></div>
                    <div class="lv-fact"><dt>{ AFTER.get(lang) }</dt><dd class="lv-mono">{ after.to_string() }</dd></div>
                </dl>
            </div>
        },
        Event::Drop {
            node,
            packet,
            reason,
            ..
        } => html! {
            <div class="lv-step-detail lv-ev-drop" aria-live="polite">
                <strong>{ format!("✗ {node}: ") }{ DROPPED.get(lang) }</strong>
                <p class="lv-mono">{ packet.to_string() }</p><p>{ reason.clone() }</p>
            </div>
        },
        other => html! {
            <div class={classes!("lv-step-detail", event_class(other))} aria-live="polite">
                <p class="lv-mono">{ other.to_string() }</p>
            </div>
        },
    }
}

/// The NAT tables after the current action: conntrack view (with timeouts counting down on the
/// virtual clock) and the Cisco inside/outside view.
fn nat_tables(lang: Lang, scenario: &Scenario, action: Option<usize>) -> Html {
    let Some(network) = network_after(scenario, action) else {
        return html! {};
    };
    let now = network.now();
    html! {
        <section class="lv-panel" aria-labelledby="lv-nat-title">
            <h2 id="lv-nat-title">{ NAT_TABLES.get(lang) }{ format!(" (t = {now} s)") }</h2>
            if network.nats().is_empty() {
                <p class="lv-muted">{ NO_NAT.get(lang) }</p>
            }
            { for network.nats().iter().map(|(name, table)| {
                let lines = table.conntrack_lines(now);
                let rows = table.cisco_rows();
                html! {
                    <div class="lv-nat">
                        <h3>{ format!("{name} — {}", table.config().type_name()) }</h3>
                        <p class="lv-label">{ "conntrack -L" }</p>
                        if lines.is_empty() {
                            <p class="lv-muted">{ EMPTY.get(lang) }</p>
                        } else {
                            <pre class="lv-pre">{ lines.join("\n") }</pre>
                        }
                        if !rows.is_empty() {
                            <p class="lv-label">{ "show ip nat translations" }</p>
                            <div class="lv-table-wrap">
                                <table class="lv-table lv-mono">
                                    <thead><tr>
                                        { for ["Pro", "Inside global", "Inside local", "Outside local", "Outside global"].iter().map(|h| html! { <th scope="col">{ *h }</th> }) }
                                    </tr></thead>
                                    <tbody>
                                        { for rows.iter().map(|r| html! { <tr>{ for r.iter().map(|c| html! { <td>{ c.clone() }</td> }) }</tr> }) }
                                    </tbody>
                                </table>
                            </div>
                        }
                    </div>
                }
            }) }
        </section>
    }
}

const LEVEL_H: f64 = 78.0;
const SLOT_W: f64 = 190.0;
const NODE_W: f64 = 128.0;
const NODE_H: f64 = 48.0;

/// Lays the nodes and segments out in levels, top to bottom, by distance from the first node
/// (nodes and segments alternate, so every link goes between neighbouring levels).
/// A point in the diagram.
type Point = (f64, f64);

fn layout(fabric: &Fabric) -> (Vec<Point>, Vec<Point>, f64, f64) {
    let n = fabric.nodes.len();
    let s = fabric.segments.len();
    let mut node_col = vec![usize::MAX; n];
    let mut seg_col = vec![usize::MAX; s];
    let mut queue = std::collections::VecDeque::new();
    for start in 0..n {
        if node_col[start] != usize::MAX {
            continue;
        }
        node_col[start] = 0;
        queue.push_back((true, start));
        while let Some((is_node, i)) = queue.pop_front() {
            if is_node {
                for nic in &fabric.nodes[i].nics {
                    if let Some(seg) = nic.segment.filter(|&g| g < s) {
                        if seg_col[seg] == usize::MAX {
                            seg_col[seg] = node_col[i] + 1;
                            queue.push_back((false, seg));
                        }
                    }
                }
            } else {
                for (j, node) in fabric.nodes.iter().enumerate() {
                    if node_col[j] == usize::MAX && node.nics.iter().any(|c| c.segment == Some(i)) {
                        node_col[j] = seg_col[i] + 1;
                        queue.push_back((true, j));
                    }
                }
            }
        }
    }
    let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
    let mut place = |col: usize| {
        let row = rows.entry(col).or_insert(0);
        *row += 1;
        (
            30.0 + SLOT_W / 2.0 + (*row - 1) as f64 * SLOT_W,
            40.0 + col as f64 * LEVEL_H,
        )
    };
    let nodes: Vec<_> = node_col.iter().map(|&c| place(c.min(64))).collect();
    let segs: Vec<_> = seg_col
        .iter()
        .map(|&c| place(if c == usize::MAX { 1 } else { c.min(64) }))
        .collect();
    let width = nodes.iter().chain(&segs).map(|p| p.0).fold(0.0, f64::max) + SLOT_W / 2.0 + 30.0;
    let height = nodes.iter().chain(&segs).map(|p| p.1).fold(0.0, f64::max) + NODE_H / 2.0 + 20.0;
    (nodes, segs, width, height)
}

fn diagram(lang: Lang, fabric: &Fabric, step: Option<&Step>) -> Html {
    let (nodes, segs, width, height) = layout(fabric);
    let seg_pos = &segs;
    let node_index = |name: &str| fabric.nodes.iter().position(|n| n.name == name);
    let seg_index = |name: &str| fabric.segments.iter().position(|s| s.name == name);
    // What the current step touches: a link being crossed, or a node acting.
    let (active_link, active_node) = match step.map(|s| &s.event) {
        Some(Event::Transmit {
            from, to, segment, ..
        }) => (
            seg_index(segment).map(|s| (node_index(from), node_index(to), s)),
            None,
        ),
        Some(
            Event::Send { node, .. }
            | Event::Deliver { node, .. }
            | Event::Drop { node, .. }
            | Event::Translate { node, .. }
            | Event::Route { node, .. }
            | Event::Conntrack { node, .. },
        ) => (None, node_index(node)),
        Some(Event::HostStack { engine, .. }) => (None, node_index(engine)),
        _ => (None, None),
    };
    let dropped = matches!(step.map(|s| &s.event), Some(Event::Drop { .. }));
    html! {
        <div class="lv-diagram-wrap">
            <svg class="lv-diagram" viewBox={format!("0 0 {width:.0} {height:.0}")} role="group"
                aria-label={TOPOLOGY.get(lang)} style={format!("max-width: {:.0}px", width.max(320.0))}>
                { for fabric.nodes.iter().enumerate().flat_map(|(i, node)| {
                    let (nx, ny) = nodes[i];
                    node.nics.iter().filter_map(move |nic| {
                        let seg = nic.segment?;
                        let (sx, sy) = *seg_pos.get(seg)?;
                        Some((i, nx, ny, seg, sx, sy, nic, node))
                    }).collect::<Vec<_>>()
                }).map(|(i, nx, ny, seg, sx, sy, nic, node)| {
                    let active = active_link.is_some_and(|(f, t, s)| s == seg && (f == Some(i) || t == Some(i)));
                    let label = match nic.addr {
                        Some(a) => format!("{} {a}", nic.name),
                        None => nic.name.clone(),
                    };
                    let (lx, ly) = (nx + (sx - nx) * 0.5 + 6.0, ny + (sy - ny) * 0.5 + 4.0);
                    html! {
                        <g class={classes!("lv-link", active.then_some("lv-link-active"))}
                            role="img" aria-label={format!("{} {label} — {} ({})", node.name, fabric.segments[seg].name, nic.attachment)}>
                            <line x1={format!("{nx:.0}")} y1={format!("{ny:.0}")} x2={format!("{sx:.0}")} y2={format!("{sy:.0}")} />
                            <text x={format!("{lx:.0}")} y={format!("{ly:.0}")} class="lv-link-label" text-anchor="start">{ label }</text>
                        </g>
                    }
                }) }
                { for fabric.segments.iter().enumerate().map(|(i, seg)| {
                    let (x, y) = segs[i];
                    let active = active_link.is_some_and(|(_, _, s)| s == i);
                    html! {
                        <g class={classes!("lv-segment", (active).then_some("lv-segment-active"))} role="img"
                            aria-label={format!("{} {} ({:?})", SEGMENT.get(lang), seg.name, seg.kind)}>
                            <rect x={format!("{:.0}", x - 55.0)} y={format!("{:.0}", y - 14.0)} width="110" height="28" rx="14" />
                            <text x={format!("{x:.0}")} y={format!("{:.0}", y + 4.0)} text-anchor="middle">{ seg.name.clone() }</text>
                            if active {
                                <circle class="lv-packet" cx={format!("{:.0}", x + 66.0)} cy={format!("{y:.0}")} r="8" />
                            }
                        </g>
                    }
                }) }
                { for fabric.nodes.iter().enumerate().map(|(i, node)| {
                    let (x, y) = nodes[i];
                    let active = active_node == Some(i) || active_link.is_some_and(|(f, t, _)| f == Some(i) || t == Some(i));
                    let role = match &node.role {
                        Role::Machine { kind } => format!("{kind:?}").to_lowercase(),
                        Role::NatEngine { .. } => "NAT engine".to_string(),
                    };
                    html! {
                        <g class={classes!("lv-node", active.then_some("lv-node-active"), (active && dropped).then_some("lv-node-drop"))}
                            role="img" aria-label={format!("{} ({role}): {}", node.name, node.addrs().iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "))}>
                            <rect x={format!("{:.0}", x - NODE_W / 2.0)} y={format!("{:.0}", y - NODE_H / 2.0)}
                                width={NODE_W.to_string()} height={NODE_H.to_string()} rx="8" />
                            <text x={format!("{x:.0}")} y={format!("{:.0}", y - 3.0)} text-anchor="middle" class="lv-node-name">{ node.name.clone() }</text>
                            <text x={format!("{x:.0}")} y={format!("{:.0}", y + 13.0)} text-anchor="middle" class="lv-node-role">{ role }</text>
                        </g>
                    }
                }) }
            </svg>
        </div>
    }
}

const TITLE: Text = Text::new(
    "Network lab: NAT step by step",
    "네트워크 실습: NAT 단계별 보기",
);
const INTRO: Text = Text::new(
    "Pick a scenario and play its packets one step at a time: every hop, routing decision, address translation and conntrack change, with the NAT table as it stands at that moment.",
    "시나리오를 고르고 패킷을 한 단계씩 재생해 보세요. 모든 홉, 라우팅 결정, 주소 변환, conntrack 변화를 그 순간의 NAT 테이블과 함께 보여 줍니다.",
);
const GOAL: Text = Text::new(
    "Step through a whole scenario to its last event, watching where the source address changes.",
    "출발지 주소가 어디서 바뀌는지 보면서 시나리오 하나를 마지막 단계까지 진행해 보세요.",
);
const SCENARIO: Text = Text::new("Scenario", "시나리오");
const TOPOLOGY: Text = Text::new("Topology", "토폴로지");
const PLAYER: Text = Text::new("Simulation controls", "시뮬레이션 조작");
const RESTART: Text = Text::new("Back to the start", "처음으로");
const BACK: Text = Text::new("Step back", "한 단계 뒤로");
const FORWARD: Text = Text::new("Step forward", "한 단계 앞으로");
const PLAY: Text = Text::new("Play", "재생");
const PAUSE: Text = Text::new("Pause", "일시정지");
const POSITION: Text = Text::new("Position in the trace", "추적 위치");
const TRACE: Text = Text::new("Packet trace", "패킷 추적");
const RULE: Text = Text::new("rule", "규칙");
const BEFORE: Text = Text::new("Before", "변환 전");
const AFTER: Text = Text::new("After", "변환 후");
const DROPPED: Text = Text::new("dropped", "폐기됨");
const NAT_TABLES: Text = Text::new("NAT tables after this action", "이 동작 후의 NAT 테이블");
const NO_NAT: Text = Text::new(
    "No NAT in this topology.",
    "이 토폴로지에는 NAT가 없습니다.",
);
const EMPTY: Text = Text::new("(no connections)", "(연결 없음)");
const SEGMENT: Text = Text::new("Segment", "세그먼트");
