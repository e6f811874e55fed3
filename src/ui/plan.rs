//! The human `uaiso plan`: profile and why, model and why, the memory table, the
//! llama-server flags.

use std::fmt::Write;

use super::Paint;
use crate::plan::HostPlan;
use crate::profile::Selection;
use crate::units::bytes;

pub fn render(sel: &Selection, paint: Paint) -> String {
    let mut s = String::new();
    let p = &sel.profile;
    let _ = writeln!(
        s,
        "{} {}  {}",
        paint.bold("Profile"),
        paint.bold(&p.name),
        paint.dim(&p.description)
    );
    for r in &sel.profile_reasons {
        let _ = writeln!(s, "  because {r}");
    }
    let _ = writeln!(
        s,
        "  backend {} · distro {} · image {}",
        p.backend.as_str(),
        p.distro.as_str(),
        p.image
    );
    let mut parts = Vec::new();
    if p.zram.enabled {
        parts.push(format!(
            "zram {} % of RAM ({})",
            p.zram.size_percent,
            p.zram.algorithm.as_str()
        ));
    }
    parts.push(format!(
        "monitoring {}",
        if p.components.monitoring { "on" } else { "off" }
    ));
    parts.push(format!(
        "proxy {}",
        if p.components.proxy { "on" } else { "off" }
    ));
    let _ = writeln!(s, "  {}", parts.join(" · "));

    let _ = writeln!(s);
    match &sel.model {
        Some(m) => {
            let f = &m.fit;
            let _ = writeln!(
                s,
                "{} {} {} ({}B parameters, licence {})",
                paint.bold("Model"),
                paint.bold(&m.name),
                f.quant,
                m.params_b,
                m.licence
            );
            for r in &sel.model_reasons {
                let _ = writeln!(s, "  because {r}");
            }
            let _ = writeln!(s, "  {}", m.url);
        }
        None => {
            let _ = writeln!(s, "{} {}", paint.bold("Model"), paint.fail("none fits"));
        }
    }
    for w in &sel.warnings {
        let _ = writeln!(s, "  {} {w}", paint.warn("warning:"));
    }

    let _ = writeln!(s);
    let b = &sel.budget;
    let _ = writeln!(s, "{} ({})", paint.bold("Memory"), b.kind.as_str());
    let row = |s: &mut String, label: &str, value: u64| {
        let _ = writeln!(s, "  {label:<28}{:>12}", bytes(value));
    };
    for d in &b.devices {
        let _ = writeln!(
            s,
            "  {:<28}{:>12}  usable {}",
            d.name,
            bytes(d.free_bytes),
            bytes(d.usable_bytes)
        );
    }
    if let Some(m) = &sel.model {
        let f = &m.fit;
        row(&mut s, "weights", f.weights_bytes);
        row(
            &mut s,
            &format!("KV cache ({} × {} tokens)", f.parallel, f.context),
            f.kv_bytes,
        );
        row(&mut s, "overhead (20 %)", f.overhead_bytes);
        row(&mut s, "total", f.total_bytes);
    }
    row(&mut s, "budget (usable − headroom)", b.limit_bytes);
    if let Some(m) = &sel.model {
        let margin = m.fit.margin_bytes;
        let shown = if margin >= 0 {
            bytes(margin as u64)
        } else {
            format!("−{}", bytes(margin.unsigned_abs()))
        };
        let _ = writeln!(
            s,
            "  {:<28}{:>12}  (+ {} kept free)",
            "headroom left",
            shown,
            bytes(b.headroom_bytes)
        );
    }
    for n in &b.notes {
        let _ = writeln!(s, "  {}", paint.dim(n));
    }

    if let Some(server) = &sel.server {
        let _ = writeln!(s, "\n{}", paint.bold("llama-server"));
        let _ = writeln!(s, "  {}", server.image);
        let _ = writeln!(s, "  {}", server.args.join(" "));
    }
    s
}

/// The host steps `up` runs, numbered, with what the plan leaves alone.
pub fn host_steps(plan: &HostPlan) -> String {
    let mut s = format!("Host steps ({}):\n", plan.distro);
    for (i, step) in plan.steps.iter().enumerate() {
        let _ = writeln!(s, "  {:>2}. {}", i + 1, step.describe());
    }
    for note in &plan.notes {
        let _ = writeln!(s, "      ({note})");
    }
    s
}
