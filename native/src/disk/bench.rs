//! What each allocation costs a write: raw, fixed VDI and dynamic VDI (its first write into a
//! block and its rewrite), measured on the learner's own disk through the same
//! `Image<FileStorage>` code `labvisor disk write` and the VM's virtio-blk device use.
//!
//! The timed part is the writes into the host's page cache: that is where the formats differ
//! (a dynamic image's first write into a block also writes the rest of its 1 MiB block, the
//! header's count and the block-map entry). Each timed run is followed by an untimed
//! `fdatasync`, so no variant inherits another's dirty pages, and each figure is the best of
//! several runs, the estimate least disturbed by other load. Two clocks are kept: wall time,
//! and this thread's CPU time, which on a shared machine leaves out the time other processes
//! held the CPU; the ratios against raw are judged on CPU time.
//!
//! `cargo xtask bench-disk` runs the same measurement in a release build with the developers'
//! settings (64 MiB, eight passes, five runs).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use labvisor_core::disk::image::{Allocation, CreateSpec, Format, Image, ImageError};
use labvisor_core::disk::size::MIB;
use labvisor_core::disk::storage::Storage;
use labvisor_core::disk::vdi::Uuid;
use serde::Serialize;

use super::{DiskError, FileStorage};

/// How much to measure.
#[derive(Debug, Clone)]
pub struct BenchSpec {
    /// Where the images are made (they are removed afterwards).
    pub dir: PathBuf,
    /// Bytes each image holds and each sequential pass writes.
    pub span: u64,
    /// Timed runs per variant; the best one counts.
    pub runs: usize,
    /// Passes over the span in one timed run of the steady-state variants, so that a run
    /// lasts long enough to time.
    pub passes: u64,
}

impl BenchSpec {
    /// 4 KiB random writes per pass: one for every 8 KiB of the span.
    fn random_writes(&self) -> u64 {
        self.span / 8192
    }
}

/// A write pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// 1 MiB writes from the start of the disk to its end.
    Sequential1M,
    /// 4 KiB writes at pseudo-random 4 KiB-aligned offsets (the same in every run).
    Random4K,
}

impl Workload {
    /// Both, in the order they are reported.
    pub const ALL: [Workload; 2] = [Workload::Sequential1M, Workload::Random4K];

    /// Bytes one pass writes.
    fn bytes(self, spec: &BenchSpec) -> u64 {
        match self {
            Workload::Sequential1M => spec.span,
            Workload::Random4K => spec.random_writes() * 4096,
        }
    }

    /// Runs `passes` passes and times the writes; then flushes, untimed.
    fn run(
        self,
        spec: &BenchSpec,
        image: &mut Image<FileStorage>,
        path: &Path,
        passes: u64,
    ) -> Result<Timing, DiskError> {
        let failed = |source| DiskError::Image {
            path: path.to_path_buf(),
            source,
        };
        let start = Instant::now();
        let cpu_start = thread_cpu_time();
        match self {
            Workload::Sequential1M => {
                let buf = vec![0x5Au8; MIB as usize];
                for _ in 0..passes {
                    for i in 0..spec.span / MIB {
                        image.write(i * MIB, &buf).map_err(failed)?;
                    }
                }
            }
            Workload::Random4K => {
                let buf = vec![0xA5u8; 4096];
                // xorshift64: the same offsets in every run and variant.
                let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
                for _ in 0..spec.random_writes() * passes {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let offset = (x % (spec.span / 4096)) * 4096;
                    image.write(offset, &buf).map_err(failed)?;
                }
            }
        }
        let timing = Timing {
            wall: start.elapsed(),
            cpu: thread_cpu_time().saturating_sub(cpu_start),
        };
        image
            .storage_mut()
            .flush()
            .map_err(|e| failed(ImageError::from(e)))?;
        Ok(timing)
    }
}

/// What is being measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// A raw file whose space was allocated and written before: the baseline.
    RawPreallocated,
    /// A fixed VDI: data blocks allocated at creation.
    VdiFixed,
    /// A dynamic VDI, rewriting blocks it has already allocated.
    VdiDynamicRewrite,
    /// A dynamic VDI, writing each block for the first time (it grows).
    VdiDynamicFirstWrite,
    /// A sparse raw file, written for the first time (the host's file system allocates).
    RawSparseFirstWrite,
}

