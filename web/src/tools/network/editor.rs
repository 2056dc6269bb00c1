//! The lab's editor: the forms that turn a learner's change (a VM, a NIC's mode, a NAT
//! Network, a forwarding rule, a NAT's behaviour, a test packet) into a [`NetEdit`], tried by
//! running the whole lab again before it is kept, and what the last edit said.

use super::*;
use crate::editor::rule_input::{self, Reading};
use labvisor_core::lang::particle::eul_reul;

/// The editor's view of the app and its own fields.
pub(super) struct EditorCtx {
    pub(super) app: crate::app::AppHandle,
    pub(super) lang: Lang,
    pub(super) lab: Rc<Lab>,
    pub(super) feedback: UseStateHandle<Option<Feedback>>,
    /// The VM whose removal waits for the learner's confirmation.
    pub(super) confirm_remove: UseStateHandle<Option<String>>,
    pub(super) rule_text: UseStateHandle<String>,
    /// The rule the lab last refused, said under the rule line while the line still holds it.
    pub(super) rule_refused: UseStateHandle<Option<RuleRefusal>>,
    pub(super) rule_target: UseStateHandle<usize>,
    pub(super) nat_choice: UseStateHandle<usize>,
    pub(super) send_from: UseStateHandle<String>,
    pub(super) send_to: UseStateHandle<String>,
    pub(super) send_proto: UseStateHandle<Proto>,
    pub(super) send_port: UseStateHandle<String>,
}

/// An edit of the edit list: what it says when kept, or why it cannot be made.
pub(super) type EditFn<'a> = dyn Fn(&mut Vec<NetEdit>) -> Result<Option<Feedback>, EditError> + 'a;

/// A forwarding rule the lab refused to add.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RuleRefusal {
    /// The line as it was submitted.
    text: String,
    /// The rule target it was submitted for (its place in [`rule_targets`]).
    target: usize,
    /// The lab it was refused by (scenario and edits): another lab may take it.
    lab: (String, Vec<NetEdit>),
    /// The engine's reason; `None` when the line itself did not read as a rule to add (the
    /// reading under the line says why).
    engine: Option<EditError>,
}

/// Tries an edit of the edit list by running the whole lab again; stores it and moves the
/// player to its first new step (`first_new`) when the engine accepts it, else says why.
pub(super) fn apply_edit(
    app: &crate::app::AppHandle,
    feedback: &UseStateHandle<Option<Feedback>>,
    first_new: u32,
    edit: &EditFn<'_>,
) {
    feedback.set(try_edit(app, first_new, edit).unwrap_or_else(|e| Some(Feedback::Error(e))));
}

/// [`apply_edit`] that hands the refusal back instead of showing it in the panel: what the
/// kept edit says, or why the engine refused it.
pub(super) fn try_edit(
    app: &crate::app::AppHandle,
    first_new: u32,
    edit: &EditFn<'_>,
) -> Result<Option<Feedback>, EditError> {
    let state = &app.lab.network;
    let mut edits = state.edits.clone();
    let said = edit(&mut edits)?;
    if edits.len() > crate::lab::MAX_NET_EDITS {
        return Err(EditError::TooMany);
    }
    let new = load(&state.example, &edits)?;
    let step = first_new.min(new.steps.len().saturating_sub(1) as u32);
    app.dispatch(crate::app::Action::EditLab(Rc::new(move |lab| {
        lab.network.edits = edits.clone();
        lab.network.step = step;
    })));
    Ok(said)
}

pub(super) fn commit<E: 'static>(
    ctx: &EditorCtx,
    edit: impl Fn(&mut Vec<NetEdit>) -> Result<Option<Feedback>, EditError> + 'static,
) -> Callback<E> {
    let (app, feedback) = (ctx.app.clone(), ctx.feedback.clone());
    let first_new = ctx.lab.steps.len() as u32;
    Callback::from(move |_: E| apply_edit(&app, &feedback, first_new, &edit))
}

