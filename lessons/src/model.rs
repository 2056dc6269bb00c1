//! What a lesson is made of, as read from its `lesson.toml`, and the validated form the grader
//! uses.
//!
//! The `*File` types mirror the TOML one to one (with source spans where the validator needs to
//! point at something); [`Lesson`] and [`Exercise`] are what is left once validation has passed.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use labvisor_core::net::packet::Proto;
use labvisor_core::net::vbox::Mode;

use crate::action::Action;
use crate::course_vm::{CourseStep, VmDisk};
pub use crate::kind_names::{ExerciseKind, LabKind};
use labvisor_core::lang::Bilingual;

/// A validated lesson.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Lesson {
    /// Its position in the course, from the folder name (`03-nat` → 3).
    pub number: u8,
    /// The folder name, e.g. `03-nat`.
    pub folder: String,
    /// The stable id, e.g. `nat`: the folder name without its number.
    pub id: String,
    /// The title.
    pub title: Bilingual,
    /// The explanation, Markdown (`en.md` and `ko.md`).
    pub prose: Bilingual,
    /// The interactive lab.
    pub lab: Lab,
    /// The exercises, in file order.
    pub exercises: Vec<Exercise>,
}

impl Lesson {
    /// The exercise called `id`.
    pub fn exercise(&self, id: &str) -> Option<&Exercise> {
        self.exercises.iter().find(|e| e.id == id)
    }
}

/// The lab a player shows next to the prose.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Lab {
    /// Which interactive view the player opens: a [`LabKind`] name (checked by the loader).
    pub kind: String,
    /// What to do in it.
    pub description: Bilingual,
    /// `labvisor` commands that do the same in a terminal.
    #[serde(default)]
    pub commands: Vec<String>,
    /// The network lab's scenario for this lesson: the name of one of the core's examples
    /// (`labvisor_core::net::scenario::EXAMPLES`) with a `[goal]`. Required for the network
    /// lab kinds, refused for the others (checked by the loader).
    #[serde(default)]
    pub scenario: Option<String>,
}

impl Lab {
    /// The lab's kind; `None` only for a lesson the loader refused.
    pub fn lab_kind(&self) -> Option<LabKind> {
        LabKind::from_name(self.kind.trim())
    }
}

/// A validated exercise.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Exercise {
    /// Unique within the lesson, e.g. `ssh-to-vm2`.
    pub id: String,
    /// What the learner is asked.
    pub prompt: Bilingual,
    /// The starting state and the goal, by kind.
    pub spec: Spec,
    /// Feedback on a wrong attempt, keyed by the mistake it answers (`*` for any other). In the
    /// file these are `[[exercises.hints]]` with a `mistake`.
    pub hints: Vec<Hint>,
    /// Hints a learner asks for, in order from a nudge to (nearly) the answer, one rung at a
    /// time (`[[exercises.ladder]]`). Empty: the catch-all hint is the only rung.
    pub ladder: Vec<Bilingual>,
    /// The reference solution.
    pub solution: Vec<Action>,
    /// Typical wrong attempts and the mistake each must be graded as.
    pub attempts: Vec<Attempt>,
    /// Why the right answer is right, shown once the learner passes (every exercise has one).
    pub why: Option<Bilingual>,
    /// Steps already taken before the learner starts: the broken lab of a troubleshooting
    /// (`fix-…`) exercise. Graded as if done first; the learner's steps follow.
    pub setup: Vec<Action>,
    /// Answers other than the key's that pass too, each with a note on how it differs.
    pub accepts: Vec<Accept>,
    /// The part of the course VM (`web`, carried from lesson 6 to 12) this exercise continues:
    /// it starts from the learner's VM and a right answer saves its part
    /// ([`crate::course_vm`]).
    pub course_vm: Option<CourseStep>,
    /// Where its `[[exercises]]` table is, for messages.
    #[serde(skip)]
    pub location: crate::source::Location,
}

