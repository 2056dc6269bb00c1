//! The serial shell and the workloads named at boot.
//!
//! A workload is the same text a user would type, with `;` between commands
//! (`--run "uptime; poweroff"`). It runs first; the interactive shell follows unless it
//! powered the VM off.

use alloc::string::String;
use core::fmt;

use crate::boot::BootInfo;
use crate::hw::{control, serial, virtio};
use crate::net::{self, Stack};
use crate::{disk, heap, kprint, kprintln, mark, smp};

/// Nanoseconds printed for people: `1.234 ms`, `2.5 s`.
pub struct Duration(pub u64);

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !control::present() {
            return f.write_str("(no clock: Labvisor's control device is absent)");
        }
        Elapsed(self.0).fmt(f)
    }
}

/// Nanoseconds measured with [`control::monotonic_ns`], which runs under any VMM (the
/// network commands' round-trip times), printed as [`Duration`] prints them.
pub struct Elapsed(pub u64);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns < 1_000_000 {
            write!(f, "{}.{:03} µs", ns / 1000, ns % 1000)
        } else if ns < 10_000_000_000 {
            write!(f, "{}.{:03} ms", ns / 1_000_000, (ns / 1000) % 1000)
        } else {
            write!(f, "{}.{:03} s", ns / 1_000_000_000, (ns / 1_000_000) % 1000)
        }
    }
}

/// How a command ended, as `ssh HOST COMMAND` reports it: the exit statuses of a POSIX
/// shell's conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    /// The command ran and did not do what it was asked (no reply, not found, an I/O error).
    Failed,
    /// The command was given arguments it does not take.
    Usage,
    UnknownCommand,
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Failed => 1,
            Status::Usage => 2,
            Status::UnknownCommand => 127,
        }
    }

    /// [`Status::Success`] if `done`, else [`Status::Failed`].
    pub fn of(done: bool) -> Status {
        if done {
            Status::Success
        } else {
            Status::Failed
        }
    }
}

const HELP: &[(&str, &str)] = &[
    ("help", "this list"),
    (
        "uptime",
        "time since the VM was created (from the control device's clock)",
    ),
    ("mem", "RAM, kernel image and heap use"),
    ("devices", "the devices this VM has and where they are"),
    (
        "cpus [LIMIT]",
        "count primes below LIMIT (default 1000000; 3000 when emulated), split over every CPU",
    ),
    ("echo TEXT", "print TEXT"),
    (
        "disk",
        "the first disk: size, read-only or not, what it supports",
    ),
    (
        "write OFFSET SIZE [PAT]",
        "write SIZE bytes at OFFSET (K/M/G; whole 512-byte sectors)",
    ),
    ("read OFFSET SIZE", "read and print a checksum (FNV-1a 64)"),
    (
        "fill SIZE [PAT]",
        "write SIZE bytes from offset 0 and show MB/s",
    ),
    (
        "randwrite COUNT",
        "COUNT 4 KiB writes at random places, timed",
    ),
    (
        "zero OFFSET SIZE",
        "make bytes read as zero (the host keeps its blocks)",
    ),
    (
        "trim OFFSET SIZE",
        "tell the host the bytes are free (whole blocks go back)",
    ),
    ("sync", "flush: every write reaches the host's disk"),
    (
        "ip",
        "the network card's address, gateway, DNS server and MAC (from DHCP)",
    ),
    ("ping HOST [COUNT]", "ICMP echo to HOST (default 3 times)"),
    (
        "dns NAME",
        "look NAME up (A records) at the DHCP DNS server",
    ),
    (
        "get URL",
        "HTTP/1.1 GET of http://HOST[:PORT]/PATH: status line and body",
    ),
    (
        "serve [KIND PORT]",
        "run echo, discard or chargen on a TCP port, udp-echo on a UDP port (no arguments: list)",
    ),
    (
        "exit",
        "leave a TCP shell (port 23) or SSH (port 22) session",
    ),
    (
        "poweroff [STATUS]",
        "end the VM; `labvisor vm run` exits with STATUS (default 0)",
    ),
];

/// Runs the boot workload, then the interactive shell. Never returns.
pub fn run(boot: &BootInfo) -> ! {
    let mut disk = disk::find(boot);
    let credentials = match &boot.ssh_keys {
        Some(keys) => net::ssh::Credentials::from_vmm(keys),
        None => net::ssh::Credentials::ephemeral(),
    };
    let password = credentials.password.clone();
    let mut net = net::find(boot, credentials);
    if let Some(stack) = net.as_mut() {
        report_lease(stack);
        report_ssh(&password, boot.ssh_keys.is_some());
    }
    let workload = boot.workload.trim();
    if !workload.is_empty() {
        for command in workload.split(';') {
            let command = command.trim();
            if command.is_empty() {
                continue;
            }
            kprintln!("labvisor# {command}");
            execute(boot, disk.as_mut(), net.as_mut(), command);
        }
        control::mark(mark::WORKLOAD_DONE);
    }
    kprintln!("Type `help` for commands, `poweroff` to leave (or Ctrl-A x).");
    control::mark(mark::SHELL_READY);
    let mut line = String::new();
    loop {
        kprint!("labvisor# ");
        read_line(&mut line, || {
            if let Some(stack) = net.as_mut() {
                serve_sessions(boot, disk.as_mut(), stack)
            } else {
                false
            }
        });
        execute(boot, disk.as_mut(), net.as_mut(), line.trim());
    }
}

