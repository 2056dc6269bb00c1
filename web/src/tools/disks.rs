//! The disk lab: a dynamically allocated VDI image in memory, driven by `labvisor_core::disk`.
//! The guest writes files, deletes one (which frees nothing on the host), zeroes its free space
//! and the host compacts the image (which does). The block map is the image's own, the host
//! size is the image's own, and the image downloads as a real `.vdi` file.

use labvisor_core::disk::image::{Allocation, BlockState, CreateSpec, Format, Image};
use labvisor_core::disk::storage::MemStorage;
use labvisor_core::disk::vdi::Uuid;
use labvisor_core::lang::Text;
use yew::prelude::*;

use super::common::ToolPage;
use crate::app::{edit_lab, use_app, use_completion};
use crate::lab::DiskOp;

const MIB: u64 = 1 << 20;
/// A small disk, so every 1 MiB block is a cell on the screen.
const DISK_SIZE: u64 = 64 * MIB;
/// Each file the guest writes.
const FILE_SIZE: u64 = 8 * MIB;

/// The image after replaying `ops`, the guest's deleted ranges, and what the last op reported.
struct Replay {
    image: Option<Image<MemStorage>>,
    deleted: Vec<(u64, u64)>,
    files: u64,
    last: Option<Text>,
    detail: String,
    error: Option<String>,
}

fn replay(ops: &[DiskOp]) -> Replay {
    let spec = CreateSpec {
        format: Format::Vdi,
        allocation: Allocation::Dynamic,
        virtual_size: DISK_SIZE,
        uuid: Uuid([0x4c; 16]),
        modification_uuid: Uuid([0x56; 16]),
    };
    let mut r = Replay {
        image: None,
        deleted: Vec::new(),
        files: 0,
        last: None,
        detail: String::new(),
        error: None,
    };
    let mut image = match Image::create(MemStorage::new(), spec, &mut |_, _| {}) {
        Ok(image) => image,
        Err(e) => {
            r.error = Some(e.to_string());
            return r;
        }
    };
    for op in ops {
        let outcome = match op {
            DiskOp::Write => {
                let offset = r.files * FILE_SIZE;
                if offset + FILE_SIZE > DISK_SIZE {
                    r.last = Some(FULL);
                    continue;
                }
                r.files += 1;
                let fill = 0x40u8.wrapping_add(r.files as u8);
                image
                    .write(offset, &vec![fill; FILE_SIZE as usize])
                    .map(|w| {
                        r.last = Some(WROTE);
                        r.detail = format!("{} MiB, +{} blocks", w.bytes / MIB, w.new_blocks);
                    })
            }
            DiskOp::DeleteFile => {
                let live = (0..r.files)
                    .rev()
                    .map(|k| (k * FILE_SIZE, FILE_SIZE))
                    .find(|range| !r.deleted.contains(range));
                match live {
                    None => {
                        r.last = Some(NOTHING_TO_DELETE);
                        continue;
                    }
                    Some((offset, len)) => image.delete_file(offset, len).map(|d| {
                        r.deleted.push((offset, len));
                        r.last = Some(DELETED);
                        r.detail = format!(
                            "guest freed {} MiB; host still holds {} MiB of it",
                            d.guest_bytes_freed / MIB,
                            d.host_bytes_still_used / MIB
                        );
                    }),
                }
            }
            DiskOp::ZeroFree => {
                let mut total = 0;
                let mut result = Ok(());
                for &(offset, len) in &r.deleted {
                    match image.zero_fill(offset, len) {
                        Ok(w) => total += w.bytes,
                        Err(e) => result = Err(e),
                    }
                }
                result.map(|()| {
                    r.last = Some(ZEROED);
                    r.detail = format!("{} MiB of zeros written", total / MIB);
                })
            }
            DiskOp::Compact => image.compact().map(|c| {
                r.last = Some(COMPACTED);
                r.detail = format!(
                    "{} zero blocks dropped; host size {} → {} MiB",
                    c.zero_blocks_dropped,
                    c.host_bytes_before / MIB,
                    c.host_bytes_after / MIB
                );
            }),
        };
        if let Err(e) = outcome {
            r.error = Some(e.to_string());
            break;
        }
    }
    r.image = Some(image);
    r
}

