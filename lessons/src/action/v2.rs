//! Reading action logs of format 2, which share codes made before the lessons used the core's
//! types carry. Only postcard's layout matters here (variant order and field types), so the
//! steps are tuples; each converts to today's [`Action`].

use labvisor_core::disk::image::Allocation;
use labvisor_core::net::packet::Proto;
use serde::Deserialize;

use super::wire::{ForwardFields, ModeKind};
use super::{Action, ForwardStep};

/// The format byte of these logs.
pub(super) const FORMAT: u8 = 2;

#[derive(Deserialize)]
pub(super) struct ActionLog {
    lesson: String,
    exercise: String,
    actions: Vec<Step>,
}

/// Format 2's steps, in their order.
#[derive(Deserialize)]
enum Step {
    Answer(String),
    AddVm(String, u32, u64),
    SetMode(String, u8, ModeKind),
    AddNic(String, ModeKind),
    AddForward(Forward),
    RemoveForward(String),
    CreateDisk(String, String, Allocation),
    ZeroFreeSpace(String),
    Compact(String),
    Snapshot(String),
    Backup(String, String),
    HostDiskFails,
    Restore(String, String),
}

/// Format 2's protocols, in their order (the core lists ICMP first).
#[derive(Deserialize)]
enum OldProto {
    Tcp,
    Udp,
    Icmp,
}

/// name, protocol, host address as text, host port, guest address as text, guest port, VM.
#[derive(Deserialize)]
struct Forward(
    String,
    OldProto,
    Option<String>,
    u16,
    Option<String>,
    u16,
    Option<String>,
);

impl TryFrom<ActionLog> for super::ActionLog {
    type Error = String;

    fn try_from(old: ActionLog) -> Result<super::ActionLog, String> {
        let actions = old
            .actions
            .into_iter()
            .enumerate()
            .map(|(i, step)| step.upgrade().map_err(|e| format!("step {}: {e}", i + 1)))
            .collect::<Result<_, _>>()?;
        Ok(super::ActionLog {
            lesson: old.lesson,
            exercise: old.exercise,
            actions,
        })
    }
}

impl Step {
    fn upgrade(self) -> Result<Action, String> {
        Ok(match self {
            Step::Answer(answer) => Action::Answer(answer),
            Step::AddVm(name, vcpus, ram_mib) => Action::AddVm {
                name,
                vcpus,
                ram_mib,
            },
            Step::SetMode(vm, nic, kind) => Action::SetMode {
                vm,
                nic,
                mode: kind.mode(),
            },
            Step::AddNic(vm, kind) => Action::AddNic {
                vm,
                mode: kind.mode(),
            },
            Step::AddForward(forward) => Action::AddForward(forward.upgrade()?),
            Step::RemoveForward(name) => Action::RemoveForward { name },
            Step::CreateDisk(vm, size, alloc) => Action::CreateDisk { vm, size, alloc },
            Step::ZeroFreeSpace(vm) => Action::ZeroFreeSpace { vm },
            Step::Compact(vm) => Action::Compact { vm },
            Step::Snapshot(vm) => Action::Snapshot { vm },
            Step::Backup(vm, to) => Action::Backup { vm, to },
            Step::HostDiskFails => Action::HostDiskFails,
            Step::Restore(vm, from) => Action::Restore { vm, from },
        })
    }
}

impl Forward {
    fn upgrade(self) -> Result<ForwardStep, String> {
        let Forward(name, proto, host_ip, host_port, guest_ip, guest_port, vm) = self;
        // Format 2 kept addresses as text and checked them when grading; "" meant none.
        let address = |text: Option<String>| match text.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| format!("{text:?} is not an IPv4 address")),
        };
        ForwardFields {
            name,
            proto: match proto {
                OldProto::Tcp => Proto::Tcp,
                OldProto::Udp => Proto::Udp,
                OldProto::Icmp => Proto::Icmp,
            },
            host_ip: address(host_ip)?,
            host_port,
            guest_ip: address(guest_ip)?,
            guest_port,
            vm,
        }
        .try_into()
    }
}
