//! # labvisor-vmm: Labvisor's KVM virtual machine monitor
//!
//! The library behind `labvisor vm run`: configure a [`VmConfig`], [`run`] boots it and runs it
//! to its end, and the [`VmReport`] says what happened (how it ended, boot marks with their
//! times, exits, KVM's counters, memory). The design, boot step by boot step, is in
//! docs/vmm.md; what the VMM and the guest OS agree on (memory map, boot-info block, control
//! registers) is the `labvisor-guest-abi` crate, which both compile. Modules, in boot order:
//!
//! - [`layout`]: the guest-physical memory map (the ABI's, plus the VMM's own structures).
//! - [`memory`]: guest RAM (vm-memory), and how much of it is resident.
//! - [`boot`]: loading the kernel (ELF for Labvisor's guest, bzImage for Linux) and its boot
//!   structures.
//! - [`cpu`]: vCPU state: CPUID, long mode from the first instruction, entry registers.
//! - [`devices`]: serial console, i8042, Labvisor's control device, virtio-mmio slots.
//! - [`disks`]: the VM's disks in their slots, and what the console and the report show of them.
//! - [`netback`]: the network behind the virtio-net device (`devices::net`): the user-mode
//!   NAT, driven by the core's gateway and NAT table, on host sockets.
//! - [`console`]: the terminal (raw mode, `Ctrl-A x`, stdin).
//! - [`host`]: what kind of KVM this host has (hardware-assisted or PVM).
//! - [`pvm`]: on this host's PVM build, switching vCPUs from instruction emulation to native
//!   execution.
//! - [`seccomp`]: the sandbox: each thread's system-call allowlist, installed before the guest
//!   runs.
//!
//! Each vCPU runs in its own thread; exits that end the VM (power-off, reset, guest fault,
//! failure, a panic in a VMM thread) are sent to the thread that called [`run`], which also
//! enforces the timeout.
//!
//! This crate holds all of the project's host-side `unsafe`: KVM's memory-slot and statistics
//! ioctls, `mincore(2)` and `sysconf(3)` have no safe interface. Each block says why it is
//! sound in a `// SAFETY:` comment; the command line (`labvisor`) forbids `unsafe` outright.

pub mod boot;
pub mod console;
pub mod cpu;
pub mod devices;
pub mod disks;
pub mod host;
pub mod layout;
pub mod memory;
pub mod netback;
pub mod pvm;
pub mod seccomp;

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::{IoEventAddress, Kvm, VcpuExit, VcpuFd, VmFd};
use serde::Serialize;
use vmm_sys_util::eventfd::EventFd;

use devices::control::ControlDevice;
use devices::serial::{InputQueue, IrqLine, SerialConsole};
use devices::virtio_mmio::MmioTransport;
use devices::{Action, Devices};

/// COM1's interrupt line on the PC's interrupt controller.
const SERIAL_IRQ: u32 = 4;
/// How long the end of a VM waits for a slow terminal to take the last console output.
const CONSOLE_DRAIN: Duration = Duration::from_millis(500);

/// Why the VMM could not start or run a VM.
#[derive(Debug, thiserror::Error)]
pub enum VmmError {
    /// The request cannot work (bad kernel file, memory size out of range…).
    #[error("{0}")]
    Config(String),
    /// The host refused (no /dev/kvm, an ioctl failed…).
    #[error("{0}")]
    Host(String),
    /// The sandbox stopped the VM: a thread made a system call outside its filter, or could
    /// not install it.
    #[error("{0}")]
    Sandbox(String),
}

