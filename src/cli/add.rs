//! `uaiso add <tool>` and `uaiso add --list`: the catalogue, and taking a tool on.

use std::time::Duration;

use super::cluster::{self, ClusterArgs};
use crate::stack::{self, Added};
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The tool to add (see `--list`).
    #[arg(
        value_name = "TOOL",
        required_unless_present = "list",
        conflicts_with = "list"
    )]
    tool: Option<String>,
    /// List the catalogue: name, description, images, estimated memory.
    #[arg(long)]
    list: bool,
    /// With `--list`: print the catalogue as JSON.
    #[arg(long, requires = "list")]
    json: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// How long to wait for the tool to be ready, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    wait: u64,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let Some(name) = args.tool else {
        let specs: Vec<_> = crate::render::component::all()
            .into_iter()
            .map(|c| c.spec)
            .collect();
        if args.json {
            ui::out(&ui::json(&specs)?);
        } else {
            ui::out(&ui::tables::components(&specs));
        }
        return Ok(0);
    };
    // An unknown name is refused before any cluster is asked.
    stack::tool(&name)?;
    let inst = cluster::installed(&args.cluster)?;
    let mut record = inst.record.clone();
    match stack::add(&mut record, &inst.selection, &name)? {
        Added::Present => {
            ui::note(&format!(
                "{name} is already installed in namespace {}: nothing to do",
                inst.namespace
            ));
            Ok(0)
        }
        Added::New(coming) => {
            ui::note(&format!("adding {}", coming.join(", ")));
            record.components =
                stack::wanted(&inst.selection, record.mode, &record.added, &record.removed);
            let outcome = cluster::reapply(&inst, &record, Duration::from_secs(args.wait))?;
            let shown =
                cluster::shown_once(&inst.cluster, &inst.namespace, &outcome.secrets_created)?;
            ui::out(&format!("Added {}.\n", coming.join(", ")));
            ui::out(&ui::stack::access(&stack::access(
                &coming,
                record.mode,
                &inst.namespace,
            )));
            for s in shown {
                ui::out(&format!("  {} (shown once): {}\n", s.what, s.value));
            }
            Ok(0)
        }
    }
}