/// The text in the `<input>` with this id.
pub(super) fn field(id: &str) -> String {
    use wasm_bindgen::JsCast;
    let element = crate::browser::document().and_then(|d| d.get_element_by_id(id));
    match element.map(|e| e.dyn_into::<web_sys::HtmlInputElement>()) {
        Some(Ok(input)) => input.value(),
        Some(Err(e)) => e
            .dyn_into::<web_sys::HtmlSelectElement>()
            .map(|select| select.value())
            .unwrap_or_default(),
        None => String::new(),
    }
}

/// A form that, when submitted (Enter or its button), runs the engine action `make` builds
/// from the text of its input `id` (`None`: nothing to do).
pub(super) fn submit(
    ctx: &EditorCtx,
    id: &str,
    make: impl Fn(String) -> Result<Option<Action>, EditError> + 'static,
) -> Callback<SubmitEvent> {
    let (app, feedback, id) = (ctx.app.clone(), ctx.feedback.clone(), id.to_string());
    let first_new = ctx.lab.steps.len() as u32;
    Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        let action = make(field(&id).trim().to_string());
        apply_edit(&app, &feedback, first_new, &move |edits| {
            if let Some(a) = action.clone()? {
                edits.push(NetEdit::Act(a));
            }
            Ok(None)
        });
    })
}

/// The network names offered for a mode that attaches to a named network: the ones the lab
/// has, and VirtualBox's defaults.
pub(super) fn network_names(t: &Topology, key: &str) -> Vec<String> {
    let mut names: Vec<String> = match key {
        "natnetwork" => t.nat_networks.iter().map(|n| n.name.clone()).collect(),
        "hostonly" => [DEFAULT_HOST_ONLY, "vboxnet1", WINDOWS_HOST_ONLY]
            .map(String::from)
            .to_vec(),
        _ => vec!["intnet".into()],
    };
    for nic in t.nodes.iter().flat_map(|n| &n.nics) {
        if let Attach::Vbox(m) = &nic.attach {
            if let Some(n) = network_of(m).filter(|_| mode_key(m) == key) {
                if !names.iter().any(|x| x == n) {
                    names.push(n.to_string());
                }
            }
        }
    }
    names
}

/// The named network a mode attaches to.
pub fn network_of(m: &Mode) -> Option<&str> {
    match m {
        Mode::NatNetwork(n) | Mode::HostOnly(n) | Mode::Internal(n) => Some(n),
        _ => None,
    }
}

/// The same kind of attachment, to the network `name`.
pub fn with_network(m: &Mode, name: &str) -> Option<Mode> {
    let name = name.to_string();
    Some(match m {
        Mode::NatNetwork(_) => Mode::NatNetwork(name),
        Mode::HostOnly(_) => Mode::HostOnly(name),
        Mode::Internal(_) => Mode::Internal(name),
        _ => return None,
    })
}

/// A mode in the learner's language, with its network's name: the Korean is the core's, the
/// English names the mode as the mode menu does ("Host-only adapter vboxnet0").
pub(super) fn mode_label(lang: Lang, m: &Mode) -> String {
    if lang == Lang::Ko {
        return m.name_in(lang);
    }
    let kind = MODES
        .iter()
        .find(|(k, _)| *k == mode_key(m))
        .map_or("", |(_, t)| t.get(lang));
    match network_of(m) {
        Some(n) => format!("{kind} {n}"),
        None => kind.to_string(),
    }
}

/// What a removal takes with it, in the learner's language, one item each.
pub(super) fn removal_lines(lang: Lang, r: &Removal) -> Vec<String> {
    r.nics
        .iter()
        .map(|(nic, m)| format!("{} {nic} ({})", NIC.get(lang), mode_label(lang, m)))
        .chain(
            r.rules
                .iter()
                .map(|(t, rule)| format!("{} {rule} — {t}", RULE_ON.get(lang))),
        )
        .collect()
}

#[cfg(test)]
pub(super) fn removal_text(lang: Lang, r: &Removal) -> String {
    removal_lines(lang, r).join("; ")
}

pub(super) fn removal_items(lang: Lang, r: &Removal) -> Html {
    html! {
        <ul class="lv-net-removal">
            { for removal_lines(lang, r).into_iter().map(|l| html! { <li>{ l }</li> }) }
        </ul>
    }
}

