//! `cargo xtask build-web`: the browser app as a static site in `target/site/`.
//!
//! The pipeline is the one every wasm-bindgen app uses, made reproducible:
//!
//! 1. `cargo build --profile web --target wasm32-unknown-unknown -p labvisor-web` (the `web`
//!    profile optimizes for size);
//! 2. `wasm-bindgen --target web`, with the CLI pinned to exactly the `wasm-bindgen` version in
//!    `Cargo.lock` (the CLI refuses a library of another version), installed under
//!    `target/tools/` when missing;
//! 3. `wasm-opt -Oz` from the npm package `binaryen` (installed under `target/tools/npm/`),
//!    skipped with a warning when npm is unavailable: the site still works, only larger;
//! 4. the static files of `www/` copied beside the generated `pkg/`, with the lesson list
//!    written into `index.html` so the first paint shows it before the wasm arrives;
//! 5. a `.gz` and a `.br` beside every text and wasm file, so `cargo xtask serve` and any static
//!    host that honours precompressed files send the smaller one the browser accepts.
//!
//! Every step is cached under `target/`, so a second run only redoes what changed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::sh::{self, cargo};

/// The npm package that provides a `wasm-opt` new enough for current rustc output
/// (Debian's binaryen 108 cannot read it).
const BINARYEN_NPM: &str = "binaryen@132.0.0";
/// The wasm target and the crate built for it.
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const WEB_CRATE: &str = "labvisor-web";
/// The file stem wasm-bindgen gives the generated JS and wasm.
const OUT_NAME: &str = "labvisor_web";
/// The cargo profile of the browser build (in the workspace `Cargo.toml`: size over speed).
const WEB_PROFILE: &str = "web";

/// Options of `cargo xtask build-web`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Skip `wasm-opt` even when it is available (faster builds while iterating).
    #[arg(long)]
    pub no_opt: bool,
}

/// Where the tools and outputs live, all under `target/`.
pub struct Paths {
    pub tools: PathBuf,
    pub npm: PathBuf,
    pub staging: PathBuf,
    pub site: PathBuf,
}

impl Paths {
    pub fn new() -> Paths {
        let target = target_dir();
        Paths {
            tools: target.join("tools"),
            npm: target.join("tools").join("npm"),
            staging: target.join("web-bindgen"),
            site: target.join("site"),
        }
    }
}

