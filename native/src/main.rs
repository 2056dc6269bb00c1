//! `labvisor`: Labvisor's command line. Parsing and dispatch live in [`labvisor::cli`]; this
//! file only turns the outcome into an exit status (0 ok, 1 runtime error, 2 usage error).

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use labvisor::cli::output::to_stderr;

fn main() -> ExitCode {
    // `labvisor net run lab.toml | head` should end quietly, as coreutils do, instead of
    // panicking on the closed pipe in the middle of a table.
    sigpipe::reset();
    let args = match labvisor::cli::Cli::try_parse() {
        Ok(args) => args,
        Err(err) => return report_parse_error(err),
    };
    match labvisor::cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            to_stderr(&format!("labvisor: error: {err}\n"));
            err.exit_code()
        }
    }
}

/// Help and version go to stdout as clap renders them; so does the help shown when a command
/// group is called without its subcommand. Every other parse error becomes one line on stderr,
/// so scripts and learners see exactly which value was wrong, and the exit status is 2.
fn report_parse_error(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Help that cannot be written (`--help >/dev/full`) is a failure, not a success.
            match (err.print(), err.use_stderr()) {
                (_, true) => ExitCode::from(2),
                (Ok(()), false) => ExitCode::SUCCESS,
                (Err(e), false) => {
                    let reason = labvisor::files::os_reason(&e);
                    to_stderr(&format!(
                        "labvisor: error: cannot write to standard output: {reason}\n"
                    ));
                    ExitCode::from(1)
                }
            }
        }
        _ => {
            to_stderr(&format!(
                "labvisor: {}\n",
                one_line(&err.render().to_string())
            ));
            ExitCode::from(2)
        }
    }
}

/// Folds clap's multi-line message (error, details, tips, usage) into one line, dropping the
/// usage block, which `--help` shows better.
fn one_line(rendered: &str) -> String {
    let message = rendered.split("Usage:").next().unwrap_or(rendered);
    let mut parts = Vec::new();
    let lines = message.lines().map(str::trim);
    for line in lines.filter(|l| !l.is_empty() && !l.starts_with("For more information")) {
        match line.strip_prefix("tip: ") {
            Some(tip) => parts.push(format!("({tip})")),
            None => parts.push(line.to_string()),
        }
    }
    let joined = parts.join(" ");
    let message = joined.strip_prefix("error: ").unwrap_or(&joined);
    format!("error: {message} (see --help)")
}
