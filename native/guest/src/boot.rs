//! The ways into the kernel and the boot information each provides.
//!
//! - **Labvisor 64-bit entry** (`_start`, the ELF entry point): the VMM starts every vCPU in long
//!   mode with identity-mapped page tables, `rdi` = the boot-info block, `rsi` = the CPU index.
//! - **PVH entry** (`pvh_start32`, announced by the `XEN_ELFNOTE_PHYS32_ENTRY` note): 32-bit
//!   protected mode, paging off, `ebx` = `hvm_start_info`. It builds its own page tables, enters
//!   long mode and joins the 64-bit path as CPU 0.

use core::arch::global_asm;
use labvisor_guest_abi::ssh::{self, SshKeys};

/// Most CPUs the kernel runs; each gets a stack of [`STACK_SIZE`] bytes.
pub use labvisor_guest_abi::MAX_CPUS;
/// Bytes of stack per CPU.
pub const STACK_SIZE: usize = 64 * 1024;

/// `protocol` values passed to `kernel_main`.
const PROTOCOL_LABVISOR: u64 = 0;
const PROTOCOL_PVH: u64 = 1;

#[repr(C, align(4096))]
struct Stacks([u8; MAX_CPUS * STACK_SIZE]);
#[no_mangle]
static mut STACKS: Stacks = Stacks([0; MAX_CPUS * STACK_SIZE]);

/// Page tables the PVH path builds: 4 GiB identity-mapped with 2 MiB pages.
#[repr(C, align(4096))]
struct PvhTables {
    pml4: [u64; 512],
    pdpt: [u64; 512],
    pd: [u64; 4 * 512],
}
#[no_mangle]
static mut PVH_TABLES: PvhTables = PvhTables {
    pml4: [0; 512],
    pdpt: [0; 512],
    pd: [0; 4 * 512],
};

global_asm!(
    r#"
    .section .text.boot, "ax"
    .code64
    .global _start
_start:
    cmp rsi, {max_cpus}
    jae 9f
    xor edx, edx
2:
    lea rax, [rip + STACKS]
    mov rcx, rsi
    inc rcx
    imul rcx, rcx, {stack_size}
    add rax, rcx
    mov rsp, rax
    xor ebp, ebp
    call kernel_main
9:
    pause
    jmp 9b

    .code32
    .global pvh_start32
pvh_start32:
    cld
    mov edi, offset PVH_TABLES + 8192
    mov eax, 0x83
    xor edx, edx
    mov ecx, 2048
3:
    mov [edi], eax
    mov [edi + 4], edx
    add eax, 0x200000
    adc edx, 0
    add edi, 8
    dec ecx
    jnz 3b
    mov edi, offset PVH_TABLES + 4096
    mov eax, offset PVH_TABLES + 8192 + 3
    mov ecx, 4
4:
    mov [edi], eax
    mov dword ptr [edi + 4], 0
    add eax, 4096
    add edi, 8
    dec ecx
    jnz 4b
    mov eax, offset PVH_TABLES + 4096 + 3
    mov [PVH_TABLES], eax
    mov eax, offset PVH_TABLES
    mov cr3, eax
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, cr0
    or eax, 0x80000001
    mov cr0, eax
    lgdt [pvh_gdt_ptr]
    push 0x08
    mov eax, offset pvh_start64
    push eax
    retf

    .code64
pvh_start64:
    mov eax, 0x10
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov edi, ebx
    xor esi, esi
    mov edx, {pvh}
    jmp 2b

    .section .rodata
    .balign 8
pvh_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
pvh_gdt_ptr:
    .word pvh_gdt_ptr - pvh_gdt - 1
    .long pvh_gdt

    .section .note.Xen, "a"
    .balign 4
    .long 4
    .long 8
    .long 18
    .asciz "Xen"
    .balign 4
    .quad pvh_start32
    .balign 4
    .text
"#,
    max_cpus = const MAX_CPUS,
    stack_size = const STACK_SIZE,
    pvh = const PROTOCOL_PVH,
);

/// What the kernel learns at boot, whichever way it came in.
pub struct BootInfo {
    pub cpus: usize,
    pub mem_bytes: u64,
    /// Base of Labvisor's control device, or 0 when booted by another VMM.
    pub control_base: u64,
    pub virtio_base: u64,
    pub virtio_slots: u32,
    /// Bytes between two virtio-mmio slots.
    pub virtio_stride: u64,
    /// The workload (`--run`), or the PVH command line.
    pub workload: &'static str,
    pub booted_by: &'static str,
    /// The SSH server's keys and password from the VMM (Labvisor's only).
    pub ssh_keys: Option<SshKeys>,
}

/// QEMU microvm's virtio-mmio window: 24 transports of 512 bytes from 0xfeb0_0000.
const QEMU_MICROVM_VIRTIO_BASE: u64 = 0xfeb0_0000;
const QEMU_MICROVM_VIRTIO_SLOTS: u32 = 24;
const QEMU_MICROVM_VIRTIO_STRIDE: u64 = 0x200;

/// Longest workload text read from either loader.
const MAX_WORKLOAD: usize = labvisor_guest_abi::memory::WORKLOAD_MAX;

