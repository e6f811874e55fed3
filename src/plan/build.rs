//! The host plan for a box: kernel modules and sysctl, host name, zram, this binary's
//! copy, then the distro.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::step::Step;
use crate::engine::{self, Arch, DistroOptions};
use crate::probe::HostFacts;
use crate::profile::Selection;
use crate::profile::spec::Distro;
use crate::units::bytes;

pub const SELF_COPY: &str = "/var/lib/uaiso/bin/uaiso";
pub const MODULES_LOAD: &str = "/etc/modules-load.d/uaiso.conf";
pub const SYSCTL_DROP_IN: &str = "/etc/sysctl.d/90-uaiso.conf";
pub const ZRAM_UNIT: &str = "uaiso-zram.service";
pub const ZRAM_UNIT_PATH: &str = "/etc/systemd/system/uaiso-zram.service";
const MODULES: [&str; 2] = ["br_netfilter", "overlay"];

#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// `--distro`, else the profile's.
    pub distro: Option<Distro>,
    pub base_url: Option<String>,
    pub expose: bool,
    /// The proxy variables as set (not masked): they go into the distro's env file.
    pub proxy_env: BTreeMap<String, String>,
    pub wait_timeout_s: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostPlan {
    pub distro: String,
    pub steps: Vec<Step>,
    /// What the plan leaves alone, and why.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "this box has an NVIDIA GPU but no nvidia-container-toolkit: pods could not use it, so nothing was installed\nhint: add NVIDIA's package repository and `sudo apt install nvidia-container-toolkit` (docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html), then run `uaiso up` again; uaiso does not install drivers"
    )]
    NvidiaToolkitMissing,
    #[error(
        "{arch} is not a CPU architecture k3s and k0s ship for\nhint: uaiso installs on x86_64 and aarch64; `uaiso render` still gives the manifests for a cluster you run yourself"
    )]
    UnsupportedArch { arch: String },
}

const SYSCTL: [(&str, &str); 3] = [
    ("net.bridge.bridge-nf-call-ip6tables", "1"),
    ("net.bridge.bridge-nf-call-iptables", "1"),
    ("net.ipv4.ip_forward", "1"),
];

fn zram_unit(size_bytes: u64, algorithm: &str) -> String {
    format!(
        "# Written by uaiso; `uaiso reset` removes it.
[Unit]
Description=Compressed swap in RAM (zram), set up by uaiso
After=systemd-modules-load.service
ConditionPathExists=!/run/uaiso-zram

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/modprobe zram
ExecStart=/bin/sh -c 'dev=$(zramctl --find --size {size_bytes} --algorithm {algorithm}) && mkswap \"$dev\" && swapon --priority 100 \"$dev\" && echo \"$dev\" > /run/uaiso-zram'
ExecStop=/bin/sh -c 'dev=$(cat /run/uaiso-zram) && swapoff \"$dev\" && zramctl --reset \"$dev\" && rm -f /run/uaiso-zram'

[Install]
WantedBy=multi-user.target
"
    )
}

pub fn host_plan(
    facts: &HostFacts,
    sel: &Selection,
    opts: &PlanOptions,
) -> Result<HostPlan, PlanError> {
    let arch = Arch::from_facts(&facts.cpu.arch).ok_or_else(|| PlanError::UnsupportedArch {
        arch: facts.cpu.arch.clone(),
    })?;
    let nvidia = facts
        .gpus
        .iter()
        .any(|g| g.vendor == "nvidia" && g.driver.as_deref() == Some("nvidia"));
    if nvidia && facts.host.nvidia_container_runtime.is_none() {
        return Err(PlanError::NvidiaToolkitMissing);
    }
    let distro = opts.distro.unwrap_or(sel.profile.distro);
    let mut notes = Vec::new();
    let mut steps = vec![
        Step::CopySelf {
            dest: SELF_COPY.to_string(),
        },
        Step::WriteFile {
            path: MODULES_LOAD.to_string(),
            content: format!(
                "# Written by uaiso; `uaiso reset` removes it.\n{}\n",
                MODULES.join("\n")
            ),
            mode: 0o644,
            why: "load br_netfilter and overlay at boot".to_string(),
        },
        Step::LoadModules {
            modules: MODULES.map(String::from).to_vec(),
        },
        Step::WriteFile {
            path: SYSCTL_DROP_IN.to_string(),
            content: format!(
                "# Written by uaiso; `uaiso reset` removes it.\n{}",
                SYSCTL
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}\n"))
                    .collect::<String>()
            ),
            mode: 0o644,
            why: "forwarding and bridge filtering for Kubernetes, at boot".to_string(),
        },
        Step::Sysctl {
            values: SYSCTL
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        },
    ];
    match (&facts.host.hostname, facts.host.hostname_resolvable) {
        (Some(name), Some(false)) => steps.push(Step::AppendLine {
            path: "/etc/hosts".to_string(),
            line: format!("127.0.1.1 {name}"),
            why: "the host name must resolve for Kubernetes".to_string(),
        }),
        (Some(name), _) => notes.push(format!(
            "host name `{name}` already resolves: /etc/hosts left alone"
        )),
        (None, _) => notes.push("the host name is unknown: /etc/hosts left alone".to_string()),
    }
    let zram = &sel.profile.zram;
    if zram.enabled {
        if facts.memory.zram_swap_bytes > 0 {
            notes.push(format!(
                "a zram swap of {} is already there: no second one",
                bytes(facts.memory.zram_swap_bytes)
            ));
        } else {
            let ram = facts.memory.total_bytes.unwrap_or(0);
            let size = ram / 100 * u64::from(zram.size_percent);
            steps.push(Step::WriteFile {
                path: ZRAM_UNIT_PATH.to_string(),
                content: zram_unit(size, zram.algorithm.as_str()),
                mode: 0o644,
                why: format!(
                    "zram swap of {} ({}), priority 100",
                    bytes(size),
                    zram.algorithm.as_str()
                ),
            });
            steps.push(Step::EnableService {
                unit: ZRAM_UNIT.to_string(),
            });
            if facts.memory.disk_swap_bytes > 0 {
                notes.push("disk swap is left as it is; zram comes first by priority".to_string());
            }
        }
    }
    let dopts = DistroOptions {
        arch,
        base_url: opts.base_url.clone(),
        monitoring: sel.profile.components.monitoring,
        expose: opts.expose,
        proxy_env: opts.proxy_env.clone(),
        nvidia,
        wait_timeout_s: opts.wait_timeout_s,
    };
    steps.extend(match distro {
        Distro::K3s => engine::k3s::steps(&dopts),
        Distro::K0s => engine::k0s::steps(&dopts),
    });
    Ok(HostPlan {
        distro: distro.as_str().to_string(),
        steps,
        notes,
    })
}
