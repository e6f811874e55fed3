//! GPU and accelerator checks: drivers, NVML, the NVIDIA container runtime, PCIe
//! links, ROCm and Vulkan readiness, and the power all the cards may draw together.

use std::collections::BTreeMap;

use super::Finding;
use crate::probe::HostFacts;
use crate::probe::gpu::Gpu;
use crate::probe::nvidia;
use crate::units::bytes;

/// Watts the GPUs may draw before a household circuit gets tight: a 15 A / 120 V
/// circuit carries 1440 W continuously (80 % rule), and the CPU, board and PSU
/// losses come on top of the cards.
const POWER_WARN_W: u64 = 1000;

const NVIDIA_DRIVER_HINT: &str = "install the NVIDIA driver (550 or newer): Ubuntu `sudo ubuntu-drivers install`, Debian `sudo apt install nvidia-driver`, Fedora RPM Fusion `akmod-nvidia`; then reboot";

pub fn check(facts: &HostFacts, out: &mut Vec<Finding>) {
    let compute: Vec<&Gpu> = facts
        .gpus
        .iter()
        .filter(|g| matches!(g.vendor.as_str(), "nvidia" | "amd" | "intel"))
        .collect();
    if compute.is_empty() {
        let display: Vec<&str> = facts.gpus.iter().map(|g| g.name.as_str()).collect();
        let msg = if display.is_empty() {
            "no GPU: models run on the CPU".to_string()
        } else {
            format!(
                "no compute GPU (display only: {}): models run on the CPU",
                display.join(", ")
            )
        };
        out.push(Finding::pass("gpu.none", msg));
    }
    nvidia_checks(facts, out);
    for gpu in compute.iter().filter(|g| g.vendor == "amd") {
        amd(gpu, out);
    }
    for gpu in compute.iter().filter(|g| g.vendor == "intel") {
        intel(gpu, out);
    }
    pcie(&compute, out);
    for acc in &facts.accelerators {
        let driver = acc
            .driver
            .as_deref()
            .map_or("no driver".to_string(), |d| format!("driver {d}"));
        out.push(Finding::pass(
            "gpu.accelerator",
            format!(
                "{} at {} ({driver}): llama.cpp does not use it",
                acc.name, acc.pci_address
            ),
        ));
    }
}

