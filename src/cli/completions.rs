//! `uaiso completions <shell>`: a completion script on stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    shell: Shell,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut super::Cli::command(), "uaiso", &mut buf);
    ui::out(&String::from_utf8_lossy(&buf));
    Ok(0)
}
