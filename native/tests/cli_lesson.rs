//! `labvisor lesson …` as a user runs it: stdout, stderr and exit status, snapshotted.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A progress file no test writes: a lesson that continues the course VM starts from the
/// default, and no test touches the user's own progress file.
fn untouched_progress() -> PathBuf {
    std::env::temp_dir().join(format!(
        "labvisor-cli-lesson-{}/never-written.json",
        std::process::id()
    ))
}

fn run(args: &[&str], lang: &str, stdin: Option<&str>) -> String {
    run_with(args, lang, stdin, &untouched_progress())
}

/// Runs `labvisor` with `$LABVISOR_PROGRESS` at `progress`, written as `PROGRESS` in the output.
fn run_with(args: &[&str], lang: &str, stdin: Option<&str>, progress: &Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(args)
        .env("LANG", lang)
        .env_remove("LC_ALL")
        .env("LABVISOR_PROGRESS", progress)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the labvisor binary starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("writes stdin");
    }
    let out = child.wait_with_output().expect("labvisor finishes");
    format!(
        "status: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .replace(&progress.display().to_string(), "PROGRESS")
}

#[test]
fn list_in_both_languages() {
    insta::assert_snapshot!("list_en", run(&["lesson", "list"], "en_US.UTF-8", None));
    insta::assert_snapshot!("list_ko", run(&["lesson", "list"], "ko_KR.UTF-8", None));
}

#[test]
fn show_renders_prose_tables_lab_and_exercises() {
    insta::assert_snapshot!(
        "show_ports_ko",
        run(
            &["lesson", "show", "11", "--lang", "ko"],
            "en_US.UTF-8",
            None
        )
    );
    insta::assert_snapshot!("show_nat_en", run(&["lesson", "show", "nat"], "C", None));
}

