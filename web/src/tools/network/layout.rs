//! Where the topology diagram puts everything: a layered (Sugiyama-style) layout computed in
//! plain Rust, so it is deterministic and tested natively; `diagram.rs` only draws it.
//!
//! - **Units.** A host that runs VMs is a *container*: its own box (name, role, its NICs) on
//!   top, then its NAT engines (joined to the host's box: their outside is the host's network
//!   stack), then the segments that stay inside it (a VM's NAT, a NAT Network, host-only and
//!   internal networks), then its VMs. Every other machine is a plain box.
//! - **Layers.** Units and the segments between them form a bipartite graph; a breadth-first
//!   search from the first node gives each a layer (units on even layers, segments on odd
//!   ones, so every link joins neighbouring layers), drawn top to bottom, which keeps the
//!   drawing narrow enough for a phone.
//! - **Order.** Within a layer, and within each row of a container, items are ordered by the
//!   barycentre of their neighbours in the layer above, then below, sweeping four times
//!   (Sugiyama, Tagawa and Toda 1981), ties kept in input order.
//! - **Labels.** Every label sits inside its own box or pill, sized from an estimate of the
//!   text's width that errs wide (monospace: 0.62 em per ASCII character, 1.25 em per wide
//!   one), and no two boxes overlap, so no two labels do.

use std::collections::BTreeMap;

use labvisor_core::lang::Lang;
use labvisor_core::net::topology::{Fabric, Role, Topology};

/// Font size of a node's name, in diagram units.
pub const NAME_SIZE: f64 = 13.0;
/// Font size of every other label.
pub const TEXT_SIZE: f64 = 12.0;
const LINE_H: f64 = 17.0;
const PAD: f64 = 8.0;
const GAP_X: f64 = 18.0;
const GAP_Y: f64 = 30.0;
const SEG_H: f64 = 26.0;
const MARGIN: f64 = 10.0;
/// The widest the drawing may grow before rows wrap: 400 units at the 0.85 scale the page
/// keeps is 340 px, inside a 390 px phone's panel.
const MAX_WIDTH: f64 = 400.0;

/// A rectangle: top-left corner, width, height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    fn centre(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// Whether the two rectangles share any area.
    #[cfg(test)]
    pub fn intersects(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    /// Whether `o` lies wholly inside this rectangle.
    pub fn contains(&self, o: &Rect) -> bool {
        o.x >= self.x
            && o.y >= self.y
            && o.x + o.w <= self.x + self.w
            && o.y + o.h <= self.y + self.h
    }
}

/// One line of text, centred on `x`, its baseline at `y`.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub text: String,
    pub x: f64,
    pub y: f64,
    pub size: f64,
    /// CSS class: `lv-node-name`, `lv-node-nic` or `lv-segment-name`.
    pub class: &'static str,
}

impl Label {
    /// The box the text is estimated to take.
    #[cfg(test)]
    pub fn bounds(&self) -> Rect {
        let w = text_width(&self.text, self.size);
        Rect {
            x: self.x - w / 2.0,
            y: self.y - self.size,
            w,
            h: self.size * 1.3,
        }
    }
}

/// A node's box.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeBox {
    /// The node's index in the fabric.
    pub node: usize,
    pub rect: Rect,
    pub labels: Vec<Label>,
}

/// A host with its VMs and NAT engines inside.
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    /// The host's index in the fabric.
    pub host: usize,
    pub rect: Rect,
    /// The fabric indices of the nodes inside.
    pub inside: Vec<usize>,
}

/// A segment's pill.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentPill {
    /// The segment's index in the fabric.
    pub segment: usize,
    pub rect: Rect,
    pub label: Label,
}

/// A line between a node and a segment, or between a NAT engine and its host.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub node: usize,
    pub to: LinkEnd,
    pub from_point: (f64, f64),
    pub to_point: (f64, f64),
}

/// What a link's far end is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkEnd {
    /// A segment, through a NIC.
    Segment(usize),
    /// The host's network stack (a NAT engine's outside).
    HostStack(usize),
}

