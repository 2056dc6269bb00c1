//! `disk-fit`, `disk-compact`, `disk-restore`: their fields, checked when a lesson loads, and
//! their grading in `core::disk`: images are really created in the engine's in-memory
//! storage (fixed images reserve their space, dynamic ones grow block by block), the guest's
//! writes, deletes and zero-fills really happen, and a host disk really fails. The engine's
//! numbers decide pass or fail.

use std::collections::BTreeMap;

use labvisor_core::disk::backup::{backup, restore};
use labvisor_core::disk::image::{Allocation, CreateSpec, Format, Image};
use labvisor_core::disk::pool::{Pool, PoolError};
use labvisor_core::disk::storage::MemStorage;
use labvisor_core::disk::vdi::Uuid;

use super::common::{Fields, Judgement};
use crate::action::Action;
use crate::course_vm::{CourseVm, VmDisk, MAX_DISK_BYTES};
use crate::model::{HostDiskSpec, ImageSpec, Spec};
use crate::size::parse_size;

/// A host disk and the VMs' disks to fit on it.
pub(super) fn build_fit(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let disk = f.required(&ex.host_disk, "host-disk")?;
    let vms = f.required(&ex.vms, "vms")?;
    let d = disk.get_ref();
    for size in std::iter::once(&d.capacity).chain(d.used.as_ref()) {
        if let Err(e) = parse_size(size) {
            f.error(disk.span(), &e);
        }
    }
    if vms.get_ref().is_empty() {
        f.error(vms.span(), "`vms` lists no VM");
    }
    if let Some(size) = &ex.min_disk_size {
        if let Err(e) = parse_size(size.get_ref()) {
            f.error(size.span(), &format!("`min-disk-size`: {e}"));
        }
    }
    Some(Spec::DiskFit {
        host_disk: d.clone(),
        vms: vms.get_ref().clone(),
        min_disk_size: ex.min_disk_size.as_ref().map(|s| s.get_ref().clone()),
    })
}

/// An image to compact down to a target.
pub(super) fn build_compact(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let image = f.required(&ex.image, "image")?;
    let target = f.required(&ex.target_allocated, "target-allocated")?;
    let i = image.get_ref();
    for size in [&i.size, &i.written, &i.deleted] {
        if let Err(e) = parse_size(size) {
            f.error(image.span(), &e);
        }
    }
    if let Err(e) = parse_size(target.get_ref()) {
        f.error(target.span(), &e);
    }
    Some(Spec::DiskCompact {
        image: i.clone(),
        target_allocated: target.get_ref().clone(),
    })
}

/// A VM's disk, where it lives, and the disks available.
pub(super) fn build_restore(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let vm = f.required(&ex.vm, "vm")?;
    let lives_on = f.required(&ex.lives_on, "lives-on")?;
    let disks = f.required(&ex.disks, "disks")?;
    if !disks.get_ref().contains(lives_on.get_ref()) {
        f.error(
            lives_on.span(),
            &format!("`lives-on = {:?}` is not in `disks`", lives_on.get_ref()),
        );
    }
    Some(Spec::DiskRestore {
        vm: vm.get_ref().clone(),
        lives_on: lives_on.get_ref().clone(),
        disks: disks.get_ref().clone(),
        disk: CourseVm::DEFAULT_DISK,
    })
}

/// What is wrong with a step of a disk exercise beyond its VM: a disk the exercise does not
/// have, a size that does not read.
pub(super) fn step_problem(spec: &Spec, action: &Action) -> Option<String> {
    match (action, spec) {
        (
            Action::Backup { to: disk, .. } | Action::Restore { from: disk, .. },
            Spec::DiskRestore { disks, .. },
        ) if !disks.contains(disk) => Some(format!(
            "unknown disk {disk:?}; this exercise has: {}",
            disks.join(", ")
        )),
        (Action::CreateDisk { size, .. }, _) => parse_size(size).err(),
        _ => None,
    }
}

