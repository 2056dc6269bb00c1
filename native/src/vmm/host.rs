//! What kind of KVM this host offers: hardware-assisted (VT-x/AMD-V) or PVM, the
//! pagetable-based software KVM that runs where the CPU has neither.

use labvisor_core::lang::Text;
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

/// Why a stock Linux kernel stops early on a PVM host, for people (English and Korean).
pub const PVM_LINUX_EXPLANATION: Text = Text::new(
    "this host's KVM is PVM (kvm_pvm: no VT-x/AMD-V in the CPU). PVM runs the guest at the CPU's user \
privilege and ignores the guest's IDT, GDT and TSS, delivering events through PVM-specific MSRs instead. A \
stock Linux kernel is not built for that: its decompressor prints its first message, then takes its first \
exception or interrupt, which cannot be delivered, and stops making progress. Labvisor's own guest OS \
(`labvisor vm run` without --kernel) starts in long mode and only polls, so it runs here; stock Linux needs a \
host with hardware-assisted KVM.",
    "이 호스트의 KVM은 PVM입니다(kvm_pvm: CPU에 VT-x/AMD-V가 없음). PVM은 게스트를 CPU의 사용자 권한에서 \
실행하고 게스트의 IDT, GDT, TSS를 무시하며, 이벤트는 PVM 전용 MSR을 통해 전달합니다. 일반 리눅스 커널은 \
이를 위해 빌드되지 않았습니다: 압축 해제 코드(decompressor)가 첫 메시지를 출력한 뒤 첫 예외나 인터럽트를 \
받는데, 이것을 전달할 수 없어 더 진행하지 못합니다. Labvisor 자체 게스트 OS(`--kernel` 없이 `labvisor vm \
run`)는 롱 모드에서 시작하고 폴링만 하므로 여기서 실행됩니다. 일반 리눅스를 부팅하려면 하드웨어 지원 KVM이 \
있는 호스트가 필요합니다.",
);
