//! The network lab: a ready scenario from `labvisor_core::net`, drawn as an SVG topology,
//! with the packet trace played step by step (play, pause, step forward and back) and the NAT
//! tables as they stand after the current action, both like `conntrack -L` and like Cisco's
//! `show ip nat translations`. Every fact comes from the engine: the page replays the same
//! deterministic network up to the current action.
//!
//! The lab is editable: the learner's edits ([`NetEdit`]) are design changes to the scenario's
//! topology (a VM added, a NAT's RFC 4787 behaviour) and engine actions appended after the
//! scenario's own (a NIC's mode, forwarding rules typed in VirtualBox or QEMU syntax, test
//! packets). Every edit is tried by running the whole lab again before it is kept, so the
//! engine's refusal is what the learner reads.

use std::collections::BTreeMap;
use std::rc::Rc;

use std::net::Ipv4Addr;

use labvisor_core::lang::{Explain, Lang, Text};
use labvisor_core::net::forward::{ForwardError, PortForward};
use labvisor_core::net::nat::{cone_name, Behavior};
use labvisor_core::net::packet::Proto;
use labvisor_core::net::scenario::{self, Scenario};
use labvisor_core::net::sim::{
    Action, ActionError, Network, Removal, RuleTarget, SendSpec, MAX_ADAPTERS,
};
use labvisor_core::net::topology::{
    Attach, Fabric, NatId, Nic, NicSpec, Node, NodeKind, NodeSpec, Problem, Role, SegmentKind,
    Topology,
};
use labvisor_core::net::trace::{Event, Step};
use labvisor_core::net::vbox::{Mode, DEFAULT_HOST_ONLY, WINDOWS_HOST_ONLY};
use yew::prelude::*;
use yew::Event as DomEvent;

use super::common::{input_number, input_value, ToolPage};
use crate::app::{edit_lab, use_app, use_completion};
use crate::lab::NetEdit;

/// One scenario with the learner's edits, run once.
pub struct Lab {
    pub scenario: Scenario,
    /// The topology the run started from (the scenario's, with the design edits).
    pub topology: Topology,
    /// Every action run: the scenario's, then the learner's.
    pub actions: Vec<Action>,
    /// The network after the last action.
    pub network: Network,
    /// Every step in order, with the index of the action it belongs to (`None` for DHCP).
    pub steps: Vec<(Option<usize>, Step)>,
}

/// Why the lab could not be built or an edit was refused. Carries the core's values, so it
/// can be rendered in either language.
#[derive(Clone, Debug, PartialEq)]
pub enum EditError {
    /// The shipped example failed to load (a build problem, English only).
    Scenario(String),
    /// The edits make the topology invalid (the core's problems).
    Topology(Vec<Problem>),
    /// The engine refused an action (described in the learner's language when shown).
    Action(Box<Action>, ActionError),
    /// A VM needs a host to run on.
    NoHost,
    /// No such NAT to configure.
    UnknownNat(String),
    /// The forwarding rule did not parse.
    Rule(ForwardError),
    /// The rule clashes with an existing one (`same_name`: by name, else by host port).
    Conflict {
        rule: PortForward,
        with: PortForward,
        same_name: bool,
    },
    /// The destination of a test packet is not an IPv4 address.
    Address(String),
    /// A test packet's port is not in 1–65535.
    Port(String),
    /// A static address is not `a.b.c.d/prefix`.
    Prefix(String),
    /// The lab keeps at most [`crate::lab::MAX_NET_EDITS`] edits.
    TooMany,
}

/// Parses and runs the example `name` (shipped inside the core) with the learner's `edits`.
pub fn load(name: &str, edits: &[NetEdit]) -> Result<Lab, EditError> {
    let scenario = crate::bundle::example(name)
        .ok_or_else(|| EditError::Scenario(format!("no example named {name:?}")))?;
    let mut topology = scenario.topology.clone();
    for edit in edits {
        design(&mut topology, edit)?;
    }
    let mut network = Network::new(topology.clone()).map_err(EditError::Topology)?;
    let mut steps: Vec<(Option<usize>, Step)> = network
        .lease_steps()
        .into_iter()
        .map(|s| (None, s))
        .collect();
    let actions: Vec<Action> = scenario
        .actions
        .iter()
        .map(|(_, a)| a.clone())
        .chain(edits.iter().filter_map(|e| match e {
            NetEdit::Act(a) => Some(a.clone()),
            _ => None,
        }))
        .collect();
    for (i, action) in actions.iter().enumerate() {
        let done = network
            .apply(action)
            .map_err(|e| EditError::Action(Box::new(action.clone()), e))?;
        steps.extend(done.into_iter().map(|s| (Some(i), s)));
    }
    Ok(Lab {
        scenario: scenario.clone(),
        topology,
        actions,
        network,
        steps,
    })
}

/// Applies a design edit to the starting topology.
fn design(t: &mut Topology, edit: &NetEdit) -> Result<(), EditError> {
    match edit {
        NetEdit::AddVm(name) => {
            let host = t
                .nodes
                .iter()
                .find(|n| n.kind == NodeKind::Host)
                .ok_or(EditError::NoHost)?
                .name
                .clone();
            t.nodes.push(NodeSpec {
                name: name.clone(),
                kind: NodeKind::Vm,
                host: Some(host),
                nics: vec![NicSpec {
                    name: "eth0".into(),
                    attach: Attach::Vbox(Mode::Nat {
                        forwards: Vec::new(),
                    }),
                    addr: None,
                    gateway: None,
                    dhcp: None,
                }],
                routes: Vec::new(),
                nat: None,
                listen: vec![(Proto::Tcp, 22)],
            });
        }
        NetEdit::SetNat {
            nat,
            mapping,
            filtering,
        } => {
            let config = match NatId::parse(nat) {
                NatId::NatNetwork(net) => t
                    .nat_networks
                    .iter_mut()
                    .find(|n| n.name == net)
                    .map(|n| &mut n.config),
                NatId::Node(node) => t
                    .nodes
                    .iter_mut()
                    .find(|n| n.name == node)
                    .and_then(|n| n.nat.as_mut())
                    .map(|n| &mut n.config),
            }
            .ok_or_else(|| EditError::UnknownNat(nat.clone()))?;
            config.mapping = *mapping;
            config.filtering = *filtering;
        }
        NetEdit::Act(_) => {}
    }
    Ok(())
}

/// The NATs whose behaviour the learner can choose: routers doing NAT and NAT Networks, by
/// their table names. (A VM's NAT engine is VirtualBox's own, not configurable.)
pub fn configurable_nats(t: &Topology) -> Vec<String> {
    t.nodes
        .iter()
        .filter(|n| n.nat.is_some())
        .map(|n| n.name.clone())
        .chain(
            t.nat_networks
                .iter()
                .map(|n| NatId::nat_network(&n.name).to_string()),
        )
        .collect()
}

/// Where forwarding rules can live, each with its label and current rules.
pub fn rule_targets(t: &Topology) -> Vec<(RuleTarget, String, Vec<PortForward>)> {
    let mut out = Vec::new();
    for n in &t.nodes {
        if let Some(nat) = &n.nat {
            out.push((
                RuleTarget::Router {
                    name: n.name.clone(),
                },
                format!("{} (NAT)", n.name),
                nat.forwards.clone(),
            ));
        }
        for nic in &n.nics {
            if let Attach::Vbox(Mode::Nat { forwards }) = &nic.attach {
                out.push((
                    RuleTarget::VmNic {
                        vm: n.name.clone(),
                        nic: nic.name.clone(),
                    },
                    format!("{} {} (NAT)", n.name, nic.name),
                    forwards.clone(),
                ));
            }
        }
    }
    for nn in &t.nat_networks {
        out.push((
            RuleTarget::NatNetwork {
                name: nn.name.clone(),
            },
            format!("NAT Network {}", nn.name),
            nn.forwards.clone(),
        ));
    }
    out
}

