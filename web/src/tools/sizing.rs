//! Host sizing: sliders for the host and its VMs, and bars showing the host's reserve, each
//! VM's share and any overcommit. The plan itself is `labvisor_core::sizing::plan`.

use labvisor_core::lang::{Explain, Lang, Text};
use labvisor_core::sizing::{
    self, format_mib, Host, Percent, Plan, Policy, Problem, VmRequest, Warning,
};
use yew::prelude::*;

use super::common::{input_number, ToolPage};
use crate::app::{edit_lab, use_app, use_completion};
use crate::lab::{limits, SizingState, VmPlan, MAX_VMS};

/// The plan for the tool's state, by the core.
fn plan_of(s: &SizingState) -> Option<Plan> {
    let host = Host::new(s.host_cpus, s.host_ram_mib, None).ok()?;
    let vms: Vec<VmRequest> = s
        .vms
        .iter()
        .enumerate()
        .filter_map(|(i, vm)| {
            VmRequest::new(format!("vm{}", i + 1), vm.vcpus, vm.ram_mib, None).ok()
        })
        .collect();
    let policy = Policy {
        reserve: Percent::new(s.reserve_percent).ok()?,
        allow_ram_overcommit: s.allow_ram_overcommit,
    };
    Some(sizing::plan(&host, &vms, &policy))
}

/// The goal: the course's split of an 8-CPU host with the 20 % reserve: as many 1-vCPU VMs as
/// there are CPUs left, all fitting, without overcommit.
fn goal_met(s: &SizingState, plan: Option<&Plan>) -> bool {
    let Some(plan) = plan else { return false };
    s.host_cpus == 8
        && s.reserve_percent == 20
        && s.vms.iter().all(|vm| vm.vcpus == 1)
        && s.vms.len() as u64 == plan.available.cpus
        && plan.fits
        && plan.warnings.is_empty()
}

#[function_component]
pub fn SizingTool() -> Html {
    let app = use_app();
    let lang = app.lang;
    let s = app.lab.sizing.clone();
    let plan = plan_of(&s);
    let done = goal_met(&s, plan.as_ref());
    use_completion(super::activity_id(crate::route::ToolId::Sizing), done);

    let host_cpus = edit_lab(&app, |lab, e: InputEvent| {
        if let Some(v) = input_number::<u32>(&e) {
            lab.sizing.host_cpus = v.clamp(limits::HOST_CPUS.0, limits::HOST_CPUS.1);
        }
    });
    let host_ram = edit_lab(&app, |lab, e: InputEvent| {
        if let Some(gib) = input_number::<u64>(&e) {
            lab.sizing.host_ram_mib =
                (gib * 1024).clamp(limits::HOST_RAM_MIB.0, limits::HOST_RAM_MIB.1);
        }
    });
    let reserve = edit_lab(&app, |lab, e: InputEvent| {
        if let Some(v) = input_number::<u8>(&e) {
            lab.sizing.reserve_percent = v.clamp(limits::RESERVE.0, limits::RESERVE.1);
        }
    });
    let overcommit = edit_lab(&app, |lab, _: Event| {
        lab.sizing.allow_ram_overcommit = !lab.sizing.allow_ram_overcommit;
    });
    let add_vm = edit_lab(&app, |lab, _: MouseEvent| {
        if lab.sizing.vms.len() < MAX_VMS {
            let last = lab.sizing.vms.last().copied().unwrap_or(VmPlan {
                vcpus: 1,
                ram_mib: 2048,
            });
            lab.sizing.vms.push(last);
        }
    });
    let reset = edit_lab(&app, |lab, _: MouseEvent| {
        lab.sizing = SizingState::default()
    });

    html! {
        <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={done}>
            <div class="lv-sizing">
                <section class="lv-panel lv-sizing-controls" aria-labelledby="lv-host-title">
                    <h2 id="lv-host-title">{ HOST.get(lang) }</h2>
                    { slider(lang, "lv-host-cpus", CPUS, s.host_cpus.to_string(), limits::HOST_CPUS.0.to_string(),
                        limits::HOST_CPUS.1.to_string(), "1", s.host_cpus.to_string(), host_cpus) }
                    { slider(lang, "lv-host-ram", RAM, (s.host_ram_mib / 1024).to_string(),
                        (limits::HOST_RAM_MIB.0 / 1024).to_string(), (limits::HOST_RAM_MIB.1 / 1024).to_string(), "1",
                        format_mib(s.host_ram_mib), host_ram) }
                    { slider(lang, "lv-reserve", RESERVE, s.reserve_percent.to_string(), limits::RESERVE.0.to_string(),
                        limits::RESERVE.1.to_string(), "1", format!("{} %", s.reserve_percent), reserve) }
                    <label class="lv-check">
                        <input type="checkbox" checked={s.allow_ram_overcommit} onchange={overcommit} />
                        { ALLOW_OVERCOMMIT.get(lang) }
                    </label>
                    <h2>{ VMS.get(lang) }{ format!(" ({})", s.vms.len()) }</h2>
                    <ol class="lv-vm-list">
                        { for s.vms.iter().enumerate().map(|(i, vm)| vm_row(&app, lang, i, *vm)) }
                    </ol>
                    <div class="lv-row">
                        <button class="lv-button" onclick={add_vm} disabled={s.vms.len() >= MAX_VMS}>{ ADD_VM.get(lang) }</button>
                        <button class="lv-button lv-ghost" onclick={reset}>{ RESET.get(lang) }</button>
                    </div>
                </section>
                if let Some(plan) = &plan {
                    { plan_view(lang, &s, plan) }
                }
            </div>
        </ToolPage>
    }
}

