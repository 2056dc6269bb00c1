//! Real VM disks: the guest writes, zeroes and trims blocks of images made by `labvisor disk`,
//! and the host files change the way the disk lessons say (a dynamic VDI grows by whole 1 MiB
//! blocks, zeroing keeps them, trimming gives them back), checked by `qemu-img` where it is
//! installed.

use std::path::PathBuf;
use std::process::{Command, Stdio};

mod common;

use common::{
    fnv1a, kvm_available, labvisor, qemu_img_available, qemu_img_check, read_until, text, vm_json,
};

/// A directory for one test's images, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("labvisor-vm-disk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self, file: &str) -> String {
        self.0.join(file).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn create(path: &str, size: &str, alloc: &str) {
    let out = labvisor(&["disk", "create", path, "--size", size, "--alloc", alloc]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Boots the guest with `disks` and runs `workload`; returns the console.
fn run_vm(disks: &[&str], workload: &str) -> String {
    let mut args = vec!["vm", "run", "--timeout", "60s", "--run", workload];
    for d in disks {
        args.extend(["--disk", d]);
    }
    let out = labvisor(&args);
    let console = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{console}\n{}",
        text(&out.stderr)
    );
    console
}

fn file_len(path: &str) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// `qemu-img check` of `path`, which must pass.
fn qemu_img_clean(path: &str) {
    if let Err(problem) = qemu_img_check(path) {
        panic!("qemu-img check {path}: {problem}");
    }
}

fn checksums(console: &str) -> Vec<String> {
    console
        .lines()
        .filter_map(|l| l.split("fnv1a64 ").nth(1))
        .map(|rest| rest.split(',').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_dynamic_vdi_grows_by_whole_blocks_keeps_zeroed_ones_and_gives_trimmed_ones_back() {
    if !kvm_available() {
        return;
    }
    let dir = Scratch::new("dynamic");
    let (vdi, raw) = (dir.path("vm.vdi"), dir.path("vm.raw"));
    create(&vdi, "64M", "dynamic");
    create(&raw, "64M", "fixed");
    let empty = file_len(&vdi);

    // The same steps on both images; the raw one is the reference.
    let steps = [
        ("fill 16M; sync; poweroff", "written"),
        ("write 20M 4K; sync; poweroff", "one more block"),
        ("zero 0 8M; sync; poweroff", "zeroed"),
        ("trim 8M 8M; sync; poweroff", "trimmed"),
    ];
    let mut sizes = vec![empty];
    for (workload, what) in steps {
        run_vm(&[&vdi], workload);
        run_vm(&[&raw], workload);
        sizes.push(file_len(&vdi));
        if qemu_img_available() {
            qemu_img_clean(&vdi);
            let out = Command::new("qemu-img")
                .args(["compare", "-f", "vdi", "-F", "raw", &vdi, &raw])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "after {what}, the VDI and the raw copy differ: {}",
                text(&out.stdout)
            );
        }
    }
    const MIB: u64 = 1 << 20;
    assert_eq!(sizes[1] - sizes[0], 16 * MIB, "16 whole blocks: {sizes:?}");
    assert_eq!(
        sizes[2] - sizes[1],
        MIB,
        "4 KiB in a new block costs a whole block: {sizes:?}"
    );
    assert_eq!(sizes[3], sizes[2], "zeroing does not shrink: {sizes:?}");
    assert_eq!(
        sizes[3] - sizes[4],
        8 * MIB,
        "trimming 8 whole blocks gives them back: {sizes:?}"
    );

    // What the guest reads back is what it wrote, on both images.
    let check = "read 0 24M; poweroff";
    let from_vdi = checksums(&run_vm(&[&vdi], check));
    let from_raw = checksums(&run_vm(&[&raw], check));
    assert_eq!(from_vdi.len(), 1);
    assert_eq!(from_vdi, from_raw);
}

#[test]
fn fixed_vdi_and_raw_hold_the_same_data() {
    if !kvm_available() {
        return;
    }
    let dir = Scratch::new("fixed");
    let (fixed, raw) = (dir.path("fixed.vdi"), dir.path("disk.raw"));
    create(&fixed, "16M", "fixed");
    create(&raw, "16M", "dynamic");
    let workload = "write 0 3M; write 5M 64K 0x7e; read 0 16M; poweroff";
    let a = checksums(&run_vm(&[&fixed], workload));
    let b = checksums(&run_vm(&[&raw], workload));
    assert_eq!(a.len(), 1);
    assert_eq!(a, b, "the same bytes read back from both formats");
    if qemu_img_available() {
        qemu_img_clean(&fixed);
    }
}

#[test]
fn read_only_and_snapshot_disks_leave_the_image_unchanged() {
    if !kvm_available() {
        return;
    }
    let dir = Scratch::new("modes");
    let vdi = dir.path("base.vdi");
    create(&vdi, "16M", "dynamic");
    run_vm(&[&vdi], "write 0 1M; poweroff");
    let before = std::fs::read(&vdi).unwrap();

    let ro = format!("{vdi},readonly");
    let console = run_vm(&[&ro], "disk; write 0 4K 0x11; poweroff");
    assert!(console.contains("read-only"), "{console}");
    assert!(
        console.contains("write: the disk is read-only"),
        "{console}"
    );

    // The temporary differencing image goes to $TMPDIR: a directory of this test's own.
    let tmp = dir.0.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let snap = format!("{vdi},snapshot");
    let out = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(["vm", "run", "--timeout", "60s", "--disk", &snap])
        .args(["--run", "write 0 4K 0x11; read 0 4K; poweroff"])
        .env("LANG", "C")
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let console = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{console}");
    assert!(console.contains("wrote 4096 bytes at 0"), "{console}");
    assert_eq!(
        std::fs::read(&vdi).unwrap(),
        before,
        "the snapshot's writes went to a temporary image"
    );
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(
        left.is_empty(),
        "the temporary image is removed at the end: {left:?}"
    );
    // And it really is made there: with nowhere to make it, the VM does not start.
    let nowhere = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(["vm", "run", "--disk", &snap, "--run", "poweroff"])
        .env("LANG", "C")
        .env("TMPDIR", dir.0.join("missing"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_ne!(nowhere.status.code(), Some(0));
    assert!(
        text(&nowhere.stderr).contains("missing"),
        "{}",
        text(&nowhere.stderr)
    );
}

#[test]
fn bad_disks_are_refused_before_boot() {
    if !kvm_available() {
        return;
    }
    let dir = Scratch::new("bad");
    let bogus = dir.path("bogus.vdi");
    std::fs::write(&bogus, b"<<< Oracle VM VirtualBox Disk Image >>>\n garbage").unwrap();
    for (arg, expected) in [
        (dir.path("missing.vdi"), "missing.vdi"),
        (bogus.clone(), "bogus.vdi"),
        (format!("{bogus},fast"), "`fast` in --disk"),
    ] {
        let out = labvisor(&["vm", "run", "--disk", &arg, "--run", "poweroff"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{arg}: {stderr}");
        assert!(stderr.contains(expected), "{arg}: {stderr}");
        assert!(
            !text(&out.stdout).contains("Labvisor guest OS"),
            "{arg}: refused before boot"
        );
    }
}

#[test]
fn without_a_disk_the_block_commands_say_how_to_get_one() {
    if !kvm_available() {
        return;
    }
    let console = run_vm(&[], "fill 1M; poweroff");
    assert!(
        console.contains("this VM has no disk (start it with `labvisor vm run --disk FILE`)"),
        "{console}"
    );
}

#[test]
fn the_report_shows_what_the_image_cost_the_host_at_boot_and_at_the_end() {
    if !kvm_available() {
        return;
    }
    let dir = Scratch::new("report");
    let vdi = dir.path("vm.vdi");
    create(&vdi, "32M", "dynamic");
    let (report, console, status) = vm_json(&["--disk", &vdi, "--run", "fill 4M; poweroff"]);
    assert_eq!(status, Some(0), "{console}");
    let disk = &report["disks"][0];
    assert_eq!(disk["capacity_bytes"], 32 << 20);
    assert_eq!(disk["usage_at_boot"]["blocks_used"], 0, "{disk}");
    assert_eq!(disk["usage_at_end"]["blocks_used"], 4, "{disk}");
    let grew = disk["usage_at_end"]["file_bytes"].as_u64().unwrap()
        - disk["usage_at_boot"]["file_bytes"].as_u64().unwrap();
    assert_eq!(grew, 4 << 20, "{disk}");
    assert_eq!(disk["bytes_written"], 4 << 20, "{disk}");
}

#[test]
fn an_image_in_use_by_a_vm_is_refused_by_a_second_vm_and_by_labvisor_disk() {
    if !kvm_available() {
        return;
    }
    let dir = Scratch::new("locked");
    let vdi = dir.path("vm.vdi");
    create(&vdi, "16M", "dynamic");
    // The first VM waits at its shell for commands on a pipe kept open.
    let mut first = common::spawn(&[
        "vm",
        "run",
        "--timeout",
        "60s",
        "--disk",
        &vdi,
        "--run",
        "disk",
    ]);
    let mut shell = first.stdin.take().expect("piped");
    // Its lock is taken before the guest boots; wait for the guest so the VM surely runs.
    let mut stdout = first.stdout.take().expect("piped");
    let mut seen = Vec::new();
    read_until(&mut stdout, "read-write", &mut seen);

    let second = labvisor(&["vm", "run", "--disk", &vdi, "--run", "poweroff"]);
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is in use by another labvisor process"),
        "{stderr}"
    );
    let write = labvisor(&["disk", "write", &vdi, "--at", "0", "--len", "1M"]);
    assert_ne!(write.status.code(), Some(0));
    assert!(
        text(&write.stderr).contains("is in use by another labvisor process"),
        "{}",
        text(&write.stderr)
    );

    std::io::Write::write_all(&mut shell, b"poweroff\n").unwrap();
    drop(shell);
    assert_eq!(first.wait().unwrap().code(), Some(0));
    let after = labvisor(&["vm", "run", "--disk", &vdi, "--run", "poweroff"]);
    assert_eq!(
        after.status.code(),
        Some(0),
        "the lock went with the first VM"
    );
}

/// The guest's data pattern over `0..len`, as its `read` checksums it.
fn pattern_checksum(len: u64) -> String {
    fnv1a((0..len).map(|i| (i % 251) as u8 + 1))
}

#[test]
fn a_full_host_disk_pauses_the_vm_and_nothing_is_lost_when_space_comes_back() {
    full_host_disk_pauses_and_resumes("vm.vdi");
}

/// A sparse raw image takes the guest's first writes straight from guest memory (no block
/// map to update), so this is the full host under the path without a copy.
#[test]
fn a_full_host_disk_pauses_a_write_straight_from_guest_memory_too() {
    full_host_disk_pauses_and_resumes("vm.raw");
}

/// A dynamic image named `name` on a 6 MiB filesystem with 3 MiB already taken: `fill 4M`
/// runs out of room, the VM pauses, space comes back, and every byte arrives.
fn full_host_disk_pauses_and_resumes(name: &str) {
    if !kvm_available() {
        return;
    }
    let Some(small) = common::SmallFilesystem::mount("6m", "the full-disk pause") else {
        return;
    };
    let vdi = small.0.join(name).display().to_string();
    create(&vdi, "32M", "dynamic");
    let filler = small.0.join("filler");
    std::fs::write(&filler, vec![1u8; 3 << 20]).unwrap();

    let mut vm = common::spawn_without_input(&[
        "--json",
        "vm",
        "run",
        "--timeout",
        "60s",
        "--disk",
        &vdi,
        "--run",
        "fill 4M; sync; read 0 4M; poweroff",
    ]);
    // The console (stderr with --json) says when the VM pauses; then the host gets room back.
    let mut console = vm.stderr.take().expect("piped");
    let mut seen = Vec::new();
    read_until(&mut console, "[VM paused: disk0", &mut seen);
    std::fs::remove_file(&filler).unwrap();
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut console, &mut rest).unwrap();
    seen.extend_from_slice(&rest);
    let out = vm.wait_with_output().unwrap();
    let console = text(&seen);
    assert_eq!(out.status.code(), Some(0), "{console}");
    assert!(console.contains("No space left on device"), "{console}");
    assert!(console.contains("[VM resumed: disk0"), "{console}");
    assert!(
        console.contains(&pattern_checksum(4 << 20)),
        "every byte of the paused write reached the disk: {console}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["disks"][0]["pauses"], 1, "{report}");
    assert_eq!(
        report["disks"][0]["errors"], 0,
        "the guest saw no error: {report}"
    );
    if qemu_img_available() && name.ends_with(".vdi") {
        qemu_img_clean(&vdi);
    }
}

#[test]
fn killing_the_vm_during_writes_leaves_a_clean_image_with_every_flushed_byte() {
    if !kvm_available() || !qemu_img_available() {
        return;
    }
    let dir = Scratch::new("kill");
    let vdi = dir.path("vm.vdi");
    // 2 MiB of 0x42 at 40 MiB is flushed before the kill; `fill` then writes 0..32 MiB.
    let flushed = fnv1a(std::iter::repeat_n(0x42, 2 << 20));
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    for round in 0..20 {
        let _ = std::fs::remove_file(&vdi);
        create(&vdi, "64M", "dynamic");
        let mut vm = common::spawn_without_input(&[
            "vm",
            "run",
            "--timeout",
            "60s",
            "--disk",
            &vdi,
            "--run",
            "write 40M 2M 0x42; sync; echo flushed; fill 32M; poweroff",
        ]);
        let mut console = vm.stdout.take().expect("piped");
        let mut seen = Vec::new();
        read_until(&mut console, "\nflushed", &mut seen);
        // A moment somewhere in the fill (about 0.25 s of writing natively).
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(std::time::Duration::from_micros((seed >> 33) % 300_000));
        let _ = vm.kill(); // SIGKILL
        let _ = vm.wait();

        qemu_img_clean(&vdi);
        let console = run_vm(&[&vdi], "read 40M 2M; poweroff");
        assert!(
            console.contains(&flushed),
            "round {round}: the flushed 2 MiB read back whole: {console}"
        );
    }
}

#[test]
fn ctrl_a_s_freezes_the_image_and_later_writes_go_to_a_snapshot() {
    if !kvm_available() {
        return;
    }
    if !Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        println!("SKIP: no `script` (util-linux) to give vm run a terminal for Ctrl-A s");
        return;
    }
    let dir = Scratch::new("live-snapshot");
    let vdi = dir.path("vm.vdi");
    create(&vdi, "16M", "dynamic");
    // `script` gives labvisor a terminal, so Ctrl-A works as a learner would type it.
    let command = format!(
        "{} vm run --timeout 60s --disk {vdi} --run 'write 0 1M 0x11'",
        env!("CARGO_BIN_EXE_labvisor")
    );
    let mut vm = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("LANG", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script starts");
    let mut keys = vm.stdin.take().expect("piped");
    let mut screen = vm.stdout.take().expect("piped");
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str, seen: &mut Vec<u8>| read_until(&mut screen, needle, seen);
    wait_for("Type `help`", &mut seen);
    std::io::Write::write_all(&mut keys, b"\x01s").unwrap();
    wait_for("[snapshot of disk0", &mut seen);
    std::io::Write::write_all(&mut keys, b"write 0 1M 0x22\rpoweroff\r").unwrap();
    wait_for("powering off", &mut seen);
    drop(keys);
    // It must exit on its own: restoring the terminal once waited for a key press.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = vm.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = vm.kill();
            panic!(
                "vm run did not exit after the guest powered off: {}",
                text(&seen)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{}", text(&seen));

    let snapshots: Vec<_> = std::fs::read_dir(format!("{vdi}.snapshots"))
        .expect("the snapshot's image sits beside the disk")
        .collect();
    assert_eq!(snapshots.len(), 1);
    // The chain reads the new bytes; the frozen base still holds the old ones.
    let sum = |byte: u8| fnv1a(std::iter::repeat_n(byte, 1 << 20));
    let now = run_vm(&[&vdi], "read 0 1M; poweroff");
    assert!(now.contains(&sum(0x22)), "{now}");
    let raw = dir.path("base.raw");
    if qemu_img_available() {
        let out = Command::new("qemu-img")
            .args(["convert", "-O", "raw", &vdi, &raw])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let base = std::fs::read(&raw).unwrap();
        assert!(
            base[..1 << 20].iter().all(|&b| b == 0x11),
            "the base image kept what it held at the snapshot"
        );
    }
}

#[test]
fn hostile_requests_from_the_guest_get_errors_and_the_disk_keeps_working() {
    if !kvm_available() {
        return;
    }
    let dir = Scratch::new("hostile");
    let vdi = dir.path("vm.vdi");
    create(&vdi, "16M", "dynamic");
    let (report, console, status) = vm_json(&[
        "--disk",
        &vdi,
        "--run",
        "blk-hostile; write 0 4K; read 0 4K; poweroff",
    ]);
    assert_eq!(status, Some(0), "{console}");
    for case in [
        "a read past the end",
        "a 4 GiB write buffer",
        "a read-only status byte",
        "no status byte",
    ] {
        assert!(
            console.contains(&format!("hostile: {case}: IOERR or no status")),
            "{case}: {console}"
        );
    }
    assert!(
        console.contains("hostile: the disk still answers"),
        "{console}"
    );
    assert!(console.contains("wrote 4096 bytes at 0"), "{console}");
    assert_eq!(report["disks"][0]["errors"], 4, "{report}");
    assert_eq!(
        report["disks"][0]["bytes_written"], 4096,
        "the 4 GiB write wrote nothing"
    );
}

/// Lesson 12's story on real files: a snapshot lives on the disk it protects, so it dies with
/// that disk; a backup in another place brings the VM back with everything it had.
#[test]
fn lesson_12_the_snapshot_dies_with_the_host_disk_and_the_backup_elsewhere_restores() {
    if !kvm_available() {
        return;
    }
    let host_disk = Scratch::new("lesson12-host");
    let elsewhere = Scratch::new("lesson12-elsewhere");
    let vm = host_disk.path("vm.vdi");
    create(&vm, "16M", "dynamic");
    let day1 = checksums(&run_vm(
        &[&vm],
        "write 0 2M 0x11; sync; read 0 8M; poweroff",
    ));
    let snap = labvisor(&["disk", "snapshot", &vm, "--name", "day1"]);
    assert!(snap.status.success(), "{}", text(&snap.stderr));
    run_vm(&[&vm], "write 4M 1M 0x22; sync; poweroff");
    let day2 = checksums(&run_vm(&[&vm], "read 0 8M; poweroff"));
    assert_eq!(day2.len(), 1);
    assert_ne!(day1, day2, "day 2's write changed what the disk holds");
    let backup = labvisor(&[
        "disk",
        "backup",
        &vm,
        &elsewhere.0.display().to_string(),
        "--allow-same-device",
    ]);
    assert!(backup.status.success(), "{}", text(&backup.stderr));

    // The host's disk dies, and the snapshot beside the image with it.
    std::fs::remove_dir_all(&host_disk.0).unwrap();
    let lost = labvisor(&["disk", "revert", &vm]);
    assert_eq!(lost.status.code(), Some(1), "{}", text(&lost.stderr));
    assert!(
        text(&lost.stderr).contains("No such file"),
        "{}",
        text(&lost.stderr)
    );

    // The copy elsewhere boots and holds both days' writes, snapshot chain included.
    let restored = elsewhere.path("vm.vdi");
    assert_eq!(
        checksums(&run_vm(&[&restored], "read 0 8M; poweroff")),
        day2
    );
    if qemu_img_available() {
        qemu_img_clean(&restored);
    }
}
