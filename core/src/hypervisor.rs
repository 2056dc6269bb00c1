//! Hypervisors: the products a cloud engineer meets, how each is classified, the techniques
//! that make virtualization work, and a quiz that classifies a product or a description.
//!
//! - [`catalog`] and [`find`]: the products, with type, vendor, host, whether they need
//!   Intel VT-x / AMD-V, and a note where the popular picture is too simple.
//! - [`Technique`]: full virtualization with binary translation, paravirtualization,
//!   hardware-assisted virtualization (HVM), and plain emulation.
//! - [`classify`], [`quiz`], [`grade`]: the classification exercise.
//!
//! Type 1 and type 2 are Robert Goldberg's terms (1973): a type 1 hypervisor runs on the bare
//! hardware, a type 2 runs on a host operating system. Modern products blur the line (KVM is
//! part of a general-purpose OS; Hyper-V slides under Windows), so each entry says why it is
//! classified as it is.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::lang::Text;

/// How a hypervisor relates to the hardware.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Type 1 (native, bare-metal): runs directly on the hardware and schedules the VMs itself.
    Type1,
    /// Type 2 (hosted): an application with a kernel driver on an ordinary host OS.
    Type2,
    /// A user-space virtual machine monitor on top of KVM: the hypervisor proper is KVM (type
    /// 1); the VMM provides the devices and drives `/dev/kvm`.
    KvmVmm,
}

impl Kind {
    /// All kinds.
    pub const ALL: [Kind; 3] = [Kind::Type1, Kind::Type2, Kind::KvmVmm];

    /// The kind's name.
    pub fn name(self) -> Text {
        match self {
            Kind::Type1 => Text::new("type 1 (bare-metal)", "타입 1 (베어메탈)"),
            Kind::Type2 => Text::new("type 2 (hosted)", "타입 2 (호스트형)"),
            Kind::KvmVmm => Text::new("KVM-based VMM", "KVM 기반 VMM"),
        }
    }

    /// What the kind means.
    pub fn explanation(self) -> Text {
        match self {
            Kind::Type1 => Text::new(
                "Type 1 (native, bare-metal): the hypervisor runs directly on the hardware and is what boots; every operating system, including the one you manage it from, is a guest. Used in production data centers and clouds.",
                "타입 1(네이티브, 베어메탈): 하이퍼바이저가 하드웨어 위에서 직접 실행되고 가장 먼저 부팅됩니다. 관리용 OS를 포함한 모든 운영체제가 게스트입니다. 데이터센터와 클라우드의 실무 환경에서 씁니다.",
            ),
            Kind::Type2 => Text::new(
                "Type 2 (hosted): the hypervisor is an application (plus a kernel driver) on an ordinary operating system such as Windows or macOS, which keeps owning the hardware. Easy to install on a laptop: the usual choice for practice.",
                "타입 2(호스트형): 하이퍼바이저가 윈도우나 macOS 같은 일반 운영체제 위의 응용 프로그램(과 커널 드라이버)입니다. 하드웨어는 계속 호스트 OS가 관리합니다. 노트북에 쉽게 설치할 수 있어 실습용으로 많이 씁니다.",
            ),
            Kind::KvmVmm => Text::new(
                "KVM-based VMM: a user-space program that creates VMs through Linux's /dev/kvm and emulates their devices. The hypervisor proper is KVM inside the Linux kernel (type 1); the VMM is the part you start.",
                "KVM 기반 VMM: 리눅스의 /dev/kvm으로 VM을 만들고 장치를 에뮬레이션하는 사용자 공간 프로그램입니다. 진짜 하이퍼바이저는 리눅스 커널 안의 KVM(타입 1)이고, VMM은 우리가 실행하는 부분입니다.",
            ),
        }
    }

    /// Reads `1`, `type1`, `type 2`, `bare-metal`, `hosted`, `vmm`, …
    pub fn parse(input: &str) -> Result<Kind, HypervisorError> {
        let compact = compact(input);
        match compact.as_str() {
            "1" | "type1" | "t1" | "baremetal" | "native" | "타입1" | "베어메탈" => {
                Ok(Kind::Type1)
            }
            "2" | "type2" | "t2" | "hosted" | "타입2" | "호스트형" => Ok(Kind::Type2),
            "vmm" | "kvmvmm" | "kvmbasedvmm" => Ok(Kind::KvmVmm),
            _ => Err(HypervisorError::UnknownKind {
                input: input.to_string(),
            }),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name().en)
    }
}

