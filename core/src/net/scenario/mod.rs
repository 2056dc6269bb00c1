//! Scenario files: a topology and a list of actions, in TOML.
//!
//! ```toml
//! title = { en = "A VM on NAT asks 8.8.8.8 for a name", ko = "NAT 모드 VM이 8.8.8.8에 이름을 묻다" }
//! description = { en = """...""", ko = """...""" }   # or one plain string: English only
//!
//! [[node]]
//! name = "pc"
//! kind = "host"                      # host | vm | router | server
//! nic = [{ name = "eth0", segment = "lan", ip = "192.168.1.10/24", gateway = "192.168.1.1" }]
//!
//! [[node]]
//! name = "vm1"
//! kind = "vm"
//! host = "pc"
//! nic = [{ mode = "nat", forward = ["ssh,tcp,,2222,,22"] }]   # nat | natnetwork | bridged | hostonly | internal | none
//! listen = ["tcp/22"]
//!
//! [[node]]
//! name = "router"
//! kind = "router"
//! # profile: "teaching" (the default: RFC 4787 behaviours, each settable with mapping,
//! # filtering, hairpin, preserve-ports, pool) or "linux" (iptables MASQUERADE, as the
//! # differential test tests/linux_nat checks it against the kernel)
//! nat = { outside = "wan", profile = "linux" }
//! nic = [{ name = "lan", segment = "lan", ip = "192.168.1.1/24" }, { name = "wan", segment = "isp", ip = "203.0.113.7/24" }]
//!
//! [[step]]
//! send = { from = "vm1", to = "8.8.8.8", proto = "udp", dport = 53, label = "dns query" }
//! [[step]]
//! advance = "31s"
//! # The lab itself can change too: add-vm = { name, host }, rename-vm = { from, to },
//! # remove-vm = "vm1", set-host = { vm, host }, add-nic = { vm, mode, network },
//! # remove-nic = { vm, nic }, set-address = { vm, nic, ip = "10.10.0.1/24" } (no ip: DHCP),
//! # add-natnetwork = { name, cidr, host }, set-mode = { vm, nic, mode, network }.
//! ```
//!
//! A scenario may end with a `[goal]`: packets that must get through once the learner has
//! changed the lab, checked on the simulated network (see [`goal`]).
//!
//! Parsed from a `&str` (the browser has no files); every error names `file:line:column` and
//! what was expected.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::clock::Instant;
use super::nat::NatTable;
use super::packet::Proto;
use super::sim::{Action, Network};
use super::topology::{Problem, Topology};
use super::trace::{Event, Step};
use crate::lang::{Bilingual, Explain, Lang, Text};

mod build;
pub mod goal;
mod raw;
mod steps;
use build::{check_host_references, nat_network_spec, node_spec, report_wiring_problems};
pub use goal::Goal;
use raw::{bilingual, Ctx, RawGoal, RawScenario};
use steps::{known_node, step_action};

/// The ready examples (`labvisor net example NAME`), embedded so the browser has them too.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("home-router", include_str!("../examples/home-router.toml")),
    ("nat-network", include_str!("../examples/nat-network.toml")),
    (
        "port-forward-ssh",
        include_str!("../examples/port-forward-ssh.toml"),
    ),
    ("host-only", include_str!("../examples/host-only.toml")),
    (
        "internal-networks",
        include_str!("../examples/internal-networks.toml"),
    ),
    ("home-nat", include_str!("../examples/home-nat.toml")),
    (
        "two-vms-modes",
        include_str!("../examples/two-vms-modes.toml"),
    ),
    (
        "ssh-into-nat-vm",
        include_str!("../examples/ssh-into-nat-vm.toml"),
    ),
    (
        "forward-to-vm2",
        include_str!("../examples/forward-to-vm2.toml"),
    ),
    (
        "host-only-second-nic",
        include_str!("../examples/host-only-second-nic.toml"),
    ),
];

/// One error in a scenario file, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioError {
    /// The file name as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// All the errors found in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A parsed scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// Title, in English and Korean (Korean empty when the file has only one language).
    pub title: Bilingual,
    /// What it shows, likewise.
    pub description: Bilingual,
    /// The lab.
    pub topology: Topology,
    /// The actions, in order, each with the 1-based line it starts on.
    pub actions: Vec<(usize, Action)>,
    /// What the learner should make the network do, if the scenario sets a task.
    #[serde(default)]
    pub goal: Option<Goal>,
}

