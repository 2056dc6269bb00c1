//! The NAT tables' side of the engine: one table per NAT engine and router, kept across
//! rewiring, asked for every packet that crosses a NAT, and the trace lines that show what
//! each decision did (a new conntrack entry, a match, a rewrite, an ICMP error translated).

use std::collections::BTreeMap;

use super::Network;
use crate::net::clock::Instant;
use crate::net::conntrack::FlowKey;
use crate::net::forward::PortForward;
use crate::net::nat::{Decision, NatConfig, NatTable};
use crate::net::packet::{Packet, TcpFlags, Transport};
use crate::net::topology::{Attach, NatId};
use crate::net::trace::{CtChange, Event, Step};
use crate::net::vbox::Mode;

impl Network {
    /// Recreates NAT tables after (re)wiring, keeping the connections of NATs that survive.
    pub(super) fn sync_nats(&mut self, mut old: BTreeMap<String, NatTable>) {
        let mut wanted: Vec<(String, NatConfig, Vec<PortForward>)> = Vec::new();
        for n in &self.topology.nodes {
            if let Some(nat) = &n.nat {
                wanted.push((n.name.clone(), nat.config.clone(), nat.forwards.clone()));
            }
            let mut adapter = 0;
            for nic in &n.nics {
                if let Attach::Vbox(mode) = &nic.attach {
                    adapter += 1;
                    if let Mode::Nat { forwards } = mode {
                        wanted.push((
                            format!("{}/nat{adapter}", n.name),
                            NatConfig::default(),
                            forwards.clone(),
                        ));
                    }
                }
            }
        }
        for nn in &self.topology.nat_networks {
            wanted.push((
                NatId::nat_network(&nn.name).to_string(),
                nn.config.clone(),
                nn.forwards.clone(),
            ));
        }
        for (name, config, forwards) in wanted {
            let mut table = match old.remove(&name) {
                Some(t) if *t.config() == config => t,
                _ => NatTable::new(config),
            };
            let names: Vec<String> = table.forwards().iter().map(|r| r.name.clone()).collect();
            for n in names {
                table.remove_forward(&n);
            }
            for r in forwards {
                // Conflicts were rejected by validation.
                let _ = table.add_forward(r);
            }
            self.nats.insert(name, table);
        }
    }

    pub(super) fn record_nat(
        &self,
        node: &str,
        d: &Decision,
        before: &Packet,
        after: &Packet,
        steps: &mut Vec<Step>,
    ) {
        for e in &d.expired {
            steps.push(self.step(Event::Conntrack {
                node: node.to_string(),
                change: CtChange::Expired,
                entry: e.conntrack_line(e.expires),
            }));
        }
        let kind = if !d.created {
            "un-NAT"
        } else {
            match (
                before.src != after.src
                    || before.ports().map(|p| p.0) != after.ports().map(|p| p.0),
                before.dst != after.dst
                    || before.ports().map(|p| p.1) != after.ports().map(|p| p.1),
            ) {
                (true, true) => "SNAT+DNAT",
                (true, false) => "SNAT",
                (false, true) => "DNAT",
                (false, false) => "track",
            }
        };
        let kind = if !d.created && d.dir == crate::net::conntrack::Dir::Original {
            "NAT"
        } else {
            kind
        };
        steps.push(self.step(Event::Translate {
            node: node.to_string(),
            kind: kind.to_string(),
            before: before.clone(),
            after: after.clone(),
            rule: d.rule.clone(),
        }));
        if let Some(e) = &d.killed {
            steps.push(self.step(Event::Conntrack {
                node: node.to_string(),
                change: CtChange::Killed,
                entry: e.conntrack_line(self.now),
            }));
        } else if let Some(e) = self
            .nats
            .get(node)
            .and_then(|t| t.conntrack().get(d.slot as usize))
        {
            if d.created {
                steps.push(self.step(Event::Conntrack {
                    node: node.to_string(),
                    change: CtChange::New,
                    entry: e.conntrack_line(self.now),
                }));
            } else if d.transition.is_some() {
                steps.push(self.step(Event::Conntrack {
                    node: node.to_string(),
                    change: CtChange::Update,
                    entry: e.conntrack_line(self.now),
                }));
            }
        }
    }

    /// Runs a NAT decision on `pkt` at `node`; on success returns the rewritten packet.
    pub(super) fn nat_step(
        &mut self,
        node: usize,
        pkt: &Packet,
        steps: &mut Vec<Step>,
        decide: impl FnOnce(
            &mut NatTable,
            FlowKey,
            Option<TcpFlags>,
            Instant,
        ) -> Result<Decision, crate::net::nat::NatDrop>,
    ) -> Result<Packet, String> {
        let name = self.fabric.nodes[node].name.clone();
        let now = self.now;
        let Some((sport, dport)) = pkt.ports() else {
            return Err("not translatable".into());
        };
        let key = FlowKey {
            proto: pkt.proto(),
            src: pkt.src,
            dst: pkt.dst,
            sport,
            dport,
        };
        let table = self.nats.get_mut(&name).ok_or("no NAT table")?;
        match decide(table, key, pkt.tcp_flags(), now) {
            Ok(d) => {
                let mut after = pkt.clone();
                after.src = d.after.src;
                after.dst = d.after.dst;
                after.set_sport(d.after.sport);
                after.set_dport(d.after.dport);
                self.note_tables(steps.len());
                self.record_nat(&name, &d, pkt, &after, steps);
                Ok(after)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Translates an ICMP error's quote back through `node`'s NAT, if it belongs to it.
    pub(super) fn nat_icmp_error(
        &mut self,
        node: usize,
        pkt: &Packet,
        steps: &mut Vec<Step>,
    ) -> Option<Packet> {
        let name = self.fabric.nodes[node].name.clone();
        let q = match &pkt.transport {
            Transport::Unreachable { quoted, .. } | Transport::TimeExceeded { quoted } => *quoted,
            _ => return None,
        };
        let key = FlowKey {
            proto: q.proto,
            src: q.src,
            dst: q.dst,
            sport: q.sport,
            dport: q.dport,
        };
        let now = self.now;
        let orig = self.nats.get_mut(&name)?.untranslate_quote(key, now)?;
        let mut after = pkt.clone();
        let quoted = crate::net::packet::Quoted {
            proto: orig.proto,
            src: orig.src,
            sport: orig.sport,
            dst: orig.dst,
            dport: orig.dport,
        };
        if pkt.dst != orig.src {
            after.dst = orig.src;
        }
        match &mut after.transport {
            Transport::Unreachable { quoted: qq, .. } | Transport::TimeExceeded { quoted: qq } => {
                *qq = quoted
            }
            _ => {}
        }
        self.note_tables(steps.len());
        steps.push(self.step(Event::Translate {
            node: name,
            kind: "un-NAT (ICMP error)".into(),
            before: pkt.clone(),
            after: after.clone(),
            rule: None,
        }));
        Some(after)
    }
}