/// The whole drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub width: f64,
    pub height: f64,
    pub containers: Vec<Container>,
    pub boxes: Vec<NodeBox>,
    pub segments: Vec<SegmentPill>,
    pub links: Vec<Link>,
}

impl Scene {
    /// The box of node `i`.
    pub fn node_box(&self, i: usize) -> Option<&NodeBox> {
        self.boxes.iter().find(|b| b.node == i)
    }

    /// Every label in the drawing.
    #[cfg(test)]
    pub fn labels(&self) -> impl Iterator<Item = &Label> {
        self.boxes
            .iter()
            .flat_map(|b| b.labels.iter())
            .chain(self.segments.iter().map(|s| &s.label))
    }

    /// The path a packet takes from node `from` to node `to`: through the segment both are
    /// on, or straight between a NAT engine and its host.
    pub fn hop_path(&self, from: usize, to: usize) -> Option<Vec<(f64, f64)>> {
        let centre = |i: usize| self.node_box(i).map(|b| b.rect.centre());
        let ends = |i: usize| self.links.iter().filter(move |l| l.node == i);
        for a in ends(from) {
            for b in ends(to) {
                if let (LinkEnd::Segment(s), LinkEnd::Segment(t)) = (a.to, b.to) {
                    if s == t {
                        return Some(vec![
                            centre(from)?,
                            a.from_point,
                            a.to_point,
                            b.to_point,
                            b.from_point,
                            centre(to)?,
                        ]);
                    }
                }
            }
        }
        let direct = |x: usize, y: usize| ends(x).any(|l| l.to == LinkEnd::HostStack(y));
        (direct(from, to) || direct(to, from))
            .then(|| vec![centre(from), centre(to)])
            .and_then(|p| p.into_iter().collect())
    }
}

/// The estimated width of `text` at `size`: errs wide, so a box made to hold it does.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.62 } else { 1.25 })
        .sum::<f64>()
        * size
}

/// What a node shows: its name and role, then one line per NIC with an address or a segment.
fn node_lines(fabric: &Fabric, i: usize, role: &str) -> Vec<(String, f64, &'static str)> {
    let node = &fabric.nodes[i];
    let mut lines = vec![
        (node.name.clone(), NAME_SIZE, "lv-node-name"),
        (role.to_string(), TEXT_SIZE, "lv-node-role"),
    ];
    for nic in &node.nics {
        if let Some(a) = nic.addr {
            lines.push((format!("{} {a}", nic.name), TEXT_SIZE, "lv-node-nic"));
        }
    }
    lines
}

