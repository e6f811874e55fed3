//! The one downloader: streaming sha256, resume with Range, retries with backoff, atomic rename.
//!
//! A download streams into `<cache_dir>/<sha256>.part`, hashing as it writes (256 KiB at a
//! time, so memory stays flat whatever the size). A later attempt, in this process or the
//! next run, resumes from what is on disk with `Range: bytes=N-`. Only a file whose sha256
//! matched is moved into place: fsync, chmod, rename, fsync of the directory.
//!
//! Retries follow curl's `--retry`: 408, 429, 500, 502, 503 and 504, connection errors,
//! time-outs and bodies that end early; never 403 or 404. `Retry-After` (seconds) is
//! honoured up to a minute. Consecutive attempts that bring no new bytes count against
//! the limit; an attempt that wrote bytes starts the count (and the backoff) again, so a
//! flaky link still finishes a large file, while [`HARD_LIMIT`] attempts in all stop a
//! server that trickles forever.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, RANGE, RETRY_AFTER};
use sha2::{Digest, Sha256};

/// Size of each read from the network and each write to disk.
const CHUNK: usize = 256 * 1024;
/// The most [`Downloader::fetch_text`] accepts.
pub const TEXT_LIMIT: u64 = 1024 * 1024;
/// The longest wait between two attempts, whatever the backoff or `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Attempts in all for one request, progress or not.
pub const HARD_LIMIT: u32 = 100;
const USER_AGENT: &str = concat!("uaiso/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the response headers, and then each read of the body, may take.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// What to download, what it must hash to, and where it goes.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    /// Expected sha256, lowercase hex (64 chars).
    pub sha256: String,
    /// Final location; written only after the checksum matched (rename from the partial file).
    pub dest: PathBuf,
    /// Where partial downloads live (`/var/cache/uaiso` under the root); the partial file
    /// name is derived from the sha256 so a resume never mixes files.
    pub cache_dir: PathBuf,
    /// Unix mode for the final file (e.g. 0o755 for a binary, 0o644 for a model).
    pub mode: u32,
}

impl Request {
    /// `<cache_dir>/<sha256>.part`, where this download lives until it is verified.
    pub fn part_path(&self) -> PathBuf {
        self.cache_dir
            .join(format!("{}.part", self.sha256.to_ascii_lowercase()))
    }
}

/// Told what a download is doing, for a progress bar or a log.
///
/// `start` comes once per attempt that got an answer, with the full size when the server
/// said it and the bytes already on disk; `advance` after each write; `retry` before the
/// wait for attempt `attempt` (2 for the first retry); `finish` once, when the file is in
/// place. A file already present calls none of them.
pub trait Progress {
    fn start(&mut self, url: &str, total: Option<u64>, resumed_from: u64);
    fn advance(&mut self, bytes: u64);
    fn retry(&mut self, attempt: u32, why: &str, wait: Duration);
    fn finish(&mut self);
}

/// A [`Progress`] that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _url: &str, _total: Option<u64>, _resumed_from: u64) {}
    fn advance(&mut self, _bytes: u64) {}
    fn retry(&mut self, _attempt: u32, _why: &str, _wait: Duration) {}
    fn finish(&mut self) {}
}

/// What [`Downloader::fetch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The file was downloaded (`bytes` in all, `resumed_from` of them already on disk
    /// when this call began) and moved into place.
    Downloaded { bytes: u64, resumed_from: u64 },
    /// `dest` already held a file with the expected sha256; nothing was requested.
    AlreadyPresent,
}

