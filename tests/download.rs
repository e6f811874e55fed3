//! The downloader against a real HTTP server on 127.0.0.1, started here: it serves a file
//! with Content-Length and `Range: bytes=N-`, misbehaves on request (404, 503, a dropped
//! connection, a short body, corrupted bytes, a slow or stalled body, an ignored Range, a
//! redirect), counts requests and records the Range headers it saw.
#![allow(clippy::disallowed_methods)]

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use uaiso::sys::download::{
    DownloadError, Downloader, NoProgress, Outcome, Progress, Request, TEXT_LIMIT, sha256_from_list,
};

/// How the server answers one request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// The file, or the range asked for (206), or 416 past the end.
    Serve,
    /// This status and a short body.
    Status(u16),
    /// 503 with `Retry-After: 0`.
    Unavailable,
    /// Announce the whole length, send half the body, close the connection.
    DropHalf,
    /// Announce the whole length, send all but the last 1000 bytes, close.
    Truncate,
    /// The right length, one byte flipped in the middle.
    Corrupt,
    /// The body in 16 KiB pieces with a pause between them.
    Slow,
    /// Half the body, then nothing for this long, then close.
    Stall(Duration),
    /// 200 and the whole file, whatever the Range said.
    IgnoreRange,
    /// 302 to `/moved`.
    Redirect,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Mode>,
    requests: u32,
    ranges: Vec<Option<String>>,
    paths: Vec<String>,
    user_agents: Vec<String>,
}

