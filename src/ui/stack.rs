//! How the stack is shown: the components `up` will apply, the summary after it, and
//! `status`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::kube::{NodeInfo, Workload};
use crate::render::component;
use crate::stack::metrics::Live;
use crate::stack::{Access, Mode};
use crate::units::bytes;

/// `Components (4): base, llama-server (model), monitoring (248 MiB), proxy (96 MiB)`.
pub fn components(names: &[String]) -> String {
    let parts: Vec<String> = component::all()
        .into_iter()
        .filter(|c| names.contains(&c.spec.name))
        .map(|c| match (c.spec.sized_by_model, c.spec.memory_mib) {
            (true, _) => format!("{} (sized by the model)", c.spec.name),
            (false, 0) => c.spec.name,
            (false, m) => format!("{} ({m} MiB)", c.spec.name),
        })
        .collect();
    format!("Components ({}): {}\n", parts.len(), parts.join(", "))
}

/// The endpoints, one line each, with what to run first where a port-forward is needed.
pub fn access(list: &[Access]) -> String {
    let mut s = String::new();
    let width = list.iter().map(|a| a.service.len()).max().unwrap_or(0);
    for a in list {
        let _ = writeln!(s, "  {:width$}  {}  {}", a.service, a.url, a.what);
        if let Some(via) = &a.via {
            let _ = writeln!(s, "  {:width$}  (first: {via})", "");
        }
    }
    s
}

/// A Secret worth showing: its purpose and value.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub name: String,
    pub what: String,
    pub value: String,
}

pub struct Summary<'a> {
    pub changed: usize,
    pub profile: &'a str,
    pub model: Option<&'a str>,
    pub access: &'a [Access],
    pub memory_bytes: u64,
    pub shown_once: &'a [Shown],
    pub namespace: &'a str,
    pub mode: Mode,
}

pub fn summary(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: profile {}, model {}",
        if s.changed == 0 {
            "Nothing changed, everything is in place"
        } else {
            "Ready"
        },
        s.profile,
        s.model.unwrap_or("none")
    );
    out.push_str(&access(s.access));
    if s.access.iter().any(|a| a.service == "llama-server") {
        let sudo = if s.mode == Mode::Host { "sudo " } else { "" };
        let _ = writeln!(
            out,
            "  API key: `{sudo}uaiso status --show-secrets`, or `kubectl -n {} get secret llama-server-api-key -o jsonpath='{{.data.api-key}}' | base64 -d`",
            s.namespace
        );
    }
    for shown in s.shown_once {
        let _ = writeln!(out, "  {} (shown once): {}", shown.what, shown.value);
    }
    let _ = writeln!(
        out,
        "  The stack requests {} of memory.",
        bytes(s.memory_bytes)
    );
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub namespace: String,
    pub mode: Mode,
    pub distro: String,
    pub server_version: String,
    pub nodes: Vec<NodeInfo>,
    pub profile: String,
    pub model: Option<String>,
    /// The model llama-server reports it has loaded, when it answers.
    pub loaded_model: Option<String>,
    pub components: Vec<ComponentStatus>,
    pub live: Option<Live>,
    /// Why the live figures are missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_error: Option<String>,
    pub access: Vec<Access>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Shown>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComponentStatus {
    pub name: String,
    pub ready: bool,
    pub workloads: Vec<Workload>,
}

pub fn status(st: &Status) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Cluster: {} {} (namespace {})",
        st.distro, st.server_version, st.namespace
    );
    for n in &st.nodes {
        let gpus: Vec<String> = n.gpus.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let _ = writeln!(
            s,
            "  node {}: {}, {} allocatable{}",
            n.name,
            if n.ready { "Ready" } else { "NOT Ready" },
            bytes(n.memory_bytes),
            if gpus.is_empty() {
                String::new()
            } else {
                format!(", {}", gpus.join(", "))
            }
        );
    }
    let _ = writeln!(
        s,
        "Profile {}, model {}{}",
        st.profile,
        st.model.as_deref().unwrap_or("none"),
        st.loaded_model
            .as_ref()
            .map(|m| format!(" (llama-server has `{m}` loaded)"))
            .unwrap_or_default()
    );
    let _ = writeln!(s, "Components:");
    for c in &st.components {
        let _ = writeln!(s, "  {} {}", if c.ready { "ok  " } else { "WAIT" }, c.name);
        for w in &c.workloads {
            if w.kind == "Job" {
                let state = if w.ready >= w.desired {
                    "done"
                } else {
                    "running"
                };
                let _ = writeln!(s, "         Job {}: {state}", w.name);
                continue;
            }
            let _ = writeln!(
                s,
                "         {} {}: {}/{} ready, {} restart{}{}",
                w.kind,
                w.name,
                w.ready,
                w.desired,
                w.restarts,
                if w.restarts == 1 { "" } else { "s" },
                w.waiting
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
        }
    }
    match (&st.live, &st.live_error) {
        (Some(l), _) => {
            let f = |v: Option<f64>, unit: &str| {
                v.map(|v| format!("{v:.1}{unit}"))
                    .unwrap_or_else(|| "-".into())
            };
            let _ = writeln!(
                s,
                "llama-server now: prompt {}, generation {}, {} request(s) in flight, {} waiting",
                f(l.prompt_tokens_per_s, " tokens/s"),
                f(l.generation_tokens_per_s, " tokens/s"),
                f(l.requests_processing, ""),
                f(l.requests_deferred, "")
            );
        }
        (None, Some(e)) => {
            let _ = writeln!(s, "llama-server's live figures: not reachable ({e})");
        }
        (None, None) => {}
    }
    let _ = writeln!(s, "Listening:");
    s.push_str(&access(&st.access));
    for sh in &st.secrets {
        let _ = writeln!(s, "  {}: {}", sh.what, sh.value);
    }
    s
}
