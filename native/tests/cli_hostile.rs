//! Hostile use of `labvisor`: output that cannot be written, special files where a file is
//! expected, two writers on one image, numbers that overflow, misuse that would lose data.
//! Every case must end with a clear error and a non-zero exit, never a panic (exit 101), a
//! hang or a damaged image.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn labvisor_in(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labvisor"));
    cmd.current_dir(dir).env_remove("LC_ALL").env("LANG", "C");
    cmd
}

/// Runs `labvisor ARGS` in `dir` with ordinary pipes.
fn run(dir: &Path, args: &[&str]) -> Output {
    labvisor_in(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the labvisor binary runs")
}

/// Runs `labvisor ARGS` in `dir` with `stdin`, failing the test if it has not ended in 20 s
/// (a FIFO opened for reading blocks until a writer comes, which in these tests is never).
fn run_with_deadline(dir: &Path, args: &[&str], stdin: Stdio) -> Output {
    let mut child = labvisor_in(dir)
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &Path) {
    use rustix::fs::{mkfifoat, Mode, CWD};
    mkfifoat(CWD, path, Mode::RUSR | Mode::WUSR).unwrap();
}

fn code(out: &Output) -> i32 {
    out.status
        .code()
        .unwrap_or_else(|| panic!("labvisor ended by a signal: {:?}", out.status))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn dev_full() -> File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux")
}

/// A scratch directory with an image and a scenario, for the commands that need files.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| {
        let out = run(dir.path(), args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    };
    ok(&["disk", "create", "a.vdi", "--size", "8M"]);
    ok(&["disk", "create", "s.vdi", "--size", "8M"]);
    ok(&["disk", "snapshot", "s.vdi"]);
    ok(&["net", "example", "home-router", "-o", "lab.toml"]);
    std::fs::create_dir(dir.path().join("backups")).unwrap();
    let solution = run(dir.path(), &["lesson", "solve", "ports", "range-of-3306"]);
    std::fs::write(dir.path().join("actions.json"), &solution.stdout).unwrap();
    dir
}

/// Every subcommand that prints on stdout, as a user would call it.
fn every_printing_command() -> Vec<Vec<&'static str>> {
    let mut commands = vec![
        vec!["--help"],
        vec!["lesson", "list"],
        vec!["lesson", "show", "nat"],
        vec![
            "lesson",
            "check",
            "ports",
            "range-of-3306",
            "--actions",
            "actions.json",
        ],
        vec!["lesson", "solve", "ports", "range-of-3306"],
        vec!["lesson", "solve", "ports", "range-of-3306", "--share"],
        vec![
            "lesson",
            "lint",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../lessons/content"),
        ],
        vec!["hypervisor"],
        vec!["hypervisor", "kvm"],
        vec!["hypervisor", "--json"],
        vec!["ip", "10.0.0.1"],
        vec!["ip", "10.0.0.1", "--json"],
        vec!["port", "22"],
        vec!["port"],
        vec!["host", "plan", "--vm", "2:4G"],
        vec!["net", "run", "lab.toml"],
        vec!["net", "reach", "lab.toml"],
        vec!["net", "example", "--list"],
        vec!["net", "example", "home-router", "-o", "-"],
        vec!["disk", "create", "new.vdi", "--size", "8M"],
        vec!["disk", "info", "a.vdi"],
        vec!["disk", "write", "a.vdi", "--at", "0", "--len", "1M"],
        vec!["disk", "delete", "a.vdi", "--at", "0", "--len", "1M"],
        vec!["disk", "trim", "a.vdi", "--at", "0", "--len", "1M"],
        vec!["disk", "compact", "a.vdi"],
        vec!["disk", "snapshot", "a.vdi"],
        vec!["disk", "revert", "s.vdi"],
        vec!["disk", "merge", "s.vdi"],
        vec!["disk", "backup", "a.vdi", "backups", "--allow-same-device"],
        vec!["disk", "plan", "--host-disk", "1T", "--vm", "1G:fixed"],
        vec!["doctor"],
        vec!["doctor", "--json"],
    ];
    if Path::new("/dev/kvm").exists() {
        commands.push(vec!["vm", "run", "--json", "--run", "poweroff"]);
    }
    commands
}

