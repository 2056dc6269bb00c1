//! The NAT tables as they stood at the selected step, as `conntrack -L` and as Cisco's
//! `show ip nat translations`, with the entry that step created or matched marked. The tables
//! are the engine's own, recorded step by step ([`Network::apply_recorded`]); this module only
//! lays them out.

use labvisor_core::net::conntrack::{Entry, FlowKey};
use labvisor_core::net::sim::touched_entry;

use super::*;

/// The entry a step touched, as (NAT name, original tuple).
pub(super) fn touched(tables: &Tables, step: &Step) -> Option<(String, FlowKey)> {
    touched_entry(tables, step).map(|(nat, e)| (nat.to_string(), e.orig))
}

/// The tables at step `at` (or at the step before it while a prediction hides it), timeouts
/// counted down to that step's virtual time.
pub(super) fn nat_tables(lang: Lang, lab: &Lab, at: usize, hidden: bool) -> Html {
    let shown = if hidden { at.saturating_sub(1) } else { at };
    let (Some(tables), Some((_, step))) = (lab.tables.get(shown), lab.steps.get(shown)) else {
        return html! {};
    };
    let now = step.at;
    let mark = if hidden { None } else { touched(tables, step) };
    html! {
        <section class="lv-panel lv-net-tables" aria-labelledby="lv-nat-title">
            <h2 id="lv-nat-title">{ NAT_TABLES.get(lang) }</h2>
            <p class="lv-muted lv-small-text lv-nat-when">{ tables_when(lang, shown + 1, &now.to_string(), hidden) }</p>
            if tables.is_empty() {
                <p class="lv-muted">{ NO_NAT.get(lang) }</p>
            }
            { for tables.iter().map(|(name, table)| {
                let mut entries: Vec<&Entry> = table.conntrack().entries().iter().collect();
                entries.sort_by_key(|e| e.orig);
                let rows = table.cisco_rows();
                let is_marked = |e: &Entry| mark.as_ref().is_some_and(|(n, k)| n == name && *k == e.orig);
                html! {
                    <div class="lv-nat" data-nat={name.clone()}>
                        <h3>{ format!("{name} — {}", table.config().type_name()) }</h3>
                        <p class="lv-label">{ "conntrack -L" }</p>
                        if entries.is_empty() {
                            <p class="lv-muted">{ EMPTY.get(lang) }</p>
                        } else {
                            <ol class="lv-ct-lines lv-mono" tabindex="0" aria-label={format!("conntrack -L: {name}")}>
                                { for entries.iter().map(|e| html! {
                                    <li class={classes!("lv-ct-line", is_marked(e).then_some("lv-ct-touched"))}
                                        aria-current={is_marked(e).then_some("true")}>
                                        { e.conntrack_line(now) }
                                    </li>
                                }) }
                            </ol>
                        }
                        if !rows.is_empty() {
                            <p class="lv-label">{ "show ip nat translations" }</p>
                            <div class="lv-table-wrap" tabindex="0">
                                <table class="lv-table lv-mono">
                                    <thead><tr>
                                        { for ["Pro", "Inside global", "Inside local", "Outside local", "Outside global"].iter().map(|h| html! { <th scope="col">{ *h }</th> }) }
                                    </tr></thead>
                                    <tbody>
                                        // cisco_rows and the conntrack lines are both in the
                                        // entries' order by original tuple.
                                        { for rows.iter().zip(&entries).map(|(r, e)| html! {
                                            <tr class={classes!(is_marked(e).then_some("lv-ct-touched"))}>
                                                { for r.iter().map(|c| html! { <td>{ c.clone() }</td> }) }
                                            </tr>
                                        }) }
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

fn tables_when(lang: Lang, step: usize, now: &str, hidden: bool) -> String {
    match (lang, hidden) {
        (Lang::En, false) => format!("As they stand at step {step} (t = {now} s); the entry this step created or matched is marked."),
        (Lang::En, true) => format!("As they stood at step {step} (t = {now} s), before the translation you are predicting."),
        (Lang::Ko, false) => format!("{step}단계 시점(t = {now}초)의 테이블입니다. 이 단계가 만들거나 찾은 항목을 표시했습니다."),
        (Lang::Ko, true) => format!("예측할 변환 직전인 {step}단계 시점(t = {now}초)의 테이블입니다."),
    }
}

const NAT_TABLES: Text = Text::new("NAT tables at this step", "이 단계의 NAT 테이블");
const NO_NAT: Text = Text::new(
    "No NAT in this topology.",
    "이 토폴로지에는 NAT가 없습니다.",
);
const EMPTY: Text = Text::new("(no connections)", "(연결 없음)");

#[cfg(test)]
mod tests {
    use super::*;

    fn line_at(lab: &Lab, at: usize) -> Vec<String> {
        let now = lab.steps[at].1.at;
        lab.tables[at]["home-router"]
            .conntrack()
            .entries()
            .iter()
            .map(|e| e.conntrack_line(now))
            .collect()
    }

    #[test]
    fn the_tables_follow_the_selected_step_not_the_end_of_its_action() {
        let lab = load("home-router", &[]).unwrap();
        assert_eq!(lab.tables.len(), lab.steps.len());
        let new = lab
            .steps
            .iter()
            .position(|(_, s)| matches!(s.event, Event::Conntrack { .. }))
            .unwrap();
        // Step 7 of the home-router trace (the first conntrack line) is this one.
        assert_eq!(new + 1, 7, "{}", lab.steps[new].1);
        let lines = line_at(&lab, new);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("[UNREPLIED]"), "{lines:?}");
        assert_eq!(
            touched(&lab.tables[new], &lab.steps[new].1).map(|(nat, _)| nat),
            Some("home-router".to_string())
        );
        // The same action's answer: the entry has seen its reply.
        let reply = lab
            .steps
            .iter()
            .position(
                |(_, s)| matches!(&s.event, Event::Translate { kind, .. } if kind == "un-NAT"),
            )
            .unwrap();
        assert_eq!(lab.steps[reply].0, lab.steps[new].0);
        let answered = &line_at(&lab, reply)[0];
        assert!(!answered.contains("[UNREPLIED]"), "{answered}");
        // A single UDP exchange is not yet a stream: not assured (as Linux).
        assert!(!answered.contains("[ASSURED]"), "{answered}");
        // Before the first NAT decision the table is empty.
        assert!(lab.tables[0]["home-router"].conntrack().is_empty());
    }
}
