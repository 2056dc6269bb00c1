//! # Labvisor's guest OS
//!
//! A small kernel that `labvisor vm run` boots in milliseconds. It polls instead of taking
//! interrupts: under PVM (the software KVM on hosts without VT-x/AMD-V) a guest that takes an
//! exception or interrupt dies, while port I/O, MMIO and `rdtsc` work everywhere.
//!
//! Layers, top down:
//! - [`shell`]: the serial shell and the workloads named at boot (`--run "uptime; poweroff"`).
//! - [`smp`]: per-CPU work; every vCPU enters at `_start` in long mode with its index.
//! - [`heap`]: a bump allocator over the RAM the boot information describes.
//! - [`boot`]: the two ways in — Labvisor's 64-bit entry with its boot-info block, and the PVH
//!   32-bit entry (an ELF note) that QEMU `-M microvm` uses.
//! - [`hw`]: the devices: the 16550 serial port, Labvisor's control device, and the fallbacks
//!   (QEMU's isa-debug-exit, the i8042 reset line) when the control device is absent.
#![no_std]
#![no_main]

extern crate alloc;

mod boot;
mod disk;
mod heap;
mod hw;
mod net;
mod shell;
mod smp;
mod sync;

use core::panic::PanicInfo;

use hw::{control, serial};

/// Marks the guest reports to the control device, in boot order (see docs/vmm.md).
pub use labvisor_guest_abi::mark;

/// The Rust entry of every CPU, called by the assembly in [`boot`] with a stack of its own.
///
/// `info` is the physical address of the boot information (Labvisor's block or PVH's
/// `hvm_start_info`, told apart by `protocol`), `cpu` the index of this vCPU.
#[no_mangle]
extern "C" fn kernel_main(info: u64, cpu: u64, protocol: u64) -> ! {
    if cpu != 0 {
        smp::secondary_main(cpu as usize)
    }
    let boot = boot::BootInfo::read(info, protocol);
    control::init(boot.control_base);
    control::mark(mark::KERNEL_ENTRY);
    heap::init(&boot);
    smp::init(boot.cpus);

    let now = control::clock_ns();
    let mode = control::cpu_mode().map_or("", |m| m.describe());
    serial::print(format_args!(
        "\r\nLabvisor guest OS {} ({} CPU{}, {} MiB{}{mode}) — booted in {}\r\n",
        env!("CARGO_PKG_VERSION"),
        boot.cpus,
        if boot.cpus == 1 { "" } else { "s" },
        boot.mem_bytes >> 20,
        if mode.is_empty() { "" } else { ", " },
        shell::Duration(now),
    ));
    control::mark(mark::BANNER);
    shell::run(&boot)
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    serial::stop_capturing();
    serial::print(format_args!("\r\nguest panic: {info}\r\n"));
    control::power_off(101)
}