#[test]
fn every_command_reports_a_full_stdout_instead_of_panicking() {
    for args in every_printing_command() {
        let dir = scratch();
        let out = labvisor_in(dir.path())
            .args(&args)
            .stdin(Stdio::null())
            .stdout(dev_full())
            .output()
            .unwrap();
        assert_eq!(code(&out), 1, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(
                "labvisor: error: cannot write to standard output: No space left on device"
            ),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_full_stderr_keeps_the_exit_status_of_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], i32); 4] = [
        (&["ip", "999.1.1.1"], 2),
        (&["ip", "10.0.0.1", "--nope"], 2),
        (&["disk", "info", "missing.vdi"], 1),
        (&["ip", "10.0.0.1"], 0),
    ];
    for (args, expected) in cases {
        let out = labvisor_in(dir.path())
            .args(args)
            .stderr(dev_full())
            .output()
            .unwrap();
        assert_eq!(code(&out), expected, "{args:?}");
    }
    // Both streams full: still the write error's status, not a panic.
    let out = labvisor_in(dir.path())
        .args(["ip", "10.0.0.1"])
        .stdout(dev_full())
        .stderr(dev_full())
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
}

#[test]
fn disk_sizes_that_overflow_are_refused_not_wrapped() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "disk",
            "plan",
            "--host-disk",
            "1T",
            "--vm",
            "18446744073709551615:fixed",
        ],
    );
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        stderr(&out),
        "labvisor: error: vm1: 18446744073709551615 bytes (16777216.0 TiB) is larger than a VDI image can be: at most 0x3FFFFFFF blocks of 1 MiB, just under 1024 TiB\n"
    );
    // Each disk can be a VDI, but together they pass 2^64 bytes: does not fit, exit 1.
    let big = "1023T:fixed";
    let mut args = vec!["disk", "plan", "--host-disk", "1T"];
    for _ in 0..20000 {
        args.extend(["--vm", big]);
    }
    let out = run(dir.path(), &args);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Does not fit"));
}

