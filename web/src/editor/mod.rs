//! The step editor of exercises answered with a list of actions (host sizing, NIC modes, port
//! forwarding, disks).
//!
//! The learner's steps read as sentences they can reorder and remove; below them, a form per
//! exercise kind offers only the steps that kind takes, its choices filled from the exercise
//! (VM names, NIC numbers, disks). Fields are checked by the same code that checks them
//! elsewhere (the core's forwarding-rule parser and conflict rules, the lessons' size parser),
//! and the messages stand at the field.
//!
//! The editor keeps no steps of its own: it reads and writes the exercise's draft, a JSON list
//! of actions, so share links, storage and grading see exactly what the JSON box would hold.
//!
//! One way to edit is primary: the step list and the forms under it (a rule is one line). The
//! JSON box is an "Advanced" disclosure at the end, closed until opened; while it is open the
//! forms step aside (the list stays, reading out what the JSON says), so a learner never has
//! three editors of the same steps in front of them.

use std::rc::Rc;

use labvisor_core::disk::image::Allocation;
use labvisor_core::lang::particle::{eul_reul, euro_ro, i_ga};
use labvisor_core::lang::{Lang, Text};
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::packet::Proto;
use labvisor_core::net::vbox::Mode;
use labvisor_core::sizing::{self, format_mib};
use labvisor_lessons::action::{lesson_mode, lesson_modes, mode_name, Action, ForwardStep};
use labvisor_lessons::model::{HostSpec, NetworkSpec, Spec};
use yew::prelude::*;

use crate::app::use_app;
use crate::lab::MAX_DRAFT;
use crate::tools::common::input_value;

/// Most steps a draft holds (the draft must also stay within [`MAX_DRAFT`] characters).
pub const MAX_STEPS: usize = 16;

/// The steps a draft holds; a blank draft holds none.
pub fn parse(draft: &str) -> Result<Vec<Action>, String> {
    if draft.trim().is_empty() {
        return Ok(Vec::new());
    }
    // JSON only: the TOML reader of `parse_actions_file` stays out of the browser.
    labvisor_lessons::action::parse_actions_json("actions.json", draft)
        .map(|file| file.actions().to_vec())
}

/// The draft holding `steps`: a JSON list with one step per line (blank when there are none).
pub fn write(steps: &[Action]) -> String {
    if steps.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = steps
        .iter()
        .map(|s| format!("  {}", serde_json::to_string(s).unwrap_or_default()))
        .collect();
    format!("[\n{}\n]", lines.join(",\n"))
}

/// Formats the English or the Korean sentence, capturing variables by name.
macro_rules! say {
    ($lang:expr, $en:literal, $ko:literal) => {
        match $lang {
            Lang::En => format!($en),
            Lang::Ko => format!($ko),
        }
    };
}

// After `say!`, which they use.
mod form;
mod forms;
pub mod rule_input;
use form::*;
use forms::*;

