//! A scenario's goal: what the learner should make the network do, checked against the live
//! simulation and never against the edits themselves.
//!
//! ```toml
//! [goal]
//! text = { en = "Make SSH from the internet to 203.0.113.20:2222 reach vm2 on port 22.", ko = "..." }
//! # Each check sends one packet on a copy of the network as it stands after every action
//! # (the scenario's and the learner's); the goal is met when every packet arrives at `reach`
//! # (on `port`, when given) and its answer gets back to the sender.
//! check = [{ from = "internet", to = "203.0.113.20", proto = "tcp", dport = 2222, reach = "vm2", port = 22 }]
//! # The answer the lesson teaches, as steps; the tests run it to prove the goal can be met.
//! solution = [{ forward-add = { natnetwork = "NatNetwork", rule = "ssh-vm2:tcp:[]:2222:[10.0.2.5]:22" } }]
//! ```
//!
//! Because a check is a packet and not a comparison with an expected configuration, any edit
//! that really makes the packet arrive meets the goal (a rule in either syntax, a NAT Network
//! made by hand), and no edit that leaves the packet where it was can.

use serde::{Deserialize, Serialize};

use crate::lang::{particle::i_ga, Bilingual, Explain, Lang};
use crate::net::packet::Proto;
use crate::net::sim::{Action, Network, SendSpec};
use crate::net::trace::{DropCause, Event, Step};

/// The source port every check sends from, above the ports scenarios use, so that a check
/// never matches a connection the scenario left in a NAT table.
pub const CHECK_SOURCE_PORT: u16 = 49152;

/// What the learner should make the network do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// The goal in words, both languages.
    pub text: Bilingual,
    /// The packets that must get through, all of them.
    pub checks: Vec<Check>,
    /// The lesson's own answer, as engine actions (for the tests and the docs; never shown
    /// before the learner has met the goal).
    pub solution: Vec<Action>,
}

/// One packet that must get through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// The packet, sent from its node.
    pub probe: SendSpec,
    /// The node it must arrive at.
    pub reach: String,
    /// The port it must arrive on, after any rewriting (e.g. 22 behind a rule on 2222).
    pub port: Option<u16>,
}

/// How one check's packet went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// It arrived where it should and the answer came back.
    Reached,
    /// It arrived at the right node on the wrong port.
    WrongPort {
        /// The node it should reach.
        node: String,
        /// The port it arrived on.
        port: u16,
    },
    /// It arrived at another node.
    WrongNode {
        /// Where it arrived.
        node: String,
    },
    /// It arrived at `node` (the right one or not), nothing listens there on that port, and
    /// the node answered with a reset or a port-unreachable.
    PortClosed {
        /// Where it arrived.
        node: String,
    },
    /// It was dropped on the way.
    Dropped {
        /// Where.
        node: String,
        /// Why.
        cause: DropCause,
    },
    /// It arrived but no answer got back.
    NoAnswer,
    /// The engine could not send it (its sender is gone, for instance).
    NotSent(String),
}

impl Outcome {
    /// Whether this is the wanted outcome.
    pub fn reached(&self) -> bool {
        matches!(self, Outcome::Reached)
    }
}

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// The check.
    pub check: Check,
    /// How its packet went.
    pub outcome: Outcome,
    /// What the packet did, step by step, on the copy of the network.
    pub steps: Vec<Step>,
}

impl Goal {
    /// Sends every check's packet on a copy of `network` and says how each went. `network`
    /// itself is untouched.
    pub fn evaluate(&self, network: &Network) -> Vec<CheckResult> {
        self.checks
            .iter()
            .map(|check| {
                let (outcome, steps) = check.run(network);
                CheckResult {
                    check: check.clone(),
                    outcome,
                    steps,
                }
            })
            .collect()
    }

    /// Whether every check's packet gets through on `network`.
    pub fn is_met(&self, network: &Network) -> bool {
        self.evaluate(network).iter().all(|r| r.outcome.reached())
    }
}

impl Check {
    fn run(&self, network: &Network) -> (Outcome, Vec<Step>) {
        let mut copy = network.clone();
        match copy.send(&self.probe) {
            Ok(steps) => (self.judge(&steps), steps),
            Err(e) => (Outcome::NotSent(e.to_string()), Vec::new()),
        }
    }

    /// Reads the packet's fate from its steps: where it was first delivered (or refused), and
    /// whether an answer was then delivered back to the sender.
    fn judge(&self, steps: &[Step]) -> Outcome {
        let sender = &self.probe.from;
        let mut arrival: Option<Outcome> = None;
        for step in steps {
            match (&step.event, &arrival) {
                (Event::Deliver { node, packet }, None) if node != sender => {
                    let port = packet.ports().map(|(_, dport)| dport);
                    arrival = Some(if node != &self.reach {
                        Outcome::WrongNode { node: node.clone() }
                    } else {
                        match (self.port, port) {
                            (Some(want), Some(got)) if want != got => Outcome::WrongPort {
                                node: node.clone(),
                                port: got,
                            },
                            _ => Outcome::NoAnswer,
                        }
                    });
                }
                (
                    Event::Drop {
                        node,
                        cause: DropCause::PortClosed,
                        ..
                    },
                    None,
                ) => {
                    arrival = Some(Outcome::PortClosed { node: node.clone() });
                }
                (Event::Drop { node, cause, .. }, None) => {
                    return Outcome::Dropped {
                        node: node.clone(),
                        cause: *cause,
                    };
                }
                (Event::Deliver { node, .. }, Some(Outcome::NoAnswer)) if node == sender => {
                    return Outcome::Reached;
                }
                _ => {}
            }
        }
        arrival.unwrap_or(Outcome::NoAnswer)
    }

