//! What the learner has completed, kept in `localStorage` and exportable as a file.
//!
//! Progress only ever grows by merging: importing a file or opening a share link adds what it
//! carries to what the learner already has, so neither can lose work.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// The `localStorage` key the progress is kept under.
pub const STORAGE_KEY: &str = "labvisor.progress.v1";
/// The `format` field that marks a Labvisor progress file.
const FORMAT: &str = "labvisor-progress";
/// The longest activity id accepted from a file or link.
const MAX_ID_LEN: usize = 64;
/// The most activities accepted from a file or link.
const MAX_ITEMS: usize = 1000;

/// The activities a learner has completed, by id (`tool:hypervisors`, `lesson:nat/1`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Completed activity ids.
    pub completed: BTreeSet<String>,
}

/// The progress file: the progress plus what identifies the file.
#[derive(Serialize, Deserialize)]
struct ProgressFile {
    format: String,
    version: u32,
    completed: Vec<String>,
}

/// Why a progress file was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// Not JSON, or JSON of another shape; the parser's message says where.
    NotJson(String),
    /// JSON, but not a Labvisor progress file.
    WrongFormat,
    /// A progress file of a version this app does not know.
    UnknownVersion(u32),
    /// An activity id that is empty, too long or has characters no id has.
    BadId(String),
    /// More activities than any curriculum has.
    TooMany(usize),
}

impl Progress {
    /// True when the activity `id` is completed.
    pub fn is_done(&self, id: &str) -> bool {
        self.completed.contains(id)
    }

    /// Marks `id` completed; returns whether it was new.
    pub fn complete(&mut self, id: &str) -> bool {
        self.completed.insert(id.to_string())
    }

    /// Adds everything `other` has completed; returns how many activities were new.
    pub fn merge(&mut self, other: &Progress) -> usize {
        let before = self.completed.len();
        self.completed.extend(other.completed.iter().cloned());
        self.completed.len() - before
    }

    /// The progress as a file a learner can save.
    pub fn to_file(&self) -> String {
        let file = ProgressFile {
            format: FORMAT.to_string(),
            version: 1,
            completed: self.completed.iter().cloned().collect(),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Reads a progress file, checking every id.
    pub fn from_file(text: &str) -> Result<Progress, ImportError> {
        let file: ProgressFile =
            serde_json::from_str(text).map_err(|e| ImportError::NotJson(e.to_string()))?;
        if file.format != FORMAT {
            return Err(ImportError::WrongFormat);
        }
        if file.version != 1 {
            return Err(ImportError::UnknownVersion(file.version));
        }
        Progress::from_ids(file.completed)
    }

    /// Builds progress from ids that came from outside (a file or a share link).
    pub fn from_ids(ids: Vec<String>) -> Result<Progress, ImportError> {
        if ids.len() > MAX_ITEMS {
            return Err(ImportError::TooMany(ids.len()));
        }
        if let Some(bad) = ids.iter().find(|id| !is_activity_id(id)) {
            return Err(ImportError::BadId(bad.chars().take(MAX_ID_LEN).collect()));
        }
        Ok(Progress {
            completed: ids.into_iter().collect(),
        })
    }
}

/// Activity ids are `kind:name` with lowercase letters, digits, `-`, `/` and `:`.
fn is_activity_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.contains(':')
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'/' | b':')
        })
}

// Native only: these are plain #[test]s, and proptest does not build for wasm32.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn progress(ids: &[&str]) -> Progress {
        Progress::from_ids(ids.iter().map(|s| s.to_string()).collect()).unwrap()
    }

    proptest::proptest! {
        /// Any file a learner picks: refused with a reason, or progress whose every id is
        /// valid and which saves back to the same.
        #[test]
        fn any_file_is_refused_or_read_whole(text in ".{0,200}|\\{\"format\": \"labvisor-progress\", \"version\": [0-9], \"completed\": \\[(\"[a-z:/0-9-]{0,20}\",? ?){0,4}\\]\\}") {
            if let Ok(p) = Progress::from_file(&text) {
                proptest::prop_assert!(p.completed.iter().all(|id| is_activity_id(id)));
                proptest::prop_assert_eq!(Progress::from_file(&p.to_file()), Ok(p));
            }
        }
    }

    #[test]
    fn file_round_trips() {
        let p = progress(&["tool:hypervisors", "lesson:nat/1"]);
        assert_eq!(Progress::from_file(&p.to_file()), Ok(p));
    }

    #[test]
    fn merge_only_adds() {
        let mut mine = progress(&["lesson:nat/1", "lesson:nat/2"]);
        let new = mine.merge(&progress(&["lesson:nat/2", "tool:ipv4"]));
        assert_eq!(new, 1);
        assert_eq!(
            mine,
            progress(&["lesson:nat/1", "lesson:nat/2", "tool:ipv4"])
        );
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(matches!(
            Progress::from_file("not json"),
            Err(ImportError::NotJson(_))
        ));
        assert_eq!(
            Progress::from_file(r#"{"format":"other","version":1,"completed":[]}"#),
            Err(ImportError::WrongFormat)
        );
        assert_eq!(
            Progress::from_file(r#"{"format":"labvisor-progress","version":9,"completed":[]}"#),
            Err(ImportError::UnknownVersion(9))
        );
        assert_eq!(
            Progress::from_file(
                r#"{"format":"labvisor-progress","version":1,"completed":["<script>"]}"#
            ),
            Err(ImportError::BadId("<script>".into()))
        );
    }
}
