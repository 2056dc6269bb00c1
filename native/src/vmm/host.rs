//! What kind of KVM this host offers: hardware-assisted (VT-x/AMD-V) or PVM, the
//! pagetable-based software KVM that runs where the CPU has neither.

use serde::Serialize;

/// The host's KVM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KvmKind {
    /// `/dev/kvm` is missing or unusable.
    None,
    /// Hardware-assisted KVM (kvm_intel or kvm_amd).
    Hardware,
    /// kvm_pvm: the guest runs at the hardware's user privilege; no exceptions or interrupts
    /// without PVM support in the guest.
    Pvm,
}

/// Detects the host's KVM from /dev/kvm and /sys/module.
pub fn kvm_kind() -> KvmKind {
    if !std::path::Path::new("/dev/kvm").exists() {
        KvmKind::None
    } else if std::path::Path::new("/sys/module/kvm_pvm").exists() {
        KvmKind::Pvm
    } else {
        KvmKind::Hardware
    }
}

/// Why a stock Linux kernel stops early on a PVM host, for people.
pub const PVM_LINUX_EXPLANATION: &str = "this host's KVM is PVM (kvm_pvm: no VT-x/AMD-V in the CPU). PVM runs the guest \
at the CPU's user privilege and ignores the guest's IDT, GDT and TSS, delivering events through PVM-specific MSRs \
instead. A stock Linux kernel is not built for that: its decompressor prints its first message, then takes its \
first exception or interrupt, which cannot be delivered, and stops making progress. Labvisor's own guest OS \
(`labvisor vm run` without --kernel) starts in long mode and only polls, so it runs here; stock Linux needs a host \
with hardware-assisted KVM.";
