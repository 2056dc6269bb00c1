//! `disk snapshot`, `revert`, `merge` and `backup`: copies of a disk, on the same disk and
//! elsewhere.

use super::*;
use labvisor_core::lang::particle::eul_reul;

#[derive(Serialize)]
struct SnapshotJson {
    file: String,
    snapshot: String,
    name: String,
    snapshots: usize,
}

pub(super) fn snapshot(a: SnapshotArgs, global: &Global) -> Result<(), CliError> {
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
            format!("{file}의 스냅샷 {} 만들었습니다. 이미지는 고정되고, 이제부터 게스트의 쓰기는 {child}에 기록됩니다.", eul_reul(format!("\"{name}\""))),
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

pub(super) fn revert(a: FileArg, global: &Global) -> Result<(), CliError> {
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
            format!("{} 가장 최근 스냅샷으로 되돌렸습니다. 바뀐 블록 {dropped}개를 버렸고, 스냅샷은 남아 있습니다.", eul_reul(file)),
        )
    )?;
    Ok(())
}

pub(super) fn merge(a: FileArg, global: &Global) -> Result<(), CliError> {
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
            format!("{file}의 가장 최근 스냅샷을 삭제했습니다. 블록 {merged}개를 부모 이미지에 병합하고 {} 지웠습니다. 현재 상태는 그대로입니다.", eul_reul(gone)),
        )
    )?;
    Ok(())
}

pub(super) fn backup_cmd(a: BackupArgs, global: &Global) -> Result<(), CliError> {
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
            format!("{} 백업하고 모든 바이트를 검증했습니다 (파일 {files}개, 데이터 {bytes}; 빈 구멍은 복사하지 않음):", eul_reul(src)),
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
