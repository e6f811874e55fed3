//! `uaiso::kube` against the real test control plane (TESTING.md, tier 4; started by
//! `scripts/test`): server-side apply, a re-apply that changes nothing, one changed
//! value that re-rolls only its Deployment, Secrets created once, and a rollout that
//! cannot finish failing with the reason. Each test uses its own namespace.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::fixtures;
use uaiso::kube::Cluster;
use uaiso::render::{self, Document, values::Options};

fn cluster() -> Option<Cluster> {
    let kubeconfig = common::test_kubeconfig()?;
    Some(Cluster::connect(Some(Path::new(&kubeconfig))).expect("the test cluster answers"))
}

/// A namespace of this run: tests share the cluster, and a reused cluster keeps what
/// earlier runs left.
fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

/// The render of a fixture host, moved into namespace `ns` (the cluster is shared).
fn docs(host: &str, ns: &str, opts: &Options) -> Vec<Document> {
    let (facts, sel) = common::selection_for(&fixtures().join(host));
    render::render(&facts, &sel, None, opts)
        .unwrap()
        .into_iter()
        .map(|mut d| {
            d.yaml = common::in_namespace(&d.yaml, ns);
            if d.kind == "RuntimeClass" {
                d.name = format!("nvidia-{ns}");
            }
            if d.kind == "Namespace" {
                d.name = ns.to_string();
            }
            if d.namespace.is_some() {
                d.namespace = Some(ns.to_string());
            }
            d
        })
        .collect()
}

/// The generated Secrets, labelled as uaiso labels them.
fn secrets(c: &Cluster, ns: &str) {
    let labels = |part_of: &str| {
        BTreeMap::from([
            (
                "app.kubernetes.io/managed-by".to_string(),
                "uaiso".to_string(),
            ),
            ("app.kubernetes.io/part-of".to_string(), part_of.to_string()),
            (uaiso::kube::GENERATED.to_string(), "true".to_string()),
        ])
    };
    c.ensure_secret(
        ns,
        "llama-server-api-key",
        "api-key",
        &labels("llama-server"),
        || "k".repeat(32),
    )
    .unwrap();
    c.ensure_secret(
        ns,
        "grafana-admin",
        "password",
        &labels("monitoring"),
        || "p".repeat(24),
    )
    .unwrap();
}

#[test]
fn the_distros_kubeconfig_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let host = uaiso::sys::host::Host::at(dir.path());
    assert_eq!(uaiso::kube::distro_kubeconfig(&host), None);
    std::fs::create_dir_all(dir.path().join("var/lib/uaiso")).unwrap();
    std::fs::write(dir.path().join("var/lib/uaiso/k0s-admin.kubeconfig"), "").unwrap();
    assert_eq!(
        uaiso::kube::distro_kubeconfig(&host),
        Some(dir.path().join("var/lib/uaiso/k0s-admin.kubeconfig"))
    );
    std::fs::create_dir_all(dir.path().join("etc/rancher/k3s")).unwrap();
    std::fs::write(dir.path().join("etc/rancher/k3s/k3s.yaml"), "").unwrap();
    assert_eq!(
        uaiso::kube::distro_kubeconfig(&host),
        Some(dir.path().join("etc/rancher/k3s/k3s.yaml"))
    );
}

#[test]
fn an_nvidia_render_rolls_out_through_the_library() {
    let Some(c) = cluster() else { return };
    let ns = &unique("kube-nvidia");
    let docs = docs("x79-xeon-6x3060", ns, &Options::default());
    c.apply(&docs).unwrap();
    secrets(&c, ns);
    c.wait_for_rollouts(&docs, Duration::from_secs(120))
        .unwrap();
}

#[test]
fn apply_rolls_out_and_a_second_apply_changes_nothing() {
    let Some(c) = cluster() else { return };
    let ns = &unique("kube-cpu");
    let docs = docs("kvm-guest-noavx2", ns, &Options::default());
    let first = c.apply(&docs).unwrap();
    assert!(first.iter().all(|a| a.changed), "{first:?}");
    secrets(&c, ns);
    c.wait_for_rollouts(&docs, Duration::from_secs(120))
        .unwrap();
    let again = c.apply(&docs).unwrap();
    let changed: Vec<_> = again.iter().filter(|a| a.changed).collect();
    assert!(changed.is_empty(), "a re-apply changed {changed:?}");
}