/// A step as a sentence in `lang`.
pub fn sentence(lang: Lang, step: &Action) -> String {
    match step {
        Action::Answer(a) => say!(lang, "Answer: {a}", "답: {a}"),
        Action::AddVm {
            name,
            vcpus,
            ram_mib,
        } => {
            let ram = format_mib(*ram_mib);
            say!(
                lang,
                "Plan {name} with {vcpus} vCPU and {ram} of RAM",
                "{name} 계획: vCPU {vcpus}개, 메모리 {ram}"
            )
        }
        Action::SetMode { vm, nic, mode } => {
            let mode = mode_text(mode).get(lang);
            let nic_object = eul_reul(nic);
            say!(
                lang,
                "Attach NIC {nic} of {vm} to {mode}",
                "{vm}의 NIC {nic_object} {mode}에 연결"
            )
        }
        Action::AddNic { vm, mode } => {
            let mode = mode_text(mode).get(lang);
            say!(
                lang,
                "Add a NIC to {vm}, attached to {mode}",
                "{vm}에 NIC을 추가해 {mode}에 연결"
            )
        }
        Action::AddForward(ForwardStep { rule: r, vm }) => {
            let (name, proto, hp, gp) = (&r.name, proto_text(r.proto), r.host_port, r.guest_port);
            // Blank addresses: every address of the host; the guest's DHCP address.
            let hip = r.host_ip.map(|ip| format!("{ip} ")).unwrap_or_default();
            let gip = r
                .guest_ip
                .map_or_else(|| DHCP_ADDRESS.get(lang).to_string(), |ip| ip.to_string());
            let (hp_object, gp_to) = (eul_reul(hp), euro_ro(gp));
            let rule = say!(
                lang,
                "Forward {proto} host {hip}port {hp} to guest {gip} port {gp} (rule “{name}”)",
                "{proto} 호스트 {hip}포트 {hp_object} 게스트 {gip} 포트 {gp_to} 포워딩 (규칙 “{name}”)"
            );
            match vm {
                Some(vm) => say!(lang, "{rule}, on {vm}", "{rule}, {vm}에"),
                None => rule,
            }
        }
        Action::RemoveForward { name } => say!(
            lang,
            "Remove the forwarding rule “{name}”",
            "포워딩 규칙 “{name}” 삭제"
        ),
        Action::CreateDisk { vm, size, alloc } => {
            let alloc = alloc_text(*alloc).get(lang);
            say!(
                lang,
                "Create a {size} disk for {vm}, {alloc}",
                "{vm}에 {size} 디스크 만들기, {alloc}"
            )
        }
        Action::ZeroFreeSpace { vm } => say!(
            lang,
            "In {vm}, fill the free space with zeros (zerofree)",
            "{vm} 안에서 빈 공간을 0으로 채우기 (zerofree)"
        ),
        Action::Compact { vm } => say!(
            lang,
            "On the host, compact the image of {vm}",
            "호스트에서 {vm}의 이미지 압축"
        ),
        Action::Snapshot { vm } => say!(lang, "Take a snapshot of {vm}", "{vm}의 스냅샷 찍기"),
        Action::Backup { vm, to } => {
            let vm_object = eul_reul(vm);
            say!(lang, "Back up {vm} to {to}", "{vm_object} {to}에 백업")
        }
        Action::HostDiskFails => HOST_DISK_FAILS.get(lang).to_string(),
        Action::Restore { vm, from } => {
            say!(lang, "Restore {vm} from {from}", "{from}에서 {vm} 복원")
        }
    }
}

/// The attachment mode as VirtualBox's settings dialog names it.
fn mode_text(mode: &Mode) -> Text {
    match mode {
        Mode::Nat { .. } => Text::new("NAT", "NAT"),
        Mode::NatNetwork(_) => Text::new("NAT Network", "NAT 네트워크"),
        Mode::Bridged => Text::new("Bridged Adapter", "어댑터에 브리지"),
        Mode::HostOnly(_) => Text::new("Host-only Adapter", "호스트 전용 어댑터"),
        Mode::Internal(_) => Text::new("Internal Network", "내부 네트워크"),
        Mode::NotAttached => Text::new("Not attached", "연결되지 않음"),
    }
}

fn alloc_text(alloc: Allocation) -> Text {
    match alloc {
        Allocation::Dynamic => Text::new("dynamically allocated", "동적 할당"),
        Allocation::Fixed => Text::new("fixed size", "고정 크기"),
    }
}

/// The allocation as a choice standing alone.
fn alloc_choice(alloc: Allocation) -> Text {
    match alloc {
        Allocation::Dynamic => Text::new("Dynamically allocated", "동적 할당"),
        Allocation::Fixed => Text::new("Fixed size", "고정 크기"),
    }
}

fn proto_text(proto: Proto) -> &'static str {
    match proto {
        Proto::Tcp => "TCP",
        Proto::Udp => "UDP",
        Proto::Icmp => "ICMP",
    }
}

// --- the editor -------------------------------------------------------------------------------

