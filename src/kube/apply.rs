//! Server-side apply with field manager `uaiso` and strict field validation, in the
//! order the renderer gives (namespaces, identities, config, then workloads); and the
//! Secrets uaiso generates, created once and never changed after.

use std::collections::BTreeMap;

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams, ValidationDirective};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{ApiCapabilities, Scope};

use super::{Cluster, KubeError};
use crate::render::Document;

pub const FIELD_MANAGER: &str = "uaiso";

/// One object after apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The server stored a new version of it.
    pub changed: bool,
}

fn object_error(doc: &Document, message: impl ToString) -> KubeError {
    KubeError::Object {
        kind: doc.kind.clone(),
        name: doc.name.clone(),
        message: message.to_string(),
    }
}

impl Cluster {
    /// Apply every document; report which ones the server changed.
    pub fn apply(&self, docs: &[Document]) -> Result<Vec<Applied>, KubeError> {
        self.rt.block_on(async {
            let mut kinds: BTreeMap<String, (ApiResource, ApiCapabilities)> = BTreeMap::new();
            let mut params = PatchParams::apply(FIELD_MANAGER).force();
            params.field_validation = Some(ValidationDirective::Strict);
            let mut out = Vec::new();
            for doc in docs {
                let value: serde_json::Value =
                    serde_saphyr::from_str(&doc.yaml).map_err(|e| object_error(doc, e))?;
                let obj: DynamicObject =
                    serde_json::from_value(value).map_err(|e| object_error(doc, e))?;
                let (group, version) = match doc.api_version.split_once('/') {
                    Some((g, v)) => (g, v),
                    None => ("", doc.api_version.as_str()),
                };
                let gvk = GroupVersionKind::gvk(group, version, &doc.kind);
                let key = format!("{}/{}", doc.api_version, doc.kind);
                if !kinds.contains_key(&key) {
                    let found = kube::discovery::pinned_kind(&self.client, &gvk)
                        .await
                        .map_err(|e| {
                            object_error(doc, format!("the server does not serve {key}: {e}"))
                        })?;
                    kinds.insert(key.clone(), found);
                }
                let (resource, caps) = &kinds[&key];
                let api: Api<DynamicObject> = match (&caps.scope, &doc.namespace) {
                    (Scope::Namespaced, Some(ns)) => {
                        Api::namespaced_with(self.client.clone(), ns, resource)
                    }
                    _ => Api::all_with(self.client.clone(), resource),
                };
                let before = api
                    .get_opt(&doc.name)
                    .await
                    .map_err(|e| object_error(doc, e))?
                    .and_then(|o| o.metadata.resource_version);
                let after = api
                    .patch(&doc.name, &params, &Patch::Apply(&obj))
                    .await
                    .map_err(|e| object_error(doc, e))?;
                if doc.kind == "CustomResourceDefinition" {
                    self.wait_established(&doc.name)
                        .await
                        .map_err(|m| object_error(doc, m))?;
                    // The new kind must be discoverable for the documents after it.
                    kinds.clear();
                }
                out.push(Applied {
                    kind: doc.kind.clone(),
                    namespace: doc.namespace.clone(),
                    name: doc.name.clone(),
                    changed: before != after.metadata.resource_version,
                });
            }
            Ok(out)
        })
    }

    /// Wait until a CRD is Established, so that its kind can be served.
    async fn wait_established(&self, name: &str) -> Result<(), String> {
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
        let api: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let crd = api.get(name).await.map_err(|e| e.to_string())?;
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err("not Established after 60 s".to_string());
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// Create Secret `name` with `key` set to `value()` unless it exists; an existing
    /// Secret is never touched, so a key handed out once keeps working. Returns whether
    /// it was created.
    pub fn ensure_secret(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
        labels: &BTreeMap<String, String>,
        value: impl FnOnce() -> String,
    ) -> Result<bool, KubeError> {
        use k8s_openapi::api::core::v1::Secret;
        let err = |e: kube::Error| KubeError::Object {
            kind: "Secret".into(),
            name: name.into(),
            message: e.to_string(),
        };
        self.rt.block_on(async {
            let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
            if api.get_opt(name).await.map_err(err)?.is_some() {
                return Ok(false);
            }
            let secret = Secret {
                metadata: kube::api::ObjectMeta {
                    name: Some(name.to_string()),
                    namespace: Some(namespace.to_string()),
                    labels: Some(labels.clone()),
                    ..Default::default()
                },
                string_data: Some(BTreeMap::from([(key.to_string(), value())])),
                type_: Some("Opaque".to_string()),
                ..Default::default()
            };
            match api.create(&PostParams::default(), &secret).await {
                Ok(_) => Ok(true),
                // Someone created it between our look and our create: theirs stands.
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(err(e)),
            }
        })
    }
}