/// Waits a moment for DHCP at boot, so that a workload's network commands find an address.
fn report_lease(stack: &mut Stack) {
    const DHCP_WAIT_NS: u64 = 3_000_000_000;
    match stack.wait_for_lease(DHCP_WAIT_NS) {
        Some(lease) => {
            kprint!("network: {} from DHCP", lease.address);
            if let Some(gateway) = lease.gateway {
                kprint!(", gateway {gateway}");
            }
            if let Some(dns) = lease.dns.first() {
                kprint!(", dns {dns}");
            }
            kprintln!("; shell on tcp port {}", net::SHELL_PORT);
        }
        None => kprintln!("network: no DHCP answer within 3 s (still asking)"),
    }
}

/// How to log in over SSH. With keys from the VMM it says only that the server listens (the
/// VMM prints the password and fingerprint); under a VMM that passes none (QEMU) the host key
/// is made up at boot and the password printed here is the only way in.
fn report_ssh(password: &str, from_vmm: bool) {
    let (port, user) = (net::ssh::SSH_PORT, net::ssh::USER);
    if from_vmm {
        kprintln!("ssh: port {port}, user {user}, host key and password from the VMM");
        return;
    }
    let randomness = if control::present() {
        "the VMM's RANDOM register"
    } else {
        "the time-stamp counter: no control device"
    };
    kprintln!(
        "ssh: port {port}, user {user}, password {password} (host key made up at boot from {randomness})"
    );
}

/// Polls the network and runs the commands its TCP shell sessions typed, each to completion
/// with its output sent back to the session. `true` if anything moved.
fn serve_sessions(boot: &BootInfo, mut disk: Option<&mut disk::Disk>, stack: &mut Stack) -> bool {
    let mut moved = stack.poll();
    while let Some((id, command)) = stack.next_command() {
        moved = true;
        let leave = matches!(command.trim(), "exit" | "quit" | "logout");
        let mut status = Status::Success;
        let output = serial::capture(|| {
            if leave {
                kprintln!("bye");
            } else {
                status = execute(boot, disk.as_deref_mut(), Some(&mut *stack), command.trim());
            }
        });
        stack.answer(id, output, status.code(), leave);
    }
    moved
}

/// Reads a console line; `background` runs whenever no key is waiting (it returns whether
/// it did anything, and the CPU is given back only once it has not for a while).
fn read_line(line: &mut String, mut background: impl FnMut() -> bool) {
    line.clear();
    let mut backoff = control::Backoff::default();
    loop {
        let Some(byte) = serial::try_read() else {
            backoff.after_round(background(), 500);
            continue;
        };
        match byte {
            b'\r' | b'\n' => {
                kprint!("\r\n");
                return;
            }
            0x08 | 0x7f if line.pop().is_some() => kprint!("\x08 \x08"),
            0x20..=0x7e if line.len() < 256 => {
                line.push(byte as char);
                kprint!("{}", byte as char);
            }
            _ => {}
        }
    }
}