/// A deterministic UUID for the n-th image an exercise creates.
fn uuid(n: usize) -> Uuid {
    let mut bytes = [0x5a; 16];
    bytes[..8].copy_from_slice(&(n as u64 + 1).to_be_bytes());
    Uuid(bytes)
}

/// `137438953472` → `137438953472 bytes (128.0 GiB, 137.4 GB)`; small sizes in MiB.
fn bytes(n: u64) -> String {
    if n >= 1 << 30 {
        format!(
            "{n} bytes ({:.1} GiB, {:.1} GB)",
            n as f64 / f64::from(1u32 << 30),
            n as f64 / 1e9
        )
    } else {
        format!("{n} bytes ({:.1} MiB)", n as f64 / f64::from(1u32 << 20))
    }
}

/// Create a disk for every VM on the host disk, each of at least `min_disk_size` where the
/// exercise asks for it.
pub(super) fn grade_fit(
    host: &HostDiskSpec,
    vms: &[String],
    min_disk_size: Option<&str>,
    actions: &[Action],
) -> Judgement {
    let mut trace = Vec::new();
    let sizes = parse_size(&host.capacity).and_then(|c| {
        let used = host
            .used
            .as_deref()
            .map(parse_size)
            .transpose()?
            .unwrap_or(0);
        let asked = min_disk_size.map(parse_size).transpose()?;
        Ok((c, used, asked))
    });
    let (capacity, used, asked) = match sizes {
        Ok(s) => s,
        Err(e) => return Judgement::fail("invalid-exercise", vec![e]),
    };
    let free_for_vms = capacity.saturating_sub(used);
    trace.push(format!(
        "host disk {}: {} used by the host, {} free for VM images",
        host.capacity,
        bytes(used),
        bytes(free_for_vms)
    ));
    let mut pool = Pool::new("host-disk", "host", free_for_vms);
    let mut fixed_refused = false;
    for (i, action) in actions.iter().enumerate() {
        let step = i + 1;
        let Action::CreateDisk { vm, size, alloc } = action else {
            trace.push(format!("step {step}: `{}` ignored", action.name()));
            continue;
        };
        let virtual_size = match parse_size(size) {
            Ok(v) => v,
            Err(e) => {
                trace.push(format!("step {step}: {e}"));
                return Judgement::fail("invalid-attempt", trace);
            }
        };
        let kind = match alloc {
            Allocation::Dynamic => "dynamic",
            Allocation::Fixed => "fixed",
        };
        match pool.create_disk(vm, virtual_size, *alloc, uuid(i)) {
            Ok(()) => {
                let taken = pool
                    .disk(vm)
                    .ok()
                    .and_then(|c| c.host_bytes().ok())
                    .unwrap_or(0);
                trace.push(format!(
                    "step {step}: core disk: created {vm}.vdi, {size} {kind}: takes {} now; free {}",
                    bytes(taken),
                    bytes(pool.free())
                ));
            }
            Err(PoolError::DoesNotFit { needed, free, .. }) => {
                fixed_refused |= *alloc == Allocation::Fixed;
                trace.push(format!(
                    "step {step}: core disk: {vm}.vdi, {size} {kind}, does not fit: needs {}, free {}",
                    bytes(needed),
                    bytes(free)
                ));
            }
            Err(e) => trace.push(format!("step {step}: core disk: {vm}.vdi: {e}")),
        }
    }
    let missing: Vec<&String> = vms
        .iter()
        .filter(|vm| !pool.disk_names().contains(vm))
        .collect();
    if fixed_refused && !missing.is_empty() {
        return Judgement::fail("fixed-does-not-fit", trace);
    }
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        trace.push(format!("no disk for: {}", names.join(", ")));
        return Judgement::fail("missing-disk", trace);
    }
    if let (Some(asked), Some(asked_text)) = (asked, min_disk_size) {
        let small: Vec<String> = vms
            .iter()
            .filter_map(|vm| {
                let size = pool.disk(vm).ok()?.virtual_size();
                (size < asked).then(|| format!("{vm}.vdi is {}", bytes(size)))
            })
            .collect();
        if !small.is_empty() {
            trace.push(format!(
                "{}; the exercise asks for at least {asked_text}, {}",
                small.join(", "),
                bytes(asked)
            ));
            return Judgement::fail("disk-too-small", trace);
        }
    }
    trace.push(format!(
        "every VM has its disk: {} promised on {} ({:.2}× overcommit): correct",
        bytes(pool.provisioned()),
        bytes(free_for_vms),
        pool.overcommit_ratio()
    ));
    Judgement::pass(trace)
}

