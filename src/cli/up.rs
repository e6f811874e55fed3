//! `uaiso up`: show the host plan, ask once, check root and doctor's gate, then prepare
//! the host and install the distro, with a receipt after every step.

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::doctor::{self, Status};
use crate::exec::{self, Event};
use crate::plan::build::{self as planner, PlanOptions};
use crate::plan::receipt::State;
use crate::profile;
use crate::profile::spec::Distro;
use crate::sys::download::Downloader;
use crate::sys::host::Host;
use crate::sys::snapshot::{self, Source};
use crate::{probe, sys, ui};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the plan and exit without changing anything.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask before changing the host.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Go on although doctor found failing checks (they are listed).
    #[arg(long)]
    force: bool,
    /// Kubernetes distribution (default: the profile's, k3s).
    #[arg(long, value_enum)]
    distro: Option<DistroArg>,
    /// Install into this directory instead of `/` (image building; commands are not run).
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Download the distro from this mirror of its release pages.
    #[arg(long, value_name = "URL")]
    mirror: Option<String>,
    /// Open NodePorts to the network (default: loopback only).
    #[arg(long)]
    expose: bool,
    #[command(flatten)]
    select: super::context::SelectArgs,
    /// How long to wait for the node to become Ready, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    wait: u64,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DistroArg {
    K3s,
    K0s,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let live = args.root == std::path::Path::new("/");
    let source = if live {
        Source::Live
    } else {
        Source::Sysroot(args.root.clone())
    };
    let raw = snapshot::collect(&source)?;
    let facts = probe::probe(&raw);
    let host_args = super::context::HostArgs {
        sysroot: (!live).then(|| args.root.clone()),
        profile_files: Vec::new(),
    };
    let selection = profile::select(
        &facts,
        &host_args.profiles()?,
        &host_args.models()?,
        &args.select.overrides(),
    )?;
    let opts = PlanOptions {
        distro: args.distro.map(|d| match d {
            DistroArg::K3s => Distro::K3s,
            DistroArg::K0s => Distro::K0s,
        }),
        base_url: args.mirror,
        expose: args.expose,
        proxy_env: sys::live::proxy_env(),
        wait_timeout_s: args.wait,
    };
    let plan = planner::host_plan(&facts, &selection, &opts)?;
    ui::out(&ui::plan::host_steps(&plan));
    if args.dry_run {
        return Ok(0);
    }

    let findings = doctor::check(&facts);
    let failing: Vec<_> = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .collect();
    if !failing.is_empty() {
        let list: Vec<String> = failing
            .iter()
            .map(|f| format!("  {}: {}", f.id, f.message))
            .collect();
        if !args.force {
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
    }
    super::context::confirm_and_check_root(
        &format!("Make these {} changes to this host?", plan.steps.len()),
        args.yes,
        live,
        "up",
    )?;

    let host = Host::at(&args.root);
    let host = host.with_downloader(Downloader::new().context("setting up downloads")?);
    let mut progress = ui::progress::Downloads::new();
    let report = exec::run(&host, &plan, &mut progress, &mut |event| match event {
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
    })?;
    if report.changed == 0 {
        ui::note("nothing needed doing: the host is as the plan wants it");
    } else {
        ui::note(&format!(
            "{} step{} changed the host, {} already in place; `uaiso reset` takes it back",
            report.changed,
            if report.changed == 1 { "" } else { "s" },
            report.unchanged
        ));
    }
    Ok(0)
}
