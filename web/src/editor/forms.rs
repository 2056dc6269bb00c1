//! The forms of each exercise kind: planning VMs on a host, attaching NICs, forwarding rules,
//! disks and their fates; each offers only the steps its kind takes, its choices filled from
//! the exercise.

use super::rule_input::{self, Reading};
use super::*;
use labvisor_core::lang::particle::eun_neun;

/// The forms of the exercise's kind.
pub(super) fn forms(c: &Ctx, spec: &Spec, steps: &[Action]) -> Html {
    match spec {
        Spec::HostSizing {
            host,
            reserve_percent,
            vm_count,
            named,
        } => host_sizing(c, host, *reserve_percent, (*vm_count, named), steps),
        Spec::NetMode { network, .. } => net_mode(c, network, &[c.setup, steps].concat()),
        Spec::PortForward { network, .. } => port_forward(c, network, steps),
        Spec::DiskFit { host_disk, vms, .. } => {
            let lang = c.lang;
            let options: Vec<(String, String)> =
                vms.iter().map(|v| (v.clone(), v.clone())).collect();
            let vm = c.pick(Field::Vm, &options);
            let size = c.get(Field::Size, "");
            let allocs: Vec<(String, String)> = [
                ("dynamic", Allocation::Dynamic),
                ("fixed", Allocation::Fixed),
            ]
            .iter()
            .map(|(v, a)| (v.to_string(), alloc_choice(*a).get(lang).to_string()))
            .collect();
            let alloc = if c.pick(Field::Alloc, &allocs) == "fixed" {
                Allocation::Fixed
            } else {
                Allocation::Dynamic
            };
            let mut problems = Problems::new();
            if let Err(e) = labvisor_lessons::size::parse_size(&size) {
                let message = match lang {
                    Lang::En => e,
                    Lang::Ko => format!("크기는 128G(이진 단위, VirtualBox 방식)나 256GB(십진 단위, 디스크 제조사 방식)처럼 숫자와 단위로 적습니다 ({e})"),
                };
                problems.push((Field::Size, message));
            }
            let step = problems
                .is_empty()
                .then_some(Action::CreateDisk { vm, size, alloc });
            let used = host_disk.used.as_deref().unwrap_or("0");
            let capacity = &host_disk.capacity;
            html! {
                <>
                <p class="lv-muted">{ say!(lang, "Host disk: {capacity}, of which {used} already used.", "호스트 디스크: {capacity}, 그중 {used} 사용 중.") }</p>
                { c.form(CREATE_DISK, CREATE, html! {
                    <>
                    { c.select(Field::Vm, VM_LABEL, &options) }
                    { c.input(Field::Size, SIZE_LABEL, "text", "128G", None, &problems) }
                    { c.select(Field::Alloc, ALLOC_LABEL, &allocs) }
                    </>
                }, &problems, step, &[Field::Size]) }
                </>
            }
        }
        Spec::DiskCompact {
            image,
            target_allocated,
        } => {
            let (vm, size, written, deleted) =
                (&image.vm, &image.size, &image.written, &image.deleted);
            html! {
                <>
                <p class="lv-muted">{ say!(c.lang,
                    "{vm}: {size} virtual, {written} written by the guest, {deleted} of it since deleted. Target: at most {target_allocated} on the host.",
                    "{vm}: 가상 크기 {size}, 게스트가 쓴 {written}, 그중 지운 {deleted}. 목표: 호스트에서 {target_allocated} 이하.") }</p>
                { c.buttons(vec![Action::ZeroFreeSpace { vm: vm.clone() }, Action::Compact { vm: vm.clone() }]) }
                </>
            }
        }
        Spec::DiskRestore {
            vm,
            lives_on,
            disks,
            ..
        } => {
            let mut offered = vec![Action::Snapshot { vm: vm.clone() }];
            offered.extend(disks.iter().map(|d| Action::Backup {
                vm: vm.clone(),
                to: d.clone(),
            }));
            offered.push(Action::HostDiskFails);
            offered.extend(disks.iter().map(|d| Action::Restore {
                vm: vm.clone(),
                from: d.clone(),
            }));
            let list = disks.join(", ");
            let vm_is = eun_neun(vm);
            html! {
                <>
                <p class="lv-muted">{ say!(c.lang, "{vm} lives on {lives_on}. Disks: {list}.", "{vm_is} {lives_on}에 있습니다. 디스크: {list}.") }</p>
                { c.buttons(offered) }
                </>
            }
        }
        _ => html! {},
    }
}

