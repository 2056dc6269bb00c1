//! Planning VMs on a host: the course rule "give the host 20 % of the logical CPUs and of the
//! RAM, share the rest among the VMs", checked the way a hypervisor would.
//!
//! - [`plan`]: a [`Host`], the [`VmRequest`]s and a [`Policy`] in, a [`Plan`] out: the host's
//!   reserve, what each VM gets, what is left, whether it fits and why not.
//! - [`parse_size_mib`], [`VmRequest::parse`], [`Percent::parse`]: the notations a learner
//!   types (`16G`, `1:2G`, `20%`).
//!
//! Rounding favours the host: the reserve is rounded *up* to whole CPUs and whole MiB, so 20 %
//! of 8 logical CPUs (1.6) reserves 2, leaving 6 for VMs (the course's example).
//!
//! Overcommit: more vCPUs than the CPUs left for VMs is allowed by every hypervisor (vCPUs are
//! threads that take turns) and is reported as a warning with its ratio; more RAM than is left
//! is an error unless the policy allows it, since guests that touch all their memory then push
//! the host into swapping or the OOM killer. VirtualBox refuses a VM with more vCPUs than the
//! host has logical CPUs, so that is an error too.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::size::{ByteSize, SizeError, Unit, MIB};

mod explain;

/// Why a size, percentage or VM specification cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum SizingError {
    /// A size that is not a number with an optional unit.
    #[error("size {input:?} is not understood: expected a number with an optional unit M, G or T (binary: 1G = 1024 MiB), such as 512M or 16G; a bare number means MiB")]
    BadSize {
        /// The input.
        input: String,
    },
    /// A size that is not a whole number of MiB, or too large.
    #[error("size {input:?} is not a whole number of MiB between 1 MiB and 1 EiB")]
    SizeOutOfRange {
        /// The input.
        input: String,
    },
    /// A decimal size (`16GB`) that is not a whole number of MiB.
    #[error("size {input:?} is {bytes} bytes, not a whole number of MiB: GB, MB and TB are decimal (1GB = 10^9 bytes, as drives are sold); for VirtualBox's \"GB\", which are GiB, write G, such as 16G")]
    DecimalSize {
        /// The input.
        input: String,
        /// The bytes it reads as.
        bytes: u64,
    },
    /// A percentage that is not 0-100.
    #[error("reserve {input:?} is not a percentage: expected a whole number 0-100, optionally followed by %, such as 20%")]
    BadPercent {
        /// The input.
        input: String,
    },
    /// A VM specification that is not `VCPUS:RAM[:DISK]`.
    #[error("VM {input:?} is not understood: expected [NAME=]VCPUS:RAM[:DISK] such as 1:2G or web=2:4G:20G")]
    BadVmSpec {
        /// The input.
        input: String,
    },
    /// A VM with zero vCPUs or zero RAM.
    #[error("VM {name:?} asks for {what} = 0: every VM needs at least 1 vCPU and some RAM")]
    EmptyVm {
        /// The VM.
        name: String,
        /// `"vcpus"` or `"ram"`.
        what: String,
    },
    /// A host with zero CPUs or RAM.
    #[error("host has {what} = 0: expected at least 1 logical CPU and some RAM")]
    EmptyHost {
        /// `"cpus"` or `"ram"`.
        what: String,
    },
    /// A CPU count that is not a positive whole number.
    #[error("CPU count {input:?} is not understood: expected a whole number from 1 to 65535")]
    BadCount {
        /// The input.
        input: String,
    },
}