#[test]
fn one_changed_value_rerolls_only_its_deployment() {
    let Some(c) = cluster() else { return };
    let ns = &unique("kube-one");
    let plain = docs("kvm-guest-noavx2", ns, &Options::default());
    c.apply(&plain).unwrap();
    secrets(&c, ns);
    c.wait_for_rollouts(&plain, Duration::from_secs(120))
        .unwrap();
    let allow = Options {
        proxy_allowlist: vec![".huggingface.co".into()],
        ..Options::default()
    };
    let changed: Vec<(String, String)> = c
        .apply(&docs("kvm-guest-noavx2", ns, &allow))
        .unwrap()
        .into_iter()
        .filter(|a| a.changed)
        .map(|a| (a.kind, a.name))
        .collect();
    assert_eq!(
        changed,
        vec![
            ("ConfigMap".to_string(), "squid".to_string()),
            ("Deployment".to_string(), "squid".to_string())
        ]
    );
}

#[test]
fn generated_secrets_are_created_once() {
    let Some(c) = cluster() else { return };
    let ns = &unique("kube-secret");
    c.apply(&docs("kvm-guest-noavx2", ns, &Options::default())[..1])
        .unwrap();
    let labels = BTreeMap::new();
    assert!(
        c.ensure_secret(ns, "s", "k", &labels, || "first".into())
            .unwrap()
    );
    assert!(
        !c.ensure_secret(ns, "s", "k", &labels, || panic!("never generated twice"))
            .unwrap()
    );
}

#[test]
fn a_rollout_that_cannot_finish_fails_with_the_reason() {
    let Some(c) = cluster() else { return };
    let ns = &unique("kube-fail");
    let docs: Vec<Document> = docs("x79-xeon-6x3060", ns, &Options::default())
        .into_iter()
        .map(|mut d| {
            // More GPUs than the fake node has: the pod can never be scheduled.
            d.yaml = d.yaml.replace("nvidia.com/gpu: 6", "nvidia.com/gpu: 64");
            d
        })
        .collect();
    c.apply(&docs).unwrap();
    secrets(&c, ns);
    let llama: Vec<Document> = docs
        .into_iter()
        .filter(|d| d.name == "llama-server")
        .collect();
    let err = c
        .wait_for_rollouts(&llama, Duration::from_secs(10))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "Deployment `{ns}/llama-server` did not roll out within 10 s"
        )),
        "{err}"
    );
    assert!(err.contains("Insufficient nvidia.com/gpu"), "{err}");
}

#[test]
fn removing_a_component_deletes_exactly_its_objects() {
    let Some(c) = cluster() else { return };
    let ns = &unique("kube-prune");
    let all = docs("kvm-guest-noavx2", ns, &Options::default());
    c.apply(&all).unwrap();
    secrets(&c, ns);
    // Someone's own object in the same namespace, without uaiso's labels.
    assert!(
        c.ensure_secret(ns, "mine", "k", &BTreeMap::new(), || "v".into())
            .unwrap()
    );
    let components: Vec<String> = ["base", "llama-server", "monitoring", "proxy"]
        .map(String::from)
        .to_vec();
    let first = c
        .prune(ns, &components, &all, false, Duration::from_secs(60))
        .unwrap();
    assert!(first.is_empty(), "nothing to prune yet: {first:?}");

    let without: Vec<Document> = all
        .iter()
        .filter(|d| d.component != "proxy")
        .cloned()
        .collect();
    let kept = &components[..3];
    let pruned: Vec<(String, String)> = c
        .prune(ns, kept, &without, false, Duration::from_secs(60))
        .unwrap()
        .into_iter()
        .map(|p| (p.kind, p.name))
        .collect();
    assert_eq!(
        pruned,
        vec![
            ("ConfigMap".to_string(), "squid".to_string()),
            ("Deployment".to_string(), "squid".to_string()),
            ("Service".to_string(), "squid".to_string()),
        ]
    );
    assert!(
        c.prune(ns, kept, &without, false, Duration::from_secs(60))
            .unwrap()
            .is_empty()
    );
    // The unlabelled Secret and the generated ones are still there.
    assert!(
        !c.ensure_secret(ns, "mine", "k", &BTreeMap::new(), || panic!(
            "it was deleted"
        ))
        .unwrap()
    );
    assert!(
        !c.ensure_secret(
            ns,
            "llama-server-api-key",
            "api-key",
            &BTreeMap::new(),
            || panic!("the key was deleted")
        )
        .unwrap()
    );
    c.wait_for_rollouts(&without, Duration::from_secs(120))
        .unwrap();
}

