//! uaiso: turn a spare Linux box into a private, local-first AI workstation.
//!
//! The pipeline (see ARCHITECTURE.md):
//!
//! ```text
//!  host ──read──▶ RawInputs ──probe──▶ HostFacts ──doctor──▶ Findings
//! ```
//!
//! `sys` reads the host (or a snapshot directory) into [`probe::RawInputs`]; everything
//! after that — `probe`, `doctor`, `units` — is pure: synchronous functions from data to
//! data, no I/O, no clock, no environment. Only `sys` touches the host and only `ui`
//! prints; clippy enforces both (see clippy.toml).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod cli;
pub mod deploy;
pub mod doctor;
pub mod engine;
pub mod exec;
pub mod kube;
pub mod plan;
pub mod probe;
pub mod profile;
pub mod render;
pub mod stack;
pub mod sys;
pub mod ui;
pub mod units;
