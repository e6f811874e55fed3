//! Which profile a box gets, and why: a pure function of its facts.

use super::budget::backend_gpus;
use super::spec::{Backend, Profile};
use crate::probe::HostFacts;
use crate::units::{GIB, bytes};

/// Boxes with at most this much RAM get the small CPU profile.
const SMALL_RAM: u64 = 16 * GIB;

/// The bundled profile for these facts, with the reasons in words.
pub fn auto(facts: &HostFacts) -> (&'static str, Vec<String>) {
    let nvidia: Vec<_> = facts
        .gpus
        .iter()
        .filter(|g| g.vendor == "nvidia" && g.driver.as_deref() != Some("vfio-pci"))
        .collect();
    let vram = |gpus: &[&crate::probe::gpu::Gpu]| -> String {
        let total: u64 = gpus.iter().filter_map(|g| g.vram_total_bytes).sum();
        if total > 0 {
            format!(", {} VRAM in total", bytes(total))
        } else {
            String::new()
        }
    };
    if !nvidia.is_empty() {
        let name = nvidia[0].name.clone();
        let same = nvidia.iter().all(|g| g.name == name);
        let what = match (nvidia.len(), same) {
            (1, _) => name,
            (n, true) => format!("{n} × {name}"),
            (n, false) => format!("{n} NVIDIA GPUs"),
        };
        let profile = if nvidia.len() == 1 {
            "nvidia-single"
        } else {
            "nvidia-multi"
        };
        return (
            profile,
            vec![format!("{what}{} → {profile}", vram(&nvidia))],
        );
    }
    let rocm = backend_gpus(facts, Backend::Rocm);
    if !rocm.is_empty() {
        let targets: Vec<&str> = rocm
            .iter()
            .filter_map(|g| g.amd_gfx_target.as_deref())
            .collect();
        return (
            "amd-rocm",
            vec![format!(
                "{} with ROCm ({}){} → amd-rocm",
                rocm[0].name,
                targets.join(", "),
                vram(&rocm)
            )],
        );
    }
    let ram = facts.memory.total_bytes.unwrap_or(0);
    let vulkan = backend_gpus(facts, Backend::Vulkan);
    // A small Intel iGPU is no faster than the CPU's own vector units and takes the same
    // RAM; on a small box the CPU path leaves more of it for the model.
    let weak_igpu =
        |g: &&&crate::probe::gpu::Gpu| g.vendor == "intel" && g.integrated && ram <= SMALL_RAM;
    if let Some(gpu) = vulkan.iter().find(|g| !weak_igpu(g)) {
        let why = if gpu.integrated {
            "shares system RAM"
        } else {
            "has no ROCm"
        };
        return (
            "vulkan-uma",
            vec![format!("{} {why}; Vulkan drives it → vulkan-uma", gpu.name)],
        );
    }
    let gpu_note = match vulkan.first() {
        Some(g) => format!(
            "{} is an integrated Intel GPU on a box of 16 GiB or less, where the CPU path is as fast",
            g.name
        ),
        None => "no GPU that CUDA, ROCm or Vulkan can drive".to_string(),
    };
    if ram <= SMALL_RAM {
        (
            "cpu-small",
            vec![format!(
                "{gpu_note}; {} RAM ≤ 16 GiB → cpu-small",
                bytes(ram)
            )],
        )
    } else {
        (
            "cpu",
            vec![format!("{gpu_note}; {} RAM > 16 GiB → cpu", bytes(ram))],
        )
    }
}

/// Find a profile by name among the bundled and the user's.
pub fn find<'a>(profiles: &'a [Profile], name: &str) -> Option<&'a Profile> {
    profiles.iter().rev().find(|p| p.name == name)
}
