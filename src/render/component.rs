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
    /// A catalogue tool: `uaiso add`/`remove` take it on or off.
    #[serde(default)]
    pub tool: bool,
    /// The only backends it makes sense on (empty: any).
    #[serde(default)]
    pub backends: Vec<String>,
    /// What a removal deletes for good (its volumes), so `remove` asks first.
    #[serde(default)]
    pub data: Option<String>,
    /// Images by role, each pinned to a tag.
    pub images: BTreeMap<String, String>,
    /// Secrets generated on the box when the component is applied, never rendered.
    #[serde(default)]
    pub secret: Vec<SecretSpec>,
    /// What people open: a Service port, a NodePort on the box's loopback.
    #[serde(default)]
    pub endpoint: Vec<Endpoint>,
}

/// A Secret uaiso generates: `bytes` random bytes, hex or base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSpec {
    pub name: String,
    pub key: String,
    pub bytes: usize,
    pub encoding: Encoding,
    /// Shown by `status --show-secrets`.
    pub what: String,
    /// A login people need: printed once, when it is generated.
    #[serde(default)]
    pub show_once: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Hex,
    Base64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub service: String,
    pub port: u16,
    /// Fixed, so that URLs stay the same across re-installs; 30000-32767.
    pub node_port: u16,
    pub scheme: String,
    pub what: String,
}

impl ComponentSpec {
    pub fn runs_on(&self, backend: crate::profile::Backend) -> bool {
        self.backends.is_empty() || self.backends.iter().any(|b| b == backend.as_str())
    }
}

/// The bundled component named `name`.
pub fn find(name: &str) -> Option<Component> {
    all().into_iter().find(|c| c.spec.name == name)
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
        let ports: Vec<u16> = all
            .iter()
            .flat_map(|c| c.spec.endpoint.iter().map(|e| e.node_port))
            .collect();
        let unique: std::collections::BTreeSet<_> = ports.iter().collect();
        assert_eq!(unique.len(), ports.len(), "node ports are unique");
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
            for e in &c.spec.endpoint {
                assert!(
                    (30000..=32767).contains(&e.node_port),
                    "{}: {} node port",
                    c.spec.name,
                    e.service
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
