//! `cargo xtask bench-boot`: how fast `labvisor vm run` boots its guest and computes, in each
//! CPU mode, against QEMU.
//!
//! One guest ELF (built by `cargo xtask guest`, its SHA-256 printed) is booted by three VMMs,
//! the runs interleaved so that a busy moment of the machine falls on all of them alike:
//! - `labvisor vm run --pvm-mode native --kernel ELF` (on a PVM host with the native opt-in;
//!   on hardware KVM this is simply the hardware mode);
//! - `labvisor vm run --pvm-mode emulated --kernel ELF` (PVM hosts only);
//! - `qemu-system-x86_64 -M microvm -enable-kvm -kernel ELF` through the guest's PVH entry
//!   (installed with apt if missing). QEMU cannot set this host's PVM opt-in, so on a PVM host
//!   it always runs emulated.
//!
//! Boot runs measure process start → guest banner, process start → exit after power-off, and
//! the VMM's own memory (RSS minus the guest RAM it touched, from labvisor's report). Compute
//! runs time the guest's `cpus 20000` (primes below 20,000 by trial division, a few million
//! instructions) from its command echo to its total on the console, the same way for every VMM.
//! The table keeps like with like: labvisor emulated against QEMU (both emulated), and the
//! native figure beside them as what a user of this host gets.
//! Targets: median start → banner ≤ 20 ms, VMM overhead ≤ 5 MiB (Firecracker's published
//! bounds: ≤ 125 ms to guest init, ≤ 5 MiB).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::sh::{self, cargo};

/// Options of `cargo xtask bench-boot`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Boots per VMM.
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    /// Compute runs (`cpus 20000`) per VMM; emulated ones take seconds each.
    #[arg(long, default_value_t = 3)]
    pub compute_runs: usize,
    /// Skip the QEMU comparison.
    #[arg(long)]
    pub no_qemu: bool,
}

const BANNER: &str = "Labvisor guest OS";
/// How long a VMM may take to print the banner, and then to exit.
const BANNER_TIMEOUT: Duration = Duration::from_secs(20);
const EXIT_TIMEOUT: Duration = Duration::from_secs(120);
const COMPUTE: &str = "cpus 20000";
const COMPUTE_START: &str = "labvisor# cpus 20000";
const COMPUTE_END: &str = "total  2262 primes";

/// One VMM configuration under test.
#[derive(Debug, Clone)]
struct Vmm {
    name: &'static str,
    /// Whether its guest instructions run natively or through KVM's emulator.
    native: bool,
    kind: VmmKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VmmKind {
    Labvisor { pvm_mode: &'static str },
    Qemu,
}

/// What one run measured, in milliseconds (and bytes).
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    banner_ms: f64,
    exit_ms: f64,
    /// `cpus 20000` as the host saw it on the console: from the command's echo to the total.
    compute_ms: Option<f64>,
    /// The same as the guest timed it with the VMM's clock (labvisor's control device; QEMU
    /// offers the guest no clock): finer than the console's arrival times.
    compute_guest_ms: Option<f64>,
    overhead_bytes: Option<u64>,
}

pub fn run(args: Args) -> Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let (labvisor, elf, hash) = build_vmm_and_guest()?;

    let (mut vmms, qemu_missing) = vmms_here(&labvisor, args.no_qemu);
    eprintln!(
        "bench-boot: guest ELF {} (sha256 {hash}), booted by every VMM below",
        elf.display()
    );
    // One unmeasured boot each so every VMM starts with warm page caches; a VMM that cannot
    // boot the guest at all is dropped with the reason.
    let mut failed = Vec::new();
    vmms.retain(|vmm| match boot(vmm, &labvisor, &elf, "poweroff") {
        Ok(_) => true,
        Err(e) => {
            failed.push(format!("{}: {e:#}", vmm.name));
            false
        }
    });
    let mut boots = vec![Vec::new(); vmms.len()];
    for _ in 0..args.runs {
        for (vmm, samples) in vmms.iter().zip(&mut boots) {
            samples.push(boot(vmm, &labvisor, &elf, "poweroff")?);
        }
    }
    let mut computes = vec![Vec::new(); vmms.len()];
    for _ in 0..args.compute_runs {
        for (vmm, samples) in vmms.iter().zip(&mut computes) {
            let workload = format!("{COMPUTE}; poweroff");
            samples.push(boot(vmm, &labvisor, &elf, &workload)?);
        }
    }

