//! The learner's progress in the browser: kept in `localStorage` under [`STORAGE_KEY`] and
//! exportable as a file. The file itself (its versions, merging, the checks on what comes from
//! outside, the course VM it carries) is `labvisor_lessons::progress`, shared with the command
//! line, so a file exported here is one `labvisor lesson check --progress FILE` reads, and back.

pub use labvisor_lessons::progress::{exercise_activity, Progress, ProgressError};

/// The `localStorage` key the progress is kept under. Its `v1` names the key, not the file:
/// the value is a progress file of any version [`Progress::from_file`] reads (version 1 before
/// the course VM, version 2 since), so a learner's stored progress survives the upgrade.
pub const STORAGE_KEY: &str = "labvisor.progress.v1";

// Native only: these are plain #[test]s.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn what_an_older_build_stored_still_loads_and_is_saved_as_the_current_version() {
        let stored = r#"{
  "format": "labvisor-progress",
  "version": 1,
  "completed": [
    "lesson:nat/1",
    "tool:ipv4"
  ]
}"#;
        let progress = Progress::from_file(stored).expect("a version 1 value loads");
        assert_eq!(progress.completed.len(), 2);
        let saved = progress.to_file();
        assert!(saved.contains("\"version\": 2"), "{saved}");
        assert_eq!(Progress::from_file(&saved), Ok(progress));
    }
}
