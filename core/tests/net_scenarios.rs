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

mod robustness {
    use labvisor_core::net::scenario::{Scenario, EXAMPLES};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any edit of an example either parses and runs, or fails with located errors; it
        /// never panics.
        #[test]
        fn edited_examples_never_panic(which in 0usize..4, at in 0usize..4000, cut in 0usize..40, insert in "\\PC{0,12}") {
            let src = EXAMPLES[which].1;
            let at = at.min(src.len());
            let at = (0..=at).rev().find(|i| src.is_char_boundary(*i)).unwrap_or(0);
            let end = (at + cut).min(src.len());
            let end = (end..=src.len()).find(|i| src.is_char_boundary(*i)).unwrap_or(src.len());
            let edited = format!("{}{}{}", &src[..at], insert, &src[end..]);
            match Scenario::parse("edited.toml", &edited) {
                Ok(s) => { let _ = s.run("edited.toml"); }
                Err(e) => prop_assert!(e.0.iter().all(|x| x.line >= 1 && x.column >= 1 && !x.message.is_empty())),
            }
        }
    }
}
