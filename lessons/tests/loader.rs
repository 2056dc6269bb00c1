//! The loader reports every problem of a broken lesson, each at its file, line and column.

use std::collections::BTreeMap;

use labvisor_lessons::{lint, load_lesson, LessonSource, Problem, Severity};

const GOOD: &str = r#"id = "ports"
title.en = "Ports"
title.ko = "포트"

[lab]
kind = "port-explorer"
description.en = "Look up ports."
description.ko = "포트를 찾아보세요."

[[exercises]]
id = "range-of-3306"
kind = "classify-port"
subject = "3306"
ask = "range"
prompt.en = "Which range?"
prompt.ko = "어느 범위?"
why.en = "Because."
why.ko = "그래서."
solution = [{ answer = "user" }]

[[exercises.hints]]
mistake = "answer:dynamic"
en = "Dynamic starts at 49152."
ko = "동적 포트는 49152부터입니다."

[[exercises.hints]]
mistake = "*"
en = "Boundaries: 1023/1024, 49151/49152."
ko = "경계: 1023/1024, 49151/49152."

[[exercises.attempts]]
name = "thinks it is dynamic"
actions = [{ answer = "dynamic" }]
mistake = "answer:dynamic"

[[exercises]]
id = "https-port"
kind = "classify-port"
subject = "https"
ask = "port-of-service"
prompt.en = "Which port?"
prompt.ko = "몇 번?"
why.en = "Because."
why.ko = "그래서."
solution = [{ answer = "443" }]

[[exercises.hints]]
mistake = "answer:80"
en = "80 is HTTP."
ko = "80은 HTTP입니다."

[[exercises.hints]]
mistake = "*"
en = "Look it up."
ko = "찾아보세요."

[[exercises.attempts]]
name = "plain http"
actions = [{ answer = "80" }]
mistake = "answer:80"
"#;

fn source(toml: &str, with_korean: bool) -> LessonSource {
    let mut files = BTreeMap::new();
    files.insert("lesson.toml".to_string(), toml.to_string());
    files.insert("en.md".to_string(), "# Ports\n".to_string());
    if with_korean {
        files.insert("ko.md".to_string(), "# 포트\n".to_string());
    }
    LessonSource {
        dir: "content/11-ports".into(),
        folder: "11-ports".into(),
        files,
    }
}

fn problems(toml: &str, with_korean: bool) -> Vec<String> {
    match load_lesson(&source(toml, with_korean)) {
        Ok(_) => Vec::new(),
        Err(found) => found.iter().map(Problem::to_string).collect(),
    }
}

#[test]
fn a_good_lesson_loads_and_replays_cleanly() {
    let lesson = load_lesson(&source(GOOD, true)).expect("the sample lesson is valid");
    assert_eq!(lesson.number, 11);
    assert_eq!(lesson.exercises.len(), 2);
    assert!(lint::replay(&lesson).is_empty());
}

#[test]
fn toml_syntax_errors_name_file_line_and_column() {
    let broken = GOOD.replace("subject = \"3306\"", "subject = 3306\"");
    let found = problems(&broken, true);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("content/11-ports/lesson.toml:13:"),
        "{found:?}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let broken = GOOD
        .replace(
            "kind = \"classify-port\"\nsubject = \"https\"",
            "kind = \"classify-portt\"\nsubject = \"https\"",
        )
        .replace("title.ko = \"포트\"\n", "")
        .replace("solution = [{ answer = \"user\" }]\n", "")
        .replace("prompt.ko = \"어느 범위?\"\n", "")
        .replace("kind = \"port-explorer\"", "kind = \"port-explorerr\"");
    let found = problems(&broken, false);
    let all = found.join("\n");
    assert!(
        all.contains("content/11-ports/ko.md: error: missing Korean translation"),
        "{all}"
    );
    assert!(all.contains("the title has no Korean text"), "{all}");
    assert!(all.contains("the prompt has no Korean text"), "{all}");
    assert!(all.contains("has no reference solution"), "{all}");
    assert!(
        all.contains("unknown lab kind \"port-explorerr\": expected one of address-explorer,"),
        "{all}"
    );
    assert!(
        all.contains("unknown exercise kind \"classify-portt\""),
        "{all}"
    );
    // The unknown kind is pointed at precisely: the `kind` value's line.
    let line = broken
        .lines()
        .position(|l| l.contains("classify-portt"))
        .unwrap()
        + 1;
    assert!(
        all.contains(&format!(
            "lesson.toml:{line}:8: error: exercise \"https-port\": unknown exercise kind"
        )),
        "{all}"
    );
}

#[test]
fn unknown_fields_and_misplaced_fields_are_errors() {
    let typo = GOOD.replace("ask = \"range\"", "aks = \"range\"");
    let all = problems(&typo, true).join("\n");
    assert!(all.contains("unknown field `aks`"), "{all}");

    let misplaced = GOOD.replace("ask = \"range\"", "ask = \"range\"\nvm-count = 3");
    let all = problems(&misplaced, true).join("\n");
    assert!(
        all.contains("`vm-count` has no meaning for kind \"classify-port\""),
        "{all}"
    );
}

