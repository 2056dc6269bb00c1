//! `disk create` and `disk info`: an image made, and what it costs the host block by block.

use super::*;

#[derive(Serialize)]
struct Created {
    file: String,
    info: ImageInfo,
}

pub(super) fn create(a: CreateArgs, global: &Global) -> Result<(), CliError> {
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

pub(super) fn info(a: FileArg, global: &Global) -> Result<(), CliError> {
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
    out!(
        "{}",
        base_table(&a.file, &base, &states, &picture, global).render()
    )?;
    if !snapshots.is_empty() {
        print_snapshots(&snapshots, chain_host_bytes, global)?;
    }
    Ok(())
}

/// `disk info`'s table for the base image: sizes, what the host spends, the block map.
fn base_table(
    file: &Path,
    base: &ImageInfo,
    states: &[labvisor_core::disk::image::BlockState],
    picture: &str,
    global: &Global,
) -> Table {
    let mut t = Table::new();
    let ko = global.lang() == Lang::Ko;
    let label = |en: &str, k: &str| if ko { k.to_string() } else { en.to_string() };
    t.row([label("file", "파일"), file.display().to_string()]);
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
    t
}

/// The snapshot chain above the base image, oldest first, and what all images cost together.
fn print_snapshots(
    snapshots: &[ChainEntry],
    chain_host_bytes: u64,
    global: &Global,
) -> Result<(), CliError> {
    let ko = global.lang() == Lang::Ko;
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
    for s in snapshots {
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
    Ok(())
}
