//! Prepares what the app would otherwise parse at start-up: the curriculum (validated from its
//! TOML and Markdown files) and the core's example scenarios, written in postcard into `OUT_DIR`
//! for `src/bundle.rs` to embed. The browser build then links no TOML or JSON parser and does no
//! validation on the learner's machine; a broken lesson file fails this build instead, with
//! every problem's file:line:column.

use std::path::Path;

use labvisor_core::net::scenario::{self, Scenario};

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let out = Path::new(&out);
    // The lessons crate embeds its content and re-runs its own build script when it changes;
    // these make this script follow.
    for dir in ["../lessons/content", "../core/src/net/examples"] {
        println!("cargo:rerun-if-changed={dir}");
    }

    let curriculum = match labvisor_lessons::curriculum() {
        Ok(curriculum) => curriculum,
        Err(problems) => {
            for p in problems {
                eprintln!("{}:{}:{}: {}", p.file, p.line, p.column, p.message);
            }
            eprintln!("error: the lessons do not load; run `labvisor lesson lint` for details");
            std::process::exit(1);
        }
    };
    // Without what only `labvisor lesson lint` and the tests use (the typical wrong attempts).
    write(
        out,
        "curriculum.postcard",
        &curriculum.for_browser().to_postcard(),
    );

    let mut examples: Vec<(&str, Scenario)> = Vec::new();
    for (name, text) in scenario::EXAMPLES {
        match Scenario::parse(&format!("{name}.toml"), text) {
            Ok(parsed) => examples.push((name, parsed)),
            Err(errors) => {
                eprintln!("{errors}");
                std::process::exit(1);
            }
        }
    }
    let bytes = postcard::to_allocvec(&examples).expect("scenarios serialize to postcard");
    write(out, "examples.postcard", &bytes);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, bytes) {
        eprintln!("error: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
}
