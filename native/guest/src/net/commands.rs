//! The shell's network commands: `ip`, `ping`, `dns`, `get`, `serve`. Their output is read by
//! tests, so its first words are stable (documented in docs/vmm.md, "The guest's network").

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::socket::{dns, icmp, tcp};
use smoltcp::wire::{DnsQueryType, Icmpv4Packet, Icmpv4Repr, IpAddress, Ipv4Address};

use super::service::{Kind, Service};
use super::udp_echo::UdpEcho;
use super::Stack;
use crate::hw::control;
use crate::kprintln;
use crate::shell::{Elapsed, Status};
use labvisor_guest::http;

const SECOND: u64 = 1_000_000_000;
/// Most response bytes `get` keeps; the rest is counted, not stored.
const GET_MAX: usize = 1 << 20;
/// Most services `serve` runs.
const SERVICES_MAX: usize = 8;

/// Runs network command `name` with arguments `rest`; `None` if `name` is not one.
pub fn execute(stack: Option<&mut Stack>, name: &str, rest: &str) -> Option<Status> {
    if !matches!(
        name,
        "ip" | "ping" | "dns" | "get" | "serve" | "net-hostile"
    ) {
        return None;
    }
    let Some(stack) = stack else {
        kprintln!("{name}: this VM has no network card (start it with a NIC, e.g. `labvisor vm run --natpf ...`)");
        return Some(Status::Failed);
    };
    Some(match name {
        "ip" => {
            ip(stack);
            Status::Success
        }
        "ping" => ping(stack, rest),
        // Hidden: malformed frames and a SYN flood the VMM must survive (docs/vmm.md).
        "net-hostile" => {
            super::hostile::run(stack, rest);
            Status::Success
        }
        "dns" => match rest.split_whitespace().collect::<Vec<_>>()[..] {
            [host] => {
                let addresses = resolve(stack, host);
                for address in addresses.iter().flatten() {
                    kprintln!("{host} has address {address}");
                }
                Status::of(addresses.is_some())
            }
            _ => {
                kprintln!("dns: usage: dns NAME");
                Status::Usage
            }
        },
        "get" => match rest.split_whitespace().collect::<Vec<_>>()[..] {
            [url] => get(stack, url),
            _ => {
                kprintln!("get: usage: get http://HOST[:PORT]/PATH");
                Status::Usage
            }
        },
        _ => serve(stack, rest),
    })
}

