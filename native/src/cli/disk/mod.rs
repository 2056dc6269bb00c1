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

mod bench;
mod create_info;
mod guest_writes;
mod plan;
mod snapshots;

use crate::disk::{self, backup, DiskChain, DiskError, FileStorage};
use create_info::{create, info};
use guest_writes::{compact, delete, trim, write};
use plan::plan_cmd;
use snapshots::{backup_cmd, merge, revert, snapshot};

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
    Bench(bench::BenchArgs),
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
        DiskCommand::Bench(a) => bench::run(a, global),
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
