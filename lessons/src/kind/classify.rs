//! `classify-address`, `classify-port`, `classify-hypervisor`: tell a fact about a subject.
//! The keys come from the core (`core::addr`, `core::port`, `core::hypervisor`); answers are
//! read with the synonyms learners write, in English or Korean.

use super::common::{canonical, compare, final_answer, synonym, Fields, Judgement};
use crate::action::Action;
use crate::key;
use crate::model::{AddressQuestion, PortQuestion, Spec};

/// An address to classify and what is asked of it.
pub(super) fn build_address(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let subject = f.required(&ex.subject, "subject")?;
    let ask = f.required(&ex.ask, "ask")?;
    if let Err(e) = key::address(subject.get_ref()) {
        f.error(subject.span(), &e);
    }
    let ask = f.parse_choice(
        ask,
        &[
            ("scope", AddressQuestion::Scope),
            ("class", AddressQuestion::Class),
        ],
    )?;
    Some(Spec::ClassifyAddress {
        subject: subject.get_ref().clone(),
        ask,
    })
}

/// A port to classify and what is asked of it.
pub(super) fn build_port(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let subject = f.required(&ex.subject, "subject")?;
    let ask_field = f.required(&ex.ask, "ask")?;
    let ask = f.parse_choice(
        ask_field,
        &[
            ("range", PortQuestion::Range),
            ("port-of-service", PortQuestion::PortOfService),
        ],
    )?;
    let checked = match ask {
        PortQuestion::Range => key::port_range(subject.get_ref()).map(|_| ()),
        PortQuestion::PortOfService => key::service_port(subject.get_ref()).map(|_| ()),
    };
    if let Err(e) = checked {
        f.error(subject.span(), &e);
    }
    Some(Spec::ClassifyPort {
        subject: subject.get_ref().clone(),
        ask,
    })
}

/// A hypervisor to classify.
pub(super) fn build_hypervisor(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let subject = f.required(&ex.subject, "subject")?;
    if let Some(ask) = &ex.ask {
        f.parse_choice(ask, &[("type", ())])?;
    }
    if let Err(e) = key::hypervisor(subject.get_ref()) {
        f.error(subject.span(), &e);
    }
    Some(Spec::ClassifyHypervisor {
        subject: subject.get_ref().clone(),
    })
}

const SCOPE_WORDS: &[(&str, &[&str])] = &[
    (
        "public",
        &["공인", "공인-ip", "global", "globally-reachable"],
    ),
    (
        "private",
        &["사설", "사설-ip", "rfc-1918", "rfc1918", "private-use"],
    ),
    (
        "shared",
        &[
            "shared-address-space",
            "cgnat",
            "공유",
            "공유-주소-공간",
            "rfc-6598",
            "rfc6598",
        ],
    ),
    ("loopback", &["루프백"]),
    ("link-local", &["링크-로컬", "링크로컬", "apipa"]),
    ("documentation", &["문서", "문서용", "test-net"]),
    ("benchmarking", &["벤치마크", "벤치마크용"]),
    ("multicast", &["멀티캐스트"]),
    ("reserved", &["예약", "예약됨"]),
    ("this-network", &["이-네트워크"]),
    ("limited-broadcast", &["broadcast", "브로드캐스트"]),
    ("ietf-protocol-assignments", &["ietf"]),
];

const RANGE_WORDS: &[(&str, &[&str])] = &[
    (
        "system",
        &[
            "well-known",
            "wellknown",
            "system-ports",
            "시스템",
            "잘-알려진",
            "잘-알려진-포트",
            "웰노운",
        ],
    ),
    (
        "user",
        &[
            "registered",
            "user-ports",
            "사용자",
            "등록",
            "등록된",
            "등록된-포트",
        ],
    ),
    (
        "dynamic",
        &[
            "private",
            "dynamic/private",
            "dynamic-ports",
            "동적",
            "사설",
            "동적-포트",
        ],
    ),
];

const TYPE_WORDS: &[(&str, &[&str])] = &[
    (
        "type-1",
        &[
            "1",
            "type1",
            "bare-metal",
            "baremetal",
            "native",
            "타입-1",
            "타입1",
            "1형",
            "베어메탈",
        ],
    ),
    (
        "type-2",
        &["2", "type2", "hosted", "타입-2", "타입2", "2형", "호스트형"],
    ),
    ("kvm-vmm", &["vmm", "kvm-based-vmm", "kvmvmm"]),
];

pub(super) fn grade_address(subject: &str, ask: AddressQuestion, actions: &[Action]) -> Judgement {
    let mut trace = Vec::new();
    let answer = final_answer(actions, &mut trace);
    let facts = match key::address(subject) {
        Ok(facts) => facts,
        Err(e) => return Judgement::fail("invalid-exercise", vec![e]),
    };
    trace.push(format!(
        "core addr: {subject} is class {}, scope {}{}",
        facts.class.to_ascii_uppercase(),
        facts.scope,
        facts
            .block
            .as_ref()
            .map(|b| format!(", in {b}"))
            .unwrap_or_default()
    ));
    let (given, key) = match ask {
        AddressQuestion::Scope => (answer.map(|a| synonym(&a, SCOPE_WORDS)), facts.scope),
        AddressQuestion::Class => (
            answer.map(|a| {
                let c = canonical(&a);
                let letter = ["class-", "클래스-", "클래스"]
                    .iter()
                    .find_map(|p| c.strip_prefix(p))
                    .unwrap_or(&c)
                    .trim_end_matches("-클래스")
                    .trim_end_matches("클래스")
                    .to_string();
                letter
            }),
            facts.class.as_str(),
        ),
    };
    compare(given, key, trace)
}

pub(super) fn grade_port(subject: &str, ask: PortQuestion, actions: &[Action]) -> Judgement {
    let mut trace = Vec::new();
    let answer = final_answer(actions, &mut trace);
    match ask {
        PortQuestion::Range => match key::port_range(subject) {
            Ok(range) => {
                trace.push(format!(
                    "core port: {subject} is in the {range} range (RFC 6335 §6)"
                ));
                compare(answer.map(|a| synonym(&a, RANGE_WORDS)), range, trace)
            }
            Err(e) => Judgement::fail("invalid-exercise", vec![e]),
        },
        PortQuestion::PortOfService => match key::service_port(subject) {
            Ok((port, transport)) => {
                trace.push(format!(
                    "core port: the service {subject} is registered on {port}/{transport}"
                ));
                let given = answer.map(|a| {
                    let c = canonical(&a);
                    c.split('/').next().unwrap_or_default().to_string()
                });
                compare(given, &port.to_string(), trace)
            }
            Err(e) => Judgement::fail("invalid-exercise", vec![e]),
        },
    }
}

pub(super) fn grade_hypervisor(subject: &str, actions: &[Action]) -> Judgement {
    let mut trace = Vec::new();
    let answer = final_answer(actions, &mut trace);
    match key::hypervisor(subject) {
        Ok(found) => {
            trace.push(format!(
                "core hypervisor: {} is {}: {}",
                found.name, found.kind, found.note
            ));
            compare(answer.map(|a| synonym(&a, TYPE_WORDS)), found.kind, trace)
        }
        Err(e) => Judgement::fail("invalid-exercise", vec![e]),
    }
}
