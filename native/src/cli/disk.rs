//! `labvisor disk`: create, inspect and change real VDI and raw images the way a guest would,
//! and watch what happens on the host.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use labvisor_core::disk::image::{
    block_picture, Allocation, CreateSpec, Format, Image, ImageInfo, ImageKind,
};
use labvisor_core::disk::pool::{try_plan, Plan};
use labvisor_core::disk::size::{ByteSize, MIB};
use labvisor_core::disk::storage::Storage;
use labvisor_core::lang::Lang;
use serde::Serialize;

use super::output::{out, outln, print_json, Table};
use super::{CliError, CliResult, Global};
use crate::disk::{self, backup, DiskChain, DiskError, FileStorage};

/// Virtual disks: dynamic vs fixed, growth, compaction, snapshots and backups, on real files.
///
/// Images are VirtualBox VDI 1.1 or raw files that VirtualBox and qemu-img open. `write` and
/// `delete` act as the guest would; `info` shows what that did to the file on the host.
#[derive(Debug, Args)]
pub struct DiskArgs {
    #[command(subcommand)]
    command: DiskCommand,
}

#[derive(Debug, Subcommand)]
enum DiskCommand {
    /// Create a new image (never overwrites an existing file).
    Create(CreateArgs),
    /// Show format, sizes, host bytes and a picture of the block map.
    Info(FileArg),
    /// Write as the guest would: dynamic images grow 1 MiB block by block.
    Write(WriteArgs),
    /// Delete a file in the guest: its file system frees the range, the image does not shrink.
    Delete(RangeArgs),
    /// Discard (TRIM) a range as the guest's fstrim does: whole blocks go back to the host at once.
    ///
    /// VirtualBox passes a guest's TRIM to the image only for disks attached with `--discard on`.
    Trim(RangeArgs),
    /// Drop blocks that are entirely zero and shrink the file (VBoxManage modifymedium --compact).
    Compact(FileArg),
    /// Take a snapshot: later writes go to a new differencing image.
    Snapshot(SnapshotArgs),
    /// Throw away every change since the newest snapshot (the snapshot stays).
    Revert(FileArg),
    /// Delete the newest snapshot, keeping the current state (merges it into its parent).
    Merge(FileArg),
    /// Copy the image and all its snapshots into a directory on another disk, verified.
    Backup(BackupArgs),
    /// Will these VM disks fit on this host disk? Shows overcommit and what happens when full.
    ///
    /// Exits with status 1 when the disks cannot even be created (fixed disks larger than the
    /// host disk), as `host plan` does when VMs do not fit.
    Plan(PlanArgs),
    /// Measure what fixed and dynamic allocation cost a write, on this machine's disk: raw,
    /// fixed VDI, dynamic VDI rewriting its blocks and writing them for the first time.
    Bench(super::disk_bench::BenchArgs),
}

#[derive(Debug, Args)]
struct FileArg {
    /// The image file.
    file: PathBuf,
    /// The format (default: detected from the file's header or name).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Open with --format even where the file's header says otherwise (a raw disk whose first
    /// bytes look like a VDI header).
    #[arg(long, requires = "format")]
    force_format: bool,
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// The image file to create.
    file: PathBuf,
    /// Size the guest sees, e.g. 128G, 512M (binary units, as VirtualBox counts: 1G = 1024 MiB;
    /// 128GB is decimal, 128 × 10^9 bytes, as drives are sold).
    #[arg(long, value_parser = parse_size)]
    size: ByteSize,
    /// dynamic: grows as the guest writes; fixed: takes the whole size now, so writes never pay for allocation.
    #[arg(long, value_enum, default_value = "dynamic")]
    alloc: AllocArg,
    /// vdi (VirtualBox) or raw (default: raw for .raw and .img names, vdi otherwise).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
}

#[derive(Debug, Args)]
struct WriteArgs {
    #[command(flatten)]
    range: RangeArgs,
    /// data: a non-zero test pattern; zero: zeros (what zerofree or `dd if=/dev/zero` writes).
    #[arg(long, value_enum, default_value = "data")]
    pattern: PatternArg,
}

