//! The IPv4 classifier and subnet calculator: a view of `labvisor_core::addr`.

use labvisor_core::addr::{self, Cidr, Class, Ipv4Info, Scope};
use labvisor_core::lang::{Explain, Lang, Text};
use yew::prelude::*;

use super::common::{facts, input_number, input_value, yes_no, ToolPage};
use crate::app::{edit_lab, use_app, use_completion};
use crate::lab::limits;

const EXAMPLES: [&str; 8] = [
    "192.168.0.10/24",
    "8.8.8.8",
    "10.0.2.15/24",
    "172.16.5.9/20",
    "127.0.0.1",
    "169.254.10.20",
    "100.64.0.1",
    "203.0.113.7/29",
];

/// The goal: an address that is both class B and private (only 172.16.0.0/12 is).
fn goal_met(info: Option<&Ipv4Info>) -> bool {
    info.is_some_and(|i| i.class == Class::B && i.scope == Scope::Private)
}

#[function_component]
pub fn Ipv4Tool() -> Html {
    let app = use_app();
    let lang = app.lang;
    let state = &app.lab.ipv4;
    let parsed = addr::parse_address_and_prefix(state.input.trim());
    let info = parsed.as_ref().ok().map(|(a, _)| Ipv4Info::of(*a));
    use_completion(
        super::activity_id(crate::route::ToolId::Ipv4),
        goal_met(info.as_ref()),
    );

    let on_input = edit_lab(&app, |lab, e: InputEvent| lab.ipv4.input = input_value(&e));
    let on_other = edit_lab(&app, |lab, e: InputEvent| lab.ipv4.other = input_value(&e));
    let on_split = edit_lab(&app, |lab, e: Event| {
        if let Some(n) = input_number::<u8>(&e) {
            lab.ipv4.split = n.clamp(limits::SPLIT.0, limits::SPLIT.1);
        }
    });
    // The prefix slider rewrites the prefix of the typed address.
    let on_prefix = {
        let address = parsed.as_ref().ok().map(|(a, _)| *a);
        edit_lab(&app, move |lab, e: InputEvent| {
            if let (Some(a), Some(p)) = (address, input_number::<u8>(&e)) {
                lab.ipv4.input = format!("{a}/{p}");
            }
        })
    };
    let example =
        |ex: &'static str| edit_lab(&app, move |lab, _: MouseEvent| lab.ipv4.input = ex.into());

    let error = parsed.as_ref().err().map(|e| e.explain_in(lang));
    let prefix = match &parsed {
        Ok((_, Some(p))) => Some(*p),
        Ok((a, None)) => Class::of(*a).default_prefix(),
        Err(_) => None,
    };
    html! {
        <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={goal_met(info.as_ref())}>
            <section class="lv-panel lv-tool-input">
                <label class="lv-label" for="lv-ipv4-input">{ ADDRESS.get(lang) }</label>
                <input id="lv-ipv4-input" class="lv-input lv-mono lv-big" value={state.input.clone()}
                    oninput={on_input} spellcheck="false" autocomplete="off" inputmode="decimal"
                    aria-invalid={error.is_some().to_string()}
                    aria-describedby="lv-ipv4-error" placeholder="192.168.0.10/24" />
                <p id="lv-ipv4-error" class="lv-field-error" role="status">
                    { error.clone().unwrap_or_default() }
                </p>
                <div class="lv-chips" role="group" aria-label={EXAMPLES_LABEL.get(lang)}>
                    <span class="lv-muted">{ EXAMPLES_LABEL.get(lang) }</span>
                    { for EXAMPLES.iter().map(|ex| html! {
                        <button class="lv-chip lv-mono" onclick={example(ex)}>{ *ex }</button>
                    }) }
                </div>
                if let (Some(p), Ok(_)) = (prefix, &parsed) {
                    <label class="lv-label" for="lv-ipv4-prefix">{ PREFIX.get(lang) }{ format!(" /{p}") }</label>
                    <input id="lv-ipv4-prefix" type="range" min="0" max="32" value={p.to_string()}
                        class="lv-range" oninput={on_prefix} aria-valuetext={format!("/{p}")} />
                }
            </section>
            if let Some(info) = &info {
                <div class="lv-grid-2">
                    { address_panel(lang, info, prefix) }
                    if let Some(p) = prefix {
                        { subnet_panel(lang, info, p) }
                    }
                </div>
                if let Some(p) = prefix {
                    <div class="lv-grid-2">
                        <section class="lv-panel">
                            <h2>{ COMPARE.get(lang) }</h2>
                            <label class="lv-label" for="lv-ipv4-other">{ OTHER.get(lang) }</label>
                            <input id="lv-ipv4-other" class="lv-input lv-mono" value={state.other.clone()}
                                oninput={on_other} spellcheck="false" autocomplete="off" />
                            { compare(lang, info.address, &state.other, p) }
                        </section>
                        <section class="lv-panel">
                            <h2>{ SPLIT.get(lang) }</h2>
                            <label class="lv-label" for="lv-ipv4-split">{ SPLIT_INTO.get(lang) }</label>
                            <input id="lv-ipv4-split" type="number" class="lv-input lv-narrow"
                                min={limits::SPLIT.0.to_string()} max={limits::SPLIT.1.to_string()}
                                value={state.split.to_string()} onchange={on_split} />
                            { split(lang, info.address, p, state.split) }
                        </section>
                    </div>
                }
            }
        </ToolPage>
    }
}

