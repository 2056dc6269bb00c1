//! The course's VM: one VM, `web`, that lessons 6, 7, 9 and 12 continue. Lesson 6 sizes it,
//! lesson 7 gives it a disk, lesson 9 a port forward, and lesson 12 loses that disk and brings
//! it back from a backup. One exercise of each of those lessons is marked `course-vm = "…"` in
//! its `lesson.toml` ([`CourseStep`]); it starts from the VM as the learner left it
//! ([`CourseVm`], kept in the progress file) and a right answer writes its part back.
//!
//! Each part belongs to one step: a step reads the parts of the steps before it and replaces
//! its own, so doing a lesson again starts it afresh rather than on top of the last attempt. A
//! part the learner has not made yet reads as its default, which is what the reference solution
//! of its lesson makes: a lesson opened alone starts as if the ones before it were solved.
//!
//! Must never: read or write files (the front ends keep the progress), or make grading depend
//! on anything but the exercise, the VM and the learner's steps.

use std::borrow::Cow;

use labvisor_core::disk::image::Allocation;
use labvisor_core::disk::pool::vdi_host_bytes_at_creation;
use labvisor_core::lang::particle::{eul_reul, eun_neun};
use labvisor_core::lang::Bilingual;
use labvisor_core::net::forward::PortForward;
use labvisor_core::size::ByteSize;
use serde::{Deserialize, Serialize};

use crate::action::{Action, ForwardStep};
use crate::grade::Grade;
use crate::kind_names::ExerciseKind;
use crate::model::{Exercise, Lesson, Spec};
use crate::size::parse_size;

/// The course VM's name, as the four lessons' exercises write it.
pub const NAME: &str = "web";

/// The most vCPUs a stored VM may have (more than any host a lesson plans on).
const MAX_VCPUS: u32 = 1024;
/// The least RAM a VM may have, in MiB (VirtualBox's least).
const MIN_RAM_MIB: u64 = 4;
/// The most RAM a stored VM may have: 4 TiB, in MiB.
const MAX_RAM_MIB: u64 = 4 << 20;
/// The largest disk the course carries: 4 TiB. Lesson 12 builds it in the disk engine, whose
/// block map for it is 16 MiB; a larger one would cost memory for nothing a lesson teaches.
pub const MAX_DISK_BYTES: u64 = 4 << 40;
/// The most forwarding rules the VM keeps.
const MAX_FORWARDS: usize = 32;
/// The longest forwarding rule name kept.
const MAX_RULE_NAME: usize = 64;
/// The longest disk name kept for a backup's location.
const MAX_DISK_NAME: usize = 32;

/// The part of the course VM an exercise continues: `course-vm = "size"` in `lesson.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CourseStep {
    /// Its vCPUs and RAM, planned on the host (a `host-sizing` exercise).
    Size,
    /// Its disk, created on the host SSD (a `disk-fit` exercise).
    Disk,
    /// Its forwarding rules (a `port-forward` exercise).
    Forward,
    /// Its disk lost with the host SSD and restored from a backup (a `disk-restore` exercise).
    LoseDisk,
}

impl CourseStep {
    /// Every step, in course order.
    pub const ALL: [CourseStep; 4] = [
        CourseStep::Size,
        CourseStep::Disk,
        CourseStep::Forward,
        CourseStep::LoseDisk,
    ];

    /// The name a lesson file writes.
    pub fn name(self) -> &'static str {
        match self {
            CourseStep::Size => "size",
            CourseStep::Disk => "disk",
            CourseStep::Forward => "forward",
            CourseStep::LoseDisk => "lose-disk",
        }
    }

    /// The step a lesson file names, if it is one.
    pub fn from_name(name: &str) -> Option<CourseStep> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The exercise kind that carries out this step.
    pub fn kind(self) -> ExerciseKind {
        match self {
            CourseStep::Size => ExerciseKind::HostSizing,
            CourseStep::Disk => ExerciseKind::DiskFit,
            CourseStep::Forward => ExerciseKind::PortForward,
            CourseStep::LoseDisk => ExerciseKind::DiskRestore,
        }
    }

    /// Whether `spec` names the course VM where this step needs it: the plan must include
    /// it, the disk is for it, the network has it, it is the VM to protect.
    pub fn names_the_vm(self, spec: &Spec) -> bool {
        match (self, spec) {
            (CourseStep::Size, Spec::HostSizing { named, .. }) => named.iter().any(|n| n == NAME),
            (CourseStep::Disk, Spec::DiskFit { vms, .. }) => vms.iter().any(|n| n == NAME),
            (CourseStep::Forward, Spec::PortForward { network, .. }) => {
                network.vms.iter().any(|v| v.name == NAME)
            }
            (CourseStep::LoseDisk, Spec::DiskRestore { vm, .. }) => vm == NAME,
            _ => false,
        }
    }

    /// What this step makes of the VM, for "a right answer saves …".
    fn part(self) -> Bilingual {
        match self {
            CourseStep::Size => Bilingual::new("its vCPUs and RAM", "vCPU와 RAM"),
            CourseStep::Disk => Bilingual::new("its disk", "디스크"),
            CourseStep::Forward => Bilingual::new("its forwarding rules", "포워딩 규칙"),
            CourseStep::LoseDisk => Bilingual::new(
                "the disk's loss and the backup it came back from",
                "디스크를 잃은 일과 되살린 백업",
            ),
        }
    }
}

