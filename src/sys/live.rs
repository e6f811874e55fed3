//! Live facts that are not files: free space where models go (statvfs) and the proxy
//! variables of this process's environment.

use std::collections::BTreeMap;
use std::path::Path;

use crate::probe::live::{self, HostJson, ModelsDirSpace};

pub fn host_json(root: &Path) -> HostJson {
    let env = live::PROXY_VARS
        .iter()
        .filter_map(|name| {
            let value = std::env::var(name).ok().filter(|v| !v.is_empty())?;
            Some((name.to_string(), live::mask_credentials(&value)))
        })
        .collect::<BTreeMap<_, _>>();
    HostJson {
        schema: live::SCHEMA,
        models_dir: models_dir_space(root, live::MODELS_DIR),
        env,
    }
}

/// statvfs of the nearest existing directory on the way to `wanted`.
fn models_dir_space(root: &Path, wanted: &str) -> Option<ModelsDirSpace> {
    let mut probed = Path::new(wanted);
    loop {
        let rel = probed.strip_prefix("/").unwrap_or(probed);
        let path = root.join(rel);
        if path.is_dir() {
            let stat = rustix::fs::statvfs(&path).ok()?;
            let block = stat.f_frsize.max(1);
            return Some(ModelsDirSpace {
                wanted: wanted.to_string(),
                probed: probed.to_string_lossy().into_owned(),
                avail_bytes: stat.f_bavail.saturating_mul(block),
                total_bytes: stat.f_blocks.saturating_mul(block),
            });
        }
        probed = probed.parent()?;
    }
}

/// The proxy variables as set, credentials included: they go into the distro's
/// environment file (mode 0600), never into a report.
pub fn proxy_env() -> BTreeMap<String, String> {
    live::PROXY_VARS
        .iter()
        .filter_map(|name| {
            let value = std::env::var(name).ok().filter(|v| !v.is_empty())?;
            Some((name.to_string(), value))
        })
        .collect()
}

/// Is this process root?
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `HF_ENDPOINT`, as huggingface_hub reads it: a mirror of huggingface.co.
pub fn hf_endpoint() -> Option<String> {
    std::env::var("HF_ENDPOINT")
        .ok()
        .map(|v| v.trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
}