/// What to boot and how.
#[derive(Debug)]
pub struct VmConfig<'a> {
    pub mem_bytes: u64,
    pub cpus: u8,
    pub kernel: boot::Kernel<'a>,
    pub workload: String,
    pub cmdline: Option<String>,
    pub initrd: Option<boot::Image<'a>>,
    pub timeout: Option<Duration>,
    /// Guest console output goes here (stdout, or stderr when stdout carries JSON).
    pub console_to_stderr: bool,
    /// Read stdin into the console.
    pub attach_stdin: bool,
    /// On a PVM host: native, emulated, or native where possible.
    pub pvm_mode: pvm::PvmMode,
    /// Test seam: act as if this host's PVM had no native opt-in.
    pub pretend_no_native_pvm: bool,
    /// Test seam: the control device panics when the guest records this boot mark, standing
    /// for a bug in device code.
    pub panic_at_mark: Option<u32>,
    /// Test seam: a vCPU thread opens a socket, which its filter forbids, when the guest
    /// records this boot mark.
    pub socket_at_mark: Option<u32>,
    /// Confine each VMM thread to the system calls it needs ([`seccomp`]); off only to debug.
    pub seccomp: bool,
    /// Disks, in virtio-mmio slot order (the first is slot 0).
    pub disks: Vec<Disk>,
    /// A network card on the user-mode NAT, in the slot after the disks; its forwards are
    /// already listening.
    pub net: Option<netback::NetBackend>,
    /// The guest SSH server's host key, authorized keys and password (Labvisor's guest only);
    /// without them the guest makes up its own and prints the password.
    pub ssh_keys: Option<SshKeys>,
}

pub use disks::{Disk, DiskReport};
pub use labvisor_guest_abi::ssh::SshKeys;

/// How the VM ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ending {
    /// The guest wrote POWER_OFF to the control device.
    PowerOff { status: u8 },
    /// The guest reset through the i8042.
    Reset,
    /// KVM reported a shutdown: the guest took an exception it could not handle (a triple
    /// fault; in PVM's native mode, any exception or `iretq`). RIP and CR2 as KVM left them.
    GuestFault {
        cpu: u8,
        rip: Option<u64>,
        cr2: Option<u64>,
        /// The exception KVM recorded (`#UD`, `#PF`…) and its error code, where it has one.
        exception: Option<String>,
        error_code: Option<u32>,
    },
    /// KVM could not run the vCPU (failed entry, internal error, unexpected exit).
    Crashed { cpu: u8, reason: String },
    /// Nothing ended the VM within the timeout.
    Timeout { after_ms: u64 },
    /// The user pressed `Ctrl-A x`.
    ConsoleQuit,
    /// Standard input (a pipe or a file) ended, and Labvisor's guest kept waiting for more, as
    /// a shell ends at the end of its script.
    InputEnded,
    /// A VMM thread (a vCPU, and the device code it runs) panicked: a bug in the VMM, ended
    /// cleanly instead of leaving the other threads running.
    VmmPanic { thread: String, message: String },
}

/// Sent by vCPU and stdin threads to the thread running the VM.
#[derive(Debug)]
pub enum VmEvent {
    Ended(Ending),
    ConsoleQuit,
    /// `Ctrl-A d`: print each disk's size and host usage.
    ShowDisks,
    /// `Ctrl-A n`: print the NAT table.
    ShowNat,
    /// `Ctrl-A r`: retry writes paused for host space now.
    Resume,
    /// `Ctrl-A s`: take a live snapshot of every disk.
    Snapshot,
    /// A disk's host ran out of space, or has room again.
    Space(devices::block::SpaceEvent),
}

/// A boot mark with its time.
#[derive(Debug, Clone, Serialize)]
pub struct MarkReport {
    pub name: String,
    /// Milliseconds since the VMM started building the VM.
    pub at_ms: f64,
}

/// What happened, for people and for `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct VmReport {
    pub ending: Ending,
    pub host_kvm: host::KvmKind,
    /// How the vCPUs ran: `hardware`, `native` (PVM's native opt-in) or `emulated`.
    pub cpu_mode: pvm::CpuMode,
    /// On a PVM host, why the vCPUs did not run natively.
    pub not_native_because: Option<String>,
    pub cpus: u8,
    pub mem_bytes: u64,
    pub marks: Vec<MarkReport>,
    pub dropped_marks: u64,
    pub exits: BTreeMap<&'static str, u64>,
    /// KVM's own counters, summed over vCPUs (non-zero ones): `insn_emulation` counts
    /// instructions KVM emulated instead of running them, `pf_taken` shadow-paging faults…
    pub kvm_stats: BTreeMap<String, u64>,
    /// Device accesses nothing claimed, and malformed ones devices ignored.
    pub unclaimed_accesses: u64,
    pub ignored_accesses: u64,
    pub vmm_rss_bytes: u64,
    pub guest_resident_bytes: u64,
    /// RSS minus the guest RAM that is resident: what the VMM itself costs.
    pub vmm_overhead_bytes: u64,
    pub last_console_lines: Vec<String>,
    /// Console output dropped because the terminal did not take it fast enough.
    pub console_dropped_bytes: u64,
    /// Each disk and what the guest did with it.
    pub disks: Vec<DiskReport>,
    /// The network, if the VM had one: the device's counters, the final NAT table and the
    /// NAT's decisions.
    pub net: Option<netback::NetReport>,
}

