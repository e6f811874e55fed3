//! `uaiso status`: the cluster, the node, each component's pods, the model, what
//! llama-server is doing right now, and where everything listens.

use std::time::Duration;

use super::cluster::{self, ClusterArgs};
use crate::render::values;
use crate::stack::{self, Mode};
use crate::sys::{self, host::Host};
use crate::ui::{self, stack::ComponentStatus};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
    /// Also print the generated Secrets: the API key, the Grafana password, …
    #[arg(long)]
    show_secrets: bool,
    /// Ask llama-server here for its live figures (e.g. after `kubectl port-forward`);
    /// the default is its NodePort on a box uaiso installed.
    #[arg(long, value_name = "URL")]
    llama_url: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let root = std::path::Path::new("/");
    let host = Host::at(root);
    let settings = args.cluster.settings(root)?;
    let namespace = args.cluster.namespace(&settings)?;
    let (c, _) = cluster::connect(&args.cluster, &host)?;
    let record = cluster::require_record(&c, &namespace)?;
    let server_version = c.server_version()?;
    let nodes = c.nodes()?;
    let workloads = c.workloads(&namespace)?;
    let distro = match record.mode {
        Mode::Host => crate::exec::load_receipt(&host)
            .ok()
            .flatten()
            .map(|r| r.distro)
            .unwrap_or_else(|| "kubernetes".to_string()),
        Mode::Cluster => "kubernetes".to_string(),
    };
    let components: Vec<ComponentStatus> = record
        .components
        .iter()
        .map(|name| {
            let mine: Vec<_> = workloads
                .iter()
                .filter(|w| &w.component == name)
                .cloned()
                .collect();
            ComponentStatus {
                name: name.clone(),
                ready: mine.iter().all(|w| w.ready >= w.desired),
                workloads: mine,
            }
        })
        .collect();

    let mut live = None;
    let mut live_error = None;
    let mut loaded_model = None;
    let base = args.llama_url.clone().or_else(|| {
        let port = crate::render::component::find("llama-server")?
            .spec
            .endpoint
            .first()?
            .node_port;
        (record.mode == Mode::Host).then(|| format!("http://127.0.0.1:{port}"))
    });
    if record.components.iter().any(|c| c == "llama-server") {
        match base {
            None => {
                live_error = Some(format!(
                    "on this cluster it is reached through a port-forward: `kubectl -n {namespace} port-forward svc/llama-server 30080:8080`, then `uaiso status --llama-url http://127.0.0.1:30080`"
                ))
            }
            Some(base) => {
                let base = base
                    .trim_end_matches('/')
                    .trim_end_matches("/v1")
                    .to_string();
                let key = c.secret_value(&namespace, values::API_KEY_SECRET, "api-key")?;
                let timeout = Duration::from_secs(3);
                match sys::download::get_text(&format!("{base}/metrics"), key.as_deref(), timeout) {
                    Ok(text) => live = Some(stack::metrics::parse(&text)),
                    Err(e) => {
                        live_error =
                            Some(e.to_string().lines().next().unwrap_or_default().to_string())
                    }
                }
                if let Ok(text) =
                    sys::download::get_text(&format!("{base}/v1/models"), key.as_deref(), timeout)
                {
                    loaded_model = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v["data"][0]["id"].as_str().map(str::to_string));
                }
            }
        }
    }
    let secrets = if args.show_secrets {
        cluster::all_secrets(&c, &namespace, &record.components)?
    } else {
        Vec::new()
    };
    let st = ui::stack::Status {
        namespace: namespace.clone(),
        mode: record.mode,
        distro,
        server_version,
        nodes,
        profile: record.profile.clone(),
        model: record.model.clone(),
        loaded_model,
        components,
        live,
        live_error,
        access: stack::access(&record.components, record.mode, &namespace),
        secrets,
    };
    if args.json {
        ui::out(&ui::json(&st)?);
    } else {
        ui::out(&ui::stack::status(&st));
    }
    let all_ready = st.components.iter().all(|c| c.ready) && st.nodes.iter().all(|n| n.ready);
    Ok(if all_ready { 0 } else { 3 })
}
