//! PURE: k3s and k0s as data — pinned releases, download URLs, checksums, unit files,
//! config files — turned into plan steps.

pub mod k0s;
pub mod k3s;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    Amd64,
    Arm64,
}

impl Arch {
    /// From `HostFacts.cpu.arch`.
    pub fn from_facts(arch: &str) -> Option<Arch> {
        match arch {
            "x86_64" => Some(Arch::Amd64),
            "aarch64" => Some(Arch::Arm64),
            _ => None,
        }
    }
}

/// What the distro steps depend on.
#[derive(Debug, Clone)]
pub struct DistroOptions {
    pub arch: Arch,
    /// Release download base; a mirror, or a local server in tests.
    pub base_url: Option<String>,
    /// Prometheus does the metrics, so the distro's metrics-server is off.
    pub monitoring: bool,
    /// Open NodePorts to the LAN (off: loopback only).
    pub expose: bool,
    /// Proxy variables for the distro's environment, as the user set them.
    pub proxy_env: BTreeMap<String, String>,
    /// An NVIDIA GPU with nvidia-container-toolkit is present.
    pub nvidia: bool,
    pub wait_timeout_s: u64,
}

/// The `+` in release names must be escaped in a download URL.
pub fn url_escape_plus(version: &str) -> String {
    version.replace('+', "%2B")
}