    report(
        &vmms,
        &boots,
        &computes,
        &failed,
        qemu_missing.as_deref(),
        &elf,
        &hash,
        &args,
    );
    Ok(())
}

/// The VMMs this host can compare: labvisor natively (and emulated on a PVM host), and QEMU
/// unless it is skipped or cannot be installed (the reason is returned then).
fn vmms_here(labvisor: &Path, no_qemu: bool) -> (Vec<Vmm>, Option<String>) {
    let pvm = labvisor_json(labvisor, &["doctor"])
        .map(|r| r["verdict"] == "pvm_kvm")
        .unwrap_or(false);
    let mut vmms = vec![Vmm {
        name: if pvm {
            "labvisor, native"
        } else {
            "labvisor (hardware)"
        },
        native: true,
        kind: VmmKind::Labvisor {
            pvm_mode: if pvm { "native" } else { "auto" },
        },
    }];
    if pvm {
        vmms.push(Vmm {
            name: "labvisor, emulated",
            native: false,
            kind: VmmKind::Labvisor {
                pvm_mode: "emulated",
            },
        });
    }
    let qemu_missing = if no_qemu {
        Some("skipped (--no-qemu)".to_string())
    } else {
        ensure_qemu().err().map(|e| format!("not available: {e:#}"))
    };
    if qemu_missing.is_none() {
        vmms.push(Vmm {
            name: if pvm {
                "QEMU microvm, emulated"
            } else {
                "QEMU microvm"
            },
            native: !pvm,
            kind: VmmKind::Qemu,
        });
    }

    (vmms, qemu_missing)
}