/// Give the space of deleted files back to the host.
pub(super) fn grade_compact(image: &ImageSpec, target: &str, actions: &[Action]) -> Judgement {
    let parsed = (|| {
        Ok::<_, String>((
            parse_size(&image.size)?,
            parse_size(&image.written)?,
            parse_size(&image.deleted)?,
            parse_size(target)?,
        ))
    })();
    let (virtual_size, written, deleted, target_bytes) = match parsed {
        Ok(p) => p,
        Err(e) => return Judgement::fail("invalid-exercise", vec![e]),
    };
    let mut trace = Vec::new();
    let spec = CreateSpec {
        format: Format::Vdi,
        allocation: Allocation::Dynamic,
        virtual_size,
        uuid: uuid(0),
        modification_uuid: uuid(0),
    };
    let setup = (|| -> Result<Image<MemStorage>, String> {
        let mut img =
            Image::create(MemStorage::new(), spec, &mut |_, _| {}).map_err(|e| e.to_string())?;
        let chunk = vec![0xa5u8; 1 << 20];
        let mut at = 0;
        while at < written {
            let n = (written - at).min(chunk.len() as u64) as usize;
            img.write(at, &chunk[..n]).map_err(|e| e.to_string())?;
            at += n as u64;
        }
        Ok(img)
    })();
    let mut img = match setup {
        Ok(img) => img,
        Err(e) => return Judgement::fail("invalid-exercise", vec![e]),
    };
    let host_bytes = |img: &Image<MemStorage>| img.host_bytes().unwrap_or(0);
    trace.push(format!(
        "core disk: {}.vdi ({} dynamic) after the guest wrote {}: {} on the host",
        image.vm,
        image.size,
        image.written,
        bytes(host_bytes(&img))
    ));
    match img.delete_file(0, deleted) {
        Ok(report) => trace.push(format!(
            "core disk: the guest deletes {} of files: its file system frees {}, the image still holds {} of them and takes {}",
            image.deleted,
            bytes(report.guest_bytes_freed),
            bytes(report.host_bytes_still_used),
            bytes(report.host_bytes)
        )),
        Err(e) => return Judgement::fail("invalid-exercise", vec![e.to_string()]),
    }
    let mut zeroed = false;
    let mut compacted_after_zero = false;
    let mut compacted = false;
    for (i, action) in actions.iter().enumerate() {
        let step = i + 1;
        match action {
            Action::ZeroFreeSpace { .. } => match img.zero_fill(0, deleted) {
                Ok(r) => {
                    zeroed = true;
                    compacted_after_zero = false;
                    trace.push(format!(
                        "step {step}: the guest zeroes its free space ({} zeroed, {} new blocks): {} on the host",
                        bytes(r.bytes),
                        r.new_blocks,
                        bytes(host_bytes(&img))
                    ));
                }
                Err(e) => trace.push(format!("step {step}: zero-fill failed: {e}")),
            },
            Action::Compact { .. } => match img.compact() {
                Ok(r) => {
                    compacted = true;
                    compacted_after_zero |= zeroed;
                    trace.push(format!(
                        "step {step}: core disk: compact: {} all-zero blocks dropped, {} → {}",
                        r.zero_blocks_dropped,
                        bytes(r.host_bytes_before),
                        bytes(r.host_bytes_after)
                    ));
                }
                Err(e) => trace.push(format!("step {step}: compact failed: {e}")),
            },
            other => trace.push(format!("step {step}: `{}` ignored", other.name())),
        }
    }
    let end = host_bytes(&img);
    if end <= target_bytes {
        trace.push(format!("{} ≤ {target}: correct", bytes(end)));
        return Judgement::pass(trace);
    }
    trace.push(format!("{} is more than {target}", bytes(end)));
    let mistake = if !zeroed && compacted {
        "compact-without-zeroing"
    } else if zeroed && !compacted_after_zero {
        "zeroed-not-compacted"
    } else {
        "still-too-big"
    };
    Judgement::fail(mistake, trace)
}