/// The VM's vCPUs and RAM (lesson 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VmSize {
    /// Virtual CPUs.
    pub vcpus: u32,
    /// RAM in MiB.
    pub ram_mib: u64,
}

/// The VM's disk (lesson 7): what the disk engine creates for it in lesson 12.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VmDisk {
    /// Its virtual size in bytes.
    pub size: ByteSize,
    /// How it takes space on the host.
    pub allocation: Allocation,
}

impl VmDisk {
    /// Bytes the image takes on the host before the guest writes anything: a fixed image all of
    /// its size, a dynamic one its header and block map.
    pub fn host_bytes_at_creation(self) -> u64 {
        vdi_host_bytes_at_creation(self.size.bytes(), self.allocation)
    }

    fn describe(self) -> Bilingual {
        let (size, host) = (self.size, ByteSize(self.host_bytes_at_creation()));
        match self.allocation {
            Allocation::Dynamic => Bilingual::new(
                format!("a {size} dynamically allocated disk, {host} on the host when new"),
                format!("{size} 동적 할당 디스크, 새로 만들었을 때 호스트에서 {host}"),
            ),
            Allocation::Fixed => Bilingual::new(
                format!("a {size} fixed-size disk, all {host} of it taken on the host"),
                format!("{size} 고정 크기 디스크, 만들 때부터 호스트에서 {host} 전부 차지"),
            ),
        }
    }
}

/// What lesson 12 left: the host disk under the VM failed, and the VM came back from its backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DiskLoss {
    /// The disk, in another failure domain, that holds the backup the VM was restored from.
    pub backup_on: String,
}

/// The course VM as the learner has built it: each part is set by the lesson that owns it, and
/// a part not set yet reads as its default (see the accessors). It travels in the progress
/// file's JSON only: a part not set is left out, which postcard could not read back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CourseVm {
    /// Its vCPUs and RAM, from lesson 6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<VmSize>,
    /// Its disk, from lesson 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<VmDisk>,
    /// Its forwarding rules, from lesson 9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwards: Option<Vec<ForwardStep>>,
    /// Its disk's loss and the backup that saved it, from lesson 12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_loss: Option<DiskLoss>,
}

impl CourseVm {
    /// The size before lesson 6: what its reference solution plans.
    pub const DEFAULT_SIZE: VmSize = VmSize {
        vcpus: 2,
        ram_mib: 4096,
    };
    /// The disk before lesson 7: what its reference solution creates, 128G dynamic.
    pub const DEFAULT_DISK: VmDisk = VmDisk {
        size: ByteSize(128 << 30),
        allocation: Allocation::Dynamic,
    };

    /// Its vCPUs and RAM: lesson 6's, or the default.
    pub fn size(&self) -> VmSize {
        self.size.unwrap_or(Self::DEFAULT_SIZE)
    }

    /// Its disk: lesson 7's, or the default.
    pub fn disk(&self) -> VmDisk {
        self.disk.unwrap_or(Self::DEFAULT_DISK)
    }

    /// Its forwarding rules: lesson 9's, or none.
    pub fn forwards(&self) -> &[ForwardStep] {
        self.forwards.as_deref().unwrap_or_default()
    }

    /// Whether no lesson has left anything on it yet.
    pub fn is_default(&self) -> bool {
        *self == CourseVm::default()
    }

    /// How many parts are set.
    pub fn parts(&self) -> usize {
        usize::from(self.size.is_some())
            + usize::from(self.disk.is_some())
            + usize::from(self.forwards.is_some())
            + usize::from(self.disk_loss.is_some())
    }

