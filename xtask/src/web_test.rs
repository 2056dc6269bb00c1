//! The browser tests of `cargo xtask test`, in headless Chromium:
//!
//! 1. component tests: `wasm-bindgen-test` in `web/tests/`, run by `wasm-bindgen-test-runner`
//!    (it comes with the pinned wasm-bindgen CLI) through ChromeDriver;
//! 2. end-to-end tests: `tests/e2e/e2e.cjs` drives the built site as a learner would, with
//!    Playwright (the npm package `playwright-core`, using Debian's Chromium: nothing is
//!    downloaded), and saves screenshots in `target/e2e/`.
//!
//! Chromium and ChromeDriver come from apt when missing. Where a browser cannot be had, each
//! part prints `SKIP: <reason>` and the rest of `cargo xtask test` goes on.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::serve::StaticServer;
use crate::sh::{self, cargo};
use crate::web::{self, Paths};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Pinned so every run drives Chromium through the same protocol client.
const PLAYWRIGHT_NPM: &str = "playwright-core@1.65.1";
/// The accessibility rules engine the end-to-end run injects into each page (WCAG A/AA checks).
const AXE_NPM: &str = "axe-core@4.14.1";
/// Chromium flags for a closed network: without the background-networking ones it keeps
/// trying to reach its update and sync servers.
pub const CHROMIUM_FLAGS: [&str; 7] = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// Runs the component and end-to-end tests in headless Chromium.
pub fn run() -> Result<()> {
    if let Err(reason) = ensure_chromium() {
        println!("SKIP: browser tests: {reason}");
        return Ok(());
    }
    let paths = Paths::new();
    component_tests(&paths)?;
    end_to_end(&paths)
}

/// Installs Chromium and ChromeDriver with apt when either is missing.
fn ensure_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    if which("apt-get").is_none() {
        return Err("no Chromium and no apt-get to install it".into());
    }
    let install = || -> Result<()> {
        sh::run(Command::new("apt-get").args(["update", "-q"]))?;
        // fonts-nanum: Hangul glyphs for the Korean screenshots.
        sh::run(Command::new("apt-get").args([
            "install",
            "-y",
            "-q",
            "chromium",
            "chromium-driver",
            "fonts-nanum",
        ]))
    };
    install().map_err(|e| format!("cannot install chromium with apt: {e:#}"))?;
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        Ok(())
    } else {
        Err(format!(
            "apt installed chromium but {CHROMIUM} or {CHROMEDRIVER} is missing"
        ))
    }
}

/// `cargo test -p labvisor-web --target wasm32-unknown-unknown`, run in Chromium.
fn component_tests(paths: &Paths) -> Result<()> {
    sh::ensure_rust_target("wasm32-unknown-unknown")?;
    let bindgen = web::ensure_wasm_bindgen(paths)?;
    let runner = fs::canonicalize(bindgen.with_file_name("wasm-bindgen-test-runner"))?;
    // Extra capabilities for the runner's ChromeDriver session (it adds headless and
    // no-sandbox itself).
    let caps = web::target_dir().join("web-test").join("webdriver.json");
    fs::create_dir_all(caps.parent().unwrap_or(Path::new(".")))?;
    let args: Vec<String> = CHROMIUM_FLAGS
        .iter()
        .map(|f| format!("\"{}\"", &f[2..]))
        .collect();
    fs::write(
        &caps,
        format!(
            "{{\"goog:chromeOptions\": {{\"binary\": \"{CHROMIUM}\", \"args\": [{}]}}}}\n",
            args.join(", ")
        ),
    )?;
    sh::run(
        cargo()
            .args([
                "test",
                "-p",
                "labvisor-web",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
            .env("CHROMEDRIVER", CHROMEDRIVER)
            .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", fs::canonicalize(&caps)?)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
    )
}

/// Builds the site, serves it on a free loopback port and runs `tests/e2e/e2e.cjs` on it.
fn end_to_end(paths: &Paths) -> Result<()> {
    if which("node").is_none() || which("npm").is_none() {
        println!(
            "SKIP: end-to-end tests: Node.js and npm are needed to drive Chromium with Playwright"
        );
        return Ok(());
    }
    let playwright = paths.npm.join("node_modules").join("playwright-core");
    let axe = paths
        .npm
        .join("node_modules")
        .join("axe-core")
        .join("axe.min.js");
    // One npm run installs whatever is missing; without axe-core the accessibility scenario
    // prints SKIP, without playwright-core nothing can run.
    if !playwright.join("package.json").exists() || !axe.exists() {
        if let Err(e) = web::npm_install(paths, &[PLAYWRIGHT_NPM, AXE_NPM]) {
            if !playwright.join("package.json").exists() {
                println!("SKIP: end-to-end tests: cannot install {PLAYWRIGHT_NPM}: {e:#}");
                return Ok(());
            }
            println!("SKIP: accessibility checks: cannot install {AXE_NPM}: {e:#}");
        }
    }
    let site = web::build(&web::BuildArgs { no_opt: false })?;
    let addr = StaticServer::bind(site, 0)?.spawn();
    let out = web::target_dir().join("e2e");
    fs::create_dir_all(&out)?;
    sh::run(
        Command::new("node")
            .arg("tests/e2e/e2e.cjs")
            .env("LABVISOR_URL", format!("http://{addr}/"))
            .env("LABVISOR_OUT", fs::canonicalize(&out)?)
            .env("LABVISOR_PLAYWRIGHT", fs::canonicalize(&playwright)?)
            .env("LABVISOR_AXE", fs::canonicalize(&axe).unwrap_or_default())
            .env("LABVISOR_CHROMIUM", CHROMIUM)
            .env("LABVISOR_CHROMIUM_FLAGS", CHROMIUM_FLAGS.join(" ")),
    )
    .context("end-to-end tests failed (screenshots in target/e2e/)")
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}
