//! `cargo xtask bench-boot`: how fast `labvisor vm run` boots its guest, against QEMU.
//!
//! Boots the embedded guest N times (`labvisor --json vm run --run poweroff`) and reports
//! the median and spread of: process start → guest banner on the console, process start →
//! exit after power-off, and the VMM's own resident memory (RSS minus the guest RAM the guest
//! touched, from the boot report). Then, where QEMU is installed (installed with apt if
//! missing), boots the same guest ELF with `qemu-system-x86_64 -M microvm -enable-kvm` through
//! its PVH entry note, N times, and prints the ratios. Targets: median start → banner ≤ 20 ms,
//! VMM overhead ≤ 5 MiB (Firecracker's published bounds: ≤ 125 ms to guest init, ≤ 5 MiB).

use std::io::Read;
use std::path::Path;
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
    /// Skip the QEMU comparison.
    #[arg(long)]
    pub no_qemu: bool,
}

/// What one boot measured, in milliseconds (and bytes).
#[derive(Debug, Clone, Copy)]
struct Sample {
    banner_ms: f64,
    exit_ms: f64,
    overhead_bytes: Option<u64>,
}

const BANNER: &str = "Labvisor guest OS";
const BOOT_TIMEOUT: Duration = Duration::from_secs(20);

pub fn run(args: Args) -> Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    sh::run(cargo().args(["build", "--release", "-p", "labvisor"]))?;
    let labvisor = sh::workspace_root().join("target/release/labvisor");
    eprintln!(
        "bench-boot: {} boots of the embedded guest with {}",
        args.runs,
        labvisor.display()
    );
    // One unmeasured boot so both VMMs start with warm page caches.
    boot_labvisor(&labvisor)?;
    let ours = (0..args.runs)
        .map(|_| boot_labvisor(&labvisor))
        .collect::<Result<Vec<_>>>()?;

    let qemu = if args.no_qemu {
        Err("skipped (--no-qemu)".to_string())
    } else {
        bench_qemu(args.runs)
    };

    println!();
    println!(
        "Boot of Labvisor's guest OS, {} runs each (median, min–max):",
        args.runs
    );
    println!(
        "{:<28} {:>26} {:>26} {:>8}",
        "", "labvisor vm run", "QEMU -M microvm", "ratio"
    );
    let row = |name: &str, f: fn(&Sample) -> f64| {
        let ours_stats = stats(ours.iter().map(f));
        let (theirs, ratio) = match &qemu {
            Ok(q) => {
                let s = stats(q.iter().map(f));
                (fmt_ms(s), format!("{:.1}×", s.0 / ours_stats.0))
            }
            Err(_) => ("—".to_string(), "—".to_string()),
        };
        println!(
            "{name:<28} {:>26} {theirs:>26} {ratio:>8}",
            fmt_ms(ours_stats)
        );
        ours_stats.0
    };
    let banner = row("process start → banner", |s| s.banner_ms);
    row("process start → exit", |s| s.exit_ms);
    let overheads: Vec<f64> = ours
        .iter()
        .filter_map(|s| s.overhead_bytes)
        .map(|b| b as f64 / 1048576.0)
        .collect();
    let overhead = stats(overheads.iter().copied());
    println!(
        "{:<28} {:>26} {:>26}",
        "VMM memory overhead",
        format!(
            "{:.2} MiB ({:.2}–{:.2})",
            overhead.0, overhead.1, overhead.2
        ),
        "—"
    );
    if let Err(why) = &qemu {
        println!("QEMU: {why}");
    }
    println!();
    println!(
        "targets: start → banner ≤ 20 ms: {} ({banner:.1} ms); VMM overhead ≤ 5 MiB: {} ({:.2} MiB)",
        if banner <= 20.0 { "met" } else { "NOT met" },
        if overhead.0 <= 5.0 { "met" } else { "NOT met" },
        overhead.0
    );
    Ok(())
}

fn fmt_ms((median, min, max): (f64, f64, f64)) -> String {
    format!("{median:.1} ms ({min:.1}–{max:.1})")
}

/// (median, min, max).
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