/// The report's name of a guest boot mark.
fn mark_name(id: u32) -> String {
    labvisor_guest_abi::mark::name(id).map_or_else(|| format!("guest_mark_{id}"), str::to_string)
}

#[derive(Default)]
struct ExitCounts {
    io_in: AtomicU64,
    io_out: AtomicU64,
    mmio_read: AtomicU64,
    mmio_write: AtomicU64,
    hlt: AtomicU64,
    other: AtomicU64,
}

impl ExitCounts {
    fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        [
            ("io_in", &self.io_in),
            ("io_out", &self.io_out),
            ("mmio_read", &self.mmio_read),
            ("mmio_write", &self.mmio_write),
            ("hlt", &self.hlt),
            ("other", &self.other),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.load(Ordering::Relaxed)))
        .collect()
    }
}

/// Boots the VM described by `config` and runs it until it ends. Meant to be called once per
/// process: vCPU threads are not joined (one may be spinning in the guest) and guest memory
/// stays mapped until the process exits.
pub fn run(config: VmConfig) -> Result<VmReport, VmmError> {
    let epoch = Instant::now();
    if config.seccomp {
        seccomp::enable().map_err(|e| VmmError::Host(e.to_string()))?;
    }
    let host_kvm = host::kvm_kind();
    let mut vmm_marks = vec![("vmm_start", 0.0)];
    let mut mark = |name: &'static str| vmm_marks.push((name, epoch.elapsed().as_secs_f64() * 1e3));

    let kvm = Kvm::new().map_err(|e| VmmError::Host(format!("cannot open /dev/kvm: {e}")))?;
    let vm = kvm
        .create_vm()
        .map_err(|e| VmmError::Host(format!("KVM refused to create a VM: {e}")))?;
    let mem = memory::create(config.mem_bytes)?;
    register_memory(&vm, &mem)?;
    mark("memory_ready");

    let loaded = boot::load(
        &mem,
        &config.kernel,
        config.cpus,
        &config.workload,
        config.cmdline.as_deref(),
        config.initrd.as_ref(),
        config.ssh_keys.as_ref(),
    )?;
    cpu::write_boot_tables(&mem)?;
    let serial_irq = if loaded.linux {
        wire_linux_interrupts(&vm)
    } else {
        IrqLine::default()
    };
    mark("kernel_loaded");

    let (vcpus, stats_files) = create_vcpus(&kvm, &vm, &loaded)?;
    let decision = choose_cpu_mode(&config, host_kvm, &loaded, &vcpus)?;
    mark("vcpus_ready");

    let input: InputQueue = Arc::default();
    let sink = console::terminal_sink(config.console_to_stderr)?;
    let (events_tx, events) = mpsc::channel::<VmEvent>();
    let (disks, devices_in_slots) = disks::Attached::attach(config.disks, &events_tx)?;
    let (slots, nic) = fill_slots(devices_in_slots, config.net, &mem)?;
    let console = SerialConsole::new(sink, input.clone(), serial_irq);
    // Only Labvisor's guest reads the line status just to wait for input.
    let console = if loaded.linux {
        console
    } else {
        console.ending_with_input()
    };
    let control = ControlDevice::new(
        epoch,
        loaded.entries.len() as u32,
        config.mem_bytes,
        decision.mode,
    )
    .panicking_at_mark(config.panic_at_mark)
    .opening_a_socket_at_mark(config.socket_at_mark);
    let devices = Arc::new(Devices::new(console, control, slots, mem.clone()));
    let exits = Arc::new(ExitCounts::default());
    let net = nic
        .map(|(backend, link, slot)| start_network(&vm, backend, link, &devices, slot))
        .transpose()?;

    let _raw = config.attach_stdin.then(console::RawTerminal::enter);
    if config.attach_stdin {
        console::spawn_stdin_reader(input, devices.doorbell.clone(), events_tx.clone());
    }
    for (index, vcpu) in vcpus {
        spawn_vcpu(
            index,
            vcpu,
            devices.clone(),
            exits.clone(),
            events_tx.clone(),
        )?;
    }
    drop(events_tx);
    seccomp::confine(seccomp::Role::Vmm).map_err(|e| VmmError::Sandbox(e.to_string()))?;

    let ending =
        wait_for_end(&events, config.timeout, &disks, net.as_ref()).map_err(VmmError::Sandbox)?;
    let console_dropped_bytes = devices.console.finish(CONSOLE_DRAIN);

    let guest_resident = memory::resident_bytes(&mem);
    let rss = memory::process_rss_bytes();
    let report = VmReport {
        ending,
        host_kvm,
        cpu_mode: decision.mode,
        not_native_because: decision.not_native.map(|why| why.to_string()),
        cpus: loaded.entries.len() as u8,
        mem_bytes: config.mem_bytes,
        marks: all_marks(vmm_marks, &devices.control),
        dropped_marks: devices.control.dropped_marks(),
        exits: exits.snapshot(),
        kvm_stats: sum_kvm_stats(&stats_files),
        unclaimed_accesses: devices.unclaimed_accesses(),
        ignored_accesses: devices.ignored_accesses(),
        vmm_rss_bytes: rss,
        guest_resident_bytes: guest_resident,
        vmm_overhead_bytes: rss.saturating_sub(guest_resident),
        last_console_lines: devices.console.last_lines(12),
        console_dropped_bytes,
        disks: disks.into_reports(),
        net: net.map(|(handle, mac)| handle.finish(mac)),
    };
    // Other vCPU threads may still be running guest code, and KVM keeps the memory slot:
    // the mapping must outlive them, i.e. the process. One VM per process (the CLI; tests
    // run `labvisor` as a child process), so this leaks nothing that matters.
    std::mem::forget(mem);
    Ok(report)
}

