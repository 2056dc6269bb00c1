//! Follow-up questions aimed at a mistake: when a wrong answer shows a named misconception
//! ("1024–49151 are unknown ports", "172.32.x is private", "100.64.x is private"), the next
//! questions probe exactly the boundary it misplaces (1023/1024, 49151/49152, 172.31/172.32,
//! 100.63/100.64), until two are answered right.
//!
//! Each question is an ordinary classify exercise, graded by the same grader against the
//! core's key. The sequence is a pure function of the exercise and how many follow-ups were
//! asked: no randomness, so the CLI (stateless, the count on its command line) and the
//! browser (the count in the page's state) ask the same questions.

use std::net::Ipv4Addr;

use labvisor_core::lang::Bilingual;
use serde::{Deserialize, Serialize};

use crate::grade::Grade;
use crate::model::{AddressQuestion, Exercise, Hint, PortQuestion, Spec};

/// Right answers in a row that end the follow-ups.
pub const RIGHT_TO_FINISH: u32 = 2;

/// A misconception a wrong answer can show, and the boundary its follow-ups probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Misconception {
    /// "1024–49151 are unknown ports": RFC 6335 calls them user (registered) ports.
    UnknownPorts,
    /// Where the system (well-known) ports end: 1023 is system, 1024 user.
    SystemPortsEnd,
    /// Where the dynamic ports begin: 49151 is user, 49152 dynamic.
    DynamicPortsBegin,
    /// "172.32.x is private": RFC 1918's 172.16.0.0/12 ends at 172.31.255.255.
    Private172,
    /// "100.64.x is private": it is RFC 6598's shared address space (CGNAT), not RFC 1918.
    Shared100,
}

impl Misconception {
    /// Its name as the CLI takes it, e.g. `unknown-ports`.
    pub fn name(self) -> &'static str {
        match self {
            Misconception::UnknownPorts => "unknown-ports",
            Misconception::SystemPortsEnd => "system-ports-end",
            Misconception::DynamicPortsBegin => "dynamic-ports-begin",
            Misconception::Private172 => "private-172",
            Misconception::Shared100 => "shared-100",
        }
    }

    /// The misconception called `name`.
    pub fn from_name(name: &str) -> Option<Misconception> {
        [
            Misconception::UnknownPorts,
            Misconception::SystemPortsEnd,
            Misconception::DynamicPortsBegin,
            Misconception::Private172,
            Misconception::Shared100,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }

    /// What the learner seems to believe, and the fact, in both languages.
    pub fn explain(self) -> Bilingual {
        match self {
            Misconception::UnknownPorts => Bilingual::new(
                "\"Unknown ports\" is not a range: RFC 6335 splits 1024–65535 into user (registered) ports, 1024–49151, and dynamic (private) ports, 49152–65535. Let us check the two boundaries.",
                "\"unknown port\"라는 범위는 없습니다. RFC 6335는 1024–65535를 사용자(등록) 포트 1024–49151과 동적(사설) 포트 49152–65535로 나눕니다. 두 경계를 확인해 봅시다.",
            ),
            Misconception::SystemPortsEnd => Bilingual::new(
                "The system (well-known) ports are 0–1023; user ports start at 1024. Let us check that boundary.",
                "시스템(well-known) 포트는 0–1023이고, 사용자 포트는 1024부터입니다. 그 경계를 확인해 봅시다.",
            ),
            Misconception::DynamicPortsBegin => Bilingual::new(
                "User ports end at 49151; the dynamic ports are 49152–65535. Let us check that boundary.",
                "사용자 포트는 49151에서 끝나고, 동적 포트는 49152–65535입니다. 그 경계를 확인해 봅시다.",
            ),
            Misconception::Private172 => Bilingual::new(
                "RFC 1918's block is 172.16.0.0/12: 172.16.0.0 to 172.31.255.255. 172.32.0.0 and above are public. Let us check that boundary.",
                "RFC 1918의 블록은 172.16.0.0/12, 즉 172.16.0.0부터 172.31.255.255까지입니다. 172.32.0.0부터는 공인 주소입니다. 그 경계를 확인해 봅시다.",
            ),
            Misconception::Shared100 => Bilingual::new(
                "100.64.0.0/10 is not RFC 1918 private space: it is RFC 6598's shared address space, for carrier-grade NAT. Below it, 100.63.255.255 is public. Let us check that boundary.",
                "100.64.0.0/10은 RFC 1918 사설 주소가 아니라 RFC 6598의 공유 주소 공간(통신사 CGNAT용)입니다. 그 바로 아래 100.63.255.255는 공인 주소입니다. 그 경계를 확인해 봅시다.",
            ),
        }
    }

    /// The values on both sides of the boundary, asked in turn.
    fn sides(self) -> &'static [Side] {
        use Side::{Address, Port};
        match self {
            Misconception::UnknownPorts => &[Port(1023), Port(1024), Port(49151), Port(49152)],
            Misconception::SystemPortsEnd => &[Port(1023), Port(1024)],
            Misconception::DynamicPortsBegin => &[Port(49151), Port(49152)],
            Misconception::Private172 => &[Address(172, 31), Address(172, 32)],
            Misconception::Shared100 => &[Address(100, 63), Address(100, 64)],
        }
    }
}

