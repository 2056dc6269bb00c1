//! Embeds every file under `content/` in the crate, so the `labvisor` binary and the wasm app
//! need no lesson files at run time. Generates `$OUT_DIR/embedded.rs`:
//! `pub static FILES: &[(&str, &str, &str)]` of (folder, file name, contents).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let content = Path::new(&manifest).join("content");
    println!("cargo:rerun-if-changed={}", content.display());

    let mut entries = Vec::new();
    let mut folders: Vec<_> = std::fs::read_dir(&content)
        .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    folders.sort();
    for folder in folders.iter().filter(|p| p.is_dir()) {
        println!("cargo:rerun-if-changed={}", folder.display());
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for file in files.iter().filter(|p| p.is_file()) {
            println!("cargo:rerun-if-changed={}", file.display());
            let folder_name = folder.file_name().unwrap_or_default().to_string_lossy();
            let file_name = file.file_name().unwrap_or_default().to_string_lossy();
            entries.push((
                folder_name.into_owned(),
                file_name.into_owned(),
                file.clone(),
            ));
        }
    }

    let mut out = String::from("pub static FILES: &[(&str, &str, &str)] = &[\n");
    for (folder, file, path) in &entries {
        writeln!(
            out,
            "    ({folder:?}, {file:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("embedded.rs"), out).expect("cannot write embedded.rs");
}
