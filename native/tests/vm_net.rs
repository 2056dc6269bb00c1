//! A real VM on the user-mode NAT: the guest leases 10.0.2.15 by DHCP, pings the gateway,
//! fetches a page from an HTTP server this test runs on 127.0.0.1, resolves a name through a
//! test resolver on 127.0.0.1, and serves its shell, a TCP echo and a UDP echo service
//! through port forwards; the report's NAT table shows each flow with the port the host
//! really used, and the pcap file holds the DHCP exchange and the TCP handshake. Every
//! socket here is on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::Child;
use std::time::Duration;

mod common;

use common::{free_port, kvm_available, read_until, spawn, text, vm_json, wait_or_kill};

/// An HTTP/1.0 server for one request; returns the port it listens on and, when done, the
/// port the client came from.
fn http_server(body: &'static str) -> (u16, std::thread::JoinHandle<u16>) {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (mut conn, peer) = server.accept().unwrap();
        let mut request = Vec::new();
        read_until(&mut conn, "\r\n\r\n", &mut request);
        let reply = format!(
            "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(reply.as_bytes()).unwrap();
        peer.port()
    });
    (port, thread)
}

#[test]
fn dhcp_leases_10_0_2_15_and_the_gateway_answers_ping() {
    if !kvm_available() {
        return;
    }
    let (report, console, status) = vm_json(&["--net", "--run", "ip; ping 10.0.2.2; poweroff"]);
    assert_eq!(status, Some(0), "{console}");
    assert!(console.contains("address 10.0.2.15/24"), "{console}");
    assert!(console.contains("gateway 10.0.2.2"), "{console}");
    assert!(console.contains("offload tx-checksum"), "{console}");
    assert!(
        console.contains("3 packets transmitted, 3 received"),
        "{console}"
    );
    assert_eq!(report["net"]["guest_ip"], "10.0.2.15");
}

#[test]
fn get_fetches_a_host_page_and_the_table_shows_the_flow_with_the_port_the_host_used() {
    if !kvm_available() {
        return;
    }
    let (port, server) = http_server("hello from the host");
    let pcap = std::env::temp_dir().join(format!("labvisor-vm-net-{}.pcap", std::process::id()));
    let pcap_arg = pcap.display().to_string();
    let get = format!("get http://10.0.2.2:{port}/; poweroff");
    let (report, console, status) = vm_json(&["--net", "--pcap", &pcap_arg, "--run", &get]);
    assert_eq!(status, Some(0), "{console}");
    assert!(console.contains("HTTP/1.0 200 OK"), "{console}");
    assert!(console.contains("hello from the host"), "{console}");
    let peer_port = server.join().unwrap();

    let net = &report["net"];
    let lines: Vec<String> = net["conntrack"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let flow = lines
        .iter()
        .find(|l| l.contains(&format!("dport={port} ")))
        .unwrap_or_else(|| panic!("no flow to port {port}: {lines:?}"));
    assert!(
        flow.starts_with("tcp") && (flow.contains("TIME_WAIT") || flow.contains("CLOSE")),
        "the flow is closing: {flow}"
    );
    assert!(
        flow.contains(&format!("dport={peer_port} ")),
        "the reply tuple names the port the server saw ({peer_port}): {flow}"
    );
    let translations = net["translations"].to_string();
    assert!(
        translations.contains(&format!("127.0.0.1:{peer_port}")),
        "inside global is the host's real port: {translations}"
    );
    let states: Vec<String> = net["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["transition"]["to"].as_str().map(str::to_string))
        .collect();
    assert!(
        states.iter().any(|s| s.eq_ignore_ascii_case("established")),
        "the NAT saw ESTABLISHED: {states:?}"
    );
    // The same story in the simulator's trace format: new, established, then closing.
    let trace = net["trace_text"].as_str().unwrap();
    let at = |what: &[&str]| {
        trace
            .lines()
            .position(|l| {
                what.iter().any(|w| l.contains(w)) && l.contains(&format!("dport={port} "))
            })
            .unwrap_or_else(|| panic!("no {what:?} step for the flow: {trace}"))
    };
    let closing = ["FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT"];
    assert!(at(&["[NEW]"]) < at(&["ESTABLISHED"]), "{trace}");
    assert!(at(&["ESTABLISHED"]) < at(&closing), "{trace}");

    let frames = read_pcap(&std::fs::read(&pcap).unwrap());
    let _ = std::fs::remove_file(&pcap);
    assert_eq!(
        frames.len() as u64,
        net["captured_frames"].as_u64().unwrap()
    );
    let udp_ports: Vec<(u16, u16)> = frames.iter().filter_map(|f| udp_ports(f)).collect();
    assert!(
        udp_ports.contains(&(68, 67)),
        "a DHCP request: {udp_ports:?}"
    );
    assert!(
        udp_ports.contains(&(67, 68)),
        "a DHCP answer: {udp_ports:?}"
    );
    let flags: Vec<(bool, bool)> = frames.iter().filter_map(|f| tcp_syn_ack(f, port)).collect();
    assert!(flags.contains(&(true, false)), "the guest's SYN: {flags:?}");
    assert!(flags.contains(&(true, true)), "the SYN-ACK: {flags:?}");
}

/// The frames of a classic pcap file, checking its header.
fn read_pcap(bytes: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&bytes[..4], &0xa1b2_c3d4u32.to_le_bytes(), "pcap magic");
    assert_eq!(&bytes[20..24], &1u32.to_le_bytes(), "Ethernet link type");
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        frames.push(bytes[at + 16..at + 16 + len].to_vec());
        at += 16 + len;
    }
    assert_eq!(at, bytes.len(), "the file ends with a whole record");
    frames
}

