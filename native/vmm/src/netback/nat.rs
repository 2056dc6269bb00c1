//! The NAT as the backend uses it: the core's table, what it decided (for the report) and
//! what was dropped, behind one lock shared with the VMM (`Ctrl-A n`, the report).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use labvisor_core::net::clock::Instant as NatInstant;
use labvisor_core::net::conntrack::FlowKey;
use labvisor_core::net::nat::{Decision, NatDrop, NatTable};
use labvisor_core::net::packet::TcpFlags;

use super::{GATEWAY_IP, GUEST_IP};

/// Decisions kept for the report; later ones are counted.
const DECISIONS_KEPT: usize = 1000;

/// The NAT and what it decided, shared with the VMM for `Ctrl-A n` and the report.
pub(super) struct NatState {
    pub(super) table: NatTable,
    pub(super) epoch: std::time::Instant,
    pub(super) decisions: Vec<Decision>,
    pub(super) decisions_not_kept: u64,
    pub(super) drops: BTreeMap<String, u64>,
}

impl NatState {
    pub(super) fn now(&self) -> NatInstant {
        NatInstant(self.epoch.elapsed().as_millis() as u64)
    }

    pub(super) fn count_drop(&mut self, why: impl Into<String>) {
        *self.drops.entry(why.into()).or_insert(0) += 1;
    }

    pub(super) fn record(&mut self, decision: &Decision) {
        if decision.created || decision.transition.is_some() {
            if self.decisions.len() < DECISIONS_KEPT {
                self.decisions.push(decision.clone());
            } else {
                self.decisions_not_kept += 1;
            }
        }
    }

    /// A packet from the guest of a known or new flow.
    pub(super) fn outbound(
        &mut self,
        key: FlowKey,
        flags: Option<u8>,
        ext_ip: Ipv4Addr,
        redirect: Option<Ipv4Addr>,
    ) -> Result<Decision, NatDrop> {
        let now = self.now();
        let d = self
            .table
            .outbound_to(key, flags.map(TcpFlags), ext_ip, redirect, now)?;
        self.record(&d);
        Ok(d)
    }

    /// A packet towards the guest (a reply, or a forwarded connection's).
    pub(super) fn inbound(
        &mut self,
        key: FlowKey,
        flags: Option<u8>,
        new_flow: bool,
    ) -> Result<Decision, NatDrop> {
        let now = self.now();
        let (guest, proxy) = if new_flow {
            (Some(GUEST_IP), Some(GATEWAY_IP))
        } else {
            (None, None)
        };
        let d = self
            .table
            .inbound_as(key, flags.map(TcpFlags), guest, proxy, now)?;
        self.record(&d);
        Ok(d)
    }

    pub(super) fn text(&self) -> String {
        labvisor_core::net::scenario::nat_table_text("guest", &self.table, self.now())
    }
}
