//! A packet's journey: [`Network::travel`] follows it hop by hop, and each hop is handled by
//! what the node is: a VirtualBox NAT engine ([`Network::engine_hop`]) or a machine
//! ([`Network::machine_hop`]: the router's NAT inbound, the host's engines, local delivery,
//! then forwarding with the router's NAT outbound).

use std::net::Ipv4Addr;

use super::{From_, Network, MAX_HOPS};
use crate::net::conntrack::FlowKey;
use crate::net::packet::{Packet, Transport, Unreachable};
use crate::net::topology::{Node, NodeKind, Role};
use crate::net::trace::{DropCause, Event, Step};

/// Where a packet goes after one node has handled it.
enum Hop {
    /// On to a node, arriving as it says, as this packet.
    Next(usize, From_, Packet),
    /// Delivered or dropped: the journey ends.
    Done,
}

impl Network {
    /// Follows `pkt` from `node` until it is delivered or dropped.
    pub(super) fn travel(
        &mut self,
        mut node: usize,
        mut pkt: Packet,
        mut from: From_,
        answer: bool,
        steps: &mut Vec<Step>,
    ) {
        for _ in 0..MAX_HOPS {
            let hop = match self.fabric.nodes[node].role.clone() {
                Role::NatEngine { host, vm } => {
                    self.engine_hop(node, host, vm.is_some(), pkt, from, answer, steps)
                }
                Role::Machine { kind } => self.machine_hop(node, kind, pkt, from, answer, steps),
            };
            match hop {
                Hop::Next(next, arriving, p) => {
                    self.now = self.now.after(self.hop_delay);
                    node = next;
                    from = arriving;
                    pkt = p;
                }
                Hop::Done => return,
            }
        }
        self.drop_(
            node,
            pkt,
            DropCause::Loop,
            format!("more than {MAX_HOPS} hops: a routing loop"),
            steps,
        );
    }

    /// The packet crosses from a NAT engine into its host's stack.
    fn cross_into_host(&self, engine: usize, host: usize, p: Packet, steps: &mut Vec<Step>) -> Hop {
        steps.push(self.step(Event::HostStack {
            engine: self.fabric.nodes[engine].name.clone(),
            host: self.fabric.nodes[host].name.clone(),
            into_host: true,
            packet: p.clone(),
        }));
        Hop::Next(host, From_::Engine, p)
    }

    /// The packet crosses from a host's stack into one of its NAT engines.
    fn cross_into_engine(
        &self,
        host: usize,
        engine: usize,
        p: Packet,
        steps: &mut Vec<Step>,
    ) -> Hop {
        steps.push(self.step(Event::HostStack {
            engine: self.fabric.nodes[engine].name.clone(),
            host: self.fabric.nodes[host].name.clone(),
            into_host: false,
            packet: p.clone(),
        }));
        Hop::Next(engine, From_::HostStack, p)
    }

