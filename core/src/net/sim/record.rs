//! The NAT tables step by step: [`Network::apply_recorded`] runs one action like
//! [`Network::apply`] and keeps a copy of every NAT table each time a step changed one, so a
//! front end can show the tables as they stood at any step of the trace (a conntrack entry
//! `[UNREPLIED]` while the SYN is on its way, `[ASSURED]` once the answer came back) and
//! which entry that step created or matched.
//!
//! Recording is off in [`Network::apply`]: a copy of the tables per NAT decision is meant for
//! teaching-sized networks, not for the benchmarks' thousands of connections.

use std::collections::BTreeMap;

use super::{Action, ActionError, Network};
use crate::net::conntrack::{Entry, FlowKey};
use crate::net::nat::NatTable;
use crate::net::trace::{CtChange, Event, Step};

/// Every NAT table by name, as it stood at some step.
pub type Tables = BTreeMap<String, NatTable>;

/// The tables after a change, and the first step that shows it.
#[derive(Debug, Clone)]
pub struct TablesFrom {
    /// The index (in the action's steps) of the first step the change belongs to.
    pub step: usize,
    /// Every NAT table from that step on.
    pub nats: Tables,
}

/// One action's steps with the NAT tables as each step left them.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// What happened, as [`Network::apply`] returns it.
    pub steps: Vec<Step>,
    /// The tables after each change, in step order; the last is the state after the action.
    pub tables: Vec<TablesFrom>,
}

impl Recorded {
    /// The tables as they stood at step `i` of this action, or `None` when no step up to `i`
    /// changed them (they are as the previous action left them).
    pub fn tables_at(&self, i: usize) -> Option<&Tables> {
        self.tables
            .iter()
            .take_while(|t| t.step <= i)
            .last()
            .map(|t| &t.nats)
    }
}

impl Network {
    /// Applies an action like [`Network::apply`], recording the NAT tables after every step
    /// that changed them.
    pub fn apply_recorded(&mut self, action: &Action) -> Result<Recorded, ActionError> {
        self.journal = Some(Vec::new());
        let done = self.apply(action);
        let mut tables = self.journal.take().unwrap_or_default();
        let steps = done?;
        // Rewiring and configuration changes touch the tables without a NAT decision: the
        // action's last step shows the tables as the whole action left them.
        tables.push(TablesFrom {
            step: steps.len().saturating_sub(1),
            nats: self.nats.clone(),
        });
        Ok(Recorded { steps, tables })
    }

    /// Notes the tables as they are now, as the state from step `step` on, when recording.
    pub(super) fn note_tables(&mut self, step: usize) {
        if let Some(journal) = &mut self.journal {
            journal.push(TablesFrom {
                step,
                nats: self.nats.clone(),
            });
        }
    }
}