/// Parses a memory or disk size into MiB, by the crate's one rule ([`crate::size`]): `512M` =
/// 512, `16G` = `16GiB` = 16384, `1.5G` = 1536, and a bare number is MiB. `16GB` is decimal,
/// 16 × 10⁹ bytes, which is not a whole number of MiB: VirtualBox's "16 GB" of RAM is `16G`.
pub fn parse_size_mib(input: &str) -> Result<u64, SizingError> {
    let input_owned = || input.to_string();
    let (size, unit) = ByteSize::parse_with(input, Unit::MIB).map_err(|e| match e {
        SizeError::TooLarge { .. } | SizeError::NotWholeBytes { .. } => {
            SizingError::SizeOutOfRange {
                input: input_owned(),
            }
        }
        _ => SizingError::BadSize {
            input: input_owned(),
        },
    })?;
    let bytes = size.bytes();
    if bytes % MIB != 0 {
        return Err(match unit {
            Unit::Decimal(_) => SizingError::DecimalSize {
                input: input_owned(),
                bytes,
            },
            _ => SizingError::SizeOutOfRange {
                input: input_owned(),
            },
        });
    }
    let mib = bytes / MIB;
    if mib == 0 || mib > (1 << 40) {
        return Err(SizingError::SizeOutOfRange {
            input: input_owned(),
        });
    }
    Ok(mib)
}

/// Formats MiB the way a learner reads it: `2 GiB`, `1.5 GiB`, `512 MiB`.
pub fn format_mib(mib: u64) -> String {
    // In 128 bits: a saturated total (u64::MAX) must print, not overflow.
    let tenths_exact = u128::from(mib) * 10;
    if mib >= 1024 && tenths_exact % 1024 == 0 {
        let tenths = tenths_exact / 1024;
        if tenths % 10 == 0 {
            format!("{} GiB", tenths / 10)
        } else {
            format!("{}.{} GiB", tenths / 10, tenths % 10)
        }
    } else {
        format!("{mib} MiB")
    }
}

/// A whole percentage, 0-100.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Percent(u8);

impl Percent {
    /// `value` percent; fails above 100.
    pub fn new(value: u8) -> Result<Percent, SizingError> {
        if value <= 100 {
            Ok(Percent(value))
        } else {
            Err(SizingError::BadPercent {
                input: value.to_string(),
            })
        }
    }

    /// Parses `20%` or `20`.
    pub fn parse(input: &str) -> Result<Percent, SizingError> {
        let bad = || SizingError::BadPercent {
            input: input.to_string(),
        };
        let digits = input.trim();
        let digits = digits.strip_suffix('%').unwrap_or(digits).trim_end();
        if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        digits
            .parse::<u8>()
            .ok()
            .and_then(|v| Percent::new(v).ok())
            .ok_or_else(bad)
    }

    /// The value, 0-100.
    pub fn value(self) -> u8 {
        self.0
    }

    /// `self` percent of `amount`, rounded up.
    pub fn of_rounded_up(self, amount: u64) -> u64 {
        let p = u128::from(self.0);
        ((u128::from(amount) * p).div_ceil(100)) as u64
    }
}

impl TryFrom<u8> for Percent {
    type Error = SizingError;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Percent::new(v)
    }
}

impl From<Percent> for u8 {
    fn from(p: Percent) -> u8 {
        p.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// The physical machine the VMs run on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// Logical CPUs (hardware threads: cores × threads per core).
    pub logical_cpus: u32,
    /// RAM in MiB.
    pub ram_mib: u64,
    /// Disk space for VM images in MiB, if known.
    pub disk_mib: Option<u64>,
}

impl Host {
    /// A host; fails when it has no CPUs or no RAM.
    pub fn new(
        logical_cpus: u32,
        ram_mib: u64,
        disk_mib: Option<u64>,
    ) -> Result<Host, SizingError> {
        if logical_cpus == 0 {
            return Err(SizingError::EmptyHost {
                what: "cpus".into(),
            });
        }
        if ram_mib == 0 {
            return Err(SizingError::EmptyHost { what: "ram".into() });
        }
        Ok(Host {
            logical_cpus,
            ram_mib,
            disk_mib,
        })
    }
}

/// One VM a learner wants to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmRequest {
    /// Its name.
    pub name: String,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// RAM in MiB.
    pub ram_mib: u64,
    /// Virtual disk size in MiB, if given.
    pub disk_mib: Option<u64>,
}

