//! `uaiso reset`: take back what the receipt says uaiso did to the host; models stay.

use std::path::PathBuf;

use crate::exec;
use crate::sys::host::Host;
use crate::{sys, ui};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not ask first.
    #[arg(long, short = 'y')]
    yes: bool,
    /// The root uaiso installed into.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let live = args.root == std::path::Path::new("/");
    if !live {
        sys::fs::check_root(&args.root)?;
    }
    let host = Host::at(&args.root);
    let Some(receipt) = exec::load_receipt(&host)? else {
        ui::note("no receipt: uaiso changed nothing on this host, so there is nothing to reset");
        return Ok(0);
    };
    let ours = receipt
        .steps
        .iter()
        .filter(|e| {
            !matches!(
                e.state,
                crate::plan::receipt::State::NotOurs
                    | crate::plan::receipt::State::Pending
                    | crate::plan::receipt::State::Reverted
            )
        })
        .count();
    let question = format!(
        "Take back {ours} change{} uaiso made to this host? Models stay.",
        if ours == 1 { "" } else { "s" }
    );
    super::context::confirm_and_check_root(&question, args.yes, live, "reset")?;
    let report = exec::reset(&host, receipt, &mut |step| {
        ui::note(&format!("undo: {}", step.describe()))
    })?;
    for kept in &report.kept {
        ui::note(&format!("kept (was there before uaiso): {kept}"));
    }
    if report.ok() {
        ui::note(&format!(
            "reset: {} change(s) taken back; the receipt is gone",
            report.reverted.len()
        ));
        Ok(0)
    } else {
        for e in &report.errors {
            ui::error(e);
        }
        ui::note(&format!(
            "reset: {} taken back, {} could not be; the receipt keeps them: run `uaiso reset` again once fixed",
            report.reverted.len(),
            report.errors.len()
        ));
        Ok(1)
    }
}
