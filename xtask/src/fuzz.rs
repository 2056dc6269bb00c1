//! `cargo xtask fuzz [TARGET] [--secs N] [--runs N] [--no-trace-compares]`: runs the
//! fuzz targets in `fuzz/` with cargo-fuzz (libFuzzer, nightly Rust), one after another,
//! and prints for each how long it ran, how many inputs it executed and the coverage
//! libFuzzer reached (`cov:` edges, `ft:` features).
//!
//! It installs what it needs idempotently: the nightly toolchain (rustup) and cargo-fuzz
//! (`cargo install --locked`, into `target/tools/cargo-fuzz`). Each target starts from its
//! checked-in seeds (`fuzz/corpus/<target>/*.seed`) plus whatever earlier runs added there,
//! with its dictionary (`fuzz/dict/<target>.dict`) where the format has keywords. A crash
//! fails the task and names the input libFuzzer saved (`fuzz/artifacts/<target>/`); once
//! fixed, the input is kept in `fuzz/regressions/<target>/`, which the crates' stable
//! `fuzz_regressions` tests replay.
//!
//! Only `virtio` is built with AddressSanitizer: it is the one target whose code under test
//! holds `unsafe` (the VMM's, and vm-memory's access to guest memory). Every other target
//! drives `deny(unsafe_code)` crates, where a memory error cannot arise from our code and
//! ASan's instrumentation only divides the executions per second by about four (measured
//! on `parsers`: 3,763 against 16,628 per second). The two builds keep separate target
//! directories so that neither rebuilds the other.
//!
//! `--no-trace-compares` builds without libFuzzer's comparison tracing (its own target
//! directories again): the fuzzer no longer learns the operands of the comparisons an input
//! fails, which matters while a corpus is young, and every comparison stops calling into it,
//! which matters in a long run from a grown corpus (`disk_image`: 1,106 → 1,699 inputs/s).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::sh;

/// Every fuzz target, as `fuzz/Cargo.toml` names them.
pub const TARGETS: [&str; 9] = [
    "disk_image",
    "parsers",
    "scenario",
    "lesson",
    "actions",
    "share_code",
    "wire",
    "gateway",
    "virtio",
];

/// The targets whose code under test holds `unsafe`, and so are built with AddressSanitizer.
const WITH_ADDRESS_SANITIZER: [&str; 1] = ["virtio"];

/// How long `cargo xtask test` runs each target: 9 targets stay under two minutes.
const CI_SECS: u64 = 10;

/// How long each target runs when neither `--secs` nor `--runs` is given.
const DEFAULT_SECS: u64 = 60;

/// Options of `cargo xtask fuzz`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// One target (default: all of them, one after another).
    target: Option<String>,
    /// Seconds to run each target (default 60 when --runs is not given either).
    #[arg(long)]
    secs: Option<u64>,
    /// Executions after which each target stops (e.g. 10000000 for a long run); with --secs
    /// too, whichever comes first.
    #[arg(long)]
    runs: Option<u64>,
    /// Seconds of wall-clock time after which one input counts as hung (libFuzzer's
    /// -timeout). Raise it for a long run on a machine doing other work, where a starved
    /// fuzzer may spend that long on an input that takes a second alone.
    #[arg(long, default_value_t = DEFAULT_TIMEOUT_SECS)]
    timeout: u64,
    /// Build without comparison tracing: faster per input, blind to the values an input's
    /// failed comparisons wanted. For long runs from a corpus that already has them.
    #[arg(long)]
    no_trace_compares: bool,
}

/// How a target is built: with AddressSanitizer or not, with comparison tracing or not.
#[derive(Debug, Clone, Copy)]
struct Build {
    address_sanitizer: bool,
    trace_compares: bool,
}

impl Build {
    fn of(target: &str, trace_compares: bool) -> Build {
        Build {
            address_sanitizer: WITH_ADDRESS_SANITIZER.contains(&target),
            trace_compares,
        }
    }

    /// One target directory per kind of build, so that none rebuilds another.
    fn target_dir(self) -> String {
        let base = if self.address_sanitizer {
            "fuzz/target/address"
        } else {
            "fuzz/target/plain"
        };
        if self.trace_compares {
            base.to_string()
        } else {
            format!("{base}-no-trace-compares")
        }
    }
}

/// When a target's run stops, and when one input counts as hung.
#[derive(Debug, Clone, Copy)]
struct Limit {
    secs: Option<u64>,
    runs: Option<u64>,
    timeout: u64,
}

