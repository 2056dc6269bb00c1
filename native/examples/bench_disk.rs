//! Disk-format write benchmark, run by `cargo xtask bench-disk` (release build).
//!
//! 1 MiB sequential and 4 KiB random writes into a preallocated raw file (the baseline), a
//! fixed VDI, a dynamic VDI (first write, then rewrite of the now-allocated blocks) and a
//! sparse raw file (first write), all through the same `Image<FileStorage>` code the CLI
//! uses. The timed part is the writes into the host's page cache: that is where the formats
//! differ (extra writes, allocation, read-modify-write of partly covered pages). Each run is
//! followed by an untimed `fdatasync`, so no variant inherits another's dirty pages, and each
//! figure is the best of several runs, the estimate least disturbed by other load.
//!
//! Two clocks: wall time, and this thread's CPU time (from `/proc/thread-self/schedstat`).
//! Page-cache writes are CPU-bound, and on a shared machine the wall clock also counts the time
//! other processes held the CPU; the CPU-time figure is the format's own cost, so the ratios
//! against raw are judged on it. Both are printed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use labvisor::disk::FileStorage;
use labvisor_core::disk::image::{Allocation, CreateSpec, Format, Image};
use labvisor_core::disk::size::MIB;
use labvisor_core::disk::storage::Storage;
use labvisor_core::disk::vdi::Uuid;

const SPAN: u64 = 64 * MIB;
const RANDOM_WRITES: u64 = 8 * 1024;
const RUNS: usize = 5;
/// Passes over the span per timed run of the steady-state variants, so a run lasts long enough
/// to time (one 64 MiB pass takes only a few milliseconds).
const PASSES: u64 = 8;

#[derive(Clone, Copy)]
enum Workload {
    Sequential1M,
    Random4K,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Sequential1M => "1 MiB sequential",
            Workload::Random4K => "4 KiB random",
        }
    }

    fn bytes(self) -> u64 {
        match self {
            Workload::Sequential1M => SPAN,
            Workload::Random4K => RANDOM_WRITES * 4096,
        }
    }

    /// Runs the workload and returns the time of the writes; then flushes, untimed.
    fn run(self, image: &mut Image<FileStorage>, passes: u64) -> Timing {
        let start = Instant::now();
        let cpu_start = thread_cpu_time();
        match self {
            Workload::Sequential1M => {
                let buf = vec![0x5Au8; MIB as usize];
                for _ in 0..passes {
                    for i in 0..SPAN / MIB {
                        image.write(i * MIB, &buf).expect("sequential write");
                    }
                }
            }
            Workload::Random4K => {
                let buf = vec![0xA5u8; 4096];
                // xorshift64: the same offsets in every run and variant.
                let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
                for _ in 0..RANDOM_WRITES * passes {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let offset = (x % (SPAN / 4096)) * 4096;
                    image.write(offset, &buf).expect("random write");
                }
            }
        }
        let timing = Timing {
            wall: start.elapsed(),
            cpu: thread_cpu_time().saturating_sub(cpu_start),
        };
        image.storage_mut().flush().expect("flush");
        timing
    }
}

#[derive(Clone, Copy, Default)]
struct Timing {
    wall: Duration,
    cpu: Duration,
}

/// CPU time this thread has used (nanoseconds, first field of schedstat).
fn thread_cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn create(path: &Path, format: Format, allocation: Allocation) -> Image<FileStorage> {
    let _ = std::fs::remove_file(path);
    let storage = FileStorage::create_new(path).expect("create bench file");
    let spec = CreateSpec {
        format,
        allocation,
        virtual_size: SPAN,
        uuid: Uuid::from_random_bytes([7; 16]),
        modification_uuid: Uuid::from_random_bytes([8; 16]),
    };
    let mut image = Image::create(storage, spec, &mut |_, _| {}).expect("create image");
    image.storage_mut().flush().expect("flush");
    image
}

/// A preallocated image whose space has been written once, so no variant pays for
/// converting unwritten extents during the measurement.
fn warmed(path: &Path, format: Format) -> Image<FileStorage> {
    let mut image = create(path, format, Allocation::Fixed);
    Workload::Sequential1M.run(&mut image, 1);
    image
}

fn best(times: Vec<Timing>) -> Timing {
    Timing {
        wall: times.iter().map(|t| t.wall).min().unwrap_or_default(),
        cpu: times.iter().map(|t| t.cpu).min().unwrap_or_default(),
    }
}

fn mb_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / MIB as f64 / time.as_secs_f64().max(1e-9)
}

struct Row {
    variant: &'static str,
    time: Timing,
    /// Passes over the span in one timed run.
    passes: u64,
    host_growth: u64,
}

