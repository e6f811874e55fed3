//! Small file helpers: checks on the directories given on the command line.

use std::path::Path;

use super::Error;

/// A root given on the command line must be an existing directory.
pub fn check_root(path: &Path) -> Result<(), Error> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::NotADirectory {
            path: path.to_path_buf(),
        }),
        Err(_) => Err(Error::NoSuchDirectory {
            path: path.to_path_buf(),
        }),
    }
}