impl Variant {
    /// In the order they are reported.
    pub const ALL: [Variant; 5] = [
        Variant::RawPreallocated,
        Variant::VdiFixed,
        Variant::VdiDynamicRewrite,
        Variant::VdiDynamicFirstWrite,
        Variant::RawSparseFirstWrite,
    ];

    /// Whether a timed run writes the span once (first writes) or `passes` times.
    fn is_first_write(self) -> bool {
        matches!(
            self,
            Variant::VdiDynamicFirstWrite | Variant::RawSparseFirstWrite
        )
    }
}

/// One measured row.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// The write pattern.
    pub workload: Workload,
    /// The image kind.
    pub variant: Variant,
    /// MiB/s of guest data per second of this thread's CPU time.
    pub mib_per_s_cpu: f64,
    /// MiB/s of guest data per second of wall time.
    pub mib_per_s_wall: f64,
    /// `mib_per_s_cpu` as a share of the raw baseline's (1.0 = as fast as raw).
    pub vs_raw_cpu: f64,
    /// How much the file grew on the host during one first-write pass (dynamic only).
    pub host_growth: u64,
}

#[derive(Clone, Copy, Default)]
struct Timing {
    wall: Duration,
    cpu: Duration,
}

/// CPU time this thread has used, to the nanosecond (`CLOCK_THREAD_CPUTIME_ID`, which, unlike
/// `/proc/thread-self/schedstat`, counts the time since the last scheduler tick too).
fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// The images of one workload's measurement, removed when dropped (also on an error).
struct Files {
    paths: [PathBuf; 4],
}

impl Files {
    fn new(dir: &Path) -> Files {
        Files {
            paths: ["raw-prealloc.img", "fixed.vdi", "dynamic.vdi", "sparse.img"]
                .map(|n| dir.join(n)),
        }
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        for p in &self.paths {
            // Missing already is fine: the first-write images only exist during their runs.
            let _ = std::fs::remove_file(p);
        }
    }
}

