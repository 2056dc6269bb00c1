//! The NAT model against the Linux kernel: a differential test in network namespaces.
//!
//! The lab of [`TOPOLOGY`] is built twice: as the core's simulated network (with the router's
//! NAT in the `linux` profile) and as real network namespaces (two LAN hosts on a bridge, a
//! router with `iptables -t nat -A POSTROUTING -o wan -j MASQUERADE` and one DNAT port forward,
//! a server). Each case sends the same traffic through both, from real sockets on one side
//! and as the simulator's `Send` actions on the other, with the model's clock following the
//! real one, and compares the router's `conntrack -L` with the model's table: tuples, TCP
//! state, `[UNREPLIED]` and `[ASSURED]`, and timeouts within a second. Where Linux is random
//! (the port it picks on a clash) the property is compared, not the value.
//!
//! It needs root, `ip`, `iptables`, `conntrack` and `sysctl` (`cargo xtask test` installs them)
//! and prints `SKIP: reason` where network namespaces cannot be created. Nothing leaves the
//! namespaces; only documentation and private addresses are used; the namespaces, with their
//! links and rules, are deleted at the end, also when a case fails or panics.

mod lab;
mod table;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use labvisor_core::net::clock;
use labvisor_core::net::nat::NatConfig;
use labvisor_core::net::packet::{Proto, TcpFlags};
use labvisor_core::net::scenario::Scenario;
use labvisor_core::net::sim::{Action, Network, SendSpec};
use labvisor_core::net::trace::{CtChange, Event, Step};

use lab::{Lab, Node, SERVER};

/// The model's side of the lab, in the scenario format lessons use.
const TOPOLOGY: &str = r#"
[[node]]
name = "h1"
kind = "host"
nic = [{ name = "eth0", segment = "lan", ip = "192.168.0.10/24", gateway = "192.168.0.1" }]
listen = ["tcp/22"]

[[node]]
name = "h2"
kind = "host"
nic = [{ name = "eth0", segment = "lan", ip = "192.168.0.11/24", gateway = "192.168.0.1" }]

[[node]]
name = "router"
kind = "router"
nat = { outside = "wan", profile = "linux", forward = ["ssh,tcp,,2222,192.168.0.10,22"] }
nic = [
  { name = "lan", segment = "lan", ip = "192.168.0.1/24" },
  { name = "wan", segment = "wan", ip = "203.0.113.7/24" },
]

[[node]]
name = "server"
kind = "server"
nic = [{ name = "eth0", segment = "wan", ip = "203.0.113.53/24" }]
listen = ["udp/53", "udp/5353", "tcp/80"]
"#;

/// The short UDP timeout of the expiry case, set in the router's namespace and in the model.
const SHORT_UDP_TIMEOUT: u32 = 2;

/// One case: a name and the traffic, sent through both sides.
struct Case {
    name: &'static str,
    run: fn(&mut Pair) -> Result<(), String>,
}

const CASES: &[Case] = &[
    Case {
        name: "udp query and answer: 30 s, not assured",
        run: udp_query_answer,
    },
    Case {
        name: "udp stream: traffic after 2 s makes it 120 s and assured",
        run: udp_stream,
    },
    Case {
        name: "tcp handshake, data, FIN from the client: ESTABLISHED then TIME_WAIT",
        run: tcp_full_close,
    },
    Case {
        name: "tcp RST answering the SYN: the entry is destroyed at once",
        run: tcp_rst,
    },
    Case {
        name: "icmp echo: tracked by identifier, 30 s",
        run: icmp_echo,
    },
    Case {
        name: "two hosts on one source port: the second gets another port",
        run: port_clash,
    },
    Case {
        name: "two hosts on one source port to different server ports: both keep it",
        run: shared_port,
    },
    Case {
        name: "unsolicited inbound udp: nothing forwarded inward",
        run: unsolicited_inbound,
    },
    Case {
        name: "port forward (DNAT) with the reply",
        run: port_forward,
    },
    Case {
        name: "udp entry expires after the (short) udp timeout",
        run: udp_expiry,
    },
];