pub(super) fn editor(ctx: &EditorCtx) -> Html {
    let lang = ctx.lang;
    let undo = commit(ctx, |edits| {
        edits.pop();
        Ok(None)
    });
    let clear = commit(ctx, |edits| {
        edits.clear();
        Ok(None)
    });
    let edits_n = ctx.app.lab.network.edits.len();

    html! {
        <section class="lv-panel lv-net-edit" aria-labelledby="lv-net-edit-title">
            <h2 id="lv-net-edit-title">{ EDIT.get(lang) }</h2>
            if let Some(f) = &*ctx.feedback {
                { feedback_view(lang, f) }
            }
            <div class="lv-net-edit-grid">
            { vms_part(ctx) }
            { forwards_part(ctx) }
            { behaviour_part(ctx) }
            { send_part(ctx) }
            </div>
            <div class="lv-row">
                <button class="lv-button lv-ghost" onclick={undo} disabled={edits_n == 0}>{ UNDO.get(lang) }</button>
                <button class="lv-button lv-ghost" onclick={clear} disabled={edits_n == 0}>{ CLEAR.get(lang) }</button>
                <span class="lv-muted">{ edits_count(lang, edits_n) }</span>
            </div>
        </section>
    }
}

/// The VMs with their cards, a button to add one, and the NAT Networks with the form that
/// creates one.
fn vms_part(ctx: &EditorCtx) -> Html {
    let lang = ctx.lang;
    let lab = &ctx.lab;
    let topo = lab.network.topology();
    let vms: Vec<&NodeSpec> = topo
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Vm)
        .collect();
    let hosts: Vec<String> = topo
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Host)
        .map(|n| n.name.clone())
        .collect();
    let add_vm = {
        let (name, host) = (next_vm_name(topo), hosts.first().cloned());
        commit(ctx, move |edits| {
            let host = host.clone().ok_or(EditError::NoHost)?;
            edits.push(NetEdit::Act(Action::AddVm {
                name: name.clone(),
                host,
            }));
            Ok(None)
        })
    };
    let create_natnet = {
        let (app, feedback, only_host) = (
            ctx.app.clone(),
            ctx.feedback.clone(),
            (hosts.len() == 1).then(|| hosts[0].clone()),
        );
        let first_new = lab.steps.len() as u32;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (name, cidr) = (field("lv-net-nn-name"), field("lv-net-nn-cidr"));
            // With several hosts the learner picks one; a NAT Network lives in one host's
            // VirtualBox, like its VMs.
            let host = only_host
                .clone()
                .or_else(|| Some(field("lv-net-nn-host")).filter(|h| !h.is_empty()));
            apply_edit(&app, &feedback, first_new, &move |edits| {
                let cidr = cidr
                    .trim()
                    .parse()
                    .map_err(|_| EditError::Prefix(cidr.trim().to_string()))?;
                edits.push(NetEdit::Act(Action::AddNatNetwork {
                    name: name.trim().to_string(),
                    cidr,
                    host: host.clone().ok_or(EditError::NoHost)?,
                }));
                Ok(None)
            });
        })
    };
    html! {
        <div class="lv-net-edit-part" role="group" aria-labelledby="lv-net-vms-title">
            <h3 id="lv-net-vms-title">{ VMS.get(lang) }</h3>
            <div class="lv-net-vms">
                { for vms.iter().enumerate().map(|(i, vm)| vm_card(ctx, i, vm, &hosts)) }
            </div>
            <button class="lv-button" onclick={add_vm} id="lv-net-add-vm">{ ADD_VM.get(lang) }</button>
            <h3 id="lv-net-nn-title">{ NAT_NETWORKS.get(lang) }</h3>
            <ul class="lv-net-rules">
                { for topo.nat_networks.iter().map(|n| html! { <li class="lv-mono">{ format!("{} {} ({})", n.name, n.cidr, n.host) }</li> }) }
            </ul>
            <form class="lv-row" onsubmit={create_natnet} aria-labelledby="lv-net-nn-title">
                <label class="lv-label" for="lv-net-nn-name">{ NAME.get(lang) }</label>
                <input id="lv-net-nn-name" class="lv-input lv-mono" size="12" placeholder="NatNetwork2" spellcheck="false" autocomplete="off" />
                <label class="lv-label" for="lv-net-nn-cidr">{ CIDR.get(lang) }</label>
                <input id="lv-net-nn-cidr" class="lv-input lv-mono" size="12" value="10.0.2.0/24" spellcheck="false" autocomplete="off" />
                if hosts.len() > 1 {
                    <label class="lv-label" for="lv-net-nn-host">{ HOST.get(lang) }</label>
                    <select id="lv-net-nn-host" class="lv-select">
                        { for hosts.iter().map(|h| html! { <option value={h.clone()}>{ h.clone() }</option> }) }
                    </select>
                }
                <button class="lv-button">{ CREATE_NATNET.get(lang) }</button>
            </form>
        </div>
    }
}