/// The cargo target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Builds the site and returns the directory it is in.
pub fn build(args: &BuildArgs) -> Result<PathBuf> {
    let paths = Paths::new();
    sh::ensure_rust_target(WASM_TARGET)?;
    sh::run(cargo().args([
        "build",
        "--profile",
        WEB_PROFILE,
        "--lib",
        "-p",
        WEB_CRATE,
        "--target",
        WASM_TARGET,
    ]))?;
    let raw_wasm = target_dir()
        .join(WASM_TARGET)
        .join(WEB_PROFILE)
        .join(format!("{OUT_NAME}.wasm"));

    let bindgen = ensure_wasm_bindgen(&paths)?;
    fs::create_dir_all(&paths.staging)?;
    sh::run(
        Command::new(&bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                OUT_NAME,
                "--out-dir",
            ])
            .arg(&paths.staging)
            .arg(&raw_wasm),
    )?;

    let pkg = paths.site.join("pkg");
    fs::create_dir_all(&pkg)?;
    let bound_wasm = paths.staging.join(format!("{OUT_NAME}_bg.wasm"));
    let site_wasm = pkg.join(format!("{OUT_NAME}_bg.wasm"));
    let opt = if args.no_opt {
        None
    } else {
        ensure_wasm_opt(&paths)
    };
    // wasm-opt takes tens of seconds: redo it only when wasm-bindgen's output changed.
    let bound = fs::read(&bound_wasm)?;
    let stamp = format!(
        "wasm-opt -Oz --converge --zero-filled-memory --low-memory-unused {:016x}\n",
        fingerprint(&bound)
    );
    let marker = optimized_marker(&pkg);
    match opt {
        Some(_)
            if site_wasm.exists() && fs::read_to_string(&marker).ok() == Some(stamp.clone()) =>
        {
            eprintln!("build-web: wasm-opt output is up to date");
        }
        Some(wasm_opt) => {
            sh::run(
                Command::new(wasm_opt)
                    .args([
                        "-Oz",
                        // Run the passes again while they still shrink the module (~0.4 %).
                        "--converge",
                        // The module's own memory starts zeroed (wasm-bindgen exports it, never
                        // imports it), and rustc puts the 1 MiB stack first, growing down to 0,
                        // so the low 1 KiB holds no data and is reached only by a stack about to
                        // overflow: wasm-opt may drop zero data and fold constant addresses
                        // (together ~0.6 %).
                        "--zero-filled-memory",
                        "--low-memory-unused",
                        "--enable-bulk-memory",
                        "--enable-nontrapping-float-to-int",
                        "--enable-sign-ext",
                        "--enable-mutable-globals",
                        "--enable-reference-types",
                        "--enable-multivalue",
                        "-o",
                    ])
                    .arg(&site_wasm)
                    .arg(&bound_wasm),
            )?;
            fs::write(&marker, stamp)?;
        }
        None => {
            fs::write(&site_wasm, &bound)?;
            let _ = fs::remove_file(&marker);
        }
    }
    fs::copy(
        paths.staging.join(format!("{OUT_NAME}.js")),
        pkg.join(format!("{OUT_NAME}.js")),
    )?;
    copy_dir(Path::new("www"), &paths.site)?;
    let index = paths.site.join("index.html");
    let shell = fs::read_to_string(&index).context("www/index.html")?;
    fs::write(&index, with_lesson_list(&shell)?)?;
    precompress(&paths.site)?;

    let wasm = fs::read(&site_wasm)?;
    let gz = gzip_len(&wasm)?;
    let br = fs::metadata(compressed_path(&site_wasm, Encoding::Brotli))?.len();
    let js = fs::read(pkg.join(format!("{OUT_NAME}.js")))?;
    println!(
        "build-web: site in {}; wasm {:.1} KiB, {:.1} KiB gzip (budget 300 KiB), {:.1} KiB brotli; JS glue {:.1} KiB gzip{}",
        paths.site.display(),
        wasm.len() as f64 / 1024.0,
        gz as f64 / 1024.0,
        br as f64 / 1024.0,
        gzip_len(&js)? as f64 / 1024.0,
        if optimized_marker(&pkg).exists() { "" } else { " (not optimized by wasm-opt)" },
    );
    Ok(paths.site)
}

fn optimized_marker(pkg: &Path) -> PathBuf {
    pkg.join(".wasm-opt")
}

/// The `wasm-bindgen` version `Cargo.lock` resolved: the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = fs::read_to_string("Cargo.lock").context("cannot read Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
            {
                return Ok(version.to_string());
            }
        }
    }
    bail!("Cargo.lock has no `wasm-bindgen` package: is labvisor-web a workspace member?")
}

/// Installs `wasm-bindgen-cli` at the locked version under `target/tools/` unless it is there;
/// returns the path of `wasm-bindgen` (the test runner sits beside it).
pub fn ensure_wasm_bindgen(paths: &Paths) -> Result<PathBuf> {
    let version = locked_wasm_bindgen_version()?;
    let bin = paths.tools.join("bin").join("wasm-bindgen");
    let installed = sh::output(Command::new(&bin).arg("--version")).unwrap_or_default();
    if installed.split_whitespace().nth(1) == Some(version.as_str()) {
        return Ok(bin);
    }
    eprintln!("build-web: installing wasm-bindgen-cli {version} (once, about 3 minutes)");
    // Not `--locked`: the CLI's lockfile pins a version this registry does not carry.
    sh::run(
        cargo()
            .args([
                "install",
                "wasm-bindgen-cli",
                "--version",
                &version,
                "--force",
                "--root",
            ])
            .arg(&paths.tools),
    )?;
    Ok(bin)
}

