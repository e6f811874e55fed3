//! GPUs and accelerators: every display or accelerator PCI device, joined with what NVML,
//! the AMD kfd/drm sysfs files and the DRM render nodes say about it.

use serde::{Deserialize, Serialize};

use super::Note;
use super::nvidia::{self, NvidiaReport};
use super::pci::{self, PciDevice, PciNames, PcieLink};
use super::raw::{NVIDIA_JSON, RawInputs};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gpu {
    pub pci_address: String,
    /// `nvidia`, `amd`, `intel` or `other`.
    pub vendor: String,
    pub vendor_id: String,
    pub device_id: String,
    pub name: String,
    /// The kernel driver bound to the device (`nvidia`, `amdgpu`, `i915`, `xe`,
    /// `nouveau`, `vfio-pci` …), `None` when no driver is bound.
    pub driver: Option<String>,
    pub link: Option<PcieLink>,
    /// `/dev/dri/renderD128`, when the device has a render node.
    pub render_node: Option<String>,
    /// Shares system RAM (Intel iGPU, AMD APU such as Strix Halo).
    pub integrated: bool,
    pub vram_total_bytes: Option<u64>,
    pub vram_free_bytes: Option<u64>,
    /// AMD: graphics translation table size, the RAM an APU can map.
    pub gtt_total_bytes: Option<u64>,
    pub nvidia: Option<NvidiaGpu>,
    /// AMD: the ROCm target, e.g. `gfx1151`.
    pub amd_gfx_target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NvidiaGpu {
    pub index: u32,
    pub uuid: Option<String>,
    pub compute_capability: Option<String>,
    pub power_limit_mw: Option<u32>,
    pub temperature_c: Option<u32>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvidiaDriver {
    /// NVML answered.
    pub nvml: bool,
    /// Why NVML did not answer, when an NVIDIA device is present.
    pub nvml_error: Option<String>,
    pub driver_version: Option<String>,
    pub cuda_driver_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accelerator {
    pub pci_address: String,
    pub vendor_id: String,
    pub device_id: String,
    pub name: String,
    pub driver: Option<String>,
    pub device_nodes: Vec<String>,
}

pub struct GpuProbe {
    pub gpus: Vec<Gpu>,
    pub accelerators: Vec<Accelerator>,
    pub nvidia: NvidiaDriver,
}

fn vendor_word(vendor: u16) -> &'static str {
    match vendor {
        pci::VENDOR_NVIDIA => "nvidia",
        pci::VENDOR_AMD => "amd",
        pci::VENDOR_INTEL => "intel",
        _ => "other",
    }
}

fn display_name(dev: &PciDevice, names: &PciNames) -> String {
    let vendor = names
        .vendor(dev.vendor)
        .map(str::to_string)
        .unwrap_or_else(|| format!("vendor {:04x}", dev.vendor));
    match names.device(dev.vendor, dev.device) {
        Some(device) => format!("{vendor} {device}"),
        None => format!("{vendor} device {:04x}", dev.device),
    }
}

fn accelerator_name(dev: &PciDevice, names: &PciNames) -> String {
    let family = match dev.vendor {
        pci::VENDOR_CORAL => Some("Google Coral Edge TPU"),
        pci::VENDOR_HAILO => Some("Hailo AI accelerator"),
        pci::VENDOR_TENSTORRENT => Some("Tenstorrent AI accelerator"),
        pci::VENDOR_AMD_CPU => Some("AMD XDNA NPU"),
        pci::VENDOR_INTEL => Some("Intel NPU"),
        _ => None,
    };
    match (family, names.device(dev.vendor, dev.device)) {
        (Some(f), Some(d)) => format!("{f} ({d})"),
        (Some(f), None) => f.to_string(),
        (None, _) => display_name(dev, names),
    }
}

/// AMD kfd nodes: `gfx_target_version 110501` → `gfx1151`, keyed by render minor.
fn kfd_targets(raw: &RawInputs) -> Vec<(u32, String)> {
    raw.children("sys/class/kfd/kfd/topology/nodes")
        .into_iter()
        .filter_map(|node| {
            let text = raw.text(&format!(
                "sys/class/kfd/kfd/topology/nodes/{node}/properties"
            ))?;
            let prop = |key: &str| {
                text.lines().find_map(|l| {
                    let (k, v) = l.split_once(' ')?;
                    (k == key).then(|| v.trim().parse::<u64>().ok())?
                })
            };
            let version = prop("gfx_target_version").filter(|v| *v > 0)?;
            let minor = prop("drm_render_minor")? as u32;
            let (major, minor_v, step) = (version / 10000, (version / 100) % 100, version % 100);
            Some((minor, format!("gfx{major}{minor_v:x}{step:x}")))
        })
        .collect()
}

/// The DRM card and render nodes that belong to a PCI address.
fn drm_nodes(raw: &RawInputs, address: &str) -> (Option<String>, Option<String>) {
    let mut card = None;
    let mut render = None;
    for node in raw.children("sys/class/drm") {
        if raw.link_name(&format!("sys/class/drm/{node}/device")) != Some(address) {
            continue;
        }
        if node.starts_with("renderD") {
            render = Some(node.to_string());
        } else if node.starts_with("card") && !node.contains('-') {
            card = Some(node.to_string());
        }
    }
    (card, render)
}

fn nvidia_report(raw: &RawInputs, notes: &mut Vec<Note>) -> Option<NvidiaReport> {
    let text = raw.text(NVIDIA_JSON)?;
    match serde_json::from_str::<NvidiaReport>(text) {
        Ok(report) => Some(report),
        Err(e) => {
            notes.push(Note::new(
                "gpu",
                format!("`/{NVIDIA_JSON}` is malformed: {e}"),
            ));
            None
        }
    }
}

pub fn probe(raw: &RawInputs, notes: &mut Vec<Note>) -> GpuProbe {
    let devices = pci::devices(raw);
    // The whole pci.ids is over a megabyte: name only the devices present.
    let present: Vec<(u16, u16)> = devices.iter().map(|d| (d.vendor, d.device)).collect();
    let names = raw
        .first_text(&["usr/share/misc/pci.ids", "usr/share/hwdata/pci.ids"])
        .map(|(_, text)| PciNames::parse(&pci::pci_ids_extract(text, &present)))
        .unwrap_or_default();
    let report = nvidia_report(raw, notes);
    let kfd = kfd_targets(raw);
    if devices.is_empty() {
        notes.push(Note::new(
            "gpu",
            "no PCI devices under `/sys/bus/pci/devices`",
        ));
    }

    let mut gpus = Vec::new();
    let mut accelerators = Vec::new();
    for dev in &devices {
        if dev.is_accelerator() {
            accelerators.push(Accelerator {
                pci_address: dev.address.clone(),
                vendor_id: format!("{:04x}", dev.vendor),
                device_id: format!("{:04x}", dev.device),
                name: accelerator_name(dev, &names),
                driver: dev.driver.clone(),
                device_nodes: accelerator_nodes(raw, dev.vendor),
            });
            continue;
        }
        if !dev.is_display() {
            continue;
        }
        let (card, render) = drm_nodes(raw, &dev.address);
        let drm_mem = |leaf: &str| {
            card.as_ref().and_then(|c| {
                raw.value(&format!("sys/class/drm/{c}/device/{leaf}"))?
                    .parse::<u64>()
                    .ok()
            })
        };
        let mut gpu = Gpu {
            pci_address: dev.address.clone(),
            vendor: vendor_word(dev.vendor).to_string(),
            vendor_id: format!("{:04x}", dev.vendor),
            device_id: format!("{:04x}", dev.device),
            name: display_name(dev, &names),
            driver: dev.driver.clone(),
            link: dev.link.clone(),
            render_node: render.as_ref().map(|r| format!("/dev/dri/{r}")),
            integrated: false,
            vram_total_bytes: drm_mem("mem_info_vram_total"),
            vram_free_bytes: None,
            gtt_total_bytes: drm_mem("mem_info_gtt_total"),
            nvidia: None,
            amd_gfx_target: None,
        };
        if let (Some(total), Some(used)) = (gpu.vram_total_bytes, drm_mem("mem_info_vram_used")) {
            gpu.vram_free_bytes = Some(total.saturating_sub(used));
        }
        match dev.vendor {
            pci::VENDOR_AMD => {
                let minor = render
                    .as_deref()
                    .and_then(|r| r.strip_prefix("renderD"))
                    .and_then(|m| m.parse::<u32>().ok());
                gpu.amd_gfx_target = kfd
                    .iter()
                    .find(|(m, _)| Some(*m) == minor)
                    .map(|(_, t)| t.clone());
                // ollama's UMA test: a small carve-out and a GTT several times larger.
                const GIB: u64 = 1 << 30;
                gpu.integrated = matches!(
                    (gpu.vram_total_bytes, gpu.gtt_total_bytes),
                    (Some(v), Some(g)) if v <= 4 * GIB && g >= 8 * GIB && g >= 4 * v
                );
            }
            // Intel's integrated graphics sit on the root bus; Arc cards behind a bridge.
            pci::VENDOR_INTEL => gpu.integrated = dev.address.ends_with(":00:02.0"),
            pci::VENDOR_NVIDIA => join_nvml(&mut gpu, report.as_ref()),
            _ => {}
        }
        gpus.push(gpu);
    }

    let has_nvidia = gpus.iter().any(|g| g.vendor == "nvidia");
    let proc_version = raw
        .text("proc/driver/nvidia/version")
        .and_then(nvidia::kernel_driver_version);
    let nvidia = match &report {
        Some(r) => NvidiaDriver {
            nvml: r.error.is_none(),
            nvml_error: r.error.clone(),
            driver_version: r.driver_version.clone().or(proc_version),
            cuda_driver_version: r.cuda_driver_version.clone(),
        },
        None => {
            if has_nvidia {
                notes.push(Note::new(
                    "gpu",
                    format!("no NVML report (`/{NVIDIA_JSON}`) in this snapshot: VRAM, compute capability and power are unknown"),
                ));
            }
            NvidiaDriver {
                nvml: false,
                nvml_error: None,
                driver_version: proc_version,
                cuda_driver_version: None,
            }
        }
    };
    GpuProbe {
        gpus,
        accelerators,
        nvidia,
    }
}

fn join_nvml(gpu: &mut Gpu, report: Option<&NvidiaReport>) {
    let Some(nvml) = report.and_then(|r| {
        r.gpus.iter().find(|g| {
            g.pci_bus_id.as_deref().map(nvidia::sysfs_bus_id).as_deref()
                == Some(gpu.pci_address.as_str())
        })
    }) else {
        return;
    };
    if let Some(name) = &nvml.name {
        gpu.name = name.clone();
    }
    gpu.vram_total_bytes = nvml.memory_total_bytes;
    gpu.vram_free_bytes = nvml.memory_free_bytes;
    // NVML reports the link too, and unlike sysfs it is right inside VMs with
    // passthrough; prefer it where it answered.
    let to_u8 = |v: Option<u32>| v.and_then(|n| u8::try_from(n).ok());
    if nvml.pcie_gen_max.is_some() || nvml.pcie_width_max.is_some() {
        let old = gpu.link.clone();
        gpu.link = Some(PcieLink {
            current_gen: to_u8(nvml.pcie_gen_current).or(old.as_ref().and_then(|l| l.current_gen)),
            current_width: to_u8(nvml.pcie_width_current)
                .or(old.as_ref().and_then(|l| l.current_width)),
            max_gen: to_u8(nvml.pcie_gen_max).or(old.as_ref().and_then(|l| l.max_gen)),
            max_width: to_u8(nvml.pcie_width_max).or(old.as_ref().and_then(|l| l.max_width)),
        });
    }
    gpu.nvidia = Some(NvidiaGpu {
        index: nvml.index,
        uuid: nvml.uuid.clone(),
        compute_capability: nvml.compute_capability.clone(),
        power_limit_mw: nvml.power_limit_mw,
        temperature_c: nvml.temperature_c,
        errors: nvml.errors.clone(),
    });
}

fn accelerator_nodes(raw: &RawInputs, vendor: u16) -> Vec<String> {
    let prefixes: &[&str] = match vendor {
        pci::VENDOR_CORAL => &["dev/apex_"],
        pci::VENDOR_HAILO => &["dev/hailo"],
        pci::VENDOR_TENSTORRENT => &["dev/tenstorrent/"],
        _ => &[],
    };
    raw.exists
        .iter()
        .filter(|p| prefixes.iter().any(|pre| p.starts_with(pre)))
        .map(|p| format!("/{p}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gfx_targets_decode() {
        let mut raw = RawInputs::default();
        raw.texts.insert(
            "sys/class/kfd/kfd/topology/nodes/1/properties".into(),
            "cpu_cores_count 0\ngfx_target_version 110501\ndrm_render_minor 128\n".into(),
        );
        raw.texts.insert(
            "sys/class/kfd/kfd/topology/nodes/2/properties".into(),
            "gfx_target_version 90010\ndrm_render_minor 129\n".into(),
        );
        raw.texts.insert(
            "sys/class/kfd/kfd/topology/nodes/0/properties".into(),
            "cpu_cores_count 32\ngfx_target_version 0\ndrm_render_minor 0\n".into(),
        );
        assert_eq!(
            kfd_targets(&raw),
            vec![(128, "gfx1151".to_string()), (129, "gfx90a".to_string())]
        );
    }
}