#[function_component]
pub fn DiskTool() -> Html {
    let app = use_app();
    let lang = app.lang;
    let ops = app.lab.disks.ops.clone();
    let r = replay(&ops);
    let host = r
        .image
        .as_ref()
        .and_then(|i| i.host_bytes().ok())
        .unwrap_or(0);
    let states = r
        .image
        .as_ref()
        .and_then(|i| i.block_states().ok())
        .unwrap_or_default();
    // The goal: the image shrank after a delete — which takes zeroing and compacting.
    let done = ops.contains(&DiskOp::DeleteFile)
        && ops.last() == Some(&DiskOp::Compact)
        && r.error.is_none()
        && host < r.files * FILE_SIZE;
    use_completion(super::activity_id(crate::route::ToolId::Disks), done);

    let push = |op: DiskOp| {
        edit_lab(&app, move |lab, _: MouseEvent| {
            if lab.disks.ops.len() < 64 {
                lab.disks.ops.push(op);
            }
        })
    };
    let reset = edit_lab(&app, |lab, _: MouseEvent| lab.disks.ops.clear());
    let download = {
        let bytes = r
            .image
            .as_ref()
            .map(|i| i.storage().to_bytes())
            .unwrap_or_default();
        Callback::from(move |_: MouseEvent| {
            crate::browser::download_bytes("labvisor-disk.vdi", &bytes)
        })
    };
    let stale = |block: usize| {
        let at = block as u64 * MIB;
        r.deleted.iter().any(|&(o, l)| at >= o && at < o + l)
    };
    let used_pct = host as f64 / DISK_SIZE as f64 * 100.0;
    html! {
        <ToolPage title={TITLE} intro={INTRO} goal={GOAL} goal_done={done}>
            <div class="lv-grid-2">
                <section class="lv-panel" aria-labelledby="lv-disk-map-title">
                    <h2 id="lv-disk-map-title">{ MAP.get(lang) }</h2>
                    <div class="lv-blockmap" role="img" aria-label={format!("{}: {} / {}", MAP.get(lang),
                        states.iter().filter(|s| **s == BlockState::Data).count(), states.len())}>
                        { for states.iter().enumerate().map(|(i, s)| {
                            let class = match (s, stale(i)) {
                                (BlockState::Data, true) => "lv-block lv-block-stale",
                                (BlockState::Data, false) => "lv-block lv-block-data",
                                (BlockState::Zero, _) => "lv-block lv-block-zero",
                                (BlockState::Free, _) => "lv-block lv-block-free",
                            };
                            html! { <span class={class} title={format!("block {i}")}></span> }
                        }) }
                    </div>
                    <ul class="lv-legend">
                        <li><span class="lv-swatch lv-block-data"></span>{ DATA.get(lang) }</li>
                        <li><span class="lv-swatch lv-block-stale"></span>{ STALE.get(lang) }</li>
                        <li><span class="lv-swatch lv-block-zero"></span>{ ZERO.get(lang) }</li>
                        <li><span class="lv-swatch lv-block-free"></span>{ FREE.get(lang) }</li>
                    </ul>
                    <figure class="lv-bar-figure">
                        <figcaption class="lv-bar-caption">
                            <span>{ HOST_SIZE.get(lang) }</span>
                            <span class="lv-mono">{ format!("{} / {} MiB", host / MIB, DISK_SIZE / MIB) }</span>
                        </figcaption>
                        <div class="lv-bar" role="img" aria-label={format!("{} {} MiB", HOST_SIZE.get(lang), host / MIB)}>
                            <div class="lv-seg lv-seg-vm" style={format!("width: {used_pct:.2}%")}></div>
                            <div class="lv-seg lv-seg-free" style={format!("width: {:.2}%", 100.0 - used_pct)}></div>
                        </div>
                    </figure>
                </section>
                <section class="lv-panel" aria-labelledby="lv-disk-ops-title">
                    <h2 id="lv-disk-ops-title">{ ACTIONS.get(lang) }</h2>
                    <div class="lv-disk-ops">
                        <button class="lv-button" onclick={push(DiskOp::Write)}>{ WRITE.get(lang) }</button>
                        <button class="lv-button" onclick={push(DiskOp::DeleteFile)}>{ DELETE.get(lang) }</button>
                        <button class="lv-button" onclick={push(DiskOp::ZeroFree)}>{ ZERO_FREE.get(lang) }</button>
                        <button class="lv-button" onclick={push(DiskOp::Compact)}>{ COMPACT.get(lang) }</button>
                    </div>
                    if let Some(last) = r.last {
                        <p class="lv-verdict lv-verdict-no" role="status">{ last.get(lang) }
                            if !r.detail.is_empty() { <span class="lv-mono lv-muted">{ format!(" — {}", r.detail) }</span> }
                        </p>
                    }
                    if let Some(e) = &r.error { <p class="lv-field-error" role="alert">{ e.clone() }</p> }
                    <p class="lv-note">{ WHY.get(lang) }</p>
                    <div class="lv-row">
                        <button class="lv-button lv-ghost" onclick={download}>{ DOWNLOAD.get(lang) }</button>
                        <button class="lv-button lv-ghost" onclick={reset}>{ RESET.get(lang) }</button>
                    </div>
                </section>
            </div>
        </ToolPage>
    }
}

