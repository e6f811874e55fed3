//! Disk checks: room for models where they go, on a filesystem that keeps them.

use super::Finding;
use crate::probe::HostFacts;
use crate::units::{GIB, bytes};

/// Images plus one small model.
const MIN_FREE: u64 = 10 * GIB;
/// Images plus a couple of 7–14B models.
const GOOD_FREE: u64 = 40 * GIB;

const MORE_ROOM: &str =
    "free space, or mount a larger disk at `/var/lib/uaiso/models` (NFS is fine)";

pub fn check(facts: &HostFacts, out: &mut Vec<Finding>) {
    let d = &facts.disk;
    let (Some(avail), Some(total)) = (d.avail_bytes, d.total_bytes) else {
        out.push(Finding::warn(
            "disk.models",
            format!("free space for `{}` could not be measured", d.models_dir),
        ));
        return;
    };
    let fs = d.fs_type.as_deref().unwrap_or("unknown filesystem");
    let place = match (&d.probed, &d.mount_point) {
        (Some(p), Some(mp)) => format!("`{p}` ({fs} on `{mp}`)"),
        (Some(p), None) => format!("`{p}` ({fs})"),
        _ => format!("`{}`", d.models_dir),
    };
    let head = format!("{} free of {} at {place}", bytes(avail), bytes(total));
    if fs == "tmpfs" || fs == "ramfs" {
        out.push(
            Finding::warn(
                "disk.models",
                format!("{head}: {fs} lives in RAM, so models vanish at reboot and take memory"),
            )
            .hint(MORE_ROOM),
        );
    } else if avail < MIN_FREE {
        out.push(
            Finding::fail(
                "disk.models",
                format!("{head}: too little for the images and even a small model"),
            )
            .hint(MORE_ROOM),
        );
    } else if avail < GOOD_FREE {
        out.push(
            Finding::warn(
                "disk.models",
                format!("{head}: enough for small models only"),
            )
            .hint(MORE_ROOM),
        );
    } else {
        let nfs = if fs.starts_with("nfs") {
            "; the first load reads over the network"
        } else {
            ""
        };
        out.push(Finding::pass("disk.models", format!("{head}{nfs}")));
    }
}
