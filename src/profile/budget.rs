//! The memory a model may use on this box: RAM, VRAM per GPU, or shared memory, less
//! what the stack needs and the headroom the profile keeps free.

use serde::{Deserialize, Serialize};

use super::spec::{Backend, Profile};
use crate::probe::HostFacts;
use crate::probe::gpu::Gpu;

const MIB: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemoryKind {
    /// System RAM (CPU inference).
    Ram,
    /// Dedicated VRAM on one or more GPUs.
    Vram,
    /// RAM the GPU shares with the CPU (UMA).
    Shared,
}

impl MemoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryKind::Ram => "ram",
            MemoryKind::Vram => "vram",
            MemoryKind::Shared => "shared",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub name: String,
    /// What the device has free for us before reserves.
    pub free_bytes: u64,
    /// After the runtime's own reserve.
    pub usable_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub kind: MemoryKind,
    pub devices: Vec<Device>,
    /// Sum of the devices' usable bytes.
    pub usable_bytes: u64,
    /// Kept free by the profile's headroom.
    pub headroom_bytes: u64,
    /// What a model may take: usable less headroom.
    pub limit_bytes: u64,
    /// How the figures were reached, for `plan`.
    pub notes: Vec<String>,
}

/// GPUs the backend drives.
pub fn backend_gpus(facts: &HostFacts, backend: Backend) -> Vec<&Gpu> {
    facts
        .gpus
        .iter()
        .filter(|g| match backend {
            Backend::Cpu => false,
            Backend::Cuda => g.vendor == "nvidia",
            Backend::Rocm => g.vendor == "amd" && g.amd_gfx_target.is_some() && !g.integrated,
            Backend::Vulkan => matches!(g.vendor.as_str(), "amd" | "intel") && g.driver.is_some(),
        })
        .collect()
}

/// RAM left for a model on the CPU side: MemAvailable (or a lower cgroup limit) less
/// the stack's reserve. zram swap never counts.
fn ram_free(facts: &HostFacts, profile: &Profile) -> (u64, Vec<String>) {
    let m = &facts.memory;
    let mut notes = Vec::new();
    let mut free = m.available_bytes.or(m.total_bytes).unwrap_or(0);
    if let Some(limit) = m.cgroup_limit_bytes
        && limit < free
    {
        notes.push("capped by this process's cgroup memory limit".to_string());
        free = limit;
    }
    let reserve = profile.stack.reserve_mib * MIB;
    notes.push(format!(
        "RAM: MemAvailable less {} MiB for the stack; zram is not counted",
        profile.stack.reserve_mib
    ));
    (free.saturating_sub(reserve), notes)
}

pub fn budget(facts: &HostFacts, profile: &Profile) -> Budget {
    let gpu_reserve = profile.server.gpu_reserve_mib * MIB;
    let (ram, ram_notes) = ram_free(facts, profile);
    let mut notes = Vec::new();
    let gpus = backend_gpus(facts, profile.backend);
    let (kind, devices) = match profile.backend {
        Backend::Cpu => (
            {
                notes.extend(ram_notes);
                MemoryKind::Ram
            },
            vec![Device {
                name: "RAM".to_string(),
                free_bytes: ram,
                usable_bytes: ram,
            }],
        ),
        _ if gpus.iter().any(|g| g.integrated) => {
            // UMA: the GPU maps system RAM through GTT (AMD) or directly (Intel).
            let gtt = gpus.iter().filter_map(|g| g.gtt_total_bytes).max();
            let shared = gtt.map_or(ram, |g| g.min(ram));
            notes.extend(ram_notes);
            if gtt.is_some() {
                notes.push("shared memory: the smaller of GTT and available RAM".to_string());
            }
            (
                MemoryKind::Shared,
                vec![Device {
                    name: gpus.first().map_or("GPU".to_string(), |g| g.name.clone()),
                    free_bytes: shared,
                    usable_bytes: shared.saturating_sub(gpu_reserve),
                }],
            )
        }
        _ => {
            notes.push(format!(
                "VRAM: free memory per GPU less {} MiB for its runtime",
                profile.server.gpu_reserve_mib
            ));
            (
                MemoryKind::Vram,
                gpus.iter()
                    .map(|g| {
                        let free = g.vram_free_bytes.or(g.vram_total_bytes).unwrap_or(0);
                        Device {
                            name: format!("{} ({})", g.name, g.pci_address),
                            free_bytes: free,
                            usable_bytes: free.saturating_sub(gpu_reserve),
                        }
                    })
                    .collect(),
            )
        }
    };
    let usable: u64 = devices.iter().map(|d| d.usable_bytes).sum();
    let headroom = usable * u64::from(profile.model.headroom_percent) / 100;
    Budget {
        kind,
        devices,
        usable_bytes: usable,
        headroom_bytes: headroom,
        limit_bytes: usable - headroom,
        notes,
    }
}
