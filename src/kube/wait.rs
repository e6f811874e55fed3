//! Waiting for rollouts the way `kubectl rollout status` does, and saying why one did
//! not finish: the pods' conditions, their containers' states, and events.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

use super::{Cluster, KubeError};
use crate::render::Document;

/// Deployment complete: the controller saw the latest spec, every replica is updated,
/// no old ones remain, all updated ones are available; a stale condition right after a
/// re-apply does not count.
fn deployment_done(d: &Deployment) -> Result<bool, String> {
    let (Some(spec), Some(status)) = (&d.spec, &d.status) else {
        return Ok(false);
    };
    if let Some(c) = status.conditions.iter().flatten().find(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    }) {
        return Err(format!(
            "progress deadline exceeded: {}",
            c.message.clone().unwrap_or_default()
        ));
    }
    let generation = d.metadata.generation.unwrap_or(0);
    let observed = status.observed_generation.unwrap_or(0);
    let wanted = spec.replicas.unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let replicas = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    Ok(generation <= observed && updated >= wanted && replicas <= updated && available >= updated)
}

fn daemonset_done(d: &DaemonSet) -> bool {
    let Some(status) = &d.status else {
        return false;
    };
    let generation = d.metadata.generation.unwrap_or(0);
    generation <= status.observed_generation.unwrap_or(0)
        && status.updated_number_scheduled.unwrap_or(0) >= status.desired_number_scheduled
        && status.number_available.unwrap_or(0) >= status.desired_number_scheduled
}

fn statefulset_done(d: &StatefulSet) -> bool {
    let (Some(spec), Some(status)) = (&d.spec, &d.status) else {
        return false;
    };
    let wanted = spec.replicas.unwrap_or(1);
    d.metadata.generation.unwrap_or(0) <= status.observed_generation.unwrap_or(0)
        && status.ready_replicas.unwrap_or(0) >= wanted
        && status.updated_replicas.unwrap_or(0) >= wanted
}

/// A Job is done when Complete; Failed is final, with the controller's reason.
fn job_done(j: &Job) -> Result<bool, String> {
    let conditions = j.status.iter().flat_map(|s| s.conditions.iter().flatten());
    for c in conditions {
        if c.status != "True" {
            continue;
        }
        match c.type_.as_str() {
            "Complete" => return Ok(true),
            "Failed" => {
                return Err(format!(
                    "it failed: {} {}",
                    c.reason.clone().unwrap_or_default(),
                    c.message.clone().unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    Ok(false)
}

/// Why the pods of a workload are not ready, in a line.
async fn pod_reason(client: &kube::Client, namespace: &str, name: &str) -> String {
    pods_reason(client, namespace, &format!("app.kubernetes.io/name={name}")).await
}

async fn pods_reason(client: &kube::Client, namespace: &str, selector: &str) -> String {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let Ok(list) = pods.list(&ListParams::default().labels(selector)).await else {
        return "its pods could not be listed".to_string();
    };
    for pod in &list.items {
        let Some(status) = &pod.status else { continue };
        if let Some(c) = status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        {
            return format!(
                "pod `{}` cannot be scheduled: {}",
                pod.metadata.name.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default()
            );
        }
        for cs in status.container_statuses.iter().flatten() {
            if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
                return format!(
                    "container `{}` is waiting: {} {}",
                    cs.name,
                    w.reason.clone().unwrap_or_default(),
                    w.message.clone().unwrap_or_default()
                )
                .trim_end()
                .to_string();
            }
        }
    }
    if list.items.is_empty() {
        "no pods were created".to_string()
    } else {
        "its pods are not ready yet".to_string()
    }
}

impl Cluster {
    /// Wait until every Deployment and DaemonSet among `docs` has rolled out.
    pub fn wait_for_rollouts(&self, docs: &[Document], timeout: Duration) -> Result<(), KubeError> {
        let deadline = Instant::now() + timeout;
        self.rt.block_on(async {
            for doc in docs
                .iter()
                .filter(|d| matches!(d.kind.as_str(), "Deployment" | "DaemonSet" | "StatefulSet"))
            {
                let ns = doc
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".to_string());
                loop {
                    let state = if doc.kind == "Deployment" {
                        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &ns);
                        match api.get_opt(&doc.name).await {
                            Ok(Some(d)) => deployment_done(&d),
                            Ok(None) => Err("it does not exist".to_string()),
                            Err(e) => Err(e.to_string()),
                        }
                    } else if doc.kind == "StatefulSet" {
                        let api: Api<StatefulSet> = Api::namespaced(self.client.clone(), &ns);
                        match api.get_opt(&doc.name).await {
                            Ok(Some(d)) => Ok(statefulset_done(&d)),
                            Ok(None) => Err("it does not exist".to_string()),
                            Err(e) => Err(e.to_string()),
                        }
                    } else {
                        let api: Api<DaemonSet> = Api::namespaced(self.client.clone(), &ns);
                        match api.get_opt(&doc.name).await {
                            Ok(Some(d)) => Ok(daemonset_done(&d)),
                            Ok(None) => Err("it does not exist".to_string()),
                            Err(e) => Err(e.to_string()),
                        }
                    };
                    let failure = match state {
                        Ok(true) => break,
                        Ok(false) if Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(500)).await;
                            continue;
                        }
                        Ok(false) => pod_reason(&self.client, &ns, &doc.name).await,
                        Err(reason) => format!(
                            "{reason}; {}",
                            pod_reason(&self.client, &ns, &doc.name).await
                        ),
                    };
                    return Err(KubeError::Rollout {
                        kind: doc.kind.clone(),
                        namespace: ns,
                        name: doc.name.clone(),
                        timeout_s: timeout.as_secs(),
                        reason: failure,
                    });
                }
            }
            Ok(())
        })
    }

    /// Wait until every Job among `docs` is Complete; `tick` is called about every 30 s
    /// with the Job's name and what its pods are doing (a model download takes long).
    pub fn wait_for_jobs(
        &self,
        docs: &[Document],
        timeout: Duration,
        tick: &mut dyn FnMut(&str, &str),
    ) -> Result<(), KubeError> {
        let deadline = Instant::now() + timeout;
        self.rt.block_on(async {
            for doc in docs.iter().filter(|d| d.kind == "Job") {
                let ns = doc
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".to_string());
                let api: Api<Job> = Api::namespaced(self.client.clone(), &ns);
                let mut last_tick = Instant::now();
                let job_pods = format!("batch.kubernetes.io/job-name={}", doc.name);
                loop {
                    let state = match api.get_opt(&doc.name).await {
                        Ok(Some(j)) => job_done(&j),
                        Ok(None) => Err("it does not exist".to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let reason = match state {
                        Ok(true) => break,
                        Ok(false) if Instant::now() < deadline => {
                            if last_tick.elapsed() >= Duration::from_secs(30) {
                                last_tick = Instant::now();
                                let why = pods_reason(&self.client, &ns, &job_pods).await;
                                tick(&doc.name, &why);
                            }
                            tokio::time::sleep(Duration::from_millis(500)).await;
                            continue;
                        }
                        Ok(false) => "it is still running".to_string(),
                        Err(reason) => reason,
                    };
                    let pods = pods_reason(&self.client, &ns, &job_pods).await;
                    return Err(KubeError::Rollout {
                        kind: "Job".into(),
                        namespace: ns,
                        name: doc.name.clone(),
                        timeout_s: timeout.as_secs(),
                        reason: format!("{reason}; {pods}"),
                    });
                }
            }
            Ok(())
        })
    }
}
