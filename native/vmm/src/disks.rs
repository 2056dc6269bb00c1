//! The VM's disks: each [`Disk`] becomes a virtio-blk device in the next slot, from slot 0,
//! pausing at a [`PauseGate`] when its host runs out of space; the console asks about them
//! (`Ctrl-A d`, `Ctrl-A s`, `Ctrl-A r`) and the report says what each did ([`DiskReport`]).

use std::io::Write;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::devices::block::{
    BlockBackend, BlockCounters, DiskUsage, PauseGate, SharedBackend, SpaceEvent, VirtioBlock,
};
use crate::devices::virtio_mmio::VirtioDevice;
use crate::{layout, VmEvent, VmmError};

/// A disk for the VM: a virtio-blk device over `backend`.
pub struct Disk {
    /// How the report names it (the image's path).
    pub name: String,
    pub backend: Box<dyn BlockBackend>,
}

impl std::fmt::Debug for Disk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disk").field("name", &self.name).finish()
    }
}

/// What a disk did during the run.
#[derive(Debug, Clone, Serialize)]
pub struct DiskReport {
    pub name: String,
    pub slot: u32,
    pub capacity_bytes: u64,
    pub read_only: bool,
    /// What the image cost the host when the VM started, and when it ended.
    pub usage_at_boot: Option<DiskUsage>,
    pub usage_at_end: Option<DiskUsage>,
    #[serde(flatten)]
    pub counters: BlockCounters,
}

/// One attached disk, as the VMM keeps it beside its device.
struct Attachment {
    report: DiskReport,
    counters: Arc<Mutex<BlockCounters>>,
    backend: SharedBackend,
    gate: Arc<PauseGate>,
}

/// The devices of the first virtio slots, in order.
pub(crate) type SlotDevices = Vec<Option<Box<dyn VirtioDevice>>>;

/// The VM's disks once attached.
pub(crate) struct Attached(Vec<Attachment>);

impl Attached {
    /// Makes a virtio-blk device of each disk, in slot order; full-disk pauses are reported on
    /// `events`. Returns the devices for the first slots.
    pub(crate) fn attach(
        disks: Vec<Disk>,
        events: &Sender<VmEvent>,
    ) -> Result<(Attached, SlotDevices), VmmError> {
        if disks.len() > layout::VIRTIO_SLOTS as usize {
            return Err(VmmError::Config(format!(
                "{} disks asked for; the VM has {} virtio slots",
                disks.len(),
                layout::VIRTIO_SLOTS
            )));
        }
        let mut attached = Vec::new();
        let mut devices: SlotDevices = Vec::new();
        for (slot, disk) in disks.into_iter().enumerate() {
            let report = DiskReport {
                name: disk.name,
                slot: slot as u32,
                capacity_bytes: disk.backend.capacity(),
                read_only: disk.backend.read_only(),
                usage_at_boot: disk.backend.usage(),
                usage_at_end: None,
                counters: BlockCounters::default(),
            };
            let counters = Arc::new(Mutex::new(BlockCounters::default()));
            let backend: SharedBackend = Arc::new(Mutex::new(disk.backend));
            let tx = Mutex::new(events.clone());
            let gate = Arc::new(PauseGate::new(format!("disk{slot}"), move |event| {
                let _ = tx
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .send(VmEvent::Space(event));
            }));
            devices.push(Some(Box::new(
                VirtioBlock::new(backend.clone(), counters.clone()).pausing_at(gate.clone()),
            )));
            attached.push(Attachment {
                report,
                counters,
                backend,
                gate,
            });
        }
        Ok((Attached(attached), devices))
    }

    /// `Ctrl-A d`: each disk's size and what it costs the host now, on stderr (raw-mode line
    /// ends).
    pub(crate) fn show_usage(&self) {
        let mut err = std::io::stderr().lock();
        if self.0.is_empty() {
            let _ = write!(err, "\r\n[no disks: start the VM with --disk FILE]\r\n");
        }
        for a in &self.0 {
            let usage = a.backend.lock().unwrap_or_else(|p| p.into_inner()).usage();
            let _ = match usage {
                Some(u) => write!(
                    err,
                    "\r\n[disk{} {}: {} MiB virtual, file {} MiB, host {} MiB, blocks {} of {} used]\r\n",
                    a.report.slot,
                    a.report.name,
                    u.virtual_bytes >> 20,
                    u.file_bytes >> 20,
                    u.host_bytes >> 20,
                    u.blocks_used,
                    u.blocks_total
                ),
                None => write!(err, "\r\n[disk{} {}]\r\n", a.report.slot, a.report.name),
            };
        }
    }

    /// `Ctrl-A s`: a live snapshot of each disk, between two of the guest's requests (the
    /// backend's lock keeps them apart), as VirtualBox takes one of a running VM.
    pub(crate) fn take_snapshots(&self) {
        let mut err = std::io::stderr().lock();
        if self.0.is_empty() {
            let _ = write!(
                err,
                "\r\n[no disks to snapshot: start the VM with --disk FILE]\r\n"
            );
        }
        for a in &self.0 {
            let taken = a
                .backend
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .snapshot();
            let (slot, name) = (a.report.slot, &a.report.name);
            let _ = match taken {
                Ok(now) => write!(
                    err,
                    "\r\n[snapshot of disk{slot} {name}: what it holds now is frozen; writes go to {now}]\r\n"
                ),
                Err(e) => write!(err, "\r\n[no snapshot of disk{slot} {name}: {e}]\r\n"),
            };
        }
    }

    /// `Ctrl-A r`: retries every write paused for host space now.
    pub(crate) fn resume(&self) {
        self.0.iter().for_each(|a| a.gate.resume());
    }

    /// Says that the VM paused for host space, or runs again (VirtualBox's disk-full pause).
    pub(crate) fn show_space(&self, event: &SpaceEvent) {
        let name = |disk: &str| {
            self.0
                .iter()
                .find(|a| format!("disk{}", a.report.slot) == disk)
                .map_or(String::new(), |a| format!(" ({})", a.report.name))
        };
        let mut err = std::io::stderr().lock();
        let _ = match event {
            SpaceEvent::Paused { disk, why } => write!(
                err,
                "\r\n[VM paused: {disk}{} has no room on the host: {why}. Free space on the host; the write is retried every second, or press Ctrl-A r. Nothing is lost.]\r\n",
                name(disk)
            ),
            SpaceEvent::Resumed { disk } => {
                write!(err, "\r\n[VM resumed: {disk}{} had room again]\r\n", name(disk))
            }
        };
    }

    /// The reports, with each disk's requests and its usage at the end.
    pub(crate) fn into_reports(self) -> Vec<DiskReport> {
        self.0
            .into_iter()
            .map(|a| DiskReport {
                counters: *a.counters.lock().unwrap_or_else(|p| p.into_inner()),
                usage_at_end: a.backend.lock().unwrap_or_else(|p| p.into_inner()).usage(),
                ..a.report
            })
            .collect()
    }
}
