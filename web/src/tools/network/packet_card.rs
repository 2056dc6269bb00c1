//! The selected step, explained: the line Linux would print for it, what it means in the
//! learner's language, and the packet layer by layer (Ethernet on a wire, IPv4, then TCP, UDP
//! or ICMP) with every field a NAT or a router changed shown before → after.
//!
//! "Before" is the translation's own `before` at a NAT; at any other step it is the packet as
//! it left the previous node of its journey, so a hop shows everything that node changed: a
//! NAT's rewrite, a router's TTL decrement, the new link's Ethernet addresses.

use labvisor_core::net::packet::{Packet, Transport};

use super::*;

/// A protocol layer of the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Layer {
    Ethernet,
    Ipv4,
    Transport,
}

/// One header field's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Field {
    pub layer: Layer,
    pub name: &'static str,
    pub value: String,
}

/// A packet as it stood at one step: its header and, on a wire, its frame's addresses.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Seen<'a> {
    pub packet: &'a Packet,
    pub frame: Option<([u8; 6], [u8; 6])>,
}

/// The packet a step carries (after the rewrite, for a translation).
pub(super) fn packet_of(e: &Event) -> Option<&Packet> {
    match e {
        Event::Send { packet, .. }
        | Event::Transmit { packet, .. }
        | Event::HostStack { packet, .. }
        | Event::Deliver { packet, .. }
        | Event::Drop { packet, .. } => Some(packet),
        Event::Translate { after, .. } => Some(after),
        _ => None,
    }
}

fn mac_of(fabric: &Fabric, node: &str, nic: &str) -> Option<[u8; 6]> {
    fabric
        .nodes
        .iter()
        .find(|n| n.name == node)?
        .nics
        .iter()
        .find(|n| n.name == nic)
        .map(|n| n.mac)
}

fn seen_at<'a>(fabric: &Fabric, e: &'a Event) -> Option<Seen<'a>> {
    let frame = match e {
        Event::Transmit {
            from,
            from_nic,
            to,
            to_nic,
            ..
        } => mac_of(fabric, from, from_nic).zip(mac_of(fabric, to, to_nic)),
        _ => None,
    };
    packet_of(e).map(|packet| Seen { packet, frame })
}

/// The packet at step `at` and the same packet one step earlier on its journey, if any.
pub(super) fn before_and_after(lab: &Lab, at: usize) -> Option<(Option<Seen<'_>>, Seen<'_>)> {
    let fabric = lab.network.fabric();
    let (action, step) = lab.steps.get(at)?;
    let now = seen_at(fabric, &step.event)?;
    if let Event::Translate { before, .. } = &step.event {
        let before = Seen {
            packet: before,
            frame: None,
        };
        return Some((Some(before), now));
    }
    if matches!(step.event, Event::Send { .. }) {
        return Some((None, now));
    }
    // The packet as it left the previous node of its journey (its frame on the previous
    // link, or as sent): what this hop changed, a NAT's rewrite and a router's TTL included.
    let before = lab.steps[..at]
        .iter()
        .rev()
        .take_while(|(a, s)| {
            a == action && !matches!(s.event, Event::Deliver { .. } | Event::Drop { .. })
        })
        .find(|(_, s)| {
            matches!(
                s.event,
                Event::Send { .. } | Event::Transmit { .. } | Event::HostStack { .. }
            )
        })
        .and_then(|(_, s)| seen_at(fabric, &s.event));
    Some((before, now))
}

