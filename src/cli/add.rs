//! `uaiso add --list`: the catalogue of components, with images and memory.

use crate::render::component;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// List the catalogue: name, description, images, estimated memory.
    #[arg(long, required = true)]
    list: bool,
    /// Print the catalogue as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let specs: Vec<_> = component::all().into_iter().map(|c| c.spec).collect();
    if args.json {
        ui::out(&ui::json(&specs)?);
    } else if args.list {
        ui::out(&ui::tables::components(&specs));
    }
    Ok(0)
}
