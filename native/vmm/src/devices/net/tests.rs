use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

use super::driver::{memory_bytes, HostDriver};
use super::*;
use crate::devices::virtio_mmio::{reg, MmioTransport};

const BUFFER: u32 = 2048;

struct Rig {
    link: Arc<Link>,
    transport: Arc<Mutex<MmioTransport>>,
    mem: GuestMemoryMmap,
}

fn rig(mem_bytes: usize) -> Rig {
    let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), mem_bytes)]).unwrap();
    let link = Arc::new(Link::default());
    let device = VirtioNet::new(DEFAULT_MAC, link.clone());
    let transport = MmioTransport::new(Some(Box::new(device)), mem.clone()).unwrap();
    Rig {
        link,
        transport: Arc::new(Mutex::new(transport)),
        mem,
    }
}

fn started(buffer: u32) -> (Rig, HostDriver) {
    // 4 MiB more than the driver needs, for chains built by hand.
    let rig = rig(memory_bytes(buffer) + (4 << 20));
    let driver = HostDriver::start(rig.transport.clone(), rig.mem.clone(), buffer).unwrap();
    (rig, driver)
}

fn from_guest(link: &Link) -> Vec<Vec<u8>> {
    let mut frames = VecDeque::new();
    link.take_from_guest(&mut frames);
    frames.into()
}