/// One side of a boundary: a port, or the first two octets of an address.
#[derive(Clone, Copy)]
enum Side {
    Port(u16),
    Address(u8, u8),
}

/// The misconception `grade` shows on `exercise`, if it names one.
pub fn misconception(exercise: &Exercise, grade: &Grade) -> Option<Misconception> {
    let given = grade.mistake.as_deref()?.strip_prefix("answer:")?;
    match &exercise.spec {
        Spec::ClassifyPort {
            subject,
            ask: PortQuestion::Range,
        } => {
            let port: u32 = subject.trim().parse().ok()?;
            Some(match given {
                "system" | "user" if port < 1024 || given == "system" => {
                    Misconception::SystemPortsEnd
                }
                "user" | "dynamic" => Misconception::DynamicPortsBegin,
                _ if given.contains("unknown") => Misconception::UnknownPorts,
                _ => return None,
            })
        }
        Spec::ClassifyAddress {
            subject,
            ask: AddressQuestion::Scope,
        } => {
            let [a, b, ..] = subject.trim().parse::<Ipv4Addr>().ok()?.octets();
            let straddles = matches!(given, "private" | "public" | "shared");
            match (a, b) {
                (172, 12..=47) if straddles => Some(Misconception::Private172),
                (100, 56..=127) if straddles => Some(Misconception::Shared100),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Follow-up number `asked` (from 0) for `misconception`, shown after a wrong answer to
/// `exercise`: a classify exercise on one side of the boundary, graded by the usual grader.
/// Deterministic: the side and the address's host part come from the exercise's id and
/// `asked`.
pub fn question(exercise: &Exercise, misconception: Misconception, asked: u32) -> Exercise {
    let seed: u32 = exercise.id.bytes().map(u32::from).sum();
    let sides = misconception.sides();
    let side = sides[(seed.wrapping_add(asked) as usize) % sides.len()];
    let mix = seed.wrapping_mul(31).wrapping_add(asked.wrapping_mul(97));
    let (spec, prompt) = match side {
        Side::Port(port) => (
            Spec::ClassifyPort {
                subject: port.to_string(),
                ask: PortQuestion::Range,
            },
            Bilingual::new(
                format!("Follow-up: which RFC 6335 range is port {port} in: `system`, `user` or `dynamic`?"),
                format!("이어서: 포트 {port}번은 RFC 6335의 어느 범위인가요: `system`, `user`, `dynamic`?"),
            ),
        ),
        Side::Address(a, b) => {
            let address = Ipv4Addr::new(a, b, (mix % 256) as u8, (mix % 253 + 1) as u8);
            (
                Spec::ClassifyAddress {
                    subject: address.to_string(),
                    ask: AddressQuestion::Scope,
                },
                Bilingual::new(
                    format!("Follow-up: what is the scope of {address}: `public`, `private` or `shared`?"),
                    format!("이어서: 주소 {address}의 범위는 `public`, `private`, `shared` 중 무엇인가요?"),
                ),
            )
        }
    };
    let explained = misconception.explain();
    Exercise {
        id: format!("{}/follow-up-{}", exercise.id, asked + 1),
        prompt,
        spec,
        ladder: Vec::new(),
        hints: vec![Hint {
            mistake: "*".into(),
            en: explained.en,
            ko: explained.ko,
        }],
        solution: Vec::new(),
        attempts: Vec::new(),
        why: None,
        setup: Vec::new(),
        accepts: Vec::new(),
        course_vm: None,
        location: Default::default(),
    }
}

/// Where a learner is in a run of follow-ups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Follow-ups asked so far.
    pub asked: u32,
    /// Right answers in a row.
    pub right: u32,
}

impl Progress {
    /// The progress after the current follow-up was graded.
    pub fn after(self, passed: bool) -> Progress {
        Progress {
            asked: self.asked.saturating_add(1),
            right: if passed { self.right + 1 } else { 0 },
        }
    }

    /// Whether the boundary is learnt: two right answers in a row.
    pub fn finished(self) -> bool {
        self.right >= RIGHT_TO_FINISH
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::{curriculum, grade};

    fn exercise(lesson: &str, id: &str) -> &'static Exercise {
        curriculum()
            .expect("embedded lessons load")
            .find(lesson)
            .and_then(|l| l.exercise(id))
            .expect("exercise exists")
    }

    fn answer(ex: &Exercise, text: &str) -> Grade {
        grade(ex, &[Action::Answer(text.into())])
    }

    #[test]
    fn named_misconceptions_are_recognised_from_the_wrong_answer() {
        let ex = exercise("ports", "range-of-3306");
        let unknown = answer(ex, "unknown");
        assert_eq!(
            misconception(ex, &unknown),
            Some(Misconception::UnknownPorts)
        );
        let system = answer(ex, "well-known");
        assert_eq!(
            misconception(ex, &system),
            Some(Misconception::SystemPortsEnd)
        );
        assert_eq!(misconception(ex, &answer(ex, "user")), None, "right answer");
        let edge = exercise("public-private-ip", "edge-of-172");
        let wrong = answer(edge, "private");
        assert_eq!(misconception(edge, &wrong), Some(Misconception::Private172));
        let cgnat = exercise("public-private-ip", "cgnat");
        let wrong = answer(cgnat, "private");
        assert_eq!(misconception(cgnat, &wrong), Some(Misconception::Shared100));
    }

    #[test]
    fn follow_ups_probe_both_sides_of_the_boundary_deterministically() {
        let ex = exercise("public-private-ip", "edge-of-172");
        let first: Vec<Exercise> = (0..4)
            .map(|n| question(ex, Misconception::Private172, n))
            .collect();
        let again: Vec<Exercise> = (0..4)
            .map(|n| question(ex, Misconception::Private172, n))
            .collect();
        let subjects = |qs: &[Exercise]| -> Vec<String> {
            qs.iter()
                .map(|q| match &q.spec {
                    Spec::ClassifyAddress { subject, .. } => subject.clone(),
                    other => panic!("{other:?}"),
                })
                .collect()
        };
        assert_eq!(subjects(&first), subjects(&again));
        let s = subjects(&first);
        assert!(s.iter().any(|a| a.starts_with("172.31.")), "{s:?}");
        assert!(s.iter().any(|a| a.starts_with("172.32.")), "{s:?}");
        // The core's key decides: 172.31.x is private, 172.32.x public.
        for q in &first {
            let (right, wrong) = match &q.spec {
                Spec::ClassifyAddress { subject, .. } if subject.starts_with("172.31.") => {
                    ("private", "public")
                }
                _ => ("public", "private"),
            };
            assert!(answer(q, right).passed(), "{}", q.id);
            assert!(!answer(q, wrong).passed(), "{}", q.id);
        }
    }

    #[test]
    fn two_right_answers_in_a_row_finish_and_a_wrong_one_starts_over() {
        let mut p = Progress::default();
        p = p.after(true);
        assert!(!p.finished());
        p = p.after(false);
        assert_eq!(p, Progress { asked: 2, right: 0 });
        p = p.after(true).after(true);
        assert!(p.finished());
        assert_eq!(p.asked, 4);
    }

    #[test]
    fn port_follow_ups_cover_both_port_boundaries() {
        let ex = exercise("ports", "range-of-3306");
        let ports: Vec<String> = (0..4)
            .map(
                |n| match question(ex, Misconception::UnknownPorts, n).spec {
                    Spec::ClassifyPort { subject, .. } => subject,
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        for p in ["1023", "1024", "49151", "49152"] {
            assert!(ports.iter().any(|x| x == p), "{ports:?}");
        }
    }
}
