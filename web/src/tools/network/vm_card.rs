//! One VM in the editor: its name, host, NICs (mode, network name, address) and its removal,
//! with how each NIC is wired now according to the engine.

use super::*;

/// One VM: its name, host, NICs (mode, network name, address), and its removal.
pub(super) fn vm_card(ctx: &EditorCtx, i: usize, vm: &NodeSpec, hosts: &[String]) -> Html {
    let lang = ctx.lang;
    let id = format!("lv-net-vm{i}");
    let name = vm.name.clone();
    let rename = {
        let from = name.clone();
        submit(ctx, &format!("{id}-name"), move |to| {
            Ok((to != from).then(|| Action::RenameVm {
                from: from.clone(),
                to,
            }))
        })
    };
    let on_host = {
        let (app, feedback, lab, vm) = (
            ctx.app.clone(),
            ctx.feedback.clone(),
            ctx.lab.clone(),
            name.clone(),
        );
        Callback::from(move |e: DomEvent| {
            let edit = NetEdit::Act(Action::SetHost {
                vm: vm.clone(),
                host: input_value(&e),
            });
            apply_edit(&app, &feedback, lab.steps.len() as u32, &move |edits| {
                edits.push(edit.clone());
                Ok(None)
            });
        })
    };
    let ask_remove = {
        let (confirm, vm) = (ctx.confirm_remove.clone(), name.clone());
        Callback::from(move |_: MouseEvent| confirm.set(Some(vm.clone())))
    };
    let confirming = ctx.confirm_remove.as_deref() == Some(name.as_str());
    let removal = confirming
        .then(|| ctx.lab.network.removal(&name, None).ok())
        .flatten();
    let remove = {
        let (vm, removal, confirm, feedback) = (
            name.clone(),
            removal.clone().unwrap_or_default(),
            ctx.confirm_remove.clone(),
            ctx.feedback.clone(),
        );
        let done = commit::<MouseEvent>(ctx, move |edits| {
            edits.push(NetEdit::Act(Action::RemoveVm { name: vm.clone() }));
            Ok(Some(Feedback::Removed(vm.clone(), removal.clone())))
        });
        Callback::from(move |e: MouseEvent| {
            confirm.set(None);
            feedback.set(None);
            done.emit(e);
        })
    };
    let cancel = {
        let confirm = ctx.confirm_remove.clone();
        Callback::from(move |_: MouseEvent| confirm.set(None))
    };
    let escape = {
        let confirm = ctx.confirm_remove.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                confirm.set(None);
            }
        })
    };
    let add_nic = {
        let vm = name.clone();
        commit::<MouseEvent>(ctx, move |edits| {
            edits.push(NetEdit::Act(Action::AddNic {
                vm: vm.clone(),
                mode: Mode::Nat {
                    forwards: Vec::new(),
                },
            }));
            Ok(None)
        })
    };
    html! {
        <fieldset class="lv-net-vm">
            <legend>{ format!("VM {name}") }</legend>
            <form class="lv-row" onsubmit={rename}>
                <label class="lv-label" for={format!("{id}-name")}>{ NAME.get(lang) }</label>
                <input id={format!("{id}-name")} class="lv-input lv-mono lv-grow" value={name.clone()}
                    maxlength="32" spellcheck="false" autocomplete="off" />
                <button class="lv-button">{ RENAME.get(lang) }</button>
            </form>
            if hosts.len() > 1 {
                <div class="lv-row">
                    <label class="lv-label" for={format!("{id}-host")}>{ HOST.get(lang) }</label>
                    <select id={format!("{id}-host")} class="lv-select" onchange={on_host}>
                        { for hosts.iter().map(|h| html! {
                            <option value={h.clone()} selected={vm.host.as_deref() == Some(h.as_str())}>{ h.clone() }</option>
                        }) }
                    </select>
                </div>
            }
            { for vm.nics.iter().enumerate().map(|(j, nic)| nic_row(ctx, &id, &name, j, nic)) }
            <div class="lv-row">
                <button type="button" class="lv-button lv-ghost" onclick={add_nic} disabled={vm.nics.len() >= MAX_ADAPTERS}
                    aria-label={format!("{} ({name})", ADD_NIC.get(lang))}>{ ADD_NIC.get(lang) }</button>
                <button type="button" class="lv-button lv-ghost lv-danger" onclick={ask_remove} aria-expanded={confirming.to_string()} data-vm={name.clone()}
                    aria-label={format!("{} {name}", REMOVE_VM.get(lang))}>{ REMOVE_VM.get(lang) }</button>
            </div>
            if let Some(r) = &removal {
                <div class="lv-net-confirm" role="alertdialog" aria-labelledby={format!("{id}-confirm")} onkeydown={escape}>
                    <p id={format!("{id}-confirm")}><strong>{ confirm_text(lang, &name, r) }</strong></p>
                    { removal_items(lang, r) }
                    <div class="lv-row">
                        <button type="button" class="lv-button lv-danger" onclick={remove}>{ format!("{} {name}", REMOVE_VM.get(lang)) }</button>
                        <button type="button" class="lv-button lv-ghost" onclick={cancel}>{ CANCEL.get(lang) }</button>
                    </div>
                </div>
            }
        </fieldset>
    }
}