fn mac(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The header fields of a packet seen at a step, layer by layer.
pub(super) fn fields(seen: &Seen) -> Vec<Field> {
    let f = |layer, name, value: String| Field { layer, name, value };
    let p = seen.packet;
    let mut out = Vec::new();
    if let Some((src, dst)) = seen.frame {
        out.push(f(Layer::Ethernet, "src", mac(src)));
        out.push(f(Layer::Ethernet, "dst", mac(dst)));
        out.push(f(Layer::Ethernet, "type", "0x0800 (IPv4)".into()));
    }
    out.push(f(Layer::Ipv4, "src", p.src.to_string()));
    out.push(f(Layer::Ipv4, "dst", p.dst.to_string()));
    out.push(f(Layer::Ipv4, "ttl", p.ttl.to_string()));
    let proto = p.proto();
    out.push(f(
        Layer::Ipv4,
        "protocol",
        format!("{} ({})", proto.number(), proto.name().to_ascii_uppercase()),
    ));
    let t = Layer::Transport;
    match &p.transport {
        Transport::Tcp {
            sport,
            dport,
            flags,
        } => {
            out.push(f(t, "sport", sport.to_string()));
            out.push(f(t, "dport", dport.to_string()));
            out.push(f(t, "flags", flags.to_string()));
        }
        Transport::Udp { sport, dport } => {
            out.push(f(t, "sport", sport.to_string()));
            out.push(f(t, "dport", dport.to_string()));
        }
        Transport::EchoRequest { id, seq } | Transport::EchoReply { id, seq } => {
            let ty = if matches!(p.transport, Transport::EchoRequest { .. }) {
                "8 (echo request)"
            } else {
                "0 (echo reply)"
            };
            out.push(f(t, "type", ty.into()));
            out.push(f(t, "id", id.to_string()));
            out.push(f(t, "seq", seq.to_string()));
        }
        Transport::Unreachable { why, quoted } => {
            out.push(f(t, "type", "3 (destination unreachable)".into()));
            out.push(f(t, "code", why.code().to_string()));
            out.push(f(
                t,
                "quoted",
                format!(
                    "{}:{} > {}:{}",
                    quoted.src, quoted.sport, quoted.dst, quoted.dport
                ),
            ));
        }
        Transport::TimeExceeded { quoted } => {
            out.push(f(t, "type", "11 (time exceeded)".into()));
            out.push(f(
                t,
                "quoted",
                format!(
                    "{}:{} > {}:{}",
                    quoted.src, quoted.sport, quoted.dst, quoted.dport
                ),
            ));
        }
    }
    out
}

/// Each field of `now` with its earlier value when it changed.
pub(super) fn changes(before: Option<&Seen>, now: &Seen) -> Vec<(Field, Option<String>)> {
    let old = before.map(fields).unwrap_or_default();
    fields(now)
        .into_iter()
        .map(|field| {
            let was = old
                .iter()
                .find(|o| o.layer == field.layer && o.name == field.name)
                .filter(|o| o.value != field.value)
                .map(|o| o.value.clone());
            (field, was)
        })
        .collect()
}

fn layer_name(lang: Lang, layer: Layer, packet: &Packet) -> String {
    match (layer, lang) {
        (Layer::Ethernet, Lang::En) => "Ethernet (link layer)".into(),
        (Layer::Ethernet, Lang::Ko) => "이더넷(링크 계층)".into(),
        (Layer::Ipv4, Lang::En) => "IPv4 (network layer)".into(),
        (Layer::Ipv4, Lang::Ko) => "IPv4(네트워크 계층)".into(),
        (Layer::Transport, _) => {
            let name = packet.proto().name().to_ascii_uppercase();
            match lang {
                Lang::En => format!("{name} (transport layer)"),
                Lang::Ko => format!("{name}(전송 계층)"),
            }
        }
    }
}

fn field_label(lang: Lang, name: &str) -> &'static str {
    let text = match name {
        "src" => Text::new("source", "출발지"),
        "dst" => Text::new("destination", "목적지"),
        "type" => Text::new("type", "유형"),
        "ttl" => Text::new("TTL", "TTL"),
        "protocol" => Text::new("protocol", "프로토콜"),
        "sport" => Text::new("source port", "출발지 포트"),
        "dport" => Text::new("destination port", "목적지 포트"),
        "flags" => Text::new("flags", "플래그"),
        "id" => Text::new("identifier", "식별자"),
        "seq" => Text::new("sequence", "순번"),
        "code" => Text::new("code", "코드"),
        _ => Text::new("quoted header", "인용된 헤더"),
    };
    text.get(lang)
}

/// The packet card of step `at`: every layer's fields, the changed ones before → after.
pub(super) fn packet_card(lang: Lang, lab: &Lab, at: usize) -> Html {
    let Some((before, now)) = before_and_after(lab, at) else {
        return html! {};
    };
    let rows = changes(before.as_ref(), &now);
    let changed = rows.iter().filter(|(_, was)| was.is_some()).count();
    let layers = [Layer::Ethernet, Layer::Ipv4, Layer::Transport];
    html! {
        <div class="lv-packet-card">
            <p class="lv-label">{ CARD.get(lang) }
                if changed > 0 {
                    <span class="lv-muted">{ changed_note(lang, changed) }</span>
                }
            </p>
            if !now.packet.label.is_empty() {
                <p class="lv-muted lv-small-text">{ format!("{} \"{}\"", PAYLOAD.get(lang), now.packet.label) }</p>
            }
            { for layers.iter().filter(|l| rows.iter().any(|(f, _)| f.layer == **l)).map(|layer| html! {
                <section class="lv-layer" data-layer={format!("{layer:?}").to_ascii_lowercase()}>
                    <h4>{ layer_name(lang, *layer, now.packet) }</h4>
                    <dl class="lv-fields">
                        { for rows.iter().filter(|(f, _)| f.layer == *layer).map(|(f, was)| html! {
                            <div class={classes!("lv-field", was.is_some().then_some("lv-changed"))} data-field={f.name}>
                                <dt>{ field_label(lang, f.name) }</dt>
                                <dd class="lv-mono">
                                    if let Some(was) = was {
                                        <del>{ was.clone() }</del>{ " → " }<ins>{ f.value.clone() }</ins>
                                    } else {
                                        { f.value.clone() }
                                    }
                                </dd>
                            </div>
                        }) }
                    </dl>
                </section>
            }) }
            if now.frame.is_none() && !matches!(lab.steps[at].1.event, Event::Send { .. }) {
                <p class="lv-muted lv-small-text">{ NO_FRAME.get(lang) }</p>
            }
        </div>
    }
}

