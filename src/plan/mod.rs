//! PURE: the host plan — the closed `Step` enum, building the plan for a box, and the
//! receipt types. `exec` runs a plan; nothing here touches the host.

pub mod build;
pub mod receipt;
pub mod step;

pub use build::{HostPlan, PlanError, PlanOptions};
pub use step::{Checksum, Step};
