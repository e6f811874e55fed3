//! Host readiness for Kubernetes: OS, kernel, init system, cgroups, kernel modules,
//! forwarding, host name, busy ports, existing distros, the NVIDIA container runtime
//! and proxy variables.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Note;
use super::live::HostJson;
use super::raw::RawInputs;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostReadiness {
    pub os: Option<String>,
    pub os_id: Option<String>,
    pub os_version: Option<String>,
    pub kernel: Option<String>,
    pub hostname: Option<String>,
    pub machine: Option<String>,
    pub systemd: bool,
    /// `v2`, `v1` or `unknown`.
    pub cgroup: String,
    pub modules: BTreeMap<String, ModuleState>,
    pub ip_forward: Option<bool>,
    /// Found in `/etc/hosts`, or resolved by nss-myhostname.
    pub hostname_resolvable: Option<bool>,
    /// The Kubernetes ports that something already listens on.
    pub ports_in_use: Vec<u16>,
    pub existing: Vec<ExistingInstall>,
    /// Path of `nvidia-container-runtime`, when installed.
    pub nvidia_container_runtime: Option<String>,
    /// Proxy variables that are set, with credentials masked.
    pub proxy: BTreeMap<String, String>,
    /// Group ids that own the GPU device nodes (`/dev/dri/renderD*`, `/dev/kfd`), from
    /// /etc/group: pods reach the devices through them.
    pub render_gid: Option<u32>,
    pub video_gid: Option<u32>,
}

/// A group's id from /etc/group (`render:x:993:`).
fn group_id(text: &str, name: &str) -> Option<u32> {
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.trim().parse().ok()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleState {
    Loaded,
    BuiltIn,
    Available,
    Missing,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingInstall {
    /// `k3s` or `k0s`.
    pub distro: String,
    pub paths: Vec<String>,
}

/// What cheap boards put in their DMI tables instead of a name.
const DMI_PLACEHOLDERS: [&str; 9] = [
    "",
    "Default string",
    "To be filled by O.E.M.",
    "System Product Name",
    "System manufacturer",
    "Not Applicable",
    "None",
    "O.E.M.",
    "Not Specified",
];

/// The ports a single-node Kubernetes needs for itself.
pub const KUBE_PORTS: [u16; 2] = [6443, 10250];

fn os_release(text: &str) -> BTreeMap<&str, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim(),
                v.trim().trim_matches('"').trim_matches('\'').to_string(),
            )
        })
        .collect()
}

/// Listening TCP ports from `/proc/net/tcp{,6}` (state 0A).
pub fn listening_ports(text: &str) -> Vec<u16> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local = f.get(1)?;
            (*f.get(3)? == "0A").then_some(())?;
            let port = local.rsplit_once(':')?.1;
            u16::from_str_radix(port, 16).ok()
        })
        .collect()
}

fn module_state(raw: &RawInputs, name: &str, release: Option<&str>) -> ModuleState {
    let loaded = raw
        .text("proc/modules")
        .is_some_and(|t| t.lines().any(|l| l.split_whitespace().next() == Some(name)));
    if loaded {
        return ModuleState::Loaded;
    }
    let Some(release) = release else {
        return ModuleState::Unknown;
    };
    let base = format!("lib/modules/{release}");
    let builtin = raw
        .text(&format!("{base}/modules.builtin"))
        .is_some_and(|t| {
            t.lines().any(|l| {
                l.rsplit('/')
                    .next()
                    .is_some_and(|f| f == format!("{name}.ko"))
            })
        });
    // Built-in modules also show under /sys/module once initialised.
    if builtin || raw.has(&format!("sys/module/{name}")) {
        return ModuleState::BuiltIn;
    }
    let dir = match name {
        "br_netfilter" => "kernel/net/bridge",
        _ => "kernel/fs/overlayfs",
    };
    let file = format!("{base}/{dir}/{name}.ko");
    if raw.exists.iter().any(|p| p.starts_with(&file)) {
        return ModuleState::Available;
    }
    if raw.has(&format!("{base}/modules.builtin")) {
        ModuleState::Missing
    } else {
        ModuleState::Unknown
    }
}

