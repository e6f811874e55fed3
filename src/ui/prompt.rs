//! The one question uaiso asks before it changes a host.

use std::io::IsTerminal;

/// Ask `question`; `Ok(None)` when there is no terminal to ask on.
pub fn confirm(question: &str) -> std::io::Result<Option<bool>> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(None);
    }
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map(Some)
        .map_err(std::io::Error::other)
}
