//! Writes the seed corpus, `fuzz/corpus/<target>/*.seed`, from the project's own fixtures: the
//! example scenarios, the lessons' folders and reference solutions, the action-log fixtures,
//! images the disk engine creates, packets and frames of the flows the NAT tests use, and
//! virtio requests as a guest driver lays them out. Run from `fuzz/`:
//! `cargo run --example seeds --no-default-features`. The seeds are checked in (what the
//! fuzzer adds beside them is not); every seed also runs through its check in the crates'
//! `fuzz_regressions` tests.

use std::fs;
use std::path::Path;

use etherparse::PacketBuilder;
use labvisor_core::disk::image::{Allocation, CreateSpec, Format, Image};
use labvisor_core::disk::storage::MemStorage;
use labvisor_core::disk::vdi::Uuid;
use labvisor_fuzz::wire::{live_flow_packets, EXTERNAL};
use labvisor_lessons::{curriculum, ActionLog};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = root.parent().expect("fuzz/ is inside the project");
    let corpus = root.join("corpus");
    let mut writer = Writer { corpus: &corpus };
    parsers(&mut writer);
    scenarios(&mut writer, project);
    lessons(&mut writer, project);
    actions(&mut writer, project);
    disk_images(&mut writer);
    wire(&mut writer);
    gateway(&mut writer);
    virtio(&mut writer);
}

struct Writer<'a> {
    corpus: &'a Path,
}

impl Writer<'_> {
    fn seed(&mut self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.corpus.join(target);
        fs::create_dir_all(&dir).expect("can create the corpus folder");
        fs::write(dir.join(format!("{name}.seed")), bytes).expect("can write a seed");
    }
}

fn parsers(w: &mut Writer) {
    let lines = [
        "10.0.2.15",
        "010.0.0.1",
        "192.168.0.0/24",
        "0.0.0.0/0",
        "10.0.2.15/31",
        "22",
        "65535",
        "128G",
        "1.5GiB",
        "16GB",
        "20%",
        "web=2:4G:20G",
        "ssh,tcp,,2222,,22",
        "ssh,tcp,127.0.0.1,2222,10.0.2.15,22",
        "hostfwd=tcp:127.0.0.1:2222-:22",
        "ssh:tcp:[]:2222:[10.0.2.15]:22",
        "-p 8080:80/udp",
        "127.0.0.1:8080:80",
    ];
    for (i, line) in lines.iter().enumerate() {
        w.seed("parsers", &format!("line-{i:02}"), line.as_bytes());
    }
    w.seed(
        "parsers",
        "plan",
        b"8 16G 512G\nweb=2:4G:20G\ndb=4:8G:100G\n2:2048\n",
    );
}

fn scenarios(w: &mut Writer, project: &Path) {
    for entry in read_dir(&project.join("core/src/net/examples")) {
        let name = entry.file_name().to_string_lossy().into_owned();
        w.seed(
            "scenario",
            &name,
            &fs::read(entry.path()).expect("readable"),
        );
    }
}

fn lessons(w: &mut Writer, project: &Path) {
    for entry in read_dir(&project.join("lessons/content")) {
        if !entry.path().is_dir() {
            continue;
        }
        let parts: Vec<String> = ["lesson.toml", "en.md", "ko.md"]
            .iter()
            .map(|f| fs::read_to_string(entry.path().join(f)).unwrap_or_default())
            .collect();
        let name = entry.file_name().to_string_lossy().into_owned();
        let seed = [&[name.clone()][..], &parts].concat().join("\0");
        w.seed("lesson", &name, seed.as_bytes());
        // The exercises' inline action lists are TOML action files too.
        for (i, line) in parts[0]
            .lines()
            .filter(|l| l.starts_with("actions = ["))
            .enumerate()
        {
            w.seed(
                "actions",
                &format!("toml-{name}-{i}"),
                &[&[1], line.as_bytes()].concat(),
            );
        }
    }
}

