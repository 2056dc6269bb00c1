//! Boots Labvisor's embedded guest OS under KVM through the `labvisor` binary, one child
//! process per VM so KVM's resources are always released, and drives its serial console.

use std::io::Write;
use std::process::{Command, Output};

mod common;

use common::{kvm_available, text, wait_or_kill};

/// Runs `labvisor` with `args`, feeding it `stdin`.
fn labvisor(args: &[&str], stdin: &str) -> Output {
    common::labvisor_with_input(args, stdin)
}

#[test]
fn workload_runs_and_the_exit_status_is_the_guests() {
    if !kvm_available() {
        return;
    }
    let out = labvisor(
        &[
            "vm",
            "run",
            "--run",
            "uptime; echo hello from the guest; poweroff 3",
            "--timeout",
            "30s",
        ],
        "",
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "stdout: {stdout}\nstderr: {}",
        text(&out.stderr)
    );
    assert!(stdout.contains("Labvisor guest OS"), "{stdout}");
    assert!(stdout.contains("booted in"), "{stdout}");
    assert!(stdout.contains("labvisor# uptime\r\nup "), "{stdout}");
    assert!(stdout.contains("\r\nhello from the guest\r\n"), "{stdout}");
    assert!(stdout.contains("powering off (status 3)"), "{stdout}");
}

#[test]
fn shell_commands_arrive_through_the_serial_console() {
    if !kvm_available() {
        return;
    }
    let out = labvisor(
        &["vm", "run", "--mem", "32M", "--timeout", "30s"],
        "help\nmem\ndevices\nnonsense\npoweroff 5\n",
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(5),
        "stdout: {stdout}\nstderr: {}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("poweroff [STATUS]"),
        "help lists poweroff: {stdout}"
    );
    assert!(
        stdout.contains("RAM     32768 KiB"),
        "mem reports --mem: {stdout}"
    );
    assert!(
        stdout.contains("Labvisor control device at 0xd0000000"),
        "{stdout}"
    );
    assert!(
        stdout.contains("virtio0     virtio-mmio v2 at 0xd0001000: empty slot"),
        "{stdout}"
    );
    assert!(stdout.contains("nonsense: unknown command"), "{stdout}");
}

#[test]
fn a_hung_guest_is_stopped_at_the_timeout_with_its_last_lines() {
    if !kvm_available() {
        return;
    }
    let out = labvisor(
        &[
            "vm",
            "run",
            "--run",
            "echo about to hang; spin",
            "--timeout",
            "1s",
        ],
        "",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the guest did not power off within 1 s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("| labvisor# spin"),
        "last console lines are shown: {stderr}"
    );
}

#[test]
fn garbage_written_to_the_control_device_is_survived_and_counted() {
    if !kvm_available() {
        return;
    }
    let out = labvisor(
        &[
            "--json",
            "vm",
            "run",
            "--run",
            "ctrl-garbage",
            "--timeout",
            "60s",
        ],
        "",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains("control device survived garbage"),
        "console goes to stderr with --json: {stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--json prints a report");
    assert_eq!(report["ending"]["kind"], "power_off");
    assert!(
        report["ignored_accesses"].as_u64().unwrap() > 100,
        "{report}"
    );
    // Marks written as garbage are kept only up to the device's bound.
    let marks = report["marks"].as_array().unwrap().len() as u64
        + report["dropped_marks"].as_u64().unwrap();
    assert!(
        report["marks"].as_array().unwrap().len() <= 4 + 64,
        "{report}"
    );
    assert!(marks > 4, "{report}");
}