/// Linux wants an interrupt controller, a timer and the UART's IRQ 4 (Labvisor's guest polls
/// and needs none of them): the in-kernel irqchip and PIT where KVM offers them, and the
/// UART's line wired to the irqchip through an eventfd. Returns the line, unwired if KVM
/// refused.
fn wire_linux_interrupts(vm: &VmFd) -> IrqLine {
    let _ = vm.set_tss_address(0xfffb_d000);
    if vm.create_irq_chip().is_err() {
        return IrqLine::default();
    }
    let _ = vm.create_pit2(kvm_bindings::kvm_pit_config::default());
    match EventFd::new(libc::EFD_NONBLOCK) {
        Ok(fd) if vm.register_irqfd(&fd, SERIAL_IRQ).is_ok() => IrqLine::wired(fd),
        _ => IrqLine::default(),
    }
}

/// Starts the thread that runs vCPU `index`. A panic in it (or in the device code it runs)
/// becomes the `vmm_panic` ending instead of leaving the other threads running.
fn spawn_vcpu(
    index: u8,
    vcpu: VcpuFd,
    devices: Arc<Devices>,
    exits: Arc<ExitCounts>,
    events: mpsc::Sender<VmEvent>,
) -> Result<(), VmmError> {
    std::thread::Builder::new()
        .name(format!("vcpu{index}"))
        .spawn(move || {
            let ending = std::panic::catch_unwind(AssertUnwindSafe(|| {
                if let Err(e) = seccomp::confine(seccomp::Role::Vcpu) {
                    return Ending::Crashed {
                        cpu: index,
                        reason: e.to_string(),
                    };
                }
                run_vcpu(index, vcpu, &devices, &exits)
            }))
            .unwrap_or_else(|panic| Ending::VmmPanic {
                thread: format!("vcpu{index}"),
                message: panic_message(panic.as_ref()),
            });
            let _ = events.send(VmEvent::Ended(ending));
        })
        .map(drop)
        .map_err(|e| VmmError::Host(format!("cannot start the vCPU {index} thread: {e}")))
}

