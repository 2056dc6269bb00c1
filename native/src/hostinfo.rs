//! What this machine offers for virtualization: CPU, memory, `/dev/kvm` and the KVM flavour.
//!
//! [`probe`] reads `/proc/cpuinfo`, `/proc/meminfo`, `/sys/module` and opens `/dev/kvm`, and
//! returns a serializable [`HostReport`]; `labvisor doctor` prints it, `labvisor host plan`
//! sizes against it, and real-VM mode checks it before starting a guest. The text parsers are
//! separate pure functions so they are tested on fixed inputs.

use std::path::Path;

use labvisor_core::lang::Text;
use serde::Serialize;

/// The CPU as `/proc/cpuinfo` describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CpuInfo {
    /// `vendor_id`: `GenuineIntel`, `AuthenticAMD`, …
    pub vendor: Option<String>,
    /// `model name`.
    pub model: Option<String>,
    /// Number of `processor` entries: logical CPUs (hardware threads).
    pub logical_cpus: u32,
    /// The `vmx` flag: Intel VT-x is exposed.
    pub vmx: bool,
    /// The `svm` flag: AMD-V is exposed.
    pub svm: bool,
    /// The `hypervisor` flag: this OS itself runs inside a virtual machine.
    pub hypervisor: bool,
}

/// Parses the text of `/proc/cpuinfo` (x86 layout; other architectures give fewer fields).
pub fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut info = CpuInfo::default();
    let mut flags_seen = false;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "processor" => info.logical_cpus += 1,
            "vendor_id" if info.vendor.is_none() => info.vendor = Some(value.to_string()),
            "model name" if info.model.is_none() => info.model = Some(value.to_string()),
            "flags" if !flags_seen => {
                flags_seen = true;
                for flag in value.split_whitespace() {
                    match flag {
                        "vmx" => info.vmx = true,
                        "svm" => info.svm = true,
                        "hypervisor" => info.hypervisor = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    info
}

/// `MemTotal` from the text of `/proc/meminfo`, in MiB (rounded down).
pub fn parse_meminfo_total_mib(text: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix("MemTotal:")?;
        let kib: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kib / 1024)
    })
}

/// Which kernel module provides `/dev/kvm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KvmFlavour {
    /// `kvm_intel`: hardware-assisted, Intel VT-x.
    KvmIntel,
    /// `kvm_amd`: hardware-assisted, AMD-V (SVM).
    KvmAmd,
    /// `kvm_pvm`: PVM, the pagetable-based virtual machine, without VT-x/AMD-V.
    KvmPvm,
}

impl KvmFlavour {
    /// All flavours, in the order they are looked for.
    pub const ALL: [KvmFlavour; 3] = [KvmFlavour::KvmIntel, KvmFlavour::KvmAmd, KvmFlavour::KvmPvm];

    /// The module's name, as in `/sys/module/<name>`.
    pub fn module(self) -> &'static str {
        match self {
            KvmFlavour::KvmIntel => "kvm_intel",
            KvmFlavour::KvmAmd => "kvm_amd",
            KvmFlavour::KvmPvm => "kvm_pvm",
        }
    }

    /// What the module is.
    pub fn description(self) -> Text {
        match self {
            KvmFlavour::KvmIntel => Text::new(
                "hardware-assisted KVM on Intel VT-x",
                "Intel VT-x 기반 하드웨어 지원 KVM",
            ),
            KvmFlavour::KvmAmd => Text::new(
                "hardware-assisted KVM on AMD-V (SVM)",
                "AMD-V(SVM) 기반 하드웨어 지원 KVM",
            ),
            KvmFlavour::KvmPvm => Text::new(
                "PVM, the pagetable-based virtual machine: KVM in software, without VT-x/AMD-V",
                "PVM(페이지 테이블 기반 가상 머신): VT-x/AMD-V 없이 소프트웨어로 구현한 KVM",
            ),
        }
    }
}

