//! The network backend alone, as `cargo xtask bench-net` runs it: no VM; a host-side driver
//! fills the virtio-net device's TX queue exactly as a guest's driver would, and the real
//! device, gateway, NAT table and backend carry the traffic to a socket on 127.0.0.1.
//!
//! Rows, at MTU 1500 and 65520:
//! - UDP: the same datagram again and again (one flow), pre-built, so nothing but the data
//!   path is measured: device TX → gateway → NAT lookup → host `UdpSocket` → the receiver.
//! - TCP: a smoltcp stand-in guest sends bulk data to 10.0.2.2; the backend's smoltcp
//!   terminates it and splices it to the host connection, whose reader discards it. Both
//!   TCP stacks run on this host's CPUs, so the row's Gbit/s is a lower bound for the backend.
//!
//! So that a row measures the backend and not the stand-in (whose smoltcp takes most of the
//! CPU in the TCP rows) or the other work on a shared machine, each row also reads the CPU
//! time of the backend's own thread (`net`, from `/proc/self/task/*/stat`) over the
//! measurement and prints Gbit/s per CPU-second of it: what the backend moves with one core
//! to itself. The stand-in runs on the calling thread, so its time is not in that figure.
//!
//! Usage: `net_backend [SECONDS [udp|tcp]]` (default 2 s per row, both protocols).

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use labvisor_core::net::gateway::{engine_mac, ipv4, Mac};
use labvisor_vmm::devices::net::stand_in::StandIn;
use labvisor_vmm::devices::net::{DEFAULT_MAC, HEADER_LEN};
use labvisor_vmm::netback::{NetBackend, NetConfig, GATEWAY_IP, GUEST_IP};
use smoltcp::socket::tcp;
use smoltcp::wire::IpEndpoint;

/// Published iperf3 figures, child → parent (rootlesskit's network docs), Gbit/s.
const PUBLISHED: [(&str, f64, f64); 2] = [
    ("slirp4netns", 1.69, 8.11),
    ("gvisor-tap-vsock", 2.46, 8.75),
];
/// The target for the backend at MTU 1500.
const TARGET_1500: f64 = 3.0;

struct Row {
    what: String,
    mtu: usize,
    frames_per_s: f64,
    gbit_per_s: f64,
    /// CPU-seconds the backend's thread used per second of the measurement.
    backend_cores: f64,
    note: String,
}

/// CPU-seconds the backend's thread (named `net`; one backend runs at a time) has used.
fn backend_cpu_seconds() -> f64 {
    // /proc reports in USER_HZ, which is 100 on every Linux architecture's ABI.
    const TICKS_PER_SECOND: f64 = 100.0;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != "net" {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3, utime 14 and stime 15.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<f64> = after_name
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(f64::NAN))
            .collect();
        if let (Some(user), Some(system)) = (fields.get(11), fields.get(12)) {
            return (user + system) / TICKS_PER_SECOND;
        }
    }
    f64::NAN
}

fn config(mtu: usize) -> NetConfig {
    let mut c = NetConfig::virtualbox(Vec::new(), SocketAddrV4::new(Ipv4Addr::LOCALHOST, 53), true);
    c.mtu = mtu;
    c
}

fn buffer_bytes(mtu: usize) -> u32 {
    (HEADER_LEN + 14 + mtu) as u32
}