/// The outcome of running a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// DHCP leases at start-up.
    pub leases: Vec<Step>,
    /// Per action: the action and what happened.
    pub actions: Vec<(Action, Vec<Step>)>,
    /// Warnings about the topology (e.g. privileged host ports).
    pub warnings: Vec<Problem>,
    /// The network at the end (NAT tables, clock).
    pub network: Network,
}

impl Scenario {
    /// Parses a scenario; `file` names it in error messages.
    pub fn parse(file: &str, src: &str) -> Result<Scenario, ScenarioErrors> {
        let mut ctx = Ctx::new(file, src);
        let raw: RawScenario = match toml::from_str(src) {
            Ok(r) => r,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                ctx.error(span, e.message().to_string());
                return Err(ScenarioErrors(ctx.errors));
            }
        };
        let title = bilingual(&mut ctx, "title", raw.title.as_ref());
        let description = bilingual(&mut ctx, "description", raw.description.as_ref());
        let mut topology = Topology::default();
        // Where each node and NAT Network is named, to locate the wiring's problems.
        let mut name_spans: BTreeMap<String, Range<usize>> = BTreeMap::new();
        for n in &raw.node {
            name_spans
                .entry(n.name.get_ref().clone())
                .or_insert(n.name.span());
            topology.nodes.push(node_spec(&mut ctx, n));
        }
        for nn in &raw.natnetwork {
            name_spans
                .entry(format!("natnetwork {}", nn.name.get_ref()))
                .or_insert(nn.name.span());
            topology.nat_networks.push(nat_network_spec(&mut ctx, nn));
        }
        check_host_references(&mut ctx, &raw);
        let mut actions = Vec::new();
        // The node names as the steps go: steps may create, rename and delete VMs.
        let mut names: Vec<String> = topology.nodes.iter().map(|n| n.name.clone()).collect();
        for s in &raw.step {
            let span = s.span();
            let line = ctx.pos(span.start).0;
            match step_action(s.get_ref(), &topology, &mut names) {
                Ok(a) => actions.push((line, a)),
                Err(e) => ctx.error(span, e),
            }
        }
        let goal = raw
            .goal
            .as_ref()
            .map(|g| parse_goal(&mut ctx, g.get_ref(), g.span(), &topology, &names));
        report_wiring_problems(&mut ctx, &topology, &name_spans);
        if !ctx.errors.is_empty() {
            return Err(ScenarioErrors(ctx.errors));
        }
        Ok(Scenario {
            title,
            description,
            topology,
            actions,
            goal,
        })
    }

    /// Runs every action in order. An action that cannot be applied (an unknown node, a
    /// conflicting rule) stops the run with its line.
    pub fn run(&self, file: &str) -> Result<Run, ScenarioErrors> {
        let mut network = Network::new(self.topology.clone()).map_err(|problems| {
            ScenarioErrors(
                problems
                    .into_iter()
                    .map(|p| ScenarioError {
                        file: file.into(),
                        line: 1,
                        column: 1,
                        message: p.to_string(),
                    })
                    .collect(),
            )
        })?;
        let leases = network.lease_steps();
        let mut actions = Vec::new();
        for (line, action) in &self.actions {
            match network.apply(action) {
                Ok(steps) => actions.push((action.clone(), steps)),
                Err(e) => {
                    return Err(ScenarioErrors(vec![ScenarioError {
                        file: file.into(),
                        line: *line,
                        column: 1,
                        message: e.to_string(),
                    }]));
                }
            }
        }
        Ok(Run {
            leases,
            actions,
            warnings: super::topology::warnings(&self.topology),
            network,
        })
    }
}