#[derive(Clone, PartialEq, Properties)]
pub struct ActionEditorProps {
    /// The exercise: what the forms offer.
    pub spec: Spec,
    /// Prefix of the editor's element ids.
    pub id: AttrValue,
    /// The learner's draft.
    pub draft: AttrValue,
    /// The steps taken before the learner's (a troubleshooting exercise's broken lab).
    #[prop_or_default]
    pub setup: Rc<Vec<Action>>,
    /// Receives the new draft.
    pub on_change: Callback<String>,
}

/// What a step's own buttons do to it.
#[derive(Clone, Copy)]
enum StepEdit {
    Up,
    Down,
    Remove,
    /// Into the forms, to be changed and put back in its place.
    Change,
    /// Leave the step as it was.
    KeepAsItWas,
}

/// The learner's steps and the forms that add them, with the JSON behind them one click away.
#[function_component]
pub fn ActionEditor(props: &ActionEditorProps) -> Html {
    let lang = use_app().lang;
    let form = use_reducer(Form::default);
    let said = use_state(String::new);
    // Set when a step was refused for want of room (a long step can overflow the draft
    // before the step count does); cleared by the next change.
    let overflow = use_state(|| false);
    // Focus to restore once the new draft has rendered (the pressed button may have moved or
    // gone).
    let focus_after = use_mut_ref(|| None::<String>);
    let root = use_node_ref();
    {
        let (focus_after, root) = (focus_after.clone(), root.clone());
        use_effect(move || {
            if let (Some(id), Some(root)) = (focus_after.borrow_mut().take(), root.cast()) {
                focus_within(&root, &id);
            }
        });
    }
    // The step being changed, by place and content: if the draft changes under it (Reset, Show
    // solution, the JSON box) so that another step stands there, nothing is being changed.
    let editing = use_state(|| None::<(usize, Action)>);
    // The JSON box, once opened, stays open until the learner closes it.
    let json_open = use_state(|| false);
    let id = props.id.to_string();
    let parsed = parse(&props.draft);
    let steps = parsed.clone().unwrap_or_default();
    // A step being changed stays in the list (nothing is lost if the learner leaves), and the
    // forms judge the new version against the other steps.
    let editing_at = editing
        .as_ref()
        .filter(|(i, step)| steps.get(*i) == Some(step))
        .map(|(i, _)| *i);
    {
        // The draft changed under a step being changed: drop the change and give the form back.
        let (editing, form) = (editing.clone(), form.clone());
        let stale = editing.is_some() && editing_at.is_none();
        use_effect_with(stale, move |&stale| {
            if stale {
                form.dispatch(FormMsg::Restore);
                editing.set(None);
            }
        });
    }
    let others: Vec<Action> = steps
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != editing_at)
        .map(|(_, s)| s.clone())
        .collect();
    let handles = Handles {
        form: form.clone(),
        said: said.clone(),
        overflow: overflow.clone(),
        focus_after,
        editing: editing.clone(),
        on_change: props.on_change.clone(),
    };
    let add = {
        let (handles, steps, id) = (handles.clone(), steps.clone(), id.clone());
        Callback::from(move |added| handles.add(&steps, editing_at, added, lang, &id))
    };
    let reorder = {
        let (steps, id) = (steps.clone(), id.clone());
        Callback::from(move |edit| handles.step_edit(&steps, editing_at, edit, lang, &id))
    };
    let ordered = !matches!(props.spec, Spec::HostSizing { .. } | Spec::DiskFit { .. });
    let room = parsed.is_ok()
        && (editing_at.is_some() || {
            let mut more = steps.clone();
            more.push(Action::HostDiskFails);
            fits(&more)
        });
    let ctx = Ctx {
        id: &id,
        lang,
        form: &form,
        add: &add,
        room,
        editing: editing_at,
        setup: &props.setup,
    };
    let list = StepList {
        lang,
        id: &id,
        steps: &steps,
        editing_at,
        ordered,
        reorder: &reorder,
    };
    html! {
        <div class="lv-editor" ref={root}>
            <h3 id={format!("{id}-steps")} tabindex="-1">{ STEPS.get(lang) }</h3>
            if let Err(e) = &parsed {
                <p class="lv-field-error" role="alert">{ JSON_BROKEN.get(lang) }<br /><span class="lv-mono">{ e.clone() }</span></p>
            } else if steps.is_empty() {
                <p class="lv-muted lv-steps-empty">{ NO_STEPS.get(lang) }</p>
            } else {
                { list.view() }
            }
            <p class="lv-sr" aria-live="polite">{ (*said).clone() }</p>
            if *json_open && parsed.is_ok() {
                <p class="lv-muted lv-small-text lv-forms-aside">{ FORMS_ASIDE.get(lang) }</p>
            } else if parsed.is_ok() {
                <h3>{ ADD_STEP.get(lang) }</h3>
                if !room || *overflow {
                    <p class="lv-field-error lv-steps-full" role="status">{ say!(lang,
                        "That is as much as an exercise keeps (at most {MAX_STEPS} steps and {MAX_DRAFT} characters of JSON): remove a step first.",
                        "한 문제에 담을 수 있는 양은 여기까지입니다(단계 최대 {MAX_STEPS}개, JSON {MAX_DRAFT}자). 먼저 단계를 하나 지우세요.") }</p>
                }
                { forms(&ctx, &props.spec, &others) }
            }
            <JsonBox id={id.clone()} draft={props.draft.clone()} broken={parsed.is_err()} open={json_open} on_change={props.on_change.clone()} />
        </div>
    }
}

