//! `uaiso render` over the fixture hosts: every manifest validates strictly against the
//! pinned Kubernetes version, output is byte-for-byte deterministic, and the objects
//! follow the selection.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{fixture_names, fixtures, selection_for, stderr, stdout, uaiso};
use serde_json::{Value, json};
use uaiso::render::component::{self, Component};
use uaiso::render::values::{ClusterModel, Options};

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

/// What every object uaiso renders must be, whatever the mode: labelled for pruning,
/// namespaced unless cluster-scoped, and its pods off the host network, without a
/// service-account token unless they need one, unprivileged and pinned.
fn assert_house_rules(d: &Value, what: &str) {
    let labels = &d["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/managed-by"], "uaiso", "{what}");
    assert!(labels["app.kubernetes.io/part-of"].is_string(), "{what}");
    assert!(labels["app.kubernetes.io/name"].is_string(), "{what}");
    let cluster_scoped = [
        "Namespace",
        "RuntimeClass",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
    ]
    .contains(&d["kind"].as_str().unwrap());
    assert_eq!(
        d["metadata"]["namespace"].is_null(),
        cluster_scoped,
        "{what}"
    );
    let pod = &d["spec"]["template"]["spec"];
    if pod.is_object() {
        assert_eq!(
            pod["hostNetwork"],
            Value::Null,
            "{what}: never on the host network"
        );
        if pod["serviceAccountName"].is_null() {
            assert_eq!(pod["automountServiceAccountToken"], false, "{what}");
        }
        for c in containers(pod) {
            let what = format!("{what} {}", c["name"]);
            let sc = &c["securityContext"];
            assert_eq!(sc["allowPrivilegeEscalation"], false, "{what}");
            assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]), "{what}");
            assert_ne!(sc["privileged"], true, "{what}");
            assert!(!c["image"].as_str().unwrap().ends_with(":latest"), "{what}");
            assert!(
                c["resources"]["requests"]["memory"].is_string(),
                "{what}: requests memory"
            );
        }
    }
}

