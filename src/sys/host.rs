//! The host as the engine sees it: every path under a root, commands through one
//! runner, downloads through the one downloader.

use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::Error;
use super::download::{Downloader, NoProgress, Progress, Request};
use super::runner::{Output, Runner};

/// Where downloads wait until they are verified.
pub const CACHE_DIR: &str = "/var/cache/uaiso";

pub struct Host {
    root: PathBuf,
    runner: Box<dyn Runner>,
    /// Commands act on the live system (the root is `/`, or a test stands in for it).
    live: bool,
    downloader: Option<Downloader>,
    cache_dir: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

impl Host {
    pub fn new(root: &Path, runner: Box<dyn Runner>) -> Host {
        Host {
            root: root.to_path_buf(),
            runner,
            live: true,
            downloader: None,
            cache_dir: CACHE_DIR.to_string(),
        }
    }

    /// The host at `root`: the live system when it is `/`; any other root gets its files
    /// but no commands (an image being built, a test tree).
    pub fn at(root: &Path) -> Host {
        if root == Path::new("/") {
            Host::new(root, Box::new(super::runner::HostRunner))
        } else {
            Host::new(root, Box::new(super::runner::SkipRunner)).offline()
        }
    }

    /// Files go under the root, but no command runs: an image being built.
    pub fn offline(mut self) -> Host {
        self.live = false;
        self
    }

    /// Do commands here change a running system (so that waiting for it makes sense)?
    pub fn live(&self) -> bool {
        self.live
    }

