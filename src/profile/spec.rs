//! Profiles: what a kind of box runs. Parsed from TOML (bundled or the user's own) and
//! validated, with errors that name the file, the line and the field.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Cpu,
    Cuda,
    Rocm,
    Vulkan,
}

impl Backend {
    pub fn uses_gpu(self) -> bool {
        self != Backend::Cpu
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distro {
    K3s,
    K0s,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZramAlgorithm {
    #[serde(rename = "zstd")]
    Zstd,
    #[serde(rename = "lzo-rle")]
    LzoRle,
    #[serde(rename = "lz4")]
    Lz4,
}

/// The lowercase names the TOML uses, for messages and tables.
macro_rules! names {
    ($t:ty { $($v:ident => $n:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $n),* }
            }
        }
    };
}
names!(Backend { Cpu => "cpu", Cuda => "cuda", Rocm => "rocm", Vulkan => "vulkan" });
names!(Distro { K3s => "k3s", K0s => "k0s" });
names!(ZramAlgorithm { Zstd => "zstd", LzoRle => "lzo-rle", Lz4 => "lz4" });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub backend: Backend,
    pub distro: Distro,
    /// The llama-server image, pinned to a build tag.
    pub image: String,
    pub zram: ZramSpec,
    pub components: Components,
    pub stack: StackSpec,
    pub server: ServerSpec,
    pub model: ModelPrefs,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZramSpec {
    pub enabled: bool,
    /// Size of the zram device as a share of RAM.
    pub size_percent: u8,
    pub algorithm: ZramAlgorithm,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Components {
    pub monitoring: bool,
    pub proxy: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackSpec {
    /// RAM the distro, monitoring and proxy take before any model.
    pub reserve_mib: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Kubernetes CPU request of llama-server.
    pub cpu_request: String,
    /// Parallel slots (`-np`).
    pub parallel: u32,
    /// Prompt cache in RAM (`--cache-ram`); low on small boxes.
    pub cache_ram_mib: u64,
    /// VRAM each GPU keeps for its runtime and compute buffers.
    #[serde(default)]
    pub gpu_reserve_mib: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrefs {
    /// The largest model to offer, in billions of parameters.
    pub max_params_b: f64,
    /// Quantisations in order of preference: the first that fits wins for a model,
    /// later ones are upgrades when there is room.
    pub quants: Vec<String>,
    /// Context per slot, in tokens.
    pub context_min: u32,
    pub context_max: u32,
    /// Share of the budget left free.
    pub headroom_percent: u8,
}

/// A profile file that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("profile `{file}`: {message}")]
pub struct ProfileError {
    pub file: String,
    pub message: String,
}

impl Profile {
    /// Parse and validate one profile file.
    pub fn parse(file: &str, text: &str) -> Result<Profile, ProfileError> {
        let err = |message: String| ProfileError {
            file: file.to_string(),
            message,
        };
        let profile: Profile = toml::from_str(text).map_err(|e| err(toml_message(&e, text)))?;
        profile.validate().map_err(err)?;
        Ok(profile)
    }

    fn validate(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(format!(
                "field `name`: `{}` must be lowercase letters, digits and `-`",
                self.name
            ));
        }
        let tag = self.image.rsplit_once(':').map(|(_, t)| t);
        if tag.is_none_or(|t| t.is_empty() || t == "latest" || t.contains('/')) {
            return Err(format!(
                "field `image`: `{}` must be pinned to a build tag (e.g. `ghcr.io/ggml-org/llama.cpp:server-b9014`)",
                self.image
            ));
        }
        if self.zram.size_percent == 0 || self.zram.size_percent > 100 {
            return Err("field `zram.size_percent`: must be between 1 and 100".into());
        }
        if self.server.parallel == 0 || self.server.parallel > 64 {
            return Err("field `server.parallel`: must be between 1 and 64".into());
        }
        let m = &self.model;
        if !m.max_params_b.is_finite() || m.max_params_b <= 0.0 {
            return Err("field `model.max_params_b`: must be above 0".into());
        }
        if m.quants.is_empty() {
            return Err("field `model.quants`: list at least one quantisation".into());
        }
        if m.context_min < 512 || m.context_min > m.context_max {
            return Err(format!(
                "field `model.context_min`: {} must be at least 512 and at most `context_max` ({})",
                m.context_min, m.context_max
            ));
        }
        if m.headroom_percent >= 90 {
            return Err("field `model.headroom_percent`: must be below 90".into());
        }
        Ok(())
    }
}

/// toml's message with the line it points at: `line 4: unknown field ...`.
pub fn toml_message(e: &toml::de::Error, text: &str) -> String {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let msg = e.message().trim_end().to_string();
    match line {
        Some(l) => format!("line {l}: {msg}"),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = include_str!("../../profiles/cpu.toml");

    #[test]
    fn errors_name_line_and_field() {
        let bad = GOOD.replace("proxy = true", "proxy = true\nsquid = true");
        let e = Profile::parse("/etc/uaiso/profiles/mine.toml", &bad).unwrap_err();
        assert_eq!(e.file, "/etc/uaiso/profiles/mine.toml");
        assert!(
            e.message.starts_with("line 16: unknown field `squid`"),
            "{}",
            e.message
        );

        let bad = GOOD.replace("backend = \"cpu\"", "backend = \"metal\"");
        let e = Profile::parse("x.toml", &bad).unwrap_err();
        assert!(
            e.message.contains("line 4") && e.message.contains("metal"),
            "{}",
            e.message
        );

        let bad = GOOD.replace("server-b9014", "latest");
        let e = Profile::parse("x.toml", &bad).unwrap_err();
        assert!(e.message.starts_with("field `image`"), "{}", e.message);

        let bad = GOOD.replace("context_min = 8192", "context_min = 65536");
        let e = Profile::parse("x.toml", &bad).unwrap_err();
        assert!(
            e.message.starts_with("field `model.context_min`"),
            "{}",
            e.message
        );

        let e = Profile::parse("x.toml", "name = [").unwrap_err();
        assert!(e.message.starts_with("line 1:"), "{}", e.message);
        assert_eq!(
            e.to_string()
                .lines()
                .next()
                .unwrap()
                .split(':')
                .next()
                .unwrap(),
            "profile `x.toml`"
        );
    }
}