/// Why a download failed. Messages name the URL or path, and end with a `hint:` line
/// where there is something to do about it.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error(
        "invalid sha256 `{sha256}`: expected 64 hexadecimal digits\nhint: copy the hash from the release's checksum list"
    )]
    InvalidSha256 { sha256: String },
    #[error("invalid URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("{}", status_message(url, *status))]
    Status { url: String, status: u16 },
    #[error(
        "checksum mismatch for `{url}`: expected sha256 {expected}, got {actual}; the partial file `{part}` was deleted\nhint: the file on the server is not the one expected: check the URL and the expected hash (a mirror may be mid-update; try again later)"
    )]
    ChecksumMismatch {
        url: String,
        expected: String,
        actual: String,
        part: PathBuf,
    },
    /// `last` names the URL.
    #[error("gave up after {attempts} attempts: {last}")]
    TooManyRetries {
        url: String,
        attempts: u32,
        last: Box<DownloadError>,
    },
    #[error("cannot {action} `{path}`: {error}")]
    Io {
        action: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "cannot download `{url}`: {reason}\nhint: check the network; behind a proxy set HTTPS_PROXY (and NO_PROXY for local addresses)"
    )]
    Network { url: String, reason: String },
    #[error("`{url}` ended after {got} of {expected} bytes")]
    Truncated {
        url: String,
        got: u64,
        expected: u64,
    },
    #[error("`{url}` answered a range from byte {got}, not {asked}")]
    BadRange { url: String, asked: u64, got: u64 },
    #[error("`{url}` is larger than {limit} bytes, too large for a checksum list")]
    TooLarge { url: String, limit: u64 },
    #[error("`{url}` is not UTF-8 text")]
    NotText { url: String },
    #[error(
        "`{path}` is being downloaded by another process\nhint: wait for the other uaiso to finish, then run this again"
    )]
    Busy { path: PathBuf },
    #[error("cannot set up the HTTP client: {reason}")]
    Client { reason: String },
}

impl DownloadError {
    /// The HTTP status the server answered, for this error or the last of its retries.
    pub fn status(&self) -> Option<u16> {
        match self {
            DownloadError::Status { status, .. } => Some(*status),
            DownloadError::TooManyRetries { last, .. } => last.status(),
            _ => None,
        }
    }
}

fn status_message(url: &str, status: u16) -> String {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
        .to_ascii_lowercase();
    let head = format!("`{url}` answered {status} {reason}");
    let head = head.trim_end();
    match status {
        404 | 410 => format!(
            "{head}\nhint: the release or file may not exist: check the version and the file name"
        ),
        401 | 403 => format!(
            "{head}\nhint: the server refused access: the file may need a token, or the link expired"
        ),
        408 | 429 | 500..=599 => {
            format!("{head}\nhint: the server is busy or down; try again later")
        }
        _ => head.to_string(),
    }
}

/// The downloader: one HTTP client (rustls, system proxies, time-outs) and a retry policy.
#[derive(Debug, Clone)]
pub struct Downloader {
    client: Client,
    attempts: u32,
    first_backoff: Duration,
}

impl Downloader {
    /// A client that honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY, verifies TLS with rustls and
    /// the system's roots, follows redirects, gives up a connection after 20 s and a
    /// stalled response after 60 s; 5 attempts, backoff from 1 s.
    pub fn new() -> Result<Downloader, DownloadError> {
        Self::with_timeouts(CONNECT_TIMEOUT, READ_TIMEOUT)
    }

    /// Like [`Downloader::new`] with other time-outs: `connect` for the TCP and TLS
    /// handshake, `read` for the response headers and then for each read of the body.
    pub fn with_timeouts(connect: Duration, read: Duration) -> Result<Downloader, DownloadError> {
        let client = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(connect)
            .timeout(read)
            .build()
            .map_err(|e| DownloadError::Client {
                reason: error_chain(&e),
            })?;
        Ok(Downloader {
            client,
            attempts: 5,
            first_backoff: Duration::from_secs(1),
        })
    }

    /// At most `attempts` consecutive attempts without progress; the first wait is
    /// `first_backoff`, doubling each time up to a minute.
    pub fn with_retry_policy(self, attempts: u32, first_backoff: Duration) -> Self {
        Downloader {
            attempts: attempts.max(1),
            first_backoff,
            ..self
        }
    }