    /// A VirtualBox NAT engine: inbound traffic (already translated) goes out onto its
    /// segment; the guest's traffic is answered (gateway, DNS) or translated into the host.
    #[allow(clippy::too_many_arguments)]
    fn engine_hop(
        &mut self,
        node: usize,
        host: usize,
        nat_mode: bool,
        mut pkt: Packet,
        from: From_,
        answer: bool,
        steps: &mut Vec<Step>,
    ) -> Hop {
        if from == From_::HostStack {
            // Inbound, already translated: out onto the engine's segment.
            return match self.l2_next(node, 0, pkt.dst, &pkt, steps) {
                Some((n, k)) => Hop::Next(n, From_::Nic(k), pkt),
                None => Hop::Done,
            };
        }
        let gw = self.fabric.nodes[node].nics[0].addr.map(|a| a.addr());
        let dns = self.fabric.nodes[node].nics[0]
            .addr
            .map(|a| Ipv4Addr::from_bits(a.network().to_bits() + 3));
        if pkt.is_icmp_error() {
            if let Some(mut p) = self.nat_icmp_error(node, &pkt, steps) {
                if let Some(src) = self.source_for(host, p.dst) {
                    p.src = src;
                }
                return self.cross_into_host(node, host, p, steps);
            }
        }
        let tracked = pkt.ports().is_some_and(|(sport, dport)| {
            let key = FlowKey {
                proto: pkt.proto(),
                src: pkt.src,
                dst: pkt.dst,
                sport,
                dport,
            };
            self.nats
                .get(&self.fabric.nodes[node].name)
                .is_some_and(|t| t.tracks(&key, self.now))
        });
        if !tracked && (Some(pkt.dst) == gw && !nat_mode || (nat_mode && Some(pkt.dst) == dns)) {
            self.deliver(node, pkt, answer, steps);
            return Hop::Done;
        }
        if pkt.ttl <= 1 {
            self.ttl_exceeded(node, Some(0), &pkt, steps);
            return Hop::Done;
        }
        pkt.ttl -= 1;
        // VirtualBox NAT: the gateway address is the host's loopback.
        let redirect = (nat_mode && Some(pkt.dst) == gw).then_some(Ipv4Addr::LOCALHOST);
        let ext = match self.source_for(host, redirect.unwrap_or(pkt.dst)) {
            Some(ext) => ext,
            // A reply on a tracked connection is translated by its conntrack entry, which
            // already holds the outside address: the host needs no route to the gateway
            // address the guest answers.
            None if tracked => Ipv4Addr::UNSPECIFIED,
            None => {
                let t = Transport::Unreachable {
                    why: Unreachable::Net,
                    quoted: pkt.quote(),
                };
                self.drop_(
                    node,
                    pkt.clone(),
                    DropCause::NoRoute,
                    format!("the host has no route to {}", pkt.dst),
                    steps,
                );
                self.icmp_error(node, Some(0), &pkt, t, steps);
                return Hop::Done;
            }
        };
        match self.nat_step(node, &pkt, steps, |t, k, f, now| {
            t.outbound_to(k, f, ext, redirect, now)
        }) {
            Ok(p) => self.cross_into_host(node, host, p, steps),
            Err(why) => {
                self.drop_(node, pkt, DropCause::Nat, why, steps);
                Hop::Done
            }
        }
    }

    /// A machine: the router's NAT inbound, a host's VirtualBox engines, local delivery, or
    /// forwarding.
    fn machine_hop(
        &mut self,
        node: usize,
        kind: NodeKind,
        pkt: Packet,
        from: From_,
        answer: bool,
        steps: &mut Vec<Step>,
    ) -> Hop {
        let n = self.fabric.nodes[node].clone();
        let Some(mut pkt) = self.router_nat_inbound(node, &n, pkt, from, steps) else {
            return Hop::Done;
        };
        if kind == NodeKind::Host && self.is_local(node, pkt.dst, from) {
            match self.host_engines(node, pkt, steps) {
                Ok(hop) => return hop,
                Err(p) => pkt = p,
            }
        }
        if self.is_local(node, pkt.dst, from) {
            self.deliver(node, pkt, answer, steps);
            return Hop::Done;
        }
        self.forward(node, &n, pkt, from, steps)
    }

    /// The router's NAT, inbound: traffic addressed to its outside address is translated to
    /// the inside host, and an inside host addressing the outside address is hairpinned.
    /// `None` when the NAT dropped it.
    fn router_nat_inbound(
        &mut self,
        node: usize,
        n: &Node,
        mut pkt: Packet,
        from: From_,
        steps: &mut Vec<Step>,
    ) -> Option<Packet> {
        let (Some(o), From_::Nic(i)) = (n.nat_outside, from) else {
            return Some(pkt);
        };
        let outside_ip = n.nics[o].addr.map(|a| a.addr());
        if i == o && Some(pkt.dst) == outside_ip {
            if pkt.is_icmp_error() {
                if let Some(p) = self.nat_icmp_error(node, &pkt, steps) {
                    pkt = p;
                }
            } else if pkt.ports().is_some() {
                match self.nat_step(node, &pkt, steps, |t, k, f, now| t.inbound(k, f, None, now)) {
                    Ok(p) => pkt = p,
                    Err(why)
                        if why.starts_with("no connection")
                            && (n.owns(pkt.dst)
                                && matches!(pkt.transport, Transport::EchoRequest { .. })) => {}
                    Err(why) => {
                        self.drop_(node, pkt, DropCause::Nat, why, steps);
                        return None;
                    }
                }
            }
        } else if i != o && Some(pkt.dst) == outside_ip && pkt.ports().is_some() {
            // Hairpinning: an inside host addressed the outside address.
            match self.nat_step(node, &pkt, steps, |t, k, f, now| {
                t.outbound(k, f, outside_ip.unwrap_or(k.dst), now)
            }) {
                Ok(p) => pkt = p,
                Err(why) => {
                    self.drop_(node, pkt, DropCause::Nat, why, steps);
                    return None;
                }
            }
        }
        Some(pkt)
    }

