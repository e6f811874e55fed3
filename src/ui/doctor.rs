//! The human `uaiso doctor` report: the box at a glance, then every check with its
//! hint, then the tally.

use std::fmt::Write;

use super::Paint;
use crate::doctor::{Report, Status};
use crate::probe::HostFacts;
use crate::probe::gpu::Gpu;
use crate::units::bytes;

/// Width of the left column of the facts block.
const LABEL: usize = 9;

pub fn render(report: &Report, paint: Paint) -> String {
    let mut s = String::new();
    let f = &report.facts;
    let host = f.host.hostname.as_deref().unwrap_or("this box");
    let source = if report.source == "live" {
        String::new()
    } else {
        format!(" (snapshot `{}`)", report.source)
    };
    let _ = writeln!(
        s,
        "{}{source}\n",
        paint.bold(&format!("uaiso doctor — {host}"))
    );
    facts(&mut s, f, paint);
    let _ = writeln!(s);
    let width = report
        .findings
        .iter()
        .map(|x| x.id.len())
        .max()
        .unwrap_or(0);
    for finding in &report.findings {
        let mark = match finding.status {
            Status::Pass => paint.pass("✓"),
            Status::Warn => paint.warn("!"),
            Status::Fail => paint.fail("✗"),
        };
        let _ = writeln!(s, "{mark} {:<width$}  {}", finding.id, finding.message);
        if let Some(hint) = &finding.hint {
            let _ = writeln!(s, "  {:<width$}  {} {hint}", "", paint.dim("hint:"));
        }
    }
    let sum = &report.summary;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let tally = format!(
        "{} ok · {} · {} failed",
        sum.pass,
        plural(sum.warn, "warning"),
        sum.fail
    );
    let tally = if sum.fail > 0 {
        paint.fail(&tally)
    } else if sum.warn > 0 {
        paint.warn(&tally)
    } else {
        paint.pass(&tally)
    };
    let _ = writeln!(s, "\n{tally}");
    s
}

fn line(s: &mut String, label: &str, text: &str, paint: Paint) {
    let _ = writeln!(s, "{} {text}", paint.bold(&format!("{label:<LABEL$}")));
}

fn facts(s: &mut String, f: &HostFacts, paint: Paint) {
    let cpu = &f.cpu;
    let mut cpu_line = vec![format!(
        "{} × {}",
        cpu.sockets,
        cpu.model.as_deref().unwrap_or("unknown CPU")
    )];
    cpu_line.push(format!("{} cores, {} threads", cpu.cores, cpu.threads));
    if let Some(level) = cpu.x86_level {
        cpu_line.push(format!("x86-64-v{level}"));
    }
    if let Some(v) = &cpu.llama_cpu_variant {
        cpu_line.push(format!("llama.cpp `{v}`"));
    }
    if let Some(hv) = &cpu.hypervisor {
        cpu_line.push(format!("VM ({hv})"));
    }
    line(s, "CPU", &cpu_line.join(" · "), paint);

    let m = &f.memory;
    let mut mem = vec![match (m.total_bytes, m.available_bytes) {
        (Some(t), Some(a)) => format!("{} RAM, {} available", bytes(t), bytes(a)),
        (Some(t), None) => format!("{} RAM", bytes(t)),
        _ => "unknown".to_string(),
    }];
    if m.zram_swap_bytes > 0 {
        mem.push(format!("zram {}", bytes(m.zram_swap_bytes)));
    }
    if m.disk_swap_bytes > 0 {
        mem.push(format!("disk swap {}", bytes(m.disk_swap_bytes)));
    }
    if let Some(limit) = m.cgroup_limit_bytes {
        mem.push(format!("cgroup limit {}", bytes(limit)));
    }
    line(s, "Memory", &mem.join(" · "), paint);

    if f.gpus.is_empty() {
        line(s, "GPUs", "none", paint);
    }
    for (i, gpu) in f.gpus.iter().enumerate() {
        line(s, if i == 0 { "GPUs" } else { "" }, &gpu_line(gpu), paint);
    }
    for acc in &f.accelerators {
        line(
            s,
            "Accel",
            &format!("{}  {}", acc.pci_address, acc.name),
            paint,
        );
    }

    let d = &f.disk;
    let disk = match (d.avail_bytes, d.total_bytes) {
        (Some(a), Some(t)) => format!(
            "{} free of {} at `{}`{}",
            bytes(a),
            bytes(t),
            d.probed.as_deref().unwrap_or(&d.models_dir),
            d.fs_type
                .as_deref()
                .map(|fs| format!(" ({fs})"))
                .unwrap_or_default()
        ),
        _ => format!("`{}`: not measured", d.models_dir),
    };
    line(s, "Disk", &disk, paint);

    let h = &f.host;
    let os = [
        h.os.clone(),
        h.kernel.as_ref().map(|k| format!("kernel {k}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    line(s, "OS", if os.is_empty() { "unknown" } else { &os }, paint);
}

fn gpu_line(gpu: &Gpu) -> String {
    let mut parts = vec![gpu.pci_address.clone(), gpu.name.clone()];
    match (gpu.vram_total_bytes, gpu.integrated) {
        (_, true) => parts.push("shared memory".to_string()),
        (Some(v), false) => parts.push(bytes(v)),
        (None, false) => {}
    }
    parts.push(
        gpu.driver
            .clone()
            .unwrap_or_else(|| "no driver".to_string()),
    );
    if let Some(l) = &gpu.link
        && let (Some(cg), Some(cw)) = (l.current_gen, l.current_width)
    {
        let max = match (l.max_gen, l.max_width) {
            (Some(mg), Some(mw)) if (mg, mw) != (cg, cw) => format!(" (max {mg} x{mw})"),
            _ => String::new(),
        };
        parts.push(format!("PCIe {cg} x{cw}{max}"));
    }
    if let Some(nv) = &gpu.nvidia {
        if let Some(cc) = &nv.compute_capability {
            parts.push(format!("cc {cc}"));
        }
        if let Some(mw) = nv.power_limit_mw {
            parts.push(format!("{} W", mw / 1000));
        }
        if let Some(t) = nv.temperature_c {
            parts.push(format!("{t} °C"));
        }
    }
    if let Some(target) = &gpu.amd_gfx_target {
        parts.push(target.clone());
    }
    parts.join("  ")
}
