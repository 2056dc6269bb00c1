//! Loading a kernel into guest memory and choosing where each vCPU starts.
//!
//! Two protocols:
//! - **Labvisor** (ELF kernels: the embedded guest, or `--kernel` pointing at an ELF): segments
//!   go to their physical addresses, a boot-info block describes the VM, and every vCPU starts
//!   at the ELF entry in long mode with `rdi` = the block and `rsi` = its index.
//! - **Linux** (bzImage): linux-loader places the protected-mode kernel at 1 MiB; the VMM fills
//!   the zero page (setup header, e820 map, command line, initrd at the top of RAM) and starts
//!   CPU 0 at the 64-bit entry (`startup_64`, load address + 0x200) with `rsi` = zero page.

use std::io::Cursor;

use linux_loader::cmdline::Cmdline;
use linux_loader::configurator::linux::LinuxBootConfigurator;
use linux_loader::configurator::{BootConfigurator, BootParams};
use linux_loader::loader::bootparam::{boot_e820_entry, boot_params};
use linux_loader::loader::{load_cmdline, BzImage, Elf, KernelLoader};
use vm_memory::{Address, Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

use labvisor_guest_abi::memory::SSH_KEYS_ADDR;
use labvisor_guest_abi::ssh::{self, SshKeys};
use labvisor_guest_abi::BootInfo;

use super::cpu::EntryPoint;
use super::{layout, VmmError};

/// Labvisor's guest OS (native/guest), built by native/vmm/build.rs.
pub static EMBEDDED_GUEST: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/labvisor-guest.elf"));

const E820_RAM: u32 = 1;
const E820_RESERVED: u32 = 2;
/// Default Linux command line: serial console, early messages, no KASLR (so the decompressor
/// says where it is), reboot through the keyboard controller, and busybox's init.
pub const DEFAULT_LINUX_CMDLINE: &str =
    "console=ttyS0 earlyprintk=ttyS0 reboot=k panic=1 nokaslr i8042.noaux i8042.nomux i8042.dumbkbd rdinit=/init";

/// A kernel or initrd image, already read: the VMM does no file I/O of its own, so the caller
/// decides how much of what kind of file it will read.
#[derive(Debug, Clone, Copy)]
pub struct Image<'a> {
    /// How errors name it (a path, or "the embedded guest").
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Which kernel to boot: an ELF image uses Labvisor's protocol, anything else is taken for a
/// Linux bzImage.
pub type Kernel<'a> = Image<'a>;

impl Image<'static> {
    /// Labvisor's guest OS, built into the VMM.
    pub fn embedded_guest() -> Image<'static> {
        Image {
            name: "the embedded guest",
            bytes: EMBEDDED_GUEST,
        }
    }
}

impl Image<'_> {
    /// Whether the image is an ELF file (Labvisor's boot protocol).
    pub fn is_elf(&self) -> bool {
        self.bytes.starts_with(b"\x7fELF")
    }
}

/// What loading produced: the entry of each vCPU and the protocol used.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub entries: Vec<EntryPoint>,
    pub linux: bool,
}

/// Loads `kernel` and its boot structures into `mem` for `cpus` vCPUs.
pub fn load(
    mem: &GuestMemoryMmap,
    kernel: &Kernel,
    cpus: u8,
    workload: &str,
    cmdline: Option<&str>,
    initrd: Option<&Image>,
    ssh_keys: Option<&SshKeys>,
) -> Result<Loaded, VmmError> {
    if kernel.is_elf() {
        load_labvisor(
            mem,
            &mut Cursor::new(kernel.bytes),
            kernel.name,
            cpus,
            workload,
            ssh_keys,
        )
    } else {
        load_linux(
            mem,
            kernel.bytes,
            kernel.name,
            cmdline.unwrap_or(DEFAULT_LINUX_CMDLINE),
            initrd,
        )
    }
}

