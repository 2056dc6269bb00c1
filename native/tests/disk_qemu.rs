//! Interoperability with qemu-img and qemu-io, tools nobody here wrote: images Labvisor makes
//! pass `qemu-img check` and convert back to the bytes Labvisor wrote; images qemu makes read
//! back correctly through Labvisor.
//!
//! Needs `qemu-utils`; installs it with apt when missing, else prints `SKIP: …`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

use labvisor::disk::{fill_pattern, DiskChain, FileStorage};
use labvisor_core::disk::image::{Format, Image};
use labvisor_core::disk::size::MIB;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Makes sure qemu-img and qemu-io exist (installing qemu-utils once); Err is the skip reason.
fn qemu_tools() -> Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            if have("qemu-img") && have("qemu-io") {
                return Ok(());
            }
            let out = Command::new("apt-get")
                .args([
                    "install",
                    "-y",
                    "-qq",
                    "-o",
                    "DPkg::Lock::Timeout=300",
                    "qemu-utils",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .output()
                .map_err(|e| format!("cannot run apt-get: {e}"))?;
            if have("qemu-img") && have("qemu-io") {
                Ok(())
            } else {
                Err(format!(
                    "apt-get install qemu-utils failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        })
        .clone()
}

macro_rules! require_qemu {
    () => {
        if let Err(reason) = qemu_tools() {
            println!("SKIP: qemu-utils not available: {reason}");
            return;
        }
    };
}

/// Held by each test for its whole run. [`qemu_made_vdi_images_read_back_through_labvisor`]
/// opens images in this process, and a `flock` belongs to the open file, which a child forked
/// by another test meanwhile shares until its `exec`: the next `labvisor disk write` could
/// find its image "in use" (as `disk_durability` once did).
fn one_test_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn workdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("disk_qemu")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn labvisor(args: &[&str], dir: &Path) -> String {
    run(Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(args)
        .current_dir(dir)
        .env("LANG", "C"))
}

fn qemu_info(path: &Path) -> serde_json::Value {
    let text = run(Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(path));
    serde_json::from_str(&text).unwrap()
}

fn qemu_check(path: &Path) {
    let out = Command::new("qemu-img")
        .arg("check")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "qemu-img check {} failed: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("No errors were found"));
}

fn qemu_flat(path: &Path, format: &str) -> Vec<u8> {
    let flat = path.with_extension("flat");
    let _ = std::fs::remove_file(&flat);
    run(Command::new("qemu-img")
        .args(["convert", "-f", format, "-O", "raw"])
        .arg(path)
        .arg(&flat));
    std::fs::read(&flat).unwrap()
}

/// The guest view Labvisor's `write --pattern data` should have produced.
fn expected(size: u64, writes: &[(u64, u64)]) -> Vec<u8> {
    let mut flat = vec![0u8; size as usize];
    for &(at, len) in writes {
        fill_pattern(at, &mut flat[at as usize..(at + len) as usize]);
    }
    flat
}

#[test]
fn labvisor_images_pass_qemu_img_check_and_read_back_identical() {
    let _alone = one_test_at_a_time();
    require_qemu!();
    let dir = workdir("labvisor_made");
    let size = 24 * MIB;
    let writes = [
        (3 * MIB + 100, 5 * MIB),
        (100 << 10, 10 << 10),
        (size - 4096, 4096),
    ];
    for (file, alloc, format) in [
        ("dyn.vdi", "dynamic", "vdi"),
        ("fixed.vdi", "fixed", "vdi"),
        ("sparse.raw", "dynamic", "raw"),
        ("prealloc.raw", "fixed", "raw"),
    ] {
        labvisor(
            &["disk", "create", file, "--size", "24M", "--alloc", alloc],
            &dir,
        );
        for (at, len) in writes {
            labvisor(
                &[
                    "disk",
                    "write",
                    file,
                    "--at",
                    &format!("{at}"),
                    "--len",
                    &format!("{len}"),
                ],
                &dir,
            );
        }
        let path = dir.join(file);
        let info = qemu_info(&path);
        assert_eq!(info["format"], format, "{file}: {info}");
        assert_eq!(info["virtual-size"], size, "{file}: {info}");
        if format == "vdi" {
            qemu_check(&path);
        }
        assert!(
            qemu_flat(&path, format) == expected(size, &writes),
            "{file}: bytes differ"
        );
    }
}

#[test]
fn compacted_and_merged_images_stay_valid_for_qemu() {
    let _alone = one_test_at_a_time();
    require_qemu!();
    let dir = workdir("compact_merge");
    labvisor(&["disk", "create", "d.vdi", "--size", "32M"], &dir);
    labvisor(
        &["disk", "write", "d.vdi", "--at", "0", "--len", "20M"],
        &dir,
    );
    labvisor(
        &[
            "disk",
            "write",
            "d.vdi",
            "--at",
            "2M",
            "--len",
            "8M",
            "--pattern",
            "zero",
        ],
        &dir,
    );
    labvisor(&["disk", "compact", "d.vdi"], &dir);
    let path = dir.join("d.vdi");
    qemu_check(&path);
    let mut want = expected(32 * MIB, &[(0, 20 * MIB)]);
    want[2 * MIB as usize..10 * MIB as usize].fill(0);
    assert!(
        qemu_flat(&path, "vdi") == want,
        "compaction changed guest data"
    );
    let file_len = std::fs::metadata(&path).unwrap().len();
    assert_eq!(file_len, MIB + 12 * MIB, "12 data blocks remain");

    labvisor(&["disk", "snapshot", "d.vdi", "--name", "s1"], &dir);
    labvisor(
        &["disk", "write", "d.vdi", "--at", "25M", "--len", "3M"],
        &dir,
    );
    labvisor(&["disk", "merge", "d.vdi"], &dir);
    qemu_check(&path);
    let tail = expected(32 * MIB, &[(25 * MIB, 3 * MIB)]);
    want[25 * MIB as usize..28 * MIB as usize]
        .copy_from_slice(&tail[25 * MIB as usize..28 * MIB as usize]);
    assert!(
        qemu_flat(&path, "vdi") == want,
        "merge lost or changed data"
    );
}

fn read_all(path: &Path) -> Vec<u8> {
    let disk = DiskChain::open(path, None, false).unwrap();
    let mut buf = vec![0u8; disk.chain().virtual_size() as usize];
    disk.chain().read(0, &mut buf).unwrap();
    buf
}

#[test]
fn qemu_made_vdi_images_read_back_through_labvisor() {
    let _alone = one_test_at_a_time();
    require_qemu!();
    let dir = workdir("qemu_made");
    for (file, opts) in [("q-dyn.vdi", None), ("q-static.vdi", Some("static=on"))] {
        let path = dir.join(file);
        let mut create = Command::new("qemu-img");
        create.args(["create", "-q", "-f", "vdi"]);
        if let Some(o) = opts {
            create.args(["-o", o]);
        }
        run(create.arg(&path).arg("8M"));
        run(Command::new("qemu-io")
            .args([
                "-f",
                "vdi",
                "-c",
                "write -P 0xab 1M 64k",
                "-c",
                "write -P 0x5c 6000k 8k",
            ])
            .arg(&path));
        let storage = FileStorage::open(&path, false).unwrap();
        let image = Image::open(storage, Format::Vdi).unwrap();
        assert_eq!(image.virtual_size(), 8 * MIB);
        let mut want = vec![0u8; 8 * MIB as usize];
        want[MIB as usize..MIB as usize + 65536].fill(0xab);
        want[6000 << 10..6008 << 10].fill(0x5c);
        assert!(
            read_all(&path) == want,
            "{file}: Labvisor reads different bytes"
        );

        // Labvisor writes into qemu's image; qemu still accepts it and sees the same bytes.
        // (This process lets go of the image first: a reader's lock keeps writers out.)
        drop(image);
        labvisor(&["disk", "write", file, "--at", "3M", "--len", "1M"], &dir);
        let tail = expected(8 * MIB, &[(3 * MIB, MIB)]);
        want[3 * MIB as usize..4 * MIB as usize]
            .copy_from_slice(&tail[3 * MIB as usize..4 * MIB as usize]);
        qemu_check(&path);
        assert!(
            qemu_flat(&path, "vdi") == want,
            "{file}: qemu reads different bytes"
        );
        let info = labvisor(&["--json", "disk", "info", file], &dir);
        let info: serde_json::Value = serde_json::from_str(&info).unwrap();
        let kind = if opts.is_some() {
            "vdi-fixed"
        } else {
            "vdi-dynamic"
        };
        assert_eq!(info["info"]["kind"], kind);
    }
}
