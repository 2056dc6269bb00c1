//! Grading: replay a learner's steps against an exercise and decide, deterministically, whether
//! the goal is reached; if not, name the mistake (so the hint written for it can be shown) and
//! keep a trace of how the decision was made.
//!
//! Answer keys come from [`crate::key`], i.e. from the core model; a lesson file only says what
//! is asked.

use serde::Serialize;

use crate::action::Action;
use crate::key;
use crate::model::*;
use labvisor_core::lang::Bilingual;

/// The outcome of grading one attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grade {
    /// Pass, fail, or cannot be graded in this build.
    pub verdict: Verdict,
    /// The mistake the grader recognised (a hint key such as `wrong-guest-port`); `None` on pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mistake: Option<String>,
    /// The hint for that mistake, in both languages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<Bilingual>,
    /// How the decision was made, one line per step.
    pub trace: Vec<String>,
}

impl Grade {
    /// Whether the attempt reached the goal.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }
}

/// Whether an attempt reached the goal. In JSON: `"pass"`, `"fail"`, or
/// `{"needs-engine": "net"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The goal is reached.
    Pass,
    /// The goal is not reached; see the mistake and the hint.
    Fail,
    /// Grading this kind needs an engine this build does not have yet.
    NeedsEngine(Engine),
}

/// What a kind's grader decided, before the hint is looked up.
pub(crate) struct Judgement {
    mistake: Option<String>,
    trace: Vec<String>,
}

impl Judgement {
    pub(crate) fn pass(trace: Vec<String>) -> Judgement {
        Judgement {
            mistake: None,
            trace,
        }
    }

    pub(crate) fn fail(mistake: impl Into<String>, trace: Vec<String>) -> Judgement {
        Judgement {
            mistake: Some(mistake.into()),
            trace,
        }
    }
}

/// Grades `actions` against `exercise`. Pure and deterministic: the same log always gets the
/// same grade, trace included.
pub fn grade(exercise: &Exercise, actions: &[Action]) -> Grade {
    if let Some(engine) = exercise.engine().filter(|e| !e.available()) {
        return Grade {
            verdict: Verdict::NeedsEngine(engine),
            mistake: None,
            hint: None,
            trace: vec![format!(
                "kind {:?} is graded by simulating it in {}, which this build does not include yet; {} step(s) not replayed",
                exercise.spec.kind().name(),
                engine.module(),
                actions.len()
            )],
        };
    }
    let judgement = match &exercise.spec {
        Spec::Choice { options, correct } => choice(options, correct, actions),
        Spec::ClassifyAddress { subject, ask } => classify_address(subject, *ask, actions),
        Spec::ClassifyPort { subject, ask } => classify_port(subject, *ask, actions),
        Spec::ClassifyHypervisor { subject } => classify_hypervisor(subject, actions),
        Spec::HostReserve {
            host,
            reserve_percent,
            ask,
        } => host_reserve(host, *reserve_percent, *ask, actions),
        Spec::HostSizing {
            host,
            reserve_percent,
            vm_count,
        } => host_sizing(host, *reserve_percent, *vm_count, actions),
        Spec::NatSource { network } => {
            let mut trace = Vec::new();
            let answer = final_answer(actions, &mut trace);
            crate::netgrade::nat_source(network, answer, trace)
        }
        Spec::NetMode { network, goals } => crate::netgrade::net_mode(network, goals, actions),
        Spec::PortForward { network, goals } => {
            crate::netgrade::port_forward(network, goals, actions)
        }
        Spec::DiskFit { host_disk, vms } => crate::diskgrade::disk_fit(host_disk, vms, actions),
        Spec::DiskCompact {
            image,
            target_allocated,
        } => crate::diskgrade::disk_compact(image, target_allocated, actions),
        Spec::DiskRestore {
            vm,
            lives_on,
            disks,
        } => crate::diskgrade::disk_restore(vm, lives_on, disks, actions),
    };
    match judgement.mistake {
        None => Grade {
            verdict: Verdict::Pass,
            mistake: None,
            hint: None,
            trace: judgement.trace,
        },
        Some(mistake) => Grade {
            verdict: Verdict::Fail,
            hint: exercise.hint_for(&mistake).map(Hint::text),
            mistake: Some(mistake),
            trace: judgement.trace,
        },
    }
}

/// The learner's final answer (the last `answer` step counts) and the trace of all of them.
fn final_answer(actions: &[Action], trace: &mut Vec<String>) -> Option<String> {
    let mut last = None;
    for (i, action) in actions.iter().enumerate() {
        match action {
            Action::Answer(text) => {
                trace.push(format!("step {}: answer {text:?}", i + 1));
                last = Some(text.clone());
            }
            other => trace.push(format!(
                "step {}: `{}` ignored: this exercise takes an answer",
                i + 1,
                other.name()
            )),
        }
    }
    if last.is_none() {
        trace.push("no answer given".into());
    }
    last
}