fn load_labvisor(
    mem: &GuestMemoryMmap,
    image: &mut Cursor<&[u8]>,
    name: &str,
    cpus: u8,
    workload: &str,
    ssh_keys: Option<&SshKeys>,
) -> Result<Loaded, VmmError> {
    let loaded =
        Elf::load(mem, None, image, Some(GuestAddress(layout::HIMEM_START))).map_err(|e| {
            VmmError::Config(format!("{name} is not a loadable 64-bit ELF kernel: {e}"))
        })?;
    if loaded.kernel_end > mem.last_addr().raw_value() {
        return Err(VmmError::Config(format!(
            "{name} does not fit in guest memory"
        )));
    }
    if workload.len() > layout::WORKLOAD_MAX {
        return Err(VmmError::Config(format!(
            "the workload is {} bytes; at most {} fit in the boot-info block",
            workload.len(),
            layout::WORKLOAD_MAX
        )));
    }
    let write = |e: vm_memory::GuestMemoryError| {
        VmmError::Host(format!("cannot write the boot-info block: {e}"))
    };
    mem.write_slice(workload.as_bytes(), GuestAddress(layout::WORKLOAD_ADDR))
        .map_err(write)?;
    let mut keys = [0u8; ssh::MAX_LEN];
    let keys_len = ssh_keys.map_or(0, |k| k.encode(&mut keys));
    mem.write_slice(&keys[..keys_len], GuestAddress(SSH_KEYS_ADDR))
        .map_err(write)?;
    let block = BootInfo {
        cpus: cpus.into(),
        mem_bytes: mem.last_addr().raw_value() + 1,
        control_base: layout::CONTROL_BASE,
        virtio_base: layout::VIRTIO_BASE,
        virtio_slots: layout::VIRTIO_SLOTS,
        workload_len: workload.len() as u32,
        workload_addr: layout::WORKLOAD_ADDR,
        ssh_keys_len: keys_len as u32,
        ssh_keys_addr: SSH_KEYS_ADDR,
    };
    mem.write_slice(&block.encode(), GuestAddress(layout::BOOT_INFO_ADDR))
        .map_err(write)?;
    let entries = (0..cpus)
        .map(|i| EntryPoint {
            rip: loaded.kernel_load.raw_value(),
            // The guest sets its own per-CPU stack; this one only has to be mapped.
            rsp: layout::LINUX_STACK_ADDR,
            rdi: layout::BOOT_INFO_ADDR,
            rsi: i.into(),
        })
        .collect();
    Ok(Loaded {
        entries,
        linux: false,
    })
}