fn main() {
    if let Some(why) = lab::unavailable() {
        println!("SKIP: linux_nat: {why}");
        return;
    }
    let started = Instant::now();
    let failures = match run_all() {
        Ok(f) => f,
        Err(e) => {
            println!("linux_nat: the lab could not be built: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "linux_nat: {} case(s), {} failed, in {:.1} s",
        CASES.len(),
        failures,
        started.elapsed().as_secs_f64()
    );
    if failures > 0 {
        std::process::exit(1);
    }
}

/// Builds the lab, runs every case, and deletes the lab (its `Drop`) before returning.
fn run_all() -> Result<usize, String> {
    let lab = Lab::build()?;
    let servers = Servers::start(&lab);
    let mut failures = 0;
    for case in CASES {
        let t = Instant::now();
        let outcome = Pair::new(&lab).and_then(|mut pair| (case.run)(&mut pair));
        match outcome {
            Ok(()) => println!("ok    {} ({} ms)", case.name, t.elapsed().as_millis()),
            Err(e) => {
                failures += 1;
                println!("FAIL  {}: {e}", case.name);
            }
        }
    }
    servers.stop()?;
    Ok(failures)
}

/// The services the real lab runs for the whole test, as the scenario's `listen` says: a UDP
/// answerer on the server's port 53, a TCP service on its port 80 (reads a request, answers,
/// closes after the client did), and h1's port 22 for the port forward.
struct Servers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Result<(), String>>>,
}

impl Servers {
    fn start(lab: &Lab) -> Servers {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for port in [53, 5353] {
            let s = stop.clone();
            threads.push(lab.spawn(Node::Server, move || {
                let sock =
                    UdpSocket::bind(("0.0.0.0", port)).map_err(|e| format!("udp/{port}: {e}"))?;
                sock.set_read_timeout(Some(Duration::from_millis(50)))
                    .map_err(|e| e.to_string())?;
                let mut buf = [0u8; 512];
                while !s.load(Ordering::Relaxed) {
                    if let Ok((_, from)) = sock.recv_from(&mut buf) {
                        let _ = sock.send_to(b"answer", from);
                    }
                }
                Ok(())
            }));
        }
        for (node, port, answers) in [(Node::Server, 80, true), (Node::H1, 22, false)] {
            let s = stop.clone();
            threads.push(lab.spawn(node, move || {
                let l =
                    TcpListener::bind(("0.0.0.0", port)).map_err(|e| format!("tcp/{port}: {e}"))?;
                l.set_nonblocking(true).map_err(|e| e.to_string())?;
                while !s.load(Ordering::Relaxed) {
                    match l.accept() {
                        Ok((conn, _)) => {
                            thread::spawn(move || serve_tcp(conn, answers));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
                Ok(())
            }));
        }
        Servers { stop, threads }
    }

    fn stop(self) -> Result<(), String> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            lab::join(t)?;
        }
        Ok(())
    }
}

/// One accepted connection: read the request, answer it (if `answers`), and close only after
/// the client closed, so the client's FIN comes first.
fn serve_tcp(mut conn: TcpStream, answers: bool) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(3)));
    let mut buf = [0u8; 512];
    if answers && matches!(conn.read(&mut buf), Ok(n) if n > 0) {
        let _ = conn.write_all(b"response");
    }
    while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
}

/// Both sides of one case: the real lab, and the model with its clock following the real one.
struct Pair<'a> {
    lab: &'a Lab,
    model: Network,
    /// The model's conntrack events at the router, as `[NEW]`/`[UPDATE]`/`[DESTROY]`.
    model_events: Vec<&'static str>,
    start: Instant,
}

