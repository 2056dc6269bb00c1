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

use std::rc::Rc;

use std::net::Ipv4Addr;

use labvisor_core::lang::{particle, Explain, Lang, Text};
use labvisor_core::net::forward::{ForwardConflict, ForwardError, PortForward};
use labvisor_core::net::nat::{cone_name, Behavior};
use labvisor_core::net::packet::Proto;
use labvisor_core::net::scenario::{self, Scenario};
use labvisor_core::net::sim::{
    Action, ActionError, Network, Recorded, Removal, RuleTarget, SendSpec, Tables, TablesFrom,
    MAX_ADAPTERS,
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

mod diagram;
mod editor;
pub mod goal;
pub mod layout;
mod matrix;
mod packet_card;
mod predict;
mod stepper;
mod tables;
mod trace;
mod vm_card;
use diagram::*;
use editor::*;
use stepper::{LabRef, Stepper};
use tables::*;
use trace::*;
use vm_card::*;

/// One scenario with the learner's edits, run once.
pub struct Lab {
    pub scenario: Scenario,
    /// Every action run: the scenario's, then the learner's.
    pub actions: Vec<Action>,
    /// The network after the last action.
    pub network: Network,
    /// Every step in order, with the index of the action it belongs to (`None` for DHCP).
    pub steps: Vec<(Option<usize>, Step)>,
    /// The NAT tables as each step left them, one per step (steps that changed nothing
    /// share their predecessor's).
    pub tables: Vec<Rc<Tables>>,
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
    /// The rule clashes with an existing one, as the core says how.
    Conflict {
        rule: PortForward,
        conflict: ForwardConflict,
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
    let mut network = Network::new(topology).map_err(EditError::Topology)?;
    // A millisecond a hop, so the trace's timestamps move along each journey.
    network.set_hop_delay(labvisor_core::net::clock::Duration(1));
    let mut steps: Vec<(Option<usize>, Step)> = network
        .lease_steps()
        .into_iter()
        .map(|s| (None, s))
        .collect();
    // The leases are handed out while wiring: every NAT table is still empty.
    let empty = Rc::new(network.nats().clone());
    let mut tables: Vec<Rc<Tables>> = steps.iter().map(|_| empty.clone()).collect();
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
        let Recorded {
            steps: done,
            tables: changes,
        } = network
            .apply_recorded(action)
            .map_err(|e| EditError::Action(Box::new(action.clone()), e))?;
        tables.extend(tables_per_step(done.len(), changes, tables.last().cloned()));
        steps.extend(done.into_iter().map(|s| (Some(i), s)));
    }
    Ok(Lab {
        scenario: scenario.clone(),
        actions,
        network,
        steps,
        tables,
    })
}

/// One action's tables, one per step of its `n`; `before` stands until the action's first
/// change.
fn tables_per_step(
    n: usize,
    changes: Vec<TablesFrom>,
    before: Option<Rc<Tables>>,
) -> Vec<Rc<Tables>> {
    let changes: Vec<(usize, Rc<Tables>)> = changes
        .into_iter()
        .map(|t| (t.step, Rc::new(t.nats)))
        .collect();
    (0..n)
        .map(|i| {
            changes
                .iter()
                .take_while(|(from, _)| *from <= i)
                .last()
                .map(|(_, t)| t.clone())
                .or_else(|| before.clone())
                .unwrap_or_default()
        })
        .collect()
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
    if let Some(conflict) = rule.conflict_with(existing) {
        return Err(EditError::Conflict { rule, conflict });
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

#[derive(Clone, PartialEq, Properties)]
pub struct NetworkToolProps {
    /// The scenario a lesson opened (`#/tool/network/<scenario>`); none for the free lab.
    #[prop_or_default]
    pub scenario: Option<String>,
    /// The lesson that opened it.
    #[prop_or_default]
    pub from: Option<String>,
}

#[function_component]
pub fn NetworkTool(props: &NetworkToolProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let mut state = app.lab.network.clone();
    use_open_scenario(app.clone(), props.scenario.clone());
    if let Some(wanted) = props.scenario.as_ref().filter(|w| **w != state.example) {
        // Until the saved lab follows the route, show the scenario fresh.
        state = crate::lab::NetState {
            example: wanted.clone(),
            ..Default::default()
        };
    }
    let lab = use_memo(
        (state.example.clone(), state.edits.clone()),
        |(name, edits)| load(name, edits).map(Rc::new),
    );
    let feedback = use_state(|| None::<Feedback>);
    let confirm_remove = use_state(|| None::<String>);
    use_focus_follows_removal((*confirm_remove).clone());
    let rule_text = use_state(String::new);
    let rule_refused = use_state(|| None::<RuleRefusal>);
    let rule_target = use_state(|| 0usize);
    let nat_choice = use_state(|| 0usize);
    let send_from = use_state(String::new);
    let send_to = use_state(|| "127.0.0.1".to_string());
    let send_proto = use_state(|| Proto::Tcp);
    let send_port = use_state(|| "2222".to_string());
    let total = lab.as_ref().as_ref().map(|l| l.steps.len()).unwrap_or(0);
    let at = (state.step as usize).min(total.saturating_sub(1));
    // The free lab's goal is to walk a scenario to its end: stepping, playing or the arrow keys
    // move the walk on one step at a time; an edit, which jumps to its own new steps, or a
    // jump to the end does not (an unrelated NIC change must not finish it).
    let walked = use_mut_ref(|| (state.example.clone(), 0usize));
    let walked_to = {
        let mut walked = walked.borrow_mut();
        if walked.0 != state.example {
            *walked = (state.example.clone(), 0);
        }
        if at <= walked.1 + 1 {
            walked.1 = walked.1.max(at);
        }
        walked.1
    };
    let finished = total > 0 && walked_to + 1 >= total;
    use_completion(super::activity_id(crate::route::ToolId::Network), finished);

    let choose = {
        let feedback = feedback.clone();
        edit_lab(&app, move |lab, e: DomEvent| {
            lab.network.example = input_value(&e);
            lab.network.step = 0;
            lab.network.edits.clear();
            feedback.set(None);
        })
    };
    let lab = match lab.as_ref() {
        Ok(lab) => lab.clone(),
        Err(e) => return broken_lab(&app, e),
    };
    let editor = editor(&EditorCtx {
        app: app.clone(),
        lang,
        lab: lab.clone(),
        feedback: feedback.clone(),
        confirm_remove: confirm_remove.clone(),
        rule_text: rule_text.clone(),
        rule_refused: rule_refused.clone(),
        rule_target: rule_target.clone(),
        nat_choice: nat_choice.clone(),
        send_from: send_from.clone(),
        send_to: send_to.clone(),
        send_proto: send_proto.clone(),
        send_port: send_port.clone(),
    });
    let current = lab.steps.get(at);
    // A reachability lesson's lab shows who reaches whom (lessons 4 and 10).
    let show_matrix = props.scenario.is_some() && matrix::opened_for_matrix(props.from.as_deref());
    let lesson_goal = lab.scenario.goal.as_ref().map(|g| {
        let results = goal::evaluate(g, &lab.network);
        goal::goal_panel(lang, g, &results)
    });
    let body = html! {
        <>
            <section class="lv-panel lv-net-head">
                if props.scenario.is_none() {
                <div class="lv-row">
                    <label class="lv-label" for="lv-net-example">{ SCENARIO.get(lang) }</label>
                    <select id="lv-net-example" class="lv-select lv-grow" onchange={choose}>
                        { for crate::bundle::examples().iter().map(|(name, scenario)| html! {
                            <option value={name.clone()} selected={*name == state.example}>{
                                if scenario.title.is_empty() { name.clone() } else { scenario.title.get(lang).to_string() }
                            }</option>
                        }) }
                    </select>
                </div>
                }
                if props.scenario.is_none() {
                    <h2 class="lv-net-title">{ lab.scenario.title.get(lang).to_string() }</h2>
                }
                <p class="lv-muted lv-net-desc">{ lab.scenario.description.get(lang).to_string() }</p>
            </section>
            { lesson_goal.unwrap_or_default() }
            if show_matrix {
                <matrix::ReachMatrix lab={LabRef(lab.clone())} />
            }
            <Stepper lab={LabRef(lab.clone())} {at} />
            <div class="lv-net">
                <section class="lv-panel lv-net-diagram" aria-labelledby="lv-net-diagram-title">
                    <h2 id="lv-net-diagram-title">{ TOPOLOGY.get(lang) }</h2>
                    <Diagram lang={lang} fabric={Rc::new(lab.network.fabric().clone())} spec={Rc::new(lab.network.topology().clone())}
                        focus={focus_of(current.map(|(_, s)| s))} step={at} />
                </section>
            </div>
            { editor }
        </>
    };
    match &props.scenario {
        Some(_) => html! {
            <goal::LessonLab from={props.from.clone()} title={lab.scenario.title.get(lang).to_string()}>
                { body }
            </goal::LessonLab>
        },
        None => html! {
            <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={finished}>{ body }</ToolPage>
        },
    }
}

/// A lesson's link opens its scenario: the saved lab switches to it (with no edits, at the
/// first step) unless it is already there.
#[hook]
fn use_open_scenario(app: crate::app::AppHandle, scenario: Option<String>) {
    use_effect_with(scenario, move |scenario| {
        if let Some(wanted) = scenario.clone() {
            if app.lab.network.example != wanted {
                app.dispatch(crate::app::Action::EditLab(Rc::new(move |lab| {
                    lab.network.example = wanted.clone();
                    lab.network.step = 0;
                    lab.network.edits.clear();
                })));
            }
        }
    });
}

/// Focus follows the removal dialog: into it when it opens, to "Add a VM" when it closes (its
/// VM card may be gone).
#[hook]
fn use_focus_follows_removal(open: Option<String>) {
    let was_open = use_mut_ref(|| None::<String>);
    use_effect_with(open, move |open| {
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
}

/// The page when the lab does not load: only a tampered link or an old saved lab gets here,
/// so it offers to drop the edits.
fn broken_lab(app: &crate::app::AppHandle, e: &EditError) -> Html {
    let lang = app.lang;
    let clear = edit_lab(app, |lab, _: MouseEvent| {
        lab.network.edits.clear();
        lab.network.step = 0;
    });
    html! {
        <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={false}>
            <p class="lv-field-error" role="alert">{ render_error(lang, e) }</p>
            <button class="lv-button" onclick={clear}>{ CLEAR.get(lang) }</button>
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
const SEGMENT: Text = Text::new("Segment", "세그먼트");

/// The warning for a host port below 1024.
pub fn privileged_warning(lang: Lang, port: u16) -> String {
    match lang {
        Lang::En => format!("Warning: host port {port} is below 1024. On a Linux host only root may listen there (net.ipv4.ip_unprivileged_port_start = 1024), so VirtualBox run as a normal user cannot open it; pick a port ≥ 1024, like 2222."),
        Lang::Ko => format!("주의: 호스트 포트 {} 1024보다 작습니다. Linux 호스트에서는 root만 이 포트에서 수신할 수 있어(net.ipv4.ip_unprivileged_port_start = 1024) 일반 사용자로 실행한 VirtualBox는 이 포트를 열 수 없습니다. 2222처럼 1024 이상인 포트를 고르세요.", particle::eun_neun(port)),
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
        (Lang::En, EditError::Topology(p)) => {
            format!("The change makes the topology invalid: {}", problems(p))
        }
        (Lang::Ko, EditError::Topology(p)) => {
            format!("이 변경은 토폴로지를 잘못되게 만듭니다: {}", problems(p))
        }
        (_, EditError::Action(action, err)) => {
            format!(
                "{}: {}",
                scenario::describe_in(action, lang),
                err.explain_in(lang)
            )
        }
        (Lang::En, EditError::NoHost) => {
            "A VM needs a host to run on, and this topology has no host.".into()
        }
        (Lang::Ko, EditError::NoHost) => {
            "VM은 실행될 호스트가 필요한데 이 토폴로지에는 호스트가 없습니다.".into()
        }
        (Lang::En, EditError::UnknownNat(n)) => {
            format!("There is no configurable NAT named {n:?}.")
        }
        (Lang::Ko, EditError::UnknownNat(n)) => {
            format!(
                "설정할 수 있는 NAT 중에 {} 없습니다.",
                particle::i_ga(format!("{n:?}"))
            )
        }
        (Lang::En, EditError::Rule(fe)) => fe.to_string(),
        (Lang::Ko, EditError::Rule(fe)) => format!(
            "포트 포워딩 규칙 {} 올바르지 않습니다: {}",
            particle::i_ga(format!("{:?}", fe.input)),
            fe.problem.explain_in(lang)
        ),
        (Lang::En, EditError::Conflict { rule, conflict }) => {
            format!("cannot add rule {rule}: {conflict}")
        }
        (Lang::Ko, EditError::Conflict { rule, conflict }) => format!(
            "다음 규칙은 추가할 수 없습니다: {rule}. {}",
            conflict.explain_in(lang)
        ),
        (Lang::En, EditError::Address(a)) => format!("{a:?} is not an IPv4 address like 10.0.2.15"),
        (Lang::Ko, EditError::Address(a)) => format!(
            "{} 10.0.2.15 같은 IPv4 주소가 아닙니다",
            particle::eun_neun(format!("{a:?}"))
        ),
        (Lang::En, EditError::Prefix(a)) => {
            format!("{a:?} is not an address with its prefix length, like 10.10.0.1/24")
        }
        (Lang::Ko, EditError::Prefix(a)) => {
            format!(
                "{} 10.10.0.1/24처럼 프리픽스 길이를 붙인 주소가 아닙니다",
                particle::eun_neun(format!("{a:?}"))
            )
        }
        (Lang::En, EditError::Port(p)) => format!("port {p:?} is not a number in 1-65535"),
        (Lang::Ko, EditError::Port(p)) => format!(
            "포트 {} 1–65535 범위의 숫자가 아닙니다",
            particle::eun_neun(format!("{p:?}"))
        ),
        (Lang::En, EditError::TooMany) => format!(
            "The lab keeps at most {} edits: undo one first.",
            crate::lab::MAX_NET_EDITS
        ),
        (Lang::Ko, EditError::TooMany) => format!(
            "실습은 편집을 최대 {}개까지 보관합니다. 먼저 하나를 되돌리세요.",
            crate::lab::MAX_NET_EDITS
        ),
    }
}

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
                conflict: ForwardConflict::SameHostPort { .. },
                ..
            }
        ));
        assert!(render_error(Lang::En, &e)
            .contains("host port tcp/2222 is already forwarded by rule \"tcp2222\""));
        assert!(render_error(Lang::Ko, &e).contains(
            "호스트 포트 tcp/2222는 이미 다른 규칙에서 포워딩하고 있습니다: \"tcp2222\""
        ));
        let e = forward_edit(target, "tcp2222,udp,,53,,53", existing).unwrap_err();
        assert!(matches!(
            e,
            EditError::Conflict {
                conflict: ForwardConflict::SameName { .. },
                ..
            }
        ));
        assert!(
            render_error(Lang::Ko, &e).contains("같은 이름의 규칙이 이미 있습니다: \"tcp2222\"")
        );
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
    fn korean_particles_follow_the_value_before_them() {
        assert!(privileged_warning(Lang::Ko, 80).starts_with("주의: 호스트 포트 80은 "));
        assert!(privileged_warning(Lang::Ko, 22).starts_with("주의: 호스트 포트 22는 "));
        let port = render_error(Lang::Ko, &EditError::Port("0".into()));
        assert!(port.starts_with("포트 \"0\"은 "), "{port}");
        let nat = render_error(Lang::Ko, &EditError::UnknownNat("lan".into()));
        assert!(nat.contains("\"lan\"이 없습니다"), "{nat}");
        let removal = Removal::default();
        assert!(confirm_text(Lang::Ko, "vm1", &removal).starts_with("vm1을 "));
        assert!(confirm_text(Lang::Ko, "db", &removal).starts_with("db를 "));
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
