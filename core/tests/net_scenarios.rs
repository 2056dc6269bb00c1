//! Snapshot tests of scenario runs: the four ready examples, trace and final NAT tables.

use labvisor_core::net::scenario::{Scenario, EXAMPLES};

fn run(name: &str) -> String {
    let (_, src) = EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .expect("example exists");
    let file = format!("{name}.toml");
    let scenario = Scenario::parse(&file, src).unwrap_or_else(|e| panic!("{e}"));
    let run = scenario.run(&file).unwrap_or_else(|e| panic!("{e}"));
    format!("{}\n{}", run.trace_text(), run.nat_text())
}

#[test]
fn home_router() {
    insta::assert_snapshot!(run("home-router"));
}

#[test]
fn nat_network() {
    insta::assert_snapshot!(run("nat-network"));
}

#[test]
fn port_forward_ssh() {
    insta::assert_snapshot!(run("port-forward-ssh"));
}

#[test]
fn host_only() {
    insta::assert_snapshot!(run("host-only"));
}
