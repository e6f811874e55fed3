//! The profiles and the model catalogue compiled into the binary.

use super::models::{self, Model};
use super::spec::Profile;

pub const PROFILES: [(&str, &str); 6] = [
    (
        "profiles/cpu-small.toml",
        include_str!("../../profiles/cpu-small.toml"),
    ),
    ("profiles/cpu.toml", include_str!("../../profiles/cpu.toml")),
    (
        "profiles/nvidia-single.toml",
        include_str!("../../profiles/nvidia-single.toml"),
    ),
    (
        "profiles/nvidia-multi.toml",
        include_str!("../../profiles/nvidia-multi.toml"),
    ),
    (
        "profiles/amd-rocm.toml",
        include_str!("../../profiles/amd-rocm.toml"),
    ),
    (
        "profiles/vulkan-uma.toml",
        include_str!("../../profiles/vulkan-uma.toml"),
    ),
];

pub const CATALOGUE: (&str, &str) = (
    "models/catalogue.toml",
    include_str!("../../models/catalogue.toml"),
);

/// Every bundled profile. They are validated by a test, so this cannot fail in a build
/// that passed its tests; a broken one is skipped rather than taking the tool down.
pub fn profiles() -> Vec<Profile> {
    PROFILES
        .iter()
        .filter_map(|(file, text)| Profile::parse(file, text).ok())
        .collect()
}

pub fn profile(name: &str) -> Option<Profile> {
    profiles().into_iter().find(|p| p.name == name)
}

pub fn models() -> Vec<Model> {
    models::parse(CATALOGUE.0, CATALOGUE.1).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_file_is_valid() {
        for (file, text) in PROFILES {
            let p = Profile::parse(file, text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                format!("profiles/{}.toml", p.name),
                file,
                "file named after the profile"
            );
        }
        let models = models::parse(CATALOGUE.0, CATALOGUE.1).unwrap_or_else(|e| panic!("{e}"));
        assert!(models.len() >= 12, "{} models", models.len());
        let mut ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), models.len(), "model ids are unique");
        for p in profiles() {
            for q in &p.model.quants {
                assert!(
                    models.iter().any(|m| m.quant(q).is_some()),
                    "profile {} prefers {q}, which no model has",
                    p.name
                );
            }
        }
    }
}