/// A network card put in a slot, its backend not started yet.
type PendingNic = (netback::NetBackend, Arc<devices::net::Link>, usize);

/// Every virtio slot's transport: the disks' devices first, then the network card if there is
/// one, then empty slots.
fn fill_slots(
    mut devices_in_slots: disks::SlotDevices,
    net: Option<netback::NetBackend>,
    mem: &vm_memory::GuestMemoryMmap,
) -> Result<(Vec<MmioTransport>, Option<PendingNic>), VmmError> {
    let slot = devices_in_slots.len();
    let nic = net.map(|backend| {
        let link = Arc::new(devices::net::Link::default());
        let nic = devices::net::VirtioNet::new(backend.mac(), link.clone());
        devices_in_slots.push(Some(Box::new(nic)));
        (backend, link, slot)
    });
    if devices_in_slots.len() > layout::VIRTIO_SLOTS as usize {
        return Err(VmmError::Config(format!(
            "the disks and the network card need {} virtio slots; the VM has {}",
            devices_in_slots.len(),
            layout::VIRTIO_SLOTS
        )));
    }
    devices_in_slots.resize_with(layout::VIRTIO_SLOTS as usize, || None);
    let slots = devices_in_slots
        .into_iter()
        .map(|device| MmioTransport::new(device, mem.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| VmmError::Config(e.to_string()))?;
    Ok((slots, nic))
}

/// Starts the network backend on the NIC in `slot`: it fills the RX queue of that slot's
/// transport, and resumes its TX queue after a full link, from a thread of its own.
fn start_network(
    vm: &VmFd,
    backend: netback::NetBackend,
    link: Arc<devices::net::Link>,
    devices: &Devices,
    slot: usize,
) -> Result<(netback::NetHandle, [u8; 6]), VmmError> {
    let mac = backend.mac();
    // The guest's notifications (`QUEUE_NOTIFY` ← a queue's index: frames to send, or RX
    // buffers given back) go to the backend's thread through an ioeventfd, without an exit;
    // where KVM refuses one, the notification exits and the vCPU thread handles it as every
    // other register write.
    let notify = IoEventAddress::Mmio(
        layout::VIRTIO_BASE
            + slot as u64 * layout::VIRTIO_SLOT_SIZE
            + labvisor_guest_abi::virtio::reg::QUEUE_NOTIFY,
    );
    let backend = match EventFd::new(libc::EFD_NONBLOCK) {
        Ok(kick) if register_notifications(vm, &kick, &notify) => backend.kicked_by(kick),
        _ => backend,
    };
    let transport = devices
        .virtio_slot(slot)
        .ok_or_else(|| VmmError::Config(format!("no virtio slot {slot} for the network card")))?;
    let doorbell = devices.doorbell.clone();
    let handle = backend
        .start(link, move || {
            let mut transport = transport.lock().unwrap_or_else(|p| p.into_inner());
            let received = transport.poll(devices::net::RX_QUEUE);
            let resumed = transport.poll(devices::net::TX_QUEUE);
            drop(transport);
            if received || resumed {
                doorbell.ring();
            }
        })
        .map_err(|e| VmmError::Host(e.to_string()))?;
    Ok((handle, mac))
}

/// Has KVM signal `kick` for a write of either network queue's index to `notify`; all or
/// nothing, since a notification KVM took for an eventfd nobody reads would be lost.
fn register_notifications(vm: &VmFd, kick: &EventFd, notify: &IoEventAddress) -> bool {
    let queues = [devices::net::TX_QUEUE, devices::net::RX_QUEUE].map(u32::from);
    for (i, &queue) in queues.iter().enumerate() {
        if vm.register_ioevent(kick, notify, queue).is_err() {
            for &registered in &queues[..i] {
                let _ = vm.unregister_ioevent(kick, notify, registered);
            }
            return false;
        }
    }
    true
}

/// `Ctrl-A n`: the NAT table, as `labvisor net run` prints it, on stderr (raw-mode line ends).
fn show_nat(net: Option<&(netback::NetHandle, [u8; 6])>) {
    use std::io::Write;
    let text = match net {
        Some((handle, _)) => handle.table_text(),
        None => "[no network: start the VM with --net, --natpf or --hostfwd]\n".to_string(),
    };
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\n{}", text.replace('\n', "\r\n"));
}

/// How often the thread running the VM looks for a sandbox violation: a trapped thread
/// cannot send an event, so the wait for one is cut into slices this long.
const SANDBOX_CHECK: Duration = Duration::from_millis(100);

/// Waits for the event that ends the VM, or the timeout, answering the console's requests
/// about disks and the network on the way. A sandbox violation stops the wait with its
/// explanation: the thread that made it is parked, maybe holding a device's lock, so nothing
/// that could wait on it may run after.
fn wait_for_end(
    events: &mpsc::Receiver<VmEvent>,
    timeout: Option<Duration>,
    disks: &disks::Attached,
    net: Option<&(netback::NetHandle, [u8; 6])>,
) -> Result<Ending, String> {
    let deadline = timeout.map(|t| (Instant::now() + t, t));
    loop {
        if let Some(why) = seccomp::stopped_because() {
            return Err(why);
        }
        let slice = match deadline {
            Some((at, t)) => {
                let left = at.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(Ending::Timeout {
                        after_ms: t.as_millis() as u64,
                    });
                }
                left.min(SANDBOX_CHECK)
            }
            None => SANDBOX_CHECK,
        };
        let event = match events.recv_timeout(slice) {
            Ok(event) => event,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Ok(Ending::Crashed {
                    cpu: 0,
                    reason: "every vCPU thread ended without a reason".into(),
                })
            }
        };
        match event {
            VmEvent::Ended(e) => return Ok(e),
            VmEvent::ConsoleQuit => return Ok(Ending::ConsoleQuit),
            VmEvent::ShowDisks => disks.show_usage(),
            VmEvent::ShowNat => show_nat(net),
            VmEvent::Resume => disks.resume(),
            VmEvent::Snapshot => disks.take_snapshots(),
            VmEvent::Space(event) => disks.show_space(&event),
        }
    }
}