/// A pod's init containers and containers.
fn containers(pod: &Value) -> Vec<&Value> {
    ["initContainers", "containers"]
        .iter()
        .filter_map(|k| pod[*k].as_array())
        .flatten()
        .collect()
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
            let what = format!("{host}: {}/{}", d["kind"], d["metadata"]["name"]);
            assert_house_rules(d, &what);
            if d["kind"] == "Service" {
                assert_eq!(
                    d["spec"]["type"], "ClusterIP",
                    "{what}: nothing exposed by default"
                );
            }
            let pod = &d["spec"]["template"]["spec"];
            if pod.is_object() {
                assert_eq!(pod["automountServiceAccountToken"], false, "{what}");
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

/// The CUDA fixture: every tool, the GPU exporter included, runs there.
const TOOL_HOST: &str = "x79-xeon-6x3060";

/// The catalogue tools: what `uaiso add` and `remove` take on or off.
fn tools() -> Vec<Component> {
    component::all()
        .into_iter()
        .filter(|c| c.spec.tool)
        .collect()
}

/// The rules a tool's pods keep beyond `assert_house_rules`: a default seccomp profile
/// and, for what keeps running, a probe.
fn assert_tool_rules(d: &Value, what: &str) {
    let pod = &d["spec"]["template"]["spec"];
    if !pod.is_object() {
        return;
    }
    let seccomp = |sc: &Value| sc["seccompProfile"]["type"] == "RuntimeDefault";
    let long_running = d["kind"] != "Job";
    for c in &pod["containers"].as_array().unwrap()[..] {
        let what = format!("{what} {}", c["name"]);
        assert!(
            seccomp(&pod["securityContext"]) || seccomp(&c["securityContext"]),
            "{what}: seccomp RuntimeDefault"
        );
        if long_running {
            assert!(
                c["readinessProbe"].is_object() || c["livenessProbe"].is_object(),
                "{what}: a probe"
            );
        }
    }
}

/// Every Secret a pod reads is one some component declares, so that uaiso generates it.
fn assert_secrets_are_declared(docs: &[Value], what: &str) {
    let declared: Vec<(String, String)> = component::all()
        .iter()
        .flat_map(|c| c.spec.secret.iter())
        .map(|s| (s.name.clone(), s.key.clone()))
        .collect();
    for d in docs {
        let pod = &d["spec"]["template"]["spec"];
        if !pod.is_object() {
            continue;
        }
        let what = format!("{what}: {}/{}", d["kind"], d["metadata"]["name"]);
        for c in containers(pod) {
            for e in c["env"].as_array().into_iter().flatten() {
                let r = &e["valueFrom"]["secretKeyRef"];
                if r.is_object() && r["optional"] != true {
                    let pair = (
                        r["name"].as_str().unwrap().to_string(),
                        r["key"].as_str().unwrap().to_string(),
                    );
                    assert!(declared.contains(&pair), "{what}: {pair:?} is not declared");
                }
            }
        }
        for v in pod["volumes"].as_array().into_iter().flatten() {
            let s = &v["secret"];
            if s.is_object() && s["optional"] != true {
                let name = s["secretName"].as_str().unwrap();
                assert!(
                    declared.iter().any(|(n, _)| n == name),
                    "{what}: Secret {name} is not declared"
                );
            }
        }
    }
}

#[test]
fn every_tool_renders_alone_validates_and_stays_inside_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    for tool in tools() {
        let name = &tool.spec.name;
        let (code, yaml, err) = render(TOOL_HOST, &["--component", name]);
        assert_eq!(code, 0, "{name}: {err}");
        let file = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&file, &yaml).unwrap();
        validate(&file);
        let docs = documents(&yaml);
        assert!(!docs.is_empty(), "{name} renders something");
        for d in &docs {
            let what = format!("{name}: {}/{}", d["kind"], d["metadata"]["name"]);
            assert_eq!(
                d["metadata"]["labels"]["app.kubernetes.io/part-of"],
                name.as_str(),
                "{what}"
            );
            assert_house_rules(d, &what);
            assert_tool_rules(d, &what);
            if d["kind"] == "Service" {
                assert_eq!(d["spec"]["type"], "ClusterIP", "{what}");
                assert!(
                    d["spec"]["ports"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|p| p["nodePort"].is_null()),
                    "{what}"
                );
            }
        }
        assert_secrets_are_declared(&docs, name);
        for e in &tool.spec.endpoint {
            let svc = find(&docs, "Service", &e.service);
            assert!(
                svc["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["port"] == e.port),
                "{name}: Service {} has no port {}",
                e.service,
                e.port
            );
        }
    }
}

const MODEL_URL: &str = "https://huggingface.co/example/model-GGUF/resolve/main/model.gguf";
const MODEL_SHA256: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Every tool on the CUDA fixture through the library, as on a box uaiso installed
/// (NodePorts) but with the model in a volume, as on a cluster it did not.
fn render_tools_with_node_ports_and_a_model_volume() -> (String, Vec<Value>) {
    let (facts, sel) = selection_for(&fixtures().join(TOOL_HOST));
    let mut names = vec!["base".to_string()];
    names.extend(tools().into_iter().map(|c| c.spec.name));
    let opts = Options {
        node_ports: true,
        cluster_model: Some(ClusterModel {
            url: MODEL_URL.to_string(),
            sha256: MODEL_SHA256.to_string(),
        }),
        ..Options::default()
    };
    let docs = uaiso::render::render(&facts, &sel, Some(&names), &opts).unwrap();
    let yaml = uaiso::render::to_yaml(&docs, &sel);
    let values = documents(&yaml);
    (yaml, values)
}

#[test]
fn with_node_ports_only_the_declared_endpoints_are_opened() {
    let (yaml, docs) = render_tools_with_node_ports_and_a_model_volume();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node-ports.yaml");
    std::fs::write(&file, &yaml).unwrap();
    validate(&file);
    let endpoints: Vec<component::Endpoint> = component::all()
        .into_iter()
        .flat_map(|c| c.spec.endpoint)
        .collect();
    for e in &endpoints {
        let svc = find(&docs, "Service", &e.service);
        assert_eq!(svc["spec"]["type"], "NodePort", "{}", e.service);
        let port = svc["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["port"] == e.port)
            .unwrap_or_else(|| panic!("{}: no port {}", e.service, e.port));
        assert_eq!(port["nodePort"], e.node_port, "{}", e.service);
    }
    for d in docs.iter().filter(|d| d["kind"] == "Service") {
        let name = d["metadata"]["name"].as_str().unwrap();
        let declared: Vec<u16> = endpoints
            .iter()
            .filter(|e| e.service == name)
            .map(|e| e.node_port)
            .collect();
        if declared.is_empty() {
            assert_eq!(d["spec"]["type"], "ClusterIP", "{name}: not user-facing");
        }
        // No port of a NodePort Service gets a random node port.
        for p in d["spec"]["ports"].as_array().unwrap() {
            if d["spec"]["type"] == "NodePort" {
                let node_port = p["nodePort"].as_u64().map(|n| n as u16);
                assert!(
                    node_port.is_some_and(|n| declared.contains(&n)),
                    "{name}: port {} has no declared node port",
                    p["port"]
                );
            }
        }
    }
    for d in &docs {
        let what = format!("node ports: {}/{}", d["kind"], d["metadata"]["name"]);
        assert_house_rules(d, &what);
        assert_tool_rules(d, &what);
    }
    assert_secrets_are_declared(&docs, "node ports");
}

#[test]
fn with_a_model_volume_a_job_downloads_the_model_and_the_server_mounts_it() {
    let (_, docs) = render_tools_with_node_ports_and_a_model_volume();
    let deployment = find(&docs, "Deployment", "llama-server");
    let pod = &deployment["spec"]["template"]["spec"];
    let volumes = pod["volumes"].as_array().unwrap();
    assert!(
        volumes.iter().all(|v| v["hostPath"].is_null()),
        "no host path on a cluster uaiso did not install"
    );
    assert_eq!(
        pod["runtimeClassName"],
        Value::Null,
        "no runtime class assumed"
    );
    let models = volumes.iter().find(|v| v["name"] == "models").unwrap();
    let claim = models["persistentVolumeClaim"]["claimName"]
        .as_str()
        .expect("the models volume is the claim");
    let server = &pod["containers"][0];
    let mount = server["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "models")
        .unwrap();
    assert_eq!(mount["readOnly"], true);
    let args: Vec<&str> = server["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let model_path = args[args.iter().position(|a| *a == "-m").unwrap() + 1];
    let mount_path = mount["mountPath"].as_str().unwrap();
    let file = model_path
        .strip_prefix(&format!("{mount_path}/"))
        .expect("the model is read from the claim");
    // It waits for the verified file instead of crash-looping while the Job runs.
    let wait = &pod["initContainers"][0];
    assert!(
        wait["env"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "MODEL_FILE", "value": file}))
    );

    let pvc = find(&docs, "PersistentVolumeClaim", claim);
    assert_eq!(pvc["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(
        pvc["spec"]["storageClassName"],
        Value::Null,
        "the cluster's default class"
    );
    assert!(pvc["spec"]["resources"]["requests"]["storage"].is_string());
    assert_eq!(
        pvc["metadata"]["labels"][uaiso::kube::MODEL_CACHE],
        "true",
        "kept like the host's model cache"
    );

    let job = docs
        .iter()
        .find(|d| d["kind"] == "Job")
        .expect("a download Job");
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(
        job["metadata"]["labels"]["app.kubernetes.io/part-of"],
        "llama-server"
    );
    assert!(job["spec"]["backoffLimit"].as_u64().unwrap() > 0);
    let jpod = &job["spec"]["template"]["spec"];
    assert_eq!(jpod["restartPolicy"], "OnFailure");
    assert_eq!(jpod["securityContext"]["runAsNonRoot"], true);
    assert!(
        jpod["securityContext"]["fsGroup"].is_u64(),
        "it can write the claim"
    );
    assert!(
        jpod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["persistentVolumeClaim"]["claimName"] == claim)
    );
    let c = &jpod["containers"][0];
    assert_eq!(c["image"], server["image"], "the llama.cpp image has curl");
    let env = |name: &str| {
        c["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))["value"]
            .clone()
    };
    assert_eq!(env("MODEL_URL"), MODEL_URL);
    assert_eq!(env("MODEL_SHA256"), MODEL_SHA256);
    assert_eq!(env("MODEL_FILE"), file);
    assert_eq!(env("MODELS_DIR"), mount_path);
    let script = c["args"][0].as_str().unwrap();
    for needle in ["sha256sum -c", "curl -sSfL --retry 5", "-C -", "mv -f"] {
        assert!(script.contains(needle), "the script has `{needle}`");
    }

    // Without a model volume there is neither a claim nor a Job.
    let six = documents(&render(TOOL_HOST, &["--component", "llama-server"]).1);
    assert!(
        !six.iter()
            .any(|d| d["kind"] == "Job" || d["kind"] == "PersistentVolumeClaim")
    );
}

#[test]
fn open_webui_uses_llama_server_with_the_generated_key() {
    let docs = documents(&render(TOOL_HOST, &["--component", "open-webui"]).1);
    let pod = &find(&docs, "Deployment", "open-webui")["spec"]["template"]["spec"];
    let env = pod["containers"][0]["env"].as_array().unwrap();
    let var = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(
        var("OPENAI_API_BASE_URL")["value"],
        "http://llama-server.uaiso.svc:8080/v1"
    );
    let key = var("OPENAI_API_KEY");
    assert_eq!(key["value"], Value::Null, "the key is never inline");
    assert_eq!(
        key["valueFrom"]["secretKeyRef"],
        json!({"name": "llama-server-api-key", "key": "api-key"})
    );
    assert_eq!(
        var("WEBUI_SECRET_KEY")["valueFrom"]["secretKeyRef"],
        json!({"name": "open-webui", "key": "secret-key"})
    );
    assert_eq!(var("ENABLE_OLLAMA_API")["value"], "false");
    assert!(
        pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["persistentVolumeClaim"]["claimName"] == "open-webui-data")
    );
    let spec = component::find("open-webui").unwrap().spec;
    assert_eq!(spec.requires, ["base", "llama-server"]);
    assert!(spec.data.is_some(), "removing it deletes the chats");
}
