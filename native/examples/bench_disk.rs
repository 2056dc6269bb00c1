//! Disk-format write benchmark, run by `cargo xtask bench-disk` (release build): the
//! measurement `labvisor disk bench` makes ([`labvisor::disk::bench`]), at the developers'
//! settings, with the targets the disk engine is held to.

use std::path::PathBuf;
use std::process::ExitCode;

use labvisor::disk::bench::{self, BenchSpec, Variant, Workload};
use labvisor_core::disk::size::MIB;

fn main() -> ExitCode {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench-disk"));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("bench-disk: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let spec = BenchSpec {
        dir,
        span: 64 * MIB,
        runs: 5,
        passes: 8,
    };
    println!(
        "labvisor disk write benchmark: {} MiB span, best of {} runs, page-cache writes timed (fdatasync after, untimed), files in {}",
        spec.span / MIB,
        spec.runs,
        spec.dir.display()
    );
    let rows = match bench::run(&spec, &mut || {}) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("bench-disk: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!();
    println!(
        "{:<18} {:<29} {:>10} {:>7} {:>10} {:>12}",
        "workload", "variant", "MB/s cpu", "vs raw", "MB/s wall", "host growth"
    );
    for row in &rows {
        let growth = if row.host_growth > 0 {
            format!("{} MiB", row.host_growth / MIB)
        } else {
            "-".to_string()
        };
        println!(
            "{:<18} {:<29} {:>10.0} {:>6.0}% {:>10.0} {:>12}",
            format!("{:?}", row.workload),
            format!("{:?}", row.variant),
            row.mib_per_s_cpu,
            100.0 * row.vs_raw_cpu,
            row.mib_per_s_wall,
            growth
        );
    }
    println!();
    println!(
        "Guest data per timed run: {} passes over the span (first writes: one pass). A dynamic VDI's first write",
        spec.passes
    );
    println!("into a block writes the whole 1 MiB block (zeros around the data), then the header");
    println!("count and the block-map entry: that is the cost of growing on demand.");
    println!();
    for row in rows
        .iter()
        .filter(|r| matches!(r.variant, Variant::VdiFixed | Variant::VdiDynamicRewrite))
    {
        let verdict = if row.vs_raw_cpu >= 0.9 {
            "meets"
        } else {
            "MISSES"
        };
        let workload = match row.workload {
            Workload::Sequential1M => "1 MiB sequential",
            Workload::Random4K => "4 KiB random",
        };
        println!(
            "target >= 90% of raw (CPU time): {:?}, {workload}: {:.0}% ({verdict})",
            row.variant,
            row.vs_raw_cpu * 100.0
        );
    }
    ExitCode::SUCCESS
}
