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

use std::rc::Rc;

use labvisor_core::disk::image::Allocation;
use labvisor_core::lang::{Explain, Lang, Text};
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
            say!(
                lang,
                "Attach NIC {nic} of {vm} to {mode}",
                "{vm}의 NIC {nic}을(를) {mode}에 연결"
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
            let rule = say!(
                lang,
                "Forward {proto} host {hip}port {hp} to guest {gip} port {gp} (rule “{name}”)",
                "{proto} 호스트 {hip}포트 {hp}을(를) 게스트 {gip} 포트 {gp}로 포워딩 (규칙 “{name}”)"
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
        Action::Backup { vm, to } => say!(lang, "Back up {vm} to {to}", "{vm}을(를) {to}에 백업"),
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
        Mode::NotAttached => Text::new("Not attached", "연결 안 됨"),
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

// --- the add-a-step forms' fields -------------------------------------------------------------

/// A field of the add-a-step forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Vm,
    Nic,
    Mode,
    Name,
    Proto,
    HostIp,
    HostPort,
    GuestIp,
    GuestPort,
    Size,
    Alloc,
    Vcpus,
    Ram,
    NicVm,
    NicMode,
    Rule,
}

impl Field {
    /// The suffix of the field's element id.
    fn id(self) -> &'static str {
        match self {
            Field::Vm => "vm",
            Field::Nic => "nic",
            Field::Mode => "mode",
            Field::Name => "name",
            Field::Proto => "proto",
            Field::HostIp => "host-ip",
            Field::HostPort => "host-port",
            Field::GuestIp => "guest-ip",
            Field::GuestPort => "guest-port",
            Field::Size => "size",
            Field::Alloc => "alloc",
            Field::Vcpus => "vcpus",
            Field::Ram => "ram",
            Field::NicVm => "new-nic-vm",
            Field::NicMode => "new-nic-mode",
            Field::Rule => "rule",
        }
    }
}

/// What the learner typed into the forms, one value per [`Field`] (blank: the field's
/// default). The VM, name and mode fields are shared by the forms that ask for them.
#[derive(Clone, Default, PartialEq)]
struct Values {
    vm: String,
    nic: String,
    mode: String,
    name: String,
    proto: String,
    host_ip: String,
    host_port: String,
    guest_ip: String,
    guest_port: String,
    size: String,
    alloc: String,
    vcpus: String,
    ram: String,
    nic_vm: String,
    nic_mode: String,
    rule: String,
}

impl Values {
    fn get(&self, field: Field) -> &String {
        match field {
            Field::Vm => &self.vm,
            Field::Nic => &self.nic,
            Field::Mode => &self.mode,
            Field::Name => &self.name,
            Field::Proto => &self.proto,
            Field::HostIp => &self.host_ip,
            Field::HostPort => &self.host_port,
            Field::GuestIp => &self.guest_ip,
            Field::GuestPort => &self.guest_port,
            Field::Size => &self.size,
            Field::Alloc => &self.alloc,
            Field::Vcpus => &self.vcpus,
            Field::Ram => &self.ram,
            Field::NicVm => &self.nic_vm,
            Field::NicMode => &self.nic_mode,
            Field::Rule => &self.rule,
        }
    }

    fn get_mut(&mut self, field: Field) -> &mut String {
        match field {
            Field::Vm => &mut self.vm,
            Field::Nic => &mut self.nic,
            Field::Mode => &mut self.mode,
            Field::Name => &mut self.name,
            Field::Proto => &mut self.proto,
            Field::HostIp => &mut self.host_ip,
            Field::HostPort => &mut self.host_port,
            Field::GuestIp => &mut self.guest_ip,
            Field::GuestPort => &mut self.guest_port,
            Field::Size => &mut self.size,
            Field::Alloc => &mut self.alloc,
            Field::Vcpus => &mut self.vcpus,
            Field::Ram => &mut self.ram,
            Field::NicVm => &mut self.nic_vm,
            Field::NicMode => &mut self.nic_mode,
            Field::Rule => &mut self.rule,
        }
    }
}

