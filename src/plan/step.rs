//! The closed set of things uaiso does to a host. Each variant carries fully resolved
//! data, so the plan that is printed is exactly the plan that runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a download's checksum comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Checksum {
    /// A sha256 known in advance.
    Pinned { sha256: String },
    /// The release's own checksum list, fetched first (as the k3s installer does).
    List { url: String, name: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// A file uaiso writes whole (drop-ins, units, configs). A file that was there
    /// before is kept in the receipt and put back on reset.
    WriteFile {
        path: String,
        content: String,
        mode: u32,
        why: String,
    },
    /// One line added to a file that is not ours (`/etc/hosts`).
    AppendLine {
        path: String,
        line: String,
        why: String,
    },
    /// A symlink (`kubectl` → `k3s`).
    Symlink { path: String, target: String },
    /// Kernel parameters set now, through /proc/sys; the drop-in keeps them at boot.
    Sysctl { values: BTreeMap<String, String> },
    /// Kernel modules loaded now; modules-load.d keeps them at boot.
    LoadModules { modules: Vec<String> },
    /// A file fetched and verified by sha256 before it is put in place.
    Download {
        url: String,
        checksum: Checksum,
        dest: String,
        mode: u32,
    },
    /// This binary, copied so that `reset` is always at hand.
    CopySelf { dest: String },
    /// A systemd unit enabled and started (after a daemon-reload).
    EnableService { unit: String },
    /// A command whose effect `creates` a path; `undo` takes it back.
    Command {
        argv: Vec<String>,
        creates: String,
        undo: Vec<Vec<String>>,
        why: String,
    },
    /// A command's output saved to a file (the k0s admin kubeconfig).
    CaptureToFile {
        argv: Vec<String>,
        path: String,
        mode: u32,
    },
    /// Wait until the API answers and the node is Ready.
    WaitForNode {
        kubectl: Vec<String>,
        unit: String,
        timeout_s: u64,
    },
    /// What a distro leaves behind when it runs: data dirs, CNI interfaces, iptables
    /// rules. Nothing to do on the way up; on reset, all of it goes, without crossing
    /// into another filesystem.
    DistroLeftovers {
        distro: String,
        dirs: Vec<String>,
        interfaces: Vec<String>,
        iptables_chains: Vec<String>,
        stop: Vec<Vec<String>>,
    },
}

impl Step {
    /// One line for `plan` and the progress output.
    pub fn describe(&self) -> String {
        match self {
            Step::WriteFile { path, why, .. } => format!("write `{path}` ({why})"),
            Step::AppendLine { path, line, why } => format!("add `{line}` to `{path}` ({why})"),
            Step::Symlink { path, target } => format!("link `{path}` → `{target}`"),
            Step::Sysctl { values } => {
                let v: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("set {}", v.join(", "))
            }
            Step::LoadModules { modules } => format!("load kernel modules {}", modules.join(", ")),
            Step::Download {
                url,
                checksum,
                dest,
                ..
            } => {
                let check = match checksum {
                    Checksum::Pinned { sha256 } => {
                        format!("sha256 {}…", &sha256[..sha256.len().min(12)])
                    }
                    Checksum::List { url, name } => format!("sha256 of `{name}` from {url}"),
                };
                format!("download {url} to `{dest}`, verified by {check}")
            }
            Step::CopySelf { dest } => {
                format!("copy uaiso to `{dest}` so that `reset` is always there")
            }
            Step::EnableService { unit } => format!("enable and start `{unit}`"),
            Step::Command { argv, why, .. } => format!("run `{}` ({why})", argv.join(" ")),
            Step::CaptureToFile { argv, path, .. } => {
                format!("save the output of `{}` to `{path}`", argv.join(" "))
            }
            Step::WaitForNode {
                unit, timeout_s, ..
            } => {
                format!("wait for the API and the node to be Ready (`{unit}`, up to {timeout_s} s)")
            }
            Step::DistroLeftovers { distro, .. } => {
                format!(
                    "on reset: remove what {distro} leaves behind (data, CNI interfaces, iptables rules)"
                )
            }
        }
    }
}