/// The forwarding rules of the chosen VM NIC, NAT Network or router, and the field that adds
/// one in VirtualBox or QEMU syntax.
fn forwards_part(ctx: &EditorCtx) -> Html {
    let lang = ctx.lang;
    let topo = ctx.lab.network.topology();
    let targets = rule_targets(topo);
    let target_i = (*ctx.rule_target).min(targets.len().saturating_sub(1));
    let existing: Vec<PortForward> = targets
        .get(target_i)
        .map(|(_, _, rules)| rules.clone())
        .unwrap_or_default();
    // The same line as in the exercises: it says which form it read, or what is wrong. A NAT
    // Network's rules must name their guest, as the engine requires.
    let needs_guest = matches!(
        targets.get(target_i),
        Some((RuleTarget::NatNetwork { .. }, _, _))
    );
    let reading = rule_input::read(lang, &ctx.rule_text, &existing, needs_guest);
    // A refusal is said under the line, once, while the line still holds the refused rule.
    let refused = ctx
        .rule_refused
        .as_ref()
        .filter(|r| {
            let now = &ctx.app.lab.network;
            r.text == *ctx.rule_text
                && r.target == target_i
                && r.lab.0 == now.example
                && r.lab.1 == now.edits
        })
        .map(|r| match (&r.engine, &reading) {
            (Some(e), _) => render_error(lang, e),
            (None, Reading::Empty) => NO_RULE.get(lang).to_string(),
            (None, _) => reading.said(lang),
        });
    let on_rule_text = {
        let t = ctx.rule_text.clone();
        Callback::from(move |text: String| t.set(text))
    };
    let on_rule_submit = {
        let (app, feedback) = (ctx.app.clone(), ctx.feedback.clone());
        let (refusal, line) = (ctx.rule_refused.clone(), ctx.rule_text.clone());
        let text = (*ctx.rule_text).clone();
        let target = targets.get(target_i).cloned();
        let readable = reading.rule().is_some();
        let first_new = ctx.lab.steps.len() as u32;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some((target, _, existing)) = &target else {
                return;
            };
            let outcome = if readable {
                try_edit(&app, first_new, &|edits| {
                    let edit = forward_edit(target, &text, existing)?;
                    let said = match &edit {
                        NetEdit::Act(Action::AddForward { rule, .. }) => {
                            Some(Feedback::Added(rule.clone()))
                        }
                        _ => None,
                    };
                    edits.push(edit);
                    Ok(said)
                })
                .map_err(Some)
            } else {
                Err(None)
            };
            match outcome {
                Ok(said) => {
                    feedback.set(said);
                    refusal.set(None);
                    line.set(String::new());
                }
                Err(engine) => {
                    // The panel's own line would say it a second time.
                    feedback.set(None);
                    let now = &app.lab.network;
                    refusal.set(Some(RuleRefusal {
                        text: text.clone(),
                        target: target_i,
                        lab: (now.example.clone(), now.edits.clone()),
                        engine,
                    }));
                }
            }
        })
    };
    let on_target = {
        let t = ctx.rule_target.clone();
        Callback::from(move |e: DomEvent| t.set(input_value(&e).parse().unwrap_or(0)))
    };

    html! {
        <div class="lv-net-edit-part" role="group" aria-labelledby="lv-net-pf-title">
            <h3 id="lv-net-pf-title">{ FORWARDS.get(lang) }</h3>
            if targets.is_empty() {
                <p class="lv-muted">{ NO_TARGET.get(lang) }</p>
            } else {
                <div class="lv-row">
                    <label class="lv-label" for="lv-net-pf-target">{ WHERE.get(lang) }</label>
                    <select id="lv-net-pf-target" class="lv-select" onchange={on_target}>
                        { for targets.iter().enumerate().map(|(i, (_, label, _))| html! {
                            <option value={i.to_string()} selected={i == target_i}>{ label.clone() }</option>
                        }) }
                    </select>
                </div>
                <ul class="lv-net-rules">
                    { for targets.get(target_i).into_iter().flat_map(|(t, _, rules)| rules.iter().map(move |r| (t.clone(), r.clone()))).map(|(target, rule)| {
                        let name = rule.name.clone();
                        let remove = commit(ctx, move |edits| {
                            edits.push(NetEdit::Act(Action::RemoveForward { target: target.clone(), name: name.clone() }));
                            Ok(None)
                        });
                        html! {
                            <li class="lv-row">
                                <code class="lv-mono">{ rule.to_string() }</code>
                                <span class="lv-muted lv-mono">{ rule.to_qemu() }</span>
                                <button class="lv-button lv-ghost" onclick={remove}
                                    aria-label={format!("{} {}", REMOVE.get(lang), rule.name)}>{ REMOVE.get(lang) }</button>
                            </li>
                        }
                    }) }
                </ul>
                <form class="lv-row lv-rule-form" onsubmit={on_rule_submit} novalidate=true>
                    { rule_input::field(lang, "lv-net-pf-rule", &ctx.rule_text, &reading, refused.as_deref(), on_rule_text) }
                    <button class="lv-button" type="submit">{ ADD_RULE.get(lang) }</button>
                </form>
            }
        </div>
    }
}

