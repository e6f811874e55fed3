//! The receipt: what uaiso did to a host, step by step, with ownership. Written
//! atomically before the first step and after every step; read by `reset`.

use serde::{Deserialize, Serialize};

use super::step::Step;

pub const SCHEMA: u32 = 1;
pub const PATH: &str = "/var/lib/uaiso/receipt.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not reached yet.
    Pending,
    /// Started; the process stopped before it finished (Ctrl-C, crash).
    InProgress,
    /// Done by uaiso: reset reverts it.
    Done,
    /// Its work was already there: reset leaves it alone.
    NotOurs,
    Failed,
    /// Taken back by reset.
    Reverted,
}

/// What a step replaced, so reset can put it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Previous {
    /// The file's former content and mode.
    File { content: String, mode: u32 },
    /// Kernel parameters' former values.
    Sysctl {
        values: std::collections::BTreeMap<String, String>,
    },
    /// Something was already at the step's path: never removed by reset.
    Existed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub step: Step,
    pub state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Previous>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Directories the step had to create; reset removes them when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_dirs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub schema: u32,
    pub uaiso_version: String,
    /// `k3s` or `k0s`.
    pub distro: String,
    pub steps: Vec<Entry>,
    /// Directories created for the receipt itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_dirs: Vec<String>,
}

impl Receipt {
    pub fn new(distro: &str, steps: &[Step]) -> Self {
        Receipt {
            schema: SCHEMA,
            uaiso_version: env!("CARGO_PKG_VERSION").to_string(),
            distro: distro.to_string(),
            steps: steps
                .iter()
                .map(|s| Entry {
                    step: s.clone(),
                    state: State::Pending,
                    previous: None,
                    error: None,
                    created_dirs: Vec::new(),
                })
                .collect(),
            created_dirs: Vec::new(),
        }
    }

    /// Parse a receipt of this or an older version. Unknown fields from newer versions
    /// are ignored so an older uaiso can still reset.
    pub fn parse(text: &str) -> Result<Receipt, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
