//! `uaiso profile list|show`: the bundled and the user's profiles.

use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    host: super::context::HostArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Every profile, with what it is for.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One profile in full.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let profiles = args.host.profiles()?;
    match args.command {
        Command::List { json: true } => ui::out(&ui::json(&profiles)?),
        Command::List { json: false } => ui::out(&ui::tables::profiles(&profiles)),
        Command::Show { name, json } => {
            let Some(profile) = profiles.iter().rev().find(|p| p.name == name) else {
                let known: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
                anyhow::bail!(
                    "no profile named `{name}`\nhint: there are {}",
                    known.join(", ")
                );
            };
            if json {
                ui::out(&ui::json(profile)?);
            } else {
                ui::out(&toml::to_string_pretty(profile)?);
            }
        }
    }
    Ok(0)
}
