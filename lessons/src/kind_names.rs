//! The kinds a lesson file names: [`ExerciseKind`] for an exercise, [`LabKind`] for the lab
//! beside the prose. Lesson files write them as kebab-case names; everywhere else they are
//! these enums, so a new kind is a compile error wherever it is not handled yet.

use std::fmt;

/// What an exercise asks, as a lesson file names it (`kind = "port-forward"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExerciseKind {
    /// Pick one option.
    Choice,
    /// Classify an IPv4 address.
    ClassifyAddress,
    /// Classify a port.
    ClassifyPort,
    /// Classify a hypervisor.
    ClassifyHypervisor,
    /// Work out the host's reserve.
    HostReserve,
    /// Fit VMs on a host.
    HostSizing,
    /// Say what source address the far end sees through NAT.
    NatSource,
    /// Attach NICs in the right VirtualBox modes.
    NetMode,
    /// Write the port-forwarding rules.
    PortForward,
    /// Create disks that fit the host.
    DiskFit,
    /// Give a dynamic image's space back to the host.
    DiskCompact,
    /// Keep a disk's data through a host disk failure.
    DiskRestore,
}

impl ExerciseKind {
    /// Every kind, in the order lesson documentation lists them.
    pub const ALL: [ExerciseKind; 12] = [
        ExerciseKind::Choice,
        ExerciseKind::ClassifyAddress,
        ExerciseKind::ClassifyPort,
        ExerciseKind::ClassifyHypervisor,
        ExerciseKind::HostReserve,
        ExerciseKind::HostSizing,
        ExerciseKind::NatSource,
        ExerciseKind::NetMode,
        ExerciseKind::PortForward,
        ExerciseKind::DiskFit,
        ExerciseKind::DiskCompact,
        ExerciseKind::DiskRestore,
    ];

    /// The name a lesson file writes.
    pub fn name(self) -> &'static str {
        match self {
            ExerciseKind::Choice => "choice",
            ExerciseKind::ClassifyAddress => "classify-address",
            ExerciseKind::ClassifyPort => "classify-port",
            ExerciseKind::ClassifyHypervisor => "classify-hypervisor",
            ExerciseKind::HostReserve => "host-reserve",
            ExerciseKind::HostSizing => "host-sizing",
            ExerciseKind::NatSource => "nat-source",
            ExerciseKind::NetMode => "net-mode",
            ExerciseKind::PortForward => "port-forward",
            ExerciseKind::DiskFit => "disk-fit",
            ExerciseKind::DiskCompact => "disk-compact",
            ExerciseKind::DiskRestore => "disk-restore",
        }
    }

    /// The kind a lesson file names, if it is one.
    pub fn from_name(name: &str) -> Option<ExerciseKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The fields of `[[exercises]]` this kind uses, besides the ones every kind has (id, kind,
    /// prompt, solution, hints, attempts).
    pub fn fields(self) -> &'static [&'static str] {
        use ExerciseKind::*;
        match self {
            Choice => &["options", "correct"],
            ClassifyAddress | ClassifyPort | ClassifyHypervisor => &["subject", "ask"],
            HostReserve => &["host", "reserve-percent", "ask"],
            HostSizing => &["host", "reserve-percent", "vm-count", "vms"],
            NatSource => &["network"],
            NetMode | PortForward => &["network", "goals"],
            DiskFit => &["host-disk", "vms", "min-disk-size"],
            DiskCompact => &["image", "target-allocated"],
            DiskRestore => &["vm", "lives-on", "disks"],
        }
    }

    /// The steps (action names) a learner may take: what a player offers as buttons.
    pub fn steps(self) -> &'static [&'static str] {
        use ExerciseKind::*;
        match self {
            Choice | ClassifyAddress | ClassifyPort | ClassifyHypervisor | HostReserve
            | NatSource => &["answer"],
            HostSizing => &["add-vm"],
            NetMode => &["set-mode", "add-nic"],
            PortForward => &["add-forward", "remove-forward", "answer"],
            DiskFit => &["create-disk"],
            DiskCompact => &["zero-free-space", "compact"],
            DiskRestore => &["snapshot", "backup", "host-disk-fails", "restore"],
        }
    }
}

impl fmt::Display for ExerciseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The lab a lesson opens beside its prose (`[lab] kind = "net-trace"`): each a view of the
/// browser app; the lab's `commands` do the same in a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabKind {
    /// The IPv4 address explorer.
    AddressExplorer,
    /// Disks through a host disk failure.
    DiskFailure,
    /// Disk images on a host's storage.
    DiskPool,
    /// What this machine can virtualize.
    Doctor,
    /// VMs sized on a host.
    HostPlan,
    /// Images shared by instances.
    ImageInstances,
    /// Who reaches whom in a network.
    NetMatrix,
    /// A packet's path, step by step.
    NetTrace,
    /// The port explorer.
    PortExplorer,
}

impl LabKind {
    /// Every lab kind.
    pub const ALL: [LabKind; 9] = [
        LabKind::AddressExplorer,
        LabKind::DiskFailure,
        LabKind::DiskPool,
        LabKind::Doctor,
        LabKind::HostPlan,
        LabKind::ImageInstances,
        LabKind::NetMatrix,
        LabKind::NetTrace,
        LabKind::PortExplorer,
    ];

    /// The name a lesson file writes.
    pub fn name(self) -> &'static str {
        match self {
            LabKind::AddressExplorer => "address-explorer",
            LabKind::DiskFailure => "disk-failure",
            LabKind::DiskPool => "disk-pool",
            LabKind::Doctor => "doctor",
            LabKind::HostPlan => "host-plan",
            LabKind::ImageInstances => "image-instances",
            LabKind::NetMatrix => "net-matrix",
            LabKind::NetTrace => "net-trace",
            LabKind::PortExplorer => "port-explorer",
        }
    }

    /// The kind a lesson file names, if it is one.
    pub fn from_name(name: &str) -> Option<LabKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for LabKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in ExerciseKind::ALL {
            assert_eq!(ExerciseKind::from_name(kind.name()), Some(kind));
            assert!(!kind.steps().is_empty(), "{kind}");
        }
        for kind in LabKind::ALL {
            assert_eq!(LabKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ExerciseKind::from_name("quiz"), None);
        assert_eq!(LabKind::from_name(""), None);
    }
}