/// The edit adding the rule typed as `text` (VirtualBox, NAT Network or QEMU syntax) at
/// `target`, checked by the core's parser and conflict rules against `existing`.
pub fn forward_edit(
    target: &RuleTarget,
    text: &str,
    existing: &[PortForward],
) -> Result<NetEdit, EditError> {
    let rule = PortForward::parse_any(text.trim()).map_err(EditError::Rule)?;
    // Asked rule by rule, so the message can say which one clashes.
    if let Some(with) = existing
        .iter()
        .find(|o| rule.conflict_with(std::slice::from_ref(o)).is_some())
    {
        return Err(EditError::Conflict {
            same_name: with.name == rule.name,
            with: with.clone(),
            rule,
        });
    }
    Ok(NetEdit::Act(Action::AddForward {
        target: target.clone(),
        rule,
    }))
}

/// The packet that tests the NAT's filtering, as the core builds it for the lab's network.
pub fn filter_probe(lab: &Lab, nat: &str) -> Option<SendSpec> {
    lab.network.filter_probe(nat)
}

/// A test packet typed by the learner.
pub fn send_edit(
    from: &str,
    to: &str,
    proto: Proto,
    port: u16,
    n: usize,
) -> Result<NetEdit, EditError> {
    let to: Ipv4Addr = to
        .trim()
        .parse()
        .map_err(|_| EditError::Address(to.trim().to_string()))?;
    let mut spec = SendSpec::new(from, to, proto, port);
    if proto != Proto::Icmp {
        // A fresh source port per packet, so each starts its own connection.
        spec.sport = 42_000u16.saturating_add(n as u16);
    }
    Ok(NetEdit::Act(Action::Send(spec)))
}

/// The mode the select's `value` stands for (names of the networks as VirtualBox defaults).
pub fn mode_from_key(key: &str, t: &Topology) -> Option<Mode> {
    Some(match key {
        "none" => Mode::NotAttached,
        "nat" => Mode::Nat {
            forwards: Vec::new(),
        },
        "natnetwork" => Mode::NatNetwork(
            t.nat_networks
                .first()
                .map_or_else(|| "NatNetwork".to_string(), |n| n.name.clone()),
        ),
        "bridged" => Mode::Bridged,
        "hostonly" => Mode::HostOnly(DEFAULT_HOST_ONLY.into()),
        "internal" => Mode::Internal("intnet".into()),
        _ => return None,
    })
}

fn mode_key(m: &Mode) -> &'static str {
    match m {
        Mode::NotAttached => "none",
        Mode::Nat { .. } => "nat",
        Mode::NatNetwork(_) => "natnetwork",
        Mode::Bridged => "bridged",
        Mode::HostOnly(_) => "hostonly",
        Mode::Internal(_) => "internal",
    }
}

/// The first `vmN` name not taken.
pub fn next_vm_name(t: &Topology) -> String {
    (1..)
        .map(|i| format!("vm{i}"))
        .find(|n| t.node(n).is_none())
        .unwrap_or_else(|| "vm".into())
}

/// The network after the actions up to and including `action` (replayed: the engine is
/// deterministic, so this is exactly the state the trace was at).
fn network_after(lab: &Lab, action: Option<usize>) -> Option<Network> {
    let mut network = Network::new(lab.topology.clone()).ok()?;
    if let Some(last) = action {
        for a in lab.actions.iter().take(last + 1) {
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
    let lab = use_memo(
        (state.example.clone(), state.edits.clone()),
        |(name, edits)| load(name, edits).map(Rc::new),
    );
    let playing = use_state(|| false);
    let feedback = use_state(|| None::<Feedback>);
    let confirm_remove = use_state(|| None::<String>);
    // Focus follows the removal dialog: into it when it opens, to "Add a VM" when it closes
    // (its VM card may be gone).
    let was_open = use_mut_ref(|| None::<String>);
    use_effect_with((*confirm_remove).clone(), move |open| {
        let before = was_open.replace(open.clone());
        match (open, before) {
            (Some(_), _) => crate::browser::focus(".lv-net-confirm .lv-danger"),
            (None, Some(vm)) => {
                let back = format!("button[aria-expanded][data-vm=\"{vm}\"]");
                let gone = crate::browser::document()
                    .and_then(|d| d.query_selector(&back).ok().flatten())
                    .is_none();
                crate::browser::focus(if gone { "#lv-net-add-vm" } else { &back });
            }
            (None, None) => {}
        }
    });
    let rule_text = use_state(String::new);
    let rule_target = use_state(|| 0usize);
    let nat_choice = use_state(|| 0usize);
    let send_from = use_state(String::new);
    let send_to = use_state(|| "127.0.0.1".to_string());
    let send_proto = use_state(|| Proto::Tcp);
    let send_port = use_state(|| "2222".to_string());
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

    let choose = {
        let feedback = feedback.clone();
        edit_lab(&app, move |lab, e: DomEvent| {
            lab.network.example = input_value(&e);
            lab.network.step = 0;
            lab.network.edits.clear();
            feedback.set(None);
        })
    };
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
            // Only a tampered link or an old saved lab gets here: offer to drop the edits.
            let clear = edit_lab(&app, |lab, _: MouseEvent| {
                lab.network.edits.clear();
                lab.network.step = 0;
            });
            return html! {
                <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={false}>
                    <p class="lv-field-error" role="alert">{ render_error(lang, e) }</p>
                    <button class="lv-button" onclick={clear}>{ CLEAR.get(lang) }</button>
                </ToolPage>
            };
        }
    };
    let editor = editor(&EditorCtx {
        app: app.clone(),
        lang,
        lab: lab.clone(),
        feedback: feedback.clone(),
        confirm_remove: confirm_remove.clone(),
        rule_text: rule_text.clone(),
        rule_target: rule_target.clone(),
        nat_choice: nat_choice.clone(),
        send_from: send_from.clone(),
        send_to: send_to.clone(),
        send_proto: send_proto.clone(),
        send_port: send_port.clone(),
    });
    let current = lab.steps.get(at);
    let action = current.and_then(|(a, _)| *a);
    html! {
        <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={finished}>
            <section class="lv-panel lv-net-head">
                <div class="lv-row">
                    <label class="lv-label" for="lv-net-example">{ SCENARIO.get(lang) }</label>
                    <select id="lv-net-example" class="lv-select lv-grow" onchange={choose}>
                        { for crate::bundle::examples().iter().map(|(name, _)| html! {
                            <option value={name.clone()} selected={*name == state.example}>{ name.clone() }</option>
                        }) }
                    </select>
                </div>
                <h2 class="lv-net-title">{ lab.scenario.title.get(lang).to_string() }</h2>
                <p class="lv-muted lv-net-desc">{ lab.scenario.description.get(lang).to_string() }</p>
            </section>
            <div class="lv-net">
                <section class="lv-panel lv-net-diagram" aria-labelledby="lv-net-diagram-title">
                    <h2 id="lv-net-diagram-title">{ TOPOLOGY.get(lang) }</h2>
                    { diagram(lang, lab.network.fabric(), lab.network.topology(), current.map(|(_, s)| s)) }
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
                <section class="lv-panel lv-net-trace" aria-labelledby="lv-net-trace-title" tabindex="0">
                    <h2 id="lv-net-trace-title">{ TRACE.get(lang) }</h2>
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
                </section>
            </div>
            { editor }
            { nat_tables(lang, &lab, action) }
        </ToolPage>
    }
}

/// What the last edit said.
#[derive(Clone, Debug, PartialEq)]
pub enum Feedback {
    /// Refused, and why.
    Error(EditError),
    /// A forwarding rule was added (warned about when its host port is privileged).
    Added(PortForward),
    /// A VM or NIC was removed, and with it what the core said.
    Removed(String, Removal),
}

/// The editor's view of the app and its own fields.
struct EditorCtx {
    app: crate::app::AppHandle,
    lang: Lang,
    lab: Rc<Lab>,
    feedback: UseStateHandle<Option<Feedback>>,
    /// The VM whose removal waits for the learner's confirmation.
    confirm_remove: UseStateHandle<Option<String>>,
    rule_text: UseStateHandle<String>,
    rule_target: UseStateHandle<usize>,
    nat_choice: UseStateHandle<usize>,
    send_from: UseStateHandle<String>,
    send_to: UseStateHandle<String>,
    send_proto: UseStateHandle<Proto>,
    send_port: UseStateHandle<String>,
}

