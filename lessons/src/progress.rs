//! What a learner has done, as one file both front ends read and write: the browser keeps it in
//! `localStorage` and exports it; the command line keeps it on disk (`lesson check`). A file
//! saved by one opens in the other.
//!
//! The file is JSON: `format` (always `labvisor-progress`), `version`, `completed` (activity
//! ids) and, from version 2, `course-vm` (the course VM as lessons 6, 7, 9 and 12 left it,
//! [`crate::course_vm::CourseVm`]). Version 1 files (no course VM) are still read.
//!
//! Progress only ever grows by merging: importing a file adds what it carries to what the
//! learner already has, so no import can lose work.
//!
//! Must never: read or write files itself (sans-IO, like the rest of the crate), or accept a
//! value from outside without checking it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::course_vm::CourseVm;

/// The `format` field that marks a Labvisor progress file.
pub const FORMAT: &str = "labvisor-progress";
/// The version this build writes. 1: completed activities only; 2: and the course VM.
pub const VERSION: u32 = 2;
/// The longest activity id accepted from a file or link.
const MAX_ID_LEN: usize = 64;
/// The most activities accepted from a file or link.
const MAX_ITEMS: usize = 1000;

/// The progress id of exercise number `index` (from 0) of `lesson`: `lesson:nat/1`.
pub fn exercise_activity(lesson: &str, index: usize) -> String {
    format!("lesson:{lesson}/{}", index + 1)
}

/// The activities a learner has completed, by id (`tool:hypervisors`, `lesson:nat/1`, ...), and
/// the course VM.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Completed activity ids.
    pub completed: BTreeSet<String>,
    /// The course VM as the learner has built it.
    pub course_vm: CourseVm,
}

/// The progress file as written.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ProgressFile {
    format: String,
    version: u32,
    completed: Vec<String>,
    #[serde(default)]
    course_vm: CourseVm,
}

