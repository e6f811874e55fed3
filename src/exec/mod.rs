//! Runs a host plan over the host, step by step, with a receipt written before the
//! first step and after every one; and takes it back (`reset`) from the receipt.

mod revert;
mod run;

pub use revert::{ResetReport, reset};
pub use run::{Event, RunReport, check, run};

use crate::plan::receipt::{self, Receipt};
use crate::sys::{self, host::Host};

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("step {index} ({what}) failed: {message}")]
    Step {
        index: usize,
        what: String,
        message: String,
    },
    #[error(
        "the receipt `{path}` cannot be read: {message}\nhint: it is JSON; fix or move it aside, then run `uaiso reset` again (nothing was changed)"
    )]
    BadReceipt { path: String, message: String },
    #[error(
        "uaiso installed {installed} on this host; it does not run two distributions side by side, so nothing was changed\nhint: `sudo uaiso reset` first, then `sudo uaiso up --distro {wanted}`"
    )]
    OtherDistro { installed: String, wanted: String },
    #[error(transparent)]
    Sys(#[from] sys::Error),
}

/// The receipt on this host, if any.
pub fn load_receipt(host: &Host) -> Result<Option<Receipt>, ExecError> {
    match host.read_text(receipt::PATH)? {
        None => Ok(None),
        Some(text) => Receipt::parse(&text)
            .map(Some)
            .map_err(|message| ExecError::BadReceipt {
                path: receipt::PATH.to_string(),
                message,
            }),
    }
}

/// Atomic, and readable by root only: the env file it records may hold proxy
/// credentials.
pub fn save_receipt(host: &Host, receipt: &mut Receipt) -> Result<(), ExecError> {
    let created = host.write(receipt::PATH, receipt.to_json().as_bytes(), 0o600)?;
    if !created.is_empty() {
        receipt.created_dirs.extend(created);
        host.write(receipt::PATH, receipt.to_json().as_bytes(), 0o600)?;
    }
    Ok(())
}

/// Directories made beside the plan (the model cache): recorded, so that `reset` takes
/// them back when they are empty.
pub fn record_created_dirs(host: &Host, dirs: &[String]) -> Result<(), ExecError> {
    if dirs.is_empty() {
        return Ok(());
    }
    if let Some(mut receipt) = load_receipt(host)? {
        for d in dirs {
            if !receipt.created_dirs.contains(d) {
                receipt.created_dirs.push(d.clone());
            }
        }
        save_receipt(host, &mut receipt)?;
    }
    Ok(())
}
