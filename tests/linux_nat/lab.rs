//! The lab as real network namespaces: two LAN hosts on a bridge, a router doing MASQUERADE
//! (and one DNAT port forward), and a server on the WAN side.
//!
//! Everything lives in namespaces this module creates with names unique to the process, and
//! dropping [`Lab`] deletes them, which removes their veths, the bridge, the iptables rules and
//! the conntrack tables with them; nothing is configured in the namespace the test runs in.
//! Only documentation (RFC 5737) and private (RFC 1918) addresses are used.

use std::fs::File;
use std::process::{Command, Output};
use std::thread;

use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};

/// The LAN hosts, the router's two sides and the server, as the model's scenario has them.
pub const H1: &str = "192.168.0.10";
pub const H2: &str = "192.168.0.11";
pub const ROUTER_LAN: &str = "192.168.0.1";
pub const ROUTER_WAN: &str = "203.0.113.7";
pub const SERVER: &str = "203.0.113.53";

/// The node names, shared with the model's scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    H1,
    H2,
    Router,
    Server,
}

impl Node {
    const ALL: [Node; 4] = [Node::H1, Node::H2, Node::Router, Node::Server];

    /// The name of this node in the model's scenario.
    pub fn name(self) -> &'static str {
        match self {
            Node::H1 => "h1",
            Node::H2 => "h2",
            Node::Router => "router",
            Node::Server => "server",
        }
    }
}

/// Why the lab cannot be built here, if it cannot: the test then prints `SKIP: reason`.
pub fn unavailable() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("network namespaces need root (run `cargo xtask test` as root)".into());
    }
    for tool in ["ip", "iptables", "conntrack", "sysctl"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!(
                "`{tool}` is not installed (`cargo xtask test` installs iproute2, iptables and conntrack)"
            ));
        }
    }
    let probe = format!("lvnat-probe-{}", std::process::id());
    match Command::new("ip").args(["netns", "add", &probe]).output() {
        Ok(o) if o.status.success() => {
            let _ = Command::new("ip").args(["netns", "del", &probe]).output();
            None
        }
        Ok(o) => Some(format!(
            "cannot create a network namespace here: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run `ip`: {e}")),
    }
}

/// The namespaces; dropping the lab deletes them all, also when a case panicked.
pub struct Lab {
    prefix: String,
    created: Vec<Node>,
}

impl Lab {
    /// Builds the topology, MASQUERADE on the router's WAN side and the port forward
    /// 203.0.113.7:2222 → 192.168.0.10:22.
    pub fn build() -> Result<Lab, String> {
        let mut lab = Lab {
            prefix: format!("lvnat-{}", std::process::id()),
            created: Vec::new(),
        };
        for node in Node::ALL {
            run(Command::new("ip").args(["netns", "add", &lab.ns(node)]))?;
            lab.created.push(node);
            lab.ip(node, "link set lo up")?;
            lab.sysctl(node, "net.ipv6.conf.all.disable_ipv6", "1")?;
        }
        let (h1, h2, s) = (lab.ns(Node::H1), lab.ns(Node::H2), lab.ns(Node::Server));
        // Every link is created inside the router's namespace, its peer moved straight into
        // the other one: nothing ever appears in the namespace the test runs in.
        lab.ip(Node::Router, "link add br0 type bridge")?;
        for (port, peer) in [("lan1", &h1), ("lan2", &h2), ("wan", &s)] {
            lab.ip(
                Node::Router,
                &format!("link add {port} type veth peer name eth0 netns {peer}"),
            )?;
        }
        lab.ip(Node::Router, "link set lan1 master br0")?;
        lab.ip(Node::Router, "link set lan2 master br0")?;
        for link in ["br0", "lan1", "lan2", "wan"] {
            lab.ip(Node::Router, &format!("link set {link} up"))?;
        }
        lab.ip(Node::Router, &format!("addr add {ROUTER_LAN}/24 dev br0"))?;
        lab.ip(Node::Router, &format!("addr add {ROUTER_WAN}/24 dev wan"))?;
        for (node, addr) in [(Node::H1, H1), (Node::H2, H2), (Node::Server, SERVER)] {
            lab.ip(node, &format!("addr add {addr}/24 dev eth0"))?;
            lab.ip(node, "link set eth0 up")?;
        }
        for node in [Node::H1, Node::H2] {
            lab.ip(node, &format!("route add default via {ROUTER_LAN}"))?;
        }
        // The LAN hosts may open ICMP echo ("ping") sockets, as root.
        lab.sysctl(Node::H1, "net.ipv4.ping_group_range", "0 0")?;
        lab.sysctl(Node::Router, "net.ipv4.ip_forward", "1")?;
        lab.iptables("-t nat -A POSTROUTING -o wan -j MASQUERADE")?;
        lab.iptables(&format!(
            "-t nat -A PREROUTING -i wan -p tcp --dport 2222 -j DNAT --to-destination {H1}:22"
        ))?;
        Ok(lab)
    }

