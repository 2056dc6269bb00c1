//! The answer key: every fact an exercise is graded against comes from here, and everything
//! here comes from `labvisor-core`'s model, so a lesson can never disagree with the engine.
//!
//! This module is the only place that knows the core's API; the grader sees plain answers
//! (kebab-case keys such as `private` or `type-1`) and numbers.
//!
//! PROVISIONAL: until the foundation's `addr`, `port`, `hypervisor` and `sizing` modules are on
//! `main`, the functions below carry a minimal copy of those facts. They are replaced by calls
//! into the core as soon as it lands; the tests pin the answers either way.

use std::net::Ipv4Addr;

/// What the model says about an IPv4 address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressKey {
    /// The scope as an answer key: `public`, `private`, `shared`, `loopback`, `link-local`,
    /// `documentation`, `benchmarking`, `multicast`, `reserved`, `this-network`,
    /// `limited-broadcast`, `ietf-protocol-assignments`.
    pub scope: &'static str,
    /// The class letter, lowercase `a`–`e`.
    pub class: &'static str,
    /// The block and its source, e.g. `192.168.0.0/16 (RFC 1918)`; `None` for public.
    pub block: Option<&'static str>,
}

/// Classifies an address with the core's registry.
pub fn address(text: &str) -> Result<AddressKey, String> {
    let addr: Ipv4Addr = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an IPv4 address (four numbers 0-255)"))?;
    let bits = u32::from(addr);
    const BLOCKS: &[(u32, u8, &str, &str)] = &[
        (0x0000_0000, 8, "this-network", "0.0.0.0/8 (RFC 6890)"),
        (0x0A00_0000, 8, "private", "10.0.0.0/8 (RFC 1918)"),
        (0x6440_0000, 10, "shared", "100.64.0.0/10 (RFC 6598)"),
        (0x7F00_0000, 8, "loopback", "127.0.0.0/8 (RFC 6890)"),
        (0xA9FE_0000, 16, "link-local", "169.254.0.0/16 (RFC 3927)"),
        (0xAC10_0000, 12, "private", "172.16.0.0/12 (RFC 1918)"),
        (
            0xC000_0000,
            24,
            "ietf-protocol-assignments",
            "192.0.0.0/24 (RFC 6890)",
        ),
        (0xC000_0200, 24, "documentation", "192.0.2.0/24 (RFC 5737)"),
        (0xC0A8_0000, 16, "private", "192.168.0.0/16 (RFC 1918)"),
        (0xC612_0000, 15, "benchmarking", "198.18.0.0/15 (RFC 2544)"),
        (
            0xC633_6400,
            24,
            "documentation",
            "198.51.100.0/24 (RFC 5737)",
        ),
        (
            0xCB00_7100,
            24,
            "documentation",
            "203.0.113.0/24 (RFC 5737)",
        ),
        (0xE000_0000, 4, "multicast", "224.0.0.0/4 (RFC 5771)"),
        (
            0xFFFF_FFFF,
            32,
            "limited-broadcast",
            "255.255.255.255/32 (RFC 919)",
        ),
        (0xF000_0000, 4, "reserved", "240.0.0.0/4 (RFC 1112)"),
    ];
    let found = BLOCKS.iter().find(|(net, prefix, _, _)| {
        let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
        bits & mask == *net
    });
    let class = match addr.octets()[0] {
        0..=127 => "a",
        128..=191 => "b",
        192..=223 => "c",
        224..=239 => "d",
        _ => "e",
    };
    Ok(match found {
        Some((_, _, scope, block)) => AddressKey {
            scope,
            class,
            block: Some(block),
        },
        None => AddressKey {
            scope: "public",
            class,
            block: None,
        },
    })
}

/// The RFC 6335 range of a port number: `system`, `user` or `dynamic`.
pub fn port_range(text: &str) -> Result<&'static str, String> {
    let port: u16 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a port number (0-65535)"))?;
    Ok(match port {
        0..=1023 => "system",
        1024..=49151 => "user",
        49152..=65535 => "dynamic",
    })
}

/// The port and transport of a named service, e.g. `ssh` → `(22, "tcp")`.
pub fn service_port(name: &str) -> Result<(u16, &'static str), String> {
    const SERVICES: &[(&str, u16, &str)] = &[
        ("ssh", 22, "tcp"),
        ("telnet", 23, "tcp"),
        ("smtp", 25, "tcp"),
        ("dns", 53, "udp+tcp"),
        ("http", 80, "tcp"),
        ("https", 443, "tcp"),
        ("mysql", 3306, "tcp"),
        ("rdp", 3389, "tcp"),
        ("postgresql", 5432, "tcp"),
        ("redis", 6379, "tcp"),
    ];
    let wanted = name.trim().to_ascii_lowercase();
    SERVICES
        .iter()
        .find(|(n, _, _)| *n == wanted)
        .map(|(_, port, transport)| (*port, *transport))
        .ok_or_else(|| format!("no service called {name:?} in the port catalog"))
}

