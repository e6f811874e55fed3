//! `/etc/uaiso/uaiso.toml`: what the user pins for `up` — profile, model, distro,
//! namespace, the proxy's allowlist. Flags win over the file; the file wins over what
//! the install record remembers; the record wins over the automatic choice.

use serde::Deserialize;

use crate::profile::spec::toml_message;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A profile name (`uaiso profile list`).
    pub profile: Option<String>,
    /// `id` or `id:QUANT` (`uaiso models list`).
    pub model: Option<String>,
    /// `k3s` or `k0s`.
    pub distro: Option<String>,
    /// The namespace everything lives in.
    pub namespace: Option<String>,
    /// Domains the proxy may reach; `[]` means any. Unset: as the install has it.
    pub proxy_allow: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "settings file `{file}`: {message}\nhint: it takes `profile`, `model`, `distro`, `namespace` and `proxy_allow`; see the README"
)]
pub struct SettingsError {
    pub file: String,
    pub message: String,
}

pub fn parse(file: &str, text: &str) -> Result<Settings, SettingsError> {
    let settings: Settings = toml::from_str(text).map_err(|e| SettingsError {
        file: file.to_string(),
        message: toml_message(&e, text),
    })?;
    if let Some(d) = &settings.distro
        && !matches!(d.as_str(), "k3s" | "k0s")
    {
        return Err(SettingsError {
            file: file.to_string(),
            message: format!("`distro = \"{d}\"`: it is `k3s` or `k0s`"),
        });
    }
    if let Some(ns) = &settings.namespace {
        check_namespace(ns).map_err(|message| SettingsError {
            file: file.to_string(),
            message,
        })?;
    }
    Ok(settings)
}

/// A namespace name is a DNS label: lowercase letters, digits and `-`, at most 63.
pub fn check_namespace(ns: &str) -> Result<(), String> {
    let ok = !ns.is_empty()
        && ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{ns}` is not a namespace name: lowercase letters, digits and `-`, at most 63, not starting or ending with `-`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_with_the_line() {
        let s = parse(
            "u.toml",
            "profile = \"cpu\"\nmodel = \"qwen2.5-7b-instruct:Q4_K_M\"\n",
        )
        .unwrap();
        assert_eq!(s.profile.as_deref(), Some("cpu"));
        let e = parse("u.toml", "profil = \"cpu\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("settings file `u.toml`:"), "{e}");
        assert!(e.contains("profil"), "{e}");
        let e = parse("u.toml", "distro = \"k8s\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`k3s` or `k0s`"), "{e}");
        assert!(parse("u.toml", "namespace = \"Bad_NS\"\n").is_err());
    }
}
