//! One image, three instances: what a cloud does when it launches instances from one image
//! (an AMI, a VirtualBox appliance). The image is a VDI; each instance is a chain of that image
//! and a differencing VDI of its own (`labvisor_core::disk::snapshot::Chain`), so an instance's
//! writes land in its layer and the image, and every other instance, never change. The block
//! maps, host sizes and the image's checksum are the core's images' own.

use labvisor_core::disk::image::{Allocation, BlockState, CreateSpec, Format, Image};
use labvisor_core::disk::size::{ByteSize, MIB};
use labvisor_core::disk::snapshot::Chain;
use labvisor_core::disk::storage::MemStorage;
use labvisor_core::disk::vdi::Uuid;
use labvisor_core::lang::{Lang, Text};
use yew::prelude::*;

/// The image's virtual size: one cell per 1 MiB VDI block.
const IMAGE_SIZE: u64 = 16 * MIB;
/// The operating system written into the image before it is published.
const OS_SIZE: u64 = 6 * MIB;
/// Where the instances write their files, and each file's size.
const FILES_FROM: u64 = 8 * MIB;
const FILE_SIZE: u64 = 2 * MIB;
/// Files that fit after the OS.
const MAX_FILES: u64 = (IMAGE_SIZE - FILES_FROM) / FILE_SIZE;
const INSTANCES: usize = 3;

/// The image and the instances after the writes `writes` (instance numbers, in order).
pub(crate) struct Instances {
    image: Image<MemStorage>,
    chains: Vec<Chain<MemStorage>>,
    /// Files each instance wrote.
    files: [u64; INSTANCES],
    /// The image's checksum when it was published.
    published_crc: u32,
    error: Option<String>,
}

fn vdi_spec(uuid: u8) -> CreateSpec {
    CreateSpec {
        format: Format::Vdi,
        allocation: Allocation::Dynamic,
        virtual_size: IMAGE_SIZE,
        uuid: Uuid([uuid; 16]),
        modification_uuid: Uuid([uuid ^ 0xff; 16]),
    }
}

fn checksum(image: &Image<MemStorage>) -> u32 {
    crate::share::crc32(&image.storage().to_bytes())
}

pub(crate) fn replay(writes: &[u8]) -> Result<Instances, String> {
    let mut image = Image::create(MemStorage::new(), vdi_spec(0x1a), &mut |_, _| {})
        .map_err(|e| e.to_string())?;
    image
        .write(0, &vec![0x05; OS_SIZE as usize])
        .map_err(|e| e.to_string())?;
    let published_crc = checksum(&image);
    let mut chains = Vec::new();
    for k in 0..INSTANCES {
        let mut chain = Chain::new(image.clone());
        chain
            .take(
                MemStorage::new(),
                Uuid([0x30 + k as u8; 16]),
                Uuid([0x40 + k as u8; 16]),
                &format!("instance-{}", k + 1),
            )
            .map_err(|e| e.to_string())?;
        chains.push(chain);
    }
    let mut r = Instances {
        image,
        chains,
        files: [0; INSTANCES],
        published_crc,
        error: None,
    };
    for &k in writes {
        let k = usize::from(k);
        let (Some(chain), Some(files)) = (r.chains.get_mut(k), r.files.get_mut(k)) else {
            continue;
        };
        if *files >= MAX_FILES {
            continue;
        }
        let fill = 0x61 + k as u8;
        if let Err(e) = chain.write(
            FILES_FROM + *files * FILE_SIZE,
            &vec![fill; FILE_SIZE as usize],
        ) {
            r.error = Some(e.to_string());
            break;
        }
        *files += 1;
    }
    Ok(r)
}

/// What an instance's guest sees in each block: its own data, the image's, or nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Seen {
    Own,
    FromImage,
    Nothing,
}

impl Instances {
    /// What the published image holds, block by block.
    fn image_seen(&self) -> Vec<Seen> {
        let blocks = self.image.block_states().unwrap_or_default();
        blocks
            .iter()
            .map(|s| match s {
                BlockState::Data => Seen::FromImage,
                _ => Seen::Nothing,
            })
            .collect()
    }

    pub(crate) fn seen(&self, k: usize) -> Vec<Seen> {
        let own = self.chains[k].newest().block_states().unwrap_or_default();
        let mut seen = self.image_seen();
        for (b, state) in own.iter().enumerate() {
            if *state == BlockState::Data && b < seen.len() {
                seen[b] = Seen::Own;
            }
        }
        seen
    }

    /// Whether the image, as every instance reads it at the bottom of its chain, is still what
    /// was published.
    pub(crate) fn image_unchanged(&self) -> bool {
        self.chains
            .iter()
            .all(|c| checksum(&c.images()[0]) == self.published_crc)
    }

    fn layer_bytes(&self, k: usize) -> u64 {
        self.chains[k].newest().host_bytes().unwrap_or(0)
    }