/// The type of a hypervisor product: `type-1`, `type-2` or `kvm-vmm` (a VMM on top of KVM).
pub fn hypervisor_kind(name: &str) -> Result<&'static str, String> {
    const CATALOG: &[(&str, &str)] = &[
        ("xen", "type-1"),
        ("xenserver", "type-1"),
        ("kvm", "type-1"),
        ("esxi", "type-1"),
        ("hyper-v", "type-1"),
        ("virtualbox", "type-2"),
        ("vmware workstation", "type-2"),
        ("fusion", "type-2"),
        ("qemu", "type-2"),
        ("virtual pc", "type-2"),
        ("firecracker", "kvm-vmm"),
    ];
    let wanted = name.trim().to_ascii_lowercase();
    CATALOG
        .iter()
        .find(|(n, _)| *n == wanted)
        .map(|(_, kind)| *kind)
        .ok_or_else(|| format!("no hypervisor called {name:?} in the catalog"))
}

/// What the host keeps: `(cpus, ram_mib)`, each rounded up.
pub fn host_reserve(cpus: u32, ram_mib: u64, percent: u8) -> (u64, u64) {
    let share = |amount: u64| (amount * u64::from(percent)).div_ceil(100);
    (share(u64::from(cpus)), share(ram_mib))
}

/// A VM in a sizing plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmAsk {
    /// Its name.
    pub name: String,
    /// vCPUs.
    pub vcpus: u32,
    /// RAM in MiB.
    pub ram_mib: u64,
}

/// The model's verdict on a sizing plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SizingKey {
    /// Kept for the host: CPUs, MiB.
    pub reserve: (u64, u64),
    /// Left for VMs: CPUs, MiB.
    pub available: (u64, u64),
    /// Asked by the VMs: vCPUs, MiB.
    pub requested: (u64, u64),
    /// More vCPUs than CPUs left for VMs (a warning in the model).
    pub cpu_overcommit: bool,
    /// More RAM than is left for VMs (an error in the model).
    pub ram_overcommit: bool,
    /// Whether the model says the plan fits.
    pub fits: bool,
    /// The model's problems and warnings, one line each.
    pub notes: Vec<String>,
}

/// Plans `vms` on the host with the course's rule.
pub fn plan(cpus: u32, ram_mib: u64, percent: u8, vms: &[VmAsk]) -> SizingKey {
    let reserve = host_reserve(cpus, ram_mib, percent);
    let available = (
        u64::from(cpus).saturating_sub(reserve.0),
        ram_mib.saturating_sub(reserve.1),
    );
    let requested = (
        vms.iter().map(|v| u64::from(v.vcpus)).sum::<u64>(),
        vms.iter().map(|v| v.ram_mib).sum::<u64>(),
    );
    let cpu_overcommit = requested.0 > available.0;
    let ram_overcommit = requested.1 > available.1;
    let mut notes = Vec::new();
    if ram_overcommit {
        notes.push(format!(
            "ram overcommit: {} MiB requested, {} MiB available",
            requested.1, available.1
        ));
    }
    if cpu_overcommit {
        notes.push(format!(
            "vcpu overcommit: {} vCPUs on {} CPUs",
            requested.0, available.0
        ));
    }
    SizingKey {
        reserve,
        available,
        requested,
        cpu_overcommit,
        ram_overcommit,
        fits: !ram_overcommit,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_examples_come_out_as_taught() {
        assert_eq!(address("192.168.0.10").unwrap().scope, "private");
        assert_eq!(address("192.168.0.10").unwrap().class, "c");
        assert_eq!(address("8.8.8.8").unwrap().scope, "public");
        assert_eq!(address("8.8.8.8").unwrap().class, "a");
        assert_eq!(address("100.64.1.1").unwrap().scope, "shared");
        assert_eq!(address("172.32.0.1").unwrap().scope, "public");
        assert_eq!(address("172.31.255.255").unwrap().scope, "private");
        assert_eq!(port_range("3306"), Ok("user"));
        assert_eq!(port_range("22"), Ok("system"));
        assert_eq!(port_range("49152"), Ok("dynamic"));
        assert_eq!(service_port("ssh"), Ok((22, "tcp")));
        assert_eq!(hypervisor_kind("KVM"), Ok("type-1"));
        assert_eq!(hypervisor_kind("VirtualBox"), Ok("type-2"));
        assert_eq!(host_reserve(8, 16384, 20), (2, 3277));
        assert_eq!(host_reserve(12, 32768, 20), (3, 6554));
    }

    #[test]
    fn rejects_what_is_not_in_the_model() {
        assert!(address("256.1.1.1").is_err());
        assert!(port_range("65536").is_err());
        assert!(service_port("gopher-over-carrier-pigeon").is_err());
        assert!(hypervisor_kind("toaster").is_err());
    }
}
