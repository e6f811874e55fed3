//! Do these credentials have the rights uaiso needs? Asked of the API server with
//! SelfSubjectAccessReviews before anything is changed, so that a refusal comes whole,
//! naming every missing verb and resource, instead of half-way through an apply.

use std::collections::BTreeSet;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::Scope;

use super::{Cluster, KubeError};

/// A right: `verb` on `kind` (`apps/v1/Deployment`), in the namespace unless the kind
/// is cluster-scoped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Need {
    pub verb: &'static str,
    pub api_version: String,
    pub kind: String,
}

impl Need {
    pub fn new(verb: &'static str, api_version: &str, kind: &str) -> Need {
        Need {
            verb,
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        }
    }
}

impl Cluster {
    /// The needs the server says no to, each as `verb resource[.group] [in namespace]`.
    pub fn missing_rights(
        &self,
        namespace: &str,
        needs: &BTreeSet<Need>,
    ) -> Result<Vec<String>, KubeError> {
        self.rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            let mut resolved: std::collections::BTreeMap<(String, String), (String, bool)> =
                std::collections::BTreeMap::new();
            for need in needs {
                let (group, version) = match need.api_version.split_once('/') {
                    Some((g, v)) => (g.to_string(), v.to_string()),
                    None => (String::new(), need.api_version.clone()),
                };
                let key = (need.api_version.clone(), need.kind.clone());
                if !resolved.contains_key(&key) {
                    let gvk = GroupVersionKind::gvk(&group, &version, &need.kind);
                    // A kind the server does not serve yet (a CRD uaiso brings) is judged
                    // by its plural: the lowercase kind plus `s` for every kind uaiso has.
                    let found = match kube::discovery::pinned_kind(&self.client, &gvk).await {
                        Ok((res, caps)) => (res.plural, caps.scope == Scope::Namespaced),
                        Err(_) => (format!("{}s", need.kind.to_lowercase()), true),
                    };
                    resolved.insert(key.clone(), found);
                }
                let (plural, namespaced) = resolved[&key].clone();
                let client = self.client.clone();
                let ns = namespaced.then(|| namespace.to_string());
                let verb = need.verb;
                set.spawn(async move {
                    let review = SelfSubjectAccessReview {
                        spec: SelfSubjectAccessReviewSpec {
                            resource_attributes: Some(ResourceAttributes {
                                verb: Some(verb.to_string()),
                                group: Some(group.clone()),
                                resource: Some(plural.clone()),
                                namespace: ns.clone(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                        ..Default::default()
                    };
                    let api: Api<SelfSubjectAccessReview> = Api::all(client);
                    let allowed = api
                        .create(&PostParams::default(), &review)
                        .await
                        .map(|r| r.status.is_some_and(|s| s.allowed));
                    let resource = if group.is_empty() {
                        plural
                    } else {
                        format!("{plural}.{group}")
                    };
                    let place = match ns {
                        Some(ns) => format!(" in namespace {ns}"),
                        None => " (cluster-wide)".to_string(),
                    };
                    (format!("{verb} {resource}{place}"), allowed)
                });
            }
            let mut missing = Vec::new();
            while let Some(joined) = set.join_next().await {
                let (what, allowed) = joined.map_err(|e| KubeError::Unreachable {
                    message: e.to_string(),
                })?;
                match allowed {
                    Ok(true) => {}
                    Ok(false) => missing.push(what),
                    Err(e) => return Err(super::classify(e, "SelfSubjectAccessReview", "")),
                }
            }
            missing.sort();
            Ok(missing)
        })
    }
}
