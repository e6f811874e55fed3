//! The raw inputs of a probe: which host paths are read, and what was found there.
//!
//! `sys::reader` walks [`patterns`] (and then [`follow_ups`]) under a root and fills a
//! [`RawInputs`]; every parser in `probe/` works from that map alone, so a live host and
//! a snapshot directory are read by exactly the same code.

use std::collections::{BTreeMap, BTreeSet};

/// What the reader should take from a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// The file's text.
    Text,
    /// Only whether it exists (device nodes, binaries, directories).
    Exists,
    /// The symlink's target text.
    Link,
}

/// One path pattern, relative to the root. A segment ending in `*` matches every entry
/// of that directory whose name starts with the part before the `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub path: String,
    pub want: Want,
}

impl Pattern {
    fn new(path: impl Into<String>, want: Want) -> Self {
        Pattern {
            path: path.into(),
            want,
        }
    }
}

/// Files that only a live probe produces (NVML, CPUID, statvfs, environment); a
/// snapshot stores them under these names.
pub const CPUID_JSON: &str = "uaiso/cpuid.json";
pub const NVIDIA_JSON: &str = "uaiso/nvidia.json";
pub const HOST_JSON: &str = "uaiso/host.json";
pub const UNREADABLE_JSON: &str = "uaiso/unreadable.json";

/// The live-only files, read from a snapshot and produced by `sys` on a live host.
pub const LIVE_ONLY: [&str; 4] = [CPUID_JSON, NVIDIA_JSON, HOST_JSON, UNREADABLE_JSON];

const PCI_TEXT: [&str; 9] = [
    "vendor",
    "device",
    "class",
    "subsystem_vendor",
    "subsystem_device",
    "current_link_speed",
    "current_link_width",
    "max_link_speed",
    "max_link_width",
];

const TEXT: &[&str] = &[
    "proc/cpuinfo",
    "proc/meminfo",
    "proc/swaps",
    "proc/mounts",
    "proc/self/cgroup",
    "proc/modules",
    "proc/net/tcp",
    "proc/net/tcp6",
    "proc/sys/kernel/osrelease",
    "proc/sys/kernel/hostname",
    "proc/sys/net/ipv4/ip_forward",
    "proc/driver/nvidia/version",
    "sys/devices/system/cpu/cpu*/topology/physical_package_id",
    "sys/devices/system/cpu/cpu*/topology/core_id",
    "sys/block/zram*/disksize",
    "sys/block/zram*/comp_algorithm",
    "sys/block/zram*/mm_stat",
    "sys/fs/cgroup/cgroup.controllers",
    "sys/class/drm/card*/device/mem_info_vram_total",
    "sys/class/drm/card*/device/mem_info_vram_used",
    "sys/class/drm/card*/device/mem_info_gtt_total",
    "sys/class/kfd/kfd/topology/nodes/*/properties",
    "sys/class/dmi/id/sys_vendor",
    "sys/class/dmi/id/product_name",
    "sys/class/dmi/id/board_vendor",
    "sys/class/dmi/id/board_name",
    "sys/hypervisor/type",
    "etc/os-release",
    "usr/lib/os-release",
    "etc/hostname",
    "etc/hosts",
    "etc/nsswitch.conf",
    "etc/group",
    "usr/share/misc/pci.ids",
    "usr/share/hwdata/pci.ids",
];

const EXISTS: &[&str] = &[
    "sys/module/br_netfilter",
    "sys/module/overlay",
    "run/systemd/system",
    "usr/local/bin/k3s",
    "etc/systemd/system/k3s.service",
    "var/lib/rancher/k3s",
    "usr/local/bin/k0s",
    "etc/systemd/system/k0scontroller.service",
    "var/lib/k0s",
    "usr/bin/nvidia-container-runtime",
    "usr/local/nvidia/toolkit/nvidia-container-runtime",
    "usr/bin/nvidia-ctk",
    "dev/dri/renderD*",
    "dev/kfd",
    "dev/apex_*",
    "dev/hailo*",
    "dev/tenstorrent/*",
];

const LINKS: &[&str] = &["sys/bus/pci/devices/*/driver", "sys/class/drm/*/device"];

/// Every path the first pass reads.
pub fn patterns() -> Vec<Pattern> {
    let mut out: Vec<Pattern> = TEXT.iter().map(|p| Pattern::new(*p, Want::Text)).collect();
    out.extend(
        PCI_TEXT
            .iter()
            .map(|leaf| Pattern::new(format!("sys/bus/pci/devices/*/{leaf}"), Want::Text)),
    );
    out.extend(EXISTS.iter().map(|p| Pattern::new(*p, Want::Exists)));
    out.extend(LINKS.iter().map(|p| Pattern::new(*p, Want::Link)));
    out
}