fn mac_text(mac: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    alloc::format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

fn ip(stack: &mut Stack) {
    let card = stack.card();
    match stack.lease() {
        Some(lease) => {
            kprintln!("address {}", lease.address);
            match lease.gateway {
                Some(gateway) => kprintln!("gateway {gateway}"),
                None => kprintln!("gateway none"),
            }
            if lease.dns.is_empty() {
                kprintln!("dns none");
            }
            for server in &lease.dns {
                kprintln!("dns {server}");
            }
        }
        None => kprintln!("address none (no DHCP lease yet)"),
    }
    kprintln!("mac {}", mac_text(card.mac));
    let link = match card.link_up {
        Some(true) => "up",
        Some(false) => "down",
        None => "unknown",
    };
    kprintln!(
        "link {link} (virtio{}; {} frames in, {} out, {} dropped)",
        stack.slot,
        card.received,
        card.sent,
        card.dropped
    );
    kprintln!(
        "offload {}",
        if card.checksum_offload {
            "tx-checksum (the card finishes TCP and UDP checksums)"
        } else {
            "none (the guest computes every checksum)"
        }
    );
}

/// `HOST` as an address: dotted quad, or a name through DNS (errors printed).
fn address_of(stack: &mut Stack, host: &str) -> Option<Ipv4Address> {
    if let Ok(address) = host.parse::<Ipv4Address>() {
        return Some(address);
    }
    let addresses = resolve(stack, host)?;
    addresses.first().copied()
}

/// The A records of `name` from the DHCP server's DNS, errors printed.
fn resolve(stack: &mut Stack, name: &str) -> Option<Vec<Ipv4Address>> {
    if stack.lease().is_none_or(|l| l.dns.is_empty()) && stack.wait_for_lease(2 * SECOND).is_none()
    {
        kprintln!("dns: no DNS server (no DHCP lease)");
        return None;
    }
    let socket = stack.sockets.get_mut::<dns::Socket>(stack.dns);
    let query = match socket.start_query(stack.iface.context(), name, DnsQueryType::A) {
        Ok(query) => query,
        Err(e) => {
            kprintln!("dns: cannot look up `{name}`: {e}");
            return None;
        }
    };
    let mut answer = None;
    let finished = stack.poll_until(5 * SECOND, |stack| {
        let socket = stack.sockets.get_mut::<dns::Socket>(stack.dns);
        match socket.get_query_result(query) {
            Err(dns::GetQueryResultError::Pending) => false,
            result => {
                answer = Some(result);
                true
            }
        }
    });
    if !finished {
        stack
            .sockets
            .get_mut::<dns::Socket>(stack.dns)
            .cancel_query(query);
        kprintln!("dns: no answer for `{name}` within 5 s");
        return None;
    }
    match answer {
        Some(Ok(addresses)) => {
            let v4: Vec<Ipv4Address> = addresses
                .iter()
                .filter_map(|a| match a {
                    IpAddress::Ipv4(v4) => Some(*v4),
                    #[allow(unreachable_patterns)]
                    _ => None,
                })
                .collect();
            if v4.is_empty() {
                kprintln!("dns: `{name}` has no IPv4 address");
                return None;
            }
            Some(v4)
        }
        _ => {
            kprintln!("dns: `{name}` was not found");
            None
        }
    }
}

/// `Failed` unless at least one echo came back (as ping(8) returns 1 when none did).
pub(super) fn ping(stack: &mut Stack, rest: &str) -> Status {
    let args: Vec<&str> = rest.split_whitespace().collect();
    let (host, count) = match args[..] {
        [host] => (host, 3),
        [host, count] => match count.parse::<u16>() {
            Ok(n) if (1..=1000).contains(&n) => (host, n),
            _ => {
                kprintln!("ping: COUNT must be a number from 1 to 1000, not `{count}`");
                return Status::Usage;
            }
        },
        _ => {
            kprintln!("ping: usage: ping HOST [COUNT]");
            return Status::Usage;
        }
    };
    if stack.lease().is_none() && stack.wait_for_lease(2 * SECOND).is_none() {
        kprintln!("ping: no address yet (no DHCP lease)");
        return Status::Failed;
    }
    let Some(target) = address_of(stack, host) else {
        return Status::Failed;
    };
    let mut socket = icmp::Socket::new(
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 1024]),
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 1024]),
    );
    let ident = control::random_u64() as u16;
    if socket.bind(icmp::Endpoint::Ident(ident)).is_err() {
        kprintln!("ping: cannot open an ICMP endpoint");
        return Status::Failed;
    }
    let handle = stack.sockets.add(socket);
    kprintln!("PING {host} ({target}): 56 data bytes");
    let mut received = 0u16;
    for seq in 1..=count {
        let sent_at = control::monotonic_ns();
        let payload = [0x42u8; 56];
        let request = Icmpv4Repr::EchoRequest {
            ident,
            seq_no: seq,
            data: &payload,
        };
        let caps = ChecksumCapabilities::default();
        let socket = stack.sockets.get_mut::<icmp::Socket>(handle);
        if let Ok(buffer) = socket.send(request.buffer_len(), IpAddress::Ipv4(target)) {
            request.emit(&mut Icmpv4Packet::new_unchecked(buffer), &caps);
        }
        let answered = stack.poll_until(SECOND, |stack| {
            let socket = stack.sockets.get_mut::<icmp::Socket>(handle);
            while let Ok((bytes, from)) = socket.recv() {
                let Ok(packet) = Icmpv4Packet::new_checked(bytes) else {
                    continue;
                };
                if let Ok(Icmpv4Repr::EchoReply {
                    ident: i,
                    seq_no,
                    data,
                }) = Icmpv4Repr::parse(&packet, &caps)
                {
                    if i == ident && seq_no == seq {
                        kprintln!(
                            "{} bytes from {from}: icmp_seq={seq} time={}",
                            data.len() + 8,
                            Elapsed(control::monotonic_ns().saturating_sub(sent_at))
                        );
                        return true;
                    }
                }
            }
            false
        });
        if answered {
            received += 1;
        } else {
            kprintln!("no reply from {target} for icmp_seq={seq} within 1 s");
        }
    }
    stack.sockets.remove(handle);
    kprintln!(
        "{count} packets transmitted, {received} received, {}% packet loss",
        (u32::from(count - received) * 100) / u32::from(count)
    );
    Status::of(received > 0)
}