const TITLE: Text = Text::new(
    "Disks: what a delete does not free",
    "디스크: 삭제해도 줄지 않는 이유",
);
const INTRO: Text = Text::new(
    "A 64 MiB dynamically allocated VDI image, one cell per 1 MiB block. Write files in the guest, delete one, and watch what the image takes on the host.",
    "64 MiB 동적 할당 VDI 이미지입니다. 칸 하나가 1 MiB 블록입니다. 게스트에서 파일을 쓰고 하나를 지운 뒤, 호스트에서 이미지가 차지하는 크기를 지켜보세요.",
);
const GOAL: Text = Text::new(
    "Write some files, delete one, then make the image on the host actually shrink.",
    "파일을 몇 개 쓰고 하나를 지운 다음, 호스트의 이미지 크기가 실제로 줄어들게 해 보세요.",
);
const MAP: Text = Text::new("Block map", "블록 맵");
const DATA: Text = Text::new("data", "데이터");
const STALE: Text = Text::new(
    "deleted in the guest, still on the host",
    "게스트에서 삭제, 호스트에는 남음",
);
const ZERO: Text = Text::new("allocated, all zeros", "할당됨, 전부 0");
const FREE: Text = Text::new("never allocated", "할당 안 됨");
const HOST_SIZE: Text = Text::new("Image size on the host", "호스트에서의 이미지 크기");
const ACTIONS: Text = Text::new("Do", "동작");
const WRITE: Text = Text::new("Guest writes an 8 MiB file", "게스트가 8 MiB 파일 쓰기");
const DELETE: Text = Text::new("Guest deletes the last file", "게스트가 마지막 파일 삭제");
const ZERO_FREE: Text = Text::new(
    "Guest zeroes free space (zerofree)",
    "게스트가 빈 공간을 0으로 채움 (zerofree)",
);
const COMPACT: Text = Text::new("Host compacts the image", "호스트가 이미지 압축 (compact)");
const DOWNLOAD: Text = Text::new("Download the .vdi", ".vdi 내려받기");
const RESET: Text = Text::new("Start over", "처음부터");
const WROTE: Text = Text::new("Written", "썼습니다");
const FULL: Text = Text::new("The guest's disk is full", "게스트 디스크가 가득 찼습니다");
const NOTHING_TO_DELETE: Text = Text::new("No file left to delete", "지울 파일이 없습니다");
const DELETED: Text = Text::new(
    "Deleted in the guest: the image did not change",
    "게스트에서 삭제했지만 이미지는 그대로입니다",
);
const ZEROED: Text = Text::new(
    "Free space zeroed: the blocks are still allocated",
    "빈 공간을 0으로 채웠지만 블록은 여전히 할당되어 있습니다",
);
const COMPACTED: Text = Text::new("Compacted", "압축했습니다");
const WHY: Text = Text::new(
    "A file system only marks deleted blocks free in its own metadata; the image keeps them. VBoxManage modifymedium --compact drops only blocks that are all zeros, so the guest must zero its free space first (zerofree on Linux, sdelete -z on Windows).",
    "파일 시스템은 삭제한 블록을 자기 메타데이터에서만 비어 있다고 표시하고, 이미지는 그 블록을 그대로 둡니다. VBoxManage modifymedium --compact는 전부 0인 블록만 버리므로, 먼저 게스트가 빈 공간을 0으로 채워야 합니다(리눅스 zerofree, 윈도우 sdelete -z).",
);