impl Exercise {
    /// The hint for `mistake`: the one written for it, else the catch-all `*` hint.
    pub fn hint_for(&self, mistake: &str) -> Option<&Hint> {
        self.hints
            .iter()
            .find(|h| h.mistake == mistake)
            .or_else(|| self.hints.iter().find(|h| h.mistake == "*"))
    }

    /// The engine this exercise's grading needs beyond the foundation, if any.
    pub fn engine(&self) -> Option<Engine> {
        self.spec.engine()
    }

    /// Whether the lab starts broken and the learner is to find and fix the fault: the
    /// exercise has a `setup`, or its id starts with `fix-` (the fault is in its network or
    /// disks as written). Checking such a lab untouched is a real attempt: it shows the fault.
    pub fn troubleshooting(&self) -> bool {
        !self.setup.is_empty() || self.id.starts_with("fix-")
    }

    /// The hints a learner asks for, from a nudge toward the answer: the lesson's ladder, or,
    /// for an exercise without one, its catch-all hint.
    pub fn hint_ladder(&self) -> Vec<Bilingual> {
        if !self.ladder.is_empty() {
            return self.ladder.clone();
        }
        self.hints
            .iter()
            .filter(|h| h.mistake == "*")
            .map(Hint::text)
            .collect()
    }

    /// The ladder as climbed by a learner who was just told `feedback`: a rung the feedback
    /// already says is left out, so asking for a hint always adds something.
    pub fn hints_beside(&self, feedback: Option<&Bilingual>) -> Vec<Bilingual> {
        let said = |rung: &Bilingual, f: &Bilingual| {
            let within = |r: &str, f: &str| !r.trim().is_empty() && f.contains(r.trim());
            within(&rung.en, &f.en) || within(&rung.ko, &f.ko)
        };
        self.hint_ladder()
            .into_iter()
            .filter(|rung| feedback.is_none_or(|f| !said(rung, f)))
            .collect()
    }
}

/// Whether two texts say the same in either language (spaces around them aside).
pub fn same_text(a: &Bilingual, b: &Bilingual) -> bool {
    let same = |x: &str, y: &str| !x.trim().is_empty() && x.trim() == y.trim();
    same(&a.en, &b.en) || same(&a.ko, &b.ko)
}

/// An engine of `labvisor-core` that grades some exercise kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// The network engine (`core::net`): topologies, NAT, port forwarding, traces.
    Net,
    /// The disk engine (`core::disk`): images, host pools, snapshots, backups.
    Disk,
}

impl Engine {
    /// Whether this build grades with the engine.
    pub fn available(self) -> bool {
        match self {
            Engine::Net | Engine::Disk => true,
        }
    }

    /// The engine's module name.
    pub fn module(self) -> &'static str {
        match self {
            Engine::Net => "core::net",
            Engine::Disk => "core::disk",
        }
    }
}

/// A hint that answers one mistake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hint {
    /// The mistake key the grader reports, e.g. `answer:private` or `wrong-guest-port`; `*`
    /// for any mistake without a hint of its own.
    pub mistake: String,
    /// English text.
    #[serde(default)]
    pub en: String,
    /// Korean text.
    #[serde(default)]
    pub ko: String,
}

impl Hint {
    /// The hint as bilingual text.
    pub fn text(&self) -> Bilingual {
        Bilingual::new(self.en.clone(), self.ko.clone())
    }
}

/// Another answer that passes, with a note saying how it differs from the usual one: for a
/// question on which sources disagree (KVM is type 1 in most texts, type 2 or a hybrid in some),
/// the learner's reasoning is accepted rather than graded as a plain error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// The answer, as a learner writes it (its synonyms pass too).
    pub answer: String,
    /// How this answer differs from the usual one.
    pub note: Bilingual,
}

/// A typical wrong attempt, replayed by `lesson lint` and the snapshot tests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    /// What the learner got wrong, in a few words.
    pub name: String,
    /// The learner's steps.
    pub actions: Vec<Action>,
    /// The mistake the grader must report.
    pub mistake: String,
}

