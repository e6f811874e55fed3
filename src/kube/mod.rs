//! THE ONLY code that talks to an API server: a client from a kubeconfig, server-side
//! apply of rendered documents, Secrets created once, rollout waits, and prune.
//!
//! The rest of uaiso is synchronous; a [`Cluster`] owns a small runtime and blocks on
//! each call.

mod apply;
mod prune;
mod wait;

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};

pub use apply::Applied;
pub use prune::{GENERATED, Pruned};

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