impl VmRequest {
    /// A VM; fails when it has no vCPUs or no RAM.
    pub fn new(
        name: impl Into<String>,
        vcpus: u32,
        ram_mib: u64,
        disk_mib: Option<u64>,
    ) -> Result<VmRequest, SizingError> {
        let name = name.into();
        if vcpus == 0 {
            return Err(SizingError::EmptyVm {
                name,
                what: "vcpus".into(),
            });
        }
        if ram_mib == 0 {
            return Err(SizingError::EmptyVm {
                name,
                what: "ram".into(),
            });
        }
        Ok(VmRequest {
            name,
            vcpus,
            ram_mib,
            disk_mib,
        })
    }

    /// Parses `[NAME=]VCPUS:RAM[:DISK]`, e.g. `1:2G` or `web=2:4G:20G`; an unnamed VM is
    /// called `default_name`.
    pub fn parse(input: &str, default_name: &str) -> Result<VmRequest, SizingError> {
        let bad = || SizingError::BadVmSpec {
            input: input.to_string(),
        };
        let (name, spec) = match input.split_once('=') {
            Some((name, spec)) if !name.trim().is_empty() => (name.trim(), spec),
            Some(_) => return Err(bad()),
            None => (default_name, input),
        };
        let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        if parts[0].is_empty()
            || parts[0].len() > 5
            || !parts[0].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let vcpus: u32 = parts[0].parse().map_err(|_| bad())?;
        let ram_mib = parse_size_mib(parts[1])?;
        let disk_mib = parts.get(2).map(|d| parse_size_mib(d)).transpose()?;
        VmRequest::new(name, vcpus, ram_mib, disk_mib)
    }
}

/// Parses a logical CPU count, 1-65535.
pub fn parse_cpu_count(input: &str) -> Result<u32, SizingError> {
    let s = input.trim();
    match s.parse::<u16>() {
        Ok(n) if n > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(u32::from(n)),
        _ => Err(SizingError::BadCount {
            input: input.to_string(),
        }),
    }
}

/// The rules the plan follows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Share of CPUs and RAM kept for the host (the course says 20 %).
    pub reserve: Percent,
    /// Whether VMs may together be promised more RAM than is left for them.
    pub allow_ram_overcommit: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            reserve: Percent(20),
            allow_ram_overcommit: false,
        }
    }
}

/// CPUs and RAM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Logical CPUs or vCPUs.
    pub cpus: u64,
    /// MiB of RAM.
    pub ram_mib: u64,
}

/// Why the VMs do not fit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The VMs together ask for more RAM than is left after the host's reserve.
    RamOvercommit {
        /// MiB requested by all VMs.
        requested_mib: u64,
        /// MiB available to VMs.
        available_mib: u64,
    },
    /// The reserve leaves no CPU for VMs.
    NoCpuLeft {
        /// The host's logical CPUs.
        host_cpus: u32,
        /// CPUs kept for the host.
        reserved: u64,
    },
    /// One VM has more vCPUs than the host has logical CPUs.
    VmWiderThanHost {
        /// The VM.
        vm: String,
        /// Its vCPUs.
        vcpus: u32,
        /// The host's logical CPUs.
        host_cpus: u32,
    },
}

/// What fits but deserves attention.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// More vCPUs than CPUs left for VMs: they will take turns.
    VcpuOvercommit {
        /// vCPUs requested.
        requested: u64,
        /// CPUs available to VMs.
        available: u64,
        /// requested / available.
        ratio: f64,
    },
    /// RAM overcommit that the policy allows.
    RamOvercommitAllowed {
        /// MiB requested.
        requested_mib: u64,
        /// MiB available.
        available_mib: u64,
    },
    /// Virtual disks larger in total than the host's disk: fine while they are dynamically
    /// allocated and not full, impossible with fixed-size images.
    DiskOvercommit {
        /// MiB of virtual disk requested.
        requested_mib: u64,
        /// MiB of host disk.
        host_mib: u64,
    },
}

/// One VM's share in the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The VM.
    pub name: String,
    /// vCPUs.
    pub vcpus: u32,
    /// RAM in MiB.
    pub ram_mib: u64,
    /// Disk in MiB, if given.
    pub disk_mib: Option<u64>,
}

/// How the CPUs left for VMs divide into 1-vCPU VMs, as the course does it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvenSplit {
    /// Number of VMs: one per CPU left.
    pub vms: u64,
    /// vCPUs each: 1.
    pub vcpus_each: u64,
    /// RAM each, MiB (rounded down).
    pub ram_mib_each: u64,
}

