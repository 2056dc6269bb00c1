//! The reachability matrix of a lesson whose lab is a `net-matrix` (lessons 4 and 10): who can
//! open a TCP connection to whom in the lab as it stands, one row per sender and one column
//! per target. Every cell is the core's [`reach::matrix`] answer for the lab's live network
//! (the scenario with the learner's edits) and says why in the learner's language through the
//! core's [`Explain`]; this module only lays it out and never decides a cell itself.

use labvisor_core::lang::{Explain, Lang, Text};
use labvisor_core::net::reach::{self, Cell, Matrix};
use yew::prelude::*;

use super::stepper::LabRef;
use crate::app::use_app;

#[derive(Properties, PartialEq)]
pub struct ReachMatrixProps {
    /// The lab as it stands: the matrix is found on its network after every action.
    pub lab: LabRef,
}

/// The matrix panel, found again only when the lab changes (each cell replays the network).
#[function_component]
pub fn ReachMatrix(props: &ReachMatrixProps) -> Html {
    let lang = use_app().lang;
    let found = use_memo(props.lab.clone(), |lab| reach::matrix(&lab.0.network));
    html! {
        <section class="lv-panel lv-reach" aria-labelledby="lv-reach-title">
            <h2 id="lv-reach-title">{ TITLE.get(lang) }</h2>
            <p class="lv-muted lv-reach-intro">{ INTRO.get(lang) }</p>
            { match &*found {
                Ok(matrix) => table(lang, matrix),
                Err(too_many) => html! { <p class="lv-field-error">{ too_many.explain_in(lang) }</p> },
            } }
        </section>
    }
}

/// The table: rows from, columns to. Under 640 px the stylesheet stacks each row's cells, and
/// each cell then names its column (`.lv-reach-to`).
fn table(lang: Lang, m: &Matrix) -> Html {
    html! {
        <table class="lv-reach-table">
            <caption class="lv-sr">{ CAPTION.get(lang) }</caption>
            <thead>
                <tr>
                    <th scope="col" class="lv-reach-corner">{ CORNER.get(lang) }</th>
                    { for m.nodes.iter().map(|to| html! { <th scope="col" class="lv-mono">{ to.clone() }</th> }) }
                </tr>
            </thead>
            <tbody>
                { for m.nodes.iter().zip(&m.cells).map(|(from, row)| html! {
                    <tr>
                        <th scope="row" class="lv-mono">{ from.clone() }</th>
                        { for m.nodes.iter().zip(row).map(|(to, cell)| cell_view(lang, to, cell)) }
                    </tr>
                }) }
            </tbody>
        </table>
    }
}

/// One cell: its verdict as the lesson's table writes it (yes / port forward / no, O / 포트
/// 포워딩 / X), then the core's sentence.
fn cell_view(lang: Lang, to: &str, cell: &Cell) -> Html {
    let (class, verdict) = match cell {
        Cell::Myself => ("lv-reach-self", SELF.get(lang).to_string()),
        Cell::Direct { .. } => ("lv-reach-yes", YES.get(lang).to_string()),
        Cell::PortForward { via, .. } => {
            ("lv-reach-pf", format!("{} {via}", PORT_FORWARD.get(lang)))
        }
        Cell::No { .. } => ("lv-reach-no", NO.get(lang).to_string()),
    };
    if matches!(cell, Cell::Myself) {
        return html! {
            <td class={class}><span aria-hidden="true">{ "—" }</span><span class="lv-sr">{ verdict }</span></td>
        };
    }
    html! {
        <td class={class}>
            <span class="lv-reach-to lv-mono">{ format!("→ {to}: ") }</span>
            <strong class="lv-reach-verdict">{ verdict }</strong>
            <span class="lv-reach-why">{ match cell {
                // The verdict already says "no": the reason is what happened to the SYN.
                Cell::No { why } => why.explain_in(lang),
                _ => cell.explain_in(lang),
            } }</span>
        </td>
    }
}

