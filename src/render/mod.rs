//! PURE: a selection and its values → ordered, deterministic Kubernetes documents.
//!
//! Each component is a folder in `manifests/` (compiled in): `component.toml` and
//! minijinja templates. Templates run with strict undefined, so a missing value fails
//! the render naming the component, the template and the line; a rendered empty
//! string fails it too.

pub mod bundled;
pub mod component;
mod docs;
pub mod values;

use std::collections::BTreeMap;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value, syntax::SyntaxConfig};
use sha2::{Digest, Sha256};

use crate::probe::HostFacts;
use crate::profile::{Backend, Selection};
pub use docs::{Document, requested_memory};
use values::Values;

/// The Kubernetes version of the k3s release uaiso pins (v1.36.4+k3s1): what the
/// rendered manifests are validated against.
pub const KUBERNETES_VERSION: &str = "1.36.4";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no model fits this box under profile `{profile}`, so there is nothing for llama-server to run\nhint: `uaiso plan` shows the budget; `uaiso models list --fits` what would fit"
    )]
    NoModel { profile: String },
    #[error(
        "the host's `render` group id is unknown (no `render` or `video` group in /etc/group), so pods cannot open /dev/dri\nhint: `getent group render`; on older systems add it with `sudo groupadd -r render` and reboot"
    )]
    NoRenderGroup,
    #[error("no component named `{name}`\nhint: the components are {known}{closest}")]
    UnknownComponent {
        name: String,
        known: String,
        closest: String,
    },
    #[error("component `{component}`, template `{template}`{line}: {message}")]
    Template {
        component: String,
        template: String,
        line: String,
        message: String,
    },
    #[error("component `{component}`, {kind} `{name}`: field `{field}` rendered empty")]
    EmptyValue {
        component: String,
        kind: String,
        name: String,
        field: String,
    },
    #[error("component `{component}`, template `{template}`: not valid YAML: {message}")]
    Yaml {
        component: String,
        template: String,
        message: String,
    },
}

/// Which components this selection renders, in order: the device plugin its backend
/// needs, llama-server, and what the profile turns on.
pub fn default_components(sel: &Selection) -> Vec<String> {
    let mut out = vec!["base".to_string()];
    match sel.profile.backend {
        Backend::Cuda => out.push("nvidia-device-plugin".into()),
        Backend::Rocm => out.push("amd-device-plugin".into()),
        _ => {}
    }
    out.push("llama-server".into());
    if sel.profile.components.monitoring {
        out.push("monitoring".into());
        if sel.profile.backend == Backend::Cuda {
            out.push("gpu-exporter".into());
        }
    }
    if sel.profile.components.proxy {
        out.push("proxy".into());
    }
    out
}

fn labels(name: &str, part_of: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    format!(
        "{pad}app.kubernetes.io/name: {name}\n{pad}app.kubernetes.io/part-of: {part_of}\n{pad}app.kubernetes.io/managed-by: uaiso"
    )
}

fn selector(name: &str, part_of: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    format!("{pad}app.kubernetes.io/name: {name}\n{pad}app.kubernetes.io/part-of: {part_of}")
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are valid");
    env.set_syntax(syntax);
    env.add_function("labels", |name: String, part_of: String, indent: usize| {
        labels(&name, &part_of, indent)
    });
    env.add_function(
        "selector",
        |name: String, part_of: String, indent: usize| selector(&name, &part_of, indent),
    );
    env
}

/// The first `2 × bytes` hex digits of a sha256: names and annotations that change
/// when what they stand for does.
fn short_hash(text: &str, bytes: usize) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn template_error(component: &str, template: &str, src: &str, e: &minijinja::Error) -> RenderError {
    let line_no = e.line();
    let source_line = line_no
        .and_then(|n| src.lines().nth(n.saturating_sub(1)))
        .map(|l| format!(": `{}`", l.trim()))
        .unwrap_or_default();
    RenderError::Template {
        component: component.to_string(),
        template: template.to_string(),
        line: line_no.map(|n| format!(", line {n}")).unwrap_or_default(),
        message: format!(
            "{}{source_line}",
            e.detail().unwrap_or(&e.kind().to_string())
        ),
    }
}