    /// Takes from `other` the parts this VM does not have yet; returns how many it took.
    pub fn fill_from(&mut self, other: &CourseVm) -> usize {
        let before = self.parts();
        if self.size.is_none() {
            self.size = other.size;
        }
        if self.disk.is_none() {
            self.disk = other.disk;
        }
        if self.forwards.is_none() {
            self.forwards.clone_from(&other.forwards);
        }
        if self.disk_loss.is_none() {
            self.disk_loss.clone_from(&other.disk_loss);
        }
        self.parts() - before
    }

    /// Checks a VM read from outside (a progress file): every value in a range a lesson can
    /// make, so a foreign or edited file cannot make a lesson build something absurd.
    pub fn check(&self) -> Result<(), String> {
        if let Some(VmSize { vcpus, ram_mib }) = self.size {
            if !(1..=MAX_VCPUS).contains(&vcpus) {
                return Err(format!("size: {vcpus} vCPUs; a VM has 1 to {MAX_VCPUS}"));
            }
            if !(MIN_RAM_MIB..=MAX_RAM_MIB).contains(&ram_mib) {
                return Err(format!(
                    "size: {ram_mib} MiB of RAM; a VM has {MIN_RAM_MIB} to {MAX_RAM_MIB} MiB"
                ));
            }
        }
        if let Some(disk) = self.disk {
            if disk.size.bytes() == 0 || disk.size.bytes() > MAX_DISK_BYTES {
                return Err(format!(
                    "disk: {} bytes; the course VM's disk is at most {}",
                    disk.size.bytes(),
                    ByteSize(MAX_DISK_BYTES)
                ));
            }
        }
        if let Some(forwards) = &self.forwards {
            if forwards.len() > MAX_FORWARDS {
                return Err(format!(
                    "forwards: {} rules; the course VM keeps at most {MAX_FORWARDS}",
                    forwards.len()
                ));
            }
            if let Some(long) = forwards.iter().find(|f| f.rule.name.len() > MAX_RULE_NAME) {
                return Err(format!(
                    "forwards: a rule name of {} bytes; at most {MAX_RULE_NAME}",
                    long.rule.name.len()
                ));
            }
            if let Some(other) = forwards.iter().find_map(|f| f.vm.as_deref()) {
                if other != NAME {
                    return Err(format!(
                        "forwards: a rule for VM {other:?}; the course VM is {NAME:?}"
                    ));
                }
            }
        }
        if let Some(loss) = &self.disk_loss {
            let name = &loss.backup_on;
            let ok = !name.is_empty()
                && name.len() <= MAX_DISK_NAME
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(format!(
                    "disk-loss: backup-on {:?} is not a disk name (lowercase letters, digits and dashes, at most {MAX_DISK_NAME})",
                    name.chars().take(MAX_DISK_NAME).collect::<String>()
                ));
            }
        }
        Ok(())
    }

    /// The VM after a right answer to `exercise` (`actions` are the learner's steps): this VM
    /// with the exercise's part replaced by what the steps made. `None` for an exercise that
    /// does not continue the course VM; `Err` when what the steps made is beyond what the
    /// course VM carries (a disk larger than [`MAX_DISK_BYTES`]).
    pub fn after(
        &self,
        exercise: &Exercise,
        actions: &[Action],
    ) -> Option<Result<CourseVm, String>> {
        let step = exercise.course_vm?;
        let mut next = self.clone();
        match step {
            CourseStep::Size => {
                let (vcpus, ram_mib) = actions.iter().rev().find_map(|a| match a {
                    Action::AddVm {
                        name,
                        vcpus,
                        ram_mib,
                    } if name == NAME => Some((*vcpus, *ram_mib)),
                    _ => None,
                })?;
                next.size = Some(VmSize { vcpus, ram_mib });
            }
            CourseStep::Disk => {
                let (size, allocation) = actions.iter().rev().find_map(|a| match a {
                    Action::CreateDisk { vm, size, alloc } if vm == NAME => Some((size, *alloc)),
                    _ => None,
                })?;
                let size = match parse_size(size) {
                    Ok(bytes) => ByteSize(bytes),
                    Err(e) => return Some(Err(e)),
                };
                next.disk = Some(VmDisk { size, allocation });
                // A backup of the disk it had is not a backup of this one.
                next.disk_loss = None;
            }
            CourseStep::Forward => next.forwards = Some(forwards_after(actions)),
            CourseStep::LoseDisk => {
                let from = actions.iter().rev().find_map(|a| match a {
                    Action::Restore { vm, from } if vm == NAME => Some(from.clone()),
                    _ => None,
                })?;
                next.disk_loss = Some(DiskLoss { backup_on: from });
            }
        }
        Some(next.check().map(|()| next))
    }

    /// What the learner reads above the exercise: the VM as this step starts from it, part by
    /// part, each said to be the learner's own (with the lesson it came from) or the default,
    /// and what a right answer saves. `lessons` gives the lessons' numbers.
    pub fn starting_note(&self, step: CourseStep, lessons: &[Lesson]) -> Bilingual {
        let lesson_of = |s: CourseStep| {
            lessons
                .iter()
                .find(|l| l.exercises.iter().any(|e| e.course_vm == Some(s)))
                .map_or(0, |l| l.number)
        };
        let mut en = String::new();
        let mut ko = String::new();
        if step == CourseStep::Size {
            let later: Vec<String> = CourseStep::ALL[1..]
                .iter()
                .map(|s| lesson_of(*s).to_string())
                .collect();
            let later_en = match later.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => String::new(),
            };
            let later = later.join(", ");
            en.push_str(&format!(
                "This is `{NAME}`, the VM the course carries on: lessons {later_en} continue from the size you give it here."
            ));
            ko.push_str(&format!(
                "이것은 과정 내내 이어 쓰는 VM `{NAME}`입니다. {} 여기서 정한 크기에서 이어집니다.",
                eun_neun(format!("레슨 {later}"))
            ));
        } else {
            en.push_str(&format!("Your VM `{NAME}` as this exercise starts:"));
            ko.push_str(&format!("이 문제가 시작할 때의 내 VM `{NAME}`:"));
            let earlier = CourseStep::ALL.iter().take_while(|s| **s != step);
            for part in earlier {
                let (said, mine) = self.describe(*part);
                let n = lesson_of(*part);
                let (whose_en, whose_ko) = if mine {
                    (
                        format!("yours, from lesson {n}"),
                        format!("레슨 {n}에서 내가 정한 것"),
                    )
                } else {
                    (
                        format!("the default: lesson {n} not done yet"),
                        format!("기본값: {} 아직 하지 않음", eul_reul(format!("레슨 {n}"))),
                    )
                };
                en.push_str(&format!(" {} ({whose_en});", said.en));
                ko.push_str(&format!(" {} ({whose_ko});", said.ko));
            }
            en.pop();
            ko.pop();
            en.push('.');
            ko.push('.');
        }
        let part = step.part();
        en.push_str(&format!(
            " A right answer saves {} to your progress.",
            part.en
        ));
        ko.push_str(&format!(
            " 정답을 맞히면 {} 진도에 저장합니다.",
            eul_reul(part.ko.as_str())
        ));
        Bilingual::new(en, ko)
    }

    /// The whole VM in one sentence per language, each part marked `(default)` when no lesson
    /// has set it: for "saved: …" after a right answer and for `lesson show`.
    pub fn summary(&self) -> Bilingual {
        let mut en = Vec::new();
        let mut ko = Vec::new();
        for step in CourseStep::ALL {
            let (said, mine) = self.describe(step);
            if said.en.is_empty() {
                continue;
            }
            en.push(if mine {
                said.en
            } else {
                format!("{} (default)", said.en)
            });
            ko.push(if mine {
                said.ko
            } else {
                format!("{} (기본값)", said.ko)
            });
        }
        Bilingual::new(
            format!("`{NAME}`: {}.", en.join("; ")),
            format!("`{NAME}`: {}.", ko.join("; ")),
        )
    }

    /// One part as a phrase, and whether it is the learner's own (not the default). The
    /// lose-disk part is empty until lesson 12 sets it: nothing is lost by default.
    fn describe(&self, step: CourseStep) -> (Bilingual, bool) {
        match step {
            CourseStep::Size => {
                let VmSize { vcpus, ram_mib } = self.size();
                let s = if vcpus == 1 { "" } else { "s" };
                (
                    Bilingual::new(
                        format!("{vcpus} vCPU{s} and {ram_mib} MiB of RAM"),
                        format!("vCPU {vcpus}개, RAM {ram_mib} MiB"),
                    ),
                    self.size.is_some(),
                )
            }
            CourseStep::Disk => (self.disk().describe(), self.disk.is_some()),
            CourseStep::Forward => {
                let rules: Vec<String> = self
                    .forwards()
                    .iter()
                    .map(|f| format!("`{}`", f.rule))
                    .collect();
                let said = if rules.is_empty() {
                    Bilingual::new("no forwarding rule", "포워딩 규칙 없음")
                } else {
                    let list = rules.join(", ");
                    Bilingual::new(
                        format!("forwarding {list} on its NAT adapter"),
                        format!("NAT 어댑터의 포워딩 규칙 {list}"),
                    )
                };
                (said, self.forwards.is_some())
            }
            CourseStep::LoseDisk => match &self.disk_loss {
                None => (Bilingual::default(), false),
                Some(DiskLoss { backup_on }) => (
                    Bilingual::new(
                        format!("its disk was lost with the host SSD and restored from the backup on `{backup_on}`"),
                        format!(
                            "호스트 SSD와 함께 디스크를 잃었다가 `{}` 백업에서 복원함",
                            backup_on
                        ),
                    ),
                    true,
                ),
            },
        }
    }
}