fn address_panel(lang: Lang, info: &Ipv4Info, prefix: Option<u8>) -> Html {
    let scope_class = if info.globally_reachable {
        "lv-tag lv-tag-public"
    } else {
        "lv-tag lv-tag-special"
    };
    html! {
        <section class="lv-panel" aria-labelledby="lv-ipv4-addr-title">
            <h2 id="lv-ipv4-addr-title">{ ABOUT.get(lang) }{ " " }<span class="lv-mono">{ info.address.to_string() }</span></h2>
            <p class="lv-tags">
                <span class="lv-tag">{ CLASS.get(lang) }{ " " }{ info.class.letter() }</span>
                <span class={scope_class}>{ info.scope.name().get(lang) }</span>
                <span class="lv-tag lv-tag-rfc">{ info.rfc }</span>
            </p>
            <p>{ info.scope.explanation().get(lang) }</p>
            { facts(lang, &[
                (LEADING_BITS, html! { <span class="lv-mono">{ info.class_bits }</span> }),
                (DEFAULT_MASK, html! { <span class="lv-mono">{ match (info.default_prefix, info.default_mask) {
                    (Some(p), Some(m)) => format!("/{p} ({m})"),
                    _ => NO_DEFAULT.get(lang).to_string(),
                } }</span> }),
                (BLOCK, html! { <span class="lv-mono">{ info.block.map(|b| b.to_string()).unwrap_or_else(|| "—".into()) }{ " " }{ info.block_name }</span> }),
                (REACHABLE, html! { yes_no(lang, info.globally_reachable) }),
                (BINARY, binary(&info.binary, prefix)),
            ]) }
        </section>
    }
}

/// The address in binary, network bits marked (and underlined, not only coloured).
fn binary(bits: &str, prefix: Option<u8>) -> Html {
    let prefix = usize::from(prefix.unwrap_or(0));
    let mut seen = 0;
    html! {
        <span class="lv-mono lv-binary">
            { for bits.chars().map(|c| {
                if c == '.' {
                    return html! { <span class="lv-bit-dot">{ "." }</span> };
                }
                seen += 1;
                let class = if seen <= prefix { "lv-bit lv-bit-net" } else { "lv-bit" };
                html! { <span class={class}>{ c }</span> }
            }) }
        </span>
    }
}

fn subnet_panel(lang: Lang, info: &Ipv4Info, prefix: u8) -> Html {
    let Ok(cidr) = Cidr::new(info.address, prefix) else {
        return html! {};
    };
    let c = cidr.info();
    html! {
        <section class="lv-panel" aria-labelledby="lv-ipv4-subnet-title">
            <h2 id="lv-ipv4-subnet-title">{ SUBNET.get(lang) }{ " " }<span class="lv-mono">{ format!("{}/{}", c.network, c.prefix) }</span></h2>
            { facts(lang, &[
                (NETMASK, mono(format!("{} (/{})", c.netmask, c.prefix))),
                (WILDCARD, mono(c.wildcard.to_string())),
                (NETWORK, mono(c.network.to_string())),
                (BROADCAST, mono(if prefix >= 31 { NO_BROADCAST.get(lang).to_string() } else { c.broadcast.to_string() })),
                (HOSTS_RANGE, mono(format!("{} – {}", c.first_host, c.last_host))),
                (HOST_COUNT, mono(match lang {
                    Lang::En => format!("{} of {} addresses", c.host_count, c.size),
                    Lang::Ko => format!("{}개 주소 중 {}개", c.size, c.host_count),
                })),
            ]) }
            if prefix == 31 {
                <p class="lv-note">{ P31.get(lang) }</p>
            } else if prefix == 32 {
                <p class="lv-note">{ P32.get(lang) }</p>
            }
        </section>
    }
}

fn mono(s: String) -> Html {
    html! { <span class="lv-mono">{ s }</span> }
}

fn compare(lang: Lang, a: std::net::Ipv4Addr, other: &str, prefix: u8) -> Html {
    match addr::parse_ipv4(other.trim()) {
        Err(e) => html! { <p class="lv-field-error" role="status">{ e.explain_in(lang) }</p> },
        Ok(b) => {
            let same = addr::same_subnet(a, b, prefix);
            let (class, icon, text) = if same {
                ("lv-verdict lv-verdict-ok", "✓", SAME.get(lang))
            } else {
                ("lv-verdict lv-verdict-no", "↔", DIFFERENT.get(lang))
            };
            html! {
                <p class={class} role="status">
                    <span aria-hidden="true">{ icon }</span>{ " " }
                    <span class="lv-mono">{ format!("{a} / {b} (/{prefix})") }</span>{ ": " }{ text }
                </p>
            }
        }
    }
}