/// One option of a multiple-choice question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// The answer a learner gives to pick it, e.g. `host-only`.
    pub id: String,
    /// English label.
    #[serde(default)]
    pub en: String,
    /// Korean label.
    #[serde(default)]
    pub ko: String,
}

/// The starting state and the goal of an exercise, by kind.
///
/// Externally tagged (`{"net-mode": {...}}`), not tagged by a `kind` field: the browser build
/// reads the curriculum as postcard, which cannot read internally tagged enums.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spec {
    /// Pick one option; the key is in the lesson file (for facts no engine models).
    Choice {
        /// The options.
        options: Vec<ChoiceOption>,
        /// The right option's id.
        correct: String,
    },
    /// Classify an IPv4 address; the key comes from `core::addr`.
    ClassifyAddress {
        /// The address.
        subject: String,
        /// What to tell about it.
        ask: AddressQuestion,
    },
    /// Classify a port or name a service's port; the key comes from `core::port`.
    ClassifyPort {
        /// A port number or a service name.
        subject: String,
        /// What to tell about it.
        ask: PortQuestion,
    },
    /// Say which type a hypervisor is; the key comes from `core::hypervisor`.
    ClassifyHypervisor {
        /// The product.
        subject: String,
    },
    /// Compute the host's reserve; the key comes from `core::sizing`.
    HostReserve {
        /// The host.
        host: HostSpec,
        /// The share kept for the host.
        reserve_percent: u8,
        /// Which resource.
        ask: ReserveQuestion,
    },
    /// Plan VMs on a host; graded by `core::sizing`.
    HostSizing {
        /// The host.
        host: HostSpec,
        /// The share kept for the host.
        reserve_percent: u8,
        /// How many VMs the plan must hold.
        vm_count: u32,
        /// VMs the plan must hold by name (`vms` in the file; may be empty).
        named: Vec<String>,
    },
    /// Tell what a server sees of a NATed packet; graded by simulating it in `core::net`.
    NatSource {
        /// The topology and the packet.
        network: NetworkSpec,
    },
    /// Attach NICs so that every goal is reachable; graded by simulating traffic.
    NetMode {
        /// The starting topology.
        network: NetworkSpec,
        /// Connections that must get through.
        goals: Vec<Goal>,
    },
    /// Add forwarding rules so that every goal is reachable; graded by simulating connections.
    PortForward {
        /// The starting topology.
        network: NetworkSpec,
        /// Connections that must get through.
        goals: Vec<Goal>,
    },
    /// Create disks that fit on the host disk; graded by `core::disk`.
    DiskFit {
        /// The host's disk.
        host_disk: HostDiskSpec,
        /// The VMs that each need a disk.
        vms: Vec<String>,
        /// The least virtual size each VM's disk must have, e.g. `128G`: without it, a
        /// smaller fixed disk would pass where the point is that the asked-for one cannot fit.
        min_disk_size: Option<String>,
    },
    /// Shrink an image on the host; graded by `core::disk`.
    DiskCompact {
        /// The image's starting state.
        image: ImageSpec,
        /// The most the image may take on the host at the end, e.g. `12G`.
        target_allocated: String,
    },
    /// Survive the host disk's failure; graded by `core::disk`'s failure simulation.
    DiskRestore {
        /// The VM to protect.
        vm: String,
        /// The disk it lives on (the one that fails).
        lives_on: String,
        /// Every disk available.
        disks: Vec<String>,
        /// The VM's disk as the engine creates it: the course VM's (see
        /// [`Exercise::starting_from`]), by default 128G dynamic.
        disk: VmDisk,
    },
}

