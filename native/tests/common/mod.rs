//! What the real-VM tests share: running `labvisor` as a child process (one VM per process, so
//! KVM's resources are always released), waiting for it without hanging, reading its console.
#![allow(dead_code)] // each test file uses its own part

pub mod ssh;

use std::io::{Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a loopback port")
        .port()
}

/// Whether QEMU is installed (`cargo xtask test` installs it); says `SKIP:` when it is not.
pub fn qemu_available() -> bool {
    let found = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("SKIP: qemu-system-x86_64 is not installed");
    }
    found
}

/// Whether `/dev/kvm` exists; says `SKIP:` when it does not.
pub fn kvm_available() -> bool {
    if std::path::Path::new("/dev/kvm").exists() {
        true
    } else {
        println!("SKIP: no /dev/kvm");
        false
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `labvisor` with `args` and nothing on its standard input.
pub fn labvisor(args: &[&str]) -> Output {
    labvisor_with_input(args, "")
}

/// Runs `labvisor` with `args`, feeding it `stdin`.
pub fn labvisor_with_input(args: &[&str], stdin: &str) -> Output {
    let mut child = spawn(args);
    let mut input = child.stdin.take().expect("stdin is piped");
    input
        .write_all(stdin.as_bytes())
        .expect("stdin takes the commands");
    drop(input);
    child.wait_with_output().expect("labvisor finishes")
}

/// Starts `labvisor` with `args`, every stream piped.
pub fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(args)
        .env("LANG", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("labvisor starts")
}

/// Starts `labvisor` with `args` and its standard input already at its end.
pub fn spawn_without_input(args: &[&str]) -> Child {
    let mut child = spawn(args);
    drop(child.stdin.take());
    child
}

/// Runs `labvisor --json vm run --timeout 60s ARGS` and returns its report, its console (stderr
/// with `--json`) and its exit status.
pub fn vm_json(args: &[&str]) -> (serde_json::Value, String, Option<i32>) {
    let mut all = vec!["--json", "vm", "run", "--timeout", "60s"];
    all.extend_from_slice(args);
    let out = labvisor(&all);
    let console = text(&out.stderr);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no report ({e}); stderr: {console}"));
    (report, console, out.status.code())
}

/// Waits for `child` up to `limit`, killing it after that: a regression must fail, not hang.
pub fn wait_or_kill(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the process did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads `stream` into `seen` until `needle` appears; fails if the stream ends first.
pub fn read_until(stream: &mut impl Read, needle: &str, seen: &mut Vec<u8>) {
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(seen).contains(needle) {
        let n = stream.read(&mut buf).expect("the console can be read");
        assert!(n > 0, "`{needle}` never came: {}", text(seen));
        seen.extend_from_slice(&buf[..n]);
    }
}

/// FNV-1a 64 of `bytes`, printed as the guest's `read` prints it.
pub fn fnv1a(bytes: impl Iterator<Item = u8>) -> String {
    let hash = bytes.fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("fnv1a64 {hash:#018x}")
}

/// A small tmpfs a test mounts (as root) and unmounts, so a full host disk is simulated
/// without ever filling the real one. `None`, after a `SKIP:` line naming `what`, where it
/// cannot be mounted.
pub struct SmallFilesystem(pub std::path::PathBuf);

impl SmallFilesystem {
    pub fn mount(size: &str, what: &str) -> Option<SmallFilesystem> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("labvisor-small-fs-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            println!("SKIP: cannot mount a small tmpfs here (needs root), so {what} is not tested");
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(SmallFilesystem(dir))
    }

    /// A path inside the file system.
    pub fn join(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for SmallFilesystem {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Whether `qemu-img` is installed; says `SKIP (part):` when it is not.
pub fn qemu_img_available() -> bool {
    let found = Command::new("qemu-img")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("SKIP (part): qemu-img is not installed, so images are not cross-checked");
    }
    found
}

/// `qemu-img check` of the image at `path`: `Err` with its output where it finds a problem.
pub fn qemu_img_check(path: &str) -> Result<(), String> {
    let out = Command::new("qemu-img")
        .args(["check", path])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", text(&out.stdout), text(&out.stderr)))
    }
}
