//! `labvisor vm`: real virtual machines on this host's KVM.
//!
//! `vm run` boots Labvisor's own guest OS (embedded in this binary) or, with `--kernel`, a
//! Linux bzImage, attaches the terminal to its serial console and exits with the guest's
//! exit status.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use labvisor_core::lang::{Lang, Text};
use labvisor_core::sizing::{self, Host, Policy, Problem, VmRequest, Warning};

use super::{output, CliError, CliResult, Global};
use crate::vmm::{self, boot::Kernel, host::KvmKind, pvm::PvmMode, Ending, VmConfig, VmReport};
use labvisor_core::lang::particle::{eun_neun, i_ga};

/// Run virtual machines on this host's KVM.
#[derive(Debug, Subcommand)]
pub enum VmCommand {
    /// Boot a VM and attach the terminal to its serial console.
    ///
    /// Without --kernel this boots Labvisor's guest OS, built into this binary: it starts in
    /// milliseconds and offers a small shell (`help`, `uptime`, `mem`, `devices`, `cpus`,
    /// `poweroff [STATUS]`). `labvisor` exits with the status the guest powers off with.
    /// Press Ctrl-A x to stop the VM from the keyboard (as in QEMU).
    ///
    /// With --json the console goes to stderr and a boot report (boot marks with their times,
    /// VM exits by kind, VMM memory; with a network, the final NAT table and its decisions)
    /// is printed on stdout at the end.
    ///
    /// --net (or any forward) gives the guest a network card on a user-mode NAT laid out like
    /// VirtualBox's: the guest leases 10.0.2.15 by DHCP, 10.0.2.2 is the host's loopback,
    /// 10.0.2.3 the DNS proxy. Ctrl-A n prints the live NAT table.
    #[command(
        after_help = "Examples:\n  labvisor vm run\n  labvisor vm run --run \"uptime; mem; poweroff\"\n  \
labvisor vm run --cpus 4 --run \"cpus; poweroff\"\n  labvisor vm run --json --run poweroff\n  \
labvisor vm run --kernel bzImage --initrd initrd.cpio.gz --timeout 30s\n  \
labvisor vm run --natpf \"shell,tcp,127.0.0.1,2323,,23\"   (then: nc 127.0.0.1 2323)\n  \
labvisor vm run --hostfwd tcp:127.0.0.1:8080-:80 --pcap guest.pcap"
    )]
    Run(RunArgs),
}