/// How a hypervisor gets an operating system to run inside a VM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Technique {
    /// Full virtualization with binary translation.
    BinaryTranslation,
    /// Paravirtualization: the guest knows and cooperates.
    Paravirtualization,
    /// Hardware-assisted virtualization (HVM): Intel VT-x, AMD-V.
    HardwareAssisted,
    /// Emulation: every guest instruction interpreted or translated in software.
    Emulation,
}

impl Technique {
    /// All techniques.
    pub const ALL: [Technique; 4] = [
        Technique::BinaryTranslation,
        Technique::Paravirtualization,
        Technique::HardwareAssisted,
        Technique::Emulation,
    ];

    /// The technique's name.
    pub fn name(self) -> Text {
        match self {
            Technique::BinaryTranslation => Text::new(
                "full virtualization (binary translation)",
                "전가상화 (바이너리 변환)",
            ),
            Technique::Paravirtualization => Text::new("paravirtualization", "반가상화"),
            Technique::HardwareAssisted => Text::new(
                "hardware-assisted virtualization (HVM)",
                "하드웨어 지원 가상화 (HVM)",
            ),
            Technique::Emulation => Text::new("emulation", "에뮬레이션"),
        }
    }

    /// How it works, precisely.
    pub fn explanation(self) -> Text {
        match self {
            Technique::BinaryTranslation => Text::new(
                "The original x86 could not be virtualized by trapping alone: some sensitive instructions are not privileged (e.g. POPF), so outside ring 0 they silently behave differently instead of trapping (Popek and Goldberg's criteria, 1974). VMware (1999) scanned guest kernel code and rewrote those instructions on the fly, so an unmodified OS ran at near native speed. Replaced by VT-x/AMD-V in current products.",
                "초기 x86은 트랩만으로는 가상화할 수 없었습니다. 일부 민감한 명령(예: POPF)이 특권 명령이 아니어서 링 0 밖에서 트랩하지 않고 조용히 다르게 동작했기 때문입니다(Popek과 Goldberg의 조건, 1974). VMware(1999)는 게스트 커널 코드를 실행 중에 검사해 그런 명령을 바꿔 써서, 수정하지 않은 OS를 거의 네이티브 속도로 실행했습니다. 지금의 제품에서는 VT-x/AMD-V가 이를 대신합니다.",
            ),
            Technique::Paravirtualization => Text::new(
                "The guest OS is modified to know it is virtualized and asks the hypervisor directly (hypercalls) instead of executing privileged instructions. Xen made it famous (2003), because it was fast without hardware support. Today paravirtual devices are everywhere, even in HVM guests: virtio (KVM), VMBus (Hyper-V), vmxnet3 (VMware).",
                "게스트 OS를 수정해서 자신이 가상화되어 있음을 알게 하고, 특권 명령 대신 하이퍼바이저에 직접 요청(하이퍼콜)하게 합니다. 하드웨어 지원 없이도 빨라서 Xen(2003)이 유명하게 만들었습니다. 오늘날에는 HVM 게스트에서도 반가상화 장치가 널리 쓰입니다: virtio(KVM), VMBus(Hyper-V), vmxnet3(VMware).",
            ),
            Technique::HardwareAssisted => Text::new(
                "The CPU gains a guest mode (Intel VT-x 2005, AMD-V 2006) that traps sensitive operations to the hypervisor, and later second-level page tables (Intel EPT, AMD NPT/RVI). Unmodified operating systems run without translation. Practically every current hypervisor relies on it; the CPU flags are vmx (Intel) and svm (AMD).",
                "CPU에 게스트 모드가 생겨(Intel VT-x 2005년, AMD-V 2006년) 민감한 동작을 하이퍼바이저로 트랩하고, 이후 2단계 페이지 테이블(Intel EPT, AMD NPT/RVI)도 지원합니다. 수정하지 않은 운영체제가 변환 없이 실행됩니다. 오늘날 거의 모든 하이퍼바이저가 이를 사용하며, CPU 플래그는 vmx(Intel)와 svm(AMD)입니다.",
            ),
            Technique::Emulation => Text::new(
                "Software interprets or translates every guest instruction, so the guest CPU may differ from the host's (an Arm guest on an x86 PC). Works anywhere, runs many times slower. QEMU's TCG is the best-known example.",
                "소프트웨어가 게스트의 모든 명령을 해석하거나 변환합니다. 그래서 게스트 CPU가 호스트와 달라도 됩니다(x86 PC에서 Arm 게스트). 어디서나 동작하지만 몇 배 느립니다. QEMU의 TCG가 대표적입니다.",
            ),
        }
    }
}