fn hostname_resolvable(raw: &RawInputs, hostname: &str) -> Option<bool> {
    let in_hosts = raw.text("etc/hosts").map(|t| {
        t.lines()
            .map(|l| l.split('#').next().unwrap_or_default())
            .any(|l| {
                l.split_whitespace()
                    .skip(1)
                    .any(|n| n.eq_ignore_ascii_case(hostname))
            })
    });
    let myhostname = raw.text("etc/nsswitch.conf").is_some_and(|t| {
        t.lines()
            .filter(|l| l.trim_start().starts_with("hosts:"))
            .any(|l| l.split_whitespace().any(|w| w == "myhostname"))
    });
    match in_hosts {
        Some(true) => Some(true),
        _ if myhostname => Some(true),
        Some(false) => Some(false),
        None => None,
    }
}

pub fn probe(raw: &RawInputs, live: &HostJson, notes: &mut Vec<Note>) -> HostReadiness {
    let os = raw
        .first_text(&["etc/os-release", "usr/lib/os-release"])
        .map(|(_, t)| os_release(t))
        .unwrap_or_default();
    if os.is_empty() {
        notes.push(Note::new("host", raw.why_missing("etc/os-release")));
    }
    let kernel = raw.value("proc/sys/kernel/osrelease").map(str::to_string);
    let hostname = raw
        .value("proc/sys/kernel/hostname")
        .or(raw.value("etc/hostname"))
        .filter(|h| !h.is_empty())
        .map(str::to_string);

    let cgroup_v2 = raw.has("sys/fs/cgroup/cgroup.controllers")
        || raw.text("proc/mounts").is_some_and(|t| {
            t.lines().any(|l| {
                l.split_whitespace().nth(1) == Some("/sys/fs/cgroup") && l.contains("cgroup2")
            })
        });
    let cgroup_v1 = raw.text("proc/mounts").is_some_and(|t| {
        t.lines()
            .any(|l| l.split_whitespace().nth(2) == Some("cgroup"))
    });
    let cgroup = match (cgroup_v2, cgroup_v1) {
        (true, _) => "v2",
        (false, true) => "v1",
        _ => "unknown",
    };

    let modules = ["br_netfilter", "overlay"]
        .iter()
        .map(|m| (m.to_string(), module_state(raw, m, kernel.as_deref())))
        .collect();

    let mut ports: Vec<u16> = ["proc/net/tcp", "proc/net/tcp6"]
        .iter()
        .filter_map(|p| raw.text(p))
        .flat_map(listening_ports)
        .filter(|p| KUBE_PORTS.contains(p))
        .collect();
    ports.sort_unstable();
    ports.dedup();

    let existing = [
        (
            "k3s",
            [
                "usr/local/bin/k3s",
                "etc/systemd/system/k3s.service",
                "var/lib/rancher/k3s",
            ],
        ),
        (
            "k0s",
            [
                "usr/local/bin/k0s",
                "etc/systemd/system/k0scontroller.service",
                "var/lib/k0s",
            ],
        ),
    ]
    .into_iter()
    .filter_map(|(distro, paths)| {
        let found: Vec<String> = paths
            .iter()
            .filter(|p| raw.has(p))
            .map(|p| format!("/{p}"))
            .collect();
        (!found.is_empty()).then(|| ExistingInstall {
            distro: distro.to_string(),
            paths: found,
        })
    })
    .collect();

    let nvidia_container_runtime = [
        "usr/local/nvidia/toolkit/nvidia-container-runtime",
        "usr/bin/nvidia-container-runtime",
    ]
    .iter()
    .find(|p| raw.has(p))
    .map(|p| format!("/{p}"));

    let dmi = |leaf: &str| {
        raw.value(&format!("sys/class/dmi/id/{leaf}"))
            .filter(|v| !DMI_PLACEHOLDERS.iter().any(|p| v.eq_ignore_ascii_case(p)))
    };
    let machine = match (
        dmi("sys_vendor").or(dmi("board_vendor")),
        dmi("product_name").or(dmi("board_name")),
    ) {
        (Some(v), Some(p)) => Some(format!("{v} {p}")),
        (v, p) => v.or(p).map(str::to_string),
    };

    HostReadiness {
        os: os.get("PRETTY_NAME").or(os.get("NAME")).cloned(),
        os_id: os.get("ID").cloned(),
        os_version: os.get("VERSION_ID").cloned(),
        kernel,
        hostname_resolvable: hostname
            .as_deref()
            .and_then(|h| hostname_resolvable(raw, h)),
        hostname,
        machine,
        systemd: raw.has("run/systemd/system"),
        cgroup: cgroup.to_string(),
        modules,
        ip_forward: raw.value("proc/sys/net/ipv4/ip_forward").map(|v| v == "1"),
        ports_in_use: ports,
        existing,
        nvidia_container_runtime,
        proxy: live.env.clone(),
        render_gid: raw.text("etc/group").and_then(|t| group_id(t, "render")),
        video_gid: raw.text("etc/group").and_then(|t| group_id(t, "video")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_from_proc_net_tcp() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20339 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n   2: 0100007F:2802 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 1 1\n";
        assert_eq!(listening_ports(text), vec![22, 6443]);
    }

    #[test]
    fn hostname_lookup() {
        let mut raw = RawInputs::default();
        raw.texts.insert(
            "etc/hosts".into(),
            "127.0.0.1 localhost\n# 127.0.1.1 box\n".into(),
        );
        assert_eq!(hostname_resolvable(&raw, "box"), Some(false));
        raw.texts
            .insert("etc/hosts".into(), "127.0.1.1\tBox.lan box\n".into());
        assert_eq!(hostname_resolvable(&raw, "box"), Some(true));
        raw.texts
            .insert("etc/hosts".into(), "127.0.0.1 localhost\n".into());
        raw.texts.insert(
            "etc/nsswitch.conf".into(),
            "hosts:      files myhostname dns\n".into(),
        );
        assert_eq!(hostname_resolvable(&raw, "box"), Some(true));
    }

    #[test]
    fn group_ids() {
        let text = "root:x:0:\nvideo:x:44:alice\nrender:x:993:\n";
        assert_eq!(group_id(text, "render"), Some(993));
        assert_eq!(group_id(text, "video"), Some(44));
        assert_eq!(group_id(text, "kvm"), None);
    }

    #[test]
    fn module_states() {
        let mut raw = RawInputs::default();
        assert_eq!(module_state(&raw, "overlay", None), ModuleState::Unknown);
        raw.texts.insert(
            "lib/modules/6.1.0/modules.builtin".into(),
            "kernel/fs/overlayfs/overlay.ko\n".into(),
        );
        raw.exists
            .insert("lib/modules/6.1.0/kernel/net/bridge/br_netfilter.ko.xz".into());
        assert_eq!(
            module_state(&raw, "overlay", Some("6.1.0")),
            ModuleState::BuiltIn
        );
        assert_eq!(
            module_state(&raw, "br_netfilter", Some("6.1.0")),
            ModuleState::Available
        );
        raw.exists.clear();
        assert_eq!(
            module_state(&raw, "br_netfilter", Some("6.1.0")),
            ModuleState::Missing
        );
        raw.texts.insert(
            "proc/modules".into(),
            "br_netfilter 32768 0 - Live 0x0000000000000000\n".into(),
        );
        assert_eq!(
            module_state(&raw, "br_netfilter", Some("6.1.0")),
            ModuleState::Loaded
        );
    }
}