#[test]
fn unknown_nodes_in_goals_and_steps_are_named() {
    let net = r#"
[[exercises]]
id = "fwd"
kind = "port-forward"
prompt.en = "x"
prompt.ko = "x"
why.en = "Because."
why.ko = "그래서."
solution = [{ add-forward = { name = "ssh", proto = "tcp", host-port = 2222, guest-ip = "10.0.2.5", guest-port = 22 } }]
network = { kind = "virtualbox", vms = [{ name = "vm1", nics = ["nat-network"] }] }
goals = [{ from = "internt", to = "vm2", proto = "tcp", port = 22 }]

[[exercises.hints]]
mistake = "*"
en = "x"
ko = "x"

[[exercises.hints]]
mistake = "missing-rule"
en = "x"
ko = "x"

[[exercises.attempts]]
name = "nothing"
actions = [{ set-mode = { vm = "vm3", nic = 1, mode = "nat" } }]
mistake = "missing-rule"
"#;
    let all = problems(&format!("{GOOD}{net}"), true).join("\n");
    assert!(all.contains("goal names unknown node \"internt\""), "{all}");
    assert!(all.contains("goal names unknown node \"vm2\""), "{all}");
    assert!(
        all.contains("`set-mode` is not a step of kind \"port-forward\""),
        "{all}"
    );
}

#[test]
fn an_attempt_without_its_own_hint_and_a_wrong_solution_are_caught() {
    let no_hint = GOOD.replace(
        "mistake = \"answer:dynamic\"\nen",
        "mistake = \"answer:system\"\nen",
    );
    let all = problems(&no_hint, true).join("\n");
    assert!(
        all.contains("expects the mistake \"answer:dynamic\", which has no hint of its own"),
        "{all}"
    );

    let unreachable = GOOD.replace(
        "solution = [{ answer = \"user\" }]",
        "solution = [{ answer = \"system\" }]",
    );
    let lesson = load_lesson(&source(&unreachable, true)).expect("loads; only replay finds it");
    let replayed = lint::replay(&lesson);
    assert_eq!(replayed.len(), 1, "{replayed:?}");
    assert_eq!(replayed[0].severity, Severity::Error);
    assert!(
        replayed[0].message.contains("unreachable goal"),
        "{}",
        replayed[0]
    );
}

#[test]
fn engine_exercises_are_replayed_through_their_engine() {
    let disk = r#"
[[exercises]]
id = "restore"
kind = "disk-restore"
vm = "web"
lives-on = "ssd"
disks = ["ssd", "nas"]
prompt.en = "x"
prompt.ko = "x"
why.en = "Because."
why.ko = "그래서."
solution = [{ backup = { vm = "web", to = "nas" } }, "host-disk-fails", { restore = { vm = "web", from = "nas" } }]

[[exercises.hints]]
mistake = "*"
en = "x"
ko = "x"

[[exercises.hints]]
mistake = "no-copy"
en = "x"
ko = "x"

[[exercises.attempts]]
name = "nothing"
actions = ["host-disk-fails"]
mistake = "no-copy"
"#;
    let lesson = load_lesson(&source(&format!("{GOOD}{disk}"), true)).expect("valid");
    // The disk engine grades it: the reference passes and the attempt fails as declared.
    assert!(
        lint::replay(&lesson).is_empty(),
        "{:?}",
        lint::replay(&lesson)
    );
    let wrong = disk.replace(
        "actions = [\"host-disk-fails\"]",
        "actions = [{ snapshot = { vm = \"web\" } }]",
    );
    let lesson = load_lesson(&source(&format!("{GOOD}{wrong}"), true)).expect("valid");
    let problems = lint::replay(&lesson);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .message
            .contains("fails with mistake \"failure-not-simulated\", expected \"no-copy\""),
        "{}",
        problems[0]
    );
}

const BROKEN_LAB: &str = r#"
[[exercises]]
id = "fix-forward"
kind = "port-forward"
prompt.en = "x"
prompt.ko = "x"
why.en = "Because."
why.ko = "그래서."
setup = [{ add-forward = { name = "ssh", proto = "tcp", host-port = 2222, guest-port = 22, vm = "vm1" } }]
solution = [{ remove-forward = { name = "ssh" } }, { add-forward = { name = "ssh", proto = "tcp", host-port = 2222, guest-port = 22, vm = "vm2" } }]
network = { kind = "virtualbox", vms = [{ name = "vm1", nics = ["nat"], listens = ["tcp/22"] }, { name = "vm2", nics = ["nat"], listens = ["tcp/22"] }] }
goals = [{ from = "host", dial = "127.0.0.1:2222", to = "vm2", proto = "tcp", port = 22 }]

[[exercises.hints]]
mistake = "*"
en = "x"
ko = "x"

[[exercises.hints]]
mistake = "wrong-guest-ip"
en = "x"
ko = "x"

[[exercises.attempts]]
name = "nothing"
actions = []
mistake = "wrong-guest-ip"
"#;