struct Server {
    url: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    /// Serve `body` on a free port; each request takes the next queued mode, then `Serve`.
    fn start(body: impl Into<Arc<[u8]>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}/file", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let body: Arc<[u8]> = body.into();
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&shared);
                let body = Arc::clone(&body);
                std::thread::spawn(move || {
                    let _ = handle(stream, &state, &body);
                });
            }
        });
        Server { url, state }
    }

    fn push(&self, mode: Mode, times: usize) {
        let mut state = self.state.lock().unwrap();
        state.queue.extend(std::iter::repeat_n(mode, times));
    }

    fn requests(&self) -> u32 {
        self.state.lock().unwrap().requests
    }

    fn ranges(&self) -> Vec<Option<String>> {
        self.state.lock().unwrap().ranges.clone()
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>, body: &[u8]) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut range = None;
    let mut user_agent = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "range" => range = Some(value.trim().to_string()),
                "user-agent" => user_agent = value.trim().to_string(),
                _ => {}
            }
        }
    }
    let mode = {
        let mut s = state.lock().unwrap();
        s.requests += 1;
        s.ranges.push(range.clone());
        s.paths.push(path);
        s.user_agents.push(user_agent);
        s.queue.pop_front().unwrap_or(Mode::Serve)
    };
    let mut out = stream;
    let len = body.len() as u64;
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<u64>().ok());
    match mode {
        Mode::Status(code) => return simple(&mut out, code, &[]),
        Mode::Unavailable => return simple(&mut out, 503, &["Retry-After: 0"]),
        Mode::Redirect => return simple(&mut out, 302, &["Location: /moved"]),
        _ => {}
    }
    let (status, from) = match start {
        Some(n) if mode != Mode::IgnoreRange => {
            if n >= len {
                let header = format!("Content-Range: bytes */{len}");
                return simple(&mut out, 416, &[&header]);
            }
            (206, n)
        }
        _ => (200, 0),
    };
    let slice = &body[from as usize..];
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\nConnection: close\r\n",
        if status == 206 {
            "Partial Content"
        } else {
            "OK"
        },
        slice.len()
    );
    if status == 206 {
        let _ = write!(head, "Content-Range: bytes {from}-{}/{len}\r\n", len - 1);
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    match mode {
        Mode::DropHalf => out.write_all(&slice[..slice.len() / 2])?,
        Mode::Truncate => out.write_all(&slice[..slice.len().saturating_sub(1000)])?,
        Mode::Corrupt => {
            let mut bad = slice.to_vec();
            let mid = bad.len() / 2;
            bad[mid] ^= 0xff;
            out.write_all(&bad)?;
        }
        Mode::Slow => {
            for piece in slice.chunks(16 * 1024) {
                out.write_all(piece)?;
                out.flush()?;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        Mode::Stall(pause) => {
            out.write_all(&slice[..slice.len() / 2])?;
            out.flush()?;
            std::thread::sleep(pause);
        }
        _ => out.write_all(slice)?,
    }
    out.flush()?;
    let _ = out.shutdown(std::net::Shutdown::Both);
    Ok(())
}

fn simple(out: &mut TcpStream, code: u16, headers: &[&str]) -> std::io::Result<()> {
    let body = format!("status {code}\n");
    let mut head = format!(
        "HTTP/1.1 {code} Whatever\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body.as_bytes())?;
    out.flush()
}

/// A few MiB of reproducible noise (xorshift).
fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

const LEN: usize = 4 * 1024 * 1024 + 12345;

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The served file and its sha256, made once for all tests.
fn served() -> &'static (Arc<[u8]>, String) {
    static SERVED: OnceLock<(Arc<[u8]>, String)> = OnceLock::new();
    SERVED.get_or_init(|| {
        let body = payload(LEN, 0x5eed);
        let hash = sha256(&body);
        (body.into(), hash)
    })
}

/// A server for the file, and a request into a temp dir (`cache/`, `out/bin/file`;
/// neither created).
struct Fixture {
    _dir: tempfile::TempDir,
    body: Arc<[u8]>,
    server: Server,
    req: Request,
}

impl Fixture {
    fn new() -> Fixture {
        let (body, hash) = served();
        let server = Server::start(Arc::clone(body));
        let dir = tempfile::tempdir().unwrap();
        let req = Request {
            url: server.url.clone(),
            sha256: hash.clone(),
            dest: dir.path().join("out/bin/file"),
            cache_dir: dir.path().join("cache"),
            mode: 0o755,
        };
        Fixture {
            _dir: dir,
            body: Arc::clone(body),
            server,
            req,
        }
    }

    fn part(&self) -> PathBuf {
        self.req.cache_dir.join(format!("{}.part", self.req.sha256))
    }

    fn fetch(&self) -> Result<Outcome, DownloadError> {
        self.fetch_with(&mut NoProgress)
    }

    fn fetch_with(&self, progress: &mut dyn Progress) -> Result<Outcome, DownloadError> {
        downloader().fetch(&self.req, progress)
    }

    /// dest holds the file, with the mode asked for, and no partial file is left.
    fn assert_installed(&self) {
        let got = std::fs::read(&self.req.dest).expect("dest exists");
        assert!(*got == *self.body, "dest has the served bytes");
        let mode = std::fs::metadata(&self.req.dest)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, self.req.mode);
        assert!(!self.part().exists(), "the .part file is gone");
        assert_eq!(dir_entries(&self.req.cache_dir), Vec::<String>::new());
    }
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn downloader() -> Downloader {
    Downloader::new()
        .expect("client")
        .with_retry_policy(4, Duration::from_millis(10))
}

#[derive(Default)]
struct Recorder {
    starts: Vec<(Option<u64>, u64)>,
    advanced: u64,
    retries: Vec<(u32, String, Duration)>,
    finished: u32,
}

impl Progress for Recorder {
    fn start(&mut self, _url: &str, total: Option<u64>, resumed_from: u64) {
        self.starts.push((total, resumed_from));
    }
    fn advance(&mut self, bytes: u64) {
        self.advanced += bytes;
    }
    fn retry(&mut self, attempt: u32, why: &str, wait: Duration) {
        self.retries.push((attempt, why.to_string(), wait));
    }
    fn finish(&mut self) {
        self.finished += 1;
    }
}

#[test]
fn good_file_is_installed_with_its_mode() {
    let f = Fixture::new();
    let mut progress = Recorder::default();
    let outcome = f.fetch_with(&mut progress).expect("download");
    assert_eq!(
        outcome,
        Outcome::Downloaded {
            bytes: LEN as u64,
            resumed_from: 0
        }
    );
    f.assert_installed();
    assert_eq!(f.server.requests(), 1);
    assert_eq!(f.server.ranges(), vec![None]);
    let ua = f.server.state.lock().unwrap().user_agents[0].clone();
    assert_eq!(ua, format!("uaiso/{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(progress.starts, vec![(Some(LEN as u64), 0)]);
    assert_eq!(progress.advanced, LEN as u64);
    assert_eq!(progress.finished, 1);
    assert!(progress.retries.is_empty());
}

#[test]
fn model_mode_is_honoured() {
    let mut f = Fixture::new();
    f.req.mode = 0o644;
    f.fetch().expect("download");
    f.assert_installed();
}

#[test]
fn wrong_checksum_names_both_hashes_and_leaves_nothing() {
    let mut f = Fixture::new();
    let wrong = sha256(b"something else");
    f.req.sha256 = wrong.clone();
    let err = f.fetch().expect_err("checksum must fail");
    let actual = sha256(&f.body);
    assert!(
        matches!(&err, DownloadError::ChecksumMismatch { expected, actual: a, .. } if *expected == wrong && *a == actual),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(&wrong) && text.contains(&actual), "{text}");
    assert!(
        text.contains("was deleted") && text.contains("\nhint: "),
        "{text}"
    );
    assert!(!f.req.dest.exists());
    assert!(!f.part().exists());
    assert_eq!(dir_entries(&f.req.cache_dir), Vec::<String>::new());
    assert_eq!(f.server.requests(), 1, "a mismatch is not retried");
}

#[test]
fn corrupted_bytes_fail_the_checksum() {
    let f = Fixture::new();
    f.server.push(Mode::Corrupt, 1);
    let err = f.fetch().expect_err("corrupted body");
    assert!(
        matches!(err, DownloadError::ChecksumMismatch { .. }),
        "{err:?}"
    );
    assert!(!f.req.dest.exists());
    assert!(!f.part().exists());
    assert_eq!(f.server.requests(), 1);
}

#[test]
fn truncated_response_resumes() {
    let f = Fixture::new();
    f.server.push(Mode::Truncate, 1);
    let mut progress = Recorder::default();
    let outcome = f.fetch_with(&mut progress).expect("download");
    assert!(matches!(outcome, Outcome::Downloaded { bytes, .. } if bytes == LEN as u64));
    f.assert_installed();
    let sent = LEN - 1000;
    assert_eq!(
        f.server.ranges(),
        vec![None, Some(format!("bytes={sent}-"))]
    );
    assert_eq!(progress.retries.len(), 1);
    assert_eq!(progress.retries[0].0, 2, "the retry announces attempt 2");
    assert_eq!(
        progress.starts,
        vec![(Some(LEN as u64), 0), (Some(LEN as u64), sent as u64)]
    );
    assert_eq!(progress.advanced, LEN as u64, "no byte downloaded twice");
}

#[test]
fn dropped_connection_resumes_from_the_right_offset() {
    let f = Fixture::new();
    f.server.push(Mode::DropHalf, 1);
    f.fetch().expect("download");
    f.assert_installed();
    assert_eq!(f.server.requests(), 2);
    assert_eq!(
        f.server.ranges(),
        vec![None, Some(format!("bytes={}-", LEN / 2))]
    );
}

#[test]
fn dropped_twice_resumes_twice() {
    let f = Fixture::new();
    f.server.push(Mode::DropHalf, 2);
    f.fetch().expect("download");
    f.assert_installed();
    let first = LEN / 2;
    let second = first + (LEN - first) / 2;
    assert_eq!(
        f.server.ranges(),
        vec![
            None,
            Some(format!("bytes={first}-")),
            Some(format!("bytes={second}-"))
        ]
    );
}

#[test]
fn not_found_is_not_retried() {
    let f = Fixture::new();
    f.server.push(Mode::Status(404), 10);
    let err = f.fetch().expect_err("404");
    assert!(
        matches!(&err, DownloadError::Status { status: 404, url } if *url == f.req.url),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(404));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("`{}` answered 404", f.req.url)),
        "{text}"
    );
    assert!(
        text.contains("hint: the release or file may not exist"),
        "{text}"
    );
    assert_eq!(f.server.requests(), 1);
    assert!(!f.req.dest.exists());
    assert!(!f.part().exists(), "no empty .part is left behind");
}

#[test]
fn forbidden_is_not_retried() {
    let f = Fixture::new();
    f.server.push(Mode::Status(403), 10);
    let err = f.fetch().expect_err("403");
    assert_eq!(err.status(), Some(403));
    assert_eq!(f.server.requests(), 1);
}

#[test]
fn unavailable_twice_then_success() {
    let f = Fixture::new();
    f.server.push(Mode::Unavailable, 2);
    let mut progress = Recorder::default();
    f.fetch_with(&mut progress).expect("download");
    f.assert_installed();
    assert_eq!(f.server.requests(), 3);
    let waits: Vec<_> = progress.retries.iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(
        waits,
        vec![(2, Duration::ZERO), (3, Duration::ZERO)],
        "Retry-After: 0 is honoured"
    );
    assert!(
        progress.retries[0].1.contains("503"),
        "{:?}",
        progress.retries
    );
}

#[test]
fn retries_give_up_with_the_last_error() {
    let f = Fixture::new();
    f.server.push(Mode::Status(502), 10);
    let err = f.fetch().expect_err("502 forever");
    assert!(
        matches!(&err, DownloadError::TooManyRetries { attempts: 4, .. }),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(502));
    assert!(
        err.to_string().starts_with(&format!(
            "gave up after 4 attempts: `{}` answered 502",
            f.req.url
        )),
        "{err}"
    );
    assert_eq!(f.server.requests(), 4);
    assert!(!f.part().exists());
}

#[test]
fn backoff_doubles() {
    let f = Fixture::new();
    f.server.push(Mode::Status(500), 2);
    let mut progress = Recorder::default();
    downloader()
        .with_retry_policy(5, Duration::from_millis(20))
        .fetch(&f.req, &mut progress)
        .expect("download");
    let waits: Vec<_> = progress.retries.iter().map(|r| r.2).collect();
    assert_eq!(
        waits,
        vec![Duration::from_millis(20), Duration::from_millis(40)]
    );
}

#[test]
fn slow_server_completes() {
    let f = Fixture::new();
    f.server.push(Mode::Slow, 1);
    f.fetch().expect("download");
    f.assert_installed();
    assert_eq!(f.server.requests(), 1);
}

#[test]
fn stalled_body_times_out_and_resumes() {
    let f = Fixture::new();
    f.server.push(Mode::Stall(Duration::from_secs(3)), 1);
    let started = Instant::now();
    Downloader::with_timeouts(Duration::from_secs(5), Duration::from_millis(300))
        .expect("client")
        .with_retry_policy(3, Duration::from_millis(10))
        .fetch(&f.req, &mut NoProgress)
        .expect("download");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not wait out the stall"
    );
    f.assert_installed();
    assert_eq!(
        f.server.ranges(),
        vec![None, Some(format!("bytes={}-", LEN / 2))]
    );
}

#[test]
fn already_present_makes_no_request() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.req.dest.parent().unwrap()).unwrap();
    std::fs::write(&f.req.dest, &f.body).unwrap();
    std::fs::set_permissions(&f.req.dest, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut progress = Recorder::default();
    let outcome = f.fetch_with(&mut progress).expect("present");
    assert_eq!(outcome, Outcome::AlreadyPresent);
    assert_eq!(f.server.requests(), 0);
    assert_eq!(progress.finished, 0);
    f.assert_installed();
}