/// Options of `vm run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Guest RAM, e.g. 64M, 512M, 1G (8M to 3G).
    #[arg(long, default_value = "64M", value_parser = parse_mem)]
    pub mem: u64,
    /// Virtual CPUs (1 to 16). Each starts in long mode; the guest's `cpus` command shares
    /// work among them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=16))]
    pub cpus: u8,
    /// Commands for Labvisor's guest to run at boot, separated by `;` (e.g. "uptime; poweroff").
    /// The shell follows unless they power off.
    #[arg(long, value_name = "CMDS")]
    pub run: Option<String>,
    /// Boot this kernel instead: a Linux bzImage, or an ELF kernel using Labvisor's boot protocol.
    #[arg(long, value_name = "FILE")]
    pub kernel: Option<PathBuf>,
    /// Initial ramdisk for a Linux kernel (placed at the top of guest RAM).
    #[arg(long, value_name = "FILE", requires = "kernel")]
    pub initrd: Option<PathBuf>,
    /// Kernel command line for a Linux kernel (default: serial console, nokaslr, rdinit=/init).
    #[arg(long, value_name = "TEXT", requires = "kernel")]
    pub cmdline: Option<String>,
    /// Stop the VM if it has not ended after this long, e.g. 500ms, 10s, 2m (default: never).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// On a PVM host (KVM without VT-x/AMD-V): `native` runs the guest's instructions on the
    /// CPU through this host's PVM opt-in, `emulated` has KVM emulate every instruction
    /// (thousands of times slower), `auto` takes native where the host offers it. The boot
    /// report and the guest's banner say which ran. Hardware-assisted hosts always run natively.
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = parse_pvm_mode)]
    pub pvm_mode: PvmMode,
    /// Give the VM a disk: a VDI or raw image (`labvisor disk create`), with its snapshots.
    /// Repeat for more disks, in virtio slot order. `FILE,readonly` shows it read-only;
    /// `FILE,snapshot` sends writes to a temporary differencing image that is thrown away at the
    /// end (QEMU's snapshot=on). The guest's `disk`, `write`, `read`, `fill`, `zero`, `trim` and
    /// `sync` commands use the first one.
    #[arg(long = "disk", value_name = "FILE[,readonly|,snapshot]")]
    pub disks: Vec<String>,
    /// Allow more vCPUs than this host has logical CPUs, as KVM does (the course's sizing rule
    /// refuses it: such vCPUs only take turns, and a guest that waits for one of its CPUs
    /// while the host runs another stalls). For experiments and tests.
    #[arg(long)]
    pub wider_than_host: bool,
    #[command(flatten)]
    pub net: super::vm_net::NetArgs,
    #[command(flatten)]
    pub ssh: super::vm_ssh::SshArgs,
    /// Run the VMM without its sandbox. By default every VMM thread (each vCPU, the network,
    /// the console) is confined by a seccomp filter to the system calls its job needs, so that
    /// a guest that takes over a vCPU's device code still cannot open files, start programs or
    /// open sockets; a call outside the filter stops the VM and names the call. Turn it off
    /// only to debug such a stop (docs/security.md lists each thread's calls).
    #[arg(long)]
    pub no_seccomp: bool,
    /// Test seam: act as if this host's PVM had no native opt-in.
    #[arg(long, hide = true)]
    pub pretend_no_native_pvm: bool,
    /// Test seam: a VMM thread panics when the guest records this boot mark.
    #[arg(long, hide = true, value_name = "MARK")]
    pub panic_at_mark: Option<u32>,
    /// Test seam: a vCPU thread opens a socket (which its seccomp filter forbids) when the
    /// guest records this boot mark.
    #[arg(long, hide = true, value_name = "MARK")]
    pub socket_at_mark: Option<u32>,
}

/// Runs `labvisor vm …`.
pub fn run(command: VmCommand, global: &Global) -> CliResult {
    match command {
        VmCommand::Run(args) => run_vm(args, global),
    }
}

fn run_vm(args: RunArgs, global: &Global) -> CliResult {
    let lang = global.lang();
    check_mem(args.mem, lang)?;
    let kind = kvm_or_refuse(lang)?;
    check_fits_host(args.mem, args.cpus, args.wider_than_host, lang)?;

    // Read here, bounded, and only from regular files: a kernel or initrd cannot be larger
    // than the guest RAM it must fit in, and /dev/zero or a FIFO must not hang the VMM.
    let read = |path: &std::path::Path, what| {
        crate::files::read_bytes(path, what, args.mem).map_err(|e| CliError::Usage(e.to_string()))
    };
    let kernel_file = args
        .kernel
        .as_deref()
        .map(|p| read(p, "kernel"))
        .transpose()?;
    let initrd_file = args
        .initrd
        .as_deref()
        .map(|p| read(p, "initrd"))
        .transpose()?;
    let (kernel_name, initrd_name) = (
        args.kernel.as_ref().map(|p| p.display().to_string()),
        args.initrd.as_ref().map(|p| p.display().to_string()),
    );
    let kernel = match (&kernel_file, &kernel_name) {
        (Some(bytes), Some(name)) => Kernel { name, bytes },
        _ => Kernel::embedded_guest(),
    };
    let initrd = match (&initrd_file, &initrd_name) {
        (Some(bytes), Some(name)) => Some(vmm::boot::Image { name, bytes }),
        _ => None,
    };
    let linux = !kernel.is_elf();
    check_linux_args(linux, &args, kind, lang)?;
    let disks = open_disks(&args.disks)?;
    let ssh = super::vm_ssh::prepare(&args.ssh, lang)?;
    let mut net_args = args.net;
    if let Some(ssh) = &ssh {
        net_args.natpf.push(ssh.forward.clone());
    }
    let net = super::vm_net::prepare(&net_args, linux, lang)?;
    if let Some(ssh) = &ssh {
        output::errln!("{}", super::vm_ssh::announce(ssh, lang));
    }

    let config = VmConfig {
        mem_bytes: args.mem,
        cpus: if linux { 1 } else { args.cpus },
        kernel,
        workload: args.run.clone().unwrap_or_default(),
        cmdline: args.cmdline.clone(),
        initrd,
        timeout: args.timeout,
        console_to_stderr: global.json,
        attach_stdin: true,
        pvm_mode: args.pvm_mode,
        pretend_no_native_pvm: args.pretend_no_native_pvm,
        panic_at_mark: args.panic_at_mark,
        socket_at_mark: args.socket_at_mark,
        seccomp: !args.no_seccomp,
        disks,
        net,
        ssh_keys: ssh.map(|ssh| ssh.keys),
    };
    let report = vmm::run(config).map_err(|e| match e {
        vmm::VmmError::Config(msg) => CliError::Usage(msg),
        vmm::VmmError::Host(msg) | vmm::VmmError::Sandbox(msg) => CliError::Runtime(msg),
    })?;
    if global.json {
        output::print_json(&report)?;
    }
    // With --json the report says it, and stderr is the very terminal that did not keep up.
    if report.console_dropped_bytes > 0 && !global.json {
        let bytes = report.console_dropped_bytes;
        output::errln!(
            "labvisor: {}",
            match lang {
                Lang::En => format!("note: {bytes} bytes of console output were dropped: the terminal did not keep up"),
                Lang::Ko => format!("참고: 터미널이 따라오지 못해 콘솔 출력 {bytes}바이트를 버렸습니다"),
            }
        );
    }
    finish(&report, lang, linux && kind == KvmKind::Pvm)
}