#[allow(clippy::too_many_arguments)]
fn slider(
    lang: Lang,
    id: &'static str,
    label: Text,
    value: String,
    min: String,
    max: String,
    step: &'static str,
    shown: String,
    oninput: Callback<InputEvent>,
) -> Html {
    html! {
        <div class="lv-slider">
            <label class="lv-label" for={id}>{ label.get(lang) }<output for={id} class="lv-mono">{ shown.clone() }</output></label>
            <input id={id} type="range" class="lv-range" {min} {max} {step} {value} {oninput} aria-valuetext={shown} />
        </div>
    }
}

fn vm_row(app: &crate::app::AppHandle, lang: Lang, i: usize, vm: VmPlan) -> Html {
    let cpus = edit_lab(app, move |lab, e: InputEvent| {
        if let (Some(v), Some(vm)) = (input_number::<u32>(&e), lab.sizing.vms.get_mut(i)) {
            vm.vcpus = v.clamp(limits::VM_CPUS.0, limits::VM_CPUS.1);
        }
    });
    let ram = edit_lab(app, move |lab, e: InputEvent| {
        if let (Some(v), Some(vm)) = (input_number::<u64>(&e), lab.sizing.vms.get_mut(i)) {
            vm.ram_mib = v.clamp(limits::VM_RAM_MIB.0, limits::VM_RAM_MIB.1);
        }
    });
    let remove = edit_lab(app, move |lab, _: MouseEvent| {
        if i < lab.sizing.vms.len() {
            lab.sizing.vms.remove(i);
        }
    });
    let name = format!("VM {}", i + 1);
    let cpu_id = format!("lv-vm{i}-cpus");
    let ram_id = format!("lv-vm{i}-ram");
    html! {
        <li class="lv-vm-row">
            <span class="lv-vm-name" aria-hidden="true"><span class="lv-swatch lv-swatch-vm"></span>{ name.clone() }</span>
            <label class="lv-vm-field" for={cpu_id.clone()}>
                <span class="lv-vm-value">{ format!("{} vCPU", vm.vcpus) }</span>
                <input id={cpu_id} type="range" class="lv-range" min="1" max="8" step="1" value={vm.vcpus.to_string()}
                    oninput={cpus} aria-label={format!("{name} {}", VCPUS.get(lang))} aria-valuetext={format!("{} vCPU", vm.vcpus)} />
            </label>
            <label class="lv-vm-field" for={ram_id.clone()}>
                <span class="lv-vm-value">{ format_mib(vm.ram_mib) }</span>
                <input id={ram_id} type="range" class="lv-range" min="512" max="16384" step="512" value={vm.ram_mib.to_string()}
                    oninput={ram} aria-label={format!("{name} {}", RAM.get(lang))} aria-valuetext={format_mib(vm.ram_mib)} />
            </label>
            <button class="lv-icon-button" onclick={remove} aria-label={format!("{} {name}", REMOVE.get(lang))} title={REMOVE.get(lang)}>{ "×" }</button>
        </li>
    }
}

