//! The answer key: every fact an exercise is graded against comes from here, and everything
//! here comes from `labvisor-core`'s model, so a lesson can never disagree with the engine.
//!
//! This module is the only place that knows the core's API; the grader sees plain answers
//! (kebab-case keys such as `private` or `type-1`) and numbers.

use labvisor_core::{addr, hypervisor, port, sizing};

/// What the model says about an IPv4 address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressKey {
    /// The scope as an answer key: `public`, `private`, `shared`, `loopback`, `link-local`,
    /// `documentation`, `benchmarking`, `multicast`, `reserved`, `this-network`,
    /// `limited-broadcast`, `ietf-protocol-assignments`.
    pub scope: &'static str,
    /// The class letter, lowercase `a`–`e`.
    pub class: String,
    /// The special-purpose block and its source, e.g. `192.168.0.0/16 (RFC 1918)`; `None` for
    /// public addresses.
    pub block: Option<String>,
}

/// The answer key's spelling of a core scope.
fn scope_key(scope: addr::Scope) -> &'static str {
    use addr::Scope::*;
    match scope {
        ThisNetwork => "this-network",
        Private => "private",
        SharedAddressSpace => "shared",
        Loopback => "loopback",
        LinkLocal => "link-local",
        IetfProtocolAssignments => "ietf-protocol-assignments",
        Documentation => "documentation",
        Benchmarking => "benchmarking",
        Multicast => "multicast",
        Reserved => "reserved",
        LimitedBroadcast => "limited-broadcast",
        Public => "public",
    }
}

/// Classifies an address with the core's registry (`core::addr`).
pub fn address(text: &str) -> Result<AddressKey, String> {
    let info = addr::classify(text).map_err(|e| e.to_string())?;
    Ok(AddressKey {
        scope: scope_key(info.scope),
        class: info.class.letter().to_ascii_lowercase(),
        block: info.block.map(|b| format!("{b} ({})", info.rfc)),
    })
}

/// The RFC 6335 range of a port number (`core::port`): `system`, `user` or `dynamic`.
pub fn port_range(text: &str) -> Result<&'static str, String> {
    let port = port::Port::parse(text).map_err(|e| e.to_string())?;
    Ok(match port.range() {
        port::PortRange::System => "system",
        port::PortRange::User => "user",
        port::PortRange::Dynamic => "dynamic",
    })
}

/// The port and transports of a named service in the core's catalog, e.g. `ssh` → `(22, "tcp")`.
pub fn service_port(name: &str) -> Result<(u16, String), String> {
    port::service_by_name(name)
        .map(|s| (s.port, s.transport_label()))
        .ok_or_else(|| format!("no service called {name:?} in the port catalog"))
}

/// What the core's catalog says about a hypervisor product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HypervisorKey {
    /// `type-1`, `type-2` or `kvm-vmm` (a user-space VMM on top of KVM).
    pub kind: &'static str,
    /// The product's name.
    pub name: &'static str,
    /// Where the popular picture is too simple (English).
    pub note: &'static str,
}

/// Looks a hypervisor product up in `core::hypervisor`.
pub fn hypervisor(name: &str) -> Result<HypervisorKey, String> {
    let found = hypervisor::find(name).map_err(|e| e.to_string())?;
    Ok(HypervisorKey {
        kind: match found.kind {
            hypervisor::Kind::Type1 => "type-1",
            hypervisor::Kind::Type2 => "type-2",
            hypervisor::Kind::KvmVmm => "kvm-vmm",
        },
        name: found.name,
        note: found.note.en,
    })
}

/// What the host keeps (`core::sizing`): `(cpus, ram_mib)`, each rounded up.
pub fn host_reserve(cpus: u32, ram_mib: u64, percent: u8) -> Result<(u64, u64), String> {
    let share = sizing::Percent::new(percent).map_err(|e| e.to_string())?;
    Ok((
        share.of_rounded_up(u64::from(cpus)),
        share.of_rounded_up(ram_mib),
    ))
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

/// Plans `vms` on the host with the course's rule, RAM overcommit not allowed.
pub fn plan(cpus: u32, ram_mib: u64, percent: u8, vms: &[VmAsk]) -> Result<SizingKey, String> {
    let host = sizing::Host::new(cpus, ram_mib, None).map_err(|e| e.to_string())?;
    let requests = vms
        .iter()
        .map(|v| sizing::VmRequest::new(v.name.clone(), v.vcpus, v.ram_mib, None))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let policy = sizing::Policy {
        reserve: sizing::Percent::new(percent).map_err(|e| e.to_string())?,
        allow_ram_overcommit: false,
    };
    let plan = sizing::plan(&host, &requests, &policy);
    let mut notes = Vec::new();
    let mut ram_overcommit = false;
    let mut cpu_overcommit = false;
    for problem in &plan.problems {
        notes.push(match problem {
            sizing::Problem::RamOvercommit {
                requested_mib,
                available_mib,
            } => {
                ram_overcommit = true;
                format!(
                    "ram overcommit: {requested_mib} MiB requested, {available_mib} MiB available"
                )
            }
            sizing::Problem::NoCpuLeft {
                host_cpus,
                reserved,
            } => {
                format!("no CPU left: the host keeps {reserved} of {host_cpus}")
            }
            sizing::Problem::VmWiderThanHost {
                vm,
                vcpus,
                host_cpus,
            } => format!("{vm} has {vcpus} vCPUs, more than the host's {host_cpus} CPUs"),
        });
    }
    for warning in &plan.warnings {
        match warning {
            sizing::Warning::VcpuOvercommit {
                requested,
                available,
                ratio,
            } => {
                cpu_overcommit = true;
                notes.push(format!(
                    "vcpu overcommit: {requested} vCPUs on {available} CPUs (ratio {ratio:.2})"
                ));
            }
            other => notes.push(format!("{other:?}")),
        }
    }
    Ok(SizingKey {
        reserve: (plan.reserve.cpus, plan.reserve.ram_mib),
        available: (plan.available.cpus, plan.available.ram_mib),
        requested: (plan.requested.cpus, plan.requested.ram_mib),
        cpu_overcommit,
        ram_overcommit,
        fits: plan.fits,
        notes,
    })
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
        assert_eq!(service_port("ssh"), Ok((22, "tcp".to_string())));
        assert_eq!(hypervisor("KVM").unwrap().kind, "type-1");
        assert_eq!(hypervisor("VirtualBox").unwrap().kind, "type-2");
        assert_eq!(hypervisor("Firecracker").unwrap().kind, "kvm-vmm");
        assert_eq!(host_reserve(8, 16384, 20), Ok((2, 3277)));
        assert_eq!(host_reserve(12, 32768, 20), Ok((3, 6554)));
        let six = (1..=6)
            .map(|i| VmAsk {
                name: format!("vm{i}"),
                vcpus: 1,
                ram_mib: 2048,
            })
            .collect::<Vec<_>>();
        let key = plan(8, 16384, 20, &six).unwrap();
        assert_eq!(key.available, (6, 13107));
        assert!(key.fits && !key.cpu_overcommit && !key.ram_overcommit);
    }

    #[test]
    fn rejects_what_is_not_in_the_model() {
        assert!(address("256.1.1.1").is_err());
        assert!(address("010.0.0.1").is_err());
        assert!(port_range("65536").is_err());
        assert!(service_port("gopher-over-carrier-pigeon").is_err());
        assert!(hypervisor("toaster").is_err());
        assert!(host_reserve(8, 16384, 101).is_err());
    }
}