    /// A host's VirtualBox NAT engines take replies, port-forwarded traffic and ICMP errors
    /// about their flows out of the host's stack; anything else comes back.
    fn host_engines(
        &mut self,
        node: usize,
        pkt: Packet,
        steps: &mut Vec<Step>,
    ) -> Result<Hop, Packet> {
        if pkt.ports().is_some() {
            if let Some((engine, p)) = self.host_to_engine(node, &pkt, steps) {
                return Ok(self.cross_into_engine(node, engine, p, steps));
            }
        }
        if pkt.is_icmp_error() {
            for engine in self.engines_of(node) {
                if let Some(p) = self.nat_icmp_error(engine, &pkt, steps) {
                    return Ok(self.cross_into_engine(node, engine, p, steps));
                }
            }
        }
        Err(pkt)
    }

    /// Forwarding: a router (or the sender itself) looks the destination up, the router's NAT
    /// translates outbound traffic, and the packet goes to the next hop on the link.
    fn forward(
        &mut self,
        node: usize,
        n: &Node,
        mut pkt: Packet,
        from: From_,
        steps: &mut Vec<Step>,
    ) -> Hop {
        let ingress = match from {
            From_::Nic(i) => Some(i),
            _ => None,
        };
        if ingress.is_some() {
            if !n.forwarding {
                self.drop_(
                    node,
                    pkt,
                    DropCause::NotForwarding,
                    format!(
                        "{} is not the destination and is not a router (IP forwarding is off)",
                        n.name
                    ),
                    steps,
                );
                return Hop::Done;
            }
            if pkt.ttl <= 1 {
                self.ttl_exceeded(node, ingress, &pkt, steps);
                return Hop::Done;
            }
            pkt.ttl -= 1;
        }
        let Some(route) = n.routes.lookup(pkt.dst).cloned() else {
            let reason = format!(
                "no route to {} (the routing table has no matching entry and no default route)",
                pkt.dst
            );
            self.drop_(node, pkt.clone(), DropCause::NoRoute, reason, steps);
            self.unreachable(node, ingress, &pkt, Unreachable::Net, steps);
            return Hop::Done;
        };
        steps.push(self.step(Event::Route {
            node: n.name.clone(),
            route: route.to_string(),
        }));
        let Some(egress) = n.nic_index(&route.nic) else {
            return Hop::Done;
        };
        let Some(pkt) = self.router_nat_outbound(node, n, pkt, ingress, egress, steps) else {
            return Hop::Done;
        };
        let next_hop = route.via.unwrap_or(pkt.dst);
        match self.l2_next(node, egress, next_hop, &pkt, steps) {
            Some((m, k)) => Hop::Next(m, From_::Nic(k), pkt),
            None => {
                self.unreachable(node, ingress, &pkt, Unreachable::Host, steps);
                Hop::Done
            }
        }
    }

    /// A forwarded packet that cannot go on is answered with ICMP destination unreachable;
    /// the sender's own packet is not.
    fn unreachable(
        &mut self,
        node: usize,
        ingress: Option<usize>,
        pkt: &Packet,
        why: Unreachable,
        steps: &mut Vec<Step>,
    ) {
        if ingress.is_some() {
            let t = Transport::Unreachable {
                why,
                quoted: pkt.quote(),
            };
            self.icmp_error(node, ingress, pkt, t, steps);
        }
    }