/// Whether a product needs Intel VT-x or AMD-V.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HardwareAssist {
    /// It will not run VMs without VT-x/AMD-V.
    Required,
    /// It uses VT-x/AMD-V when present and has a software fallback.
    Optional,
}

/// One product in the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Hypervisor {
    /// A short stable identifier, e.g. `"esxi"`.
    pub id: &'static str,
    /// The product's name.
    pub name: &'static str,
    /// Who makes it.
    pub vendor: &'static str,
    /// Type 1, type 2, or a KVM-based VMM.
    pub kind: Kind,
    /// What it runs on.
    pub host: Text,
    /// Whether it needs VT-x/AMD-V.
    pub hardware_assist: HardwareAssist,
    /// Techniques it uses.
    pub techniques: &'static [Technique],
    /// Names people type for it.
    pub aliases: &'static [&'static str],
    /// Where the popular picture is too simple.
    pub note: Text,
}

use Technique::{
    BinaryTranslation as Bt, Emulation as Emu, HardwareAssisted as Hvm, Paravirtualization as Pv,
};

static CATALOG: &[Hypervisor] = &[
    Hypervisor {
        id: "xen",
        name: "Xen / Citrix XenServer",
        vendor: "Xen Project (Linux Foundation); XenServer by Citrix, now Cloud Software Group",
        kind: Kind::Type1,
        host: Text::new("bare metal; a privileged Linux VM (dom0) manages it", "베어메탈; 특권 리눅스 VM(dom0)이 관리"),
        hardware_assist: HardwareAssist::Optional,
        techniques: &[Pv, Hvm],
        aliases: &["xen", "xenserver", "citrix", "citrixxenserver", "xcpng"],
        note: Text::new(
            "Xen boots first; even the management OS (dom0) is a VM. Paravirtualized (PV) guests run without VT-x/AMD-V; unmodified (HVM) guests need it. AWS EC2 ran on Xen from 2006 and since 2017 has moved to its Nitro system, whose hypervisor is built on KVM.",
            "Xen이 가장 먼저 부팅되며 관리용 OS(dom0)도 VM입니다. 반가상화(PV) 게스트는 VT-x/AMD-V 없이 실행되고, 수정하지 않은(HVM) 게스트는 필요합니다. AWS EC2는 2006년부터 Xen을 썼고 2017년부터 KVM 기반 하이퍼바이저를 쓰는 Nitro 시스템으로 옮겨 가고 있습니다.",
        ),
    },
    Hypervisor {
        id: "kvm",
        name: "Linux KVM",
        vendor: "Linux kernel community (Red Hat, Intel, AMD and others)",
        kind: Kind::Type1,
        host: Text::new("Linux (the kernel itself becomes the hypervisor)", "리눅스 (커널 자체가 하이퍼바이저)"),
        hardware_assist: HardwareAssist::Required,
        techniques: &[Hvm, Pv],
        aliases: &["kvm", "linuxkvm", "kernelbasedvirtualmachine"],
        note: Text::new(
            "KVM is a kernel module (kvm plus kvm_intel or kvm_amd) that makes the Linux kernel itself a type-1 hypervisor: each VM is a process and each vCPU a thread. It emulates no devices; a user-space VMM (QEMU, Firecracker, Cloud Hypervisor) does, through /dev/kvm. Guests use paravirtual virtio devices. AWS's Nitro hypervisor is built on KVM.",
            "KVM은 리눅스 커널 자체를 타입 1 하이퍼바이저로 만드는 커널 모듈(kvm과 kvm_intel 또는 kvm_amd)입니다. VM 하나는 프로세스 하나, vCPU 하나는 스레드 하나입니다. 장치는 에뮬레이션하지 않고, 사용자 공간 VMM(QEMU, Firecracker, Cloud Hypervisor)이 /dev/kvm을 통해 담당합니다. 게스트는 반가상화 장치 virtio를 씁니다. AWS의 Nitro 하이퍼바이저가 KVM 기반입니다.",
        ),
    },
    Hypervisor {
        id: "esxi",
        name: "VMware ESXi",
        vendor: "VMware (Broadcom since 2023)",
        kind: Kind::Type1,
        host: Text::new("bare metal (its own kernel, the VMkernel)", "베어메탈 (자체 커널 VMkernel)"),
        hardware_assist: HardwareAssist::Required,
        techniques: &[Hvm, Pv],
        aliases: &["esxi", "vmwareesxi", "esx", "vsphere", "vmwareesxiserver", "esxiserver"],
        note: Text::new(
            "ESXi is itself the operating system of the server: you install it instead of Windows or Linux and manage it remotely (vSphere Client, vCenter). VMware made x86 virtualization practical with binary translation (1999); current ESXi releases need VT-x/AMD-V for 64-bit guests.",
            "ESXi는 그 자체가 서버의 운영체제입니다. 윈도우나 리눅스 대신 설치하고 원격으로(vSphere Client, vCenter) 관리합니다. VMware는 바이너리 변환으로 x86 가상화를 실용화했고(1999), 현재 ESXi는 64비트 게스트에 VT-x/AMD-V가 필요합니다.",
        ),
    },
    Hypervisor {
        id: "hyper-v",
        name: "Microsoft Hyper-V",
        vendor: "Microsoft",
        kind: Kind::Type1,
        host: Text::new("bare metal under Windows Server or Windows 10/11 Pro/Enterprise", "윈도우 서버 또는 윈도우 10/11 Pro/Enterprise 아래의 베어메탈"),
        hardware_assist: HardwareAssist::Required,
        techniques: &[Hvm, Pv],
        aliases: &["hyperv", "microsofthyperv", "mshyperv"],
        note: Text::new(
            "It looks like a Windows feature, but enabling it puts the hypervisor under Windows: Windows itself becomes the privileged root partition, a VM. That is why VirtualBox or VMware Workstation on the same PC must then run through it (Windows Hypervisor Platform) and get slower. Needs VT-x/AMD-V with second-level address translation. Azure runs on Hyper-V.",
            "윈도우의 기능처럼 보이지만, 켜면 하이퍼바이저가 윈도우 아래로 들어가고 윈도우 자신은 특권을 가진 루트 파티션(VM)이 됩니다. 그래서 같은 PC의 VirtualBox나 VMware Workstation은 그 위에서(Windows Hypervisor Platform) 동작해야 하고 느려집니다. 2단계 주소 변환(SLAT)이 있는 VT-x/AMD-V가 필요합니다. Azure가 Hyper-V 위에서 동작합니다.",
        ),
    },
    Hypervisor {
        id: "workstation-pro",
        name: "VMware Workstation Pro",
        vendor: "VMware (Broadcom since 2023)",
        kind: Kind::Type2,
        host: Text::new("Windows, Linux", "윈도우, 리눅스"),
        hardware_assist: HardwareAssist::Required,
        techniques: &[Hvm, Pv],
        aliases: &["workstation", "workstationpro", "vmwareworkstation", "vmwareworkstationpro", "vmware"],
        note: Text::new(
            "A desktop application with kernel drivers. Early versions used binary translation; current ones require VT-x/AMD-V. Free for personal use since 2024 and for all use since November 2024.",
            "커널 드라이버를 가진 데스크톱 응용 프로그램입니다. 초기 버전은 바이너리 변환을 썼고 현재 버전은 VT-x/AMD-V가 필요합니다. 2024년부터 개인 사용, 2024년 11월부터 모든 용도로 무료입니다.",
        ),
    },
    Hypervisor {
        id: "workstation-player",
        name: "VMware Workstation Player",
        vendor: "VMware (Broadcom since 2023)",
        kind: Kind::Type2,
        host: Text::new("Windows, Linux", "윈도우, 리눅스"),
        hardware_assist: HardwareAssist::Required,
        techniques: &[Hvm, Pv],
        aliases: &["player", "workstationplayer", "vmwareplayer", "vmwareworkstationplayer"],
        note: Text::new(
            "The free, simpler edition of Workstation (runs one VM at a time, no snapshots). Discontinued in 2024 when Workstation Pro itself became free for personal use.",
            "Workstation의 무료 간소화 판입니다(한 번에 VM 하나, 스냅샷 없음). Workstation Pro가 개인 사용 무료가 된 2024년에 단종되었습니다.",
        ),
    },
    Hypervisor {
        id: "fusion",
        name: "VMware Fusion",
        vendor: "VMware (Broadcom since 2023)",
        kind: Kind::Type2,
        host: Text::new("macOS (Intel and Apple silicon)", "macOS (인텔, 애플 실리콘)"),
        hardware_assist: HardwareAssist::Required,
        techniques: &[Hvm, Pv],
        aliases: &["fusion", "vmwarefusion", "fusionpro"],
        note: Text::new(
            "Workstation's sibling for the Mac. On Apple silicon it runs Arm guests through Apple's Hypervisor.framework; it cannot run x86 Windows or Linux there.",
            "Mac용 Workstation입니다. 애플 실리콘에서는 애플의 Hypervisor.framework로 Arm 게스트를 실행하며, x86 윈도우나 리눅스는 실행할 수 없습니다.",
        ),
    },
    Hypervisor {
        id: "qemu",
        name: "QEMU",
        vendor: "QEMU project (open source, started by Fabrice Bellard)",
        kind: Kind::Type2,
        host: Text::new("Linux, Windows, macOS, BSD", "리눅스, 윈도우, macOS, BSD"),
        hardware_assist: HardwareAssist::Optional,
        techniques: &[Emu, Hvm, Pv],
        aliases: &["qemu", "linuxqemu", "qemukvm", "qemusystem"],
        note: Text::new(
            "Alone, QEMU is an emulator: its TCG translates every guest instruction, so it can run an Arm guest on an x86 PC, slowly. With an accelerator (-accel kvm on Linux, hvf on macOS, whpx on Windows) the guest runs directly on the CPU and QEMU only emulates devices: with KVM, QEMU is a user-space VMM and the hypervisor is KVM.",
            "QEMU 단독으로는 에뮬레이터입니다. TCG가 게스트 명령을 하나하나 변환하므로 x86 PC에서 Arm 게스트도 (느리게) 실행합니다. 가속기(리눅스 -accel kvm, macOS hvf, 윈도우 whpx)를 쓰면 게스트가 CPU에서 직접 실행되고 QEMU는 장치만 에뮬레이션합니다. KVM과 함께라면 QEMU는 사용자 공간 VMM이고 하이퍼바이저는 KVM입니다.",
        ),
    },
    Hypervisor {
        id: "virtual-pc",
        name: "Microsoft Virtual PC",
        vendor: "Microsoft (acquired from Connectix in 2003)",
        kind: Kind::Type2,
        host: Text::new("Windows (earlier, as Connectix Virtual PC, PowerPC Macs)", "윈도우 (이전에는 Connectix Virtual PC로 PowerPC Mac)"),
        hardware_assist: HardwareAssist::Optional,
        techniques: &[Bt, Hvm, Emu],
        aliases: &["virtualpc", "msvirtualpc", "microsoftvirtualpc", "windowsvirtualpc", "vpc"],
        note: Text::new(
            "Discontinued: Windows Virtual PC for Windows 7 (with XP Mode) was the last version, and Hyper-V replaced it from Windows 8 on. It first required VT-x/AMD-V; a 2010 update removed that requirement. The Mac edition emulated a whole x86 PC on PowerPC.",
            "단종되었습니다. 윈도우 7용 Windows Virtual PC(XP 모드)가 마지막이며 윈도우 8부터 Hyper-V가 대신합니다. 처음에는 VT-x/AMD-V가 필요했지만 2010년 업데이트로 그 요구가 없어졌습니다. Mac 판은 PowerPC에서 x86 PC 전체를 에뮬레이션했습니다.",
        ),
    },
    Hypervisor {
        id: "virtualbox",
        name: "Oracle VirtualBox",
        vendor: "Oracle (from innotek, via Sun Microsystems)",
        kind: Kind::Type2,
        host: Text::new("Windows, Linux, macOS, Solaris", "윈도우, 리눅스, macOS, 솔라리스"),
        hardware_assist: HardwareAssist::Required,
        techniques: &[Hvm, Pv],
        aliases: &["virtualbox", "vbox", "oraclevirtualbox", "oraclevm", "oraclevmvirtualbox"],
        note: Text::new(
            "An application with a kernel driver (vboxdrv). Since VirtualBox 6.1 (2019) it requires VT-x/AMD-V; earlier versions could fall back to binary translation for 32-bit guests. It can offer guests a paravirtual interface (KVM or Hyper-V style) and virtio-net.",
            "커널 드라이버(vboxdrv)를 가진 응용 프로그램입니다. VirtualBox 6.1(2019)부터 VT-x/AMD-V가 필수이며, 이전 버전은 32비트 게스트에 바이너리 변환을 쓸 수 있었습니다. 게스트에 반가상화 인터페이스(KVM 또는 Hyper-V 방식)와 virtio-net을 제공할 수 있습니다.",
        ),
    },
    Hypervisor {
        id: "firecracker",
        name: "Firecracker",
        vendor: "Amazon Web Services (open source)",
        kind: Kind::KvmVmm,
        host: Text::new("Linux with KVM", "KVM이 있는 리눅스"),
        hardware_assist: HardwareAssist::Required,
        techniques: &[Hvm, Pv],
        aliases: &["firecracker", "awsfirecracker"],
        note: Text::new(
            "A minimal VMM written in Rust that drives KVM: a handful of virtio devices, no BIOS or PCI, a guest kernel started in about 125 ms. It runs AWS Lambda and Fargate. The hypervisor is KVM; Firecracker takes QEMU's place.",
            "KVM을 구동하는 Rust로 작성된 최소 VMM입니다. virtio 장치 몇 개뿐이고 BIOS와 PCI가 없으며 게스트 커널을 약 125ms 만에 시작합니다. AWS Lambda와 Fargate가 이것으로 동작합니다. 하이퍼바이저는 KVM이고, Firecracker는 QEMU의 자리를 대신합니다.",
        ),
    },
    Hypervisor {
        id: "cloud-hypervisor",
        name: "Cloud Hypervisor",
        vendor: "Cloud Hypervisor project (Linux Foundation; started by Intel)",
        kind: Kind::KvmVmm,
        host: Text::new("Linux with KVM, or Microsoft's MSHV", "KVM이 있는 리눅스 또는 마이크로소프트의 MSHV"),
        hardware_assist: HardwareAssist::Required,
        techniques: &[Hvm, Pv],
        aliases: &["cloudhypervisor", "ch", "chv"],
        note: Text::new(
            "A Rust VMM for cloud workloads, built like Firecracker on the rust-vmm crates but with more devices (PCI, hotplug, VFIO). Despite its name it is not a hypervisor by itself: it runs on KVM or on Microsoft's hypervisor (MSHV).",
            "클라우드 워크로드용 Rust VMM으로, Firecracker처럼 rust-vmm 크레이트로 만들었지만 장치가 더 많습니다(PCI, 핫플러그, VFIO). 이름과 달리 그 자체로 하이퍼바이저는 아니며 KVM이나 마이크로소프트 하이퍼바이저(MSHV) 위에서 동작합니다.",
        ),
    },
];

