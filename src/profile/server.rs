//! The llama-server settings a selection implies: image, threads, GPU layers, tensor
//! split, context, slots, NUMA, flash attention. The API key is never among them: it
//! comes from a Secret through `LLAMA_API_KEY`.

use serde::{Deserialize, Serialize};

use super::budget::Budget;
use super::fit::Fit;
use super::spec::{Backend, Profile};
use crate::probe::HostFacts;

/// The port llama-server listens on inside its pod; always passed, as the default
/// changed between builds.
pub const PORT: u16 = 8080;
/// Where the model cache is mounted in the pod.
pub const MODELS_MOUNT: &str = "/models";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSettings {
    pub image: String,
    pub model_path: String,
    /// Total context (`-c`): the per-slot context times the slots.
    pub context_total: u32,
    pub parallel: u32,
    pub threads: u32,
    /// `-ngl`: every layer on the GPUs, or none.
    pub gpu_layers: Option<u32>,
    /// `-ts`: relative shares per GPU, in proportion to usable VRAM.
    pub tensor_split: Option<Vec<u32>>,
    pub flash_attn: String,
    pub numa: Option<String>,
    pub cache_ram_mib: u64,
    pub port: u16,
    /// The command line, flag by flag.
    pub args: Vec<String>,
}

pub fn settings(
    facts: &HostFacts,
    profile: &Profile,
    budget: &Budget,
    fit: &Fit,
    layers: u32,
) -> ServerSettings {
    let gpu = profile.backend.uses_gpu();
    let threads = facts.cpu.cores.max(1);
    let tensor_split = (gpu && budget.devices.len() > 1).then(|| {
        // Whole GiB keeps the flag readable; a card under 1 GiB still gets a share.
        budget
            .devices
            .iter()
            .map(|d| ((d.usable_bytes + (1 << 29)) >> 30).max(1) as u32)
            .collect::<Vec<u32>>()
    });
    // A VM's virtual sockets say nothing about the host's memory nodes.
    let numa = (!gpu && facts.cpu.sockets > 1 && facts.cpu.hypervisor.is_none())
        .then(|| "distribute".to_string());
    let flash_attn = if gpu { "on" } else { "auto" }.to_string();
    let context_total = fit.context * fit.parallel;
    let model_path = format!("{MODELS_MOUNT}/{}", fit.file);
    let mut args: Vec<String> = vec![
        "-m".into(),
        model_path.clone(),
        "--host".into(),
        "0.0.0.0".into(),
        "--port".into(),
        PORT.to_string(),
        "-c".into(),
        context_total.to_string(),
        "-np".into(),
        fit.parallel.to_string(),
        "-t".into(),
        threads.to_string(),
        "-fa".into(),
        flash_attn.clone(),
        "--cache-ram".into(),
        profile.server.cache_ram_mib.to_string(),
        "--metrics".into(),
    ];
    let gpu_layers = gpu.then_some(layers + 1);
    if let Some(n) = gpu_layers {
        args.extend(["-ngl".into(), n.to_string()]);
    }
    if let Some(ts) = &tensor_split {
        let joined = ts.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        args.extend(["-sm".into(), "layer".into(), "-ts".into(), joined]);
    }
    if let Some(n) = &numa {
        args.extend(["--numa".into(), n.clone()]);
    }
    if profile.backend == Backend::Cpu {
        args.extend(["-ngl".into(), "0".into()]);
    }
    ServerSettings {
        image: profile.image.clone(),
        model_path,
        context_total,
        parallel: fit.parallel,
        threads,
        gpu_layers,
        tensor_split,
        flash_attn,
        numa,
        cache_ram_mib: profile.server.cache_ram_mib,
        port: PORT,
        args,
    }
}