/// The rules in force after `actions`: each added rule (or one written as an answer, in any
/// syntax the core reads) kept until a step removes it by name.
fn forwards_after(actions: &[Action]) -> Vec<ForwardStep> {
    let mut rules: Vec<ForwardStep> = Vec::new();
    for action in actions {
        match action {
            Action::AddForward(step) => rules.push(step.clone()),
            Action::Answer(text) => {
                if let Ok(rule) = PortForward::parse_any(text) {
                    rules.push(ForwardStep { rule, vm: None });
                }
            }
            Action::RemoveForward { name } => rules.retain(|r| &r.rule.name != name),
            _ => {}
        }
    }
    rules
}

impl Exercise {
    /// This exercise as it starts from the course VM `vm`: for lesson 12's, the disk that fails
    /// is the VM's own. Every other exercise (and every other step, which only reads the VM's
    /// name) is itself.
    pub fn starting_from(&self, vm: &CourseVm) -> Cow<'_, Exercise> {
        match (&self.course_vm, &self.spec) {
            (Some(CourseStep::LoseDisk), Spec::DiskRestore { disk, .. }) if *disk != vm.disk() => {
                let mut started = self.clone();
                if let Spec::DiskRestore { disk, .. } = &mut started.spec {
                    *disk = vm.disk();
                }
                Cow::Owned(started)
            }
            _ => Cow::Borrowed(self),
        }
    }
}

