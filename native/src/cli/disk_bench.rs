//! `labvisor disk bench`: what fixed and dynamic allocation cost a write, measured on the
//! learner's own disk (lesson 7), with the figures explained.

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use labvisor_core::disk::size::{ByteSize, MIB};
use labvisor_core::lang::Lang;

use super::output::{outln, print_json, Table};
use super::{CliError, Global};
use crate::disk::bench::{self, BenchRow, BenchSpec, Variant, Workload};

/// Options of `labvisor disk bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A directory on the disk to measure; the images are made in a new folder inside it and
    /// removed at the end. Default: the current directory.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// How large each test image is (each sequential pass writes all of it), e.g. 64M.
    #[arg(long, default_value = "64M", value_parser = parse_span)]
    size: ByteSize,
    /// Timed runs per variant; the best counts (more runs, steadier figures).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    runs: u32,
}

/// The smallest and largest image: at least a few 1 MiB blocks, at most what a learner's disk
/// can spare without noticing.
const SPAN_LIMITS: (u64, u64) = (4 * MIB, 4096 * MIB);

fn parse_span(s: &str) -> Result<ByteSize, String> {
    let size: ByteSize = s
        .parse()
        .map_err(|e: labvisor_core::size::SizeError| e.to_string())?;
    let (min, max) = SPAN_LIMITS;
    if size.bytes() < min || size.bytes() > max || size.bytes() % MIB != 0 {
        return Err(format!(
            "{s}: expected a whole number of MiB from {}M to {}M",
            min / MIB,
            max / MIB
        ));
    }
    Ok(size)
}

/// Runs the measurement and prints it.
pub fn run(a: BenchArgs, global: &Global) -> Result<(), CliError> {
    let dir = scratch_dir(&a.dir)?;
    let spec = BenchSpec {
        dir: dir.path.clone(),
        span: a.size.bytes(),
        runs: a.runs as usize,
        passes: 4,
    };
    let bar = if global.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(bench::steps(&spec)).with_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
                .map_err(|e| CliError::Runtime(e.to_string()))?
                .progress_chars("=> "),
        )
    };
    bar.set_message(match global.lang() {
        Lang::Ko => "쓰기 측정 중",
        _ => "measuring writes",
    });
    let rows = bench::run(&spec, &mut || bar.inc(1)).map_err(|e| CliError::Runtime(e.to_string()));
    bar.finish_and_clear();
    let rows = rows?;
    if global.json {
        return print_json(&rows);
    }
    print_rows(&rows, &spec, global.lang())
}

/// A fresh folder inside `parent`, removed when dropped.
struct ScratchDir {
    path: PathBuf,
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Empty by now (the measurement removes its images); a failure leaves only a folder.
        let _ = std::fs::remove_dir(&self.path);
    }
}

fn scratch_dir(parent: &std::path::Path) -> Result<ScratchDir, CliError> {
    let path = parent.join(format!(".labvisor-disk-bench-{}", std::process::id()));
    std::fs::create_dir(&path).map_err(|e| {
        CliError::Runtime(format!(
            "{}: cannot make the benchmark's folder in it (--dir): {}",
            parent.display(),
            crate::files::os_reason(&e)
        ))
    })?;
    Ok(ScratchDir { path })
}

fn variant_name(v: Variant, lang: Lang) -> &'static str {
    match (v, lang) {
        (Variant::RawPreallocated, Lang::Ko) => "raw, 미리 할당 (기준)",
        (Variant::VdiFixed, Lang::Ko) => "VDI 고정 크기",
        (Variant::VdiDynamicRewrite, Lang::Ko) => "VDI 동적, 다시 쓰기",
        (Variant::VdiDynamicFirstWrite, Lang::Ko) => "VDI 동적, 처음 쓰기",
        (Variant::RawSparseFirstWrite, Lang::Ko) => "raw 희소 파일, 처음 쓰기",
        (Variant::RawPreallocated, _) => "raw, preallocated (baseline)",
        (Variant::VdiFixed, _) => "VDI fixed",
        (Variant::VdiDynamicRewrite, _) => "VDI dynamic, rewrite",
        (Variant::VdiDynamicFirstWrite, _) => "VDI dynamic, first write",
        (Variant::RawSparseFirstWrite, _) => "raw sparse, first write",
    }
}

