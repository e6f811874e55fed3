//! k3s: the default distro. Pinned release, verified against the release's own
//! `sha256sum-<arch>.txt`, installed the way its install script does.

use super::{Arch, DistroOptions, url_escape_plus};
use crate::plan::step::{Checksum, Step};

pub const VERSION: &str = "v1.36.4+k3s1";
pub const BASE_URL: &str = "https://github.com/k3s-io/k3s/releases/download";
pub const BINARY: &str = "/usr/local/bin/k3s";
pub const CONFIG: &str = "/etc/rancher/k3s/config.yaml";
pub const UNIT: &str = "k3s.service";
pub const UNIT_PATH: &str = "/etc/systemd/system/k3s.service";
pub const ENV_PATH: &str = "/etc/systemd/system/k3s.service.env";
pub const KUBECONFIG: &str = "/etc/rancher/k3s/k3s.yaml";

fn asset(arch: Arch) -> (&'static str, &'static str) {
    match arch {
        Arch::Amd64 => ("k3s", "sha256sum-amd64.txt"),
        Arch::Arm64 => ("k3s-arm64", "sha256sum-arm64.txt"),
    }
}

/// `/etc/rancher/k3s/config.yaml`: no traefik; NodePorts on loopback unless the stack
/// is exposed; kubeconfig readable by root only; metrics-server off under Prometheus.
pub fn config(opts: &DistroOptions) -> String {
    let mut s = String::from(
        "# Written by uaiso; `uaiso reset` removes it.\nwrite-kubeconfig-mode: \"0600\"\ndisable:\n  - traefik\n",
    );
    if opts.monitoring {
        s.push_str("  - metrics-server\n");
    }
    if !opts.expose {
        s.push_str("kube-proxy-arg:\n  - nodeport-addresses=127.0.0.1/32\n");
    }
    s
}

/// The unit the k3s installer writes, minus what a single server does not need.
pub const UNIT_TEXT: &str = "# Written by uaiso; `uaiso reset` removes it.
[Unit]
Description=Lightweight Kubernetes (installed by uaiso)
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-/etc/systemd/system/k3s.service.env
KillMode=process
Delegate=yes
User=root
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/k3s server
";

/// The env file: the user's proxy variables, and the same for containerd's image pulls.
pub fn env_file(opts: &DistroOptions) -> String {
    let mut s = String::from("# Written by uaiso; `uaiso reset` removes it.\n");
    for (k, v) in &opts.proxy_env {
        s.push_str(&format!("{k}={v}\n"));
        if matches!(k.as_str(), "HTTP_PROXY" | "HTTPS_PROXY" | "NO_PROXY") {
            s.push_str(&format!("CONTAINERD_{k}={v}\n"));
        }
    }
    s
}

pub fn steps(opts: &DistroOptions) -> Vec<Step> {
    let base = opts
        .base_url
        .as_deref()
        .unwrap_or(BASE_URL)
        .trim_end_matches('/');
    let release = format!("{base}/{}", url_escape_plus(VERSION));
    let (binary, list) = asset(opts.arch);
    let mut steps = vec![Step::Download {
        url: format!("{release}/{binary}"),
        checksum: Checksum::List {
            url: format!("{release}/{list}"),
            name: binary.to_string(),
        },
        dest: BINARY.to_string(),
        mode: 0o755,
    }];
    for tool in ["kubectl", "crictl", "ctr"] {
        steps.push(Step::Symlink {
            path: format!("/usr/local/bin/{tool}"),
            target: BINARY.to_string(),
        });
    }
    steps.extend([
        Step::WriteFile {
            path: CONFIG.to_string(),
            content: config(opts),
            mode: 0o644,
            why: "k3s settings".to_string(),
        },
        Step::WriteFile {
            path: ENV_PATH.to_string(),
            content: env_file(opts),
            mode: 0o600,
            why: "proxy variables for k3s".to_string(),
        },
        Step::WriteFile {
            path: UNIT_PATH.to_string(),
            content: UNIT_TEXT.to_string(),
            mode: 0o644,
            why: "the k3s service".to_string(),
        },
        Step::DistroLeftovers {
            distro: "k3s".to_string(),
            dirs: [
                "/var/lib/rancher/k3s",
                "/etc/rancher/k3s",
                "/run/k3s",
                "/run/flannel",
                "/var/lib/kubelet",
                "/var/lib/cni",
                "/var/log/pods",
                "/var/log/containers",
            ]
            .map(String::from)
            .to_vec(),
            interfaces: [
                "cni0",
                "flannel.1",
                "flannel-v6.1",
                "flannel-wg",
                "flannel-wg-v6",
                "kube-ipvs0",
            ]
            .map(String::from)
            .to_vec(),
            iptables_chains: ["KUBE-", "CNI-", "FLANNEL"].map(String::from).to_vec(),
            stop: vec![
                vec!["systemctl".into(), "stop".into(), UNIT.into()],
                // k3s leaves its containers' shims running after the service stops.
                vec![
                    "pkill".into(),
                    "-f".into(),
                    "containerd-shim-runc-v2.*k3s".into(),
                ],
            ],
        },
        Step::EnableService {
            unit: UNIT.to_string(),
        },
        Step::WaitForNode {
            kubectl: vec![BINARY.to_string(), "kubectl".to_string()],
            unit: UNIT.to_string(),
            timeout_s: opts.wait_timeout_s,
        },
    ]);
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> DistroOptions {
        DistroOptions {
            arch: Arch::Amd64,
            base_url: None,
            monitoring: true,
            expose: false,
            proxy_env: [("HTTPS_PROXY".to_string(), "http://proxy:3128".to_string())].into(),
            nvidia: false,
            wait_timeout_s: 300,
        }
    }

    #[test]
    fn release_urls_and_files() {
        let steps = steps(&opts());
        let Step::Download { url, checksum, .. } = &steps[0] else {
            panic!()
        };
        assert_eq!(
            url,
            "https://github.com/k3s-io/k3s/releases/download/v1.36.4%2Bk3s1/k3s"
        );
        assert_eq!(
            checksum,
            &Checksum::List {
                url: "https://github.com/k3s-io/k3s/releases/download/v1.36.4%2Bk3s1/sha256sum-amd64.txt".into(),
                name: "k3s".into()
            }
        );
        let c = config(&opts());
        assert!(c.contains("- traefik\n  - metrics-server\n"));
        assert!(c.contains("nodeport-addresses=127.0.0.1/32"));
        let e = env_file(&opts());
        assert!(
            e.contains("HTTPS_PROXY=http://proxy:3128\nCONTAINERD_HTTPS_PROXY=http://proxy:3128\n")
        );
    }
}
