//! The learner's lab: the state of every tool, kept by the app so that it survives switching
//! language or page, and small enough to travel in a share link.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Longest text a tool keeps (an address, a port query).
const MAX_TEXT: usize = 64;
/// Longest exercise draft kept (a JSON list of actions).
pub const MAX_DRAFT: usize = 2000;
/// Most VMs the sizing tool plans.
pub const MAX_VMS: usize = 16;

/// The state of every tool.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LabState {
    /// IPv4 classifier and subnet calculator.
    pub ipv4: Ipv4State,
    /// Port lookup.
    pub ports: PortsState,
    /// Host sizing.
    pub sizing: SizingState,
    /// Hypervisor sorter.
    pub hypervisors: SorterState,
    /// Network lab.
    pub network: NetState,
    /// Disk lab.
    pub disks: DiskState,
    /// Lesson exercises: `lesson/exercise` → the learner's draft (an answer, or actions as JSON).
    pub drafts: BTreeMap<String, String>,
}

/// What the learner did to the disk lab's image, in order (replayed: the engine is
/// deterministic).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskState {
    /// The operations.
    pub ops: Vec<DiskOp>,
    /// The host SSD and the snapshot / backup timeline (boxed: the app passes `LabState` by
    /// value).
    #[serde(default)]
    pub pools: Box<PoolLabState>,
}

/// The disk lab's host-level parts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolLabState {
    /// The host SSD with two VM disks.
    pub host: HostDisksState,
    /// The snapshot / backup timeline, in order.
    pub timeline: Vec<TimelineOp>,
}

/// The host SSD lab: how each of the two VM disks is allocated, and which guest wrote when.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostDisksState {
    /// Whether VM 1's and VM 2's disks are fixed-size (else dynamically allocated).
    pub fixed: [bool; 2],
    /// Whether the learner has created the two disks.
    pub created: bool,
    /// Guest writes, in order: the VM (0 or 1) that wrote the next chunk.
    pub writes: Vec<u8>,
}

/// One step on the snapshot / backup timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimelineOp {
    /// The guest writes.
    Write,
    /// A snapshot on the same host disk.
    Snapshot,
    /// A backup into another failure domain.
    Backup,
    /// The host's disk dies.
    FailHostDisk,
    /// A new host disk, restored from the backup.
    Restore,
}

/// One operation of the disk lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiskOp {
    /// The guest writes the next 8 MiB file.
    Write,
    /// The guest deletes its most recent file.
    DeleteFile,
    /// The guest zeroes its free space.
    ZeroFree,
    /// The host compacts the image.
    Compact,
}

/// Which network scenario is open and how far its trace is played.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetState {
    /// The example scenario's name.
    pub example: String,
    /// The current step of the trace (0-based).
    pub step: u32,
    /// The learner's edits on top of the scenario, in order (replayed: the engine is
    /// deterministic). Choosing another scenario clears them.
    #[serde(default)]
    pub edits: Vec<NetEdit>,
}

/// Most edits the network lab keeps.
pub const MAX_NET_EDITS: usize = 32;

/// One edit of the network lab. Design edits change the topology the scenario starts from;
/// actions run after the scenario's own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "wire::NetEdit", from = "wire::NetEdit")]
pub enum NetEdit {
    /// A VM with this name on the first host, its `eth0` on NAT, listening on tcp/22, there
    /// from the start. (Links made before VMs were edited as engine actions carry it; the lab
    /// now adds VMs with [`Action::AddVm`](labvisor_core::net::sim::Action::AddVm).)
    AddVm(String),
    /// The RFC 4787 behaviour of a NAT: a router's (its name) or a NAT Network's
    /// (`natnet/<name>`).
    SetNat {
        /// Which NAT.
        nat: String,
        /// Mapping behaviour (RFC 4787 §4.1).
        mapping: labvisor_core::net::nat::Behavior,
        /// Filtering behaviour (RFC 4787 §5).
        filtering: labvisor_core::net::nat::Behavior,
    },
    /// An engine action (send, change a NIC's mode, add or remove a forwarding rule).
    Act(labvisor_core::net::sim::Action),
}