impl Spec {
    /// The exercise's kind.
    pub fn kind(&self) -> ExerciseKind {
        match self {
            Spec::Choice { .. } => ExerciseKind::Choice,
            Spec::ClassifyAddress { .. } => ExerciseKind::ClassifyAddress,
            Spec::ClassifyPort { .. } => ExerciseKind::ClassifyPort,
            Spec::ClassifyHypervisor { .. } => ExerciseKind::ClassifyHypervisor,
            Spec::HostReserve { .. } => ExerciseKind::HostReserve,
            Spec::HostSizing { .. } => ExerciseKind::HostSizing,
            Spec::NatSource { .. } => ExerciseKind::NatSource,
            Spec::NetMode { .. } => ExerciseKind::NetMode,
            Spec::PortForward { .. } => ExerciseKind::PortForward,
            Spec::DiskFit { .. } => ExerciseKind::DiskFit,
            Spec::DiskCompact { .. } => ExerciseKind::DiskCompact,
            Spec::DiskRestore { .. } => ExerciseKind::DiskRestore,
        }
    }

    /// The steps a learner may take in this exercise, e.g. `["add-forward", "remove-forward"]`.
    pub fn steps(&self) -> &'static [&'static str] {
        self.kind().steps()
    }

    /// The engine grading needs beyond the foundation, if any.
    pub fn engine(&self) -> Option<Engine> {
        match self {
            Spec::NatSource { .. } | Spec::NetMode { .. } | Spec::PortForward { .. } => {
                Some(Engine::Net)
            }
            Spec::DiskFit { .. } | Spec::DiskCompact { .. } | Spec::DiskRestore { .. } => {
                Some(Engine::Disk)
            }
            _ => None,
        }
    }
}

/// What a classify-address exercise asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressQuestion {
    /// Its scope in the IANA special-purpose registry (`public`, `private`, `shared`, …).
    Scope,
    /// Its class, A to E.
    Class,
}

/// What a classify-port exercise asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortQuestion {
    /// The RFC 6335 range of a port number: `system`, `user` or `dynamic`.
    Range,
    /// The port number of a named service.
    PortOfService,
}

/// What a host-reserve exercise asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReserveQuestion {
    /// Logical CPUs kept for the host.
    Cpus,
    /// MiB of RAM kept for the host.
    RamMib,
}

/// A physical host for sizing exercises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HostSpec {
    /// Logical processors.
    pub cpus: u32,
    /// RAM in MiB.
    pub ram_mib: u64,
}

/// The host disk of a disk-fit exercise. Sizes: `256GB` is decimal (as disk makers count),
/// `128G`/`128GiB` binary (as VirtualBox counts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HostDiskSpec {
    /// The disk's capacity.
    pub capacity: String,
    /// Already used by the host.
    #[serde(default)]
    pub used: Option<String>,
}

/// A VM image's starting state in a disk-compact exercise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageSpec {
    /// The VM.
    pub vm: String,
    /// Virtual size.
    pub size: String,
    /// Bytes the guest wrote (allocated on the host).
    pub written: String,
    /// Of those, bytes the guest's file system has since freed.
    pub deleted: String,
}

/// A starting topology.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NetworkSpec {
    /// `home-router` (PCs behind a NAT router) or `virtualbox` (VMs on a host).
    pub kind: NetworkKind,
    /// home-router: the router's public (WAN) address.
    #[serde(default)]
    pub router_public_ip: Option<String>,
    /// home-router: PCs on the LAN.
    #[serde(default)]
    pub pcs: Vec<NamedHost>,
    /// home-router: servers on the internet.
    #[serde(default)]
    pub servers: Vec<NamedHost>,
    /// home-router: the packet the exercise sends.
    #[serde(default)]
    pub send: Option<Send>,
    /// virtualbox: the host's address as the internet sees it.
    #[serde(default)]
    pub host_ip: Option<String>,
    /// virtualbox: the VMs.
    #[serde(default)]
    pub vms: Vec<VmSpec>,
}

impl NetworkSpec {
    /// Every node name an action or a goal may refer to.
    pub fn node_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = vec!["internet"];
        match self.kind {
            NetworkKind::HomeRouter => {
                names.push("router");
                names.extend(self.pcs.iter().map(|p| p.name.as_str()));
                names.extend(self.servers.iter().map(|s| s.name.as_str()));
            }
            NetworkKind::Virtualbox => {
                names.push("host");
                names.extend(self.vms.iter().map(|v| v.name.as_str()));
            }
        }
        names
    }
}