#[derive(Debug, Args)]
struct RangeArgs {
    /// The image file.
    file: PathBuf,
    /// Guest offset, e.g. 10M.
    #[arg(long, value_parser = parse_size)]
    at: ByteSize,
    /// Length, e.g. 64M.
    #[arg(long, value_parser = parse_size)]
    len: ByteSize,
    /// The format (default: detected).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Open with --format even where the file's header says otherwise (a raw disk whose first
    /// bytes look like a VDI header).
    #[arg(long, requires = "format")]
    force_format: bool,
}

#[derive(Debug, Args)]
struct SnapshotArgs {
    /// The image file.
    file: PathBuf,
    /// A name for the snapshot (kept in the differencing image's description).
    #[arg(long, default_value = "snapshot")]
    name: String,
}

#[derive(Debug, Args)]
struct BackupArgs {
    /// The image to back up (its snapshots come along).
    src: PathBuf,
    /// An existing directory, on another disk.
    dest_dir: PathBuf,
    /// Allow a destination on the same device (a practice copy, not a real backup).
    #[arg(long)]
    allow_same_device: bool,
}

#[derive(Debug, Args)]
struct PlanArgs {
    /// Capacity of the host disk, e.g. 256G.
    #[arg(long, value_parser = parse_size)]
    host_disk: ByteSize,
    /// A VM disk as SIZE:dynamic or SIZE:fixed, e.g. 128G:dynamic (repeatable).
    #[arg(long = "vm", value_parser = parse_vm, required = true)]
    vms: Vec<(ByteSize, Allocation)>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Vdi,
    Raw,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AllocArg {
    Dynamic,
    Fixed,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PatternArg {
    Data,
    Zero,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Vdi => Format::Vdi,
            FormatArg::Raw => Format::Raw,
        }
    }
}

impl From<AllocArg> for Allocation {
    fn from(a: AllocArg) -> Allocation {
        match a {
            AllocArg::Dynamic => Allocation::Dynamic,
            AllocArg::Fixed => Allocation::Fixed,
        }
    }
}

fn parse_size(s: &str) -> Result<ByteSize, String> {
    s.parse::<ByteSize>().map_err(|e| e.to_string())
}