/// Reads `[goal]`. Its checks and solution name nodes as the scenario's steps leave them; the
/// solution's steps are read like `[[step]]`s that follow them.
fn parse_goal(
    ctx: &mut Ctx,
    raw: &RawGoal,
    span: Range<usize>,
    topology: &Topology,
    names: &[String],
) -> Goal {
    let text = bilingual(ctx, "goal.text", raw.text.as_ref());
    if text.is_empty() {
        ctx.error(
            span.clone(),
            "goal: needs text = { en = \"...\", ko = \"...\" } saying what to do",
        );
    }
    if raw.check.is_empty() {
        ctx.error(
            span,
            "goal: needs check = [{ from, to, proto, dport, reach }]: the packets that must get through",
        );
    }
    let mut checks = Vec::new();
    for c in &raw.check {
        let (c, span) = (c.get_ref(), c.span());
        let known = known_node(names, &c.from).and_then(|_| known_node(names, &c.reach));
        let dport = match (c.proto, c.dport) {
            (Proto::Icmp, _) => Ok(0),
            (_, Some(port)) => Ok(port),
            (proto, None) => Err(format!("a {proto} check needs dport")),
        };
        match known.and(dport) {
            Ok(dport) => {
                let mut probe = super::sim::SendSpec::new(&c.from, c.to, c.proto, dport);
                probe.sport = goal::CHECK_SOURCE_PORT;
                checks.push(goal::Check {
                    probe,
                    reach: c.reach.clone(),
                    port: c.port,
                });
            }
            Err(e) => ctx.error(span, format!("goal check: {e}")),
        }
    }
    let mut solution = Vec::new();
    let mut names = names.to_vec();
    for s in &raw.solution {
        match step_action(s.get_ref(), topology, &mut names) {
            Ok(a) => solution.push(a),
            Err(e) => ctx.error(s.span(), format!("goal solution: {e}")),
        }
    }
    Goal {
        text,
        checks,
        solution,
    }
}

/// One line saying what an action does, in English (`pc sends tcp to 8.8.8.8:443`).
pub fn describe(a: &Action) -> String {
    describe_in(a, Lang::En)
}

/// One line saying what an action does, in `lang`. The Korean lines put names before arrows
/// and colons rather than before particles, which would depend on how each name ends.
pub fn describe_in(a: &Action, lang: Lang) -> String {
    let ko = lang == Lang::Ko;
    match a {
        Action::Send(s) => match (s.proto, ko) {
            (Proto::Icmp, false) => format!("{} pings {}", s.from, s.to),
            (Proto::Icmp, true) => format!("{} → {} ping", s.from, s.to),
            (p, false) => format!("{} sends {p} to {}:{}", s.from, s.to, s.dport),
            (p, true) => format!("{} → {}:{} {p} 전송", s.from, s.to, s.dport),
        },
        Action::Advance(d) if ko => format!("{d} 대기"),
        Action::Advance(d) => format!("wait {d}"),
        Action::AddForward { rule, .. } if ko => format!("포워딩 규칙 추가: {rule}"),
        Action::AddForward { rule, .. } => format!("add forwarding rule {rule}"),
        Action::RemoveForward { name, .. } if ko => format!("포워딩 규칙 삭제: {name}"),
        Action::RemoveForward { name, .. } => format!("remove forwarding rule {name}"),
        Action::SetMode { vm, nic, mode } if ko => {
            format!("{vm} {nic} 연결 방식 → {}", mode.name_in(lang))
        }
        Action::SetMode { vm, nic, mode } => format!("set {vm} {nic} to {mode}"),
        Action::AddVm { name, host } if ko => format!("VM {name} 생성 (호스트 {host})"),
        Action::AddVm { name, host } => format!("create VM {name} on {host}"),
        Action::RemoveVm { name } if ko => format!("VM {name} 삭제"),
        Action::RemoveVm { name } => format!("delete VM {name}"),
        Action::RenameVm { from, to } if ko => format!("VM 이름 변경: {from} → {to}"),
        Action::RenameVm { from, to } => format!("rename VM {from} to {to}"),
        Action::SetHost { vm, host } if ko => format!("{vm} 실행 호스트 → {host}"),
        Action::SetHost { vm, host } => format!("move {vm} to host {host}"),
        Action::AddNic { vm, mode } if ko => format!("{vm}에 NIC 추가 ({})", mode.name_in(lang)),
        Action::AddNic { vm, mode } => format!("add a NIC on {mode} to {vm}"),
        Action::RemoveNic { vm, nic } if ko => format!("{vm} {nic} 제거"),
        Action::RemoveNic { vm, nic } => format!("remove {vm} {nic}"),
        Action::AddNatNetwork { name, cidr, host } if ko => {
            format!("NAT 네트워크 {name} {cidr} 생성 (호스트 {host})")
        }
        Action::AddNatNetwork { name, cidr, host } => {
            format!("create NAT Network {name} {cidr} on {host}")
        }
        Action::SetAddress { vm, nic, addr } => match (addr, ko) {
            (Some(a), false) => format!("set {vm} {nic} address {a}"),
            (Some(a), true) => format!("{vm} {nic} 주소 → {a}"),
            (None, false) => format!("set {vm} {nic} to DHCP"),
            (None, true) => format!("{vm} {nic} 주소 → DHCP"),
        },
    }
}

