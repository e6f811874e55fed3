//! PURE: checks over [`HostFacts`]: pass / warn / fail, each with one line of
//! explanation and, where a fix exists, a hint with the command or setting.

mod cpu;
mod disk;
mod gpu;
mod host;
mod memory;

use serde::{Deserialize, Serialize};

use crate::probe::HostFacts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier, e.g. `gpu.nvidia.toolkit`.
    pub id: String,
    /// `cpu`, `memory`, `gpu`, `disk`, `host` or `probe`.
    pub area: String,
    pub status: Status,
    pub message: String,
    pub hint: Option<String>,
}

impl Finding {
    fn new(id: &str, status: Status, message: impl Into<String>) -> Self {
        Finding {
            id: id.to_string(),
            area: id.split('.').next().unwrap_or(id).to_string(),
            status,
            message: message.into(),
            hint: None,
        }
    }

    fn pass(id: &str, message: impl Into<String>) -> Self {
        Self::new(id, Status::Pass, message)
    }

    fn warn(id: &str, message: impl Into<String>) -> Self {
        Self::new(id, Status::Warn, message)
    }

    fn fail(id: &str, message: impl Into<String>) -> Self {
        Self::new(id, Status::Fail, message)
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Self {
        let count = |s| findings.iter().filter(|f| f.status == s).count();
        Summary {
            pass: count(Status::Pass),
            warn: count(Status::Warn),
            fail: count(Status::Fail),
        }
    }
}

/// The `uaiso doctor --json` document (documented in README.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub uaiso_version: String,
    /// `live`, or the snapshot directory that was read.
    pub source: String,
    pub facts: HostFacts,
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

pub const SCHEMA_VERSION: u32 = 1;

impl Report {
    pub fn new(facts: HostFacts, source: String) -> Self {
        let findings = check(&facts);
        Report {
            schema_version: SCHEMA_VERSION,
            uaiso_version: env!("CARGO_PKG_VERSION").to_string(),
            source,
            summary: Summary::of(&findings),
            facts,
            findings,
        }
    }

    /// 0 when nothing failed, 1 when a check failed.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.summary.fail > 0)
    }
}

/// Every check, in report order.
pub fn check(facts: &HostFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    cpu::check(facts, &mut out);
    memory::check(facts, &mut out);
    gpu::check(facts, &mut out);
    disk::check(facts, &mut out);
    host::check(facts, &mut out);
    for note in &facts.notes {
        out.push(Finding::warn(
            &format!("probe.{}", note.area),
            format!("could not learn everything: {}", note.message),
        ));
    }
    out
}