/// The form fields that make `step`, with their values (the first is the one to focus); `None`
/// for the steps made by a button, which have nothing to change.
fn fields_of(step: &Action) -> Option<Vec<(Field, String)>> {
    let mode = |m: &Mode| mode_name(m).to_string();
    Some(match step {
        Action::AddVm {
            name,
            vcpus,
            ram_mib,
        } => vec![
            (Field::Name, name.clone()),
            (Field::Vcpus, vcpus.to_string()),
            (Field::Ram, ram_mib.to_string()),
        ],
        Action::SetMode { vm, nic, mode: m } => {
            vec![
                (Field::Vm, vm.clone()),
                (Field::Nic, nic.to_string()),
                (Field::Mode, mode(m)),
            ]
        }
        Action::AddNic { vm, mode: m } => {
            vec![(Field::NicVm, vm.clone()), (Field::NicMode, mode(m))]
        }
        Action::AddForward(ForwardStep { rule, vm }) => {
            let address = |a: Option<std::net::Ipv4Addr>| a.map(|a| a.to_string());
            let mut fields = vec![
                (Field::Name, rule.name.clone()),
                (Field::Proto, proto_text(rule.proto).to_ascii_lowercase()),
                (Field::HostIp, address(rule.host_ip).unwrap_or_default()),
                (Field::HostPort, rule.host_port.to_string()),
                (Field::GuestIp, address(rule.guest_ip).unwrap_or_default()),
                (Field::GuestPort, rule.guest_port.to_string()),
            ];
            if let Some(vm) = vm {
                fields.push((Field::Vm, vm.clone()));
            }
            fields
        }
        Action::CreateDisk { vm, size, alloc } => {
            let alloc = match alloc {
                Allocation::Fixed => "fixed",
                Allocation::Dynamic => "dynamic",
            };
            vec![
                (Field::Size, size.clone()),
                (Field::Vm, vm.clone()),
                (Field::Alloc, alloc.into()),
            ]
        }
        _ => return None,
    })
}

/// What the learner typed into the forms (blank: the field's default), and whether they tried
/// to add a step with a field still wrong (then blank fields show their message too).
#[derive(Clone, Default, PartialEq)]
struct Form {
    values: Values,
    tried: bool,
    /// What the learner had typed before a step was loaded to be changed, given back after.
    before_change: Option<Box<Values>>,
}

enum FormMsg {
    Set(Field, String),
    Tried,
    /// A step was added: clear these fields.
    Added(&'static [Field]),
    /// A step is being changed: the form shows its values, every other field blank.
    Load(Vec<(Field, String)>),
    /// The change is done or dropped: the form as it was before.
    Restore,
}

impl Reducible for Form {
    type Action = FormMsg;

    fn reduce(self: Rc<Self>, msg: FormMsg) -> Rc<Self> {
        let mut form = (*self).clone();
        match msg {
            FormMsg::Set(field, value) => *form.values.get_mut(field) = value,
            FormMsg::Tried => form.tried = true,
            FormMsg::Added(clear) => {
                form.tried = false;
                for &field in clear {
                    form.values.get_mut(field).clear();
                }
            }
            FormMsg::Load(values) => {
                let before = form
                    .before_change
                    .take()
                    .unwrap_or_else(|| Box::new(std::mem::take(&mut form.values)));
                form = Form {
                    before_change: Some(before),
                    ..Form::default()
                };
                for (field, value) in values {
                    *form.values.get_mut(field) = value;
                }
            }
            FormMsg::Restore => {
                form = Form {
                    values: form.before_change.take().map(|b| *b).unwrap_or_default(),
                    ..Form::default()
                };
            }
        }
        Rc::new(form)
    }
}

/// What the forms render with.
struct Ctx<'a> {
    id: &'a str,
    lang: Lang,
    form: &'a UseReducerHandle<Form>,
    /// Adds a step, then clears the given fields of the form that made it.
    add: &'a Callback<(Action, &'static [Field])>,
    /// Whether another step fits in the draft.
    room: bool,
    /// The step being changed: the forms replace it instead of adding one.
    editing: Option<usize>,
}

/// A field's problems: `(field, message)`, the first one first.
type Problems = Vec<(Field, String)>;