/// The product catalog.
pub fn catalog() -> &'static [Hypervisor] {
    CATALOG
}

/// Errors from lookups and the quiz.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum HypervisorError {
    /// No product by that name.
    #[error("unknown hypervisor {input:?}: expected one of {}", known_ids())]
    Unknown {
        /// The input.
        input: String,
    },
    /// Not a hypervisor type.
    #[error("{input:?} is not a hypervisor type: expected 1 (bare-metal), 2 (hosted) or vmm (KVM-based VMM)")]
    UnknownKind {
        /// The input.
        input: String,
    },
    /// Nothing to classify.
    #[error("nothing to classify: give a product name such as ESXi or a description such as \"runs as an application on Windows\"")]
    Empty,
    /// A description without any clue.
    #[error("cannot classify {input:?}: name a product ({}) or say where it runs (\"directly on the hardware\", \"as an application on Windows\", \"uses /dev/kvm\")", known_ids())]
    NoClue {
        /// The input.
        input: String,
    },
    /// Clues pointing both ways, equally.
    #[error("{input:?} has clues for both types ({type1} for type 1, {type2} for type 2): say whether it runs on the hardware or on an operating system")]
    Ambiguous {
        /// The input.
        input: String,
        /// Type 1 clues found.
        type1: String,
        /// Type 2 clues found.
        type2: String,
    },
}