/// What opening `/dev/kvm` found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KvmStatus {
    /// Whether `/dev/kvm` exists.
    pub device_exists: bool,
    /// Whether we could open it and talk to it.
    pub usable: bool,
    /// `KVM_GET_API_VERSION` (12 on every kernel since 2.6.22).
    pub api_version: Option<i32>,
    /// Why it is not usable, when it is not.
    pub error: Option<String>,
    /// The flavour modules loaded (normally one).
    pub flavours: Vec<KvmFlavour>,
    /// On PVM: whether this build lets a vCPU run natively instead of through KVM's
    /// instruction emulator (`vmm::pvm`); `None` where KVM is not PVM.
    pub pvm_native: Option<bool>,
}

/// What this host means for running real VMs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// `/dev/kvm` works on VT-x or AMD-V: any guest runs.
    HardwareKvm,
    /// `/dev/kvm` works through PVM: only guests PVM can run.
    PvmKvm,
    /// `/dev/kvm` works but its flavour is not recognised.
    OtherKvm,
    /// `/dev/kvm` exists but cannot be opened.
    KvmNotAccessible,
    /// The CPU has VT-x/AMD-V but no KVM module is loaded.
    KvmNotLoaded,
    /// No KVM and no VT-x/AMD-V.
    NoKvm,
}

impl Verdict {
    /// Whether real-VM mode can start guests here.
    pub fn real_vms_possible(self) -> bool {
        matches!(
            self,
            Verdict::HardwareKvm | Verdict::PvmKvm | Verdict::OtherKvm
        )
    }
}

/// Everything `labvisor doctor` reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostReport {
    /// The CPU.
    pub cpu: CpuInfo,
    /// Total RAM in MiB, if readable.
    pub memory_mib: Option<u64>,
    /// `/dev/kvm`.
    pub kvm: KvmStatus,
    /// What it means.
    pub verdict: Verdict,
}

/// Decides the verdict from the facts.
pub fn verdict(cpu: &CpuInfo, kvm: &KvmStatus) -> Verdict {
    let hardware = cpu.vmx || cpu.svm;
    if kvm.usable {
        if kvm.flavours.contains(&KvmFlavour::KvmPvm) && !hardware {
            Verdict::PvmKvm
        } else if hardware
            && (kvm.flavours.contains(&KvmFlavour::KvmIntel)
                || kvm.flavours.contains(&KvmFlavour::KvmAmd))
        {
            Verdict::HardwareKvm
        } else if kvm.flavours.contains(&KvmFlavour::KvmPvm) {
            Verdict::PvmKvm
        } else {
            Verdict::OtherKvm
        }
    } else if kvm.device_exists {
        Verdict::KvmNotAccessible
    } else if hardware {
        Verdict::KvmNotLoaded
    } else {
        Verdict::NoKvm
    }
}

/// Opens `/dev/kvm` and asks for the API version.
pub fn probe_kvm() -> KvmStatus {
    let flavours: Vec<KvmFlavour> = KvmFlavour::ALL
        .into_iter()
        .filter(|f| Path::new("/sys/module").join(f.module()).exists())
        .collect();
    let device_exists = Path::new("/dev/kvm").exists();
    let (usable, api_version, error) = match kvm_ioctls::Kvm::new() {
        Ok(kvm) => (true, Some(kvm.get_api_version()), None),
        Err(e) => (false, None, Some(format!("cannot open /dev/kvm: {e}"))),
    };
    let pvm_native = (usable && flavours.contains(&KvmFlavour::KvmPvm)).then(pvm_native_offered);
    KvmStatus {
        device_exists,
        usable,
        api_version,
        error,
        flavours,
        pvm_native,
    }
}

#[cfg(target_os = "linux")]
fn pvm_native_offered() -> bool {
    crate::vmm::pvm::host_offers_native().is_ok()
}

#[cfg(not(target_os = "linux"))]
fn pvm_native_offered() -> bool {
    false
}