pub(super) fn host_sizing(
    c: &Ctx,
    host: &HostSpec,
    percent: u8,
    (vm_count, named): (u32, &[String]),
    steps: &[Action],
) -> Html {
    let lang = c.lang;
    let planned: Vec<sizing::VmRequest> = steps
        .iter()
        .filter_map(|s| match s {
            Action::AddVm {
                name,
                vcpus,
                ram_mib,
            } => Some(sizing::VmRequest {
                name: name.clone(),
                vcpus: *vcpus,
                ram_mib: *ram_mib,
                disk_mib: None,
            }),
            _ => None,
        })
        .collect();
    let taken = |name: &str| planned.iter().any(|v| v.name == name);
    // The VMs the task names come first (the course VM `web`), then vm1, vm2, ...
    let suggested = named
        .iter()
        .cloned()
        .chain((1..=MAX_STEPS + 1).map(|n| format!("vm{n}")))
        .find(|n| !taken(n))
        .unwrap_or_default();
    let name = c.get(Field::Name, &suggested);
    let (cpus, ram) = (host.cpus, host.ram_mib);
    let mut problems = Problems::new();
    if taken(&name) {
        let name_is = eun_neun(&name);
        problems.push((
            Field::Name,
            say!(
                lang,
                "A VM called {name} is already planned.",
                "VM {name_is} 이미 계획에 있습니다."
            ),
        ));
    }
    let vcpus = c
        .get(Field::Vcpus, "1")
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=cpus).contains(n));
    if vcpus.is_none() {
        problems.push((
            Field::Vcpus,
            say!(
                lang,
                "A whole number from 1 to {cpus}: the host has {cpus} logical CPUs.",
                "1부터 {cpus}까지의 정수: 호스트의 논리 CPU는 {cpus}개입니다."
            ),
        ));
    }
    let ram_mib = c
        .get(Field::Ram, "1024")
        .parse::<u64>()
        .ok()
        .filter(|n| (4..=ram).contains(n));
    if ram_mib.is_none() {
        problems.push((
            Field::Ram,
            say!(
                lang,
                "MiB from 4 (VirtualBox's least) to {ram} (all of the host's RAM).",
                "4(VirtualBox의 최소)부터 {ram}(호스트 메모리 전부)까지의 MiB."
            ),
        ));
    }
    let step = match (problems.is_empty(), vcpus, ram_mib) {
        (true, Some(vcpus), Some(ram_mib)) => Some(Action::AddVm {
            name: name.clone(),
            vcpus,
            ram_mib,
        }),
        _ => None,
    };
    // The running totals against the host, added up by the core's planner.
    let requested = sizing::Host::new(cpus.max(1), ram.max(1), None)
        .ok()
        .map(|h| sizing::plan(&h, &planned, &sizing::Policy::default()).requested)
        .unwrap_or_default();
    let (want_cpus, want_ram, count) =
        (requested.cpus, format_mib(requested.ram_mib), planned.len());
    let host_ram = format_mib(ram);
    let ram_shown = ram_mib.map(format_mib).unwrap_or_default();
    html! {
        <>
        <div class="lv-totals" role="group" aria-label={TOTALS.get(lang).to_string()}>
            <p>{ say!(lang, "VMs planned: {count} (the task asks for {vm_count}); the host keeps {percent} % for itself.",
                "계획한 VM: {count}대 (문제는 {vm_count}대); 호스트가 {percent} %를 자기 몫으로 둡니다.") }</p>
            <label class="lv-total">
                <span>{ say!(lang, "vCPUs: {want_cpus} of the host's {cpus} logical CPUs", "vCPU: 호스트 논리 CPU {cpus}개 중 {want_cpus}개") }</span>
                <meter min="0" max={cpus.to_string()} value={want_cpus.to_string()}></meter>
            </label>
            <label class="lv-total">
                <span>{ say!(lang, "RAM: {want_ram} of the host's {host_ram}", "메모리: 호스트 {host_ram} 중 {want_ram}") }</span>
                <meter min="0" max={ram.to_string()} value={requested.ram_mib.min(ram).to_string()}></meter>
            </label>
        </div>
        { c.form(ADD_VM_TITLE, ADD_VM, html! {
            <>
            { c.input(Field::Name, NAME_LABEL, "text", &suggested, None, &problems) }
            { c.input(Field::Vcpus, VCPUS_LABEL, "number", "1", Some((1, u64::from(cpus))), &problems) }
            { c.input(Field::Ram, RAM_LABEL, "number", "1024", Some((4, ram)), &problems) }
            <output class="lv-mono lv-muted lv-ram-shown" for={c.field_id(Field::Ram)}>{ ram_shown }</output>
            </>
        }, &problems, step, &[Field::Name]) }
        </>
    }
}

