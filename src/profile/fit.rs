//! The fit arithmetic and the model choice.
//!
//! Memory of a model = weights + overhead + KV cache. The weights are the GGUF file's
//! size; the overhead is the 20 % of the rule of thumb M = P × 4 B × 1.2 / (32 / Q)
//! (compute buffers, scratch); the KV cache is 2 (K and V) × layers × KV heads × head
//! size × 2 bytes (f16) per token, for the context of every parallel slot.

use serde::{Deserialize, Serialize};

use super::budget::Budget;
use super::models::{Model, Quant};
use super::spec::Profile;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub model: String,
    pub quant: String,
    pub file: String,
    /// Context per slot, in tokens.
    pub context: u32,
    pub parallel: u32,
    pub weights_bytes: u64,
    pub kv_bytes: u64,
    pub overhead_bytes: u64,
    pub total_bytes: u64,
    /// The budget's limit (usable less headroom).
    pub limit_bytes: u64,
    /// limit − total; negative when it does not fit.
    pub margin_bytes: i64,
}

impl Fit {
    pub fn fits(&self) -> bool {
        self.margin_bytes >= 0
    }
}

pub fn estimate(model: &Model, quant: &Quant, context: u32, parallel: u32, budget: &Budget) -> Fit {
    let weights = quant.bytes;
    let overhead = weights / 5;
    let kv = model.kv_bytes_per_token() * u64::from(context) * u64::from(parallel);
    let total = weights + overhead + kv;
    Fit {
        model: model.id.clone(),
        quant: quant.name.clone(),
        file: quant.file.clone(),
        context,
        parallel,
        weights_bytes: weights,
        kv_bytes: kv,
        overhead_bytes: overhead,
        total_bytes: total,
        limit_bytes: budget.limit_bytes,
        margin_bytes: budget.limit_bytes as i64 - total as i64,
    }
}

/// Contexts to try for a model, largest first: the profile's maximum (capped by the
/// model's own), halving down to the profile's minimum.
fn contexts(model: &Model, profile: &Profile) -> Vec<u32> {
    let top = profile.model.context_max.min(model.context);
    let floor = profile.model.context_min.min(top);
    let mut out = vec![top];
    let mut c = top;
    while c / 2 >= floor {
        c /= 2;
        out.push(c);
    }
    if *out.last().unwrap_or(&top) != floor {
        out.push(floor);
    }
    out
}

/// The best way to run one model within the budget: the longest context, then the
/// best quantisation the profile allows. `None` when nothing fits.
pub fn best_for_model(
    model: &Model,
    profile: &Profile,
    budget: &Budget,
    disk_free: Option<u64>,
) -> Option<Fit> {
    let quants: Vec<&Quant> = profile
        .model
        .quants
        .iter()
        .rev()
        .filter_map(|q| model.quant(q))
        .filter(|q| disk_free.is_none_or(|d| q.bytes <= d))
        .collect();
    for context in contexts(model, profile) {
        for quant in &quants {
            let fit = estimate(model, quant, context, profile.server.parallel, budget);
            if fit.fits() {
                return Some(fit);
            }
        }
    }
    None
}

/// The smallest footprint of a model under the profile (least quant, least context),
/// to say by how much it misses.
pub fn smallest(model: &Model, profile: &Profile, budget: &Budget) -> Option<Fit> {
    let quant = profile
        .model
        .quants
        .iter()
        .filter_map(|q| model.quant(q))
        .min_by_key(|q| q.bytes)?;
    let context = *contexts(model, profile).last()?;
    Some(estimate(
        model,
        quant,
        context,
        profile.server.parallel,
        budget,
    ))
}