fn changed_note(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En if n == 1 => " · 1 field changed".into(),
        Lang::En => format!(" · {n} fields changed"),
        Lang::Ko => format!(" · 바뀐 필드 {n}개"),
    }
}

/// The selected step: its Linux line, what it means, and its packet.
pub(super) fn step_card(lang: Lang, lab: &Lab, at: usize) -> Html {
    let Some((_, step)) = lab.steps.get(at) else {
        return html! {};
    };
    html! {
        <div class={classes!("lv-step-card", event_class(&step.event))} aria-live="polite">
            <p class="lv-label">{ REAL_LINE.get(lang) }</p>
            <p class="lv-mono lv-real-line" lang="en">{ format!("{:>9}  {}", step.at.to_string(), step.event) }</p>
            <p class="lv-step-explain">{ step.event.explain_in(lang) }</p>
            if let (Lang::Ko, Event::Drop { reason, .. }) = (lang, &step.event) {
                <p class="lv-muted lv-small-text" lang="en">{ reason.clone() }</p>
            }
            { packet_card(lang, lab, at) }
        </div>
    }
}

const CARD: Text = Text::new("The packet, layer by layer", "계층별로 본 패킷");
const PAYLOAD: Text = Text::new("Payload:", "페이로드:");
const REAL_LINE: Text = Text::new("What Linux shows", "Linux에서 보이는 줄");
const NO_FRAME: Text = Text::new(
    "Inside a node: no Ethernet frame at this step, only the IP packet being handled.",
    "노드 안에서 처리 중인 단계라 이더넷 프레임은 없고 IP 패킷만 있습니다.",
);

#[cfg(test)]
mod tests {
    use super::*;

    fn snat_step(lab: &Lab) -> usize {
        lab.steps
            .iter()
            .position(|(_, s)| matches!(&s.event, Event::Translate { kind, .. } if kind == "SNAT"))
            .unwrap()
    }

    #[test]
    fn the_snat_card_shows_the_source_before_and_after() {
        let lab = load("home-router", &[]).unwrap();
        let at = snat_step(&lab);
        let (before, now) = before_and_after(&lab, at).unwrap();
        let rows = changes(before.as_ref(), &now);
        let changed: Vec<_> = rows
            .iter()
            .filter_map(|(f, was)| Some((f.layer, f.name, was.clone()?, f.value.clone())))
            .collect();
        assert_eq!(
            changed,
            [(
                Layer::Ipv4,
                "src",
                "192.168.1.100".to_string(),
                "203.0.113.7".to_string()
            )]
        );
    }

    #[test]
    fn a_router_hop_shows_the_ttl_and_the_new_link_addresses() {
        let lab = load("home-router", &[]).unwrap();
        // The query's frame from the home router to the ISP router: a hop after a router.
        let at = lab
            .steps
            .iter()
            .position(
                |(_, s)| matches!(&s.event, Event::Transmit { from, .. } if from == "home-router"),
            )
            .unwrap();
        let (before, now) = before_and_after(&lab, at).unwrap();
        let rows = changes(before.as_ref(), &now);
        let was = |layer, name| {
            rows.iter()
                .find(|(f, _)| f.layer == layer && f.name == name)
                .and_then(|(_, w)| w.clone())
        };
        assert_eq!(was(Layer::Ipv4, "ttl").as_deref(), Some("64"));
        assert!(
            was(Layer::Ethernet, "src").is_some(),
            "a new link, new MACs"
        );
        assert!(was(Layer::Ethernet, "type").is_none());
    }

    #[test]
    fn a_sent_packet_has_nothing_before_it() {
        let lab = load("home-router", &[]).unwrap();
        let at = lab
            .steps
            .iter()
            .position(|(_, s)| matches!(s.event, Event::Send { .. }))
            .unwrap();
        let (before, _) = before_and_after(&lab, at).unwrap();
        assert!(before.is_none());
    }
}
