//! Large generated topologies for measuring the engine (benchmarks, the browser's timing).
//!
//! [`router_chain`] is a worst case for one simulation step: a TCP SYN from one end crosses
//! every router (routing, TTL and ARP at each hop) and the SYN-ACK comes all the way back.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::packet::Proto;
use super::route::Route;
use super::sim::SendSpec;
use super::topology::{Attach, NicSpec, NodeKind, NodeSpec, Topology};

/// `routers` routers in a line, segment `s{j}` = `10.{j}.0.0/24` between router `j-1` and
/// router `j`, one host on each segment (`h{j}` = `10.{j}.0.10`) and a web server at the far
/// end (`10.{routers}.0.80`, TCP port 80): `2 × routers + 2` nodes. With 24 routers that is
/// 50 nodes. Returns the topology and a SYN from `h0` to the server. At most 254 routers
/// (the second octet); more are clamped.
pub fn router_chain(routers: usize) -> (Topology, SendSpec) {
    let routers = routers.clamp(1, 254);
    let net = |j: usize, host: u8, prefix: u8| {
        // Infallible: every prefix passed here is 0 or 24.
        Ipv4Net::new(ip(j, host), prefix).unwrap_or_default()
    };
    let nic = |name: &str, j: usize, host: u8, gateway: Option<Ipv4Addr>| NicSpec {
        name: name.to_string(),
        attach: Attach::Segment(format!("s{j}")),
        addr: Some(net(j, host, 24)),
        gateway,
        dhcp: None,
    };
    let node = |name: String, kind: NodeKind, nics: Vec<NicSpec>, routes: Vec<Route>| NodeSpec {
        name,
        kind,
        host: None,
        nics,
        routes,
        nat: None,
        listen: Vec::new(),
    };
    let mut nodes = Vec::with_capacity(2 * routers + 2);
    for r in 0..routers {
        // Router r: `left` on s{r} (.254), `right` on s{r+1} (.1); networks to its left
        // through router r-1, everything else to the right through router r+1.
        let mut routes: Vec<Route> = (0..r)
            .map(|j| Route {
                dest: net(j, 0, 24).trunc(),
                via: Some(ip(r, 1)),
                nic: "left".into(),
            })
            .collect();
        if r + 1 < routers {
            routes.push(Route {
                dest: net(0, 0, 0).trunc(),
                via: Some(ip(r + 1, 254)),
                nic: "right".into(),
            });
        }
        nodes.push(node(
            format!("r{r}"),
            NodeKind::Router,
            vec![nic("left", r, 254, None), nic("right", r + 1, 1, None)],
            routes,
        ));
    }
    for j in 0..=routers {
        let gateway = if j < routers { ip(j, 254) } else { ip(j, 1) };
        nodes.push(node(
            format!("h{j}"),
            NodeKind::Host,
            vec![nic("eth0", j, 10, Some(gateway))],
            Vec::new(),
        ));
    }
    let mut server = node(
        "web".into(),
        NodeKind::Server,
        vec![nic("eth0", routers, 80, Some(ip(routers, 1)))],
        Vec::new(),
    );
    server.listen.push((Proto::Tcp, 80));
    nodes.push(server);
    let topology = Topology {
        nodes,
        nat_networks: Vec::new(),
    };
    let send = SendSpec::new("h0", ip(routers, 80), Proto::Tcp, 80);
    (topology, send)
}

fn ip(segment: usize, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, segment as u8, 0, host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::sim::{Action, Network};
    use crate::net::trace::Event;

    #[test]
    fn fifty_nodes_a_syn_crosses_every_router_and_is_answered() {
        let (topology, send) = router_chain(24);
        assert_eq!(topology.nodes.len(), 50);
        let mut net = Network::new(topology).expect("the chain wires without problems");
        let steps = net.apply(&Action::Send(send)).expect("h0 exists");
        let trace: Vec<String> = steps.iter().map(|s| s.event.to_string()).collect();
        let delivered: Vec<&str> = steps
            .iter()
            .filter_map(|s| match &s.event {
                Event::Deliver { node, .. } => Some(node.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            delivered,
            ["web", "h0"],
            "SYN in, SYN-ACK back:\n{trace:#?}"
        );
        assert!(
            !steps.iter().any(|s| matches!(s.event, Event::Drop { .. })),
            "{trace:#?}"
        );
    }
}
