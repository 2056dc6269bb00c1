//! The `labvisor` subcommands, one module each, and what they share: the global options, the
//! error type with its exit codes, and output helpers for aligned tables and `--json`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use labvisor_core::lang::Lang;

pub mod disk;
pub mod doctor;
pub mod host;
pub mod hypervisor;
pub mod ip;
pub mod lesson;
pub mod net;
pub mod output;
pub mod port;
#[cfg(target_os = "linux")]
pub mod vm;
pub mod vm_net;
pub mod vm_ssh;

/// Labvisor: learn virtualization and networking by running it.
///
/// Every command explains what it shows; add `--json` for scripts and `--lang ko` for Korean.
#[derive(Debug, Parser)]
#[command(
    name = "labvisor",
    version,
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand understands.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Print machine-readable JSON instead of tables and prose.
    #[arg(long, global = true)]
    pub json: bool,
    /// Language of explanations: `en` or `ko` (default: from $LANG).
    #[arg(long, global = true, value_name = "en|ko", value_parser = parse_lang)]
    pub lang: Option<Lang>,
}

impl Global {
    /// The language to explain in: `--lang`, else `$LC_ALL`/`$LANG`, else English.
    pub fn lang(&self) -> Lang {
        self.lang.unwrap_or_else(|| {
            let locale = std::env::var("LC_ALL")
                .ok()
                .filter(|v| !v.is_empty())
                .or_else(|| std::env::var("LANG").ok())
                .unwrap_or_default();
            Lang::from_locale(&locale)
        })
    }
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse::<Lang>().map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The lessons: list, show, grade an attempt, print a solution, check lesson files.
    #[command(subcommand)]
    Lesson(lesson::Args),
    Hypervisor(hypervisor::Args),
    Ip(ip::Args),
    Port(port::Args),
    /// This machine as a home for VMs (host plan: size VMs with a host reserve).
    #[command(subcommand)]
    Host(host::HostCommand),
    /// Network labs: run scenarios, reachability matrices, ready examples.
    Net(net::Args),
    /// Virtual disk images: dynamic vs fixed, compaction, snapshots, backups (VDI and raw).
    Disk(disk::DiskArgs),
    /// Real virtual machines on this host's KVM: `labvisor vm run`.
    #[cfg(target_os = "linux")]
    #[command(subcommand)]
    Vm(vm::VmCommand),
    Doctor(doctor::Args),
}

/// Why a command failed, and so which exit status it ends with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The user asked for something malformed: exit status 2.
    #[error("{0}")]
    Usage(String),
    /// The request was well-formed but could not be carried out: exit status 1.
    #[error("{0}")]
    Runtime(String),
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Runtime(_) => ExitCode::from(1),
        }
    }
}

impl From<crate::files::InputError> for CliError {
    /// A file the OS would not give (missing, no permission) is a runtime error, as before;
    /// a file that is the wrong kind of thing, too large or not text is the user's to fix.
    fn from(e: crate::files::InputError) -> CliError {
        match e {
            crate::files::InputError::Io { .. } => CliError::Runtime(e.to_string()),
            _ => CliError::Usage(e.to_string()),
        }
    }
}

/// Result of a subcommand.
pub type CliResult = Result<ExitCode, CliError>;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> CliResult {
    let Cli { global, command } = cli;
    match command {
        Command::Net(args) => net::run(args, &global),
        Command::Ip(args) => ip::run(args, &global),
        Command::Port(args) => port::run(args, &global),
        Command::Hypervisor(args) => hypervisor::run(args, &global),
        Command::Host(command) => host::run(command, &global),
        Command::Doctor(args) => doctor::run(args, &global),
        #[cfg(target_os = "linux")]
        Command::Vm(cmd) => vm::run(cmd, &global),
        Command::Disk(args) => disk::run(args, &global),
        Command::Lesson(args) => lesson::run(args, &global),
    }
}