impl Default for NetState {
    fn default() -> Self {
        NetState {
            example: "home-router".into(),
            step: 0,
            edits: Vec::new(),
        }
    }
}

/// [`NetEdit`] as stored. Share links and localStorage carry edits in postcard, where a
/// variant is its index: this mirror fixes that layout here, so a change to the core's
/// `sim::Action` (a new variant, a reordering) does not silently turn old links into other
/// edits. It changes only together with `share::VERSION`.
mod wire {
    use labvisor_core::net::clock::Duration;
    use labvisor_core::net::forward::PortForward;
    use labvisor_core::net::nat::Behavior;
    use labvisor_core::net::sim::{Action, RuleTarget, SendSpec};
    use labvisor_core::net::vbox::Mode as CoreMode;
    use labvisor_core::net::Ipv4Net;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Serialize, Deserialize)]
    pub enum NetEdit {
        AddVm(String),
        SetNat {
            nat: String,
            mapping: Behavior,
            filtering: Behavior,
        },
        Send(SendSpec),
        Advance(Duration),
        AddForward {
            target: Target,
            rule: PortForward,
        },
        RemoveForward {
            target: Target,
            name: String,
        },
        SetMode {
            vm: String,
            nic: String,
            mode: Mode,
        },
        // Appended (share-link format 2 stays readable): editing VMs and NICs.
        CreateVm {
            name: String,
            host: String,
        },
        RemoveVm(String),
        RenameVm {
            from: String,
            to: String,
        },
        SetHost {
            vm: String,
            host: String,
        },
        AddNic {
            vm: String,
            mode: Mode,
        },
        RemoveNic {
            vm: String,
            nic: String,
        },
        SetAddress {
            vm: String,
            nic: String,
            addr: Option<Ipv4Net>,
        },
        AddNatNetwork {
            name: String,
            cidr: Ipv4Net,
            host: String,
        },
    }

    #[derive(Clone, Serialize, Deserialize)]
    pub enum Target {
        VmNic { vm: String, nic: String },
        NatNetwork(String),
        Router(String),
    }

    #[derive(Clone, Serialize, Deserialize)]
    pub enum Mode {
        NotAttached,
        Nat(Vec<PortForward>),
        NatNetwork(String),
        Bridged,
        HostOnly(String),
        Internal(String),
    }

    impl From<RuleTarget> for Target {
        fn from(t: RuleTarget) -> Target {
            match t {
                RuleTarget::VmNic { vm, nic } => Target::VmNic { vm, nic },
                RuleTarget::NatNetwork { name } => Target::NatNetwork(name),
                RuleTarget::Router { name } => Target::Router(name),
            }
        }
    }

    impl From<Target> for RuleTarget {
        fn from(t: Target) -> RuleTarget {
            match t {
                Target::VmNic { vm, nic } => RuleTarget::VmNic { vm, nic },
                Target::NatNetwork(name) => RuleTarget::NatNetwork { name },
                Target::Router(name) => RuleTarget::Router { name },
            }
        }
    }

    impl From<CoreMode> for Mode {
        fn from(m: CoreMode) -> Mode {
            match m {
                CoreMode::NotAttached => Mode::NotAttached,
                CoreMode::Nat { forwards } => Mode::Nat(forwards),
                CoreMode::NatNetwork(n) => Mode::NatNetwork(n),
                CoreMode::Bridged => Mode::Bridged,
                CoreMode::HostOnly(n) => Mode::HostOnly(n),
                CoreMode::Internal(n) => Mode::Internal(n),
            }
        }
    }

    impl From<Mode> for CoreMode {
        fn from(m: Mode) -> CoreMode {
            match m {
                Mode::NotAttached => CoreMode::NotAttached,
                Mode::Nat(forwards) => CoreMode::Nat { forwards },
                Mode::NatNetwork(n) => CoreMode::NatNetwork(n),
                Mode::Bridged => CoreMode::Bridged,
                Mode::HostOnly(n) => CoreMode::HostOnly(n),
                Mode::Internal(n) => CoreMode::Internal(n),
            }
        }
    }

    impl From<super::NetEdit> for NetEdit {
        fn from(e: super::NetEdit) -> NetEdit {
            match e {
                super::NetEdit::AddVm(n) => NetEdit::AddVm(n),
                super::NetEdit::SetNat {
                    nat,
                    mapping,
                    filtering,
                } => NetEdit::SetNat {
                    nat,
                    mapping,
                    filtering,
                },
                super::NetEdit::Act(a) => match a {
                    Action::Send(s) => NetEdit::Send(s),
                    Action::Advance(d) => NetEdit::Advance(d),
                    Action::AddForward { target, rule } => NetEdit::AddForward {
                        target: target.into(),
                        rule,
                    },
                    Action::RemoveForward { target, name } => NetEdit::RemoveForward {
                        target: target.into(),
                        name,
                    },
                    Action::SetMode { vm, nic, mode } => NetEdit::SetMode {
                        vm,
                        nic,
                        mode: mode.into(),
                    },
                    Action::AddVm { name, host } => NetEdit::CreateVm { name, host },
                    Action::RemoveVm { name } => NetEdit::RemoveVm(name),
                    Action::RenameVm { from, to } => NetEdit::RenameVm { from, to },
                    Action::SetHost { vm, host } => NetEdit::SetHost { vm, host },
                    Action::AddNic { vm, mode } => NetEdit::AddNic {
                        vm,
                        mode: mode.into(),
                    },
                    Action::RemoveNic { vm, nic } => NetEdit::RemoveNic { vm, nic },
                    Action::SetAddress { vm, nic, addr } => NetEdit::SetAddress { vm, nic, addr },
                    Action::AddNatNetwork { name, cidr, host } => {
                        NetEdit::AddNatNetwork { name, cidr, host }
                    }
                },
            }
        }
    }

    impl From<NetEdit> for super::NetEdit {
        fn from(e: NetEdit) -> super::NetEdit {
            match e {
                NetEdit::AddVm(n) => super::NetEdit::AddVm(n),
                NetEdit::SetNat {
                    nat,
                    mapping,
                    filtering,
                } => super::NetEdit::SetNat {
                    nat,
                    mapping,
                    filtering,
                },
                NetEdit::Send(s) => super::NetEdit::Act(Action::Send(s)),
                NetEdit::Advance(d) => super::NetEdit::Act(Action::Advance(d)),
                NetEdit::AddForward { target, rule } => super::NetEdit::Act(Action::AddForward {
                    target: target.into(),
                    rule,
                }),
                NetEdit::RemoveForward { target, name } => {
                    super::NetEdit::Act(Action::RemoveForward {
                        target: target.into(),
                        name,
                    })
                }
                NetEdit::SetMode { vm, nic, mode } => super::NetEdit::Act(Action::SetMode {
                    vm,
                    nic,
                    mode: mode.into(),
                }),
                NetEdit::CreateVm { name, host } => {
                    super::NetEdit::Act(Action::AddVm { name, host })
                }
                NetEdit::RemoveVm(name) => super::NetEdit::Act(Action::RemoveVm { name }),
                NetEdit::RenameVm { from, to } => {
                    super::NetEdit::Act(Action::RenameVm { from, to })
                }
                NetEdit::SetHost { vm, host } => super::NetEdit::Act(Action::SetHost { vm, host }),
                NetEdit::AddNic { vm, mode } => super::NetEdit::Act(Action::AddNic {
                    vm,
                    mode: mode.into(),
                }),
                NetEdit::RemoveNic { vm, nic } => {
                    super::NetEdit::Act(Action::RemoveNic { vm, nic })
                }
                NetEdit::SetAddress { vm, nic, addr } => {
                    super::NetEdit::Act(Action::SetAddress { vm, nic, addr })
                }
                NetEdit::AddNatNetwork { name, cidr, host } => {
                    super::NetEdit::Act(Action::AddNatNetwork { name, cidr, host })
                }
            }
        }
    }
}

