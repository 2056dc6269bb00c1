//! `labvisor vm run --ssh` with the real OpenSSH client: key and password logins through the
//! forward on 127.0.0.1, exit statuses, refusals (a forged signature among them), four
//! sessions at once, an interactive shell through tmux, hostile clients, silent clients closed
//! after the login grace time, and a host key that survives a second boot (so `known_hosts`
//! keeps working).
//!
//! Every socket here is on 127.0.0.1. Needs /dev/kvm, OpenSSH's client, `sshpass` and tmux,
//! else prints `SKIP: …`.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::ssh::{self, Client};
use common::{free_port, kvm_available, text, wait_or_kill};

/// `labvisor vm run --ssh` with its data directory in `data`; stdin stays open (the
/// console's shell waits on it) until the VM is dropped or powered off.
struct Vm {
    child: Child,
    _stdin: ChildStdin,
    said: Arc<Mutex<String>>,
}

impl Vm {
    fn boot(data: &Path, port: u16, extra: &[&str]) -> Vm {
        let mut child = Command::new(env!("CARGO_BIN_EXE_labvisor"))
            .args(["vm", "run", "--timeout", "600s", "--ssh", "--ssh-port"])
            .arg(port.to_string())
            .args(extra)
            .env("LANG", "C")
            .env("XDG_DATA_HOME", data)
            .env("HOME", data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("labvisor starts");
        let said = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().expect("piped")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("piped")),
        ] {
            let sink = Arc::clone(&said);
            let mut stream = stream;
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock().expect("output").push_str(&text(&buf[..n]));
                }
            });
        }
        let stdin = child.stdin.take().expect("piped");
        let vm = Vm {
            child,
            _stdin: stdin,
            said,
        };
        vm.wait_for("ssh: port 22, user labvisor, host key and password from the VMM");
        vm
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let said = self.said.lock().expect("output").clone();
            if said.contains(needle) {
                return said;
            }
            assert!(Instant::now() < deadline, "`{needle}` never came:\n{said}");
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The value after `label` on the line that has it.
    fn printed(&self, label: &str) -> String {
        let said = self.wait_for(label);
        let (_, rest) = said.split_once(label).expect("waited for it");
        rest.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    fn power_off(mut self, client: &Client, key: &Path) -> Option<i32> {
        let _ = client.with_key(key, "poweroff 5");
        wait_or_kill(&mut self.child, Duration::from_secs(60))
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        // A failed assertion must not leave the VM running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(out: &Output) -> String {
    text(&out.stdout)
}

fn available() -> bool {
    kvm_available() && ssh::client_available()
}

#[test]
fn openssh_logs_in_by_key_and_password_runs_commands_and_is_refused_when_it_should_be() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let key = ssh::keygen(dir.path(), "learner");
    let key_pub = PathBuf::from(format!("{}.pub", key.display()));
    let port = free_port();
    let vm = Vm::boot(
        dir.path(),
        port,
        &["--ssh-key", key_pub.to_str().expect("utf-8")],
    );
    let password = vm.printed("ssh: password ");
    let said = vm.wait_for(&format!("ssh -p {port} labvisor@127.0.0.1"));
    assert!(said.contains("ssh: host key ED25519 SHA256:"), "{said}");
    let client = Client::new(port, dir.path());

    let started = Instant::now();
    let out = client.with_key(&key, "uptime");
    println!(
        "key login to output (labvisor, native where the host allows): {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(0), "uptime by key: {out:?}");
    assert!(stdout(&out).starts_with("up "), "{out:?}");
    let out = client.with_key(&key, "no-such-command");
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    // The gateway answers pings itself; nothing answers at 10.0.2.99 on the NAT network.
    let out = client.with_key(&key, "ping 10.0.2.2 1");
    assert_eq!(
        out.status.code(),
        Some(0),
        "a ping that is answered: {out:?}"
    );
    assert!(stdout(&out).contains("1 received"), "{out:?}");
    let out = client.with_key(&key, "ping 10.0.2.99 1");
    assert_eq!(out.status.code(), Some(1), "a ping without reply: {out:?}");
    assert!(stdout(&out).contains("0 received"), "{out:?}");
    let out = client.with_key(&key, "ping");
    assert_eq!(out.status.code(), Some(2), "ping without a host: {out:?}");
    let out = client.with_key(&key, "disk");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a disk command without a disk: {out:?}"
    );

    let out = client.with_password(&password, "labvisor", "echo by password");
    assert_eq!(out.status.code(), Some(0), "password login: {out:?}");
    assert_eq!(stdout(&out), "by password\r\n");

    let sessions: Vec<_> = (0..4)
        .map(|i| {
            let (known_hosts, key) = (client.known_hosts.clone(), key.clone());
            thread::spawn(move || {
                Client { port, known_hosts }.with_key(&key, &format!("echo session {i}"))
            })
        })
        .collect();
    for (i, session) in sessions.into_iter().enumerate() {
        let out = session.join().expect("the session's thread");
        assert_eq!(
            (out.status.code(), stdout(&out)),
            (Some(0), format!("session {i}\r\n")),
            "session {i}: {out:?}"
        );
    }

    let (screen, ended) = client.interactive(&password, "echo typed at a pty");
    assert!(
        screen.contains("labvisor# echo typed at a pty") && screen.contains("\ntyped at a pty"),
        "the interactive shell echoed and ran the command:\n{screen}"
    );
    assert!(ended, "`exit` ended the session with status 0:\n{screen}");

    let out = client.with_password("not-the-password", "labvisor", "uptime");
    assert_eq!(out.status.code(), Some(255), "a wrong password: {out:?}");
    assert!(text(&out.stderr).contains("Permission denied"), "{out:?}");
    let stranger = ssh::keygen(dir.path(), "stranger");
    let out = client.with_key(&stranger, "uptime");
    assert_eq!(out.status.code(), Some(255), "an unknown key: {out:?}");
    assert!(text(&out.stderr).contains("Permission denied"), "{out:?}");
    let (out, forged) = client.with_forged_signature(dir.path(), &key_pub, "uptime");
    assert!(
        forged >= 1,
        "the server accepted the offer of the authorized key, so the agent was asked to sign: {out:?}"
    );
    assert_eq!(out.status.code(), Some(255), "a forged signature: {out:?}");
    assert!(
        text(&out.stderr).contains("Permission denied"),
        "a forged signature is answered with USERAUTH_FAILURE, not silence: {out:?}"
    );

    for (what, bytes) in ssh::hostile_corpus() {
        ssh::hostile(port, &bytes);
        let out = client.with_key(&key, "echo still here");
        assert_eq!(
            (out.status.code(), stdout(&out).as_str()),
            (Some(0), "still here\r\n"),
            "the server outlives {what}: {out:?}"
        );
    }
    assert_eq!(vm.power_off(&client, &key), Some(5), "powered off over ssh");
}