    pub fn with_downloader(mut self, downloader: Downloader) -> Host {
        self.downloader = Some(downloader);
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `/etc/hosts` under the root.
    pub fn path(&self, abs: &str) -> PathBuf {
        self.root.join(abs.trim_start_matches('/'))
    }

    pub fn read(&self, abs: &str) -> Result<Option<(Vec<u8>, u32)>, Error> {
        let path = self.path(abs);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let mode = std::fs::metadata(&path)
                    .map(|m| m.mode() & 0o7777)
                    .unwrap_or(0o644);
                Ok(Some((bytes, mode)))
            }
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                Ok(None)
            }
            Err(source) => Err(Error::Read { path, source }),
        }
    }

    pub fn read_text(&self, abs: &str) -> Result<Option<String>, Error> {
        Ok(self
            .read(abs)?
            .map(|(b, _)| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Write a file atomically with `mode`; returns the directories it had to create.
    pub fn write(&self, abs: &str, bytes: &[u8], mode: u32) -> Result<Vec<String>, Error> {
        let created = self.create_parents(abs)?;
        let path = self.path(abs);
        let written = super::fs::write_atomic(&path, bytes).and_then(|()| {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .map_err(io(&path))
        });
        self.undo_dirs_on_error(written, created)
    }

    /// Create the missing directories above `abs`, outermost first, and name them, so
    /// that an undo can remove exactly those.
    pub fn create_parents(&self, abs: &str) -> Result<Vec<String>, Error> {
        let Some(parent) = Path::new(abs).parent() else {
            return Ok(Vec::new());
        };
        self.create_dirs(&parent.to_string_lossy())
    }

    /// Create `abs` and the directories above it; returns the ones that were missing.
    pub fn create_dirs(&self, abs: &str) -> Result<Vec<String>, Error> {
        let mut missing = Vec::new();
        let mut dir = Some(Path::new(abs));
        while let Some(d) = dir {
            if d.as_os_str().is_empty()
                || d == Path::new("/")
                || self.path(&d.to_string_lossy()).exists()
            {
                break;
            }
            missing.push(d.to_string_lossy().into_owned());
            dir = d.parent();
        }
        missing.reverse();
        for d in &missing {
            let path = self.path(d);
            match std::fs::create_dir(&path) {
                Err(e) if e.kind() != ErrorKind::AlreadyExists => return Err(io(&path)(e)),
                _ => {}
            }
        }
        Ok(missing)
    }

    /// A failed change leaves no directories behind that it created.
    fn undo_dirs_on_error(
        &self,
        result: Result<(), Error>,
        created: Vec<String>,
    ) -> Result<Vec<String>, Error> {
        match result {
            Ok(()) => Ok(created),
            Err(e) => {
                self.remove_empty_dirs(&created);
                Err(e)
            }
        }
    }

    /// Remove directories uaiso created, innermost first, where they are empty.
    pub fn remove_empty_dirs(&self, dirs: &[String]) {
        for d in dirs.iter().rev() {
            let _ = std::fs::remove_dir(self.path(d));
        }
    }

    /// Remove a file or symlink; one that is already gone is fine.
    pub fn remove_file(&self, abs: &str) -> Result<(), Error> {
        let path = self.path(abs);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(io(&path)(e)),
            _ => Ok(()),
        }
    }

    /// The regular files in a directory, with their sizes; none when it does not exist.
    pub fn list_files(&self, abs: &str) -> Vec<(String, u64)> {
        let Ok(dir) = std::fs::read_dir(self.path(abs)) else {
            return Vec::new();
        };
        let mut out: Vec<(String, u64)> = dir
            .filter_map(Result::ok)
            .filter_map(|e| {
                let meta = e.metadata().ok().filter(|m| m.is_file())?;
                Some((e.file_name().to_string_lossy().into_owned(), meta.len()))
            })
            .collect();
        out.sort();
        out
    }

    pub fn exists(&self, abs: &str) -> bool {
        std::fs::symlink_metadata(self.path(abs)).is_ok()
    }

    pub fn read_link(&self, abs: &str) -> Option<String> {
        std::fs::read_link(self.path(abs))
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
    }

    /// Make a symlink; returns the directories it had to create.
    pub fn symlink(&self, abs: &str, target: &str) -> Result<Vec<String>, Error> {
        let created = self.create_parents(abs)?;
        let path = self.path(abs);
        let linked = std::os::unix::fs::symlink(target, &path).map_err(io(&path));
        self.undo_dirs_on_error(linked, created)
    }

    pub fn run(&self, argv: &[String]) -> Result<Output, Error> {
        self.run_with_input(argv, None)
    }

    pub fn run_with_input(&self, argv: &[String], input: Option<&str>) -> Result<Output, Error> {
        tracing::debug!(command = %argv.join(" "), "run");
        self.runner
            .run(argv, input)
            .map_err(|source| Error::Command {
                command: argv.join(" "),
                source,
            })
    }

    pub fn fetch_text(&self, url: &str) -> Result<String, Error> {
        self.downloader()?.fetch_text(url).map_err(Error::from)
    }

    /// Fetch `url` to `dest`, verified; returns the directories it had to create (the
    /// download cache, the destination's parents).
    pub fn download(
        &self,
        url: &str,
        sha256: &str,
        dest: &str,
        mode: u32,
        progress: Option<&mut dyn Progress>,
    ) -> Result<Vec<String>, Error> {
        let mut created = self.create_dirs(&self.cache_dir)?;
        created.extend(self.create_parents(dest)?);
        let req = Request {
            url: url.to_string(),
            sha256: sha256.to_string(),
            dest: self.path(dest),
            cache_dir: self.path(&self.cache_dir),
            mode,
        };
        let mut quiet = NoProgress;
        let progress: &mut dyn Progress = match progress {
            Some(p) => p,
            None => &mut quiet,
        };
        let fetched = self
            .downloader()
            .and_then(|d| d.fetch(&req, progress).map(|_| ()).map_err(Error::from));
        self.undo_dirs_on_error(fetched, created)
    }

    fn downloader(&self) -> Result<&Downloader, Error> {
        self.downloader.as_ref().ok_or(Error::NoDownloader)
    }

    /// Copy the running binary to `dest` under the root.
    pub fn copy_self(&self, dest: &str) -> Result<Vec<String>, Error> {
        let exe = std::env::current_exe().map_err(|source| Error::Read {
            path: PathBuf::from("/proc/self/exe"),
            source,
        })?;
        let bytes = std::fs::read(&exe).map_err(|source| Error::Read { path: exe, source })?;
        self.write(dest, &bytes, 0o755)
    }

    /// Remove a directory tree without following symlinks and without descending into
    /// another filesystem (a mounted model disk, an NFS share); what is mounted there
    /// stays, with the directories that lead to it.
    pub fn remove_tree_same_fs(&self, abs: &str) -> Result<(), Error> {
        let path = self.path(abs);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return Ok(());
        };
        remove_same_fs(&path, meta.dev()).map(|_| ())
    }
}

/// Returns whether `path` is gone.
fn remove_same_fs(path: &Path, dev: u64) -> Result<bool, Error> {
    let meta = std::fs::symlink_metadata(path).map_err(io(path))?;
    if meta.dev() != dev {
        tracing::warn!(path = %path.display(), "kept: another filesystem is mounted here");
        return Ok(false);
    }
    if !meta.is_dir() {
        std::fs::remove_file(path).map_err(io(path))?;
        return Ok(true);
    }
    let mut all_gone = true;
    for entry in std::fs::read_dir(path).map_err(io(path))? {
        let entry = entry.map_err(io(path))?;
        all_gone &= remove_same_fs(&entry.path(), dev)?;
    }
    if all_gone {
        std::fs::remove_dir(path).map_err(io(path))?;
    }
    Ok(all_gone)
}
