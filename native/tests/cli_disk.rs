//! Snapshots of `labvisor disk`: what a learner sees, step by step, including the errors.
//!
//! Commands run in a fresh directory with relative paths; UUIDs (random by design) and the
//! directory itself are redacted. The directory is on tmpfs (`/dev/shm`) where there is one,
//! because ext4 sometimes counts an extent-tree block in a file's allocated size, which would
//! make the host-bytes figures in the snapshots vary by 4 KiB from run to run.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory, removed when dropped.
struct Workdir(PathBuf);

impl std::ops::Deref for Workdir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        if let Some(parent) = self.0.parent() {
            // Succeeds only once the last test's directory is gone.
            let _ = std::fs::remove_dir(parent);
        }
    }
}

fn workdir(name: &str) -> Workdir {
    let shm = Path::new("/dev/shm");
    let root = if shm.is_dir() {
        shm.join(format!("labvisor-cli-disk-{}", std::process::id()))
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_disk")
    };
    let dir = root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Workdir(dir)
}

/// Replaces every 8-4-4-4-12 hex UUID with `[UUID]`.
fn redact_uuids(text: &str) -> String {
    let shape = [8, 4, 4, 4, 12];
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    'scan: while i < bytes.len() {
        let mut j = i;
        for (k, &n) in shape.iter().enumerate() {
            if j + n > bytes.len() || !bytes[j..j + n].iter().all(u8::is_ascii_hexdigit) {
                out.push(bytes[i] as char);
                i += 1;
                continue 'scan;
            }
            j += n;
            if k < 4 {
                if bytes.get(j) != Some(&b'-') {
                    out.push(bytes[i] as char);
                    i += 1;
                    continue 'scan;
                }
                j += 1;
            }
        }
        out.push_str("[UUID]");
        i = j;
    }
    out
}

/// Runs each command line in `dir` and returns the transcript.
fn transcript(dir: &Path, lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines {
        let args: Vec<&str> = line.split_whitespace().collect();
        let run = Command::new(env!("CARGO_BIN_EXE_labvisor"))
            .args(&args)
            .current_dir(dir)
            .env("LANG", "en_US.UTF-8")
            .env_remove("LC_ALL")
            .output()
            .unwrap();
        out.push_str(&format!("$ labvisor {line}\n"));
        out.push_str(&String::from_utf8_lossy(&run.stdout));
        out.push_str(&String::from_utf8_lossy(&run.stderr));
        out.push_str(&format!("[exit {}]\n\n", run.status.code().unwrap_or(-1)));
    }
    let dir_text = dir.display().to_string();
    redact_uuids(&out.replace(&dir_text, "[TMP]"))
}

#[test]
fn dynamic_image_grows_and_compacts_only_zeroed_space() {
    let dir = workdir("grow");
    insta::assert_snapshot!(transcript(
        &dir,
        &[
            "disk create disk.vdi --size 128G --alloc dynamic",
            "disk write disk.vdi --at 10M --len 64M",
            "disk info disk.vdi",
            "disk delete disk.vdi --at 10M --len 64M",
            "disk compact disk.vdi",
            "disk write disk.vdi --at 10M --len 64M --pattern zero",
            "disk compact disk.vdi",
            "disk info disk.vdi --json",
        ]
    ));
}

#[test]
fn fixed_and_raw_images() {
    let dir = workdir("fixed");
    insta::assert_snapshot!(transcript(
        &dir,
        &[
            "disk create fixed.vdi --size 32M --alloc fixed",
            "disk write fixed.vdi --at 1M --len 4M",
            "disk info fixed.vdi",
            "disk compact fixed.vdi",
            "disk create sparse.raw --size 16M",
            "disk write sparse.raw --at 2M --len 3M",
            "disk info sparse.raw",
        ]
    ));
}

#[test]
fn snapshots_revert_and_merge() {
    let dir = workdir("snapshots");
    insta::assert_snapshot!(transcript(
        &dir,
        &[
            "disk create vm.vdi --size 16M",
            "disk write vm.vdi --at 0 --len 4M",
            "disk revert vm.vdi",
            "disk snapshot vm.vdi --name before-upgrade",
            "disk write vm.vdi --at 1M --len 64K",
            "disk info vm.vdi",
            "disk revert vm.vdi",
            "disk write vm.vdi --at 8M --len 2M",
            "disk merge vm.vdi",
            "disk info vm.vdi",
        ]
    ));
}

#[test]
fn plan_shows_overcommit() {
    let dir = workdir("plan");
    insta::assert_snapshot!(transcript(
        &dir,
        &[
            "disk plan --host-disk 256G --vm 128G:dynamic --vm 128G:dynamic",
            "disk plan --host-disk 256G --vm 128G:dynamic --vm 128G:fixed",
            "disk plan --host-disk 256G --vm 200G:fixed --vm 128G:fixed",
            "disk plan --host-disk 256G --vm 128G:thin",
        ]
    ));
}

#[test]
fn errors_are_specific_and_exit_codes_distinguish_usage_from_runtime() {
    let dir = workdir("errors");
    std::fs::write(dir.join("notes.vdi"), vec![b'x'; 600]).unwrap();
    insta::assert_snapshot!(transcript(
        &dir,
        &[
            "disk create a.vdi --size 128GB",
            "disk create a.vdi --size lots",
            "disk create a.vdi --size 1000",
            "disk create a.vdi --size 8M",
            "disk create a.vdi --size 8M",
            "disk write a.vdi --at 7M --len 2M",
            "disk info missing.vdi",
            "disk info notes.vdi",
            "disk write notes.vdi --at 0 --len 1K",
            "disk merge a.vdi",
            "disk backup a.vdi .",
        ]
    ));
    // The rejected image was not touched.
    assert_eq!(
        std::fs::read(dir.join("notes.vdi")).unwrap(),
        vec![b'x'; 600]
    );
}

#[test]
fn redaction_finds_uuids() {
    assert_eq!(
        redact_uuids("x {5c68621f-dd03-4f62-b6f6-fe41cab45f7b}.vdi y"),
        "x {[UUID]}.vdi y"
    );
}
