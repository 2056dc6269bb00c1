//! The trace's step details and the NAT tables after the current action, as `conntrack -L`
//! and as Cisco's `show ip nat translations`.

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

/// What the current step did, with headers before and after a translation.
pub(super) fn step_detail(lang: Lang, step: &Step) -> Html {
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
            cause,
            reason,
        } => html! {
            <div class="lv-step-detail lv-ev-drop" aria-live="polite">
                <strong>{ format!("✗ {node}: ") }{ DROPPED.get(lang) }</strong>
                <p class="lv-mono">{ packet.to_string() }</p>
                // In Korean the cause leads; the engine's own sentence (English, with the
                // specifics) follows in small print.
                if lang == Lang::Ko {
                    <p>{ cause.explain_in(lang) }</p>
                    <p class="lv-muted lv-small-text" lang="en">{ reason.clone() }</p>
                } else {
                    <p>{ reason.clone() }</p>
                }
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
pub(super) fn nat_tables(lang: Lang, lab: &Lab, action: Option<usize>) -> Html {
    let Some(network) = network_after(lab, action) else {
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
                            <pre class="lv-pre" tabindex="0">{ lines.join("\n") }</pre>
                        }
                        if !rows.is_empty() {
                            <p class="lv-label">{ "show ip nat translations" }</p>
                            <div class="lv-table-wrap" tabindex="0">
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

/// The whole trace, one line per step, each action's steps under its line; the current step
/// marked, the ones after it dimmed.
pub(super) fn trace_list(lang: Lang, lab: &Lab, at: usize) -> Html {
    html! {
        <ol class="lv-trace">
            { for lab.steps.iter().enumerate().map(|(i, (a, step))| {
                let header = (i == 0 || lab.steps[i - 1].0 != *a).then(|| match a {
                    None => "DHCP".to_string(),
                    Some(k) => format!("{}. {}", k + 1, scenario::describe_in(&lab.actions[*k], lang)),
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
    }
}
