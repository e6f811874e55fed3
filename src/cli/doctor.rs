//! `uaiso doctor`: probe, check, report; optionally save what was read as a snapshot.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use crate::doctor::Report;
use crate::sys::snapshot::{self, Source};
use crate::{probe, ui};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the facts and findings as JSON (schema in the README).
    #[arg(long)]
    json: bool,
    /// Read a snapshot directory (or any tree shaped like `/`) instead of this host.
    #[arg(long, value_name = "DIR")]
    sysroot: Option<PathBuf>,
    /// Also save what was read into DIR (new or empty), to attach to a bug report.
    #[arg(long, value_name = "DIR")]
    save_snapshot: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let started = Instant::now();
    let source = match &args.sysroot {
        Some(dir) => Source::Sysroot(dir.clone()),
        None => Source::Live,
    };
    let raw = snapshot::collect(&source)?;
    tracing::debug!(
        files = raw.texts.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "host read"
    );
    if let Some(dir) = &args.save_snapshot {
        snapshot::save(&raw, dir)
            .with_context(|| format!("saving the snapshot to `{}`", dir.display()))?;
        ui::note(&format!("snapshot saved to `{}`", dir.display()));
    }
    let facts = probe::probe(&raw);
    let label = match &args.sysroot {
        Some(dir) => dir.display().to_string(),
        None => "live".to_string(),
    };
    let report = Report::new(facts, label);
    if args.json {
        ui::out(&ui::json(&report)?);
    } else {
        ui::out(&ui::doctor::render(
            &report,
            ui::Paint::new(ui::stdout_colors()),
        ));
    }
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "doctor done"
    );
    Ok(report.exit_code())
}
