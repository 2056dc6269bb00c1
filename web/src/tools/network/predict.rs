//! Predict, then reveal: at a NAT hop (a step where a NAT rewrites a new connection's
//! addresses: SNAT, DNAT or both) the learner may first write the header they expect after it
//! (source and destination address, and port for TCP and UDP). The guess is graded field by
//! field against the engine's own rewrite; then the real packet card, the Linux line with its
//! explanation and the conntrack entry the step made are shown.
//!
//! The guess is the learner's input: every field is parsed with a specific error (the core's
//! IPv4 parser for addresses), and nothing typed can panic.

use std::net::Ipv4Addr;

use labvisor_core::addr::parse_ipv4;
use labvisor_core::net::packet::Packet;

use super::*;

/// Whether `e` is a hop worth predicting: a NAT rewriting a new connection's addresses.
pub(super) fn is_nat_hop(e: &Event) -> bool {
    matches!(e, Event::Translate { kind, .. } if matches!(kind.as_str(), "SNAT" | "DNAT" | "SNAT+DNAT"))
}

/// A header field the learner predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuessField {
    SrcAddr,
    SrcPort,
    DstAddr,
    DstPort,
}

impl GuessField {
    const ALL: [GuessField; 4] = [
        GuessField::SrcAddr,
        GuessField::SrcPort,
        GuessField::DstAddr,
        GuessField::DstPort,
    ];

    fn is_port(self) -> bool {
        matches!(self, GuessField::SrcPort | GuessField::DstPort)
    }

    fn id(self) -> &'static str {
        match self {
            GuessField::SrcAddr => "lv-predict-src",
            GuessField::SrcPort => "lv-predict-sport",
            GuessField::DstAddr => "lv-predict-dst",
            GuessField::DstPort => "lv-predict-dport",
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        let text = match self {
            GuessField::SrcAddr => Text::new("Source address", "출발지 주소"),
            GuessField::SrcPort => Text::new("Source port", "출발지 포트"),
            GuessField::DstAddr => Text::new("Destination address", "목적지 주소"),
            GuessField::DstPort => Text::new("Destination port", "목적지 포트"),
        };
        text.get(lang)
    }

    /// The field's true value in `p`, as text.
    fn actual(self, p: &Packet) -> String {
        let (sport, dport) = p.ports().unwrap_or_default();
        match self {
            GuessField::SrcAddr => p.src.to_string(),
            GuessField::SrcPort => sport.to_string(),
            GuessField::DstAddr => p.dst.to_string(),
            GuessField::DstPort => dport.to_string(),
        }
    }
}

/// The fields to predict for a packet: addresses always, ports for TCP and UDP (an ICMP echo's
/// identifier is not a port a learner is asked about).
pub fn fields_for(p: &Packet) -> Vec<GuessField> {
    let ports = matches!(p.proto(), Proto::Tcp | Proto::Udp);
    GuessField::ALL
        .into_iter()
        .filter(|f| ports || !f.is_port())
        .collect()
}

/// Why a typed field cannot be graded.
#[derive(Clone, Debug, PartialEq)]
pub enum GuessError {
    Empty(GuessField),
    Address(GuessField, labvisor_core::addr::AddrError),
    Port(GuessField, String),
}

impl GuessError {
    pub fn field(&self) -> GuessField {
        match self {
            GuessError::Empty(f) | GuessError::Address(f, _) | GuessError::Port(f, _) => *f,
        }
    }

    pub fn explain_in(&self, lang: Lang) -> String {
        use labvisor_core::lang::particle::eun_neun;
        match (self, lang) {
            (GuessError::Empty(f), Lang::En) => {
                format!("{}: write your prediction.", f.label(lang))
            }
            (GuessError::Empty(f), Lang::Ko) => format!("{}: 예측한 값을 적으세요.", f.label(lang)),
            (GuessError::Address(f, e), _) => format!("{}: {}", f.label(lang), e.explain_in(lang)),
            (GuessError::Port(f, v), Lang::En) => {
                format!(
                    "{}: {v:?} is not a port (a number in 1-65535).",
                    f.label(lang)
                )
            }
            (GuessError::Port(f, v), Lang::Ko) => format!(
                "{}: {} 포트가 아닙니다(1–65535 범위의 숫자여야 합니다).",
                f.label(lang),
                eun_neun(format!("\"{v}\""))
            ),
        }
    }
}