/// Whether `steps` fit in a draft.
fn fits(steps: &[Action]) -> bool {
    steps.len() <= MAX_STEPS && write(steps).len() <= MAX_DRAFT
}

/// The editor's state, as its callbacks change it.
#[derive(Clone)]
struct Handles {
    form: UseReducerHandle<Form>,
    /// What the last change did, for screen readers.
    said: UseStateHandle<String>,
    /// Set when a step was refused for want of room.
    overflow: UseStateHandle<bool>,
    /// Focus to restore once the new draft has rendered.
    focus_after: Rc<std::cell::RefCell<Option<String>>>,
    /// The step being changed, by place and content.
    editing: UseStateHandle<Option<(usize, Action)>>,
    /// Receives the new draft.
    on_change: Callback<String>,
}

impl Handles {
    /// Writes `steps` as the draft, announcing `news` and moving focus to `focus` once the
    /// new draft has rendered.
    fn commit(&self, steps: &[Action], news: String, focus: Option<String>) {
        *self.focus_after.borrow_mut() = focus;
        self.overflow.set(false);
        self.said.set(news);
        self.on_change.emit(write(steps));
    }

    /// Adds `step` (or puts it in place of the step being changed) when it fits the draft,
    /// then clears the fields that made it.
    fn add(
        &self,
        steps: &[Action],
        editing_at: Option<usize>,
        (step, clear): (Action, &'static [Field]),
        lang: Lang,
        id: &str,
    ) {
        let (next, news, focus) = placed(steps, editing_at, step, lang, id);
        if fits(&next) {
            self.form.dispatch(match editing_at {
                Some(_) => FormMsg::Restore,
                None => FormMsg::Added(clear),
            });
            self.editing.set(None);
            self.commit(&next, news, focus);
        } else {
            self.overflow.set(true);
        }
    }

    /// A step's own button: into the forms to be changed, back as it was, moved or removed.
    fn step_edit(
        &self,
        steps: &[Action],
        editing_at: Option<usize>,
        (i, how): (usize, StepEdit),
        lang: Lang,
        id: &str,
    ) {
        let at = i + 1;
        match how {
            StepEdit::Change => {
                if let Some(fields) = steps.get(i).and_then(fields_of) {
                    *self.focus_after.borrow_mut() = Some(format!("{id}-{}", fields[0].0.id()));
                    self.form.dispatch(FormMsg::Load(fields));
                    self.editing.set(Some((i, steps[i].clone())));
                    let step_is = i_ga(at);
                    self.said.set(say!(
                        lang,
                        "Step {at} is in the form below: change it, then replace it.",
                        "단계 {step_is} 아래 양식에 있습니다. 고친 다음 바꾸기를 누르세요."
                    ));
                }
                return;
            }
            StepEdit::KeepAsItWas => {
                *self.focus_after.borrow_mut() = Some(format!("{id}-s{i}-edit"));
                self.form.dispatch(FormMsg::Restore);
                self.editing.set(None);
                let step_object = eul_reul(at);
                self.said.set(say!(
                    lang,
                    "Step {at} kept as it was",
                    "단계 {step_object} 그대로 둠"
                ));
                return;
            }
            _ => {
                if editing_at.is_some() {
                    self.form.dispatch(FormMsg::Restore);
                }
                self.editing.set(None);
            }
        }
        if let Some((next, news, focus)) = moved(steps, i, how, lang, id) {
            self.commit(&next, news, Some(focus));
        }
    }
}

/// The learner's steps as a list of sentences, each with the buttons that change, move and
/// remove it.
struct StepList<'a> {
    lang: Lang,
    id: &'a str,
    steps: &'a [Action],
    /// The step being changed in the forms below.
    editing_at: Option<usize>,
    /// Whether the steps' order matters (then each can move up and down).
    ordered: bool,
    reorder: &'a Callback<(usize, StepEdit)>,
}