/// Render `wanted` components (all the selection's when `None`).
pub fn render(
    facts: &HostFacts,
    sel: &Selection,
    wanted: Option<&[String]>,
    opts: &values::Options,
) -> Result<Vec<Document>, RenderError> {
    let all = component::all();
    let names: Vec<String> = match wanted {
        Some(list) => {
            for name in list {
                if !all.iter().any(|c| &c.spec.name == name) {
                    let known: Vec<&str> = all.iter().map(|c| c.spec.name.as_str()).collect();
                    let closest = crate::profile::closest(name, known.iter().copied())
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    return Err(RenderError::UnknownComponent {
                        name: name.clone(),
                        known: known.join(", "),
                        closest,
                    });
                }
            }
            list.to_vec()
        }
        None => default_components(sel),
    };
    let needs_values = names.iter().any(|n| n != "base");
    let values: Option<Values> = if needs_values {
        Some(values::values(facts, sel, opts)?)
    } else {
        None
    };
    let node_ports: BTreeMap<&str, u16> = all
        .iter()
        .flat_map(|c| c.spec.endpoint.iter())
        .map(|e| (e.service.as_str(), e.node_port))
        .collect();
    let env = environment();
    let mut out = Vec::new();
    for component in all.iter().filter(|c| names.contains(&c.spec.name)) {
        let name = &component.spec.name;
        let mut ctx: BTreeMap<&str, Value> = BTreeMap::new();
        ctx.insert("namespace", Value::from(opts.namespace.as_str()));
        ctx.insert(
            "service_type",
            Value::from(if opts.node_ports {
                "NodePort"
            } else {
                "ClusterIP"
            }),
        );
        ctx.insert("node_ports", Value::from(Serde(&node_ports)));
        ctx.insert("components", Value::from(Serde(&names)));
        ctx.insert("images", Value::from(Serde(&component.spec.images)));
        if let Some(v) = &values {
            ctx.insert("llama", Value::from(Serde(&v.llama)));
            ctx.insert("monitoring", Value::from(Serde(&v.monitoring)));
            ctx.insert("proxy", Value::from(Serde(&v.proxy)));
        }
        // Config templates first: their hashes go into the pods that mount them.
        let mut templates: Vec<&(&str, &str)> = component.bundled.templates.iter().collect();
        templates.sort_by_key(|(file, _)| !file.ends_with("-config.yaml"));
        let mut hashes: BTreeMap<String, String> = BTreeMap::new();
        let mut rendered = Vec::new();
        for (file, src) in templates {
            ctx.insert("config_hashes", Value::from(Serde(&hashes)));
            let text = env
                .render_str(src, &ctx)
                .map_err(|e| template_error(name, file, src, &e))?;
            if file.ends_with("-config.yaml") {
                hashes.insert(file.to_string(), short_hash(&text, 8));
            }
            rendered.extend(docs::split(name, file, &text)?);
        }
        docs::sort(&mut rendered);
        out.extend(rendered);
    }
    Ok(out)
}

/// Multi-document YAML, with a header that says what was rendered and how to create
/// the Secrets that are never rendered.
pub fn to_yaml(docs: &[Document], sel: &Selection) -> String {
    let mut s = format!(
        "# Rendered by uaiso {} for profile `{}`{}.\n",
        env!("CARGO_PKG_VERSION"),
        sel.profile.name,
        sel.model
            .as_ref()
            .map(|m| format!(", model `{}` {}", m.id, m.fit.quant))
            .unwrap_or_default(),
    );
    let namespace = docs
        .iter()
        .find_map(|d| d.namespace.clone())
        .unwrap_or_else(|| values::NAMESPACE.to_string());
    let secrets: Vec<component::SecretSpec> = component::all()
        .into_iter()
        .filter(|c| docs.iter().any(|d| d.component == c.spec.name))
        .flat_map(|c| c.spec.secret)
        .collect();
    if !secrets.is_empty() {
        s.push_str("# The Secrets are generated on the box, never rendered; to apply this yourself, create them once:\n");
        for sec in &secrets {
            let random = match sec.encoding {
                component::Encoding::Hex => format!("openssl rand -hex {}", sec.bytes),
                component::Encoding::Base64 => format!("openssl rand -base64 {}", sec.bytes),
            };
            s.push_str(&format!(
                "#   kubectl -n {namespace} create secret generic {} --from-literal={}=\"$({random})\"\n",
                sec.name, sec.key
            ));
        }
    }
    for d in docs {
        s.push_str(&format!(
            "---\n# {}/{}\n{}",
            d.component, d.template, d.yaml
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_value_names_component_template_and_variable() {
        let env = environment();
        let src = "kind: ConfigMap\ndata:\n  x: {{ llama.nope }}\n";
        let mut ctx: BTreeMap<&str, Value> = BTreeMap::new();
        ctx.insert(
            "llama",
            Value::from(Serde(BTreeMap::from([("port", 8080)]))),
        );
        let e = env.render_str(src, &ctx).unwrap_err();
        let msg = template_error("monitoring", "prometheus.yaml", src, &e).to_string();
        assert!(
            msg.starts_with("component `monitoring`, template `prometheus.yaml`, line 3:"),
            "{msg}"
        );
        assert!(msg.ends_with("`x: {{ llama.nope }}`"), "{msg}");
    }

    #[test]
    fn labels_are_block_yaml() {
        assert_eq!(
            labels("grafana", "monitoring", 2),
            "  app.kubernetes.io/name: grafana\n  app.kubernetes.io/part-of: monitoring\n  app.kubernetes.io/managed-by: uaiso"
        );
        assert_eq!(short_hash("a", 8).len(), 16);
    }
}
