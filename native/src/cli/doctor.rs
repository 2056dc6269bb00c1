//! `labvisor doctor`: what this machine offers for real VMs (CPU, VT-x/AMD-V, `/dev/kvm`, the
//! KVM flavour), and what that means in plain words.

use std::process::ExitCode;

use labvisor_core::lang::Lang;
use labvisor_core::sizing::format_mib;

use super::output::{out, pick, print_json, yes_no, Table};
use super::{CliResult, Global};
use crate::hostinfo::{self, HostReport, KvmFlavour, Verdict};

/// Check this machine for virtualization: VT-x/AMD-V, /dev/kvm, KVM flavour.
///
/// Reports the CPU vendor and model, whether it exposes Intel VT-x (vmx) or AMD-V (svm),
/// whether this system is itself a VM, whether /dev/kvm works and which KVM module provides
/// it (kvm_intel, kvm_amd or kvm_pvm), and what that means for running real VMs.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `labvisor doctor`. It reports; it does not fail when virtualization is missing.
pub fn run(_args: Args, global: &Global) -> CliResult {
    let report = hostinfo::probe();
    if global.json {
        print_json(&report)?;
    } else {
        out!("{}", render(&report, global.lang()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The human-readable report.
pub fn render(r: &HostReport, lang: Lang) -> String {
    let unknown = pick(lang, "unknown", "알 수 없음");
    let mut t = Table::new();
    t.row([
        "CPU".to_string(),
        format!(
            "{} ({})",
            r.cpu.model.as_deref().unwrap_or(unknown),
            r.cpu.vendor.as_deref().unwrap_or(unknown)
        ),
    ]);
    t.row([
        pick(lang, "Logical CPUs", "논리 CPU").to_string(),
        r.cpu.logical_cpus.to_string(),
    ]);
    t.row([
        "RAM".to_string(),
        r.memory_mib
            .map(format_mib)
            .unwrap_or_else(|| unknown.to_string()),
    ]);
    t.row([
        "Intel VT-x (vmx)".to_string(),
        yes_no(lang, r.cpu.vmx).to_string(),
    ]);
    t.row([
        "AMD-V (svm)".to_string(),
        yes_no(lang, r.cpu.svm).to_string(),
    ]);
    t.row([
        pick(lang, "Inside a VM", "VM 안에서 실행").to_string(),
        format!(
            "{} ({})",
            yes_no(lang, r.cpu.hypervisor),
            pick(lang, "CPU flag \"hypervisor\"", "CPU 플래그 \"hypervisor\"")
        ),
    ]);
    let kvm = if r.kvm.usable {
        format!(
            "{}, KVM API {}",
            pick(lang, "present and usable", "있음, 사용 가능"),
            r.kvm
                .api_version
                .map_or_else(|| unknown.to_string(), |v| v.to_string())
        )
    } else if r.kvm.device_exists {
        format!(
            "{}: {}",
            pick(lang, "present but not usable", "있지만 사용 불가"),
            r.kvm.error.as_deref().unwrap_or(unknown)
        )
    } else {
        pick(lang, "missing", "없음").to_string()
    };
    t.row(["/dev/kvm".to_string(), kvm]);
    let flavour = if r.kvm.flavours.is_empty() {
        pick(
            lang,
            "none (no kvm_intel, kvm_amd or kvm_pvm in /sys/module)",
            "없음 (/sys/module에 kvm_intel, kvm_amd, kvm_pvm 없음)",
        )
        .to_string()
    } else {
        r.kvm
            .flavours
            .iter()
            .map(|f| format!("{}: {}", f.module(), f.description().get(lang)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    t.row([pick(lang, "KVM flavour", "KVM 종류").to_string(), flavour]);
    if let Some(native) = r.kvm.pvm_native {
        let said = if native {
            pick(
                lang,
                "offered: guests run natively (vm run --pvm-mode auto)",
                "제공됨: 게스트가 네이티브로 실행됩니다(vm run --pvm-mode auto)",
            )
        } else {
            pick(
                lang,
                "not offered: KVM emulates every guest instruction",
                "제공되지 않음: KVM이 게스트 명령어를 하나하나 에뮬레이션합니다",
            )
        };
        t.row([
            pick(lang, "PVM native mode", "PVM 네이티브 모드").to_string(),
            said.to_string(),
        ]);
    }

    let mut out = t.render();
    out.push('\n');
    out.push_str(&meaning(r, lang));
    out.push('\n');
    out
}

/// What the facts mean, in plain words.
pub fn meaning(r: &HostReport, lang: Lang) -> String {
    let hw = match (r.cpu.vmx, r.cpu.svm, lang) {
        (true, _, Lang::En) => "The CPU exposes Intel VT-x (vmx), so it can run VMs with hardware assistance.",
        (true, _, Lang::Ko) => "CPU가 Intel VT-x(vmx)를 제공하므로 하드웨어 지원으로 VM을 실행할 수 있습니다.",
        (_, true, Lang::En) => "The CPU exposes AMD-V (svm), so it can run VMs with hardware assistance.",
        (_, true, Lang::Ko) => "CPU가 AMD-V(svm)를 제공하므로 하드웨어 지원으로 VM을 실행할 수 있습니다.",
        (false, false, Lang::En) if r.cpu.hypervisor => "This machine is itself a virtual machine (CPU flag \"hypervisor\") and its CPU exposes neither Intel VT-x (vmx) nor AMD-V (svm): the outer hypervisor does not offer nested virtualization, so hardware-assisted KVM is impossible here.",
        (false, false, Lang::Ko) if r.cpu.hypervisor => "이 컴퓨터는 그 자체가 가상 머신이고(CPU 플래그 \"hypervisor\") CPU가 Intel VT-x(vmx)도 AMD-V(svm)도 제공하지 않습니다. 바깥 하이퍼바이저가 중첩 가상화를 제공하지 않으므로 여기서는 하드웨어 지원 KVM이 불가능합니다.",
        (false, false, Lang::En) => "The CPU exposes neither Intel VT-x (vmx) nor AMD-V (svm): it is missing or disabled in the firmware (BIOS/UEFI setup).",
        (false, false, Lang::Ko) => "CPU가 Intel VT-x(vmx)도 AMD-V(svm)도 제공하지 않습니다. 지원하지 않거나 펌웨어(BIOS/UEFI 설정)에서 꺼져 있습니다.",
    };
    let pvm_loaded = r.kvm.flavours.contains(&KvmFlavour::KvmPvm);
    let verdict = match (r.verdict, lang) {
        (Verdict::HardwareKvm, Lang::En) => "KVM works with hardware assistance: real-VM mode can run any 64-bit x86 guest.",
        (Verdict::HardwareKvm, Lang::Ko) => "KVM이 하드웨어 지원으로 동작합니다. 실제 VM 모드에서 어떤 64비트 x86 게스트든 실행할 수 있습니다.",
        (Verdict::PvmKvm, _) => pick(
            lang,
            "/dev/kvm is provided by kvm_pvm instead.",
            "대신 kvm_pvm이 /dev/kvm을 제공합니다.",
        ),
        (Verdict::OtherKvm, Lang::En) => "/dev/kvm works, but no known flavour module (kvm_intel, kvm_amd, kvm_pvm) is listed; KVM may be built into the kernel. Real-VM mode will try it.",
        (Verdict::OtherKvm, Lang::Ko) => "/dev/kvm은 동작하지만 알려진 모듈(kvm_intel, kvm_amd, kvm_pvm)이 보이지 않습니다. KVM이 커널에 내장되어 있을 수 있습니다. 실제 VM 모드가 시도해 봅니다.",
        (Verdict::KvmNotAccessible, Lang::En) => "/dev/kvm exists but cannot be opened: add your user to the kvm group (sudo usermod -aG kvm $USER, then log in again). Until then real-VM mode is unavailable; simulated lessons work.",
        (Verdict::KvmNotAccessible, Lang::Ko) => "/dev/kvm이 있지만 열 수 없습니다. 사용자를 kvm 그룹에 추가하세요(sudo usermod -aG kvm $USER 후 다시 로그인). 그때까지 실제 VM 모드는 쓸 수 없고 시뮬레이션 실습은 됩니다.",
        (Verdict::KvmNotLoaded, Lang::En) => "The CPU can virtualize but no KVM module is loaded: sudo modprobe kvm_intel (or kvm_amd). Until then real-VM mode is unavailable; simulated lessons work.",
        (Verdict::KvmNotLoaded, Lang::Ko) => "CPU는 가상화를 지원하지만 KVM 모듈이 로드되지 않았습니다. sudo modprobe kvm_intel(또는 kvm_amd)을 실행하세요. 그때까지 실제 VM 모드는 쓸 수 없고 시뮬레이션 실습은 됩니다.",
        (Verdict::NoKvm, Lang::En) => "There is no /dev/kvm: real-VM mode is unavailable here. Every simulated lesson still works.",
        (Verdict::NoKvm, Lang::Ko) => "/dev/kvm이 없어 여기서는 실제 VM 모드를 쓸 수 없습니다. 시뮬레이션 실습은 모두 동작합니다.",
    };
    let mut out = format!("{hw} {verdict}");
    if r.verdict == Verdict::PvmKvm {
        out.push(' ');
        out.push_str(crate::vmm::host::PVM_EXPLANATION.get(lang));
        out.push(' ');
        out.push_str(match (r.kvm.pvm_native, lang) {
            (Some(true), Lang::En) => "This kvm_pvm build also offers a native mode (MSR 0x4b564d11 reads \"PVM\"): Labvisor's guest then runs its instructions on the CPU, thousands of times faster than under KVM's instruction emulator.",
            (Some(true), Lang::Ko) => "이 kvm_pvm 빌드는 네이티브 모드도 제공합니다(MSR 0x4b564d11이 \"PVM\"으로 읽힘). 그러면 Labvisor 게스트의 명령어가 CPU에서 직접 실행되어, KVM의 명령어 에뮬레이터보다 수천 배 빠릅니다.",
            (_, Lang::En) => "This kvm_pvm build offers no native mode, so KVM's instruction emulator runs every guest instruction: booting is quick, heavy computing is thousands of times slower than on hardware.",
            (_, Lang::Ko) => "이 kvm_pvm 빌드는 네이티브 모드를 제공하지 않아 KVM의 명령어 에뮬레이터가 게스트 명령어를 모두 실행합니다. 부팅은 빠르지만 계산이 많은 일은 하드웨어보다 수천 배 느립니다.",
        });
    }
    if pvm_loaded && r.verdict != Verdict::PvmKvm {
        out.push(' ');
        out.push_str(pick(
            lang,
            "(kvm_pvm is loaded as well.)",
            "(kvm_pvm도 로드되어 있습니다.)",
        ));
    }
    out
}
