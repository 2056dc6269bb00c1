//! The core's fuzz targets' kept inputs (seed corpus and fixed crashes, `fuzz/`) through the
//! same checks the targets run, on stable: the disk engine on fuzzed images, the parsers,
//! scenario files, the packet path and the NAT engine's link. See docs/security.md.

#[path = "../../fuzz/src/disk_image.rs"]
mod disk_image;
#[path = "../../fuzz/src/gateway.rs"]
mod gateway;
#[path = "../../fuzz/src/parsers.rs"]
mod parsers;
#[path = "../../fuzz/src/replay.rs"]
mod replay;
#[path = "../../fuzz/src/scenario.rs"]
mod scenario;
#[path = "../../fuzz/src/wire.rs"]
mod wire;

use std::path::Path;

fn fuzz_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz"))
}

#[test]
fn fuzzed_disk_images_keep_the_engines_invariants() {
    replay::replay(fuzz_dir(), "disk_image", disk_image::check);
}

#[test]
fn parsed_values_print_back_to_the_same_value() {
    replay::replay(fuzz_dir(), "parsers", parsers::check);
}

#[test]
fn scenario_errors_point_into_the_file() {
    replay::replay(fuzz_dir(), "scenario", scenario::check);
}

#[test]
fn translated_packets_keep_valid_checksums() {
    replay::replay(fuzz_dir(), "wire", wire::check);
}

#[test]
fn the_nat_link_counts_every_drop_and_writes_valid_frames() {
    replay::replay(fuzz_dir(), "gateway", gateway::check);
}