/// The chosen NAT's RFC 4787 mapping and filtering, and the probe that shows the filtering.
fn behaviour_part(ctx: &EditorCtx) -> Html {
    let lang = ctx.lang;
    let lab = &ctx.lab;
    let nats = configurable_nats(lab.network.topology());
    let nat_i = (*ctx.nat_choice).min(nats.len().saturating_sub(1));
    let current_nat = nats.get(nat_i).and_then(|n| {
        lab.network
            .nats()
            .get(n)
            .map(|t| (n.clone(), t.config().clone()))
    });
    let behaviour_select = |which: &'static str, now: Behavior| {
        let (app, feedback) = (ctx.app.clone(), ctx.feedback.clone());
        let nat = current_nat.as_ref().map(|(n, c)| (n.clone(), c.clone()));
        let onchange = Callback::from(move |e: DomEvent| {
            let Some((nat, config)) = nat.clone() else {
                return;
            };
            let Some(b) = behaviour_from_key(&input_value(&e)) else {
                return;
            };
            let (mapping, filtering) = if which == "mapping" {
                (b, config.filtering)
            } else {
                (config.mapping, b)
            };
            let keep = app.lab.network.step;
            apply_edit(&app, &feedback, keep, &move |edits| {
                edits.retain(|e| !matches!(e, NetEdit::SetNat { nat: n, .. } if *n == nat));
                edits.insert(
                    0,
                    NetEdit::SetNat {
                        nat: nat.clone(),
                        mapping,
                        filtering,
                    },
                );
                Ok(None)
            });
        });
        let id = format!("lv-net-{which}");
        html! {
            <div class="lv-row">
                <label class="lv-label" for={id.clone()}>{ if which == "mapping" { MAPPING.get(lang) } else { FILTERING.get(lang) } }</label>
                <select id={id} class="lv-select" onchange={onchange}>
                    { for BEHAVIOURS.iter().map(|(key, b, label)| html! {
                        <option value={*key} selected={*b == now}>{ label.get(lang) }</option>
                    }) }
                </select>
            </div>
        }
    };
    let on_nat_choice = {
        let t = ctx.nat_choice.clone();
        Callback::from(move |e: DomEvent| t.set(input_value(&e).parse().unwrap_or(0)))
    };
    let probe = current_nat.as_ref().and_then(|(n, _)| filter_probe(lab, n));
    let send_probe = {
        let spec = probe.clone();
        commit(ctx, move |edits| {
            if let Some(spec) = &spec {
                edits.push(NetEdit::Act(Action::Send(spec.clone())));
            }
            Ok(None)
        })
    };

    html! {
        <div class="lv-net-edit-part" role="group" aria-labelledby="lv-net-natb-title">
            <h3 id="lv-net-natb-title">{ BEHAVIOUR.get(lang) }</h3>
            if let Some((nat, config)) = &current_nat {
                if nats.len() > 1 {
                    <div class="lv-row">
                        <label class="lv-label" for="lv-net-nat">{ "NAT" }</label>
                        <select id="lv-net-nat" class="lv-select" onchange={on_nat_choice}>
                            { for nats.iter().enumerate().map(|(i, n)| html! { <option value={i.to_string()} selected={i == nat_i}>{ n.clone() }</option> }) }
                        </select>
                    </div>
                }
                { behaviour_select("mapping", config.mapping) }
                { behaviour_select("filtering", config.filtering) }
                <p class="lv-net-cone" aria-live="polite">
                    { format!("{nat}: ") }<strong>{ cone_label(lang, config.mapping, config.filtering) }</strong>
                </p>
                <button class="lv-button" onclick={send_probe} disabled={probe.is_none()}>{ PROBE.get(lang) }</button>
                if let Some(p) = &probe {
                    <p class="lv-muted lv-mono">{ format!("{} → {}:{} ({})", p.from, p.to, p.dport, p.proto) }</p>
                } else {
                    <p class="lv-muted">{ NO_PROBE.get(lang) }</p>
                }
            } else {
                <p class="lv-muted">{ NO_CONFIGURABLE_NAT.get(lang) }</p>
            }
        </div>
    }
}