/// `--mem` within what the VMM's memory map holds.
fn check_mem(mem: u64, lang: Lang) -> Result<(), CliError> {
    if (vmm::layout::MIN_MEM..=vmm::layout::MAX_MEM).contains(&mem) {
        return Ok(());
    }
    let (min, max, mem) = (
        vmm::layout::MIN_MEM >> 20,
        vmm::layout::MAX_MEM >> 20,
        mem >> 20,
    );
    Err(CliError::Usage(match lang {
        Lang::En => format!("--mem must be between {min} MiB and {max} MiB, not {mem} MiB"),
        Lang::Ko => format!("--mem은 {min} MiB에서 {max} MiB 사이여야 합니다. 지금 값: {mem} MiB"),
    }))
}

/// Which KVM this host has; none is a runtime error that says how to get one.
fn kvm_or_refuse(lang: Lang) -> Result<KvmKind, CliError> {
    let kind = vmm::host::kvm_kind();
    if kind == KvmKind::None {
        return Err(CliError::Runtime(
            Text::new(
                "this host has no /dev/kvm: load kvm_intel or kvm_amd (or use a machine with KVM) to run real VMs",
                "이 호스트에는 /dev/kvm이 없습니다. 실제 VM을 돌리려면 kvm_intel 또는 kvm_amd 모듈을 올리세요(또는 KVM이 되는 머신을 쓰세요)",
            )
            .get(lang)
            .into(),
        ));
    }
    Ok(kind)
}

/// What a Linux kernel cannot be given (`--run`, `--disk`), and the note that PVM hosts do
/// not boot stock Linux.
fn check_linux_args(
    linux: bool,
    args: &RunArgs,
    kind: KvmKind,
    lang: Lang,
) -> Result<(), CliError> {
    if !linux {
        return Ok(());
    }
    if args.run.is_some() {
        return Err(CliError::Usage(
            Text::new(
                "--run names commands for Labvisor's guest OS; a Linux kernel takes --cmdline instead",
                "--run은 Labvisor 게스트 OS에 줄 명령입니다. 리눅스 커널에는 대신 --cmdline을 주세요",
            )
            .get(lang)
            .into(),
        ));
    }
    if kind == KvmKind::Pvm {
        let anyway = Text::new(
            "booting it anyway: expect the decompressor's first message, then nothing.",
            "그래도 부팅합니다: 압축 해제 코드의 첫 메시지가 나온 뒤에는 아무것도 나오지 않을 것입니다.",
        );
        output::errln!(
            "labvisor: note: {} {} {}\nlabvisor: note: {}",
            THIS_HOST_IS_PVM.get(lang),
            vmm::host::PVM_EXPLANATION.get(lang),
            vmm::host::PVM_LINUX_EXPLANATION.get(lang),
            anyway.get(lang)
        );
    }

    if !args.disks.is_empty() {
        return Err(CliError::Usage(
            Text::new(
                "--disk works with Labvisor's guest OS; a Linux kernel would need virtio_mmio.device= on its command line, which vm run does not add yet",
                "--disk는 Labvisor 게스트 OS와 함께 씁니다. 리눅스 커널은 명령줄에 virtio_mmio.device=가 필요한데 vm run은 아직 이를 넣지 않습니다",
            )
            .get(lang)
            .into(),
        ));
    }
    Ok(())
}