fn workload_name(w: Workload, lang: Lang) -> &'static str {
    match (w, lang) {
        (Workload::Sequential1M, Lang::Ko) => "1 MiB 순차",
        (Workload::Random4K, Lang::Ko) => "4 KiB 무작위",
        (Workload::Sequential1M, _) => "1 MiB sequential",
        (Workload::Random4K, _) => "4 KiB random",
    }
}

fn print_rows(rows: &[BenchRow], spec: &BenchSpec, lang: Lang) -> Result<(), CliError> {
    let ko = lang == Lang::Ko;
    let mut t = Table::new();
    t.row(
        if ko {
            [
                "작업",
                "이미지",
                "MiB/s (CPU)",
                "raw 대비",
                "MiB/s (벽시계)",
                "호스트 증가",
            ]
        } else {
            [
                "WORKLOAD",
                "IMAGE",
                "MiB/s (CPU)",
                "VS RAW",
                "MiB/s (WALL)",
                "HOST GROWTH",
            ]
        }
        .map(String::from),
    );
    for r in rows {
        t.row([
            workload_name(r.workload, lang).to_string(),
            variant_name(r.variant, lang).to_string(),
            format!("{:.0}", r.mib_per_s_cpu),
            format!("{:.0}%", 100.0 * r.vs_raw_cpu),
            format!("{:.0}", r.mib_per_s_wall),
            if r.host_growth > 0 {
                format!("{} MiB", r.host_growth / MIB)
            } else {
                "-".into()
            },
        ]);
    }
    outln!("{}", t.render())?;
    for workload in Workload::ALL {
        let share = |v: Variant| {
            rows.iter()
                .find(|r| r.workload == workload && r.variant == v)
                .map_or(0.0, |r| 100.0 * r.vs_raw_cpu)
        };
        let (fixed, rewrite, first) = (
            share(Variant::VdiFixed),
            share(Variant::VdiDynamicRewrite),
            share(Variant::VdiDynamicFirstWrite),
        );
        let name = workload_name(workload, lang);
        if ko {
            outln!("{name}: raw를 100으로 보면 고정 크기 {fixed:.0}, 동적 다시 쓰기 {rewrite:.0}, 동적 처음 쓰기 {first:.0}.")?;
        } else {
            outln!("{name}: with raw at 100, fixed ran at {fixed:.0}, dynamic rewrite at {rewrite:.0}, dynamic first write at {first:.0}.")?;
        }
    }
    let span = spec.span / MIB;
    let runs = spec.runs;
    let text = if ko {
        format!("\n{span} MiB 이미지, 변형마다 {runs}번 중 가장 좋은 값이며, 호스트의 페이지 캐시에 쓰는 시간만 잽니다(그다음 fdatasync는 재지 않음). 동적 이미지는 블록에 처음 쓸 때 1 MiB 블록의 나머지와 헤더의 블록 수, 블록 맵 항목까지 함께 씁니다. 그래서 차이는 주로 처음 쓰기에서 나고, 이미 할당된 블록을 다시 쓸 때는 고정 크기와 비슷해야 합니다. 벽시계 값은 다른 프로그램이 CPU를 쓰면 흔들리므로 비교는 CPU 시간으로 하고, 값이 튀면 --runs를 늘려 보세요.")
    } else {
        format!("\n{span} MiB images, best of {runs} runs per variant; only the writes into the host's page cache are timed (the fdatasync after them is not). A dynamic image writing a block for the first time also writes the rest of the 1 MiB block, the header's block count and the block-map entry: that is where the difference should show, while rewriting an allocated block should cost about what a fixed image does. Wall-clock figures move when other programs use the CPU, so compare the CPU-time ones, and raise --runs if they jump.")
    };
    outln!("{text}")?;
    Ok(())
}
