//! `uaiso up`: on this box, prepare the host and install the distro while the model
//! downloads, then apply the stack and wait for it; with `--kubeconfig`, apply the stack
//! to a cluster someone else runs, the model downloaded inside it. Ends with where
//! everything is.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use super::cluster::{self as stackcli, ClusterArgs};
use crate::doctor::{self, Status};
use crate::exec::{self, Event};
use crate::kube::Cluster;
use crate::plan::build::{self as planner, PlanOptions};
use crate::plan::receipt::State;
use crate::profile::Selection;
use crate::profile::spec::Distro;
use crate::render::values::MODELS_HOST_PATH;
use crate::stack::{self, Mode, Record};
use crate::sys::download::Downloader;
use crate::sys::host::Host;
use crate::sys::snapshot::{self, Source};
use crate::{deploy, probe, sys, ui};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the plan and exit without changing anything.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask before changing anything.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Go on although doctor found failing checks (they are listed).
    #[arg(long)]
    force: bool,
    /// Kubernetes distribution (default: the settings file's, else the profile's, k3s).
    #[arg(long, value_enum)]
    distro: Option<DistroArg>,
    /// Install into this directory instead of `/` (image building: commands are not
    /// run, and the stack is applied on the first `up` after boot).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/",
        conflicts_with = "kubeconfig"
    )]
    root: PathBuf,
    /// Download the distro from this mirror of its release pages.
    #[arg(long, value_name = "URL")]
    mirror: Option<String>,
    /// Open NodePorts to the network (default: loopback only).
    #[arg(long)]
    expose: bool,
    #[command(flatten)]
    select: super::context::SelectArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// How long to wait for the node, and then for each workload, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    wait: u64,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DistroArg {
    K3s,
    K0s,
}

/// A model download in the cluster may take hours on a slow line.
const MODEL_WAIT: Duration = Duration::from_secs(6 * 3600);

