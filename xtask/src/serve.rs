//! `cargo xtask serve`: builds the site and serves it on 127.0.0.1.
//!
//! The site is static files only, so the server is deliberately tiny: `GET`/`HEAD` of files
//! under the site directory, with the right `Content-Type` (browsers compile `.wasm` while it
//! downloads only when it is served as `application/wasm`), and the `.br` or `.gz` copy the
//! build wrote beside a file when the request's `Accept-Encoding` takes it (`Content-Encoding`,
//! `Vary: Accept-Encoding`). It exists for learning on one's own machine and for the browser
//! tests, not for production hosting.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::thread;

use anyhow::{Context, Result};

use crate::web::{self, Encoding};

/// Options of `cargo xtask serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    #[command(flatten)]
    pub build: web::BuildArgs,
}

/// Builds the site, then serves it until interrupted.
pub fn run(args: Args) -> Result<()> {
    let site = web::build(&args.build)?;
    let server = StaticServer::bind(site, args.port)?;
    println!("Labvisor is at http://{}/  (Ctrl-C stops)", server.addr());
    server.serve_forever();
    Ok(())
}

/// A static file server on a loopback port.
pub struct StaticServer {
    listener: TcpListener,
    root: PathBuf,
}

impl StaticServer {
    /// Listens on `127.0.0.1:port`; port 0 picks a free port.
    pub fn bind(root: PathBuf, port: u16) -> Result<StaticServer> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("cannot listen on 127.0.0.1:{port} (in use? try --port 0)"))?;
        Ok(StaticServer { listener, root })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves on a background thread (for tests), which ends with the process.
    pub fn spawn(self) -> SocketAddr {
        let addr = self.addr();
        thread::spawn(move || self.serve_forever());
        addr
    }

    /// Answers connections, one thread each, forever.
    pub fn serve_forever(self) {
        for stream in self.listener.incoming().flatten() {
            let root = self.root.clone();
            thread::spawn(move || {
                let _ = handle(stream, &root);
            });
        }
    }
}

fn handle(stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Of the headers, only Accept-Encoding changes the answer.
    let mut accept_encoding = String::new();
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("accept-encoding") {
                accept_encoding = value.trim().to_string();
            }
        }
        header.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let mut out = stream;
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut out,
            "405 Method Not Allowed",
            "text/plain",
            None,
            b"GET only\n",
            true,
        );
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let Some(file) = resolve(root, path) else {
        return respond(
            &mut out,
            "404 Not Found",
            "text/plain",
            None,
            b"not found\n",
            true,
        );
    };
    let (served, encoding) = choose_encoding(&file, &accept_encoding);
    match fs::read(&served) {
        Ok(body) => respond(
            &mut out,
            "200 OK",
            content_type(&file),
            web::is_compressible(&file).then_some(encoding),
            &body,
            method == "GET",
        ),
        Err(_) => respond(
            &mut out,
            "404 Not Found",
            "text/plain",
            None,
            b"not found\n",
            true,
        ),
    }
}

/// The file to send for `file` and its encoding: the first precompressed copy, in the build's
/// order of preference, that exists and that `accept_encoding` takes; else `file` itself.
fn choose_encoding(file: &Path, accept_encoding: &str) -> (PathBuf, Option<Encoding>) {
    if web::is_compressible(file) {
        for encoding in Encoding::PREFERENCE {
            let copy = web::compressed_path(file, encoding);
            if accepts(accept_encoding, encoding.token()) && copy.is_file() {
                return (copy, Some(encoding));
            }
        }
    }
    (file.to_path_buf(), None)
}

/// Whether an `Accept-Encoding` value (RFC 9110 §12.5.3) takes `coding`: listed by name or as
/// `*`, with a quality above zero (`br;q=0` refuses it).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let mut wildcard = false;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return quality > 0.0;
        }
        if name == "*" {
            wildcard = quality > 0.0;
        }
    }
    wildcard
}

/// Maps a URL path to a file under `root`, refusing anything that would leave it.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let mut file = root.to_path_buf();
    for component in Path::new(decoded.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn respond(
    out: &mut TcpStream,
    status: &str,
    content_type: &str,
    negotiated: Option<Option<Encoding>>,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    // `negotiated` is `Some` for a file that may come in several encodings: caches must key on
    // Accept-Encoding, and say which one this is.
    let encoding_headers = match negotiated {
        Some(Some(encoding)) => format!(
            "Content-Encoding: {}\r\nVary: Accept-Encoding\r\n",
            encoding.token()
        ),
        Some(None) => "Vary: Accept-Encoding\r\n".to_string(),
        None => String::new(),
    };
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         {encoding_headers}Cache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if with_body {
        out.write_all(body)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_refuses_paths_that_leave_the_root() {
        let root = std::env::temp_dir().join(format!("labvisor-serve-{}", std::process::id()));
        fs::create_dir_all(root.join("pkg")).unwrap();
        fs::write(root.join("index.html"), "x").unwrap();
        fs::write(root.join("pkg").join("a b.js"), "x").unwrap();
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/pkg/a%20b.js"),
            Some(root.join("pkg").join("a b.js"))
        );
        assert_eq!(resolve(&root, "/../etc/passwd"), None);
        assert_eq!(resolve(&root, "/pkg/%2e%2e/%2e%2e/x"), None);
        assert_eq!(resolve(&root, "/missing"), None);
        assert_eq!(resolve(&root, "/%zz"), None);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn accept_encoding_is_read_with_its_qualities() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip, deflate, br, zstd", "gzip"));
        assert!(!accepts("gzip, deflate", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(accepts("br;q=0.5", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*;q=0", "gzip"));
        assert!(!accepts("identity", "gzip"));
        assert!(!accepts("", "gzip"));
    }

    #[test]
    fn the_best_accepted_precompressed_copy_is_served() {
        let root = std::env::temp_dir().join(format!("labvisor-encode-{}", std::process::id()));
        fs::create_dir_all(&root).unwrap();
        let wasm = root.join("a.wasm");
        fs::write(&wasm, "raw").unwrap();
        fs::write(root.join("a.wasm.gz"), "gz").unwrap();
        fs::write(root.join("a.wasm.br"), "br").unwrap();
        let png = root.join("a.png");
        fs::write(&png, "png").unwrap();
        assert_eq!(
            choose_encoding(&wasm, "gzip, br"),
            (root.join("a.wasm.br"), Some(Encoding::Brotli))
        );
        assert_eq!(
            choose_encoding(&wasm, "gzip"),
            (root.join("a.wasm.gz"), Some(Encoding::Gzip))
        );
        assert_eq!(choose_encoding(&wasm, ""), (wasm.clone(), None));
        fs::remove_file(root.join("a.wasm.br")).unwrap();
        assert_eq!(
            choose_encoding(&wasm, "br, gzip"),
            (root.join("a.wasm.gz"), Some(Encoding::Gzip))
        );
        assert_eq!(choose_encoding(&png, "br"), (png.clone(), None));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn wasm_is_served_as_application_wasm() {
        assert_eq!(content_type(Path::new("x/a_bg.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
    }
}