fn actions(w: &mut Writer, project: &Path) {
    let fixtures = project.join("lessons/tests/fixtures");
    let json = fs::read(fixtures.join("action-log-v2.json")).expect("the v2 JSON fixture");
    w.seed("actions", "json-v2-fixture", &[&[0], &json[..]].concat());
    let bin = fs::read(fixtures.join("action-log-v2.bin")).expect("the v2 postcard fixture");
    w.seed("actions", "bin-v2-fixture", &[&[2], &bin[..]].concat());
    w.seed("share_code", "v2-fixture", base64url(&bin).as_bytes());
    let course = curriculum().expect("the embedded curriculum loads");
    for lesson in &course.lessons {
        for exercise in &lesson.exercises {
            let log = ActionLog {
                lesson: lesson.id.clone(),
                exercise: exercise.id.clone(),
                actions: exercise.solution.clone(),
            };
            let name = format!("{}-{}", lesson.id, exercise.id);
            let json = serde_json::to_vec(&log).expect("a log serializes");
            w.seed(
                "actions",
                &format!("json-{name}"),
                &[&[0], &json[..]].concat(),
            );
            w.seed(
                "actions",
                &format!("bin-{name}"),
                &[&[2], &log.to_postcard()[..]].concat(),
            );
            w.seed("share_code", &name, log.to_share_code().as_bytes());
        }
    }
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// An operation record of the disk_image target: `[kind][offset: u32 LE][length: u16 LE][fill]`.
fn disk_op(kind: u8, sector: u32, len: u16, fill: u8) -> Vec<u8> {
    let mut op = vec![kind];
    op.extend_from_slice(&sector.to_le_bytes());
    op.extend_from_slice(&len.to_le_bytes());
    op.push(fill);
    op
}

fn disk_images(w: &mut Writer) {
    let ops: Vec<u8> = [
        disk_op(0, 0, 4096, 0x11),      // write at 0
        disk_op(0, 2047, 1024, 0x22),   // write across the first block's end
        disk_op(5, 0, 8192, 0),         // read
        disk_op(1, 4096, 512, 0),       // zero-fill in block 2
        disk_op(3, 0, 4096, 0),         // delete a file
        disk_op(2, 2048, 0xffff, 0x80), // discard most of block 1 (length × 32)
        disk_op(4, 0, 0, 0),            // compact
        disk_op(0, 9000, 16, 0x33),     // write past the end: refused
    ]
    .concat();
    let kinds = [
        ("vdi-dynamic", Format::Vdi, Allocation::Dynamic),
        ("vdi-fixed", Format::Vdi, Allocation::Fixed),
        ("raw-sparse", Format::Raw, Allocation::Dynamic),
    ];
    for (name, format, allocation) in kinds {
        let spec = CreateSpec {
            format,
            allocation,
            virtual_size: 4 << 20,
            uuid: Uuid([1; 16]),
            modification_uuid: Uuid([2; 16]),
        };
        let mut image =
            Image::create(MemStorage::new(), spec, &mut |_, _| {}).expect("a small image");
        image.write(0, &[0x5a; 4096]).expect("a first write");
        let bytes = image.storage().to_bytes();
        let (flags, head, tail_blocks) = match format {
            // Header and block map; the data blocks come back as zeroed tail blocks.
            Format::Vdi => (0u8, &bytes[..1024], bytes.len().div_ceil(1 << 20) as u8),
            Format::Raw => (1u8, &bytes[..8192], 0),
        };
        let mut seed = vec![flags, tail_blocks];
        seed.extend_from_slice(&(head.len() as u16).to_le_bytes());
        seed.extend_from_slice(head);
        seed.extend_from_slice(&ops);
        w.seed("disk_image", name, &seed);
    }
}

/// A record of the wire target: `[control][length][packet]`; control bit 0 = inbound, bit 1 =
/// fix checksums, bits 2–7 = seconds to wait first.
fn wire_record(inbound: bool, wait: u8, packet: &[u8]) -> Vec<u8> {
    let control = u8::from(inbound) | 2 | wait << 2;
    [&[control, packet.len() as u8][..], packet].concat()
}

fn wire(w: &mut Writer) {
    let ext = EXTERNAL.octets();
    let mut udp_reply = Vec::new();
    PacketBuilder::ipv4([8, 8, 8, 8], ext, 60)
        .udp(53, 40000)
        .write(&mut udp_reply, b"dns answer")
        .expect("writes to a Vec");
    let mut syn_ack = Vec::new();
    PacketBuilder::ipv4([93, 184, 216, 34], ext, 60)
        .tcp(80, 40001, 5000, 65535)
        .syn()
        .ack(1001)
        .write(&mut syn_ack, b"")
        .expect("writes to a Vec");
    let mut forwarded = Vec::new();
    PacketBuilder::ipv4([198, 51, 100, 9], ext, 60)
        .tcp(50000, 2222, 1, 65535)
        .syn()
        .write(&mut forwarded, b"")
        .expect("writes to a Vec");
    let mut echo_reply = Vec::new();
    PacketBuilder::ipv4([1, 1, 1, 1], ext, 60)
        .icmpv4_echo_reply(7, 1)
        .write(&mut echo_reply, b"ping")
        .expect("writes to a Vec");
    // Port unreachable about the translated DNS query: the quote is the query as it left.
    let mut quote = live_flow_packets()[0].clone();
    quote[12..16].copy_from_slice(&ext);
    let mut unreachable = vec![3, 3, 0, 0, 0, 0, 0, 0];
    unreachable.extend_from_slice(&quote[..28]);
    let mut icmp_error = Vec::new();
    PacketBuilder::ipv4([8, 8, 8, 8], ext, 60)
        .write(&mut icmp_error, etherparse::IpNumber::ICMP, &unreachable)
        .expect("writes to a Vec");

    let outbound = live_flow_packets();
    w.seed(
        "wire",
        "outbound",
        &outbound
            .iter()
            .flat_map(|p| wire_record(false, 0, p))
            .collect::<Vec<_>>(),
    );
    w.seed(
        "wire",
        "replies",
        &[
            wire_record(true, 0, &udp_reply),
            wire_record(true, 1, &syn_ack),
            wire_record(true, 0, &echo_reply),
        ]
        .concat(),
    );
    w.seed("wire", "port-forward", &wire_record(true, 0, &forwarded));
    w.seed("wire", "icmp-error", &wire_record(true, 0, &icmp_error));
    w.seed("wire", "expired", &wire_record(true, 63, &udp_reply));
}

const GUEST_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const GATEWAY_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x35, 0x02];

