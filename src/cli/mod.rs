//! The command line: clap definitions, logging set-up, and one file per subcommand.
//! Glue only; the logic lives in the pure modules.

mod add;
mod cluster;
mod completions;
mod context;
mod doctor;
mod models;
mod plan;
mod profile;
mod remove;
mod render;
mod reset;
mod status;
mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::{sys, ui};

/// uaiso turns a spare Linux box into a private, local-first AI workstation.
#[derive(Debug, Parser)]
#[command(name = "uaiso", version, about, propagate_version = true)]
pub struct Cli {
    /// More log detail on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check whether this box can run local AI on Kubernetes, and what to fix (no root needed).
    Doctor(doctor::Args),
    /// Show what `up` would run on this box — profile, model, memory, server flags — and why.
    Plan(plan::Args),
    /// List or show the profiles (bundled and your own).
    Profile(profile::Args),
    /// List the model catalogue, or what fits this box.
    Models(models::Args),
    /// Print the Kubernetes manifests for this box, to apply to a cluster yourself.
    Render(render::Args),
    /// Add a tool from the catalogue (`--list` shows it).
    Add(add::Args),
    /// Remove a tool.
    Remove(remove::Args),
    /// Install everything: the host, Kubernetes (k3s, or k0s), the model and the stack;
    /// or, with `--kubeconfig`, the stack on a cluster of your own.
    Up(up::Args),
    /// The cluster, the components, the model, live figures and where things listen.
    Status(status::Args),
    /// Take it all down: the stack, then what `up` changed on this host; models are kept.
    Reset(reset::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
}

/// Parse, run, and map the outcome to an exit code: 0 ok, 1 failure, 2 usage.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            ui::error(&format!("{err:#}"));
            let usage = err
                .downcast_ref::<sys::Error>()
                .is_some_and(sys::Error::is_usage);
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Doctor(args) => doctor::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Models(args) => models::run(args),
        Command::Render(args) => render::run(args),
        Command::Add(args) => add::run(args),
        Command::Remove(args) => remove::run(args),
        Command::Status(args) => status::run(args),
        Command::Up(args) => up::run(args),
        Command::Reset(args) => reset::run(args),
        Command::Completions(args) => completions::run(args),
    }
}

/// `RUST_LOG` wins over -v/-q when set.
fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(ui::log_writer)
        .with_target(false)
        .without_time()
        .try_init();
}
