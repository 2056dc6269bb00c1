//! Labvisor's guest OS on a network it did not write: QEMU's microvm with `-netdev user`
//! (libslirp, the guest emulated under this host's PVM). The guest must get 10.0.2.15 by DHCP,
//! ping the gateway, fetch a page from an HTTP server this test runs on 127.0.0.1 (reached as
//! 10.0.2.2), and offer its shell on port 23 through a `hostfwd` on 127.0.0.1.
//!
//! Every socket here is on 127.0.0.1; nothing resolves a name. Needs /dev/kvm and
//! `qemu-system-x86_64`, else prints `SKIP: …`.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{free_port, kvm_available, qemu_available, text, wait_or_kill};

const PAGE: &str = "a page served on the host's loopback\n";

/// Serves [`PAGE`] to every connection on 127.0.0.1, one request each; returns the port.
fn serve_page() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("bound").port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PAGE}",
                PAGE.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    port
}

/// Reads from `stream` until `needle` has arrived (or 60 s pass); returns all that came.
fn read_until(stream: &mut TcpStream, needle: &str, seen: &mut String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 4096];
    while !seen.contains(needle) && Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.push_str(&text(&buf[..n])),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
}

/// Connects to the forward, retrying while QEMU and the guest come up.
fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            stream
                .set_read_timeout(Some(Duration::from_millis(500)))
                .expect("a timeout");
            // slirp accepts before the guest does; a greeting proves the guest answered.
            let mut seen = String::new();
            read_until(&mut stream, "labvisor# ", &mut seen);
            if seen.contains("TCP shell") {
                return stream;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the guest's TCP shell never answered"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn under_qemu_user_networking_the_guest_gets_a_lease_pings_fetches_a_page_and_serves_its_shell() {
    if !kvm_available() || !qemu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch directory");
    let elf = dir.path().join("labvisor-guest.elf");
    std::fs::write(&elf, labvisor_vmm::boot::EMBEDDED_GUEST).expect("the guest ELF");
    let http_port = serve_page();
    let shell_port = free_port();
    let workload = format!("ip; ping 10.0.2.2 2; get http://10.0.2.2:{http_port}/page.txt");
    let mut qemu = Command::new("qemu-system-x86_64")
        .args(["-M", "microvm", "-enable-kvm", "-m", "64", "-nographic"])
        .args(["-no-reboot", "-kernel"])
        .arg(&elf)
        .args(["-append", &workload])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .args(["-global", "virtio-mmio.force-legacy=false"])
        .arg("-netdev")
        .arg(format!("user,id=n0,hostfwd=tcp:127.0.0.1:{shell_port}-:23"))
        .args(["-device", "virtio-net-device,netdev=n0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu starts");

    let mut shell = connect(shell_port);
    let mut seen = String::new();
    shell
        .write_all(b"echo from the tcp shell\n")
        .expect("a command");
    read_until(&mut shell, "from the tcp shell\r\nlabvisor# ", &mut seen);
    assert!(
        seen.contains("from the tcp shell\r\nlabvisor# "),
        "the TCP shell ran the command: {seen:?}"
    );
    shell.write_all(b"poweroff 3\n").expect("poweroff");
    let _ = shell.shutdown(Shutdown::Write);

    let status = wait_or_kill(&mut qemu, Duration::from_secs(60));
    let mut console = String::new();
    if let Some(mut out) = qemu.stdout.take() {
        let _ = out.read_to_string(&mut console);
    }
    // isa-debug-exit ends QEMU with (status << 1) | 1.
    assert_eq!(status, Some(7), "powered off from the TCP shell: {console}");
    for expected in [
        "network: 10.0.2.15/24 from DHCP, gateway 10.0.2.2, dns 10.0.2.3",
        "address 10.0.2.15/24",
        "gateway 10.0.2.2",
        // QEMU's virtio-net offers no checksum offload with a slirp peer.
        "offload none",
        "64 bytes from 10.0.2.2: icmp_seq=2",
        "2 packets transmitted, 2 received, 0% packet loss",
        "HTTP/1.1 200 OK",
        PAGE.trim_end(),
        "-- 37 bytes of body",
    ] {
        assert!(
            console.contains(expected),
            "`{expected}` on the console:\n{console}"
        );
    }
}
