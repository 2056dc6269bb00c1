//! The type 1 / type 2 sorter: every product in the core's catalog, sorted by the learner,
//! graded by `labvisor_core::hypervisor::grade`, with the precise note on each.
//!
//! Sorting is done with buttons on each card (no drag and drop), so it works the same with a
//! keyboard, a screen reader or a touch screen.

use labvisor_core::hypervisor::{self, HardwareAssist, Kind, Technique};
use labvisor_core::lang::{Lang, Text};
use yew::prelude::*;

use super::common::ToolPage;
use crate::app::{edit_lab, use_app, use_completion};
use crate::lab::SorterState;

/// The bin id stored in the lab state for each kind (read back with [`Kind::parse`]).
fn bin_id(kind: Kind) -> &'static str {
    match kind {
        Kind::Type1 => "type1",
        Kind::Type2 => "type2",
        Kind::KvmVmm => "vmm",
    }
}

/// Where the learner put `product`, if anywhere.
fn placed(state: &SorterState, product: &str) -> Option<Kind> {
    state.placed.get(product).and_then(|b| Kind::parse(b).ok())
}

/// The goal: every product sorted, every one right.
fn all_correct(state: &SorterState) -> bool {
    hypervisor::quiz().iter().all(|q| {
        placed(state, q.product)
            .and_then(|k| hypervisor::grade(q.product, k).ok())
            .is_some_and(|v| v.correct)
    })
}

#[function_component]
pub fn HypervisorTool() -> Html {
    let app = use_app();
    let lang = app.lang;
    let state = app.lab.hypervisors.clone();
    let done = all_correct(&state);
    use_completion(super::activity_id(crate::route::ToolId::Hypervisors), done);
    let quiz = hypervisor::quiz();
    let unsorted: Vec<_> = quiz
        .iter()
        .filter(|q| placed(&state, q.product).is_none())
        .collect();
    let correct = quiz
        .iter()
        .filter(|q| {
            placed(&state, q.product)
                .and_then(|k| hypervisor::grade(q.product, k).ok())
                .is_some_and(|v| v.correct)
        })
        .count();
    let reset = edit_lab(&app, |lab, _: MouseEvent| {
        lab.hypervisors = SorterState::default()
    });

    html! {
        <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={done}>
            <p class="lv-score" role="status">
                { match lang {
                    Lang::En => format!("{correct} of {} sorted correctly", quiz.len()),
                    Lang::Ko => format!("{}개 중 {correct}개 정답", quiz.len()),
                } }
                <button class="lv-button lv-ghost lv-small" onclick={reset}>{ RESET.get(lang) }</button>
            </p>
            if !unsorted.is_empty() {
                <section class="lv-panel" aria-labelledby="lv-unsorted-title">
                    <h2 id="lv-unsorted-title">{ UNSORTED.get(lang) }{ format!(" ({})", unsorted.len()) }</h2>
                    <ul class="lv-sort-pool" role="list">
                        { for unsorted.iter().map(|q| {
                            let product = q.product;
                            html! {
                                <li class="lv-sort-card">
                                    <span class="lv-sort-name">{ q.name }</span>
                                    <span class="lv-sort-actions" role="group" aria-label={format!("{} {}", SORT_INTO.get(lang), q.name)}>
                                        { for Kind::ALL.iter().map(|&kind| {
                                            let put = edit_lab(&app, move |lab, _: MouseEvent| {
                                                lab.hypervisors.placed.insert(product.to_string(), bin_id(kind).to_string());
                                            });
                                            html! {
                                                <button class={classes!("lv-chip", kind_class(kind))} onclick={put}>
                                                    { short_name(kind).get(lang) }
                                                </button>
                                            }
                                        }) }
                                    </span>
                                </li>
                            }
                        }) }
                    </ul>
                </section>
            }
            <div class="lv-bins">
                { for Kind::ALL.iter().map(|&kind| bin(&app, lang, &state, kind)) }
            </div>
            <section class="lv-panel" aria-labelledby="lv-techniques-title">
                <h2 id="lv-techniques-title">{ TECHNIQUES.get(lang) }</h2>
                <dl class="lv-techniques">
                    { for Technique::ALL.iter().map(|t| html! {
                        <div>
                            <dt>{ t.name().get(lang) }</dt>
                            <dd>{ t.explanation().get(lang) }</dd>
                        </div>
                    }) }
                </dl>
            </section>
        </ToolPage>
    }
}