impl Ctx<'_> {
    fn field_id(&self, field: Field) -> String {
        format!("{}-{}", self.id, field.id())
    }

    /// The field as typed, or `default` when blank.
    fn get(&self, field: Field, default: &str) -> String {
        match self.form.values.get(field).trim() {
            "" => default.to_string(),
            typed => typed.to_string(),
        }
    }

    /// The chosen option of a select (the first when the choice is not, or no longer, offered).
    fn pick(&self, field: Field, options: &[(String, String)]) -> String {
        let value = self.form.values.get(field).as_str();
        options
            .iter()
            .find(|o| o.0 == value)
            .or(options.first())
            .map(|o| o.0.clone())
            .unwrap_or_default()
    }

    /// The message to show at `field`: once the learner typed there or tried to add.
    fn message(&self, field: Field, problems: &Problems) -> Option<String> {
        problems
            .iter()
            .find(|p| p.0 == field)
            .filter(|_| self.form.tried || !self.form.values.get(field).trim().is_empty())
            .map(|p| p.1.clone())
    }

    fn input(
        &self,
        field: Field,
        label: Text,
        kind: &'static str,
        placeholder: &str,
        bounds: Option<(u64, u64)>,
        problems: &Problems,
    ) -> Html {
        let id = self.field_id(field);
        let error_id = format!("{id}-error");
        let error = self.message(field, problems);
        let form = self.form.clone();
        let oninput = Callback::from(move |e: InputEvent| {
            form.dispatch(FormMsg::Set(field, input_value(&e)))
        });
        let (min, max) = match bounds {
            Some((min, max)) => (Some(min.to_string()), Some(max.to_string())),
            None => (None, None),
        };
        html! {
            <div class="lv-field">
                <label class="lv-label" for={id.clone()}>{ label.get(self.lang) }</label>
                <input id={id} class="lv-input" type={kind} {min} {max} value={self.form.values.get(field).clone()}
                    placeholder={placeholder.to_string()} autocomplete="off" spellcheck="false"
                    aria-invalid={error.is_some().then_some("true")} aria-describedby={error_id.clone()} {oninput} />
                <p id={error_id} class="lv-field-error">{ error.unwrap_or_default() }</p>
            </div>
        }
    }

    fn select(&self, field: Field, label: Text, options: &[(String, String)]) -> Html {
        let id = self.field_id(field);
        let current = self.pick(field, options);
        let form = self.form.clone();
        let onchange =
            Callback::from(move |e: Event| form.dispatch(FormMsg::Set(field, input_value(&e))));
        html! {
            <div class="lv-field">
                <label class="lv-label" for={id.clone()}>{ label.get(self.lang) }</label>
                <select id={id} class="lv-select" {onchange}>
                    { for options.iter().map(|(value, text)| html! {
                        <option value={value.clone()} selected={*value == current}>{ text.clone() }</option>
                    }) }
                </select>
            </div>
        }
    }

    /// A form that adds `step` when no field has a problem; otherwise it shows every message
    /// and moves focus to the first wrong field. Enter in any field submits it.
    fn form(
        &self,
        title: Text,
        button: Text,
        fields: Html,
        problems: &Problems,
        step: Option<Action>,
        clear: &'static [Field],
    ) -> Html {
        let (form, add, room) = (self.form.clone(), self.add.clone(), self.room);
        let first_bad = problems.first().map(|p| self.field_id(p.0));
        let onsubmit = Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match (&step, &first_bad) {
                (Some(step), None) if room => {
                    add.emit((step.clone(), clear));
                }
                (_, Some(id)) => {
                    form.dispatch(FormMsg::Tried);
                    focus_within(&e.target_unchecked_into(), id);
                }
                _ => {}
            }
        });
        html! {
            // Not named: a named form is a landmark, and every exercise repeats these forms.
            <form class="lv-step-form" novalidate=true {onsubmit}>
                <h4>{ title.get(self.lang) }</h4>
                <div class="lv-step-fields">{ fields }</div>
                <button class="lv-button" type="submit" disabled={!self.room}>{ self.submit_label(button) }</button>
            </form>
        }
    }

    /// What a form's button says: its own action, or replacing the step being changed.
    fn submit_label(&self, button: Text) -> String {
        match self.editing {
            Some(i) => {
                let at = i + 1;
                say!(self.lang, "Replace step {at}", "단계 {at} 바꾸기")
            }
            None => button.get(self.lang).to_string(),
        }
    }

    /// One button per ready-made step.
    fn buttons(&self, steps: Vec<Action>) -> Html {
        html! {
            <div class="lv-step-buttons">
                { for steps.into_iter().map(|step| {
                    let label = sentence(self.lang, &step);
                    let add = self.add.clone();
                    html! {
                        <button type="button" class="lv-button lv-ghost" disabled={!self.room}
                            onclick={Callback::from(move |_: MouseEvent| add.emit((step.clone(), &[])))}>
                            { "+ " }{ label }
                        </button>
                    }
                }) }
            </div>
        }
    }
}

