//! PURE: turn the raw files a probe read into [`HostFacts`].
//!
//! Nothing here touches the host: `sys::reader` collects a [`RawInputs`] from a root
//! (the live `/` or a snapshot directory) and [`probe`] parses it. A file that is
//! missing, unreadable or malformed becomes a [`Note`], never a panic or an error.

pub mod cpu;
pub mod disk;
pub mod gpu;
pub mod host;
pub mod live;
pub mod memory;
pub mod nvidia;
pub mod pci;
pub mod raw;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use raw::{RawInputs, Want};

/// Everything uaiso knows about a box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    pub cpu: cpu::CpuFacts,
    pub memory: memory::MemoryFacts,
    pub gpus: Vec<gpu::Gpu>,
    pub nvidia: gpu::NvidiaDriver,
    pub accelerators: Vec<gpu::Accelerator>,
    pub disk: disk::DiskFacts,
    pub host: host::HostReadiness,
    /// What could not be learned, and why.
    pub notes: Vec<Note>,
}

/// Something the probe could not learn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The area it affects: `cpu`, `memory`, `gpu`, `disk`, `host`.
    pub area: String,
    pub message: String,
}

impl Note {
    pub fn new(area: &str, message: impl Into<String>) -> Self {
        Note {
            area: area.to_string(),
            message: message.into(),
        }
    }
}

/// Is there an NVIDIA display device, so that asking NVML is worth its start-up cost?
pub fn wants_nvml(raw: &RawInputs) -> bool {
    pci::devices(raw)
        .iter()
        .any(|d| d.vendor == pci::VENDOR_NVIDIA && d.is_display())
}

pub fn probe(raw: &RawInputs) -> HostFacts {
    let mut notes = Vec::new();
    let live = match raw.text(raw::HOST_JSON) {
        Some(text) => serde_json::from_str::<live::HostJson>(text).unwrap_or_else(|e| {
            notes.push(Note::new(
                "host",
                format!("`/{}` is malformed: {e}", raw::HOST_JSON),
            ));
            live::HostJson::default()
        }),
        None => live::HostJson::default(),
    };
    let cpu = cpu::probe(raw, &mut notes);
    let memory = memory::probe(raw, &mut notes);
    let gpus = gpu::probe(raw, &mut notes);
    let disk = disk::probe(raw, &live, &mut notes);
    let host = host::probe(raw, &live, &mut notes);

    let unreadable: BTreeMap<String, String> = raw
        .text(raw::UNREADABLE_JSON)
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    for (path, why) in raw.unreadable.iter().chain(unreadable.iter()) {
        let message = format!("`/{path}` could not be read: {why}");
        if !notes.iter().any(|n| n.message == message) {
            notes.push(Note::new("host", message));
        }
    }

    HostFacts {
        cpu,
        memory,
        gpus: gpus.gpus,
        nvidia: gpus.nvidia,
        accelerators: gpus.accelerators,
        disk,
        host,
        notes,
    }
}
