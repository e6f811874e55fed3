//! `uaiso plan`: what `up` would choose for this box, and why, without changing it.

use crate::plan::HostPlan;
use crate::plan::build::{self as planner, PlanOptions};
use crate::profile::{self, Selection};
use crate::{sys, ui};

/// `plan --json`: the selection, then what `up` would do to the host.
#[derive(serde::Serialize)]
struct PlanJson<'a> {
    #[serde(flatten)]
    selection: &'a Selection,
    host_plan: Option<HostPlan>,
    /// Why `up` would stop before changing anything.
    host_plan_error: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    host: super::context::HostArgs,
    #[command(flatten)]
    select: super::context::SelectArgs,
    /// Print the selection as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let facts = args.host.facts()?;
    let profiles = args.host.profiles()?;
    let models = args.host.models()?;
    let overrides = args.select.overrides();
    let selection = profile::select(&facts, &profiles, &models, &overrides)?;
    let opts = PlanOptions {
        distro: None,
        base_url: None,
        expose: false,
        proxy_env: sys::live::proxy_env(),
        wait_timeout_s: 600,
    };
    let host = planner::host_plan(&facts, &selection, &opts);
    if args.json {
        let (host_plan, host_plan_error) = match host {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e.to_string())),
        };
        ui::out(&ui::json(&PlanJson {
            selection: &selection,
            host_plan,
            host_plan_error,
        })?);
    } else {
        let mut text = ui::plan::render(&selection, ui::Paint::new(ui::stdout_colors()));
        text.push('\n');
        match host {
            Ok(p) => text.push_str(&ui::plan::host_steps(&p)),
            Err(e) => text.push_str(&format!("Host steps: `uaiso up` would stop here: {e}\n")),
        }
        let components = crate::stack::wanted(&selection, crate::stack::Mode::Host, &[], &[]);
        text.push('\n');
        text.push_str(&ui::stack::components(&components));
        ui::out(&text);
    }
    Ok(u8::from(selection.model.is_none()))
}