    /// The router's NAT, outbound: inside traffic leaving by the outside NIC is translated to
    /// the outside address, and an inside ICMP error about a forwarded flow is translated
    /// back. `None` when the NAT dropped it.
    fn router_nat_outbound(
        &mut self,
        node: usize,
        n: &Node,
        mut pkt: Packet,
        ingress: Option<usize>,
        egress: usize,
        steps: &mut Vec<Step>,
    ) -> Option<Packet> {
        let Some(o) = n.nat_outside else {
            return Some(pkt);
        };
        if egress != o || ingress.is_none_or(|i| i == o) {
            return Some(pkt);
        }
        if !pkt.is_icmp_error() {
            let ext = n.nics[o]
                .addr
                .map(|a| a.addr())
                .unwrap_or(Ipv4Addr::UNSPECIFIED);
            match self.nat_step(node, &pkt, steps, |t, k, f, now| t.outbound(k, f, ext, now)) {
                Ok(p) => return Some(p),
                Err(why) => {
                    self.drop_(node, pkt, DropCause::Nat, why, steps);
                    return None;
                }
            }
        }
        // An ICMP error from inside about an inbound (forwarded) flow.
        if let Some(p) = self.nat_icmp_error(node, &pkt, steps) {
            pkt = p;
            if let Some(a) = n.nics[o].addr {
                pkt.src = a.addr();
            }
        }
        Some(pkt)
    }
}

impl Network {
    /// The source address a node uses towards `dst`: the address of the NIC its route uses.
    pub(super) fn source_for(&self, node: usize, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        let n = self.fabric.nodes.get(node)?;
        if dst.is_loopback() {
            return Some(Ipv4Addr::LOCALHOST);
        }
        if n.owns(dst) {
            return Some(dst);
        }
        let r = n.routes.lookup(dst)?;
        n.nics
            .iter()
            .find(|x| x.name == r.nic)?
            .addr
            .map(|a| a.addr())
    }

