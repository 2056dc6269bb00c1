//! What `get` parses: the URL a user types and the HTTP/1.x response a server sends. Both
//! come from outside the guest, so every step is bounded and nothing here can panic: lengths
//! are checked before slicing, numbers are parsed with overflow checks, and a response that
//! is not HTTP is an error, not a guess.

use alloc::vec::Vec;

/// Longest URL `get` accepts.
pub const MAX_URL: usize = 2048;
/// Most bytes of status line and headers read before giving up on finding their end.
pub const MAX_HEAD: usize = 16 * 1024;

/// An `http://HOST[:PORT][/PATH]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url<'a> {
    pub host: &'a str,
    pub port: u16,
    /// Starts with `/`.
    pub path: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    TooLong,
    Https,
    NotHttp,
    EmptyHost,
    BadHost,
    BadPort,
    BadPath,
}

impl UrlError {
    pub fn describe(self) -> &'static str {
        match self {
            UrlError::TooLong => "the URL is longer than 2048 bytes",
            UrlError::Https => "https:// needs TLS, which this guest does not have; use http://",
            UrlError::NotHttp => "the URL must start with http:// (e.g. http://10.0.2.2:8000/)",
            UrlError::EmptyHost => "the URL has no host after http://",
            UrlError::BadHost => {
                "the host must be an IPv4 address or a name of letters, digits, dots and dashes"
            }
            UrlError::BadPort => "the port must be a number from 1 to 65535",
            UrlError::BadPath => {
                "the path may not hold spaces or control characters (encode them as %20 etc.)"
            }
        }
    }
}

/// Parses `http://HOST[:PORT][/PATH]`; the port defaults to 80 and the path to `/`.
pub fn parse_url(text: &str) -> Result<Url<'_>, UrlError> {
    if text.len() > MAX_URL {
        return Err(UrlError::TooLong);
    }
    let rest = match text.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => return Err(UrlError::Https),
        _ => return Err(UrlError::NotHttp),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, parse_port(port).ok_or(UrlError::BadPort)?),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err(UrlError::EmptyHost);
    }
    if host.len() > 253
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return Err(UrlError::BadHost);
    }
    if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(UrlError::BadPath);
    }
    let path = if path.starts_with('/') { path } else { "/" };
    Ok(Url { host, port, path })
}

fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|&p| p != 0)
}

/// A parsed response: the status line as sent, its code, and the body (de-chunked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    pub status_line: &'a str,
    pub code: u16,
    pub body: Vec<u8>,
    /// The body ended before `Content-Length` or the last chunk said it would.
    pub truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseError {
    /// No blank line ended the headers within [`MAX_HEAD`] bytes (or before the connection
    /// closed).
    NoEndOfHeaders,
    NotHttp,
    BadStatus,
    BadHeader,
    BadContentLength,
    BadChunk,
}

impl ResponseError {
    pub fn describe(self) -> &'static str {
        match self {
            ResponseError::NoEndOfHeaders => {
                "the response's headers did not end (no blank line in the first 16 KiB)"
            }
            ResponseError::NotHttp => "the server did not answer HTTP/1.x",
            ResponseError::BadStatus => "the status line has no three-digit status code",
            ResponseError::BadHeader => "a header line is not `Name: value` text",
            ResponseError::BadContentLength => "Content-Length is not a number",
            ResponseError::BadChunk => "a chunk of the chunked body has a bad size line",
        }
    }
}

/// Parses a complete response (everything the server sent before closing).
pub fn parse_response(bytes: &[u8]) -> Result<Response<'_>, ResponseError> {
    let head_len = find(&bytes[..bytes.len().min(MAX_HEAD)], b"\r\n\r\n")
        .map(|at| (at, at + 4))
        .or_else(|| find(&bytes[..bytes.len().min(MAX_HEAD)], b"\n\n").map(|at| (at, at + 2)));
    let Some((head_end, body_start)) = head_len else {
        return Err(ResponseError::NoEndOfHeaders);
    };
    let head = core::str::from_utf8(&bytes[..head_end]).map_err(|_| ResponseError::BadHeader)?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status_line = lines.next().unwrap_or("");
    let code = parse_status(status_line)?;
    let mut content_length = None;
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(ResponseError::BadHeader)?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| ResponseError::BadContentLength)?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    let raw = &bytes[body_start..];
    let (body, truncated) = if chunked {
        dechunk(raw)?
    } else {
        match content_length {
            Some(n) if (raw.len() as u64) >= n => (raw[..n as usize].to_vec(), false),
            Some(_) => (raw.to_vec(), true),
            None => (raw.to_vec(), false),
        }
    };
    Ok(Response {
        status_line,
        code,
        body,
        truncated,
    })
}

/// `HTTP/1.1 200 OK` → 200.
fn parse_status(line: &str) -> Result<u16, ResponseError> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
        return Err(ResponseError::NotHttp);
    }
    let code = parts.next().unwrap_or("");
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ResponseError::BadStatus);
    }
    code.parse().map_err(|_| ResponseError::BadStatus)
}

