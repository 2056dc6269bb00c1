//! The SVG topology: nodes laid out by level, segments, and the current step's hop drawn on
//! it.

use super::*;

pub(super) const LEVEL_H: f64 = 78.0;
pub(super) const SLOT_W: f64 = 190.0;
pub(super) const NODE_W: f64 = 128.0;
pub(super) const NODE_H: f64 = 48.0;

/// Lays the nodes and segments out in levels, top to bottom, by distance from the first node
/// (nodes and segments alternate, so every link goes between neighbouring levels).
/// A point in the diagram.
pub(super) type Point = (f64, f64);

pub(super) fn layout(fabric: &Fabric) -> (Vec<Point>, Vec<Point>, f64, f64) {
    let n = fabric.nodes.len();
    let s = fabric.segments.len();
    let mut node_col = vec![usize::MAX; n];
    let mut seg_col = vec![usize::MAX; s];
    let mut queue = std::collections::VecDeque::new();
    for start in 0..n {
        if node_col[start] != usize::MAX {
            continue;
        }
        node_col[start] = 0;
        queue.push_back((true, start));
        while let Some((is_node, i)) = queue.pop_front() {
            if is_node {
                for nic in &fabric.nodes[i].nics {
                    if let Some(seg) = nic.segment.filter(|&g| g < s) {
                        if seg_col[seg] == usize::MAX {
                            seg_col[seg] = node_col[i] + 1;
                            queue.push_back((false, seg));
                        }
                    }
                }
            } else {
                for (j, node) in fabric.nodes.iter().enumerate() {
                    if node_col[j] == usize::MAX && node.nics.iter().any(|c| c.segment == Some(i)) {
                        node_col[j] = seg_col[i] + 1;
                        queue.push_back((true, j));
                    }
                }
            }
        }
    }
    let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
    let mut place = |col: usize| {
        let row = rows.entry(col).or_insert(0);
        *row += 1;
        (
            30.0 + SLOT_W / 2.0 + (*row - 1) as f64 * SLOT_W,
            40.0 + col as f64 * LEVEL_H,
        )
    };
    let nodes: Vec<_> = node_col.iter().map(|&c| place(c.min(64))).collect();
    let segs: Vec<_> = seg_col
        .iter()
        .map(|&c| place(if c == usize::MAX { 1 } else { c.min(64) }))
        .collect();
    let width = nodes.iter().chain(&segs).map(|p| p.0).fold(0.0, f64::max) + SLOT_W / 2.0 + 30.0;
    let height = nodes.iter().chain(&segs).map(|p| p.1).fold(0.0, f64::max) + NODE_H / 2.0 + 20.0;
    (nodes, segs, width, height)
}

pub(super) fn diagram(lang: Lang, fabric: &Fabric, spec: &Topology, step: Option<&Step>) -> Html {
    let (nodes, segs, width, height) = layout(fabric);
    let seg_pos = &segs;
    let node_index = |name: &str| fabric.nodes.iter().position(|n| n.name == name);
    let seg_index = |name: &str| fabric.segments.iter().position(|s| s.name == name);
    // What the current step touches: a link being crossed, or a node acting.
    let (active_link, active_node) = match step.map(|s| &s.event) {
        Some(Event::Transmit {
            from, to, segment, ..
        }) => (
            seg_index(segment).map(|s| (node_index(from), node_index(to), s)),
            None,
        ),
        Some(
            Event::Send { node, .. }
            | Event::Deliver { node, .. }
            | Event::Drop { node, .. }
            | Event::Translate { node, .. }
            | Event::Route { node, .. }
            | Event::Conntrack { node, .. },
        ) => (None, node_index(node)),
        Some(Event::HostStack { engine, .. }) => (None, node_index(engine)),
        _ => (None, None),
    };
    let dropped = matches!(step.map(|s| &s.event), Some(Event::Drop { .. }));
    html! {
        <div class="lv-diagram-wrap">
            <svg class="lv-diagram" viewBox={format!("0 0 {width:.0} {height:.0}")} role="group"
                aria-label={TOPOLOGY.get(lang)} style={format!("max-width: {:.0}px", width.max(320.0))}>
                { for fabric.nodes.iter().enumerate().flat_map(|(i, node)| {
                    let (nx, ny) = nodes[i];
                    node.nics.iter().filter_map(move |nic| {
                        let seg = nic.segment?;
                        let (sx, sy) = *seg_pos.get(seg)?;
                        Some((i, nx, ny, seg, sx, sy, nic, node))
                    }).collect::<Vec<_>>()
                }).map(|(i, nx, ny, seg, sx, sy, nic, node)| {
                    let active = active_link.is_some_and(|(f, t, s)| s == seg && (f == Some(i) || t == Some(i)));
                    let label = match nic.addr {
                        Some(a) => format!("{} {a}", nic.name),
                        None => nic.name.clone(),
                    };
                    let (lx, ly) = (nx + (sx - nx) * 0.5 + 6.0, ny + (sy - ny) * 0.5 + 4.0);
                    html! {
                        <g class={classes!("lv-link", active.then_some("lv-link-active"))}
                            role="img" aria-label={format!("{} {label} — {} ({})", node.name, fabric.segments[seg].name, attachment_label(lang, spec, fabric, node, nic))}>
                            <line x1={format!("{nx:.0}")} y1={format!("{ny:.0}")} x2={format!("{sx:.0}")} y2={format!("{sy:.0}")} />
                            <text x={format!("{lx:.0}")} y={format!("{ly:.0}")} class="lv-link-label" text-anchor="start">{ label }</text>
                        </g>
                    }
                }) }
                { for fabric.segments.iter().enumerate().map(|(i, seg)| {
                    let (x, y) = segs[i];
                    let active = active_link.is_some_and(|(_, _, s)| s == i);
                    html! {
                        <g class={classes!("lv-segment", (active).then_some("lv-segment-active"))} role="img"
                            aria-label={format!("{} {} ({})", SEGMENT.get(lang), seg.name, segment_kind_label(lang, &seg.kind))}>
                            <rect x={format!("{:.0}", x - 55.0)} y={format!("{:.0}", y - 14.0)} width="110" height="28" rx="14" />
                            <text x={format!("{x:.0}")} y={format!("{:.0}", y + 4.0)} text-anchor="middle">{ seg.name.clone() }</text>
                            if active {
                                <circle class="lv-packet" cx={format!("{:.0}", x + 66.0)} cy={format!("{y:.0}")} r="8" />
                            }
                        </g>
                    }
                }) }
                { for fabric.nodes.iter().enumerate().map(|(i, node)| {
                    let (x, y) = nodes[i];
                    let active = active_node == Some(i) || active_link.is_some_and(|(f, t, _)| f == Some(i) || t == Some(i));
                    let role = role_label(lang, &node.role);
                    html! {
                        <g class={classes!("lv-node", active.then_some("lv-node-active"), (active && dropped).then_some("lv-node-drop"))}
                            role="img" aria-label={format!("{} ({role}): {}", node.name, node.addrs().iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "))}>
                            <rect x={format!("{:.0}", x - NODE_W / 2.0)} y={format!("{:.0}", y - NODE_H / 2.0)}
                                width={NODE_W.to_string()} height={NODE_H.to_string()} rx="8" />
                            <text x={format!("{x:.0}")} y={format!("{:.0}", y - 3.0)} text-anchor="middle" class="lv-node-name">{ node.name.clone() }</text>
                            <text x={format!("{x:.0}")} y={format!("{:.0}", y + 13.0)} text-anchor="middle" class="lv-node-role">{ role }</text>
                        </g>
                    }
                }) }
            </svg>
        </div>
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