#[test]
fn special_files_and_endless_input_are_refused_not_read() {
    let dir = scratch();
    mkfifo(&dir.path().join("fifo"));
    mkfifo(&dir.path().join("fifo.vdi"));
    // 2 MiB of zeros, sparse: more than any scenario or actions file may be.
    let big = File::create(dir.path().join("big.toml")).unwrap();
    big.set_len(2 << 20).unwrap();
    let check = ["lesson", "check", "ports", "range-of-3306", "--actions"];
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["net", "run", "/dev/zero"], 2, "labvisor: error: /dev/zero is a character device; the scenario file must be a regular file\n"),
        (vec!["net", "reach", "fifo"], 2, "labvisor: error: fifo is a named pipe (FIFO); the scenario file must be a regular file\n"),
        (vec!["net", "run", "."], 2, "labvisor: error: . is a directory; the scenario file must be a regular file\n"),
        (vec!["net", "run", "big.toml"], 2, "labvisor: error: big.toml is larger than 1 MiB: scenario files are at most 1 MiB (is it the right file?)\n"),
        (vec!["net", "run", "missing.toml"], 1, "labvisor: error: cannot read scenario file missing.toml: No such file or directory\n"),
        ([&check[..], &["/dev/zero"]].concat(), 2, "labvisor: error: /dev/zero is a character device; the actions file must be a regular file\n"),
        ([&check[..], &["fifo"]].concat(), 2, "labvisor: error: fifo is a named pipe (FIFO); the actions file must be a regular file\n"),
        ([&check[..], &["big.toml"]].concat(), 2, "labvisor: error: big.toml is larger than 1 MiB: actions files are at most 1 MiB (is it the right file?)\n"),
        (vec!["disk", "info", "fifo.vdi"], 1, "labvisor: error: fifo.vdi: not a regular file but a named pipe (FIFO)\n"),
        (vec!["disk", "write", "fifo", "--at", "0", "--len", "1M"], 1, "labvisor: error: fifo: not a regular file but a named pipe (FIFO)\n"),
        (vec!["disk", "info", "/dev/null"], 1, "labvisor: error: /dev/null: not a regular file but a character device\n"),
    ];
    for (args, expected, message) in cases {
        let out = run_with_deadline(dir.path(), &args, Stdio::null());
        assert_eq!(
            (code(&out), stderr(&out).as_str()),
            (expected, message),
            "{args:?}"
        );
    }
    let endless = File::open("/dev/zero").unwrap();
    let out = run_with_deadline(dir.path(), &[&check[..], &["-"]].concat(), endless.into());
    assert_eq!(
        (code(&out), stderr(&out).as_str()),
        (2, "labvisor: error: standard input is larger than 1 MiB: actions files are at most 1 MiB (is it the right file?)\n")
    );
    // A FIFO among the snapshots: info and backup stop with its name instead of waiting.
    mkfifo(
        &dir.path()
            .join("s.vdi.snapshots/{00000000-0000-0000-0000-000000000000}.vdi"),
    );
    for args in [
        vec!["disk", "info", "s.vdi"],
        vec!["disk", "backup", "s.vdi", "backups", "--allow-same-device"],
    ] {
        let out = run_with_deadline(dir.path(), &args, Stdio::null());
        assert_eq!(code(&out), 1, "{args:?}");
        assert!(
            stderr(&out).ends_with("{00000000-0000-0000-0000-000000000000}.vdi: not a regular file but a named pipe (FIFO)\n"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// Holds `path`'s image lock as another labvisor process would.
/// A lock on an image, held as another labvisor process would hold it.
struct HeldLock(File);

impl Drop for HeldLock {
    fn drop(&mut self) {
        // Unlocked explicitly, not by closing: a child another test thread is forking at this
        // moment shares the open file, and closing ours would leave the lock held by its copy
        // until that child execs.
        let _ = rustix::fs::flock(&self.0, rustix::fs::FlockOperation::Unlock);
    }
}

fn hold_lock(path: &Path, exclusive: bool) -> HeldLock {
    use rustix::fs::{flock, FlockOperation};
    let file = File::open(path).unwrap();
    let op = if exclusive {
        FlockOperation::NonBlockingLockExclusive
    } else {
        FlockOperation::NonBlockingLockShared
    };
    flock(&file, op).unwrap();
    HeldLock(file)
}

#[test]
fn an_image_in_use_is_refused_clearly() {
    let dir = scratch();
    let in_use = "labvisor: error: a.vdi is in use by another labvisor process (it holds the image's lock): wait until it ends, then try again\n";
    let writers: [&[&str]; 6] = [
        &["disk", "write", "a.vdi", "--at", "0", "--len", "1M"],
        &["disk", "trim", "a.vdi", "--at", "0", "--len", "1M"],
        &["disk", "compact", "a.vdi"],
        &["disk", "snapshot", "a.vdi"],
        &["disk", "revert", "a.vdi"],
        &["disk", "merge", "a.vdi"],
    ];
    let readers: [&[&str]; 3] = [
        &["disk", "info", "a.vdi"],
        &["disk", "delete", "a.vdi", "--at", "0", "--len", "1M"],
        &["disk", "backup", "a.vdi", "backups", "--allow-same-device"],
    ];
    // A writer holds it: nobody else may open it.
    let lock = hold_lock(&dir.path().join("a.vdi"), true);
    for args in writers.iter().chain(&readers) {
        let out = run(dir.path(), args);
        assert_eq!((code(&out), stderr(&out).as_str()), (1, in_use), "{args:?}");
    }
    drop(lock);
    // A reader holds it: other readers may read, writers are refused.
    let lock = hold_lock(&dir.path().join("a.vdi"), false);
    for args in writers {
        let out = run(dir.path(), args);
        assert_eq!((code(&out), stderr(&out).as_str()), (1, in_use), "{args:?}");
    }
    let out = run(dir.path(), &["disk", "info", "a.vdi"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    drop(lock);
    let out = run(dir.path(), writers[0]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn two_writers_at_once_never_corrupt_an_image() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..5 {
        let name = format!("r{round}.vdi");
        let out = run(dir.path(), &["disk", "create", &name, "--size", "256M"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let writers: Vec<_> = ["0", "128M"]
            .into_iter()
            .map(|at| {
                labvisor_in(dir.path())
                    .args(["disk", "write", &name, "--at", at, "--len", "96M"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for w in writers {
            let out = w.wait_with_output().unwrap();
            let err = stderr(&out);
            assert!(
                code(&out) == 0
                    || (code(&out) == 1 && err.contains("is in use by another labvisor process")),
                "{err}"
            );
        }
        // The image opens with every block-map check passing.
        let out = run(dir.path(), &["disk", "info", &name]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        if Path::new("/usr/bin/qemu-img").exists() {
            let check = Command::new("qemu-img")
                .args(["check", "-f", "vdi", &name])
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(
                check.status.success(),
                "{}",
                String::from_utf8_lossy(&check.stdout)
            );
        }
    }
}

#[test]
fn misuse_that_would_lose_data_is_refused() {
    let dir = scratch();
    let header = std::fs::read(dir.path().join("a.vdi")).unwrap()[..512].to_vec();
    // A raw write on a VDI would overwrite its header.
    let out = run(
        dir.path(),
        &[
            "disk", "write", "--format", "raw", "a.vdi", "--at", "0", "--len", "1M",
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).starts_with("labvisor: error: a.vdi carries a VDI header (signature 0xBEDA107F at offset 0x40), but --format raw was given"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(dir.path().join("a.vdi")).unwrap()[..512],
        header
    );
    let out = run(dir.path(), &["disk", "compact", "--format", "raw", "a.vdi"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    // Forced, it is the user's call (a raw disk whose first bytes look like a VDI).
    let out = run(
        dir.path(),
        &["disk", "info", "--format", "raw", "--force-format", "a.vdi"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // A backup into the image's own snapshot directory would join the chain.
    let out = run(
        dir.path(),
        &[
            "disk",
            "backup",
            "s.vdi",
            "s.vdi.snapshots",
            "--allow-same-device",
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out)
            .starts_with("labvisor: error: s.vdi.snapshots is inside s.vdi's own snapshot chain"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["disk", "info", "s.vdi"]);
    assert_eq!(code(&out), 0, "the disk still opens: {}", stderr(&out));
}

#[test]
fn a_snapshot_taken_through_a_symlink_keeps_its_chain_beside_the_real_image() {
    let dir = scratch();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::fs::rename(dir.path().join("a.vdi"), dir.path().join("real/a.vdi")).unwrap();
    std::os::unix::fs::symlink("real/a.vdi", dir.path().join("link.vdi")).unwrap();
    let out = run(dir.path(), &["disk", "snapshot", "link.vdi"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(dir.path().join("real/a.vdi.snapshots").is_dir());
    assert!(!dir.path().join("link.vdi.snapshots").exists());
    // Through the real path, writes go to the snapshot; the frozen base stays as it was.
    let base = std::fs::read(dir.path().join("real/a.vdi")).unwrap();
    let out = run(
        dir.path(),
        &["disk", "write", "real/a.vdi", "--at", "0", "--len", "1M"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read(dir.path().join("real/a.vdi")).unwrap(), base);
    let out = run(dir.path(), &["--json", "disk", "info", "link.vdi"]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["snapshots"].as_array().map(Vec::len), Some(1));
}

#[test]
fn huge_images_are_bounded_and_sparse_ones_are_quick() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["disk", "create", "big.vdi", "--size", "1023T"],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("Labvisor creates images up to 16 TiB"),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.path().join("big.vdi").exists(),
        "no empty file is left"
    );
    // A 15 TiB sparse raw file with one piece of data: every command follows the data.
    let started = std::time::Instant::now();
    for args in [
        &["disk", "create", "big.raw", "--size", "15T"][..],
        &["disk", "write", "big.raw", "--at", "14T", "--len", "1M"],
        &["disk", "delete", "big.raw", "--at", "0", "--len", "15T"],
        &["disk", "compact", "big.raw"],
        &["disk", "info", "big.raw"],
    ] {
        let out = run(dir.path(), args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    }
    let took = started.elapsed();
    assert!(took.as_secs() < 15, "15 TiB of holes took {took:?}");
}

#[test]
fn unclear_errors_are_made_specific() {
    let dir = scratch();
    let expect = |args: &[&str], code_wanted: i32, message: &str| {
        let out = run(dir.path(), args);
        assert_eq!(
            (code(&out), stderr(&out).as_str()),
            (code_wanted, message),
            "{args:?}"
        );
    };
    expect(
        &["ip", "0.0.0.0/0", "--split", "4294967296"],
        2,
        "labvisor: error: --split \"4294967296\" is too many: at most 65536 subnets are listed (a /16 split into /32s)\n",
    );
    expect(
        &["ip", "0.0.0.0/0", "--split", "2147483648"],
        2,
        "labvisor: error: --split \"2147483648\" is too many: at most 65536 subnets are listed (a /16 split into /32s)\n",
    );
    // A malformed actions file is a usage error (2), as a bad --share is; 1 means a wrong answer.
    std::fs::write(dir.path().join("bad.json"), "[{\"answer\": ").unwrap();
    let check = ["lesson", "check", "ports", "range-of-3306", "--actions"];
    let out = run(dir.path(), &[&check[..], &["bad.json"]].concat());
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("labvisor: error: bad.json:1:"),
        "{}",
        stderr(&out)
    );
    std::fs::write(
        dir.path().join("bad.bin"),
        [
            2u8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ],
    )
    .unwrap();
    expect(
        &[&check[..], &["bad.bin"]].concat(),
        2,
        "labvisor: error: bad.bin: not a postcard action log: after byte 11 of 11: a number whose encoding never ends\n",
    );
    // A name the VDI header cannot keep whole is refused, and nothing is left behind.
    let long = "n".repeat(300);
    expect(
        &["disk", "snapshot", "a.vdi", "--name", &long],
        2,
        "labvisor: error: a.vdi: the snapshot name is 300 bytes long; a VDI keeps at most 255 bytes of it (in its header's description): choose a shorter name\n",
    );
    assert!(
        !dir.path().join("a.vdi.snapshots").exists(),
        "no empty snapshot directory"
    );
    // A snapshot that fails after creating its directory removes it again.
    std::fs::write(dir.path().join("r.raw"), [0u8; 4096]).unwrap();
    let out = run(dir.path(), &["disk", "snapshot", "r.raw"]);
    assert_ne!(code(&out), 0);
    assert!(
        !dir.path().join("r.raw.snapshots").exists(),
        "{}",
        stderr(&out)
    );
}
