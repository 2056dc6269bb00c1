//! The app: its state ([`state`]: one reducer, its actions, the hooks pages use) and its shell
//! ([`shell`]: routing, language, notices and the frame around every page).

mod shell;
mod state;

pub use shell::{Shell, ShellProps};
pub use state::*;
