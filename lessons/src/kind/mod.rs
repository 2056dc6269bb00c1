//! One module per exercise kind, each owning what a lesson file may write for it (checked as
//! the lesson loads, built into its [`Spec`]), the steps it accepts and its grader. This module
//! only picks the module by kind: [`build`] for the loader, [`grade`] for the grader,
//! [`step_problems`] for checking a solution's or an attempt's steps.
//!
//! Below the kinds: the model (what a spec holds), the action log, the answer keys and
//! `common` (the builders' [`Fields`] and the graders' [`Judgement`]).

use crate::action::Action;
use crate::model::Spec;

mod choice;
mod classify;
pub(crate) mod common;
mod disk;
mod host;
mod net;

pub use crate::kind_names::{ExerciseKind, LabKind};
pub(crate) use common::{Fields, Judgement};

/// Checks an exercise's fields for its kind and builds its spec; `None` when a problem was
/// reported.
pub(crate) fn build(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let build = match f.kind {
        ExerciseKind::Choice => choice::build,
        ExerciseKind::ClassifyAddress => classify::build_address,
        ExerciseKind::ClassifyPort => classify::build_port,
        ExerciseKind::ClassifyHypervisor => classify::build_hypervisor,
        ExerciseKind::HostReserve => host::build_reserve,
        ExerciseKind::HostSizing => host::build_sizing,
        ExerciseKind::NatSource => net::build_nat_source,
        ExerciseKind::NetMode | ExerciseKind::PortForward => net::build_goals,
        ExerciseKind::DiskFit => disk::build_fit,
        ExerciseKind::DiskCompact => disk::build_compact,
        ExerciseKind::DiskRestore => disk::build_restore,
    };
    build(f)
}

/// Replays `actions` against the exercise `spec` describes; `actions` begin with `setup`, the
/// steps of a broken lab taken before the learner's.
pub(crate) fn grade(spec: &Spec, setup: &[Action], actions: &[Action]) -> Judgement {
    match spec {
        Spec::Choice { options, correct } => choice::grade(options, correct, actions),
        Spec::ClassifyAddress { subject, ask } => classify::grade_address(subject, *ask, actions),
        Spec::ClassifyPort { subject, ask } => classify::grade_port(subject, *ask, actions),
        Spec::ClassifyHypervisor { subject } => classify::grade_hypervisor(subject, actions),
        Spec::HostReserve {
            host,
            reserve_percent,
            ask,
        } => host::grade_reserve(host, *reserve_percent, *ask, actions),
        Spec::HostSizing {
            host,
            reserve_percent,
            vm_count,
            named,
        } => host::grade_sizing(host, *reserve_percent, (*vm_count, named), setup, actions),
        Spec::NatSource { network } => {
            let mut trace = Vec::new();
            let answer = common::final_answer(actions, &mut trace);
            net::grade_nat_source(network, answer, trace)
        }
        Spec::NetMode { network, goals } => net::grade_net_mode(network, goals, actions),
        Spec::PortForward { network, goals } => net::grade_port_forward(network, goals, actions),
        Spec::DiskFit {
            host_disk,
            vms,
            min_disk_size,
        } => disk::grade_fit(host_disk, vms, min_disk_size.as_deref(), actions),
        Spec::DiskCompact {
            image,
            target_allocated,
        } => disk::grade_compact(image, target_allocated, actions),
        Spec::DiskRestore {
            vm,
            lives_on,
            disks,
            disk,
        } => disk::grade_restore(vm, (lives_on, *disk), disks, actions),
    }
}

/// What is wrong with one step (already one of the kind's steps) of an exercise: a VM, NIC,
/// disk or size it does not have. Answer kinds have nothing to check.
pub(crate) fn step_problems(spec: &Spec, action: &Action) -> Vec<String> {
    let (known, problem): (Vec<&str>, _) = match spec {
        Spec::NetMode { network, .. } | Spec::PortForward { network, .. } => (
            network.vms.iter().map(|v| v.name.as_str()).collect(),
            net::step_problem(spec, network, action),
        ),
        Spec::DiskFit { vms, .. } => (
            vms.iter().map(String::as_str).collect(),
            disk::step_problem(spec, action),
        ),
        Spec::DiskCompact { image, .. } => (vec![&image.vm], disk::step_problem(spec, action)),
        Spec::DiskRestore { vm, .. } => (vec![vm], disk::step_problem(spec, action)),
        _ => return Vec::new(),
    };
    let unknown_vm = action
        .vm()
        .filter(|vm| !known.contains(vm))
        .map(|vm| format!("unknown VM {vm:?}; this exercise has: {}", known.join(", ")));
    unknown_vm.into_iter().chain(problem).collect()
}
