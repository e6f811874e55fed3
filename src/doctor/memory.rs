//! Memory checks: enough RAM for the stack and a model, swap and zram, cgroup limits.

use super::Finding;
use crate::probe::HostFacts;
use crate::units::{GIB, bytes};

/// What k3s or k0s, monitoring and the proxy need before any model.
const STACK_MIN: u64 = 2 * GIB;
const COMFORTABLE: u64 = 8 * GIB;
/// Boxes this small gain most from compressed swap.
const ZRAM_WORTHWHILE: u64 = 16 * GIB;

pub fn check(facts: &HostFacts, out: &mut Vec<Finding>) {
    let m = &facts.memory;
    let Some(total) = m.total_bytes else {
        out.push(Finding::warn(
            "memory.ram",
            "the amount of RAM could not be read",
        ));
        return;
    };
    let avail = m.available_bytes.unwrap_or(total);
    let vram: u64 = facts
        .gpus
        .iter()
        .filter(|g| !g.integrated && (g.vendor == "nvidia" || g.vendor == "amd"))
        .filter_map(|g| g.vram_total_bytes)
        .sum();
    let ram = format!("{} RAM, {} available", bytes(total), bytes(avail));
    if total < STACK_MIN {
        out.push(
            Finding::fail(
                "memory.ram",
                format!(
                    "{ram}: Kubernetes and monitoring alone need about {}",
                    bytes(STACK_MIN)
                ),
            )
            .hint("add RAM; a box under 2 GiB cannot run the stack"),
        );
    } else if total < COMFORTABLE && vram > 0 {
        out.push(Finding::warn(
            "memory.ram",
            format!(
                "{ram}: the GPUs' {} of VRAM carry the model, but loading it and running the stack leave little room",
                bytes(vram)
            ),
        ));
    } else if total < COMFORTABLE {
        out.push(Finding::warn(
            "memory.ram",
            format!("{ram}: room for small models only (1–4B parameters at 4-bit)"),
        ));
    } else {
        out.push(Finding::pass("memory.ram", ram));
    }
    if avail < GIB && total >= STACK_MIN {
        out.push(
            Finding::warn(
                "memory.available",
                format!("only {} of {} is available now", bytes(avail), bytes(total)),
            )
            .hint("close what uses the memory (`ps aux --sort=-rss | head`) before `uaiso up`"),
        );
    }

    let zram: Vec<String> = m
        .zram
        .iter()
        .filter(|z| z.used_as_swap)
        .map(|z| {
            let algo = z.algorithm.as_deref().unwrap_or("unknown algorithm");
            match z.compression_ratio {
                Some(r) => format!(
                    "{} {} ({algo}, {r:.1}× compression)",
                    z.device,
                    bytes(z.disksize_bytes)
                ),
                None => format!("{} {} ({algo})", z.device, bytes(z.disksize_bytes)),
            }
        })
        .collect();
    let disk =
        (m.disk_swap_bytes > 0).then(|| format!("{} swap on disk", bytes(m.disk_swap_bytes)));
    let mut parts = Vec::new();
    if !zram.is_empty() {
        parts.push(format!("zram {}", zram.join(", ")));
    }
    parts.extend(disk);
    if !zram.is_empty() {
        out.push(Finding::pass(
            "memory.swap",
            format!(
                "{}; zram is never counted as RAM for a model",
                parts.join("; ")
            ),
        ));
    } else if total <= ZRAM_WORTHWHILE {
        let have = parts
            .first()
            .cloned()
            .unwrap_or_else(|| "no swap".to_string());
        out.push(
            Finding::warn(
                "memory.swap",
                format!("{have} and no zram: a {} box gains headroom from compressed swap", bytes(total)),
            )
            .hint("`uaiso up` sets up zram (zstd) on small-memory profiles; or `sudo apt install systemd-zram-generator`"),
        );
    } else {
        let have = parts
            .first()
            .cloned()
            .unwrap_or_else(|| "no swap".to_string());
        out.push(Finding::pass("memory.swap", have));
    }

    if let Some(limit) = m.cgroup_limit_bytes {
        out.push(
            Finding::warn(
                "memory.cgroup",
                format!(
                    "this process runs in a cgroup limited to {} of the {} RAM (a container?): figures describe the container",
                    bytes(limit),
                    bytes(total)
                ),
            )
            .hint("run `uaiso doctor` on the host itself, outside any container"),
        );
    }
}