/// Survive the host disk's failure and restore the VM, whose image is `disk` (the course VM's
/// own in lesson 12: a fixed one reserves its whole size, and its backup copies all of it).
pub(super) fn grade_restore(
    vm: &str,
    (lives_on, disk): (&str, VmDisk),
    disks: &[String],
    actions: &[Action],
) -> Judgement {
    // Room on every disk for the largest image the course carries and a backup of it.
    const CAPACITY: u64 = 2 * MAX_DISK_BYTES;
    const DATA: &[u8] = b"the web server's files";
    let mut trace = Vec::new();
    let mut pools: BTreeMap<String, Pool> = disks
        .iter()
        .map(|d| (d.clone(), Pool::new(d, d, CAPACITY)))
        .collect();
    let setup = pools
        .get_mut(lives_on)
        .ok_or_else(|| format!("no disk {lives_on:?}"))
        .and_then(|pool| {
            pool.create_disk(vm, disk.size.bytes(), disk.allocation, uuid(0))
                .and_then(|()| pool.guest_write(vm, 0, DATA).map(|_| ()))
                .map_err(|e| e.to_string())
        });
    if let Err(e) = setup {
        return Judgement::fail("invalid-exercise", vec![e]);
    }
    let kind = match disk.allocation {
        Allocation::Dynamic => "dynamic",
        Allocation::Fixed => "fixed",
    };
    trace.push(format!(
        "core disk: {vm}.vdi ({} {kind}) lives on {lives_on} and holds {:?}",
        disk.size,
        String::from_utf8_lossy(DATA)
    ));
    let mut failed = false;
    let mut restored = false;
    let mut snapshot_taken = false;
    let mut same_domain_backup = false;
    let mut copies_elsewhere = false;
    for (i, action) in actions.iter().enumerate() {
        let step = i + 1;
        match action {
            Action::Snapshot { vm } => {
                let n = i + 1;
                match pools
                    .get_mut(lives_on)
                    .map(|p| p.take_snapshot(vm, uuid(n), &format!("snapshot {n}")))
                {
                    Some(Ok(())) => {
                        snapshot_taken = true;
                        trace.push(format!("step {step}: core disk: snapshot of {vm}: a differencing image next to it on {lives_on}"));
                    }
                    Some(Err(e)) => trace.push(format!("step {step}: snapshot failed: {e}")),
                    None => trace.push(format!("step {step}: no disk {lives_on}")),
                }
            }
            Action::Backup { vm, to } => match backup_step(&mut pools, vm, to, lives_on) {
                BackupStep::Copied(line) => {
                    copies_elsewhere |= to != lives_on;
                    trace.push(format!("step {step}: {line}"));
                }
                BackupStep::Refused(line) => {
                    same_domain_backup |= to == lives_on;
                    trace.push(format!("step {step}: {line}"));
                }
                BackupStep::NoDisk => trace.push(format!("step {step}: no disk {to:?}")),
                BackupStep::NoSource => {}
            },
            Action::HostDiskFails => {
                if let Some(pool) = pools.get_mut(lives_on) {
                    let lost = pool.disk(vm).map(|c| c.images().len()).unwrap_or(0);
                    pool.fail();
                    failed = true;
                    trace.push(format!(
                        "step {step}: core disk: {lives_on} dies: {vm} and its {} image(s) are gone",
                        lost
                    ));
                }
            }
            Action::Restore { vm, from } => {
                let (intact, line) = restore_step(&mut pools, vm, from, lives_on, failed, DATA);
                restored = intact.unwrap_or(restored);
                trace.push(format!("step {step}: {line}"));
            }
            other => trace.push(format!("step {step}: `{}` ignored", other.name())),
        }
    }
    if !failed {
        return Judgement::fail("failure-not-simulated", trace);
    }
    if restored {
        trace.push(format!("{vm} survived the failure of {lives_on}: correct"));
        return Judgement::pass(trace);
    }
    let mistake = if copies_elsewhere {
        "not-restored"
    } else if same_domain_backup {
        "backup-same-failure-domain"
    } else if snapshot_taken {
        "snapshot-died-with-disk"
    } else {
        "no-copy"
    };
    Judgement::fail(mistake, trace)
}

