//! What a node says back: a drop with its cause, ICMP errors (time exceeded, unreachable), and
//! a host's answers to pings, SYNs and datagrams (listening or not).

use super::{From_, Network};
use crate::net::packet::{Packet, Proto, TcpFlags, Transport, Unreachable};
use crate::net::topology::Role;
use crate::net::trace::{DropCause, Event, Step};

impl Network {
    pub(super) fn drop_(
        &self,
        node: usize,
        packet: Packet,
        cause: DropCause,
        reason: String,
        steps: &mut Vec<Step>,
    ) {
        steps.push(self.step(Event::Drop {
            node: self.fabric.nodes[node].name.clone(),
            packet,
            cause,
            reason,
        }));
    }

    /// A packet whose TTL runs out at `node`: dropped, and answered with ICMP time exceeded.
    pub(super) fn ttl_exceeded(
        &mut self,
        node: usize,
        ingress: Option<usize>,
        pkt: &Packet,
        steps: &mut Vec<Step>,
    ) {
        self.drop_(
            node,
            pkt.clone(),
            DropCause::TtlExceeded,
            "TTL exceeded in transit".into(),
            steps,
        );
        let quoted = pkt.quote();
        self.icmp_error(
            node,
            ingress,
            pkt,
            Transport::TimeExceeded { quoted },
            steps,
        );
    }

    /// An ICMP error from `node` about `pkt` (never about another ICMP error, RFC 1122).
    pub(super) fn icmp_error(
        &mut self,
        node: usize,
        ingress: Option<usize>,
        pkt: &Packet,
        transport: Transport,
        steps: &mut Vec<Step>,
    ) {
        if pkt.is_icmp_error() {
            return;
        }
        let n = &self.fabric.nodes[node];
        let src = ingress
            .and_then(|i| n.nics.get(i))
            .and_then(|x| x.addr)
            .map(|a| a.addr())
            .or_else(|| self.source_for(node, pkt.src));
        let Some(src) = src else { return };
        let err = Packet::new(src, pkt.src, transport);
        steps.push(self.step(Event::Send {
            node: n.name.clone(),
            packet: err.clone(),
        }));
        self.travel(node, err, From_::Local, false, steps);
    }

    /// The answer a node gives to a packet delivered to it, if any.
    pub(super) fn answer(
        &self,
        node: usize,
        pkt: &Packet,
    ) -> Result<Option<Packet>, (DropCause, String, Transport)> {
        let n = &self.fabric.nodes[node];
        if let Some((_, dport)) = pkt.ports() {
            if self.sockets.contains(&(n.name.clone(), pkt.proto(), dport)) && !pkt.is_icmp_error()
            {
                // The answer to a socket this node opened.
                return Ok(None);
            }
        }
        let listens = |proto: Proto, port: u16| {
            n.listen.contains(&(proto, port))
                // A NAT engine's DNS proxy (10.0.x.3) answers DNS.
                || (matches!(n.role, Role::NatEngine { .. }) && proto == Proto::Udp && port == 53)
        };
        let mut reply = match &pkt.transport {
            Transport::EchoRequest { id, seq } => Packet::new(
                pkt.dst,
                pkt.src,
                Transport::EchoReply { id: *id, seq: *seq },
            ),
            Transport::Tcp {
                sport,
                dport,
                flags,
            } if flags.contains(TcpFlags::SYN) && !flags.contains(TcpFlags::ACK) => {
                if listens(Proto::Tcp, *dport) {
                    Packet::tcp(
                        pkt.dst,
                        *dport,
                        pkt.src,
                        *sport,
                        TcpFlags::SYN.with(TcpFlags::ACK),
                    )
                } else {
                    return Err((
                        DropCause::PortClosed,
                        format!("nothing listens on tcp/{dport}: answered with RST"),
                        Transport::Tcp {
                            sport: *dport,
                            dport: *sport,
                            flags: TcpFlags::RST.with(TcpFlags::ACK),
                        },
                    ));
                }
            }
            Transport::Udp { sport, dport } => {
                if listens(Proto::Udp, *dport) {
                    Packet::udp(pkt.dst, *dport, pkt.src, *sport).labelled("reply")
                } else {
                    return Err((
                        DropCause::PortClosed,
                        format!(
                            "nothing listens on udp/{dport}: answered with ICMP port unreachable"
                        ),
                        Transport::Unreachable {
                            why: Unreachable::Port,
                            quoted: pkt.quote(),
                        },
                    ));
                }
            }
            _ => return Ok(None),
        };
        reply.ttl = crate::net::packet::DEFAULT_TTL;
        Ok(Some(reply))
    }
}