type EditFn = dyn Fn(&mut Vec<NetEdit>) -> Result<Option<Feedback>, EditError>;

/// Tries an edit of the edit list by running the whole lab again; stores it and moves the
/// player to its first new step (`first_new`) when the engine accepts it, else says why.
fn apply_edit(
    app: &crate::app::AppHandle,
    feedback: &UseStateHandle<Option<Feedback>>,
    first_new: u32,
    edit: &EditFn,
) {
    let state = &app.lab.network;
    let mut edits = state.edits.clone();
    let said = match edit(&mut edits) {
        Ok(said) => said,
        Err(e) => return feedback.set(Some(Feedback::Error(e))),
    };
    if edits.len() > crate::lab::MAX_NET_EDITS {
        return feedback.set(Some(Feedback::Error(EditError::TooMany)));
    }
    match load(&state.example, &edits) {
        Err(e) => feedback.set(Some(Feedback::Error(e))),
        Ok(new) => {
            let step = first_new.min(new.steps.len().saturating_sub(1) as u32);
            feedback.set(said);
            app.dispatch(crate::app::Action::EditLab(Rc::new(move |lab| {
                lab.network.edits = edits.clone();
                lab.network.step = step;
            })));
        }
    }
}

fn commit<E: 'static>(
    ctx: &EditorCtx,
    edit: impl Fn(&mut Vec<NetEdit>) -> Result<Option<Feedback>, EditError> + 'static,
) -> Callback<E> {
    let (app, feedback) = (ctx.app.clone(), ctx.feedback.clone());
    let first_new = ctx.lab.steps.len() as u32;
    Callback::from(move |_: E| apply_edit(&app, &feedback, first_new, &edit))
}