/// How a backup step went.
enum BackupStep {
    /// The engine's report of the copy.
    Copied(String),
    /// Why the engine refused (a copy onto the disk the VM lives on is in the same failure
    /// domain).
    Refused(String),
    /// The exercise has no disk `to`.
    NoDisk,
    /// The VM's own disk is gone (lost in a restore from a disk that does not exist).
    NoSource,
}

/// Copies `vm`'s images from `lives_on` to `to`.
fn backup_step(
    pools: &mut BTreeMap<String, Pool>,
    vm: &str,
    to: &str,
    lives_on: &str,
) -> BackupStep {
    let Some(mut destination) = pools.remove(to) else {
        return BackupStep::NoDisk;
    };
    let result = if to == lives_on {
        // Backing up onto the very disk the VM lives on: the engine refuses a copy into the
        // same failure domain.
        let source = destination.clone();
        backup(&source, vm, &mut destination)
    } else {
        match pools.get(lives_on) {
            Some(source) => backup(source, vm, &mut destination),
            None => {
                pools.insert(to.to_string(), destination);
                return BackupStep::NoSource;
            }
        }
    };
    pools.insert(to.to_string(), destination);
    match result {
        Ok(report) => BackupStep::Copied(format!(
            "core disk: backup of {vm} ({} image(s), {}) from {} to {}",
            report.images,
            bytes(report.bytes),
            report.from_domain,
            report.to_domain
        )),
        Err(e) => BackupStep::Refused(format!("core disk: backup refused: {e}")),
    }
}

/// Restores `vm` from `from` onto a new `lives_on` once that has failed: whether `data` came
/// back intact (`None` when no restore ran), and what happened.
fn restore_step(
    pools: &mut BTreeMap<String, Pool>,
    vm: &str,
    from: &str,
    lives_on: &str,
    failed: bool,
    data: &[u8],
) -> (Option<bool>, String) {
    if !failed {
        return (
            None,
            format!("nothing to restore: {lives_on} has not failed"),
        );
    }
    if from == lives_on {
        return (
            None,
            format!("core disk: {from} has failed; nothing on it can be read"),
        );
    }
    let (Some(source), Some(mut target)) = (pools.get(from).cloned(), pools.remove(lives_on))
    else {
        return (None, format!("no disk {from:?}"));
    };
    target.replace_disk();
    let outcome = match restore(&source, vm, &mut target) {
        Ok(report) => {
            let mut buf = vec![0u8; data.len()];
            let intact = target.guest_read(vm, 0, &mut buf).is_ok() && buf == data;
            let line = format!(
                "core disk: {vm} restored from {} onto a new {lives_on} ({} image(s)); data {}",
                report.from_domain,
                report.images,
                if intact { "intact" } else { "lost" }
            );
            (Some(intact), line)
        }
        Err(e) => (None, format!("core disk: restore failed: {e}")),
    };
    pools.insert(lives_on.to_string(), target);
    outcome
}
