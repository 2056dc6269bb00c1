//! `cargo xtask bench-vm-disk`: a real VM's disk, labvisor against QEMU, on the same images.
//!
//! One guest ELF (`cargo xtask guest`, SHA-256 printed) runs the same workloads in every VMM:
//! `fill 64M 0x5a` (sequential 1 MiB writes) and `randwrite 2000` (4 KiB writes at random
//! places), on a raw image, a fixed VDI, and a dynamic VDI written for the first time and then
//! rewritten. The VMMs: `labvisor vm run --disk` natively and, on a PVM host, emulated; and
//! `qemu-system-x86_64 -M microvm -enable-kvm` with `-drive format=raw|vdi` and a
//! `virtio-blk-device` (modern virtio-mmio), which on a PVM host always runs emulated. Each
//! workload is timed on the console, from the command's echo to its answer, the same way for
//! every VMM; runs alternate between VMMs. Ratios keep like with like: labvisor emulated
//! against QEMU (both emulated), fixed VDI against raw within labvisor. Targets: labvisor ≥
//! QEMU on every row, fixed VDI ≥ 90 % of raw.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::sh;

/// Options of `cargo xtask bench-vm-disk`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Runs per VMM and image.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Skip the QEMU comparison.
    #[arg(long)]
    pub no_qemu: bool,
}

const SIZE: &str = "64M";
const MIB: f64 = 64.0;
const RANDOM_WRITES: f64 = 2000.0;
const LIMIT: Duration = Duration::from_secs(300);

/// The VMMs a VM benchmark compares (bench-net too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vmm {
    LabvisorNative,
    LabvisorEmulated,
    Qemu,
}

/// The VMMs this host can compare: labvisor natively, emulated too on a PVM host, and QEMU
/// unless skipped or impossible to install (then the reason comes back instead).
pub(crate) fn vmms_here(no_qemu: bool) -> (Vec<Vmm>, Option<String>) {
    let mut vmms = vec![Vmm::LabvisorNative];
    if std::path::Path::new("/sys/module/kvm_pvm").exists() {
        vmms.push(Vmm::LabvisorEmulated);
    }
    let qemu_missing = if no_qemu {
        Some("skipped (--no-qemu)".to_string())
    } else {
        crate::bench_boot::ensure_qemu()
            .err()
            .map(|e| format!("not available: {e:#}"))
    };
    if qemu_missing.is_none() {
        vmms.push(Vmm::Qemu);
    }
    (vmms, qemu_missing)
}

impl Vmm {
    pub(crate) fn name(self, pvm: bool) -> &'static str {
        match (self, pvm) {
            (Vmm::LabvisorNative, true) => "labvisor, native",
            (Vmm::LabvisorNative, false) => "labvisor",
            (Vmm::LabvisorEmulated, _) => "labvisor, emulated",
            (Vmm::Qemu, true) => "QEMU microvm, emulated",
            (Vmm::Qemu, false) => "QEMU microvm",
        }
    }

    /// labvisor's `--pvm-mode` for this row (QEMU has no such flag).
    pub(crate) fn pvm_mode(self) -> &'static str {
        match self {
            Vmm::LabvisorNative => "auto",
            Vmm::LabvisorEmulated | Vmm::Qemu => "emulated",
        }
    }
}

/// An image kind and the workload timed on it.
#[derive(Debug, Clone, Copy)]
struct Row {
    name: &'static str,
    format: &'static str,
    alloc: &'static str,
    /// The command timed, from its echo on the console to its answer.
    timed: &'static str,
    /// Which occurrence of `timed` is measured (1: the second, a rewrite).
    occurrence: usize,
    unit: Unit,
}

#[derive(Debug, Clone, Copy)]
enum Unit {
    MegabytesPerSecond,
    WritesPerSecond,
}

