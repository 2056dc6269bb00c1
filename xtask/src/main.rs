//! `cargo xtask`: the project's tasks, written in Rust so they run the same on every machine.
//!
//! Each task installs what it needs (rustup targets, apt packages, npm tools) idempotently and
//! caches it under `target/`, so a fresh clone needs nothing but Rust.

mod serve;
mod sh;
mod test;
mod web;
mod web_test;

use clap::{Parser, Subcommand};

/// Labvisor's project tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Everything CI checks: fmt, clippy, the test suite and the wasm32 build of the core.
    Test(test::Args),
    /// Builds the browser app as a static site in target/site/ (wasm32, wasm-bindgen, wasm-opt).
    BuildWeb(web::BuildArgs),
    /// Builds the site and serves it on http://127.0.0.1:8080/ for learning locally.
    Serve(serve::Args),
    /// Only the browser tests: component tests and end-to-end tests in headless Chromium.
    TestWeb,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    sh::enter_workspace_root()?;
    match cli.task {
        Task::Test(args) => test::run(args),
        Task::BuildWeb(args) => web::build(&args).map(drop),
        Task::Serve(args) => serve::run(args),
        Task::TestWeb => web_test::run(),
    }
}