/// An attempt graded from the course VM, and what a pass makes of the VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourseAttempt {
    /// The grade, as [`crate::grade()`] gives it for the exercise started from the VM.
    pub grade: Grade,
    /// On a pass of an exercise that continues the course VM: the VM with the exercise's part
    /// replaced, to save; `Err` when the steps made a part the course VM cannot carry.
    pub vm_after: Option<Result<CourseVm, String>>,
}

/// Grades `actions` against `exercise` as it starts from the course VM `vm`. An exercise that
/// does not continue the VM grades as [`crate::grade()`] grades it, and leaves no VM.
pub fn grade(exercise: &Exercise, vm: &CourseVm, actions: &[Action]) -> CourseAttempt {
    let grade = crate::grade::grade(&exercise.starting_from(vm), actions);
    let vm_after = if grade.passed() {
        vm.after(exercise, actions)
    } else {
        None
    };
    CourseAttempt { grade, vm_after }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curriculum;
    use crate::load::{load_lesson, LessonSource};

    /// The exercise that carries out `step`, and its lesson.
    fn course_exercise(step: CourseStep) -> (&'static Lesson, &'static Exercise) {
        let course = curriculum().expect("embedded lessons load");
        course
            .lessons
            .iter()
            .find_map(|l| {
                l.exercises
                    .iter()
                    .find(|e| e.course_vm == Some(step))
                    .map(|e| (l, e))
            })
            .unwrap_or_else(|| panic!("no exercise continues the course VM's {step:?}"))
    }

    fn lessons() -> &'static [Lesson] {
        &curriculum().expect("embedded lessons load").lessons
    }

    /// Grades `actions` from `vm` and returns the VM a pass saves.
    fn pass(step: CourseStep, vm: &CourseVm, actions: &[Action]) -> CourseVm {
        let (_, ex) = course_exercise(step);
        let attempt = grade(ex, vm, actions);
        assert!(attempt.grade.passed(), "{step:?}: {:?}", attempt.grade);
        attempt
            .vm_after
            .expect("a pass of a course exercise saves the VM")
            .expect("a VM the course carries")
    }

    fn add_vm(vcpus: u32, ram_mib: u64) -> Action {
        Action::AddVm {
            name: NAME.into(),
            vcpus,
            ram_mib,
        }
    }

    fn create_disk(size: &str, alloc: Allocation) -> Action {
        Action::CreateDisk {
            vm: NAME.into(),
            size: size.into(),
            alloc,
        }
    }

    #[test]
    fn the_four_steps_are_in_lessons_6_7_9_and_12() {
        let numbers: Vec<u8> = CourseStep::ALL
            .iter()
            .map(|s| course_exercise(*s).0.number)
            .collect();
        assert_eq!(numbers, [6, 7, 9, 12]);
        for step in CourseStep::ALL {
            assert_eq!(CourseStep::from_name(step.name()), Some(step));
            assert_eq!(course_exercise(step).1.spec.kind(), step.kind());
        }
    }

    #[test]
    fn the_vm_sized_in_6_gets_its_disk_in_7_its_forward_in_9_and_loses_its_disk_in_12() {
        let vm = CourseVm::default();
        let vm = pass(CourseStep::Size, &vm, &[add_vm(3, 6000)]);
        assert_eq!(
            vm.size,
            Some(VmSize {
                vcpus: 3,
                ram_mib: 6000
            })
        );
        assert_eq!(vm.disk, None, "lesson 7 is not done yet");

        let vm = pass(
            CourseStep::Disk,
            &vm,
            &[create_disk("150G", Allocation::Dynamic)],
        );
        assert_eq!(
            vm.size,
            Some(VmSize {
                vcpus: 3,
                ram_mib: 6000
            }),
            "lesson 6's size is kept"
        );
        assert_eq!(
            vm.disk,
            Some(VmDisk {
                size: ByteSize(150 << 30),
                allocation: Allocation::Dynamic
            })
        );

        let (_, forward) = course_exercise(CourseStep::Forward);
        let vm = pass(CourseStep::Forward, &vm, &forward.solution);
        let rules: Vec<String> = vm.forwards().iter().map(|f| f.rule.to_string()).collect();
        assert_eq!(rules, ["http,tcp,,8080,,80"]);

        let (_, lose) = course_exercise(CourseStep::LoseDisk);
        let vm = pass(CourseStep::LoseDisk, &vm, &lose.solution);
        assert_eq!(
            vm.disk_loss,
            Some(DiskLoss {
                backup_on: "nas".into()
            })
        );
        // Every earlier part came through the four lessons unchanged.
        assert_eq!(
            vm.size(),
            VmSize {
                vcpus: 3,
                ram_mib: 6000
            }
        );
        assert_eq!(vm.disk().size, ByteSize(150 << 30));
        assert_eq!(vm.forwards().len(), 1);
        let summary = vm.summary();
        for said in [
            "3 vCPUs and 6000 MiB",
            "150 GiB dynamically allocated",
            "http,tcp,,8080,,80",
            "`nas`",
        ] {
            assert!(summary.en.contains(said), "{said}: {}", summary.en);
        }
        assert!(
            summary.ko.contains("vCPU 3개") && summary.ko.contains("`nas` 백업"),
            "{}",
            summary.ko
        );
    }

    #[test]
    fn each_lesson_alone_starts_from_the_defaults_its_earlier_lessons_reference_solutions_make() {
        // Solving lessons 6 and 7 with their reference solutions makes exactly the defaults.
        let (_, size) = course_exercise(CourseStep::Size);
        let sized = pass(CourseStep::Size, &CourseVm::default(), &size.solution);
        assert_eq!(sized.size, Some(CourseVm::DEFAULT_SIZE));
        let (_, disk) = course_exercise(CourseStep::Disk);
        let with_disk = pass(CourseStep::Disk, &CourseVm::default(), &disk.solution);
        assert_eq!(with_disk.disk, Some(CourseVm::DEFAULT_DISK));
        // Opened alone, every course exercise grades as the plain grader grades it.
        for step in CourseStep::ALL {
            let (_, ex) = course_exercise(step);
            let alone = grade(ex, &CourseVm::default(), &ex.solution);
            assert_eq!(alone.grade, crate::grade(ex, &ex.solution), "{step:?}");
            for attempt in &ex.attempts {
                let alone = grade(ex, &CourseVm::default(), &attempt.actions);
                assert_eq!(alone.grade, crate::grade(ex, &attempt.actions));
                assert_eq!(alone.vm_after, None, "a wrong attempt saves nothing");
            }
            let note = CourseVm::default().starting_note(step, lessons());
            if step != CourseStep::Size {
                assert!(note.en.contains("the default: lesson"), "{}", note.en);
                assert!(note.ko.contains("기본값: 레슨"), "{}", note.ko);
                assert!(!note.en.contains("yours"), "{}", note.en);
            }
        }
    }

    #[test]
    fn lesson_12_fails_and_backs_up_the_disk_lesson_7_made() {
        let (_, lose) = course_exercise(CourseStep::LoseDisk);
        let fixed = CourseVm {
            disk: Some(VmDisk {
                size: ByteSize(64 << 30),
                allocation: Allocation::Fixed,
            }),
            ..CourseVm::default()
        };
        let from_fixed = grade(lose, &fixed, &lose.solution).grade;
        let from_default = grade(lose, &CourseVm::default(), &lose.solution).grade;
        assert!(from_fixed.passed() && from_default.passed());
        let trace = from_fixed.trace.join("\n");
        assert!(
            trace.contains("web.vdi (64 GiB fixed) lives on ssd"),
            "{trace}"
        );
        // A fixed image is backed up whole; the default, dynamic one only by what was written.
        assert!(
            trace.contains("backup of web (1 image(s), 68719"),
            "{trace}"
        );
        let default_trace = from_default.trace.join("\n");
        assert!(
            default_trace.contains("web.vdi (128 GiB dynamic)"),
            "{default_trace}"
        );
        assert!(
            default_trace.contains("(1.5 MiB)) from ssd to nas"),
            "{default_trace}"
        );
        // A wrong attempt is still graded on the carried disk, and still wrong.
        let snapshot_only = &lose.attempts[0].actions;
        let wrong = grade(lose, &fixed, snapshot_only);
        assert_eq!(
            wrong.grade.mistake.as_deref(),
            Some("snapshot-died-with-disk")
        );
        assert!(wrong.grade.trace[0].contains("64 GiB fixed"));
        assert_eq!(wrong.vm_after, None);
    }

    #[test]
    fn a_step_done_again_replaces_its_own_part_and_a_new_disk_drops_the_old_backup() {
        let done = CourseVm {
            size: Some(VmSize {
                vcpus: 2,
                ram_mib: 4096,
            }),
            disk: Some(CourseVm::DEFAULT_DISK),
            forwards: Some(Vec::new()),
            disk_loss: Some(DiskLoss {
                backup_on: "nas".into(),
            }),
        };
        let resized = pass(CourseStep::Size, &done, &[add_vm(1, 1024)]);
        assert_eq!(
            resized.size,
            Some(VmSize {
                vcpus: 1,
                ram_mib: 1024
            })
        );
        assert_eq!(
            resized.disk_loss, done.disk_loss,
            "resizing keeps the backup"
        );
        let new_disk = pass(
            CourseStep::Disk,
            &done,
            &[create_disk("200G", Allocation::Dynamic)],
        );
        assert_eq!(new_disk.disk.map(|d| d.size), Some(ByteSize(200 << 30)));
        assert_eq!(new_disk.disk_loss, None, "the backup was of the old disk");
        // Lesson 9 again starts without the old rules: the last attempt's rules replace them.
        let (_, forward) = course_exercise(CourseStep::Forward);
        let twice = pass(CourseStep::Forward, &new_disk, &forward.solution);
        let again = pass(CourseStep::Forward, &twice, &forward.solution);
        assert_eq!(again.forwards().len(), 1);
    }

    #[test]
    fn the_note_says_which_parts_are_the_learners_and_which_lesson_made_them() {
        let vm = CourseVm {
            size: Some(VmSize {
                vcpus: 3,
                ram_mib: 6000,
            }),
            ..CourseVm::default()
        };
        let note = vm.starting_note(CourseStep::Forward, lessons());
        assert!(
            note.en
                .contains("3 vCPUs and 6000 MiB of RAM (yours, from lesson 6)"),
            "{}",
            note.en
        );
        assert!(
            note.en.contains("(the default: lesson 7 not done yet)"),
            "{}",
            note.en
        );
        assert!(note
            .en
            .ends_with("A right answer saves its forwarding rules to your progress."));
        assert!(note.ko.contains("(레슨 6에서 내가 정한 것)"), "{}", note.ko);
        assert!(note.ko.contains("레슨 7을 아직"), "{}", note.ko);
        assert!(
            note.ko.ends_with("포워딩 규칙을 진도에 저장합니다."),
            "{}",
            note.ko
        );
        let first = vm.starting_note(CourseStep::Size, lessons());
        assert!(
            first.en.contains("lessons 7, 9 and 12 continue"),
            "{}",
            first.en
        );
        assert!(first.ko.contains("레슨 7, 9, 12는"), "{}", first.ko);
    }

    #[test]
    fn a_part_the_course_cannot_carry_is_an_error_not_a_saved_vm() {
        let (_, disk) = course_exercise(CourseStep::Disk);
        let huge = [create_disk("5T", Allocation::Dynamic)];
        let attempt = grade(disk, &CourseVm::default(), &huge);
        assert!(
            attempt.grade.passed(),
            "a 5T dynamic disk fits the SSD: {:?}",
            attempt.grade
        );
        let why = attempt
            .vm_after
            .expect("a pass")
            .expect_err("but 5 TiB is too large to carry");
        assert!(why.contains("at most 4 TiB"), "{why}");
        // An exercise that does not continue the VM saves nothing.
        let other = &course_exercise(CourseStep::Disk).0.exercises[0];
        assert_eq!(other.course_vm, None);
        assert_eq!(
            grade(other, &CourseVm::default(), &other.solution).vm_after,
            None
        );
    }

    #[test]
    fn a_vm_from_outside_is_checked_part_by_part() {
        assert_eq!(CourseVm::default().check(), Ok(()));
        let bad = |vm: CourseVm| vm.check().expect_err("refused");
        assert!(bad(CourseVm {
            size: Some(VmSize {
                vcpus: 2,
                ram_mib: 1
            }),
            ..CourseVm::default()
        })
        .contains("1 MiB of RAM"));
        assert!(bad(CourseVm {
            disk_loss: Some(DiskLoss {
                backup_on: "../../etc".into()
            }),
            ..CourseVm::default()
        })
        .contains("not a disk name"));
        assert!(bad(CourseVm {
            disk: Some(VmDisk {
                size: ByteSize(0),
                allocation: Allocation::Dynamic
            }),
            ..CourseVm::default()
        })
        .contains("disk: 0 bytes"));
    }

    fn lesson_with(exercise: &str) -> LessonSource {
        let toml = format!(
            "id = \"sizing\"\ntitle.en = \"S\"\ntitle.ko = \"S\"\n[lab]\nkind = \"host-plan\"\ndescription.en = \"d\"\ndescription.ko = \"d\"\n{exercise}\n{exercise}"
        )
        .replacen("id = \"x\"", "id = \"y\"", 1);
        LessonSource {
            dir: "06-sizing".into(),
            folder: "06-sizing".into(),
            files: [
                ("lesson.toml".to_string(), toml),
                ("en.md".to_string(), "# S\n".to_string()),
                ("ko.md".to_string(), "# S\n".to_string()),
            ]
            .into(),
        }
    }

    const SIZING: &str = r#"