/// Why a progress file was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProgressError {
    /// Not JSON, or JSON of another shape; the parser's message says where.
    #[error("not a progress file: {0}")]
    NotJson(String),
    /// JSON, but not a Labvisor progress file.
    #[error("JSON, but not a Labvisor progress file (no \"format\": \"labvisor-progress\")")]
    WrongFormat,
    /// A progress file of a version this build does not know.
    #[error("a progress file of version {0}, made by a newer Labvisor; this one reads versions 1 to {VERSION}")]
    UnknownVersion(u32),
    /// An activity id that is empty, too long or has characters no id has.
    #[error("{0:?} is not an activity id (`lesson:nat/1`, `tool:ipv4`)")]
    BadId(String),
    /// More activities than any curriculum has.
    #[error("{0} activities, more than any course has (at most {MAX_ITEMS})")]
    TooMany(usize),
    /// A course VM no lesson could have made.
    #[error("its course VM is not one a lesson makes: {0}")]
    BadCourseVm(String),
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

    /// Adds everything `other` has completed, and the parts of its course VM this one does not
    /// have yet (a part already here is kept: merging never replaces work). Returns how many
    /// activities and VM parts were new.
    pub fn merge(&mut self, other: &Progress) -> usize {
        let before = self.completed.len();
        self.completed.extend(other.completed.iter().cloned());
        let parts = self.course_vm.fill_from(&other.course_vm);
        self.completed.len() - before + parts
    }

    /// The progress as a file a learner can save (the current [`VERSION`]).
    pub fn to_file(&self) -> String {
        let file = ProgressFile {
            format: FORMAT.to_string(),
            version: VERSION,
            completed: self.completed.iter().cloned().collect(),
            course_vm: self.course_vm.clone(),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Reads a progress file of any version this build knows, checking every id and the
    /// course VM.
    pub fn from_file(text: &str) -> Result<Progress, ProgressError> {
        let file: ProgressFile =
            serde_json::from_str(text).map_err(|e| ProgressError::NotJson(e.to_string()))?;
        if file.format != FORMAT {
            return Err(ProgressError::WrongFormat);
        }
        if !(1..=VERSION).contains(&file.version) {
            return Err(ProgressError::UnknownVersion(file.version));
        }
        if file.version == 1 && !file.course_vm.is_default() {
            return Err(ProgressError::NotJson(
                "a version 1 file has no course VM; `course-vm` came in version 2".into(),
            ));
        }
        file.course_vm.check().map_err(ProgressError::BadCourseVm)?;
        let mut progress = Progress::from_ids(file.completed)?;
        progress.course_vm = file.course_vm;
        Ok(progress)
    }

    /// Builds progress from ids that came from outside (a file or a share link).
    pub fn from_ids(ids: Vec<String>) -> Result<Progress, ProgressError> {
        if ids.len() > MAX_ITEMS {
            return Err(ProgressError::TooMany(ids.len()));
        }
        if let Some(bad) = ids.iter().find(|id| !is_activity_id(id)) {
            return Err(ProgressError::BadId(bad.chars().take(MAX_ID_LEN).collect()));
        }
        Ok(Progress {
            completed: ids.into_iter().collect(),
            course_vm: CourseVm::default(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course_vm::{VmDisk, VmSize};
    use labvisor_core::disk::image::Allocation;
    use labvisor_core::size::ByteSize;

    fn progress(ids: &[&str]) -> Progress {
        Progress::from_ids(ids.iter().map(|s| s.to_string()).collect()).unwrap()
    }

    fn sized(vcpus: u32, ram_mib: u64) -> CourseVm {
        CourseVm {
            size: Some(VmSize { vcpus, ram_mib }),
            ..CourseVm::default()
        }
    }

    proptest::proptest! {
        /// Any file a learner picks: refused with a reason, or progress whose every id is
        /// valid and which saves back to the same.
        #[test]
        fn any_file_is_refused_or_read_whole(text in ".{0,200}|\\{\"format\": \"labvisor-progress\", \"version\": [0-9], \"completed\": \\[(\"[a-z:/0-9-]{0,20}\",? ?){0,4}\\](, \"course-vm\": \\{\"size\": \\{\"vcpus\": [0-9]{1,5}, \"ram-mib\": [0-9]{1,8}\\}\\})?\\}") {
            if let Ok(p) = Progress::from_file(&text) {
                proptest::prop_assert!(p.completed.iter().all(|id| is_activity_id(id)));
                proptest::prop_assert!(p.course_vm.check().is_ok());
                proptest::prop_assert_eq!(Progress::from_file(&p.to_file()), Ok(p));
            }
        }
    }

    #[test]
    fn a_file_round_trips_with_its_course_vm() {
        let mut p = progress(&["tool:hypervisors", "lesson:nat/1"]);
        p.course_vm = CourseVm {
            disk: Some(VmDisk {
                size: ByteSize(64 << 30),
                allocation: Allocation::Fixed,
            }),
            ..sized(3, 6000)
        };
        let file = p.to_file();
        assert!(file.contains("\"version\": 2"), "{file}");
        assert!(file.contains("\"course-vm\""), "{file}");
        assert_eq!(Progress::from_file(&file), Ok(p));
    }

    #[test]
    fn a_version_1_file_still_reads_with_the_default_vm() {
        let old = r#"{"format": "labvisor-progress", "version": 1, "completed": ["lesson:nat/1"]}"#;
        let read = Progress::from_file(old).expect("a version 1 file reads");
        assert_eq!(read.completed, progress(&["lesson:nat/1"]).completed);
        assert!(read.course_vm.is_default());
        // Saved again, it is a version 2 file with the same content.
        assert_eq!(Progress::from_file(&read.to_file()), Ok(read));
    }

    #[test]
    fn merge_only_adds_activities_and_vm_parts_it_lacks() {
        let mut mine = progress(&["lesson:nat/1", "lesson:nat/2"]);
        mine.course_vm = sized(2, 4096);
        let mut theirs = progress(&["lesson:nat/2", "tool:ipv4"]);
        theirs.course_vm = CourseVm {
            disk: Some(CourseVm::DEFAULT_DISK),
            ..sized(4, 2048)
        };
        let new = mine.merge(&theirs);
        assert_eq!(new, 2, "one activity and one VM part");
        assert_eq!(
            mine.completed,
            progress(&["lesson:nat/1", "lesson:nat/2", "tool:ipv4"]).completed
        );
        assert_eq!(
            mine.course_vm.size,
            Some(VmSize {
                vcpus: 2,
                ram_mib: 4096
            }),
            "mine is kept"
        );
        assert_eq!(
            mine.course_vm.disk,
            Some(CourseVm::DEFAULT_DISK),
            "theirs fills the gap"
        );
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(matches!(
            Progress::from_file("not json"),
            Err(ProgressError::NotJson(_))
        ));
        assert_eq!(
            Progress::from_file(r#"{"format":"other","version":1,"completed":[]}"#),
            Err(ProgressError::WrongFormat)
        );
        assert_eq!(
            Progress::from_file(r#"{"format":"labvisor-progress","version":9,"completed":[]}"#),
            Err(ProgressError::UnknownVersion(9))
        );
        assert_eq!(
            Progress::from_file(r#"{"format":"labvisor-progress","version":0,"completed":[]}"#),
            Err(ProgressError::UnknownVersion(0))
        );
        assert_eq!(
            Progress::from_file(
                r#"{"format":"labvisor-progress","version":1,"completed":["<script>"]}"#
            ),
            Err(ProgressError::BadId("<script>".into()))
        );
        let huge_vm = r#"{"format":"labvisor-progress","version":2,"completed":[],
            "course-vm":{"size":{"vcpus":0,"ram-mib":4096}}}"#;
        assert!(matches!(
            Progress::from_file(huge_vm),
            Err(ProgressError::BadCourseVm(why)) if why.contains("0 vCPUs")
        ));
        let huge_disk = r#"{"format":"labvisor-progress","version":2,"completed":[],
            "course-vm":{"disk":{"size":18446744073709551615,"allocation":"fixed"}}}"#;
        assert!(matches!(
            Progress::from_file(huge_disk),
            Err(ProgressError::BadCourseVm(why)) if why.contains("at most 4 TiB")
        ));
        let other_vm = r#"{"format":"labvisor-progress","version":2,"completed":[],
            "course-vm":{"forwards":[{"name":"ssh","proto":"tcp","host-port":2222,"guest-port":22,"vm":"db"}]}}"#;
        assert!(matches!(
            Progress::from_file(other_vm),
            Err(ProgressError::BadCourseVm(why)) if why.contains("\"db\"")
        ));
        let unknown_part = r#"{"format":"labvisor-progress","version":2,"completed":[],
            "course-vm":{"gpu":true}}"#;
        assert!(matches!(
            Progress::from_file(unknown_part),
            Err(ProgressError::NotJson(why)) if why.contains("gpu")
        ));
        let vm_in_v1 = r#"{"format":"labvisor-progress","version":1,"completed":[],
            "course-vm":{"size":{"vcpus":2,"ram-mib":4096}}}"#;
        assert!(Progress::from_file(vm_in_v1).is_err());
    }

    #[test]
    fn exercise_ids_count_from_one() {
        assert_eq!(exercise_activity("nat", 0), "lesson:nat/1");
        assert!(is_activity_id(&exercise_activity("snapshot-vs-backup", 11)));
    }
}
