//! `labvisor host …`: this machine as a home for VMs. `host plan` sizes VMs on it with the
//! course rule (keep 20 % of CPUs and RAM for the host).

use std::process::ExitCode;

use labvisor_core::lang::{Explain, Lang};
use labvisor_core::sizing::{
    self, format_mib, Host, Percent, Plan, Policy, Problem, VmRequest, Warning,
};
use serde::Serialize;

use super::output::{out, pick, print_json, Table};
use super::{CliError, CliResult, Global};
use crate::hostinfo;
use labvisor_core::lang::particle::eul_reul;

/// This machine as a home for VMs.
#[derive(Debug, clap::Subcommand)]
pub enum HostCommand {
    /// Plan VMs on a host: keep a reserve for the host, share the rest, and check the VMs fit.
    ///
    /// The host defaults to this machine (logical CPUs from /proc/cpuinfo, RAM from
    /// /proc/meminfo); --cpus and --mem describe another. The reserve is rounded up to whole
    /// CPUs and MiB, so 20 % of 8 logical CPUs keeps 2 for the host and leaves 6 for VMs.
    /// Exits with status 1 when the VMs do not fit.
    #[command(after_help = "Examples:
  labvisor host plan                                this machine, 20 % reserve
  labvisor host plan --cpus 8 --mem 16G             the course's example host
  labvisor host plan --cpus 8 --mem 16G --vm 1:2G --vm web=2:4G:20G
  labvisor host plan --cpus 4 --mem 8G --reserve 25% --vm 2:4G")]
    Plan(PlanArgs),
}

/// Options of `labvisor host plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Logical CPUs of the host (default: this machine's).
    #[arg(long, value_name = "N")]
    pub cpus: Option<String>,
    /// RAM of the host, binary units: 16G = 16 GiB, 512M (default: this machine's).
    #[arg(long, value_name = "SIZE")]
    pub mem: Option<String>,
    /// Disk space for VM images, to check the virtual disks against: 256G.
    #[arg(long, value_name = "SIZE")]
    pub disk: Option<String>,
    /// A VM to plan, [NAME=]VCPUS:RAM[:DISK], e.g. 1:2G or web=2:4G:20G; repeat for more.
    #[arg(long = "vm", value_name = "SPEC")]
    pub vms: Vec<String>,
    /// Share of CPUs and RAM kept for the host.
    #[arg(long, value_name = "PERCENT", default_value = "20%")]
    pub reserve: String,
    /// Let the VMs together be promised more RAM than is left for them (a warning, not an error).
    #[arg(long)]
    pub allow_ram_overcommit: bool,
}

/// The JSON form of `host plan`.
#[derive(Debug, Serialize)]
pub struct PlanReport {
    /// Where the host's figures came from: `"arguments"`, `"/proc"` or both.
    pub host_source: &'static str,
    /// The plan.
    #[serde(flatten)]
    pub plan: Plan,
}

/// Runs `labvisor host …`.
pub fn run(command: HostCommand, global: &Global) -> CliResult {
    match command {
        HostCommand::Plan(args) => run_plan(args, global),
    }
}

/// A usage error: the option, then the core's sentence in the learner's language.
fn usage(lang: Lang, option: &str, e: &impl Explain) -> CliError {
    CliError::Usage(format!("{option}{}", e.explain_in(lang)))
}

fn run_plan(args: PlanArgs, global: &Global) -> CliResult {
    let lang = global.lang();
    let cpus = args
        .cpus
        .as_deref()
        .map(|c| sizing::parse_cpu_count(c).map_err(|e| usage(lang, "--cpus: ", &e)))
        .transpose()?;
    let mem = args
        .mem
        .as_deref()
        .map(|m| sizing::parse_size_mib(m).map_err(|e| usage(lang, "--mem: ", &e)))
        .transpose()?;
    let disk = args
        .disk
        .as_deref()
        .map(|d| sizing::parse_size_mib(d).map_err(|e| usage(lang, "--disk: ", &e)))
        .transpose()?;
    let reserve = Percent::parse(&args.reserve).map_err(|e| usage(lang, "--reserve: ", &e))?;
    let vms = args
        .vms
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            VmRequest::parse(spec, &format!("vm{}", i + 1)).map_err(|e| usage(lang, "--vm: ", &e))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let (host_source, cpus, mem) = match (cpus, mem) {
        (Some(c), Some(m)) => ("arguments", c, m),
        _ => {
            let (this_cpus, this_mem) = hostinfo::host_resources().map_err(CliError::Runtime)?;
            let source = if cpus.is_none() && mem.is_none() {
                "/proc"
            } else {
                "arguments and /proc"
            };
            (source, cpus.unwrap_or(this_cpus), mem.unwrap_or(this_mem))
        }
    };
    let host = Host::new(cpus, mem, disk).map_err(|e| usage(lang, "", &e))?;
    let policy = Policy {
        reserve,
        allow_ram_overcommit: args.allow_ram_overcommit,
    };
    let plan = sizing::plan(&host, &vms, &policy);
    let fits = plan.fits;
    let report = PlanReport { host_source, plan };
    if global.json {
        print_json(&report)?;
    } else {
        out!("{}", render(&report, lang))?;
    }
    if fits {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(CliError::Runtime(
            pick(
                lang,
                "the VMs do not fit on this host (reasons above)",
                "VM들이 이 호스트에 들어가지 않습니다 (이유는 위에)",
            )
            .to_string(),
        ))
    }
}