fn parse_vm(s: &str) -> Result<(ByteSize, Allocation), String> {
    let (size, alloc) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}`: expected SIZE:dynamic or SIZE:fixed, e.g. 128G:dynamic"))?;
    let size = parse_size(size)?;
    let alloc = match alloc.to_ascii_lowercase().as_str() {
        "dynamic" => Allocation::Dynamic,
        "fixed" => Allocation::Fixed,
        other => {
            return Err(format!(
                "`{other}` in `{s}`: the allocation is `dynamic` or `fixed`"
            ))
        }
    };
    Ok((size, alloc))
}

fn disk_err(e: DiskError) -> CliError {
    if e.is_usage() {
        CliError::Usage(e.to_string())
    } else {
        CliError::Runtime(e.to_string())
    }
}

/// Runs `labvisor disk …`.
pub fn run(args: DiskArgs, global: &Global) -> CliResult {
    match args.command {
        DiskCommand::Create(a) => create(a, global),
        DiskCommand::Info(a) => info(a, global),
        DiskCommand::Write(a) => write(a, global),
        DiskCommand::Delete(a) => delete(a, global),
        DiskCommand::Trim(a) => trim(a, global),
        DiskCommand::Compact(a) => compact(a, global),
        DiskCommand::Snapshot(a) => snapshot(a, global),
        DiskCommand::Revert(a) => revert(a, global),
        DiskCommand::Merge(a) => merge(a, global),
        DiskCommand::Backup(a) => backup_cmd(a, global),
        DiskCommand::Plan(a) => return plan_cmd(a, global),
        DiskCommand::Bench(a) => super::disk_bench::run(a, global),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// The English or the Korean text, in the language the learner chose.
fn say(global: &Global, en: String, ko: String) -> String {
    match global.lang() {
        Lang::Ko => ko,
        _ => en,
    }
}

fn kind_text(global: &Global, kind: ImageKind) -> String {
    let ko = match kind {
        ImageKind::VdiDynamic => "VDI, 동적 할당",
        ImageKind::VdiFixed => "VDI, 고정 크기",
        ImageKind::VdiDifferencing => "VDI, 차이 이미지(스냅샷)",
        ImageKind::RawSparse => "raw, 희소(sparse) 파일",
        ImageKind::RawPreallocated => "raw, 미리 할당",
    };
    say(global, kind.describe().to_string(), ko.to_string())
}

fn size_text(bytes: u64) -> String {
    ByteSize(bytes).to_string()
}

fn progress_bar(total: u64, what: &str) -> ProgressBar {
    // Drawn only on a terminal: scripts and tests see nothing.
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

#[derive(Serialize)]
struct Created {
    file: String,
    info: ImageInfo,
}

fn create(a: CreateArgs, global: &Global) -> Result<(), CliError> {
    let format = match a.format {
        Some(f) => f.into(),
        None => match a.file.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("raw") || e.eq_ignore_ascii_case("img") => {
                Format::Raw
            }
            _ => Format::Vdi,
        },
    };
    let allocation: Allocation = a.alloc.into();
    let storage = FileStorage::create_new(&a.file).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::Runtime(format!(
                "{} already exists; refusing to overwrite it",
                a.file.display()
            ))
        } else {
            CliError::Runtime(format!("cannot create {}: {e}", a.file.display()))
        }
    })?;
    let spec = CreateSpec {
        format,
        allocation,
        virtual_size: a.size.bytes(),
        uuid: disk::random_uuid(),
        modification_uuid: disk::random_uuid(),
    };
    let bar = progress_bar(a.size.bytes(), "preallocating");
    let result = Image::create(storage, spec, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let image = match result {
        Ok(image) => image,
        Err(e) => {
            // Nothing of value is in a half-created file: remove it.
            let _ = std::fs::remove_file(&a.file);
            let usage = matches!(e, labvisor_core::disk::image::ImageError::BadSize { .. });
            let msg = format!("{}: {e}", a.file.display());
            return Err(if usage {
                CliError::Usage(msg)
            } else {
                CliError::Runtime(msg)
            });
        }
    };
    let info = image
        .info()
        .map_err(|e| CliError::Runtime(format!("{}: {e}", a.file.display())))?;
    if global.json {
        return print_json(&Created {
            file: a.file.display().to_string(),
            info,
        });
    }
    let (file, kind) = (a.file.display(), kind_text(global, info.kind));
    let (size, host) = (size_text(info.virtual_size), size_text(info.host_bytes));
    outln!(
        "{}",
        say(
            global,
            format!("Created {file}: {kind}, {size} virtual, {host} on the host."),
            format!("{file} 생성: {kind}, 가상 크기 {size}, 호스트 실제 사용량 {host}."),
        )
    )?;
    let (en, ko) = match info.kind {
        ImageKind::VdiDynamic => (
            "It holds only the header and the block map now; each 1 MiB block is added the first time the guest writes to it.",
            "지금은 헤더와 블록 맵만 들어 있습니다. 게스트가 1 MiB 블록에 처음 쓸 때마다 그 블록만큼 파일이 커집니다.",
        ),
        ImageKind::RawSparse => (
            "It is a sparse file: the host gives it space only where the guest writes.",
            "희소(sparse) 파일입니다. 게스트가 쓴 곳에만 호스트 공간이 할당됩니다.",
        ),
        _ => (
            "All its space was taken now: it cannot run out later, and writes never pay for allocation.",
            "모든 공간을 지금 확보했습니다. 나중에 공간이 모자랄 일이 없고, 쓰기 때 할당 비용도 없습니다.",
        ),
    };
    outln!("{}", say(global, en.into(), ko.into()))?;
    Ok(())
}

#[derive(Serialize)]
struct ChainEntry {
    file: String,
    info: ImageInfo,
}

#[derive(Serialize)]
struct InfoJson {
    file: String,
    info: ImageInfo,
    block_map: String,
    snapshots: Vec<ChainEntry>,
    chain_host_bytes: u64,
}

const PICTURE_WIDTH: usize = 64;

fn image_info(image: &Image<FileStorage>) -> Result<ImageInfo, CliError> {
    image
        .info()
        .map_err(|e| CliError::Runtime(format!("{}: {e}", image.storage().path().display())))
}

fn info(a: FileArg, global: &Global) -> Result<(), CliError> {
    let disk = open_disk(&a.file, a.format, a.force_format, false)?;
    let images = disk.chain().images();
    let base = image_info(&images[0])?;
    let states = images[0]
        .block_states()
        .map_err(|e| CliError::Runtime(format!("{}: {e}", a.file.display())))?;
    let picture = block_picture(&states, PICTURE_WIDTH);
    let mut snapshots = Vec::new();
    for image in &images[1..] {
        snapshots.push(ChainEntry {
            file: image.storage().path().display().to_string(),
            info: image_info(image)?,
        });
    }
    let chain_host_bytes =
        base.host_bytes + snapshots.iter().map(|s| s.info.host_bytes).sum::<u64>();
    if global.json {
        return print_json(&InfoJson {
            file: a.file.display().to_string(),
            info: base,
            block_map: picture,
            snapshots,
            chain_host_bytes,
        });
    }
    let mut t = Table::new();
    let ko = global.lang() == Lang::Ko;
    let label = |en: &str, k: &str| if ko { k.to_string() } else { en.to_string() };
    t.row([label("file", "파일"), a.file.display().to_string()]);
    t.row([label("format", "형식"), kind_text(global, base.kind)]);
    t.row([
        label("virtual size", "가상 크기"),
        say(
            global,
            format!(
                "{} ({} bytes)",
                size_text(base.virtual_size),
                base.virtual_size
            ),
            format!(
                "{} ({} 바이트)",
                size_text(base.virtual_size),
                base.virtual_size
            ),
        ),
    ]);
    t.row([label("file size", "파일 크기"), size_text(base.file_len)]);
    t.row([
        label("host bytes", "호스트 사용량"),
        say(
            global,
            format!(
                "{} (what the host disk really spends)",
                size_text(base.host_bytes)
            ),
            format!(
                "{} (호스트 디스크가 실제로 쓰는 양)",
                size_text(base.host_bytes)
            ),
        ),
    ]);
    let (used, total, zeroed) = (base.blocks_used, base.blocks_total, base.blocks_zero);
    let zero = match (zeroed, ko) {
        (0, _) => String::new(),
        (n, false) => format!(", {n} marked zero"),
        (n, true) => format!(", 0으로 표시된 블록 {n}개"),
    };
    t.row([
        label("blocks used", "사용 블록"),
        say(
            global,
            format!("{used} of {total} (1 MiB each){zero}"),
            format!("{total}개 중 {used}개 (각 1 MiB){zero}"),
        ),
    ]);
    if let Some(uuid) = &base.uuid {
        t.row(["uuid".to_string(), uuid.clone()]);
    }
    let cell = states.len().div_ceil(picture.chars().count().max(1));
    t.row([label("block map", "블록 맵"), format!("[{picture}]")]);
    t.row([
        String::new(),
        say(
            global,
            format!("one cell = {cell} block(s): # data, + partly, z zeroed, . never written"),
            format!("칸 하나 = 블록 {cell}개: # 데이터, + 일부, z 0으로 표시, . 쓴 적 없음"),
        ),
    ]);
    out!("{}", t.render())?;
    if !snapshots.is_empty() {
        outln!()?;
        let n = snapshots.len();
        outln!(
            "{}",
            say(
                global,
                format!("Snapshots ({n}), oldest first; the guest writes to the last one:"),
                format!("스냅샷 {n}개 (오래된 것부터). 게스트는 마지막 것에 씁니다:"),
            )
        )?;
        let mut t = Table::new();
        if ko {
            t.row(["이름", "블록", "호스트 사용량", "파일"]);
        } else {
            t.row(["name", "blocks", "host bytes", "file"]);
        }
        for s in &snapshots {
            t.row([
                s.info.description.clone().unwrap_or_default(),
                s.info.blocks_used.to_string(),
                size_text(s.info.host_bytes),
                s.file.clone(),
            ]);
        }
        out!("{}", t.render())?;
        let all = size_text(chain_host_bytes);
        outln!(
            "{}",
            say(
                global,
                format!("All images together: {all} on the host."),
                format!("모든 이미지 합계: 호스트 사용량 {all}."),
            )
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct WriteJson {
    file: String,
    at: u64,
    len: u64,
    new_blocks: u64,
    host_bytes_before: u64,
    host_bytes_after: u64,
}

/// Opens the disk at `file`; `--format raw` on a file with a VDI signature is refused unless
/// `force_format`, since raw writes would overwrite the header.
fn open_disk(
    file: &Path,
    format: Option<FormatArg>,
    force_format: bool,
    writable: bool,
) -> Result<DiskChain, CliError> {
    if matches!(format, Some(FormatArg::Raw))
        && !force_format
        && disk::has_vdi_signature(file).map_err(disk_err)?
    {
        return Err(disk_err(DiskError::FormatContradicted {
            path: file.to_path_buf(),
        }));
    }
    DiskChain::open(file, format.map(Into::into), writable).map_err(disk_err)
}

fn chain_host_bytes(disk: &DiskChain) -> Result<u64, CliError> {
    disk.chain()
        .host_bytes()
        .map_err(|e| disk_err(disk.newest_error(e)))
}

fn write(a: WriteArgs, global: &Global) -> Result<(), CliError> {
    let r = a.range;
    let mut disk = open_disk(&r.file, r.format, r.force_format, true)?;
    let (at, len) = (r.at.bytes(), r.len.bytes());
    disk.chain()
        .newest()
        .check_range("write", at, len)
        .map_err(|e| CliError::Usage(format!("{}: {e}", r.file.display())))?;
    let before = chain_host_bytes(&disk)?;
    let bar = progress_bar(len, "writing");
    let mut buf = vec![0u8; MIB as usize];
    let mut new_blocks = 0u64;
    let mut done = 0;
    while done < len {
        let offset = at + done;
        let n = (MIB - offset % MIB).min(len - done) as usize;
        match a.pattern {
            PatternArg::Data => disk::fill_pattern(offset, &mut buf[..n]),
            PatternArg::Zero => buf[..n].fill(0),
        }
        match disk.chain_mut().write(offset, &buf[..n]) {
            Ok(report) => new_blocks += u64::from(report.new_blocks),
            Err(e) if e.is_no_space() => {
                bar.finish_and_clear();
                return Err(CliError::Runtime(format!(
                    "{}: the host disk is full after {} of {}: VirtualBox would suspend the VM here, before the guest sees an error. Everything written before is intact; free space on the host, then write again ({e})",
                    r.file.display(),
                    size_text(done),
                    size_text(len)
                )));
            }
            Err(e) => {
                bar.finish_and_clear();
                return Err(disk_err(disk.newest_error(e)));
            }
        }
        done += n as u64;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    disk.chain_mut()
        .newest_mut()
        .storage_mut()
        .flush()
        .map_err(|e| CliError::Runtime(format!("{}: {e}", r.file.display())))?;
    let after = chain_host_bytes(&disk)?;
    if global.json {
        return print_json(&WriteJson {
            file: r.file.display().to_string(),
            at,
            len,
            new_blocks,
            host_bytes_before: before,
            host_bytes_after: after,
        });
    }
    let (what, what_ko) = match a.pattern {
        PatternArg::Data => ("data", "데이터"),
        PatternArg::Zero => ("zeros", "0"),
    };
    let (len, at) = (size_text(len), size_text(at));
    let (before, after) = (size_text(before), size_text(after));
    outln!(
        "{}",
        say(
            global,
            format!("The guest wrote {len} of {what} at {at}."),
            format!("게스트가 {at} 위치에 {what_ko} {len}를 썼습니다."),
        )
    )?;
    outln!(
        "{}",
        say(
            global,
            format!("New blocks allocated: {new_blocks}. Host bytes: {before} -> {after}."),
            format!("새로 할당된 블록: {new_blocks}개. 호스트 사용량: {before} -> {after}."),
        )
    )?;
    Ok(())
}

#[derive(Serialize)]
struct DeleteJson {
    file: String,
    guest_bytes_freed: u64,
    host_bytes_still_used: u64,
    host_bytes: u64,
}

fn delete(r: RangeArgs, global: &Global) -> Result<(), CliError> {
    let disk = open_disk(&r.file, r.format, r.force_format, false)?;
    let report = disk
        .chain()
        .newest()
        .delete_file(r.at.bytes(), r.len.bytes())
        .map_err(|e| disk_err(disk.newest_error(e)))?;
    let total = chain_host_bytes(&disk)?;
    if global.json {
        return print_json(&DeleteJson {
            file: r.file.display().to_string(),
            guest_bytes_freed: report.guest_bytes_freed,
            host_bytes_still_used: report.host_bytes_still_used,
            host_bytes: total,
        });
    }
    let (len, at) = (size_text(report.guest_bytes_freed), size_text(r.at.bytes()));
    let (total, kept) = (size_text(total), size_text(report.host_bytes_still_used));
    let lines = [
        (
            format!("The guest deleted a {len} file at {at}: its file system now counts that space as free."),
            format!("게스트가 {at} 위치의 {len} 파일을 삭제했습니다. 게스트 파일 시스템은 이제 그 공간을 빈 공간으로 셉니다."),
        ),
        (
            format!("The image did not change: host bytes are still {total}, and {kept} of the deleted file's data is still inside it."),
            format!("이미지는 바뀌지 않았습니다. 호스트 사용량은 여전히 {total}이고, 삭제된 파일의 데이터 {kept}가 아직 이미지 안에 있습니다."),
        ),
        (
            "To give the space back: zero the free space in the guest (write --pattern zero), then compact.".to_string(),
            "공간을 돌려받으려면 게스트에서 빈 공간을 0으로 채운 뒤(write --pattern zero) compact 하세요.".to_string(),
        ),
    ];
    for (en, ko) in lines {
        outln!("{}", say(global, en, ko))?;
    }
    Ok(())
}

fn trim(r: RangeArgs, global: &Global) -> Result<(), CliError> {
    let mut disk = open_disk(&r.file, r.format, r.force_format, true)?;
    let (at, len) = (r.at.bytes(), r.len.bytes());
    let report = disk
        .chain_mut()
        .newest_mut()
        .discard(at, len)
        .map_err(|e| disk_err(disk.newest_error(e)))?;
    if global.json {
        return print_json(&report);
    }
    let (len, at, n) = (size_text(len), size_text(at), report.blocks_released);
    let (before, after) = (
        size_text(report.host_bytes_before),
        size_text(report.host_bytes_after),
    );
    let (blocks, blocks_ko) = if n > 0 {
        (
            format!(" {n} whole block(s) released."),
            format!(" 통째로 비워진 블록 {n}개를 돌려주었습니다."),
        )
    } else {
        (String::new(), String::new())
    };
    outln!(
        "{}",
        say(
            global,
            format!("The guest discarded (TRIM) {len} at {at}.{blocks} Host bytes: {before} -> {after}."),
            format!("게스트가 {at} 위치의 {len}를 discard(TRIM) 했습니다.{blocks_ko} 호스트 사용량: {before} -> {after}."),
        )
    )?;
    Ok(())
}

fn compact(a: FileArg, global: &Global) -> Result<(), CliError> {
    let mut disk = open_disk(&a.file, a.format, a.force_format, true)?;
    let report = disk
        .chain_mut()
        .newest_mut()
        .compact()
        .map_err(|e| disk_err(disk.newest_error(e)))?;
    if global.json {
        return print_json(&report);
    }
    let (dropped, moved) = (report.zero_blocks_dropped, report.blocks_moved);
    let (before, after) = (
        size_text(report.host_bytes_before),
        size_text(report.host_bytes_after),
    );
    outln!(
        "{}",
        say(
            global,
            format!("Compacted: {dropped} all-zero block(s) dropped, {moved} block(s) moved to fill the holes."),
            format!("압축 완료: 전부 0인 블록 {dropped}개를 없애고, 빈자리를 채우려고 블록 {moved}개를 옮겼습니다."),
        )
    )?;
    outln!(
        "{}",
        say(
            global,
            format!("Host bytes: {before} -> {after}."),
            format!("호스트 사용량: {before} -> {after}."),
        )
    )?;
    if report.host_bytes_after >= report.host_bytes_before {
        outln!(
            "{}",
            say(
                global,
                "Nothing was freed: blocks of deleted files are not zero until the guest zeroes its free space.".into(),
                "돌려받은 공간이 없습니다. 게스트가 빈 공간을 0으로 채우기 전까지 삭제된 파일의 블록은 0이 아닙니다.".into(),
            )
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct SnapshotJson {
    file: String,
    snapshot: String,
    name: String,
    snapshots: usize,
}

fn snapshot(a: SnapshotArgs, global: &Global) -> Result<(), CliError> {
    let mut disk = open_disk(&a.file, None, false, true)?;
    let path = disk.take_snapshot(&a.name).map_err(disk_err)?;
    if global.json {
        return print_json(&SnapshotJson {
            file: a.file.display().to_string(),
            snapshot: path.display().to_string(),
            name: a.name,
            snapshots: disk.chain().snapshots(),
        });
    }
    let (name, file, child) = (&a.name, a.file.display(), path.display());
    outln!(
        "{}",
        say(
            global,
            format!("Snapshot \"{name}\" taken of {file}: the image is frozen; from now on the guest writes to {child}."),
            format!("{file}의 스냅샷 \"{name}\"을(를) 만들었습니다. 이미지는 고정되고, 이제부터 게스트의 쓰기는 {child}에 기록됩니다."),
        )
    )?;
    outln!(
        "{}",
        say(
            global,
            "The snapshot lives on the same disk as the image: it is not a backup.".into(),
            "스냅샷은 이미지와 같은 디스크에 있습니다. 백업이 아닙니다.".into(),
        )
    )?;
    Ok(())
}

fn revert(a: FileArg, global: &Global) -> Result<(), CliError> {
    let mut disk = open_disk(&a.file, a.format, a.force_format, true)?;
    let dropped = disk.revert().map_err(disk_err)?;
    if global.json {
        return print_json(&serde_json::json!({
            "file": a.file.display().to_string(),
            "blocks_discarded": dropped,
            "snapshots": disk.chain().snapshots(),
        }));
    }
    let file = a.file.display();
    outln!(
        "{}",
        say(
            global,
            format!("Reverted {file} to its newest snapshot: {dropped} changed block(s) discarded; the snapshot is kept."),
            format!("{file}을(를) 가장 최근 스냅샷으로 되돌렸습니다. 바뀐 블록 {dropped}개를 버렸고, 스냅샷은 남아 있습니다."),
        )
    )?;
    Ok(())
}

fn merge(a: FileArg, global: &Global) -> Result<(), CliError> {
    let mut disk = open_disk(&a.file, a.format, a.force_format, true)?;
    let (removed, report) = disk.merge().map_err(disk_err)?;
    if global.json {
        return print_json(&serde_json::json!({
            "file": a.file.display().to_string(),
            "removed": removed.display().to_string(),
            "blocks_merged": report.blocks_merged,
            "snapshots": disk.chain().snapshots(),
        }));
    }
    let (file, merged, gone) = (a.file.display(), report.blocks_merged, removed.display());
    outln!(
        "{}",
        say(
            global,
            format!("Deleted the newest snapshot of {file}: {merged} block(s) merged into its parent, {gone} removed. The current state is unchanged."),
            format!("{file}의 가장 최근 스냅샷을 삭제했습니다. 블록 {merged}개를 부모 이미지에 병합하고 {gone}을(를) 지웠습니다. 현재 상태는 그대로입니다."),
        )
    )?;
    Ok(())
}

fn backup_cmd(a: BackupArgs, global: &Global) -> Result<(), CliError> {
    let outcome =
        backup::backup(&a.src, &a.dest_dir, a.allow_same_device).map_err(|e| match e {
            backup::BackupError::SameDevice { .. } | backup::BackupError::InsideChain { .. } => {
                CliError::Usage(e.to_string())
            }
            other => CliError::Runtime(other.to_string()),
        })?;
    if global.json {
        return print_json(&outcome);
    }
    let (src, files, bytes) = (
        a.src.display(),
        outcome.files.len(),
        size_text(outcome.bytes_copied),
    );
    outln!(
        "{}",
        say(
            global,
            format!("Backed up {src} ({files} file(s), {bytes} of data; holes are not copied) and verified every byte:"),
            format!("{src}을(를) 백업하고 모든 바이트를 검증했습니다 (파일 {files}개, 데이터 {bytes}; 빈 구멍은 복사하지 않음):"),
        )
    )?;
    for f in &outcome.files {
        outln!("  {}", f.display())?;
    }
    let (en, ko) = if outcome.same_device {
        (
            "Warning: this copy is on the same device as the original and dies with it.",
            "경고: 이 복사본은 원본과 같은 장치에 있어서 그 장치가 고장 나면 함께 사라집니다.",
        )
    } else {
        (
            "If the source disk dies, copy these files back (or use them in place) to restore.",
            "원본 디스크가 고장 나면 이 파일들을 다시 복사해 오거나 그 자리에서 그대로 써서 복원하세요.",
        )
    };
    outln!("{}", say(global, en.into(), ko.into()))?;
    Ok(())
}

/// Prints the plan; like `host plan`, exits with status 1 when the disks cannot be created.
fn plan_cmd(a: PlanArgs, global: &Global) -> CliResult {
    let disks: Vec<(u64, Allocation)> = a.vms.iter().map(|(s, al)| (s.bytes(), *al)).collect();
    let p: Plan =
        try_plan(a.host_disk.bytes(), &disks).map_err(|e| CliError::Usage(e.to_string()))?;
    let status = if p.fits_at_creation {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if global.json {
        print_json(&p)?;
        return Ok(status);
    }
    let mut t = Table::new();
    let ko = global.lang() == Lang::Ko;
    if ko {
        t.row(["vm", "크기", "할당", "지금 호스트", "가득 찼을 때"]);
    } else {
        t.row(["vm", "size", "allocation", "host now", "host when full"]);
    }
    for (i, d) in p.disks.iter().enumerate() {
        t.row([
            format!("vm{}", i + 1),
            size_text(d.virtual_size),
            match d.allocation {
                Allocation::Dynamic => say(global, "dynamic".into(), "동적".into()),
                Allocation::Fixed => say(global, "fixed".into(), "고정".into()),
            },
            size_text(d.at_creation),
            size_text(d.when_full),
        ]);
    }
    t.row([
        say(global, "total".into(), "합계".into()),
        size_text(p.provisioned),
        String::new(),
        size_text(p.at_creation),
        size_text(p.when_full),
    ]);
    out!("{}", t.render())?;
    outln!()?;
    let (capacity, promised, ratio) = (
        size_text(p.capacity),
        size_text(p.provisioned),
        p.overcommit_ratio,
    );
    let (now, room, full) = (
        size_text(p.at_creation),
        size_text(p.growth_room),
        size_text(p.when_full),
    );
    let mut lines = vec![(
        format!("Host disk {capacity}: promised to guests {promised} = overcommit ratio {ratio:.2}."),
        format!("호스트 디스크 {capacity}: 게스트에게 약속한 크기 {promised} = 오버커밋 비율 {ratio:.2}."),
    )];
    if !p.fits_at_creation {
        lines.push((
            format!("Does not fit: creating these disks needs {now} now (fixed disks take their whole size at creation), the host has {capacity}."),
            format!("들어가지 않습니다: 이 디스크들을 만들려면 지금 {now}가 필요하지만(고정 크기 디스크는 만들 때 전체 크기를 차지) 호스트에는 {capacity}뿐입니다."),
        ));
    } else if p.fits_when_full {
        lines.push((
            "Fits, even with every disk completely full.".into(),
            "모든 디스크가 가득 차도 들어갑니다.".into(),
        ));
    } else {
        lines.push((
            format!("Fits now, with {room} left for dynamic disks to grow into; they can grow to {full} in total."),
            format!("지금은 들어갑니다. 동적 디스크가 커질 수 있는 여유는 {room}이고, 모두 가득 차면 합계 {full}까지 커집니다."),
        ));
        lines.push((
            "When the guests really fill the host, the next write that needs a new block cannot be stored: VirtualBox suspends the VM (a \"disk full\" runtime error) before the guest sees any error. Data already written stays intact; free space on the host, then resume, and the write completes.".into(),
            "게스트들이 실제로 호스트를 가득 채우면, 새 블록이 필요한 다음 쓰기를 저장할 수 없습니다. VirtualBox는 게스트가 오류를 보기 전에 VM을 일시 정지합니다(\"디스크 가득 참\" 런타임 오류). 이미 쓴 데이터는 그대로 남고, 호스트 공간을 비운 뒤 재개하면 그 쓰기가 끝납니다.".into(),
        ));
    }
    for (en, ko) in lines {
        outln!("{}", say(global, en, ko))?;
    }
    Ok(status)
}
