//! Facts that are not files — free space where models go and proxy variables — as
//! stored in `uaiso/host.json` (schema in docs/snapshot.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const SCHEMA: u32 = 1;

/// Where models go unless the user says otherwise.
pub const MODELS_DIR: &str = "/var/lib/uaiso/models";

/// The proxy variables carried into the distro's environment.
pub const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostJson {
    pub schema: u32,
    pub models_dir: Option<ModelsDirSpace>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelsDirSpace {
    /// The directory models should go to.
    pub wanted: String,
    /// The nearest existing directory, which was measured.
    pub probed: String,
    pub avail_bytes: u64,
    pub total_bytes: u64,
}

/// `http://user:secret@proxy:3128` → `http://***@proxy:3128`: a snapshot or a report
/// must never carry proxy credentials.
pub fn mask_credentials(value: &str) -> String {
    let (scheme, rest) = match value.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), value),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked() {
        assert_eq!(
            mask_credentials("http://u:p@proxy:3128"),
            "http://***@proxy:3128"
        );
        assert_eq!(mask_credentials("proxy.lan:3128"), "proxy.lan:3128");
        assert_eq!(mask_credentials("http://proxy/a@b"), "http://proxy/a@b");
        assert_eq!(mask_credentials("u:p@proxy:3128"), "***@proxy:3128");
    }
}
