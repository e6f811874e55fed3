//! THE ONLY code that touches the host: rooted file reads and writes, CPUID, NVML,
//! statvfs and the environment. Everything else gets data from here.
#![allow(clippy::disallowed_methods)]

pub mod config;
pub mod cpuid;
pub mod download;
pub mod fs;
pub mod host;
pub mod live;
pub mod nvml;
pub mod random;
pub mod reader;
pub mod runner;
pub mod snapshot;

use std::path::PathBuf;

/// Errors at the door to the host; each names the path and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "`{path}` is not a directory\nhint: pass a snapshot made by `uaiso doctor --save-snapshot DIR`, or a tree shaped like `/`"
    )]
    NotADirectory { path: PathBuf },
    #[error(
        "`{path}` does not exist\nhint: check the path; a snapshot is made by `uaiso doctor --save-snapshot DIR`"
    )]
    NoSuchDirectory { path: PathBuf },
    #[error(
        "`{path}` already exists and is not empty\nhint: choose a new directory, or remove this one first"
    )]
    NotEmpty { path: PathBuf },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run `{command}`: {source}")]
    Command {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no downloader was set up for this host")]
    NoDownloader,
    #[error(transparent)]
    Download(#[from] download::DownloadError),
    #[error("cannot get random bytes from the kernel: {source}")]
    Random {
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Usage errors (a bad path on the command line) exit with 2.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::NotADirectory { .. }
            | Error::NoSuchDirectory { .. }
            | Error::NotEmpty { .. } => true,
            Error::Read { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            Error::Write { .. }
            | Error::Command { .. }
            | Error::NoDownloader
            | Error::Random { .. }
            | Error::Download(_) => false,
        }
    }
}