#[test]
fn present_with_wrong_content_is_replaced() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.req.dest.parent().unwrap()).unwrap();
    std::fs::write(&f.req.dest, b"an old version").unwrap();
    let outcome = f.fetch().expect("download");
    assert!(matches!(outcome, Outcome::Downloaded { .. }));
    f.assert_installed();
    assert_eq!(f.server.requests(), 1);
}

#[test]
fn stale_part_from_an_earlier_run_resumes() {
    let f = Fixture::new();
    let kept = 1024 * 1024 + 7;
    std::fs::create_dir_all(&f.req.cache_dir).unwrap();
    std::fs::write(f.part(), &f.body[..kept]).unwrap();
    let mut progress = Recorder::default();
    let outcome = f.fetch_with(&mut progress).expect("download");
    assert_eq!(
        outcome,
        Outcome::Downloaded {
            bytes: LEN as u64,
            resumed_from: kept as u64
        }
    );
    f.assert_installed();
    assert_eq!(f.server.ranges(), vec![Some(format!("bytes={kept}-"))]);
    assert_eq!(progress.starts, vec![(Some(LEN as u64), kept as u64)]);
    assert_eq!(progress.advanced, (LEN - kept) as u64);
}

#[test]
fn complete_stale_part_is_verified_after_416() {
    let f = Fixture::new();
    std::fs::create_dir_all(&f.req.cache_dir).unwrap();
    std::fs::write(f.part(), &f.body).unwrap();
    f.fetch().expect("download");
    f.assert_installed();
    assert_eq!(f.server.ranges(), vec![Some(format!("bytes={LEN}-"))]);
}

