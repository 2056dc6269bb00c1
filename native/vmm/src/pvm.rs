//! Native execution on this host's PVM build: how a vCPU leaves KVM's instruction emulator.
//!
//! Left alone, the kvm_pvm build on these hosts keeps a long-mode vCPU in "non-PVM mode",
//! where KVM's x86 emulator executes every guest instruction. The build has an opt-in of its
//! own, measured here (`shared/reference.md`, "Native speed on this host"; undocumented
//! upstream): writing bit 0 of MSR 0x4b564d10 before the vCPU first runs makes it execute
//! natively, about 2,000 times faster, provided every level of the guest's page tables has the
//! U/S bit set (the VMM's tables do; see [`super::cpu::write_boot_tables`]).
//!
//! Because the interface is specific to this build, nothing is written unless MSR 0x4b564d11
//! first reads back the build's signature, and the bit must read back as set afterwards;
//! otherwise the vCPU runs emulated, as before, and the report says why.
//!
//! In native mode every exception and `iretq` ends the VM (`KVM_EXIT_SHUTDOWN`, with RIP and
//! CR2 left at the fault), and MMIO addresses must come from 64-bit registers. Labvisor's guest
//! takes no exceptions and reaches its devices through addresses held in registers.

use kvm_bindings::{kvm_msr_entry, Msrs};
use kvm_ioctls::VcpuFd;
use serde::Serialize;

/// Reads [`SIGNATURE`] on the kvm_pvm build that offers native mode.
pub const MSR_SIGNATURE: u32 = 0x4b56_4d11;
/// "PVM", little-endian.
pub const SIGNATURE: u64 = 0x4d_5650;
/// Bit 0 runs the vCPU natively. Its other bits are left as KVM set them (meaning unknown).
pub const MSR_CONTROL: u32 = 0x4b56_4d10;
pub const CONTROL_NATIVE: u64 = 1;

/// How the user asks the VM's vCPUs to run on a PVM host (`vm run --pvm-mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PvmMode {
    /// Native where this host offers it and the kernel can use it; emulated otherwise.
    #[default]
    Auto,
    /// Native, or refuse to start.
    Native,
    /// Every instruction through KVM's emulator (for comparison and debugging).
    Emulated,
}

/// How the vCPUs actually ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuMode {
    /// VT-x/AMD-V: the CPU runs the guest itself.
    Hardware,
    /// PVM with this build's native opt-in.
    Native,
    /// PVM's non-PVM mode: KVM's instruction emulator runs every guest instruction.
    Emulated,
}

impl CpuMode {
    /// The mode as the guest sees it in the control device's `CPU_MODE` register.
    pub fn abi(self) -> labvisor_guest_abi::control::CpuMode {
        use labvisor_guest_abi::control::CpuMode as Abi;
        match self {
            CpuMode::Hardware => Abi::Hardware,
            CpuMode::Native => Abi::PvmNative,
            CpuMode::Emulated => Abi::PvmEmulated,
        }
    }
}

/// Why native mode was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotNative {
    #[error("this host's KVM is not PVM")]
    NotPvm,
    #[error(
        "MSR {MSR_SIGNATURE:#x} does not carry this kvm_pvm build's signature ({SIGNATURE:#x}), so this build has no native opt-in"
    )]
    NoSignature,
    #[error("KVM refused to set bit 0 of MSR {MSR_CONTROL:#x}")]
    Refused,
    #[error("bit 0 of MSR {MSR_CONTROL:#x} did not read back as set")]
    NotSticky,
    #[error("a Linux kernel builds its own page tables without the U/S bit native mode needs")]
    LinuxKernel,
    #[error("emulation was asked for (--pvm-mode emulated)")]
    AskedForEmulation,
    #[error("the VMM was told to act as if the MSR were absent (a test seam)")]
    Pretended,
}

fn read_msr(vcpu: &VcpuFd, index: u32) -> Option<u64> {
    let mut msrs = Msrs::from_entries(&[kvm_msr_entry {
        index,
        ..Default::default()
    }])
    .ok()?;
    // KVM_GET_MSRS returns how many it read: 0 for an MSR this KVM does not know.
    match vcpu.get_msrs(&mut msrs) {
        Ok(1) => Some(msrs.as_slice()[0].data),
        _ => None,
    }
}