/// A record of the gateway target: `[seconds to wait][length: u16 LE][frame]`.
fn frame_record(wait: u8, frame: &[u8]) -> Vec<u8> {
    [&[wait][..], &(frame.len() as u16).to_le_bytes(), frame].concat()
}

fn gateway(w: &mut Writer) {
    let guest = [10, 0, 2, 15];
    let mut arp = Vec::new();
    arp.extend_from_slice(&[0xff; 6]);
    arp.extend_from_slice(&GUEST_MAC);
    arp.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
    arp.extend_from_slice(&GUEST_MAC);
    arp.extend_from_slice(&guest);
    arp.extend_from_slice(&[0; 6]);
    arp.extend_from_slice(&[10, 0, 2, 2]);

    let mut bootp = vec![0u8; 240];
    bootp[..4].copy_from_slice(&[1, 1, 6, 0]);
    bootp[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    bootp[28..34].copy_from_slice(&GUEST_MAC);
    bootp[236..240].copy_from_slice(&[99, 130, 83, 99]);
    let discover = [&bootp[..], &[53, 1, 1, 55, 3, 1, 3, 6, 255]].concat();
    let request = [
        &bootp[..],
        &[53, 1, 3, 50, 4, 10, 0, 2, 15, 54, 4, 10, 0, 2, 2, 255],
    ]
    .concat();
    let dhcp = |payload: &[u8]| {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(GUEST_MAC, [0xff; 6])
            .ipv4([0, 0, 0, 0], [255, 255, 255, 255], 64)
            .udp(68, 67)
            .write(&mut out, payload)
            .expect("writes to a Vec");
        out
    };
    let mut ping = Vec::new();
    PacketBuilder::ethernet2(GUEST_MAC, GATEWAY_MAC)
        .ipv4(guest, [10, 0, 2, 2], 64)
        .icmpv4_echo_request(1, 1)
        .write(&mut ping, b"ping the gateway")
        .expect("writes to a Vec");
    let mut dns = Vec::new();
    PacketBuilder::ethernet2(GUEST_MAC, GATEWAY_MAC)
        .ipv4(guest, [10, 0, 2, 3], 64)
        .udp(41000, 53)
        .write(&mut dns, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01")
        .expect("writes to a Vec");
    let mut syn = Vec::new();
    PacketBuilder::ethernet2(GUEST_MAC, GATEWAY_MAC)
        .ipv4(guest, [93, 184, 216, 34], 64)
        .tcp(42000, 80, 1, 65535)
        .syn()
        .write(&mut syn, b"")
        .expect("writes to a Vec");
    let mut ntp = Vec::new();
    PacketBuilder::ethernet2(GUEST_MAC, GATEWAY_MAC)
        .ipv4(guest, [8, 8, 8, 8], 64)
        .udp(43000, 123)
        .write(&mut ntp, &[0x1b; 48])
        .expect("writes to a Vec");
    let mut to_host = Vec::new();
    PacketBuilder::ethernet2(GUEST_MAC, GATEWAY_MAC)
        .ipv4(guest, [10, 0, 2, 2], 64)
        .udp(44000, 8080)
        .write(&mut to_host, b"to the host's loopback")
        .expect("writes to a Vec");

    w.seed(
        "gateway",
        "boot",
        &[
            frame_record(0, &dhcp(&discover)),
            frame_record(0, &dhcp(&request)),
            frame_record(0, &arp),
            frame_record(1, &ping),
            frame_record(0, &dns),
            frame_record(0, &syn),
            frame_record(0, &ntp),
            frame_record(0, &to_host),
        ]
        .concat(),
    );
    w.seed("gateway", "arp", &frame_record(0, &arp));
    w.seed(
        "gateway",
        "dhcp-discover",
        &frame_record(0, &dhcp(&discover)),
    );
    w.seed(
        "gateway",
        "udp-then-expiry",
        &[frame_record(0, &ntp), frame_record(200, &ntp)].concat(),
    );
}

/// Guest memory with `(address, bytes)` pieces placed, as the virtio target's ram.
fn ram(pieces: &[(usize, &[u8])]) -> Vec<u8> {
    let end = pieces.iter().map(|(at, b)| at + b.len()).max().unwrap_or(0);
    let mut ram = vec![0u8; end];
    for (at, bytes) in pieces {
        ram[*at..*at + bytes.len()].copy_from_slice(bytes);
    }
    ram
}

fn descriptor(addr: u64, len: u32, flags: u16, next: u16) -> Vec<u8> {
    [
        &addr.to_le_bytes()[..],
        &len.to_le_bytes(),
        &flags.to_le_bytes(),
        &next.to_le_bytes(),
    ]
    .concat()
}

/// An available ring offering descriptor heads `heads`.
fn avail(heads: &[u16]) -> Vec<u8> {
    let mut ring = vec![0, 0];
    ring.extend_from_slice(&(heads.len() as u16).to_le_bytes());
    for head in heads {
        ring.extend_from_slice(&head.to_le_bytes());
    }
    ring
}

/// An operation of the virtio target: `[kind][offset: u16 LE][value: u32 LE][width]`.
fn virtio_op(kind: u8, offset: u16, value: u32, width: u8) -> Vec<u8> {
    [
        &[kind][..],
        &offset.to_le_bytes(),
        &value.to_le_bytes(),
        &[width],
    ]
    .concat()
}

fn virtio_seed(device: u8, read_only: u8, ram: &[u8], ops: &[Vec<u8>]) -> Vec<u8> {
    [
        &[device, read_only][..],
        &(ram.len() as u16).to_le_bytes(),
        ram,
        &ops.concat(),
    ]
    .concat()
}

fn virtio(w: &mut Writer) {
    const NEXT: u16 = 1;
    const WRITE: u16 = 2;
    let header =
        |kind: u32, sector: u64| [&kind.to_le_bytes()[..], &[0; 4], &sector.to_le_bytes()].concat();
    let chain = |data_flags: u16| {
        [
            descriptor(0x6000, 16, NEXT, 1),
            descriptor(0x7000, 1024, NEXT | data_flags, 2),
            descriptor(0x6100, 1, WRITE, 0),
        ]
        .concat()
    };
    let notify = |queue: u8| virtio_op(2, 0, u32::from(queue), 3);
    let read_regs: Vec<Vec<u8>> = [
        0x000u16, 0x008, 0x010, 0x034, 0x044, 0x060, 0x070, 0x0fc, 0x100, 0x108,
    ]
    .iter()
    .map(|&r| virtio_op(1, r, 0, 3))
    .collect();
    let read_ram = ram(&[
        (0, &chain(WRITE)),
        (0x1000, &avail(&[0])),
        (0x6000, &header(0, 2)),
    ]);
    let write_ram = ram(&[
        (0, &chain(0)),
        (0x1000, &avail(&[0])),
        (0x6000, &header(1, 120)),
        (0x7000, &[0xa5; 1024]),
    ]);
    w.seed(
        "virtio",
        "blk-read",
        &virtio_seed(0, 0, &read_ram, &[notify(0)]),
    );
    w.seed(
        "virtio",
        "blk-write",
        &virtio_seed(0, 0, &write_ram, &[notify(0)]),
    );
    w.seed(
        "virtio",
        "blk-write-read-only",
        &virtio_seed(0, 1, &write_ram, &[notify(0)]),
    );
    w.seed(
        "virtio",
        "blk-registers",
        &virtio_seed(0, 0, &[], &read_regs),
    );
    // A second request appears after the first is done: the guest writes its ring again.
    let again = [virtio_op(3, 0x1000 / 4, 0x0002_0000, 3), notify(0)];
    w.seed(
        "virtio",
        "blk-twice",
        &virtio_seed(0, 0, &read_ram, &[vec![notify(0)], again.to_vec()].concat()),
    );

    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0xff; 6]);
    frame.extend_from_slice(&GUEST_MAC);
    frame.extend_from_slice(&[0x08, 0x06]);
    frame.resize(12 + 60, 0);
    let net_ram = ram(&[
        (0, &descriptor(0x6000, 2048, WRITE, 0)),
        (0x1000, &avail(&[0])),
        (0x3000, &descriptor(0x8000, frame.len() as u32, 0, 0)),
        (0x4000, &avail(&[0])),
        (0x8000, &frame),
    ]);
    w.seed(
        "virtio",
        "net-tx-rx",
        &virtio_seed(1, 0, &net_ram, &[notify(1), notify(0)]),
    );
    w.seed(
        "virtio",
        "net-registers",
        &virtio_seed(1, 0, &[], &read_regs),
    );
}

fn read_dir(dir: &Path) -> Vec<fs::DirEntry> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry"))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    entries
}
