//! What this machine offers for virtualization: CPU, memory, `/dev/kvm` and the KVM flavour.
//!
//! [`probe`] reads `/proc/cpuinfo` and `/proc/meminfo`, takes the VMM's own KVM probe
//! ([`crate::vmm::host::probe`], the one `vm run` acts on), and returns a serializable
//! [`HostReport`]; `labvisor doctor` prints it and `labvisor host plan` sizes against it. The
//! text parsers are separate pure functions so they are tested on fixed inputs.

use serde::Serialize;

pub use crate::vmm::host::{KvmFlavour, KvmKind, KvmStatus};

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

/// Decides the verdict from the facts: the VMM's [`KvmStatus::kind`] where `/dev/kvm` works,
/// the CPU's flags where it does not.
pub fn verdict(cpu: &CpuInfo, kvm: &KvmStatus) -> Verdict {
    let hardware = cpu.vmx || cpu.svm;
    let module_known = !kvm.flavours.is_empty();
    if kvm.usable {
        match kvm.kind() {
            KvmKind::Pvm => Verdict::PvmKvm,
            KvmKind::Hardware if module_known => Verdict::HardwareKvm,
            KvmKind::Hardware | KvmKind::None => Verdict::OtherKvm,
        }
    } else if kvm.device_exists {
        Verdict::KvmNotAccessible
    } else if hardware {
        Verdict::KvmNotLoaded
    } else {
        Verdict::NoKvm
    }
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
    let kvm = crate::vmm::host::probe();
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