fn write_msr(vcpu: &VcpuFd, index: u32, data: u64) -> bool {
    Msrs::from_entries(&[kvm_msr_entry {
        index,
        data,
        ..Default::default()
    }])
    .is_ok_and(|msrs| matches!(vcpu.set_msrs(&msrs), Ok(1)))
}

/// Whether `vcpu`'s KVM is the build with the native opt-in. Reads; writes nothing.
pub fn offers_native(vcpu: &VcpuFd) -> Result<(), NotNative> {
    match read_msr(vcpu, MSR_SIGNATURE) {
        Some(SIGNATURE) => Ok(()),
        _ => Err(NotNative::NoSignature),
    }
}

/// Switches `vcpu` to native mode; call before its first `KVM_RUN`. Writes only after
/// [`offers_native`] has recognised the build, and checks the write took.
pub fn enable_native(vcpu: &VcpuFd) -> Result<(), NotNative> {
    offers_native(vcpu)?;
    let control = read_msr(vcpu, MSR_CONTROL).ok_or(NotNative::Refused)?;
    if !write_msr(vcpu, MSR_CONTROL, control | CONTROL_NATIVE) {
        return Err(NotNative::Refused);
    }
    match read_msr(vcpu, MSR_CONTROL) {
        Some(v) if v & CONTROL_NATIVE != 0 => Ok(()),
        _ => Err(NotNative::NotSticky),
    }
}

/// Takes `vcpu` back to emulation (used when a later vCPU of the same VM could not switch, so
/// that all of a VM's vCPUs run the same way).
pub fn disable_native(vcpu: &VcpuFd) {
    if let Some(control) = read_msr(vcpu, MSR_CONTROL) {
        let _ = write_msr(vcpu, MSR_CONTROL, control & !CONTROL_NATIVE);
    }
}

/// How a VM's vCPUs will run, and why not natively where they will not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub mode: CpuMode,
    pub not_native: Option<NotNative>,
}

/// What decides the mode: the host, the user's request, and the kernel.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub host: super::host::KvmKind,
    pub asked: PvmMode,
    /// A Linux kernel (its own page tables lack U/S, so it cannot run natively).
    pub linux: bool,
    /// Test seam: behave as if MSR [`MSR_SIGNATURE`] were absent.
    pub pretend_absent: bool,
}

/// Decides how `vcpus` run and, for native mode, switches every one of them before its first
/// run. All of a VM's vCPUs run the same way: if one cannot switch, those already switched go
/// back to emulation. `Err` only when native mode was demanded and is not available.
pub fn choose(request: Request, vcpus: &[&VcpuFd]) -> Result<Decision, NotNative> {
    use super::host::KvmKind;
    let emulated = |why: NotNative| Decision {
        mode: CpuMode::Emulated,
        not_native: Some(why),
    };
    if request.host != KvmKind::Pvm {
        return Ok(Decision {
            mode: CpuMode::Hardware,
            not_native: None,
        });
    }
    let attempt = || -> Result<(), NotNative> {
        if request.asked == PvmMode::Emulated {
            return Err(NotNative::AskedForEmulation);
        }
        if request.linux {
            return Err(NotNative::LinuxKernel);
        }
        if request.pretend_absent {
            return Err(NotNative::Pretended);
        }
        for (done, vcpu) in vcpus.iter().enumerate() {
            if let Err(why) = enable_native(vcpu) {
                vcpus[..done].iter().for_each(|v| disable_native(v));
                return Err(why);
            }
        }
        Ok(())
    };
    match (attempt(), request.asked) {
        (Ok(()), _) => Ok(Decision {
            mode: CpuMode::Native,
            not_native: None,
        }),
        (Err(why), PvmMode::Native) => Err(why),
        (Err(why), _) => Ok(emulated(why)),
    }
}

/// Whether this host's KVM offers native mode, asked of a throwaway VM's vCPU (reads only).
pub fn host_offers_native() -> Result<(), NotNative> {
    let vcpu = kvm_ioctls::Kvm::new()
        .and_then(|kvm| kvm.create_vm())
        .and_then(|vm| vm.create_vcpu(0))
        .map_err(|_| NotNative::NoSignature)?;
    offers_native(&vcpu)
}
