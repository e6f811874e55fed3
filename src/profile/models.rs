//! The model catalogue: GGUF models people run locally, with what the fit arithmetic
//! needs (layers, KV heads, head size, file sizes per quantisation).

use serde::{Deserialize, Serialize};

use super::spec::toml_message;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub id: String,
    pub name: String,
    /// Parameters, in billions.
    pub params_b: f64,
    pub layers: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    /// The largest context to offer, in tokens.
    pub context: u32,
    pub licence: String,
    /// Hugging Face repository of the GGUF files.
    pub repo: String,
    pub quants: Vec<Quant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quant {
    pub name: String,
    pub file: String,
    pub bytes: u64,
    /// The file's sha256, when the catalogue pins it; otherwise Hugging Face's
    /// `X-Linked-Etag` is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Model {
    pub fn quant(&self, name: &str) -> Option<&Quant> {
        self.quants
            .iter()
            .find(|q| q.name.eq_ignore_ascii_case(name))
    }

    /// KV cache bytes per token: K and V, f16, every layer.
    pub fn kv_bytes_per_token(&self) -> u64 {
        2 * u64::from(self.layers) * u64::from(self.kv_heads) * u64::from(self.head_dim) * 2
    }

    /// The Hugging Face URL of a quantisation's file.
    pub fn url(&self, quant: &Quant) -> String {
        format!(
            "https://huggingface.co/{}/resolve/main/{}",
            self.repo, quant.file
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    model: Vec<Model>,
}

/// A catalogue file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model catalogue `{file}`: {message}")]
pub struct CatalogueError {
    pub file: String,
    pub message: String,
}

/// Parse and validate one catalogue file.
pub fn parse(file: &str, text: &str) -> Result<Vec<Model>, CatalogueError> {
    let err = |message: String| CatalogueError {
        file: file.to_string(),
        message,
    };
    let parsed: CatalogueFile = toml::from_str(text).map_err(|e| err(toml_message(&e, text)))?;
    for m in &parsed.model {
        let field = |f: &str, why: &str| err(format!("model `{}`, field `{f}`: {why}", m.id));
        if m.id.is_empty()
            || m.id
                .chars()
                .any(|c| c.is_ascii_uppercase() || c.is_whitespace())
        {
            return Err(field("id", "must be lowercase without spaces"));
        }
        if !m.params_b.is_finite() || m.params_b <= 0.0 {
            return Err(field("params_b", "must be above 0"));
        }
        if m.layers == 0 || m.kv_heads == 0 || m.head_dim == 0 || m.context < 512 {
            return Err(field(
                "layers",
                "layers, kv_heads and head_dim must be above 0 and context at least 512",
            ));
        }
        if m.repo.split('/').count() != 2 {
            return Err(field("repo", "must be `owner/name`"));
        }
        if m.quants.is_empty() {
            return Err(field("quants", "list at least one file"));
        }
        if let Some(q) = m
            .quants
            .iter()
            .find(|q| q.bytes == 0 || !q.file.ends_with(".gguf"))
        {
            return Err(field(
                "quants",
                &format!("`{}` needs a `.gguf` file and its size in bytes", q.name),
            ));
        }
    }
    Ok(parsed.model)
}

/// Merge catalogues: a later model with the same id replaces an earlier one, so a user
/// file can correct or extend the bundled list.
pub fn merge(lists: Vec<Vec<Model>>) -> Vec<Model> {
    let mut out: Vec<Model> = Vec::new();
    for model in lists.into_iter().flatten() {
        match out.iter_mut().find(|m| m.id == model.id) {
            Some(existing) => *existing = model,
            None => out.push(model),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"
[[model]]
id = "tiny"
name = "Tiny"
params_b = 0.5
layers = 24
kv_heads = 2
head_dim = 64
context = 32768
licence = "Apache-2.0"
repo = "someone/tiny-GGUF"
quants = [{ name = "Q4_K_M", file = "tiny-Q4_K_M.gguf", bytes = 400000000 }]
"#;

    #[test]
    fn errors_name_the_file_model_and_field() {
        let e = parse(
            "/etc/uaiso/models/mine.toml",
            &ONE.replace("kv_heads = 2", "kv_heads = 2\nheads = 14"),
        )
        .unwrap_err();
        assert_eq!(e.file, "/etc/uaiso/models/mine.toml");
        assert!(
            e.message.starts_with("line 8: unknown field `heads`"),
            "{}",
            e.message
        );
        let e = parse("m.toml", &ONE.replace("someone/tiny-GGUF", "tiny")).unwrap_err();
        assert_eq!(
            e.message,
            "model `tiny`, field `repo`: must be `owner/name`"
        );
        let e = parse("m.toml", &ONE.replace("tiny-Q4_K_M.gguf", "tiny.bin")).unwrap_err();
        assert!(
            e.message.starts_with("model `tiny`, field `quants`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn user_entries_replace_and_extend() {
        let mine = parse("m.toml", ONE).unwrap();
        let changed = parse(
            "n.toml",
            &ONE.replace("name = \"Tiny\"", "name = \"Tiny v2\""),
        )
        .unwrap();
        let merged = merge(vec![mine, changed]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].name, "Tiny v2");
        assert_eq!(
            merged[0].url(&merged[0].quants[0]),
            "https://huggingface.co/someone/tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf"
        );
    }
}
