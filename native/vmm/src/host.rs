//! What this host's KVM is: the one probe that `labvisor doctor` reports and `vm run` acts on.
//!
//! [`probe`] looks at `/sys/module` for the module that provides `/dev/kvm` (`kvm_intel`,
//! `kvm_amd` or `kvm_pvm`), opens `/dev/kvm` for its API version and, on PVM, asks a throwaway
//! vCPU whether this build offers native execution ([`crate::pvm`]). [`KvmStatus::kind`] turns
//! the facts into the [`KvmKind`] the VMM works with. [`PVM_EXPLANATION`] says once, in both
//! languages, what PVM is and what it can run.

use std::path::Path;

use labvisor_core::lang::Text;
use serde::Serialize;

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

/// The host's KVM, as the VMM uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KvmKind {
    /// `/dev/kvm` is missing.
    None,
    /// Hardware-assisted KVM (kvm_intel or kvm_amd, or a KVM built into the kernel).
    Hardware,
    /// kvm_pvm: the guest runs at the hardware's user privilege; no exceptions or interrupts
    /// without PVM support in the guest.
    Pvm,
}

/// What probing `/dev/kvm` found.
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
    /// instruction emulator ([`crate::pvm`]); `None` where KVM is not PVM or not usable.
    pub pvm_native: Option<bool>,
}

impl KvmStatus {
    /// The KVM the VMM will get. A hardware module wins over kvm_pvm where both are loaded
    /// (`/dev/kvm` is then the hardware one); a usable `/dev/kvm` with no known module is
    /// taken as hardware-assisted (KVM built into the kernel).
    pub fn kind(&self) -> KvmKind {
        let has = |f| self.flavours.contains(&f);
        if !self.device_exists {
            KvmKind::None
        } else if has(KvmFlavour::KvmIntel) || has(KvmFlavour::KvmAmd) {
            KvmKind::Hardware
        } else if has(KvmFlavour::KvmPvm) {
            KvmKind::Pvm
        } else {
            KvmKind::Hardware
        }
    }
}

/// Probes `/dev/kvm`, its module and, on PVM, the native opt-in (which creates a throwaway VM).
pub fn probe() -> KvmStatus {
    let mut status = probe_device();
    if status.usable && status.kind() == KvmKind::Pvm {
        status.pvm_native = Some(crate::pvm::host_offers_native().is_ok());
    }
    status
}

/// The kind of this host's KVM, without the PVM native check.
pub fn kvm_kind() -> KvmKind {
    probe_device().kind()
}

fn probe_device() -> KvmStatus {
    let flavours = KvmFlavour::ALL
        .into_iter()
        .filter(|f| Path::new("/sys/module").join(f.module()).exists())
        .collect();
    let device_exists = Path::new("/dev/kvm").exists();
    let (usable, api_version, error) = match kvm_ioctls::Kvm::new() {
        Ok(kvm) => (true, Some(kvm.get_api_version()), None),
        Err(e) => (false, None, Some(format!("cannot open /dev/kvm: {e}"))),
    };
    KvmStatus {
        device_exists,
        usable,
        api_version,
        error,
        flavours,
        pvm_native: None,
    }
}

/// What PVM is and what it can run, for people.
pub const PVM_EXPLANATION: Text = Text::new(
    "PVM, the pagetable-based virtual machine, runs the guest at the CPU's user privilege level and \
virtualizes it with page tables and PVM-specific MSRs, not VT-x/AMD-V; it ignores the guest's IDT, GDT and \
TSS. It runs guests written for PVM, or simple 64-bit guests that the VMM starts directly in long mode and \
that take no exceptions or interrupts: Labvisor's own guest OS is one. A stock Linux kernel or a BIOS does \
not boot.",
    "PVM(페이지 테이블 기반 가상 머신)은 게스트를 CPU의 사용자 권한 수준에서 실행하고 VT-x/AMD-V 대신 \
페이지 테이블과 PVM 전용 MSR로 가상화하며, 게스트의 IDT, GDT, TSS를 무시합니다. PVM용으로 작성된 게스트나, \
VMM이 처음부터 롱 모드로 시작하고 예외나 인터럽트를 받지 않는 단순한 64비트 게스트만 실행됩니다. Labvisor \
자체 게스트 OS가 그런 게스트입니다. 일반 리눅스 커널이나 BIOS는 부팅되지 않습니다.",
);

/// Why a stock Linux kernel stops early on a PVM host, for people (English and Korean); said
/// after [`PVM_EXPLANATION`].
pub const PVM_LINUX_EXPLANATION: Text = Text::new(
    "Here a stock Linux kernel's decompressor prints its first message, then takes its first exception or \
interrupt, which PVM cannot deliver to it, and makes no more progress. Labvisor's own guest OS (`labvisor vm \
run` without --kernel) runs here; stock Linux needs a host with hardware-assisted KVM.",
    "여기서 일반 리눅스 커널은 압축 해제 코드(decompressor)가 첫 메시지를 출력한 뒤 첫 예외나 인터럽트를 \
받는데, PVM이 이것을 전달하지 못해 더 진행하지 못합니다. Labvisor 자체 게스트 OS(`--kernel` 없이 `labvisor \
vm run`)는 여기서 실행됩니다. 일반 리눅스를 부팅하려면 하드웨어 지원 KVM이 있는 호스트가 필요합니다.",
);

#[cfg(test)]
mod tests {
    use super::*;

    fn status(device_exists: bool, flavours: &[KvmFlavour]) -> KvmStatus {
        KvmStatus {
            device_exists,
            usable: device_exists,
            api_version: None,
            error: None,
            flavours: flavours.to_vec(),
            pvm_native: None,
        }
    }

    #[test]
    fn the_kind_follows_the_loaded_module() {
        use KvmFlavour::*;
        assert_eq!(status(false, &[KvmPvm]).kind(), KvmKind::None);
        assert_eq!(status(true, &[KvmPvm]).kind(), KvmKind::Pvm);
        assert_eq!(status(true, &[KvmIntel]).kind(), KvmKind::Hardware);
        assert_eq!(status(true, &[KvmAmd, KvmPvm]).kind(), KvmKind::Hardware);
        assert_eq!(status(true, &[]).kind(), KvmKind::Hardware);
    }
}