/// The text in the `<input>` with this id.
fn field(id: &str) -> String {
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
fn submit(
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
fn network_names(t: &Topology, key: &str) -> Vec<String> {
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
fn mode_label(lang: Lang, m: &Mode) -> String {
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
fn removal_lines(lang: Lang, r: &Removal) -> Vec<String> {
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
fn removal_text(lang: Lang, r: &Removal) -> String {
    removal_lines(lang, r).join("; ")
}

fn removal_items(lang: Lang, r: &Removal) -> Html {
    html! {
        <ul class="lv-net-removal">
            { for removal_lines(lang, r).into_iter().map(|l| html! { <li>{ l }</li> }) }
        </ul>
    }
}

/// One VM: its name, host, NICs (mode, network name, address), and its removal.
fn vm_card(ctx: &EditorCtx, i: usize, vm: &NodeSpec, hosts: &[String]) -> Html {
    let lang = ctx.lang;
    let topo = ctx.lab.network.topology();
    let id = format!("lv-net-vm{i}");
    let name = vm.name.clone();
    let rename = {
        let from = name.clone();
        submit(ctx, &format!("{id}-name"), move |to| {
            Ok((to != from).then(|| Action::RenameVm {
                from: from.clone(),
                to,
            }))
        })
    };
    let on_host = {
        let (app, feedback, lab, vm) = (
            ctx.app.clone(),
            ctx.feedback.clone(),
            ctx.lab.clone(),
            name.clone(),
        );
        Callback::from(move |e: DomEvent| {
            let edit = NetEdit::Act(Action::SetHost {
                vm: vm.clone(),
                host: input_value(&e),
            });
            apply_edit(&app, &feedback, lab.steps.len() as u32, &move |edits| {
                edits.push(edit.clone());
                Ok(None)
            });
        })
    };
    let ask_remove = {
        let (confirm, vm) = (ctx.confirm_remove.clone(), name.clone());
        Callback::from(move |_: MouseEvent| confirm.set(Some(vm.clone())))
    };
    let confirming = ctx.confirm_remove.as_deref() == Some(name.as_str());
    let removal = confirming
        .then(|| ctx.lab.network.removal(&name, None).ok())
        .flatten();
    let remove = {
        let (vm, removal, confirm, feedback) = (
            name.clone(),
            removal.clone().unwrap_or_default(),
            ctx.confirm_remove.clone(),
            ctx.feedback.clone(),
        );
        let done = commit::<MouseEvent>(ctx, move |edits| {
            edits.push(NetEdit::Act(Action::RemoveVm { name: vm.clone() }));
            Ok(Some(Feedback::Removed(vm.clone(), removal.clone())))
        });
        Callback::from(move |e: MouseEvent| {
            confirm.set(None);
            feedback.set(None);
            done.emit(e);
        })
    };
    let cancel = {
        let confirm = ctx.confirm_remove.clone();
        Callback::from(move |_: MouseEvent| confirm.set(None))
    };
    let escape = {
        let confirm = ctx.confirm_remove.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                confirm.set(None);
            }
        })
    };
    let add_nic = {
        let vm = name.clone();
        commit::<MouseEvent>(ctx, move |edits| {
            edits.push(NetEdit::Act(Action::AddNic {
                vm: vm.clone(),
                mode: Mode::Nat {
                    forwards: Vec::new(),
                },
            }));
            Ok(None)
        })
    };
    let nic_row = |j: usize, nic: &NicSpec| {
        let Attach::Vbox(mode) = &nic.attach else {
            return html! {};
        };
        let nid = format!("{id}-nic{j}");
        let label = format!("{name} {}", nic.name);
        let on_mode = {
            let (app, feedback, lab) = (ctx.app.clone(), ctx.feedback.clone(), ctx.lab.clone());
            let (vm, nic) = (name.clone(), nic.name.clone());
            Callback::from(move |e: DomEvent| {
                let Some(mode) = mode_from_key(&input_value(&e), lab.network.topology()) else {
                    return;
                };
                let edit = NetEdit::Act(Action::SetMode {
                    vm: vm.clone(),
                    nic: nic.clone(),
                    mode,
                });
                apply_edit(&app, &feedback, lab.steps.len() as u32, &move |edits| {
                    edits.push(edit.clone());
                    Ok(None)
                });
            })
        };
        let set_network = {
            let (vm, nic, mode) = (name.clone(), nic.name.clone(), mode.clone());
            submit(ctx, &format!("{nid}-net"), move |net| {
                Ok((network_of(&mode) != Some(net.as_str()))
                    .then(|| with_network(&mode, &net))
                    .flatten()
                    .map(|mode| Action::SetMode {
                        vm: vm.clone(),
                        nic: nic.clone(),
                        mode,
                    }))
            })
        };
        let set_addr = {
            let (vm, nic) = (name.clone(), nic.name.clone());
            submit(ctx, &format!("{nid}-addr"), move |text| {
                let addr = if text.is_empty() {
                    None
                } else {
                    Some(text.parse().map_err(|_| EditError::Prefix(text.clone()))?)
                };
                Ok(Some(Action::SetAddress {
                    vm: vm.clone(),
                    nic: nic.clone(),
                    addr,
                }))
            })
        };
        let remove_nic = {
            let (vm, nic) = (name.clone(), nic.name.clone());
            let removal = ctx.lab.network.removal(&vm, Some(&nic)).unwrap_or_default();
            commit::<MouseEvent>(ctx, move |edits| {
                edits.push(NetEdit::Act(Action::RemoveNic {
                    vm: vm.clone(),
                    nic: nic.clone(),
                }));
                Ok(Some(Feedback::Removed(
                    format!("{vm} {nic}"),
                    removal.clone(),
                )))
            })
        };
        let key = mode_key(mode);
        let list = format!("{nid}-nets");
        html! {
            <div class="lv-net-nic" role="group" aria-label={label.clone()}>
                <div class="lv-row">
                    <label class="lv-label lv-mono" for={format!("{nid}-mode")}>{ nic.name.clone() }</label>
                    <select id={format!("{nid}-mode")} class="lv-select" onchange={on_mode}
                        aria-label={format!("{label} {}", MODE.get(lang))}>
                        { for MODES.iter().map(|(k, l)| html! {
                            <option value={*k} selected={key == *k}>{ l.get(lang) }</option>
                        }) }
                    </select>
                    <button type="button" class="lv-button lv-ghost" onclick={remove_nic}
                        aria-label={format!("{} {label}", REMOVE.get(lang))}>{ REMOVE.get(lang) }</button>
                </div>
                if let Some(net) = network_of(mode) {
                    <form class="lv-row" onsubmit={set_network}>
                        <label class="lv-label" for={format!("{nid}-net")}>{ NETWORK_NAME.get(lang) }</label>
                        <input id={format!("{nid}-net")} class="lv-input lv-mono lv-grow" list={list.clone()}
                            value={net.to_string()} spellcheck="false" autocomplete="off"
                            aria-label={format!("{label} {}", NETWORK_NAME.get(lang))} />
                        <datalist id={list}>
                            { for network_names(topo, key).into_iter().map(|n| html! { <option value={n} /> }) }
                        </datalist>
                        <button class="lv-button">{ APPLY.get(lang) }</button>
                    </form>
                }
                if !matches!(mode, Mode::NotAttached) {
                    <form class="lv-row" onsubmit={set_addr}>
                        <label class="lv-label" for={format!("{nid}-addr")}>{ STATIC_ADDR.get(lang) }</label>
                        <input id={format!("{nid}-addr")} class="lv-input lv-mono lv-grow"
                            value={nic.addr.map(|a| a.to_string()).unwrap_or_default()}
                            placeholder={if key == "internal" { "10.10.0.1/24" } else { "DHCP" }}
                            spellcheck="false" autocomplete="off"
                            aria-label={format!("{label} {}", STATIC_ADDR.get(lang))} />
                        <button class="lv-button">{ APPLY.get(lang) }</button>
                    </form>
                }
                <p class="lv-muted lv-mono lv-net-nic-now">{ now_attached(lang, ctx.lab.network.fabric(), &name, &nic.name) }</p>
            </div>
        }
    };
    html! {
        <fieldset class="lv-net-vm">
            <legend>{ format!("VM {name}") }</legend>
            <form class="lv-row" onsubmit={rename}>
                <label class="lv-label" for={format!("{id}-name")}>{ NAME.get(lang) }</label>
                <input id={format!("{id}-name")} class="lv-input lv-mono lv-grow" value={name.clone()}
                    maxlength="32" spellcheck="false" autocomplete="off" />
                <button class="lv-button">{ RENAME.get(lang) }</button>
            </form>
            if hosts.len() > 1 {
                <div class="lv-row">
                    <label class="lv-label" for={format!("{id}-host")}>{ HOST.get(lang) }</label>
                    <select id={format!("{id}-host")} class="lv-select" onchange={on_host}>
                        { for hosts.iter().map(|h| html! {
                            <option value={h.clone()} selected={vm.host.as_deref() == Some(h.as_str())}>{ h.clone() }</option>
                        }) }
                    </select>
                </div>
            }
            { for vm.nics.iter().enumerate().map(|(j, nic)| nic_row(j, nic)) }
            <div class="lv-row">
                <button type="button" class="lv-button lv-ghost" onclick={add_nic} disabled={vm.nics.len() >= MAX_ADAPTERS}
                    aria-label={format!("{} ({name})", ADD_NIC.get(lang))}>{ ADD_NIC.get(lang) }</button>
                <button type="button" class="lv-button lv-ghost lv-danger" onclick={ask_remove} aria-expanded={confirming.to_string()} data-vm={name.clone()}
                    aria-label={format!("{} {name}", REMOVE_VM.get(lang))}>{ REMOVE_VM.get(lang) }</button>
            </div>
            if let Some(r) = &removal {
                <div class="lv-net-confirm" role="alertdialog" aria-labelledby={format!("{id}-confirm")} onkeydown={escape}>
                    <p id={format!("{id}-confirm")}><strong>{ confirm_text(lang, &name, r) }</strong></p>
                    { removal_items(lang, r) }
                    <div class="lv-row">
                        <button type="button" class="lv-button lv-danger" onclick={remove}>{ format!("{} {name}", REMOVE_VM.get(lang)) }</button>
                        <button type="button" class="lv-button lv-ghost" onclick={cancel}>{ CANCEL.get(lang) }</button>
                    </div>
                </div>
            }
        </fieldset>
    }
}

/// How a VM's NIC is wired now: its attachment and address, from the engine.
fn now_attached(lang: Lang, fabric: &Fabric, vm: &str, nic: &str) -> String {
    let Some(x) = fabric
        .node_index(vm)
        .and_then(|i| fabric.nodes[i].nics.iter().find(|x| x.name == nic))
    else {
        return String::new();
    };
    match (x.segment, x.addr) {
        (None, _) => NOT_ATTACHED_NOW.get(lang).to_string(),
        (Some(s), Some(a)) => format!("{} · {a}", fabric.segments[s].name),
        (Some(s), None) => format!("{} · {}", fabric.segments[s].name, NO_ADDRESS.get(lang)),
    }
}

fn confirm_text(lang: Lang, vm: &str, r: &Removal) -> String {
    match (lang, r.nics.is_empty() && r.rules.is_empty()) {
        (Lang::En, true) => format!("Remove {vm}? It has no NICs or rules."),
        (Lang::En, false) => format!("Remove {vm}? This also removes:"),
        (Lang::Ko, true) => format!("{vm}을(를) 삭제할까요? NIC나 규칙은 없습니다."),
        (Lang::Ko, false) => format!("{vm}을(를) 삭제할까요? 다음도 함께 삭제됩니다:"),
    }
}

fn editor(ctx: &EditorCtx) -> Html {
    let lang = ctx.lang;
    let lab = &ctx.lab;
    let topo = lab.network.topology();
    let vms: Vec<&NodeSpec> = topo
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Vm)
        .collect();
    let targets = rule_targets(topo);
    let target_i = (*ctx.rule_target).min(targets.len().saturating_sub(1));
    let nats = configurable_nats(topo);
    let nat_i = (*ctx.nat_choice).min(nats.len().saturating_sub(1));

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
    let add_rule = {
        let text = (*ctx.rule_text).clone();
        let target = targets.get(target_i).cloned();
        commit(ctx, move |edits| {
            let Some((target, _, existing)) = &target else {
                return Ok(None);
            };
            let edit = forward_edit(target, &text, existing)?;
            let NetEdit::Act(Action::AddForward { rule, .. }) = &edit else {
                return Ok(None);
            };
            let said = Some(Feedback::Added(rule.clone()));
            edits.push(edit);
            Ok(said)
        })
    };
    let on_rule_text = {
        let t = ctx.rule_text.clone();
        Callback::from(move |e: InputEvent| t.set(input_value(&e)))
    };
    let on_rule_key = {
        let add = add_rule.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                e.prevent_default();
                if let Ok(click) = MouseEvent::new("click") {
                    add.emit(click);
                }
            }
        })
    };
    let on_target = {
        let t = ctx.rule_target.clone();
        Callback::from(move |e: DomEvent| t.set(input_value(&e).parse().unwrap_or(0)))
    };

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
                    <div class="lv-row">
                        <label class="lv-label" for="lv-net-pf-rule">{ RULE_TEXT.get(lang) }</label>
                        <input id="lv-net-pf-rule" class="lv-input lv-mono lv-grow" value={(*ctx.rule_text).clone()}
                            placeholder="ssh,tcp,,2222,,22  |  tcp::2222-:22" oninput={on_rule_text} onkeydown={on_rule_key}
                            aria-invalid={matches!(&*ctx.feedback, Some(Feedback::Error(EditError::Rule(_) | EditError::Conflict { .. }))).to_string()}
                            aria-describedby="lv-net-feedback" spellcheck="false" autocomplete="off" />
                        <button class="lv-button" onclick={add_rule}>{ ADD_RULE.get(lang) }</button>
                    </div>
                }
            </div>
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
            </div>
            <div class="lv-row">
                <button class="lv-button lv-ghost" onclick={undo} disabled={edits_n == 0}>{ UNDO.get(lang) }</button>
                <button class="lv-button lv-ghost" onclick={clear} disabled={edits_n == 0}>{ CLEAR.get(lang) }</button>
                <span class="lv-muted">{ format!("{edits_n} {}", EDITS.get(lang)) }</span>
            </div>
        </section>
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
fn nat_tables(lang: Lang, lab: &Lab, action: Option<usize>) -> Html {
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

fn diagram(lang: Lang, fabric: &Fabric, spec: &Topology, step: Option<&Step>) -> Html {
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
                            role="img" aria-label={format!("{} {label} — {} ({})", node.name, fabric.segments[seg].name, attachment_label(lang, spec, fabric, node, nic))}>
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
                            aria-label={format!("{} {} ({})", SEGMENT.get(lang), seg.name, segment_kind_label(lang, &seg.kind))}>
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
                    let role = role_label(lang, &node.role);
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

/// What a node in the diagram is, in the learner's language.
fn role_label(lang: Lang, role: &Role) -> &'static str {
    let text = match role {
        Role::Machine { kind } => match kind {
            NodeKind::Host => Text::new("host", "호스트"),
            NodeKind::Vm => Text::new("vm", "VM"),
            NodeKind::Router => Text::new("router", "라우터"),
            NodeKind::Server => Text::new("server", "서버"),
        },
        Role::NatEngine { .. } => NAT_ENGINE,
    };
    text.get(lang)
}

/// What kind of network a segment is, in the learner's language.
fn segment_kind_label(lang: Lang, kind: &SegmentKind) -> &'static str {
    match kind {
        SegmentKind::Lan => "LAN",
        SegmentKind::Nat => "NAT",
        SegmentKind::NatNetwork => NAT_NETWORK.get(lang),
        SegmentKind::HostOnly => Text::new("host-only network", "호스트 전용 네트워크").get(lang),
        SegmentKind::Internal => Text::new("internal network", "내부 네트워크").get(lang),
    }
}