impl StepList<'_> {
    fn view(&self) -> Html {
        html! {
            <ol class="lv-steps">
                { for self.steps.iter().enumerate().map(|(i, step)| self.item(i, step)) }
            </ol>
        }
    }

    fn item(&self, i: usize, step: &Action) -> Html {
        let (lang, id, editing_at, ordered, reorder) = (
            self.lang,
            self.id,
            self.editing_at,
            self.ordered,
            self.reorder,
        );
        let n = self.steps.len();
        let text = sentence(lang, step);
        let at = i + 1;
        let changing = editing_at == Some(i);
        html! {
            <li class={classes!("lv-step", changing.then_some("lv-step-editing"))}>
                <span class="lv-step-text">{ text }
                    if changing { <em class="lv-step-mark">{ say!(lang, " (being changed below)", " (아래에서 고치는 중)") }</em> }
                </span>
                <span class="lv-step-tools">
                    if fields_of(step).is_some() {
                        if changing {
                            <button type="button" class="lv-button lv-ghost lv-small" id={format!("{id}-s{i}-keep")}
                                onclick={reorder.reform(move |_: MouseEvent| (i, StepEdit::KeepAsItWas))}>{ say!(lang, "Keep as it was", "그대로 두기") }</button>
                        }
                        <button type="button" class="lv-icon-button" id={format!("{id}-s{i}-edit")}
                            aria-label={say!(lang, "Change step {at}", "단계 {at} 고치기")} title={CHANGE.get(lang)}
                            aria-pressed={changing.then_some("true")}
                            onclick={reorder.reform(move |_: MouseEvent| (i, StepEdit::Change))}>{ "✎" }</button>
                    }
                    if ordered {
                        <button type="button" class="lv-icon-button" id={format!("{id}-s{i}-up")} disabled={i == 0}
                            aria-label={say!(lang, "Move step {at} up", "단계 {at} 위로")}
                            onclick={reorder.reform(move |_: MouseEvent| (i, StepEdit::Up))}>{ "↑" }</button>
                        <button type="button" class="lv-icon-button" id={format!("{id}-s{i}-down")} disabled={at == n}
                            aria-label={say!(lang, "Move step {at} down", "단계 {at} 아래로")}
                            onclick={reorder.reform(move |_: MouseEvent| (i, StepEdit::Down))}>{ "↓" }</button>
                    }
                    <button type="button" class="lv-icon-button lv-step-remove" id={format!("{id}-s{i}-rm")}
                        aria-label={say!(lang, "Remove step {at}", "단계 {at} 삭제")} title={REMOVE.get(lang)}
                        onclick={reorder.reform(move |_: MouseEvent| (i, StepEdit::Remove))}>{ "×" }</button>
                </span>
            </li>
        }
    }
}