/// `Failed` unless an HTTP response arrived (whatever its status code, as curl(1)).
fn get(stack: &mut Stack, text: &str) -> Status {
    let url = match http::parse_url(text) {
        Ok(url) => url,
        Err(e) => {
            kprintln!("get: {}", e.describe());
            return Status::Usage;
        }
    };
    if stack.lease().is_none() && stack.wait_for_lease(2 * SECOND).is_none() {
        kprintln!("get: no address yet (no DHCP lease)");
        return Status::Failed;
    }
    let Some(address) = address_of(stack, url.host) else {
        return Status::Failed;
    };
    let started = control::monotonic_ns();
    let mut socket = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; 64 * 1024]),
        tcp::SocketBuffer::new(vec![0; 4096]),
    );
    socket.set_ack_delay(None);
    let local_port = 49152 + (control::random_u64() % 16384) as u16;
    if let Err(e) = socket.connect(stack.iface.context(), (address, url.port), local_port) {
        kprintln!("get: cannot connect to {address}:{}: {e}", url.port);
        return Status::Failed;
    }
    let handle = stack.sockets.add(socket);
    let request = alloc::format!(
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: labvisor-guest\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path, url.host, url.port
    );
    let mut sent = 0;
    let mut response = Vec::new();
    let mut dropped = 0usize;
    let mut last_progress = control::monotonic_ns();
    let mut was_connected = false;
    let outcome = loop {
        let moved = stack.poll();
        let socket = stack.sockets.get_mut::<tcp::Socket>(handle);
        let now = control::monotonic_ns();
        if socket.may_send() {
            was_connected = true;
            if sent < request.len() {
                if let Ok(n) = socket.send_slice(&request.as_bytes()[sent..]) {
                    sent += n;
                }
            }
        }
        while let Ok(n) = socket.recv(|data| {
            let keep = data.len().min(GET_MAX - response.len());
            response.extend_from_slice(&data[..keep]);
            dropped += data.len() - keep;
            (data.len(), data.len())
        }) {
            if n == 0 {
                break;
            }
            last_progress = now;
        }
        if !socket.may_recv() && was_connected {
            break Ok(());
        }
        if !socket.is_open() {
            break Err(if was_connected {
                "the connection was reset"
            } else {
                "the connection was refused"
            });
        }
        if now.saturating_sub(last_progress) > 10 * SECOND {
            break Err(if was_connected {
                "no data for 10 s"
            } else {
                "no answer to the connection request within 10 s"
            });
        }
        if !moved {
            control::idle(100);
        }
    };
    let socket = stack.sockets.get_mut::<tcp::Socket>(handle);
    socket.close();
    stack.poll_until(SECOND / 2, |stack| {
        !stack.sockets.get_mut::<tcp::Socket>(handle).is_active()
    });
    stack.sockets.get_mut::<tcp::Socket>(handle).abort();
    stack.poll();
    stack.sockets.remove(handle);
    if let Err(why) = outcome {
        if response.is_empty() {
            kprintln!("get: {address}:{}: {why}", url.port);
            return Status::Failed;
        }
        kprintln!("get: {why} (showing what arrived)");
    }
    print_response(
        &response,
        dropped,
        control::monotonic_ns().saturating_sub(started),
    )
}

