//! PURE: profiles, the model catalogue, and the selection for a box — which profile,
//! which model at which quantisation and context, the memory table, and the
//! llama-server settings — each with its reasons.

pub mod budget;
pub mod bundled;
pub mod fit;
pub mod models;
pub mod select;
pub mod server;
pub mod spec;

use serde::{Deserialize, Serialize};

use crate::probe::HostFacts;
use crate::units::bytes;
use budget::Budget;
use fit::Fit;
use models::Model;
use server::ServerSettings;
pub use spec::{Backend, Profile, ProfileError};

/// What the user asked for instead of the automatic choice.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub profile: Option<String>,
    /// `id` or `id:QUANT`.
    pub model: Option<String>,
    /// Files already in the model cache, with their sizes: they need no free disk.
    pub cached: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub profile: Profile,
    pub profile_reasons: Vec<String>,
    pub budget: Budget,
    pub model: Option<ModelChoice>,
    pub model_reasons: Vec<String>,
    pub warnings: Vec<String>,
    pub server: Option<ServerSettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelChoice {
    pub id: String,
    pub name: String,
    pub params_b: f64,
    pub licence: String,
    pub url: String,
    /// Pinned in the catalogue; else it comes from the server when downloading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub fit: Fit,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("no profile named `{name}`\nhint: `uaiso profile list` shows them: {known}")]
    UnknownProfile { name: String, known: String },
    #[error("no model `{id}` in the catalogue\nhint: `uaiso models list` shows them{closest}")]
    UnknownModel { id: String, closest: String },
    #[error("model `{id}` has no `{quant}` file\nhint: it has {have}")]
    UnknownQuant {
        id: String,
        quant: String,
        have: String,
    },
    #[error(
        "{id} does not fit: it needs {needed} at the least, and this box has {usable} ({kind}): {short} short\nhint: pick a smaller model (`uaiso models list --fits`) or leave `--model` out"
    )]
    ModelTooBig {
        id: String,
        needed: String,
        usable: String,
        kind: String,
        short: String,
    },
}

/// The catalogue entry closest to what was typed, for "did you mean".
pub fn closest<'a>(wanted: &str, ids: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    ids.map(|id| (strsim_distance(wanted, id), id))
        .filter(|(d, _)| *d <= wanted.len().max(3) / 2)
        .min()
        .map(|(_, id)| id)
}

/// Levenshtein distance; catalogue ids are short.
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