    /// Download `req.url` to `req.dest`, verified against `req.sha256`.
    pub fn fetch(
        &self,
        req: &Request,
        progress: &mut dyn Progress,
    ) -> Result<Outcome, DownloadError> {
        let expected = check_sha256(&req.sha256)?;
        check_url(&req.url)?;
        match hash_file(&req.dest) {
            Ok(actual) if actual == expected => {
                set_mode(&req.dest, req.mode)?;
                return Ok(Outcome::AlreadyPresent);
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(error) => {
                return Err(DownloadError::Io {
                    action: "read",
                    path: req.dest.clone(),
                    error,
                });
            }
        }
        let mut part = Partial::open(&req.cache_dir, &req.part_path())?;
        let result = self.download(req, &expected, &mut part, progress);
        match result {
            Ok(bytes) => {
                let resumed_from = part.initial;
                part.install(&req.dest, req.mode)?;
                progress.finish();
                Ok(Outcome::Downloaded {
                    bytes,
                    resumed_from,
                })
            }
            Err(error) => {
                // Keep bytes for the next run to resume, but no empty file.
                if part.len == 0 {
                    part.remove();
                }
                Err(error)
            }
        }
    }

    /// Attempts until `part` holds the file with the expected sha256; its length.
    fn download(
        &self,
        req: &Request,
        expected: &str,
        part: &mut Partial,
        progress: &mut dyn Progress,
    ) -> Result<u64, DownloadError> {
        let mut restarted_after_mismatch = false;
        let mut retries = Retries::new(self);
        loop {
            match self.attempt(&req.url, part, progress) {
                Ok(Ended::Complete) => {}
                Ok(Ended::RangeNotSatisfiable) => {
                    // The partial file is as long as the file or longer: complete or broken.
                    if part.digest() != expected {
                        part.reset()?;
                        continue;
                    }
                }
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Retry { error, wait }) => {
                    retries.failed(error, wait, part.progressed(), &req.url, progress)?;
                    continue;
                }
            }
            let actual = part.digest();
            if actual == expected {
                return Ok(part.len);
            }
            let error = DownloadError::ChecksumMismatch {
                url: req.url.clone(),
                expected: expected.to_string(),
                actual,
                part: part.path.clone(),
            };
            if part.resumed && !restarted_after_mismatch {
                // The bytes kept from before may be the broken ones: once, from zero.
                restarted_after_mismatch = true;
                part.reset()?;
                retries.failed(error, Some(Duration::ZERO), true, &req.url, progress)?;
                continue;
            }
            part.reset()?;
            return Err(error);
        }
    }

    /// One request: resume from what `part` holds, stream the body into it.
    fn attempt(
        &self,
        url: &str,
        part: &mut Partial,
        progress: &mut dyn Progress,
    ) -> Result<Ended, Failure> {
        part.attempt_start = part.len;
        let mut request = self.client.get(url);
        if part.len > 0 {
            request = request.header(RANGE, format!("bytes={}-", part.len));
        }
        let mut resp = request.send().map_err(|e| network(url, &e))?;
        let status = resp.status();
        let length = content_length(&resp);
        let total = match status {
            StatusCode::PARTIAL_CONTENT if part.len > 0 => {
                let (start, total) = content_range(&resp).unwrap_or((part.len, None));
                if start != part.len {
                    // Not the range asked for: start over rather than stitch wrong bytes.
                    let asked = part.len;
                    part.reset()?;
                    return Err(Failure::Retry {
                        error: DownloadError::BadRange {
                            url: url.to_string(),
                            asked,
                            got: start,
                        },
                        wait: Some(Duration::ZERO),
                    });
                }
                part.resumed = true;
                total.or(length.map(|l| l + part.len))
            }
            StatusCode::RANGE_NOT_SATISFIABLE if part.len > 0 => {
                return Ok(Ended::RangeNotSatisfiable);
            }
            s if s.is_success() => {
                // A whole body (the server ignored Range, or none was sent).
                if part.len > 0 {
                    part.reset()?;
                }
                length
            }
            s => return Err(status_failure(url, s, &resp)),
        };
        progress.start(url, total, part.len);
        let mut buf = vec![0u8; CHUNK];
        loop {
            let (filled, read_error) = fill(&mut resp, &mut buf);
            if filled > 0 {
                part.append(&buf[..filled])?;
                progress.advance(filled as u64);
            }
            if let Some(e) = read_error {
                return Err(Failure::Retry {
                    error: DownloadError::Network {
                        url: url.to_string(),
                        reason: error_chain(&e),
                    },
                    wait: None,
                });
            }
            if filled < buf.len() {
                break;
            }
        }
        if let Some(expected) = total
            && part.len < expected
        {
            return Err(Failure::Retry {
                error: DownloadError::Truncated {
                    url: url.to_string(),
                    got: part.len,
                    expected,
                },
                wait: None,
            });
        }
        Ok(Ended::Complete)
    }