pub fn run(args: Args) -> anyhow::Result<u8> {
    let own = args.cluster.own_cluster();
    let live = args.root == Path::new("/");
    if !live {
        sys::fs::check_root(&args.root)?;
    }
    let settings = args.cluster.settings(&args.root)?;
    let namespace = args.cluster.namespace(&settings)?;
    let source = if live {
        Source::Live
    } else {
        Source::Sysroot(args.root.clone())
    };
    let facts = probe::probe(&snapshot::collect(&source)?);
    let host = Host::at(&args.root);
    let host_args = super::context::HostArgs {
        sysroot: (!live).then(|| args.root.clone()),
        profile_files: Vec::new(),
    };
    let cached = if own {
        Vec::new()
    } else {
        host.list_files(MODELS_HOST_PATH)
    };

    // An install already there pins its profile, model and tools.
    let (cluster, earlier) = if own {
        let (c, _) = stackcli::connect(&args.cluster, &host)?;
        let r = deploy::read_record(&c, &namespace)?;
        (Some(c), r)
    } else if live && crate::kube::distro_kubeconfig(&host).is_some() && sys::live::is_root() {
        match stackcli::connect(&args.cluster, &host) {
            Ok((c, _)) => (None, deploy::read_record(&c, &namespace).ok().flatten()),
            Err(e) => {
                ui::note(&format!(
                    "the cluster on this box does not answer ({}); going on with the host",
                    format!("{e:#}").lines().next().unwrap_or_default()
                ));
                (None, None)
            }
        }
    } else {
        (None, None)
    };
    if own && earlier.as_ref().is_some_and(|e| e.mode == Mode::Host) {
        bail!(
            "the install in namespace `{namespace}` was made by `sudo uaiso up` on the box that runs this cluster, with the model on that box and NodePorts on its loopback; applying it as a cluster of your own would move both, so nothing was changed\nhint: run `sudo uaiso up` on that box, without `--kubeconfig`"
        );
    }
    let redo = |f: &probe::HostFacts| -> anyhow::Result<Selection> {
        stackcli::select(
            f,
            &host_args,
            &args.select,
            &settings,
            earlier.as_ref(),
            cached.clone(),
        )
    };
    let sel = redo(&facts)?;
    let (facts, sel) = match &cluster {
        Some(c) => stackcli::fit_to_cluster(
            c,
            &facts,
            sel,
            args.select.profile.is_some() || settings.profile.is_some(),
            &redo,
        )?,
        None => (facts, sel),
    };
    for w in &sel.warnings {
        ui::note(&format!("warning: {w}"));
    }
    let mode = if own { Mode::Cluster } else { Mode::Host };
    let mut record = Record::new(mode, &sel);
    record.proxy_allow = settings
        .proxy_allow
        .clone()
        .or_else(|| earlier.as_ref().map(|e| e.proxy_allow.clone()))
        .unwrap_or_default();
    if let Some(old) = &earlier {
        record.added = old.added.clone();
        record.removed = old.removed.clone();
        if old.model == record.model {
            record.model_sha256 = old.model_sha256.clone();
        }
    }
    record.components = stack::wanted(&sel, mode, &record.added, &record.removed);

    let plan = if own {
        None
    } else {
        let distro = args
            .distro
            .map(|d| match d {
                DistroArg::K3s => Distro::K3s,
                DistroArg::K0s => Distro::K0s,
            })
            .or(match settings.distro.as_deref() {
                Some("k0s") => Some(Distro::K0s),
                Some("k3s") => Some(Distro::K3s),
                _ => None,
            });
        let opts = PlanOptions {
            distro,
            base_url: args.mirror.clone(),
            expose: args.expose,
            proxy_env: sys::live::proxy_env(),
            wait_timeout_s: args.wait,
        };
        let plan = planner::host_plan(&facts, &sel, &opts)?;
        // A render that cannot work must stop us before the host changes.
        stackcli::render_stack(&facts, &sel, &record, &namespace, false)?;
        ui::out(&ui::plan::host_steps(&plan));
        Some(plan)
    };
    if let Some(m) = &sel.model {
        let place = if own {
            format!("into a volume in namespace {namespace}")
        } else {
            format!("into {MODELS_HOST_PATH}")
        };
        ui::out(&format!(
            "Model: {} {} ({}), downloaded {place}\n",
            m.id,
            m.fit.quant,
            crate::units::bytes(m.fit.weights_bytes)
        ));
    }
    ui::out(&ui::stack::components(&record.components));
    if args.dry_run {
        return Ok(0);
    }

    if plan.is_some() {
        doctor_gate(&facts, args.force)?;
    }
    let question = if own {
        format!(
            "Apply {} components to namespace `{namespace}` of this cluster?",
            record.components.len()
        )
    } else {
        format!(
            "Make these {} changes to this host, then apply the stack?",
            plan.as_ref().map_or(0, |p| p.steps.len())
        )
    };
    super::context::confirm_and_check_root(&question, args.yes, live && !own, "up")?;

    let downloader = Downloader::new().context("setting up downloads")?;
    record.model_sha256 = stackcli::model_sha256(&sel, earlier.as_ref(), &downloader)?;
    let waits = deploy::Waits {
        rollout: Duration::from_secs(args.wait),
        model: MODEL_WAIT,
    };

    let (cluster, host_changed) = match (cluster, plan) {
        (Some(c), _) => (c, 0),
        (None, Some(plan)) => {
            let changed = prepare_host(
                &args.root,
                &plan,
                &sel,
                &record,
                earlier.as_ref(),
                &downloader,
            )?;
            if !live {
                ui::out(&format!(
                    "The host under {} is prepared; nothing was applied, because no cluster runs there.\nBoot it and run `sudo uaiso up`: the stack is applied then, and it will be at:\n",
                    args.root.display()
                ));
                ui::out(&ui::stack::access(&stack::access(
                    &record.components,
                    mode,
                    &namespace,
                )));
                return Ok(0);
            }
            let (c, _) = stackcli::connect(&args.cluster, &host)?;
            (c, changed)
        }
        (None, None) => unreachable!("a plan exists unless the cluster is the user's"),
    };
    finish(
        &cluster,
        &facts,
        &sel,
        &record,
        &namespace,
        waits,
        host_changed,
    )
}

fn doctor_gate(facts: &probe::HostFacts, force: bool) -> anyhow::Result<()> {
    let findings = doctor::check(facts);
    let failing: Vec<_> = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .collect();
    if failing.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = failing
        .iter()
        .map(|f| format!("  {}: {}", f.id, f.message))
        .collect();
    if !force {
        bail!(
            "doctor found {} failing check{}, so nothing was changed:\n{}\nhint: fix them (`uaiso doctor` shows how), or pass `--force` to go on anyway",
            failing.len(),
            if failing.len() == 1 { "" } else { "s" },
            list.join("\n")
        );
    }
    ui::note(&format!(
        "--force: going on despite failing checks:\n{}",
        list.join("\n")
    ));
    Ok(())
}

