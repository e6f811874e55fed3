//! `uaiso remove <tool>`: take a tool off, with what requires it; asks first when it
//! is llama-server or when data would go.

use std::time::Duration;

use super::cluster::{self, ClusterArgs};
use crate::render::component;
use crate::stack::{self, Removed};
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The tool to remove (see `uaiso add --list`).
    #[arg(value_name = "TOOL")]
    tool: String,
    /// Do not ask first.
    #[arg(long, short = 'y')]
    yes: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// How long to wait for its objects to be gone, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    wait: u64,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    stack::tool(&args.tool)?;
    let inst = cluster::installed(&args.cluster)?;
    let mut record = inst.record.clone();
    let going = match stack::remove(&mut record, &inst.selection, &args.tool)? {
        Removed::Absent => {
            ui::note(&format!(
                "{} is not installed in namespace {}: nothing to do",
                args.tool, inst.namespace
            ));
            return Ok(0);
        }
        Removed::Going(going) => going,
    };
    let losses: Vec<String> = component::all()
        .into_iter()
        .filter(|c| going.contains(&c.spec.name))
        .filter_map(|c| c.spec.data.map(|d| format!("{}: {d}", c.spec.name)))
        .collect();
    if going.iter().any(|g| g == "llama-server") || !losses.is_empty() || going.len() > 1 {
        let mut question = format!("Remove {}?", going.join(", "));
        if going.iter().any(|g| g == "llama-server") {
            question
                .push_str(" llama-server serves the model: without it the box answers nothing.");
        }
        for l in &losses {
            question.push_str(&format!(" This deletes {l}."));
        }
        super::context::confirm_and_check_root(&question, args.yes, false, "remove")?;
    }
    record.components = stack::wanted(&inst.selection, record.mode, &record.added, &record.removed);
    let outcome = cluster::reapply(&inst, &record, Duration::from_secs(args.wait))?;
    ui::out(&format!(
        "Removed {} ({} objects deleted).\n",
        going.join(", "),
        outcome.pruned.len()
    ));
    Ok(0)
}
