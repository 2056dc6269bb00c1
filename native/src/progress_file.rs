//! The learner's progress file on this machine, where `labvisor lesson check` keeps the course
//! VM (`labvisor_lessons::course_vm`) and the exercises that continue it: the same file the
//! browser exports, so it moves between the two.
//!
//! Where it is: `--progress FILE`, else `$LABVISOR_PROGRESS`, else
//! `$XDG_DATA_HOME/labvisor/progress.json` (`~/.local/share/labvisor/progress.json`). Reading it:
//! a missing file is no progress yet; a bad or foreign one is an error naming the path, and is
//! never written over. Writing it: the whole file into a temporary file beside it, renamed over
//! it, so a crash leaves the old file or the new one, never half of one.
//!
//! Must never: print, or decide an exit status (that is the CLI's).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use labvisor_lessons::progress::{Progress, ProgressError};

use crate::files::{self, InputError};

/// The file's name in the data directory.
const FILE_NAME: &str = "progress.json";

/// Why the progress file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProgressFileError {
    /// Neither `--progress`, `$LABVISOR_PROGRESS`, `$XDG_DATA_HOME` nor `$HOME` says where.
    #[error("cannot tell where the progress file is: $XDG_DATA_HOME and $HOME are unset; give --progress FILE, or --fresh to start from the default VM without one")]
    Nowhere,
    /// The file could not be read (no permission, not a regular file, too large, not text).
    #[error("{0}")]
    Read(#[from] InputError),
    /// It reads, but is not a progress file this build accepts.
    #[error("{path}: {error}; it was left as it is: fix or move it, give another file with --progress FILE, or use --fresh to start from the default VM without one")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong with it.
        error: ProgressError,
    },
    /// Writing it failed.
    #[error("cannot save the progress file {path}: {reason}")]
    Write {
        /// The file.
        path: String,
        /// What the OS said.
        reason: String,
    },
}

/// The progress file to use: `given` (from `--progress` or `$LABVISOR_PROGRESS`), else the one
/// in the data directory.
pub fn locate(given: Option<&Path>) -> Result<PathBuf, ProgressFileError> {
    match given {
        Some(path) => Ok(path.to_path_buf()),
        None => files::data_dir()
            .map(|dir| dir.join(FILE_NAME))
            .ok_or(ProgressFileError::Nowhere),
    }
}

/// Reads the progress at `path`; no file there is no progress yet.
pub fn read(path: &Path) -> Result<Progress, ProgressFileError> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Progress::default()),
        _ => {}
    }
    let text = files::read_text(path, "progress file", files::PROGRESS_LIMIT)?;
    Progress::from_file(&text).map_err(|error| ProgressFileError::Invalid {
        path: path.display().to_string(),
        error,
    })
}

/// Writes `progress` to `path` whole, making its directory if needed.
pub fn write(path: &Path, progress: &Progress) -> Result<(), ProgressFileError> {
    let failed = |e: io::Error| ProgressFileError::Write {
        path: path.display().to_string(),
        reason: files::os_reason(&e),
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(failed)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| FILE_NAME.to_string());
    let partial = dir.join(format!(".{name}.{}", std::process::id()));
    let mut text = progress.to_file();
    text.push('\n');
    let written = fs::File::create(&partial)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&partial, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&partial);
        return Err(failed(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("labvisor-progress-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_missing_file_is_no_progress_and_a_written_one_reads_back() {
        let dir = temp_dir("round-trip");
        let path = dir.join("sub/progress.json");
        assert_eq!(read(&path).unwrap(), Progress::default());
        let mut progress = Progress::default();
        progress.complete("lesson:host-sizing/4");
        write(&path, &progress).unwrap();
        assert_eq!(read(&path).unwrap(), progress);
        let left: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_foreign_file_is_an_error_with_its_path_and_stays_as_it_was() {
        let dir = temp_dir("foreign");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("progress.json");
        fs::write(&path, "{\"format\": \"something-else\"}").unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(err.contains("left as it is"), "{err}");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "{\"format\": \"something-else\"}"
        );
        let not_a_file = read(&dir).unwrap_err().to_string();
        assert!(
            not_a_file.contains("must be a regular file"),
            "{not_a_file}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