/// Pick the largest model the profile allows that fits; its best settings.
pub fn choose<'a>(
    models: &'a [Model],
    profile: &Profile,
    budget: &Budget,
    disk_free: Option<u64>,
) -> Option<(&'a Model, Fit)> {
    let mut candidates: Vec<&Model> = models
        .iter()
        .filter(|m| m.params_b <= profile.model.max_params_b)
        .collect();
    candidates.sort_by(|a, b| b.params_b.total_cmp(&a.params_b).then(a.id.cmp(&b.id)));
    candidates
        .into_iter()
        .find_map(|m| best_for_model(m, profile, budget, disk_free).map(|f| (m, f)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::budget::{Device, MemoryKind};

    fn model() -> Model {
        Model {
            id: "m".into(),
            name: "M".into(),
            params_b: 7.0,
            layers: 28,
            kv_heads: 4,
            head_dim: 128,
            context: 32768,
            licence: "x".into(),
            repo: "a/b".into(),
            quants: vec![
                Quant {
                    name: "Q4_K_M".into(),
                    file: "m4.gguf".into(),
                    bytes: 4_000_000_000,
                    sha256: None,
                },
                Quant {
                    name: "Q8_0".into(),
                    file: "m8.gguf".into(),
                    bytes: 8_000_000_000,
                    sha256: None,
                },
            ],
        }
    }

    fn budget(limit: u64) -> Budget {
        Budget {
            kind: MemoryKind::Ram,
            devices: vec![Device {
                name: "RAM".into(),
                free_bytes: limit,
                usable_bytes: limit,
            }],
            usable_bytes: limit,
            headroom_bytes: 0,
            limit_bytes: limit,
            notes: vec![],
        }
    }

    #[test]
    fn kv_follows_the_formula() {
        // Qwen2.5-7B: 28 layers × 4 KV heads × 128 × 2 (K, V) × 2 bytes = 57344 B/token.
        assert_eq!(model().kv_bytes_per_token(), 57_344);
        let fit = estimate(
            &model(),
            &model().quants[0],
            8192,
            2,
            &budget(10_000_000_000),
        );
        assert_eq!(fit.kv_bytes, 57_344 * 8192 * 2);
        assert_eq!(fit.overhead_bytes, 800_000_000);
        assert_eq!(
            fit.total_bytes,
            4_000_000_000 + 800_000_000 + 57_344 * 16384
        );
        assert!(fit.fits());
    }

    #[test]
    fn context_comes_before_quant_and_disk_space_counts() {
        let profile = crate::profile::bundled::profile("cpu").unwrap();
        // Q8 at 32k × 2 slots needs 8e9 × 1.2 + 3.76e9 = 13.36e9: not in 12e9.
        let f = best_for_model(&model(), &profile, &budget(12_000_000_000), None).unwrap();
        assert_eq!((f.quant.as_str(), f.context), ("Q4_K_M", 32768));
        let f = best_for_model(&model(), &profile, &budget(20_000_000_000), None).unwrap();
        assert_eq!((f.quant.as_str(), f.context), ("Q8_0", 32768));
        let f = best_for_model(
            &model(),
            &profile,
            &budget(20_000_000_000),
            Some(5_000_000_000),
        )
        .unwrap();
        assert_eq!(f.quant, "Q4_K_M", "the Q8 file would not fit on the disk");
        assert!(best_for_model(&model(), &profile, &budget(4_000_000_000), None).is_none());
    }

    proptest::proptest! {
        /// Whatever the budget and the profile, the choice fits the limit, respects the
        /// profile's size cap, and no larger allowed model would have fitted.
        #[test]
        fn the_choice_never_exceeds_the_budget(limit in 0u64..200_000_000_000, which in 0usize..6, disk in proptest::option::of(0u64..100_000_000_000)) {
            let models = crate::profile::bundled::models();
            let profile = crate::profile::bundled::profiles().swap_remove(which);
            let b = budget(limit);
            if let Some((m, f)) = choose(&models, &profile, &b, disk) {
                proptest::prop_assert!(f.total_bytes <= b.limit_bytes);
                proptest::prop_assert!(m.params_b <= profile.model.max_params_b);
                proptest::prop_assert!(disk.is_none_or(|d| f.weights_bytes <= d));
                for larger in models.iter().filter(|o| o.params_b > m.params_b && o.params_b <= profile.model.max_params_b) {
                    proptest::prop_assert!(best_for_model(larger, &profile, &b, disk).is_none(), "{} would fit too", larger.id);
                }
            } else {
                for m in models.iter().filter(|m| m.params_b <= profile.model.max_params_b) {
                    proptest::prop_assert!(best_for_model(m, &profile, &b, disk).is_none());
                }
            }
        }
    }
}