/// PVH's `hvm_start_info` (xen/include/public/arch-x86/hvm/start_info.h).
#[repr(C)]
struct HvmStartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}
#[repr(C)]
struct HvmMemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}
const HVM_START_MAGIC: u32 = 0x336e_c578;

impl BootInfo {
    /// Reads the boot information at physical address `addr` (identity-mapped).
    pub fn read(addr: u64, protocol: u64) -> BootInfo {
        let fallback = BootInfo {
            cpus: 1,
            mem_bytes: 16 << 20,
            control_base: 0,
            virtio_base: 0,
            virtio_slots: 0,
            virtio_stride: labvisor_guest_abi::virtio::SLOT_SIZE,
            workload: "",
            booted_by: "unknown loader",
            ssh_keys: None,
        };
        if addr == 0 || !addr.is_multiple_of(8) {
            return fallback;
        }
        match protocol {
            PROTOCOL_LABVISOR => {
                // SAFETY: the VMM put the block at `addr`, inside identity-mapped RAM.
                let bytes = unsafe {
                    core::ptr::read_volatile(
                        addr as *const [u8; labvisor_guest_abi::BootInfo::SIZE],
                    )
                };
                let Ok(info) = labvisor_guest_abi::BootInfo::decode(&bytes) else {
                    return fallback;
                };
                BootInfo {
                    cpus: (info.cpus as usize).clamp(1, MAX_CPUS),
                    mem_bytes: info.mem_bytes,
                    control_base: info.control_base,
                    virtio_base: info.virtio_base,
                    virtio_slots: info.virtio_slots,
                    virtio_stride: labvisor_guest_abi::virtio::SLOT_SIZE,
                    workload: static_str(info.workload_addr, info.workload_len as usize),
                    booted_by: "Labvisor VMM",
                    ssh_keys: ssh_keys(info.ssh_keys_addr, info.ssh_keys_len as usize),
                }
            }
            PROTOCOL_PVH => {
                // SAFETY: PVH guarantees `ebx` points at hvm_start_info in RAM.
                let info = unsafe { core::ptr::read_volatile(addr as *const HvmStartInfo) };
                if info.magic != HVM_START_MAGIC {
                    return fallback;
                }
                let mut mem_bytes = fallback.mem_bytes;
                if info.version >= 1 && info.memmap_paddr != 0 {
                    for i in 0..info.memmap_entries.min(128) as u64 {
                        let at =
                            info.memmap_paddr + i * core::mem::size_of::<HvmMemmapEntry>() as u64;
                        // SAFETY: the memory map lies in RAM; at most 128 entries are read.
                        let e = unsafe { core::ptr::read_volatile(at as *const HvmMemmapEntry) };
                        if e.kind == 1 && e.addr <= 0x10_0000 && e.addr + e.size > 0x10_0000 {
                            mem_bytes = e.addr + e.size;
                        }
                    }
                }
                let workload = if info.cmdline_paddr != 0 {
                    c_str(info.cmdline_paddr)
                } else {
                    ""
                };
                // PVH says nothing of devices; the VMM that uses it here is QEMU's microvm, whose
                // virtio-mmio transports sit at a fixed place (hw/i386/microvm.c).
                BootInfo {
                    mem_bytes,
                    workload,
                    booted_by: "PVH loader",
                    virtio_base: QEMU_MICROVM_VIRTIO_BASE,
                    virtio_slots: QEMU_MICROVM_VIRTIO_SLOTS,
                    virtio_stride: QEMU_MICROVM_VIRTIO_STRIDE,
                    ..fallback
                }
            }
            _ => fallback,
        }
    }
}

/// The SSH keys the VMM passed, if it passed any that decode.
fn ssh_keys(addr: u64, len: usize) -> Option<SshKeys> {
    if addr == 0 || len == 0 || len > ssh::MAX_LEN {
        return None;
    }
    // SAFETY: the VMM put `len` bytes (bounded above) at `addr`, in RAM below the kernel image
    // that the kernel never reuses.
    let bytes = unsafe { core::slice::from_raw_parts(addr as *const u8, len) };
    SshKeys::decode(bytes).ok()
}

/// The UTF-8 text at `addr` (empty when not UTF-8), at most [`MAX_WORKLOAD`] bytes.
fn static_str(addr: u64, len: usize) -> &'static str {
    if addr == 0 {
        return "";
    }
    // SAFETY: the loader put `len` bytes at `addr` in RAM that the kernel never reuses (below
    // the kernel image); the length is capped.
    let bytes = unsafe { core::slice::from_raw_parts(addr as *const u8, len.min(MAX_WORKLOAD)) };
    core::str::from_utf8(bytes).unwrap_or("")
}

/// A NUL-terminated string at `addr`, at most [`MAX_WORKLOAD`] bytes.
fn c_str(addr: u64) -> &'static str {
    let mut len = 0;
    // SAFETY: reads stop at the first NUL or after MAX_WORKLOAD bytes of the loader's string.
    while len < MAX_WORKLOAD
        && unsafe { core::ptr::read_volatile((addr + len as u64) as *const u8) } != 0
    {
        len += 1;
    }
    static_str(addr, len)
}