const THIS_HOST_IS_PVM: Text = Text::new(
    "this host's KVM is PVM (kvm_pvm: no VT-x/AMD-V in the CPU).",
    "이 호스트의 KVM은 PVM입니다(kvm_pvm: CPU에 VT-x/AMD-V가 없음).",
);

/// Opens every `--disk` before the VM starts, so a bad image is an error, not a guest surprise.
fn open_disks(args: &[String]) -> Result<Vec<vmm::Disk>, CliError> {
    args.iter()
        .map(|arg| {
            let (path, attach) =
                crate::disk::vm_disk::parse_disk_arg(arg).map_err(CliError::Usage)?;
            let disk = crate::disk::vm_disk::VmDisk::open(&path, attach)
                .map_err(|e| CliError::Usage(format!("--disk {arg}: {e}")))?;
            Ok(vmm::Disk {
                name: path.display().to_string(),
                backend: Box::new(disk),
            })
        })
        .collect()
}

/// Turns how the VM ended into the exit status, with a clear message when it failed.
/// `linux_on_pvm`: a Linux kernel ran on PVM, which the message then explains.
fn finish(report: &VmReport, lang: Lang, linux_on_pvm: bool) -> CliResult {
    let ko = lang == Lang::Ko;
    let failure = match &report.ending {
        Ending::PowerOff { status } => return Ok(ExitCode::from(*status)),
        Ending::Reset => {
            let said = Text::new(
                "the guest reset the VM (i8042); stopped",
                "게스트가 VM을 리셋했습니다(i8042). 멈춥니다",
            );
            output::errln!("\r\nlabvisor: {}", said.get(lang));
            return Ok(ExitCode::SUCCESS);
        }
        Ending::InputEnded => {
            let said = Text::new(
                "standard input ended while the guest waited for more commands: stopped (end the input with `poweroff STATUS` to choose the exit status)",
                "게스트가 다음 명령을 기다리는데 표준 입력이 끝났습니다. 멈춥니다(종료 상태를 정하려면 입력 끝에 `poweroff STATUS`를 넣으세요)",
            );
            output::errln!("\r\nlabvisor: {}", said.get(lang));
            return Ok(ExitCode::SUCCESS);
        }
        Ending::ConsoleQuit => {
            let said = Text::new("VM stopped (Ctrl-A x)", "VM을 멈췄습니다(Ctrl-A x)");
            output::errln!("\r\nlabvisor: {}", said.get(lang));
            return Ok(ExitCode::SUCCESS);
        }
        Ending::Timeout { after_ms } if ko => {
            format!(
                "게스트가 {} 안에 전원을 끄지 않았습니다",
                show_ms(*after_ms)
            )
        }
        Ending::Timeout { after_ms } => {
            format!("the guest did not power off within {}", show_ms(*after_ms))
        }
        Ending::GuestFault {
            cpu,
            rip,
            cr2,
            exception,
            error_code,
        } => {
            let at = fault_details(*rip, *cr2, exception.as_deref(), *error_code);
            if ko {
                format!("게스트가 vCPU {cpu}에서 처리하지 못한 예외를 냈습니다{at}. KVM이 VM을 껐습니다")
            } else {
                format!("the guest took an exception it could not handle on vCPU {cpu}{at}: KVM shut the VM down")
            }
        }
        Ending::Crashed { cpu, reason } if ko => {
            format!("게스트가 vCPU {cpu}에서 멈췄습니다: {reason}")
        }
        Ending::Crashed { cpu, reason } => format!("the guest crashed on vCPU {cpu}: {reason}"),
        Ending::VmmPanic { thread, message } if ko => format!(
            "VMM의 {thread} 스레드가 패닉으로 멈춰 VM을 끝냈습니다(Labvisor의 버그입니다): {message}"
        ),
        Ending::VmmPanic { thread, message } => format!(
            "the VMM's {thread} thread panicked, so the VM was stopped (a bug in Labvisor): {message}"
        ),
    };
    let mut msg = failure;
    if report.last_console_lines.is_empty() {
        msg.push_str(if ko {
            ". 콘솔에 아무것도 출력하지 않았습니다"
        } else {
            "; it printed nothing on its console"
        });
    } else {
        msg.push_str(if ko {
            ". 콘솔의 마지막 줄:"
        } else {
            "; last console lines:"
        });
        for line in &report.last_console_lines {
            msg.push_str("\n  | ");
            msg.push_str(line);
        }
    }
    if linux_on_pvm {
        msg.push_str(if ko { "\n이유: " } else { "\nwhy: " });
        msg.push_str(THIS_HOST_IS_PVM.get(lang));
        msg.push(' ');
        msg.push_str(vmm::host::PVM_EXPLANATION.get(lang));
        msg.push(' ');
        msg.push_str(vmm::host::PVM_LINUX_EXPLANATION.get(lang));
    }
    Err(CliError::Runtime(msg))
}