fn create(
    spec: &BenchSpec,
    path: &Path,
    format: Format,
    allocation: Allocation,
) -> Result<Image<FileStorage>, DiskError> {
    let storage = FileStorage::create_new(path).map_err(|source| DiskError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let create_spec = CreateSpec {
        format,
        allocation,
        virtual_size: spec.span,
        uuid: Uuid::from_random_bytes([7; 16]),
        modification_uuid: Uuid::from_random_bytes([8; 16]),
    };
    let mut image =
        Image::create(storage, create_spec, &mut |_, _| {}).map_err(|source| DiskError::Image {
            path: path.to_path_buf(),
            source,
        })?;
    image.storage_mut().flush().map_err(|e| DiskError::Image {
        path: path.to_path_buf(),
        source: ImageError::from(e),
    })?;
    Ok(image)
}

/// A preallocated image whose space has been written once, so no variant pays for
/// converting unwritten extents during the measurement.
fn warmed(spec: &BenchSpec, path: &Path, format: Format) -> Result<Image<FileStorage>, DiskError> {
    let mut image = create(spec, path, format, Allocation::Fixed)?;
    Workload::Sequential1M.run(spec, &mut image, path, 1)?;
    Ok(image)
}

/// A fresh image for a first-write run, and its size on the host before the run.
fn fresh(
    spec: &BenchSpec,
    path: &Path,
    format: Format,
) -> Result<(Image<FileStorage>, u64), DiskError> {
    let _ = std::fs::remove_file(path);
    let image = create(spec, path, format, Allocation::Dynamic)?;
    let before = image.host_bytes().unwrap_or(0);
    Ok((image, before))
}

/// Timed runs of one workload, per variant in [`Variant::ALL`] order, and how much the dynamic
/// VDI and the sparse raw file grew in their first-write runs.
fn measure(
    spec: &BenchSpec,
    workload: Workload,
    tick: &mut dyn FnMut(),
) -> Result<([Vec<Timing>; 5], [u64; 2]), DiskError> {
    let files = Files::new(&spec.dir);
    let [raw_path, fixed_path, dyn_path, sparse_path] = &files.paths;
    let mut raw = warmed(spec, raw_path, Format::Raw)?;
    let mut fixed = warmed(spec, fixed_path, Format::Vdi)?;
    let mut times: [Vec<Timing>; 5] = Default::default();
    let mut growth = [0; 2];
    for run in 0..spec.runs {
        // Rotate the order so that no variant always runs first, or right after another.
        for step in 0..STEPS_PER_RUN {
            match (step + run) % STEPS_PER_RUN {
                0 => times[0].push(workload.run(spec, &mut raw, raw_path, spec.passes)?),
                1 => times[1].push(workload.run(spec, &mut fixed, fixed_path, spec.passes)?),
                2 => {
                    let (mut dynamic, before) = fresh(spec, dyn_path, Format::Vdi)?;
                    times[3].push(workload.run(spec, &mut dynamic, dyn_path, 1)?);
                    growth[0] = dynamic.host_bytes().unwrap_or(0).saturating_sub(before);
                    times[2].push(workload.run(spec, &mut dynamic, dyn_path, spec.passes)?);
                }
                _ => {
                    let (mut sparse, before) = fresh(spec, sparse_path, Format::Raw)?;
                    times[4].push(workload.run(spec, &mut sparse, sparse_path, 1)?);
                    growth[1] = sparse.host_bytes().unwrap_or(0).saturating_sub(before);
                }
            }
            tick();
        }
    }
    Ok((times, growth))
}

fn best(times: &[Timing]) -> Timing {
    Timing {
        wall: times.iter().map(|t| t.wall).min().unwrap_or_default(),
        cpu: times.iter().map(|t| t.cpu).min().unwrap_or_default(),
    }
}

fn mib_per_s(bytes: u64, time: Duration) -> f64 {
    if time.is_zero() {
        return 0.0;
    }
    bytes as f64 / MIB as f64 / time.as_secs_f64()
}

/// Timed steps in one run of a workload: raw, fixed, dynamic (first write then rewrite), sparse.
const STEPS_PER_RUN: usize = 4;

/// How many times [`run`] calls its `tick`: one per step and run, per workload.
pub fn steps(spec: &BenchSpec) -> u64 {
    (Workload::ALL.len() * STEPS_PER_RUN * spec.runs) as u64
}

/// Measures every workload on every variant in `spec.dir`, calling `tick` after each timed
/// step ([`steps`] in all) so a caller can show progress. The images are removed afterwards,
/// also when a write fails.
pub fn run(spec: &BenchSpec, tick: &mut dyn FnMut()) -> Result<Vec<BenchRow>, DiskError> {
    let mut rows = Vec::new();
    for workload in Workload::ALL {
        let (times, growth) = measure(spec, workload, tick)?;
        let bytes = |variant: Variant| {
            let passes = if variant.is_first_write() {
                1
            } else {
                spec.passes
            };
            workload.bytes(spec) * passes
        };
        let raw_cpu = mib_per_s(bytes(Variant::RawPreallocated), best(&times[0]).cpu);
        for (variant, time) in Variant::ALL.into_iter().zip(&times) {
            let time = best(time);
            let cpu = mib_per_s(bytes(variant), time.cpu);
            rows.push(BenchRow {
                workload,
                variant,
                mib_per_s_cpu: cpu,
                mib_per_s_wall: mib_per_s(bytes(variant), time.wall),
                vs_raw_cpu: if raw_cpu > 0.0 { cpu / raw_cpu } else { 0.0 },
                host_growth: match variant {
                    Variant::VdiDynamicFirstWrite => growth[0],
                    Variant::RawSparseFirstWrite => growth[1],
                    _ => 0,
                },
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_measures_every_row_and_leaves_no_file_behind() {
        let dir = std::env::temp_dir().join(format!("labvisor-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = BenchSpec {
            dir: dir.clone(),
            span: 4 * MIB,
            runs: 1,
            passes: 1,
        };
        let mut ticks = 0;
        let rows = run(&spec, &mut || ticks += 1).unwrap();
        assert_eq!(ticks, steps(&spec));
        assert_eq!(rows.len(), Workload::ALL.len() * Variant::ALL.len());
        let first = |w| {
            rows.iter()
                .find(|r| r.workload == w && r.variant == Variant::VdiDynamicFirstWrite)
                .unwrap()
                .host_growth
        };
        // Sequential first writes touch every 1 MiB block of the 4 MiB disk.
        assert_eq!(first(Workload::Sequential1M), 4 * MIB);
        assert!(first(Workload::Random4K) > 0);
        assert!(rows.iter().all(|r| r.mib_per_s_wall > 0.0));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir(&dir).unwrap();
    }
}