fn load_linux(
    mem: &GuestMemoryMmap,
    bytes: &[u8],
    name: &str,
    cmdline: &str,
    initrd: Option<&Image>,
) -> Result<Loaded, VmmError> {
    let loaded = BzImage::load(
        mem,
        None,
        &mut Cursor::new(bytes),
        Some(GuestAddress(layout::HIMEM_START)),
    )
    .map_err(|e| {
        VmmError::Config(format!(
            "{name} is neither an ELF kernel nor a Linux bzImage ({e})"
        ))
    })?;
    let mut params = boot_params::default();
    if let Some(hdr) = loaded.setup_header {
        params.hdr = hdr;
    }
    params.hdr.type_of_loader = 0xff;
    params.hdr.boot_flag = 0xaa55;
    params.hdr.header = 0x5372_6448; // "HdrS"
    params.hdr.cmd_line_ptr = layout::CMDLINE_ADDR as u32;
    params.hdr.cmdline_size = cmdline.len() as u32 + 1;
    params.hdr.kernel_alignment = 0x0100_0000;

    let mut line = Cmdline::new(layout::CMDLINE_MAX)
        .map_err(|e| VmmError::Config(format!("command line: {e}")))?;
    line.insert_str(cmdline)
        .map_err(|e| VmmError::Config(format!("command line `{cmdline}`: {e}")))?;
    load_cmdline(mem, GuestAddress(layout::CMDLINE_ADDR), &line)
        .map_err(|e| VmmError::Host(format!("cannot place the command line: {e}")))?;

    let mem_end = mem.last_addr().raw_value() + 1;
    if let Some(initrd) = initrd {
        let data = initrd.bytes;
        let size = data.len() as u64;
        let addr = mem_end
            .checked_sub(size)
            .map(|a| a & !0xfff)
            .filter(|&a| a > loaded.kernel_end)
            .ok_or_else(|| {
                VmmError::Config(format!(
                    "initrd {} ({} MiB) does not fit in guest memory above the kernel; raise --mem",
                    initrd.name,
                    size >> 20
                ))
            })?;
        mem.write_slice(data, GuestAddress(addr))
            .map_err(|e| VmmError::Host(format!("cannot place the initrd: {e}")))?;
        params.hdr.ramdisk_image = addr as u32;
        params.hdr.ramdisk_size = size as u32;
    }

    let e820 = [
        (0, layout::EBDA_START, E820_RAM),
        (
            layout::EBDA_START,
            layout::HIMEM_START - layout::EBDA_START,
            E820_RESERVED,
        ),
        (layout::HIMEM_START, mem_end - layout::HIMEM_START, E820_RAM),
    ];
    for (i, (addr, size, kind)) in e820.into_iter().enumerate() {
        params.e820_table[i] = boot_e820_entry {
            addr,
            size,
            r#type: kind,
        };
    }
    params.e820_entries = e820.len() as u8;

    LinuxBootConfigurator::write_bootparams::<GuestMemoryMmap>(
        &BootParams::new::<boot_params>(&params, GuestAddress(layout::ZERO_PAGE_ADDR)),
        mem,
    )
    .map_err(|e| VmmError::Host(format!("cannot write the zero page: {e}")))?;

    Ok(Loaded {
        entries: vec![EntryPoint {
            rip: loaded.kernel_load.raw_value() + 0x200,
            rsp: layout::LINUX_STACK_ADDR,
            rdi: 0,
            rsi: layout::ZERO_PAGE_ADDR,
        }],
        linux: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> GuestMemoryMmap {
        GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 16 << 20)]).unwrap()
    }

    #[test]
    fn embedded_guest_loads_at_1_mib_and_carries_a_pvh_entry_note() {
        use linux_loader::loader::elf::PvhBootCapability;
        let mem = memory();
        let loaded = Elf::load(
            &mem,
            None,
            &mut Cursor::new(EMBEDDED_GUEST),
            Some(GuestAddress(layout::HIMEM_START)),
        )
        .expect("the embedded guest is a loadable ELF");
        assert_eq!(
            loaded.kernel_load,
            GuestAddress(layout::HIMEM_START),
            "entry `_start` at 1 MiB"
        );
        match loaded.pvh_boot_cap {
            PvhBootCapability::PvhEntryPresent(entry) => {
                assert!(
                    entry.raw_value() > layout::HIMEM_START
                        && entry.raw_value() < loaded.kernel_end
                )
            }
            other => {
                panic!("QEMU needs XEN_ELFNOTE_PHYS32_ENTRY to boot the guest, found {other:?}")
            }
        }
        let entries = load(
            &mem,
            &Image::embedded_guest(),
            3,
            "uptime",
            None,
            None,
            None,
        )
        .unwrap()
        .entries;
        assert_eq!(
            entries.iter().map(|e| e.rsi).collect::<Vec<_>>(),
            vec![0, 1, 2],
            "CPU index in rsi"
        );
        let mut bytes = [0u8; BootInfo::SIZE];
        mem.read_slice(&mut bytes, GuestAddress(layout::BOOT_INFO_ADDR))
            .unwrap();
        let block = BootInfo::decode(&bytes).expect("the guest can read the block");
        assert_eq!((block.cpus, block.workload_len), (3, 6));
        assert_eq!(block.ssh_keys_len, 0, "no keys passed, none announced");
    }

    #[test]
    fn ssh_keys_reach_the_guest_through_the_block() {
        let mem = memory();
        let keys = SshKeys::new([9; 32], &[[4; 32]], "pa55word").unwrap();
        load(
            &mem,
            &Image::embedded_guest(),
            1,
            "",
            None,
            None,
            Some(&keys),
        )
        .unwrap();
        let mut bytes = [0u8; BootInfo::SIZE];
        mem.read_slice(&mut bytes, GuestAddress(layout::BOOT_INFO_ADDR))
            .unwrap();
        let block = BootInfo::decode(&bytes).unwrap();
        let mut passed = vec![0u8; block.ssh_keys_len as usize];
        mem.read_slice(&mut passed, GuestAddress(block.ssh_keys_addr))
            .unwrap();
        assert_eq!(SshKeys::decode(&passed), Ok(keys));
    }

    #[test]
    fn garbage_kernels_are_refused_with_their_name() {
        for (name, bytes) in [
            ("empty", &b""[..]),
            ("text", b"hello, not a kernel"),
            ("elf", b"\x7fELF\x02\x01\x01garbage"),
        ] {
            let kernel = Image { name, bytes };
            let err = load(&memory(), &kernel, 1, "", None, None, None).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
