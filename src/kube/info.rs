//! What `status` and `up` read from a cluster: the server's version, the nodes and
//! their GPUs, uaiso's workloads with their pods' restarts, one ConfigMap or Secret key,
//! and the install's namespace.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod, Secret};
use kube::api::{Api, DeleteParams, ListParams};

use super::{Cluster, KubeError};

const MANAGED: &str = "app.kubernetes.io/managed-by=uaiso";

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeInfo {
    pub name: String,
    pub ready: bool,
    pub kubelet_version: String,
    pub os_image: String,
    /// Allocatable memory in bytes.
    pub memory_bytes: u64,
    /// Allocatable extended resources such as `nvidia.com/gpu`, by name.
    pub gpus: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Workload {
    pub component: String,
    pub kind: String,
    pub name: String,
    pub desired: i32,
    pub ready: i32,
    pub restarts: i32,
    /// Why pods are not ready, when some are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
}

fn api_error(kind: &str, name: &str, e: kube::Error) -> KubeError {
    super::classify(e, kind, name)
}

/// A namespaced kind of k8s-openapi's.
trait Namespaced:
    kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
{
}

impl<K> Namespaced for K where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
{
}

impl Cluster {
    /// Objects of one kind in `namespace` that carry uaiso's label.
    async fn managed<K: Namespaced>(
        &self,
        namespace: &str,
        kind: &str,
    ) -> Result<Vec<K>, KubeError> {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        api.list(&ListParams::default().labels(MANAGED))
            .await
            .map(|l| l.items)
            .map_err(|e| api_error(kind, "*", e))
    }

    /// One object by name in `namespace`; `None` when it does not exist.
    async fn named<K: Namespaced>(
        &self,
        namespace: &str,
        name: &str,
        kind: &str,
    ) -> Result<Option<K>, KubeError> {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        api.get_opt(name)
            .await
            .map_err(|e| api_error(kind, name, e))
    }

    /// The API server's version (`v1.36.4+k3s1`); also the cheapest proof that the
    /// cluster answers and the credentials are accepted.
    pub fn server_version(&self) -> Result<String, KubeError> {
        self.rt.block_on(async {
            self.client
                .apiserver_version()
                .await
                .map(|v| v.git_version)
                .map_err(|e| api_error("Version", "/version", e))
        })
    }

    pub fn nodes(&self) -> Result<Vec<NodeInfo>, KubeError> {
        self.rt.block_on(async {
            let api: Api<Node> = Api::all(self.client.clone());
            let list = api
                .list(&ListParams::default())
                .await
                .map_err(|e| api_error("Node", "*", e))?;
            Ok(list
                .items
                .into_iter()
                .map(|n| {
                    let status = n.status.unwrap_or_default();
                    let ready = status
                        .conditions
                        .iter()
                        .flatten()
                        .any(|c| c.type_ == "Ready" && c.status == "True");
                    let alloc = status.allocatable.unwrap_or_default();
                    let gpus = alloc
                        .iter()
                        .filter(|(k, _)| k.ends_with("/gpu"))
                        .map(|(k, v)| (k.clone(), v.0.parse().unwrap_or(0)))
                        .filter(|(_, v)| *v > 0)
                        .collect();
                    let info = status.node_info.unwrap_or_default();
                    NodeInfo {
                        name: n.metadata.name.unwrap_or_default(),
                        ready,
                        kubelet_version: info.kubelet_version,
                        os_image: info.os_image,
                        memory_bytes: alloc
                            .get("memory")
                            .and_then(|q| crate::units::quantity(&q.0))
                            .unwrap_or(0),
                        gpus,
                    }
                })
                .collect())
        })
    }

    /// uaiso's Deployments, DaemonSets, StatefulSets and Jobs in `namespace`.
    pub fn workloads(&self, namespace: &str) -> Result<Vec<Workload>, KubeError> {
        self.rt.block_on(async {
            let pods: Vec<Pod> = self.managed(namespace, "Pod").await?;
            let mut out = Vec::new();
            let mut push = |kind: &str, meta: &kube::api::ObjectMeta, desired: i32, ready: i32| {
                let labels = meta.labels.clone().unwrap_or_default();
                let name = meta.name.clone().unwrap_or_default();
                let app = labels
                    .get("app.kubernetes.io/name")
                    .cloned()
                    .unwrap_or_default();
                let mine: Vec<&Pod> = pods
                    .iter()
                    .filter(|p| {
                        p.metadata
                            .labels
                            .as_ref()
                            .and_then(|l| l.get("app.kubernetes.io/name"))
                            == Some(&app)
                    })
                    .collect();
                let restarts = mine
                    .iter()
                    .flat_map(|p| {
                        p.status
                            .iter()
                            .flat_map(|s| s.container_statuses.iter().flatten())
                    })
                    .map(|c| c.restart_count)
                    .sum();
                let waiting = mine
                    .iter()
                    .flat_map(|p| {
                        p.status
                            .iter()
                            .flat_map(|s| s.container_statuses.iter().flatten())
                    })
                    .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
                out.push(Workload {
                    component: labels
                        .get("app.kubernetes.io/part-of")
                        .cloned()
                        .unwrap_or_default(),
                    kind: kind.to_string(),
                    name,
                    desired,
                    ready,
                    restarts,
                    waiting: if ready < desired { waiting } else { None },
                });
            };
            for d in self.managed::<Deployment>(namespace, "Deployment").await? {
                let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                let ready = d.status.as_ref().and_then(|s| s.ready_replicas);
                push("Deployment", &d.metadata, desired, ready.unwrap_or(0));
            }
            for d in self
                .managed::<StatefulSet>(namespace, "StatefulSet")
                .await?
            {
                let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                let ready = d.status.as_ref().and_then(|s| s.ready_replicas);
                push("StatefulSet", &d.metadata, desired, ready.unwrap_or(0));
            }
            for d in self.managed::<DaemonSet>(namespace, "DaemonSet").await? {
                let s = d.status.clone().unwrap_or_default();
                push(
                    "DaemonSet",
                    &d.metadata,
                    s.desired_number_scheduled,
                    s.number_ready,
                );
            }
            for j in self.managed::<Job>(namespace, "Job").await? {
                let done = j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0);
                push("Job", &j.metadata, 1, done.min(1));
            }
            Ok(out)
        })
    }

    /// One key of a ConfigMap; `None` when the ConfigMap or the key is missing.
    pub fn config_map_value(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
    ) -> Result<Option<String>, KubeError> {
        let cm: Option<ConfigMap> = self.rt.block_on(self.named(namespace, name, "ConfigMap"))?;
        Ok(cm.and_then(|c| c.data?.get(key).cloned()))
    }

    /// One key of a Secret, decoded; `None` when it is missing.
    pub fn secret_value(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
    ) -> Result<Option<String>, KubeError> {
        let secret: Option<Secret> = self.rt.block_on(self.named(namespace, name, "Secret"))?;
        Ok(secret.and_then(|s| {
            s.data?
                .get(key)
                .map(|b| String::from_utf8_lossy(&b.0).into_owned())
        }))
    }

    /// The model volumes uaiso keeps in `namespace` (PersistentVolumeClaims labelled as
    /// model caches).
    pub fn model_caches(&self, namespace: &str) -> Result<Vec<String>, KubeError> {
        use k8s_openapi::api::core::v1::PersistentVolumeClaim;
        self.rt.block_on(async {
            let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), namespace);
            let lp =
                ListParams::default().labels(&format!("{MANAGED},{}=true", super::MODEL_CACHE));
            let list = api
                .list(&lp)
                .await
                .map_err(|e| api_error("PersistentVolumeClaim", "*", e))?;
            Ok(list
                .items
                .into_iter()
                .filter_map(|p| p.metadata.name)
                .collect())
        })
    }

    /// The namespace's labels; `None` when it does not exist.
    pub fn namespace_labels(
        &self,
        namespace: &str,
    ) -> Result<Option<BTreeMap<String, String>>, KubeError> {
        self.rt.block_on(async {
            let api: Api<Namespace> = Api::all(self.client.clone());
            let ns = api
                .get_opt(namespace)
                .await
                .map_err(|e| api_error("Namespace", namespace, e))?;
            Ok(ns.map(|n| n.metadata.labels.unwrap_or_default()))
        })
    }

    /// Delete a namespace and wait until it is gone.
    pub fn delete_namespace(&self, namespace: &str, timeout: Duration) -> Result<(), KubeError> {
        self.rt.block_on(async {
            let api: Api<Namespace> = Api::all(self.client.clone());
            match api.delete(namespace, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
                Err(e) => return Err(api_error("Namespace", namespace, e)),
            }
            let deadline = Instant::now() + timeout;
            loop {
                match api.get_opt(namespace).await {
                    Ok(None) => return Ok(()),
                    Ok(Some(_)) if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(300)).await
                    }
                    Ok(Some(_)) => {
                        return Err(KubeError::Object {
                            kind: "Namespace".into(),
                            name: namespace.into(),
                            message: format!(
                                "still there {} s after it was deleted",
                                timeout.as_secs()
                            ),
                        });
                    }
                    Err(e) => return Err(api_error("Namespace", namespace, e)),
                }
            }
        })
    }
}