#[test]
fn overlong_stale_part_is_discarded_after_416() {
    let f = Fixture::new();
    std::fs::create_dir_all(&f.req.cache_dir).unwrap();
    let mut long = f.body.to_vec();
    long.extend_from_slice(b"junk");
    std::fs::write(f.part(), &long).unwrap();
    f.fetch().expect("download");
    f.assert_installed();
    assert_eq!(
        f.server.ranges(),
        vec![Some(format!("bytes={}-", LEN + 4)), None]
    );
}

#[test]
fn broken_stale_part_starts_over_once() {
    let f = Fixture::new();
    std::fs::create_dir_all(&f.req.cache_dir).unwrap();
    std::fs::write(f.part(), vec![0u8; 4096]).unwrap();
    let outcome = f.fetch().expect("download");
    assert_eq!(
        outcome,
        Outcome::Downloaded {
            bytes: LEN as u64,
            resumed_from: 0
        }
    );
    f.assert_installed();
    assert_eq!(
        f.server.ranges(),
        vec![Some("bytes=4096-".to_string()), None]
    );
}

#[test]
fn ignored_range_starts_over() {
    let f = Fixture::new();
    std::fs::create_dir_all(&f.req.cache_dir).unwrap();
    std::fs::write(f.part(), &f.body[..1000]).unwrap();
    f.server.push(Mode::IgnoreRange, 1);
    let outcome = f.fetch().expect("download");
    assert_eq!(
        outcome,
        Outcome::Downloaded {
            bytes: LEN as u64,
            resumed_from: 0
        }
    );
    f.assert_installed();
    assert_eq!(f.server.requests(), 1);
}

