//! `disk write`, `delete`, `trim` and `compact`: what a guest does to its disk, and what the
//! host file does in return (grows, keeps its size, gives whole blocks back).

use super::*;
use labvisor_core::lang::particle::{eul_reul, i_ga};

#[derive(Serialize)]
struct WriteJson {
    file: String,
    at: u64,
    len: u64,
    new_blocks: u64,
    host_bytes_before: u64,
    host_bytes_after: u64,
}

pub(super) fn write(a: WriteArgs, global: &Global) -> Result<(), CliError> {
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
            format!("게스트가 {at} 위치에 {what_ko} {} 썼습니다.", eul_reul(len)),
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

pub(super) fn delete(r: RangeArgs, global: &Global) -> Result<(), CliError> {
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
            format!("이미지는 바뀌지 않았습니다. 호스트 사용량은 여전히 {total}이고, 삭제된 파일의 데이터 {} 아직 이미지 안에 있습니다.", i_ga(kept)),
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

pub(super) fn trim(r: RangeArgs, global: &Global) -> Result<(), CliError> {
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
            format!("게스트가 {at} 위치의 {} discard(TRIM) 했습니다.{blocks_ko} 호스트 사용량: {before} -> {after}.", eul_reul(len)),
        )
    )?;
    Ok(())
}

pub(super) fn compact(a: FileArg, global: &Global) -> Result<(), CliError> {
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