/// Runs one command line; how it ended is what `ssh HOST COMMAND` returns.
fn execute(
    boot: &BootInfo,
    disk: Option<&mut disk::Disk>,
    net: Option<&mut Stack>,
    command: &str,
) -> Status {
    let (name, rest) = command.split_once(' ').unwrap_or((command, ""));
    let rest = rest.trim();
    if let Some(status) = disk::execute(disk, name, rest) {
        return status;
    }
    if let Some(status) = net::commands::execute(net, name, rest) {
        return status;
    }
    match name {
        "" => {}
        "help" => {
            for (cmd, what) in HELP {
                kprintln!("  {cmd:<24} {what}");
            }
        }
        "uptime" => kprintln!("up {}", Duration(control::clock_ns())),
        "mem" => {
            let (used, total) = heap::usage();
            kprintln!("RAM     {} KiB", boot.mem_bytes >> 10);
            kprintln!(
                "kernel  {} KiB (code, data, {} CPU stacks)",
                heap::kernel_bytes() >> 10,
                crate::boot::MAX_CPUS
            );
            kprintln!(
                "heap    {} KiB used of {} KiB",
                used.div_ceil(1024),
                total >> 10
            );
        }
        "devices" => devices(boot),
        "cpus" => match rest.parse::<u64>() {
            Ok(limit) if (1..=10_000_000).contains(&limit) => cpus(limit),
            _ if rest.is_empty() => cpus(default_prime_limit()),
            _ => {
                kprintln!("cpus: LIMIT must be a number from 1 to 10000000, not `{rest}`");
                return Status::Usage;
            }
        },
        "echo" => kprintln!("{rest}"),
        "poweroff" => {
            let status = if rest.is_empty() {
                Some(0)
            } else {
                rest.parse::<u8>().ok()
            };
            match status {
                Some(status) => {
                    kprintln!("powering off (status {status})");
                    control::power_off(status)
                }
                None => {
                    kprintln!("poweroff: STATUS must be a number from 0 to 255, not `{rest}`");
                    return Status::Usage;
                }
            }
        }
        "reboot" => {
            kprintln!("resetting through the i8042 keyboard controller");
            control::reset()
        }
        // Hidden: writes garbage to every control register but POWER_OFF, then powers off
        // with status 7. The VMM must survive it (tests/vm_guest.rs).
        "ctrl-garbage" => ctrl_garbage(),
        // Hidden: executes an undefined instruction. The guest has no exception handlers, so
        // the VM ends with a fault the VMM must report (tests/vm_pvm.rs).
        "ud2" => {
            // SAFETY: deliberately faults; nothing after it runs.
            unsafe { core::arch::asm!("ud2", options(nomem, nostack, noreturn)) }
        }
        // Hidden: prints KIB kibibytes of numbered 64-byte lines, to test a terminal that does
        // not keep up (tests/vm_guest.rs).
        "flood" => match rest.parse::<u32>() {
            Ok(kib) if kib <= 1 << 20 => {
                for line in 0..kib * 16 {
                    kprintln!("flood {line:08} {:.<47}", "");
                }
            }
            _ => {
                kprintln!("flood: KIB must be a number up to 1048576, not `{rest}`");
                return Status::Usage;
            }
        },
        // Hidden: what a login's key exchange costs on this CPU (docs/vmm.md).
        "ssh-kex-cost" => net::ssh::kex_cost(),
        // Hidden: spins without touching any device, to test `--timeout`.
        "spin" => loop {
            core::hint::spin_loop();
        },
        other => {
            kprintln!("{other}: unknown command (try `help`)");
            return Status::UnknownCommand;
        }
    }
    Status::Success
}

fn devices(boot: &BootInfo) {
    kprintln!("booted by   {}", boot.booted_by);
    kprintln!("serial      16550 UART at port 0x3f8 (this console)");
    kprintln!("reset       i8042 controller at port 0x64");
    if control::present() {
        kprintln!(
            "control     Labvisor control device at {:#x} (clock, boot marks, power-off)",
            boot.control_base
        );
    } else {
        kprintln!("control     absent (powering off through isa-debug-exit 0xf4 or the i8042)");
    }
    for index in 0..boot.virtio_slots.min(32) {
        match virtio::probe(boot.virtio_base, boot.virtio_stride, index) {
            Some(slot) => kprintln!(
                "virtio{index}     virtio-mmio v{} at {:#x}: {}",
                slot.version,
                slot.base,
                virtio::device_name(slot.device_id)
            ),
            None => kprintln!("virtio{index}     no transport answers at its slot"),
        }
    }
}

/// Enough work to see the CPUs busy: about 0.3 s on one CPU running natively. Where every
/// instruction is emulated (PVM without its native mode, or a VMM that does not say), a
/// thousandth of that keeps `cpus` under a second.
fn default_prime_limit() -> u64 {
    match control::cpu_mode() {
        Some(control::CpuMode::Hardware | control::CpuMode::PvmNative) => 1_000_000,
        Some(control::CpuMode::PvmEmulated) | None => 3000,
    }
}

fn cpus(limit: u64) {
    // Secondary CPUs announce themselves shortly after boot; give late ones a moment.
    let deadline = control::clock_ns() + 2_000_000_000;
    while smp::online() < boot_cpus() && control::clock_ns() < deadline {
        control::idle(1000);
    }
    kprintln!(
        "{} of {} CPUs online; counting primes below {limit}:",
        smp::online(),
        boot_cpus()
    );
    let mut total = 0;
    smp::distribute(limit, |share| {
        total += share.primes;
        kprintln!(
            "  cpu{:<2} {:>7}..{:<7} {:>6} primes in {}",
            share.cpu,
            share.from,
            share.to,
            share.primes,
            Duration(share.nanos)
        );
    });
    kprintln!("  total  {total} primes");
}

fn boot_cpus() -> usize {
    control::raw_read(control::REG_CPUS).max(1) as usize
}

fn ctrl_garbage() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let offset = (x >> 32) % 0x1000;
        if offset & !3 == control::REG_POWER_OFF {
            continue;
        }
        if x & 1 == 0 {
            control::raw_write(offset, x as u32);
        } else {
            let _ = control::raw_read(offset);
        }
    }
    kprintln!(
        "control device survived garbage; clock still at {}",
        Duration(control::clock_ns())
    );
    control::power_off(7)
}
