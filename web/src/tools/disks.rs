//! The disk lab: a dynamically allocated VDI image in memory, driven by `labvisor_core::disk`.
//! The guest writes files, deletes one (which frees nothing on the host), zeroes its free space
//! and the host compacts the image (which does). The block map is the image's own, the host
//! size is the image's own, and the image downloads as a real `.vdi` file.

use labvisor_core::disk::backup::{backup, restore, BackupError};
use labvisor_core::disk::image::{Allocation, BlockState, CreateSpec, Format, Image};
use labvisor_core::disk::pool::{plan, GuestWrite, Pool, PoolError, PoolEvent};
use labvisor_core::disk::size::{ByteSize, GIB};
use labvisor_core::disk::storage::MemStorage;
use labvisor_core::disk::vdi::Uuid;
use labvisor_core::lang::{Lang, Text};
use yew::prelude::*;

use super::common::ToolPage;
use crate::app::{edit_lab, use_app, use_completion};
use crate::lab::{DiskOp, HostDisksState, TimelineOp};

use labvisor_core::disk::size::MIB;
use labvisor_core::lang::particle::{eul_reul, i_ga};
/// A small disk, so every 1 MiB block is a cell on the screen.
const DISK_SIZE: u64 = 64 * MIB;
/// Each file the guest writes.
const FILE_SIZE: u64 = 8 * MIB;

/// The image after replaying `ops`, the guest's deleted ranges, and what the last op reported.
pub(crate) struct Replay {
    image: Option<Image<MemStorage>>,
    deleted: Vec<(u64, u64)>,
    files: u64,
    last: Option<Text>,
    detail: String,
    error: Option<String>,
}

/// The image after `ops`, replayed from the start (the page keeps a [`ReplayCache`]).
#[cfg(test)]
pub(crate) fn replay(ops: &[DiskOp]) -> Replay {
    let mut r = Replay::new();
    for &op in ops {
        r.apply(op);
    }
    r
}

impl Replay {
    /// The empty image, before any op.
    fn new() -> Replay {
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
        match Image::create(MemStorage::new(), spec, &mut |_, _| {}) {
            Ok(image) => r.image = Some(image),
            Err(e) => r.error = Some(e.to_string()),
        }
        r
    }