/// A parsed field value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Value {
    Addr(Ipv4Addr),
    Port(u16),
}

fn parse_field(field: GuessField, typed: &str) -> Result<Value, GuessError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(GuessError::Empty(field));
    }
    if field.is_port() {
        match typed.parse::<u16>() {
            Ok(p) if p > 0 => Ok(Value::Port(p)),
            _ => Err(GuessError::Port(field, typed.to_string())),
        }
    } else {
        parse_ipv4(typed)
            .map(Value::Addr)
            .map_err(|e| GuessError::Address(field, e))
    }
}

/// One field graded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldGrade {
    pub field: GuessField,
    pub guessed: String,
    pub actual: String,
    pub right: bool,
}

/// Grades the typed `guess` (one text per field of [`fields_for`]) against the packet the
/// NAT really produced. Every field must parse; the first that does not is the error.
pub fn grade(guess: &[(GuessField, String)], real: &Packet) -> Result<Vec<FieldGrade>, GuessError> {
    let (sport, dport) = real.ports().unwrap_or_default();
    guess
        .iter()
        .map(|(field, typed)| {
            let value = parse_field(*field, typed)?;
            let right = match (field, value) {
                (GuessField::SrcAddr, Value::Addr(a)) => a == real.src,
                (GuessField::DstAddr, Value::Addr(a)) => a == real.dst,
                (GuessField::SrcPort, Value::Port(p)) => p == sport,
                (GuessField::DstPort, Value::Port(p)) => p == dport,
                _ => false,
            };
            let guessed = match value {
                Value::Addr(a) => a.to_string(),
                Value::Port(p) => p.to_string(),
            };
            Ok(FieldGrade {
                field: *field,
                guessed,
                actual: field.actual(real),
                right,
            })
        })
        .collect()
}

/// What the learner did at a NAT hop: graded a guess, or asked to see it straight away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revealed {
    Graded(Vec<FieldGrade>),
    Shown,
}

#[derive(Properties, PartialEq)]
pub struct PredictProps {
    /// The step's index (the form starts empty at each hop).
    pub at: usize,
    /// The NAT doing the rewrite.
    pub node: String,
    /// The packet as it reaches the NAT.
    pub before: Packet,
    /// The packet the NAT really produced.
    pub after: Packet,
    pub on_reveal: Callback<(usize, Revealed)>,
}

