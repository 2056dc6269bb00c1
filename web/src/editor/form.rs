//! The add-a-step forms' state: each [`Field`], what the learner typed ([`Values`], kept in a
//! [`Form`] reducer), and [`Ctx`], what a form renders with (inputs, selects, the submit that
//! adds or replaces a step).

use super::*;

// --- the add-a-step forms' fields -------------------------------------------------------------

/// A field of the add-a-step forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Vm,
    Nic,
    Mode,
    Name,
    Size,
    Alloc,
    Vcpus,
    Ram,
    NicVm,
    NicMode,
    Rule,
    /// A forwarding rule typed on one line (see [`super::rule_input`]).
    RuleText,
}

impl Field {
    /// The suffix of the field's element id.
    pub(super) fn id(self) -> &'static str {
        match self {
            Field::Vm => "vm",
            Field::Nic => "nic",
            Field::Mode => "mode",
            Field::Name => "name",
            Field::Size => "size",
            Field::Alloc => "alloc",
            Field::Vcpus => "vcpus",
            Field::Ram => "ram",
            Field::NicVm => "new-nic-vm",
            Field::NicMode => "new-nic-mode",
            Field::Rule => "rule",
            Field::RuleText => "rule-text",
        }
    }
}

/// What the learner typed into the forms, one value per [`Field`] (blank: the field's
/// default). The VM, name and mode fields are shared by the forms that ask for them.
#[derive(Clone, Default, PartialEq)]
pub(super) struct Values {
    pub(super) vm: String,
    pub(super) nic: String,
    pub(super) mode: String,
    pub(super) name: String,
    pub(super) size: String,
    pub(super) alloc: String,
    pub(super) vcpus: String,
    pub(super) ram: String,
    pub(super) nic_vm: String,
    pub(super) nic_mode: String,
    pub(super) rule: String,
    pub(super) rule_text: String,
}

impl Values {
    pub(super) fn get(&self, field: Field) -> &String {
        match field {
            Field::Vm => &self.vm,
            Field::Nic => &self.nic,
            Field::Mode => &self.mode,
            Field::Name => &self.name,
            Field::Size => &self.size,
            Field::Alloc => &self.alloc,
            Field::Vcpus => &self.vcpus,
            Field::Ram => &self.ram,
            Field::NicVm => &self.nic_vm,
            Field::NicMode => &self.nic_mode,
            Field::Rule => &self.rule,
            Field::RuleText => &self.rule_text,
        }
    }

    pub(super) fn get_mut(&mut self, field: Field) -> &mut String {
        match field {
            Field::Vm => &mut self.vm,
            Field::Nic => &mut self.nic,
            Field::Mode => &mut self.mode,
            Field::Name => &mut self.name,
            Field::Size => &mut self.size,
            Field::Alloc => &mut self.alloc,
            Field::Vcpus => &mut self.vcpus,
            Field::Ram => &mut self.ram,
            Field::NicVm => &mut self.nic_vm,
            Field::NicMode => &mut self.nic_mode,
            Field::Rule => &mut self.rule,
            Field::RuleText => &mut self.rule_text,
        }
    }
}

/// The form fields that make `step`, with their values (the first is the one to focus); `None`
/// for the steps made by a button, which have nothing to change.
pub(super) fn fields_of(step: &Action) -> Option<Vec<(Field, String)>> {
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
            // Back on the line in VirtualBox's form, whichever form it was typed in.
            let mut fields = vec![(Field::RuleText, rule.to_string())];
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
pub(super) struct Form {
    pub(super) values: Values,
    pub(super) tried: bool,
    /// What the learner had typed before a step was loaded to be changed, given back after.
    pub(super) before_change: Option<Box<Values>>,
}

pub(super) enum FormMsg {
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
pub(super) struct Ctx<'a> {
    pub(super) id: &'a str,
    pub(super) lang: Lang,
    pub(super) form: &'a UseReducerHandle<Form>,
    /// Adds a step, then clears the given fields of the form that made it.
    pub(super) add: &'a Callback<(Action, &'static [Field])>,
    /// Whether another step fits in the draft.
    pub(super) room: bool,
    /// The step being changed: the forms replace it instead of adding one.
    pub(super) editing: Option<usize>,
    /// The steps taken before the learner's (a troubleshooting exercise's broken lab): the
    /// forms offer what they left, such as their rules to remove.
    pub(super) setup: &'a [Action],
}

/// A field's problems: `(field, message)`, the first one first.
pub(super) type Problems = Vec<(Field, String)>;

impl Ctx<'_> {
    pub(super) fn field_id(&self, field: Field) -> String {
        format!("{}-{}", self.id, field.id())
    }

    /// The field as typed, or `default` when blank.
    pub(super) fn get(&self, field: Field, default: &str) -> String {
        match self.form.values.get(field).trim() {
            "" => default.to_string(),
            typed => typed.to_string(),
        }
    }

    /// The chosen option of a select (the first when the choice is not, or no longer, offered).
    pub(super) fn pick(&self, field: Field, options: &[(String, String)]) -> String {
        let value = self.form.values.get(field).as_str();
        options
            .iter()
            .find(|o| o.0 == value)
            .or(options.first())
            .map(|o| o.0.clone())
            .unwrap_or_default()
    }

    /// The message to show at `field`: once the learner typed there or tried to add.
    pub(super) fn message(&self, field: Field, problems: &Problems) -> Option<String> {
        problems
            .iter()
            .find(|p| p.0 == field)
            .filter(|_| self.form.tried || !self.form.values.get(field).trim().is_empty())
            .map(|p| p.1.clone())
    }

    pub(super) fn input(
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

    pub(super) fn select(&self, field: Field, label: Text, options: &[(String, String)]) -> Html {
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
    pub(super) fn form(
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
    pub(super) fn submit_label(&self, button: Text) -> String {
        match self.editing {
            Some(i) => {
                let at = i + 1;
                say!(self.lang, "Replace step {at}", "단계 {at} 바꾸기")
            }
            None => button.get(self.lang).to_string(),
        }
    }

    /// One button per ready-made step.
    pub(super) fn buttons(&self, steps: Vec<Action>) -> Html {
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
pub(super) fn focus_within(root: &web_sys::Element, id: &str) {
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