[[exercises]]
id = "x"
kind = "host-sizing"
COURSE
host = { cpus = 4, ram-mib = 8192 }
vm-count = 1
vms = ["VM"]
prompt.en = "p"
prompt.ko = "p"
why.en = "w"
why.ko = "w"
solution = [{ add-vm = { name = "VM", vcpus = 1, ram-mib = 1024 } }]
[[exercises.hints]]
mistake = "*"
en = "h"
ko = "h"
[[exercises.hints]]
mistake = "cpu-overcommit"
en = "h"
ko = "h"
[[exercises.attempts]]
name = "a"
actions = [{ add-vm = { name = "VM", vcpus = 4, ram-mib = 1024 } }]
mistake = "cpu-overcommit"
"#;

    fn problems(course: &str, vm: &str) -> Vec<String> {
        let exercise = SIZING.replace("COURSE", course).replace("VM", vm);
        match load_lesson(&lesson_with(&exercise)) {
            Ok(_) => Vec::new(),
            Err(found) => found.into_iter().map(|p| p.message).collect(),
        }
    }

    #[test]
    fn the_loader_checks_the_course_vm_field() {
        assert_eq!(
            problems("course-vm = \"size\"", "web"),
            Vec::<String>::new()
        );
        let unknown = problems("course-vm = \"ram\"", "web");
        assert!(
            unknown[0].contains("is not one of: size, disk, forward, lose-disk"),
            "{unknown:?}"
        );
        let wrong_kind = problems("course-vm = \"disk\"", "web");
        assert!(
            wrong_kind[0].contains("carried out by a \"disk-fit\" exercise"),
            "{wrong_kind:?}"
        );
        let other_vm = problems("course-vm = \"size\"", "db");
        assert!(
            other_vm[0].contains("must name the course VM \"web\""),
            "{other_vm:?}"
        );
        let with_setup = problems(
            "course-vm = \"size\"\nsetup = [{ add-vm = { name = \"web\", vcpus = 4, ram-mib = 1024 } }]",
            "web",
        );
        assert!(
            with_setup.iter().any(|p| p.contains("has no `setup`")),
            "{with_setup:?}"
        );
    }

    #[test]
    fn a_step_on_two_exercises_is_refused_by_the_curriculum() {
        let once = SIZING
            .replace("COURSE", "course-vm = \"size\"")
            .replace("VM", "web");
        let twice = lesson_with(&once);
        let found = crate::Curriculum::from_sources(&[twice]).expect_err("size twice");
        assert!(
            found
                .iter()
                .any(|p| p.message.contains("clashes with sizing/y")),
            "{found:?}"
        );
    }
}