pub fn select(
    facts: &HostFacts,
    profiles: &[Profile],
    models: &[Model],
    overrides: &Overrides,
) -> Result<Selection, SelectError> {
    let (auto_name, auto_reasons) = select::auto(facts);
    let (name, profile_reasons) = match &overrides.profile {
        Some(name) => (
            name.as_str(),
            vec![format!("`--profile {name}` given (automatic: {auto_name})")],
        ),
        None => (auto_name, auto_reasons),
    };
    let profile =
        select::find(profiles, name)
            .cloned()
            .ok_or_else(|| SelectError::UnknownProfile {
                name: name.to_string(),
                known: profiles
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
    let budget = budget::budget(facts, &profile);
    // A file already in the cache takes no more room; counting the whole cache as free
    // lets the choice of a first `up` that stopped after its download stand.
    let cached_bytes: u64 = overrides.cached.iter().map(|(_, b)| b).sum();
    let disk_free = facts.disk.avail_bytes.map(|d| d + cached_bytes);
    let mut warnings = Vec::new();
    let mut model_reasons = Vec::new();

    let chosen: Option<(&Model, Fit)> = match &overrides.model {
        Some(spec) => {
            let (id, quant) = match spec.split_once(':') {
                Some((i, q)) => (i, Some(q)),
                None => (spec.as_str(), None),
            };
            let model =
                models
                    .iter()
                    .find(|m| m.id == id)
                    .ok_or_else(|| SelectError::UnknownModel {
                        id: id.to_string(),
                        closest: closest(id, models.iter().map(|m| m.id.as_str()))
                            .map(|c| format!("; did you mean `{c}`?"))
                            .unwrap_or_default(),
                    })?;
            let mut forced = profile.clone();
            if let Some(q) = quant {
                let q = model.quant(q).ok_or_else(|| SelectError::UnknownQuant {
                    id: id.to_string(),
                    quant: q.to_string(),
                    have: model
                        .quants
                        .iter()
                        .map(|q| q.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
                forced.model.quants = vec![q.name.clone()];
            } else if forced.model.quants.iter().all(|q| model.quant(q).is_none()) {
                forced.model.quants = model.quants.iter().map(|q| q.name.clone()).collect();
            }
            model_reasons.push(format!("`--model {spec}` given"));
            match fit::best_for_model(model, &forced, &budget, disk_free) {
                Some(f) => Some((model, f)),
                None => {
                    let least = fit::smallest(model, &forced, &budget).expect("a model has quants");
                    if least.total_bytes > budget.usable_bytes {
                        return Err(SelectError::ModelTooBig {
                            id: model.id.clone(),
                            needed: bytes(least.total_bytes),
                            usable: bytes(budget.usable_bytes),
                            kind: budget.kind.as_str().to_string(),
                            short: bytes(least.total_bytes - budget.usable_bytes),
                        });
                    }
                    warnings.push(format!(
                        "{} eats into the headroom: {} needed, {} allowed with {} % headroom; expect pressure",
                        model.id,
                        bytes(least.total_bytes),
                        bytes(budget.limit_bytes),
                        profile.model.headroom_percent
                    ));
                    Some((model, least))
                }
            }
        }
        None => {
            let found = fit::choose(models, &profile, &budget, disk_free);
            if let Some((m, f)) = &found {
                let larger = models
                    .iter()
                    .filter(|o| o.params_b > m.params_b && o.params_b <= profile.model.max_params_b)
                    .min_by(|a, b| a.params_b.total_cmp(&b.params_b));
                model_reasons.push(format!(
                    "the largest model up to {}B parameters that fits {} with {} % headroom",
                    profile.model.max_params_b,
                    bytes(budget.usable_bytes),
                    profile.model.headroom_percent
                ));
                if let Some(l) = larger
                    && let Some(least) = fit::smallest(l, &profile, &budget)
                {
                    model_reasons.push(format!(
                        "the next larger, {}, needs {} at the least",
                        l.id,
                        bytes(least.total_bytes)
                    ));
                }
                model_reasons.push(format!(
                    "{} at {} tokens × {} slot{}: the longest context, then the best quantisation that fits",
                    f.quant,
                    f.context,
                    f.parallel,
                    if f.parallel == 1 { "" } else { "s" }
                ));
            } else {
                warnings.push(format!(
                    "no model in the catalogue fits {} ({}); add memory, or a smaller model to the catalogue",
                    bytes(budget.usable_bytes),
                    budget.kind.as_str()
                ));
            }
            found
        }
    };
    if let Some(free) = disk_free
        && let Some((_, f)) = &chosen
        && f.weights_bytes > free
    {
        warnings.push(format!(
            "the model file ({}) is larger than the free disk space ({})",
            bytes(f.weights_bytes),
            bytes(free)
        ));
    }
    let server = chosen
        .as_ref()
        .map(|(m, f)| server::settings(facts, &profile, &budget, f, m.layers));
    let model = chosen.map(|(m, f)| ModelChoice {
        id: m.id.clone(),
        name: m.name.clone(),
        params_b: m.params_b,
        licence: m.licence.clone(),
        url: m.quant(&f.quant).map(|q| m.url(q)).unwrap_or_default(),
        sha256: m.quant(&f.quant).and_then(|q| q.sha256.clone()),
        fit: f,
    });
    Ok(Selection {
        profile,
        profile_reasons,
        budget,
        model,
        model_reasons,
        warnings,
        server,
    })
}