/// What the IPv4 tool shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ipv4State {
    /// The address, optionally with `/prefix`, as typed.
    pub input: String,
    /// A second address to compare subnets with, as typed.
    pub other: String,
    /// Into how many subnets to split the prefix.
    pub split: u8,
}

impl Default for Ipv4State {
    fn default() -> Self {
        Ipv4State {
            input: "192.168.0.10/24".into(),
            other: "192.168.0.200".into(),
            split: 4,
        }
    }
}

/// What the port lookup shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortsState {
    /// A port number or a service name, as typed.
    pub query: String,
}

impl Default for PortsState {
    fn default() -> Self {
        PortsState { query: "22".into() }
    }
}

/// One VM the learner plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmPlan {
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub ram_mib: u64,
}

/// The host and VMs of the sizing tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizingState {
    /// Logical CPUs of the host.
    pub host_cpus: u32,
    /// Host memory in MiB.
    pub host_ram_mib: u64,
    /// Share of CPUs and memory kept for the host, in percent.
    pub reserve_percent: u8,
    /// The VMs.
    pub vms: Vec<VmPlan>,
    /// Whether VMs may be promised more RAM than is left for them.
    pub allow_ram_overcommit: bool,
}

impl Default for SizingState {
    /// The course's host (8 logical CPUs, 16 GiB) with two VMs to start from.
    fn default() -> Self {
        SizingState {
            host_cpus: 8,
            host_ram_mib: 16 * 1024,
            reserve_percent: 20,
            vms: vec![
                VmPlan {
                    vcpus: 2,
                    ram_mib: 4096
                };
                2
            ],
            allow_ram_overcommit: false,
        }
    }
}

