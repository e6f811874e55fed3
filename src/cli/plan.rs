//! `uaiso plan`: what `up` would choose for this box, and why, without changing it.

use crate::profile::{self, Overrides};
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    host: super::context::HostArgs,
    /// Use this profile instead of the automatic choice.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Use this model (`id` or `id:QUANT`, see `uaiso models list`).
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// Print the selection as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let facts = args.host.facts()?;
    let profiles = args.host.profiles()?;
    let models = args.host.models()?;
    let overrides = Overrides {
        profile: args.profile,
        model: args.model,
    };
    let selection = profile::select(&facts, &profiles, &models, &overrides)?;
    if args.json {
        ui::out(&ui::json(&selection)?);
    } else {
        ui::out(&ui::plan::render(
            &selection,
            ui::Paint::new(ui::stdout_colors()),
        ));
    }
    Ok(u8::from(selection.model.is_none()))
}