fn known_ids() -> String {
    CATALOG.iter().map(|h| h.id).collect::<Vec<_>>().join(", ")
}

/// ASCII-lowercased with everything but letters and digits removed: "Hyper-V" → "hyperv"
/// (Hangul has no case, so Korean names pass through as typed).
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The product with this id, name or alias, ignoring case, spaces and punctuation.
pub fn find(name: &str) -> Result<&'static Hypervisor, HypervisorError> {
    let key = compact(name);
    CATALOG
        .iter()
        .find(|h| {
            !key.is_empty()
                && (compact(h.id) == key
                    || compact(h.name) == key
                    || h.aliases.contains(&key.as_str()))
        })
        .ok_or_else(|| HypervisorError::Unknown {
            input: name.to_string(),
        })
}

/// The answer to "which type is this, and why?".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// The answer.
    pub kind: Kind,
    /// The product recognised, if the query named one.
    pub product: Option<&'static str>,
    /// The words in the query that decided it.
    pub clues: Vec<&'static str>,
    /// Why, for a product: its note; for a description: the kind's definition.
    pub why: Text,
}

const TYPE1_CLUES: &[&str] = &[
    "bare metal",
    "bare-metal",
    "baremetal",
    "directly on the hardware",
    "directly on hardware",
    "on the hardware",
    "no host os",
    "without a host os",
    "without an operating system",
    "native hypervisor",
    "installed instead of",
    "베어메탈",
    "베어 메탈",
    "하드웨어 위",
    "하드웨어에 직접",
    "호스트 os 없이",
    "네이티브",
];