fn box_size(lines: &[(String, f64, &'static str)]) -> (f64, f64) {
    let w = lines
        .iter()
        .map(|(t, size, _)| text_width(t, *size))
        .fold(0.0, f64::max)
        + 2.0 * PAD;
    (w.max(70.0), lines.len() as f64 * LINE_H + PAD)
}

fn place_box(node: usize, lines: &[(String, f64, &'static str)], x: f64, y: f64) -> NodeBox {
    let (w, h) = box_size(lines);
    let labels = lines
        .iter()
        .enumerate()
        .map(|(k, (text, size, class))| Label {
            text: text.clone(),
            x: x + w / 2.0,
            y: y + PAD / 2.0 + LINE_H * k as f64 + 13.0,
            size: *size,
            class,
        })
        .collect();
    NodeBox {
        node,
        rect: Rect { x, y, w, h },
        labels,
    }
}

fn seg_width(label: &str) -> f64 {
    (text_width(label, TEXT_SIZE) + 2.0 * PAD + 8.0).max(70.0)
}

fn place_pill(segment: usize, label: &str, x: f64, y: f64) -> SegmentPill {
    let w = seg_width(label);
    SegmentPill {
        segment,
        rect: Rect { x, y, w, h: SEG_H },
        label: Label {
            text: label.to_string(),
            x: x + w / 2.0,
            y: y + SEG_H / 2.0 + 4.5,
            size: TEXT_SIZE,
            class: "lv-segment-name",
        },
    }
}

/// An item in a layer or a container row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Unit(usize),
    Segment(usize),
    Node(usize),
}

/// Splits a row into rows no wider than `max` (each holds at least one item), in order.
fn wrap(row: &[Item], max: f64, width_of: &dyn Fn(Item) -> f64) -> Vec<Vec<Item>> {
    let mut out: Vec<Vec<Item>> = Vec::new();
    let mut used = 0.0;
    for &item in row {
        let w = width_of(item);
        match out.last_mut() {
            Some(last) if used + GAP_X + w <= max => {
                last.push(item);
                used += GAP_X + w;
            }
            _ => {
                out.push(vec![item]);
                used = w;
            }
        }
    }
    out
}

/// Orders `rows` (top to bottom) by barycentres of neighbours, four sweeps down and up.
fn order_rows(rows: &mut [Vec<Item>], adjacent: &dyn Fn(Item, Item) -> bool) {
    let position = |row: &[Item], item: Item| row.iter().position(|&x| x == item);
    for sweep in 0..4 {
        let down = sweep % 2 == 0;
        let indices: Vec<usize> = if down {
            (1..rows.len()).collect()
        } else {
            (0..rows.len().saturating_sub(1)).rev().collect()
        };
        for r in indices {
            let fixed = if down {
                rows[r - 1].clone()
            } else {
                rows[r + 1].clone()
            };
            let mut keyed: Vec<(f64, usize, Item)> = rows[r]
                .iter()
                .enumerate()
                .map(|(k, &item)| {
                    let near: Vec<f64> = fixed
                        .iter()
                        .filter(|&&f| adjacent(item, f))
                        .filter_map(|&f| position(&fixed, f).map(|p| p as f64))
                        .collect();
                    let key = if near.is_empty() {
                        k as f64
                    } else {
                        near.iter().sum::<f64>() / near.len() as f64
                    };
                    (key, k, item)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            rows[r] = keyed.into_iter().map(|(_, _, item)| item).collect();
        }
    }
}

/// Lays the fabric out. `role` names a node's role in the learner's language; `spec` says
/// which host each VM runs on.
pub fn layout(fabric: &Fabric, spec: &Topology, lang: Lang) -> Scene {
    let role = |i: usize| super::diagram::role_label(lang, &fabric.nodes[i].role);
    let index = |name: &str| fabric.nodes.iter().position(|n| n.name == name);
    // Which host each node runs inside, if any.
    let host_of: Vec<Option<usize>> = fabric
        .nodes
        .iter()
        .map(|n| match &n.role {
            Role::NatEngine { host, .. } => Some(*host),
            Role::Machine { .. } => spec
                .node(&n.name)
                .and_then(|s| s.host.as_deref())
                .and_then(index),
        })
        .collect();
    // The unit each node belongs to: its host's, or its own.
    let unit_of: Vec<usize> = (0..fabric.nodes.len())
        .map(|i| host_of[i].unwrap_or(i))
        .collect();
    let on_segment = |s: usize| {
        fabric
            .nodes
            .iter()
            .enumerate()
            .filter(move |(_, n)| n.nics.iter().any(|c| c.segment == Some(s)))
            .map(|(i, _)| i)
    };
    // A segment is inside a container when every node on it is in that container.
    let inner_of: Vec<Option<usize>> = (0..fabric.segments.len())
        .map(|s| {
            let units: Vec<usize> = on_segment(s).map(|i| unit_of[i]).collect();
            let first = *units.first()?;
            let contained = on_segment(s).any(|i| host_of[i].is_some());
            (contained && units.iter().all(|&u| u == first)).then_some(first)
        })
        .collect();

    // Outer graph: units and outer segments, layered by breadth-first search.
    let units: Vec<usize> = (0..fabric.nodes.len())
        .filter(|&i| unit_of[i] == i)
        .collect();
    let outer_segs: Vec<usize> = (0..fabric.segments.len())
        .filter(|&s| inner_of[s].is_none())
        .collect();
    let touches = |u: usize, s: usize| on_segment(s).any(|i| unit_of[i] == u);
    let mut layer: BTreeMap<Item, usize> = BTreeMap::new();
    for &start in &units {
        if layer.contains_key(&Item::Unit(start)) {
            continue;
        }
        let base = 0;
        layer.insert(Item::Unit(start), base);
        let mut queue = std::collections::VecDeque::from([Item::Unit(start)]);
        while let Some(item) = queue.pop_front() {
            let l = layer[&item];
            let next: Vec<Item> = match item {
                Item::Unit(u) => outer_segs
                    .iter()
                    .filter(|&&s| touches(u, s))
                    .map(|&s| Item::Segment(s))
                    .collect(),
                Item::Segment(s) => units
                    .iter()
                    .filter(|&&u| touches(u, s))
                    .map(|&u| Item::Unit(u))
                    .collect(),
                Item::Node(_) => Vec::new(),
            };
            for n in next {
                if let std::collections::btree_map::Entry::Vacant(e) = layer.entry(n) {
                    e.insert(l + 1);
                    queue.push_back(n);
                }
            }
        }
    }
    // Segments nothing is on go below the rest.
    let deepest = layer.values().copied().max().unwrap_or(0);
    for &s in &outer_segs {
        layer
            .entry(Item::Segment(s))
            .or_insert(deepest + if deepest % 2 == 0 { 1 } else { 2 });
    }
    let rows_n = layer.values().copied().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<Item>> = vec![Vec::new(); rows_n];
    for (&item, &l) in &layer {
        rows[l].push(item);
    }
    let adjacent = |a: Item, b: Item| match (a, b) {
        (Item::Unit(u), Item::Segment(s)) | (Item::Segment(s), Item::Unit(u)) => touches(u, s),
        _ => false,
    };
    order_rows(&mut rows, &adjacent);

    // Each unit's own drawing, at the origin; moved into place below.
    let mut drawings: BTreeMap<usize, UnitDrawing> = BTreeMap::new();
    for &u in &units {
        let inside: Vec<usize> = (0..fabric.nodes.len())
            .filter(|&i| i != u && unit_of[i] == u)
            .collect();
        let drawing = if inside.is_empty() {
            let lines = node_lines(fabric, u, role(u));
            UnitDrawing::plain(place_box(u, &lines, 0.0, 0.0))
        } else {
            container(fabric, u, &inside, &inner_of, &role)
        };
        drawings.insert(u, drawing);
    }

    // Rows top to bottom, each centred.
    let size = |item: Item| match item {
        Item::Unit(u) => (drawings[&u].w, drawings[&u].h),
        Item::Segment(s) => (seg_width(&fabric.segments[s].name), SEG_H),
        Item::Node(_) => (0.0, 0.0),
    };
    let row_width = |row: &[Item]| {
        row.iter().map(|&i| size(i).0).sum::<f64>() + GAP_X * row.len().saturating_sub(1) as f64
    };
    let rows: Vec<Vec<Item>> = rows
        .iter()
        .flat_map(|r| wrap(r, MAX_WIDTH - 2.0 * MARGIN, &|i| size(i).0))
        .collect();
    let width = rows.iter().map(|r| row_width(r)).fold(0.0, f64::max) + 2.0 * MARGIN;
    let mut scene = Scene {
        width,
        height: 0.0,
        containers: Vec::new(),
        boxes: Vec::new(),
        segments: Vec::new(),
        links: Vec::new(),
    };
    let mut y = MARGIN;
    for row in &rows {
        let h = row.iter().map(|&i| size(i).1).fold(0.0, f64::max);
        let mut x = (width - row_width(row)) / 2.0;
        for &item in row {
            let (w, ih) = size(item);
            let top = y + (h - ih) / 2.0;
            match item {
                Item::Unit(u) => drawings[&u].place_into(&mut scene, x, top),
                Item::Segment(s) => {
                    scene
                        .segments
                        .push(place_pill(s, &fabric.segments[s].name, x, top))
                }
                Item::Node(_) => {}
            }
            x += w + GAP_X;
        }
        y += h + GAP_Y;
    }
    scene.height = y - GAP_Y + MARGIN;
    add_links(fabric, &mut scene);
    scene
}

/// A unit drawn at the origin: its boxes, pills and (for a host with VMs) its frame.
struct UnitDrawing {
    w: f64,
    h: f64,
    frame: Option<Container>,
    boxes: Vec<NodeBox>,
    pills: Vec<SegmentPill>,
}

impl UnitDrawing {
    fn plain(b: NodeBox) -> UnitDrawing {
        UnitDrawing {
            w: b.rect.w,
            h: b.rect.h,
            frame: None,
            boxes: vec![b],
            pills: Vec::new(),
        }
    }

    fn place_into(&self, scene: &mut Scene, dx: f64, dy: f64) {
        let shift = |r: &Rect| Rect {
            x: r.x + dx,
            y: r.y + dy,
            ..*r
        };
        let shift_label = |l: &Label| Label {
            x: l.x + dx,
            y: l.y + dy,
            ..l.clone()
        };
        if let Some(f) = &self.frame {
            scene.containers.push(Container {
                rect: shift(&f.rect),
                ..f.clone()
            });
        }
        for b in &self.boxes {
            scene.boxes.push(NodeBox {
                node: b.node,
                rect: shift(&b.rect),
                labels: b.labels.iter().map(shift_label).collect(),
            });
        }
        for p in &self.pills {
            scene.segments.push(SegmentPill {
                segment: p.segment,
                rect: shift(&p.rect),
                label: shift_label(&p.label),
            });
        }
    }
}

/// A host with what runs inside it: its box on top, then NAT engines, inner segments, VMs.
fn container(
    fabric: &Fabric,
    host: usize,
    inside: &[usize],
    inner_of: &[Option<usize>],
    role: &dyn Fn(usize) -> &'static str,
) -> UnitDrawing {
    let engines: Vec<Item> = inside
        .iter()
        .filter(|&&i| matches!(fabric.nodes[i].role, Role::NatEngine { .. }))
        .map(|&i| Item::Node(i))
        .collect();
    let vms: Vec<Item> = inside
        .iter()
        .filter(|&&i| !matches!(fabric.nodes[i].role, Role::NatEngine { .. }))
        .map(|&i| Item::Node(i))
        .collect();
    let segs: Vec<Item> = (0..fabric.segments.len())
        .filter(|&s| inner_of[s] == Some(host))
        .map(Item::Segment)
        .collect();
    let on = |n: usize, s: usize| fabric.nodes[n].nics.iter().any(|c| c.segment == Some(s));
    let adjacent = |a: Item, b: Item| match (a, b) {
        (Item::Node(n), Item::Segment(s)) | (Item::Segment(s), Item::Node(n)) => on(n, s),
        _ => false,
    };
    let mut rows = vec![engines, segs, vms];
    order_rows(&mut rows, &adjacent);
    let lines_of = |i: usize| node_lines(fabric, i, role(i));
    let size = |item: Item| match item {
        Item::Node(n) => box_size(&lines_of(n)),
        Item::Segment(s) => (seg_width(&fabric.segments[s].name), SEG_H),
        Item::Unit(_) => (0.0, 0.0),
    };
    let row_width = |row: &[Item]| {
        row.iter().map(|&i| size(i).0).sum::<f64>() + GAP_X * row.len().saturating_sub(1) as f64
    };
    let rows: Vec<Vec<Item>> = rows
        .iter()
        .flat_map(|r| wrap(r, MAX_WIDTH - 2.0 * MARGIN - 2.0 * PAD, &|i| size(i).0))
        .collect();
    let head_lines = lines_of(host);
    let (head_w, head_h) = box_size(&head_lines);
    let inner_w = rows.iter().map(|r| row_width(r)).fold(head_w, f64::max);
    let w = inner_w + 2.0 * PAD;
    let mut boxes = vec![place_box(host, &head_lines, (w - head_w) / 2.0, 0.0)];
    let mut pills = Vec::new();
    let mut y = head_h + GAP_Y;
    for row in rows.iter().filter(|r| !r.is_empty()) {
        let h = row.iter().map(|&i| size(i).1).fold(0.0, f64::max);
        let mut x = (w - row_width(row)) / 2.0;
        for &item in row {
            let (iw, ih) = size(item);
            let top = y + (h - ih) / 2.0;
            match item {
                Item::Node(n) => boxes.push(place_box(n, &lines_of(n), x, top)),
                Item::Segment(s) => pills.push(place_pill(s, &fabric.segments[s].name, x, top)),
                Item::Unit(_) => {}
            }
            x += iw + GAP_X;
        }
        y += h + GAP_Y;
    }
    let h = y - GAP_Y + PAD;
    UnitDrawing {
        w,
        h,
        frame: Some(Container {
            host,
            rect: Rect {
                x: 0.0,
                y: 0.0,
                w,
                h,
            },
            inside: inside.to_vec(),
        }),
        boxes,
        pills,
    }
}

/// One link per attached NIC, from the box's nearer edge to the pill's, and one from each NAT
/// engine to its host's box.
fn add_links(fabric: &Fabric, scene: &mut Scene) {
    let mut links = Vec::new();
    for b in &scene.boxes {
        let node = &fabric.nodes[b.node];
        for s in node.nics.iter().filter_map(|c| c.segment) {
            let Some(p) = scene.segments.iter().find(|p| p.segment == s) else {
                continue;
            };
            // A host's own NIC on a segment outside its frame leaves from the frame, not
            // through the VMs drawn inside it.
            let from = scene
                .containers
                .iter()
                .find(|c| c.host == b.node && !c.rect.contains(&p.rect))
                .map_or(b.rect, |c| c.rect);
            links.push(Link {
                node: b.node,
                to: LinkEnd::Segment(s),
                from_point: edge_towards(&from, &p.rect),
                to_point: edge_towards(&p.rect, &from),
            });
        }
        if let Role::NatEngine { host, .. } = node.role {
            if let Some(h) = scene.node_box(host) {
                links.push(Link {
                    node: b.node,
                    to: LinkEnd::HostStack(host),
                    from_point: edge_towards(&b.rect, &h.rect),
                    to_point: edge_towards(&h.rect, &b.rect),
                });
            }
        }
    }
    scene.links = links;
}

/// The middle of `r`'s top or bottom edge, whichever faces `other`.
fn edge_towards(r: &Rect, other: &Rect) -> (f64, f64) {
    let (cx, cy) = r.centre();
    if other.centre().1 < cy {
        (cx, r.y)
    } else {
        (cx, r.y + r.h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labvisor_core::net::topology::NodeKind;

    fn scenes() -> Vec<(String, Scene, Fabric, Topology)> {
        let mut out = Vec::new();
        for (name, _) in crate::bundle::examples() {
            let lab = super::super::load(name, &[]).expect("loads");
            for lang in [Lang::En, Lang::Ko] {
                let scene = layout(lab.network.fabric(), lab.network.topology(), lang);
                out.push((
                    format!("{name} ({lang:?})"),
                    scene,
                    lab.network.fabric().clone(),
                    lab.network.topology().clone(),
                ));
            }
        }
        out
    }

    #[test]
    fn no_two_labels_overlap_in_any_example() {
        for (name, scene, _, _) in scenes() {
            let labels: Vec<Rect> = scene.labels().map(Label::bounds).collect();
            for (i, a) in labels.iter().enumerate() {
                for b in &labels[i + 1..] {
                    assert!(!a.intersects(b), "{name}: {a:?} and {b:?} overlap");
                }
            }
        }
    }

    #[test]
    fn every_label_fits_its_box_and_no_boxes_overlap() {
        for (name, scene, _, _) in scenes() {
            for b in &scene.boxes {
                for l in &b.labels {
                    assert!(b.rect.contains(&l.bounds()), "{name}: {:?} spills", l.text);
                }
            }
            for p in &scene.segments {
                assert!(
                    p.rect.contains(&p.label.bounds()),
                    "{name}: {:?}",
                    p.label.text
                );
            }
            let rects: Vec<Rect> = scene
                .boxes
                .iter()
                .map(|b| b.rect)
                .chain(scene.segments.iter().map(|p| p.rect))
                .collect();
            for (i, a) in rects.iter().enumerate() {
                for b in &rects[i + 1..] {
                    assert!(!a.intersects(b), "{name}: {a:?} and {b:?} overlap");
                }
            }
            for r in &rects {
                assert!(r.x >= 0.0 && r.y >= 0.0, "{name}: {r:?} off the page");
                assert!(
                    r.x + r.w <= scene.width && r.y + r.h <= scene.height,
                    "{name}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn hosts_contain_their_vms_and_nat_engines_joined_to_them() {
        let mut seen = 0;
        for (name, scene, fabric, spec) in scenes() {
            for (i, node) in fabric.nodes.iter().enumerate() {
                let host = match &node.role {
                    Role::NatEngine { host, .. } => Some(*host),
                    Role::Machine { kind: NodeKind::Vm } => spec
                        .node(&node.name)
                        .and_then(|s| s.host.clone())
                        .and_then(|h| fabric.nodes.iter().position(|n| n.name == h)),
                    Role::Machine { .. } => None,
                };
                let Some(host) = host else { continue };
                let frame = scene
                    .containers
                    .iter()
                    .find(|c| c.host == host)
                    .unwrap_or_else(|| panic!("{name}: host of {} has no frame", node.name));
                let b = scene.node_box(i).expect("a box");
                assert!(
                    frame.rect.contains(&b.rect),
                    "{name}: {} outside",
                    node.name
                );
                if let Role::NatEngine { .. } = node.role {
                    assert!(
                        scene
                            .links
                            .iter()
                            .any(|l| l.node == i && l.to == LinkEnd::HostStack(host)),
                        "{name}: {} not joined to its host",
                        node.name
                    );
                    assert!(scene.hop_path(i, host).is_some(), "{name}");
                }
                seen += 1;
            }
        }
        assert!(seen > 20, "only {seen} contained nodes");
    }

    #[test]
    fn every_diagram_fits_a_phone_with_text_at_least_10_px() {
        // The page never scales the drawing below 0.85 (12 units × 0.85 = 10.2 px) and
        // scrolls it sideways instead; rows wrap so that it need not scroll on a 390 px phone.
        for (name, scene, _, _) in scenes() {
            assert!(scene.width <= MAX_WIDTH, "{name}: {} wide", scene.width);
            assert!(scene.width * 0.85 <= 350.0, "{name}");
        }
    }

    #[test]
    fn a_hop_runs_through_the_segment_both_nodes_share() {
        let lab = super::super::load("home-router", &[]).expect("loads");
        let fabric = lab.network.fabric();
        let scene = layout(fabric, lab.network.topology(), Lang::En);
        let at = |n: &str| fabric.nodes.iter().position(|x| x.name == n).expect(n);
        let path = scene.hop_path(at("pc"), at("home-router")).expect("a path");
        assert_eq!(path.len(), 6);
        let lan = scene
            .segments
            .iter()
            .find(|p| fabric.segments[p.segment].name == "lan")
            .expect("lan");
        let point = |(x, y): (f64, f64)| Rect {
            x,
            y,
            w: 0.0,
            h: 0.0,
        };
        assert!(lan.rect.contains(&point(path[2])) && lan.rect.contains(&point(path[3])));
        assert!(
            scene.hop_path(at("pc"), at("dns")).is_none(),
            "no shared segment"
        );
    }

    #[test]
    fn the_layout_is_deterministic() {
        let lab = super::super::load("nat-network", &[]).expect("loads");
        let a = layout(lab.network.fabric(), lab.network.topology(), Lang::Ko);
        let b = layout(lab.network.fabric(), lab.network.topology(), Lang::Ko);
        assert_eq!(a, b);
    }
}
