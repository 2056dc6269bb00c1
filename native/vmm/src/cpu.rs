//! vCPU setup: CPUID from KVM's supported set, 64-bit long mode straight from reset (GDT,
//! identity page tables, CR0/CR4/EFER), and the entry registers of each boot protocol.
//!
//! Starting in long mode is what makes PVM hosts work: the guest never runs real-mode or
//! 32-bit code, never loads an IDT and never takes a fault on the way up.

use kvm_bindings::{kvm_fpu, kvm_regs, kvm_segment, CpuId, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{Kvm, VcpuFd};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

use super::{layout, VmmError};

const CR0_PE: u64 = 1 << 0;
const CR0_MP: u64 = 1 << 1;
const CR0_ET: u64 = 1 << 4;
const CR0_NE: u64 = 1 << 5;
const CR0_WP: u64 = 1 << 16;
const CR0_AM: u64 = 1 << 18;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;
const CR4_FSGSBASE: u64 = 1 << 16;
const EFER_SCE: u64 = 1 << 0;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;
const EFER_NXE: u64 = 1 << 11;

/// GDT entries at Linux's selectors (0x10 code, 0x18 data), which is what PVM's
/// MSR_STAR emulation derives from CS: null, unused, 64-bit code, data, TSS placeholder
/// (KVM wants a valid TR).
const GDT: [u64; 5] = [
    0,
    0,
    gdt_entry(0xa09b, 0, 0xfffff),
    gdt_entry(0xc093, 0, 0xfffff),
    gdt_entry(0x808b, 0, 0xfffff),
];
const CODE: usize = 2;
const DATA: usize = 3;
const TSS: usize = 4;
const CODE_SELECTOR: u16 = (CODE as u16) << 3;
const DATA_SELECTOR: u16 = (DATA as u16) << 3;
const TSS_SELECTOR: u16 = (TSS as u16) << 3;

/// A GDT entry from flags (access byte and granularity nibble), base and limit.
const fn gdt_entry(flags: u16, base: u32, limit: u32) -> u64 {
    ((base as u64 & 0xff00_0000) << 32)
        | ((base as u64 & 0x00ff_ffff) << 16)
        | (limit as u64 & 0x0000_ffff)
        | ((limit as u64 & 0x000f_0000) << 32)
        | ((flags as u64 & 0xf0ff) << 40)
}

/// The `kvm_segment` a GDT entry describes, for loading it into a vCPU directly.
fn segment(entry: u64, selector: u16) -> kvm_segment {
    let base = ((entry >> 16) & 0x00ff_ffff) | ((entry >> 32) & 0xff00_0000);
    let raw_limit = ((entry & 0xffff) | ((entry >> 32) & 0xf_0000)) as u32;
    let granular = (entry >> 55) & 1;
    kvm_segment {
        base,
        limit: if granular == 1 {
            (raw_limit << 12) | 0xfff
        } else {
            raw_limit
        },
        selector,
        type_: ((entry >> 40) & 0xf) as u8,
        present: ((entry >> 47) & 1) as u8,
        dpl: ((entry >> 45) & 3) as u8,
        db: ((entry >> 54) & 1) as u8,
        s: ((entry >> 44) & 1) as u8,
        l: ((entry >> 53) & 1) as u8,
        g: granular as u8,
        avl: ((entry >> 52) & 1) as u8,
        unusable: 0,
        padding: 0,
    }
}

/// Page-table entry bits: present, writable, and user/supervisor. U/S is set at every level
/// because this host's PVM runs a vCPU natively only when it is (see [`super::pvm`]); a
/// guest at CPL 0 without SMEP/SMAP (CR4 leaves both off) sees no difference.
const PTE_PRESENT: u64 = 1 << 0;
const PTE_WRITABLE: u64 = 1 << 1;
const PTE_USER: u64 = 1 << 2;
/// In a page-directory entry: a 2 MiB page rather than a page table.
const PDE_LARGE: u64 = 1 << 7;
const TABLE: u64 = PTE_PRESENT | PTE_WRITABLE | PTE_USER;

/// Writes the GDT and the identity page tables (0–4 GiB, 2 MiB pages) every vCPU shares.
pub fn write_boot_tables(mem: &GuestMemoryMmap) -> Result<(), VmmError> {
    let guest =
        |e: vm_memory::GuestMemoryError| VmmError::Host(format!("cannot write page tables: {e}"));
    for (i, entry) in GDT.iter().enumerate() {
        mem.write_obj(*entry, GuestAddress(layout::GDT_ADDR + 8 * i as u64))
            .map_err(guest)?;
    }
    mem.write_obj(layout::PDPT_ADDR | TABLE, GuestAddress(layout::PML4_ADDR))
        .map_err(guest)?;
    for pd in 0..4u64 {
        let pd_addr = layout::PD_ADDR + pd * 0x1000;
        mem.write_obj(pd_addr | TABLE, GuestAddress(layout::PDPT_ADDR + pd * 8))
            .map_err(guest)?;
        for i in 0..512u64 {
            let phys = ((pd * 512 + i) << 21) | TABLE | PDE_LARGE;
            mem.write_obj(phys, GuestAddress(pd_addr + i * 8))
                .map_err(guest)?;
        }
    }
    Ok(())
}

/// Where and how a vCPU starts.
#[derive(Debug, Clone, Copy)]
pub struct EntryPoint {
    pub rip: u64,
    pub rsp: u64,
    /// First argument (`rdi`): Labvisor's boot-info block.
    pub rdi: u64,
    /// Second argument (`rsi`): the CPU index (Labvisor) or the zero page (Linux).
    pub rsi: u64,
}

/// Sets CPUID, FPU, special and general registers so the vCPU starts at `entry` in long mode.
pub fn configure(kvm: &Kvm, vcpu: &VcpuFd, index: u8, entry: EntryPoint) -> Result<(), VmmError> {
    let err = |what: &str, e: kvm_ioctls::Error| {
        VmmError::Host(format!("vCPU {index}: cannot {what}: {e}"))
    };
    let mut cpuid = kvm
        .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
        .map_err(|e| err("read KVM's CPUID", e))?;
    patch_cpuid(&mut cpuid, index);
    vcpu.set_cpuid2(&cpuid).map_err(|e| err("set CPUID", e))?;

    let fpu = kvm_fpu {
        fcw: 0x37f,
        mxcsr: 0x1f80,
        ..Default::default()
    };
    vcpu.set_fpu(&fpu).map_err(|e| err("set the FPU", e))?;

    let mut sregs = vcpu
        .get_sregs()
        .map_err(|e| err("read special registers", e))?;
    let code = segment(GDT[CODE], CODE_SELECTOR);
    let data = segment(GDT[DATA], DATA_SELECTOR);
    sregs.gdt.base = layout::GDT_ADDR;
    sregs.gdt.limit = (std::mem::size_of_val(&GDT) - 1) as u16;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cs = code;
    sregs.ds = data;
    sregs.es = data;
    sregs.fs = data;
    sregs.gs = data;
    sregs.ss = data;
    sregs.tr = segment(GDT[TSS], TSS_SELECTOR);
    sregs.cr3 = layout::PML4_ADDR;
    sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if has_fsgsbase(&cpuid) {
        sregs.cr4 |= CR4_FSGSBASE;
    }
    // Set outright (not OR-ed into the reset values, whose CD and NW would stay) and to the
    // values PVM's 64-bit supervisor mode specifies (pvm-spec.rst), which a hardware-KVM
    // guest is equally happy with.
    sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
    sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    vcpu.set_sregs(&sregs)
        .map_err(|e| err("set special registers", e))?;

    let regs = kvm_regs {
        rflags: 0x2,
        rip: entry.rip,
        rsp: entry.rsp,
        rbp: entry.rsp,
        rdi: entry.rdi,
        rsi: entry.rsi,
        ..Default::default()
    };
    vcpu.set_regs(&regs).map_err(|e| err("set registers", e))?;
    Ok(())
}

/// Whether CPUID advertises RDFSBASE and friends (leaf 7, EBX bit 0); PVM requires CR4.FSGSBASE.
fn has_fsgsbase(cpuid: &CpuId) -> bool {
    cpuid
        .as_slice()
        .iter()
        .any(|e| e.function == 7 && e.index == 0 && e.ebx & 1 != 0)
}

/// Gives each vCPU its own APIC id and says it runs under a hypervisor.
fn patch_cpuid(cpuid: &mut CpuId, index: u8) {
    for entry in cpuid.as_mut_slice() {
        match entry.function {
            1 => {
                entry.ebx = (entry.ebx & 0x00ff_ffff) | (u32::from(index) << 24);
                entry.ecx |= 1 << 31; // hypervisor present
            }
            0xb | 0x1f => entry.edx = u32::from(index),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_segment_is_64_bit_present_and_executable() {
        let cs = segment(GDT[CODE], CODE_SELECTOR);
        assert_eq!((cs.l, cs.db, cs.present, cs.s, cs.type_), (1, 0, 1, 1, 0xb));
        assert_eq!(cs.limit, 0xffff_ffff);
        let ds = segment(GDT[DATA], DATA_SELECTOR);
        assert_eq!((ds.l, ds.db, ds.type_), (0, 1, 0x3));
    }
}