fn plan_view(lang: Lang, s: &SizingState, plan: &Plan) -> Html {
    let cpu_parts: Vec<u64> = s.vms.iter().map(|vm| u64::from(vm.vcpus)).collect();
    let ram_parts: Vec<u64> = s.vms.iter().map(|vm| vm.ram_mib).collect();
    let (verdict_class, icon, verdict) = if plan.fits {
        ("lv-verdict lv-verdict-ok", "✓", FITS.get(lang))
    } else {
        ("lv-verdict lv-verdict-bad", "✗", NO_FIT.get(lang))
    };
    html! {
        <section class="lv-panel lv-sizing-plan" aria-labelledby="lv-plan-title">
            <h2 id="lv-plan-title">{ PLAN.get(lang) }</h2>
            <p class={verdict_class} role="status"><span aria-hidden="true">{ icon }</span>{ " " }{ verdict }</p>
            { bar(lang, CPUS, u64::from(s.host_cpus), plan.reserve.cpus, &cpu_parts, |n| format!("{n}")) }
            { bar(lang, RAM, s.host_ram_mib, plan.reserve.ram_mib, &ram_parts, format_mib) }
            <ul class="lv-legend" aria-label={LEGEND.get(lang)}>
                <li><span class="lv-swatch lv-swatch-reserve"></span>{ RESERVED.get(lang) }</li>
                <li><span class="lv-swatch lv-swatch-vm"></span>{ VMS.get(lang) }</li>
                <li><span class="lv-swatch lv-swatch-free"></span>{ FREE.get(lang) }</li>
                <li><span class="lv-swatch lv-swatch-over"></span>{ OVER.get(lang) }</li>
            </ul>
            <dl class="lv-facts">
                <div class="lv-fact"><dt>{ RESERVED.get(lang) }</dt>
                    <dd class="lv-mono">{ format!("{} CPU · {}", plan.reserve.cpus, format_mib(plan.reserve.ram_mib)) }</dd></div>
                <div class="lv-fact"><dt>{ AVAILABLE.get(lang) }</dt>
                    <dd class="lv-mono">{ format!("{} CPU · {}", plan.available.cpus, format_mib(plan.available.ram_mib)) }</dd></div>
                <div class="lv-fact"><dt>{ REQUESTED.get(lang) }</dt>
                    <dd class="lv-mono">{ format!("{} vCPU · {}", plan.requested.cpus, format_mib(plan.requested.ram_mib)) }</dd></div>
                <div class="lv-fact"><dt>{ LEFT.get(lang) }</dt>
                    <dd class="lv-mono">{ format!("{} CPU · {}", plan.left.cpus, format_mib(plan.left.ram_mib)) }</dd></div>
            </dl>
            if !plan.problems.is_empty() || !plan.warnings.is_empty() {
                <ul class="lv-issues">
                    { for plan.problems.iter().map(|p| html! {
                        <li class="lv-issue lv-issue-bad"><strong>{ ERROR.get(lang) }</strong>{ " " }{ problem_text(lang, p) }</li>
                    }) }
                    { for plan.warnings.iter().map(|w| html! {
                        <li class="lv-issue lv-issue-warn"><strong>{ WARNING.get(lang) }</strong>{ " " }{ warning_text(lang, w) }</li>
                    }) }
                </ul>
            }
            if let Some(split) = plan.even_split {
                <p class="lv-note">{ match lang {
                    Lang::En => format!("The course's split: {} VMs of {} vCPU and {} each.", split.vms, split.vcpus_each, format_mib(split.ram_mib_each)),
                    Lang::Ko => format!("강의의 방식대로 나누면: vCPU {}개, 메모리 {}인 VM {}대.", split.vcpus_each, format_mib(split.ram_mib_each), split.vms),
                } }</p>
            }
        </section>
    }
}