#[test]
fn solve_output_passes_check_and_a_wrong_answer_gets_its_hint() {
    let solution = run(&["lesson", "solve", "ports", "range-of-3306"], "C", None);
    insta::assert_snapshot!("solve_ports", solution);
    let log = solution
        .split("--- stdout\n")
        .nth(1)
        .and_then(|s| s.split("--- stderr").next())
        .expect("stdout section");
    insta::assert_snapshot!(
        "check_pass_json",
        run(
            &[
                "lesson",
                "check",
                "ports",
                "range-of-3306",
                "--actions",
                "-",
                "--json"
            ],
            "C",
            Some(log)
        )
    );
    insta::assert_snapshot!(
        "check_fail_ko",
        run(
            &["lesson", "check", "11", "range-of-3306", "--actions", "-"],
            "ko_KR.UTF-8",
            Some(r#"[{"answer": "unknown"}]"#)
        )
    );
}

#[test]
fn a_snapshot_is_not_a_backup_graded_by_the_disk_engine() {
    insta::assert_snapshot!(
        "check_disk_snapshot_only",
        run(
            &[
                "lesson",
                "check",
                "snapshot-vs-backup",
                "survive-disk-failure",
                "--actions",
                "-"
            ],
            "C",
            Some(
                r#"[{"snapshot": {"vm": "web"}}, "host-disk-fails", {"restore": {"vm": "web", "from": "ssd"}}]"#
            )
        )
    );
}

#[test]
fn bad_input_gets_a_clear_error_and_status() {
    insta::assert_snapshot!("unknown_lesson", run(&["lesson", "show", "nap"], "C", None));
    insta::assert_snapshot!(
        "unknown_exercise",
        run(&["lesson", "solve", "nat", "nope"], "C", None)
    );
    insta::assert_snapshot!(
        "malformed_actions",
        run(
            &[
                "lesson",
                "check",
                "nat",
                "how-the-reply-finds-home",
                "--actions",
                "-"
            ],
            "C",
            Some("[\n  {\"anwser\": 1}\n]")
        )
    );
}

#[test]
fn lint_accepts_the_shipped_lessons_and_reports_a_broken_one() {
    let content = concat!(env!("CARGO_MANIFEST_DIR"), "/../lessons/content");
    let report = run(&["lesson", "lint", content], "C", None).replace(content, "CONTENT");
    insta::assert_snapshot!("lint_shipped", report);

    // Two broken copies of lesson 11: one that does not load, one whose goal is unreachable.
    let dir = std::env::temp_dir().join(format!("labvisor-lint-{}", std::process::id()));
    let shipped =
        std::fs::read_to_string(format!("{content}/11-ports/lesson.toml")).expect("shipped lesson");
    let not_loading = dir.join("11-ports");
    std::fs::create_dir_all(&not_loading).expect("temp dir");
    std::fs::write(
        not_loading.join("lesson.toml"),
        shipped.replacen("kind = \"classify-port\"", "kind = \"classify-prot\"", 1),
    )
    .expect("write");
    std::fs::write(not_loading.join("en.md"), "# Ports\n").expect("write");
    let unreachable = dir.join("12-ports");
    std::fs::create_dir_all(&unreachable).expect("temp dir");
    std::fs::write(
        unreachable.join("lesson.toml"),
        shipped.replacen(
            "solution = [{ answer = \"system\" }]",
            "solution = [{ answer = \"user\" }]",
            1,
        ),
    )
    .expect("write");
    std::fs::write(unreachable.join("en.md"), "# Ports\n").expect("write");
    // Korean the glossary refuses: a doubled particle and a Bridged Adapter misspelt.
    std::fs::write(
        unreachable.join("ko.md"),
        "# 포트\n\n포트 2222을(를) 브릿지 모드에서 엽니다.\n",
    )
    .expect("write");
    let dir_text = dir.to_str().expect("utf-8 path").to_string();
    let report = run(&["lesson", "lint", &dir_text], "C", None).replace(&dir_text, "DIR");
    std::fs::remove_dir_all(&dir).ok();
    insta::assert_snapshot!("lint_broken", report);
}

#[test]
fn a_share_code_round_trips_through_solve_and_check() {
    let solved = run(
        &[
            "lesson",
            "solve",
            "host-sizing",
            "six-vms-on-eight-cores",
            "--share",
        ],
        "C",
        None,
    );
    let code = solved
        .split("--- stdout\n")
        .nth(1)
        .and_then(|s| s.lines().next())
        .expect("a code line")
        .to_string();
    insta::assert_snapshot!("solve_share", solved);
    insta::assert_snapshot!(
        "check_share",
        run(
            &[
                "lesson",
                "check",
                "6",
                "six-vms-on-eight-cores",
                "--share",
                &code
            ],
            "C",
            None
        )
    );
    insta::assert_snapshot!(
        "check_share_wrong_exercise",
        run(
            &[
                "lesson",
                "check",
                "6",
                "reserve-of-twelve",
                "--share",
                &code
            ],
            "C",
            None
        )
    );
    insta::assert_snapshot!(
        "check_without_attempt",
        run(&["lesson", "check", "6", "reserve-of-twelve"], "C", None)
    );
}

#[test]
fn a_right_answer_shows_its_why_and_an_accepted_one_its_note() {
    let accepted = run(
        &["lesson", "check", "1", "kvm-type", "--actions", "-"],
        "C",
        Some(r#"[{"answer": "type-2"}]"#),
    );
    assert!(accepted.starts_with("status: 0"), "{accepted}");
    assert!(
        accepted.contains("Note: Accepted. Some texts call KVM type 2"),
        "{accepted}"
    );
    assert!(accepted.contains("Why: KVM looks hosted"), "{accepted}");
    let wrong = run(
        &[
            "lesson",
            "check",
            "1",
            "kvm-type",
            "--actions",
            "-",
            "--lang",
            "ko",
        ],
        "C",
        Some(r#"[{"answer": "emulator"}]"#),
    );
    assert!(wrong.starts_with("status: 1"), "{wrong}");
    assert!(wrong.contains("힌트: KVM은 장치를"), "{wrong}");
    assert!(
        !wrong.contains("왜:"),
        "no why before the right answer: {wrong}"
    );
    let solved = run(&["lesson", "solve", "1", "technique"], "C", None);
    let stderr = solved.split("--- stderr\n").nth(1).unwrap_or_default();
    assert!(stderr.starts_with("why: Two clues"), "{solved}");
}

#[test]
fn a_named_misconception_gets_follow_ups_until_two_are_right() {
    let checked = run(
        &[
            "lesson",
            "check",
            "ports",
            "range-of-3306",
            "--actions",
            "-",
        ],
        "C",
        Some(r#"[{"answer": "unknown"}]"#),
    );
    assert!(checked.contains("Follow-up (unknown-ports)"), "{checked}");
    let command = checked
        .lines()
        .find_map(|l| l.trim().strip_prefix("answer with: labvisor "))
        .expect("the follow-up says how to answer it");
    assert!(
        command.ends_with("--asked 0 --right 0 --answer ANSWER"),
        "{command}"
    );
    // Answer each follow-up right, reading the port from the last question printed.
    let mut args: Vec<String> = command.split(' ').map(String::from).collect();
    let mut question = checked.clone();
    for round in 0..2 {
        let port: u32 = question
            .split("range is port ")
            .last()
            .and_then(|s| s.split(' ').next())
            .and_then(|p| p.parse().ok())
            .expect("a port in the question");
        let range = match port {
            0..=1023 => "system",
            1024..=49151 => "user",
            _ => "dynamic",
        };
        *args.last_mut().expect("--answer's value") = range.to_string();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        question = run(&refs, "C", None);
        assert!(question.starts_with("status: 0"), "{question}");
        if round == 0 {
            let next = question
                .lines()
                .find_map(|l| l.trim().strip_prefix("answer with: labvisor "))
                .expect("a second follow-up");
            assert!(next.contains("--asked 1 --right 1"), "{next}");
            args = next.split(' ').map(String::from).collect();
        }
    }
    assert!(question.contains("Two right in a row"), "{question}");
    let wrong = run(
        &[
            "lesson",
            "follow-up",
            "ports",
            "range-of-3306",
            "private-172",
            "--answer",
            "public",
        ],
        "C",
        None,
    );
    assert!(
        wrong.starts_with("status: 0") || wrong.starts_with("status: 1"),
        "{wrong}"
    );
    let unknown = run(
        &["lesson", "follow-up", "ports", "range-of-3306", "nope"],
        "C",
        None,
    );
    assert!(
        unknown.starts_with("status: 2") && unknown.contains("unknown misconception"),
        "{unknown}"
    );
}

/// The actions file `lesson solve` prints for an exercise.
fn solution(lesson: &str, exercise: &str) -> String {
    let out = run(&["lesson", "solve", lesson, exercise], "C", None);
    out.split("--- stdout\n")
        .nth(1)
        .and_then(|s| s.split("--- stderr").next())
        .expect("stdout section")
        .to_string()
}

#[test]
fn the_course_vm_carries_from_lesson_6_to_7_9_and_12_in_one_progress_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let progress = dir.path().join("progress.json");
    // The learner starts from a browser export made before the course VM existed (version 1).
    let exported = r#"{"format": "labvisor-progress", "version": 1, "completed": ["tool:ipv4"]}"#;
    std::fs::write(&progress, exported).expect("write the export");
    let check = |lesson: &str, exercise: &str, actions: &str, lang: &str| {
        run_with(
            &["lesson", "check", lesson, exercise, "--actions", "-"],
            lang,
            Some(actions),
            &progress,
        )
    };
    let read = || std::fs::read_to_string(&progress).expect("the progress file");

    let six = check(
        "6",
        "size-web",
        r#"[{"add-vm": {"name": "web", "vcpus": 3, "ram-mib": 6000}}]"#,
        "C",
    );
    assert!(six.starts_with("status: 0"), "{six}");
    assert!(
        six.contains("Saved to PROGRESS: `web`: 3 vCPUs and 6000 MiB of RAM;"),
        "{six}"
    );
    // Lesson 7 shows, then starts from, the VM lesson 6 sized.
    let shown = run_with(&["lesson", "show", "7"], "C", None, &progress);
    assert!(
        shown.contains("Course VM: Your VM `web` as this exercise starts: 3 vCPUs and 6000 MiB of RAM (yours, from lesson 6)."),
        "{shown}"
    );
    // A wrong attempt saves nothing: a fixed disk shrunk until it fits is not the 128G asked.
    let before = read();
    let shrunk = check(
        "7",
        "disk-for-web",
        r#"[{"create-disk": {"vm": "web", "size": "64G", "alloc": "fixed"}}]"#,
        "C",
    );
    assert!(shrunk.starts_with("status: 1"), "{shrunk}");
    assert!(
        shrunk.contains("the exercise asks for at least 128G"),
        "{shrunk}"
    );
    assert_eq!(read(), before, "a wrong attempt changed the progress file");
    let seven = check(
        "7",
        "disk-for-web",
        r#"[{"create-disk": {"vm": "web", "size": "200G", "alloc": "dynamic"}}]"#,
        "C",
    );
    assert!(seven.starts_with("status: 0"), "{seven}");
    let before = read();
    let wrong = check(
        "9",
        "forward-to-web",
        r#"[{"add-forward": {"name": "http", "proto": "tcp", "host-port": 8080, "guest-port": 8080, "vm": "web"}}]"#,
        "C",
    );
    assert!(wrong.starts_with("status: 1"), "{wrong}");
    assert!(!wrong.contains("Saved to"), "{wrong}");
    assert_eq!(read(), before, "a wrong attempt changed the progress file");
    let nine = check(
        "9",
        "forward-to-web",
        &solution("9", "forward-to-web"),
        "ko_KR.UTF-8",
    );
    assert!(nine.starts_with("status: 0"), "{nine}");
    assert!(
        nine.contains("200 GiB 동적 할당 디스크, 새로 만들었을 때 호스트에서 ")
            && nine.contains("(레슨 7에서 내가 정한 것)"),
        "{nine}"
    );
    // Lesson 12 loses the very disk lesson 7 made: 200 GiB dynamic.
    let twelve = check(
        "12",
        "survive-disk-failure",
        &solution("12", "survive-disk-failure"),
        "C",
    );
    insta::assert_snapshot!("course_vm_lesson_12", twelve);

    // The file is one the browser imports: version 2, the export's activity kept, the four
    // exercises done, and the VM with every part.
    let file: serde_json::Value = serde_json::from_str(&read()).expect("JSON");
    assert_eq!(file["version"], 2);
    assert_eq!(
        file["completed"],
        serde_json::json!([
            "lesson:disk-allocation/5",
            "lesson:host-sizing/4",
            "lesson:port-forwarding/7",
            "lesson:snapshot-vs-backup/1",
            "tool:ipv4"
        ])
    );
    let vm = &file["course-vm"];
    assert_eq!(vm["size"], serde_json::json!({"vcpus": 3, "ram-mib": 6000}));
    assert_eq!(
        vm["disk"],
        serde_json::json!({"size": 200u64 << 30, "allocation": "dynamic"})
    );
    assert_eq!(vm["forwards"][0]["host-port"], 8080);
    assert_eq!(vm["disk-loss"], serde_json::json!({"backup-on": "nas"}));

    // --fresh starts from the default VM and leaves the file alone.
    let before = read();
    let fresh = run_with(
        &[
            "lesson",
            "check",
            "12",
            "survive-disk-failure",
            "--actions",
            "-",
            "--fresh",
        ],
        "C",
        Some(&solution("12", "survive-disk-failure")),
        &progress,
    );
    assert!(fresh.starts_with("status: 0"), "{fresh}");
    assert!(fresh.contains("web.vdi (128 GiB dynamic)"), "{fresh}");
    assert!(fresh.contains("Not saved: --fresh"), "{fresh}");
    assert_eq!(read(), before, "--fresh wrote the progress file");
}

#[test]
fn a_bad_or_foreign_progress_file_is_an_error_naming_it_and_is_left_as_it_was() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let progress = dir.path().join("progress.json");
    let size_web = r#"[{"add-vm": {"name": "web", "vcpus": 2, "ram-mib": 4096}}]"#;
    let args = ["lesson", "check", "6", "size-web", "--actions", "-"];
    let files = [
        ("not JSON", "{\"format\": \"labvisor-progress\", "),
        (
            "another program's",
            r#"{"format": "other-app", "version": 1, "completed": []}"#,
        ),
        (
            "a newer version",
            r#"{"format": "labvisor-progress", "version": 3, "completed": []}"#,
        ),
        (
            "an impossible VM",
            r#"{"format": "labvisor-progress", "version": 2, "completed": [], "course-vm": {"size": {"vcpus": 100000, "ram-mib": 4096}}}"#,
        ),
    ];
    for (what, text) in files {
        std::fs::write(&progress, text).expect("write");
        let out = run_with(&args, "C", Some(size_web), &progress);
        assert!(out.starts_with("status: 2"), "{what}: {out}");
        assert!(
            out.contains("--- stderr\nlabvisor: error: PROGRESS: "),
            "{what}: the error names the file: {out}"
        );
        assert!(out.contains("left as it is"), "{what}: {out}");
        assert_eq!(
            std::fs::read_to_string(&progress).expect("read"),
            text,
            "{what}: the file was changed"
        );
        if what == "a newer version" {
            insta::assert_snapshot!("progress_newer_version", out);
        }
    }
    // A lesson without a course VM exercise never reads the file.
    let other = run_with(&["lesson", "show", "ports"], "C", None, &progress);
    assert!(other.starts_with("status: 0"), "{other}");
}
