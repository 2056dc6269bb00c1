//! Native and emulated execution on a PVM host (`vm run --pvm-mode`), and how a guest fault
//! ends the VM. Each VM is a `labvisor` child process, as in `vm_guest.rs`.

mod common;

use common::{labvisor, vm_json as report};
use labvisor::vmm::{host, pvm};

/// Whether this host is the PVM build with the native opt-in; says why not otherwise.
fn native_pvm_host() -> bool {
    if !common::kvm_available() {
        return false;
    }
    if host::kvm_kind() != host::KvmKind::Pvm {
        println!("SKIP: this host's KVM is not PVM, so there is no emulated mode to compare");
        return false;
    }
    match pvm::host_offers_native() {
        Ok(()) => true,
        Err(why) => {
            println!("SKIP: this PVM host has no native mode: {why}");
            false
        }
    }
}

fn insn_emulation(report: &serde_json::Value) -> u64 {
    report["kvm_stats"]["insn_emulation"].as_u64().unwrap_or(0)
}

#[test]
fn native_mode_runs_millions_of_instructions_without_emulating_them() {
    if !native_pvm_host() {
        return;
    }
    // 20,000 numbers by trial division: a few million instructions.
    let workload = ["--run", "cpus 20000; poweroff"];
    let (native, console, status) = report(&[&workload[..], &["--pvm-mode", "native"]].concat());
    assert_eq!(status, Some(0), "{console}");
    assert_eq!(native["cpu_mode"], "native", "{native}");
    assert!(
        console.contains("native under PVM"),
        "the banner says so: {console}"
    );
    assert!(console.contains("total  2262 primes"), "{console}");
    assert!(
        insn_emulation(&native) < 1000,
        "only trapped instructions are emulated natively: {native}"
    );

    let (emulated, console, status) =
        report(&[&workload[..], &["--pvm-mode", "emulated"]].concat());
    assert_eq!(status, Some(0), "{console}");
    assert_eq!(emulated["cpu_mode"], "emulated", "{emulated}");
    assert!(console.contains("emulated under PVM"), "{console}");
    assert!(
        console.contains("total  2262 primes"),
        "same answer: {console}"
    );
    assert!(
        insn_emulation(&emulated) > 1_000_000,
        "every instruction is emulated: {emulated}"
    );
}

#[test]
fn auto_picks_native_and_the_banner_costs_no_port_io() {
    if !native_pvm_host() {
        return;
    }
    let (report, console, status) = report(&["--run", "poweroff"]);
    assert_eq!(status, Some(0), "{console}");
    assert_eq!(report["cpu_mode"], "native", "{report}");
    assert!(report["not_native_because"].is_null(), "{report}");
    // The console's fast path: whole lines through the control device, not two port I/O exits
    // per byte, which cost more in native mode than in emulation.
    assert!(console.contains("Labvisor guest OS"), "{console}");
    assert_eq!(report["exits"]["io_out"], 0, "{report}");
    assert_eq!(report["exits"]["io_in"], 0, "{report}");
}

#[test]
fn four_vcpus_run_natively() {
    if !native_pvm_host() {
        return;
    }
    let (report, console, status) = report(&[
        "--cpus",
        "4",
        "--wider-than-host",
        "--pvm-mode",
        "native",
        "--run",
        "cpus 20000; poweroff",
    ]);
    assert_eq!(status, Some(0), "{console}");
    assert_eq!(report["cpu_mode"], "native");
    assert!(console.contains("4 of 4 CPUs online"), "{console}");
    for cpu in ["cpu0", "cpu1", "cpu2", "cpu3"] {
        assert!(console.contains(cpu), "{cpu} took a share: {console}");
    }
    assert!(console.contains("total  2262 primes"), "{console}");
}

#[test]
fn an_undefined_instruction_ends_the_vm_with_a_reported_fault_in_both_modes() {
    if !native_pvm_host() {
        return;
    }
    for mode in ["native", "emulated"] {
        let (report, console, status) =
            report(&["--pvm-mode", mode, "--run", "echo about to fault; ud2"]);
        assert_eq!(status, Some(1), "{mode}: {console}");
        let ending = &report["ending"];
        assert_eq!(ending["kind"], "guest_fault", "{mode}: {report}");
        assert_eq!(ending["exception"], "#UD", "{mode}: {report}");
        let rip = ending["rip"].as_u64().expect("RIP is read");
        assert!(
            (0x10_0000..0x40_0000).contains(&rip),
            "{mode}: RIP {rip:#x} points into the guest kernel"
        );
        assert!(
            console.contains("#UD, rip 0x") && console.contains("| about to fault"),
            "{mode}: the error names the fault and shows the last lines: {console}"
        );
    }
}

#[test]
fn without_the_native_opt_in_the_vm_boots_emulated_and_says_why() {
    if !native_pvm_host() {
        return;
    }
    let (report, console, status) = report(&["--pretend-no-native-pvm", "--run", "poweroff"]);
    assert_eq!(status, Some(0), "{console}");
    assert_eq!(report["cpu_mode"], "emulated", "{report}");
    assert!(
        report["not_native_because"]
            .as_str()
            .is_some_and(|why| why.contains("as if the MSR were absent")),
        "{report}"
    );
    assert!(console.contains("emulated under PVM"), "{console}");

    // Asked for native where there is none: refused before booting, with the reason.
    let out = labvisor(&[
        "vm",
        "run",
        "--pvm-mode",
        "native",
        "--pretend-no-native-pvm",
        "--run",
        "poweroff",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--pvm-mode native: this host cannot run the VM natively"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Labvisor guest OS"));
}

#[test]
fn a_bad_pvm_mode_is_a_usage_error() {
    let out = labvisor(&["vm", "run", "--pvm-mode", "fast"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`fast` is not a PVM mode: use auto, native or emulated"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