/// The prediction form for one NAT hop.
#[function_component]
pub fn Predict(props: &PredictProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let fields = fields_for(&props.after);
    let typed = use_state(|| vec![String::new(); GuessField::ALL.len()]);
    let error = use_state(|| None::<GuessError>);
    let index = |f: GuessField| GuessField::ALL.iter().position(|g| *g == f).unwrap_or(0);
    let submit = {
        let (typed, error, fields) = (typed.clone(), error.clone(), fields.clone());
        let (after, at, on_reveal) = (props.after.clone(), props.at, props.on_reveal.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let guess: Vec<(GuessField, String)> = fields
                .iter()
                .map(|f| (*f, typed[index(*f)].clone()))
                .collect();
            match grade(&guess, &after) {
                Ok(g) => {
                    error.set(None);
                    on_reveal.emit((at, Revealed::Graded(g)));
                }
                Err(e) => {
                    crate::browser::focus(&format!("#{}", e.field().id()));
                    error.set(Some(e));
                }
            }
        })
    };
    let show = {
        let (at, on_reveal) = (props.at, props.on_reveal.clone());
        Callback::from(move |_: MouseEvent| on_reveal.emit((at, Revealed::Shown)))
    };
    let before = &props.before;
    html! {
        <form class="lv-predict" onsubmit={submit} aria-labelledby="lv-predict-title">
            <h3 id="lv-predict-title">{ title(lang, &props.node) }</h3>
            <p class="lv-small-text">{ ARRIVES.get(lang) }</p>
            <p class="lv-mono lv-real-line" lang="en">{ before.to_string() }</p>
            <p class="lv-small-text">{ ASK.get(lang) }</p>
            <div class="lv-predict-grid">
                { for fields.iter().map(|f| {
                    let f = *f;
                    let oninput = {
                        let typed = typed.clone();
                        Callback::from(move |e: InputEvent| {
                            let mut next = (*typed).clone();
                            next[index(f)] = input_value(&e);
                            typed.set(next);
                        })
                    };
                    let bad = error.as_ref().is_some_and(|e| e.field() == f);
                    html! {
                        <div class="lv-predict-field">
                            <label class="lv-label" for={f.id()}>{ f.label(lang) }</label>
                            <input id={f.id()} class="lv-input lv-mono" type="text" inputmode={if f.is_port() { "numeric" } else { "decimal" }}
                                autocomplete="off" spellcheck="false" value={typed[index(f)].clone()} {oninput}
                                aria-invalid={bad.then_some("true")}
                                aria-describedby={bad.then_some("lv-predict-error")} />
                        </div>
                    }
                }) }
            </div>
            if let Some(e) = &*error {
                <p id="lv-predict-error" class="lv-field-error" role="alert">{ e.explain_in(lang) }</p>
            }
            <div class="lv-row">
                <button class="lv-button" type="submit">{ CHECK.get(lang) }</button>
                <button class="lv-button lv-ghost" type="button" onclick={show}>{ SHOW.get(lang) }</button>
            </div>
        </form>
    }
}

fn title(lang: Lang, node: &str) -> String {
    use labvisor_core::lang::particle::i_ga;
    match lang {
        Lang::En => format!("Predict: what does {node} make of this packet?"),
        Lang::Ko => format!("예측해 보세요: {} 이 패킷을 어떻게 바꿀까요?", i_ga(node)),
    }
}

/// The grade of a revealed hop, field by field.
pub(super) fn grades(lang: Lang, revealed: &Revealed) -> Html {
    let Revealed::Graded(grades) = revealed else {
        return html! {};
    };
    let right = grades.iter().filter(|g| g.right).count();
    html! {
        <div class="lv-predict-result" role="status">
            <p><strong>{ score(lang, right, grades.len()) }</strong></p>
            <ul class="lv-predict-grades">
                { for grades.iter().map(|g| html! {
                    <li class={if g.right { "lv-grade-right" } else { "lv-grade-wrong" }} data-field={g.field.id()}>
                        { if g.right { "✓ " } else { "✗ " } }
                        { g.field.label(lang) }{ ": " }
                        if g.right {
                            <span class="lv-mono">{ g.actual.clone() }</span>
                        } else {
                            <span class="lv-mono"><del>{ g.guessed.clone() }</del>{ " → " }<ins>{ g.actual.clone() }</ins></span>
                        }
                    </li>
                }) }
            </ul>
        </div>
    }
}

fn score(lang: Lang, right: usize, of: usize) -> String {
    match (lang, right == of) {
        (Lang::En, true) => format!("All {of} fields right."),
        (Lang::En, false) => format!("{right} of {of} fields right; the real values are below."),
        (Lang::Ko, true) => format!("{of}개 필드를 모두 맞혔습니다."),
        (Lang::Ko, false) => {
            format!("{of}개 중 {right}개를 맞혔습니다. 실제 값은 아래와 같습니다.")
        }
    }
}