impl Run {
    /// The trace as text, in English: leases, then each action with its steps.
    pub fn trace_text(&self) -> String {
        self.trace_text_in(Lang::En)
    }

    /// The trace as text in `lang`: the headings and the action lines in `lang`, the steps as
    /// the engine prints them (tcpdump's and conntrack's notation), and in Korean every drop
    /// followed by its cause explained.
    pub fn trace_text_in(&self, lang: Lang) -> String {
        let mut s = String::new();
        if !self.leases.is_empty() {
            let start = Text::new("start", "시작").get(lang);
            s.push_str(&format!("== {start}: DHCP\n"));
            s.push_str(&render_in(&self.leases, lang));
        }
        for (i, (action, steps)) in self.actions.iter().enumerate() {
            s.push_str(&format!("== {}: {}\n", i + 1, describe_in(action, lang)));
            s.push_str(&render_in(steps, lang));
        }
        s
    }

    /// The final NAT tables as text, both like `conntrack -L` and like Cisco's
    /// `show ip nat translations`, in English.
    pub fn nat_text(&self) -> String {
        self.nat_text_in(Lang::En)
    }

    /// The final NAT tables as text, the headings in `lang`; the tables themselves are the
    /// tools' own output.
    pub fn nat_text_in(&self, lang: Lang) -> String {
        let now = self.network.now();
        self.network
            .nats()
            .iter()
            .map(|(name, table)| nat_table_text_in(name, table, now, lang))
            .collect()
    }
}

/// One NAT table as text, both like `conntrack -L` and like Cisco's `show ip nat
/// translations`: what `labvisor net run` prints, and what a real VM's `Ctrl-A n` shows.
pub fn nat_table_text(name: &str, table: &NatTable, now: Instant) -> String {
    nat_table_text_in(name, table, now, Lang::En)
}

/// [`nat_table_text`] with its heading in `lang`; the tables themselves are the tools' own
/// output.
pub fn nat_table_text_in(name: &str, table: &NatTable, now: Instant, lang: Lang) -> String {
    let (kind, count) = (table.config().type_name(), table.conntrack().len());
    let mut s = match lang {
        Lang::En => format!("== {name} NAT ({kind}), {count} connection(s) at t={now}\n"),
        Lang::Ko => format!("== {name} NAT ({kind}), t={now}에 연결 {count}개\n"),
    };
    for r in table.forwards() {
        s.push_str(&format!("forward {r}\n"));
    }
    for line in table.conntrack_lines(now) {
        s.push_str(&line);
        s.push('\n');
    }
    let rows = table.cisco_rows();
    if !rows.is_empty() {
        s.push_str(
            "Pro  Inside global        Inside local         Outside local        Outside global\n",
        );
        for r in rows {
            s.push_str(
                &format!(
                    "{:<4} {:<20} {:<20} {:<20} {}\n",
                    r[0], r[1], r[2], r[3], r[4]
                )
                .replace(" \n", "\n"),
            );
        }
    }
    s
}

/// Steps one per line; in Korean a drop is followed by its cause, explained.
fn render_in(steps: &[Step], lang: Lang) -> String {
    let mut s = String::new();
    for step in steps {
        s.push_str(&step.to_string());
        s.push('\n');
        if let (Lang::Ko, Event::Drop { cause, .. }) = (lang, &step.event) {
            s.push_str(&format!("{:>9}  ↳ {}\n", "", cause.explain_in(lang)));
        }
    }
    s
}