/// The VMM's own boot marks, then the guest's as the control device timed them.
/// The vCPUs, each with its index, and the KVM statistics files of those that have one.
type Vcpus = (Vec<(u8, VcpuFd)>, Vec<std::fs::File>);

/// One vCPU per entry point, configured for long mode, with its KVM statistics file.
fn create_vcpus(kvm: &Kvm, vm: &VmFd, loaded: &boot::Loaded) -> Result<Vcpus, VmmError> {
    let mut vcpus = Vec::new();
    let mut stats_files = Vec::new();
    for (index, entry) in loaded.entries.iter().enumerate() {
        let index = index as u8;
        let vcpu = vm
            .create_vcpu(index.into())
            .map_err(|e| VmmError::Host(format!("cannot create vCPU {index}: {e}")))?;
        cpu::configure(kvm, &vcpu, index, *entry)?;
        stats_files.extend(open_kvm_stats(&vcpu));
        vcpus.push((index, vcpu));
    }
    Ok((vcpus, stats_files))
}

/// How the vCPUs will run on this host (pvm.rs), refusing `--pvm-mode native` where it
/// cannot be had.
fn choose_cpu_mode(
    config: &VmConfig,
    host_kvm: host::KvmKind,
    loaded: &boot::Loaded,
    vcpus: &[(u8, VcpuFd)],
) -> Result<pvm::Decision, VmmError> {
    pvm::choose(
        pvm::Request {
            host: host_kvm,
            asked: config.pvm_mode,
            linux: loaded.linux,
            pretend_absent: config.pretend_no_native_pvm,
        },
        &vcpus.iter().map(|(_, v)| v).collect::<Vec<_>>(),
    )
    .map_err(|why| {
        VmmError::Host(format!(
            "--pvm-mode native: this host cannot run the VM natively: {why}"
        ))
    })
}