/// The table of medians and the ratios, like for like first, then the targets.
#[allow(clippy::too_many_arguments)]
fn report(
    vmms: &[Vmm],
    boots: &[Vec<Sample>],
    computes: &[Vec<Sample>],
    failed: &[String],
    qemu_missing: Option<&str>,
    elf: &Path,
    hash: &str,
    args: &Args,
) {
    println!();
    println!("Guest ELF: {} (sha256 {hash})", elf.display());
    println!(
        "{} boot runs and {} compute runs per VMM, interleaved; median (min–max)",
        args.runs, args.compute_runs
    );
    print!("{:<24}", "");
    for vmm in vmms {
        print!(" {:>28}", vmm.name);
    }
    println!();
    let row = |name: &str, samples: &[Vec<Sample>], f: fn(&Sample) -> Option<f64>| {
        print!("{name:<24}");
        let medians: Vec<f64> = samples
            .iter()
            .map(|s| {
                let st = stats(s.iter().filter_map(f));
                print!(" {:>28}", fmt_ms(st));
                st.0
            })
            .collect();
        println!();
        medians
    };
    let banner = row("start → banner", boots, |s| Some(s.banner_ms));
    row("start → exit", boots, |s| Some(s.exit_ms));
    let compute = row(&format!("`{COMPUTE}`, console"), computes, |s| s.compute_ms);
    let compute_guest = row(&format!("`{COMPUTE}`, guest clock"), computes, |s| {
        s.compute_guest_ms
    });
    print!("{:<24}", "VMM memory overhead");
    for samples in boots {
        let mib = stats(
            samples
                .iter()
                .filter_map(|s| s.overhead_bytes)
                .map(|b| b as f64 / 1048576.0),
        );
        let cell = if mib.0.is_nan() {
            "—".to_string()
        } else {
            format!("{:.2} MiB ({:.2}–{:.2})", mib.0, mib.1, mib.2)
        };
        print!(" {cell:>28}");
    }
    println!();
    for why in failed.iter().map(String::as_str).chain(qemu_missing) {
        println!("could not measure {why}");
    }

    println!();
    let find = |pred: &dyn Fn(&Vmm) -> bool| vmms.iter().position(pred);
    let ours_native = find(&|v| v.native && v.kind != VmmKind::Qemu);
    let ours_emulated = find(&|v| !v.native && v.kind != VmmKind::Qemu);
    let qemu = find(&|v| v.kind == VmmKind::Qemu);
    let qemu_native = qemu.is_some_and(|q| vmms[q].native);
    // Like with like first: the same execution mode on both sides.
    let like = if qemu_native {
        ours_native
    } else {
        ours_emulated
    };
    if let (Some(ours), Some(q)) = (like, qemu) {
        println!(
            "like for like ({}): QEMU / labvisor = {} to the banner, {} for `{COMPUTE}`",
            if qemu_native {
                "both native"
            } else {
                "both emulated"
            },
            ratio(banner[q], banner[ours]),
            ratio(compute[q], compute[ours])
        );
    }
    if let (Some(native), Some(emulated)) = (ours_native, ours_emulated) {
        println!(
            "labvisor, emulated / native: {} to the banner, {} for `{COMPUTE}` by the guest's clock (what PVM's native mode gives)",
            ratio(banner[emulated], banner[native]),
            ratio(compute_guest[emulated], compute_guest[native])
        );
    }
    if let (Some(native), Some(q)) = (ours_native, qemu) {
        if !qemu_native {
            println!(
                "what a user of this host gets: QEMU (emulated, it cannot use PVM's native mode) / labvisor native = {} to the banner, {} for `{COMPUTE}` — different execution modes, not a VMM-to-VMM comparison",
                ratio(banner[q], banner[native]),
                ratio(compute[q], compute[native])
            );
        }
    }
    if let Some(native) = ours_native {
        let overhead = stats(
            boots[native]
                .iter()
                .filter_map(|s| s.overhead_bytes)
                .map(|b| b as f64 / 1048576.0),
        )
        .0;
        println!(
            "targets ({}): start → banner ≤ 20 ms: {} ({:.1} ms); VMM overhead ≤ 5 MiB: {} ({overhead:.2} MiB)",
            vmms[native].name,
            if banner[native] <= 20.0 { "met" } else { "NOT met" },
            banner[native],
            if overhead <= 5.0 { "met" } else { "NOT met" },
        );
    }
}

fn ratio(theirs: f64, ours: f64) -> String {
    if theirs.is_finite() && ours.is_finite() && ours > 0.0 {
        format!("{:.1}×", theirs / ours)
    } else {
        "—".to_string()
    }
}

fn fmt_ms((median, min, max): (f64, f64, f64)) -> String {
    if median.is_nan() {
        "—".to_string()
    } else {
        format!("{median:.1} ms ({min:.1}–{max:.1})")
    }
}

/// (median, min, max); NaNs when there are no values.
fn stats(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (median, v[0], v[v.len() - 1])
}

fn labvisor_json(labvisor: &Path, args: &[&str]) -> Result<serde_json::Value> {
    let out = sh::output(Command::new(labvisor).arg("--json").args(args))?;
    Ok(serde_json::from_str(&out)?)
}