/// Slider ranges of the sizing tool, also the ranges a share link may carry.
pub mod limits {
    /// Host logical CPUs.
    pub const HOST_CPUS: (u32, u32) = (1, 64);
    /// Host memory, MiB.
    pub const HOST_RAM_MIB: (u64, u64) = (1024, 256 * 1024);
    /// Host reserve, percent.
    pub const RESERVE: (u8, u8) = (0, 50);
    /// vCPUs of one VM.
    pub const VM_CPUS: (u32, u32) = (1, 32);
    /// Memory of one VM, MiB.
    pub const VM_RAM_MIB: (u64, u64) = (256, 64 * 1024);
    /// Subnets to split into.
    pub const SPLIT: (u8, u8) = (1, 64);
}

/// Where the learner put each product in the sorter: product id → bin id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SorterState {
    /// Product id → the bin it was sorted into.
    pub placed: BTreeMap<String, String>,
}

impl LabState {
    /// The state as `localStorage` keeps it: postcard in base64url, the share links' encoding
    /// without their version and checksum (the key carries the version).
    pub fn to_storage(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(postcard::to_allocvec(self).unwrap_or_default())
    }

    /// Reads what [`LabState::to_storage`] wrote; `None` for anything else.
    pub fn from_storage(text: &str) -> Option<LabState> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()?;
        postcard::from_bytes(&bytes).ok()
    }

    /// Checks every value against the ranges the tools offer; says which one is out.
    pub fn validate(&self) -> Result<(), String> {
        fn text(name: &str, s: &str) -> Result<(), String> {
            if s.len() > MAX_TEXT {
                return Err(format!(
                    "{name} is {} characters (at most {MAX_TEXT})",
                    s.len()
                ));
            }
            Ok(())
        }
        fn range<T: PartialOrd + std::fmt::Display>(
            name: &str,
            v: T,
            (lo, hi): (T, T),
        ) -> Result<(), String> {
            if v < lo || v > hi {
                return Err(format!("{name} = {v} (expected {lo}..={hi})"));
            }
            Ok(())
        }
        text("ipv4 address", &self.ipv4.input)?;
        text("ipv4 second address", &self.ipv4.other)?;
        range("subnet split", self.ipv4.split, limits::SPLIT)?;
        text("port query", &self.ports.query)?;
        let s = &self.sizing;
        range("host CPUs", s.host_cpus, limits::HOST_CPUS)?;
        range("host memory (MiB)", s.host_ram_mib, limits::HOST_RAM_MIB)?;
        range("host reserve (%)", s.reserve_percent, limits::RESERVE)?;
        if s.vms.len() > MAX_VMS {
            return Err(format!("{} VMs (at most {MAX_VMS})", s.vms.len()));
        }
        for vm in &s.vms {
            range("VM vCPUs", vm.vcpus, limits::VM_CPUS)?;
            range("VM memory (MiB)", vm.ram_mib, limits::VM_RAM_MIB)?;
        }
        if self.hypervisors.placed.len() > 64 {
            return Err("too many sorted products".into());
        }
        for (product, bin) in &self.hypervisors.placed {
            text("product id", product)?;
            text("sorter bin", bin)?;
        }
        text("network scenario", &self.network.example)?;
        if self.network.edits.len() > MAX_NET_EDITS {
            return Err(format!(
                "{} network edits (at most {MAX_NET_EDITS})",
                self.network.edits.len()
            ));
        }
        for edit in &self.network.edits {
            let size = postcard::to_allocvec(edit).map_or(usize::MAX, |b| b.len());
            if size > 256 {
                return Err(format!(
                    "a network edit is {size} bytes encoded (at most 256)"
                ));
            }
        }
        if self.disks.ops.len() > 64 {
            return Err(format!(
                "{} disk operations (at most 64)",
                self.disks.ops.len()
            ));
        }
        if self.disks.pools.host.writes.len() > 64
            || self.disks.pools.host.writes.iter().any(|&vm| vm > 1)
        {
            return Err("host disk writes: at most 64, each by VM 0 or 1".into());
        }
        if self.disks.pools.timeline.len() > 64 {
            return Err(format!(
                "{} timeline steps (at most 64)",
                self.disks.pools.timeline.len()
            ));
        }
        if self.drafts.len() > 128 {
            return Err(format!(
                "{} exercise drafts (at most 128)",
                self.drafts.len()
            ));
        }
        for (key, draft) in &self.drafts {
            text("exercise id", key)?;
            if draft.len() > MAX_DRAFT {
                return Err(format!(
                    "the draft of {key} is {} characters (at most {MAX_DRAFT})",
                    draft.len()
                ));
            }
        }
        range("network step", self.network.step, (0, 100_000))?;
        Ok(())
    }
}

