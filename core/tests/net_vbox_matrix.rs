//! The VirtualBox manual's table of networking modes (chapter 6, "Overview of networking
//! modes"), reproduced by simulating traffic: for each mode, two VMs on a host PC, a second PC
//! on the same LAN, and a server on the internet behind the home router.
//!
//! | Mode        | VM→Host | Host→VM      | VM↔VM | VM→LAN/Internet | LAN/Internet→VM |
//! |-------------|---------|--------------|-------|-----------------|-----------------|
//! | Host-only   | +       | +            | +     | –               | –               |
//! | Internal    | –       | –            | +     | –               | –               |
//! | Bridged     | +       | +            | +     | +               | +               |
//! | NAT         | +       | port forward | –     | +               | port forward    |
//! | NAT Network | +       | port forward | +     | +               | port forward    |

use std::net::Ipv4Addr;

use labvisor_core::lang::{Explain, Lang};
use labvisor_core::net::reach::{self, Blocked, Cell};
use labvisor_core::net::scenario::Scenario;
use labvisor_core::net::sim::Network;
use labvisor_core::net::trace::DropCause;

const LAB: &str = r#"
[[node]]
name = "pc"
kind = "host"
nic = [{ name = "eth0", segment = "lan", ip = "192.168.1.10/24", gateway = "192.168.1.1" }]

[[node]]
name = "laptop"
kind = "host"
nic = [{ name = "eth0", segment = "lan", ip = "192.168.1.20/24", gateway = "192.168.1.1" }]

[[node]]
name = "home-router"
kind = "router"
nat = { outside = "wan" }
nic = [
  { name = "lan", segment = "lan", ip = "192.168.1.1/24", dhcp = "192.168.1.100-192.168.1.199" },
  { name = "wan", segment = "isp", ip = "203.0.113.7/24", gateway = "203.0.113.1" },
]

[[node]]
name = "isp"
kind = "router"
nic = [
  { name = "cust", segment = "isp", ip = "203.0.113.1/24" },
  { name = "core", segment = "internet", ip = "8.8.8.1/24" },
]

[[node]]
name = "server"
kind = "server"
nic = [{ name = "eth0", segment = "internet", ip = "8.8.8.8/24", gateway = "8.8.8.1" }]
listen = ["tcp/443"]

[[node]]
name = "vm1"
kind = "vm"
host = "pc"
nic = [VM1NIC]
listen = ["tcp/22"]

[[node]]
name = "vm2"
kind = "vm"
host = "pc"
nic = [VM2NIC]
listen = ["tcp/22"]
"#;

fn lab(vm1: &str, vm2: &str, extra: &str) -> Network {
    let src = format!(
        "{}{extra}",
        LAB.replace("VM1NIC", vm1).replace("VM2NIC", vm2)
    );
    let s = Scenario::parse("lab.toml", &src).unwrap_or_else(|e| panic!("{e}"));
    Network::new(s.topology).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The table's symbol for a simulated cell.
fn symbol(c: &Cell) -> &'static str {
    match c {
        Cell::Direct { .. } => "+",
        Cell::PortForward { .. } => "port forward",
        Cell::No { .. } => "–",
        Cell::Myself => "self",
    }
}

/// One row of the table, by simulation. "LAN/Internet" is judged from both the LAN PC and the
/// internet server: a mode earns "+" only if both work, since the table lists them together.
fn row(net: &Network) -> [&'static str; 5] {
    let m = reach::matrix(net).unwrap();
    let cell = |a: &str, b: &str| symbol(m.get(a, b).expect("cell"));
    let both = |x: &'static str, y: &'static str| if x == y { x } else { "mixed" };
    [
        cell("vm1", "pc"),
        cell("pc", "vm1"),
        both(cell("vm1", "vm2"), cell("vm2", "vm1")),
        both(cell("vm1", "laptop"), cell("vm1", "server")),
        cell("laptop", "vm1"),
    ]
}

#[test]
fn host_only() {
    let vm = r#"{ mode = "hostonly", network = "vboxnet0" }"#;
    assert_eq!(row(&lab(vm, vm, "")), ["+", "+", "+", "–", "–"]);
}

#[test]
fn internal() {
    let vm1 = r#"{ mode = "internal", network = "intnet", ip = "192.168.100.11/24" }"#;
    let vm2 = r#"{ mode = "internal", network = "intnet", ip = "192.168.100.12/24" }"#;
    assert_eq!(row(&lab(vm1, vm2, "")), ["–", "–", "+", "–", "–"]);
}

#[test]
fn bridged() {
    let vm = r#"{ mode = "bridged" }"#;
    assert_eq!(row(&lab(vm, vm, "")), ["+", "+", "+", "+", "+"]);
}