    /// Applies one more op; after an error the image stays as the error left it.
    fn apply(&mut self, op: DiskOp) {
        if self.error.is_some() {
            return;
        }
        let Replay {
            image,
            deleted,
            files,
            last,
            detail,
            error,
        } = self;
        let Some(image) = image.as_mut() else {
            return;
        };
        let outcome = match op {
            DiskOp::Write => {
                let offset = *files * FILE_SIZE;
                if offset + FILE_SIZE > DISK_SIZE {
                    *last = Some(FULL);
                    return;
                }
                *files += 1;
                let fill = 0x40u8.wrapping_add(*files as u8);
                image
                    .write(offset, &vec![fill; FILE_SIZE as usize])
                    .map(|w| {
                        *last = Some(WROTE);
                        *detail = format!("{} MiB, +{} blocks", w.bytes / MIB, w.new_blocks);
                    })
            }
            DiskOp::DeleteFile => {
                let live = (0..*files)
                    .rev()
                    .map(|k| (k * FILE_SIZE, FILE_SIZE))
                    .find(|range| !deleted.contains(range));
                match live {
                    None => {
                        *last = Some(NOTHING_TO_DELETE);
                        return;
                    }
                    Some((offset, len)) => image.delete_file(offset, len).map(|d| {
                        deleted.push((offset, len));
                        *last = Some(DELETED);
                        *detail = format!(
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
                for &(offset, len) in deleted.iter() {
                    match image.zero_fill(offset, len) {
                        Ok(w) => total += w.bytes,
                        Err(e) => result = Err(e),
                    }
                }
                result.map(|()| {
                    *last = Some(ZEROED);
                    *detail = format!("{} MiB of zeros written", total / MIB);
                })
            }
            DiskOp::Compact => image.compact().map(|c| {
                *last = Some(COMPACTED);
                *detail = format!(
                    "{} zero blocks dropped; host size {} → {} MiB",
                    c.zero_blocks_dropped,
                    c.host_bytes_before / MIB,
                    c.host_bytes_after / MIB
                );
            }),
        };
        if let Err(e) = outcome {
            *error = Some(e.to_string());
        }
    }
}

/// The replay of the ops seen last, kept between renders: a click that adds an op applies only
/// that op (a full replay rewrites up to 64 MiB and blocked the page for a noticeable time), and
/// a change to earlier ops (undo, reset, a share link) replays from the start.
#[derive(Default)]
struct ReplayCache {
    ops: Vec<DiskOp>,
    replay: Option<Replay>,
}

impl ReplayCache {
    fn update(&mut self, ops: &[DiskOp]) -> &Replay {
        let reusable = self.replay.is_some() && ops.starts_with(&self.ops);
        if !reusable {
            self.ops.clear();
            self.replay = Some(Replay::new());
        }
        let replay = self.replay.get_or_insert_with(Replay::new);
        for &op in &ops[self.ops.len()..] {
            replay.apply(op);
        }
        self.ops = ops.to_vec();
        replay
    }
}

#[function_component]
pub fn DiskTool() -> Html {
    let app = use_app();
    let lang = app.lang;
    let ops = app.lab.disks.ops.clone();
    let cache = use_mut_ref(ReplayCache::default);
    let mut cached = cache.borrow_mut();
    let r = cached.update(&ops);
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
    // The image's bytes are copied only when asked for, not on every render.
    let download = {
        let cache = cache.clone();
        Callback::from(move |_: MouseEvent| {
            let bytes = cache
                .borrow()
                .replay
                .as_ref()
                .and_then(|r| r.image.as_ref())
                .map(|i| i.storage().to_bytes())
                .unwrap_or_default();
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
            <div class="lv-grid-2">
                <HostSsd />
                <Timeline />
            </div>
            <super::instances::InstancesPanel />
        </ToolPage>
    }
}

const TITLE: Text = Text::new(
    "Disks and images: what a delete does not free, what a snapshot does not save",
    "디스크와 이미지: 삭제해도 줄지 않는 공간, 스냅샷이 지켜 주지 못하는 것",
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

// ------------------------------------------------------------------ the host SSD

/// The host SSD and the two VM disks as the course states them (exact figures from
/// [`plan`]); binary units, as VirtualBox and the core count them.
const SSD: u64 = 256 * GIB;
const VM_DISK: u64 = 128 * GIB;
/// The live pool runs the same engine at 1 : 8192 (one 1 MiB VDI block stands for 8 GiB), so
/// filling it takes 32 MiB of browser memory instead of 256 GiB.
const SCALE: u64 = 8192;
/// Each guest write: 4 blocks, standing for 32 GiB.
const CHUNK: u64 = 4 * MIB;
const VM_NAMES: [&str; 2] = ["vm1", "vm2"];

fn allocation(fixed: bool) -> Allocation {
    if fixed {
        Allocation::Fixed
    } else {
        Allocation::Dynamic
    }
}

/// The scaled pool after creating the two disks and replaying the guests' writes.
pub(crate) struct HostReplay {
    pool: Pool,
    /// Why creating a disk failed (a fixed image that does not fit), with the VM index.
    create_error: Option<(usize, PoolError)>,
    /// Each write's outcome, in order: the VM and whether the host was full (the VM paused).
    writes: Vec<(u8, bool)>,
}

pub(crate) fn replay_host(state: &HostDisksState) -> HostReplay {
    let mut pool = Pool::new("ssd", "host-a", SSD / SCALE);
    let mut r = HostReplay {
        pool: Pool::new("ssd", "host-a", 0),
        create_error: None,
        writes: Vec::new(),
    };
    if state.created {
        for (i, name) in VM_NAMES.iter().enumerate() {
            if let Err(e) = pool.create_disk(
                name,
                VM_DISK / SCALE,
                allocation(state.fixed[i]),
                Uuid([i as u8 + 1; 16]),
            ) {
                r.create_error = Some((i, e));
                break;
            }
        }
    }
    let mut written = [0u64; 2];
    for &vm in &state.writes {
        let name = VM_NAMES[usize::from(vm.min(1))];
        let at = &mut written[usize::from(vm.min(1))];
        if *at + CHUNK > VM_DISK / SCALE || pool.is_paused(name) {
            continue;
        }
        match pool.guest_write(name, *at, &vec![0x5a; CHUNK as usize]) {
            Ok(GuestWrite::Done(_)) => {
                *at += CHUNK;
                r.writes.push((vm, false));
            }
            Ok(GuestWrite::IoError { .. }) => r.writes.push((vm, true)),
            Err(_) => {}
        }
    }
    r.pool = pool;
    r
}

/// A pool error in the learner's language (the core's messages are English).
fn pool_error_text(e: &PoolError, lang: Lang) -> String {
    match (e, lang) {
        (PoolError::DoesNotFit { needed, free, .. }, Lang::Ko) => format!(
            "고정 크기 이미지는 만들 때 {} 모두 차지하지만, 남은 공간은 {}뿐입니다",
            eul_reul(ByteSize(*needed)),
            ByteSize(*free)
        ),
        (PoolError::HostDiskFailed(_), Lang::Ko) => {
            "호스트 디스크가 고장 났습니다: 그 위의 이미지는 모두 사라졌습니다".into()
        }
        (PoolError::Paused(_), Lang::Ko) => {
            "호스트 디스크가 가득 차서 VM이 일시 정지되었습니다".into()
        }
        (PoolError::UnknownDisk(_), Lang::Ko) => "그런 디스크가 없습니다".into(),
        (PoolError::DiskExists(_), Lang::Ko) => "같은 이름의 디스크가 이미 있습니다".into(),
        _ => e.to_string(),
    }
}

/// Why creating disk `failed` did not work, in the lesson's sizes: the scaled pool's figures
/// (a few MiB) would leak the scale model, so a `DoesNotFit` is told with the exact plan's.
fn create_error_text(
    e: &PoolError,
    failed: usize,
    exact: &labvisor_core::disk::pool::Plan,
    lang: Lang,
) -> String {
    let PoolError::DoesNotFit { .. } = e else {
        return pool_error_text(e, lang);
    };
    let Some(disk) = exact.disks.get(failed) else {
        return pool_error_text(e, lang);
    };
    let overhead = disk.at_creation.saturating_sub(disk.virtual_size);
    let taken: u64 = exact.disks[..failed].iter().map(|d| d.at_creation).sum();
    let short = (taken + disk.at_creation).saturating_sub(exact.capacity);
    match lang {
        Lang::En => format!(
            "a fixed-size image takes all of its space when it is created: {} of data plus {} of header and block map. The images made before it take {}, so the {} SSD is {} short.",
            ByteSize(disk.virtual_size),
            ByteSize(overhead),
            ByteSize(taken),
            ByteSize(exact.capacity),
            ByteSize(short)
        ),
        Lang::Ko => format!(
            "고정 크기 이미지는 만들 때 전체 크기를 차지합니다: 데이터 {}에 헤더와 블록 맵 {}. 앞서 만든 이미지가 {} 차지하므로 {} SSD에서 {} 모자랍니다.",
            ByteSize(disk.virtual_size),
            ByteSize(overhead),
            eul_reul(ByteSize(taken)),
            ByteSize(exact.capacity),
            i_ga(ByteSize(short))
        ),
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 100.0).min(100.0)
    }
}

#[function_component]
fn HostSsd() -> Html {
    let app = use_app();
    let lang = app.lang;
    let state = app.lab.disks.pools.host.clone();
    // Replayed only when this panel's state changes, not on every click elsewhere on the page.
    let r = use_memo(state.clone(), replay_host);
    let disks = [
        (VM_DISK, allocation(state.fixed[0])),
        (VM_DISK, allocation(state.fixed[1])),
    ];
    let both = plan(SSD, &disks);
    // After a failed creation only the disks made before it exist: the table lists those.
    let existing = match &r.create_error {
        Some((failed, _)) if state.created => &disks[..*failed],
        _ => &disks[..],
    };
    let exact = plan(SSD, existing);
    let set_fixed = |vm: usize, fixed: bool| {
        edit_lab(&app, move |lab, _: MouseEvent| {
            let host = &mut lab.disks.pools.host;
            host.fixed[vm] = fixed;
            host.created = false;
            host.writes.clear();
        })
    };
    let create = edit_lab(&app, |lab, _: MouseEvent| {
        lab.disks.pools.host.created = true;
        lab.disks.pools.host.writes.clear();
    });
    let write = |vm: u8| {
        edit_lab(&app, move |lab, _: MouseEvent| {
            if lab.disks.pools.host.writes.len() < 64 {
                lab.disks.pools.host.writes.push(vm);
            }
        })
    };
    let capacity = r.pool.capacity();
    let used_by = |name: &str| {
        r.pool
            .disk(name)
            .ok()
            .and_then(|c| c.host_bytes().ok())
            .unwrap_or(0)
    };
    let used = [used_by(VM_NAMES[0]), used_by(VM_NAMES[1])];
    let free = capacity.saturating_sub(used[0] + used[1]);
    let created = state.created && r.create_error.is_none();
    let io_error = r.pool.events().iter().find_map(|e| match e {
        PoolEvent::GuestIoError { disk, .. } => Some(disk.clone()),
        _ => None,
    });
    let vm_label = |i: usize| format!("VM {}", i + 1);
    html! {
        <section class="lv-panel lv-host-ssd" aria-labelledby="lv-ssd-title">
            <h2 id="lv-ssd-title">{ SSD_TITLE.get(lang) }</h2>
            <p class="lv-note">{ SSD_INTRO.get(lang) }</p>
            <div class="lv-row">
                { for (0..2).map(|i| html! {
                    <fieldset class="lv-ssd-choice">
                        <legend>{ format!("{} · 128 GiB", vm_label(i)) }</legend>
                        <div class="lv-row" role="group" aria-label={format!("{} {}", vm_label(i), ALLOCATION.get(lang))}>
                            <button class="lv-button lv-ghost" aria-pressed={(!state.fixed[i]).to_string()}
                                onclick={set_fixed(i, false)}>{ DYNAMIC.get(lang) }</button>
                            <button class="lv-button lv-ghost" aria-pressed={state.fixed[i].to_string()}
                                onclick={set_fixed(i, true)}>{ FIXED.get(lang) }</button>
                        </div>
                    </fieldset>
                }) }
                <button class="lv-button" onclick={create}>{ CREATE.get(lang) }</button>
            </div>
            { plan_table(lang, &exact) }
            { gauge(lang, used, free, capacity) }
            <p class="lv-muted lv-note">{ SCALE_NOTE.get(lang) }</p>
            if created {
                <div class="lv-row">
                    { for (0..2u8).map(|vm| html! {
                        <button class="lv-button" onclick={write(vm)}>{ format!("{} {}", vm_label(usize::from(vm)), WRITES.get(lang)) }</button>
                    }) }
                </div>
            }
            if let Some((i, e)) = &r.create_error {
                <p class="lv-field-error lv-ssd-create-error" role="alert">{ format!("{}: {}", vm_label(*i), create_error_text(e, *i, &both, lang)) }</p>
            }
            if let Some(disk) = io_error {
                <p class="lv-verdict lv-verdict-bad lv-ssd-io-error" role="alert">{ format!("{}: {}",
                    vm_label(VM_NAMES.iter().position(|n| *n == disk).unwrap_or(0)), IO_ERROR.get(lang)) }</p>
            }
        </section>
    }
}

/// What the two disks take now and when full, the overcommit ratio, and how far short the SSD
/// falls.
fn plan_table(lang: Lang, exact: &labvisor_core::disk::pool::Plan) -> Html {
    let vm_label = |i: usize| format!("VM {}", i + 1);
    html! {
        <>
        <div class="lv-table-wrap" tabindex="0">
            <table class="lv-table lv-ssd-plan">
                <thead><tr>
                    <th scope="col"><span class="lv-sr">{ DISK.get(lang) }</span></th>
                    <th scope="col">{ NOW.get(lang) }</th>
                    <th scope="col">{ WHEN_FULL.get(lang) }</th>
                </tr></thead>
                <tbody>
                    { for exact.disks.iter().enumerate().map(|(i, d)| html! {
                        <tr><th scope="row">{ vm_label(i) }</th>
                            <td class="lv-mono">{ ByteSize(d.at_creation).to_string() }</td>
                            <td class="lv-mono">{ ByteSize(d.when_full).to_string() }</td></tr>
                    }) }
                    <tr><th scope="row">{ TOTAL.get(lang) }</th>
                        <td><span class="lv-mono">{ ByteSize(exact.at_creation).to_string() }</span>
                            <span class="lv-ssd-fit">{ fits(lang, exact.fits_at_creation) }</span></td>
                        <td><span class="lv-mono">{ ByteSize(exact.when_full).to_string() }</span>
                            <span class="lv-ssd-fit">{ fits(lang, exact.fits_when_full) }</span></td></tr>
                </tbody>
            </table>
        </div>
        <p class="lv-ssd-ratio">{ format!("{}: {} / {} = {:.2}", OVERCOMMIT.get(lang),
            ByteSize(exact.provisioned), ByteSize(exact.capacity), exact.overcommit_ratio) }</p>
        if !exact.fits_when_full {
            <p class="lv-note lv-ssd-short">{ format!("{} {}", SHORT_BY.get(lang), ByteSize(exact.when_full.saturating_sub(exact.capacity))) }</p>
        }
        </>
    }
}

/// The SSD as a bar: each VM's share and the free space, with its legend.
fn gauge(lang: Lang, used: [u64; 2], free: u64, capacity: u64) -> Html {
    html! {
        <>
        <figure class="lv-bar-figure">
            <figcaption class="lv-bar-caption">
                <span>{ GAUGE.get(lang) }</span>
                <span class="lv-ssd-used">{ format!("{:.1} %", percent(capacity - free, capacity)) }</span>
            </figcaption>
            <div class="lv-bar" role="img" aria-label={format!("{}: VM 1 {:.1} %, VM 2 {:.1} %, {} {:.1} %",
                GAUGE.get(lang), percent(used[0], capacity), percent(used[1], capacity), FREE_SPACE.get(lang), percent(free, capacity))}>
                <div class="lv-seg lv-seg-vm" style={format!("width: {:.2}%", percent(used[0], capacity))}></div>
                <div class="lv-seg lv-seg-reserve" style={format!("width: {:.2}%", percent(used[1], capacity))}></div>
                <div class="lv-seg lv-seg-free" style={format!("width: {:.2}%", percent(free, capacity))}></div>
            </div>
        </figure>
        <ul class="lv-legend">
            <li><span class="lv-swatch lv-swatch-vm"></span>{ "VM 1" }</li>
            <li><span class="lv-swatch lv-swatch-reserve"></span>{ "VM 2" }</li>
            <li><span class="lv-swatch lv-swatch-free"></span>{ FREE_SPACE.get(lang) }</li>
        </ul>
        </>
    }
}

fn fits(lang: Lang, yes: bool) -> &'static str {
    match (yes, lang) {
        (true, Lang::En) => "✓ fits",
        (false, Lang::En) => "✗ does not fit",
        (true, Lang::Ko) => "✓ 들어감",
        (false, Lang::Ko) => "✗ 안 들어감",
    }
}

const SSD_TITLE: Text = Text::new(
    "A 256 GiB host SSD, two 128 GiB disks",
    "256 GiB 호스트 SSD, 128 GiB 디스크 두 개",
);
const SSD_INTRO: Text = Text::new(
    "Choose fixed or dynamic for each VM's disk and create them. A fixed image takes its whole size now; a dynamic one grows as its guest writes, so the sizes promised can exceed the SSD (overcommit). Sizes are binary: a drive sold as \"256 GB\" (10⁹ bytes) holds only about 238 GiB.",
    "VM마다 디스크를 고정 크기 또는 동적 할당으로 골라 만드세요. 고정 크기 이미지는 지금 전체 크기를 차지하고, 동적 이미지는 게스트가 쓸수록 커지므로 약속한 크기의 합이 SSD보다 클 수 있습니다(오버커밋). 크기는 2진 단위입니다: \"256 GB\"(10⁹ 바이트)로 팔리는 드라이브는 약 238 GiB입니다.",
);
const ALLOCATION: Text = Text::new("allocation", "할당 방식");
const DYNAMIC: Text = Text::new("Dynamic", "동적 할당");
const FIXED: Text = Text::new("Fixed", "고정 크기");
const CREATE: Text = Text::new("Create the two disks", "디스크 두 개 만들기");
const NOW: Text = Text::new("Host spends now", "지금 호스트 사용량");
const DISK: Text = Text::new("Disk", "디스크");
const WHEN_FULL: Text = Text::new("When the guest fills it", "게스트가 가득 채우면");
const TOTAL: Text = Text::new("Both", "합계");
const OVERCOMMIT: Text = Text::new("Overcommit ratio", "오버커밋 비율");
const SHORT_BY: Text = Text::new(
    "Filled completely, the disks (data, headers and block maps) need more than the SSD holds, by",
    "가득 차면 디스크(데이터, 헤더, 블록 맵)가 SSD보다 더 필요로 하는 양:",
);
const GAUGE: Text = Text::new("Host SSD in use", "호스트 SSD 사용량");
const FREE_SPACE: Text = Text::new("free", "남은 공간");
const SCALE_NOTE: Text = Text::new(
    "The gauge runs the same VDI engine at 1 : 8192 (one 1 MiB block stands for 8 GiB); the table's figures are exact.",
    "게이지는 같은 VDI 엔진을 1 : 8192로 돌립니다(1 MiB 블록 하나가 8 GiB). 표의 수치는 정확한 값입니다.",
);
const WRITES: Text = Text::new("writes 32 GiB", "32 GiB 쓰기");
const IO_ERROR: Text = Text::new(
    "the host SSD is full: VirtualBox suspended the VM before the guest saw any error. Everything written before is intact.",
    "호스트 SSD가 가득 찼습니다: VirtualBox가 게스트가 오류를 보기 전에 VM을 일시 정지했습니다. 앞서 쓴 데이터는 그대로입니다.",
);

// ------------------------------------------------------------------ the timeline

/// The timeline's VM disk and pools (small: only what happens to them matters).
const TL_DISK: u64 = 16 * MIB;
const TL_NAME: &str = "vm";

/// The timeline replayed: each step's outcome, the host and the backup pool.
pub(crate) struct TimelineReplay {
    host: Pool,
    nas: Pool,
    steps: Vec<(TimelineOp, Result<String, String>)>,
}

pub(crate) fn replay_timeline(ops: &[TimelineOp], lang: Lang) -> TimelineReplay {
    let mut host = Pool::new("ssd", "host-a", 64 * MIB);
    let mut nas = Pool::new("nas", "office-nas", 64 * MIB);
    // Infallible: an empty 64 MiB pool has room for a 16 MiB dynamic disk.
    let _ = host.create_disk(TL_NAME, TL_DISK, Allocation::Dynamic, Uuid([1; 16]));
    let mut steps = Vec::new();
    let mut writes = 0u64;
    let mut snapshots = 0u8;
    for &op in ops {
        let outcome: Result<String, String> = match op {
            TimelineOp::Write => {
                writes += 1;
                host.guest_write(
                    TL_NAME,
                    (writes - 1) % (TL_DISK / MIB) * MIB,
                    &[writes as u8; 4096],
                )
                .map(|_| String::new())
                .map_err(|e| pool_error_text(&e, lang))
            }
            TimelineOp::Snapshot => {
                snapshots = snapshots.wrapping_add(1);
                host.take_snapshot(
                    TL_NAME,
                    Uuid([0x10 + snapshots; 16]),
                    &format!("snapshot {snapshots}"),
                )
                .map(|()| {
                    let n = host.disk(TL_NAME).map(|c| c.snapshots()).unwrap_or(0);
                    format!("{} {n}", SNAPSHOTS.get(lang))
                })
                .map_err(|e| pool_error_text(&e, lang))
            }
            TimelineOp::Backup => {
                // A new backup replaces the previous copy.
                let _ = nas.delete_disk(TL_NAME);
                backup(&host, TL_NAME, &mut nas)
                    .map(|b| {
                        format!(
                            "{} → {}: {}",
                            b.from_domain,
                            b.to_domain,
                            images(b.images, lang)
                        )
                    })
                    .map_err(|e| backup_error_text(&e, lang))
            }
            TimelineOp::FailHostDisk => {
                host.fail();
                match host.events().last() {
                    Some(PoolEvent::HostDiskDied { lost_images, .. }) => {
                        Ok(format!("{} {lost_images}", LOST.get(lang)))
                    }
                    _ => Ok(String::new()),
                }
            }
            TimelineOp::Restore => {
                if host.has_failed() {
                    host.replace_disk();
                }
                match nas.disk(TL_NAME) {
                    Err(_) => Err(NO_BACKUP.get(lang).to_string()),
                    Ok(_) => restore(&nas, TL_NAME, &mut host)
                        .map(|b| {
                            format!(
                                "{} → {}: {}",
                                b.from_domain,
                                b.to_domain,
                                images(b.images, lang)
                            )
                        })
                        .map_err(|e| backup_error_text(&e, lang)),
                }
            }
        };
        steps.push((op, outcome));
    }
    TimelineReplay { host, nas, steps }
}

fn backup_error_text(e: &BackupError, lang: Lang) -> String {
    match e {
        BackupError::Pool(p) => pool_error_text(p, lang),
        other => other.to_string(),
    }
}

fn op_text(op: TimelineOp) -> Text {
    match op {
        TimelineOp::Write => TL_WRITE,
        TimelineOp::Snapshot => TL_SNAPSHOT,
        TimelineOp::Backup => TL_BACKUP,
        TimelineOp::FailHostDisk => TL_FAIL,
        TimelineOp::Restore => TL_RESTORE,
    }
}

#[function_component]
fn Timeline() -> Html {
    let app = use_app();
    let lang = app.lang;
    let ops = app.lab.disks.pools.timeline.clone();
    let r = use_memo((ops, lang), |(ops, lang)| replay_timeline(ops, *lang));
    let push = |op: TimelineOp| {
        edit_lab(&app, move |lab, _: MouseEvent| {
            if lab.disks.pools.timeline.len() < 64 {
                lab.disks.pools.timeline.push(op);
            }
        })
    };
    let reset = edit_lab(&app, |lab, _: MouseEvent| lab.disks.pools.timeline.clear());
    let vm_state = match r.host.disk(TL_NAME) {
        Ok(chain) => format!(
            "{}: {} {} {}",
            VM_DISK_LABEL.get(lang),
            ALIVE.get(lang),
            SNAPSHOTS.get(lang),
            chain.snapshots()
        ),
        Err(_) => format!("{}: {}", VM_DISK_LABEL.get(lang), GONE.get(lang)),
    };
    let backup_state = match r.nas.disk(TL_NAME) {
        Ok(chain) => format!(
            "{}: {}",
            BACKUP_LABEL.get(lang),
            images(chain.images().len(), lang)
        ),
        Err(_) => format!("{}: {}", BACKUP_LABEL.get(lang), NONE.get(lang)),
    };
    let alive = r.host.disk(TL_NAME).is_ok();
    html! {
        <section class="lv-panel lv-timeline-panel" aria-labelledby="lv-timeline-title">
            <h2 id="lv-timeline-title">{ TL_TITLE.get(lang) }</h2>
            <p class="lv-note">{ TL_INTRO.get(lang) }</p>
            <div class="lv-row">
                <button class="lv-button" onclick={push(TimelineOp::Write)}>{ TL_WRITE.get(lang) }</button>
                <button class="lv-button" onclick={push(TimelineOp::Snapshot)}>{ TL_SNAPSHOT.get(lang) }</button>
                <button class="lv-button" onclick={push(TimelineOp::Backup)}>{ TL_BACKUP.get(lang) }</button>
                <button class="lv-button lv-danger" onclick={push(TimelineOp::FailHostDisk)}>{ TL_FAIL.get(lang) }</button>
                <button class="lv-button" onclick={push(TimelineOp::Restore)}>{ TL_RESTORE.get(lang) }</button>
                <button class="lv-button lv-ghost" onclick={reset}>{ RESET.get(lang) }</button>
            </div>
            <p class={classes!("lv-verdict", if alive { "lv-verdict-ok" } else { "lv-verdict-bad" }, "lv-timeline-vm")} role="status">
                { if alive { "✓ " } else { "✗ " } }{ vm_state }{ " · " }{ backup_state }
            </p>
            <ol class="lv-timeline" aria-label={TL_TITLE.get(lang)}>
                { for r.steps.iter().map(|(op, outcome)| {
                    let (class, detail) = match outcome {
                        Ok(d) => ("lv-tl-step lv-tl-ok", d.clone()),
                        Err(e) => ("lv-tl-step lv-tl-bad", format!("✗ {e}")),
                    };
                    html! { <li class={class}><strong>{ op_text(*op).get(lang) }</strong>
                        if !detail.is_empty() { <span class="lv-mono lv-muted">{ format!(" — {detail}") }</span> }</li> }
                }) }
            </ol>
        </section>
    }
}

const TL_TITLE: Text = Text::new("A snapshot is not a backup", "스냅샷은 백업이 아닙니다");
const TL_INTRO: Text = Text::new(
    "Snapshots live on the same host disk as the VM. Take some, write, back up into another failure domain (an office NAS), then let the host disk fail.",
    "스냅샷은 VM과 같은 호스트 디스크에 있습니다. 스냅샷을 찍고, 쓰고, 다른 장애 영역(사무실 NAS)에 백업한 뒤 호스트 디스크를 고장 내 보세요.",
);
const TL_WRITE: Text = Text::new("Guest writes", "게스트가 쓰기");
const TL_SNAPSHOT: Text = Text::new("Take a snapshot", "스냅샷 찍기");
const TL_BACKUP: Text = Text::new("Back up to the NAS", "NAS에 백업");
const TL_FAIL: Text = Text::new("Host disk fails", "호스트 디스크 고장");
const TL_RESTORE: Text = Text::new("Restore from the backup", "백업에서 복원");
const SNAPSHOTS: Text = Text::new("snapshots:", "스냅샷:");
/// A count of images as each language says it: "1 image", "2 images"; "이미지 2개".
fn images(count: usize, lang: Lang) -> String {
    match (lang, count) {
        (Lang::En, 1) => "1 image".to_string(),
        (Lang::En, n) => format!("{n} images"),
        (Lang::Ko, n) => format!("이미지 {n}개"),
    }
}
const LOST: Text = Text::new(
    "the VM and all its snapshots are gone; images lost:",
    "VM과 모든 스냅샷이 사라졌습니다. 잃은 이미지:",
);
const NO_BACKUP: Text = Text::new(
    "there is no backup to restore from: the VM is lost",
    "복원할 백업이 없습니다: VM을 잃었습니다",
);
const VM_DISK_LABEL: Text = Text::new("VM disk", "VM 디스크");
const ALIVE: Text = Text::new("on the host,", "호스트에 있음,");
const GONE: Text = Text::new("gone", "사라짐");
const BACKUP_LABEL: Text = Text::new("backup on the NAS", "NAS의 백업");
const NONE: Text = Text::new("none", "없음");

#[cfg(test)]
mod tests {
    use super::*;

    fn host(fixed: [bool; 2], writes: &[u8]) -> HostReplay {
        replay_host(&HostDisksState {
            fixed,
            created: true,
            writes: writes.to_vec(),
        })
    }

    #[test]
    fn two_dynamic_disks_overcommit_until_the_guests_fill_the_host() {
        let exact = plan(SSD, &[(VM_DISK, Allocation::Dynamic); 2]);
        assert_eq!(exact.overcommit_ratio, 1.0);
        assert!(exact.fits_at_creation && !exact.fits_when_full);
        let r = host([false; 2], &[]);
        assert!(r.create_error.is_none());
        assert!(r.pool.used() < 2 * 4096 + 1, "only headers and block maps");
        // Each guest fills its whole disk: the last chunk finds the host full.
        let r = host([false; 2], &[0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(r.writes.iter().filter(|(_, io)| *io).count(), 1);
        assert_eq!(r.writes.last(), Some(&(1, true)));
        assert!(r.pool.is_paused("vm2") && !r.pool.is_paused("vm1"));
        assert!(matches!(
            r.pool.events().last(),
            Some(PoolEvent::GuestIoError { disk, .. }) if disk == "vm2"
        ));
    }

    #[test]
    fn two_fixed_disks_do_not_fit_one_fixed_takes_its_size_now() {
        let r = host([true, true], &[]);
        assert!(matches!(
            r.create_error,
            Some((1, PoolError::DoesNotFit { .. }))
        ));
        let r = host([true, false], &[]);
        assert!(r.create_error.is_none());
        assert!(
            r.pool.used() > VM_DISK / SCALE,
            "the fixed disk is allocated up front"
        );
        let text = pool_error_text(&host([true, true], &[]).create_error.unwrap().1, Lang::Ko);
        assert!(text.contains("고정 크기"), "{text}");
    }

    fn summary(r: &Replay) -> (u64, Vec<BlockState>, Option<Text>, String, Option<String>) {
        let image = r.image.as_ref().expect("an image");
        (
            image.host_bytes().unwrap(),
            image.block_states().unwrap(),
            r.last,
            r.detail.clone(),
            r.error.clone(),
        )
    }

    #[test]
    fn the_page_cache_applies_only_new_ops_and_agrees_with_a_full_replay() {
        use DiskOp::*;
        let ops = [Write, Write, Write, DeleteFile, ZeroFree, Compact, Write];
        let mut cache = ReplayCache::default();
        for n in 0..=ops.len() {
            let cached = summary(cache.update(&ops[..n]));
            assert_eq!(cached, summary(&replay(&ops[..n])), "after {n} ops");
        }
        // Going back (undo, start over, a share link) replays from the start.
        let shorter = [Write, DeleteFile];
        assert_eq!(summary(cache.update(&shorter)), summary(&replay(&shorter)));
        assert_eq!(summary(cache.update(&[])), summary(&replay(&[])));
    }

    #[test]
    fn a_failed_fixed_disk_is_told_in_the_lessons_sizes_not_the_scale_models() {
        let r = host([true, true], &[]);
        let (failed, e) = r.create_error.expect("the second fixed disk does not fit");
        let exact = plan(SSD, &[(VM_DISK, Allocation::Fixed); 2]);
        let en = create_error_text(&e, failed, &exact, Lang::En);
        let short = exact.at_creation - SSD;
        assert!(
            short > 0 && short < 2 * MIB,
            "headers and block maps tip it over"
        );
        for figure in [VM_DISK, SSD, short, exact.disks[0].at_creation] {
            let figure = ByteSize(figure).to_string();
            assert!(en.contains(&figure), "{en} should say {figure}");
        }
        let scaled = ByteSize(VM_DISK / SCALE).to_string();
        assert!(!en.contains(&scaled), "no scaled figure ({scaled}): {en}");
        let ko = create_error_text(&e, failed, &exact, Lang::Ko);
        assert!(
            ko.contains(&ByteSize(VM_DISK).to_string()) && !ko.contains(&scaled),
            "{ko}"
        );
    }

    #[test]
    fn image_counts_read_naturally_in_both_languages() {
        assert_eq!(images(1, Lang::En), "1 image");
        assert_eq!(images(3, Lang::En), "3 images");
        assert_eq!(images(0, Lang::Ko), "이미지 0개");
    }

    #[test]
    fn the_host_disk_dies_with_its_snapshots_and_only_a_backup_brings_the_vm_back() {
        use TimelineOp::*;
        let r = replay_timeline(
            &[Write, Snapshot, Write, Snapshot, FailHostDisk, Restore],
            Lang::En,
        );
        assert!(
            r.host.disk(TL_NAME).is_err(),
            "no backup: the VM stays lost"
        );
        assert_eq!(
            r.steps.last().unwrap().1,
            Err(NO_BACKUP.get(Lang::En).to_string())
        );
        assert_eq!(r.steps[4].1, Ok(format!("{} 3", LOST.get(Lang::En))));

        let r = replay_timeline(
            &[Write, Snapshot, Write, Backup, FailHostDisk, Restore],
            Lang::En,
        );
        let chain = r.host.disk(TL_NAME).expect("restored from the backup");
        assert_eq!(chain.snapshots(), 1, "the snapshot came back with it");
        let mut byte = [0u8; 1];
        r.host.guest_read(TL_NAME, MIB, &mut byte).unwrap();
        assert_eq!(byte, [2], "the write after the snapshot is restored too");
    }
}