/// A test packet: from which machine, to what address and port, over which protocol.
fn send_part(ctx: &EditorCtx) -> Html {
    let lang = ctx.lang;
    let lab = &ctx.lab;
    let senders: Vec<String> = lab
        .network
        .fabric()
        .nodes
        .iter()
        .filter(|n| matches!(n.role, Role::Machine { .. }))
        .map(|n| n.name.clone())
        .collect();
    let from = if senders.contains(&*ctx.send_from) {
        (*ctx.send_from).clone()
    } else {
        senders.first().cloned().unwrap_or_default()
    };
    let send = {
        let (from, to, proto, port) = (
            from.clone(),
            (*ctx.send_to).clone(),
            *ctx.send_proto,
            (*ctx.send_port).clone(),
        );
        commit(ctx, move |edits| {
            let port = if proto == Proto::Icmp {
                0
            } else {
                port.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| EditError::Port(port.trim().to_string()))?
            };
            let n = edits.len();
            edits.push(send_edit(&from, &to, proto, port, n)?);
            Ok(None)
        })
    };
    let set_text = |h: &UseStateHandle<String>| {
        let h = h.clone();
        Callback::from(move |e: InputEvent| h.set(input_value(&e)))
    };
    let on_from = {
        let h = ctx.send_from.clone();
        Callback::from(move |e: DomEvent| h.set(input_value(&e)))
    };
    let on_proto = {
        let h = ctx.send_proto.clone();
        Callback::from(move |e: DomEvent| {
            if let Ok(p) = input_value(&e).parse::<Proto>() {
                h.set(p)
            }
        })
    };
    html! {
        <div class="lv-net-edit-part" role="group" aria-labelledby="lv-net-send-title">
            <h3 id="lv-net-send-title">{ SEND.get(lang) }</h3>
            <div class="lv-row">
                <label class="lv-label" for="lv-net-send-from">{ FROM.get(lang) }</label>
                <select id="lv-net-send-from" class="lv-select" onchange={on_from}>
                    { for senders.iter().map(|n| html! { <option value={n.clone()} selected={*n == from}>{ n.clone() }</option> }) }
                </select>
                <label class="lv-label" for="lv-net-send-proto">{ PROTO.get(lang) }</label>
                <select id="lv-net-send-proto" class="lv-select" onchange={on_proto}>
                    { for [Proto::Tcp, Proto::Udp, Proto::Icmp].iter().map(|p| html! { <option value={p.to_string()} selected={*p == *ctx.send_proto}>{ p.to_string() }</option> }) }
                </select>
            </div>
            <div class="lv-row">
                <label class="lv-label" for="lv-net-send-to">{ TO.get(lang) }</label>
                <input id="lv-net-send-to" class="lv-input lv-mono" value={(*ctx.send_to).clone()} oninput={set_text(&ctx.send_to)} spellcheck="false" />
                <label class="lv-label" for="lv-net-send-port">{ PORT.get(lang) }</label>
                <input id="lv-net-send-port" class="lv-input lv-mono" inputmode="numeric" size="6" value={(*ctx.send_port).clone()} oninput={set_text(&ctx.send_port)} />
                <button class="lv-button" onclick={send}>{ SEND_BUTTON.get(lang) }</button>
            </div>
        </div>
    }
}