/// The switch that turns predictions on.
pub(super) const PREDICT_MODE: Text = Text::new(
    "Predict each NAT rewrite before it is shown",
    "NAT 변환을 보기 전에 먼저 예측하기",
);
const ARRIVES: Text = Text::new("This packet arrives at the NAT:", "NAT에 도착한 패킷:");
const ASK: Text = Text::new(
    "Write the header you expect after the NAT, then check it.",
    "NAT를 지난 뒤의 헤더를 예상해서 적고 확인하세요.",
);
const CHECK: Text = Text::new("Check my prediction", "예측 확인");
const SHOW: Text = Text::new("Just show me", "그냥 보기");

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn snat() -> (Packet, Packet) {
        let lab = load("home-router", &[]).unwrap();
        lab.steps
            .iter()
            .find_map(|(_, s)| match &s.event {
                Event::Translate {
                    kind,
                    before,
                    after,
                    ..
                } if kind == "SNAT" => Some((before.clone(), after.clone())),
                _ => None,
            })
            .unwrap()
    }

    pub(super) fn guess(values: [&str; 4]) -> Vec<(GuessField, String)> {
        GuessField::ALL
            .into_iter()
            .zip(values)
            .map(|(f, v)| (f, v.to_string()))
            .collect()
    }

    #[test]
    fn a_right_prediction_of_the_snat_is_graded_right_field_by_field() {
        let (_, after) = snat();
        let g = grade(&guess(["203.0.113.7", "40000", "8.8.8.8", "53"]), &after).unwrap();
        assert!(g.iter().all(|g| g.right), "{g:?}");
    }

    #[test]
    fn keeping_the_private_source_is_graded_wrong_with_the_real_value() {
        let (before, after) = snat();
        let g = grade(&guess(["192.168.1.100", "40000", "8.8.8.8", "53"]), &after).unwrap();
        assert_eq!(g.iter().filter(|g| !g.right).count(), 1);
        assert_eq!(g[0].field, GuessField::SrcAddr);
        assert_eq!(g[0].guessed, before.src.to_string());
        assert_eq!(g[0].actual, "203.0.113.7");
    }

    #[test]
    fn bad_fields_are_named_in_both_languages() {
        let (_, after) = snat();
        let e = grade(&guess(["203.0.113.7", "", "8.8.8.8", "53"]), &after).unwrap_err();
        assert_eq!(e, GuessError::Empty(GuessField::SrcPort));
        let e = grade(&guess(["203.0.113.7", "70000", "8.8.8.8", "53"]), &after).unwrap_err();
        assert_eq!(
            e.explain_in(Lang::Ko),
            "출발지 포트: \"70000\"은 포트가 아닙니다(1–65535 범위의 숫자여야 합니다)."
        );
        let e = grade(&guess(["203.0.113", "1", "8.8.8.8", "53"]), &after).unwrap_err();
        assert_eq!(e.field(), GuessField::SrcAddr);
        assert!(e.explain_in(Lang::En).starts_with("Source address: "));
    }

    #[test]
    fn an_echo_asks_for_addresses_only() {
        let ping = Packet::ping(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(8, 8, 8, 8), 7, 1);
        assert_eq!(
            fields_for(&ping),
            [GuessField::SrcAddr, GuessField::DstAddr]
        );
    }
}

// proptest runs natively only (the browser build has no proptest).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::tests::{guess, snat};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_typed_text_is_graded_or_refused_never_a_panic(a in ".{0,24}", b in ".{0,8}", c in "[0-9. ]{0,20}", d in "[0-9a-z-]{0,7}") {
            let (_, after) = snat();
            let g = guess([&a, &b, &c, &d]);
            match grade(&g, &after) {
                Ok(grades) => prop_assert_eq!(grades.len(), 4),
                Err(e) => prop_assert!(!e.explain_in(Lang::Ko).is_empty()),
            }
        }

        #[test]
        fn every_real_header_typed_back_is_all_right(src in any::<u32>(), dst in any::<u32>(), sport in 1u16.., dport in 1u16..) {
            let real = Packet::udp(Ipv4Addr::from(src), sport, Ipv4Addr::from(dst), dport);
            let typed: Vec<(GuessField, String)> = fields_for(&real).into_iter().map(|f| (f, f.actual(&real))).collect();
            let g = grade(&typed, &real).unwrap();
            prop_assert!(g.iter().all(|g| g.right));
        }
    }
}