/// Installs the npm `binaryen` package under `target/tools/npm/` unless it is there; `None`
/// (with a warning) when npm is missing or the install fails.
pub fn ensure_wasm_opt(paths: &Paths) -> Option<PathBuf> {
    let bin = paths.npm.join("node_modules").join(".bin").join("wasm-opt");
    if bin.exists() {
        return Some(bin);
    }
    match npm_install(paths, &[BINARYEN_NPM]) {
        Ok(()) if bin.exists() => Some(bin),
        Ok(()) => {
            eprintln!(
                "build-web: warning: npm installed {BINARYEN_NPM} but no wasm-opt; skipping it"
            );
            None
        }
        Err(e) => {
            eprintln!("build-web: warning: no wasm-opt ({e:#}); the site works, only larger");
            None
        }
    }
}

/// `npm install` of pinned packages into `target/tools/npm/` (kept out of the source tree).
pub fn npm_install(paths: &Paths, packages: &[&str]) -> Result<()> {
    fs::create_dir_all(&paths.npm)?;
    let manifest = paths.npm.join("package.json");
    if !manifest.exists() {
        fs::write(
            &manifest,
            "{\"name\":\"labvisor-tools\",\"private\":true}\n",
        )?;
    }
    sh::run(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&paths.npm)
            .args(packages),
    )
}

/// A cache key for file contents (FNV-1a; not a security boundary).
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Copies the files of `from` into `to`, recursively, overwriting.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let dst = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dst)?;
        } else {
            fs::copy(entry.path(), &dst).with_context(|| {
                format!(
                    "cannot copy {} to {}",
                    entry.path().display(),
                    dst.display()
                )
            })?;
        }
    }
    Ok(())
}

/// The size of `bytes` compressed as a static host would serve them (gzip, level 9).
pub fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len())
}

/// Where `www/index.html` wants the lesson list.
const LESSON_LIST_MARKER: &str = "<!-- lesson list -->";

/// `index_html` with the curriculum's lessons in place of [`LESSON_LIST_MARKER`]: each a link to
/// its route (`#/lesson/<id>`, as the app's router writes it) titled in both languages, marked up
/// like the app's home page so the page does not move when the app replaces it.
pub fn with_lesson_list(index_html: &str) -> Result<String> {
    if !index_html.contains(LESSON_LIST_MARKER) {
        bail!("www/index.html has no {LESSON_LIST_MARKER} for the static lesson list");
    }
    let curriculum = labvisor_lessons::curriculum().map_err(|problems| {
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("the lessons do not load:\n{}", listed.join("\n"))
    })?;
    let mut items = String::new();
    for lesson in &curriculum.lessons {
        items.push_str(&format!(
            "            <li><a class=\"lv-lesson-link\" href=\"#/lesson/{id}\"><span class=\"lv-lesson-num\" aria-hidden=\"true\">{number}</span><span class=\"lv-lesson-title\"><span>{en}</span><span class=\"lv-static-ko\" lang=\"ko\">{ko}</span></span></a></li>\n",
            id = escape_html(&lesson.id),
            number = lesson.number,
            en = escape_html(&lesson.title.en),
            ko = escape_html(&lesson.title.ko),
        ));
    }
    Ok(index_html.replacen(LESSON_LIST_MARKER, items.trim_end(), 1))
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A `Content-Encoding` the build writes files in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Gzip,
    Brotli,
}

impl Encoding {
    /// Best first: brotli is smaller than gzip on this site's wasm and text.
    pub const PREFERENCE: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// The `Content-Encoding` / `Accept-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Encoding::Gzip => "gz",
            Encoding::Brotli => "br",
        }
    }

    fn compress(self, bytes: &[u8]) -> Result<Vec<u8>> {
        match self {
            Encoding::Gzip => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                enc.write_all(bytes)?;
                Ok(enc.finish()?)
            }
            Encoding::Brotli => {
                let mut out = Vec::new();
                let params = brotli::enc::BrotliEncoderParams {
                    quality: 11,
                    lgwin: 22,
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
                Ok(out)
            }
        }
    }
}

