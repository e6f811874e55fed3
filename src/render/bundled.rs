//! The component folders under `manifests/`, compiled into the binary.

/// One component: its `component.toml` and its templates, in file-name order.
pub struct Bundled {
    pub dir: &'static str,
    pub toml: &'static str,
    pub templates: &'static [(&'static str, &'static str)],
}

macro_rules! file {
    ($dir:literal, $name:literal) => {
        (
            $name,
            include_str!(concat!("../../manifests/", $dir, "/", $name)),
        )
    };
}

pub const COMPONENTS: &[Bundled] = &[
    Bundled {
        dir: "base",
        toml: include_str!("../../manifests/base/component.toml"),
        templates: &[file!("base", "namespace.yaml")],
    },
    Bundled {
        dir: "nvidia-device-plugin",
        toml: include_str!("../../manifests/nvidia-device-plugin/component.toml"),
        templates: &[
            file!("nvidia-device-plugin", "daemonset.yaml"),
            file!("nvidia-device-plugin", "runtime-class.yaml"),
        ],
    },
    Bundled {
        dir: "amd-device-plugin",
        toml: include_str!("../../manifests/amd-device-plugin/component.toml"),
        templates: &[file!("amd-device-plugin", "daemonset.yaml")],
    },
    Bundled {
        dir: "llama-server",
        toml: include_str!("../../manifests/llama-server/component.toml"),
        templates: &[
            file!("llama-server", "deployment.yaml"),
            file!("llama-server", "model-volume.yaml"),
            file!("llama-server", "service-account.yaml"),
            file!("llama-server", "service.yaml"),
        ],
    },
    Bundled {
        dir: "monitoring",
        toml: include_str!("../../manifests/monitoring/component.toml"),
        templates: &[
            file!("monitoring", "grafana-config.yaml"),
            file!("monitoring", "grafana.yaml"),
            file!("monitoring", "node-exporter.yaml"),
            file!("monitoring", "prometheus-config.yaml"),
            file!("monitoring", "prometheus.yaml"),
        ],
    },
    Bundled {
        dir: "proxy",
        toml: include_str!("../../manifests/proxy/component.toml"),
        templates: &[
            file!("proxy", "proxy-config.yaml"),
            file!("proxy", "squid.yaml"),
        ],
    },
    Bundled {
        dir: "gpu-exporter",
        toml: include_str!("../../manifests/gpu-exporter/component.toml"),
        templates: &[file!("gpu-exporter", "dcgm-exporter.yaml")],
    },
    Bundled {
        dir: "open-webui",
        toml: include_str!("../../manifests/open-webui/component.toml"),
        templates: &[file!("open-webui", "open-webui.yaml")],
    },
    Bundled {
        dir: "onedev",
        toml: include_str!("../../manifests/onedev/component.toml"),
        templates: &[file!("onedev", "onedev.yaml")],
    },
    Bundled {
        dir: "argocd",
        toml: include_str!("../../manifests/argocd/component.toml"),
        templates: &[
            file!("argocd", "application-controller.yaml"),
            file!("argocd", "argocd-config.yaml"),
            file!("argocd", "crds.yaml"),
            file!("argocd", "rbac.yaml"),
            file!("argocd", "redis.yaml"),
            file!("argocd", "repo-server.yaml"),
            file!("argocd", "server.yaml"),
        ],
    },
];

/// Grafana dashboards, provisioned by the monitoring component.
pub const DASHBOARDS: &[(&str, &str)] = &[
    file!("monitoring", "dashboards/gpu.json"),
    file!("monitoring", "dashboards/llama-cpp.json"),
    file!("monitoring", "dashboards/node.json"),
];