/// The host steps, with the model downloading beside them; the number of changes.
fn prepare_host(
    root: &Path,
    plan: &planner::HostPlan,
    sel: &Selection,
    record: &Record,
    earlier: Option<&Record>,
    downloader: &Downloader,
) -> anyhow::Result<usize> {
    let group = ui::progress::Group::new();
    let host = Host::at(root).with_downloader(downloader.clone());
    // The refusals come before the model starts downloading, and the directories both
    // downloads share are made here, so that neither thread makes one the other then
    // fills: each is recorded below whatever happens.
    exec::check(&host, plan)?;
    let mut premade = host.create_dirs(MODELS_HOST_PATH)?;
    premade.extend(host.create_dirs(crate::sys::host::CACHE_DIR)?);
    let model_downloader = downloader.clone();
    let model_group = group.clone();
    let (report, model) = std::thread::scope(|scope| {
        let model = scope.spawn(move || {
            let host = Host::at(root).with_downloader(model_downloader);
            download_model(&host, sel, record, earlier, &model_group)
        });
        let mut progress = group.downloads("distro");
        let report = exec::run(&host, plan, &mut progress, &mut |event| match event {
            Event::Start { index, total, step } => {
                ui::note(&format!("[{}/{total}] {}", index + 1, step.describe()))
            }
            Event::Done { state, changed, .. } => {
                let word = match (state, changed) {
                    (State::NotOurs, _) => "already there",
                    (_, true) => "done",
                    (_, false) => "unchanged",
                };
                ui::note(&format!("      {word}"));
            }
        });
        let model = model
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the model download stopped unexpectedly")));
        (report, model)
    });
    if let Ok((_, created)) = &model {
        premade.extend(created.iter().cloned());
    }
    exec::record_created_dirs(&host, &premade)?;
    let report = report?;
    let (downloaded, _) = model?;
    if report.changed == 0 {
        ui::note("host: nothing needed doing");
    } else {
        ui::note(&format!(
            "host: {} step{} changed, {} already in place; `uaiso reset` takes it back",
            report.changed,
            if report.changed == 1 { "" } else { "s" },
            report.unchanged
        ));
    }
    Ok(report.changed + usize::from(downloaded))
}

/// Fetch the model into the host's cache, verified; whether anything was fetched, and
/// the directories made for it. A file an earlier `up` verified and recorded is not
/// hashed again: gigabytes take a while.
fn download_model(
    host: &Host,
    sel: &Selection,
    record: &Record,
    earlier: Option<&Record>,
    group: &ui::progress::Group,
) -> anyhow::Result<(bool, Vec<String>)> {
    let (Some(m), Some(url), Some(sha)) =
        (&sel.model, stackcli::model_url(sel), &record.model_sha256)
    else {
        return Ok((false, Vec::new()));
    };
    let dest = format!("{MODELS_HOST_PATH}/{}", m.fit.file);
    let verified_before = earlier.is_some_and(|e| e.model_sha256.as_ref() == Some(sha));
    let size = host
        .list_files(MODELS_HOST_PATH)
        .into_iter()
        .find(|(f, _)| *f == m.fit.file)
        .map(|(_, s)| s);
    if verified_before && size.is_some_and(|s| s > 0) {
        return Ok((false, Vec::new()));
    }
    let present = size.is_some();
    let mut progress = group.downloads("model");
    let created = host
        .download(&url, sha, &dest, 0o644, Some(&mut progress))
        .with_context(|| format!("downloading the model {}", m.id))?;
    Ok((!present, created))
}

fn finish(
    cluster: &Cluster,
    facts: &probe::HostFacts,
    sel: &Selection,
    record: &Record,
    namespace: &str,
    waits: deploy::Waits,
    host_changed: usize,
) -> anyhow::Result<u8> {
    let foreign = deploy::namespace_is_foreign(cluster, namespace)?;
    let docs = stackcli::render_stack(facts, sel, record, namespace, foreign)?;
    let outcome = stackcli::apply(cluster, namespace, &docs, &record.components, waits)?;
    let shown = stackcli::shown_once(cluster, namespace, &outcome.secrets_created)?;
    let access = stack::access(&record.components, record.mode, namespace);
    ui::out(&ui::stack::summary(&ui::stack::Summary {
        changed: outcome.changed() + host_changed,
        profile: &sel.profile.name,
        model: record.model.as_deref(),
        access: &access,
        memory_bytes: crate::render::requested_memory(&docs),
        shown_once: &shown,
        namespace,
        mode: record.mode,
    }));
    Ok(0)
}