/// Focuses the element `id` under `root` (by the root, not the document: an embedded lab lives
/// in a shadow root).
fn focus_within(root: &web_sys::Element, id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = root
        .query_selector(&format!("#{id}"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
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
    let fits = |s: &[Action]| s.len() <= MAX_STEPS && write(s).len() <= MAX_DRAFT;
    let commit = {
        let (on_change, said, focus_after, overflow) = (
            props.on_change.clone(),
            said.clone(),
            focus_after.clone(),
            overflow.clone(),
        );
        Rc::new(
            move |steps: Vec<Action>, news: String, focus: Option<String>| {
                *focus_after.borrow_mut() = focus;
                overflow.set(false);
                said.set(news);
                on_change.emit(write(&steps));
            },
        )
    };
    let add = {
        let (steps, commit, overflow, form, editing, id) = (
            steps.clone(),
            commit.clone(),
            overflow.clone(),
            form.clone(),
            editing.clone(),
            id.clone(),
        );
        Callback::from(move |(step, clear): (Action, &'static [Field])| {
            let mut next = steps.clone();
            let (news, focus) = match editing_at {
                Some(i) => {
                    let at = i + 1;
                    let what = sentence(lang, &step);
                    next[i] = step;
                    (
                        say!(
                            lang,
                            "Step {at} is now: {what}",
                            "단계 {at}을(를) 바꿈: {what}"
                        ),
                        Some(format!("{id}-s{i}-edit")),
                    )
                }
                None => {
                    let news = format!(
                        "{} {}: {}",
                        ADDED.get(lang),
                        steps.len() + 1,
                        sentence(lang, &step)
                    );
                    next.push(step);
                    (news, None)
                }
            };
            if fits(&next) {
                form.dispatch(match editing_at {
                    Some(_) => FormMsg::Restore,
                    None => FormMsg::Added(clear),
                });
                editing.set(None);
                commit(next, news, focus);
            } else {
                overflow.set(true);
            }
        })
    };
    let reorder = {
        let (steps, commit, id, editing, form, said, focus_after) = (
            steps.clone(),
            commit.clone(),
            id.clone(),
            editing.clone(),
            form.clone(),
            said.clone(),
            focus_after.clone(),
        );
        Callback::from(move |(i, how): (usize, StepEdit)| {
            let mut next = steps.clone();
            let n = next.len();
            let at = i + 1;
            match how {
                StepEdit::Change => {
                    if let Some(fields) = steps.get(i).and_then(fields_of) {
                        *focus_after.borrow_mut() = Some(format!("{id}-{}", fields[0].0.id()));
                        form.dispatch(FormMsg::Load(fields));
                        editing.set(Some((i, steps[i].clone())));
                        said.set(say!(
                            lang,
                            "Step {at} is in the form below: change it, then replace it.",
                            "단계 {at}이(가) 아래 양식에 있습니다. 고친 다음 바꾸기를 누르세요."
                        ));
                    }
                    return;
                }
                StepEdit::KeepAsItWas => {
                    *focus_after.borrow_mut() = Some(format!("{id}-s{i}-edit"));
                    form.dispatch(FormMsg::Restore);
                    editing.set(None);
                    said.set(say!(
                        lang,
                        "Step {at} kept as it was",
                        "단계 {at}을(를) 그대로 둠"
                    ));
                    return;
                }
                _ => {
                    if editing_at.is_some() {
                        form.dispatch(FormMsg::Restore);
                    }
                    editing.set(None);
                }
            }
            let (news, focus) = match how {
                StepEdit::Up if i > 0 && i < n => {
                    next.swap(i, i - 1);
                    let button = if i == 1 { "down" } else { "up" };
                    (
                        say!(lang, "Step moved up to {i}", "단계를 {i}번으로 올림"),
                        format!("{id}-s{}-{button}", i - 1),
                    )
                }
                StepEdit::Down if i + 1 < n => {
                    next.swap(i, i + 1);
                    let button = if i + 2 == n { "up" } else { "down" };
                    let to = i + 2;
                    (
                        say!(lang, "Step moved down to {to}", "단계를 {to}번으로 내림"),
                        format!("{id}-s{}-{button}", i + 1),
                    )
                }
                StepEdit::Remove if i < n => {
                    next.remove(i);
                    let focus = match next.len() {
                        0 => format!("{id}-steps"),
                        left => format!("{id}-s{}-rm", i.min(left - 1)),
                    };
                    let step = i + 1;
                    (
                        say!(lang, "Step {step} removed", "단계 {step}을(를) 삭제함"),
                        focus,
                    )
                }
                _ => return,
            };
            commit(next, news, Some(focus));
        })
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
    };
    let json_id = format!("{id}-json");
    // Kept open once opened (or forced open by a broken draft), so that mending the JSON does
    // not fold the box away under the cursor.
    let json_open = use_state(|| false);
    let on_toggle = {
        let json_open = json_open.clone();
        Callback::from(move |e: Event| {
            json_open.set(
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
    let n = steps.len();
    html! {
        <div class="lv-editor" ref={root}>
            <h3 id={format!("{id}-steps")} tabindex="-1">{ STEPS.get(lang) }</h3>
            if let Err(e) = &parsed {
                <p class="lv-field-error" role="alert">{ JSON_BROKEN.get(lang) }<br /><span class="lv-mono">{ e.clone() }</span></p>
            } else if steps.is_empty() {
                <p class="lv-muted lv-steps-empty">{ NO_STEPS.get(lang) }</p>
            } else {
                <ol class="lv-steps">
                    { for steps.iter().enumerate().map(|(i, step)| {
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
                    }) }
                </ol>
            }
            <p class="lv-sr" aria-live="polite">{ (*said).clone() }</p>
            if parsed.is_ok() {
                <h3>{ ADD_STEP.get(lang) }</h3>
                if !room || *overflow {
                    <p class="lv-field-error lv-steps-full" role="status">{ say!(lang,
                        "That is as much as an exercise keeps (at most {MAX_STEPS} steps and {MAX_DRAFT} characters of JSON): remove a step first.",
                        "한 문제에 담을 수 있는 양은 여기까지입니다(단계 최대 {MAX_STEPS}개, JSON {MAX_DRAFT}자). 먼저 단계를 하나 지우세요.") }</p>
                }
                { forms(&ctx, &props.spec, &others) }
            }
            <details class="lv-json" open={*json_open || parsed.is_err()} ontoggle={on_toggle}>
                <summary>{ EDIT_JSON.get(lang) }</summary>
                <label class="lv-label" for={json_id.clone()}>{ JSON_LABEL.get(lang) }</label>
                <textarea id={json_id} class="lv-input lv-mono lv-actions" rows="6" value={props.draft.clone()} spellcheck="false"
                    placeholder="[{\"answer\": \"...\"}]" oninput={on_json} />
                <p class="lv-muted lv-small-text">{ JSON_HELP.get(lang) }</p>
            </details>
        </div>
    }
}

/// The forms of the exercise's kind.
fn forms(c: &Ctx, spec: &Spec, steps: &[Action]) -> Html {
    match spec {
        Spec::HostSizing {
            host,
            reserve_percent,
            vm_count,
        } => host_sizing(c, host, *reserve_percent, *vm_count, steps),
        Spec::NetMode { network, .. } => net_mode(c, network, steps),
        Spec::PortForward { network, .. } => port_forward(c, network, steps),
        Spec::DiskFit { host_disk, vms } => {
            let lang = c.lang;
            let options: Vec<(String, String)> =
                vms.iter().map(|v| (v.clone(), v.clone())).collect();
            let vm = c.pick(Field::Vm, &options);
            let size = c.get(Field::Size, "");
            let allocs: Vec<(String, String)> = [
                ("dynamic", Allocation::Dynamic),
                ("fixed", Allocation::Fixed),
            ]
            .iter()
            .map(|(v, a)| (v.to_string(), alloc_choice(*a).get(lang).to_string()))
            .collect();
            let alloc = if c.pick(Field::Alloc, &allocs) == "fixed" {
                Allocation::Fixed
            } else {
                Allocation::Dynamic
            };
            let mut problems = Problems::new();
            if let Err(e) = labvisor_lessons::size::parse_size(&size) {
                let message = match lang {
                    Lang::En => e,
                    Lang::Ko => format!("크기는 128G(이진 단위, VirtualBox 방식)나 256GB(십진 단위, 디스크 제조사 방식)처럼 숫자와 단위로 적습니다 ({e})"),
                };
                problems.push((Field::Size, message));
            }
            let step = problems
                .is_empty()
                .then_some(Action::CreateDisk { vm, size, alloc });
            let used = host_disk.used.as_deref().unwrap_or("0");
            let capacity = &host_disk.capacity;
            html! {
                <>
                <p class="lv-muted">{ say!(lang, "Host disk: {capacity}, of which {used} already used.", "호스트 디스크: {capacity}, 그중 {used} 사용 중.") }</p>
                { c.form(CREATE_DISK, CREATE, html! {
                    <>
                    { c.select(Field::Vm, VM_LABEL, &options) }
                    { c.input(Field::Size, SIZE_LABEL, "text", "128G", None, &problems) }
                    { c.select(Field::Alloc, ALLOC_LABEL, &allocs) }
                    </>
                }, &problems, step, &[Field::Size]) }
                </>
            }
        }
        Spec::DiskCompact {
            image,
            target_allocated,
        } => {
            let (vm, size, written, deleted) =
                (&image.vm, &image.size, &image.written, &image.deleted);
            html! {
                <>
                <p class="lv-muted">{ say!(c.lang,
                    "{vm}: {size} virtual, {written} written by the guest, {deleted} of it since deleted. Target: at most {target_allocated} on the host.",
                    "{vm}: 가상 크기 {size}, 게스트가 쓴 {written}, 그중 지운 {deleted}. 목표: 호스트에서 {target_allocated} 이하.") }</p>
                { c.buttons(vec![Action::ZeroFreeSpace { vm: vm.clone() }, Action::Compact { vm: vm.clone() }]) }
                </>
            }
        }
        Spec::DiskRestore {
            vm,
            lives_on,
            disks,
        } => {
            let mut offered = vec![Action::Snapshot { vm: vm.clone() }];
            offered.extend(disks.iter().map(|d| Action::Backup {
                vm: vm.clone(),
                to: d.clone(),
            }));
            offered.push(Action::HostDiskFails);
            offered.extend(disks.iter().map(|d| Action::Restore {
                vm: vm.clone(),
                from: d.clone(),
            }));
            let list = disks.join(", ");
            html! {
                <>
                <p class="lv-muted">{ say!(c.lang, "{vm} lives on {lives_on}. Disks: {list}.", "{vm}은(는) {lives_on}에 있습니다. 디스크: {list}.") }</p>
                { c.buttons(offered) }
                </>
            }
        }
        _ => html! {},
    }
}

fn host_sizing(c: &Ctx, host: &HostSpec, percent: u8, vm_count: u32, steps: &[Action]) -> Html {
    let lang = c.lang;
    let planned: Vec<sizing::VmRequest> = steps
        .iter()
        .filter_map(|s| match s {
            Action::AddVm {
                name,
                vcpus,
                ram_mib,
            } => Some(sizing::VmRequest {
                name: name.clone(),
                vcpus: *vcpus,
                ram_mib: *ram_mib,
                disk_mib: None,
            }),
            _ => None,
        })
        .collect();
    let taken = |name: &str| planned.iter().any(|v| v.name == name);
    let suggested = (1..=MAX_STEPS + 1)
        .map(|n| format!("vm{n}"))
        .find(|n| !taken(n))
        .unwrap_or_default();
    let name = c.get(Field::Name, &suggested);
    let (cpus, ram) = (host.cpus, host.ram_mib);
    let mut problems = Problems::new();
    if taken(&name) {
        problems.push((
            Field::Name,
            say!(
                lang,
                "A VM called {name} is already planned.",
                "{name}이라는 VM은 이미 계획에 있습니다."
            ),
        ));
    }
    let vcpus = c
        .get(Field::Vcpus, "1")
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=cpus).contains(n));
    if vcpus.is_none() {
        problems.push((
            Field::Vcpus,
            say!(
                lang,
                "A whole number from 1 to {cpus}: the host has {cpus} logical CPUs.",
                "1부터 {cpus}까지의 정수: 호스트의 논리 CPU는 {cpus}개입니다."
            ),
        ));
    }
    let ram_mib = c
        .get(Field::Ram, "1024")
        .parse::<u64>()
        .ok()
        .filter(|n| (4..=ram).contains(n));
    if ram_mib.is_none() {
        problems.push((
            Field::Ram,
            say!(
                lang,
                "MiB from 4 (VirtualBox's least) to {ram} (all of the host's RAM).",
                "4(VirtualBox의 최소)부터 {ram}(호스트 메모리 전부)까지의 MiB."
            ),
        ));
    }
    let step = match (problems.is_empty(), vcpus, ram_mib) {
        (true, Some(vcpus), Some(ram_mib)) => Some(Action::AddVm {
            name: name.clone(),
            vcpus,
            ram_mib,
        }),
        _ => None,
    };
    // The running totals against the host, added up by the core's planner.
    let requested = sizing::Host::new(cpus.max(1), ram.max(1), None)
        .ok()
        .map(|h| sizing::plan(&h, &planned, &sizing::Policy::default()).requested)
        .unwrap_or_default();
    let (want_cpus, want_ram, count) =
        (requested.cpus, format_mib(requested.ram_mib), planned.len());
    let host_ram = format_mib(ram);
    let ram_shown = ram_mib.map(format_mib).unwrap_or_default();
    html! {
        <>
        <div class="lv-totals" role="group" aria-label={TOTALS.get(lang).to_string()}>
            <p>{ say!(lang, "VMs planned: {count} (the task asks for {vm_count}); the host keeps {percent} % for itself.",
                "계획한 VM: {count}대 (문제는 {vm_count}대); 호스트가 {percent} %를 자기 몫으로 둡니다.") }</p>
            <label class="lv-total">
                <span>{ say!(lang, "vCPUs: {want_cpus} of the host's {cpus} logical CPUs", "vCPU: 호스트 논리 CPU {cpus}개 중 {want_cpus}개") }</span>
                <meter min="0" max={cpus.to_string()} value={want_cpus.to_string()}></meter>
            </label>
            <label class="lv-total">
                <span>{ say!(lang, "RAM: {want_ram} of the host's {host_ram}", "메모리: 호스트 {host_ram} 중 {want_ram}") }</span>
                <meter min="0" max={ram.to_string()} value={requested.ram_mib.min(ram).to_string()}></meter>
            </label>
        </div>
        { c.form(ADD_VM_TITLE, ADD_VM, html! {
            <>
            { c.input(Field::Name, NAME_LABEL, "text", &suggested, None, &problems) }
            { c.input(Field::Vcpus, VCPUS_LABEL, "number", "1", Some((1, u64::from(cpus))), &problems) }
            { c.input(Field::Ram, RAM_LABEL, "number", "1024", Some((4, ram)), &problems) }
            <output class="lv-mono lv-muted lv-ram-shown" for={c.field_id(Field::Ram)}>{ ram_shown }</output>
            </>
        }, &problems, step, &[Field::Name]) }
        </>
    }
}

/// Each VM's NIC modes after `steps` (steps that name no such VM or NIC change nothing).
fn nics_after(network: &NetworkSpec, steps: &[Action]) -> Vec<(String, Vec<Mode>)> {
    let mut vms: Vec<(String, Vec<Mode>)> = network
        .vms
        .iter()
        .map(|v| (v.name.clone(), v.nics.clone()))
        .collect();
    for step in steps {
        match step {
            Action::SetMode { vm, nic, mode } => {
                if let Some(slot) = vms
                    .iter_mut()
                    .find(|v| &v.0 == vm)
                    .and_then(|v| v.1.get_mut(usize::from(*nic).wrapping_sub(1)))
                {
                    *slot = mode.clone();
                }
            }
            Action::AddNic { vm, mode } => {
                if let Some(v) = vms.iter_mut().find(|v| &v.0 == vm) {
                    v.1.push(mode.clone());
                }
            }
            _ => {}
        }
    }
    vms
}

fn net_mode(c: &Ctx, network: &NetworkSpec, steps: &[Action]) -> Html {
    let lang = c.lang;
    let now = nics_after(network, steps);
    let vms: Vec<(String, String)> = now.iter().map(|v| (v.0.clone(), v.0.clone())).collect();
    let modes: Vec<(String, String)> = lesson_modes()
        .iter()
        .map(|m| (mode_name(m).to_string(), mode_text(m).get(lang).to_string()))
        .collect();
    let mode_of = |value: String| {
        lesson_mode(&value).unwrap_or(Mode::Nat {
            forwards: Vec::new(),
        })
    };
    let vm = c.pick(Field::Vm, &vms);
    let nics: Vec<(String, String)> = now
        .iter()
        .find(|v| v.0 == vm)
        .map(|v| {
            v.1.iter()
                .enumerate()
                .map(|(i, m)| {
                    (
                        (i + 1).to_string(),
                        format!("NIC {} ({})", i + 1, mode_text(m).get(lang)),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let set = c
        .pick(Field::Nic, &nics)
        .parse::<u8>()
        .ok()
        .map(|nic| Action::SetMode {
            vm: vm.clone(),
            nic,
            mode: mode_of(c.pick(Field::Mode, &modes)),
        });
    let add_nic = Action::AddNic {
        vm: c.pick(Field::NicVm, &vms),
        mode: mode_of(c.pick(Field::NicMode, &modes)),
    };
    html! {
        <>
        <ul class="lv-nic-state" aria-label={NICS_NOW.get(lang).to_string()}>
            { for now.iter().map(|(vm, nics)| html! {
                <li><strong>{ vm.clone() }</strong>{ ": " }
                    { nics.iter().enumerate().map(|(i, m)| format!("NIC {} {}", i + 1, mode_text(m).get(lang))).collect::<Vec<_>>().join(" · ") }
                </li>
            }) }
        </ul>
        <div class="lv-step-forms">
            { c.form(SET_MODE_TITLE, ATTACH, html! {
                <>
                { c.select(Field::Vm, VM_LABEL, &vms) }
                { c.select(Field::Nic, NIC_LABEL, &nics) }
                { c.select(Field::Mode, MODE_LABEL, &modes) }
                </>
            }, &Problems::new(), set, &[]) }
            { c.form(ADD_NIC_TITLE, ADD_NIC, html! {
                <>
                { c.select(Field::NicVm, VM_LABEL, &vms) }
                { c.select(Field::NicMode, MODE_LABEL, &modes) }
                </>
            }, &Problems::new(), Some(add_nic), &[]) }
        </div>
        </>
    }
}

/// The rule in force after `steps`.
fn rules_after(steps: &[Action]) -> Vec<PortForward> {
    let mut rules: Vec<PortForward> = Vec::new();
    for step in steps {
        match step {
            Action::AddForward(step) => rules.push(step.rule.clone()),
            Action::RemoveForward { name } => rules.retain(|r| &r.name != name),
            _ => {}
        }
    }
    rules
}

fn port_forward(c: &Ctx, network: &NetworkSpec, steps: &[Action]) -> Html {
    let lang = c.lang;
    // A NAT Network's rules are written `name:proto:[host-ip]:port:[guest-ip]:port` and must
    // name the guest; a NAT's `name,proto,host-ip,port,guest-ip,port`.
    let nat_network = network
        .vms
        .iter()
        .any(|v| v.nics.iter().any(|m| matches!(m, Mode::NatNetwork(_))));
    // Without a NAT Network, NAT-mode rules live on one VM's adapter: with several VMs on NAT
    // the learner says which (every one of them is 10.0.2.15 inside, so the address cannot).
    let nat_vms: Vec<(String, String)> = network
        .vms
        .iter()
        .filter(|v| v.nics.iter().any(|m| matches!(m, Mode::Nat { .. })))
        .map(|v| (v.name.clone(), v.name.clone()))
        .collect();
    let rule_vm = (!nat_network && nat_vms.len() > 1).then(|| c.pick(Field::Vm, &nat_vms));
    let parse = |f: [&str; 6]| {
        if nat_network {
            PortForward::parse_natnetwork(&format!(
                "{}:{}:[{}]:{}:[{}]:{}",
                f[0], f[1], f[2], f[3], f[4], f[5]
            ))
        } else {
            PortForward::parse_vbox(&f.join(","))
        }
    };
    let fields = [
        Field::Name,
        Field::Proto,
        Field::HostIp,
        Field::HostPort,
        Field::GuestIp,
        Field::GuestPort,
    ];
    let typed: Vec<String> = fields
        .iter()
        .map(|&f| c.get(f, if f == Field::Proto { "tcp" } else { "" }))
        .collect();
    // Each field is checked on its own by the core's parser, the others filled with valid values.
    let mut problems = Problems::new();
    for (k, &field) in fields.iter().enumerate() {
        let mut probe = ["rule", "tcp", "", "1", "10.0.2.4", "1"];
        probe[k] = &typed[k];
        if let Err(e) = parse(probe) {
            problems.push((field, e.problem.explain_in(lang)));
        }
    }
    let rules = rules_after(steps);
    let existing = &rules;
    let t: Vec<&str> = typed.iter().map(String::as_str).collect();
    // The core's conflict rules look at the name and the host side only, so a clash shows as
    // soon as those are typed. Asked rule by rule, so the message can say which one clashes.
    if let Ok(probe) = parse([t[0], t[1], t[2], t[3], "10.0.2.4", "1"]) {
        if let Some(with) = existing
            .iter()
            .find(|o| probe.conflict_with(std::slice::from_ref(o)).is_some())
        {
            let same_name = with.name == probe.name;
            let message = match lang {
                Lang::En => probe
                    .conflict_with(std::slice::from_ref(with))
                    .unwrap_or_default(),
                Lang::Ko if same_name => {
                    format!("이름이 {:?}인 규칙이 이미 있습니다 ({with})", with.name)
                }
                Lang::Ko => format!(
                    "호스트 포트 {}/{}는 이미 규칙 {:?}({with})이(가) 포워딩하고 있습니다",
                    probe.proto, probe.host_port, with.name
                ),
            };
            problems.push((
                if same_name {
                    Field::Name
                } else {
                    Field::HostPort
                },
                message,
            ));
        }
    }
    let step = match parse([t[0], t[1], t[2], t[3], t[4], t[5]]) {
        Ok(rule) if problems.is_empty() => Some(Action::AddForward(ForwardStep {
            rule,
            vm: rule_vm.clone(),
        })),
        _ => None,
    };
    let protos = vec![
        ("tcp".to_string(), "TCP".to_string()),
        ("udp".to_string(), "UDP".to_string()),
    ];
    let names: Vec<(String, String)> = rules
        .iter()
        .map(|r| (r.name.clone(), r.name.clone()))
        .collect();
    let remove = (!names.is_empty()).then(|| Action::RemoveForward {
        name: c.pick(Field::Rule, &names),
    });
    let host_ip = network.host_ip.as_deref().unwrap_or("");
    html! {
        <>
        <ul class="lv-nic-state" aria-label={NICS_NOW.get(lang).to_string()}>
            if !host_ip.is_empty() { <li>{ say!(lang, "host: {host_ip}", "호스트: {host_ip}") }</li> }
            { for network.vms.iter().map(|v| {
                let modes = v.nics.iter().map(|m| mode_text(m).get(lang)).collect::<Vec<_>>().join(", ");
                let listens = v.listens.join(", ");
                html! { <li><strong>{ v.name.clone() }</strong>{ ": " }{ modes }
                    if !listens.is_empty() { { say!(lang, ", listens on {listens}", ", 대기 중: {listens}") } }
                </li> }
            }) }
        </ul>
        <div class="lv-step-forms">
            { c.form(ADD_RULE_TITLE, ADD_RULE, html! {
                <>
                if rule_vm.is_some() { { c.select(Field::Vm, RULE_VM_LABEL, &nat_vms) } }
                { c.input(Field::Name, RULE_NAME, "text", "", None, &problems) }
                { c.select(Field::Proto, PROTOCOL, &protos) }
                { c.input(Field::HostIp, HOST_IP_LABEL, "text", ANY_ADDRESS.get(lang), None, &problems) }
                { c.input(Field::HostPort, HOST_PORT_LABEL, "number", "", Some((1, 65535)), &problems) }
                { c.input(Field::GuestIp, GUEST_IP_LABEL, "text", if nat_network { "10.0.2.x" } else { DHCP_ADDRESS.get(lang) }, None, &problems) }
                { c.input(Field::GuestPort, GUEST_PORT_LABEL, "number", "", Some((1, 65535)), &problems) }
                </>
            }, &problems, step, &[Field::Name, Field::HostIp, Field::HostPort, Field::GuestIp, Field::GuestPort]) }
            if !names.is_empty() {
                { c.form(REMOVE_RULE_TITLE, REMOVE_RULE, c.select(Field::Rule, RULE_NAME, &names), &Problems::new(), remove, &[]) }
            }
        </div>
        </>
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
const EDIT_JSON: Text = Text::new("Edit as JSON", "JSON으로 편집");
const JSON_LABEL: Text = Text::new(
    "Your steps as a JSON list of actions",
    "동작의 JSON 목록으로 적은 내 단계",
);
const JSON_HELP: Text = Text::new(
    "The same format as `labvisor lesson check`.",
    "`labvisor lesson check`와 같은 형식입니다.",
);
const ANY_ADDRESS: Text = Text::new("any address", "모든 주소");
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
const RULE_NAME: Text = Text::new("Name", "이름");
const RULE_VM_LABEL: Text = Text::new("On VM (its NAT adapter)", "VM (그 VM의 NAT 어댑터)");
const PROTOCOL: Text = Text::new("Protocol", "프로토콜");
const HOST_IP_LABEL: Text = Text::new("Host IP", "호스트 IP");
const HOST_PORT_LABEL: Text = Text::new("Host Port", "호스트 포트");
const GUEST_IP_LABEL: Text = Text::new("Guest IP", "게스트 IP");
const GUEST_PORT_LABEL: Text = Text::new("Guest Port", "게스트 포트");
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