impl<'a> Pair<'a> {
    /// A fresh model and an empty kernel table, with the kernel's default timeouts.
    fn new(lab: &'a Lab) -> Result<Pair<'a>, String> {
        Pair::with(lab, NatConfig::linux())
    }

    fn with(lab: &'a Lab, config: NatConfig) -> Result<Pair<'a>, String> {
        let udp = config.timeouts.udp.to_string();
        lab.sysctl(Node::Router, "net.netfilter.nf_conntrack_udp_timeout", &udp)?;
        lab.exec(Node::Router, &["conntrack", "-F"])?;
        let scenario =
            Scenario::parse("linux_nat.toml", TOPOLOGY).map_err(|e| format!("scenario: {e}"))?;
        let mut topology = scenario.topology;
        for node in &mut topology.nodes {
            if let Some(nat) = &mut node.nat {
                if nat.config != NatConfig::linux() {
                    return Err(
                        "the scenario's profile = \"linux\" is not NatConfig::linux()".into(),
                    );
                }
                nat.config = config.clone();
            }
        }
        let model = Network::new(topology).map_err(|p| format!("model: {p:?}"))?;
        Ok(Pair {
            lab,
            model,
            model_events: Vec::new(),
            start: Instant::now(),
        })
    }

    /// Moves the model's clock to the real time elapsed since the case began.
    fn sync(&mut self) -> Result<(), String> {
        let real = self.start.elapsed().as_millis() as u64;
        let behind = real.saturating_sub(self.model.now().0);
        if behind > 0 {
            let steps = self
                .model
                .apply(&Action::Advance(clock::Duration(behind)))
                .map_err(|e| e.to_string())?;
            self.note(&steps);
        }
        Ok(())
    }

    fn note(&mut self, steps: &[Step]) {
        for s in steps {
            if let Event::Conntrack { node, change, .. } = &s.event {
                if node == Node::Router.name() {
                    self.model_events.push(match change {
                        CtChange::New => "NEW",
                        CtChange::Update => "UPDATE",
                        CtChange::Expired | CtChange::Killed => "DESTROY",
                    });
                }
            }
        }
    }

    /// The model's side of one packet: `from` sends it, and the destination answers if
    /// `answer` (as the real one does).
    fn send(
        &mut self,
        from: Node,
        to: &str,
        proto: Proto,
        ports: (u16, u16),
        flags: &str,
        answer: bool,
    ) -> Result<Vec<Step>, String> {
        self.sync()?;
        let to: Ipv4Addr = to.parse().map_err(|e| format!("{to}: {e}"))?;
        let mut spec = SendSpec::new(from.name(), to, proto, ports.1);
        spec.sport = ports.0;
        spec.answer = answer;
        if proto == Proto::Tcp {
            spec.flags = TcpFlags::parse(flags)?;
        }
        let steps = self
            .model
            .apply(&Action::Send(spec))
            .map_err(|e| e.to_string())?;
        self.note(&steps);
        Ok(steps)
    }

    /// The kernel's table and the model's, read at the same moment and compared.
    fn check(&mut self, when: &str) -> Result<(), String> {
        let kernel = self.kernel_table()?;
        self.sync()?;
        let nat = self
            .model
            .nats()
            .get(Node::Router.name())
            .ok_or("the model has no NAT table for the router")?;
        let model = nat.conntrack_lines(self.model.now());
        let model = table::parse_all(model.iter().map(String::as_str))?;
        table::compare(&kernel, &model).map_err(|e| format!("{when}: {e}"))
    }

    /// The kernel's table, read: the protocols the model tracks (the bridge's own IGMP
    /// reports are tracked too, as protocol 2, and are not part of any case).
    fn kernel_table(&self) -> Result<Vec<table::Line>, String> {
        let out = self
            .lab
            .exec(Node::Router, &["conntrack", "-L", "-f", "ipv4"])?;
        let mut lines = table::parse_all(out.lines())?;
        lines.retain(|l| matches!(l.proto.as_str(), "tcp" | "udp" | "icmp"));
        Ok(lines)
    }
}

/// A TCP socket bound to `sport` and connected to `dst`: the source port is part of what is
/// compared, and std cannot bind before connecting.
fn tcp_connect(sport: u16, dst: SocketAddrV4) -> Result<TcpStream, String> {
    use rustix::net::{bind, connect, socket, sockopt, AddressFamily, SocketType};
    let fd: OwnedFd =
        socket(AddressFamily::INET, SocketType::STREAM, None).map_err(|e| e.to_string())?;
    sockopt::set_socket_reuseaddr(&fd, true).map_err(|e| e.to_string())?;
    bind(&fd, &SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, sport))
        .map_err(|e| format!("bind :{sport}: {e}"))?;
    connect(&fd, &dst).map_err(|e| format!("connect {dst}: {e}"))?;
    Ok(TcpStream::from(fd))
}

fn server(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(SERVER.parse().unwrap_or(Ipv4Addr::UNSPECIFIED), port)
}

/// One UDP query from `sport` to the server's port `dport`, and its answer (which must
/// arrive).
fn real_udp_query(lab: &Lab, from: Node, sport: u16, dport: u16) -> Result<(), String> {
    lab.within(from, move || {
        let sock = UdpSocket::bind(("0.0.0.0", sport)).map_err(|e| format!("bind: {e}"))?;
        sock.set_read_timeout(Some(Duration::from_secs(1)))
            .map_err(|e| e.to_string())?;
        sock.send_to(b"query", server(dport))
            .map_err(|e| format!("send: {e}"))?;
        let mut buf = [0u8; 64];
        sock.recv_from(&mut buf)
            .map_err(|e| format!("no answer to the udp query from port {sport}: {e}"))?;
        Ok(())
    })
}

fn udp_query(p: &mut Pair, from: Node, sport: u16) -> Result<(), String> {
    udp_query_to(p, from, sport, 53)
}

fn udp_query_to(p: &mut Pair, from: Node, sport: u16, dport: u16) -> Result<(), String> {
    real_udp_query(p.lab, from, sport, dport)?;
    p.send(from, SERVER, Proto::Udp, (sport, dport), "", true)
        .map(drop)
}

fn udp_query_answer(p: &mut Pair) -> Result<(), String> {
    udp_query(p, Node::H1, 40000)?;
    p.check("after one query and its answer")
}

fn udp_stream(p: &mut Pair) -> Result<(), String> {
    udp_query(p, Node::H1, 40001)?;
    p.check("after the first exchange")?;
    thread::sleep(Duration::from_millis(2300));
    udp_query(p, Node::H1, 40001)?;
    p.check("after an exchange 2.3 s later")
}

fn tcp_full_close(p: &mut Pair) -> Result<(), String> {
    const SPORT: u16 = 40010;
    let (to_client, to_server) = (
        (Node::H1, SERVER, (SPORT, 80)),
        (Node::Server, lab::ROUTER_WAN, (80, SPORT)),
    );
    let mut conn = p.lab.within(Node::H1, move || {
        let mut c = tcp_connect(SPORT, server(80))?;
        c.write_all(b"request").map_err(|e| e.to_string())?;
        let mut buf = [0u8; 64];
        c.set_read_timeout(Some(Duration::from_secs(1)))
            .map_err(|e| e.to_string())?;
        c.read(&mut buf).map_err(|e| format!("no response: {e}"))?;
        Ok(c)
    })?;
    // SYN (answered by SYN-ACK), ACK, the request, the response, its ACK.
    let (h, s) = (to_client, to_server);
    p.send(h.0, h.1, Proto::Tcp, h.2, "S", true)?;
    p.send(h.0, h.1, Proto::Tcp, h.2, "A", false)?;
    p.send(h.0, h.1, Proto::Tcp, h.2, "PA", false)?;
    p.send(s.0, s.1, Proto::Tcp, s.2, "PA", false)?;
    p.send(h.0, h.1, Proto::Tcp, h.2, "A", false)?;
    thread::sleep(Duration::from_millis(100));
    p.check("after the handshake and an exchange of data")?;
    // The client closes first; the server answers its FIN with an ACK, then closes too.
    conn.shutdown(std::net::Shutdown::Write)
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 8];
    let _ = conn.read(&mut buf);
    drop(conn);
    p.send(h.0, h.1, Proto::Tcp, h.2, "FA", false)?;
    p.send(s.0, s.1, Proto::Tcp, s.2, "A", false)?;
    p.send(s.0, s.1, Proto::Tcp, s.2, "FA", false)?;
    p.send(h.0, h.1, Proto::Tcp, h.2, "A", false)?;
    thread::sleep(Duration::from_millis(100));
    p.check("after both FINs and the last ACK")
}

