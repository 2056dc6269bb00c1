//! The text parsers a learner types into: IPv4 addresses and CIDR blocks, ports, sizes, the
//! sizing notations (`16G`, `20%`, `NAME=VCPUS:RAM:DISK`) and port-forwarding rules in all
//! four syntaxes. Every line of the input goes to every parser; none may panic, and what
//! parses prints back to text that parses to the same value:
//!
//! - an address, a CIDR block and a port print as they must be typed;
//! - a size prints in binary units; when it prints a whole number it reads back exactly;
//! - a forwarding rule prints in VirtualBox syntax, which parses to the same rule
//!   (parse → print → parse).
//!
//! The lines are also a sizing request (the first line `CPUS RAM [DISK]` is the host, the
//! others are VMs), planned under both RAM policies.
//!
//! This file is shared by `fuzz/fuzz_targets/parsers.rs` and the core's regression test.

use labvisor_core::addr::{parse_ipv4, Cidr};
use labvisor_core::net::forward::PortForward;
use labvisor_core::port::Port;
use labvisor_core::size::{ByteSize, Unit};
use labvisor_core::sizing::{self, Host, Percent, Policy, VmRequest};

/// Runs one input; panics when an invariant does not hold.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        check_line(line);
    }
    check_plan(&text);
}

fn check_line(line: &str) {
    if let Ok(address) = parse_ipv4(line) {
        assert_eq!(parse_ipv4(&address.to_string()), Ok(address));
    }
    if let Ok(cidr) = Cidr::parse(line) {
        assert_eq!(Cidr::parse(&cidr.to_string()), Ok(cidr));
        assert!(cidr.contains(cidr.address()), "{cidr} contains its address");
        assert!(cidr.contains(cidr.network()) && cidr.contains(cidr.broadcast()));
        let _ = cidr.info();
        for n in [1, 3, 256] {
            if let Ok(parts) = cidr.split(n) {
                assert!(parts.len() as u64 >= u64::from(n), "{cidr} into {n}");
                assert!(parts.iter().all(|p| cidr.contains(p.network())));
            }
        }
    }
    if let Ok(port) = Port::parse(line) {
        assert_eq!(Port::parse(&port.to_string()), Ok(port));
    }
    for bare in [Unit::Bytes, Unit::MIB] {
        if let Ok((size, _)) = ByteSize::parse_with(line, bare) {
            let printed = size.to_string();
            if !printed.contains('.') {
                let again: Result<ByteSize, _> = printed.replace(' ', "").parse();
                assert_eq!(again, Ok(size), "{line:?} printed as {printed:?}");
            }
        }
    }
    let _ = sizing::parse_size_mib(line);
    let _ = sizing::parse_cpu_count(line);
    if let Ok(percent) = Percent::parse(line) {
        assert_eq!(Percent::parse(&percent.to_string()), Ok(percent));
    }
    if let Ok(vm) = VmRequest::parse(line, "vm") {
        assert!(vm.vcpus > 0 && vm.ram_mib > 0, "{vm:?} is not empty");
    }
    check_forward(line);
}

/// parse → print (VirtualBox syntax) → parse gives the same rule.
fn check_forward(line: &str) {
    for parsed in [
        PortForward::parse_any(line),
        PortForward::parse_vbox(line),
        PortForward::parse_natnetwork(line),
        PortForward::parse_qemu(line),
        PortForward::parse_docker(line),
    ] {
        let Ok(rule) = parsed else { continue };
        let printed = rule.to_string();
        let again = PortForward::parse_vbox(&printed)
            .unwrap_or_else(|e| panic!("{line:?} parsed, but its print {printed:?} does not: {e}"));
        assert_eq!(again, rule, "{line:?} printed as {printed:?}");
        let _ = rule.to_string();
    }
}

fn check_plan(text: &str) {
    let mut lines = text.lines();
    let Some(host_line) = lines.next() else {
        return;
    };
    let mut fields = host_line.split_whitespace();
    let (Some(cpus), Some(ram)) = (fields.next(), fields.next()) else {
        return;
    };
    let (Ok(cpus), Ok(ram)) = (sizing::parse_cpu_count(cpus), sizing::parse_size_mib(ram)) else {
        return;
    };
    let disk = fields.next().and_then(|d| sizing::parse_size_mib(d).ok());
    let Ok(host) = Host::new(cpus, ram, disk) else {
        return;
    };
    let vms: Vec<VmRequest> = lines
        .filter_map(|l| VmRequest::parse(l, "vm").ok())
        .collect();
    for allow_ram_overcommit in [false, true] {
        let policy = Policy {
            allow_ram_overcommit,
            ..Policy::default()
        };
        let _ = sizing::plan(&host, &vms, &policy);
    }
}