    /// The check in words: `internet → 203.0.113.20:2222 (tcp) must reach vm2:22`.
    pub fn summary(&self) -> String {
        let p = &self.probe;
        let to = match p.proto {
            Proto::Icmp => format!("{} (ping)", p.to),
            proto => format!("{}:{} ({proto})", p.to, p.dport),
        };
        let at = match self.port {
            Some(port) => format!("{}:{port}", self.reach),
            None => self.reach.clone(),
        };
        format!("{} → {to} ⇒ {at}", p.from)
    }
}

impl Explain for Outcome {
    fn explain_in(&self, lang: Lang) -> String {
        match (self, lang) {
            (Outcome::Reached, Lang::En) => "it arrives and the answer comes back".into(),
            (Outcome::Reached, Lang::Ko) => "도착하고 응답도 돌아옵니다".into(),
            (Outcome::WrongPort { node, port }, Lang::En) => {
                format!("it reaches {node}, but on port {port}")
            }
            (Outcome::WrongPort { node, port }, Lang::Ko) => {
                format!("{node}까지 가지만 {port}번 포트로 도착합니다")
            }
            (Outcome::WrongNode { node }, Lang::En) => format!("it arrives at {node} instead"),
            (Outcome::WrongNode { node }, Lang::Ko) => format!("엉뚱하게 {node}에 도착합니다"),
            (Outcome::PortClosed { node }, Lang::En) => {
                format!("it reaches {node}, where nothing listens on that port")
            }
            (Outcome::PortClosed { node }, Lang::Ko) => {
                format!("{node}까지 가지만 그 포트에서 대기하는 프로그램이 없습니다")
            }
            (Outcome::Dropped { node, cause }, Lang::En) => {
                format!("{node} drops it: {}", cause.explain_in(lang))
            }
            (Outcome::Dropped { node, cause }, Lang::Ko) => {
                format!("{} 버립니다: {}", i_ga(node), cause.explain_in(lang))
            }
            (Outcome::NoAnswer, Lang::En) => "no answer gets back to the sender".into(),
            (Outcome::NoAnswer, Lang::Ko) => "응답이 보낸 쪽으로 돌아오지 않습니다".into(),
            (Outcome::NotSent(why), Lang::En) => format!("it cannot be sent: {why}"),
            (Outcome::NotSent(why), Lang::Ko) => format!("보낼 수 없습니다: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::scenario::Scenario;

    const LAB: &str = r#"
title = "two VMs"
[[node]]
name = "host"
kind = "host"
nic = [{ name = "eth0", segment = "wan", ip = "203.0.113.20/24", gateway = "203.0.113.99" }]
[[node]]
name = "internet"
kind = "server"
nic = [{ name = "eth0", segment = "wan", ip = "203.0.113.99/24" }]
[[node]]
name = "vm1"
kind = "vm"
host = "host"
nic = [{ mode = "natnetwork", network = "NatNetwork" }]
listen = ["tcp/22"]
[[node]]
name = "vm2"
kind = "vm"
host = "host"
nic = [{ mode = "natnetwork", network = "NatNetwork" }]
listen = ["tcp/22"]
[[natnetwork]]
name = "NatNetwork"
cidr = "10.0.2.0/24"
host = "host"
[goal]
text = { en = "SSH to vm2", ko = "vm2에 SSH" }
check = [{ from = "internet", to = "203.0.113.20", proto = "tcp", dport = 2222, reach = "vm2", port = 22 }]
solution = [{ forward-add = { natnetwork = "NatNetwork", rule = "ssh-vm2:tcp:[]:2222:[10.0.2.5]:22" } }]
"#;

    fn lab() -> (Scenario, Network) {
        let scenario = Scenario::parse("lab.toml", LAB).expect("parses");
        let network = Network::new(scenario.topology.clone()).expect("builds");
        (scenario, network)
    }

    fn outcome_after(rule: &str) -> Outcome {
        let (scenario, mut network) = lab();
        let goal = scenario.goal.expect("a goal");
        let rule = crate::net::forward::PortForward::parse_any(rule).expect("a rule");
        network
            .apply(&Action::AddForward {
                target: crate::net::sim::RuleTarget::NatNetwork {
                    name: "NatNetwork".into(),
                },
                rule,
            })
            .expect("applies");
        goal.evaluate(&network).remove(0).outcome
    }

    #[test]
    fn without_a_rule_the_syn_ends_at_the_host_and_the_goal_is_not_met() {
        let (scenario, network) = lab();
        let goal = scenario.goal.expect("a goal");
        let results = goal.evaluate(&network);
        assert_eq!(
            results[0].outcome,
            Outcome::PortClosed {
                node: "host".into()
            }
        );
        assert!(!goal.is_met(&network));
    }

    #[test]
    fn the_solution_meets_the_goal_and_leaves_the_network_untouched() {
        let (scenario, mut network) = lab();
        let goal = scenario.goal.expect("a goal");
        for action in &goal.solution {
            network.apply(action).expect("the solution applies");
        }
        let before = format!("{:?}", network.nats().len());
        assert!(goal.is_met(&network));
        assert!(
            goal.is_met(&network),
            "evaluating twice gives the same answer"
        );
        assert_eq!(before, format!("{:?}", network.nats().len()));
    }

    #[test]
    fn a_rule_to_the_other_vm_arrives_at_the_wrong_node() {
        assert_eq!(
            outcome_after("ssh:tcp:[]:2222:[10.0.2.4]:22"),
            Outcome::WrongNode { node: "vm1".into() }
        );
    }

    #[test]
    fn a_rule_to_a_closed_port_is_named_as_such() {
        assert_eq!(
            outcome_after("ssh:tcp:[]:2222:[10.0.2.5]:2222"),
            Outcome::PortClosed { node: "vm2".into() }
        );
    }

    #[test]
    fn a_rule_on_another_host_port_does_not_meet_the_goal() {
        assert_eq!(
            outcome_after("ssh:tcp:[]:2022:[10.0.2.5]:22"),
            Outcome::PortClosed {
                node: "host".into()
            }
        );
    }

    /// The examples that carry a goal, run as the lab runs them: every action of the scenario.
    fn examples_with_goals() -> Vec<(&'static str, Goal, Network)> {
        crate::net::scenario::EXAMPLES
            .iter()
            .filter_map(|(name, src)| {
                let scenario = Scenario::parse(name, src).expect("the example parses");
                let run = scenario.run(name).expect("the example runs");
                Some((*name, scenario.goal?, run.network))
            })
            .collect()
    }

    #[test]
    fn every_lesson_scenario_starts_unmet_and_its_solution_meets_it() {
        let labs = examples_with_goals();
        assert!(labs.len() >= 5, "only {} examples with a goal", labs.len());
        for (name, goal, mut network) in labs {
            assert!(
                !goal.text.en.is_empty() && !goal.text.ko.is_empty(),
                "{name}"
            );
            assert!(!goal.is_met(&network), "{name}: met before any edit");
            assert!(!goal.solution.is_empty(), "{name}: no solution");
            for action in &goal.solution {
                network
                    .apply(action)
                    .unwrap_or_else(|e| panic!("{name}: {action:?}: {e}"));
            }
            let results = goal.evaluate(&network);
            for r in &results {
                assert!(
                    r.outcome.reached(),
                    "{name}: {} after the solution: {:?}\n{}",
                    r.check.summary(),
                    r.outcome,
                    r.steps.iter().map(|s| format!("{s}\n")).collect::<String>()
                );
            }
        }
    }

    #[test]
    fn the_nat_lesson_lab_drops_the_reply_that_comes_after_the_timeout() {
        let src = crate::net::scenario::EXAMPLES
            .iter()
            .find(|(name, _)| *name == "home-nat")
            .expect("home-nat")
            .1;
        let run = Scenario::parse("home-nat", src)
            .and_then(|s| s.run("home-nat"))
            .expect("runs");
        let (_, late) = run.actions.last().expect("three actions");
        assert!(
            late.iter().any(|s| matches!(&s.event,
                Event::Drop { node, .. } if node == "home-router")),
            "the late reply should be dropped at home-router"
        );
    }

    #[test]
    fn an_unrelated_edit_does_not_meet_a_goal() {
        for (name, goal, mut network) in examples_with_goals() {
            // A packet sent is an edit the lab allows everywhere; it changes no configuration.
            let first = &goal.checks[0].probe;
            let mut ping = SendSpec::new(&first.from, first.to, Proto::Icmp, 0);
            ping.sport = 7;
            let _ = network.apply(&Action::Send(ping));
            assert!(!goal.is_met(&network), "{name}: met by a ping");
        }
    }

    #[test]
    fn a_goal_naming_an_unknown_node_is_refused_with_its_line() {
        let bad = LAB.replace("reach = \"vm2\"", "reach = \"vm9\"");
        let errors = Scenario::parse("lab.toml", &bad).expect_err("refused").0;
        assert!(
            errors[0].message.contains("unknown node \"vm9\""),
            "{errors:?}"
        );
        assert_eq!(errors[0].line, 29, "the line of the check");
    }

    #[test]
    fn outcomes_explain_themselves_in_both_languages() {
        let dropped = Outcome::Dropped {
            node: "vm2".into(),
            cause: DropCause::NoRoute,
        };
        assert!(dropped.explain_in(Lang::En).starts_with("vm2 drops it"));
        assert!(dropped.explain_in(Lang::Ko).starts_with("vm2가 버립니다"));
        assert!(!dropped.explain_in(Lang::Ko).contains("이(가)"));
    }
}
