//! Routing tables with longest-prefix match.

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

/// One route: packets to `dest` leave through NIC `nic`, to the gateway `via` if any
/// (otherwise the destination is on that NIC's link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Destination network.
    pub dest: Ipv4Net,
    /// Next hop, or `None` for a directly connected network.
    pub via: Option<Ipv4Addr>,
    /// Name of the outgoing NIC.
    pub nic: String,
}

impl fmt::Display for Route {
    /// Like `ip route`: `default via 10.0.2.2 dev eth0`, `10.0.2.0/24 dev eth0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dest.prefix_len() == 0 {
            f.write_str("default")?;
        } else {
            write!(f, "{}", self.dest)?;
        }
        if let Some(via) = self.via {
            write!(f, " via {via}")?;
        }
        write!(f, " dev {}", self.nic)
    }
}

/// A node's routing table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingTable {
    routes: Vec<Route>,
}

impl RoutingTable {
    /// An empty table.
    pub fn new() -> RoutingTable {
        RoutingTable::default()
    }

    /// Adds a route; an identical destination is replaced.
    pub fn add(&mut self, route: Route) {
        self.routes.retain(|r| r.dest != route.dest);
        self.routes.push(route);
        // Longest prefix first, then by address: lookup takes the first match, and the
        // table prints in a stable order.
        self.routes.sort_by(|a, b| {
            b.dest
                .prefix_len()
                .cmp(&a.dest.prefix_len())
                .then(a.dest.cmp(&b.dest))
        });
    }

    /// The most specific route to `dst` (longest-prefix match).
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<&Route> {
        self.routes.iter().find(|r| r.dest.contains(&dst))
    }

    /// All routes, most specific first.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        let mut t = RoutingTable::new();
        t.add(Route {
            dest: "0.0.0.0/0".parse().unwrap(),
            via: Some([10, 0, 2, 2].into()),
            nic: "eth0".into(),
        });
        t.add(Route {
            dest: "10.0.2.0/24".parse().unwrap(),
            via: None,
            nic: "eth0".into(),
        });
        t.add(Route {
            dest: "192.168.56.0/24".parse().unwrap(),
            via: None,
            nic: "eth1".into(),
        });
        assert_eq!(t.lookup([192, 168, 56, 1].into()).unwrap().nic, "eth1");
        assert_eq!(
            t.lookup([10, 0, 2, 3].into()).unwrap().to_string(),
            "10.0.2.0/24 dev eth0"
        );
        assert_eq!(
            t.lookup([8, 8, 8, 8].into()).unwrap().to_string(),
            "default via 10.0.2.2 dev eth0"
        );
        assert!(RoutingTable::new().lookup([8, 8, 8, 8].into()).is_none());
    }
}
