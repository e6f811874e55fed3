//! `uaiso models list [--fits]`: the catalogue, or what fits this box with the numbers.

use crate::profile::{self, Overrides, fit};
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The model catalogue.
    List {
        /// Only the models that fit this box under its profile, with the numbers.
        #[arg(long)]
        fits: bool,
        /// With `--fits`: judge under this profile instead of the automatic one.
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        host: super::context::HostArgs,
    },
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let Command::List {
        fits,
        profile,
        json,
        host,
    } = args.command;
    let models = host.models()?;
    if !fits {
        if json {
            ui::out(&ui::json(&models)?);
        } else {
            ui::out(&ui::tables::models(&models));
        }
        return Ok(0);
    }
    let facts = host.facts()?;
    let profiles = host.profiles()?;
    let selection = profile::select(
        &facts,
        &profiles,
        &[],
        &Overrides {
            profile,
            ..Overrides::default()
        },
    )?;
    let fitting: Vec<fit::Fit> = models
        .iter()
        .filter(|m| m.params_b <= selection.profile.model.max_params_b)
        .filter_map(|m| {
            fit::best_for_model(
                m,
                &selection.profile,
                &selection.budget,
                facts.disk.avail_bytes,
            )
        })
        .collect();
    if json {
        ui::out(&ui::json(&fitting)?);
    } else {
        ui::out(&ui::tables::fits(&selection, &fitting));
    }
    Ok(0)
}
