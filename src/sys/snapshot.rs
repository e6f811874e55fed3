//! Collect a host's raw inputs (live, or from a snapshot directory) and save them as a
//! snapshot directory (layout in docs/snapshot.md).

use std::path::{Path, PathBuf};

use super::{Error, cpuid, fs, live, nvml, reader};
use crate::probe::{self, RawInputs, pci, raw};

/// Where the facts come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The running host, through `/`.
    Live,
    /// A snapshot directory or any tree shaped like `/`.
    Sysroot(PathBuf),
}

/// Read everything the probe needs.
pub fn collect(source: &Source) -> Result<RawInputs, Error> {
    match source {
        Source::Sysroot(dir) => {
            fs::check_root(dir)?;
            Ok(reader::read(dir, true))
        }
        Source::Live => {
            let root = Path::new("/");
            let mut raw = reader::read(root, false);
            if let Some(report) = cpuid::report() {
                raw.texts.insert(raw::CPUID_JSON.into(), pretty(&report));
            }
            raw.texts
                .insert(raw::HOST_JSON.into(), pretty(&live::host_json(root)));
            // NVML takes tens of milliseconds to start: ask only when a card is there.
            if probe::wants_nvml(&raw) {
                raw.texts
                    .insert(raw::NVIDIA_JSON.into(), pretty(&nvml::report()));
            }
            Ok(raw)
        }
    }
}

/// Pretty JSON for the virtual snapshot files.
fn pretty<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

/// Write `raw` as a snapshot at `dir`, which must not exist or be empty. The tree is
/// built beside it and renamed into place, so a failed save leaves nothing behind.
pub fn save(raw: &RawInputs, dir: &Path) -> Result<(), Error> {
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(Error::NotEmpty {
                path: dir.to_path_buf(),
            });
        }
    } else if dir.exists() {
        return Err(Error::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".into());
    let tmp = dir.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let result = write_tree(raw, &tmp).and_then(|()| {
        if dir.exists() {
            std::fs::remove_dir(dir).map_err(|source| Error::Write {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        std::fs::rename(&tmp, dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn write_tree(raw: &RawInputs, tmp: &Path) -> Result<(), Error> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    std::fs::create_dir_all(tmp).map_err(werr(tmp))?;
    let present: Vec<(u16, u16)> = pci::devices(raw)
        .iter()
        .map(|d| (d.vendor, d.device))
        .collect();
    // Links first: files read through a link (`drm/card0/device/mem_info_*`) are then
    // written through it, so the snapshot reads back exactly as the host did.
    for (rel, target) in &raw.links {
        let path = tmp.join(rel);
        let parent = path.parent().unwrap_or(tmp);
        std::fs::create_dir_all(parent).map_err(werr(parent))?;
        let target = match link_home(raw, rel) {
            Some(home) => {
                std::fs::create_dir_all(tmp.join(&home)).map_err(werr(&tmp.join(&home)))?;
                let depth = rel.matches('/').count();
                format!("{}{home}", "../".repeat(depth))
            }
            None => target.clone(),
        };
        std::os::unix::fs::symlink(&target, &path).map_err(werr(&path))?;
    }
    for (rel, text) in &raw.texts {
        let body = if rel.ends_with("pci.ids") {
            pci::pci_ids_extract(text, &present)
        } else if rel == "etc/group" {
            // Only the device groups, without their members: a bug report names no users.
            text.lines()
                .filter(|l| l.starts_with("render:") || l.starts_with("video:"))
                .filter_map(|l| l.rsplit_once(':').map(|(head, _)| format!("{head}:\n")))
                .collect()
        } else {
            text.clone()
        };
        write_file(&tmp.join(rel), body.as_bytes())?;
    }
    for rel in &raw.exists {
        let path = tmp.join(rel);
        if path.exists() {
            continue;
        }
        write_file(&path, b"")?;
    }
    if !raw.unreadable.is_empty() {
        let json = serde_json::to_string_pretty(&raw.unreadable).unwrap_or_default();
        write_file(&tmp.join(raw::UNREADABLE_JSON), json.as_bytes())?;
    }
    Ok(())
}

/// A link that files were read through needs a real directory to point at. Only the
/// link's last component is ever read, so it points at the PCI device of that name,
/// which is where sysfs itself leads.
fn link_home(raw: &RawInputs, link: &str) -> Option<String> {
    let prefix = format!("{link}/");
    let read_through = raw.texts.keys().any(|k| k.starts_with(&prefix))
        || raw.exists.iter().any(|k| k.starts_with(&prefix));
    let name = raw.link_name(link)?;
    read_through.then(|| format!("sys/bus/pci/devices/{name}"))
}

/// Files inside the temporary tree need no atomicity of their own: the whole tree is
/// renamed into place at the end.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(path, bytes).map_err(err)
}