/// One resource as a bar: the host's reserve, each VM, what is free, and what is promised
/// beyond the host (hatched as well as coloured, so it reads without colour).
fn bar(
    lang: Lang,
    label: Text,
    host: u64,
    reserve: u64,
    vms: &[u64],
    fmt: impl Fn(u64) -> String,
) -> Html {
    let used = reserve + vms.iter().sum::<u64>();
    let scale = used.max(host).max(1) as f64;
    let pct = |n: u64| n as f64 / scale * 100.0;
    let mut segments = vec![html! {
        <div class="lv-seg lv-seg-reserve" style={format!("width: {:.3}%", pct(reserve))}
            title={format!("{}: {}", RESERVED.get(lang), fmt(reserve))}></div>
    }];
    let mut at = reserve;
    for (i, &n) in vms.iter().enumerate() {
        let inside = n.min(host.saturating_sub(at));
        let beyond = n - inside;
        let name = format!("VM {}", i + 1);
        if inside > 0 {
            segments.push(html! {
                <div class={classes!("lv-seg", "lv-seg-vm", (i % 2 == 1).then_some("lv-seg-alt"))}
                    style={format!("width: {:.3}%", pct(inside))} title={format!("{name}: {}", fmt(n))}></div>
            });
        }
        if beyond > 0 {
            segments.push(html! {
                <div class="lv-seg lv-seg-over" style={format!("width: {:.3}%", pct(beyond))}
                    title={format!("{name}: {} {}", fmt(beyond), OVER.get(lang))}></div>
            });
        }
        at += n;
    }
    if used < host {
        segments.push(html! {
            <div class="lv-seg lv-seg-free" style={format!("width: {:.3}%", pct(host - used))}></div>
        });
    }
    let summary = match lang {
        Lang::En => format!(
            "{}: host {}, reserve {}, VMs {}",
            label.get(lang),
            fmt(host),
            fmt(reserve),
            fmt(used - reserve)
        ),
        Lang::Ko => format!(
            "{}: 호스트 {}, 예약 {}, VM {}",
            label.get(lang),
            fmt(host),
            fmt(reserve),
            fmt(used - reserve)
        ),
    };
    html! {
        <figure class="lv-bar-figure">
            <figcaption class="lv-bar-caption">
                <span>{ label.get(lang) }</span>
                <span class="lv-mono lv-muted">{ format!("{} / {}", fmt(used), fmt(host)) }</span>
            </figcaption>
            <div class="lv-bar" role="img" aria-label={summary}>
                { for segments }
                if used > host {
                    <div class="lv-bar-host-line" style={format!("left: {:.3}%", pct(host))} aria-hidden="true"></div>
                }
            </div>
        </figure>
    }
}

/// A problem as the plan shows it (after the "Error:" label): the core's sentence.
pub fn problem_text(lang: Lang, p: &Problem) -> String {
    p.explain_in(lang)
}

/// A warning as the plan shows it (after the "Warning:" label): the core's sentence.
pub fn warning_text(lang: Lang, w: &Warning) -> String {
    w.explain_in(lang)
}

const TITLE: Text = Text::new("Host sizing", "호스트 자원 배분");
const INTRO: Text = Text::new(
    "The course's rule: keep 20 % of the logical CPUs and of the RAM for the host (rounded up), share the rest among the VMs. Move the sliders and watch the plan.",
    "강의의 규칙: 논리 CPU와 메모리의 20 %를 호스트용으로 남기고(올림), 나머지를 VM에 나눠 줍니다. 슬라이더를 움직이며 계획을 확인하세요.",
);
const GOAL: Text = Text::new(
    "On the course's 8-CPU host with a 20 % reserve, run as many 1-vCPU VMs as fit without overcommitting anything.",
    "강의의 8 CPU 호스트(예약 20 %)에서, 아무것도 오버커밋하지 않고 vCPU 1개짜리 VM을 최대한 많이 올려 보세요.",
);
const HOST: Text = Text::new("Host", "호스트");
const CPUS: Text = Text::new("Logical CPUs", "논리 CPU");
const VCPUS: Text = Text::new("vCPUs", "vCPU");
const RAM: Text = Text::new("RAM", "메모리");
const RESERVE: Text = Text::new("Host reserve", "호스트 예약");
const ALLOW_OVERCOMMIT: Text = Text::new("Allow RAM overcommit", "메모리 오버커밋 허용");
const VMS: Text = Text::new("VMs", "VM");
const ADD_VM: Text = Text::new("Add a VM", "VM 추가");
const REMOVE: Text = Text::new("Remove", "삭제");
const RESET: Text = Text::new("Reset", "초기화");
const PLAN: Text = Text::new("Plan", "계획");
const FITS: Text = Text::new("The VMs fit.", "VM이 모두 들어갑니다.");
const NO_FIT: Text = Text::new("The VMs do not fit.", "VM이 들어가지 않습니다.");
const LEGEND: Text = Text::new("Legend", "범례");
const RESERVED: Text = Text::new("Host reserve", "호스트 예약");
const FREE: Text = Text::new("Free", "여유");
const OVER: Text = Text::new("Overcommitted", "오버커밋");
const AVAILABLE: Text = Text::new("Left for VMs", "VM에 쓸 수 있는 양");
const REQUESTED: Text = Text::new("Requested by VMs", "VM 요청 합계");
const LEFT: Text = Text::new("Still free", "남은 양");
const ERROR: Text = Text::new("Error:", "오류:");
const WARNING: Text = Text::new("Warning:", "경고:");
