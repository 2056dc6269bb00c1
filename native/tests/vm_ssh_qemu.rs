//! The guest's SSH server under a VMM that passes it no keys: QEMU's microvm with `-netdev
//! user` and a `hostfwd` from 127.0.0.1 to the guest's port 22. There the guest makes up its
//! host key at boot and prints a password on the console; the real OpenSSH client logs in
//! with it, runs commands and gets their exit status, holds four sessions at once, drives an
//! interactive shell through tmux, is refused with a wrong password, another user or a key,
//! and the server outlives hostile clients.
//!
//! Every socket here is on 127.0.0.1; nothing resolves a name. Needs /dev/kvm,
//! `qemu-system-x86_64`, OpenSSH's client, `sshpass` and tmux, else prints `SKIP: …`.

mod common;

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::ssh::{self, Client};
use common::{free_port, kvm_available, qemu_available, text, wait_or_kill};

/// QEMU running the guest with port 22 forwarded from 127.0.0.1:`port`, its console
/// collected as it comes.
struct Guest {
    qemu: Child,
    console: Arc<Mutex<String>>,
}

impl Guest {
    fn boot(elf: &std::path::Path, port: u16) -> Guest {
        let mut qemu = Command::new("qemu-system-x86_64")
            .args(["-M", "microvm", "-enable-kvm", "-m", "64", "-nographic"])
            .args(["-no-reboot", "-kernel"])
            .arg(elf)
            .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
            .args(["-global", "virtio-mmio.force-legacy=false"])
            .arg("-netdev")
            .arg(format!("user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22"))
            .args(["-device", "virtio-net-device,netdev=n0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("qemu starts");
        let console = Arc::new(Mutex::new(String::new()));
        let mut out = qemu.stdout.take().expect("stdout is piped");
        let sink = Arc::clone(&console);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("console").push_str(&text(&buf[..n]));
            }
        });
        Guest { qemu, console }
    }

    /// The password the guest printed at boot (its SSH server listens from then on).
    fn password(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let console = self.console.lock().expect("console").clone();
            if let Some(line) = console.lines().find(|l| l.starts_with("ssh: port 22")) {
                let (_, rest) = line
                    .split_once("password ")
                    .expect("the line names a password");
                return rest.split(' ').next().expect("a password").to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "the guest never announced its SSH server:\n{console}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        // A failed assertion must not leave QEMU running.
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
    }
}

fn stdout(out: &Output) -> String {
    text(&out.stdout)
}

#[test]
fn under_qemu_openssh_logs_in_with_the_printed_password_and_gets_exit_statuses() {
    if !kvm_available() || !qemu_available() || !ssh::client_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let elf = dir.path().join("labvisor-guest.elf");
    std::fs::write(&elf, labvisor_vmm::boot::EMBEDDED_GUEST).expect("the guest ELF");
    let port = free_port();
    let mut guest = Guest::boot(&elf, port);
    let password = guest.password();
    assert_eq!(password.len(), 16, "a 16-character password: {password}");
    let client = Client::new(port, dir.path());

    let started = Instant::now();
    let out = client.with_password(&password, "labvisor", "uptime");
    let login = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "uptime over ssh: {out:?}");
    assert!(
        stdout(&out).starts_with("up "),
        "the guest's uptime: {out:?}"
    );
    println!("login to output (QEMU, guest emulated): {login:?}");

    let out = client.with_password(&password, "labvisor", "no-such-command");
    assert_eq!(out.status.code(), Some(127), "an unknown command: {out:?}");
    assert!(stdout(&out).contains("no-such-command: unknown command"));
    let out = client.with_password(&password, "labvisor", "cpus many");
    assert_eq!(out.status.code(), Some(2), "a usage error: {out:?}");

    // Four sessions at once, each with its own answer.
    let sessions: Vec<_> = (0..4)
        .map(|i| {
            let (port, known_hosts, password) =
                (client.port, client.known_hosts.clone(), password.clone());
            thread::spawn(move || {
                let client = Client { port, known_hosts };
                client.with_password(&password, "labvisor", &format!("echo session {i}"))
            })
        })
        .collect();
    for (i, session) in sessions.into_iter().enumerate() {
        let out = session.join().expect("the session's thread");
        assert_eq!(out.status.code(), Some(0), "session {i}: {out:?}");
        assert_eq!(stdout(&out), format!("session {i}\r\n"));
    }

    let (screen, ended) = client.interactive(&password, "echo typed at a pty");
    assert!(
        screen.contains("labvisor# echo typed at a pty") && screen.contains("\ntyped at a pty"),
        "the interactive shell echoed and ran the command:\n{screen}"
    );
    assert!(ended, "`exit` ended the session with status 0:\n{screen}");

    // Refusals: a wrong password, another user, a key the guest does not know.
    let started = Instant::now();
    let out = client.with_password("not-the-password", "labvisor", "uptime");
    assert_eq!(out.status.code(), Some(255), "a wrong password: {out:?}");
    assert!(text(&out.stderr).contains("Permission denied"), "{out:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "a refusal is held for a second"
    );
    let out = client.with_password(&password, "root", "uptime");
    assert_eq!(out.status.code(), Some(255), "another user: {out:?}");
    let key = ssh::keygen(dir.path(), "stranger");
    let out = client.with_key(&key, "uptime");
    assert_eq!(out.status.code(), Some(255), "an unknown key: {out:?}");

    for (what, bytes) in ssh::hostile_corpus() {
        ssh::hostile(port, &bytes);
        let out = client.with_password(&password, "labvisor", "echo still here");
        assert_eq!(
            (out.status.code(), stdout(&out).as_str()),
            (Some(0), "still here\r\n"),
            "the server outlives {what}: {out:?}"
        );
    }

    let _ = client.with_password(&password, "labvisor", "poweroff 3");
    let status = wait_or_kill(&mut guest.qemu, Duration::from_secs(60));
    let console = guest.console.lock().expect("console").clone();
    // isa-debug-exit ends QEMU with (status << 1) | 1.
    assert_eq!(status, Some(7), "powered off over ssh:\n{console}");
    assert!(
        console.contains("host key made up at boot from the time-stamp counter"),
        "the console says where the host key came from:\n{console}"
    );
}