fn all_marks(vmm_marks: Vec<(&'static str, f64)>, control: &ControlDevice) -> Vec<MarkReport> {
    let guest = control.marks().into_iter().map(|m| MarkReport {
        name: mark_name(m.id),
        at_ms: m.at_ns as f64 / 1e6,
    });
    vmm_marks
        .into_iter()
        .map(|(name, at_ms)| MarkReport {
            name: name.into(),
            at_ms,
        })
        .chain(guest)
        .collect()
}

/// KVM's counters summed over the vCPUs, the non-zero ones.
fn sum_kvm_stats(files: &[std::fs::File]) -> BTreeMap<String, u64> {
    let mut stats = BTreeMap::new();
    for file in files {
        for (name, value) in read_kvm_stats(file) {
            *stats.entry(name).or_insert(0u64) += value;
        }
    }
    stats.retain(|_, v| *v != 0);
    stats
}

/// The text a panic was raised with.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

fn register_memory(vm: &VmFd, mem: &vm_memory::GuestMemoryMmap) -> Result<(), VmmError> {
    for (slot, (guest_addr, host, len)) in memory::host_regions(mem).into_iter().enumerate() {
        let region = kvm_userspace_memory_region {
            slot: slot as u32,
            guest_phys_addr: guest_addr,
            memory_size: len as u64,
            userspace_addr: host as u64,
            flags: 0,
        };
        // SAFETY: the region is a live mapping of `len` bytes owned by `mem`, and it is never
        // unmapped while the VM exists: `run` leaks `mem` when it returns (vCPU threads may
        // still be inside KVM_RUN then), so the guest can never reach memory reused for
        // something else.
        unsafe { vm.set_user_memory_region(region) }
            .map_err(|e| VmmError::Host(format!("KVM refused guest memory slot {slot}: {e}")))?;
    }
    Ok(())
}

/// Runs one vCPU until something ends the VM.
fn run_vcpu(index: u8, mut vcpu: VcpuFd, devices: &Devices, exits: &ExitCounts) -> Ending {
    let mut rings_seen = devices::doorbell::Seen::default();
    loop {
        let action = match vcpu.run() {
            Ok(VcpuExit::IoOut(port, data)) => {
                exits.io_out.fetch_add(1, Ordering::Relaxed);
                devices.pio_write(port, data)
            }
            Ok(VcpuExit::IoIn(port, data)) => {
                exits.io_in.fetch_add(1, Ordering::Relaxed);
                devices.pio_read(port, data)
            }
            Ok(VcpuExit::MmioRead(addr, data)) => {
                exits.mmio_read.fetch_add(1, Ordering::Relaxed);
                devices.mmio_read(addr, data);
                Action::Continue
            }
            Ok(VcpuExit::MmioWrite(addr, data)) => {
                exits.mmio_write.fetch_add(1, Ordering::Relaxed);
                devices.mmio_write(addr, data)
            }
            Ok(VcpuExit::Hlt) => {
                // Without interrupts nothing would wake a halted CPU: treat `hlt` as a short
                // idle so a guest that halts in a loop still makes progress.
                exits.hlt.fetch_add(1, Ordering::Relaxed);
                Action::Idle(Duration::from_millis(1))
            }
            Ok(VcpuExit::Shutdown) => return guest_fault(index, &vcpu),
            Ok(VcpuExit::FailEntry(reason, _)) => {
                return Ending::Crashed {
                    cpu: index,
                    reason: format!("KVM could not enter the guest (hardware reason {reason:#x})"),
                }
            }
            Ok(VcpuExit::InternalError) => {
                return Ending::Crashed {
                    cpu: index,
                    reason: "KVM internal error (the guest ran something KVM cannot emulate)"
                        .into(),
                }
            }
            Ok(VcpuExit::SystemEvent(kind, _)) => {
                exits.other.fetch_add(1, Ordering::Relaxed);
                match kind {
                    kvm_bindings::KVM_SYSTEM_EVENT_RESET => return Ending::Reset,
                    kvm_bindings::KVM_SYSTEM_EVENT_SHUTDOWN => {
                        return Ending::PowerOff { status: 0 }
                    }
                    _ => {
                        return Ending::Crashed {
                            cpu: index,
                            reason: format!("system event {kind}"),
                        }
                    }
                }
            }
            Ok(other) => {
                exits.other.fetch_add(1, Ordering::Relaxed);
                return Ending::Crashed {
                    cpu: index,
                    reason: format!("unexpected exit {other:?}"),
                };
            }
            Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => Action::Continue,
            Err(e) => {
                return Ending::Crashed {
                    cpu: index,
                    reason: format!("KVM_RUN failed: {e}"),
                }
            }
        };
        match action {
            Action::Continue => {}
            Action::Idle(d) => devices.doorbell.wait(&mut rings_seen, d),
            Action::PowerOff(status) => return Ending::PowerOff { status },
            Action::Reset => return Ending::Reset,
            Action::InputEnded => return Ending::InputEnded,
        }
    }
}

/// What KVM left behind when the guest faulted: RIP and CR2 hold the faulting instruction and
/// address, and the vCPU's events the vector (and error code) of the exception KVM last
/// recorded, in native and emulated mode alike (measured with `ud2` and an unmapped read).
fn guest_fault(cpu: u8, vcpu: &VcpuFd) -> Ending {
    let events = vcpu.get_vcpu_events().ok();
    Ending::GuestFault {
        cpu,
        rip: vcpu.get_regs().ok().map(|r| r.rip),
        cr2: vcpu.get_sregs().ok().map(|s| s.cr2),
        exception: events.map(|e| exception_name(e.exception.nr)),
        error_code: events
            .filter(|e| e.exception.has_error_code != 0)
            .map(|e| e.exception.error_code),
    }
}

/// The mnemonic of x86 exception vector `nr` (Intel SDM vol. 3, table 6-1).
fn exception_name(nr: u8) -> String {
    const NAMES: [&str; 22] = [
        "#DE",
        "#DB",
        "NMI",
        "#BP",
        "#OF",
        "#BR",
        "#UD",
        "#NM",
        "#DF",
        "vector 9",
        "#TS",
        "#NP",
        "#SS",
        "#GP",
        "#PF",
        "vector 15",
        "#MF",
        "#AC",
        "#MC",
        "#XM",
        "#VE",
        "#CP",
    ];
    NAMES
        .get(usize::from(nr))
        .map_or_else(|| format!("vector {nr}"), |n| (*n).to_string())
}

/// Opens KVM's binary statistics of a vCPU (`KVM_GET_STATS_FD`, Linux 5.14+).
fn open_kvm_stats(vcpu: &VcpuFd) -> Option<std::fs::File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    /// `_IO(KVMIO, 0xce)`.
    const KVM_GET_STATS_FD: libc::c_ulong = 0xaece;
    // SAFETY: KVM_GET_STATS_FD takes no argument; it returns a new file descriptor or -1.
    let fd = unsafe { libc::ioctl(vcpu.as_raw_fd(), KVM_GET_STATS_FD as _) };
    // SAFETY: `fd` was just created for us and nothing else owns it.
    (fd >= 0).then(|| unsafe { std::fs::File::from_raw_fd(fd) })
}