#[test]
fn redirects_are_followed() {
    let f = Fixture::new();
    f.server.push(Mode::Redirect, 1);
    f.fetch().expect("download");
    f.assert_installed();
    let paths = f.server.state.lock().unwrap().paths.clone();
    assert_eq!(paths, vec!["/file", "/moved"]);
}

#[test]
fn range_survives_a_redirect() {
    let f = Fixture::new();
    std::fs::create_dir_all(&f.req.cache_dir).unwrap();
    std::fs::write(f.part(), &f.body[..5000]).unwrap();
    f.server.push(Mode::Redirect, 1);
    let outcome = f.fetch().expect("download");
    assert!(matches!(
        outcome,
        Outcome::Downloaded {
            resumed_from: 5000,
            ..
        }
    ));
    f.assert_installed();
    let range = Some("bytes=5000-".to_string());
    assert_eq!(f.server.ranges(), vec![range.clone(), range]);
}

#[test]
fn invalid_sha256_is_refused_before_any_request() {
    let mut f = Fixture::new();
    f.req.sha256 = "abc123".into();
    let err = f.fetch().expect_err("bad hash");
    assert!(
        matches!(err, DownloadError::InvalidSha256 { .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("invalid sha256 `abc123`"));
    assert_eq!(f.server.requests(), 0);
}

#[test]
fn uppercase_sha256_is_accepted() {
    let mut f = Fixture::new();
    f.req.sha256 = f.req.sha256.to_ascii_uppercase();
    f.fetch().expect("download");
    f.req.sha256 = f.req.sha256.to_ascii_lowercase();
    f.assert_installed();
}

#[test]
fn a_part_locked_by_another_process_is_busy() {
    let f = Fixture::new();
    std::fs::create_dir_all(&f.req.cache_dir).unwrap();
    let held = std::fs::File::create(f.part()).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let err = f.fetch().expect_err("busy");
    assert!(matches!(err, DownloadError::Busy { .. }), "{err:?}");
    assert_eq!(f.server.requests(), 0);
}

#[test]
fn connection_refused_is_a_network_error_after_retries() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Downloader::new()
        .unwrap()
        .with_retry_policy(2, Duration::from_millis(1))
        .fetch_text(&format!("http://127.0.0.1:{port}/list"))
        .expect_err("nothing listens");
    let DownloadError::TooManyRetries { last, attempts, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*attempts, 2);
    assert!(matches!(**last, DownloadError::Network { .. }), "{last:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("gave up after 2 attempts: cannot download `http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
    assert!(!text.contains("client error ("), "{text}");
    assert!(text.ends_with("\nhint: check the network; behind a proxy set HTTPS_PROXY (and NO_PROXY for local addresses)"), "{text}");
}

const K3S_LIST: &str = "\
8b8f2e8a8e1f1f0f3e3c6a1d0b52c0a7f1e4e1b5fd4c4e0f8a8a2d1b1c3e5f71  k3s-airgap-images-amd64.tar.zst
b3f4a3c1f2e3d0a9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5  k3s
0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0  k3s-images.txt
";

#[test]
fn fetch_text_reads_a_checksum_list() {
    let server = Server::start(K3S_LIST.as_bytes().to_vec());
    server.push(Mode::Unavailable, 1);
    let text = downloader().fetch_text(&server.url).expect("list");
    assert_eq!(text, K3S_LIST);
    assert_eq!(server.requests(), 2);
    assert_eq!(
        sha256_from_list(&text, "k3s").as_deref(),
        Some("b3f4a3c1f2e3d0a9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5")
    );
}

#[test]
fn fetch_text_retries_a_short_body_and_refuses_404() {
    let server = Server::start(K3S_LIST.as_bytes().to_vec());
    server.push(Mode::DropHalf, 1);
    assert_eq!(downloader().fetch_text(&server.url).unwrap(), K3S_LIST);
    assert_eq!(server.ranges(), vec![None, None], "text is fetched whole");
    server.push(Mode::Status(404), 3);
    let err = downloader().fetch_text(&server.url).expect_err("404");
    assert_eq!(err.status(), Some(404));
    assert_eq!(server.requests(), 3);
}

#[test]
fn fetch_text_is_capped() {
    let server = Server::start(vec![b'a'; TEXT_LIMIT as usize + 1]);
    let err = downloader().fetch_text(&server.url).expect_err("too large");
    assert!(matches!(err, DownloadError::TooLarge { .. }), "{err:?}");
    let server = Server::start(vec![b'a'; TEXT_LIMIT as usize]);
    assert_eq!(
        downloader().fetch_text(&server.url).unwrap().len(),
        TEXT_LIMIT as usize
    );
}

#[test]
fn sha256_from_list_reads_both_forms() {
    let k3s = "b3f4a3c1f2e3d0a9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5";
    assert_eq!(sha256_from_list(K3S_LIST, "k3s").as_deref(), Some(k3s));
    assert_eq!(
        sha256_from_list(K3S_LIST, "k3s-airgap-images-amd64.tar.zst").as_deref(),
        Some("8b8f2e8a8e1f1f0f3e3c6a1d0b52c0a7f1e4e1b5fd4c4e0f8a8a2d1b1c3e5f71")
    );
    assert_eq!(sha256_from_list(K3S_LIST, "k3s-arm64"), None);
    assert_eq!(sha256_from_list(K3S_LIST, "k3"), None);
    let binary = format!(
        "{}  *k0s-v1.33.1+k0s.0-amd64\r\n{k3s} *k3s\n",
        "1".repeat(64)
    );
    assert_eq!(sha256_from_list(&binary, "k3s").as_deref(), Some(k3s));
    assert_eq!(
        sha256_from_list(&binary, "k0s-v1.33.1+k0s.0-amd64").as_deref(),
        Some("1".repeat(64).as_str())
    );
    let upper = format!("{}  k3s\n", k3s.to_ascii_uppercase());
    assert_eq!(sha256_from_list(&upper, "k3s").as_deref(), Some(k3s));
    assert_eq!(sha256_from_list("nothex  k3s\n", "k3s"), None);
    assert_eq!(sha256_from_list("", "k3s"), None);
}
