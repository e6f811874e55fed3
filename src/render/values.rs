//! The values the templates see, built from the selection. Every field is filled; a
//! template that asks for anything else fails the render (strict undefined).

use std::collections::BTreeMap;

use serde::Serialize;

use super::RenderError;
use crate::probe::HostFacts;
use crate::profile::budget::backend_gpus;
use crate::profile::{Backend, Selection, server};

pub const NAMESPACE: &str = "uaiso";
pub const API_KEY_SECRET: &str = "llama-server-api-key";
pub const GRAFANA_SECRET: &str = "grafana-admin";
/// The model cache on the host, mounted read-only into llama-server.
pub const MODELS_HOST_PATH: &str = "/var/lib/uaiso/models";
/// k3s's pod and service ranges, and loopback: the proxy's only clients.
pub const PROXY_CLIENTS: [&str; 4] = ["10.42.0.0/16", "10.43.0.0/16", "127.0.0.0/8", "::1"];

#[derive(Debug, Clone)]
pub struct Options {
    /// Domains the proxy may reach; empty means any.
    pub proxy_allowlist: Vec<String>,
    pub namespace: String,
    /// On a box uaiso installed: what people open is a NodePort, which kube-proxy binds
    /// to loopback unless the stack is exposed. Elsewhere Services stay ClusterIP.
    pub node_ports: bool,
    /// On a cluster uaiso did not install: the model is downloaded by a Job into a
    /// PersistentVolumeClaim, and no runtime class is assumed.
    pub cluster_model: Option<ClusterModel>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            proxy_allowlist: Vec::new(),
            namespace: NAMESPACE.to_string(),
            node_ports: false,
            cluster_model: None,
        }
    }
}

/// The model download a Job does inside the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterModel {
    pub url: String,
    pub sha256: String,
}

/// The Job and volume that hold the model in the cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ModelVolume {
    pub claim: String,
    pub size: String,
    pub job: String,
    pub url: String,
    pub sha256: String,
    pub file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Values {
    pub namespace: String,
    pub llama: Llama,
    pub monitoring: Monitoring,
    pub proxy: Proxy,
}