fn tcp_rst(p: &mut Pair) -> Result<(), String> {
    const SPORT: u16 = 40020;
    let events = EventWatch::start(p.lab)?;
    let refused = p.lab.within(
        Node::H1,
        move || Ok(tcp_connect(SPORT, server(81)).is_err()),
    )?;
    if !refused {
        return Err("the connection to the server's port 81 was not refused".into());
    }
    // Nothing listens on tcp/81 in the model either: the SYN is answered with a RST.
    p.send(Node::H1, SERVER, Proto::Tcp, (SPORT, 81), "S", true)?;
    thread::sleep(Duration::from_millis(100));
    p.check("after the RST")?;
    let kernel = events.stop()?;
    if kernel != p.model_events {
        return Err(format!(
            "conntrack -E at the router: {kernel:?} in the kernel, {:?} in the model",
            p.model_events
        ));
    }
    Ok(())
}

fn icmp_echo(p: &mut Pair) -> Result<(), String> {
    const ID: u16 = 7;
    p.lab.within(Node::H1, move || {
        use rustix::net::{
            bind, ipproto, recv, sendto, socket, sockopt, AddressFamily, RecvFlags, SendFlags,
            SocketType,
        };
        // A "ping" socket: the kernel uses the bound port as the echo identifier.
        let fd = socket(AddressFamily::INET, SocketType::DGRAM, Some(ipproto::ICMP))
            .map_err(|e| format!("icmp socket: {e}"))?;
        bind(&fd, &SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, ID)).map_err(|e| e.to_string())?;
        sockopt::set_socket_timeout(&fd, sockopt::Timeout::Recv, Some(Duration::from_secs(1)))
            .map_err(|e| e.to_string())?;
        let request = [8, 0, 0, 0, 0, 0, 0, 1, b'l', b'v'];
        sendto(&fd, &request, SendFlags::empty(), &server(0)).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 64];
        recv(&fd, &mut buf, RecvFlags::empty()).map_err(|e| format!("no echo reply: {e}"))?;
        Ok(())
    })?;
    p.send(Node::H1, SERVER, Proto::Icmp, (ID, 0), "", true)?;
    p.check("after one echo request and its reply")
}