#[test]
fn a_broken_labs_setup_is_replayed_before_the_learners_steps() {
    let lesson = load_lesson(&source(&format!("{GOOD}{BROKEN_LAB}"), true)).expect("valid");
    assert!(
        lint::replay(&lesson).is_empty(),
        "{:?}",
        lint::replay(&lesson)
    );
    let fix = lesson.exercise("fix-forward").expect("loaded");
    let as_found = labvisor_lessons::grade(fix, &[]);
    assert_eq!(as_found.mistake.as_deref(), Some("wrong-guest-ip"));
    assert!(as_found.trace[0].contains("step 1 was taken before you"));
}

#[test]
fn a_setup_is_checked_like_steps_and_must_leave_the_lab_broken() {
    let unknown_vm = BROKEN_LAB.replacen(
        "vm = \"vm1\" } }]\nsolution",
        "vm = \"vm9\" } }]\nsolution",
        1,
    );
    let all = problems(&format!("{GOOD}{unknown_vm}"), true).join("\n");
    assert!(
        all.contains("content/11-ports/lesson.toml:")
            && all.contains("the setup, step 1: rule \"ssh\" is for unknown VM \"vm9\""),
        "{all}"
    );
    let on_an_answer = GOOD.replacen(
        "solution = [{ answer = \"user\" }]",
        "solution = [{ answer = \"user\" }]\nsetup = [{ answer = \"system\" }]",
        1,
    );
    let all = problems(&on_an_answer, true).join("\n");
    assert!(all.contains("`setup` needs an exercise of steps"), "{all}");
    let not_broken = BROKEN_LAB.replacen(
        "vm = \"vm1\" } }]\nsolution",
        "vm = \"vm2\" } }]\nsolution",
        1,
    );
    let lesson = load_lesson(&source(&format!("{GOOD}{not_broken}"), true)).expect("loads");
    let replayed: Vec<String> = lint::replay(&lesson)
        .iter()
        .map(Problem::to_string)
        .collect();
    assert!(
        replayed
            .iter()
            .any(|p| p.contains("the setup's lab is not broken")),
        "{replayed:?}"
    );
}

#[test]
fn a_network_lab_must_name_an_example_with_a_goal_and_no_other_lab_may() {
    let net = GOOD.replace("kind = \"port-explorer\"", "kind = \"net-trace\"");
    let all = problems(&net, true).join("\n");
    assert!(all.contains("a network lab needs scenario = "), "{all}");

    let unknown = net.replace("[lab]\n", "[lab]\nscenario = \"nowhere\"\n");
    let all = problems(&unknown, true).join("\n");
    assert!(all.contains("unknown scenario \"nowhere\""), "{all}");

    let no_goal = net.replace("[lab]\n", "[lab]\nscenario = \"home-router\"\n");
    let all = problems(&no_goal, true).join("\n");
    assert!(all.contains("has no [goal]"), "{all}");

    let good = net.replace("[lab]\n", "[lab]\nscenario = \"forward-to-vm2\"\n");
    assert_eq!(problems(&good, true), Vec::<String>::new());

    let misplaced = GOOD.replace("[lab]\n", "[lab]\nscenario = \"forward-to-vm2\"\n");
    let all = problems(&misplaced, true).join("\n");
    assert!(all.contains("only a network lab"), "{all}");
}

#[test]
fn an_exercise_needs_its_why_and_a_ladder_in_both_languages() {
    let no_why = GOOD.replacen("why.en = \"Because.\"\nwhy.ko = \"그래서.\"\n", "", 1);
    let all = problems(&no_why, true).join("\n");
    assert!(
        all.contains("exercise \"range-of-3306\": has no `why`"),
        "{all}"
    );

    let ladder = GOOD.replacen(
        "[[exercises.attempts]]",
        "[[exercises.ladder]]\nen = \"Where are the boundaries?\"\n\n[[exercises.attempts]]",
        1,
    );
    let all = problems(&ladder, true).join("\n");
    assert!(
        all.contains("hint 1 of the ladder has no Korean text"),
        "{all}"
    );
}

#[test]
fn a_minimum_disk_size_that_does_not_read_is_named_at_its_line() {
    let lesson = include_str!("../content/07-disk-allocation/lesson.toml");
    let broken = lesson.replacen(
        "min-disk-size = \"128G\"",
        "min-disk-size = \"128 apples\"",
        1,
    );
    let mut files = BTreeMap::new();
    files.insert("lesson.toml".to_string(), broken.clone());
    for prose in ["en.md", "ko.md"] {
        files.insert(prose.to_string(), "# 7\n".to_string());
    }
    let source = LessonSource {
        dir: "content/07-disk-allocation".into(),
        folder: "07-disk-allocation".into(),
        files,
    };
    let found: Vec<String> = match load_lesson(&source) {
        Ok(_) => Vec::new(),
        Err(found) => found.iter().map(Problem::to_string).collect(),
    };
    let line = broken
        .lines()
        .position(|l| l.contains("128 apples"))
        .unwrap()
        + 1;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(&format!("content/07-disk-allocation/lesson.toml:{line}:"))
            && found[0].contains("`min-disk-size`: "),
        "{found:?}"
    );
}