const ROWS: [Row; 8] = [
    row(
        "raw, 1 MiB sequential",
        "raw",
        "fixed",
        FILL,
        0,
        Unit::MegabytesPerSecond,
    ),
    row(
        "fixed VDI, 1 MiB sequential",
        "vdi",
        "fixed",
        FILL,
        0,
        Unit::MegabytesPerSecond,
    ),
    row(
        "dynamic VDI, first write, 1 MiB",
        "vdi",
        "dynamic",
        FILL,
        0,
        Unit::MegabytesPerSecond,
    ),
    row(
        "dynamic VDI, rewrite, 1 MiB",
        "vdi",
        "dynamic",
        FILL,
        1,
        Unit::MegabytesPerSecond,
    ),
    row(
        "raw, 4 KiB random",
        "raw",
        "fixed",
        RANDOM,
        0,
        Unit::WritesPerSecond,
    ),
    row(
        "fixed VDI, 4 KiB random",
        "vdi",
        "fixed",
        RANDOM,
        0,
        Unit::WritesPerSecond,
    ),
    row(
        "dynamic VDI, first, 4 KiB random",
        "vdi",
        "dynamic",
        RANDOM,
        0,
        Unit::WritesPerSecond,
    ),
    row(
        "dynamic VDI, rewrite, 4 KiB random",
        "vdi",
        "dynamic",
        RANDOM,
        1,
        Unit::WritesPerSecond,
    ),
];
const FILL: &str = "fill 64M 0x5a";
const RANDOM: &str = "randwrite 2000";

const fn row(
    name: &'static str,
    format: &'static str,
    alloc: &'static str,
    timed: &'static str,
    occurrence: usize,
    unit: Unit,
) -> Row {
    Row {
        name,
        format,
        alloc,
        timed,
        occurrence,
        unit,
    }
}

pub fn run(args: Args) -> Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let (labvisor, elf, hash) = crate::bench_boot::build_vmm_and_guest()?;
    let (vmms, qemu_missing) = vmms_here(args.no_qemu);
    let pvm = vmms.contains(&Vmm::LabvisorEmulated);
    let dir = sh::workspace_root().join("target/bench-vm-disk");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;

    eprintln!("bench-vm-disk: guest ELF {} (sha256 {hash})", elf.display());
    // results[row][vmm] = figures of each run
    let mut results = vec![vec![Vec::new(); vmms.len()]; ROWS.len()];
    for _ in 0..args.runs {
        for (r, row) in ROWS.iter().enumerate() {
            for (v, &vmm) in vmms.iter().enumerate() {
                let image = dir.join(format!("disk.{}", row.format));
                let _ = std::fs::remove_file(&image);
                sh::output(
                    Command::new(&labvisor)
                        .args(["disk", "create"])
                        .arg(&image)
                        .args(["--size", SIZE, "--alloc", row.alloc]),
                )?;
                let workload = match row.occurrence {
                    0 => format!("{}; poweroff", row.timed),
                    _ => format!("{0}; {0}; poweroff", row.timed),
                };
                let seconds = time_workload(vmm, &labvisor, &elf, &image, row, &workload)
                    .with_context(|| format!("{} on {}", vmm.name(pvm), row.name))?;
                results[r][v].push(match row.unit {
                    Unit::MegabytesPerSecond => MIB * 1.048_576 / seconds,
                    Unit::WritesPerSecond => RANDOM_WRITES / seconds,
                });
            }
        }
    }

    println!();
    println!("Guest ELF: {} (sha256 {hash})", elf.display());
    println!(
        "{} runs per cell, interleaved; median; MB/s for 1 MiB writes ({SIZE} in all), writes/s for 4 KiB ones ({RANDOM_WRITES})",
        args.runs
    );
    print!("{:<36}", "");
    for vmm in &vmms {
        print!(" {:>24}", vmm.name(pvm));
    }
    println!();
    let medians: Vec<Vec<f64>> = results
        .iter()
        .map(|cells| cells.iter().map(|c| median(c)).collect())
        .collect();
    for (row, cells) in ROWS.iter().zip(&medians) {
        print!("{:<36}", row.name);
        for value in cells {
            print!(" {:>24}", format!("{value:.1}"));
        }
        println!();
    }
    if let Some(why) = &qemu_missing {
        println!("QEMU: {why}");
    }
    println!();
    let find = |vmm: Vmm| vmms.iter().position(|&v| v == vmm);
    if let (Some(ours), Some(q)) = (
        find(if pvm {
            Vmm::LabvisorEmulated
        } else {
            Vmm::LabvisorNative
        }),
        find(Vmm::Qemu),
    ) {
        println!(
            "like for like ({}): labvisor / QEMU",
            if pvm { "both emulated" } else { "both native" }
        );
        let mut all_met = true;
        for (row, cells) in ROWS.iter().zip(&medians) {
            let ratio = cells[ours] / cells[q];
            all_met &= ratio >= 1.0;
            println!("  {:<36} {ratio:.2}×", row.name);
        }
        println!(
            "target labvisor ≥ QEMU on every row: {}",
            if all_met { "met" } else { "NOT met" }
        );
    }
    if let Some(native) = find(Vmm::LabvisorNative) {
        for (fixed, raw, what) in [(1, 0, "1 MiB sequential"), (5, 4, "4 KiB random")] {
            let share = medians[fixed][native] / medians[raw][native] * 100.0;
            println!(
                "fixed VDI / raw, {}, {what}: {share:.0} % (target ≥ 90 %: {})",
                vmms[native].name(pvm),
                if share >= 90.0 { "met" } else { "NOT met" }
            );
        }
    }
    Ok(())
}

pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs `workload` on `image` in `vmm`; returns the seconds between the echo of the measured
/// occurrence of `row.timed` and the line after it.
fn time_workload(
    vmm: Vmm,
    labvisor: &Path,
    elf: &Path,
    image: &Path,
    row: &Row,
    workload: &str,
) -> Result<f64> {
    let mut cmd = match vmm {
        Vmm::Qemu => {
            let mut c = crate::bench_boot::qemu_microvm(elf, workload);
            c.args(["-global", "virtio-mmio.force-legacy=false"])
                .arg("-drive")
                .arg(format!(
                    "id=d0,file={},format={},if=none,cache=writeback",
                    image.display(),
                    row.format
                ))
                .args(["-device", "virtio-blk-device,drive=d0"]);
            c
        }
        Vmm::LabvisorNative | Vmm::LabvisorEmulated => {
            let mut c = Command::new(labvisor);
            let mode = vmm.pvm_mode();
            c.args(["vm", "run", "--pvm-mode", mode, "--kernel"])
                .arg(elf)
                .arg("--disk")
                .arg(image)
                .args(["--run", workload, "--timeout", "300s"]);
            c
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{}`", sh::describe(&cmd)))?;
    let mut out = child.stdout.take().expect("piped");
    // Lines as they arrive, with their time.
    let reader = std::thread::spawn(move || {
        let mut lines: Vec<(Duration, String)> = Vec::new();
        let mut pending = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            for &b in &buf[..n] {
                if b == b'\n' {
                    let line = String::from_utf8_lossy(&pending).trim().to_string();
                    lines.push((start.elapsed(), line));
                    pending.clear();
                } else {
                    pending.push(b);
                }
            }
        }
        lines
    });
    if crate::bench_boot::wait_with_timeout(&mut child, LIMIT)?.is_none() {
        bail!("`{}` did not finish within {LIMIT:?}", sh::describe(&cmd));
    }
    let lines = reader.join().unwrap_or_default();
    let echo = format!("labvisor# {}", row.timed);
    let at = lines
        .iter()
        .enumerate()
        .filter(|(_, (_, l))| l.ends_with(&echo))
        .nth(row.occurrence)
        .map(|(i, _)| i)
        .with_context(|| {
            format!(
                "no `{echo}` (occurrence {}) on the console: {:?}",
                row.occurrence,
                lines.iter().rev().take(5).collect::<Vec<_>>()
            )
        })?;
    let answer = lines
        .get(at + 1)
        .filter(|(_, l)| l.starts_with("wrote"))
        .with_context(|| format!("`{echo}` got no `wrote` answer: {:?}", lines.get(at + 1)))?;
    Ok((answer.0 - lines[at].0).as_secs_f64())
}