fn print_response(bytes: &[u8], dropped: usize, nanos: u64) -> Status {
    let response = match http::parse_response(bytes) {
        Ok(response) => response,
        Err(e) => {
            kprintln!("get: {}", e.describe());
            return Status::Failed;
        }
    };
    kprintln!("{}", response.status_line);
    let text = String::from_utf8_lossy(&response.body);
    for line in text.split_inclusive('\n') {
        let line = line.trim_end_matches(['\r', '\n']);
        let clean: String = line
            .chars()
            .map(|c| if c.is_control() && c != '\t' { '.' } else { c })
            .collect();
        kprintln!("{clean}");
    }
    kprintln!(
        "-- {} bytes of body{}{} in {}",
        response.body.len(),
        if response.truncated {
            " (cut short by the server)"
        } else {
            ""
        },
        if dropped > 0 {
            alloc::format!(" ({dropped} more not kept)")
        } else {
            String::new()
        },
        Elapsed(nanos)
    );
    Status::Success
}

fn serve(stack: &mut Stack, rest: &str) -> Status {
    let args: Vec<&str> = rest.split_whitespace().collect();
    match args[..] {
        [] => {
            if stack.services.is_empty() && stack.udp_services.is_empty() {
                kprintln!(
                    "no services (start one with `serve echo|discard|chargen|udp-echo PORT`)"
                );
            }
            for s in &stack.services {
                kprintln!(
                    "{} on tcp port {}: {} connections, {} bytes in, {} bytes out",
                    s.kind.name(),
                    s.port,
                    s.connections,
                    s.bytes_in,
                    s.bytes_out
                );
            }
            for s in &stack.udp_services {
                kprintln!(
                    "udp-echo on udp port {}: {} datagrams, {} bytes echoed",
                    s.port,
                    s.datagrams,
                    s.bytes
                );
            }
            Status::Success
        }
        ["udp-echo", port] => serve_udp_echo(stack, port),
        [kind, port] => {
            let Some(kind) = Kind::parse(kind) else {
                kprintln!(
                    "serve: the service must be echo, discard, chargen or udp-echo, not `{kind}`"
                );
                return Status::Usage;
            };
            let Some(port) = service_port(port) else {
                return Status::Usage;
            };
            if port == super::SHELL_PORT || stack.services.iter().any(|s| s.port == port) {
                kprintln!("serve: tcp port {port} is already in use");
                return Status::Failed;
            }
            if stack.services.len() >= SERVICES_MAX {
                kprintln!("serve: at most {SERVICES_MAX} services run at once");
                return Status::Failed;
            }
            let service = Service::new(&mut stack.sockets, kind, port);
            stack.services.push(service);
            stack.poll();
            kprintln!("serving {} on tcp port {port}", kind.name());
            Status::Success
        }
        _ => {
            kprintln!("serve: usage: serve [echo|discard|chargen|udp-echo PORT]");
            Status::Usage
        }
    }
}

/// `serve`'s PORT, or `None` after saying what is wrong with it.
fn service_port(port: &str) -> Option<u16> {
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Some(p),
        _ => {
            kprintln!("serve: PORT must be a number from 1 to 65535, not `{port}`");
            None
        }
    }
}

fn serve_udp_echo(stack: &mut Stack, port: &str) -> Status {
    let Some(port) = service_port(port) else {
        return Status::Usage;
    };
    if stack.udp_services.iter().any(|s| s.port == port) {
        kprintln!("serve: udp port {port} is already in use");
        return Status::Failed;
    }
    if stack.udp_services.len() >= SERVICES_MAX {
        kprintln!("serve: at most {SERVICES_MAX} UDP services run at once");
        return Status::Failed;
    }
    let Some(service) = UdpEcho::new(&mut stack.sockets, port) else {
        kprintln!("serve: udp port {port} cannot be bound");
        return Status::Failed;
    };
    stack.udp_services.push(service);
    stack.poll();
    kprintln!("serving udp-echo on udp port {port}");
    Status::Success
}