fn udp_ports(frame: &[u8]) -> Option<(u16, u16)> {
    let p = etherparse::SlicedPacket::from_ethernet(frame).ok()?;
    match p.transport? {
        etherparse::TransportSlice::Udp(u) => Some((u.source_port(), u.destination_port())),
        _ => None,
    }
}

/// (SYN, ACK) of a TCP segment to or from `port`.
fn tcp_syn_ack(frame: &[u8], port: u16) -> Option<(bool, bool)> {
    let p = etherparse::SlicedPacket::from_ethernet(frame).ok()?;
    match p.transport? {
        etherparse::TransportSlice::Tcp(t)
            if t.destination_port() == port || t.source_port() == port =>
        {
            Some((t.syn(), t.ack()))
        }
        _ => None,
    }
}

#[test]
fn without_host_loopback_the_gateway_refuses_and_the_drop_is_counted() {
    if !kvm_available() {
        return;
    }
    let (port, _server) = http_server("unreachable");
    let get = format!("get http://10.0.2.2:{port}/; poweroff");
    let (report, console, _) = vm_json(&["--no-host-loopback", "--run", &get]);
    assert!(console.contains("get: "), "an error from get: {console}");
    assert!(!console.contains("unreachable"), "{console}");
    assert!(
        report["net"]["guest_drops"]["host-loopback-off"].as_u64() >= Some(1),
        "{}",
        report["net"]
    );
}

/// A minimal DNS resolver for one query: answers `name` with `address`.
fn dns_resolver(address: [u8; 4]) -> (u16, std::thread::JoinHandle<()>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let (n, from) = socket.recv_from(&mut buf).unwrap();
        // Header: same id, a response with recursion available, one question, one answer.
        let mut reply = buf[..2].to_vec();
        reply.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
        reply.extend_from_slice(&buf[12..n]);
        // The answer: a pointer to the question's name, A, IN, TTL 60, 4 bytes.
        reply.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        reply.extend_from_slice(&address);
        socket.send_to(&reply, from).unwrap();
    });
    (port, thread)
}

#[test]
fn dns_through_10_0_2_3_reaches_the_test_resolver() {
    if !kvm_available() {
        return;
    }
    let (port, resolver) = dns_resolver([192, 0, 2, 7]);
    let upstream = format!("127.0.0.1:{port}");
    let (_, console, status) = vm_json(&[
        "--dns-upstream",
        &upstream,
        "--run",
        "dns www.example.test; poweroff",
    ]);
    assert_eq!(status, Some(0), "{console}");
    resolver.join().unwrap();
    assert!(
        console.contains("www.example.test has address 192.0.2.7"),
        "{console}"
    );
}

/// A VM with `forwards`, its console on a pipe that stays open, once its network is up.
fn vm_with_forwards(forwards: &[String], workload: &str) -> (Child, Vec<u8>) {
    let mut args = vec!["vm", "run", "--timeout", "60s", "--run", workload];
    for f in forwards {
        args.extend(["--natpf", f.as_str()]);
    }
    let mut vm = spawn(&args);
    let mut seen = Vec::new();
    read_until(
        vm.stdout.as_mut().unwrap(),
        "network: 10.0.2.15/24 from DHCP",
        &mut seen,
    );
    read_until(vm.stdout.as_mut().unwrap(), "labvisor# ", &mut seen);
    (vm, seen)
}

