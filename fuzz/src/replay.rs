//! Replays the inputs kept for a fuzz target through its check, on stable, in the owning
//! crate's `fuzz_regressions` test: the checked-in seed corpus (`fuzz/corpus/<target>/*.seed`,
//! not what fuzzing added beside it) and
//! every input that once broke an invariant and was fixed (`fuzz/regressions/<target>/`).
//! A failing input is named, so it can be run again with `cargo xtask fuzz <target>`.

use std::path::Path;

/// Runs `check` on every kept input of `target` under `fuzz_dir`; returns how many ran.
/// Panics, naming the file, on the first input whose check fails, and when there are no
/// inputs at all (a test that checks nothing must not pass).
pub fn replay(fuzz_dir: &Path, target: &str, check: fn(&[u8])) -> usize {
    let mut ran = 0;
    for (kind, only_seeds) in [("corpus", true), ("regressions", false)] {
        let dir = fuzz_dir.join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.is_file())
            .filter(|p| !only_seeds || p.extension().is_some_and(|e| e == "seed"))
            .collect();
        paths.sort();
        for path in paths {
            let input = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            if std::panic::catch_unwind(|| check(&input)).is_err() {
                panic!(
                    "{} breaks an invariant of the {target} target (the message is above)",
                    path.display()
                );
            }
            ran += 1;
        }
    }
    assert!(
        ran > 0,
        "no kept inputs for the {target} target under {}",
        fuzz_dir.display()
    );
    ran
}
