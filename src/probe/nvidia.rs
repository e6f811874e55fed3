//! What NVML reported, as stored in `uaiso/nvidia.json` (schema in docs/snapshot.md),
//! and the kernel driver version from `/proc/driver/nvidia/version`.

use serde::{Deserialize, Serialize};

pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvidiaReport {
    pub schema: u32,
    /// Why NVML could not be used at all; `gpus` is empty then.
    pub error: Option<String>,
    pub driver_version: Option<String>,
    pub cuda_driver_version: Option<String>,
    #[serde(default)]
    pub gpus: Vec<NvmlGpu>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvmlGpu {
    pub index: u32,
    pub name: Option<String>,
    pub uuid: Option<String>,
    /// sysfs form: `0000:01:00.0`.
    pub pci_bus_id: Option<String>,
    pub memory_total_bytes: Option<u64>,
    pub memory_free_bytes: Option<u64>,
    pub compute_capability: Option<String>,
    pub power_limit_mw: Option<u32>,
    pub temperature_c: Option<u32>,
    pub pcie_gen_current: Option<u32>,
    pub pcie_gen_max: Option<u32>,
    pub pcie_width_current: Option<u32>,
    pub pcie_width_max: Option<u32>,
    #[serde(default)]
    pub errors: Vec<String>,
}

/// NVML writes bus ids as `00000000:01:00.0`; sysfs as `0000:01:00.0`.
pub fn sysfs_bus_id(nvml: &str) -> String {
    let lower = nvml.trim().to_lowercase();
    match lower.split_once(':') {
        Some((domain, rest)) if domain.len() > 4 => {
            format!("{}:{rest}", &domain[domain.len() - 4..])
        }
        _ => lower,
    }
}

/// `NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 …` → `550.54.14`.
pub fn kernel_driver_version(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("NVRM version:"))?;
    line.split_whitespace()
        .find(|w| {
            w.contains('.')
                && w.chars().next().is_some_and(|c| c.is_ascii_digit())
                && w.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
        .map(str::to_string)
}

/// The major number of a driver version (`550.54.14` → 550).
pub fn driver_major(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

/// `8.6` → (8, 6).
pub fn compute_capability(cc: &str) -> Option<(u32, u32)> {
    let (major, minor) = cc.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_ids_and_versions() {
        assert_eq!(sysfs_bus_id("00000000:0A:00.0"), "0000:0a:00.0");
        assert_eq!(sysfs_bus_id("0000:01:00.0"), "0000:01:00.0");
        let v = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\nGCC version:  gcc version 12.3.0\n";
        assert_eq!(kernel_driver_version(v).as_deref(), Some("550.54.14"));
        let open = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build  (dvs-builder@U16-I3-B03-4-3)  Thu Jan 23 22:50:36 UTC 2025\n";
        assert_eq!(kernel_driver_version(open).as_deref(), Some("570.86.15"));
        assert_eq!(driver_major("550.54.14"), Some(550));
        assert_eq!(compute_capability("8.6"), Some((8, 6)));
    }
}
