//! `uaiso render`: the manifests for this box (or a snapshot), for people who apply
//! them to their own cluster.

use std::path::PathBuf;

use crate::profile;
use crate::render::{self, values::Options};
use crate::{sys, ui};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    host: super::context::HostArgs,
    #[command(flatten)]
    select: super::context::SelectArgs,
    /// Render only these components (repeatable); the default is what the profile turns on.
    #[arg(long = "component", value_name = "NAME")]
    components: Vec<String>,
    /// Write one file per component into DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Let the proxy reach only this domain (repeatable, e.g. `.huggingface.co`).
    #[arg(long = "proxy-allow", value_name = "DOMAIN")]
    proxy_allow: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let facts = args.host.facts()?;
    let profiles = args.host.profiles()?;
    let models = args.host.models()?;
    let overrides = args.select.overrides();
    let selection = profile::select(&facts, &profiles, &models, &overrides)?;
    let wanted = (!args.components.is_empty()).then_some(args.components.as_slice());
    let opts = Options {
        proxy_allowlist: args.proxy_allow,
        ..Options::default()
    };
    let docs = render::render(&facts, &selection, wanted, &opts)?;
    match &args.out {
        None => ui::out(&render::to_yaml(&docs, &selection)),
        Some(dir) => {
            let mut names: Vec<&str> = docs.iter().map(|d| d.component.as_str()).collect();
            names.dedup();
            for name in names {
                let part: Vec<_> = docs
                    .iter()
                    .filter(|d| d.component == name)
                    .cloned()
                    .collect();
                let path = dir.join(format!("{name}.yaml"));
                sys::fs::write_atomic(&path, render::to_yaml(&part, &selection).as_bytes())?;
                ui::note(&format!(
                    "wrote `{}` ({} objects)",
                    path.display(),
                    part.len()
                ));
            }
        }
    }
    Ok(0)
}