const TITLE: Text = Text::new("Reachability matrix, now", "지금의 도달 가능성 표");
const INTRO: Text = Text::new(
    "Can the machine on the row open a TCP connection to the machine in the column? The simulator sends a SYN along every arrow of the lab as it stands, directly and then through every port-forwarding rule, and fills each cell with what got through. Change a NIC below and the matrix follows.",
    "줄의 머신이 칸의 머신에 TCP 연결을 열 수 있을까요? 시뮬레이터가 지금 실습의 모든 화살표를 따라 SYN을 직접 보내 보고, 이어서 포트 포워딩 규칙마다 보내 본 다음, 실제로 통과한 결과로 칸을 채웁니다. 아래에서 NIC을 바꾸면 표도 따라 바뀝니다.",
);
const CAPTION: Text = Text::new(
    "Rows: the machine that connects. Columns: the machine it connects to.",
    "줄: 연결하는 머신. 칸: 연결받는 머신.",
);
const CORNER: Text = Text::new("from ↓ to →", "출발 ↓ 도착 →");
const YES: Text = Text::new("yes", "O");
const NO: Text = Text::new("no", "X");
const PORT_FORWARD: Text = Text::new("port forward", "포트 포워딩");
const SELF: Text = Text::new("itself", "자기 자신");

/// Whether the lesson `from` opened the lab as a reachability lab (its lab kind is
/// `net-matrix`), so the lab shows the matrix.
pub fn opened_for_matrix(from: Option<&str>) -> bool {
    use labvisor_lessons::model::LabKind;
    from.and_then(|id| crate::lesson::lessons().iter().find(|l| l.id == id))
        .is_some_and(|l| l.lab.lab_kind() == Some(LabKind::NetMatrix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::NetEdit;
    use labvisor_core::net::sim::Action;
    use labvisor_core::net::vbox::Mode;

    fn matrix(name: &str, edits: &[NetEdit]) -> Matrix {
        let lab = super::super::load(name, edits).expect("loads");
        reach::matrix(&lab.network).expect("a few machines")
    }

    #[test]
    fn lessons_4_and_10_open_the_matrix_and_the_others_do_not() {
        let matrix_lessons: Vec<&str> = crate::lesson::lessons()
            .iter()
            .filter(|l| opened_for_matrix(Some(&l.id)))
            .map(|l| l.id.as_str())
            .collect();
        assert_eq!(
            matrix_lessons,
            ["virtualbox-network-modes", "host-only-nic"]
        );
        assert!(!opened_for_matrix(None));
        assert!(!opened_for_matrix(Some("no-such-lesson")));
    }

    #[test]
    fn lesson_4s_matrix_follows_the_nics_from_nat_to_the_nat_network() {
        let before = matrix("two-vms-modes", &[]);
        assert!(
            matches!(before.get("vm1", "vm2"), Some(Cell::No { .. })),
            "{:?}",
            before.get("vm1", "vm2")
        );
        assert!(matches!(
            before.get("vm1", "dns"),
            Some(Cell::Direct { .. })
        ));
        let to_nat_network = |vm: &str| {
            NetEdit::Act(Action::SetMode {
                vm: vm.into(),
                nic: "eth0".into(),
                mode: Mode::NatNetwork("NatNetwork".into()),
            })
        };
        let after = matrix(
            "two-vms-modes",
            &[to_nat_network("vm1"), to_nat_network("vm2")],
        );
        assert!(matches!(after.get("vm1", "vm2"), Some(Cell::Direct { .. })));
        assert!(matches!(after.get("vm2", "vm1"), Some(Cell::Direct { .. })));
        assert!(matches!(after.get("vm2", "dns"), Some(Cell::Direct { .. })));
    }

    #[test]
    fn every_cell_of_both_lessons_says_itself_in_both_languages() {
        for name in ["two-vms-modes", "host-only-second-nic"] {
            let m = matrix(name, &[]);
            for cell in m.cells.iter().flatten() {
                let (en, ko) = (cell.explain_in(Lang::En), cell.explain_in(Lang::Ko));
                let hangul = |s: &str| s.chars().any(|c| ('\u{ac00}'..='\u{d7a3}').contains(&c));
                assert!(!en.is_empty() && !hangul(&en), "{name}: {en}");
                assert!(hangul(&ko), "{name}: {ko}");
                assert!(!ko.contains("(를)") && !ko.contains("(가)"), "{ko}");
            }
        }
    }
}
