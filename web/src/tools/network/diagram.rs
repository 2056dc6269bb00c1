//! The SVG topology: the scene `layout.rs` computes (hosts containing their VMs and NAT
//! engines, segments as pills, one label per line, none overlapping), with the current step
//! drawn on it: the packet moving along the hop it takes, or the node acting.

use super::layout::{layout, LinkEnd};
use super::*;

/// What the current step shows on the diagram.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Focus {
    /// The hop a packet takes: (from node, to node).
    pub hop: Option<(String, String)>,
    /// The node acting (routing, translating, delivering, dropping).
    pub node: Option<String>,
    /// Whether the packet is dropped there.
    pub dropped: bool,
}

/// What a step shows on the diagram.
pub fn focus_of(step: Option<&Step>) -> Focus {
    match step.map(|s| &s.event) {
        Some(Event::Transmit { from, to, .. }) => Focus {
            hop: Some((from.clone(), to.clone())),
            ..Focus::default()
        },
        Some(Event::HostStack {
            engine,
            host,
            into_host,
            ..
        }) => Focus {
            hop: Some(if *into_host {
                (engine.clone(), host.clone())
            } else {
                (host.clone(), engine.clone())
            }),
            ..Focus::default()
        },
        Some(Event::Drop { node, .. }) => Focus {
            node: Some(node.clone()),
            dropped: true,
            ..Focus::default()
        },
        Some(
            Event::Send { node, .. }
            | Event::Deliver { node, .. }
            | Event::Translate { node, .. }
            | Event::Route { node, .. }
            | Event::Conntrack { node, .. },
        ) => Focus {
            node: Some(node.clone()),
            ..Focus::default()
        },
        _ => Focus::default(),
    }
}

#[derive(Clone, PartialEq, Properties)]
pub struct DiagramProps {
    pub lang: Lang,
    /// The wired-up lab.
    pub fabric: Rc<Fabric>,
    /// The lab as described (which host each VM runs on, how each NIC is attached).
    pub spec: Rc<Topology>,
    /// The current step's hop, acting node and drop.
    pub focus: Focus,
    /// The current step's position, so that the packet's motion restarts with each step.
    pub step: usize,
}