/// Starts `cmd`, watches `console` (stdout or stderr) for the banner, waits for the exit.
/// Returns (banner ms, exit ms, stdout, exit code).
fn time_boot(
    cmd: &mut Command,
    console_is_stderr: bool,
) -> Result<(f64, f64, Vec<u8>, Option<i32>)> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{}`", sh::describe(cmd)))?;
    let (console, other): (Box<dyn Read + Send>, Box<dyn Read + Send>) = if console_is_stderr {
        (
            Box::new(child.stderr.take().unwrap()),
            Box::new(child.stdout.take().unwrap()),
        )
    } else {
        (
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        )
    };
    let (tx, rx) = mpsc::channel();
    let watcher = std::thread::spawn(move || {
        let mut console = console;
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut reported = false;
        while let Ok(n) = console.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if !reported && String::from_utf8_lossy(&seen).contains(BANNER) {
                reported = true;
                let _ = tx.send(start.elapsed());
            }
        }
        seen
    });
    let collector = std::thread::spawn(move || {
        let mut other = other;
        let mut out = Vec::new();
        let _ = other.read_to_end(&mut out);
        out
    });
    let banner = rx.recv_timeout(BOOT_TIMEOUT);
    if banner.is_err() {
        let _ = child.kill();
    }
    let status = child.wait()?;
    let exit = start.elapsed();
    let console_text = watcher.join().unwrap_or_default();
    let other_out = collector.join().unwrap_or_default();
    let Ok(banner) = banner else {
        bail!(
            "no banner within {BOOT_TIMEOUT:?} from `{}`; it printed: {}",
            sh::describe(cmd),
            String::from_utf8_lossy(&console_text)
                .chars()
                .rev()
                .take(400)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        );
    };
    let stdout = if console_is_stderr {
        other_out
    } else {
        console_text
    };
    Ok((
        banner.as_secs_f64() * 1e3,
        exit.as_secs_f64() * 1e3,
        stdout,
        status.code(),
    ))
}

fn boot_labvisor(labvisor: &Path) -> Result<Sample> {
    let mut cmd = Command::new(labvisor);
    cmd.args([
        "--json",
        "vm",
        "run",
        "--run",
        "poweroff",
        "--timeout",
        "20s",
    ]);
    let (banner_ms, exit_ms, stdout, code) = time_boot(&mut cmd, true)?;
    if code != Some(0) {
        bail!("labvisor exited with {code:?}");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&stdout).context("labvisor --json printed no report")?;
    Ok(Sample {
        banner_ms,
        exit_ms,
        overhead_bytes: report["vmm_overhead_bytes"].as_u64(),
    })
}

/// QEMU's numbers, or why there are none.
fn bench_qemu(runs: usize) -> std::result::Result<Vec<Sample>, String> {
    ensure_qemu().map_err(|e| format!("not available: {e:#}"))?;
    let elf = crate::guest::build().map_err(|e| format!("cannot build the guest ELF: {e:#}"))?;
    eprintln!(
        "bench-boot: {runs} boots of the same ELF with qemu-system-x86_64 -M microvm (PVH entry)"
    );
    let boot = || -> Result<Sample> {
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
        .arg(&elf)
        .args([
            "-append",
            "poweroff",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ]);
        let (banner_ms, exit_ms, _, code) = time_boot(&mut cmd, false)?;
        // isa-debug-exit turns the guest's status 0 into exit code (0 << 1) | 1.
        if code != Some(1) {
            bail!("QEMU exited with {code:?} instead of the guest's power-off (1)");
        }
        Ok(Sample {
            banner_ms,
            exit_ms,
            overhead_bytes: None,
        })
    };
    boot().map_err(|e| format!("QEMU could not boot the guest here: {e:#}"))?;
    (0..runs)
        .map(|_| boot())
        .collect::<Result<Vec<_>>>()
        .map_err(|e| format!("QEMU failed during the runs: {e:#}"))
}

fn ensure_qemu() -> Result<()> {
    if Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(());
    }
    sh::run(Command::new("apt-get").args(["update", "-qq"]))?;
    sh::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "qemu-system-x86"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}