/// Boots `elf` with `vmm`, running `workload`, and measures it.
fn boot(vmm: &Vmm, labvisor: &Path, elf: &Path, workload: &str) -> Result<Sample> {
    match vmm.kind {
        VmmKind::Labvisor { pvm_mode } => {
            let mut cmd = Command::new(labvisor);
            cmd.args(["--json", "vm", "run", "--pvm-mode", pvm_mode, "--kernel"])
                .arg(elf)
                .args(["--run", workload, "--timeout", "120s"]);
            let run = time_boot(&mut cmd, true)?;
            if run.code != Some(0) {
                bail!("labvisor exited with {:?}", run.code);
            }
            let report: serde_json::Value =
                serde_json::from_slice(&run.other).context("labvisor --json printed no report")?;
            Ok(Sample {
                overhead_bytes: report["vmm_overhead_bytes"].as_u64(),
                ..run.sample
            })
        }
        VmmKind::Qemu => {
            let mut cmd = qemu_microvm(elf, workload);
            let run = time_boot(&mut cmd, false)?;
            // isa-debug-exit turns the guest's status 0 into exit code (0 << 1) | 1.
            if run.code != Some(1) {
                bail!(
                    "QEMU exited with {:?} instead of the guest's power-off (1)",
                    run.code
                );
            }
            Ok(run.sample)
        }
    }
}

/// What [`time_boot`] saw.
struct Run {
    sample: Sample,
    /// The stream that is not the console (labvisor's report on stdout).
    other: Vec<u8>,
    code: Option<i32>,
}

/// Starts `cmd` and watches its console (stdout or stderr) for the banner and the compute
/// lines, each timed as it arrives; kills it when the banner or the exit takes too long.
fn time_boot(cmd: &mut Command, console_is_stderr: bool) -> Result<Run> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{}`", sh::describe(cmd)))?;
    let (console, other): (Box<dyn Read + Send>, Box<dyn Read + Send>) = if console_is_stderr {
        (
            Box::new(child.stderr.take().expect("piped")),
            Box::new(child.stdout.take().expect("piped")),
        )
    } else {
        (
            Box::new(child.stdout.take().expect("piped")),
            Box::new(child.stderr.take().expect("piped")),
        )
    };
    let (tx, rx) = mpsc::channel::<(&'static str, Duration)>();
    let watcher = std::thread::spawn(move || {
        let mut console = console;
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut waiting = vec![BANNER, COMPUTE_START, COMPUTE_END];
        while let Ok(n) = console.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen);
            waiting.retain(|&needle| {
                let found = text.contains(needle);
                if found {
                    let _ = tx.send((needle, start.elapsed()));
                }
                !found
            });
        }
        seen
    });
    let collector = std::thread::spawn(move || {
        let mut other = other;
        let mut out = Vec::new();
        let _ = other.read_to_end(&mut out);
        out
    });
    let banner = loop {
        match rx.recv_timeout(BANNER_TIMEOUT.saturating_sub(start.elapsed())) {
            Ok((BANNER, at)) => break Some(at),
            Ok(_) => continue,
            Err(_) => break None,
        }
    };
    let status = match banner {
        Some(_) => wait_with_timeout(&mut child, EXIT_TIMEOUT)?,
        None => {
            let _ = child.kill();
            child.wait()?;
            None
        }
    };
    let exit = start.elapsed();
    let console_text = watcher.join().unwrap_or_default();
    let other = collector.join().unwrap_or_default();
    let tail = || {
        let text = String::from_utf8_lossy(&console_text);
        let skip = text.chars().count().saturating_sub(400);
        text.chars().skip(skip).collect::<String>()
    };
    let Some(banner) = banner else {
        bail!(
            "no banner within {BANNER_TIMEOUT:?} from `{}`; it printed: {}",
            sh::describe(cmd),
            tail()
        );
    };
    let Some(code) = status else {
        bail!(
            "`{}` did not exit within {EXIT_TIMEOUT:?} of its banner; it printed: {}",
            sh::describe(cmd),
            tail()
        );
    };
    let marks: Vec<(&str, Duration)> = rx.try_iter().collect();
    let at = |needle: &str| marks.iter().find(|(n, _)| *n == needle).map(|(_, t)| *t);
    let compute_ms = match (at(COMPUTE_START), at(COMPUTE_END)) {
        (Some(from), Some(to)) => Some((to.saturating_sub(from)).as_secs_f64() * 1e3),
        _ => None,
    };
    let compute_guest_ms = guest_compute_ms(&String::from_utf8_lossy(&console_text));
    Ok(Run {
        sample: Sample {
            banner_ms: banner.as_secs_f64() * 1e3,
            exit_ms: exit.as_secs_f64() * 1e3,
            compute_ms,
            compute_guest_ms,
            overhead_bytes: None,
        },
        other,
        code,
    })
}

/// The slowest CPU's share of `cpus`, from the guest's lines `cpu0 0..20000 2262 primes in
/// 728.494 µs` (CPUs work in parallel); `None` when the guest had no clock to read.
fn guest_compute_ms(console: &str) -> Option<f64> {
    console
        .lines()
        .filter_map(|line| {
            let (_, took) = line.split_once(" primes in ")?;
            let (value, unit) = took.trim().split_once(' ')?;
            let value: f64 = value.parse().ok()?;
            let scale = match unit.trim() {
                "µs" => 1e-3,
                "ms" => 1.0,
                "s" => 1e3,
                _ => return None,
            };
            Some(value * scale)
        })
        .reduce(f64::max)
}