/// ASCII-lowercased (answers are ids and English words; Hangul has no case), trimmed, inner whitespace and underscores as single dashes.
fn canonical(text: &str) -> String {
    text.trim()
        .to_ascii_lowercase()
        .split(|c: char| c.is_whitespace() || c == '_')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Maps what learners write (in English or Korean) to the key's spelling.
fn synonym(text: &str, table: &[(&str, &[&str])]) -> String {
    let c = canonical(text);
    for (key, words) in table {
        if c == *key || words.contains(&c.as_str()) {
            return (*key).to_string();
        }
    }
    c
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

fn compare(answer: Option<String>, key: &str, mut trace: Vec<String>) -> Judgement {
    match answer {
        None => Judgement::fail("no-answer", trace),
        Some(given) if given == key => {
            trace.push(format!("{given:?} matches the key: correct"));
            Judgement::pass(trace)
        }
        Some(given) => {
            trace.push(format!("{given:?} does not match the key"));
            Judgement::fail(format!("answer:{given}"), trace)
        }
    }
}

fn choice(options: &[ChoiceOption], correct: &str, actions: &[Action]) -> Judgement {
    let mut trace = Vec::new();
    let answer = final_answer(actions, &mut trace).map(|raw| {
        let c = canonical(&raw);
        // "2" picks the second option, as a learner clicking it would.
        match c.parse::<usize>() {
            Ok(n) if (1..=options.len()).contains(&n) => options[n - 1].id.clone(),
            _ => c,
        }
    });
    if let Some(given) = &answer {
        if !options.iter().any(|o| &o.id == given) {
            trace.push(format!("{given:?} is none of the options"));
        }
    }
    compare(answer, correct, trace)
}

fn classify_address(subject: &str, ask: AddressQuestion, actions: &[Action]) -> Judgement {
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

fn classify_port(subject: &str, ask: PortQuestion, actions: &[Action]) -> Judgement {
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

fn classify_hypervisor(subject: &str, actions: &[Action]) -> Judgement {
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

fn host_reserve(
    host: &HostSpec,
    percent: u8,
    ask: ReserveQuestion,
    actions: &[Action],
) -> Judgement {
    let mut trace = Vec::new();
    let answer = final_answer(actions, &mut trace);
    let (cpus, ram) = match key::host_reserve(host.cpus, host.ram_mib, percent) {
        Ok(reserve) => reserve,
        Err(e) => return Judgement::fail("invalid-exercise", vec![e]),
    };
    let (total, reserve, unit) = match ask {
        ReserveQuestion::Cpus => (u64::from(host.cpus), cpus, "CPUs"),
        ReserveQuestion::RamMib => (host.ram_mib, ram, "MiB"),
    };
    trace.push(format!(
        "core sizing: {percent} % of {total} {unit} rounded up = {reserve} {unit} for the host, {} for VMs",
        total - reserve
    ));
    let Some(raw) = answer else {
        return Judgement::fail("no-answer", trace);
    };
    let digits: String = canonical(&raw)
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let Ok(given) = digits.parse::<u64>() else {
        trace.push(format!("{raw:?} is not a number"));
        return Judgement::fail("not-a-number", trace);
    };
    if given == reserve {
        trace.push(format!("{given} matches the key: correct"));
        return Judgement::pass(trace);
    }
    trace.push(format!("{given} does not match the key"));
    let exact_floor = total * u64::from(percent) / 100;
    let mistake = if given == exact_floor {
        "rounded-down".to_string()
    } else if given == total - reserve {
        "answered-vm-share".to_string()
    } else {
        format!("answer:{given}")
    };
    Judgement::fail(mistake, trace)
}

fn host_sizing(host: &HostSpec, percent: u8, vm_count: u32, actions: &[Action]) -> Judgement {
    let mut trace = Vec::new();
    let mut vms: Vec<key::VmAsk> = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        match action {
            Action::AddVm {
                name,
                vcpus,
                ram_mib,
            } => {
                trace.push(format!(
                    "step {}: add {name}: {vcpus} vCPU, {ram_mib} MiB",
                    i + 1
                ));
                if vms.iter().any(|v| &v.name == name) {
                    trace.push(format!("a VM called {name:?} is already planned"));
                    return Judgement::fail("duplicate-vm", trace);
                }
                if *vcpus == 0 || *ram_mib == 0 {
                    trace.push(format!("{name} has no CPU or no memory"));
                    return Judgement::fail("empty-vm", trace);
                }
                vms.push(key::VmAsk {
                    name: name.clone(),
                    vcpus: *vcpus,
                    ram_mib: *ram_mib,
                });
            }
            other => trace.push(format!("step {}: `{}` ignored", i + 1, other.name())),
        }
    }
    let plan = match key::plan(host.cpus, host.ram_mib, percent, &vms) {
        Ok(plan) => plan,
        Err(e) => {
            trace.push(format!("core sizing: {e}"));
            return Judgement::fail("invalid-plan", trace);
        }
    };
    trace.push(format!(
        "core sizing: host {} CPUs, {} MiB; reserve {percent} % rounded up = {} CPUs, {} MiB; left for VMs {} CPUs, {} MiB",
        host.cpus, host.ram_mib, plan.reserve.0, plan.reserve.1, plan.available.0, plan.available.1
    ));
    trace.push(format!(
        "requested: {} VMs, {} vCPUs, {} MiB",
        vms.len(),
        plan.requested.0,
        plan.requested.1
    ));
    trace.extend(plan.notes.iter().map(|n| format!("core sizing: {n}")));
    if vms.len() != vm_count as usize {
        trace.push(format!(
            "the plan holds {} VMs, the task asks for {vm_count}",
            vms.len()
        ));
        return Judgement::fail("wrong-vm-count", trace);
    }
    if plan.ram_overcommit {
        return Judgement::fail("ram-overcommit", trace);
    }
    if plan.cpu_overcommit {
        return Judgement::fail("cpu-overcommit", trace);
    }
    trace.push("fits, with the host's reserve intact: correct".into());
    Judgement::pass(trace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curriculum;

    fn exercise(lesson: &str, id: &str) -> &'static Exercise {
        curriculum()
            .expect("embedded lessons load")
            .find(lesson)
            .and_then(|l| l.exercise(id))
            .expect("exercise exists")
    }

    fn answer(text: &str) -> Vec<Action> {
        vec![Action::Answer(text.into())]
    }

    #[test]
    fn korean_and_textbook_synonyms_are_accepted() {
        let range = exercise("ports", "range-of-3306");
        for given in ["user", "Registered", "등록된 포트", "사용자"] {
            assert!(grade(range, &answer(given)).passed(), "{given}");
        }
        let kvm = exercise("hypervisors", "kvm-type");
        for given in ["type-1", "Type 1", "bare-metal", "타입 1", "베어메탈"] {
            assert!(grade(kvm, &answer(given)).passed(), "{given}");
        }
        let class = exercise("public-private-ip", "class-of-home-pc");
        for given in ["C", "class C", "클래스 C"] {
            assert!(grade(class, &answer(given)).passed(), "{given}");
        }
    }

    #[test]
    fn the_last_answer_counts_and_options_can_be_picked_by_number() {
        let ex = exercise("virtualbox-network-modes", "host-reaches-vm");
        let changed_mind = vec![
            Action::Answer("nat".into()),
            Action::Answer("host-only".into()),
        ];
        assert!(grade(ex, &changed_mind).passed());
        assert!(grade(ex, &answer("3")).passed());
        assert_eq!(
            grade(ex, &answer("1")).mistake.as_deref(),
            Some("answer:nat")
        );
    }

    #[test]
    fn a_wrong_answer_gets_the_hint_written_for_it_and_others_the_catch_all() {
        let ex = exercise("ports", "range-of-3306");
        let unknown = grade(ex, &answer("unknown"));
        assert_eq!(unknown.verdict, Verdict::Fail);
        assert!(unknown.hint.unwrap().en.contains("not a standard term"));
        let system = grade(ex, &answer("well-known"));
        assert_eq!(system.mistake.as_deref(), Some("answer:system"));
        assert!(system.hint.unwrap().en.contains("end at 1023"));
        let nonsense = grade(ex, &answer("banana"));
        assert_eq!(nonsense.mistake.as_deref(), Some("answer:banana"));
        assert!(nonsense.hint.unwrap().en.contains("boundaries"));
        let silent = grade(ex, &[]);
        assert_eq!(silent.mistake.as_deref(), Some("no-answer"));
    }

    #[test]
    fn sizing_rejects_a_seventh_vm_and_duplicates() {
        let ex = exercise("host-sizing", "six-vms-on-eight-cores");
        let mut plan: Vec<Action> = ex.solution.clone();
        plan.push(Action::AddVm {
            name: "vm7".into(),
            vcpus: 1,
            ram_mib: 512,
        });
        assert_eq!(grade(ex, &plan).mistake.as_deref(), Some("wrong-vm-count"));
        let mut dup = ex.solution.clone();
        dup[5] = dup[0].clone();
        assert_eq!(grade(ex, &dup).mistake.as_deref(), Some("duplicate-vm"));
    }

    #[test]
    fn grading_is_deterministic() {
        let ex = exercise("host-sizing", "six-vms-on-eight-cores");
        assert_eq!(
            grade(ex, &ex.attempts[0].actions),
            grade(ex, &ex.attempts[0].actions)
        );
    }
}
