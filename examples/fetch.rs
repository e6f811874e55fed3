//! Download one file with uaiso's downloader: `cargo run --release --example fetch -- URL SHA256 DEST`.
//!
//! Partial downloads live in `.uaiso-cache/` next to DEST; the file gets mode 0644. Quiet
//! on success; `scripts/bench-download` times it against curl.

use std::path::PathBuf;
use std::process::ExitCode;

use uaiso::sys::download::{Downloader, NoProgress, Request};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, sha256, dest] = args.as_slice() else {
        eprintln!("usage: fetch URL SHA256 DEST");
        return ExitCode::from(2);
    };
    let dest = PathBuf::from(dest);
    let cache_dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."))
        .join(".uaiso-cache");
    let req = Request {
        url: url.clone(),
        sha256: sha256.clone(),
        dest,
        cache_dir,
        mode: 0o644,
    };
    match Downloader::new().and_then(|d| d.fetch(&req, &mut NoProgress)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