/// Paths that depend on what the first pass found: the process's own cgroup and the
/// running kernel's module tree.
pub fn follow_ups(raw: &RawInputs) -> Vec<Pattern> {
    let mut out = Vec::new();
    if let Some(cgroup) = raw.text("proc/self/cgroup") {
        for line in cgroup.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let path = path.trim().trim_start_matches('/');
            let sep = if path.is_empty() { "" } else { "/" };
            if controllers.is_empty() {
                out.push(Pattern::new(
                    format!("sys/fs/cgroup/{path}{sep}memory.max"),
                    Want::Text,
                ));
            } else if controllers.split(',').any(|c| c == "memory") {
                out.push(Pattern::new(
                    format!("sys/fs/cgroup/memory/{path}{sep}memory.limit_in_bytes"),
                    Want::Text,
                ));
            }
        }
    }
    if let Some(release) = raw.text("proc/sys/kernel/osrelease").map(str::trim)
        && !release.is_empty()
        && !release.contains('/')
    {
        let base = format!("lib/modules/{release}");
        out.push(Pattern::new(format!("{base}/modules.builtin"), Want::Text));
        out.push(Pattern::new(
            format!("{base}/kernel/net/bridge/br_netfilter.ko*"),
            Want::Exists,
        ));
        out.push(Pattern::new(
            format!("{base}/kernel/fs/overlayfs/overlay.ko*"),
            Want::Exists,
        ));
    }
    out
}

/// What a probe read, keyed by path relative to the root (no leading `/`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawInputs {
    pub texts: BTreeMap<String, String>,
    pub exists: BTreeSet<String>,
    pub links: BTreeMap<String, String>,
    /// Paths that exist but could not be read, with the reason.
    pub unreadable: BTreeMap<String, String>,
}

impl RawInputs {
    pub fn text(&self, path: &str) -> Option<&str> {
        self.texts.get(path).map(String::as_str)
    }

    /// The first of `paths` that has text.
    pub fn first_text(&self, paths: &[&str]) -> Option<(&str, &str)> {
        paths
            .iter()
            .find_map(|p| self.texts.get_key_value(*p))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Text of a sysfs-style single value, trimmed.
    pub fn value(&self, path: &str) -> Option<&str> {
        self.text(path).map(str::trim)
    }

    pub fn has(&self, path: &str) -> bool {
        self.exists.contains(path)
            || self.texts.contains_key(path)
            || self.links.contains_key(path)
            || self.unreadable.contains_key(path)
    }

    /// The last component of a symlink's target (a driver name, a PCI address).
    pub fn link_name(&self, path: &str) -> Option<&str> {
        self.links
            .get(path)
            .and_then(|t| t.trim_end_matches('/').rsplit('/').next())
            .filter(|s| !s.is_empty())
    }

    /// Names of the entries directly under `dir` that anything was found beneath.
    pub fn children(&self, dir: &str) -> BTreeSet<&str> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let mut out = BTreeSet::new();
        let keys = self
            .texts
            .keys()
            .chain(self.exists.iter())
            .chain(self.links.keys())
            .chain(self.unreadable.keys());
        for key in keys {
            if let Some(rest) = key.strip_prefix(&prefix)
                && let Some(name) = rest.split('/').next()
                && !name.is_empty()
            {
                out.insert(name);
            }
        }
        out
    }

    /// Why `path` could not be read, for reports.
    pub fn why_missing(&self, path: &str) -> String {
        match self.unreadable.get(path) {
            Some(reason) => format!("`/{path}` could not be read: {reason}"),
            None => format!("`/{path}` is missing"),
        }
    }
}

/// Does a pattern segment match a directory entry name?
pub fn segment_matches(segment: &str, name: &str) -> bool {
    match segment.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix) && !name.starts_with('.'),
        None => segment == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_ups_find_v2_and_v1_cgroups_and_modules() {
        let mut raw = RawInputs::default();
        raw.texts.insert(
            "proc/self/cgroup".into(),
            "4:memory:/docker/abc\n0::/user.slice/session-2.scope\n".into(),
        );
        raw.texts.insert(
            "proc/sys/kernel/osrelease".into(),
            "6.8.0-45-generic\n".into(),
        );
        let paths: Vec<String> = follow_ups(&raw).into_iter().map(|p| p.path).collect();
        assert!(paths.contains(&"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes".into()));
        assert!(paths.contains(&"sys/fs/cgroup/user.slice/session-2.scope/memory.max".into()));
        assert!(paths.contains(&"lib/modules/6.8.0-45-generic/modules.builtin".into()));
    }

    #[test]
    fn root_cgroup_maps_to_the_top_level_file() {
        let mut raw = RawInputs::default();
        raw.texts.insert("proc/self/cgroup".into(), "0::/\n".into());
        let paths: Vec<String> = follow_ups(&raw).into_iter().map(|p| p.path).collect();
        assert_eq!(paths, vec!["sys/fs/cgroup/memory.max".to_string()]);
    }

    #[test]
    fn children_and_links() {
        let mut raw = RawInputs::default();
        raw.texts.insert(
            "sys/bus/pci/devices/0000:01:00.0/vendor".into(),
            "0x10de\n".into(),
        );
        raw.links.insert(
            "sys/bus/pci/devices/0000:01:00.0/driver".into(),
            "../../../bus/pci/drivers/nvidia".into(),
        );
        assert_eq!(
            raw.children("sys/bus/pci/devices")
                .into_iter()
                .collect::<Vec<_>>(),
            vec!["0000:01:00.0"]
        );
        assert_eq!(
            raw.link_name("sys/bus/pci/devices/0000:01:00.0/driver"),
            Some("nvidia")
        );
        assert!(segment_matches("zram*", "zram0"));
        assert!(!segment_matches("zram*", "loop0"));
        assert!(segment_matches("*", "cpu0"));
    }
}