/// NIC `j` of the VM `name` (its card's id `id`): its mode, its network's name, its static
/// address, its removal, and how it is wired now.
fn nic_row(ctx: &EditorCtx, id: &str, name: &str, j: usize, nic: &NicSpec) -> Html {
    let lang = ctx.lang;
    let topo = ctx.lab.network.topology();
    let name = name.to_string();
    let Attach::Vbox(mode) = &nic.attach else {
        return html! {};
    };
    let nid = format!("{id}-nic{j}");
    let label = format!("{name} {}", nic.name);
    let on_mode = {
        let (app, feedback, lab) = (ctx.app.clone(), ctx.feedback.clone(), ctx.lab.clone());
        let (vm, nic) = (name.clone(), nic.name.clone());
        Callback::from(move |e: DomEvent| {
            let Some(mode) = mode_from_key(&input_value(&e), lab.network.topology()) else {
                return;
            };
            let edit = NetEdit::Act(Action::SetMode {
                vm: vm.clone(),
                nic: nic.clone(),
                mode,
            });
            apply_edit(&app, &feedback, lab.steps.len() as u32, &move |edits| {
                edits.push(edit.clone());
                Ok(None)
            });
        })
    };
    let set_network = {
        let (vm, nic, mode) = (name.clone(), nic.name.clone(), mode.clone());
        submit(ctx, &format!("{nid}-net"), move |net| {
            Ok((network_of(&mode) != Some(net.as_str()))
                .then(|| with_network(&mode, &net))
                .flatten()
                .map(|mode| Action::SetMode {
                    vm: vm.clone(),
                    nic: nic.clone(),
                    mode,
                }))
        })
    };
    let set_addr = {
        let (vm, nic) = (name.clone(), nic.name.clone());
        submit(ctx, &format!("{nid}-addr"), move |text| {
            let addr = if text.is_empty() {
                None
            } else {
                Some(text.parse().map_err(|_| EditError::Prefix(text.clone()))?)
            };
            Ok(Some(Action::SetAddress {
                vm: vm.clone(),
                nic: nic.clone(),
                addr,
            }))
        })
    };
    let remove_nic = {
        let (vm, nic) = (name.clone(), nic.name.clone());
        let removal = ctx.lab.network.removal(&vm, Some(&nic)).unwrap_or_default();
        commit::<MouseEvent>(ctx, move |edits| {
            edits.push(NetEdit::Act(Action::RemoveNic {
                vm: vm.clone(),
                nic: nic.clone(),
            }));
            Ok(Some(Feedback::Removed(
                format!("{vm} {nic}"),
                removal.clone(),
            )))
        })
    };
    let key = mode_key(mode);
    let list = format!("{nid}-nets");
    html! {
        <div class="lv-net-nic" role="group" aria-label={label.clone()}>
            <div class="lv-row">
                <label class="lv-label lv-mono" for={format!("{nid}-mode")}>{ nic.name.clone() }</label>
                <select id={format!("{nid}-mode")} class="lv-select" onchange={on_mode}
                    aria-label={format!("{label} {}", MODE.get(lang))}>
                    { for MODES.iter().map(|(k, l)| html! {
                        <option value={*k} selected={key == *k}>{ l.get(lang) }</option>
                    }) }
                </select>
                <button type="button" class="lv-button lv-ghost" onclick={remove_nic}
                    aria-label={format!("{} {label}", REMOVE.get(lang))}>{ REMOVE.get(lang) }</button>
            </div>
            if let Some(net) = network_of(mode) {
                <form class="lv-row" onsubmit={set_network}>
                    <label class="lv-label" for={format!("{nid}-net")}>{ NETWORK_NAME.get(lang) }</label>
                    <input id={format!("{nid}-net")} class="lv-input lv-mono lv-grow" list={list.clone()}
                        value={net.to_string()} spellcheck="false" autocomplete="off"
                        aria-label={format!("{label} {}", NETWORK_NAME.get(lang))} />
                    <datalist id={list}>
                        { for network_names(topo, key).into_iter().map(|n| html! { <option value={n} /> }) }
                    </datalist>
                    <button class="lv-button">{ APPLY.get(lang) }</button>
                </form>
            }
            if !matches!(mode, Mode::NotAttached) {
                <form class="lv-row" onsubmit={set_addr}>
                    <label class="lv-label" for={format!("{nid}-addr")}>{ STATIC_ADDR.get(lang) }</label>
                    <input id={format!("{nid}-addr")} class="lv-input lv-mono lv-grow"
                        value={nic.addr.map(|a| a.to_string()).unwrap_or_default()}
                        placeholder={if key == "internal" { "10.10.0.1/24" } else { "DHCP" }}
                        spellcheck="false" autocomplete="off"
                        aria-label={format!("{label} {}", STATIC_ADDR.get(lang))} />
                    <button class="lv-button">{ APPLY.get(lang) }</button>
                </form>
            }
            <p class="lv-muted lv-mono lv-net-nic-now">{ now_attached(lang, ctx.lab.network.fabric(), &name, &nic.name) }</p>
        </div>
    }
}