/// ` (#PF error code 0x4, rip 0x100123, cr2 0x123456000)`: what KVM left to read about a fault.
fn fault_details(
    rip: Option<u64>,
    cr2: Option<u64>,
    exception: Option<&str>,
    error_code: Option<u32>,
) -> String {
    let parts: Vec<String> = [
        exception.map(|e| match error_code {
            Some(code) => format!("{e} error code {code:#x}"),
            None => e.to_string(),
        }),
        rip.map(|r| format!("rip {r:#x}")),
        cr2.map(|c| format!("cr2 {c:#x}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn show_ms(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

/// Refuses a VM that does not fit this host, by the course's sizing model
/// (`labvisor_core::sizing`: 20 % of the host's CPUs and RAM stay with the host), and notes
/// what fits but deserves attention (vCPU overcommit).
fn check_fits_host(
    mem_bytes: u64,
    cpus: u8,
    wider_than_host: bool,
    lang: Lang,
) -> Result<(), CliError> {
    let ko = lang == Lang::Ko;
    let Some(host) = host_resources() else {
        return Ok(()); // Not Linux-like enough to tell; KVM will refuse what it cannot do.
    };
    let vm = VmRequest::new("vm", cpus.into(), mem_bytes.div_ceil(1 << 20), None)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let plan = sizing::plan(&host, &[vm], &Policy::default());
    let refused = plan
        .problems
        .iter()
        .find(|p| !(wider_than_host && matches!(p, Problem::VmWiderThanHost { .. })));
    if wider_than_host && refused.is_none() && !plan.problems.is_empty() {
        output::errln!(
            "labvisor: {}",
            Text::new(
                "note: --wider-than-host: more vCPUs than host CPUs; they take turns on the CPUs there are",
                "참고: --wider-than-host: 호스트 CPU보다 vCPU가 많습니다. 있는 CPU를 번갈아 씁니다",
            )
            .get(lang)
        );
    }
    if let Some(problem) = refused {
        let why = match problem {
            Problem::RamOvercommit { requested_mib, available_mib } => {
                let (mem, ram, keep, left) = (
                    sizing::format_mib(*requested_mib),
                    sizing::format_mib(host.ram_mib),
                    plan.policy.reserve.value(),
                    sizing::format_mib(*available_mib),
                );
                if ko {
                    format!("--mem {} 들어가지 않습니다. 이 호스트의 RAM은 {ram}이고 {keep} %를 호스트 몫으로 남기므로 VM에는 {} 남습니다", eun_neun(mem), i_ga(left))
                } else {
                    format!("--mem {mem} does not fit: this host has {ram} of RAM and keeps {keep} % for itself, leaving {left} for VMs")
                }
            }
            Problem::NoCpuLeft { host_cpus, reserved } if ko => format!(
                "이 호스트의 논리 CPU는 {host_cpus}개이고 {reserved}개를 호스트 몫으로 남기므로 VM에 줄 CPU가 없습니다"
            ),
            Problem::NoCpuLeft { host_cpus, reserved } => format!(
                "this host has {host_cpus} logical CPU(s) and keeps {reserved} for itself, leaving none for a VM"
            ),
            Problem::VmWiderThanHost { vcpus, host_cpus, .. } if ko => format!(
                "--cpus {} 이 호스트의 논리 CPU {host_cpus}개보다 많습니다(VM은 호스트보다 넓을 수 없습니다)",
                eun_neun(vcpus)
            ),
            Problem::VmWiderThanHost { vcpus, host_cpus, .. } => format!(
                "--cpus {vcpus} is more than this host's {host_cpus} logical CPUs (a VM cannot be wider than its host)"
            ),
        };
        return Err(CliError::Runtime(why));
    }
    for warning in &plan.warnings {
        if let Warning::VcpuOvercommit {
            requested,
            available,
            ratio,
        } = warning
        {
            if ko {
                output::errln!(
                    "labvisor: 참고: VM 몫으로 남은 CPU {available}개에 vCPU {requested}개({ratio:.1}배 오버커밋): 번갈아 실행됩니다"
                );
            } else {
                output::errln!(
                    "labvisor: note: {requested} vCPUs on the {available} CPU(s) left for VMs ({ratio:.1}× overcommit): they take turns"
                );
            }
        }
    }
    Ok(())
}

/// This host's logical CPUs and RAM, as `labvisor host plan` sees them.
fn host_resources() -> Option<Host> {
    let (cpus, ram_mib) = crate::hostinfo::host_resources().ok()?;
    Host::new(cpus, ram_mib, None).ok()
}

/// Parses a guest RAM size the way `labvisor host plan --mem` does (`64M`, `1G`, `1.5G`; a bare
/// number is MiB, as in QEMU's `-m`), in bytes.
pub fn parse_mem(s: &str) -> Result<u64, String> {
    labvisor_core::sizing::parse_size_mib(s)
        .map(|mib| mib << 20)
        .map_err(|e| e.to_string())
}

/// Parses `--pvm-mode`.
pub fn parse_pvm_mode(s: &str) -> Result<PvmMode, String> {
    match s {
        "auto" => Ok(PvmMode::Auto),
        "native" => Ok(PvmMode::Native),
        "emulated" => Ok(PvmMode::Emulated),
        other => Err(format!(
            "`{other}` is not a PVM mode: use auto, native or emulated"
        )),
    }
}

/// Parses `500ms`, `10s`, `2m` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: expected e.g. 500ms, 10s or 2m"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        other => {
            return Err(format!(
                "`{other}` in `{s}` is not a duration unit: use ms, s or m"
            ))
        }
    };
    if !(secs > 0.0 && secs < 1e7) {
        return Err(format!("`{s}` is out of range: give a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a user types, the parsers answer with a value or an error naming the input.
        #[test]
        fn parsers_never_panic(input in "\\PC{0,24}") {
            if let Err(e) = parse_mem(&input) {
                prop_assert!(!e.is_empty());
            }
            if let Err(e) = parse_duration(&input) {
                prop_assert!(!e.is_empty());
            }
        }

        #[test]
        fn sizes_round_trip(n in 1u64..4096, unit in prop::sample::select(vec![("M", 20), ("G", 30)])) {
            prop_assert_eq!(parse_mem(&format!("{n}{}", unit.0)), Ok(n << unit.1));
        }
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_mem("64M"), Ok(64 << 20));
        assert_eq!(parse_mem("64"), Ok(64 << 20));
        assert_eq!(parse_mem("1G"), Ok(1 << 30));
        assert_eq!(parse_mem("512MiB"), Ok(512 << 20));
        assert!(parse_mem("64Q").unwrap_err().contains("64Q"));
        assert!(parse_mem("M").is_err());
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3h").unwrap_err().contains("`h`"));
    }
}