fn frame(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[test]
fn config_space_holds_the_mac_and_link_up() {
    let (rig, driver) = started(BUFFER);
    assert_eq!(driver.mac, DEFAULT_MAC);
    let mut status = [0u8; 2];
    rig.transport
        .lock()
        .unwrap()
        .read(reg::CONFIG + config::STATUS, &mut status);
    assert_eq!(u16::from_le_bytes(status), LINK_UP);
}

#[test]
fn a_sent_frame_reaches_the_link_without_its_header_and_wakes_the_backend() {
    let (rig, mut driver) = started(BUFFER);
    let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let w = woken.clone();
    rig.link.on_guest_frames(move || {
        w.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let frames: Vec<Vec<u8>> = (0..300).map(|i| frame(60 + i % 1400, i as u8)).collect();
    assert_eq!(driver.send_batch(frames.iter().map(Vec::as_slice)), 300);
    assert_eq!(from_guest(&rig.link), frames);
    assert!(woken.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    let c = rig.link.counters();
    assert_eq!((c.tx_frames, c.tx_malformed), (300, 0));
}

#[test]
fn frames_for_the_guest_fill_its_buffers_on_a_poll() {
    let (rig, mut driver) = started(BUFFER);
    let frames: Vec<Vec<u8>> = (0..400).map(|i| frame(42 + i % 1472, i as u8)).collect();
    let mut got = Vec::new();
    for f in &frames {
        assert!(rig.link.send_to_guest(f.clone()));
        rig.transport.lock().unwrap().poll(RX_QUEUE);
        got.extend(driver.receive());
    }
    assert_eq!(got, frames);
    assert_eq!(rig.link.counters().rx_frames, 400);
}

#[test]
fn frames_wait_for_buffers_and_arrive_when_the_guest_gives_some() {
    let (rig, mut driver) = started(BUFFER);
    let frames: Vec<Vec<u8>> = (0..600).map(|i| frame(100, i as u8)).collect();
    for f in &frames {
        rig.link.send_to_guest(f.clone());
    }
    rig.transport.lock().unwrap().poll(RX_QUEUE);
    assert_eq!(rig.link.pending_for_guest(), 600 - 256, "one queue's worth");
    let mut got = Vec::new();
    while got.len() < frames.len() {
        // Giving buffers back notifies the RX queue, which takes more frames.
        let more = driver.receive();
        assert!(!more.is_empty(), "progress");
        got.extend(more);
    }
    assert_eq!(got, frames);
}

#[test]
fn a_frame_too_big_for_the_guests_buffer_is_dropped_and_the_buffer_kept() {
    let (rig, mut driver) = started(BUFFER);
    rig.link.send_to_guest(frame(4000, 1));
    rig.link.send_to_guest(frame(80, 2));
    rig.transport.lock().unwrap().poll(RX_QUEUE);
    assert_eq!(driver.receive(), vec![frame(80, 2)]);
    assert_eq!(rig.link.counters().rx_dropped_too_big, 1);
}

#[test]
fn a_link_queue_full_of_frames_drops_and_counts_the_rest() {
    let rig = rig(1 << 20);
    for i in 0..LINK_QUEUE_FRAMES + 5 {
        rig.link.send_to_guest(frame(60, i as u8));
    }
    assert_eq!(rig.link.pending_for_guest(), LINK_QUEUE_FRAMES);
    assert_eq!(rig.link.counters().rx_dropped_full, 5);
}

/// Builds one TX chain of (addr, len, flags) descriptors by hand at the driver's TX ring and
/// notifies; the ring layout is the driver's (TX rings after the RX queue's buffers).
fn submit_tx_chain(rig: &Rig, chain: &[(u64, u32, u16)]) {
    let tx_base = (0x4000u64 + 256 * u64::from(BUFFER)).next_multiple_of(0x1000);
    for (i, &(addr, len, flags)) in chain.iter().enumerate() {
        let at = tx_base + 16 * i as u64;
        let flags = if i + 1 < chain.len() {
            flags | 1
        } else {
            flags
        };
        rig.mem.write_obj(addr, GuestAddress(at)).unwrap();
        rig.mem.write_obj(len, GuestAddress(at + 8)).unwrap();
        rig.mem.write_obj(flags, GuestAddress(at + 12)).unwrap();
        rig.mem
            .write_obj((i + 1) as u16, GuestAddress(at + 14))
            .unwrap();
    }
    let avail = tx_base + 0x1000;
    let index: u16 = rig.mem.read_obj(GuestAddress(avail + 2)).unwrap();
    rig.mem
        .write_obj(0u16, GuestAddress(avail + 4 + 2 * u64::from(index % 256)))
        .unwrap();
    rig.mem
        .write_obj(index.wrapping_add(1), GuestAddress(avail + 2))
        .unwrap();
    rig.transport
        .lock()
        .unwrap()
        .write(reg::QUEUE_NOTIFY, &1u32.to_le_bytes());
}

#[test]
fn a_tx_chain_scattered_over_buffers_is_gathered_into_one_frame() {
    let (rig, _driver) = started(BUFFER);
    let f = frame(300, 9);
    let mut bytes = vec![0u8; HEADER_LEN];
    bytes.extend(&f);
    // The header split in two, the frame in three uneven pieces.
    let pieces = [5usize, 7, 100, 1, 199];
    let mut at = 0usize;
    let mut chain = Vec::new();
    for (i, n) in pieces.iter().enumerate() {
        let addr = 0x30_0000 + 0x1000 * i as u64;
        rig.mem
            .write_slice(&bytes[at..at + n], GuestAddress(addr))
            .unwrap();
        chain.push((addr, *n as u32, 0));
        at += n;
    }
    submit_tx_chain(&rig, &chain);
    assert_eq!(from_guest(&rig.link), vec![f]);
}

#[test]
fn malformed_tx_chains_are_completed_and_counted_never_forwarded() {
    let (rig, _driver) = started(BUFFER);
    let huge = (MAX_CHAIN_BYTES / 2 + 1) as u32;
    let cases: [&[(u64, u32, u16)]; 4] = [
        &[(0x1000, 4, 0)],                 // shorter than the header
        &[(0x1000, 64, 2)],                // device-writable
        &[(0x0, huge, 0), (0x0, huge, 0)], // longer than any frame: refused uncopied
        &[(0xffff_ffff_0000, 64, 0)],      // outside guest memory
    ];
    for chain in cases {
        submit_tx_chain(&rig, chain);
    }
    assert!(from_guest(&rig.link).is_empty());
    assert_eq!(rig.link.counters().tx_malformed, 4);
}

/// An Ethernet frame with an IPv4 TCP segment carrying `payload`, its checksum field holding
/// the pseudo-header's sum (as a driver using checksum offload leaves it), and the header that
/// asks the device to finish it.
fn tcp_frame_for_offload(payload: &[u8]) -> ([u8; HEADER_LEN], Vec<u8>) {
    let (src, dst) = ([10, 0, 2, 15], [10, 0, 2, 2]);
    let tcp_len = 20 + payload.len();
    let mut f = vec![0u8; 14];
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&src);
    ip[16..20].copy_from_slice(&dst);
    let ip_sum = labvisor_core::net::wire::checksum(&ip);
    ip[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    f.extend(ip);
    let mut tcp = [0u8; 20];
    tcp[0..2].copy_from_slice(&40_000u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&7u16.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = 0x18;
    tcp[14..16].copy_from_slice(&1024u16.to_be_bytes());
    let mut pseudo = Vec::from(src);
    pseudo.extend(dst);
    pseudo.extend([0, 6]);
    pseudo.extend((tcp_len as u16).to_be_bytes());
    let pseudo_sum = labvisor_core::net::wire::ones_sum(&pseudo);
    tcp[16..18].copy_from_slice(&pseudo_sum.to_be_bytes());
    f.extend(tcp);
    f.extend(payload);
    let mut header = [0u8; HEADER_LEN];
    header[header::FLAGS] = NEEDS_CSUM;
    header[header::CSUM_START..header::CSUM_START + 2].copy_from_slice(&34u16.to_le_bytes());
    header[header::CSUM_OFFSET..header::CSUM_OFFSET + 2].copy_from_slice(&16u16.to_le_bytes());
    (header, f)
}

fn submit_with_header(rig: &Rig, header: [u8; HEADER_LEN], frame: &[u8]) {
    let mut bytes = Vec::from(header);
    bytes.extend(frame);
    rig.mem
        .write_slice(&bytes, GuestAddress(0x30_0000))
        .unwrap();
    submit_tx_chain(rig, &[(0x30_0000, bytes.len() as u32, 0)]);
}

#[test]
fn the_device_offers_checksum_offload_and_finishes_a_tcp_checksum() {
    let (rig, _driver) = started(BUFFER);
    let offered = VirtioNet::new(DEFAULT_MAC, rig.link.clone()).features();
    assert_ne!(offered & feature::CSUM, 0, "VIRTIO_NET_F_CSUM offered");
    let (header, frame) = tcp_frame_for_offload(b"hello, offload");
    submit_with_header(&rig, header, &frame);
    let sent = from_guest(&rig.link);
    assert_eq!(sent.len(), 1);
    let eth = smoltcp::wire::EthernetFrame::new_checked(&sent[0][..]).unwrap();
    let ip = smoltcp::wire::Ipv4Packet::new_checked(eth.payload()).unwrap();
    let tcp = smoltcp::wire::TcpPacket::new_checked(ip.payload()).unwrap();
    assert!(
        tcp.verify_checksum(&ip.src_addr().into(), &ip.dst_addr().into()),
        "the checksum the device wrote is right"
    );
    assert_eq!(tcp.payload(), b"hello, offload");
    // Only the checksum changed.
    assert_eq!(sent[0][..50], frame[..50]);
    assert_eq!(sent[0][52..], frame[52..]);
}

#[test]
fn a_finished_checksum_of_zero_goes_out_as_all_ones() {
    let (rig, _driver) = started(BUFFER);
    // A UDP datagram whose last two payload bytes make the whole sum 0xffff, so that the
    // complement, the checksum, is zero: UDP reads a zero as "no checksum" (RFC 768).
    let mut payload = [0x12, 0x34, 0, 0];
    let frame_with = |payload: &[u8]| {
        let (mut header, mut f) = tcp_frame_for_offload(payload);
        f[14 + 9] = 17;
        let udp_len = (8 + payload.len()) as u16;
        let ip_len = 20 + udp_len;
        f[16..18].copy_from_slice(&ip_len.to_be_bytes());
        f[24..26].copy_from_slice(&[0, 0]);
        let ip_sum = labvisor_core::net::wire::checksum(&f[14..34]);
        f[24..26].copy_from_slice(&ip_sum.to_be_bytes());
        f.truncate(34);
        f.extend(40_000u16.to_be_bytes());
        f.extend(53u16.to_be_bytes());
        f.extend(udp_len.to_be_bytes());
        let mut pseudo = Vec::from(&f[26..34]);
        pseudo.extend([0, 17]);
        pseudo.extend(udp_len.to_be_bytes());
        f.extend(labvisor_core::net::wire::ones_sum(&pseudo).to_be_bytes());
        f.extend(payload);
        header[header::CSUM_OFFSET..header::CSUM_OFFSET + 2].copy_from_slice(&6u16.to_le_bytes());
        (header, f)
    };
    let (_, probe) = frame_with(&payload);
    let rest = labvisor_core::net::wire::ones_sum(&probe[34..]);
    payload[2..].copy_from_slice(&(!rest).to_be_bytes());
    let (header, frame) = frame_with(&payload);
    assert_eq!(
        labvisor_core::net::wire::checksum(&frame[34..]),
        0,
        "the sum is zero"
    );
    submit_with_header(&rig, header, &frame);
    let sent = from_guest(&rig.link);
    assert_eq!(sent[0][40..42], [0xff, 0xff], "written as all ones");
}

#[test]
fn a_checksum_place_outside_the_frame_refuses_it() {
    let (rig, _driver) = started(BUFFER);
    let (header, frame) = tcp_frame_for_offload(b"x");
    let cases = [
        (frame.len() as u16 - 1, 0u16),
        (34, frame.len() as u16),
        (u16::MAX, u16::MAX),
    ];
    for (start, offset) in cases {
        let mut h = header;
        h[header::CSUM_START..header::CSUM_START + 2].copy_from_slice(&start.to_le_bytes());
        h[header::CSUM_OFFSET..header::CSUM_OFFSET + 2].copy_from_slice(&offset.to_le_bytes());
        submit_with_header(&rig, h, &frame);
    }
    assert!(from_guest(&rig.link).is_empty());
    assert_eq!(rig.link.counters().tx_malformed, 3);
}

proptest! {
    /// Guest memory full of garbage under the rings, random register traffic, notifications
    /// and frames from the backend: the device never panics and never reaches outside guest
    /// memory (vm-memory would fail the access, which the device counts).
    #[test]
    fn survives_garbage_in_the_queues(
        ram in proptest::collection::vec(any::<u8>(), 0x4000),
        ops in proptest::collection::vec((0u64..0x110, any::<u32>(), 1usize..9), 0..150),
        frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..20),
    ) {
        let rig = rig(1 << 20);
        rig.mem.write_slice(&ram, GuestAddress(0)).unwrap();
        for f in frames {
            rig.link.send_to_guest(f);
        }
        let mut t = rig.transport.lock().unwrap();
        for (offset, value) in [(reg::STATUS, 3u32), (reg::DRIVER_FEATURES_SEL, 1), (reg::DRIVER_FEATURES, 1),
            (reg::STATUS, 0xb), (reg::QUEUE_SEL, 0), (reg::QUEUE_NUM, 16), (reg::QUEUE_DESC_LOW, 0x0),
            (reg::QUEUE_DRIVER_LOW, 0x1000), (reg::QUEUE_DEVICE_LOW, 0x2000), (reg::QUEUE_READY, 1),
            (reg::QUEUE_SEL, 1), (reg::QUEUE_NUM, 16), (reg::QUEUE_DESC_LOW, 0x2800),
            (reg::QUEUE_DRIVER_LOW, 0x3000), (reg::QUEUE_DEVICE_LOW, 0x3800), (reg::QUEUE_READY, 1),
            (reg::STATUS, 0xf)] {
            t.write(offset, &value.to_le_bytes());
        }
        for (offset, value, width) in ops {
            let bytes: Vec<u8> = value.to_le_bytes().iter().copied().cycle().take(width).collect();
            if value % 3 == 0 {
                let mut buf = bytes.clone();
                t.read(offset & !3, &mut buf);
            } else {
                t.write(offset & !3, &bytes);
            }
            t.write(reg::QUEUE_NOTIFY, &(value % 3).to_le_bytes());
            t.poll(RX_QUEUE);
        }
        drop(t);
        let c = rig.link.counters();
        prop_assert!(c.tx_frames + c.tx_malformed <= 150 * 16 + 16);
    }
}