/// Reads every counter of a KVM statistics file (Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD").
fn read_kvm_stats(file: &std::fs::File) -> Vec<(String, u64)> {
    use std::os::unix::fs::FileExt;
    let mut header = [0u8; 24];
    if file.read_exact_at(&mut header, 0).is_err() {
        return Vec::new();
    }
    let word = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .map_or(0, |w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as usize)
    };
    let (name_size, count, desc_offset, data_offset) = (
        word(&header, 4),
        word(&header, 8),
        word(&header, 16),
        word(&header, 20),
    );
    let desc_len = 16 + name_size;
    let mut descs = vec![0u8; desc_len.saturating_mul(count.min(1024))];
    if file.read_exact_at(&mut descs, desc_offset as u64).is_err() {
        return Vec::new();
    }
    descs
        .chunks_exact(desc_len)
        .filter_map(|d| {
            let size = u16::from_le_bytes([d[6], d[7]]);
            let name = String::from_utf8_lossy(&d[16..])
                .trim_end_matches('\0')
                .to_string();
            let mut value = [0u8; 8];
            (size >= 1
                && file
                    .read_exact_at(&mut value, (data_offset + word(d, 8)) as u64)
                    .is_ok())
            .then(|| (name, u64::from_le_bytes(value)))
        })
        .collect()
}