const TYPE2_CLUES: &[&str] = &[
    "hosted",
    "on top of an os",
    "on top of an operating system",
    "on top of windows",
    "on top of macos",
    "on top of linux",
    "runs on windows",
    "runs on macos",
    "on windows",
    "on macos",
    "on a laptop",
    "as an application",
    "an application",
    "an app ",
    "host os",
    "호스트형",
    "호스트 os 위",
    "운영체제 위",
    "윈도우 위",
    "응용 프로그램",
    "애플리케이션",
];

const VMM_CLUES: &[&str] = &[
    "/dev/kvm",
    "uses kvm",
    "on top of kvm",
    "on kvm",
    "drives kvm",
    "microvm",
    "kvm 위",
    "kvm을 사용",
    "kvm을 이용",
];

/// Classifies a product name ("ESXi") or a description ("runs as an application on macOS").
///
/// ```
/// use labvisor_core::hypervisor::{classify, Kind};
/// assert_eq!(classify("VMware ESXi").unwrap().kind, Kind::Type1);
/// assert_eq!(classify("runs as an application on Windows").unwrap().kind, Kind::Type2);
/// ```
pub fn classify(query: &str) -> Result<Classification, HypervisorError> {
    if query.trim().is_empty() {
        return Err(HypervisorError::Empty);
    }
    if let Ok(h) = find(query) {
        return Ok(product_answer(h));
    }
    let lower = format!("{} ", query.to_ascii_lowercase());
    let found = |clues: &[&'static str]| -> Vec<&'static str> {
        clues
            .iter()
            .copied()
            .filter(|c| lower.contains(c))
            .collect()
    };
    let (vmm, type1, type2) = (found(VMM_CLUES), found(TYPE1_CLUES), found(TYPE2_CLUES));
    if !vmm.is_empty() {
        return Ok(description_answer(Kind::KvmVmm, vmm));
    }
    match type1.len().cmp(&type2.len()) {
        std::cmp::Ordering::Greater => return Ok(description_answer(Kind::Type1, type1)),
        std::cmp::Ordering::Less => return Ok(description_answer(Kind::Type2, type2)),
        std::cmp::Ordering::Equal if !type1.is_empty() => {
            return Err(HypervisorError::Ambiguous {
                input: query.to_string(),
                type1: type1.join(", "),
                type2: type2.join(", "),
            })
        }
        std::cmp::Ordering::Equal => {}
    }
    // A description that mentions a product by name, e.g. "what kind is VirtualBox?".
    let words = compact_words(query);
    for h in CATALOG {
        let named = h
            .aliases
            .iter()
            .any(|a| a.len() >= 3 && words.iter().any(|w| w == a))
            || (words.len() > 1 && contains_phrase(&compact(query), &compact(h.name)));
        if named {
            return Ok(product_answer(h));
        }
    }
    Err(HypervisorError::NoClue {
        input: query.to_string(),
    })
}

fn compact_words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(compact)
        .filter(|w| !w.is_empty())
        .collect()
}

