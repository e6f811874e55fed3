//! CPU checks: the instruction sets llama.cpp's CPU kernels need, and VMs that hide
//! them.

use super::Finding;
use crate::probe::HostFacts;

const PASSTHROUGH: &str = "give the VM the host's CPU model: Proxmox `qm set <vmid> --cpu host`, libvirt `<cpu mode='host-passthrough'/>`, then restart the VM";

pub fn check(facts: &HostFacts, out: &mut Vec<Finding>) {
    let cpu = &facts.cpu;
    let model = cpu.model.as_deref().unwrap_or("unknown CPU");
    let shape = format!(
        "{model}: {} socket{}, {} cores, {} threads",
        cpu.sockets,
        if cpu.sockets == 1 { "" } else { "s" },
        cpu.cores,
        cpu.threads
    );
    match cpu.arch.as_str() {
        "aarch64" => {
            let f = &cpu.features;
            let extras: Vec<&str> = [
                (f.dotprod, "dotprod"),
                (f.i8mm, "i8mm"),
                (f.sve, "SVE"),
                (f.sve2, "SVE2"),
            ]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
            let isa = if extras.is_empty() {
                "NEON".to_string()
            } else {
                format!("NEON with {}", extras.join(", "))
            };
            out.push(Finding::pass(
                "cpu.isa",
                format!("{shape}; aarch64 with {isa}: llama.cpp's ARM kernels apply"),
            ));
        }
        "x86_64" => x86(facts, &shape, out),
        _ => out.push(Finding::warn("cpu.isa", "the CPU could not be identified")),
    }
    if cpu.threads > 0 && cpu.threads < 4 {
        out.push(Finding::warn(
            "cpu.threads",
            format!(
                "only {} thread{}: Kubernetes and monitoring take a share, leaving little for inference",
                cpu.threads,
                if cpu.threads == 1 { "" } else { "s" }
            ),
        ));
    }
}

fn x86(facts: &HostFacts, shape: &str, out: &mut Vec<Finding>) {
    let cpu = &facts.cpu;
    let f = &cpu.features;
    let variant = cpu.llama_cpu_variant.as_deref().unwrap_or("x64");
    let level = cpu.x86_level.unwrap_or(1);
    let mut isa: Vec<&str> = Vec::new();
    if f.avx512() {
        isa.push("AVX-512");
        for (on, name) in [
            (f.avx512_vnni, "VNNI"),
            (f.avx512vbmi, "VBMI"),
            (f.avx512_bf16, "BF16"),
            (f.amx_tile, "AMX"),
        ] {
            if on {
                isa.push(name);
            }
        }
    } else if f.avx2 {
        isa.push("AVX2");
        if f.fma {
            isa.push("FMA");
        }
        if f.avx_vnni {
            isa.push("AVX-VNNI");
        }
    } else if f.avx {
        isa.push("AVX");
    }
    let has = if isa.is_empty() {
        "no AVX".to_string()
    } else {
        isa.join(", ")
    };
    let base = format!("{shape}; {has} (x86-64-v{level}, llama.cpp CPU variant `{variant}`)");
    if f.avx2 && f.fma {
        out.push(Finding::pass("cpu.isa", base));
        return;
    }
    let offload = if facts
        .gpus
        .iter()
        .any(|g| g.vendor == "nvidia" || g.vendor == "amd")
    {
        "; the GPUs can carry the model instead"
    } else {
        ""
    };
    match &cpu.hypervisor {
        Some(hv) => out.push(
            Finding::warn(
                "cpu.isa",
                format!("{base}: this {hv} VM's CPU model hides AVX2, so CPU inference runs several times slower{offload}"),
            )
            .hint(PASSTHROUGH),
        ),
        None => out.push(Finding::warn(
            "cpu.isa",
            format!("{base}: without AVX2 CPU inference runs several times slower{offload}"),
        )),
    }
}