    /// The sha256 Hugging Face states for a file in Git LFS: the `X-Linked-Etag` of the
    /// redirect `/resolve/` answers with (asked with HEAD, the redirect not followed).
    /// `None` when the server states none.
    pub fn linked_sha256(&self, url: &str) -> Result<Option<String>, DownloadError> {
        check_url(url)?;
        let client = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(READ_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DownloadError::Client {
                reason: error_chain(&e),
            })?;
        let mut retries = Retries::new(self);
        loop {
            let resp = match client.head(url).send() {
                Ok(r) => r,
                Err(e) => match network(url, &e) {
                    Failure::Fatal(error) => return Err(error),
                    Failure::Retry { error, wait } => {
                        retries.failed(error, wait, false, url, &mut NoProgress)?;
                        continue;
                    }
                },
            };
            let status = resp.status();
            if !(status.is_success() || status.is_redirection()) {
                match status_failure(url, status, &resp) {
                    Failure::Fatal(error) => return Err(error),
                    Failure::Retry { error, wait } => {
                        retries.failed(error, wait, false, url, &mut NoProgress)?;
                        continue;
                    }
                }
            }
            let linked = resp
                .headers()
                .get("x-linked-etag")
                .and_then(|v| v.to_str().ok())
                .map(|v| {
                    v.trim()
                        .trim_start_matches("W/")
                        .trim_matches('"')
                        .to_ascii_lowercase()
                })
                .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
            return Ok(linked);
        }
    }

    /// Small text files (a release's sha256 list): whole body, size-capped (1 MiB), same retries.
    pub fn fetch_text(&self, url: &str) -> Result<String, DownloadError> {
        check_url(url)?;
        let mut retries = Retries::new(self);
        loop {
            match self.text_attempt(url) {
                Ok(text) => return Ok(text),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Retry { error, wait }) => {
                    retries.failed(error, wait, false, url, &mut NoProgress)?;
                }
            }
        }
    }

    fn text_attempt(&self, url: &str) -> Result<String, Failure> {
        let resp = self.client.get(url).send().map_err(|e| network(url, &e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(status_failure(url, status, &resp));
        }
        let too_large = || {
            Failure::Fatal(DownloadError::TooLarge {
                url: url.to_string(),
                limit: TEXT_LIMIT,
            })
        };
        let length = content_length(&resp);
        if length.is_some_and(|l| l > TEXT_LIMIT) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        resp.take(TEXT_LIMIT + 1)
            .read_to_end(&mut body)
            .map_err(|e| Failure::Retry {
                error: DownloadError::Network {
                    url: url.to_string(),
                    reason: error_chain(&e),
                },
                wait: None,
            })?;
        if body.len() as u64 > TEXT_LIMIT {
            return Err(too_large());
        }
        if let Some(expected) = length
            && (body.len() as u64) < expected
        {
            return Err(Failure::Retry {
                error: DownloadError::Truncated {
                    url: url.to_string(),
                    got: body.len() as u64,
                    expected,
                },
                wait: None,
            });
        }
        String::from_utf8(body).map_err(|_| {
            Failure::Fatal(DownloadError::NotText {
                url: url.to_string(),
            })
        })
    }
}

