//! `component.toml`: what a component is, what it needs and which images it pins.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::bundled::{self, Bundled};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    pub name: String,
    pub description: String,
    /// What the component's pods request, in MiB.
    pub memory_mib: u64,
    /// Its memory is the model's, which `uaiso plan` sizes.
    #[serde(default)]
    pub sized_by_model: bool,
    pub requires: Vec<String>,
    /// Images by role, each pinned to a tag.
    pub images: BTreeMap<String, String>,
}

/// A bundled component, parsed.
pub struct Component {
    pub spec: ComponentSpec,
    pub bundled: &'static Bundled,
}

/// Every bundled component, in render order. The files are checked by a test, so a
/// parse failure here cannot survive the test suite; it panics with the file named.
pub fn all() -> Vec<Component> {
    bundled::COMPONENTS
        .iter()
        .map(|b| {
            let spec: ComponentSpec = toml::from_str(b.toml)
                .unwrap_or_else(|e| panic!("manifests/{}/component.toml: {e}", b.dir));
            Component { spec, bundled: b }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_components_are_well_formed() {
        let all = all();
        for c in &all {
            assert_eq!(
                c.spec.name, c.bundled.dir,
                "folder named after the component"
            );
            for (role, image) in &c.spec.images {
                let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
                assert!(
                    !tag.is_empty() && tag != "latest" && !tag.contains('/'),
                    "{}: {role} = {image} is not pinned",
                    c.spec.name
                );
            }
            for r in &c.spec.requires {
                assert!(
                    all.iter().any(|o| &o.spec.name == r),
                    "{} requires unknown {r}",
                    c.spec.name
                );
            }
        }
    }
}
