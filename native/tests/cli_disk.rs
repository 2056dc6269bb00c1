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
    fn uuid_len_at(bytes: &[u8]) -> Option<usize> {
        let mut at = 0;
        for (k, n) in [8, 4, 4, 4, 12].into_iter().enumerate() {
            let group = bytes.get(at..at + n)?;
            if !group.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            at += n;
            if k < 4 {
                if bytes.get(at) != Some(&b'-') {
                    return None;
                }
                at += 1;
            }
        }
        Some(at)
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match uuid_len_at(rest.as_bytes()) {
            Some(n) => {
                out.push_str("[UUID]");
                rest = &rest[n..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Runs each command line in `dir` and returns the transcript.
fn transcript(dir: &Path, lines: &[&str]) -> String {
    transcript_in(dir, "en_US.UTF-8", lines)
}

/// Like [`transcript`], with `LANG` set to `lang`.
fn transcript_in(dir: &Path, lang: &str, lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines {
        let args: Vec<&str> = line.split_whitespace().collect();
        let run = Command::new(env!("CARGO_BIN_EXE_labvisor"))
            .args(&args)
            .current_dir(dir)
            .env("LANG", lang)
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
            "disk create a.vdi --size 128Q",
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
fn trim_gives_whole_blocks_back_at_once() {
    let dir = workdir("trim");
    insta::assert_snapshot!(transcript(
        &dir,
        &[
            "disk create t.vdi --size 16M",
            "disk write t.vdi --at 0 --len 8M",
            "disk trim t.vdi --at 512K --len 4M",
            "disk info t.vdi",
            "disk create t.raw --size 16M",
            "disk write t.raw --at 0 --len 8M",
            "disk trim t.raw --at 0 --len 4M",
        ]
    ));
}

#[test]
fn korean_learners_read_korean() {
    let dir = workdir("korean");
    insta::assert_snapshot!(transcript_in(
        &dir,
        "ko_KR.UTF-8",
        &[
            "disk create vm.vdi --size 64M",
            "disk write vm.vdi --at 0 --len 8M",
            "disk delete vm.vdi --at 0 --len 8M",
            "disk compact vm.vdi",
            "disk snapshot vm.vdi --name 설치전",
            "disk write vm.vdi --at 1M --len 4K",
            "disk info vm.vdi",
            "disk revert vm.vdi",
            "disk merge vm.vdi",
            "disk plan --host-disk 256G --vm 128G:dynamic --vm 128G:fixed",
        ]
    ));
}

#[test]
fn redaction_finds_uuids() {
    assert_eq!(
        redact_uuids("스냅샷 {5c68621f-dd03-4f62-b6f6-fe41cab45f7b}.vdi y"),
        "스냅샷 {[UUID]}.vdi y"
    );
}

#[test]
fn bench_measures_every_image_kind_on_the_learners_disk_and_cleans_up() {
    let dir = workdir("bench");
    let run = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(["disk", "bench", "--size", "4M", "--runs", "1", "--json"])
        .current_dir(&*dir)
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(rows.len(), 2 * 5, "two workloads × five image kinds");
    let row = |workload: &str, variant: &str| {
        rows.iter()
            .find(|r| r["workload"] == workload && r["variant"] == variant)
            .unwrap_or_else(|| panic!("no row {workload} {variant}"))
    };
    // A sequential first write allocates each of the 4 MiB disk's four 1 MiB blocks.
    assert_eq!(
        row("sequential1_m", "vdi_dynamic_first_write")["host_growth"],
        4 << 20
    );
    assert_eq!(row("sequential1_m", "vdi_fixed")["host_growth"], 0);
    assert_eq!(row("random4_k", "raw_preallocated")["vs_raw_cpu"], 1.0);
    for r in &rows {
        assert!(r["mib_per_s_cpu"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert_eq!(
        std::fs::read_dir(&*dir).unwrap().count(),
        0,
        "the images and their folder are removed"
    );
    insta::assert_snapshot!(transcript(
        &dir,
        &[
            "disk bench --size 3M",
            "disk bench --size 8G",
            "disk bench --runs 0",
            "disk bench --dir missing",
        ]
    ));
}
