//! Walk the probe's path patterns under a root and collect what is there.

use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::probe::raw::{self, Pattern, RawInputs, Want};

/// Read every pattern of the first pass, then the follow-ups that depend on it.
/// `snapshot` also reads the live-only JSON files that a snapshot carries.
pub fn read(root: &Path, snapshot: bool) -> RawInputs {
    let mut raw = RawInputs::default();
    let mut first = raw::patterns();
    if snapshot {
        first.extend(raw::LIVE_ONLY.iter().map(|p| Pattern {
            path: p.to_string(),
            want: Want::Text,
        }));
    }
    for pattern in &first {
        read_pattern(root, pattern, &mut raw);
    }
    for pattern in raw::follow_ups(&raw) {
        read_pattern(root, &pattern, &mut raw);
    }
    raw
}

fn read_pattern(root: &Path, pattern: &Pattern, raw: &mut RawInputs) {
    for rel in expand(root, &pattern.path) {
        let path = root.join(&rel);
        match pattern.want {
            Want::Text => match read_regular(&path) {
                Ok(bytes) => {
                    raw.texts
                        .insert(rel, String::from_utf8_lossy(&bytes).into_owned());
                }
                Err(e) if absent(&e) => {}
                Err(e) => {
                    raw.unreadable.insert(rel, reason(&e));
                }
            },
            Want::Exists => {
                if std::fs::symlink_metadata(&path).is_ok() {
                    raw.exists.insert(rel);
                }
            }
            Want::Link => {
                if let Ok(target) = std::fs::read_link(&path) {
                    raw.links.insert(rel, target.to_string_lossy().into_owned());
                }
            }
        }
    }
}

/// Read a regular file. A FIFO or device node in a snapshot would block or stream
/// forever; /proc and /sys files are all regular files. procfs reports size 0, and
/// generating /proc/net/tcp is costly, so read in one large gulp rather than letting
/// the buffer grow from 32 bytes.
fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    // Check before opening: opening a FIFO blocks until a writer comes.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut file = std::fs::File::open(path)?;
    let mut buf = Vec::with_capacity((meta.len() as usize).max(64 * 1024) + 1);
    file.read_to_end(&mut buf)?;
    Ok(buf)
}

fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::Other => e.to_string(),
        kind => kind.to_string(),
    }
}

/// "Not there" in all its forms: a directory where a file was expected, or EINVAL
/// (22), which sysfs returns for attributes a device does not implement.
fn absent(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::IsADirectory
    ) || e.raw_os_error() == Some(22)
}

/// Expand `*` segments against the directory listings under `root`.
fn expand(root: &Path, pattern: &str) -> Vec<String> {
    let mut found = vec![String::new()];
    for segment in pattern.split('/') {
        let mut next = Vec::new();
        for prefix in &found {
            let join = |name: &str| {
                if prefix.is_empty() {
                    name.to_string()
                } else {
                    format!("{prefix}/{name}")
                }
            };
            if !segment.contains('*') {
                next.push(join(segment));
                continue;
            }
            let Ok(entries) = std::fs::read_dir(root.join(prefix)) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| raw::segment_matches(segment, name))
                .collect();
            names.sort();
            next.extend(names.iter().map(|n| join(n)));
        }
        found = next;
    }
    found
}