/// How a NIC is attached, in the learner's language. The engine's own description is English;
/// a VM's NIC is described again from the lab's spec, and the NICs the engine makes itself (NAT
/// engines, the host's side of a host-only network) by their fixed kind.
fn attachment_label(
    lang: Lang,
    spec: &Topology,
    fabric: &Fabric,
    node: &Node,
    nic: &Nic,
) -> String {
    if lang == Lang::En {
        return nic.attachment.clone();
    }
    let described = spec
        .node(&node.name)
        .and_then(|n| n.nics.iter().find(|s| s.name == nic.name));
    match (described.map(|n| &n.attach), &node.role) {
        (Some(Attach::Vbox(mode)), _) => mode_label(lang, mode),
        (Some(Attach::Segment(s)), _) => format!("{} {s}", SEGMENT.get(lang)),
        (None, Role::NatEngine { .. }) => NAT_ENGINE.get(lang).to_string(),
        // The host's side of a host-only network: its adapter bears the network's name.
        (None, Role::Machine { .. })
            if nic
                .segment
                .and_then(|s| fabric.segments.get(s))
                .map(|s| &s.kind)
                == Some(&SegmentKind::HostOnly) =>
        {
            mode_label(lang, &Mode::HostOnly(nic.name.clone()))
        }
        (None, Role::Machine { .. }) => nic.attachment.clone(),
    }
}

const NAT_ENGINE: Text = Text::new("NAT engine", "NAT 엔진");
const NAT_NETWORK: Text = Text::new("NAT Network", "NAT 네트워크");