#[test]
fn json_report_has_boot_marks_exits_and_memory() {
    if !kvm_available() {
        return;
    }
    let out = labvisor(
        &[
            "--json",
            "vm",
            "run",
            "--run",
            "poweroff",
            "--timeout",
            "30s",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--json prints a report");
    let names: Vec<&str> = report["marks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for expected in [
        "vmm_start",
        "memory_ready",
        "kernel_loaded",
        "vcpus_ready",
        "guest_kernel_entry",
        "guest_banner",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let times: Vec<f64> = report["marks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["at_ms"].as_f64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "marks are in time order: {times:?}"
    );
    let exits = |kind: &str| report["exits"][kind].as_u64().unwrap();
    assert!(
        (3..30).contains(&exits("mmio_write")),
        "marks, power-off and whole console lines are MMIO writes: {report}"
    );
    assert_eq!(
        exits("io_out"),
        0,
        "the console does not go through the UART byte by byte: {report}"
    );
    assert!(
        report["vmm_rss_bytes"].as_u64().unwrap()
            > report["guest_resident_bytes"].as_u64().unwrap()
    );
    assert_eq!(report["cpus"], 1);
}

#[test]
fn every_cpu_takes_a_share_of_the_work() {
    if !kvm_available() {
        return;
    }
    // Two vCPUs: CI machines have two cores, and a VM may not be wider than its host.
    let out = labvisor(
        &[
            "vm",
            "run",
            "--cpus",
            "2",
            "--run",
            "cpus 600; poweroff",
            "--timeout",
            "60s",
        ],
        "",
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("2 CPUs"), "{stdout}");
    assert!(stdout.contains("2 of 2 CPUs online"), "{stdout}");
    for cpu in ["cpu0", "cpu1"] {
        assert!(stdout.contains(cpu), "{cpu}: {stdout}");
    }
    assert!(
        stdout.contains("total  109 primes"),
        "109 primes below 600: {stdout}"
    );
}

#[test]
fn a_bad_kernel_file_gets_a_clear_error() {
    if !kvm_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("labvisor-vm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bogus = dir.join("not-a-kernel");
    std::fs::write(&bogus, b"this is not a kernel").unwrap();
    let out = labvisor(
        &[
            "vm",
            "run",
            "--kernel",
            bogus.to_str().unwrap(),
            "--timeout",
            "5s",
        ],
        "",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not-a-kernel is neither an ELF kernel nor a Linux bzImage"),
        "{stderr}"
    );
    let missing = labvisor(&["vm", "run", "--kernel", "/nonexistent/bzImage"], "");
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("cannot read kernel /nonexistent/bzImage"),
        "{}",
        text(&missing.stderr)
    );
    // Special files are refused at once, not read without end or waited on.
    let zero = labvisor(&["vm", "run", "--kernel", "/dev/zero"], "");
    assert_eq!(zero.status.code(), Some(2));
    assert!(
        text(&zero.stderr)
            .contains("/dev/zero is a character device; the kernel must be a regular file"),
        "{}",
        text(&zero.stderr)
    );
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let out = labvisor(&["vm", "run", "--kernel", fifo.to_str().unwrap()], "");
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("named pipe"),
            "{}",
            text(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn requests_outside_the_limits_are_usage_errors() {
    let out = labvisor(&["vm", "run", "--mem", "4M"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("between 8 MiB and 3072 MiB, not 4 MiB"),
        "{}",
        text(&out.stderr)
    );
    let out = labvisor(&["vm", "run", "--cpus", "17"], "");
    assert_eq!(out.status.code(), Some(2));
    if kvm_available() {
        let out = labvisor(&["vm", "run", "--mem", "3G", "--cpus", "16"], "");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        if std::thread::available_parallelism().is_ok_and(|n| n.get() < 16) {
            assert!(
                stderr.contains("--cpus 16 is more than this host's"),
                "{stderr}"
            );
        }
    }
    // In Korean, the same refusal with the same numbers.
    let out = labvisor(&["--lang", "ko", "vm", "run", "--mem", "4M"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--mem은 8 MiB에서 3072 MiB 사이여야 합니다. 지금 값: 4 MiB"),
        "{}",
        text(&out.stderr)
    );
    let out = labvisor(&["vm", "run", "--timeout", "soon"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("`soon` is not a duration"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn reboot_through_the_i8042_ends_the_vm() {
    if !kvm_available() {
        return;
    }
    let out = labvisor(&["vm", "run", "--run", "reboot", "--timeout", "30s"], "");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(text(&out.stdout).contains("resetting through the i8042"));
    assert!(
        stderr.contains("the guest reset the VM (i8042)"),
        "{stderr}"
    );
}

#[test]
fn a_panic_in_a_vmm_thread_ends_the_vm_with_its_message() {
    if !kvm_available() {
        return;
    }
    // No --timeout: before, the other vCPU kept the VM running forever. Mark 2 is the banner.
    let mut child =
        common::spawn_without_input(&["vm", "run", "--cpus", "2", "--panic-at-mark", "2"]);
    let status = wait_or_kill(&mut child, std::time::Duration::from_secs(60));
    let out = child.wait_with_output().expect("output");
    let stderr = text(&out.stderr);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(
        stderr.contains("the VMM's vcpu0 thread panicked, so the VM was stopped")
            && stderr.contains("panicking at boot mark 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("| Labvisor guest OS"),
        "the last console lines are shown: {stderr}"
    );
}

#[test]
fn a_system_call_outside_the_sandbox_stops_the_vm_and_names_the_call() {
    if !kvm_available() {
        return;
    }
    // The seam makes vcpu0 open a socket at the banner (mark 2), as device code a guest took
    // over might; the other vCPU keeps running, so only the sandbox's report ends the VM.
    let mut child = common::spawn_without_input(&[
        "vm",
        "run",
        "--cpus",
        "2",
        "--socket-at-mark",
        "2",
        "--run",
        "poweroff 3",
    ]);
    let status = wait_or_kill(&mut child, std::time::Duration::from_secs(60));
    let out = child.wait_with_output().expect("output");
    let stderr = text(&out.stderr);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(
        stderr.contains("the VMM's vcpu0 thread made the system call `socket`")
            && stderr.contains("--no-seccomp"),
        "{stderr}"
    );

    // Without the sandbox the same socket is just opened and closed: the guest powers off.
    let out = labvisor(
        &[
            "vm",
            "run",
            "--no-seccomp",
            "--socket-at-mark",
            "2",
            "--run",
            "poweroff 3",
            "--timeout",
            "30s",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[test]
fn a_terminal_that_stops_reading_does_not_stall_the_guest() {
    if !kvm_available() {
        return;
    }
    // The console (stderr with --json) goes to a pipe nobody reads: 2 MiB of output fill it.
    let mut child =
        common::spawn_without_input(&["--json", "vm", "run", "--run", "flood 2048; poweroff 4"]);
    let mut stdout = child.stdout.take().expect("piped");
    let report = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let status = wait_or_kill(&mut child, std::time::Duration::from_secs(60));
    assert_eq!(status, Some(4), "the guest reached its poweroff");
    let report: serde_json::Value =
        serde_json::from_slice(&report.join().unwrap().unwrap()).expect("a report");
    assert_eq!(report["ending"]["kind"], "power_off");
    assert!(
        report["console_dropped_bytes"].as_u64().unwrap() > 0,
        "what the terminal could not take is counted: {report}"
    );
}

#[test]
fn the_vm_ends_when_piped_commands_run_out() {
    if !kvm_available() {
        return;
    }
    // Before, `vm run --run uptime </dev/null` waited at the guest's prompt forever.
    let mut child = common::spawn(&["vm", "run", "--run", "uptime"]);
    let mut input = child.stdin.take().expect("piped");
    input.write_all(b"echo from the pipe\n").unwrap();
    drop(input);
    let status = wait_or_kill(&mut child, std::time::Duration::from_secs(30));
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stdout.contains("up "), "{stdout}");
    assert!(
        stdout.contains("\r\nfrom the pipe\r\n"),
        "the piped command ran first: {stdout}"
    );
    assert!(
        stderr.contains("standard input ended while the guest waited for more commands"),
        "{stderr}"
    );
}
