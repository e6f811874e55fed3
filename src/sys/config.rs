//! The user's own profiles and model catalogue files: `/etc/uaiso/profiles/*.toml`,
//! `/etc/uaiso/models/*.toml` (under the root) and files named on the command line.

use std::path::{Path, PathBuf};

use super::Error;

/// A file's display path and text.
pub type Loaded = (String, String);

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Result<Loaded, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((path.display().to_string(), text))
}

/// Profiles from `<root>/etc/uaiso/profiles/*.toml`, then the extra files in order.
pub fn profile_files(root: &Path, extra: &[PathBuf]) -> Result<Vec<Loaded>, Error> {
    let mut out = Vec::new();
    for path in toml_files(&root.join("etc/uaiso/profiles")) {
        out.push(read(&path)?);
    }
    for path in extra {
        out.push(read(path)?);
    }
    Ok(out)
}

/// Model catalogue files from `<root>/etc/uaiso/models/*.toml`.
pub fn model_files(root: &Path) -> Result<Vec<Loaded>, Error> {
    toml_files(&root.join("etc/uaiso/models"))
        .iter()
        .map(|p| read(p))
        .collect()
}

/// The settings file: `explicit` when given (it must exist), else
/// `<root>/etc/uaiso/uaiso.toml` when it exists.
pub fn settings_file(root: &Path, explicit: Option<&Path>) -> Result<Option<Loaded>, Error> {
    match explicit {
        Some(path) => read(path).map(Some),
        None => {
            let path = root.join("etc/uaiso/uaiso.toml");
            if path.is_file() {
                read(&path).map(Some)
            } else {
                Ok(None)
            }
        }
    }
}