fn measure(dir: &Path, workload: Workload) -> Vec<Row> {
    let raw_path = dir.join("raw-prealloc.img");
    let fixed_path = dir.join("fixed.vdi");
    let dyn_path = dir.join("dynamic.vdi");
    let sparse_path = dir.join("sparse.img");
    let mut fixed = warmed(&fixed_path, Format::Vdi);
    let mut raw = warmed(&raw_path, Format::Raw);
    // Index: 0 raw, 1 fixed, 2 dynamic rewrite, 3 dynamic first write, 4 sparse first write.
    let mut times: [Vec<Timing>; 5] = Default::default();
    let (mut dyn_growth, mut sparse_growth) = (0, 0);
    for run in 0..RUNS {
        // Rotate the order so no variant always runs first (or right after another).
        for step in 0..4 {
            match (step + run) % 4 {
                0 => times[0].push(workload.run(&mut raw, PASSES)),
                1 => times[1].push(workload.run(&mut fixed, PASSES)),
                2 => {
                    let mut dynamic = create(&dyn_path, Format::Vdi, Allocation::Dynamic);
                    let before = dynamic.host_bytes().unwrap_or(0);
                    times[3].push(workload.run(&mut dynamic, 1));
                    dyn_growth = dynamic.host_bytes().unwrap_or(0) - before;
                    times[2].push(workload.run(&mut dynamic, PASSES));
                }
                _ => {
                    let mut sparse = create(&sparse_path, Format::Raw, Allocation::Dynamic);
                    times[4].push(workload.run(&mut sparse, 1));
                    sparse_growth = sparse.host_bytes().unwrap_or(0);
                }
            }
        }
    }
    for p in [&raw_path, &fixed_path, &dyn_path, &sparse_path] {
        let _ = std::fs::remove_file(p);
    }
    let [t_raw, t_fixed, t_rewrite, t_first, t_sparse] = times;
    vec![
        Row {
            variant: "raw, preallocated (baseline)",
            time: best(t_raw),
            passes: PASSES,
            host_growth: 0,
        },
        Row {
            variant: "VDI fixed",
            time: best(t_fixed),
            passes: PASSES,
            host_growth: 0,
        },
        Row {
            variant: "VDI dynamic, rewrite",
            time: best(t_rewrite),
            passes: PASSES,
            host_growth: 0,
        },
        Row {
            variant: "VDI dynamic, first write",
            time: best(t_first),
            passes: 1,
            host_growth: dyn_growth,
        },
        Row {
            variant: "raw sparse, first write",
            time: best(t_sparse),
            passes: 1,
            host_growth: sparse_growth,
        },
    ]
}

fn main() {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench-disk"));
    std::fs::create_dir_all(&dir).expect("create bench directory");
    println!(
        "labvisor disk write benchmark: {} MiB span, best of {} runs, page-cache writes timed (fdatasync after, untimed), files in {}",
        SPAN / MIB,
        RUNS,
        dir.display()
    );
    println!();
    println!(
        "{:<18} {:<29} {:>10} {:>7} {:>10} {:>7} {:>12}",
        "workload", "variant", "MB/s cpu", "vs raw", "MB/s wall", "vs raw", "host growth"
    );
    let mut verdicts = Vec::new();
    for workload in [Workload::Sequential1M, Workload::Random4K] {
        let rows = measure(&dir, workload);
        let raw_bytes = workload.bytes() * rows[0].passes;
        let raw_cpu = mb_per_s(raw_bytes, rows[0].time.cpu);
        let raw_wall = mb_per_s(raw_bytes, rows[0].time.wall);
        for (i, row) in rows.iter().enumerate() {
            let cpu = mb_per_s(workload.bytes() * row.passes, row.time.cpu);
            let wall = mb_per_s(workload.bytes() * row.passes, row.time.wall);
            let growth = if row.host_growth > 0 {
                format!("{} MiB", row.host_growth / MIB)
            } else {
                "-".to_string()
            };
            println!(
                "{:<18} {:<29} {:>10.0} {:>6.0}% {:>10.0} {:>6.0}% {:>12}",
                if i == 0 { workload.name() } else { "" },
                row.variant,
                cpu,
                100.0 * cpu / raw_cpu,
                wall,
                100.0 * wall / raw_wall,
                growth
            );
            if row.variant == "VDI fixed" || row.variant == "VDI dynamic, rewrite" {
                verdicts.push((workload.name(), row.variant, cpu / raw_cpu));
            }
        }
        println!();
    }
    println!(
        "Guest data per timed run: {PASSES} passes of sequential {} MiB or random {} MiB (first writes: one pass). A dynamic VDI's first write",
        SPAN / MIB,
        RANDOM_WRITES * 4096 / MIB
    );
    println!("into a block writes the whole 1 MiB block (zeros around the data), then the header");
    println!("count and the block-map entry: that is the cost of growing on demand.");
    println!();
    for (workload, variant, ratio) in verdicts {
        let target = if ratio >= 0.9 { "meets" } else { "MISSES" };
        println!(
            "target >= 90% of raw (CPU time): {variant}, {workload}: {:.0}% ({target})",
            ratio * 100.0
        );
    }
}