/// `file` with the encoding's extension added: `a_bg.wasm` → `a_bg.wasm.br`.
pub fn compressed_path(file: &Path, encoding: Encoding) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(encoding.extension());
    PathBuf::from(name)
}

/// Whether a file is worth compressing: text and wasm (images such as PNG are compressed already).
pub fn is_compressible(file: &Path) -> bool {
    matches!(
        file.extension().and_then(|e| e.to_str()),
        Some("html" | "js" | "mjs" | "css" | "wasm" | "svg" | "json" | "txt")
    )
}

/// Writes `.gz` and `.br` beside every compressible file under `dir` whose compressed copies are
/// missing or older than it (brotli at quality 11 takes seconds on the wasm).
fn precompress(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            precompress(&path)?;
            continue;
        }
        if !is_compressible(&path) {
            continue;
        }
        let modified = fs::metadata(&path)?.modified()?;
        let mut bytes = None;
        for encoding in Encoding::PREFERENCE {
            let out = compressed_path(&path, encoding);
            let fresh = fs::metadata(&out)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= modified);
            if fresh {
                continue;
            }
            let bytes = match &bytes {
                Some(b) => b,
                None => bytes.insert(fs::read(&path)?),
            };
            fs::write(&out, encoding.compress(bytes)?)
                .with_context(|| format!("cannot write {}", out.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_shell_lists_every_lesson_with_both_titles_and_its_route() {
        let html = with_lesson_list("<ol>\n<!-- lesson list -->\n</ol>").unwrap();
        let curriculum = labvisor_lessons::curriculum().unwrap();
        assert!(!curriculum.lessons.is_empty());
        for lesson in &curriculum.lessons {
            assert!(html.contains(&format!("href=\"#/lesson/{}\"", lesson.id)));
            assert!(html.contains(&escape_html(&lesson.title.en)));
            assert!(html.contains(&escape_html(&lesson.title.ko)));
        }
        assert!(!html.contains(LESSON_LIST_MARKER));
        assert_eq!(
            html.matches("<li>").count(),
            curriculum.lessons.len(),
            "one item per lesson"
        );
    }

    #[test]
    fn a_shell_without_the_marker_is_refused() {
        let err = with_lesson_list("<ol></ol>").unwrap_err();
        assert!(err.to_string().contains(LESSON_LIST_MARKER));
    }

    #[test]
    fn titles_are_escaped() {
        assert_eq!(
            escape_html("<a & \"b\">'"),
            "&lt;a &amp; &quot;b&quot;&gt;&#39;"
        );
    }

    #[test]
    fn precompressed_copies_decompress_to_the_original() {
        let dir = std::env::temp_dir().join(format!("labvisor-precompress-{}", std::process::id()));
        fs::create_dir_all(dir.join("pkg")).unwrap();
        let text = "Labvisor 레슨 ".repeat(500);
        fs::write(dir.join("pkg").join("a.js"), &text).unwrap();
        fs::write(dir.join("image.png"), [0u8; 64]).unwrap();
        precompress(&dir).unwrap();

        let js = dir.join("pkg").join("a.js");
        let mut gunzipped = String::new();
        flate2::read::GzDecoder::new(&fs::read(compressed_path(&js, Encoding::Gzip)).unwrap()[..])
            .read_to_string(&mut gunzipped)
            .unwrap();
        assert_eq!(gunzipped, text);
        let mut unbrotlied = Vec::new();
        brotli::BrotliDecompress(
            &mut &fs::read(compressed_path(&js, Encoding::Brotli)).unwrap()[..],
            &mut unbrotlied,
        )
        .unwrap();
        assert_eq!(unbrotlied, text.as_bytes());
        assert!(
            fs::metadata(compressed_path(&js, Encoding::Brotli))
                .unwrap()
                .len()
                < 200
        );
        assert!(!compressed_path(&dir.join("image.png"), Encoding::Gzip).exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
