//! `uaiso render` over the fixture hosts: every manifest validates strictly against the
//! pinned Kubernetes version, output is byte-for-byte deterministic, and the objects
//! follow the selection.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{fixture_names, fixtures, stderr, stdout, uaiso};
use serde_json::Value;

fn render(host: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = fixtures().join(host);
    let mut args = vec!["render", "--sysroot", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = uaiso(&args);
    (out.status.code().unwrap(), stdout(&out), stderr(&out))
}

/// Every document of a multi-document YAML, as JSON values.
fn documents(yaml: &str) -> Vec<Value> {
    yaml.split("\n---\n")
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
        })
        .map(|d| serde_saphyr::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}

/// kubernetes-validate (PyPI) with its bundled schemas; .ci/run installs it.
fn validate(file: &Path) {
    let out = Command::new("kubernetes-validate")
        .args([
            "--strict",
            "--quiet",
            "-k",
            uaiso::render::KUBERNETES_VERSION,
        ])
        .arg(file)
        .output()
        .expect("kubernetes-validate is installed (`pip install kubernetes-validate`)");
    assert!(
        out.status.success(),
        "{} does not validate:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every profile that can run on some fixture host, rendered there.
fn cases() -> Vec<(String, Option<&'static str>)> {
    let mut cases: Vec<(String, Option<&str>)> =
        fixture_names().into_iter().map(|h| (h, None)).collect();
    cases.push(("dual-cascadelake-4xa4000".into(), Some("cpu")));
    cases.push(("x79-xeon-6x3060".into(), Some("nvidia-single")));
    cases.push(("n100-intel-igpu".into(), Some("vulkan-uma")));
    cases
}

#[test]
fn every_render_validates_strictly() {
    let dir = tempfile::tempdir().unwrap();
    for (host, profile) in cases() {
        let mut extra = vec![];
        if let Some(p) = profile {
            extra.extend(["--profile", p]);
        }
        let (code, yaml, err) = render(&host, &extra);
        assert_eq!(code, 0, "{host} {profile:?}: {err}");
        let file = dir
            .path()
            .join(format!("{host}-{}.yaml", profile.unwrap_or("auto")));
        std::fs::write(&file, &yaml).unwrap();
        validate(&file);
    }
}

#[test]
fn renders_match_their_snapshots_and_are_deterministic() {
    for host in fixture_names() {
        let (code, first, err) = render(&host, &[]);
        assert_eq!(code, 0, "{host}: {err}");
        let (_, second, _) = render(&host, &[]);
        assert_eq!(
            first, second,
            "{host}: the same input renders byte-identical output"
        );
        let shown = first.replace(env!("CARGO_PKG_VERSION"), "[version]");
        insta::assert_snapshot!(format!("render-{host}"), shown);
    }
}

#[test]
fn every_object_is_labelled_namespaced_and_private() {
    for (host, profile) in cases() {
        let mut extra = vec![];
        if let Some(p) = profile {
            extra.extend(["--profile", p]);
        }
        let docs = documents(&render(&host, &extra).1);
        for d in &docs {
            let labels = &d["metadata"]["labels"];
            let what = format!("{host}: {}/{}", d["kind"], d["metadata"]["name"]);
            assert_eq!(labels["app.kubernetes.io/managed-by"], "uaiso", "{what}");
            assert!(labels["app.kubernetes.io/part-of"].is_string(), "{what}");
            assert!(labels["app.kubernetes.io/name"].is_string(), "{what}");
            let cluster_scoped =
                ["Namespace", "RuntimeClass"].contains(&d["kind"].as_str().unwrap());
            assert_eq!(
                d["metadata"]["namespace"].is_null(),
                cluster_scoped,
                "{what}"
            );
            if d["kind"] == "Service" {
                assert_eq!(
                    d["spec"]["type"], "ClusterIP",
                    "{what}: nothing exposed by default"
                );
            }
            let pod = &d["spec"]["template"]["spec"];
            if pod.is_object() {
                assert_eq!(
                    pod["hostNetwork"],
                    Value::Null,
                    "{what}: never on the host network"
                );
                assert_eq!(pod["automountServiceAccountToken"], false, "{what}");
                for c in pod["containers"].as_array().unwrap() {
                    let sc = &c["securityContext"];
                    assert_eq!(sc["allowPrivilegeEscalation"], false, "{what}");
                    assert_eq!(
                        sc["capabilities"]["drop"],
                        serde_json::json!(["ALL"]),
                        "{what}"
                    );
                    assert_ne!(sc["privileged"], true, "{what}");
                    assert!(!c["image"].as_str().unwrap().ends_with(":latest"), "{what}");
                }
            }
        }
    }
}

#[test]
fn objects_follow_the_selection() {
    let six = documents(&render("x79-xeon-6x3060", &[]).1);
    let llama = &find(&six, "Deployment", "llama-server")["spec"]["template"]["spec"];
    assert_eq!(llama["runtimeClassName"], "nvidia");
    let c = &llama["containers"][0];
    assert_eq!(c["resources"]["limits"]["nvidia.com/gpu"], 6);
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(args.windows(2).any(|w| w == ["-ts", "12,12,12,12,12,12"]));
    assert!(
        !args
            .iter()
            .any(|a| a.contains("api-key") || a.contains("API_KEY"))
    );
    assert_eq!(c["env"][0]["name"], "LLAMA_API_KEY");
    assert_eq!(
        c["env"][0]["valueFrom"]["secretKeyRef"]["name"],
        "llama-server-api-key"
    );
    assert_eq!(c["env"][0]["value"], Value::Null, "the key is never inline");
    let models = &llama["volumes"][0]["hostPath"]["path"];
    assert_eq!(
        models, "/var/lib/uaiso/models",
        "outside the distro's data dir"
    );
    assert_eq!(c["volumeMounts"][0]["readOnly"], true);
    assert_eq!(
        find(&six, "Deployment", "llama-server")["spec"]["strategy"]["type"],
        "Recreate"
    );
    find(&six, "DaemonSet", "nvidia-device-plugin");
    find(&six, "DaemonSet", "dcgm-exporter");
    let prom = find(&six, "ConfigMap", "prometheus")["data"]["prometheus.yml"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(prom.contains("dcgm-exporter.uaiso.svc:9400"));

    let cpu = documents(&render("kvm-guest-noavx2", &[]).1);
    let llama = &find(&cpu, "Deployment", "llama-server")["spec"]["template"]["spec"];
    assert_eq!(llama["runtimeClassName"], Value::Null);
    assert_eq!(
        llama["containers"][0]["resources"]["limits"],
        Value::Null,
        "no GPU resources on a CPU box"
    );
    assert!(!cpu.iter().any(|d| d["metadata"]["name"] == "dcgm-exporter"));
    let prom = find(&cpu, "ConfigMap", "prometheus")["data"]["prometheus.yml"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!prom.contains("dcgm"));
    // On the small profile, the stack's requests stay within an 8 GB box.
    let mib = |q: &Value| {
        q.as_str()
            .unwrap()
            .trim_end_matches("Mi")
            .parse::<u64>()
            .unwrap()
    };
    let monitoring: u64 = cpu
        .iter()
        .filter(|d| d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "monitoring")
        .filter_map(|d| {
            d["spec"]["template"]["spec"]["containers"]
                .as_array()
                .cloned()
        })
        .flatten()
        .map(|c| mib(&c["resources"]["requests"]["memory"]))
        .sum();
    assert!(monitoring <= 512, "monitoring requests {monitoring} MiB");

    let uma = documents(&render("strix-halo-uma", &[]).1);
    let llama = &find(&uma, "Deployment", "llama-server")["spec"]["template"]["spec"];
    assert_eq!(
        llama["securityContext"]["supplementalGroups"],
        serde_json::json!([105, 39])
    );
    assert!(
        llama["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["hostPath"]["path"] == "/dev/dri")
    );

    let squid = find(&cpu, "ConfigMap", "squid")["data"]["squid.conf"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        squid.contains("http_access deny all"),
        "never an open proxy"
    );
    assert!(squid.contains("acl clients src 10.42.0.0/16"));
    let allow = documents(&render("kvm-guest-noavx2", &["--proxy-allow", ".huggingface.co"]).1);
    let squid = find(&allow, "ConfigMap", "squid")["data"]["squid.conf"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(squid.contains("acl allowed dstdomain .huggingface.co"));
    assert!(squid.contains("http_access allow clients allowed"));
}

#[test]
fn a_config_change_changes_only_its_pods_hash() {
    let plain = documents(&render("kvm-guest-noavx2", &[]).1);
    let allow = documents(&render("kvm-guest-noavx2", &["--proxy-allow", ".huggingface.co"]).1);
    let hash = |docs: &[Value], name: &str| {
        find(docs, "Deployment", name)["spec"]["template"]["metadata"]["annotations"]["uaiso.io/config-hash"].clone()
    };
    assert_ne!(hash(&plain, "squid"), hash(&allow, "squid"));
    assert_eq!(hash(&plain, "prometheus"), hash(&allow, "prometheus"));
    assert_eq!(hash(&plain, "grafana"), hash(&allow, "grafana"));
}

#[test]
fn components_out_dir_and_refusals() {
    let (code, yaml, _) = render("kvm-guest-noavx2", &["--component", "proxy"]);
    assert_eq!(code, 0);
    let docs = documents(&yaml);
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "proxy")
    );

    let (code, _, err) = render("kvm-guest-noavx2", &["--component", "monitorin"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no component named `monitorin`")
            && err.contains("did you mean `monitoring`?"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("manifests");
    let (code, _, err) = render("x79-xeon-6x3060", &["--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "base.yaml",
            "gpu-exporter.yaml",
            "llama-server.yaml",
            "monitoring.yaml",
            "nvidia-device-plugin.yaml",
            "proxy.yaml"
        ]
    );

    // A box where nothing fits has nothing for llama-server to run.
    let (code, _, err) = render("kvm-guest-noavx2", &["--profile", "nvidia-single"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no model fits this box under profile `nvidia-single`"),
        "{err}"
    );

    let list = uaiso(&["add", "--list"]);
    let text = stdout(&list);
    for name in [
        "llama-server",
        "monitoring",
        "proxy",
        "nvidia-device-plugin",
    ] {
        assert!(text.contains(name), "{text}");
    }
    assert!(text.contains("grafana/grafana:"));
    let bare = uaiso(&["add"]);
    assert_eq!(
        bare.status.code(),
        Some(2),
        "`add` alone is a usage error until tools can be added"
    );
}