/// Waits for `child` up to `limit`; kills it after that. `None`: it had to be killed.
/// Builds `labvisor` (release) and the guest ELF every VMM boots; returns their paths and the
/// ELF's SHA-256, printed so that runs can be matched to the file they measured.
pub(crate) fn build_vmm_and_guest() -> Result<(PathBuf, PathBuf, String)> {
    sh::run(cargo().args(["build", "--release", "-p", "labvisor"]))?;
    let labvisor = sh::workspace_root().join("target/release/labvisor");
    let elf = crate::guest::build()?;
    let hash = sh::output(Command::new("sha256sum").arg(&elf))
        .map(|o| o.split_whitespace().next().unwrap_or("?").to_string())
        .unwrap_or_else(|e| format!("(sha256sum failed: {e:#})"));
    Ok((labvisor, elf, hash))
}

pub(crate) fn wait_with_timeout(
    child: &mut std::process::Child,
    limit: Duration,
) -> Result<Option<Option<i32>>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status.code()));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(Duration::from_micros(250));
    }
}

/// QEMU `-M microvm` booting our guest ELF under PVH with `append` as its command line (the
/// workload), 64 MiB, no display, and `isa-debug-exit` so the guest's power-off status becomes
/// QEMU's exit code (`status << 1 | 1`). The benches add their devices.
pub(crate) fn qemu_microvm(elf: &Path, append: &str) -> Command {
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args([
        "-M",
        "microvm",
        "-enable-kvm",
        "-m",
        "64",
        "-nographic",
        "-no-reboot",
    ])
    .arg("-kernel")
    .arg(elf)
    .args(["-append", append])
    .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
    cmd
}

/// Installs QEMU where it is missing. Debian ships qemu-system-x86 only together with a
/// qemu-utils of the same version, and these machines come with a newer qemu-utils, so the
/// pair is installed at qemu-system-x86's version in one call (shared/reference.md, "Debian
/// QEMU packages"); qemu-img and qemu-io keep working for the disk tests.
pub(crate) fn ensure_qemu() -> Result<()> {
    let have = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if have("qemu-system-x86_64") {
        return Ok(());
    }
    sh::run(Command::new("apt-get").args(["update", "-qq"]))?;
    let policy = sh::output(Command::new("apt-cache").args(["policy", "qemu-system-x86"]))?;
    let version = policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate: "))
        .filter(|v| *v != "(none)")
        .context("apt has no qemu-system-x86 package")?
        .to_string();
    sh::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--allow-downgrades"])
            .arg(format!("qemu-system-x86={version}"))
            .arg(format!("qemu-utils={version}"))
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    if !have("qemu-img") {
        bail!("installing QEMU left no qemu-img");
    }
    Ok(())
}