fn port_clash(p: &mut Pair) -> Result<(), String> {
    udp_query(p, Node::H1, 40030)?;
    udp_query(p, Node::H2, 40030)?;
    p.check("after both hosts' queries")?;
    // The property the comparison relies on, stated once more against the kernel alone.
    let kernel = p.kernel_table()?;
    let kept = kernel
        .iter()
        .filter(|l| l.reply.dport == 40030 && l.orig.sport == 40030)
        .count();
    if kept != 1 {
        return Err(format!(
            "the kernel kept port 40030 for {kept} hosts, expected exactly one"
        ));
    }
    Ok(())
}

fn shared_port(p: &mut Pair) -> Result<(), String> {
    // The reply tuples differ (the server's port), so Linux needs no other port for h2; a
    // NAT that reserves a port per inside host (the teaching profiles) would give it another.
    udp_query_to(p, Node::H1, 40031, 53)?;
    udp_query_to(p, Node::H2, 40031, 5353)?;
    p.check("after both hosts' queries")?;
    let kernel = p.kernel_table()?;
    if kernel.iter().any(|l| l.reply.dport != 40031) {
        return Err(format!("the kernel changed a port: {kernel:?}"));
    }
    Ok(())
}

fn unsolicited_inbound(p: &mut Pair) -> Result<(), String> {
    const PORT: u16 = 40040;
    // h1 listens on the port the packet is addressed to: it must not get it.
    let listener = p.lab.spawn(Node::H1, move || {
        let sock = UdpSocket::bind(("0.0.0.0", PORT)).map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_millis(600)))
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 64];
        Ok(sock.recv_from(&mut buf).is_ok())
    });
    thread::sleep(Duration::from_millis(100));
    p.lab.within(Node::Server, move || {
        let sock = UdpSocket::bind("0.0.0.0:5300").map_err(|e| e.to_string())?;
        sock.send_to(b"hello?", (lab::ROUTER_WAN, PORT))
            .map_err(|e| e.to_string())?;
        Ok(())
    })?;
    let steps = p.send(
        Node::Server,
        lab::ROUTER_WAN,
        Proto::Udp,
        (5300, PORT),
        "",
        false,
    )?;
    let dropped_at_router = steps.iter().any(|s| {
        matches!(&s.event, Event::Drop { node, reason, .. }
            if node == Node::Router.name() && reason.starts_with("no connection"))
    });
    if !dropped_at_router {
        return Err("the model did not drop the packet at the router for want of a mapping".into());
    }
    if lab::join(listener)? {
        return Err("the kernel forwarded the unsolicited packet to h1".into());
    }
    // The kernel tracks the packet as a flow to the router itself, untranslated; the model's
    // table holds only flows its NAT translates or forwards (docs/net.md, "Compared with the
    // kernel"). Both forward nothing.
    let kernel = p.kernel_table()?;
    let to_router: Vec<_> = kernel
        .iter()
        .filter(|l| {
            l.orig.dst == lab::ROUTER_WAN
                && l.reply.src == l.orig.dst
                && l.reply.dst == l.orig.src
                && l.reply.dport == l.orig.sport
                && l.unreplied
        })
        .collect();
    if to_router.len() != 1 || kernel.len() != 1 {
        return Err(format!(
            "expected the kernel to track one unreplied flow to the router itself, found {kernel:?}"
        ));
    }
    let model = p
        .model
        .nats()
        .get(Node::Router.name())
        .map(|n| n.conntrack().len());
    if model != Some(0) {
        return Err(format!("the model tracks {model:?} entries, expected none"));
    }
    Ok(())
}

