//! `labvisor net`: snapshots of the commands' output, errors and exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labvisor-cli-net-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs `labvisor ARGS` in `dir`; returns exit code, stdout and stderr as one snapshot text.
fn labvisor(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(args)
        .current_dir(dir)
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .output()
        .expect("runs");
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn example_list() {
    let dir = scratch("list");
    insta::assert_snapshot!(labvisor(&dir, &["net", "example", "--list"]));
}

#[test]
fn every_example_is_written_and_runs() {
    let dir = scratch("all");
    for name in [
        "home-router",
        "nat-network",
        "port-forward-ssh",
        "host-only",
        "internal-networks",
    ] {
        let out = labvisor(&dir, &["net", "example", name]);
        assert!(out.starts_with("exit: 0"), "{out}");
        let file = format!("{name}.toml");
        assert!(dir.join(&file).exists());
        let run = labvisor(&dir, &["net", "run", &file]);
        assert!(run.starts_with("exit: 0"), "{run}");
        assert!(run.contains("== 1: "), "{run}");
        let reach = labvisor(&dir, &["net", "reach", &file]);
        assert!(reach.starts_with("exit: 0"), "{reach}");
    }
    // Writing again refuses to overwrite, unless forced.
    let again = labvisor(&dir, &["net", "example", "home-router"]);
    insta::assert_snapshot!("example_exists", again);
    assert!(labvisor(&dir, &["net", "example", "home-router", "--force"]).starts_with("exit: 0"));
}

#[test]
fn run_home_router() {
    let dir = scratch("run");
    labvisor(&dir, &["net", "example", "home-router"]);
    insta::assert_snapshot!(labvisor(&dir, &["net", "run", "home-router.toml"]));
}

#[test]
fn reach_port_forward_ssh() {
    let dir = scratch("reach");
    labvisor(&dir, &["net", "example", "port-forward-ssh"]);
    insta::assert_snapshot!(labvisor(&dir, &["net", "reach", "port-forward-ssh.toml"]));
}

#[test]
fn run_json_is_machine_readable() {
    let dir = scratch("json");
    labvisor(&dir, &["net", "example", "nat-network"]);
    let out = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(["net", "run", "nat-network.toml", "--json"])
        .current_dir(&dir)
        .env("LANG", "C")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["title"], "Two VMs on a NAT Network");
    assert_eq!(v["actions"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["actions"][0]["steps"][0]["event"]["event"], "send");
    let nats: Vec<&str> = v["nat"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(nats, ["home-router", "natnet/NatNetwork"]);
}

#[test]
fn errors_name_file_line_column_and_exit_2() {
    let dir = scratch("errors");
    std::fs::write(
        dir.join("typo.toml"),
        "[[node]]\nname = \"a\"\nkind = \"hots\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("many.toml"),
        "[[node]]\nname = \"vm1\"\nkind = \"vm\"\nhost = \"pc\"\nnic = [{ mode = \"nat\", forward = [\"ssh,tcp,,99999,,22\"] }]\n\n[[step]]\nadvance = \"3 weeks\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("invalid.toml"),
        "[[node]]\nname = \"pc\"\nkind = \"host\"\nnic = [{ segment = \"lan\", ip = \"192.168.1.10/24\", gateway = \"10.0.0.1\" }]\n\n[[node]]\nname = \"pc2\"\nkind = \"host\"\nnic = [{ segment = \"lan\", ip = \"192.168.1.10/24\" }]\n",
    )
    .unwrap();
    let mut all = String::new();
    for args in [
        &["net", "run", "typo.toml"][..],
        &["net", "run", "many.toml"],
        &["net", "reach", "invalid.toml"],
        &["net", "run", "missing.toml"],
        &["net", "example", "nope"],
        &["net", "example"],
    ] {
        all.push_str(&format!(
            "$ labvisor {}\n{}\n",
            args.join(" "),
            labvisor(&dir, args)
        ));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn reach_speaks_korean() {
    let dir = scratch("ko");
    labvisor(&dir, &["net", "example", "host-only"]);
    let out = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(["net", "reach", "host-only.toml"])
        .current_dir(&dir)
        .env("LANG", "ko_KR.UTF-8")
        .env_remove("LC_ALL")
        .output()
        .expect("runs");
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn titles_follow_the_language() {
    let dir = scratch("ko-titles");
    // `--lang ko` wins over an English $LANG.
    let list = labvisor(&dir, &["--lang", "ko", "net", "example", "--list"]);
    insta::assert_snapshot!("example_list_ko", list);
    labvisor(&dir, &["net", "example", "port-forward-ssh"]);
    let run = labvisor(
        &dir,
        &["net", "run", "port-forward-ssh.toml", "--lang", "ko"],
    );
    assert!(
        run.contains("--- stdout\n# 포트 포워딩으로 NAT 모드 VM에 SSH 접속하기\n"),
        "{run}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(["net", "run", "port-forward-ssh.toml", "--json"])
        .current_dir(&dir)
        .env("LANG", "ko_KR.UTF-8")
        .env_remove("LC_ALL")
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["title"], "포트 포워딩으로 NAT 모드 VM에 SSH 접속하기");
}

#[test]
fn the_trace_speaks_korean_where_the_words_are_the_cores() {
    use labvisor_core::lang::{Explain, Lang};
    use labvisor_core::net::trace::DropCause;
    let dir = scratch("ko-trace");
    labvisor(&dir, &["net", "example", "port-forward-ssh"]);
    let ko = labvisor(
        &dir,
        &["--lang", "ko", "net", "run", "port-forward-ssh.toml"],
    );
    let en = labvisor(&dir, &["net", "run", "port-forward-ssh.toml"]);
    assert!(ko.starts_with("exit: 0"), "{ko}");
    assert!(ko.contains("\n== 시작: DHCP\n") && en.contains("\n== start: DHCP\n"));
    assert!(ko.contains("\n== 1: pc → 10.0.2.15:22 tcp 전송\n"), "{ko}");
    // Each drop is followed by its cause in the core's Korean; English has no such line.
    for cause in [DropCause::NoRoute, DropCause::PortClosed] {
        assert!(
            ko.contains(&format!("↳ {}\n", cause.explain_in(Lang::Ko))),
            "{ko}"
        );
    }
    assert!(!en.contains('↳'), "{en}");
    assert!(ko.contains("에 연결 2개"), "{ko}");
    // The packets themselves are tcpdump's notation in both.
    let packet = "home-router: DROP 192.168.1.10.41000 > 10.0.2.15.22: Flags [S]";
    assert!(ko.contains(packet) && en.contains(packet));
}

#[test]
fn reach_refuses_more_machines_than_its_table_can_show_and_says_the_bound() {
    let dir = scratch("too-many");
    let mut src = String::new();
    for i in 0..65 {
        src.push_str(&format!(
            "[[node]]\nname = \"h{i}\"\nkind = \"host\"\nnic = [{{ segment = \"lan\", ip = \"10.0.0.{}/24\" }}]\n\n",
            i + 1
        ));
    }
    std::fs::write(dir.join("big.toml"), &src).unwrap();
    let out = labvisor(&dir, &["net", "reach", "big.toml"]);
    assert!(out.starts_with("exit: 2\n"), "{out}");
    assert!(
        out.contains("at most 64 hosts, VMs and servers; this network has 65"),
        "{out}"
    );
    // 64 machines are drawn.
    let sixty_four = src.rsplit_once("[[node]]").unwrap().0;
    std::fs::write(dir.join("ok.toml"), sixty_four).unwrap();
    let out = labvisor(&dir, &["net", "reach", "ok.toml"]);
    assert!(out.starts_with("exit: 0\n"), "{out}");
}