pub(super) fn feedback_view(lang: Lang, f: &Feedback) -> Html {
    match f {
        Feedback::Error(e) => html! {
            <p id="lv-net-feedback" class="lv-field-error" role="alert">{ render_error(lang, e) }</p>
        },
        Feedback::Removed(what, removal) => html! {
            <div id="lv-net-feedback" class="lv-net-ok" role="status">
                <p>{ match lang { Lang::En => format!("Removed {what}."), Lang::Ko => format!("{} 삭제했습니다.", eul_reul(what)) } }</p>
                if !removal.nics.is_empty() || !removal.rules.is_empty() {
                    <p>{ WITH_IT.get(lang) }</p>
                    { removal_items(lang, removal) }
                }
            </div>
        },
        Feedback::Added(rule) => html! {
            <div id="lv-net-feedback" role="status">
                <p class="lv-net-ok">{ format!("{} {rule} ({})", ADDED.get(lang), rule.to_qemu()) }</p>
                if rule.needs_privilege() {
                    <p class="lv-net-warn">{ privileged_warning(lang, rule.host_port) }</p>
                }
            </div>
        },
    }
}

pub(super) const MODES: [(&str, Text); 6] = [
    ("none", Text::new("Not attached", "연결되지 않음")),
    ("nat", Text::new("NAT", "NAT")),
    ("natnetwork", Text::new("NAT Network", "NAT 네트워크")),
    ("bridged", Text::new("Bridged adapter", "어댑터에 브리지")),
    (
        "hostonly",
        Text::new("Host-only adapter", "호스트 전용 어댑터"),
    ),
    ("internal", Text::new("Internal network", "내부 네트워크")),
];
pub(super) const BEHAVIOURS: [(&str, Behavior, Text); 3] = [
    (
        "eim",
        Behavior::EndpointIndependent,
        Text::new("Endpoint-independent", "엔드포인트 독립"),
    ),
    (
        "adm",
        Behavior::AddressDependent,
        Text::new("Address-dependent", "주소 종속"),
    ),
    (
        "apdm",
        Behavior::AddressAndPortDependent,
        Text::new("Address-and-port-dependent", "주소·포트 종속"),
    ),
];
pub(super) const EDIT: Text = Text::new("Edit the lab", "실습 편집");
pub(super) const VMS: Text = Text::new("VMs and their NICs", "VM과 NIC");
pub(super) const MODE: Text = Text::new("attachment mode", "연결 방식");
pub(super) const ADD_VM: Text = Text::new("Add a VM", "VM 추가");
pub(super) const NAME: Text = Text::new("Name", "이름");
pub(super) const NAT_NETWORKS: Text = Text::new("NAT Networks", "NAT 네트워크");
pub(super) const CIDR: Text = Text::new("Network", "네트워크 주소");
pub(super) const CREATE_NATNET: Text = Text::new("Create NAT Network", "NAT 네트워크 만들기");
pub(super) const RENAME: Text = Text::new("Rename", "이름 바꾸기");
pub(super) const HOST: Text = Text::new("Host", "호스트");
pub(super) const NIC: Text = Text::new("NIC", "NIC");
pub(super) const ADD_NIC: Text = Text::new("Add a NIC", "NIC 추가");
pub(super) const REMOVE_VM: Text = Text::new("Remove VM", "VM 삭제");
pub(super) const CANCEL: Text = Text::new("Cancel", "취소");
pub(super) const APPLY: Text = Text::new("Apply", "적용");
pub(super) const NETWORK_NAME: Text = Text::new("Network name", "네트워크 이름");
pub(super) const STATIC_ADDR: Text = Text::new(
    "Static address (set in the guest; empty: DHCP)",
    "고정 주소 (게스트 안에서 설정, 비우면 DHCP)",
);
pub(super) const RULE_ON: Text = Text::new("Forwarding rule", "포트 포워딩 규칙");
pub(super) const WITH_IT: Text = Text::new("With it went:", "함께 삭제된 것:");
pub(super) const NOT_ATTACHED_NOW: Text =
    Text::new("no cable plugged in", "케이블이 연결되지 않음");