fn kind_class(kind: Kind) -> &'static str {
    match kind {
        Kind::Type1 => "lv-kind-1",
        Kind::Type2 => "lv-kind-2",
        Kind::KvmVmm => "lv-kind-vmm",
    }
}

fn short_name(kind: Kind) -> Text {
    match kind {
        Kind::Type1 => Text::new("Type 1", "타입 1"),
        Kind::Type2 => Text::new("Type 2", "타입 2"),
        Kind::KvmVmm => Text::new("KVM VMM", "KVM VMM"),
    }
}

/// One bin: what the kind means, then the products put in it, each graded with its note.
fn bin(app: &crate::app::AppHandle, lang: Lang, state: &SorterState, kind: Kind) -> Html {
    let products: Vec<_> = hypervisor::catalog()
        .iter()
        .filter(|h| placed(state, h.id) == Some(kind))
        .collect();
    html! {
        <section class={classes!("lv-bin", kind_class(kind))} aria-labelledby={format!("lv-bin-{}", bin_id(kind))}>
            <h2 id={format!("lv-bin-{}", bin_id(kind))}>{ kind.name().get(lang) }</h2>
            <p class="lv-bin-help">{ kind.explanation().get(lang) }</p>
            <ul class="lv-bin-items" role="list">
                { for products.iter().map(|h| {
                    let verdict = hypervisor::grade(h.id, kind).ok();
                    let correct = verdict.is_some_and(|v| v.correct);
                    let id = h.id;
                    let undo = edit_lab(app, move |lab, _: MouseEvent| {
                        lab.hypervisors.placed.remove(id);
                    });
                    html! {
                        <li class={classes!("lv-verdict-card", if correct { "lv-right" } else { "lv-wrong" })}>
                            <div class="lv-verdict-head">
                                <span class="lv-verdict-icon" aria-hidden="true">{ if correct { "✓" } else { "✗" } }</span>
                                <strong>{ h.name }</strong>
                                <span class="lv-sr">{ if correct { RIGHT.get(lang) } else { WRONG.get(lang) } }</span>
                                <button class="lv-icon-button" onclick={undo}
                                    aria-label={format!("{} {}", TAKE_BACK.get(lang), h.name)} title={TAKE_BACK.get(lang)}>{ "↩" }</button>
                            </div>
                            if let Some(v) = verdict.filter(|v| !v.correct) {
                                <p class="lv-verdict-expected">{ EXPECTED.get(lang) }{ " " }<strong>{ v.expected.name().get(lang) }</strong></p>
                            }
                            <p class="lv-verdict-meta">
                                { h.vendor }{ " · " }{ h.host.get(lang) }{ " · " }
                                { match h.hardware_assist {
                                    HardwareAssist::Required => NEEDS_VTX.get(lang),
                                    HardwareAssist::Optional => OPTIONAL_VTX.get(lang),
                                } }
                            </p>
                            <p>{ h.note.get(lang) }</p>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}

const TITLE: Text = Text::new("Type 1 or type 2?", "타입 1일까, 타입 2일까?");
const INTRO: Text = Text::new(
    "Sort each product: type 1 runs on the bare hardware, type 2 runs as an application on a host OS, and a KVM-based VMM is the user-space half of a KVM hypervisor. Each answer comes with the precise story.",
    "각 제품을 분류하세요. 타입 1은 하드웨어 위에서 직접, 타입 2는 호스트 OS 위의 응용 프로그램으로 실행되며, KVM 기반 VMM은 KVM 하이퍼바이저의 사용자 공간 쪽입니다. 답마다 정확한 설명이 붙습니다.",
);
const GOAL: Text = Text::new(
    "Sort every product correctly.",
    "모든 제품을 올바르게 분류하세요.",
);
const UNSORTED: Text = Text::new("To sort", "분류할 제품");
const SORT_INTO: Text = Text::new("Sort", "분류:");
const RESET: Text = Text::new("Start over", "처음부터");
const RIGHT: Text = Text::new("correct", "정답");
const WRONG: Text = Text::new("not quite", "오답");
const EXPECTED: Text = Text::new("It is", "정답은");
const TAKE_BACK: Text = Text::new("Take back", "되돌리기");
const NEEDS_VTX: Text = Text::new("needs VT-x/AMD-V", "VT-x/AMD-V 필요");
const OPTIONAL_VTX: Text = Text::new("VT-x/AMD-V optional", "VT-x/AMD-V 선택");
const TECHNIQUES: Text = Text::new("How VMs are made to work", "가상화를 가능하게 하는 기법");