fn contains_phrase(haystack: &str, needle: &str) -> bool {
    needle.len() >= 4 && haystack.contains(needle)
}

fn product_answer(h: &'static Hypervisor) -> Classification {
    Classification {
        kind: h.kind,
        product: Some(h.id),
        clues: vec![h.name],
        why: h.note,
    }
}

fn description_answer(kind: Kind, clues: Vec<&'static str>) -> Classification {
    Classification {
        kind,
        product: None,
        clues,
        why: kind.explanation(),
    }
}

/// One quiz question: "which type is this product?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct QuizItem {
    /// The product's id.
    pub product: &'static str,
    /// The product's name, to put in the question.
    pub name: &'static str,
    /// The expected answer.
    pub answer: Kind,
}

/// The classification quiz: one question per product, in catalog order.
pub fn quiz() -> Vec<QuizItem> {
    CATALOG
        .iter()
        .map(|h| QuizItem {
            product: h.id,
            name: h.name,
            answer: h.kind,
        })
        .collect()
}

/// The verdict on one quiz answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Whether the answer was right.
    pub correct: bool,
    /// The right answer.
    pub expected: Kind,
    /// Why.
    pub why: Text,
}

/// Grades the answer `given` for the product `product` (an id, name or alias).
pub fn grade(product: &str, given: Kind) -> Result<Verdict, HypervisorError> {
    let h = find(product)?;
    Ok(Verdict {
        correct: given == h.kind,
        expected: h.kind,
        why: h.note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn catalog_has_the_course_products_with_the_course_types() {
        let expected = [
            ("Citrix XenServer", Kind::Type1),
            ("Linux KVM", Kind::Type1),
            ("VMware ESXi Server", Kind::Type1),
            ("MS Hyper-V", Kind::Type1),
            ("VMware Workstation Pro", Kind::Type2),
            ("VMware Workstation Player", Kind::Type2),
            ("VMware Fusion", Kind::Type2),
            ("Linux QEMU", Kind::Type2),
            ("MS Virtual PC", Kind::Type2),
            ("VirtualBox", Kind::Type2),
            ("Firecracker", Kind::KvmVmm),
            ("Cloud Hypervisor", Kind::KvmVmm),
        ];
        for (name, kind) in expected {
            assert_eq!(find(name).map(|h| h.kind), Ok(kind), "{name}");
        }
        assert_eq!(catalog().len(), expected.len());
    }

    #[test]
    fn catalog_is_consistent() {
        for h in catalog() {
            assert_eq!(find(h.id).unwrap().id, h.id);
            assert_eq!(find(h.name).unwrap().id, h.id);
            for alias in h.aliases {
                assert_eq!(&compact(alias), alias, "aliases are stored compact");
                assert_eq!(find(alias).unwrap().id, h.id, "{alias}");
            }
            assert!(!h.note.en.is_empty() && !h.note.ko.is_empty());
            assert!(!h.techniques.is_empty());
        }
    }

    #[test]
    fn notes_carry_the_precise_facts() {
        assert!(find("qemu").unwrap().note.en.contains("emulator"));
        assert!(find("qemu").unwrap().note.en.contains("KVM"));
        assert_eq!(
            find("qemu").unwrap().hardware_assist,
            HardwareAssist::Optional
        );
        assert!(find("kvm").unwrap().note.en.contains("Linux kernel itself"));
        assert!(find("xen").unwrap().note.en.contains("Nitro"));
        assert!(find("xen")
            .unwrap()
            .techniques
            .contains(&Technique::Paravirtualization));
    }

    #[test]
    fn unknown_names_list_what_is_known() {
        let err = find("parallels").unwrap_err().to_string();
        assert!(
            err.contains("\"parallels\"") && err.contains("virtualbox"),
            "{err}"
        );
        assert!(find("").is_err());
    }

    #[test]
    fn classifies_descriptions() {
        let c = classify("It is installed directly on the hardware, no host OS").unwrap();
        assert_eq!((c.kind, c.product), (Kind::Type1, None));
        assert_eq!(
            classify("runs as an application on Windows").unwrap().kind,
            Kind::Type2
        );
        assert_eq!(
            classify("호스트 OS 위에서 응용 프로그램으로 실행")
                .unwrap()
                .kind,
            Kind::Type2
        );
        assert_eq!(
            classify("하드웨어 위에 직접 설치하는 베어메탈")
                .unwrap()
                .kind,
            Kind::Type1
        );
        assert_eq!(
            classify("a Rust program that opens /dev/kvm").unwrap().kind,
            Kind::KvmVmm
        );
        assert_eq!(
            classify("What type is VirtualBox?").unwrap().product,
            Some("virtualbox")
        );
        assert!(matches!(
            classify("something fast"),
            Err(HypervisorError::NoClue { .. })
        ));
        assert!(matches!(
            classify("hosted on bare metal"),
            Err(HypervisorError::Ambiguous { .. })
        ));
        assert_eq!(classify("  "), Err(HypervisorError::Empty));
    }

    #[test]
    fn quiz_grades_answers() {
        assert_eq!(quiz().len(), catalog().len());
        let v = grade("ESXi", Kind::Type2).unwrap();
        assert!(!v.correct);
        assert_eq!(v.expected, Kind::Type1);
        assert!(
            grade("virtualbox", Kind::parse("type 2").unwrap())
                .unwrap()
                .correct
        );
        assert_eq!(Kind::parse("bare-metal"), Ok(Kind::Type1));
        assert!(Kind::parse("3").is_err());
    }

    #[test]
    fn serializes() {
        let json = serde_json::to_value(find("kvm").unwrap()).unwrap();
        assert_eq!(json["kind"], "type1");
        assert_eq!(json["hardware_assist"], "required");
        assert_eq!(
            json["note"]["ko"].as_str().map(|s| s.contains("커널")),
            Some(true)
        );
    }

    proptest! {
        #[test]
        fn classify_never_panics(s in "\\PC*") {
            let _ = classify(&s);
            let _ = find(&s);
            let _ = Kind::parse(&s);
        }
    }
}
