//! The rendered manifests against a real Kubernetes API server (TESTING.md, tier 4):
//! kube-apiserver, etcd, kube-controller-manager and kube-scheduler on 127.0.0.1, with
//! kwok playing one node that advertises GPUs, started by `scripts/test-cluster`
//! (`scripts/test` does it). Server-side dry-run with strict field validation for every
//! render, then the CPU, NVIDIA and ROCm renders applied for real until every workload
//! is Ready. The cluster is shared, so each test works in its own namespace copy; the
//! namespaces are left for the throwaway cluster to take with it (deleting them while
//! other renders roll out only adds churn to the fake node).
#![allow(clippy::disallowed_methods)]

mod common;

use common::{fixture_names, fixtures, kubectl, stderr, stdout, uaiso};

/// A render, moved into its own namespace so tests sharing the cluster do not meet.
fn render_in(host: &str, namespace: &str) -> String {
    let dir = fixtures().join(host);
    let out = uaiso(&["render", "--sysroot", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{host}: {}", stderr(&out));
    common::in_namespace(&stdout(&out), namespace)
}

#[test]
fn every_render_passes_server_side_strict_validation() {
    let Some(kc) = common::test_kubeconfig() else {
        return;
    };
    for host in fixture_names() {
        let ns = format!("dry-{}", host.replace('.', "-"));
        let yaml = render_in(&host, &ns);
        // The namespace must exist for the namespaced objects' dry run.
        let (ok, text) = kubectl(&kc, &["create", "namespace", &ns], None);
        assert!(ok || text.contains("AlreadyExists"), "{text}");
        let (ok, text) = kubectl(
            &kc,
            &[
                "apply",
                "--server-side",
                "--dry-run=server",
                "--validate=strict",
                "--field-manager=uaiso",
                "-f",
                "-",
            ],
            Some(&yaml),
        );
        assert!(ok, "{host}: the API server refused the render:\n{text}");
    }
}

/// Apply a render with its Secrets, and wait until every Deployment and DaemonSet in
/// the namespace has rolled out.
fn apply_and_wait(kc: &str, host: &str, ns: &str) {
    let yaml = render_in(host, ns);
    let (ok, text) = kubectl(
        kc,
        &["apply", "--server-side", "--field-manager=uaiso", "-f", "-"],
        Some(&yaml),
    );
    assert!(ok, "{host}: {text}");
    for (name, key) in [
        ("llama-server-api-key", "api-key"),
        ("grafana-admin", "password"),
    ] {
        let (ok, text) = kubectl(
            kc,
            &[
                "-n",
                ns,
                "create",
                "secret",
                "generic",
                name,
                &format!("--from-literal={key}=test"),
            ],
            None,
        );
        assert!(ok, "{text}");
    }
    let (ok, text) = kubectl(
        kc,
        &["-n", ns, "get", "deployments,daemonsets", "-o", "name"],
        None,
    );
    assert!(ok, "{text}");
    let workloads: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert!(workloads.len() >= 5, "{host}: {workloads:?}");
    for w in workloads {
        let (ok, text) = kubectl(
            kc,
            &["-n", ns, "rollout", "status", w, "--timeout=120s"],
            None,
        );
        assert!(ok, "{host}: {w} did not roll out:\n{text}");
    }
}

#[test]
fn cpu_nvidia_and_rocm_renders_roll_out() {
    let Some(kc) = common::test_kubeconfig() else {
        return;
    };
    for (host, ns) in [
        ("kvm-guest-noavx2", "roll-cpu"),
        ("x79-xeon-6x3060", "roll-nvidia"),
        ("rx7900xtx-rocm", "roll-rocm"),
    ] {
        apply_and_wait(&kc, host, ns);
        if host.starts_with("x79") {
            // The fake node advertises 32 GPUs; llama-server asked for the box's six.
            let (ok, text) = kubectl(
                &kc,
                &[
                    "-n",
                    ns,
                    "get",
                    "pods",
                    "-l",
                    "app.kubernetes.io/name=llama-server",
                    "-o",
                    "jsonpath={.items[0].spec.containers[0].resources.limits.nvidia\\.com/gpu}",
                ],
                None,
            );
            assert!(ok && text.trim() == "6", "{text}");
        }
    }
}