/// How often a run's progress is shown: libFuzzer's own status lines come with every input
/// it keeps, many a second early in a run.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// libFuzzer's -timeout unless `--timeout` says otherwise.
const DEFAULT_TIMEOUT_SECS: u64 = 10;

/// What one run reached, from libFuzzer's final statistics.
#[derive(Debug, Default)]
struct Figures {
    executions: u64,
    coverage: u64,
    features: u64,
    corpus: u64,
    seconds: f64,
}

/// Runs the chosen targets; fails on the first crash.
pub fn run(args: Args) -> Result<()> {
    let targets: Vec<&str> = match &args.target {
        Some(t) if TARGETS.contains(&t.as_str()) => vec![t.as_str()],
        Some(t) => bail!(
            "no fuzz target `{t}`; the targets are {}",
            TARGETS.join(", ")
        ),
        None => TARGETS.to_vec(),
    };
    let cargo_fuzz = ensure_tools()?;
    let limit = match (args.secs, args.runs) {
        (None, None) => Limit {
            secs: Some(DEFAULT_SECS),
            runs: None,
            timeout: args.timeout,
        },
        (secs, runs) => Limit {
            secs,
            runs,
            timeout: args.timeout,
        },
    };
    fuzz_targets(&cargo_fuzz, &targets, limit, !args.no_trace_compares)
}

/// The step of `cargo xtask test`: every target for [`CI_SECS`] seconds, or `SKIP: reason`
/// when nightly Rust or cargo-fuzz cannot be had.
pub fn ci_step() -> Result<()> {
    let cargo_fuzz = match ensure_tools() {
        Ok(path) => path,
        Err(e) => {
            println!("SKIP: fuzz targets not run: {e:#}");
            return Ok(());
        }
    };
    let limit = Limit {
        secs: Some(CI_SECS),
        runs: None,
        timeout: DEFAULT_TIMEOUT_SECS,
    };
    fuzz_targets(&cargo_fuzz, &TARGETS, limit, true)
}

fn fuzz_targets(
    cargo_fuzz: &Path,
    targets: &[&str],
    limit: Limit,
    trace_compares: bool,
) -> Result<()> {
    let guest = crate::guest::build()?;
    for target in targets {
        let build = Build::of(target, trace_compares);
        sh::run(&mut fuzz_command(
            cargo_fuzz, &guest, "build", target, build,
        ))?;
    }
    let mut rows = Vec::new();
    for target in targets {
        let build = Build::of(target, trace_compares);
        let figures = run_target(cargo_fuzz, &guest, target, build, limit)?;
        rows.push((*target, figures));
    }
    println!(
        "{:<12} {:>8} {:>14} {:>10} {:>7} {:>8} {:>8}",
        "target", "seconds", "executions", "exec/s", "cov", "ft", "corpus"
    );
    for (target, f) in rows {
        println!(
            "{:<12} {:>8.0} {:>14} {:>10.0} {:>7} {:>8} {:>8}",
            target,
            f.seconds,
            f.executions,
            f.executions as f64 / f.seconds.max(1.0),
            f.coverage,
            f.features,
            f.corpus
        );
    }
    Ok(())
}

/// `cargo-fuzz fuzz build|run … TARGET` on nightly, built as `build` says in its own target
/// directory, with the guest OS the VMM embeds already built (so the fuzz build does not
/// build it again under sanitizer flags).
fn fuzz_command(
    cargo_fuzz: &Path,
    guest: &Path,
    action: &str,
    target: &str,
    build: Build,
) -> Command {
    let sanitizer = if build.address_sanitizer {
        "address"
    } else {
        "none"
    };
    let mut cmd = Command::new(cargo_fuzz);
    cmd.args(["fuzz", action, "--sanitizer", sanitizer]);
    if !build.trace_compares {
        cmd.arg("--no-trace-compares");
    }
    cmd.arg("--target-dir")
        .arg(sh::workspace_root().join(build.target_dir()))
        .arg(target)
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .env("LABVISOR_GUEST_ELF", guest);
    cmd
}