/// How a VM's NIC is wired now: its attachment and address, from the engine.
pub(super) fn now_attached(lang: Lang, fabric: &Fabric, vm: &str, nic: &str) -> String {
    let Some(x) = fabric
        .node_index(vm)
        .and_then(|i| fabric.nodes[i].nics.iter().find(|x| x.name == nic))
    else {
        return String::new();
    };
    match (x.segment, x.addr) {
        (None, _) => NOT_ATTACHED_NOW.get(lang).to_string(),
        (Some(s), Some(a)) => format!("{} · {a}", fabric.segments[s].name),
        (Some(s), None) => format!("{} · {}", fabric.segments[s].name, NO_ADDRESS.get(lang)),
    }
}

pub(super) fn confirm_text(lang: Lang, vm: &str, r: &Removal) -> String {
    match (lang, r.nics.is_empty() && r.rules.is_empty()) {
        (Lang::En, true) => format!("Remove {vm}? It has no NICs or rules."),
        (Lang::En, false) => format!("Remove {vm}? This also removes:"),
        (Lang::Ko, true) => format!(
            "{} 삭제할까요? NIC나 규칙은 없습니다.",
            labvisor_core::lang::particle::eul_reul(vm)
        ),
        (Lang::Ko, false) => format!(
            "{} 삭제할까요? 다음도 함께 삭제됩니다:",
            labvisor_core::lang::particle::eul_reul(vm)
        ),
    }
}
