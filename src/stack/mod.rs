//! PURE: what is installed and what is wanted. The install record uaiso keeps in the
//! cluster (a ConfigMap), the components a selection and the user's `add`/`remove`
//! imply, and the catalogue's refusals.

pub mod metrics;
pub mod settings;

use serde::{Deserialize, Serialize};

use crate::profile::{Backend, Selection};
use crate::render::component::{self, Component};
use crate::render::{self, Document};

/// The ConfigMap that holds the record, in the install's namespace.
pub const RECORD: &str = "uaiso-install";
/// The ConfigMap's key that holds the record, as JSON.
pub const RECORD_KEY: &str = "record.json";

/// Where the stack runs: on a box uaiso installed (host model cache, NodePorts on
/// loopback, device plugins), or on a cluster someone else runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Host,
    Cluster,
}

/// What was applied last, so that a later `up`, `add` or `remove` starts from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub uaiso_version: String,
    pub mode: Mode,
    pub profile: String,
    /// `id:QUANT`; none when no model fitted.
    pub model: Option<String>,
    /// The model file's sha256, as verified when it was first downloaded.
    #[serde(default)]
    pub model_sha256: Option<String>,
    /// Tools the user added beyond the profile's.
    pub added: Vec<String>,
    /// The profile's components the user removed.
    pub removed: Vec<String>,
    /// The components as applied.
    pub components: Vec<String>,
    /// Domains the proxy may reach (empty: any).
    #[serde(default)]
    pub proxy_allow: Vec<String>,
}

impl Record {
    pub fn new(mode: Mode, sel: &Selection) -> Record {
        Record {
            uaiso_version: env!("CARGO_PKG_VERSION").to_string(),
            mode,
            profile: sel.profile.name.clone(),
            model: model_spec(sel),
            model_sha256: None,
            added: Vec::new(),
            removed: Vec::new(),
            components: Vec::new(),
            proxy_allow: Vec::new(),
        }
    }

    pub fn parse(text: &str) -> Result<Record, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// The ConfigMap that stores the record; it belongs to `base`, so prune keeps it.
    pub fn document(&self, namespace: &str) -> Document {
        let json = serde_json::to_string_pretty(self).expect("a record serialises");
        let value = serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": RECORD,
                "namespace": namespace,
                "labels": {
                    "app.kubernetes.io/name": RECORD,
                    "app.kubernetes.io/part-of": "base",
                    "app.kubernetes.io/managed-by": "uaiso",
                },
            },
            "data": { RECORD_KEY: json },
        });
        Document {
            component: "base".to_string(),
            template: "(install record)".to_string(),
            api_version: "v1".to_string(),
            kind: "ConfigMap".to_string(),
            name: RECORD.to_string(),
            namespace: Some(namespace.to_string()),
            // JSON is YAML: the apply path parses either.
            yaml: format!("{}\n", serde_json::to_string_pretty(&value).expect("json")),
        }
    }
}

/// `id:QUANT` of the selection's model.
pub fn model_spec(sel: &Selection) -> Option<String> {
    sel.model
        .as_ref()
        .map(|m| format!("{}:{}", m.id, m.fit.quant))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    #[error("there is no tool named `{name}`{closest}\nhint: the tools are: {tools}")]
    UnknownTool {
        name: String,
        closest: String,
        tools: String,
    },
    #[error("`{name}` is not a tool you add or remove: {why}")]
    NotATool { name: String, why: String },
    #[error(
        "`{name}` runs only with the {backends} backend, and this install's profile `{profile}` uses {backend}\nhint: `uaiso add --list` shows what fits"
    )]
    WrongBackend {
        name: String,
        backends: String,
        profile: String,
        backend: String,
    },
}

/// The catalogue's tools, in render order.
pub fn tools() -> Vec<Component> {
    component::all()
        .into_iter()
        .filter(|c| c.spec.tool)
        .collect()
}

/// The catalogue tool named `name`, or why there is none.
pub fn tool(name: &str) -> Result<Component, StackError> {
    match component::find(name) {
        Some(c) if c.spec.tool => Ok(c),
        Some(c) => Err(StackError::NotATool {
            name: name.to_string(),
            why: if c.spec.name == "base" {
                "it is the namespace every tool lives in".to_string()
            } else {
                "uaiso installs it with the profile that needs it".to_string()
            },
        }),
        None => {
            let tools = tools();
            let names: Vec<&str> = tools.iter().map(|c| c.spec.name.as_str()).collect();
            Err(StackError::UnknownTool {
                name: name.to_string(),
                closest: crate::profile::closest(name, names.iter().copied())
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default(),
                tools: names.join(", "),
            })
        }
    }
}

