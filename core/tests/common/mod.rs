//! Set-up shared by the network engine's integration tests.

use labvisor_core::net::scenario::{Scenario, EXAMPLES};
use labvisor_core::net::sim::Network;
use labvisor_core::net::trace::{Event, Step};

/// The shipped example `name`, wired.
pub fn example(name: &str) -> Network {
    let src = EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .expect("example")
        .1;
    Network::new(Scenario::parse(name, src).expect("parses").topology).expect("wires")
}

/// Whether `node` received something in `steps`.
pub fn delivered_to(steps: &[Step], node: &str) -> bool {
    steps
        .iter()
        .any(|s| matches!(&s.event, Event::Deliver { node: n, .. } if n == node))
}