/// One quick GET of a small text (a `/metrics` page), with a bearer token: no retries,
/// no proxy (it is a service on this box), `timeout` for the whole exchange.
pub fn get_text(
    url: &str,
    bearer: Option<&str>,
    timeout: Duration,
) -> Result<String, DownloadError> {
    check_url(url)?;
    let client = Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .no_proxy()
        .build()
        .map_err(|e| DownloadError::Client {
            reason: error_chain(&e),
        })?;
    let mut req = client.get(url);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp = req.send().map_err(|e| DownloadError::Network {
        url: url.to_string(),
        reason: error_chain(&e),
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(DownloadError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let mut body = Vec::new();
    resp.take(TEXT_LIMIT)
        .read_to_end(&mut body)
        .map_err(|e| DownloadError::Network {
            url: url.to_string(),
            reason: error_chain(&e),
        })?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Parse a `sha256sum`-style list (`<hex>  <name>` or `<hex> *<name>`) and return the hash for `name`.
pub fn sha256_from_list(list: &str, name: &str) -> Option<String> {
    list.lines().find_map(|line| {
        let line = line.trim_end_matches('\r');
        let (hash, rest) = line.split_once(char::is_whitespace)?;
        // `<hex>  <name>` (text mode) or `<hex> *<name>` (binary mode); some lists use one space.
        let rest = rest.strip_prefix([' ', '\t']).unwrap_or(rest);
        let file = rest.strip_prefix('*').unwrap_or(rest);
        let file = file.strip_prefix("./").unwrap_or(file);
        (file == name && is_sha256(hash)).then(|| hash.to_ascii_lowercase())
    })
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_sha256(sha256: &str) -> Result<String, DownloadError> {
    if is_sha256(sha256) {
        Ok(sha256.to_ascii_lowercase())
    } else {
        Err(DownloadError::InvalidSha256 {
            sha256: sha256.to_string(),
        })
    }
}

fn check_url(url: &str) -> Result<(), DownloadError> {
    let invalid = |reason: String| DownloadError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => Ok(()),
        other => Err(invalid(format!("scheme `{other}` is not http or https"))),
    }
}

/// How an attempt ended without an error.
enum Ended {
    /// The body ended with as many bytes as announced (or the connection closed without
    /// an announced length): the checksum decides.
    Complete,
    /// 416 to our Range: the partial file already holds the whole file, or is broken.
    RangeNotSatisfiable,
}

/// How an attempt failed.
enum Failure {
    /// Worth another attempt; `wait` overrides the backoff (a `Retry-After`).
    Retry {
        error: DownloadError,
        wait: Option<Duration>,
    },
    Fatal(DownloadError),
}

impl From<DownloadError> for Failure {
    fn from(error: DownloadError) -> Self {
        Failure::Fatal(error)
    }
}

/// The attempt count and backoff of one request.
struct Retries {
    limit: u32,
    first_backoff: Duration,
    /// Consecutive failed attempts without progress.
    idle: u32,
    /// Attempts in all.
    total: u32,
}

impl Retries {
    fn new(d: &Downloader) -> Self {
        Retries {
            limit: d.attempts,
            first_backoff: d.first_backoff,
            idle: 0,
            total: 0,
        }
    }

    /// Count a failed attempt; wait before the next, or give up.
    fn failed(
        &mut self,
        error: DownloadError,
        wait: Option<Duration>,
        progressed: bool,
        url: &str,
        progress: &mut dyn Progress,
    ) -> Result<(), DownloadError> {
        self.total += 1;
        self.idle = if progressed { 1 } else { self.idle + 1 };
        if self.idle >= self.limit || self.total >= HARD_LIMIT {
            return Err(DownloadError::TooManyRetries {
                url: url.to_string(),
                attempts: self.total,
                last: Box::new(error),
            });
        }
        let backoff = self
            .first_backoff
            .saturating_mul(1u32 << (self.idle - 1).min(16));
        let wait = wait.unwrap_or(backoff).min(MAX_WAIT);
        let why = error.to_string();
        let why = why.lines().next().unwrap_or_default();
        progress.retry(self.total + 1, why, wait);
        std::thread::sleep(wait);
        Ok(())
    }
}

fn status_failure(url: &str, status: StatusCode, resp: &Response) -> Failure {
    let error = DownloadError::Status {
        url: url.to_string(),
        status: status.as_u16(),
    };
    match status.as_u16() {
        408 | 429 | 500 | 502 | 503 | 504 => Failure::Retry {
            error,
            wait: retry_after(resp),
        },
        _ => Failure::Fatal(error),
    }
}

/// `Retry-After` in seconds (the HTTP-date form falls back to the backoff).
fn retry_after(resp: &Response) -> Option<Duration> {
    let value = resp.headers().get(RETRY_AFTER)?.to_str().ok()?;
    let secs: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_WAIT))
}

fn content_length(resp: &Response) -> Option<u64> {
    resp.headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// `Content-Range: bytes <start>-<end>/<total|*>` → (start, total).
fn content_range(resp: &Response) -> Option<(u64, Option<u64>)> {
    parse_content_range(resp.headers().get(CONTENT_RANGE)?.to_str().ok()?)
}

fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    let (span, total) = range.split_once('/')?;
    let (start, _end) = span.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

fn network(url: &str, e: &reqwest::Error) -> Failure {
    let error = DownloadError::Network {
        url: url.to_string(),
        reason: error_chain(e),
    };
    if e.is_builder() || e.is_redirect() {
        Failure::Fatal(error)
    } else {
        Failure::Retry { error, wait: None }
    }
}

/// The causes of an error, innermost last, without repeats; reqwest's own top line
/// ("error sending request for url (…)") gives way to what went wrong.
/// An error and its causes on one line, without the wrappers that say less than what
/// they wrap; "connection refused" is in the innermost.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    // reqwest's "error sending request for url (…)" and hyper's "client error (Connect)"
    // say less than what follows them.
    while parts.len() > 1
        && (parts[0].contains("for url (") || parts[0].starts_with("client error ("))
    {
        parts.remove(0);
    }
    if e.downcast_ref::<reqwest::Error>()
        .is_some_and(reqwest::Error::is_timeout)
        && !parts.iter().any(|p| p.contains("timed out"))
    {
        parts.push("timed out".to_string());
    }
    parts.join(": ")
}

/// Read until `buf` is full, the body ends or an error; what was read before an error
/// is still returned, so it is written and a retry resumes after it.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> (usize, Option<std::io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

/// The partial file: open, locked, and hashed as far as it goes.
/// sha256 on a second thread, so that hashing overlaps the network and the disk
/// instead of adding to them.
struct Hasher {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    worker: Option<std::thread::JoinHandle<Sha256>>,
    /// The state once the worker has finished.
    done: Option<Sha256>,
}

impl Hasher {
    fn new(start: Sha256) -> Hasher {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        let worker = std::thread::spawn(move || {
            let mut state = start;
            for chunk in rx {
                state.update(&chunk);
            }
            state
        });
        Hasher {
            tx: Some(tx),
            worker: Some(worker),
            done: None,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        if let Some(state) = &mut self.done {
            state.update(bytes);
        } else if let Some(tx) = &self.tx
            && tx.send(bytes.to_vec()).is_err()
        {
            // The worker is gone only if it panicked; finish here, in this thread.
            self.finish();
            if let Some(state) = &mut self.done {
                state.update(bytes);
            }
        }
    }

    fn finish(&mut self) -> &Sha256 {
        if self.done.is_none() {
            self.tx = None;
            let state = self
                .worker
                .take()
                .and_then(|w| w.join().ok())
                .unwrap_or_default();
            self.done = Some(state);
        }
        self.done.get_or_insert_with(Sha256::new)
    }

    fn hex(&mut self) -> String {
        hex(&self.finish().clone().finalize())
    }
}

struct Partial {
    path: PathBuf,
    file: File,
    hasher: Hasher,
    len: u64,
    /// `len` when the current attempt began.
    attempt_start: u64,
    /// Some of the bytes came from a ranged (resumed) response.
    resumed: bool,
    /// Bytes an earlier run left that are still the start of the file (0 once reset).
    initial: u64,
}

impl Partial {
    fn open(cache_dir: &Path, path: &Path) -> Result<Partial, DownloadError> {
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |error| DownloadError::Io {
                action,
                path,
                error,
            }
        };
        std::fs::create_dir_all(cache_dir).map_err(io("create", cache_dir))?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io("open", path))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(DownloadError::Busy {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(io("lock", path)(e.into())),
        }
        // Hash what an earlier run left, so the resumed download is checked as a whole.
        let mut hasher = Sha256::new();
        let len = hash_reader(&mut file, &mut hasher).map_err(io("read", path))?;
        Ok(Partial {
            path: path.to_path_buf(),
            file,
            hasher: Hasher::new(hasher),
            len,
            attempt_start: len,
            resumed: len > 0,
            initial: len,
        })
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), DownloadError> {
        self.file
            .write_all(bytes)
            .map_err(|error| self.io("write", error))?;
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Empty the file and start again from byte 0.
    fn reset(&mut self) -> Result<(), DownloadError> {
        self.file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)).map(drop))
            .map_err(|error| self.io("truncate", error))?;
        self.hasher = Hasher::new(Sha256::new());
        self.len = 0;
        self.attempt_start = 0;
        self.resumed = false;
        self.initial = 0;
        Ok(())
    }

    /// This attempt wrote bytes.
    fn progressed(&self) -> bool {
        self.len > self.attempt_start
    }

    fn digest(&mut self) -> String {
        self.hasher.hex()
    }

    fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }

    /// fsync, chmod, rename into `dest` (a copy and rename across file systems), fsync
    /// the directory.
    fn install(self, dest: &Path, mode: u32) -> Result<(), DownloadError> {
        self.file
            .sync_all()
            .map_err(|error| self.io("sync", error))?;
        self.file
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|error| self.io("set the mode of", error))?;
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let dest_io = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |error| DownloadError::Io {
                action,
                path,
                error,
            }
        };
        std::fs::create_dir_all(dir).map_err(dest_io("create", dir))?;
        match std::fs::rename(&self.path, dest) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::CrossesDevices => {
                // The cache is on another file system: copy next to `dest`, then rename.
                let name = dest
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let tmp = dir.join(format!(".{name}.uaiso-{}.tmp", std::process::id()));
                let copied = (|| {
                    std::fs::copy(&self.path, &tmp)?;
                    let f = File::open(&tmp)?;
                    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
                    f.sync_all()?;
                    std::fs::rename(&tmp, dest)
                })();
                if let Err(error) = copied {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(dest_io("write", dest)(error));
                }
                let _ = std::fs::remove_file(&self.path);
            }
            Err(error) => return Err(dest_io("move the download to", dest)(error)),
        }
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(dest_io("sync", dir))
    }

    fn io(&self, action: &'static str, error: std::io::Error) -> DownloadError {
        DownloadError::Io {
            action,
            path: self.path.clone(),
            error,
        }
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), DownloadError> {
    let perms = std::fs::Permissions::from_mode(mode);
    std::fs::set_permissions(path, perms).map_err(|error| DownloadError::Io {
        action: "set the mode of",
        path: path.to_path_buf(),
        error,
    })
}

/// The sha256 of a file, lowercase hex.
fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    hash_reader(&mut file, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

/// Feed everything `r` holds into `hasher`; the byte count.
fn hash_reader(r: &mut impl Read, hasher: &mut Sha256) -> std::io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                hasher.update(&buf[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_parses() {
        assert_eq!(
            parse_content_range("bytes 100-199/200"),
            Some((100, Some(200)))
        );
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("items 5-9/10"), None);
    }

    #[test]
    fn messages_are_lowercase_with_hints() {
        let e = DownloadError::Status {
            url: "https://x/y".into(),
            status: 404,
        };
        assert_eq!(
            e.to_string(),
            "`https://x/y` answered 404 not found\nhint: the release or file may not exist: check the version and the file name"
        );
    }
}