/// Each VM's NIC modes after `steps` (steps that name no such VM or NIC change nothing).
pub(super) fn nics_after(network: &NetworkSpec, steps: &[Action]) -> Vec<(String, Vec<Mode>)> {
    let mut vms: Vec<(String, Vec<Mode>)> = network
        .vms
        .iter()
        .map(|v| (v.name.clone(), v.nics.clone()))
        .collect();
    for step in steps {
        match step {
            Action::SetMode { vm, nic, mode } => {
                if let Some(slot) = vms
                    .iter_mut()
                    .find(|v| &v.0 == vm)
                    .and_then(|v| v.1.get_mut(usize::from(*nic).wrapping_sub(1)))
                {
                    *slot = mode.clone();
                }
            }
            Action::AddNic { vm, mode } => {
                if let Some(v) = vms.iter_mut().find(|v| &v.0 == vm) {
                    v.1.push(mode.clone());
                }
            }
            _ => {}
        }
    }
    vms
}

pub(super) fn net_mode(c: &Ctx, network: &NetworkSpec, steps: &[Action]) -> Html {
    let lang = c.lang;
    let now = nics_after(network, steps);
    let vms: Vec<(String, String)> = now.iter().map(|v| (v.0.clone(), v.0.clone())).collect();
    let modes: Vec<(String, String)> = lesson_modes()
        .iter()
        .map(|m| (mode_name(m).to_string(), mode_text(m).get(lang).to_string()))
        .collect();
    let mode_of = |value: String| {
        lesson_mode(&value).unwrap_or(Mode::Nat {
            forwards: Vec::new(),
        })
    };
    let vm = c.pick(Field::Vm, &vms);
    let nics: Vec<(String, String)> = now
        .iter()
        .find(|v| v.0 == vm)
        .map(|v| {
            v.1.iter()
                .enumerate()
                .map(|(i, m)| {
                    (
                        (i + 1).to_string(),
                        format!("NIC {} ({})", i + 1, mode_text(m).get(lang)),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let set = c
        .pick(Field::Nic, &nics)
        .parse::<u8>()
        .ok()
        .map(|nic| Action::SetMode {
            vm: vm.clone(),
            nic,
            mode: mode_of(c.pick(Field::Mode, &modes)),
        });
    let add_nic = Action::AddNic {
        vm: c.pick(Field::NicVm, &vms),
        mode: mode_of(c.pick(Field::NicMode, &modes)),
    };
    html! {
        <>
        <ul class="lv-nic-state" aria-label={NICS_NOW.get(lang).to_string()}>
            { for now.iter().map(|(vm, nics)| html! {
                <li><strong>{ vm.clone() }</strong>{ ": " }
                    { nics.iter().enumerate().map(|(i, m)| format!("NIC {} {}", i + 1, mode_text(m).get(lang))).collect::<Vec<_>>().join(" · ") }
                </li>
            }) }
        </ul>
        <div class="lv-step-forms">
            { c.form(SET_MODE_TITLE, ATTACH, html! {
                <>
                { c.select(Field::Vm, VM_LABEL, &vms) }
                { c.select(Field::Nic, NIC_LABEL, &nics) }
                { c.select(Field::Mode, MODE_LABEL, &modes) }
                </>
            }, &Problems::new(), set, &[]) }
            { c.form(ADD_NIC_TITLE, ADD_NIC, html! {
                <>
                { c.select(Field::NicVm, VM_LABEL, &vms) }
                { c.select(Field::NicMode, MODE_LABEL, &modes) }
                </>
            }, &Problems::new(), Some(add_nic), &[]) }
        </div>
        </>
    }
}

/// The rules in force after `steps`.
pub(super) fn rules_after<'a>(steps: impl IntoIterator<Item = &'a Action>) -> Vec<PortForward> {
    let mut rules: Vec<PortForward> = Vec::new();
    for step in steps {
        match step {
            Action::AddForward(step) => rules.push(step.rule.clone()),
            Action::RemoveForward { name } => rules.retain(|r| &r.name != name),
            _ => {}
        }
    }
    rules
}

pub(super) fn port_forward(c: &Ctx, network: &NetworkSpec, steps: &[Action]) -> Html {
    let lang = c.lang;
    // A NAT Network's rules must name the guest: the network has many.
    let nat_network = network
        .vms
        .iter()
        .any(|v| v.nics.iter().any(|m| matches!(m, Mode::NatNetwork(_))));
    // Without a NAT Network, NAT-mode rules live on one VM's adapter: with several VMs on NAT
    // the learner says which (every one of them is 10.0.2.15 inside, so the address cannot).
    let nat_vms: Vec<(String, String)> = network
        .vms
        .iter()
        .filter(|v| v.nics.iter().any(|m| matches!(m, Mode::Nat { .. })))
        .map(|v| (v.name.clone(), v.name.clone()))
        .collect();
    let rule_vm = (!nat_network && nat_vms.len() > 1).then(|| c.pick(Field::Vm, &nat_vms));
    // The rules of the lab as found count too: they can clash, and they can be removed.
    let rules = rules_after(c.setup.iter().chain(steps));
    let text = c.form.values.get(Field::RuleText).clone();
    let reading = rule_input::read(lang, &text, &rules, nat_network);
    let mut problems = Problems::new();
    match &reading {
        Reading::Empty => problems.push((Field::RuleText, String::new())),
        Reading::Wrong(why) => problems.push((Field::RuleText, why.clone())),
        Reading::Rule { .. } => {}
    }
    let step = reading.rule().map(|rule| {
        Action::AddForward(ForwardStep {
            rule: rule.clone(),
            vm: rule_vm.clone(),
        })
    });
    let names: Vec<(String, String)> = rules
        .iter()
        .map(|r| (r.name.clone(), format!("{} ({r})", r.name)))
        .collect();
    let remove = (!names.is_empty()).then(|| Action::RemoveForward {
        name: c.pick(Field::Rule, &names),
    });
    let on_text = {
        let form = c.form.clone();
        Callback::from(move |t: String| form.dispatch(FormMsg::Set(Field::RuleText, t)))
    };
    let host_ip = network.host_ip.as_deref().unwrap_or("");
    html! {
        <>
        <ul class="lv-nic-state" aria-label={NICS_NOW.get(lang).to_string()}>
            if !host_ip.is_empty() { <li>{ say!(lang, "host: {host_ip}", "호스트: {host_ip}") }</li> }
            { for network.vms.iter().map(|v| {
                let modes = v.nics.iter().map(|m| mode_text(m).get(lang)).collect::<Vec<_>>().join(", ");
                let listens = v.listens.join(", ");
                html! { <li><strong>{ v.name.clone() }</strong>{ ": " }{ modes }
                    if !listens.is_empty() { { say!(lang, ", listens on {listens}", ", 대기 중: {listens}") } }
                </li> }
            }) }
        </ul>
        <div class="lv-step-forms">
            { c.form(ADD_RULE_TITLE, ADD_RULE, html! {
                <>
                if rule_vm.is_some() { { c.select(Field::Vm, RULE_VM_LABEL, &nat_vms) } }
                { rule_input::field(lang, &c.field_id(Field::RuleText), &text, &reading, None, on_text) }
                </>
            }, &problems, step, &[Field::RuleText]) }
            if !names.is_empty() {
                { c.form(REMOVE_RULE_TITLE, REMOVE_RULE, c.select(Field::Rule, RULE_NAME, &names), &Problems::new(), remove, &[]) }
            }
        </div>
        </>
    }
}
