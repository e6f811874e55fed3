//! What `up`, `add`, `remove`, `status` and `reset` share about the cluster: which one
//! (the distro's on this box, or `--kubeconfig`), the namespace, the install record,
//! the selection it pins, and the render of the stack.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::deploy;
use crate::kube::{self, Cluster};
use crate::probe::HostFacts;
use crate::profile::{self, Backend, Overrides, Selection};
use crate::render::{self, Document, values};
use crate::stack::{self, Mode, Record, settings::Settings};
use crate::sys::{self, host::Host};
use crate::ui;

#[derive(Debug, clap::Args, Clone)]
pub struct ClusterArgs {
    /// A cluster uaiso did not install (or KUBECONFIG): nothing on this host changes.
    #[arg(long, value_name = "FILE", env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// The namespace the stack lives in (default: the settings file's, else `uaiso`).
    #[arg(long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// The settings file (default: /etc/uaiso/uaiso.toml, when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ClusterArgs {
    pub fn settings(&self, root: &Path) -> anyhow::Result<Settings> {
        match sys::config::settings_file(root, self.config.as_deref())? {
            None => Ok(Settings::default()),
            Some((file, text)) => Ok(stack::settings::parse(&file, &text)?),
        }
    }

    pub fn namespace(&self, settings: &Settings) -> anyhow::Result<String> {
        let ns = self
            .namespace
            .clone()
            .or_else(|| settings.namespace.clone())
            .unwrap_or_else(|| values::NAMESPACE.to_string());
        stack::settings::check_namespace(&ns).map_err(|m| anyhow::anyhow!("--namespace: {m}"))?;
        Ok(ns)
    }

    pub fn own_cluster(&self) -> bool {
        self.kubeconfig.is_some()
    }
}

/// Connect and prove the cluster answers: to `--kubeconfig`'s, else to the distro's on
/// this box. The mode says which.
pub fn connect(args: &ClusterArgs, host: &Host) -> anyhow::Result<(Cluster, Mode)> {
    let (cluster, mode) = match &args.kubeconfig {
        // KUBECONFIG may list several files; the client merges them.
        Some(path) if path.to_string_lossy().contains(':') => {
            (Cluster::connect(None)?, Mode::Cluster)
        }
        Some(path) => (Cluster::connect(Some(path))?, Mode::Cluster),
        None => match kube::distro_kubeconfig(host) {
            Some(path) => {
                let cluster = Cluster::connect(Some(&path)).map_err(|e| {
                    anyhow::anyhow!(
                        "{e}\nhint: the distro's kubeconfig is readable by root only: `sudo uaiso …`"
                    )
                })?;
                (cluster, Mode::Host)
            }
            None => bail!(
                "no cluster here: uaiso has not installed one on this box\nhint: `sudo uaiso up` installs one; for a cluster of your own pass `--kubeconfig FILE`"
            ),
        },
    };
    cluster.server_version()?;
    Ok((cluster, mode))
}

/// The install record, or a clear refusal when there is none.
pub fn require_record(cluster: &Cluster, namespace: &str) -> anyhow::Result<Record> {
    deploy::read_record(cluster, namespace)?.ok_or_else(|| {
        anyhow::anyhow!(
            "uaiso is not installed in namespace `{namespace}` of this cluster\nhint: `uaiso up` installs it; `--namespace` picks another install"
        )
    })
}

/// The selection: flags, then the settings file, then what the record pinned, then the
/// automatic choice.
pub fn select(
    facts: &HostFacts,
    host: &super::context::HostArgs,
    flags: &super::context::SelectArgs,
    settings: &Settings,
    record: Option<&Record>,
    cached: Vec<(String, u64)>,
) -> anyhow::Result<Selection> {
    let overrides = Overrides {
        profile: flags
            .profile
            .clone()
            .or_else(|| settings.profile.clone())
            .or_else(|| record.map(|r| r.profile.clone())),
        model: flags
            .model
            .clone()
            .or_else(|| settings.model.clone())
            .or_else(|| record.and_then(|r| r.model.clone())),
        cached,
    };
    Ok(profile::select(
        facts,
        &host.profiles()?,
        &host.models()?,
        &overrides,
    )?)
}

/// The resource a backend's pods ask for on a cluster; Vulkan has none (it mounts the
/// host's /dev/dri, which uaiso does only on a box it installed).
fn gpu_resource(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Cuda => Some("nvidia.com/gpu"),
        Backend::Rocm => Some("amd.com/gpu"),
        _ => None,
    }
}