    fn image_bytes(&self) -> u64 {
        self.image.host_bytes().unwrap_or(0)
    }
}

fn size(bytes: u64) -> String {
    ByteSize(bytes).to_string()
}

/// The panel: the image, the three instances, and what it all takes on the host.
#[function_component]
pub fn InstancesPanel() -> Html {
    let lang = crate::app::use_app().lang;
    let writes = use_state(Vec::<u8>::new);
    // Replayed, and the image checksummed (a CRC over every byte of three chains), only when
    // its own writes change, not on every click elsewhere on the page.
    let replayed = use_memo((*writes).clone(), |writes| {
        replay(writes).map(|r| {
            let unchanged = r.image_unchanged();
            (r, unchanged)
        })
    });
    let (r, unchanged) = match &*replayed {
        Ok((r, unchanged)) => (r, *unchanged),
        Err(e) => return html! { <p class="lv-field-error" role="alert">{ e.clone() }</p> },
    };
    let write = |k: u8| {
        let writes = writes.clone();
        Callback::from(move |_: MouseEvent| {
            let mut next = (*writes).clone();
            next.push(k);
            writes.set(next);
        })
    };
    let reset = {
        let writes = writes.clone();
        Callback::from(move |_: MouseEvent| writes.set(Vec::new()))
    };
    let map = |seen: &[Seen], label: String| {
        html! {
            <div class="lv-blockmap lv-blockmap-small" role="img" aria-label={label}>
                { for seen.iter().map(|s| {
                    let class = match s {
                        Seen::Own => "lv-block lv-block-data",
                        Seen::FromImage => "lv-block lv-block-image",
                        Seen::Nothing => "lv-block lv-block-free",
                    };
                    html! { <span class={class}></span> }
                }) }
            </div>
        }
    };
    let image_seen = r.image_seen();
    let layers: u64 = (0..INSTANCES).map(|k| r.layer_bytes(k)).sum();
    let total = r.image_bytes() + layers;
    let copies = INSTANCES as u64 * r.image_bytes();
    html! {
        <section class="lv-panel lv-instances" aria-labelledby="lv-inst-title">
            <h2 id="lv-inst-title">{ TITLE.get(lang) }</h2>
            <p>{ INTRO.get(lang) }</p>
            <div class="lv-inst-image">
                <h3>{ IMAGE.get(lang) }</h3>
                { map(&image_seen, IMAGE.get(lang).to_string()) }
                <p class={classes!("lv-mono", if unchanged { "lv-inst-same" } else { "lv-field-error" })} id="lv-inst-checksum">
                    { format!("CRC-32 {:08x} · {} · ", r.published_crc, size(r.image_bytes())) }
                    { if unchanged { UNCHANGED.get(lang) } else { CHANGED.get(lang) } }
                </p>
            </div>
            <div class="lv-inst-grid">
                { for (0..INSTANCES).map(|k| {
                    let name = format!("instance-{}", k + 1);
                    let files = r.files[k];
                    html! {
                        <div class="lv-inst" role="group" aria-label={name.clone()}>
                            <h3>{ name.clone() }</h3>
                            { map(&r.seen(k), format!("{name}: {}", SEES.get(lang))) }
                            <p class="lv-mono lv-small-text" id={format!("lv-inst-{}-layer", k + 1)}>
                                { format!("{} {} · {} {files}", LAYER.get(lang), size(r.layer_bytes(k)), FILES.get(lang)) }
                            </p>
                            <button class="lv-button lv-ghost lv-small" id={format!("lv-inst-write-{}", k + 1)}
                                disabled={files >= MAX_FILES} onclick={write(k as u8)}>
                                { format!("{} {name}", WRITE.get(lang)) }
                            </button>
                        </div>
                    }
                }) }
            </div>
            <ul class="lv-legend">
                <li><span class="lv-swatch lv-block-image"></span>{ FROM_IMAGE.get(lang) }</li>
                <li><span class="lv-swatch lv-block-data"></span>{ OWN.get(lang) }</li>
                <li><span class="lv-swatch lv-block-free"></span>{ NOTHING.get(lang) }</li>
            </ul>
            <p id="lv-inst-host">{ host_line(lang, r.image_bytes(), layers, total, copies) }</p>
            if let Some(e) = &r.error { <p class="lv-field-error" role="alert">{ e.clone() }</p> }
            <p class="lv-note">{ WHY.get(lang) }</p>
            <button class="lv-button lv-ghost" onclick={reset}>{ RESET.get(lang) }</button>
        </section>
    }
}

fn host_line(lang: Lang, image: u64, layers: u64, total: u64, copies: u64) -> String {
    let (image, layers, total, copies) = (size(image), size(layers), size(total), size(copies));
    match lang {
        Lang::En => format!("On the host: the image {image} once, plus the three layers {layers} = {total}. Three full copies would take {copies}."),
        Lang::Ko => format!("호스트에서: 이미지 {image} 한 번, 레이어 셋 {layers}, 합계 {total}. 완전한 사본 셋이라면 {copies}입니다."),
    }
}