/// The shape of a starting topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkKind {
    /// PCs behind a home router doing NAPT, servers on the internet.
    HomeRouter,
    /// A host running VirtualBox VMs.
    Virtualbox,
}

/// A named machine with a fixed address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedHost {
    /// Its name.
    pub name: String,
    /// Its IPv4 address.
    pub ip: String,
}

/// A packet an exercise sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Send {
    /// Sending node.
    pub from: String,
    /// Receiving node.
    pub to: String,
    /// Protocol.
    pub proto: Proto,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
}

/// A VM of a virtualbox topology.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmSpec {
    /// Its name.
    pub name: String,
    /// Its NICs' attachment modes, NIC 1 first, by kind as action logs name them.
    #[serde(with = "crate::action::wire::mode_kinds")]
    pub nics: Vec<Mode>,
    /// Services listening in the guest, `tcp/22`.
    #[serde(default)]
    pub listens: Vec<String>,
}

/// A connection that must get through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// The node that starts it.
    pub from: String,
    /// The node that must receive it.
    pub to: String,
    /// The protocol.
    pub proto: Proto,
    /// The port it must arrive at (not for ICMP).
    #[serde(default)]
    pub port: Option<u16>,
    /// What the client dials, `node:port` or `address:port` (`127.0.0.1:2222` from the host),
    /// when not `to` itself (through a forwarding rule).
    #[serde(default)]
    pub dial: Option<String>,
}

/// `lesson.toml` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct LessonFile {
    pub id: Spanned<String>,
    pub title: Spanned<Bilingual>,
    pub lab: Spanned<Lab>,
    #[serde(default)]
    pub exercises: Vec<Spanned<ExerciseFile>>,
}

/// One `[[exercises]]` table as written: the union of every kind's fields; the validator
/// checks which a kind needs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ExerciseFile {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
    #[serde(default)]
    pub prompt: Option<Spanned<Bilingual>>,
    #[serde(default)]
    pub solution: Option<Spanned<Vec<Action>>>,
    #[serde(default)]
    pub hints: Vec<Spanned<Hint>>,
    #[serde(default)]
    pub ladder: Vec<Spanned<Bilingual>>,
    #[serde(default)]
    pub attempts: Vec<Spanned<Attempt>>,
    #[serde(default)]
    pub why: Option<Spanned<Bilingual>>,
    #[serde(default)]
    pub setup: Option<Spanned<Vec<Action>>>,
    #[serde(default)]
    pub accept: Vec<Spanned<Accept>>,
    #[serde(default)]
    pub course_vm: Option<Spanned<String>>,
    // Kind-specific fields.
    #[serde(default)]
    pub subject: Option<Spanned<String>>,
    #[serde(default)]
    pub ask: Option<Spanned<String>>,
    #[serde(default)]
    pub correct: Option<Spanned<String>>,
    #[serde(default)]
    pub options: Vec<Spanned<ChoiceOption>>,
    #[serde(default)]
    pub host: Option<Spanned<HostSpec>>,
    #[serde(default)]
    pub reserve_percent: Option<Spanned<u8>>,
    #[serde(default)]
    pub vm_count: Option<Spanned<u32>>,
    #[serde(default)]
    pub network: Option<Spanned<NetworkSpec>>,
    #[serde(default)]
    pub goals: Vec<Spanned<Goal>>,
    #[serde(default)]
    pub host_disk: Option<Spanned<HostDiskSpec>>,
    #[serde(default)]
    pub vms: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub min_disk_size: Option<Spanned<String>>,
    #[serde(default)]
    pub image: Option<Spanned<ImageSpec>>,
    #[serde(default)]
    pub target_allocated: Option<Spanned<String>>,
    #[serde(default)]
    pub vm: Option<Spanned<String>>,
    #[serde(default)]
    pub lives_on: Option<Spanned<String>>,
    #[serde(default)]
    pub disks: Option<Spanned<Vec<String>>>,
}
