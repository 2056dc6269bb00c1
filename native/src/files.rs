//! The user's files as the command line meets them: how an OS error is worded for a learner.
//!
//! Must never: print, or decide an exit status (that is the CLI's).

use std::io;

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
}