fn port_forward(p: &mut Pair) -> Result<(), String> {
    const SPORT: u16 = 50000;
    let conn = p.lab.within(Node::Server, move || {
        tcp_connect(
            SPORT,
            SocketAddrV4::new(
                lab::ROUTER_WAN.parse().unwrap_or(Ipv4Addr::UNSPECIFIED),
                2222,
            ),
        )
    })?;
    p.send(
        Node::Server,
        lab::ROUTER_WAN,
        Proto::Tcp,
        (SPORT, 2222),
        "S",
        true,
    )?;
    p.send(
        Node::Server,
        lab::ROUTER_WAN,
        Proto::Tcp,
        (SPORT, 2222),
        "A",
        false,
    )?;
    thread::sleep(Duration::from_millis(100));
    let checked = p.check("after the forwarded handshake");
    drop(conn);
    checked
}

fn udp_expiry(p: &mut Pair) -> Result<(), String> {
    let mut config = NatConfig::linux();
    config.timeouts.udp = SHORT_UDP_TIMEOUT;
    *p = Pair::with(p.lab, config)?;
    udp_query(p, Node::H1, 40050)?;
    p.check("right after the exchange")?;
    thread::sleep(Duration::from_millis(SHORT_UDP_TIMEOUT as u64 * 1000 + 500));
    p.check("after the udp timeout")?;
    if p.model_events.last() != Some(&"DESTROY") {
        return Err(format!(
            "the model's entry did not expire: {:?}",
            p.model_events
        ));
    }
    Ok(())
}

/// `conntrack -E` in the router's namespace, for the cases where the order of events matters.
struct EventWatch {
    child: Option<std::process::Child>,
}

impl EventWatch {
    fn start(lab: &Lab) -> Result<EventWatch, String> {
        let child = lab
            .command(Node::Router, &["conntrack", "-E", "-f", "ipv4"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("conntrack -E: {e}"))?;
        // Let it subscribe before the traffic starts.
        thread::sleep(Duration::from_millis(200));
        Ok(EventWatch { child: Some(child) })
    }

    /// Stops it (SIGINT, so it flushes what it printed) and returns the event kinds in order.
    fn stop(mut self) -> Result<Vec<&'static str>, String> {
        let child = self.child.take().ok_or("conntrack -E already stopped")?;
        let pid = rustix::process::Pid::from_child(&child);
        rustix::process::kill_process(pid, rustix::process::Signal::INT)
            .map_err(|e| format!("cannot stop conntrack -E: {e}"))?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text
            .lines()
            .filter_map(|l| match l.split_whitespace().next() {
                Some("[NEW]") => Some("NEW"),
                Some("[UPDATE]") => Some("UPDATE"),
                Some("[DESTROY]") => Some("DESTROY"),
                _ => None,
            })
            .collect())
    }
}

impl Drop for EventWatch {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