/// The conntrack entry that `step` created, changed or matched, found in `tables` (the tables
/// as they stood at that step): the NAT's name and the entry. A translation finds the entry its
/// packet belongs to, in either direction; a conntrack line finds the entry it prints. Steps
/// that touch no entry, and entries already gone (expired, killed), give `None`.
pub fn touched_entry<'a>(tables: &'a Tables, step: &Step) -> Option<(&'a str, &'a Entry)> {
    let (name, table) = match &step.event {
        Event::Translate { node, .. } | Event::Conntrack { node, .. } => {
            tables.get_key_value(node)?
        }
        _ => return None,
    };
    let entries = table.conntrack().entries();
    let entry = match &step.event {
        Event::Translate { before, .. } => {
            let (sport, dport) = before.ports()?;
            let key = FlowKey {
                proto: before.proto(),
                src: before.src,
                dst: before.dst,
                sport,
                dport,
            };
            let (slot, _) = table.conntrack().find(&key)?;
            entries.get(slot)?
        }
        Event::Conntrack {
            change: CtChange::New | CtChange::Update,
            entry,
            ..
        } => entries
            .iter()
            .find(|e| e.conntrack_line(step.at) == *entry)?,
        _ => return None,
    };
    Some((name.as_str(), entry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::conntrack::State;
    use crate::net::scenario::{Scenario, EXAMPLES};

    fn example(name: &str) -> Scenario {
        let (_, src) = EXAMPLES.iter().find(|(n, _)| *n == name).unwrap();
        Scenario::parse(name, src).unwrap()
    }

    /// Runs every action of `name` recorded; returns each action's record.
    fn run(name: &str) -> (Network, Vec<Recorded>) {
        let s = example(name);
        let mut net = Network::new(s.topology.clone()).unwrap();
        let runs = s
            .actions
            .iter()
            .map(|(_, a)| net.apply_recorded(a).unwrap())
            .collect();
        (net, runs)
    }

    fn router_entry(tables: &Tables) -> &Entry {
        &tables["home-router"].conntrack().entries()[0]
    }

    #[test]
    fn recording_changes_nothing_the_engine_does() {
        for (name, _) in EXAMPLES {
            let s = example(name);
            let mut plain = Network::new(s.topology.clone()).unwrap();
            let mut recorded = Network::new(s.topology.clone()).unwrap();
            for (_, a) in &s.actions {
                let r = recorded.apply_recorded(a).unwrap();
                assert_eq!(plain.apply(a).unwrap(), r.steps, "{name}");
                let last = r.tables.last().unwrap();
                assert_eq!(
                    format!("{:?}", last.nats),
                    format!("{:?}", plain.nats()),
                    "{name}: the last record is the state after the action"
                );
            }
        }
    }

    #[test]
    fn the_new_entry_is_unreplied_until_the_answer_crosses_the_nat() {
        let (_, runs) = run("home-router");
        // The first action: the DNS query out and its answer back.
        let dns = &runs[0];
        let new = dns
            .steps
            .iter()
            .position(|s| {
                matches!(
                    s.event,
                    Event::Conntrack {
                        change: CtChange::New,
                        ..
                    }
                )
            })
            .unwrap();
        let at_new = dns.tables_at(new).unwrap();
        let entry = router_entry(at_new);
        assert!(!entry.seen_reply(), "the query has not been answered yet");
        assert!(entry
            .conntrack_line(dns.steps[new].at)
            .contains("[UNREPLIED]"));
        // Before the SNAT step, the router's table is still empty.
        let snat = dns
            .steps
            .iter()
            .position(|s| matches!(&s.event, Event::Translate { kind, .. } if kind == "SNAT"))
            .unwrap();
        assert!(snat < new);
        let before = dns.tables_at(snat - 1);
        assert!(before.is_none_or(|t| t["home-router"].conntrack().is_empty()));
        // The SNAT step shows the entry it made, and names it.
        let (nat, touched) = touched_entry(dns.tables_at(snat).unwrap(), &dns.steps[snat]).unwrap();
        assert_eq!(nat, "home-router");
        assert_eq!(touched.orig, entry.orig);
        // The answer's un-NAT sees the reply: no longer unreplied.
        let unnat = dns
            .steps
            .iter()
            .position(|s| matches!(&s.event, Event::Translate { kind, .. } if kind == "un-NAT"))
            .unwrap();
        let at_reply = dns.tables_at(unnat).unwrap();
        assert!(router_entry(at_reply).seen_reply());
        let (_, matched) = touched_entry(at_reply, &dns.steps[unnat]).unwrap();
        assert_eq!(
            matched.orig, entry.orig,
            "the reply matched the query's entry"
        );
    }

    #[test]
    fn a_tcp_entry_is_assured_only_after_the_handshake() {
        let (_, runs) = run("home-router");
        // Action 3 sends the SYN (answered by a SYN-ACK), action 4 the ACK.
        let syn = &runs[2];
        let state_at = |r: &Recorded, i: usize| {
            let t = r.tables_at(i).unwrap();
            t["home-router"]
                .conntrack()
                .entries()
                .iter()
                .find(|e| e.orig.dport == 443)
                .map(|e| (e.state, e.assured()))
        };
        let first_nat = syn
            .steps
            .iter()
            .position(|s| matches!(s.event, Event::Translate { .. }))
            .unwrap();
        assert_eq!(state_at(syn, first_nat), Some((State::SynSent, false)));
        let ack = &runs[3];
        let last = ack.steps.len() - 1;
        assert_eq!(state_at(ack, last), Some((State::Established, true)));
    }

    #[test]
    fn steps_without_a_conntrack_entry_touch_none() {
        let (_, runs) = run("home-router");
        let dns = &runs[0];
        let tables = dns.tables.last().unwrap();
        assert!(
            touched_entry(&tables.nats, &dns.steps[0]).is_none(),
            "the send"
        );
    }

    #[test]
    fn an_expired_entry_leaves_the_table_from_its_own_step() {
        let (_, runs) = run("home-router");
        let advance = &runs[4];
        assert!(matches!(advance.steps[0].event, Event::Clock { .. }));
        let expired = advance
            .steps
            .iter()
            .position(|s| {
                matches!(
                    s.event,
                    Event::Conntrack {
                        change: CtChange::Expired,
                        ..
                    }
                )
            })
            .expect("the UDP entry times out after 30 s");
        let udp_left = |t: &Tables| {
            t["home-router"]
                .conntrack()
                .entries()
                .iter()
                .any(|e| e.orig.dport == 53)
        };
        assert!(!udp_left(advance.tables_at(expired).unwrap()));
        assert!(
            advance.tables_at(0).is_none_or(udp_left),
            "at the clock step the entry is still there"
        );
    }
}