/// On a cluster uaiso did not install, GPUs are wired only if a node offers them; else
/// the CPU profile that fits is chosen instead, or a forced GPU profile is refused.
pub fn fit_to_cluster(
    cluster: &Cluster,
    facts: &HostFacts,
    sel: Selection,
    forced_profile: bool,
    redo: &dyn Fn(&HostFacts) -> anyhow::Result<Selection>,
) -> anyhow::Result<(HostFacts, Selection)> {
    let backend = sel.profile.backend;
    if !backend.uses_gpu() {
        return Ok((facts.clone(), sel));
    }
    let nodes = cluster.nodes()?;
    let offered = gpu_resource(backend)
        .is_some_and(|r| nodes.iter().any(|n| n.gpus.get(r).is_some_and(|c| *c > 0)));
    if offered {
        return Ok((facts.clone(), sel));
    }
    let what = gpu_resource(backend).unwrap_or("/dev/dri (Vulkan)");
    if forced_profile {
        bail!(
            "profile `{}` needs {what}, and no node of this cluster offers it, so nothing was changed\nhint: install the vendor's device plugin on the cluster, or pick a CPU profile (`--profile cpu`)",
            sel.profile.name
        );
    }
    ui::note(&format!(
        "no node of this cluster offers {what}: using a CPU profile instead of `{}`",
        sel.profile.name
    ));
    let mut cpu_facts = facts.clone();
    cpu_facts.gpus.clear();
    let sel = redo(&cpu_facts)?;
    Ok((cpu_facts, sel))
}

/// The model's URL, through `HF_ENDPOINT` when it is set.
pub fn model_url(sel: &Selection) -> Option<String> {
    let m = sel.model.as_ref()?;
    Some(match sys::live::hf_endpoint() {
        Some(base) => m.url.replacen("https://huggingface.co", &base, 1),
        None => m.url.clone(),
    })
}

/// The model file's sha256: pinned in the catalogue, remembered in the record, or
/// stated by Hugging Face. Downloads are never unverified.
pub fn model_sha256(
    sel: &Selection,
    record: Option<&Record>,
    downloader: &sys::download::Downloader,
) -> anyhow::Result<Option<String>> {
    let (Some(m), Some(url)) = (&sel.model, model_url(sel)) else {
        return Ok(None);
    };
    if let Some(sha) = &m.sha256 {
        return Ok(Some(sha.to_ascii_lowercase()));
    }
    if let Some(r) = record
        && r.model == stack::model_spec(sel)
        && let Some(sha) = &r.model_sha256
    {
        return Ok(Some(sha.clone()));
    }
    match downloader
        .linked_sha256(&url)
        .with_context(|| format!("asking {url} for the model's sha256"))?
    {
        Some(sha) => Ok(Some(sha)),
        None => bail!(
            "the server states no sha256 for `{url}`, and the catalogue pins none, so the model cannot be verified and nothing was changed\nhint: add `sha256 = \"…\"` to the quant in a catalogue file in /etc/uaiso/models/"
        ),
    }
}

/// The stack's documents: the record's components, rendered for the mode, the
/// Namespace left out when it is someone else's, and the record itself.
pub fn render_stack(
    facts: &HostFacts,
    sel: &Selection,
    record: &Record,
    namespace: &str,
    foreign_namespace: bool,
) -> anyhow::Result<Vec<Document>> {
    let cluster_model = match (record.mode, model_url(sel), &record.model_sha256) {
        (Mode::Cluster, Some(url), Some(sha256)) => Some(values::ClusterModel {
            url,
            sha256: sha256.clone(),
        }),
        _ => None,
    };
    let opts = values::Options {
        proxy_allowlist: record.proxy_allow.clone(),
        namespace: namespace.to_string(),
        node_ports: record.mode == Mode::Host,
        cluster_model,
    };
    let mut docs = render::render(facts, sel, Some(&record.components), &opts)?;
    if foreign_namespace {
        docs.retain(|d| d.kind != "Namespace");
    }
    docs.push(record.document(namespace));
    Ok(docs)
}