fn power_off(mut vm: Child) {
    vm.stdin.as_mut().unwrap().write_all(b"poweroff\n").unwrap();
    let status = wait_or_kill(&mut vm, Duration::from_secs(30));
    let mut err = String::new();
    let _ = vm.stderr.take().unwrap().read_to_string(&mut err);
    assert_eq!(status, Some(0), "{err}");
}

#[test]
fn forwards_reach_the_guests_shell_and_echo_and_a_closed_port_is_reset() {
    if !kvm_available() {
        return;
    }
    let (shell, echo, closed) = (free_port(), free_port(), free_port());
    let forwards = [
        format!("shell,tcp,127.0.0.1,{shell},,23"),
        format!("echo,tcp,127.0.0.1,{echo},,7"),
        format!("nothing,tcp,127.0.0.1,{closed},,9"),
    ];
    let (vm, _) = vm_with_forwards(&forwards, "serve echo 7");

    let mut session = TcpStream::connect(("127.0.0.1", shell)).unwrap();
    session
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut seen = Vec::new();
    read_until(&mut session, "labvisor# ", &mut seen);
    session.write_all(b"uptime\n").unwrap();
    let mut answer = Vec::new();
    read_until(&mut session, "labvisor# ", &mut answer);
    assert!(
        text(&answer).contains("up "),
        "uptime's answer: {}",
        text(&answer)
    );
    session.write_all(b"exit\n").unwrap();

    let mut echoed = TcpStream::connect(("127.0.0.1", echo)).unwrap();
    echoed
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let message: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    echoed.write_all(&message).unwrap();
    let mut back = vec![0u8; message.len()];
    echoed.read_exact(&mut back).unwrap();
    assert_eq!(back, message, "the echo service sent back every byte");
    drop(echoed);

    let mut refused = TcpStream::connect(("127.0.0.1", closed)).unwrap();
    refused
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 1];
    let result = refused.read(&mut buf).map_err(|e| e.kind());
    assert_eq!(
        result,
        Err(std::io::ErrorKind::ConnectionReset),
        "nothing listens on the guest's port 9: a reset, not a hang or a clean close"
    );
    power_off(vm);
}

#[test]
fn the_echo_service_serves_three_clients_at_once_and_back_to_back_connections_are_not_refused() {
    if !kvm_available() {
        return;
    }
    let echo = free_port();
    let (vm, _) = vm_with_forwards(&[format!("echo,tcp,127.0.0.1,{echo},,7")], "serve echo 7");
    let connect = || {
        let s = TcpStream::connect(("127.0.0.1", echo)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    };
    let echo_one = |s: &mut TcpStream, byte: u8| -> std::io::Result<u8> {
        s.write_all(&[byte])?;
        let mut back = [0u8; 1];
        s.read_exact(&mut back)?;
        Ok(back[0])
    };
    // Three connections open together, each answered while the others stay open.
    let mut clients: Vec<TcpStream> = (0..3).map(|_| connect()).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        let byte = b'a' + i as u8;
        assert_eq!(
            echo_one(client, byte).map_err(|e| e.kind()),
            Ok(byte),
            "client {i} of three open at once"
        );
    }
    drop(clients);
    // Their three sockets close in a few of the guest's rounds; then all listen again.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while echo_one(&mut connect(), 0).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the service never listened again"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // A client that connects again as soon as its last connection closed finds a listener:
    // the service's other sockets listen while the last one finishes closing.
    for round in 0..50u8 {
        let mut client = connect();
        assert_eq!(
            echo_one(&mut client, round).map_err(|e| e.kind()),
            Ok(round),
            "connection {round} of 50 back to back"
        );
    }
    power_off(vm);
}