/// A CRD and an object of its kind in one apply: the CRD must be Established and the
/// kind discovered before the object goes in.
#[test]
fn a_crd_is_established_before_its_objects() {
    let Some(c) = cluster() else { return };
    let ns = unique("kube-crd");
    let doc = |api_version: &str, kind: &str, name: &str, namespace: Option<&str>, yaml: String| {
        Document {
            component: "test".into(),
            template: "test.yaml".into(),
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(str::to_string),
            yaml,
        }
    };
    let group = format!("{}.uaiso.test", ns.replace('-', ""));
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\n  labels:\n    app.kubernetes.io/managed-by: uaiso\nspec:\n  group: {group}\n  scope: Namespaced\n  names:\n    plural: widgets\n    singular: widget\n    kind: Widget\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n                size:\n                  type: integer\n"
    );
    let namespace = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n");
    let widget = format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: {ns}\nspec:\n  size: 3\n"
    );
    let docs = vec![
        doc("v1", "Namespace", &ns, None, namespace),
        doc(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            &format!("widgets.{group}"),
            None,
            crd,
        ),
        doc(
            &format!("{group}/v1"),
            "Widget",
            "w",
            Some(&ns),
            widget.clone(),
        ),
    ];
    let applied = c.apply(&docs).unwrap();
    assert_eq!(applied.len(), 3);
    // Strict validation applies to custom kinds too.
    let bad = vec![doc(
        &format!("{group}/v1"),
        "Widget",
        "w",
        Some(&ns),
        widget.replace("size: 3", "size: 3\n  colour: red"),
    )];
    let err = c.apply(&bad).unwrap_err().to_string();
    assert!(err.contains("colour"), "{err}");
}

#[test]
fn a_box_render_with_node_ports_converges_and_a_second_converge_changes_nothing() {
    let Some(kc) = common::test_kubeconfig() else {
        return;
    };
    let c = Cluster::connect(Some(Path::new(&kc))).unwrap();
    // The only test that uses node ports: they are cluster-wide.
    let ns = &unique("nodeports");
    let (facts, sel) = common::selection_for(&fixtures().join("kvm-guest-noavx2"));
    let opts = Options {
        namespace: ns.clone(),
        node_ports: true,
        ..Options::default()
    };
    let components = uaiso::stack::wanted(&sel, uaiso::stack::Mode::Host, &[], &[]);
    let docs = render::render(&facts, &sel, Some(&components), &opts).unwrap();
    let waits = uaiso::deploy::Waits {
        rollout: Duration::from_secs(120),
        model: Duration::from_secs(60),
    };
    let first = uaiso::deploy::converge(&c, ns, &docs, &components, waits, &mut |_| {}).unwrap();
    assert_eq!(
        first.secrets_created,
        ["llama-server-api-key", "grafana-admin"],
        "generated on first apply"
    );
    for (svc, port) in [
        ("llama-server", "30080"),
        ("grafana", "30300"),
        ("squid", "31280"),
    ] {
        let (ok, text) = common::kubectl(
            &kc,
            &[
                "-n",
                ns,
                "get",
                "service",
                svc,
                "-o",
                "jsonpath={.spec.type} {.spec.ports[0].nodePort}",
            ],
            None,
        );
        assert!(ok, "{text}");
        assert_eq!(text.trim(), format!("NodePort {port}"), "{svc}");
    }
    let (_, key) = common::kubectl(
        &kc,
        &[
            "-n",
            ns,
            "get",
            "secret",
            "llama-server-api-key",
            "-o",
            "jsonpath={.data.api-key}",
        ],
        None,
    );
    assert_eq!(
        key.trim().len(),
        88,
        "32 random bytes, hex, base64-encoded by the API: {key}"
    );
    let again = uaiso::deploy::converge(&c, ns, &docs, &components, waits, &mut |_| {}).unwrap();
    assert_eq!(again.changed(), 0, "{again:?}");
    // Teardown frees the node ports for the next run on a reused cluster.
    let down = uaiso::deploy::teardown(&c, ns, true, Duration::from_secs(120)).unwrap();
    assert!(down.namespace_deleted && down.kept.is_empty(), "{down:?}");
}
