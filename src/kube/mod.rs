//! THE ONLY code that talks to an API server: a client from a kubeconfig, server-side
//! apply of rendered documents, Secrets created once, rollout waits, and prune.
//!
//! The rest of uaiso is synchronous; a [`Cluster`] owns a small runtime and blocks on
//! each call.

mod access;
mod apply;
mod info;
mod prune;
mod wait;

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};

pub use access::Need;
pub use apply::Applied;
pub use info::{NodeInfo, Workload};
pub use prune::{GENERATED, MODEL_CACHE, Pruned, prune_needs};

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error(
        "cannot read the kubeconfig `{path}`: {message}\nhint: pass `--kubeconfig FILE` or set KUBECONFIG"
    )]
    Kubeconfig { path: String, message: String },
    #[error(
        "cannot reach the cluster: {message}\nhint: is it running? `kubectl cluster-info` with the same kubeconfig tells"
    )]
    Unreachable { message: String },
    #[error(
        "the cluster rejected the credentials: {message}\nhint: the token or certificate in the kubeconfig may have expired; `kubectl auth whoami` tells"
    )]
    Unauthorized { message: String },
    #[error(
        "the credentials lack rights uaiso needs, so nothing was changed:\n  {}\nhint: ask the cluster's admin for a Role (and, for the cluster-wide ones, a ClusterRole) with these verbs, or use an admin kubeconfig",
        missing.join("\n  ")
    )]
    MissingRights { missing: Vec<String> },
    #[error("{kind} `{name}`: {message}")]
    Object {
        kind: String,
        name: String,
        message: String,
    },
    #[error("{kind} `{namespace}/{name}` did not roll out within {timeout_s} s: {reason}")]
    Rollout {
        kind: String,
        namespace: String,
        name: String,
        timeout_s: u64,
        reason: String,
    },
}

/// A client error, sorted into what the user can act on: the server is not there, it
/// does not accept the credentials, or one object failed.
fn classify(e: kube::Error, kind: &str, name: &str) -> KubeError {
    match e {
        kube::Error::Api(s) if s.code == 401 => KubeError::Unauthorized { message: s.message },
        kube::Error::Api(s) if s.code == 403 => KubeError::MissingRights {
            missing: vec![s.message],
        },
        kube::Error::Api(s) => KubeError::Object {
            kind: kind.to_string(),
            name: name.to_string(),
            message: s.message,
        },
        other => KubeError::Unreachable {
            message: crate::sys::download::error_chain(&other),
        },
    }
}

/// The admin kubeconfig of the distro uaiso installed on the host at `host`'s root
/// (k3s's, else k0s's), as a path on this machine.
pub fn distro_kubeconfig(host: &crate::sys::host::Host) -> Option<std::path::PathBuf> {
    [
        crate::engine::k3s::KUBECONFIG,
        crate::engine::k0s::KUBECONFIG,
    ]
    .into_iter()
    .find(|p| host.exists(p))
    .map(|p| host.path(p))
}

pub struct Cluster {
    client: kube::Client,
    rt: tokio::runtime::Runtime,
}

impl Cluster {
    /// Connect with `kubeconfig`, or the usual places (KUBECONFIG, ~/.kube/config);
    /// on a box uaiso installed, pass [`distro_kubeconfig`].
    pub fn connect(kubeconfig: Option<&Path>) -> Result<Cluster, KubeError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| KubeError::Unreachable {
                message: e.to_string(),
            })?;
        let client = rt.block_on(async {
            let config = match kubeconfig {
                Some(path) => {
                    let kc = Kubeconfig::read_from(path).map_err(|e| KubeError::Kubeconfig {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                    kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                        .await
                        .map_err(|e| KubeError::Kubeconfig {
                            path: path.display().to_string(),
                            message: e.to_string(),
                        })?
                }
                None => kube::Config::infer()
                    .await
                    .map_err(|e| KubeError::Kubeconfig {
                        path: "KUBECONFIG".to_string(),
                        message: e.to_string(),
                    })?,
            };
            kube::Client::try_from(config).map_err(|e| KubeError::Unreachable {
                message: e.to_string(),
            })
        })?;
        Ok(Cluster { client, rt })
    }
}