/// The components to render: the profile's (less what the user removed, and less the
/// device plugins on a cluster that brings its own), plus what the user added, plus
/// what those require; only those that run on the profile's backend; in render order.
pub fn wanted(sel: &Selection, mode: Mode, added: &[String], removed: &[String]) -> Vec<String> {
    let all = component::all();
    let backend = sel.profile.backend;
    let mut want: Vec<String> = render::default_components(sel)
        .into_iter()
        .filter(|c| !removed.contains(c))
        .filter(|c| mode == Mode::Host || !c.ends_with("-device-plugin"))
        .collect();
    want.extend(added.iter().cloned());
    // Requirements, to a fixed point; the chains are short.
    loop {
        let missing: Vec<String> = all
            .iter()
            .filter(|c| want.contains(&c.spec.name))
            .flat_map(|c| c.spec.requires.iter().cloned())
            .filter(|r| !want.contains(r))
            .collect();
        if missing.is_empty() {
            break;
        }
        want.extend(missing);
    }
    all.iter()
        .filter(|c| want.contains(&c.spec.name) && c.spec.runs_on(backend))
        .map(|c| c.spec.name.clone())
        .collect()
}

/// What `add` does to the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Already installed: nothing to do.
    Present,
    /// These components come in (the tool and what it requires that was not there).
    New(Vec<String>),
}

pub fn add(record: &mut Record, sel: &Selection, name: &str) -> Result<Added, StackError> {
    let tool = tool(name)?;
    check_backend(&tool, sel)?;
    if record.components.iter().any(|c| c == name) {
        return Ok(Added::Present);
    }
    let before = record.components.clone();
    record
        .removed
        .retain(|r| r != name && !tool.spec.requires.contains(r));
    if !render::default_components(sel).iter().any(|c| c == name)
        && !record.added.iter().any(|a| a == name)
    {
        record.added.push(name.to_string());
    }
    let after = wanted(sel, record.mode, &record.added, &record.removed);
    Ok(Added::New(
        after.into_iter().filter(|c| !before.contains(c)).collect(),
    ))
}

/// What `remove` does to the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// Not installed: nothing to do.
    Absent,
    /// These go: the tool and the tools that require it.
    Going(Vec<String>),
}

pub fn remove(record: &mut Record, sel: &Selection, name: &str) -> Result<Removed, StackError> {
    tool(name)?;
    if !record.components.iter().any(|c| c == name) {
        return Ok(Removed::Absent);
    }
    // Whatever requires it, directly or not, goes with it.
    let all = component::all();
    let mut going = vec![name.to_string()];
    loop {
        let more: Vec<String> = all
            .iter()
            .filter(|c| record.components.contains(&c.spec.name) && !going.contains(&c.spec.name))
            .filter(|c| c.spec.requires.iter().any(|r| going.contains(r)))
            .map(|c| c.spec.name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        going.extend(more);
    }
    let defaults = render::default_components(sel);
    for g in &going {
        record.added.retain(|a| a != g);
        if defaults.contains(g) && !record.removed.contains(g) {
            record.removed.push(g.clone());
        }
    }
    let order: Vec<String> = all.iter().map(|c| c.spec.name.clone()).collect();
    going.sort_by_key(|g| order.iter().position(|o| o == g));
    Ok(Removed::Going(going))
}

fn check_backend(tool: &Component, sel: &Selection) -> Result<(), StackError> {
    let backend: Backend = sel.profile.backend;
    if tool.spec.runs_on(backend) {
        return Ok(());
    }
    Err(StackError::WrongBackend {
        name: tool.spec.name.clone(),
        backends: tool.spec.backends.join(", "),
        profile: sel.profile.name.clone(),
        backend: backend.as_str().to_string(),
    })
}

/// How to reach one endpoint of an installed component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    pub component: String,
    pub service: String,
    pub what: String,
    pub url: String,
    /// What to run first to reach it, if anything (a port-forward).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// The endpoints of `components`: on a box uaiso installed, NodePorts on loopback;
/// elsewhere, a port-forward to the ClusterIP Service.
pub fn access(components: &[String], mode: Mode, namespace: &str) -> Vec<Access> {
    component::all()
        .into_iter()
        .filter(|c| components.contains(&c.spec.name))
        .flat_map(|c| {
            let name = c.spec.name.clone();
            c.spec.endpoint.into_iter().map(move |e| {
                let suffix = if e.service == "llama-server" {
                    "/v1"
                } else {
                    ""
                };
                let (url, via) = match mode {
                    Mode::Host => (
                        format!("{}://127.0.0.1:{}{suffix}", e.scheme, e.node_port),
                        None,
                    ),
                    // The node port as the local port: the same URL as on a box uaiso
                    // installed, and no two forwards collide.
                    Mode::Cluster => (
                        format!("{}://127.0.0.1:{}{suffix}", e.scheme, e.node_port),
                        Some(format!(
                            "kubectl -n {namespace} port-forward svc/{} {}:{}",
                            e.service, e.node_port, e.port
                        )),
                    ),
                };
                Access {
                    component: name.clone(),
                    service: e.service,
                    what: e.what,
                    url,
                    via,
                }
            })
        })
        .collect()
}
