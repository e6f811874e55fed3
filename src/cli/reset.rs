//! `uaiso reset`: delete the stack from the cluster (and wait until it is gone), then
//! take back what the receipt says uaiso did to the host. Models stay unless
//! `--purge-models`. Works after a partial or failed `up`.

use std::path::PathBuf;
use std::time::Duration;

use super::cluster::{self, ClusterArgs};
use crate::plan::receipt::State;
use crate::render::values::MODELS_HOST_PATH;
use crate::sys::host::Host;
use crate::{deploy, exec, sys, ui};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not ask first.
    #[arg(long, short = 'y')]
    yes: bool,
    /// The root uaiso installed into.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/",
        conflicts_with = "kubeconfig"
    )]
    root: PathBuf,
    /// Delete the downloaded models too (the host's cache, or the model volumes).
    #[arg(long)]
    purge_models: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// How long to wait for the stack's objects to be gone, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    wait: u64,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let live = args.root == std::path::Path::new("/");
    if !live {
        sys::fs::check_root(&args.root)?;
    }
    let host = Host::at(&args.root);
    let own = args.cluster.own_cluster();
    let receipt = if own {
        None
    } else {
        exec::load_receipt(&host)?
    };
    let models = if own || !args.purge_models {
        Vec::new()
    } else {
        host.list_files(MODELS_HOST_PATH)
    };
    let ours = receipt.as_ref().map_or(0, |r| {
        r.steps
            .iter()
            .filter(|e| !matches!(e.state, State::NotOurs | State::Pending | State::Reverted))
            .count()
    });
    // On this box the stack runs in the distro uaiso installed; elsewhere, in the
    // cluster named.
    let reach_cluster = own || (live && crate::kube::distro_kubeconfig(&host).is_some());
    if !reach_cluster && receipt.is_none() && models.is_empty() {
        ui::note("nothing to reset: uaiso changed nothing on this host");
        return Ok(0);
    }
    let settings = args.cluster.settings(&args.root)?;
    let namespace = args.cluster.namespace(&settings)?;
    let mut parts = Vec::new();
    if reach_cluster {
        parts.push(format!("delete the stack in namespace {namespace}"));
    }
    if ours > 0 {
        parts.push(format!(
            "take back {ours} change{} to this host",
            if ours == 1 { "" } else { "s" }
        ));
    }
    let keep = if args.purge_models {
        "Models are deleted too."
    } else {
        "Models stay."
    };
    let question = format!("{}? {keep}", capitalise(&parts.join(", then ")));
    super::context::confirm_and_check_root(&question, args.yes, live && !own, "reset")?;

    let mut failed = false;
    if reach_cluster {
        match cluster::connect(&args.cluster, &host) {
            Ok((c, _)) => {
                let report = deploy::teardown(
                    &c,
                    &namespace,
                    args.purge_models,
                    Duration::from_secs(args.wait),
                )?;
                ui::note(&format!(
                    "cluster: {} object{} deleted{}",
                    report.pruned.len(),
                    if report.pruned.len() == 1 { "" } else { "s" },
                    if report.namespace_deleted {
                        format!(", and namespace {namespace}")
                    } else {
                        String::new()
                    }
                ));
                for k in &report.kept {
                    ui::note(&format!(
                        "kept the model volume {k} in namespace {namespace} (`--purge-models` deletes it)"
                    ));
                }
            }
            // A distro that never came up, or is down: its data goes with the host below.
            Err(e) if !own => ui::note(&format!(
                "the cluster does not answer, so its objects go with the distro's data: {}",
                format!("{e:#}").lines().next().unwrap_or_default()
            )),
            Err(e) => return Err(e),
        }
    }
    // Models first, so that the directories the receipt created are empty when it
    // takes them back.
    if args.purge_models && !own {
        host.remove_tree_same_fs(MODELS_HOST_PATH)?;
        // Partial model downloads wait in the download cache.
        for (file, _) in host.list_files(CACHE) {
            if file.ends_with(".part") {
                host.remove_file(&format!("{CACHE}/{file}"))?;
            }
        }
        ui::note(&format!("deleted {} model file(s)", models.len()));
    } else if !own && !host.list_files(MODELS_HOST_PATH).is_empty() {
        ui::note(&format!(
            "the models in {MODELS_HOST_PATH} stay (`uaiso reset --purge-models` deletes them)"
        ));
    }
    if let Some(receipt) = receipt {
        let report = exec::reset(&host, receipt, &mut |step| {
            ui::note(&format!("undo: {}", step.describe()))
        })?;
        for kept in &report.kept {
            ui::note(&format!("kept (was there before uaiso): {kept}"));
        }
        if report.ok() {
            let left = if host.exists(crate::plan::receipt::PATH) {
                "it now lists only the directories that hold the models"
            } else {
                "the receipt is gone"
            };
            ui::note(&format!(
                "host: {} change(s) taken back; {left}",
                report.reverted.len()
            ));
        } else {
            for e in &report.errors {
                ui::error(e);
            }
            ui::note(&format!(
                "host: {} taken back, {} could not be; the receipt keeps them: run `uaiso reset` again once fixed",
                report.reverted.len(),
                report.errors.len()
            ));
            failed = true;
        }
    }
    Ok(u8::from(failed))
}

const CACHE: &str = crate::sys::host::CACHE_DIR;

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s.to_string(),
    }
}
