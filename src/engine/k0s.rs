//! k0s, on request (`--distro k0s`): pinned release with pinned checksums, installed as
//! a single-node controller.

use super::{Arch, DistroOptions, url_escape_plus};
use crate::plan::step::{Checksum, Step};

pub const VERSION: &str = "v1.34.10+k0s.0";
pub const BASE_URL: &str = "https://github.com/k0sproject/k0s/releases/download";
pub const BINARY: &str = "/usr/local/bin/k0s";
pub const UNIT: &str = "k0scontroller.service";
pub const UNIT_PATH: &str = "/etc/systemd/system/k0scontroller.service";
/// Where uaiso keeps the admin kubeconfig `k0s kubeconfig admin` prints.
pub const KUBECONFIG: &str = "/var/lib/uaiso/k0s-admin.kubeconfig";
pub const NVIDIA_DROP_IN: &str = "/etc/k0s/containerd.d/nvidia.toml";

/// sha256 of the release binaries, as published with the release (checked against
/// nixpkgs' pins of the same files).
fn asset(arch: Arch) -> (&'static str, &'static str) {
    match arch {
        Arch::Amd64 => (
            "amd64",
            "1adf41ced99f308325c2cfddd9361102e86fcc1fdd730fafef18dd5285372eb0",
        ),
        Arch::Arm64 => (
            "arm64",
            "02f02a353adf0fbc91bb2247c84636994c37ebad3a007032e7acd5f301bc54ec",
        ),
    }
}

/// containerd drop-in that gives k0s an `nvidia` runtime; k0s detects nothing itself.
pub const NVIDIA_RUNTIME: &str = r#"# Written by uaiso; `uaiso reset` removes it.
version = 2

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
  BinaryName = "/usr/bin/nvidia-container-runtime"
"#;

pub fn steps(opts: &DistroOptions) -> Vec<Step> {
    let base = opts
        .base_url
        .as_deref()
        .unwrap_or(BASE_URL)
        .trim_end_matches('/');
    let (arch, sha256) = asset(opts.arch);
    let file = format!("k0s-{VERSION}-{arch}");
    let mut install = vec![
        BINARY.to_string(),
        "install".into(),
        "controller".into(),
        "--single".into(),
    ];
    if opts.monitoring {
        install.extend(["--disable-components".into(), "metrics-server".into()]);
    }
    for (k, v) in &opts.proxy_env {
        install.extend(["--env".into(), format!("{k}={v}")]);
    }
    let mut steps = vec![Step::Download {
        url: format!(
            "{base}/{}/{}",
            url_escape_plus(VERSION),
            url_escape_plus(&file)
        ),
        checksum: Checksum::Pinned {
            sha256: sha256.to_string(),
        },
        dest: BINARY.to_string(),
        mode: 0o755,
    }];
    if opts.nvidia {
        steps.push(Step::WriteFile {
            path: NVIDIA_DROP_IN.to_string(),
            content: NVIDIA_RUNTIME.to_string(),
            mode: 0o644,
            why: "the NVIDIA runtime for k0s's containerd".to_string(),
        });
    }
    steps.extend([
        Step::DistroLeftovers {
            distro: "k0s".to_string(),
            dirs: [
                "/var/lib/k0s",
                "/run/k0s",
                "/etc/k0s",
                "/var/lib/kubelet",
                "/var/lib/cni",
                "/var/log/pods",
                "/var/log/containers",
            ]
            .map(String::from)
            .to_vec(),
            interfaces: ["kube-bridge", "kube-dummy-if", "vxlan.calico", "cni0"]
                .map(String::from)
                .to_vec(),
            iptables_chains: ["KUBE-", "CNI-", "KUBE-ROUTER"].map(String::from).to_vec(),
            stop: vec![vec![BINARY.into(), "stop".into()]],
        },
        Step::Command {
            argv: install,
            creates: UNIT_PATH.to_string(),
            undo: vec![
                vec![BINARY.into(), "stop".into()],
                vec![BINARY.into(), "reset".into()],
            ],
            why: "k0s as a single-node controller".to_string(),
        },
        Step::EnableService {
            unit: UNIT.to_string(),
        },
        Step::WaitForNode {
            kubectl: vec![BINARY.to_string(), "kubectl".to_string()],
            unit: UNIT.to_string(),
            timeout_s: opts.wait_timeout_s,
        },
        Step::CaptureToFile {
            argv: vec![BINARY.into(), "kubeconfig".into(), "admin".into()],
            path: KUBECONFIG.to_string(),
            mode: 0o600,
        },
    ]);
    steps
}