    pub(super) fn engines_of(&self, host: usize) -> Vec<usize> {
        self.fabric
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.role, Role::NatEngine { host: h, .. } if h == host))
            .map(|(i, _)| i)
            .collect()
    }

    /// The one guest address behind a NAT-mode engine.
    pub(super) fn engine_guest(&self, engine: usize) -> Option<Ipv4Addr> {
        let seg = self.fabric.nodes.get(engine)?.nics.first()?.segment?;
        self.fabric
            .on_segment(seg)
            .filter(|&(n, _)| n != engine)
            .find_map(|(n, k)| self.fabric.nodes[n].nics[k].addr.map(|a| a.addr()))
    }

    pub(super) fn is_local(&self, node: usize, dst: Ipv4Addr, from: From_) -> bool {
        let n = &self.fabric.nodes[node];
        n.owns(dst) || (dst.is_loopback() && matches!(from, From_::Local | From_::Engine))
    }

    pub(super) fn deliver(
        &mut self,
        node: usize,
        pkt: Packet,
        answer: bool,
        steps: &mut Vec<Step>,
    ) {
        match self.answer(node, &pkt) {
            Ok(reply) => {
                steps.push(self.step(Event::Deliver {
                    node: self.fabric.nodes[node].name.clone(),
                    packet: pkt,
                }));
                if let (true, Some(r)) = (answer, reply) {
                    steps.push(self.step(Event::Send {
                        node: self.fabric.nodes[node].name.clone(),
                        packet: r.clone(),
                    }));
                    self.travel(node, r, From_::Local, false, steps);
                }
            }
            Err((cause, reason, transport)) => {
                self.drop_(node, pkt.clone(), cause, reason, steps);
                if answer {
                    let r = Packet::new(pkt.dst, pkt.src, transport);
                    steps.push(self.step(Event::Send {
                        node: self.fabric.nodes[node].name.clone(),
                        packet: r.clone(),
                    }));
                    self.travel(node, r, From_::Local, false, steps);
                }
            }
        }
    }

    /// Finds `next_hop` on the segment of `node`'s NIC `nic` (ARP) and records the transmission.
    pub(super) fn l2_next(
        &self,
        node: usize,
        nic: usize,
        next_hop: Ipv4Addr,
        pkt: &Packet,
        steps: &mut Vec<Step>,
    ) -> Option<(usize, usize)> {
        let n = &self.fabric.nodes[node];
        let x = n.nics.get(nic)?;
        let Some(seg) = x.segment else {
            self.drop_(
                node,
                pkt.clone(),
                DropCause::NotAttached,
                format!("{} is not attached (no cable plugged in)", x.name),
                steps,
            );
            return None;
        };
        if x.addr.is_none() {
            self.drop_(
                node,
                pkt.clone(),
                DropCause::NoAddress,
                format!("{} has no IPv4 address", x.name),
                steps,
            );
            return None;
        }
        let found = self.fabric.on_segment(seg).find(|&(m, k)| {
            m != node
                && self.fabric.nodes[m].nics[k]
                    .addr
                    .is_some_and(|a| a.addr() == next_hop)
        });
        match found {
            Some((m, k)) => {
                steps.push(self.step(Event::Transmit {
                    from: n.name.clone(),
                    from_nic: x.name.clone(),
                    to: self.fabric.nodes[m].name.clone(),
                    to_nic: self.fabric.nodes[m].nics[k].name.clone(),
                    segment: self.fabric.segments[seg].name.clone(),
                    packet: pkt.clone(),
                }));
                Some((m, k))
            }
            None => {
                let seg_name = &self.fabric.segments[seg].name;
                self.drop_(
                    node,
                    pkt.clone(),
                    DropCause::NoArp,
                    format!(
                        "no ARP reply for {next_hop} on {seg_name}: nobody has that address there"
                    ),
                    steps,
                );
                None
            }
        }
    }

    /// A packet addressed to the host that belongs to one of its NAT engines: a reply to a
    /// guest's connection, or a port-forwarded connection.
    pub(super) fn host_to_engine(
        &mut self,
        host: usize,
        pkt: &Packet,
        steps: &mut Vec<Step>,
    ) -> Option<(usize, Packet)> {
        let (sport, dport) = pkt.ports()?;
        let key = FlowKey {
            proto: pkt.proto(),
            src: pkt.src,
            dst: pkt.dst,
            sport,
            dport,
        };
        let engines = self.engines_of(host);
        let now = self.now;
        let tracked = engines.iter().copied().find(|e| {
            self.nats
                .get(&self.fabric.nodes[*e].name)
                .is_some_and(|t| t.tracks(&key, now))
        });
        let chosen = tracked.or_else(|| {
            engines.iter().copied().find(|e| {
                self.nats
                    .get(&self.fabric.nodes[*e].name)
                    .is_some_and(|t| t.would_admit(&key))
            })
        })?;
        // VirtualBox's NAT engines proxy forwarded connections: the guest sees them coming
        // from the gateway address.
        let proxy = self.fabric.nodes[chosen].nics[0].addr.map(|a| a.addr());
        let guest = match &self.fabric.nodes[chosen].role {
            Role::NatEngine { vm: Some(_), .. } => self.engine_guest(chosen),
            _ => None,
        };
        self.nat_step(chosen, pkt, steps, |t, k, f, now| {
            t.inbound_as(k, f, guest, proxy, now)
        })
        .ok()
        .map(|p| (chosen, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::clock::Duration;
    use crate::net::scenario::{Scenario, EXAMPLES};

    fn first_action_times(delay: Duration) -> Vec<u64> {
        let (name, src) = EXAMPLES[0];
        let s = Scenario::parse(name, src).unwrap();
        let mut net = Network::new(s.topology.clone()).unwrap();
        net.set_hop_delay(delay);
        let steps = net.apply(&s.actions[0].1).unwrap();
        steps.iter().map(|s| s.at.0).collect()
    }

    #[test]
    fn a_journey_takes_no_time_unless_hops_are_given_some() {
        assert!(first_action_times(Duration(0)).iter().all(|t| *t == 0));
        let times = first_action_times(Duration(1));
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        // The query and its answer cross three links each way.
        assert_eq!(times.last(), Some(&6), "{times:?}");
    }
}
