//! Probes the labs send to show a NAT's behaviour, built from the engine's own state.

use super::{Network, SendSpec};
use crate::net::topology::{NodeKind, Role};

impl Network {
    /// The packet that tests a NAT's filtering (RFC 4787 §5): an outside host other than the
    /// one `nat`'s most recent connection talks to sends to that connection's mapped address
    /// and port. `None` when the NAT has no connection or there is no such host.
    pub fn filter_probe(&self, nat: &str) -> Option<SendSpec> {
        let entry = self.nats().get(nat)?.conntrack().entries().last()?;
        let (inside, remote) = (entry.orig.src, entry.orig.dst);
        let (mapped_ip, mapped_port) = (entry.reply.dst, entry.reply.dport);
        let sender = self.fabric().nodes.iter().find(|n| {
            matches!(
                n.role,
                Role::Machine {
                    kind: NodeKind::Server | NodeKind::Router
                }
            ) && n.name != nat
                && !n.owns(inside)
                && !n.owns(remote)
                && !n.owns(mapped_ip)
                && !n.addrs().is_empty()
        })?;
        let mut spec = SendSpec::new(&sender.name, mapped_ip, entry.orig.proto, mapped_port);
        spec.sport = 50_001;
        spec.label = "unsolicited".into();
        Some(spec)
    }
}
