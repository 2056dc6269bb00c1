//! `labvisor`: Labvisor's command line. Parsing and dispatch live in [`labvisor::cli`]; this
//! file only turns the outcome into an exit status (0 ok, 1 runtime error, 2 usage error).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = labvisor::cli::Cli::parse();
    match labvisor::cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("labvisor: error: {err}");
            err.exit_code()
        }
    }
}