/// Decodes a chunked body (RFC 9112 §7.1); trailers are ignored. `true` when the body ended
/// before its last chunk.
fn dechunk(mut raw: &[u8]) -> Result<(Vec<u8>, bool), ResponseError> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = find(&raw[..raw.len().min(1024)], b"\n") else {
            return Ok((body, true));
        };
        let line = &raw[..line_end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let size_text = line.split(|&b| b == b';').next().unwrap_or(&[]);
        let size_text = core::str::from_utf8(size_text)
            .map_err(|_| ResponseError::BadChunk)?
            .trim();
        if size_text.is_empty() || size_text.len() > 16 {
            return Err(ResponseError::BadChunk);
        }
        let size = u64::from_str_radix(size_text, 16).map_err(|_| ResponseError::BadChunk)?;
        raw = &raw[line_end + 1..];
        if size == 0 {
            return Ok((body, false));
        }
        if (raw.len() as u64) < size {
            body.extend_from_slice(raw);
            return Ok((body, true));
        }
        let size = size as usize;
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size..];
        raw = raw.strip_prefix(b"\r\n").unwrap_or(raw);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_url_names_host_port_and_path() {
        assert_eq!(
            parse_url("http://10.0.2.2:8000/index.html"),
            Ok(Url {
                host: "10.0.2.2",
                port: 8000,
                path: "/index.html"
            })
        );
        assert_eq!(
            parse_url("http://example.test"),
            Ok(Url {
                host: "example.test",
                port: 80,
                path: "/"
            })
        );
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert_eq!(parse_url("https://10.0.2.2/"), Err(UrlError::Https));
        assert_eq!(parse_url("10.0.2.2/"), Err(UrlError::NotHttp));
        assert_eq!(parse_url("http://:80/"), Err(UrlError::EmptyHost));
        assert_eq!(parse_url("http://a:0/"), Err(UrlError::BadPort));
        assert_eq!(parse_url("http://a:65536/"), Err(UrlError::BadPort));
        assert_eq!(parse_url("http://a b/"), Err(UrlError::BadHost));
        assert_eq!(
            parse_url("http://a/x\r\nHost: evil"),
            Err(UrlError::BadPath)
        );
    }

    #[test]
    fn a_response_with_content_length_is_cut_at_its_length() {
        let r = parse_response(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello world").unwrap();
        assert_eq!(r.status_line, "HTTP/1.0 200 OK");
        assert_eq!(r.code, 200);
        assert_eq!(r.body, b"hello");
        assert!(!r.truncated);
        let short = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhi").unwrap();
        assert!(short.truncated);
    }

    #[test]
    fn a_chunked_body_is_reassembled() {
        let r = parse_response(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.code, 404);
        assert_eq!(r.body, b"hello world");
        assert!(!r.truncated);
    }

    #[test]
    fn what_is_not_http_is_refused() {
        assert_eq!(
            parse_response(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(ResponseError::NotHttp)
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 2x0 OK\r\n\r\n"),
            Err(ResponseError::BadStatus)
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
            Err(ResponseError::BadContentLength)
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 1"),
            Err(ResponseError::NoEndOfHeaders)
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            Err(ResponseError::BadChunk)
        );
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            if let Ok(r) = parse_response(&bytes) {
                prop_assert!(r.body.len() <= bytes.len());
            }
        }

        #[test]
        fn any_http_shaped_bytes_parse_without_panicking(
            code in "[0-9a-z]{0,4}",
            headers in proptest::collection::vec("[A-Za-z-]{0,20}: ?[0-9a-zA-Z, -]{0,20}", 0..5),
            body in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let mut bytes = alloc::format!("HTTP/1.1 {code} X\r\n").into_bytes();
            for h in headers {
                bytes.extend_from_slice(h.as_bytes());
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"\r\n");
            bytes.extend_from_slice(&body);
            if let Ok(r) = parse_response(&bytes) {
                prop_assert!(r.body.len() <= body.len());
                prop_assert!((100..1000).contains(&r.code) || r.code < 100);
            }
        }

        #[test]
        fn any_text_parses_as_a_url_or_an_error(text in "\\PC{0,80}") {
            if let Ok(url) = parse_url(&text) {
                prop_assert!(url.port != 0);
                prop_assert!(url.path.starts_with('/'));
                prop_assert!(!url.host.is_empty());
            }
        }

        #[test]
        fn a_url_round_trips(host in "[a-z0-9][a-z0-9.-]{0,30}", port in 1u16.., path in "(/[a-zA-Z0-9._~%-]{0,10}){0,4}") {
            let text = alloc::format!("http://{host}:{port}{path}");
            let url = parse_url(&text).unwrap();
            prop_assert_eq!(url.host, host.as_str());
            prop_assert_eq!(url.port, port);
            prop_assert_eq!(url.path, if path.is_empty() { "/" } else { path.as_str() });
        }
    }
}