const TITLE: Text = Text::new(
    "Network lab: NAT step by step",
    "네트워크 실습: NAT 단계별 보기",
);
const INTRO: Text = Text::new(
    "Pick a scenario and play its packets one step at a time: every hop, routing decision, address translation and conntrack change, with the NAT table as it stands at that moment. Then edit it: add a VM, change a NIC's attachment, type a port-forwarding rule, choose the NAT's RFC 4787 behaviour, and send packets to see the effect.",
    "시나리오를 고르고 패킷을 한 단계씩 재생해 보세요. 모든 홉, 라우팅 결정, 주소 변환, conntrack 변화를 그 순간의 NAT 테이블과 함께 보여 줍니다. 그다음 직접 바꿔 보세요. VM을 추가하고, NIC의 연결 방식을 바꾸고, 포트 포워딩 규칙을 입력하고, NAT의 RFC 4787 동작 방식을 고른 뒤 패킷을 보내 결과를 확인할 수 있습니다.",
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

fn feedback_view(lang: Lang, f: &Feedback) -> Html {
    match f {
        Feedback::Error(e) => html! {
            <p id="lv-net-feedback" class="lv-field-error" role="alert">{ render_error(lang, e) }</p>
        },
        Feedback::Removed(what, removal) => html! {
            <div id="lv-net-feedback" class="lv-net-ok" role="status">
                <p>{ match lang { Lang::En => format!("Removed {what}."), Lang::Ko => format!("{what}을(를) 삭제했습니다.") } }</p>
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

/// The warning for a host port below 1024.
pub fn privileged_warning(lang: Lang, port: u16) -> String {
    match lang {
        Lang::En => format!("Warning: host port {port} is below 1024. On a Linux host only root may listen there (net.ipv4.ip_unprivileged_port_start = 1024), so VirtualBox run as a normal user cannot open it; pick a port ≥ 1024, like 2222."),
        Lang::Ko => format!("주의: 호스트 포트 {port}는 1024보다 작습니다. Linux 호스트에서는 root만 이 포트에서 수신할 수 있어(net.ipv4.ip_unprivileged_port_start = 1024) 일반 사용자로 실행한 VirtualBox는 이 포트를 열 수 없습니다. 2222처럼 1024 이상인 포트를 고르세요."),
    }
}

/// The RFC 3489 name of a combination where it has one, else its RFC 4787 description.
pub fn cone_label(lang: Lang, mapping: Behavior, filtering: Behavior) -> String {
    let ko = |name: &str| match name {
        "full cone" => "풀 콘(full cone)",
        "restricted cone" => "제한 콘(restricted cone)",
        "port-restricted cone" => "포트 제한 콘(port-restricted cone)",
        "symmetric" => "대칭형(symmetric)",
        _ => "",
    };
    match (cone_name(mapping, filtering), lang) {
        (Some(n), Lang::En) => format!("{n} NAT"),
        (Some(n), Lang::Ko) => format!("{} NAT", ko(n)),
        (None, Lang::En) => format!("{mapping} mapping, {filtering} filtering (no RFC 3489 name)"),
        (None, Lang::Ko) => format!("매핑 {mapping}, 필터링 {filtering} (RFC 3489 이름 없음)"),
    }
}

fn behaviour_from_key(key: &str) -> Option<Behavior> {
    BEHAVIOURS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, b, _)| *b)
}

/// An edit error in the learner's language. The core's messages are English; the Korean
/// rendering says the same with the core's detail (which names the exact value) kept.
pub fn render_error(lang: Lang, e: &EditError) -> String {
    // English keeps each problem's "error:" label, as the engine prints it; Korean gives the
    // core's sentence.
    let problems = |p: &[Problem]| {
        p.iter()
            .map(|p| match lang {
                Lang::En => p.to_string(),
                Lang::Ko => p.explain_in(lang),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    match (lang, e) {
        (_, EditError::Scenario(s)) => s.clone(),
        (Lang::En, EditError::Topology(p)) => format!("The change makes the topology invalid: {}", problems(p)),
        (Lang::Ko, EditError::Topology(p)) => format!("이 변경은 토폴로지를 잘못되게 만듭니다: {}", problems(p)),
        (_, EditError::Action(action, err)) => {
            format!("{}: {}", scenario::describe_in(action, lang), err.explain_in(lang))
        }
        (Lang::En, EditError::NoHost) => "A VM needs a host to run on, and this topology has no host.".into(),
        (Lang::Ko, EditError::NoHost) => "VM은 실행될 호스트가 필요한데 이 토폴로지에는 호스트가 없습니다.".into(),
        (Lang::En, EditError::UnknownNat(n)) => format!("There is no configurable NAT named {n:?}."),
        (Lang::Ko, EditError::UnknownNat(n)) => format!("{n:?}라는 설정 가능한 NAT가 없습니다."),
        (Lang::En, EditError::Rule(fe)) => fe.to_string(),
        (Lang::Ko, EditError::Rule(fe)) => format!(
            "포트 포워딩 규칙 {:?}이(가) 올바르지 않습니다: {}",
            fe.input,
            fe.problem.explain_in(lang)
        ),
        (Lang::En, EditError::Conflict { rule, with, .. }) => format!(
            "cannot add rule {rule}: {}",
            rule.conflict_with(std::slice::from_ref(with)).unwrap_or_default()
        ),
        (Lang::Ko, EditError::Conflict { rule, with, same_name: true }) => format!(
            "규칙 {rule}을(를) 추가할 수 없습니다: 이름이 {:?}인 규칙이 이미 있습니다 ({with})",
            with.name
        ),
        (Lang::Ko, EditError::Conflict { rule, with, same_name: false }) => format!(
            "규칙 {rule}을(를) 추가할 수 없습니다: 호스트 포트 {}/{}는 이미 규칙 {:?}({with})이(가) 포워딩하고 있습니다",
            rule.proto, rule.host_port, with.name
        ),
        (Lang::En, EditError::Address(a)) => format!("{a:?} is not an IPv4 address like 10.0.2.15"),
        (Lang::Ko, EditError::Address(a)) => format!("{a:?}는 10.0.2.15 같은 IPv4 주소가 아닙니다"),
        (Lang::En, EditError::Prefix(a)) => format!("{a:?} is not an address with its prefix length, like 10.10.0.1/24"),
        (Lang::Ko, EditError::Prefix(a)) => format!("{a:?}는 10.10.0.1/24처럼 프리픽스 길이를 붙인 주소가 아닙니다"),
        (Lang::En, EditError::Port(p)) => format!("port {p:?} is not a number in 1-65535"),
        (Lang::Ko, EditError::Port(p)) => format!("포트 {p:?}는 1–65535 범위의 숫자가 아닙니다"),
        (Lang::En, EditError::TooMany) => format!("The lab keeps at most {} edits: undo one first.", crate::lab::MAX_NET_EDITS),
        (Lang::Ko, EditError::TooMany) => format!("실습은 편집을 최대 {}개까지 보관합니다. 먼저 하나를 되돌리세요.", crate::lab::MAX_NET_EDITS),
    }
}

const MODES: [(&str, Text); 6] = [
    ("none", Text::new("Not attached", "연결 안 됨")),
    ("nat", Text::new("NAT", "NAT")),
    ("natnetwork", Text::new("NAT Network", "NAT 네트워크")),
    ("bridged", Text::new("Bridged adapter", "어댑터에 브리지")),
    (
        "hostonly",
        Text::new("Host-only adapter", "호스트 전용 어댑터"),
    ),
    ("internal", Text::new("Internal network", "내부 네트워크")),
];
const BEHAVIOURS: [(&str, Behavior, Text); 3] = [
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
const EDIT: Text = Text::new("Edit the lab", "실습 편집");
const VMS: Text = Text::new("VMs and their NICs", "VM과 NIC");
const MODE: Text = Text::new("attachment mode", "연결 방식");
const ADD_VM: Text = Text::new("Add a VM", "VM 추가");
const NAME: Text = Text::new("Name", "이름");
const NAT_NETWORKS: Text = Text::new("NAT Networks", "NAT 네트워크");
const CIDR: Text = Text::new("Network", "네트워크 주소");
const CREATE_NATNET: Text = Text::new("Create NAT Network", "NAT 네트워크 만들기");
const RENAME: Text = Text::new("Rename", "이름 바꾸기");
const HOST: Text = Text::new("Host", "호스트");
const NIC: Text = Text::new("NIC", "NIC");
const ADD_NIC: Text = Text::new("Add a NIC", "NIC 추가");
const REMOVE_VM: Text = Text::new("Remove VM", "VM 삭제");
const CANCEL: Text = Text::new("Cancel", "취소");
const APPLY: Text = Text::new("Apply", "적용");
const NETWORK_NAME: Text = Text::new("Network name", "네트워크 이름");
const STATIC_ADDR: Text = Text::new(
    "Static address (set in the guest; empty: DHCP)",
    "고정 주소 (게스트 안에서 설정, 비우면 DHCP)",
);
const RULE_ON: Text = Text::new("Forwarding rule", "포트 포워딩 규칙");
const WITH_IT: Text = Text::new("With it went:", "함께 삭제된 것:");
const NOT_ATTACHED_NOW: Text = Text::new("no cable plugged in", "케이블이 연결되지 않음");
const NO_ADDRESS: Text = Text::new(
    "no address (no DHCP server here)",
    "주소 없음 (이 네트워크에는 DHCP 서버가 없음)",
);
const FORWARDS: Text = Text::new("Port forwarding", "포트 포워딩");
const NO_TARGET: Text = Text::new(
    "No NAT here to forward through: set a VM's NIC to NAT first.",
    "포워딩할 NAT가 없습니다. 먼저 VM의 NIC를 NAT로 바꾸세요.",
);
const WHERE: Text = Text::new("On", "대상");
const RULE_TEXT: Text = Text::new("New rule", "새 규칙");
const ADD_RULE: Text = Text::new("Add rule", "규칙 추가");
const ADDED: Text = Text::new("Added rule", "규칙을 추가했습니다:");
const REMOVE: Text = Text::new("Remove", "삭제");
const BEHAVIOUR: Text = Text::new("NAT behaviour (RFC 4787)", "NAT 동작 방식 (RFC 4787)");
const MAPPING: Text = Text::new("Mapping", "매핑");
const FILTERING: Text = Text::new("Filtering", "필터링");
const PROBE: Text = Text::new(
    "Send from another outside host to the mapped port",
    "다른 외부 호스트에서 매핑된 포트로 보내기",
);
const NO_PROBE: Text = Text::new(
    "The NAT has no connection yet (or no other outside host): play a scenario that opens one.",
    "NAT에 아직 연결이 없습니다(또는 다른 외부 호스트가 없습니다). 연결을 여는 시나리오를 고르세요.",
);
const NO_CONFIGURABLE_NAT: Text = Text::new(
    "No router NAT or NAT Network here (a VM's own NAT engine behaves as VirtualBox's does).",
    "여기에는 라우터 NAT나 NAT 네트워크가 없습니다(VM의 NAT 엔진은 VirtualBox의 동작을 따릅니다).",
);
const SEND: Text = Text::new("Send a test packet", "테스트 패킷 보내기");
const FROM: Text = Text::new("From", "보내는 곳");
const TO: Text = Text::new("To", "받는 주소");
const PROTO: Text = Text::new("Protocol", "프로토콜");
const PORT: Text = Text::new("Port", "포트");
const SEND_BUTTON: Text = Text::new("Send", "보내기");
const UNDO: Text = Text::new("Undo last edit", "마지막 편집 되돌리기");
const CLEAR: Text = Text::new("Remove my edits", "내 편집 모두 지우기");
const EDITS: Text = Text::new("edits", "개 편집");

#[cfg(test)]
mod tests {
    use super::*;
    use labvisor_core::net::nat::Behavior::*;

    /// What the last action did.
    fn last_action_steps(lab: &Lab) -> impl Iterator<Item = &Step> {
        let last = lab.actions.len().checked_sub(1);
        lab.steps
            .iter()
            .filter(move |(k, _)| *k == last && last.is_some())
            .map(|(_, s)| s)
    }

    fn delivered_to(lab: &Lab, node: &str) -> bool {
        last_action_steps(lab)
            .any(|s| matches!(&s.event, Event::Deliver { node: n, .. } if n == node))
    }

    fn dropped_at(lab: &Lab, node: &str) -> bool {
        last_action_steps(lab).any(|s| matches!(&s.event, Event::Drop { node: n, .. } if n == node))
    }

    fn probe_with(mapping: Behavior, filtering: Behavior) -> Lab {
        let mut edits = vec![NetEdit::SetNat {
            nat: "home-router".into(),
            mapping,
            filtering,
        }];
        let lab = load("home-router", &edits).unwrap();
        let probe = filter_probe(&lab, "home-router").expect("a connection to probe");
        assert_eq!(probe.from, "isp", "the other outside host");
        assert_eq!(probe.to, Ipv4Addr::new(203, 0, 113, 7));
        edits.push(NetEdit::Act(Action::Send(probe)));
        load("home-router", &edits).unwrap()
    }

    #[test]
    fn every_example_loads_without_edits() {
        for (name, _) in crate::bundle::examples() {
            let lab = load(name, &[]).unwrap();
            // Every scenario action ran and left at least one step in the trace.
            for k in 0..lab.scenario.actions.len() {
                assert!(
                    lab.steps.iter().any(|(a, _)| *a == Some(k)),
                    "{name}: action {k}"
                );
            }
        }
    }

    #[test]
    fn the_diagram_describes_every_nic_in_korean() {
        const ENGLISH: [&str; 7] = [
            "segment",
            "adapter",
            "host-only",
            "internal",
            "bridged",
            "engine",
            "attached",
        ];
        let mut seen = 0;
        for (name, _) in crate::bundle::examples() {
            let lab = load(name, &[]).unwrap();
            let fabric = lab.network.fabric();
            for node in &fabric.nodes {
                if !node.is(NodeKind::Vm) {
                    assert!(
                        !role_label(Lang::Ko, &node.role).is_ascii(),
                        "{name}: {node:?}"
                    );
                }
                for nic in &node.nics {
                    let ko = attachment_label(Lang::Ko, lab.network.topology(), fabric, node, nic);
                    assert!(
                        !ENGLISH.iter().any(|w| ko.contains(w)),
                        "{name}: {}/{}: {ko:?}",
                        node.name,
                        nic.name
                    );
                    seen += 1;
                }
            }
            for seg in &fabric.segments {
                let ko = segment_kind_label(Lang::Ko, &seg.kind);
                assert!(!ENGLISH.iter().any(|w| ko.contains(w)), "{ko}");
            }
        }
        assert!(seen > 20, "only {seen} NICs in the examples");
    }

    #[test]
    fn full_cone_admits_the_probe_and_symmetric_filters_it() {
        let full = probe_with(EndpointIndependent, EndpointIndependent);
        assert_eq!(
            cone_label(Lang::En, EndpointIndependent, EndpointIndependent),
            "full cone NAT"
        );
        assert!(delivered_to(&full, "pc"), "full cone lets any sender in");
        let symmetric = probe_with(AddressAndPortDependent, AddressAndPortDependent);
        assert!(
            dropped_at(&symmetric, "home-router"),
            "symmetric NAT filters it"
        );
        assert!(!delivered_to(&symmetric, "pc"));
        let restricted = probe_with(EndpointIndependent, AddressDependent);
        assert!(
            dropped_at(&restricted, "home-router"),
            "another address is filtered"
        );
        assert_eq!(
            cone_label(Lang::Ko, AddressAndPortDependent, AddressAndPortDependent),
            "대칭형(symmetric) NAT"
        );
    }

    #[test]
    fn a_typed_rule_forwards_to_the_vm_in_either_syntax() {
        let lab = load("port-forward-ssh", &[]).unwrap();
        let targets = rule_targets(lab.network.topology());
        let (target, _, existing) = &targets[0];
        for (typed, port) in [("web,tcp,,8080,,22", 8080), ("tcp::8081-:22", 8081)] {
            let add = forward_edit(target, typed, existing).unwrap();
            let send = send_edit("pc", "127.0.0.1", Proto::Tcp, port, 1).unwrap();
            let lab = load("port-forward-ssh", &[add, send]).unwrap();
            assert!(delivered_to(&lab, "vm1"), "{typed} reaches vm1:22");
        }
        // Without the rule the same packet reaches nothing.
        let send = send_edit("pc", "127.0.0.1", Proto::Tcp, 8080, 1).unwrap();
        assert!(!delivered_to(
            &load("port-forward-ssh", &[send]).unwrap(),
            "vm1"
        ));
    }

    #[test]
    fn bad_and_clashing_rules_are_explained_in_both_languages() {
        let lab = load("port-forward-ssh", &[]).unwrap();
        let targets = rule_targets(lab.network.topology());
        let (target, _, existing) = &targets[0];
        let e = forward_edit(target, "ssh,tcp,,70000,,22", existing).unwrap_err();
        assert!(render_error(Lang::En, &e).contains("\"70000\" is not a number in 1-65535"));
        assert!(render_error(Lang::Ko, &e).contains("포트는 1–65535 범위의 숫자여야 합니다"));
        let e = forward_edit(target, "2222", existing).unwrap_err();
        assert!(render_error(Lang::Ko, &e).contains("문법 중 어느 것도 아닙니다"));
        // The scenario ends with tcp2222 (hostfwd=tcp:127.0.0.1:2222-:22) in place.
        let e = forward_edit(target, "other,tcp,,2222,,22", existing).unwrap_err();
        assert!(matches!(
            e,
            EditError::Conflict {
                same_name: false,
                ..
            }
        ));
        assert!(render_error(Lang::En, &e)
            .contains("host port tcp/2222 is already forwarded by rule \"tcp2222\""));
        assert!(render_error(Lang::Ko, &e).contains("호스트 포트 tcp/2222는 이미 규칙 \"tcp2222\""));
        let e = forward_edit(target, "tcp2222,udp,,53,,53", existing).unwrap_err();
        assert!(matches!(
            e,
            EditError::Conflict {
                same_name: true,
                ..
            }
        ));
        assert!(render_error(Lang::Ko, &e).contains("이름이 \"tcp2222\"인 규칙이 이미 있습니다"));
        // A privileged port is accepted, with a warning.
        let NetEdit::Act(Action::AddForward { rule, .. }) =
            forward_edit(target, "web,tcp,,80,,80", existing).unwrap()
        else {
            panic!("an AddForward edit")
        };
        assert!(rule.needs_privilege());
        assert!(privileged_warning(Lang::Ko, rule.host_port).contains("1024"));
    }

    #[test]
    fn rules_can_be_removed_and_modes_changed() {
        let lab = load("port-forward-ssh", &[]).unwrap();
        let (target, _, _) = &rule_targets(lab.network.topology())[0];
        let remove = NetEdit::Act(Action::RemoveForward {
            target: target.clone(),
            name: "tcp2222".into(),
        });
        let lab = load("port-forward-ssh", std::slice::from_ref(&remove)).unwrap();
        assert!(rule_targets(lab.network.topology())[0].2.is_empty());
        // Removing it twice is refused by the engine, with its message.
        let e = load("port-forward-ssh", &[remove.clone(), remove])
            .err()
            .unwrap();
        assert!(render_error(Lang::En, &e).contains("no forwarding rule named \"tcp2222\""));
        let mode = mode_from_key("hostonly", lab.network.topology()).unwrap();
        let set = NetEdit::Act(Action::SetMode {
            vm: "vm1".into(),
            nic: "eth0".into(),
            mode,
        });
        let lab = load("port-forward-ssh", &[set]).unwrap();
        let nic = &lab.network.topology().node("vm1").unwrap().nics[0];
        assert_eq!(nic.attach, Attach::Vbox(Mode::HostOnly("vboxnet0".into())));
        // On host-only, the VM has no NAT to forward through.
        assert!(rule_targets(lab.network.topology()).is_empty());
    }

    #[test]
    fn an_added_vm_gets_a_nat_address_and_forwards() {
        let lab = load("home-router", &[]).unwrap();
        let name = next_vm_name(lab.network.topology());
        assert_eq!(name, "vm1");
        let lab = load("home-router", &[NetEdit::AddVm(name)]).unwrap();
        let vm = lab
            .network
            .fabric()
            .nodes
            .iter()
            .find(|n| n.name == "vm1")
            .unwrap();
        assert_eq!(vm.addrs(), vec![Ipv4Addr::new(10, 0, 2, 15)]);
        assert_eq!(next_vm_name(lab.network.topology()), "vm2");
        // A second VM with the same name is refused with the core's problem.
        let e = load("home-router", &[NetEdit::AddVm("pc".into())])
            .err()
            .unwrap();
        assert!(matches!(e, EditError::Topology(_)), "{e:?}");
    }

    #[test]
    fn vms_are_renamed_moved_to_other_networks_and_removed_through_the_engine() {
        let act = |a: Action| NetEdit::Act(a);
        let internal = |vm: &str, net: &str, ip: &str| {
            [
                act(Action::SetMode {
                    vm: vm.into(),
                    nic: "eth0".into(),
                    mode: with_network(&Mode::Internal(String::new()), net).unwrap(),
                }),
                act(Action::SetAddress {
                    vm: vm.into(),
                    nic: "eth0".into(),
                    addr: Some(ip.parse().unwrap()),
                }),
            ]
        };
        let mut edits = vec![act(Action::RenameVm {
            from: "vm2".into(),
            to: "db".into(),
        })];
        edits.extend(internal("vm1", "intnet-a", "10.10.0.1/24"));
        edits.extend(internal("db", "intnet-b", "10.10.0.2/24"));
        edits.push(send_edit("vm1", "10.10.0.2", Proto::Icmp, 0, 9).unwrap());
        let lab = load("host-only", &edits).unwrap();
        assert!(!delivered_to(&lab, "db"), "two internal networks are apart");
        assert!(dropped_at(&lab, "vm1"));
        let names = network_names(lab.network.topology(), "internal");
        assert_eq!(names, ["intnet", "intnet-a", "intnet-b"]);
        assert!(now_attached(Lang::En, lab.network.fabric(), "db", "eth0")
            .starts_with("intnet/intnet-b · 10.10.0.2/24"));
        // One network: the ping arrives.
        edits.insert(
            edits.len() - 1,
            act(Action::SetMode {
                vm: "db".into(),
                nic: "eth0".into(),
                mode: Mode::Internal("intnet-a".into()),
            }),
        );
        assert!(delivered_to(&load("host-only", &edits).unwrap(), "db"));
        // A bad name is refused by the core, in either language.
        let bad = act(Action::RenameVm {
            from: "vm1".into(),
            to: "my vm".into(),
        });
        let e = load("host-only", &[bad]).err().unwrap();
        assert!(render_error(Lang::En, &e).contains("contains ' '"), "{e:?}");
        assert!(render_error(Lang::Ko, &e).contains("글자, 숫자"), "{e:?}");
        // The refused action is named in the learner's language too.
        assert!(
            render_error(Lang::Ko, &e).starts_with("VM 이름 변경: vm1 → my vm"),
            "{e:?}"
        );
        assert!(
            render_error(Lang::En, &e).starts_with("rename VM vm1 to my vm"),
            "{e:?}"
        );
        // Removing vm1 takes its NICs; the removal is the core's.
        let lab = load("host-only", &[]).unwrap();
        let removal = lab.network.removal("vm1", None).unwrap();
        assert_eq!(removal.nics.len(), 2);
        let text = removal_text(Lang::Ko, &removal);
        assert!(text.contains("호스트 전용 어댑터 vboxnet0"), "{text}");
        let lab = load("host-only", &[act(Action::RemoveVm { name: "vm1".into() })]).unwrap();
        assert!(lab.network.topology().node("vm1").is_none());
    }

    #[test]
    fn a_nat_network_created_in_the_lab_is_offered_and_joined() {
        let create = NetEdit::Act(Action::AddNatNetwork {
            name: "lab".into(),
            cidr: "10.0.5.0/24".parse().unwrap(),
            host: "pc".into(),
        });
        let lab = load("host-only", std::slice::from_ref(&create)).unwrap();
        let topo = lab.network.topology();
        assert_eq!(network_names(topo, "natnetwork"), ["lab"]);
        let join = NetEdit::Act(Action::SetMode {
            vm: "vm2".into(),
            nic: "eth0".into(),
            mode: mode_from_key("natnetwork", topo).unwrap(),
        });
        let lab = load("host-only", &[create, join]).unwrap();
        assert!(now_attached(Lang::En, lab.network.fabric(), "vm2", "eth0")
            .starts_with("natnet/lab · 10.0.5.4/24"));
    }

    #[test]
    fn titles_follow_the_language() {
        let lab = load("nat-network", &[]).unwrap();
        assert_eq!(
            lab.scenario.title.get(Lang::Ko),
            "NAT 네트워크에 연결한 VM 두 대"
        );
        assert_eq!(lab.scenario.title.get(Lang::En), "Two VMs on a NAT Network");
    }

    #[test]
    fn a_bad_destination_is_named() {
        let e = send_edit("pc", "10.0.2", Proto::Tcp, 22, 0).unwrap_err();
        assert_eq!(
            render_error(Lang::En, &e),
            "\"10.0.2\" is not an IPv4 address like 10.0.2.15"
        );
    }
}

#[cfg(test)]
mod share_tests {
    use super::*;
    use crate::share::Shared;

    #[test]
    fn every_kind_of_edit_survives_a_share_link() {
        let lab = load("port-forward-ssh", &[]).unwrap();
        let (target, _, existing) = &rule_targets(lab.network.topology())[0];
        let mut shared = Shared {
            route: "#/tool/network".into(),
            lab: Default::default(),
            completed: Vec::new(),
        };
        shared.lab.network.edits = vec![
            NetEdit::AddVm("vm2".into()),
            NetEdit::SetNat {
                nat: "home-router".into(),
                mapping: Behavior::AddressDependent,
                filtering: Behavior::EndpointIndependent,
            },
            forward_edit(target, "web,tcp,127.0.0.1,8080,10.0.2.15,80", existing).unwrap(),
            send_edit("pc", "127.0.0.1", Proto::Udp, 8080, 3).unwrap(),
            NetEdit::Act(Action::SetMode {
                vm: "vm1".into(),
                nic: "eth0".into(),
                mode: Mode::Internal("intnet".into()),
            }),
            NetEdit::Act(Action::AddVm {
                name: "web".into(),
                host: "pc".into(),
            }),
            NetEdit::Act(Action::RenameVm {
                from: "web".into(),
                to: "우분투".into(),
            }),
            NetEdit::Act(Action::SetHost {
                vm: "vm1".into(),
                host: "pc".into(),
            }),
            NetEdit::Act(Action::AddNic {
                vm: "vm1".into(),
                mode: Mode::HostOnly(WINDOWS_HOST_ONLY.into()),
            }),
            NetEdit::Act(Action::SetAddress {
                vm: "vm1".into(),
                nic: "eth0".into(),
                addr: Some("10.10.0.1/24".parse().unwrap()),
            }),
            NetEdit::Act(Action::SetAddress {
                vm: "vm1".into(),
                nic: "eth1".into(),
                addr: None,
            }),
            NetEdit::Act(Action::RemoveNic {
                vm: "vm1".into(),
                nic: "eth1".into(),
            }),
            NetEdit::Act(Action::RemoveVm {
                name: "우분투".into(),
            }),
            NetEdit::Act(Action::AddNatNetwork {
                name: "lab".into(),
                cidr: "10.0.5.0/24".parse().unwrap(),
                host: "pc".into(),
            }),
        ];
        let back = Shared::decode(&shared.encode()).expect("the link decodes");
        assert_eq!(back.lab.network.edits, shared.lab.network.edits);
        let json = serde_json::to_string(&shared.lab).unwrap();
        let saved: crate::lab::LabState = serde_json::from_str(&json).unwrap();
        assert_eq!(saved, shared.lab);
    }
}