pub(super) const NO_ADDRESS: Text = Text::new(
    "no address (no DHCP server here)",
    "주소 없음 (이 네트워크에는 DHCP 서버가 없음)",
);
pub(super) const FORWARDS: Text = Text::new("Port forwarding", "포트 포워딩");
pub(super) const NO_TARGET: Text = Text::new(
    "No NAT here to forward through: set a VM's NIC to NAT first.",
    "포워딩할 NAT가 없습니다. 먼저 VM의 NIC을 NAT로 바꾸세요.",
);
pub(super) const WHERE: Text = Text::new("On", "대상");
pub(super) const ADD_RULE: Text = Text::new("Add rule", "규칙 추가");
pub(super) const NO_RULE: Text = Text::new("Type a rule first.", "먼저 규칙을 입력하세요.");
pub(super) const ADDED: Text = Text::new("Added rule", "규칙을 추가했습니다:");
pub(super) const REMOVE: Text = Text::new("Remove", "삭제");
pub(super) const BEHAVIOUR: Text =
    Text::new("NAT behaviour (RFC 4787)", "NAT 동작 방식 (RFC 4787)");
pub(super) const MAPPING: Text = Text::new("Mapping", "매핑");
pub(super) const FILTERING: Text = Text::new("Filtering", "필터링");
pub(super) const PROBE: Text = Text::new(
    "Send from another outside host to the mapped port",
    "다른 외부 호스트에서 매핑된 포트로 보내기",
);
pub(super) const NO_PROBE: Text = Text::new(
    "The NAT has no connection yet (or no other outside host): play a scenario that opens one.",
    "NAT에 아직 연결이 없습니다(또는 다른 외부 호스트가 없습니다). 연결을 여는 시나리오를 고르세요.",
);
pub(super) const NO_CONFIGURABLE_NAT: Text = Text::new(
    "No router NAT or NAT Network here (a VM's own NAT engine behaves as VirtualBox's does).",
    "여기에는 라우터 NAT나 NAT 네트워크가 없습니다(VM의 NAT 엔진은 VirtualBox의 동작을 따릅니다).",
);
pub(super) const SEND: Text = Text::new("Send a test packet", "테스트 패킷 보내기");
pub(super) const FROM: Text = Text::new("From", "보내는 곳");
pub(super) const TO: Text = Text::new("To", "받는 주소");
pub(super) const PROTO: Text = Text::new("Protocol", "프로토콜");
pub(super) const PORT: Text = Text::new("Port", "포트");
pub(super) const SEND_BUTTON: Text = Text::new("Send", "보내기");
pub(super) const UNDO: Text = Text::new("Undo last edit", "마지막 편집 되돌리기");
pub(super) const CLEAR: Text = Text::new("Remove my edits", "내 편집 모두 지우기");
/// How many edits the learner has made: "1 edit", "3 edits", "편집 3개".
pub(super) fn edits_count(lang: Lang, n: usize) -> String {
    match (lang, n) {
        (Lang::En, 1) => "1 edit".to_string(),
        (Lang::En, n) => format!("{n} edits"),
        (Lang::Ko, n) => format!("편집 {n}개"),
    }
}