    /// The namespace's name.
    pub fn ns(&self, node: Node) -> String {
        format!("{}-{}", self.prefix, node.name())
    }

    /// `ip -n NS ARGS`.
    pub fn ip(&self, node: Node, args: &str) -> Result<String, String> {
        run(Command::new("ip")
            .args(["-n", &self.ns(node)])
            .args(args.split_whitespace()))
    }

    /// Sets a sysctl inside the node's namespace.
    pub fn sysctl(&self, node: Node, key: &str, value: &str) -> Result<String, String> {
        self.exec(node, &["sysctl", "-q", "-w", &format!("{key}={value}")])
    }

    /// An iptables rule in the router's namespace.
    pub fn iptables(&self, args: &str) -> Result<String, String> {
        let mut argv = vec!["iptables", "-w"];
        argv.extend(args.split_whitespace());
        self.exec(Node::Router, &argv)
    }

    /// Runs a command inside the node's namespace and returns its standard output.
    pub fn exec(&self, node: Node, argv: &[&str]) -> Result<String, String> {
        run(Command::new("ip")
            .args(["netns", "exec", &self.ns(node)])
            .args(argv))
    }

    /// A command prepared to run inside the node's namespace.
    pub fn command(&self, node: Node, argv: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns(node)]).args(argv);
        c
    }

    /// Runs `f` on a thread inside the node's namespace (sockets it opens live there).
    pub fn spawn<T: Send + 'static>(
        &self,
        node: Node,
        f: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> thread::JoinHandle<Result<T, String>> {
        let path = format!("/run/netns/{}", self.ns(node));
        thread::spawn(move || {
            let ns = File::open(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
            move_into_link_name_space(
                std::os::fd::AsFd::as_fd(&ns),
                Some(LinkNameSpaceType::Network),
            )
            .map_err(|e| format!("cannot enter {path}: {e}"))?;
            f()
        })
    }

    /// Runs `f` inside the node's namespace and waits for it.
    pub fn within<T: Send + 'static>(
        &self,
        node: Node,
        f: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        join(self.spawn(node, f))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for node in self.created.drain(..).rev() {
            let ns = format!("{}-{}", self.prefix, node.name());
            if let Err(e) = run(Command::new("ip").args(["netns", "del", &ns])) {
                eprintln!("linux_nat: could not delete namespace {ns}: {e}");
            }
        }
    }
}

/// Waits for a thread started by [`Lab::spawn`]; a panic becomes an error.
pub fn join<T>(h: thread::JoinHandle<Result<T, String>>) -> Result<T, String> {
    h.join()
        .unwrap_or_else(|_| Err("a socket thread panicked".into()))
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let line = describe(cmd);
    let out: Output = cmd
        .output()
        .map_err(|e| format!("cannot start `{line}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{line}` failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}