// Native only: these are plain #[test]s, and proptest does not build for wasm32.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Whatever is in localStorage under the lab key (another version, another tab, a
        /// hand edit): read whole, or not at all.
        #[test]
        fn any_stored_text_is_read_whole_or_ignored(
            changes in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()), 0..4),
            text in ".{0,64}",
        ) {
            let mut lab = LabState::default();
            lab.ipv4.input = "10.0.2.15/24".into();
            lab.drafts.insert("lesson:nat/1".into(), "[]".into());
            let mut bytes = postcard::to_allocvec(&lab).unwrap();
            for (at, byte) in changes {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            use base64::Engine as _;
            let stored = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
            for candidate in [stored, text] {
                if let Some(read) = LabState::from_storage(&candidate) {
                    proptest::prop_assert_eq!(LabState::from_storage(&read.to_storage()), Some(read));
                }
            }
        }
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(LabState::default().validate(), Ok(()));
    }

    #[test]
    fn out_of_range_values_are_named() {
        let mut lab = LabState::default();
        lab.sizing.host_cpus = 0;
        assert_eq!(
            lab.validate(),
            Err("host CPUs = 0 (expected 1..=64)".to_string())
        );
    }

    #[test]
    fn network_edits_are_bounded() {
        let mut lab = LabState::default();
        lab.network.edits = vec![NetEdit::AddVm("vm1".into()); MAX_NET_EDITS];
        assert_eq!(lab.validate(), Ok(()));
        lab.network.edits.push(NetEdit::AddVm("vm2".into()));
        assert_eq!(
            lab.validate(),
            Err(format!("33 network edits (at most {MAX_NET_EDITS})"))
        );
        lab.network.edits = vec![NetEdit::AddVm("x".repeat(300))];
        assert!(lab.validate().unwrap_err().contains("at most 256"));
    }

    #[test]
    fn storage_round_trips_and_refuses_other_text() {
        let mut lab = LabState::default();
        lab.network.edits = vec![NetEdit::AddVm("vm9".into())];
        lab.drafts.insert("nat/one".into(), "10.0.0.1".into());
        assert_eq!(LabState::from_storage(&lab.to_storage()), Some(lab));
        assert_eq!(LabState::from_storage("{\"json\": \"from v1\"}"), None);
        assert_eq!(LabState::from_storage(""), None);
    }
}
