//! Plain tables for `profile list` and `models list`.

use std::fmt::Write;

use crate::profile::fit::Fit;
use crate::profile::models::Model;
use crate::profile::{Profile, Selection};
use crate::render::component::ComponentSpec;
use crate::units::bytes;

pub fn profiles(profiles: &[Profile]) -> String {
    let width = profiles
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut s = format!("{:<width$}  {:<7}  description\n", "name", "backend");
    for p in profiles {
        let _ = writeln!(
            s,
            "{:<width$}  {:<7}  {}",
            p.name,
            p.backend.as_str(),
            p.description
        );
    }
    s
}

pub fn models(models: &[Model]) -> String {
    let width = models.iter().map(|m| m.id.len()).max().unwrap_or(2).max(2);
    let mut s = format!(
        "{:<width$}  {:>7}  {:>6}  {:>8}  {:<12}  quantisations\n",
        "id", "params", "layers", "context", "licence"
    );
    for m in models {
        let quants: Vec<String> = m
            .quants
            .iter()
            .map(|q| format!("{} {}", q.name, bytes(q.bytes)))
            .collect();
        let _ = writeln!(
            s,
            "{:<width$}  {:>6}B  {:>6}  {:>8}  {:<12}  {}",
            m.id,
            m.params_b,
            m.layers,
            m.context,
            m.licence,
            quants.join(", ")
        );
    }
    s
}

pub fn fits(sel: &Selection, fits: &[Fit]) -> String {
    let mut s = format!(
        "under profile {}: {} usable, {} with headroom\n",
        sel.profile.name,
        bytes(sel.budget.usable_bytes),
        bytes(sel.budget.limit_bytes)
    );
    if fits.is_empty() {
        s.push_str("no model in the catalogue fits\n");
        return s;
    }
    let width = fits.iter().map(|f| f.model.len()).max().unwrap_or(5).max(5);
    let _ = writeln!(
        s,
        "{:<width$}  {:<7}  {:>8}  {:>10}  {:>10}  {:>10}  {:>10}",
        "model", "quant", "context", "weights", "KV", "total", "margin"
    );
    for f in fits {
        let _ = writeln!(
            s,
            "{:<width$}  {:<7}  {:>8}  {:>10}  {:>10}  {:>10}  {:>10}",
            f.model,
            f.quant,
            format!("{}×{}", f.parallel, f.context),
            bytes(f.weights_bytes),
            bytes(f.kv_bytes),
            bytes(f.total_bytes),
            bytes(f.margin_bytes.max(0) as u64)
        );
    }
    s
}

pub fn components(specs: &[ComponentSpec]) -> String {
    let width = specs.iter().map(|c| c.name.len()).max().unwrap_or(4).max(4);
    let mut s = format!("{:<width$}  {:>7}  description\n", "name", "memory");
    for c in specs {
        let memory = if c.sized_by_model {
            "model".to_string()
        } else {
            format!("{} MiB", c.memory_mib)
        };
        let _ = writeln!(s, "{:<width$}  {memory:>7}  {}", c.name, c.description);
        for (role, image) in &c.images {
            let _ = writeln!(s, "{:<width$}  {:>7}  {role}: {image}", "", "");
        }
    }
    s
}
