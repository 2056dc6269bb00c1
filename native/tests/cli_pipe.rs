//! A reader that stops early (`labvisor … | head`) ends the command quietly: no panic message,
//! no error on stderr.

use std::io::Read;
use std::process::{Command, Stdio};

fn labvisor(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labvisor"));
    cmd.args(args).env("LANG", "en_US.UTF-8");
    cmd
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lab = dir.path().join("busy.toml");
    let lab = lab.to_str().expect("UTF-8 temp path");
    let wrote = labvisor(&["net", "example", "home-router", "-o", lab])
        .output()
        .expect("labvisor starts");
    assert!(wrote.status.success(), "{wrote:?}");
    // Enough traffic that the JSON trace is far larger than a pipe's buffer (64 KiB), so
    // labvisor is still writing when the reader goes away.
    let mut text = std::fs::read_to_string(lab).expect("example written");
    for sport in 41000..41200 {
        text.push_str(&format!(
            "\n[[step]]\nsend = {{ from = \"pc\", to = \"8.8.8.8\", proto = \"udp\", sport = {sport}, dport = 53 }}\n"
        ));
    }
    std::fs::write(lab, text).expect("lab extended");

    let mut child = labvisor(&["--json", "net", "run", lab])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("labvisor starts");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_exact(&mut first)
        .expect("labvisor prints JSON");
    // The read end is closed here, mid-output.
    let out = child.wait_with_output().expect("labvisor ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "stderr: {stderr}");
    assert!(
        first.starts_with(b"{"),
        "{:?}",
        String::from_utf8_lossy(&first)
    );
}
