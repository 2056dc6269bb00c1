//! `labvisor lesson …` as a user runs it: stdout, stderr and exit status, snapshotted.

use std::io::Write as _;
use std::process::{Command, Stdio};

fn run(args: &[&str], lang: &str, stdin: Option<&str>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(args)
        .env("LANG", lang)
        .env_remove("LC_ALL")
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
