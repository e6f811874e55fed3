//! Bringing a cluster to a render, and taking it down: the rights checked before
//! anything changes, the namespace, the generated Secrets, the model Job waited out
//! before llama-server starts, server-side apply, prune, and the rollouts.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::kube::{Applied, Cluster, KubeError, Need, Pruned};
use crate::render::Document;
use crate::render::component::{self, Encoding};
use crate::stack::{RECORD, RECORD_KEY, Record};
use crate::sys;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Kube(#[from] KubeError),
    #[error(transparent)]
    Sys(#[from] sys::Error),
    #[error(
        "the install record `{RECORD}` in namespace `{namespace}` cannot be read: {message}\nhint: it is JSON in the ConfigMap's `record.json`; fix it, or delete the ConfigMap to start afresh"
    )]
    BadRecord { namespace: String, message: String },
}

/// What happens, for the progress lines.
pub enum Event<'a> {
    Applying(usize),
    SecretCreated(&'a str),
    WaitingForModel(&'a str),
    /// The Job's name, and what its pods are doing.
    StillDownloading(&'a str, &'a str),
    WaitingForRollouts(usize),
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub applied: Vec<Applied>,
    pub pruned: Vec<Pruned>,
    pub secrets_created: Vec<String>,
}

impl Outcome {
    pub fn changed(&self) -> usize {
        self.applied.iter().filter(|a| a.changed).count()
            + self.pruned.len()
            + self.secrets_created.len()
    }
}

/// How long each wait may take.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    pub rollout: Duration,
    pub model: Duration,
}

pub fn read_record(cluster: &Cluster, namespace: &str) -> Result<Option<Record>, DeployError> {
    let text = match cluster.config_map_value(namespace, RECORD, RECORD_KEY) {
        Ok(t) => t,
        // No rights to read it means no install of ours to find here.
        Err(KubeError::MissingRights { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    text.map(|t| {
        Record::parse(&t).map_err(|message| DeployError::BadRecord {
            namespace: namespace.to_string(),
            message,
        })
    })
    .transpose()
}

/// Does the namespace exist without being uaiso's? Then uaiso lives in it as a guest:
/// its Namespace object is neither applied nor ever deleted. A namespace the
/// credentials may not even read counts as someone else's.
pub fn namespace_is_foreign(cluster: &Cluster, namespace: &str) -> Result<bool, DeployError> {
    match cluster.namespace_labels(namespace) {
        Ok(None) => Ok(false),
        Ok(Some(labels)) => Ok(labels
            .get("app.kubernetes.io/managed-by")
            .is_none_or(|v| v != "uaiso")),
        Err(KubeError::MissingRights { .. }) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// The rights applying `docs` and pruning needs.
pub fn needs(docs: &[Document]) -> BTreeSet<Need> {
    let mut out: BTreeSet<Need> = docs
        .iter()
        .flat_map(|d| {
            ["get", "create", "patch"].map(|verb| Need::new(verb, &d.api_version, &d.kind))
        })
        .collect();
    out.extend(crate::kube::prune_needs());
    out.insert(Need::new("get", "v1", "Secret"));
    out.insert(Need::new("create", "v1", "Secret"));
    out
}

/// The generated Secrets' labels: the component's, and `uaiso.io/generated`.
fn secret_labels(name: &str, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), name.to_string()),
        (
            "app.kubernetes.io/part-of".to_string(),
            component.to_string(),
        ),
        (
            "app.kubernetes.io/managed-by".to_string(),
            "uaiso".to_string(),
        ),
        (crate::kube::GENERATED.to_string(), "true".to_string()),
    ])
}

/// Bring the namespace to `docs`, the full render of `components`.
pub fn converge(
    cluster: &Cluster,
    namespace: &str,
    docs: &[Document],
    components: &[String],
    waits: Waits,
    on: &mut dyn FnMut(Event),
) -> Result<Outcome, DeployError> {
    let missing = cluster.missing_rights(namespace, &needs(docs))?;
    if !missing.is_empty() {
        return Err(KubeError::MissingRights { missing }.into());
    }
    let mut out = Outcome::default();
    // The namespace first, then the Secrets pods read, then the model, then the rest.
    let (namespaces, rest): (Vec<Document>, Vec<Document>) =
        docs.iter().cloned().partition(|d| d.kind == "Namespace");
    on(Event::Applying(docs.len()));
    out.applied.extend(cluster.apply(&namespaces)?);
    for c in component::all()
        .into_iter()
        .filter(|c| components.contains(&c.spec.name))
    {
        for s in &c.spec.secret {
            // Drawn whether or not the Secret exists: a few random bytes cost nothing.
            let token = sys::random::token(s.bytes, s.encoding == Encoding::Base64)?;
            let created = cluster.ensure_secret(
                namespace,
                &s.name,
                &s.key,
                &secret_labels(&s.name, &c.spec.name),
                || token,
            )?;
            if created {
                on(Event::SecretCreated(&s.name));
                out.secrets_created.push(s.name.clone());
            }
        }
    }
    let (model, rest): (Vec<Document>, Vec<Document>) = rest.into_iter().partition(|d| {
        d.component == "llama-server" && matches!(d.kind.as_str(), "Job" | "PersistentVolumeClaim")
    });
    if !model.is_empty() {
        out.applied.extend(cluster.apply(&model)?);
        if let Some(job) = model.iter().find(|d| d.kind == "Job") {
            on(Event::WaitingForModel(&job.name));
        }
        cluster.wait_for_jobs(&model, waits.model, &mut |name, why| {
            on(Event::StillDownloading(name, why))
        })?;
    }
    out.applied.extend(cluster.apply(&rest)?);
    out.pruned = cluster.prune(namespace, components, docs, false, waits.rollout)?;
    let workloads = docs
        .iter()
        .filter(|d| matches!(d.kind.as_str(), "Deployment" | "DaemonSet" | "StatefulSet"))
        .count();
    on(Event::WaitingForRollouts(workloads));
    cluster.wait_for_rollouts(docs, waits.rollout)?;
    Ok(out)
}

/// What `teardown` did.
#[derive(Debug, Default)]
pub struct Teardown {
    pub pruned: Vec<Pruned>,
    pub namespace_deleted: bool,
    /// Model volumes kept (without `--purge-models`).
    pub kept: Vec<String>,
}

/// Delete every object uaiso made in `namespace` (model volumes only with
/// `purge_models`), wait until they are gone, then the namespace when uaiso made it
/// and nothing of uaiso's is left in it.
pub fn teardown(
    cluster: &Cluster,
    namespace: &str,
    purge_models: bool,
    timeout: Duration,
) -> Result<Teardown, DeployError> {
    let mut out = Teardown {
        pruned: cluster.prune(namespace, &[], &[], purge_models, timeout)?,
        ..Teardown::default()
    };
    out.kept = cluster.model_caches(namespace)?;
    if out.kept.is_empty()
        && !namespace_is_foreign(cluster, namespace)?
        && cluster.namespace_labels(namespace)?.is_some()
    {
        cluster.delete_namespace(namespace, timeout)?;
        out.namespace_deleted = true;
    }
    Ok(out)
}