#[test]
fn nat() {
    let vm1 = r#"{ mode = "nat", forward = ["ssh,tcp,,2222,,22"] }"#;
    let vm2 = r#"{ mode = "nat" }"#;
    let net = lab(vm1, vm2, "");
    let m = reach::matrix(&net).unwrap();
    // VM↔VM: no direct way (both are 10.0.2.15 behind their own NAT engines).
    assert_eq!(
        m.get("vm1", "vm2"),
        Some(&Cell::No {
            why: Blocked::OwnAddress {
                addr: Ipv4Addr::new(10, 0, 2, 15)
            }
        })
    );
    assert!(!matches!(m.get("vm2", "vm1"), Some(Cell::Direct { .. })));
    assert_eq!(
        [
            symbol(m.get("vm1", "pc").unwrap()),
            symbol(m.get("pc", "vm1").unwrap()),
            symbol(m.get("vm1", "laptop").unwrap()),
            symbol(m.get("vm1", "server").unwrap()),
            symbol(m.get("laptop", "vm1").unwrap())
        ],
        ["+", "port forward", "+", "+", "port forward"]
    );
    assert_eq!(
        m.get("pc", "vm1"),
        Some(&Cell::PortForward {
            rule: "ssh".into(),
            via: "127.0.0.1:2222".into()
        })
    );
    // Without a rule, nobody gets in.
    let closed = lab(vm2, vm2, "");
    let m = reach::matrix(&closed).unwrap();
    assert!(matches!(m.get("pc", "vm1"), Some(Cell::No { .. })));
    assert!(matches!(m.get("laptop", "vm1"), Some(Cell::No { .. })));
}

#[test]
fn nat_network() {
    let vm = r#"{ mode = "natnetwork", network = "NatNetwork" }"#;
    let natnet = r#"
[[natnetwork]]
name = "NatNetwork"
host = "pc"
forward = ["ssh1:tcp:[]:2222:[10.0.2.4]:22", "ssh2:tcp:[]:2223:[10.0.2.5]:22"]
"#;
    let net = lab(vm, vm, natnet);
    assert_eq!(row(&net), ["+", "port forward", "+", "+", "port forward"]);
    let closed = lab(
        vm,
        vm,
        "[[natnetwork]]\nname = \"NatNetwork\"\nhost = \"pc\"\n",
    );
    let m = reach::matrix(&closed).unwrap();
    assert!(matches!(m.get("pc", "vm1"), Some(Cell::No { .. })));
    assert!(matches!(m.get("laptop", "vm1"), Some(Cell::No { .. })));
}

#[test]
fn not_attached_reaches_nobody() {
    let none = r#"{ mode = "none" }"#;
    let vm = r#"{ mode = "bridged" }"#;
    let m = reach::matrix(&lab(none, vm, "")).unwrap();
    for other in ["pc", "laptop", "server", "vm2"] {
        assert!(
            matches!(m.get("vm1", other), Some(Cell::No { .. })),
            "vm1 -> {other}"
        );
        assert!(
            matches!(m.get(other, "vm1"), Some(Cell::No { .. })),
            "{other} -> vm1"
        );
    }
}

/// Every unreachable cell says why: what happened to the SYN sent to the target's first
/// address, in both languages.
#[test]
fn an_unreachable_cell_says_what_happened_to_its_syn() {
    let none = r#"{ mode = "none" }"#;
    let internal = r#"{ mode = "internal", network = "intnet", ip = "192.168.100.11/24" }"#;
    let nat = r#"{ mode = "nat" }"#;
    let why = |net: &Network, from: &str, to: &str| match reach::matrix(net).unwrap().get(from, to)
    {
        Some(Cell::No { why }) => why.clone(),
        other => panic!("{from} -> {to}: {other:?}"),
    };
    // Unplugged: nothing to connect to.
    assert_eq!(why(&lab(none, nat, ""), "pc", "vm1"), Blocked::NoAddress);
    // On an internal network the host has no address there: its SYN leaves by its default
    // route and dies on the way.
    let from_host = why(&lab(internal, nat, ""), "pc", "vm1");
    assert!(
        matches!(&from_host, Blocked::Dropped { addr, .. } if *addr == Ipv4Addr::new(192, 168, 100, 11)),
        "{from_host:?}"
    );
    // Both VMs on NAT are 10.0.2.15: vm1 sends to itself.
    let own = why(&lab(nat, nat, ""), "vm1", "vm2");
    assert_eq!(
        own,
        Blocked::OwnAddress {
            addr: Ipv4Addr::new(10, 0, 2, 15)
        }
    );
    assert_eq!(
        Cell::No { why: own.clone() }.explain_in(Lang::En),
        "unreachable: its address 10.0.2.15 is the sender's own address too, so the SYN never leaves the sender"
    );
    assert!(Cell::No { why: own }
        .explain_in(Lang::Ko)
        .contains("10.0.2.15는 보내는 쪽 자신의 주소"),);
    // A drop names the node and the engine's cause.
    let dropped = Blocked::Dropped {
        addr: Ipv4Addr::new(10, 0, 2, 15),
        node: "isp".into(),
        cause: DropCause::NoRoute,
    };
    assert_eq!(
        dropped.explain_in(Lang::En),
        "isp drops a TCP SYN to 10.0.2.15: No route in the routing table matches the destination."
    );
    assert!(dropped
        .explain_in(Lang::Ko)
        .starts_with("10.0.2.15로 보낸 TCP SYN을 isp가 버립니다"));
}