#[derive(Debug, Clone, Serialize)]
pub struct Llama {
    pub image: String,
    pub args: Vec<String>,
    pub port: u16,
    pub model_id: String,
    pub api_key_secret: String,
    pub cpu_request: String,
    pub memory_request: String,
    pub runtime_class: Option<String>,
    pub gpu_resource: Option<String>,
    pub gpu_count: usize,
    pub supplemental_groups: Vec<u32>,
    pub dri: bool,
    pub models_mount: String,
    pub models_host_path: String,
    /// `None`: the model is in the host's cache.
    pub model_volume: Option<ModelVolume>,
    /// The in-cluster base URL of the OpenAI-compatible API.
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Monitoring {
    pub retention_time: String,
    pub retention_size: String,
    pub data_size_limit: String,
    pub grafana_secret: String,
    pub dashboards: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Proxy {
    pub clients: Vec<String>,
    pub allowlist: Vec<String>,
    pub cache_mib: u64,
    pub cache_limit: String,
}

/// A Kubernetes memory quantity in MiB, rounded up.
pub fn mebibytes(bytes: u64) -> String {
    format!("{}Mi", bytes.div_ceil(1 << 20))
}

pub fn values(facts: &HostFacts, sel: &Selection, opts: &Options) -> Result<Values, RenderError> {
    let (model, server) = match (&sel.model, &sel.server) {
        (Some(m), Some(s)) => (m, s),
        _ => {
            return Err(RenderError::NoModel {
                profile: sel.profile.name.clone(),
            });
        }
    };
    let backend = sel.profile.backend;
    let gpus = backend_gpus(facts, backend);
    let cache = sel.profile.server.cache_ram_mib << 20;
    // On the CPU and on shared memory the model lives in RAM the pod must request;
    // with dedicated VRAM the pod holds little more than its prompt cache.
    let in_ram = matches!(backend, Backend::Cpu) || gpus.iter().any(|g| g.integrated);
    let memory = if in_ram {
        model.fit.total_bytes + cache
    } else {
        (512 << 20) + cache
    };
    let (runtime_class, gpu_resource) = match backend {
        Backend::Cuda => (
            opts.cluster_model.is_none().then(|| "nvidia".to_string()),
            Some("nvidia.com/gpu".to_string()),
        ),
        Backend::Rocm => (None, Some("amd.com/gpu".to_string())),
        _ => (None, None),
    };
    let dri = backend == Backend::Vulkan;
    // A non-root pod opens /dev/dri and /dev/kfd through the host's device groups. With
    // Vulkan uaiso mounts /dev/dri itself and needs them; with ROCm the device plugin
    // passes the devices in and the groups are added when known.
    let h = &facts.host;
    let mut supplemental_groups: Vec<u32> =
        [h.render_gid, h.video_gid].into_iter().flatten().collect();
    supplemental_groups.dedup();
    if dri && supplemental_groups.is_empty() {
        return Err(RenderError::NoRenderGroup);
    }
    if !matches!(backend, Backend::Vulkan | Backend::Rocm) {
        supplemental_groups.clear();
    }
    let dashboards = super::bundled::DASHBOARDS
        .iter()
        .map(|(path, body)| {
            let name = path.rsplit('/').next().unwrap_or(path).to_string();
            (name, body.trim_end().to_string())
        })
        .collect();
    let cache_mib = 2048;
    let model_volume = opts.cluster_model.as_ref().map(|m| {
        // One volume per model file, so that another model never shrinks a claim (which
        // Kubernetes refuses) and the old one stays as a cache; the Job's name changes
        // with its image too, since a Job's pod template cannot be changed.
        let id = &super::short_hash(&m.sha256, 4);
        let job_id = &super::short_hash(&format!("{}\n{}\n{}", m.url, m.sha256, server.image), 4);
        ModelVolume {
            claim: format!("model-{id}"),
            // Room for the partial file next to nothing else; the Job checks it first.
            size: mebibytes(model.fit.weights_bytes + model.fit.weights_bytes / 20 + (256 << 20)),
            job: format!("model-download-{job_id}"),
            url: m.url.clone(),
            sha256: m.sha256.clone(),
            file: model.fit.file.clone(),
        }
    });
    let ns = &opts.namespace;
    Ok(Values {
        namespace: ns.clone(),
        llama: Llama {
            image: server.image.clone(),
            args: server.args.clone(),
            port: server::PORT,
            model_id: model.id.clone(),
            api_key_secret: API_KEY_SECRET.to_string(),
            cpu_request: sel.profile.server.cpu_request.clone(),
            memory_request: mebibytes(memory),
            runtime_class,
            gpu_count: if gpu_resource.is_some() {
                gpus.len()
            } else {
                0
            },
            gpu_resource,
            supplemental_groups,
            dri,
            models_mount: server::MODELS_MOUNT.to_string(),
            models_host_path: MODELS_HOST_PATH.to_string(),
            model_volume,
            url: format!("http://llama-server.{ns}.svc:{}/v1", server::PORT),
        },
        monitoring: Monitoring {
            retention_time: "7d".to_string(),
            retention_size: "1GB".to_string(),
            data_size_limit: "2Gi".to_string(),
            grafana_secret: GRAFANA_SECRET.to_string(),
            dashboards,
        },
        proxy: Proxy {
            clients: PROXY_CLIENTS.iter().map(|c| c.to_string()).collect(),
            allowlist: opts.proxy_allowlist.clone(),
            cache_mib,
            // Room for squid's swap state and journal above the cache itself.
            cache_limit: mebibytes((cache_mib + cache_mib / 4) << 20),
        },
    })
}
