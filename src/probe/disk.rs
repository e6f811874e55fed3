//! Disk facts where models go: free space (measured live, see `live.rs`) and the
//! filesystem type from the mount table.

use serde::{Deserialize, Serialize};

use super::Note;
use super::live::{HostJson, MODELS_DIR};
use super::raw::RawInputs;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskFacts {
    pub models_dir: String,
    /// The nearest existing directory, which was measured.
    pub probed: Option<String>,
    pub mount_point: Option<String>,
    pub fs_type: Option<String>,
    pub avail_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
}

/// Mount points in `/proc/mounts` escape spaces and friends as octal.
fn unescape(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// The mount that holds `path`: the longest mount point that is a prefix of it; the
/// last such line wins, as later mounts hide earlier ones.
pub fn mount_for(mounts: &str, path: &str) -> Option<(String, String)> {
    let mut best: Option<(String, String)> = None;
    for line in mounts.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(mp), Some(fs)) = (f.get(1), f.get(2)) else {
            continue;
        };
        let mp = unescape(mp);
        let inside = mp == "/"
            || path == mp
            || path
                .strip_prefix(mp.as_str())
                .is_some_and(|r| r.starts_with('/'));
        if inside && best.as_ref().is_none_or(|(b, _)| mp.len() >= b.len()) {
            best = Some((mp, fs.to_string()));
        }
    }
    best
}

pub fn probe(raw: &RawInputs, live: &HostJson, notes: &mut Vec<Note>) -> DiskFacts {
    let space = live.models_dir.as_ref();
    if space.is_none() {
        notes.push(Note::new(
            "disk",
            "free space where models go was not measured",
        ));
    }
    let models_dir = space.map_or(MODELS_DIR.to_string(), |s| s.wanted.clone());
    let probed = space.map(|s| s.probed.clone());
    let mount = raw
        .text("proc/mounts")
        .zip(probed.as_deref().or(Some(models_dir.as_str())))
        .and_then(|(m, p)| mount_for(m, p));
    DiskFacts {
        models_dir,
        probed,
        mount_point: mount.as_ref().map(|(mp, _)| mp.clone()),
        fs_type: mount.map(|(_, fs)| fs),
        avail_bytes: space.map(|s| s.avail_bytes),
        total_bytes: space.map(|s| s.total_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_mount_wins() {
        let mounts = "/dev/sda1 / ext4 rw 0 0\nnas:/models /var/lib/uaiso nfs4 rw 0 0\n/dev/sdb1 /var/lib/uaiso2 xfs rw 0 0\n";
        assert_eq!(
            mount_for(mounts, "/var/lib/uaiso/models"),
            Some(("/var/lib/uaiso".into(), "nfs4".into()))
        );
        assert_eq!(
            mount_for(mounts, "/var/lib"),
            Some(("/".into(), "ext4".into()))
        );
        assert_eq!(
            mount_for("/dev/x /mnt/my\\040disk ext4 rw 0 0\n", "/mnt/my disk/m"),
            Some(("/mnt/my disk".into(), "ext4".into()))
        );
    }
}
