//! The devices' fuzz target's kept inputs (seed corpus and fixed crashes, `fuzz/`) through
//! the same check the target runs, on stable and without KVM: virtio-blk and virtio-net
//! behind the virtio-mmio transport, with the guest's rings, requests and register accesses
//! from the input. See docs/security.md.

#[path = "../../../fuzz/src/replay.rs"]
mod replay;
#[path = "../../../fuzz/src/virtio.rs"]
mod virtio;

use std::path::Path;

#[test]
fn devices_keep_guest_requests_inside_the_disk_and_frames_whole() {
    let fuzz_dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz"));
    replay::replay(fuzz_dir, "virtio", virtio::check);
}