fn udp(mtu: usize, seconds: f64) -> Row {
    let receiver = UdpSocket::bind("127.0.0.1:0").expect("a loopback socket");
    let _ = socket2::SockRef::from(&receiver).set_recv_buffer_size(16 << 20);
    receiver
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("a timeout");
    let port = receiver.local_addr().expect("bound").port();
    let (mut driver, handle) = NetBackend::bind(config(mtu))
        .expect("no forwards to bind")
        .start_host_driven(buffer_bytes(mtu))
        .expect("the backend starts");
    let payload = vec![0x5au8; mtu - 28];
    let frame = ipv4::udp_frame(
        (Mac(DEFAULT_MAC), engine_mac(GATEWAY_IP)),
        SocketAddrV4::new(GUEST_IP, 5000),
        SocketAddrV4::new(GATEWAY_IP, port),
        &payload,
    )
    .expect("a datagram that fits");
    let stop = Arc::new(AtomicBool::new(false));
    let (datagrams, bytes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let counter = {
        let (stop, datagrams, bytes) = (stop.clone(), datagrams.clone(), bytes.clone());
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            while !stop.load(Ordering::Relaxed) {
                if let Ok(n) = receiver.recv(&mut buf) {
                    datagrams.fetch_add(1, Ordering::Relaxed);
                    bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        })
    };
    let batch: Vec<&[u8]> = vec![&frame; 64];
    // Warm up (ARP-free: UDP needs none), then measure.
    driver.send_batch(batch.iter().copied());
    std::thread::sleep(Duration::from_millis(50));
    let (d0, b0) = (
        datagrams.load(Ordering::Relaxed),
        bytes.load(Ordering::Relaxed),
    );
    let (start, cpu_at_start) = (Instant::now(), backend_cpu_seconds());
    while start.elapsed().as_secs_f64() < seconds {
        driver.send_batch(batch.iter().copied());
        driver.receive_with(|_| {});
    }
    let elapsed = start.elapsed().as_secs_f64();
    let backend_cores = (backend_cpu_seconds() - cpu_at_start) / elapsed;
    let (d, b) = (
        datagrams.load(Ordering::Relaxed) - d0,
        bytes.load(Ordering::Relaxed) - b0,
    );
    stop.store(true, Ordering::Relaxed);
    let _ = counter.join();
    let report = handle.finish(DEFAULT_MAC);
    Row {
        what: "UDP guest → host".into(),
        mtu,
        frames_per_s: d as f64 / elapsed,
        gbit_per_s: b as f64 * 8.0 / elapsed / 1e9,
        backend_cores,
        note: format!(
            "{} sent; {} never reached the receiver (its socket buffer)",
            report.device.tx_frames,
            report
                .device
                .tx_frames
                .saturating_sub(datagrams.load(Ordering::Relaxed))
        ),
    }
}

fn tcp(mtu: usize, seconds: f64) -> Row {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback listener");
    let port = listener.local_addr().expect("bound").port();
    let received = Arc::new(AtomicU64::new(0));
    let reader = {
        let received = received.clone();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("the guest connects");
            let mut buf = vec![0u8; 1 << 20];
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 {
                    break;
                }
                received.fetch_add(n as u64, Ordering::Relaxed);
            }
        })
    };
    let (driver, handle) = NetBackend::bind(config(mtu))
        .expect("no forwards to bind")
        .start_host_driven(buffer_bytes(mtu))
        .expect("the backend starts");
    let mut guest = StandIn::new(driver, GUEST_IP, GATEWAY_IP, mtu);
    let socket = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; 4 << 20]),
        tcp::SocketBuffer::new(vec![0; 4 << 20]),
    );
    let h = guest.sockets.add(socket);
    let cx = guest.iface.context();
    guest
        .sockets
        .get_mut::<tcp::Socket>(h)
        .connect(cx, IpEndpoint::new(GATEWAY_IP.into(), port), 40_000)
        .expect("a connect");
    let chunk = vec![0xa5u8; 1 << 20];
    let mut start = None;
    let (mut at_start, mut cpu_at_start) = (0, 0.0);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds + 5.0);
    // The clock is read every 64 rounds: on some hosts a read costs as much as a frame.
    for round in 0u64.. {
        guest.poll();
        let s = guest.sockets.get_mut::<tcp::Socket>(h);
        if s.may_send() {
            let _ = s.send_slice(&chunk);
            if start.is_none() {
                at_start = received.load(Ordering::Relaxed);
                cpu_at_start = backend_cpu_seconds();
                start = Some(Instant::now());
            }
        }
        if round % 64 == 0 {
            let done = start.is_some_and(|t| t.elapsed().as_secs_f64() >= seconds);
            if done || Instant::now() > deadline {
                break;
            }
        }
    }
    let elapsed = start.map_or(f64::NAN, |s| s.elapsed().as_secs_f64());
    let bytes = received.load(Ordering::Relaxed) - at_start;
    let backend_cores = (backend_cpu_seconds() - cpu_at_start) / elapsed;
    guest.sockets.get_mut::<tcp::Socket>(h).abort();
    guest.poll();
    let report = handle.finish(DEFAULT_MAC);
    drop(reader);
    let mss = mtu - 40;
    Row {
        what: "TCP guest → host".into(),
        mtu,
        frames_per_s: bytes as f64 / mss as f64 / elapsed,
        gbit_per_s: bytes as f64 * 8.0 / elapsed / 1e9,
        backend_cores,
        note: format!(
            "{} frames from the guest, {} to it (ACKs)",
            report.device.tx_frames, report.device.rx_frames
        ),
    }
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    println!("The network backend alone: host-side driver → virtio-net queues → gateway and NAT table → a socket on 127.0.0.1");
    println!("({seconds} s per row; Gbit/s of payload; the published figures are iperf3 child → parent, rootlesskit's docs;");
    println!("backend CPU: the `net` thread's CPU time over the row; Gbit/s per CPU: the row's Gbit/s per CPU-second of it, the backend alone)\n");
    // An optional second argument runs one protocol only (`udp` or `tcp`), for profiling.
    let only = std::env::args().nth(2).unwrap_or_default();
    let mut rows = Vec::new();
    for mtu in [1500, 65520] {
        if only != "tcp" {
            rows.push(udp(mtu, seconds));
        }
    }
    for mtu in [1500, 65520] {
        if only != "udp" {
            rows.push(tcp(mtu, seconds));
        }
    }
    println!(
        "{:<18} {:>6} {:>12} {:>9}  {:>13} {:>18}  {:>12} {:>14}  notes",
        "path",
        "MTU",
        "frames/s",
        "Gbit/s",
        "× slirp4netns",
        "× gvisor-tap-vsock",
        "backend CPU",
        "Gbit/s per CPU"
    );
    for r in &rows {
        let published = |i: usize| {
            if r.mtu == 1500 {
                PUBLISHED[i].1
            } else {
                PUBLISHED[i].2
            }
        };
        println!(
            "{:<18} {:>6} {:>12.0} {:>9.2}  {:>13.2} {:>18.2}  {:>11.0}% {:>14.2}  {}",
            r.what,
            r.mtu,
            r.frames_per_s,
            r.gbit_per_s,
            r.gbit_per_s / published(0),
            r.gbit_per_s / published(1),
            r.backend_cores * 100.0,
            r.gbit_per_s / r.backend_cores,
            r.note
        );
    }
    println!();
    for (name, at_1500, at_65520) in PUBLISHED {
        println!(
            "published {name:<17} {at_1500:>5.2} Gbit/s at MTU 1500, {at_65520:>5.2} at 65520"
        );
    }
    let best_1500 = rows
        .iter()
        .filter(|r| r.mtu == 1500)
        .map(|r| r.gbit_per_s)
        .fold(0.0, f64::max);
    println!(
        "target: backend ≥ {TARGET_1500} Gbit/s at MTU 1500 — {} ({best_1500:.2})",
        if best_1500 >= TARGET_1500 {
            "met"
        } else {
            "not met"
        }
    );
}