/// Group GPUs by name: "6 × NVIDIA GeForce RTX 3060".
fn counted(gpus: &[&Gpu]) -> String {
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for g in gpus {
        *by_name.entry(g.name.as_str()).or_default() += 1;
    }
    by_name
        .iter()
        .map(|(name, n)| {
            if *n == 1 {
                name.to_string()
            } else {
                format!("{n} × {name}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn addresses(gpus: &[&Gpu]) -> String {
    gpus.iter()
        .map(|g| g.pci_address.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn nvidia_checks(facts: &HostFacts, out: &mut Vec<Finding>) {
    let cards: Vec<&Gpu> = facts.gpus.iter().filter(|g| g.vendor == "nvidia").collect();
    if cards.is_empty() {
        return;
    }
    let unbound: Vec<&Gpu> = cards
        .iter()
        .copied()
        .filter(|g| g.driver.is_none())
        .collect();
    let nouveau: Vec<&Gpu> = cards
        .iter()
        .copied()
        .filter(|g| g.driver.as_deref() == Some("nouveau"))
        .collect();
    let vfio: Vec<&Gpu> = cards
        .iter()
        .copied()
        .filter(|g| g.driver.as_deref() == Some("vfio-pci"))
        .collect();
    let bound: Vec<&Gpu> = cards
        .iter()
        .copied()
        .filter(|g| g.driver.as_deref() == Some("nvidia"))
        .collect();
    if !unbound.is_empty() {
        out.push(
            Finding::fail(
                "gpu.nvidia.driver",
                format!(
                    "{} on the bus ({}) but no driver loaded",
                    counted(&unbound),
                    addresses(&unbound)
                ),
            )
            .hint(NVIDIA_DRIVER_HINT),
        );
    }
    if !nouveau.is_empty() {
        out.push(
            Finding::fail(
                "gpu.nvidia.driver",
                format!(
                    "{} driven by nouveau, which CUDA cannot use",
                    counted(&nouveau)
                ),
            )
            .hint(NVIDIA_DRIVER_HINT),
        );
    }
    if !vfio.is_empty() {
        out.push(
            Finding::warn(
                "gpu.nvidia.driver",
                format!("{} bound to vfio-pci (reserved for a VM)", counted(&vfio)),
            )
            .hint("to use it here, remove its id from `vfio-pci.ids` on the kernel command line or in /etc/modprobe.d, and reboot"),
        );
    }
    if bound.is_empty() {
        return;
    }
    let drv = &facts.nvidia;
    if let Some(err) = &drv.nvml_error {
        out.push(
            Finding::fail("gpu.nvidia.nvml", format!("the nvidia driver is bound but NVML did not answer: {err}"))
                .hint("install the driver's user-space part (`nvidia-utils-<version>` on Ubuntu), or reboot if the driver was just upgraded (kernel/library mismatch); `nvidia-smi` must work"),
        );
    }
    let version = drv.driver_version.as_deref();
    let cuda = drv
        .cuda_driver_version
        .as_deref()
        .map(|c| format!(", CUDA {c}"))
        .unwrap_or_default();
    let vram: u64 = bound.iter().filter_map(|g| g.vram_total_bytes).sum();
    let vram = if vram > 0 {
        format!(", {} VRAM in total", bytes(vram))
    } else {
        String::new()
    };
    let ver = version.map(|v| format!(" {v}")).unwrap_or_default();
    let summary = format!("{} on driver nvidia{ver}{cuda}{vram}", counted(&bound));
    let major = version.and_then(nvidia::driver_major);
    let pascal = bound.iter().any(|g| {
        g.nvidia
            .as_ref()
            .and_then(|n| n.compute_capability.as_deref())
            .and_then(nvidia::compute_capability)
            .is_some_and(|cc| cc < (7, 0))
    });
    match major {
        Some(m) if m < 550 => out.push(
            Finding::warn(
                "gpu.nvidia.driver",
                format!("{summary}: current CUDA 12 builds of llama.cpp need driver 550 or newer"),
            )
            .hint("upgrade the driver: Ubuntu `sudo ubuntu-drivers install`, then reboot"),
        ),
        Some(m) if m < 570 && pascal => out.push(
            Finding::warn(
                "gpu.nvidia.driver",
                format!("{summary}: cards older than compute capability 7.0 need driver 570 or newer for some builds"),
            )
            .hint("upgrade the driver to 570 or newer, then reboot"),
        ),
        _ => out.push(Finding::pass("gpu.nvidia.driver", summary)),
    }
    match &facts.host.nvidia_container_runtime {
        Some(path) => out.push(Finding::pass(
            "gpu.nvidia.toolkit",
            format!("nvidia-container-toolkit installed (`{path}`)"),
        )),
        None => out.push(
            Finding::fail(
                "gpu.nvidia.toolkit",
                "nvidia-container-toolkit is not installed: pods cannot use the NVIDIA GPUs",
            )
            .hint("add NVIDIA's package repository and `sudo apt install nvidia-container-toolkit` (see docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html), before `uaiso up`"),
        ),
    }
    power(&bound, out);
}

fn power(cards: &[&Gpu], out: &mut Vec<Finding>) {
    let limits: Vec<u64> = cards
        .iter()
        .filter_map(|g| g.nvidia.as_ref()?.power_limit_mw)
        .map(|mw| u64::from(mw) / 1000)
        .collect();
    if cards.len() < 2 || limits.is_empty() {
        return;
    }
    let total: u64 = limits.iter().sum();
    let partial = if limits.len() < cards.len() {
        format!(
            " ({} of {} cards report a limit)",
            limits.len(),
            cards.len()
        )
    } else {
        String::new()
    };
    if total >= POWER_WARN_W {
        out.push(
            Finding::warn(
                "gpu.power",
                format!("the GPUs may draw {total} W together{partial}: with the rest of the box that nears the 1440 W a 15 A/120 V household circuit carries continuously (16 A/230 V: 3680 W)"),
            )
            .hint("cap each card, e.g. `sudo nvidia-smi -pl 130` (inference loses little at 70–80 % power), or spread the box over two circuits"),
        );
    } else {
        out.push(Finding::pass(
            "gpu.power",
            format!("the GPUs may draw {total} W together{partial}"),
        ));
    }
}

fn amd(gpu: &Gpu, out: &mut Vec<Finding>) {
    let kind = if gpu.integrated {
        "integrated (UMA)"
    } else {
        "discrete"
    };
    let memory = match (gpu.vram_total_bytes, gpu.gtt_total_bytes) {
        (Some(v), Some(g)) if gpu.integrated => format!(
            ", {} carve-out and {} GTT of shared RAM",
            bytes(v),
            bytes(g)
        ),
        (Some(v), _) => format!(", {} VRAM", bytes(v)),
        _ => String::new(),
    };
    let head = format!("{} ({kind}{memory}) at {}", gpu.name, gpu.pci_address);
    match (gpu.driver.as_deref(), &gpu.amd_gfx_target) {
        (None, _) => out.push(
            Finding::fail("gpu.amd.driver", format!("{head} has no driver loaded"))
                .hint("load amdgpu: `sudo modprobe amdgpu`; install `linux-firmware` if it fails"),
        ),
        (Some("radeon"), _) => out.push(
            Finding::warn("gpu.amd.driver", format!("{head} is driven by the old radeon driver: no ROCm or Vulkan compute"))
                .hint("for GCN 1.0/1.1 cards boot with `radeon.si_support=0 amdgpu.si_support=1` (or `cik_support`) to use amdgpu"),
        ),
        (Some(_), Some(target)) => out.push(Finding::pass(
            "gpu.amd.driver",
            format!("{head}: ROCm target `{target}`{}", if gpu.render_node.is_some() { "; Vulkan also available" } else { "" }),
        )),
        (Some(driver), None) => out.push(Finding::warn(
            "gpu.amd.driver",
            format!("{head} on {driver}, but no ROCm (kfd) node: Vulkan only"),
        )),
    }
    if gpu.driver.is_some() && gpu.render_node.is_none() {
        out.push(Finding::warn(
            "gpu.render",
            format!("{} has no render node under /dev/dri", gpu.name),
        ));
    }
}

fn intel(gpu: &Gpu, out: &mut Vec<Finding>) {
    let kind = if gpu.integrated {
        "integrated, shares RAM"
    } else {
        "discrete"
    };
    let head = format!("{} ({kind}) at {}", gpu.name, gpu.pci_address);
    match (gpu.driver.as_deref(), &gpu.render_node) {
        (None, _) => out.push(
            Finding::warn("gpu.intel.driver", format!("{head} has no driver loaded"))
                .hint("load i915 (or xe for Arc/Lunar Lake): `sudo modprobe i915`"),
        ),
        (Some(driver), Some(node)) => out.push(Finding::pass(
            "gpu.intel.driver",
            format!("{head} on {driver}: Vulkan through `{node}`"),
        )),
        (Some(driver), None) => out.push(Finding::warn(
            "gpu.intel.driver",
            format!("{head} on {driver}, but no render node under /dev/dri"),
        )),
    }
}

/// A narrow link slows model loading and row split; idle cards lower their generation
/// on their own, so only the width is worth a warning.
fn pcie(gpus: &[&Gpu], out: &mut Vec<Finding>) {
    let narrow: Vec<String> = gpus
        .iter()
        .filter(|g| !g.integrated)
        .filter_map(|g| {
            let l = g.link.as_ref()?;
            let (cur, max) = (l.current_width?, l.max_width?);
            (cur < max).then(|| format!("{} x{cur} of x{max}", g.pci_address))
        })
        .collect();
    if !narrow.is_empty() {
        out.push(Finding::warn(
            "gpu.pcie",
            format!("GPUs on narrowed PCIe links ({}): models load slower and row split suffers; layer split is fine", narrow.join(", ")),
        ));
    }
}