fn run_target(
    cargo_fuzz: &Path,
    guest: &Path,
    target: &str,
    build: Build,
    limit: Limit,
) -> Result<Figures> {
    let corpus = Path::new("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .with_context(|| format!("cannot create {}", corpus.display()))?;
    let mut cmd = fuzz_command(cargo_fuzz, guest, "run", target, build);
    cmd.arg(&corpus)
        .args(["--", "-print_final_stats=1"])
        .arg(format!("-timeout={}", limit.timeout));
    if let Some(secs) = limit.secs {
        cmd.arg(format!("-max_total_time={secs}"));
    }
    if let Some(runs) = limit.runs {
        cmd.arg(format!("-runs={runs}"));
    }
    let dict = Path::new("fuzz/dict").join(format!("{target}.dict"));
    if dict.exists() {
        cmd.arg(format!("-dict={}", dict.display()));
    }
    eprintln!("$ {}", sh::describe(&cmd));
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start cargo-fuzz for {target}"))?;
    let stderr = child
        .stderr
        .take()
        .context("cargo-fuzz's stderr is not piped")?;
    let mut log = String::new();
    let mut last_status: Option<Instant> = None;
    for line in BufReader::new(stderr).split(b'\n') {
        let line = line.with_context(|| format!("cannot read {target}'s output"))?;
        let line = String::from_utf8_lossy(&line);
        // libFuzzer reports every input it keeps (`#N NEW …`): one status line a minute is
        // progress enough for a long run, and the table at the end has the final figures.
        let status = line.starts_with('#');
        let milestone = line.contains("INITED") || line.contains("DONE");
        if !status || milestone || last_status.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY) {
            eprintln!("{line}");
            if status {
                last_status = Some(Instant::now());
            }
        }
        log.push_str(&line);
        log.push('\n');
    }
    let exit = child
        .wait()
        .with_context(|| format!("cargo-fuzz for {target} vanished"))?;
    if !exit.success() {
        let artifact = log
            .lines()
            .find_map(|l| l.split("Test unit written to ").nth(1))
            .unwrap_or("(see the log above)");
        bail!(
            "fuzz target {target} failed ({exit}); the input is {artifact}. Fix it, then keep the input in fuzz/regressions/{target}/"
        );
    }
    let mut figures = parse_figures(&log);
    figures.seconds = started.elapsed().as_secs_f64();
    Ok(figures)
}

/// Reads libFuzzer's last status line (`#N DONE cov: C ft: F corp: K/…`) and its final
/// statistics (`stat::number_of_executed_units: N`).
fn parse_figures(log: &str) -> Figures {
    let mut f = Figures::default();
    let after = |line: &str, key: &str| -> Option<u64> {
        let rest = line.split(key).nth(1)?;
        let number: String = rest
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        number.parse().ok()
    };
    for line in log.lines() {
        if line.starts_with('#') {
            f.coverage = after(line, "cov:").unwrap_or(f.coverage);
            f.features = after(line, "ft:").unwrap_or(f.features);
            f.corpus = after(line, "corp:").unwrap_or(f.corpus);
        }
        if let Some(n) = after(line, "stat::number_of_executed_units:") {
            f.executions = n;
        }
    }
    f
}

/// Nightly Rust and cargo-fuzz, installed if missing; returns cargo-fuzz's path.
fn ensure_tools() -> Result<PathBuf> {
    let toolchains = sh::output(Command::new("rustup").args(["toolchain", "list"]))
        .context("rustup is needed to install nightly Rust")?;
    if !toolchains.lines().any(|l| l.starts_with("nightly")) {
        sh::run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))
        .context("cannot install nightly Rust")?;
    }
    let root = sh::workspace_root().join("target/tools/cargo-fuzz");
    let bin = root.join("bin/cargo-fuzz");
    if !bin.exists() {
        sh::run(
            sh::cargo()
                .args(["install", "--locked", "cargo-fuzz", "--root"])
                .arg(&root),
        )
        .context("cannot install cargo-fuzz")?;
    }
    Ok(bin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzers_final_figures() {
        let log = "#2\tINITED cov: 120 ft: 130 corp: 5/300b exec/s: 0 rss: 40Mb\n\
                   #5000\tDONE   cov: 812 ft: 2301 corp: 97/7345b lim: 4096 exec/s: 2500 rss: 60Mb\n\
                   Done 5000 runs in 2 second(s)\n\
                   stat::number_of_executed_units: 5000\n\
                   stat::average_exec_per_sec:     2500\n";
        let f = parse_figures(log);
        assert_eq!(
            (f.executions, f.coverage, f.features, f.corpus),
            (5000, 812, 2301, 97)
        );
    }
}
