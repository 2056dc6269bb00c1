//! Why a NAT drops a packet, in both languages.

use serde::{Deserialize, Serialize};

use crate::lang::particle::eul_reul;
use crate::lang::{Explain, Lang};
use crate::net::packet::Proto;

/// Why the NAT dropped a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum NatDrop {
    /// No free external port in the pool.
    #[error("no free {proto} port in the pool {first}-{last}: the NAT has run out of mappings")]
    PoolExhausted {
        /// Protocol.
        proto: Proto,
        /// Pool start.
        first: u16,
        /// Pool end.
        last: u16,
    },
    /// The conntrack table is full.
    #[error(
        "conntrack table full ({max} entries): new connections are dropped until entries expire"
    )]
    TableFull {
        /// The bound.
        max: u32,
    },
    /// An inbound packet matched no connection, binding or forwarding rule.
    #[error("no connection, mapping or port-forwarding rule for {proto} port {port}: unsolicited inbound packet")]
    NoMapping {
        /// Protocol.
        proto: Proto,
        /// The external port it was sent to.
        port: u16,
    },
    /// A binding exists but its filtering refuses this remote endpoint.
    #[error("filtered: a {nat_type} NAT admits on port {port} only {admits}")]
    Filtered {
        /// The NAT type name.
        nat_type: String,
        /// The external port.
        port: u16,
        /// What it would admit.
        admits: String,
    },
    /// An inside host addressed the NAT's external address and hairpinning is off.
    #[error(
        "hairpinning is off: inside hosts cannot reach each other through the external address"
    )]
    HairpinOff,
    /// Tuple clash with an existing entry (the reply tuple is already in use).
    #[error("the translated tuple {0} is already in use by another connection")]
    Clash(String),
}

impl Explain for NatDrop {
    fn explain_in(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            NatDrop::PoolExhausted { proto, first, last } => format!(
                "포트 풀 {first}-{last}에 남은 {proto} 포트가 없습니다: NAT의 매핑이 바닥났습니다"
            ),
            NatDrop::TableFull { max } => format!(
                "conntrack 테이블이 가득 찼습니다({max}개): 항목이 만료될 때까지 새 연결을 버립니다"
            ),
            NatDrop::NoMapping { proto, port } => format!(
                "{proto} 포트 {port}에 연결도, 매핑도, 포트 포워딩 규칙도 없습니다: 요청하지 않은 인바운드 패킷입니다"
            ),
            NatDrop::Filtered {
                nat_type,
                port,
                admits,
            } => format!("필터링됨: {nat_type} NAT는 포트 {port}에 다음만 받아들입니다: {admits}"),
            NatDrop::HairpinOff => "헤어피닝이 꺼져 있습니다: 내부 호스트끼리 외부 주소를 거쳐 닿을 수 없습니다"
                .to_string(),
            NatDrop::Clash(tuple) => {
                format!("변환된 튜플 {} 이미 다른 연결이 쓰고 있습니다", eul_reul(tuple))
            }
        }
    }
}