const TITLE: Text = Text::new("One image, three instances", "이미지 하나, 인스턴스 셋");
const INTRO: Text = Text::new(
    "A published image (here a 16 MiB VDI holding an OS) is launched three times. Each instance reads through its own copy-on-write layer, a differencing VDI, to the same read-only image. Write a file in one instance and look at the others and at the image.",
    "게시된 이미지(여기서는 OS가 든 16 MiB VDI)로 인스턴스 셋을 띄웁니다. 인스턴스마다 자기만의 쓰기 시 복사 레이어(차이 VDI)를 거쳐 같은 읽기 전용 이미지를 읽습니다. 한 인스턴스에서 파일을 쓰고 다른 인스턴스와 이미지를 살펴보세요.",
);
const IMAGE: Text = Text::new("The image (read-only)", "이미지 (읽기 전용)");
const UNCHANGED: Text = Text::new(
    "unchanged since it was published",
    "게시된 뒤로 바뀌지 않음",
);
const CHANGED: Text = Text::new("changed!", "바뀜!");
const SEES: Text = Text::new("what its guest sees", "게스트가 보는 디스크");
const LAYER: Text = Text::new("own layer", "자기 레이어");
const FILES: Text = Text::new("files", "파일");
const WRITE: Text = Text::new("Write a 2 MiB file in", "2 MiB 파일 쓰기:");
const FROM_IMAGE: Text = Text::new("read from the image", "이미지에서 읽음");
const OWN: Text = Text::new(
    "written by this instance (its layer)",
    "이 인스턴스가 씀 (자기 레이어)",
);
const NOTHING: Text = Text::new("never written", "쓴 적 없음");
const RESET: Text = Text::new("Start over", "처음부터");
const WHY: Text = Text::new(
    "This is why an image is a template, not a VM's disk: clouds keep one copy of it and give each instance a copy-on-write volume, as VirtualBox does for linked clones and snapshots (differencing images, VirtualBox manual, \"Differencing Images\"). Deleting an instance deletes only its layer.",
    "그래서 이미지는 VM의 디스크가 아니라 틀입니다. 클라우드는 이미지를 한 벌만 두고 인스턴스마다 쓰기 시 복사 볼륨을 줍니다. VirtualBox가 연결된 복제와 스냅샷에 쓰는 차이 이미지와 같은 방식입니다(VirtualBox 매뉴얼 \"Differencing Images\"). 인스턴스를 지우면 그 레이어만 지워집니다.",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_lands_in_one_layer_and_the_image_never_changes() {
        let fresh = replay(&[]).unwrap();
        assert!(fresh.image_unchanged());
        assert_eq!(fresh.seen(0), fresh.seen(1));
        let os_blocks = (OS_SIZE / MIB) as usize;
        assert!(fresh.seen(0)[..os_blocks]
            .iter()
            .all(|s| *s == Seen::FromImage));

        let r = replay(&[1, 1, 0]).unwrap();
        assert_eq!(r.files, [1, 2, 0]);
        assert!(r.image_unchanged(), "writes never reach the image");
        let file = (FILES_FROM / MIB) as usize;
        assert_eq!(r.seen(1)[file..file + 4], [Seen::Own; 4]);
        assert_eq!(r.seen(0)[file..file + 2], [Seen::Own; 2]);
        assert_eq!(r.seen(2), fresh.seen(2), "instance-3 sees the image alone");
        // The layers hold only what each instance wrote: 2 MiB blocks each.
        assert!(
            r.layer_bytes(1) >= 2 * FILE_SIZE && r.layer_bytes(1) < r.image_bytes() + 2 * FILE_SIZE
        );
        assert!(
            r.layer_bytes(2) < MIB,
            "an unwritten layer is a header and a block map"
        );
        // Reading through the chain: instance-1 gets its own bytes, instance-3 zeros, both over
        // the same OS.
        let mut a = vec![0u8; 4];
        let mut c = vec![0u8; 4];
        r.chains[1].read(FILES_FROM, &mut a).unwrap();
        r.chains[2].read(FILES_FROM, &mut c).unwrap();
        assert_eq!((a[0], c[0]), (0x62, 0));
        r.chains[2].read(0, &mut c).unwrap();
        assert_eq!(c[0], 0x05);
    }

    #[test]
    fn a_full_instance_and_unknown_instances_change_nothing() {
        let full: Vec<u8> = vec![0; MAX_FILES as usize + 3];
        let r = replay(&full).unwrap();
        assert_eq!(r.files[0], MAX_FILES);
        assert!(r.error.is_none());
        let r = replay(&[7, 255]).unwrap();
        assert_eq!(r.files, [0, 0, 0]);
    }
}
