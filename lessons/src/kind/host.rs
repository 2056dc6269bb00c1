//! `host-reserve` and `host-sizing`: what a host keeps for itself, and VMs planned on the
//! rest. Keys and plans come from `core::sizing`.

use super::common::{canonical, final_answer, Fields, Judgement};
use crate::action::Action;
use crate::key;
use crate::model::{HostSpec, ReserveQuestion, Spec};

/// The exercise's `reserve-percent`: 20 unless given, and below 100.
fn reserve_percent(f: &mut Fields<'_, '_>) -> Option<u8> {
    match &f.ex.reserve_percent {
        Some(p) if *p.get_ref() >= 100 => {
            f.error(p.span(), "`reserve-percent` must be below 100");
            None
        }
        Some(p) => Some(*p.get_ref()),
        None => Some(20),
    }
}

/// A host and its reserve: what is asked of it.
pub(super) fn build_reserve(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let host = f.required(&ex.host, "host")?;
    let ask = f.required(&ex.ask, "ask")?;
    let ask = f.parse_choice(
        ask,
        &[
            ("cpus", ReserveQuestion::Cpus),
            ("ram-mib", ReserveQuestion::RamMib),
        ],
    )?;
    Some(Spec::HostReserve {
        host: *host.get_ref(),
        reserve_percent: reserve_percent(f)?,
        ask,
    })
}

/// A host to fill with VMs, and the VMs the plan must hold by name (`vms`, optional).
pub(super) fn build_sizing(f: &mut Fields<'_, '_>) -> Option<Spec> {
    let ex = f.ex;
    let host = f.required(&ex.host, "host")?;
    let count = f.required(&ex.vm_count, "vm-count")?;
    let named = ex
        .vms
        .as_ref()
        .map(|v| v.get_ref().clone())
        .unwrap_or_default();
    if let Some(vms) = &ex.vms {
        if named.len() > *count.get_ref() as usize {
            f.error(
                vms.span(),
                &format!(
                    "`vms` names {} VMs, more than `vm-count = {}`",
                    named.len(),
                    count.get_ref()
                ),
            );
        }
    }
    Some(Spec::HostSizing {
        host: *host.get_ref(),
        reserve_percent: reserve_percent(f)?,
        vm_count: *count.get_ref(),
        named,
    })
}

/// The host's reserve, as a number, against the core's rounding.
pub(super) fn grade_reserve(
    host: &HostSpec,
    percent: u8,
    ask: ReserveQuestion,
    actions: &[Action],
) -> Judgement {
    let mut trace = Vec::new();
    let answer = final_answer(actions, &mut trace);
    let (cpus, ram) = match key::host_reserve(host.cpus, host.ram_mib, percent) {
        Ok(reserve) => reserve,
        Err(e) => return Judgement::fail("invalid-exercise", vec![e]),
    };
    let (total, reserve, unit) = match ask {
        ReserveQuestion::Cpus => (u64::from(host.cpus), cpus, "CPUs"),
        ReserveQuestion::RamMib => (host.ram_mib, ram, "MiB"),
    };
    trace.push(format!(
        "core sizing: {percent} % of {total} {unit} rounded up = {reserve} {unit} for the host, {} for VMs",
        total - reserve
    ));
    let Some(raw) = answer else {
        return Judgement::fail("no-answer", trace);
    };
    let digits: String = canonical(&raw)
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let Ok(given) = digits.parse::<u64>() else {
        trace.push(format!("{raw:?} is not a number"));
        return Judgement::fail("not-a-number", trace);
    };
    if given == reserve {
        trace.push(format!("{given} matches the key: correct"));
        return Judgement::pass(trace);
    }
    trace.push(format!("{given} does not match the key"));
    let exact_floor = total * u64::from(percent) / 100;
    let mistake = if given == exact_floor {
        "rounded-down".to_string()
    } else if given == total - reserve {
        "answered-vm-share".to_string()
    } else {
        format!("answer:{given}")
    };
    Judgement::fail(mistake, trace)
}

/// The planned VMs against the host, through `core::sizing`.
pub(super) fn grade_sizing(
    host: &HostSpec,
    percent: u8,
    (vm_count, named): (u32, &[String]),
    setup: &[Action],
    actions: &[Action],
) -> Judgement {
    let mut trace = Vec::new();
    let mut vms: Vec<key::VmAsk> = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        match action {
            Action::AddVm {
                name,
                vcpus,
                ram_mib,
            } => {
                // In a broken lab, the learner fixes a VM found there by planning it anew.
                let found_there = i >= setup.len() && setup.iter().any(|s| s.vm() == Some(name));
                if found_there {
                    trace.push(format!(
                        "step {}: resize {name}: {vcpus} vCPU, {ram_mib} MiB",
                        i + 1
                    ));
                    vms.retain(|v| &v.name != name);
                } else {
                    trace.push(format!(
                        "step {}: add {name}: {vcpus} vCPU, {ram_mib} MiB",
                        i + 1
                    ));
                }
                if vms.iter().any(|v| &v.name == name) {
                    trace.push(format!("a VM called {name:?} is already planned"));
                    return Judgement::fail("duplicate-vm", trace);
                }
                if *vcpus == 0 || *ram_mib == 0 {
                    trace.push(format!("{name} has no CPU or no memory"));
                    return Judgement::fail("empty-vm", trace);
                }
                vms.push(key::VmAsk {
                    name: name.clone(),
                    vcpus: *vcpus,
                    ram_mib: *ram_mib,
                });
            }
            other => trace.push(format!("step {}: `{}` ignored", i + 1, other.name())),
        }
    }
    let plan = match key::plan(host.cpus, host.ram_mib, percent, &vms) {
        Ok(plan) => plan,
        Err(e) => {
            trace.push(format!("core sizing: {e}"));
            return Judgement::fail("invalid-plan", trace);
        }
    };
    trace.push(format!(
        "core sizing: host {} CPUs, {} MiB; reserve {percent} % rounded up = {} CPUs, {} MiB; left for VMs {} CPUs, {} MiB",
        host.cpus, host.ram_mib, plan.reserve.0, plan.reserve.1, plan.available.0, plan.available.1
    ));
    trace.push(format!(
        "requested: {} VMs, {} vCPUs, {} MiB",
        vms.len(),
        plan.requested.0,
        plan.requested.1
    ));
    trace.extend(plan.notes.iter().map(|n| format!("core sizing: {n}")));
    if vms.len() != vm_count as usize {
        trace.push(format!(
            "the plan holds {} VMs, the task asks for {vm_count}",
            vms.len()
        ));
        return Judgement::fail("wrong-vm-count", trace);
    }
    if let Some(missing) = named.iter().find(|n| !vms.iter().any(|v| &&v.name == n)) {
        let planned: Vec<&str> = vms.iter().map(|v| v.name.as_str()).collect();
        trace.push(format!(
            "the task plans a VM called {missing:?}; the plan has: {}",
            planned.join(", ")
        ));
        return Judgement::fail("missing-vm", trace);
    }
    if plan.ram_overcommit {
        return Judgement::fail("ram-overcommit", trace);
    }
    if plan.cpu_overcommit {
        return Judgement::fail("cpu-overcommit", trace);
    }
    trace.push("fits, with the host's reserve intact: correct".into());
    Judgement::pass(trace)
}