/// The outcome of [`plan`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The host planned for.
    pub host: Host,
    /// The rules followed.
    pub policy: Policy,
    /// Kept for the host (rounded up).
    pub reserve: Resources,
    /// Left for VMs.
    pub available: Resources,
    /// What each VM gets.
    pub vms: Vec<Allocation>,
    /// Sum over the VMs.
    pub requested: Resources,
    /// Available minus requested, zero where overcommitted.
    pub left: Resources,
    /// The course's even split of what is available into 1-vCPU VMs.
    pub even_split: Option<EvenSplit>,
    /// Whether the VMs fit.
    pub fits: bool,
    /// Why not, when they do not.
    pub problems: Vec<Problem>,
    /// What fits but deserves attention.
    pub warnings: Vec<Warning>,
}

/// Plans `vms` on `host` following `policy`. Pure: the same inputs give the same plan.
pub fn plan(host: &Host, vms: &[VmRequest], policy: &Policy) -> Plan {
    let cpus = u64::from(host.logical_cpus);
    let reserve = Resources {
        cpus: policy.reserve.of_rounded_up(cpus),
        ram_mib: policy.reserve.of_rounded_up(host.ram_mib),
    };
    let available = Resources {
        cpus: cpus - reserve.cpus,
        ram_mib: host.ram_mib - reserve.ram_mib,
    };
    let requested = Resources {
        cpus: vms.iter().map(|v| u64::from(v.vcpus)).sum(),
        ram_mib: vms
            .iter()
            .fold(0u64, |acc, v| acc.saturating_add(v.ram_mib)),
    };
    let left = Resources {
        cpus: available.cpus.saturating_sub(requested.cpus),
        ram_mib: available.ram_mib.saturating_sub(requested.ram_mib),
    };

    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    if available.cpus == 0 && !vms.is_empty() {
        problems.push(Problem::NoCpuLeft {
            host_cpus: host.logical_cpus,
            reserved: reserve.cpus,
        });
    }
    for vm in vms.iter().filter(|vm| vm.vcpus > host.logical_cpus) {
        problems.push(Problem::VmWiderThanHost {
            vm: vm.name.clone(),
            vcpus: vm.vcpus,
            host_cpus: host.logical_cpus,
        });
    }
    if available.cpus > 0 && requested.cpus > available.cpus {
        warnings.push(Warning::VcpuOvercommit {
            requested: requested.cpus,
            available: available.cpus,
            ratio: (requested.cpus as f64 / available.cpus as f64 * 100.0).round() / 100.0,
        });
    }
    if requested.ram_mib > available.ram_mib {
        if policy.allow_ram_overcommit {
            warnings.push(Warning::RamOvercommitAllowed {
                requested_mib: requested.ram_mib,
                available_mib: available.ram_mib,
            });
        } else {
            problems.push(Problem::RamOvercommit {
                requested_mib: requested.ram_mib,
                available_mib: available.ram_mib,
            });
        }
    }
    let requested_disk: u64 = vms
        .iter()
        .filter_map(|v| v.disk_mib)
        .fold(0, u64::saturating_add);
    if let Some(host_disk) = host.disk_mib {
        if requested_disk > host_disk {
            warnings.push(Warning::DiskOvercommit {
                requested_mib: requested_disk,
                host_mib: host_disk,
            });
        }
    }

    Plan {
        host: host.clone(),
        policy: policy.clone(),
        reserve,
        available,
        vms: vms
            .iter()
            .map(|v| Allocation {
                name: v.name.clone(),
                vcpus: v.vcpus,
                ram_mib: v.ram_mib,
                disk_mib: v.disk_mib,
            })
            .collect(),
        requested,
        left,
        even_split: (available.cpus > 0).then(|| EvenSplit {
            vms: available.cpus,
            vcpus_each: 1,
            ram_mib_each: available.ram_mib / available.cpus,
        }),
        fits: problems.is_empty(),
        problems,
        warnings,
    }
}

#[cfg(test)]
mod tests;