/// `step` put in place: replacing the step being changed, else added at the end; with what to
/// announce and where focus goes.
fn placed(
    steps: &[Action],
    editing_at: Option<usize>,
    step: Action,
    lang: Lang,
    id: &str,
) -> (Vec<Action>, String, Option<String>) {
    let mut next = steps.to_vec();
    match editing_at {
        Some(i) => {
            let at = i + 1;
            let what = sentence(lang, &step);
            next[i] = step;
            let step_object = eul_reul(at);
            let news = say!(
                lang,
                "Step {at} is now: {what}",
                "단계 {step_object} 바꿈: {what}"
            );
            (next, news, Some(format!("{id}-s{i}-edit")))
        }
        None => {
            let news = format!(
                "{} {}: {}",
                ADDED.get(lang),
                steps.len() + 1,
                sentence(lang, &step)
            );
            next.push(step);
            (next, news, None)
        }
    }
}

/// The steps with step `i` moved up, down or removed; with what to announce and where focus
/// goes. `None` when the step cannot move that way.
fn moved(
    steps: &[Action],
    i: usize,
    how: StepEdit,
    lang: Lang,
    id: &str,
) -> Option<(Vec<Action>, String, String)> {
    let mut next = steps.to_vec();
    let n = next.len();
    Some(match how {
        StepEdit::Up if i > 0 && i < n => {
            next.swap(i, i - 1);
            let button = if i == 1 { "down" } else { "up" };
            let news = say!(lang, "Step moved up to {i}", "단계를 {i}번으로 올림");
            (next, news, format!("{id}-s{}-{button}", i - 1))
        }
        StepEdit::Down if i + 1 < n => {
            next.swap(i, i + 1);
            let button = if i + 2 == n { "up" } else { "down" };
            let to = i + 2;
            let news = say!(lang, "Step moved down to {to}", "단계를 {to}번으로 내림");
            (next, news, format!("{id}-s{}-{button}", i + 1))
        }
        StepEdit::Remove if i < n => {
            next.remove(i);
            let focus = match next.len() {
                0 => format!("{id}-steps"),
                left => format!("{id}-s{}-rm", i.min(left - 1)),
            };
            let step = i + 1;
            let step_object = eul_reul(step);
            let news = say!(lang, "Step {step} removed", "단계 {step_object} 삭제함");
            (next, news, focus)
        }
        _ => return None,
    })
}

/// Properties of the JSON box.
#[derive(Clone, PartialEq, Properties)]
struct JsonBoxProps {
    /// The editor's id; the box is `{id}-json`.
    id: AttrValue,
    /// The draft as it stands.
    draft: AttrValue,
    /// Whether the draft does not read (then the box stays open).
    broken: bool,
    /// Whether the learner opened the box (the editor hides its forms meanwhile).
    open: UseStateHandle<bool>,
    /// Receives the draft as typed.
    on_change: Callback<String>,
}

/// The draft as JSON, to read or type: the advanced way, closed until opened. Kept open once
/// opened (or forced open by a broken draft), so that mending the JSON does not fold the box
/// away under the cursor.
#[function_component]
fn JsonBox(props: &JsonBoxProps) -> Html {
    let lang = use_app().lang;
    let json_id = format!("{}-json", props.id);
    let on_toggle = {
        let open = props.open.clone();
        Callback::from(move |e: Event| {
            open.set(
                e.target_unchecked_into::<web_sys::Element>()
                    .has_attribute("open"),
            )
        })
    };
    let on_json = {
        let on_change = props.on_change.clone();
        Callback::from(move |e: InputEvent| {
            on_change.emit(
                e.target_unchecked_into::<web_sys::HtmlTextAreaElement>()
                    .value(),
            )
        })
    };
    html! {
        <details class="lv-json lv-advanced" open={*props.open || props.broken} ontoggle={on_toggle}>
            <summary>{ EDIT_JSON.get(lang) }</summary>
            <label class="lv-label" for={json_id.clone()}>{ JSON_LABEL.get(lang) }</label>
            <textarea id={json_id} class="lv-input lv-mono lv-actions" rows="6" value={props.draft.clone()} spellcheck="false"
                placeholder="[{\"answer\": \"...\"}]" oninput={on_json} />
            <p class="lv-muted lv-small-text">{ JSON_HELP.get(lang) }</p>
        </details>
    }
}

