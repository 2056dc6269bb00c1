//! The interactive tools, each a view of `labvisor-core` (the tools compute nothing themselves).

use labvisor_core::lang::Text;
use yew::prelude::*;

use crate::route::ToolId;

pub mod common;
pub(crate) mod disks;
mod hypervisors;
mod instances;
mod ipv4;
pub(crate) mod network;
mod ports;
mod sizing;

pub use network::{render_error, EditError};
pub use sizing::{problem_text, warning_text};

/// How a tool presents itself on the home page.
pub struct ToolInfo {
    pub title: Text,
    pub summary: Text,
    pub icon: &'static str,
}

/// The card text of `tool`.
pub fn info(tool: ToolId) -> ToolInfo {
    match tool {
        ToolId::Ipv4 => ToolInfo {
            title: Text::new("IPv4 addresses and subnets", "IPv4 주소와 서브넷"),
            summary: Text::new(
                "Class, scope (private, public, loopback…) with its RFC, and the subnet arithmetic.",
                "클래스와 용도(사설, 공인, 루프백…)를 RFC와 함께, 그리고 서브넷 계산.",
            ),
            icon: "⌁",
        },
        ToolId::Ports => ToolInfo {
            title: Text::new("Ports and services", "포트와 서비스"),
            summary: Text::new(
                "Look up a port or a service: its RFC 6335 range and who may bind it.",
                "포트나 서비스를 찾아보세요. RFC 6335 범위와 누가 바인드할 수 있는지.",
            ),
            icon: "⇄",
        },
        ToolId::Sizing => ToolInfo {
            title: Text::new("Host sizing", "호스트 자원 배분"),
            summary: Text::new(
                "Plan VMs on a host: the host's reserve, each VM's share, and overcommit.",
                "호스트에 VM을 배치해 보세요. 호스트 예약분, VM별 할당, 오버커밋.",
            ),
            icon: "▤",
        },
        ToolId::Hypervisors => ToolInfo {
            title: Text::new("Type 1 or type 2?", "타입 1일까, 타입 2일까?"),
            summary: Text::new(
                "Sort real hypervisors into bare-metal and hosted, then read why.",
                "실제 하이퍼바이저를 베어메탈과 호스트형으로 분류하고 이유를 읽어 보세요.",
            ),
            icon: "◫",
        },
        ToolId::Network => ToolInfo {
            title: Text::new("Network lab: NAT step by step", "네트워크 실습: NAT 단계별 보기"),
            summary: Text::new(
                "Watch packets cross a home router, VirtualBox NAT and port forwarding, hop by hop, with the conntrack table.",
                "공유기, VirtualBox NAT, 포트 포워딩을 지나는 패킷을 홉마다 conntrack 테이블과 함께 지켜보세요.",
            ),
            icon: "⇌",
        },
        ToolId::Disks => ToolInfo {
            title: Text::new("Disks and images", "디스크와 이미지"),
            summary: Text::new(
                "Real VDI images block by block: a delete that frees nothing, fixed vs dynamic on one SSD, a snapshot vs a backup when the host disk fails, one image behind three instances.",
                "실제 VDI 이미지를 블록 단위로: 아무것도 비우지 않는 삭제, SSD 하나 위의 고정과 동적, 호스트 디스크 고장 때 스냅샷과 백업, 인스턴스 셋 뒤의 이미지 하나.",
            ),
            icon: "▦",
        },
    }
}

/// The progress id of a tool's challenge.
pub fn activity_id(tool: ToolId) -> String {
    format!("tool:{}", tool.slug())
}

/// The page of `tool`.
pub fn page(tool: ToolId) -> Html {
    match tool {
        ToolId::Ipv4 => html! { <ipv4::Ipv4Tool /> },
        ToolId::Ports => html! { <ports::PortsTool /> },
        ToolId::Sizing => html! { <sizing::SizingTool /> },
        ToolId::Hypervisors => html! { <hypervisors::HypervisorTool /> },
        ToolId::Network => html! { <network::NetworkTool /> },
        ToolId::Disks => html! { <disks::DiskTool /> },
    }
}