/// Reads this machine's facts. Missing files give empty facts, never an error: a report on a
/// machine without `/proc` is still a report.
pub fn probe() -> HostReport {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .map(|t| parse_cpuinfo(&t))
        .unwrap_or_default();
    let memory_mib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| parse_meminfo_total_mib(&t));
    let kvm = probe_kvm();
    let verdict = verdict(&cpu, &kvm);
    HostReport {
        cpu,
        memory_mib,
        kvm,
        verdict,
    }
}

/// The number of logical CPUs and MiB of RAM of this machine, for sizing.
pub fn host_resources() -> Result<(u32, u64), String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo")
        .map_err(|e| format!("cannot read /proc/cpuinfo: {e} (give --cpus)"))?;
    let meminfo = std::fs::read_to_string("/proc/meminfo")
        .map_err(|e| format!("cannot read /proc/meminfo: {e} (give --mem)"))?;
    let cpus = parse_cpuinfo(&cpuinfo).logical_cpus;
    if cpus == 0 {
        return Err("/proc/cpuinfo lists no processor entries (give --cpus)".into());
    }
    let mem = parse_meminfo_total_mib(&meminfo)
        .ok_or("/proc/meminfo has no MemTotal line (give --mem)")?;
    Ok((cpus, mem))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PVM_HOST: &str = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nflags\t\t: fpu vme sse hypervisor lahf_lm\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nflags\t\t: fpu vme sse hypervisor lahf_lm\n";
    const INTEL_HOST: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz\nflags\t\t: fpu vmx ept sse\n";

    fn kvm(usable: bool, flavours: &[KvmFlavour]) -> KvmStatus {
        KvmStatus {
            device_exists: usable,
            usable,
            api_version: usable.then_some(12),
            error: None,
            flavours: flavours.to_vec(),
            pvm_native: None,
        }
    }

    #[test]
    fn parses_cpuinfo() {
        let cpu = parse_cpuinfo(PVM_HOST);
        assert_eq!(cpu.logical_cpus, 2);
        assert_eq!(cpu.vendor.as_deref(), Some("AuthenticAMD"));
        assert_eq!(cpu.model.as_deref(), Some("AMD EPYC"));
        assert!(cpu.hypervisor && !cpu.vmx && !cpu.svm);
        let intel = parse_cpuinfo(INTEL_HOST);
        assert!(intel.vmx && !intel.hypervisor);
        assert_eq!(parse_cpuinfo(""), CpuInfo::default());
        // "vmx" must be a whole flag, not part of another.
        assert!(!parse_cpuinfo("flags : vmxfoo avmx\n").vmx);
    }

    #[test]
    fn parses_meminfo() {
        assert_eq!(
            parse_meminfo_total_mib("MemTotal:       16384000 kB\nMemFree: 1 kB\n"),
            Some(16000)
        );
        assert_eq!(parse_meminfo_total_mib("MemFree: 1 kB\n"), None);
        assert_eq!(parse_meminfo_total_mib("MemTotal: lots\n"), None);
    }

    #[test]
    fn verdicts() {
        let pvm = parse_cpuinfo(PVM_HOST);
        let intel = parse_cpuinfo(INTEL_HOST);
        assert_eq!(
            verdict(&pvm, &kvm(true, &[KvmFlavour::KvmPvm])),
            Verdict::PvmKvm
        );
        assert_eq!(
            verdict(&intel, &kvm(true, &[KvmFlavour::KvmIntel])),
            Verdict::HardwareKvm
        );
        assert_eq!(verdict(&intel, &kvm(false, &[])), Verdict::KvmNotLoaded);
        assert_eq!(verdict(&pvm, &kvm(false, &[])), Verdict::NoKvm);
        assert_eq!(verdict(&pvm, &kvm(true, &[])), Verdict::OtherKvm);
        let no_access = KvmStatus {
            device_exists: true,
            ..kvm(false, &[])
        };
        assert_eq!(verdict(&intel, &no_access), Verdict::KvmNotAccessible);
        assert!(Verdict::PvmKvm.real_vms_possible() && !Verdict::NoKvm.real_vms_possible());
    }
}
