//! Prune: delete what uaiso applied before and no longer renders — a removed
//! component, or an object its component no longer contains — and wait until it is
//! gone. Only objects labelled `app.kubernetes.io/managed-by: uaiso` are ever looked at.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use kube::discovery::Scope;

use super::{Cluster, KubeError};
use crate::render::Document;

/// The kinds uaiso's components contain. Namespaces are never pruned: a person's own
/// objects may live in them.
/// CustomResourceDefinitions are never pruned either: deleting one deletes every
/// object of its kind, which people create themselves (Argo CD's Applications).
const KINDS: [(&str, &str, &str); 14] = [
    ("apps", "v1", "Deployment"),
    ("apps", "v1", "DaemonSet"),
    ("apps", "v1", "StatefulSet"),
    ("batch", "v1", "Job"),
    ("", "v1", "Service"),
    ("", "v1", "ConfigMap"),
    ("", "v1", "Secret"),
    ("", "v1", "ServiceAccount"),
    ("", "v1", "PersistentVolumeClaim"),
    ("rbac.authorization.k8s.io", "v1", "Role"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
    ("node.k8s.io", "v1", "RuntimeClass"),
];

/// What prune lists and deletes in the namespace, for the rights check. Cluster-scoped
/// kinds are skipped where they cannot be listed, so they are needed only for what the
/// render itself contains.
pub fn prune_needs() -> Vec<super::Need> {
    KINDS
        .iter()
        .filter(|(_, _, kind)| {
            !matches!(*kind, "ClusterRole" | "ClusterRoleBinding" | "RuntimeClass")
        })
        .flat_map(|(group, version, kind)| {
            let api_version = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            ["list", "delete"].map(|verb| super::Need::new(verb, &api_version, kind))
        })
        .collect()
}

/// On a model's PersistentVolumeClaim: a model cache, kept like the host's unless
/// models are purged.
pub const MODEL_CACHE: &str = "uaiso.io/model-cache";

/// Secrets uaiso generates carry this label: they outlive every re-render and go only
/// with their component.
pub const GENERATED: &str = "uaiso.io/generated";

/// On cluster-scoped objects: the namespace of the install they belong to.
pub const INSTALL: &str = "uaiso.io/namespace";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pruned {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl Cluster {
    /// Delete uaiso's objects in `namespace` (and cluster-scoped ones) that `docs` — the
    /// full render of the `components` now wanted — does not contain, then wait up to
    /// `timeout` until they are gone.
    pub fn prune(
        &self,
        namespace: &str,
        components: &[String],
        docs: &[Document],
        purge_models: bool,
        timeout: Duration,
    ) -> Result<Vec<Pruned>, KubeError> {
        let wanted: BTreeSet<(String, String)> = docs
            .iter()
            .map(|d| (d.kind.clone(), d.name.clone()))
            .collect();
        let err = |kind: &str, name: &str, e: kube::Error| KubeError::Object {
            kind: kind.to_string(),
            name: name.to_string(),
            message: e.to_string(),
        };
        self.rt.block_on(async {
            let mut doomed: Vec<(Api<DynamicObject>, Pruned)> = Vec::new();
            for (group, version, kind) in KINDS {
                let gvk = GroupVersionKind::gvk(group, version, kind);
                let (resource, caps) = kube::discovery::pinned_kind(&self.client, &gvk)
                    .await
                    .map_err(|e| err(kind, "*", e))?;
                // Cluster-scoped objects name their install's namespace in a label.
                let (api, selector): (Api<DynamicObject>, String) = match caps.scope {
                    Scope::Namespaced => (
                        Api::namespaced_with(self.client.clone(), namespace, &resource),
                        "app.kubernetes.io/managed-by=uaiso".to_string(),
                    ),
                    Scope::Cluster => (
                        Api::all_with(self.client.clone(), &resource),
                        format!("app.kubernetes.io/managed-by=uaiso,{INSTALL}={namespace}"),
                    ),
                };
                let list = match api.list(&ListParams::default().labels(&selector)).await {
                    Ok(list) => list,
                    // Credentials without cluster-wide rights cannot have made such objects.
                    Err(kube::Error::Api(s)) if s.code == 403 && caps.scope == Scope::Cluster => {
                        continue;
                    }
                    Err(e) => return Err(err(kind, "*", e)),
                };
                for obj in list.items {
                    let name = obj.metadata.name.clone().unwrap_or_default();
                    let labels = obj.metadata.labels.clone().unwrap_or_default();
                    let part_of = labels
                        .get("app.kubernetes.io/part-of")
                        .cloned()
                        .unwrap_or_default();
                    let component_wanted = components.contains(&part_of);
                    let generated = labels.get(GENERATED).is_some_and(|v| v == "true");
                    let cache = labels.get(MODEL_CACHE).is_some_and(|v| v == "true");
                    let keep = if cache && !purge_models {
                        true
                    } else if generated {
                        component_wanted
                    } else {
                        component_wanted && wanted.contains(&(kind.to_string(), name.clone()))
                    };
                    if !keep {
                        doomed.push((
                            api.clone(),
                            Pruned {
                                kind: kind.to_string(),
                                namespace: obj.metadata.namespace.clone(),
                                name,
                            },
                        ));
                    }
                }
            }
            let params = DeleteParams::foreground();
            for (api, p) in &doomed {
                match api.delete(&p.name, &params).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => return Err(err(&p.kind, &p.name, e)),
                }
            }
            let deadline = Instant::now() + timeout;
            for (api, p) in &doomed {
                loop {
                    match api.get_opt(&p.name).await {
                        Ok(None) => break,
                        Ok(Some(_)) if Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(300)).await
                        }
                        Ok(Some(_)) => {
                            return Err(KubeError::Object {
                                kind: p.kind.clone(),
                                name: p.name.clone(),
                                message: format!(
                                    "still there {} s after it was deleted",
                                    timeout.as_secs()
                                ),
                            });
                        }
                        Err(e) => return Err(err(&p.kind, &p.name, e)),
                    }
                }
            }
            let mut pruned: Vec<Pruned> = doomed.into_iter().map(|(_, p)| p).collect();
            pruned.sort();
            Ok(pruned)
        })
    }
}
