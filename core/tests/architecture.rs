//! ARCHITECTURE.md's claims about the core, checked where a check is cheap: its dependencies
//! are the ones the document names, and its source names no I/O, clock or randomness.

use std::path::Path;

/// The `[dependencies]` of the core's manifest, by name.
fn dependencies() -> Vec<String> {
    let manifest = include_str!("../Cargo.toml");
    manifest
        .split("\n[dependencies]\n")
        .nth(1)
        .expect("a [dependencies] section")
        .lines()
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split(['.', '=', ' ']).next())
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_cores_dependencies_are_the_ones_architecture_md_names() {
    let deps = dependencies();
    assert_eq!(deps, ["serde", "thiserror", "ipnet", "toml"]);
    let architecture = include_str!("../../ARCHITECTURE.md");
    let claim = architecture
        .split("Dependencies are only ")
        .nth(1)
        .and_then(|rest| rest.split([';', '.']).next())
        .expect("ARCHITECTURE.md names the core's dependencies");
    let named = claim.matches('`').count() / 2;
    for dep in &deps {
        assert!(
            claim.contains(&format!("`{dep}`")),
            "ARCHITECTURE.md does not name {dep}: {claim}"
        );
    }
    assert_eq!(
        named,
        deps.len(),
        "ARCHITECTURE.md names more than the core uses: {claim}"
    );
}

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("core/src") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file");
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn the_core_names_no_files_clocks_environment_or_randomness() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 20, "found the core's sources");
    let forbidden = [
        "std::fs",
        "std::time",
        "std::env",
        "std::process",
        "std::thread",
        "std::net::TcpStream",
        "std::net::UdpSocket",
        "SystemTime",
        "Instant::now",
        "rand::",
    ];
    for (path, text) in &files {
        for word in forbidden {
            assert!(
                !text.contains(word),
                "{path} uses {word}: the core does no I/O"
            );
        }
    }
}