fn cpus(lang: Lang, n: u64) -> String {
    match lang {
        Lang::En if n == 1 => "1 CPU".to_string(),
        Lang::En => format!("{n} CPUs"),
        Lang::Ko => format!("CPU {n}개"),
    }
}

fn render(report: &PlanReport, lang: Lang) -> String {
    let p = &report.plan;
    let mut t = Table::new();
    let source = match report.host_source {
        "/proc" => pick(lang, "this machine", "이 컴퓨터"),
        "arguments" => pick(lang, "given", "입력값"),
        _ => pick(lang, "given and this machine", "입력값과 이 컴퓨터"),
    };
    let disk = p
        .host
        .disk_mib
        .map(|d| format!(", {} {}", format_mib(d), pick(lang, "disk", "디스크")))
        .unwrap_or_default();
    t.row([
        pick(lang, "Host", "호스트").to_string(),
        format!(
            "{}, {} RAM{disk} ({source})",
            match lang {
                Lang::En => format!("{} logical CPUs", p.host.logical_cpus),
                Lang::Ko => format!("논리 CPU {}개", p.host.logical_cpus),
            },
            format_mib(p.host.ram_mib)
        ),
    ]);
    t.row([
        format!(
            "{} ({})",
            pick(lang, "Host reserve", "호스트 몫"),
            p.policy.reserve
        ),
        format!(
            "{}, {} {}",
            cpus(lang, p.reserve.cpus),
            format_mib(p.reserve.ram_mib),
            pick(lang, "(rounded up)", "(올림)")
        ),
    ]);
    t.row([
        pick(lang, "For VMs", "VM 몫").to_string(),
        format!(
            "{}, {}",
            cpus(lang, p.available.cpus),
            format_mib(p.available.ram_mib)
        ),
    ]);
    let mut out = t.render();

    if !p.vms.is_empty() {
        out.push('\n');
        let mut t = Table::new();
        t.row(["VM", "vCPU", "RAM", pick(lang, "DISK", "디스크")]);
        for vm in &p.vms {
            t.row([
                vm.name.clone(),
                vm.vcpus.to_string(),
                format_mib(vm.ram_mib),
                vm.disk_mib.map(format_mib).unwrap_or_else(|| "-".into()),
            ]);
        }
        t.row([
            pick(lang, "total", "합계").to_string(),
            p.requested.cpus.to_string(),
            format_mib(p.requested.ram_mib),
            String::new(),
        ]);
        t.row([
            pick(lang, "left", "남음").to_string(),
            p.left.cpus.to_string(),
            format_mib(p.left.ram_mib),
            String::new(),
        ]);
        out.push_str(&t.render());
    }

    out.push('\n');
    if p.vms.is_empty() {
        out.push_str(pick(
            lang,
            "No VMs given (add --vm VCPUS:RAM).",
            "VM이 주어지지 않았습니다 (--vm VCPUS:RAM 추가).",
        ));
        out.push('\n');
    } else if p.fits {
        out.push_str(pick(lang, "Fits: yes.", "배치 가능: 예."));
        out.push('\n');
    } else {
        out.push_str(pick(lang, "Fits: no.", "배치 가능: 아니요."));
        out.push('\n');
        for problem in &p.problems {
            out.push_str(&format!("- {}\n", problem_line(problem, lang)));
        }
    }
    for warning in &p.warnings {
        out.push_str(&format!("- {}\n", warning_line(warning, lang)));
    }
    if let Some(split) = p.even_split {
        out.push_str(&match lang {
            Lang::En => format!(
                "Course rule: the CPUs for VMs hold {} with 1 vCPU and {} RAM each.\n",
                if split.vms == 1 {
                    "1 VM".to_string()
                } else {
                    format!("{} VMs", split.vms)
                },
                format_mib(split.ram_mib_each)
            ),
            Lang::Ko => format!(
                "수업 규칙: vCPU 1개짜리 VM {}대, 각각 RAM {} 배치할 수 있습니다.\n",
                split.vms,
                eul_reul(format_mib(split.ram_mib_each))
            ),
        });
    }
    out
}

/// A problem as the plan prints it: the core's sentence, and for RAM overcommit the flag that
/// plans it anyway.
pub fn problem_line(problem: &Problem, lang: Lang) -> String {
    let sentence = problem.explain_in(lang);
    match problem {
        Problem::RamOvercommit { .. } => format!(
            "{sentence} {}",
            pick(
                lang,
                "(use --allow-ram-overcommit to plan it anyway)",
                "(그래도 계획하려면 --allow-ram-overcommit)"
            )
        ),
        _ => sentence,
    }
}

/// A warning as the plan prints it: a label and the core's sentence.
pub fn warning_line(warning: &Warning, lang: Lang) -> String {
    format!(
        "{}: {}",
        pick(lang, "warning", "경고"),
        warning.explain_in(lang)
    )
}