fn split(lang: Lang, a: std::net::Ipv4Addr, prefix: u8, n: u8) -> Html {
    let Ok(cidr) = Cidr::new(a, prefix) else {
        return html! {};
    };
    match cidr.split(u32::from(n)) {
        Err(e) => html! { <p class="lv-field-error" role="status">{ e.explain_in(lang) }</p> },
        Ok(subnets) => html! {
            <div class="lv-table-wrap" tabindex="0">
                <table class="lv-table">
                    <thead><tr>
                        <th scope="col">{ "#" }</th>
                        <th scope="col">{ SUBNET.get(lang) }</th>
                        <th scope="col">{ HOSTS_RANGE.get(lang) }</th>
                        <th scope="col">{ HOST_COUNT.get(lang) }</th>
                    </tr></thead>
                    <tbody>
                        { for subnets.iter().enumerate().map(|(i, s)| {
                            let c = s.info();
                            html! { <tr>
                                <td>{ i + 1 }</td>
                                <td class="lv-mono">{ format!("{}/{}", c.network, c.prefix) }</td>
                                <td class="lv-mono">{ format!("{} – {}", c.first_host, c.last_host) }</td>
                                <td class="lv-mono">{ c.host_count }</td>
                            </tr> }
                        }) }
                    </tbody>
                </table>
            </div>
        },
    }
}

const TITLE: Text = Text::new("IPv4 addresses and subnets", "IPv4 주소와 서브넷");
const INTRO: Text = Text::new(
    "Type an address, with or without a prefix length. Labvisor tells its class, what kind of address it is (with the RFC that says so) and, for the subnet, the network, broadcast and usable hosts.",
    "주소를 입력하세요(프리픽스 길이는 선택). 클래스, 어떤 종류의 주소인지(근거 RFC와 함께), 그리고 서브넷의 네트워크·브로드캐스트 주소와 사용 가능한 호스트를 알려 줍니다.",
);
const GOAL: Text = Text::new(
    "Find an address that is both class B and private. Only one of the three RFC 1918 blocks qualifies.",
    "B 클래스이면서 사설인 주소를 찾아보세요. RFC 1918의 세 블록 중 하나만 해당합니다.",
);
const ADDRESS: Text = Text::new("Address or address/prefix", "주소 또는 주소/프리픽스");
const EXAMPLES_LABEL: Text = Text::new("Examples:", "예시:");
const PREFIX: Text = Text::new("Prefix length", "프리픽스 길이");
const ABOUT: Text = Text::new("Address", "주소");
const CLASS: Text = Text::new("Class", "클래스");
const LEADING_BITS: Text = Text::new("Leading bits", "앞자리 비트");
const DEFAULT_MASK: Text = Text::new("Class default mask", "클래스 기본 마스크");
const NO_DEFAULT: Text = Text::new("none (not for hosts)", "없음 (호스트용 아님)");
const BLOCK: Text = Text::new("Special-purpose block", "특수 용도 블록");
const REACHABLE: Text = Text::new("Reachable from the Internet", "인터넷에서 도달 가능");
const BINARY: Text = Text::new(
    "Binary (network bits underlined)",
    "2진수 (네트워크 비트에 밑줄)",
);
const SUBNET: Text = Text::new("Subnet", "서브넷");
const NETMASK: Text = Text::new("Netmask", "넷마스크");
const WILDCARD: Text = Text::new("Wildcard", "와일드카드");
const NETWORK: Text = Text::new("Network address", "네트워크 주소");
const BROADCAST: Text = Text::new("Broadcast address", "브로드캐스트 주소");
const NO_BROADCAST: Text = Text::new("none at /31 and /32", "/31, /32에는 없음");
const HOSTS_RANGE: Text = Text::new("Usable hosts", "사용 가능한 호스트");
const HOST_COUNT: Text = Text::new("Host count", "호스트 수");
const P31: Text = Text::new(
    "A /31 is a point-to-point link (RFC 3021): both addresses are hosts, there is no network or broadcast address.",
    "/31은 점대점 링크입니다(RFC 3021). 두 주소 모두 호스트이며 네트워크·브로드캐스트 주소가 없습니다.",
);
const P32: Text = Text::new(
    "A /32 is one host: the route to a single address.",
    "/32는 호스트 하나, 즉 주소 하나로 가는 경로입니다.",
);
const COMPARE: Text = Text::new("Same subnet?", "같은 서브넷인가?");
const OTHER: Text = Text::new("Another address", "다른 주소");
const SAME: Text = Text::new(
    "same subnet: they reach each other directly, no router needed.",
    "같은 서브넷: 라우터 없이 서로 직접 통신합니다.",
);
const DIFFERENT: Text = Text::new(
    "different subnets: packets between them go through a router.",
    "다른 서브넷: 둘 사이의 패킷은 라우터를 거칩니다.",
);
const SPLIT: Text = Text::new("Split into subnets", "서브넷으로 나누기");
const SPLIT_INTO: Text = Text::new("Number of subnets", "서브넷 개수");