#[test]
fn a_udp_datagram_through_a_forward_comes_back_from_the_guest_and_the_table_shows_the_flow() {
    if !kvm_available() {
        return;
    }
    let port = free_port();
    let forward = format!("uecho,udp,127.0.0.1,{port},,7");
    let mut vm = spawn(&[
        "--json",
        "vm",
        "run",
        "--timeout",
        "60s",
        "--natpf",
        &forward,
        "--run",
        "serve udp-echo 7",
    ]);
    let mut seen = Vec::new();
    let console = vm.stderr.as_mut().unwrap();
    read_until(console, "serving udp-echo on udp port 7", &mut seen);
    read_until(console, "labvisor# ", &mut seen);

    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let message = b"a datagram for the guest's echo";
    let mut back = [0u8; 256];
    // UDP may lose a datagram: a few tries, each waiting for the answer.
    let answer = (0..10).find_map(|_| {
        client.send_to(message, ("127.0.0.1", port)).unwrap();
        client.recv_from(&mut back).ok()
    });
    let (n, from) = answer.expect("the guest echoed a datagram within 10 tries");
    assert_eq!(&back[..n], message, "the guest sent back the same bytes");
    assert_eq!(
        from.port(),
        port,
        "the answer comes from the forward's port"
    );
    let client_port = client.local_addr().unwrap().port();

    vm.stdin.as_mut().unwrap().write_all(b"poweroff\n").unwrap();
    let mut out = Vec::new();
    vm.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let mut rest = Vec::new();
    let _ = vm.stderr.take().unwrap().read_to_end(&mut rest);
    seen.extend(rest);
    assert_eq!(wait_or_kill(&mut vm, Duration::from_secs(30)), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("no report ({e}); console: {}", text(&seen)));
    let lines: Vec<String> = report["net"]["conntrack"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let flow = lines
        .iter()
        .find(|l| l.contains(&format!("sport={client_port} ")))
        .unwrap_or_else(|| panic!("no flow from port {client_port}: {lines:?}"));
    assert!(flow.starts_with("udp"), "a UDP flow: {flow}");
    assert!(
        flow.contains(&format!("dport={port} ")),
        "the original tuple is the forward's host port {port}: {flow}"
    );
    assert!(
        flow.contains("src=10.0.2.15 dst=10.0.2.2 sport=7 "),
        "the reply tuple comes from the guest's echo port: {flow}"
    );
}

#[test]
fn a_forward_on_a_port_in_use_fails_before_boot_naming_the_port() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = common::labvisor(&[
        "vm",
        "run",
        "--hostfwd",
        &format!("tcp:127.0.0.1:{port}-:23"),
        "--run",
        "poweroff",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("already uses that port"), "{err}");
    assert!(
        !text(&out.stdout).contains("Labvisor guest OS"),
        "the VM never booted"
    );
}

#[test]
fn ctrl_a_n_prints_the_live_nat_table_as_net_run_does() {
    if !kvm_available() {
        return;
    }
    // The console's keys work on a terminal only: `script` gives the VM one.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIP: no `script` to give the VM a terminal");
        return;
    }
    let (port, server) = http_server("seen in the table");
    let command = format!(
        "{} vm run --net --timeout 60s",
        env!("CARGO_BIN_EXE_labvisor")
    );
    let mut vm = std::process::Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env("LANG", "C")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = vm.stdout.take().unwrap();
    let mut input = vm.stdin.take().unwrap();
    let mut seen = Vec::new();
    read_until(&mut out, "labvisor# ", &mut seen);
    input
        .write_all(format!("get http://10.0.2.2:{port}/\r").as_bytes())
        .unwrap();
    read_until(&mut out, "bytes of body", &mut seen);
    let peer_port = server.join().unwrap();
    input.write_all(b"\x01n").unwrap();
    read_until(&mut out, "Outside global", &mut seen);
    read_until(&mut out, &format!("127.0.0.1:{port}"), &mut seen);
    input.write_all(b"\x01x").unwrap();
    assert_eq!(wait_or_kill(&mut vm, Duration::from_secs(30)), Some(0));
    let shown = text(&seen);
    assert!(shown.contains("== guest NAT"), "{shown}");
    assert!(
        shown.contains(&format!("tcp  127.0.0.1:{peer_port}")),
        "the Cisco row names the host's real port: {shown}"
    );
    assert!(shown.contains(&format!("dport={port} ")), "{shown}");
}

#[test]
fn the_guests_hostile_frames_and_syn_flood_are_dropped_counted_and_survived() {
    if !kvm_available() {
        return;
    }
    // A listener that never accepts: the host completes the flood's handshakes in its backlog,
    // so every admitted SYN leaves an entry in the table.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let run = format!("net-hostile 300 {port}; poweroff");
    let (report, console, status) = vm_json(&["--net", "--run", &run]);
    assert_eq!(status, Some(0), "the VMM kept running: {console}");
    assert!(
        console.contains("1 packets transmitted, 1 received"),
        "the network still works: {console}"
    );
    let net = &report["net"];
    assert!(
        net["device"]["tx_malformed"].as_u64() >= Some(4),
        "bad descriptors are counted by the device: {}",
        net["device"]
    );
    for kind in [
        "frame-too-short",
        "ip-truncated",
        "ip-bad-checksum",
        "spoofed",
        "bad-arp",
        "bad-checksum",
    ] {
        assert!(
            net["guest_drops"][kind].as_u64() >= Some(1),
            "{kind} is counted: {}",
            net["guest_drops"]
        );
    }
    let entries = net["conntrack"].as_array().unwrap().len();
    assert!(
        (1..=310).contains(&entries),
        "the flood's flows and no more are in the table: {entries}"
    );
    drop(listener);
}