/// The topology diagram.
#[function_component]
pub fn Diagram(props: &DiagramProps) -> Html {
    let lang = props.lang;
    let (fabric, spec) = (&*props.fabric, &*props.spec);
    let scene = use_memo(
        (props.fabric.clone(), props.spec.clone(), lang),
        |(fabric, spec, lang)| layout(fabric, spec, *lang),
    );
    let index = |name: &str| fabric.nodes.iter().position(|n| n.name == name);
    let hop = props
        .focus
        .hop
        .as_ref()
        .and_then(|(f, t)| Some((index(f)?, index(t)?)));
    let acting = props.focus.node.as_deref().and_then(index);
    let path = hop.and_then(|(f, t)| scene.hop_path(f, t));
    let on_hop = |node: usize, end: LinkEnd| {
        hop.is_some_and(|(f, t)| {
            let other = |n: usize| if n == f { t } else { f };
            (node == f || node == t)
                && match end {
                    LinkEnd::HostStack(h) => h == other(node),
                    LinkEnd::Segment(s) => fabric.nodes[other(node)]
                        .nics
                        .iter()
                        .any(|c| c.segment == Some(s)),
                }
        })
    };
    let n = |v: f64| format!("{v:.1}");
    // At least 0.85 of the drawing's own size, so text of 12 units stays above 10 px; a
    // narrower screen scrolls the diagram sideways.
    let style = format!(
        "min-width: {:.0}px; max-width: {:.0}px",
        (scene.width * 0.85).min(1e4),
        (scene.width * 1.4).max(320.0)
    );
    html! {
        <div class="lv-diagram-wrap" tabindex="0" aria-label={TOPOLOGY.get(lang)}>
            <svg class="lv-diagram lv-scene-diagram" viewBox={format!("0 0 {} {}", n(scene.width), n(scene.height))}
                role="group" aria-label={TOPOLOGY.get(lang)} style={style}>
                { for scene.containers.iter().map(|c| html! {
                    <rect class="lv-host-frame" x={n(c.rect.x)} y={n(c.rect.y)} width={n(c.rect.w)} height={n(c.rect.h)} rx="12" />
                }) }
                { for scene.links.iter().map(|l| {
                    let node = &fabric.nodes[l.node];
                    let active = on_hop(l.node, l.to);
                    let label = match l.to {
                        LinkEnd::Segment(s) => {
                            let nic = node.nics.iter().find(|c| c.segment == Some(s));
                            let how = nic.map(|c| attachment_label(lang, spec, fabric, node, c)).unwrap_or_default();
                            format!("{} {} — {} ({how})", node.name, nic.map(|c| c.name.as_str()).unwrap_or(""), fabric.segments[s].name)
                        }
                        LinkEnd::HostStack(h) => format!("{} — {} ({})", node.name, fabric.nodes[h].name, NAT_ENGINE.get(lang)),
                    };
                    html! {
                        <g class={classes!("lv-link", active.then_some("lv-link-active"))} role="img" aria-label={label}>
                            <line x1={n(l.from_point.0)} y1={n(l.from_point.1)} x2={n(l.to_point.0)} y2={n(l.to_point.1)} />
                        </g>
                    }
                }) }
                { for scene.segments.iter().map(|p| {
                    let seg = &fabric.segments[p.segment];
                    let active = path.is_some() && hop.is_some_and(|(f, t)| {
                        [f, t].iter().all(|&i| fabric.nodes[i].nics.iter().any(|c| c.segment == Some(p.segment)))
                    });
                    html! {
                        <g class={classes!("lv-segment", active.then_some("lv-segment-active"))} role="img"
                            aria-label={format!("{} {} ({})", SEGMENT.get(lang), seg.name, segment_kind_label(lang, &seg.kind))}>
                            <rect x={n(p.rect.x)} y={n(p.rect.y)} width={n(p.rect.w)} height={n(p.rect.h)} rx="13" />
                            <text x={n(p.label.x)} y={n(p.label.y)} text-anchor="middle" class={p.label.class}>{ p.label.text.clone() }</text>
                        </g>
                    }
                }) }
                { for scene.boxes.iter().map(|b| {
                    let node = &fabric.nodes[b.node];
                    let active = acting == Some(b.node) || hop.is_some_and(|(f, t)| f == b.node || t == b.node);
                    let dropped = active && props.focus.dropped;
                    let role = role_label(lang, &node.role);
                    html! {
                        <g class={classes!("lv-node", active.then_some("lv-node-active"), dropped.then_some("lv-node-drop"))}
                            role="img" aria-label={format!("{} ({role}): {}", node.name, node.addrs().iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "))}>
                            <rect x={n(b.rect.x)} y={n(b.rect.y)} width={n(b.rect.w)} height={n(b.rect.h)} rx="8" />
                            { for b.labels.iter().map(|l| html! {
                                <text x={n(l.x)} y={n(l.y)} text-anchor="middle" class={l.class}>{ l.text.clone() }</text>
                            }) }
                        </g>
                    }
                }) }
                if let Some(points) = path {
                    { packet(&points, props.step) }
                }
            </svg>
        </div>
    }
}

/// The packet, moving once along `points` (keyed by the step, so each step replays it).
fn packet(points: &[(f64, f64)], step: usize) -> Html {
    let d: String = points
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{x:.1} {y:.1}", if i == 0 { "M" } else { " L" }))
        .collect();
    let (x, y) = points.last().copied().unwrap_or_default();
    html! {
        <g key={format!("packet-{step}")} class="lv-packet-move" aria-hidden="true">
            <circle class="lv-packet" r="7" cx={format!("{x:.1}")} cy={format!("{y:.1}")}>
                <animateMotion dur="0.6s" fill="freeze" path={d.clone()} calcMode="linear"
                    keyPoints="0;1" keyTimes="0;1" />
            </circle>
        </g>
    }
}

/// What a node in the diagram is, in the learner's language.
pub(super) fn role_label(lang: Lang, role: &Role) -> &'static str {
    let text = match role {
        Role::Machine { kind } => match kind {
            NodeKind::Host => Text::new("host", "호스트"),
            NodeKind::Vm => Text::new("vm", "VM"),
            NodeKind::Router => Text::new("router", "라우터"),
            NodeKind::Server => Text::new("server", "서버"),
        },
        Role::NatEngine { .. } => NAT_ENGINE,
    };
    text.get(lang)
}

/// What kind of network a segment is, in the learner's language.
pub(super) fn segment_kind_label(lang: Lang, kind: &SegmentKind) -> &'static str {
    match kind {
        SegmentKind::Lan => "LAN",
        SegmentKind::Nat => "NAT",
        SegmentKind::NatNetwork => NAT_NETWORK.get(lang),
        SegmentKind::HostOnly => Text::new("host-only network", "호스트 전용 네트워크").get(lang),
        SegmentKind::Internal => Text::new("internal network", "내부 네트워크").get(lang),
    }
}

/// How a NIC is attached, in the learner's language. The engine's own description is English;
/// a VM's NIC is described again from the lab's spec, and the NICs the engine makes itself (NAT
/// engines, the host's side of a host-only network) by their fixed kind.
pub(super) fn attachment_label(
    lang: Lang,
    spec: &Topology,
    fabric: &Fabric,
    node: &Node,
    nic: &Nic,
) -> String {
    if lang == Lang::En {
        return nic.attachment.clone();
    }
    let described = spec
        .node(&node.name)
        .and_then(|n| n.nics.iter().find(|s| s.name == nic.name));
    match (described.map(|n| &n.attach), &node.role) {
        (Some(Attach::Vbox(mode)), _) => mode_label(lang, mode),
        (Some(Attach::Segment(s)), _) => format!("{} {s}", SEGMENT.get(lang)),
        (None, Role::NatEngine { .. }) => NAT_ENGINE.get(lang).to_string(),
        // The host's side of a host-only network: its adapter bears the network's name.
        (None, Role::Machine { .. })
            if nic
                .segment
                .and_then(|s| fabric.segments.get(s))
                .map(|s| &s.kind)
                == Some(&SegmentKind::HostOnly) =>
        {
            mode_label(lang, &Mode::HostOnly(nic.name.clone()))
        }
        (None, Role::Machine { .. }) => nic.attachment.clone(),
    }
}

pub(super) const NAT_ENGINE: Text = Text::new("NAT engine", "NAT 엔진");
pub(super) const NAT_NETWORK: Text = Text::new("NAT Network", "NAT 네트워크");
