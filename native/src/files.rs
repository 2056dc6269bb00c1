//! The user's files as the command line meets them: every input file is read through
//! [`read_text`] / [`read_bytes`] (regular files only, never more than a limit suited to its
//! kind), every image is opened through [`open_regular`], and an OS error is worded by
//! [`os_reason`].
//!
//! Why: a FIFO given where a file is expected would block `open` or `read` forever, and
//! `/dev/zero` or an endless pipe on standard input would be read until memory runs out.
//!
//! Must never: print, or decide an exit status (that is the CLI's).

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use labvisor_core::disk::size::ByteSize;

/// The largest scenario file `net run` and `net reach` read.
pub const SCENARIO_LIMIT: u64 = 1 << 20;
/// The largest actions file (JSON, TOML or postcard) `lesson check` reads.
pub const ACTIONS_LIMIT: u64 = 1 << 20;
/// The largest lesson file (`lesson.toml`, `*.md`) `lesson lint` reads.
pub const LESSON_FILE_LIMIT: u64 = 1 << 20;
/// The largest progress file `lesson check` reads (a whole course's is a few KiB).
pub const PROGRESS_LIMIT: u64 = 1 << 20;

/// Where Labvisor keeps what it makes for the user (SSH host keys, the progress file):
/// `$XDG_DATA_HOME/labvisor` when that is an absolute path, else `~/.local/share/labvisor`;
/// `None` when neither variable says.
pub fn data_dir() -> Option<std::path::PathBuf> {
    let xdg = std::env::var_os("XDG_DATA_HOME").filter(|d| Path::new(d).is_absolute());
    let base = match (xdg, std::env::var_os("HOME")) {
        (Some(xdg), _) => std::path::PathBuf::from(xdg),
        (None, Some(home)) => Path::new(&home).join(".local/share"),
        (None, None) => return None,
    };
    Some(base.join("labvisor"))
}

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The OS refused (missing file, no permission…).
    #[error("cannot read {what} {path}: {reason}")]
    Io {
        /// The file as the user named it.
        path: String,
        /// What kind of file was expected ("scenario file", "actions file"…).
        what: &'static str,
        /// What the OS said.
        reason: String,
    },
    /// A directory, FIFO, device or socket where a file was expected.
    #[error("{path} is {kind}; the {what} must be a regular file")]
    NotAFile {
        /// The file as the user named it.
        path: String,
        /// What was expected.
        what: &'static str,
        /// What it is instead ("a named pipe (FIFO)").
        kind: &'static str,
    },
    /// Longer than the limit for its kind.
    #[error("{path} is larger than {limit}: {what}s are at most {limit} (is it the right file?)")]
    TooLarge {
        /// The file as the user named it.
        path: String,
        /// What was expected.
        what: &'static str,
        /// The limit, as a size ("1M").
        limit: ByteSize,
    },
    /// Not UTF-8 where text is expected.
    #[error("{path}:{line}: the {what} is not UTF-8 text (invalid byte at offset {offset})")]
    NotText {
        /// The file as the user named it.
        path: String,
        /// What was expected.
        what: &'static str,
        /// 1-based line of the invalid byte.
        line: usize,
        /// Byte offset of the invalid byte.
        offset: usize,
    },
}

/// Names what a non-regular file is, for an error.
pub fn kind_of(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// Opens `path` if, and only if, it is a regular file, without ever blocking: the type is
/// checked before opening (a FIFO's `open` waits for a writer) and again on the open file
/// (in case the path was swapped in between). A refused file gives an
/// [`io::ErrorKind::InvalidInput`] error that says what it is.
pub fn open_regular(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let not_a_file = |kind: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file but {kind}"),
        )
    };
    if let Some(kind) = std::fs::metadata(path).ok().as_ref().and_then(kind_of) {
        return Err(not_a_file(kind));
    }
    let nonblock = rustix::fs::OFlags::NONBLOCK.bits() as i32;
    let file = options.custom_flags(nonblock).open(path)?;
    if let Some(kind) = kind_of(&file.metadata()?) {
        return Err(not_a_file(kind));
    }
    Ok(file)
}

/// Reads the whole of `path`, a regular file of at most `limit` bytes; `what` names its kind
/// in errors ("scenario file"). `-` reads standard input, with the same limit.
pub fn read_bytes(path: &Path, what: &'static str, limit: u64) -> Result<Vec<u8>, InputError> {
    let name = path.display().to_string();
    let io_error = |e: io::Error| match e.kind() {
        io::ErrorKind::InvalidInput => InputError::NotAFile {
            path: name.clone(),
            what,
            kind: std::fs::metadata(path)
                .ok()
                .as_ref()
                .and_then(kind_of)
                .unwrap_or("not a regular file"),
        },
        _ => InputError::Io {
            path: name.clone(),
            what,
            reason: os_reason(&e),
        },
    };
    let too_large = || InputError::TooLarge {
        path: name.clone(),
        what,
        limit: ByteSize(limit),
    };
    let mut buf = Vec::new();
    if name == "-" {
        let name = "standard input".to_string();
        io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| InputError::Io {
                path: name.clone(),
                what,
                reason: os_reason(&e),
            })?;
        if buf.len() as u64 > limit {
            return Err(InputError::TooLarge {
                path: name,
                what,
                limit: ByteSize(limit),
            });
        }
        return Ok(buf);
    }
    let file = open_regular(path, OpenOptions::new().read(true)).map_err(io_error)?;
    if file.metadata().map_err(io_error)?.len() > limit {
        return Err(too_large());
    }
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(io_error)?;
    if buf.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(buf)
}

/// [`read_bytes`], then the bytes as UTF-8 text; an invalid byte is reported with its line.
pub fn read_text(path: &Path, what: &'static str, limit: u64) -> Result<String, InputError> {
    let bytes = read_bytes(path, what, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        InputError::NotText {
            path: if path.as_os_str() == "-" {
                "standard input".to_string()
            } else {
                path.display().to_string()
            },
            what,
            line,
            offset,
        }
    })
}

/// What the OS said, without Rust's " (os error N)" suffix: "No space left on device".
pub fn os_reason(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_reason_drops_the_error_number() {
        let err = io::Error::from_raw_os_error(28);
        assert_eq!(os_reason(&err), "No space left on device");
        let custom = io::Error::other("too big (it is)");
        assert_eq!(os_reason(&custom), "too big (it is)");
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lab.toml");
        std::fs::write(&file, "12345").unwrap();
        assert_eq!(read_text(&file, "scenario file", 5).unwrap(), "12345");
        let err = read_text(&file, "scenario file", 4)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with(
                "is larger than 4 B: scenario files are at most 4 B (is it the right file?)"
            ),
            "{err}"
        );
        let err = read_bytes(Path::new("/dev/zero"), "scenario file", 4).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "/dev/zero is a character device; the scenario file must be a regular file"
            ),
            "{err}"
        );
        let err = read_bytes(dir.path(), "scenario file", 4)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is a directory; the scenario file must be a regular file"),
            "{err}"
        );
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .unwrap();
        let err = read_bytes(&fifo, "scenario file", 4)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is a named pipe (FIFO); the scenario file must be a regular file"),
            "{err}"
        );
        std::fs::write(&file, b"ok\n\xff").unwrap();
        let err = read_text(&file, "scenario file", 10)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with(
                "lab.toml:2: the scenario file is not UTF-8 text (invalid byte at offset 3)"
            ),
            "{err}"
        );
    }
}