/// Converge with progress lines.
pub fn apply(
    cluster: &Cluster,
    namespace: &str,
    docs: &[Document],
    components: &[String],
    waits: deploy::Waits,
) -> anyhow::Result<deploy::Outcome> {
    let outcome = deploy::converge(
        cluster,
        namespace,
        docs,
        components,
        waits,
        &mut |e| match e {
            deploy::Event::Applying(n) => {
                ui::note(&format!("applying {n} objects to namespace {namespace}"))
            }
            deploy::Event::SecretCreated(name) => ui::note(&format!("  generated Secret {name}")),
            deploy::Event::WaitingForModel(job) => ui::note(&format!(
                "downloading the model inside the cluster (Job {job}); Ctrl-C is safe: the Job goes on, and `uaiso up` waits for it again"
            )),
            deploy::Event::StillDownloading(job, why) => ui::note(&format!(
                "  still waiting for the model ({why}); `kubectl -n {namespace} logs job/{job}` shows how far"
            )),
            deploy::Event::WaitingForRollouts(n) => {
                ui::note(&format!("waiting for {n} workloads to be ready"))
            }
        },
    )?;
    for a in outcome.applied.iter().filter(|a| a.changed) {
        ui::note(&format!("  changed {} {}", a.kind, a.name));
    }
    for p in &outcome.pruned {
        ui::note(&format!("  deleted {} {}", p.kind, p.name));
    }
    Ok(outcome)
}

/// The Secrets to show once: those created just now that people log in with.
pub fn shown_once(
    cluster: &Cluster,
    namespace: &str,
    created: &[String],
) -> anyhow::Result<Vec<ui::stack::Shown>> {
    secrets(cluster, namespace, |_, s| {
        s.show_once && created.contains(&s.name)
    })
}

/// Every generated Secret of `components`, for `--show-secrets`.
pub fn all_secrets(
    cluster: &Cluster,
    namespace: &str,
    components: &[String],
) -> anyhow::Result<Vec<ui::stack::Shown>> {
    secrets(cluster, namespace, |c, _| components.contains(c))
}

/// The generated Secrets `pick` (by component name and spec) chooses, with their values.
fn secrets(
    cluster: &Cluster,
    namespace: &str,
    pick: impl Fn(&String, &crate::render::component::SecretSpec) -> bool,
) -> anyhow::Result<Vec<ui::stack::Shown>> {
    let mut out = Vec::new();
    for c in crate::render::component::all() {
        for s in c.spec.secret.iter().filter(|s| pick(&c.spec.name, s)) {
            if let Some(value) = cluster.secret_value(namespace, &s.name, &s.key)? {
                out.push(ui::stack::Shown {
                    name: s.name.clone(),
                    what: s.what.clone(),
                    value,
                });
            }
        }
    }
    Ok(out)
}

/// An install found on a cluster, with the selection its record pins.
pub struct Installed {
    pub cluster: Cluster,
    pub namespace: String,
    pub record: Record,
    pub facts: HostFacts,
    pub selection: Selection,
}

/// Find the install `args` point at, and re-derive its selection on this box.
pub fn installed(args: &ClusterArgs) -> anyhow::Result<Installed> {
    let root = Path::new("/");
    let host = Host::at(root);
    let settings = args.settings(root)?;
    let namespace = args.namespace(&settings)?;
    let (cluster, _) = connect(args, &host)?;
    let mut record = require_record(&cluster, &namespace)?;
    if let Some(allow) = &settings.proxy_allow {
        record.proxy_allow = allow.clone();
    }
    let host_args = super::context::HostArgs {
        sysroot: None,
        profile_files: Vec::new(),
    };
    let facts = host_args.facts()?;
    let cached = match record.mode {
        Mode::Host => host.list_files(values::MODELS_HOST_PATH),
        Mode::Cluster => Vec::new(),
    };
    let flags = super::context::SelectArgs {
        profile: None,
        model: None,
    };
    let selection = select(&facts, &host_args, &flags, &settings, Some(&record), cached)?;
    Ok(Installed {
        cluster,
        namespace,
        record,
        facts,
        selection,
    })
}

/// Apply the install with `record` as its new state.
pub fn reapply(
    inst: &Installed,
    record: &Record,
    wait: std::time::Duration,
) -> anyhow::Result<deploy::Outcome> {
    let foreign = deploy::namespace_is_foreign(&inst.cluster, &inst.namespace)?;
    let docs = render_stack(
        &inst.facts,
        &inst.selection,
        record,
        &inst.namespace,
        foreign,
    )?;
    let waits = deploy::Waits {
        rollout: wait,
        model: std::time::Duration::from_secs(6 * 3600),
    };
    apply(
        &inst.cluster,
        &inst.namespace,
        &docs,
        &record.components,
        waits,
    )
}