const STEPS: Text = Text::new("Your steps", "내 단계");
const NO_STEPS: Text = Text::new(
    "No steps yet: add them below, in the order you would do them.",
    "아직 단계가 없습니다. 아래에서 실제로 할 순서대로 추가하세요.",
);
const ADD_STEP: Text = Text::new("Add a step", "단계 추가");
const ADDED: Text = Text::new("Added step", "추가한 단계");
const REMOVE: Text = Text::new("Remove", "삭제");
const CHANGE: Text = Text::new("Change", "고치기");
const JSON_BROKEN: Text = Text::new(
    "The steps below, written as JSON, have an error, so they cannot be shown. Fix the JSON or press Reset.",
    "아래 JSON으로 적힌 단계에 오류가 있어 보여 줄 수 없습니다. JSON을 고치거나 초기화를 누르세요.",
);
const EDIT_JSON: Text = Text::new(
    "Advanced: edit the steps as JSON",
    "고급: 단계를 JSON으로 편집",
);
const FORMS_ASIDE: Text = Text::new(
    "You are editing the steps as JSON below; the list above reads it back. Close the JSON to add steps with the forms again.",
    "아래에서 단계를 JSON으로 편집하고 있습니다. 위 목록이 그 내용을 읽어 보여 줍니다. 양식으로 단계를 추가하려면 JSON을 닫으세요.",
);
const JSON_LABEL: Text = Text::new(
    "Your steps as a JSON list of actions",
    "동작의 JSON 목록으로 적은 내 단계",
);
const JSON_HELP: Text = Text::new(
    "The same steps as the list above, in the format `labvisor lesson check` reads in the terminal.",
    "위 목록과 같은 단계이며, 터미널에서 `labvisor lesson check`가 읽는 형식입니다.",
);
const DHCP_ADDRESS: Text = Text::new("(its DHCP address)", "(DHCP 주소)");
const HOST_DISK_FAILS: Text = Text::new("The host disk fails", "호스트 디스크 고장");
const TOTALS: Text = Text::new("Your plan against the host", "호스트 대비 내 계획");
const ADD_VM_TITLE: Text = Text::new("Plan a VM", "VM 계획하기");
const ADD_VM: Text = Text::new("Add VM", "VM 추가");
const NAME_LABEL: Text = Text::new("Name", "이름");
const VCPUS_LABEL: Text = Text::new("vCPUs", "vCPU");
const RAM_LABEL: Text = Text::new("RAM (MiB)", "메모리 (MiB)");
const NICS_NOW: Text = Text::new("The machines now", "지금의 머신");
const SET_MODE_TITLE: Text = Text::new("Attach a NIC", "NIC 연결하기");
const ATTACH: Text = Text::new("Attach", "연결");
const ADD_NIC_TITLE: Text = Text::new("Add a NIC", "NIC 추가하기");
const ADD_NIC: Text = Text::new("Add NIC", "NIC 추가");
const VM_LABEL: Text = Text::new("VM", "VM");
const NIC_LABEL: Text = Text::new("Adapter", "어댑터");
const MODE_LABEL: Text = Text::new("Attached to", "다음에 연결됨");
const ADD_RULE_TITLE: Text = Text::new("Port forwarding rule", "포트 포워딩 규칙");
const ADD_RULE: Text = Text::new("Add rule", "규칙 추가");
const REMOVE_RULE_TITLE: Text = Text::new("Remove a rule", "규칙 삭제하기");
const REMOVE_RULE: Text = Text::new("Remove rule", "규칙 삭제");
const RULE_NAME: Text = Text::new("Rule", "규칙");
const RULE_VM_LABEL: Text = Text::new("On VM (its NAT adapter)", "VM (그 VM의 NAT 어댑터)");
const CREATE_DISK: Text = Text::new("Create a virtual hard disk", "가상 하드 디스크 만들기");
const CREATE: Text = Text::new("Create disk", "디스크 만들기");
const SIZE_LABEL: Text = Text::new("Size", "크기");
const ALLOC_LABEL: Text = Text::new("Storage on the host", "호스트의 저장 방식");

