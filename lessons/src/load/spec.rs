//! Each exercise kind's fields, validated and built into its [`Spec`]: one function per kind,
//! [`build_spec`] picks by [`ExerciseKind`].

use std::collections::BTreeSet;
use std::ops::Range;

use labvisor_core::lang::Bilingual;

use super::*;

pub(super) fn build_spec(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let build = match kind {
        ExerciseKind::Choice => choice,
        ExerciseKind::ClassifyAddress => classify_address,
        ExerciseKind::ClassifyPort => classify_port,
        ExerciseKind::ClassifyHypervisor => classify_hypervisor,
        ExerciseKind::HostReserve => host_reserve,
        ExerciseKind::HostSizing => host_sizing,
        ExerciseKind::NatSource => nat_source,
        ExerciseKind::NetMode | ExerciseKind::PortForward => net_goals,
        ExerciseKind::DiskFit => disk_fit,
        ExerciseKind::DiskCompact => disk_compact,
        ExerciseKind::DiskRestore => disk_restore,
    };
    build(ex, kind, at, report, what)
}

/// The exercise's `reserve-percent`: 20 unless given, and below 100.
fn reserve_percent(
    ex: &ExerciseFile,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<u8> {
    match &ex.reserve_percent {
        Some(p) if *p.get_ref() >= 100 => {
            report.error(p.span(), what("`reserve-percent` must be below 100"));
            None
        }
        Some(p) => Some(*p.get_ref()),
        None => Some(20),
    }
}

/// A choice: options with unique ids, the correct one among them, hints naming options.
fn choice(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let correct = required(&ex.correct, "correct", kind, at, report, what)?;
    if ex.options.len() < 2 {
        report.error(
            at.clone(),
            what("a choice needs at least two `[[exercises.options]]`"),
        );
    }
    let mut ids = BTreeSet::new();
    for option in &ex.options {
        let o = option.get_ref();
        if !ids.insert(o.id.as_str()) {
            report.error(
                option.span(),
                what(&format!("option id {:?} is used twice", o.id)),
            );
        }
        report.translations(
            option.span(),
            &what(&format!("option {:?}", o.id)),
            &Bilingual::new(o.en.clone(), o.ko.clone()),
        );
    }
    if !ids.contains(correct.get_ref().as_str()) {
        report.error(
            correct.span(),
            what(&format!(
                "`correct = {:?}` names no option",
                correct.get_ref()
            )),
        );
    }
    for hint in &ex.hints {
        if let Some(option) = hint.get_ref().mistake.strip_prefix("answer:") {
            if !ids.contains(option) {
                report.error(
                    hint.span(),
                    what(&format!(
                        "the hint for {:?} names no option",
                        hint.get_ref().mistake
                    )),
                );
            }
        }
    }
    Some(Spec::Choice {
        options: ex.options.iter().map(|o| o.get_ref().clone()).collect(),
        correct: correct.get_ref().clone(),
    })
}

/// An address to classify and what is asked of it.
fn classify_address(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let subject = required(&ex.subject, "subject", kind, at, report, what)?;
    let ask = required(&ex.ask, "ask", kind, at, report, what)?;
    if let Err(e) = key::address(subject.get_ref()) {
        report.error(subject.span(), what(&e));
    }
    let ask = parse_choice(
        ask,
        &[
            ("scope", AddressQuestion::Scope),
            ("class", AddressQuestion::Class),
        ],
        report,
        what,
    )?;
    Some(Spec::ClassifyAddress {
        subject: subject.get_ref().clone(),
        ask,
    })
}

/// A port to classify and what is asked of it.
fn classify_port(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let subject = required(&ex.subject, "subject", kind, at, report, what)?;
    let ask_field = required(&ex.ask, "ask", kind, at, report, what)?;
    let ask = parse_choice(
        ask_field,
        &[
            ("range", PortQuestion::Range),
            ("port-of-service", PortQuestion::PortOfService),
        ],
        report,
        what,
    )?;
    let checked = match ask {
        PortQuestion::Range => key::port_range(subject.get_ref()).map(|_| ()),
        PortQuestion::PortOfService => key::service_port(subject.get_ref()).map(|_| ()),
    };
    if let Err(e) = checked {
        report.error(subject.span(), what(&e));
    }
    Some(Spec::ClassifyPort {
        subject: subject.get_ref().clone(),
        ask,
    })
}

/// A hypervisor to classify.
fn classify_hypervisor(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let subject = required(&ex.subject, "subject", kind, at, report, what)?;
    if let Some(ask) = &ex.ask {
        parse_choice(ask, &[("type", ())], report, what)?;
    }
    if let Err(e) = key::hypervisor(subject.get_ref()) {
        report.error(subject.span(), what(&e));
    }
    Some(Spec::ClassifyHypervisor {
        subject: subject.get_ref().clone(),
    })
}

/// A host and its reserve: what is asked of it.
fn host_reserve(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let host = required(&ex.host, "host", kind, at, report, what)?;
    let ask = required(&ex.ask, "ask", kind, at, report, what)?;
    let ask = parse_choice(
        ask,
        &[
            ("cpus", ReserveQuestion::Cpus),
            ("ram-mib", ReserveQuestion::RamMib),
        ],
        report,
        what,
    )?;
    Some(Spec::HostReserve {
        host: *host.get_ref(),
        reserve_percent: reserve_percent(ex, report, what)?,
        ask,
    })
}

/// A host to fill with VMs.
fn host_sizing(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let host = required(&ex.host, "host", kind, at, report, what)?;
    let count = required(&ex.vm_count, "vm-count", kind, at, report, what)?;
    Some(Spec::HostSizing {
        host: *host.get_ref(),
        reserve_percent: reserve_percent(ex, report, what)?,
        vm_count: *count.get_ref(),
    })
}

/// A home-router network: what source the far end sees.
fn nat_source(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let network = required(&ex.network, "network", kind, at, report, what)?;
    let net = network.get_ref();
    if net.kind != NetworkKind::HomeRouter {
        report.error(
            network.span(),
            what("a nat-source exercise needs `network.kind = \"home-router\"`"),
        );
    }
    if net.router_public_ip.is_none() {
        report.error(
            network.span(),
            what("the home router needs `router-public-ip`"),
        );
    }
    for host in net.pcs.iter().chain(&net.servers) {
        if let Err(e) = key::address(&host.ip) {
            report.error(network.span(), what(&format!("node {:?}: {e}", host.name)));
        }
    }
    match &net.send {
        None => report.error(
            network.span(),
            what("needs `network.send`: the packet to follow"),
        ),
        Some(send) => {
            for node in [&send.from, &send.to] {
                if !net.node_names().contains(&node.as_str()) {
                    report.error(
                        network.span(),
                        what(&format!(
                            "`send` names unknown node {node:?}; nodes: {}",
                            net.node_names().join(", ")
                        )),
                    );
                }
            }
        }
    }
    Some(Spec::NatSource {
        network: net.clone(),
    })
}

/// A VirtualBox network and the connections that must (or must not) work.
fn net_goals(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let network = required(&ex.network, "network", kind, at, report, what)?;
    let net = network.get_ref();
    if net.kind != NetworkKind::Virtualbox {
        report.error(
            network.span(),
            what("needs `network.kind = \"virtualbox\"`"),
        );
    }
    for vm in &net.vms {
        for listen in &vm.listens {
            let ok = listen
                .split_once('/')
                .is_some_and(|(p, n)| matches!(p, "tcp" | "udp") && n.parse::<u16>().is_ok());
            if !ok {
                report.error(
                    network.span(),
                    what(&format!(
                        "vm {:?} listens on {listen:?}: write `tcp/22` or `udp/53`",
                        vm.name
                    )),
                );
            }
        }
    }
    if ex.goals.is_empty() {
        report.error(at.clone(), what("needs at least one `[[exercises.goals]]`"));
    }
    let names = net.node_names();
    for goal in &ex.goals {
        let g = goal.get_ref();
        for node in [&g.from, &g.to] {
            if !names.contains(&node.as_str()) {
                report.error(
                    goal.span(),
                    what(&format!(
                        "goal names unknown node {node:?}; nodes: {}",
                        names.join(", ")
                    )),
                );
            }
        }
        if let Some(dial) = &g.dial {
            let ok = dial.split_once(':').is_some_and(|(node, port)| {
                (names.contains(&node) || node.parse::<std::net::Ipv4Addr>().is_ok())
                    && port.parse::<u16>().is_ok()
            });
            if !ok {
                report.error(
                        goal.span(),
                        what(&format!(
                            "`dial = {dial:?}` must be `node:port` with a known node, or `address:port` (e.g. `127.0.0.1:2222`)"
                        )),
                    );
            }
        }
        if g.proto != labvisor_core::net::packet::Proto::Icmp && g.port.is_none() {
            report.error(goal.span(), what("a tcp or udp goal needs `port`"));
        }
    }
    let goals = ex.goals.iter().map(|g| g.get_ref().clone()).collect();
    Some(if kind == ExerciseKind::NetMode {
        Spec::NetMode {
            network: net.clone(),
            goals,
        }
    } else {
        Spec::PortForward {
            network: net.clone(),
            goals,
        }
    })
}

/// A host disk and the VMs' disks to fit on it.
fn disk_fit(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let disk = required(&ex.host_disk, "host-disk", kind, at, report, what)?;
    let vms = required(&ex.vms, "vms", kind, at, report, what)?;
    let d = disk.get_ref();
    for size in std::iter::once(&d.capacity).chain(d.used.as_ref()) {
        if let Err(e) = parse_size(size) {
            report.error(disk.span(), what(&e));
        }
    }
    if vms.get_ref().is_empty() {
        report.error(vms.span(), what("`vms` lists no VM"));
    }
    Some(Spec::DiskFit {
        host_disk: d.clone(),
        vms: vms.get_ref().clone(),
    })
}

/// An image to compact down to a target.
fn disk_compact(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let image = required(&ex.image, "image", kind, at, report, what)?;
    let target = required(
        &ex.target_allocated,
        "target-allocated",
        kind,
        at,
        report,
        what,
    )?;
    let i = image.get_ref();
    for size in [&i.size, &i.written, &i.deleted] {
        if let Err(e) = parse_size(size) {
            report.error(image.span(), what(&e));
        }
    }
    if let Err(e) = parse_size(target.get_ref()) {
        report.error(target.span(), what(&e));
    }
    Some(Spec::DiskCompact {
        image: i.clone(),
        target_allocated: target.get_ref().clone(),
    })
}

/// A VM's disk, where it lives, and the disks available.
fn disk_restore(
    ex: &ExerciseFile,
    kind: ExerciseKind,
    at: &Range<usize>,
    report: &mut Reporter<'_>,
    what: &dyn Fn(&str) -> String,
) -> Option<Spec> {
    let vm = required(&ex.vm, "vm", kind, at, report, what)?;
    let lives_on = required(&ex.lives_on, "lives-on", kind, at, report, what)?;
    let disks = required(&ex.disks, "disks", kind, at, report, what)?;
    if !disks.get_ref().contains(lives_on.get_ref()) {
        report.error(
            lives_on.span(),
            what(&format!(
                "`lives-on = {:?}` is not in `disks`",
                lives_on.get_ref()
            )),
        );
    }
    Some(Spec::DiskRestore {
        vm: vm.get_ref().clone(),
        lives_on: lives_on.get_ref().clone(),
        disks: disks.get_ref().clone(),
    })
}