#[test]
fn a_second_boot_keeps_the_host_key_and_korean_names_the_mobaxterm_settings() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let key = ssh::keygen(dir.path(), "learner");
    let key_pub = format!("{}.pub", key.display());
    let client = Client::new(free_port(), dir.path());
    let first = Vm::boot(
        dir.path(),
        client.port,
        &["--name", "lab", "--ssh-key", &key_pub],
    );
    let fingerprint = first.printed("ssh: host key ED25519 ");
    let out = client.with_key(&key, "uptime");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(first.power_off(&client, &key), Some(5));

    let second = Vm::boot(
        dir.path(),
        client.port,
        &["--lang", "ko", "--name", "lab", "--ssh-key", &key_pub],
    );
    let port = client.port;
    let said = second.wait_for(&format!(
        "원격 호스트 127.0.0.1, 포트 {port}, 사용자 labvisor"
    ));
    assert!(
        said.contains(&format!("호스트 키 ED25519 {fingerprint}")),
        "{said}"
    );
    // known_hosts from the first boot, and no new host keys accepted.
    let out = Command::new("ssh")
        .args(["-F", "/dev/null", "-p", &port.to_string(), "-i"])
        .arg(&key)
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            client.known_hosts.display()
        ))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "labvisor@127.0.0.1",
            "echo same key",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("ssh runs");
    assert_eq!(
        (out.status.code(), stdout(&out).as_str()),
        (Some(0), "same key\r\n"),
        "the second boot's host key is the one known_hosts has: {out:?}"
    );
    let stored = dir.path().join("labvisor/ssh/lab.ed25519");
    assert_eq!(std::fs::read(&stored).map(|k| k.len()).ok(), Some(32));
    assert_eq!(second.power_off(&client, &key), Some(5));
}

#[test]
fn silent_connections_are_closed_after_the_login_grace_time_and_free_their_slots() {
    if !available() {
        return;
    }
    const GRACE: Duration = Duration::from_secs(5);
    let dir = tempfile::tempdir().expect("a scratch directory");
    let key = ssh::keygen(dir.path(), "learner");
    let key_pub = format!("{}.pub", key.display());
    let client = Client::new(free_port(), dir.path());
    let grace = GRACE.as_secs().to_string();
    let vm = Vm::boot(
        dir.path(),
        client.port,
        &["--ssh-key", &key_pub, "--ssh-login-grace", &grace],
    );

    let connected = Instant::now();
    let mut silent: Vec<TcpStream> = (0..6)
        .map(|_| TcpStream::connect(("127.0.0.1", client.port)).expect("the forward accepts"))
        .collect();
    for stream in &mut silent {
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("a read timeout");
        let mut banner = [0u8; 8];
        stream
            .read_exact(&mut banner)
            .expect("the server greets every silent client");
        assert_eq!(&banner, b"SSH-2.0-", "the server's identification string");
    }
    let out = client.with_key(&key, "uptime");
    assert_eq!(
        out.status.code(),
        Some(255),
        "six silent clients hold all six slots: {out:?}"
    );

    for (i, stream) in silent.iter_mut().enumerate() {
        let mut rest = Vec::new();
        let ended = stream.read_to_end(&mut rest);
        assert!(
            ended.is_ok(),
            "silent client {i}: the guest closed it with a FIN, read returns EOF: {ended:?}"
        );
        assert!(
            connected.elapsed() >= GRACE,
            "silent client {i} was closed after {:?}, before its grace time",
            connected.elapsed()
        );
    }
    drop(silent);

    // The slots listen again once each closed connection's last segments are exchanged.
    let mut out = client.with_key(&key, "uptime");
    for _ in 0..20 {
        if out.status.code() == Some(0) {
            break;
        }
        thread::sleep(Duration::from_millis(250));
        out = client.with_key(&key, "uptime");
    }
    assert_eq!(
        out.status.code(),
        Some(0),
        "a real login after the silent ones: {out:?}"
    );
    assert!(stdout(&out).starts_with("up "), "{out:?}");

    // A logged-in session is not cut by the login grace time: 6 unanswered pings take 6 s.
    let out = client.with_key(&key, "ping 10.0.2.99 6");
    assert_eq!(
        (
            out.status.code(),
            stdout(&out).contains("6 packets transmitted, 0 received")
        ),
        (Some(1), true),
        "{out:?}"
    );
    assert_eq!(vm.power_off(&client, &key), Some(5));
}