// Native only: these are plain #[test]s, and proptest does not build for wasm32.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A draft typed in the JSON box: steps that write back to the same steps, or a
        /// message; never a panic.
        #[test]
        fn any_draft_is_steps_or_a_message(text in ".{0,120}|\\[\\{\"[a-z-]{1,12}\": (\\{\"[a-z_]{1,8}\": (\"[a-z0-9]{0,6}\"|[0-9]{1,12})\\}|\"[a-z]{0,6}\")\\}\\]") {
            match parse(&text) {
                Ok(steps) => proptest::prop_assert_eq!(parse(&write(&steps)), Ok(steps)),
                Err(message) => proptest::prop_assert!(!message.is_empty()),
            }
        }
    }

    #[test]
    fn drafts_round_trip_and_a_blank_one_holds_no_steps() {
        assert_eq!(parse("  \n"), Ok(Vec::new()));
        assert_eq!(write(&[]), "");
        let steps = vec![
            Action::Backup {
                vm: "web".into(),
                to: "nas".into(),
            },
            Action::HostDiskFails,
        ];
        let draft = write(&steps);
        assert_eq!(draft.lines().count(), 4, "{draft}");
        assert_eq!(parse(&draft), Ok(steps));
        assert!(parse("[{\"backup\": 1}]")
            .unwrap_err()
            .starts_with("actions.json:1:"));
    }

    #[test]
    fn every_step_reads_as_a_sentence_in_both_languages() {
        let rule = Action::AddForward(ForwardStep {
            rule: PortForward::parse_vbox("ssh,tcp,,2222,10.0.2.5,22").unwrap(),
            vm: None,
        });
        assert_eq!(
            sentence(Lang::En, &rule),
            "Forward TCP host port 2222 to guest 10.0.2.5 port 22 (rule “ssh”)"
        );
        assert!(sentence(Lang::Ko, &rule).contains("게스트 10.0.2.5 포트 22"));
        let vm = Action::AddVm {
            name: "vm1".into(),
            vcpus: 1,
            ram_mib: 2048,
        };
        assert_eq!(
            sentence(Lang::En, &vm),
            "Plan vm1 with 1 vCPU and 2 GiB of RAM"
        );
        assert_eq!(sentence(Lang::Ko, &vm), "vm1 계획: vCPU 1개, 메모리 2 GiB");
    }

    #[test]
    fn every_solution_fits_in_a_draft() {
        let lessons = crate::lesson::lessons();
        for ex in lessons.iter().flat_map(|l| &l.exercises) {
            assert!(ex.solution.len() <= MAX_STEPS, "{}", ex.id);
            assert!(write(&ex.solution).len() <= MAX_DRAFT, "{}", ex.id);
        }
    }

    #[test]
    fn nics_and_rules_follow_the_steps() {
        let lessons = crate::lesson::lessons();
        let ex = lessons
            .iter()
            .flat_map(|l| &l.exercises)
            .find(|e| e.id == "reach-without-rules")
            .expect("the host-only lesson's exercise");
        let Spec::NetMode { network, .. } = &ex.spec else {
            panic!("a net-mode exercise")
        };
        let after = nics_after(network, &ex.solution);
        assert_eq!(
            after,
            vec![(
                "vm1".to_string(),
                ["nat", "host-only"]
                    .map(|m| lesson_mode(m).unwrap())
                    .to_vec()
            )]
        );
        let add = |name: &str| {
            Action::AddForward(ForwardStep {
                rule: PortForward::parse_vbox(&format!("{name},tcp,,1,,1")).unwrap(),
                vm: None,
            })
        };
        let rules = rules_after(&[
            add("a"),
            add("b"),
            Action::RemoveForward { name: "a".into() },
        ]);
        assert_eq!(
            rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
    }
}
