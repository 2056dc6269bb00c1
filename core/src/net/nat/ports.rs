//! Choosing the external port of a new outbound flow: the binding the mapping behaviour lets
//! it reuse, the source port when free, else one from the pool (or Linux's own choice).

use std::net::Ipv4Addr;

use super::{
    bind_key, internal_key, linux_port_class, Behavior, NatDrop, NatTable, PortChoice, PortPool,
};
use crate::net::conntrack::FlowKey;
use crate::net::packet::Proto;

impl NatTable {
    pub(super) fn port_free(&self, proto: Proto, port: u16) -> bool {
        !self.bindings.contains_key(&bind_key(proto, port))
            && !self.avoided.contains(&bind_key(proto, port))
            && !self
                .forwards
                .iter()
                .any(|r| r.proto == proto && r.host_port == port)
    }

    /// The external port for a new outbound flow `k` whose replies come from `dst:dport` to
    /// `ext_ip`: an existing binding where the mapping behaviour allows reuse, the source port
    /// if free, else a free port as [`PortChoice`] says.
    pub(super) fn map_port(
        &mut self,
        k: &FlowKey,
        dst: Ipv4Addr,
        dport: u16,
        ext_ip: Ipv4Addr,
    ) -> Result<u16, NatDrop> {
        match self.config.mapping {
            Behavior::EndpointIndependent => {
                if let Some(b) = self.bindings.get(&bind_key(k.proto, k.sport)) {
                    if b.int_ip == k.src && b.int_port == k.sport {
                        return Ok(k.sport);
                    }
                }
                let ik = internal_key(k.proto, k.src, k.sport, Ipv4Addr::UNSPECIFIED);
                if let Some(&p) = self.by_internal.get(&ik) {
                    return Ok(p);
                }
            }
            Behavior::AddressDependent => {
                if let Some(&p) = self
                    .by_internal
                    .get(&internal_key(k.proto, k.src, k.sport, k.dst))
                {
                    return Ok(p);
                }
            }
            Behavior::AddressAndPortDependent => {}
        }
        if let PortChoice::Linux { seed } = self.config.port_choice {
            return self.linux_port(k, dst, dport, ext_ip, seed);
        }
        if self.config.preserve_ports && self.port_free(k.proto, k.sport) {
            return Ok(k.sport);
        }
        let PortPool { first, last } = self.config.pool;
        let size = (last as u32).saturating_sub(first as u32) + 1;
        let mut p = self.cursor.clamp(first, last);
        for _ in 0..size {
            let candidate = p;
            p = if p >= last { first } else { p + 1 };
            if self.port_free(k.proto, candidate) {
                self.cursor = p;
                return Ok(candidate);
            }
        }
        Err(NatDrop::PoolExhausted {
            proto: k.proto,
            first,
            last,
        })
    }

    /// [`PortChoice::Linux`]: the source port unless the reply tuple is taken, else the first
    /// free one from a drawn offset in the source port's class.
    pub(super) fn linux_port(
        &mut self,
        k: &FlowKey,
        dst: Ipv4Addr,
        dport: u16,
        ext_ip: Ipv4Addr,
        seed: u64,
    ) -> Result<u16, NatDrop> {
        let free = |port: u16| {
            !self.avoided.contains(&bind_key(k.proto, port))
                && !self.ct.holds(&FlowKey {
                    proto: k.proto,
                    src: dst,
                    sport: if k.proto == Proto::Icmp { port } else { dport },
                    dst: ext_ip,
                    dport: port,
                })
        };
        if self.config.preserve_ports && free(k.sport) {
            return Ok(k.sport);
        }
        let PortPool { first, last } = linux_port_class(k.proto, k.sport);
        let size = u32::from(last) - u32::from(first) + 1;
        let offset = (crate::net::flow::mix64(seed ^ self.draws) % u64::from(size)) as u32;
        self.draws = self.draws.wrapping_add(1);
        (0..size)
            .map(|i| (u32::from(first) + (offset + i) % size) as u16)
            .find(|&p| free(p))
            .ok_or(NatDrop::PoolExhausted {
                proto: k.proto,
                first,
                last,
            })
    }
}
