//! `up --kubeconfig`, `add`, `remove`, `status` and `reset` as a person runs them,
//! against the test control plane (a cluster uaiso did not install, so no host steps):
//! the model downloaded by a Job from a Hugging Face stand-in on 127.0.0.1, every
//! workload rolled out, a second `up` that changes nothing, a tool added and removed
//! without a trace, and a reset that leaves nothing of uaiso's. And every refusal,
//! with a check that nothing changed.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeMap;

use common::http::Server;
use common::{kubectl, stderr, stdout, uaiso_with};

const MODEL: &str = "qwen2.5-0.5b-instruct:Q4_K_M";
const MODEL_PATH: &str =
    "/bartowski/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf";

/// A Hugging Face stand-in serving the model, its sha256 in `X-Linked-Etag`.
fn hub() -> (Server, Vec<u8>) {
    let server = Server::start(BTreeMap::new());
    let weights = b"GGUF weights stand-in ".repeat(512);
    server.set_model(MODEL_PATH, weights.clone());
    (server, weights)
}

/// The test cluster has no volume provisioner: PersistentVolumes bound in advance to
/// the model's claim (named after the file's sha256) and Open WebUI's.
fn volumes_for(kc: &str, ns: &str, weights: &[u8]) {
    let model_claim = format!(
        "model-{}",
        &common::sha256_hex(common::sha256_hex(weights).as_bytes())[..8]
    );
    for (i, claim) in [model_claim.as_str(), "open-webui-data"].iter().enumerate() {
        let pv = format!(
            "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: {ns}-{i}\nspec:\n  capacity:\n    storage: 20Gi\n  accessModes: [ReadWriteOnce]\n  claimRef:\n    namespace: {ns}\n    name: {claim}\n  hostPath:\n    path: /tmp/{ns}-{i}\n"
        );
        let (ok, text) = kubectl(kc, &["apply", "-f", "-"], Some(&pv));
        assert!(ok, "{text}");
    }
}

/// uaiso's objects in the namespace, by kind and name (pods included).
fn objects(kc: &str, ns: &str) -> Vec<String> {
    let (ok, text) = kubectl(
        kc,
        &[
            "-n",
            ns,
            "get",
            "all,configmaps,secrets,serviceaccounts,persistentvolumeclaims,roles,rolebindings",
            "-l",
            "app.kubernetes.io/managed-by=uaiso",
            "-o",
            "name",
        ],
        None,
    );
    assert!(ok, "{text}");
    let mut names: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("No resources"))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

fn namespace_exists(kc: &str, ns: &str) -> bool {
    kubectl(kc, &["get", "namespace", ns], None).0
}

#[test]
fn up_add_remove_status_reset_on_a_cluster() {
    let Some(kc) = common::test_kubeconfig() else {
        return;
    };
    let ns = format!("stack-{}", std::process::id());
    let (server, weights) = hub();
    volumes_for(&kc, &ns, &weights);
    let env = [("HF_ENDPOINT", server.base.as_str())];
    let on = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        v.extend([
            "--kubeconfig".into(),
            kc.clone(),
            "--namespace".into(),
            ns.clone(),
        ]);
        v
    };
    let run = |args: &[&str]| {
        let v = on(args);
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        uaiso_with(&refs, &env)
    };

    // No terminal and no --yes: refused before anything is created.
    let out = run(&["up", "--model", MODEL]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no terminal to ask on, so nothing was changed"));
    assert!(!namespace_exists(&kc, &ns), "nothing was created");

    let out = run(&[
        "up",
        "--yes",
        "--model",
        MODEL,
        "--profile",
        "cpu",
        "--wait",
        "180",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Ready: profile cpu, model qwen2.5-0.5b-instruct:Q4_K_M"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "kubectl -n {ns} port-forward svc/llama-server 30080:8080"
        )),
        "{text}"
    );
    assert!(
        text.contains("Grafana's admin password (user admin) (shown once): "),
        "{text}"
    );
    // The Job fetched from the mirror and checks the sha256 Hugging Face stated.
    let (_, job) = kubectl(&kc, &["-n", &ns, "get", "jobs", "-o", "yaml"], None);
    assert!(
        job.contains(&format!("{}{MODEL_PATH}", server.base)),
        "{job}"
    );
    assert!(job.contains(&common::sha256_hex(&weights)), "{job}");
    // The pods run as the profile says, with the model from the claim.
    let (_, deploy) = kubectl(
        &kc,
        &["-n", &ns, "get", "deployment", "llama-server", "-o", "yaml"],
        None,
    );
    assert!(deploy.contains("claimName: model-"), "{deploy}");
    assert!(!deploy.contains("hostPath"), "{deploy}");

    let again = run(&["up", "--yes", "--wait", "180"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).starts_with("Model: qwen2.5-0.5b-instruct Q4_K_M"),
        "the record pins the model: {}",
        stdout(&again)
    );
    assert!(
        stdout(&again).contains("Nothing changed, everything is in place"),
        "{}",
        stdout(&again)
    );
    assert!(
        !stdout(&again).contains("shown once"),
        "secrets are shown once"
    );

    // A settings file that changes only the proxy's allowlist: only the proxy's objects
    // change, and the record, which keeps the allowlist for later `add`s and `remove`s.
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("uaiso.toml");
    std::fs::write(&settings, "proxy_allow = [\".huggingface.co\"]\n").unwrap();
    let out = run(&[
        "up",
        "--yes",
        "--wait",
        "180",
        "--config",
        settings.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let mut changed: Vec<&str> = err
        .lines()
        .filter_map(|l| l.trim().strip_prefix("changed "))
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        [
            "ConfigMap squid",
            "ConfigMap uaiso-install",
            "Deployment squid"
        ],
        "{}",
        stderr(&out)
    );
    let out = run(&["up", "--yes", "--config", settings.to_str().unwrap()]);
    assert!(stdout(&out).contains("Nothing changed"), "{}", stdout(&out));

    let status = run(&["status", "--json"]);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let st: serde_json::Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(st["namespace"], ns.as_str());
    assert_eq!(st["model"], "qwen2.5-0.5b-instruct:Q4_K_M");
    assert_eq!(st["nodes"][0]["ready"], true);
    let names: Vec<&str> = st["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["base", "llama-server", "monitoring", "proxy"]);
    for c in st["components"].as_array().unwrap() {
        assert_eq!(c["ready"], true, "{c}");
    }
    let llama = &st["components"][1]["workloads"];
    assert!(
        llama
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["kind"] == "Deployment" && w["ready"] == 1),
        "{llama}"
    );
    assert!(
        st["live_error"].as_str().unwrap().contains("port-forward"),
        "{st}"
    );
    assert!(
        st.get("secrets").is_none(),
        "secrets only with --show-secrets"
    );
    // Live figures from llama-server's /metrics, here a stand-in on 127.0.0.1 (as after
    // `kubectl port-forward`), in llama.cpp's format.
    server.set(
        "/metrics",
        b"# HELP llamacpp:prompt_tokens_seconds Average prompt throughput in tokens/s.\n# TYPE llamacpp:prompt_tokens_seconds gauge\nllamacpp:prompt_tokens_seconds 539.896\n# TYPE llamacpp:predicted_tokens_seconds gauge\nllamacpp:predicted_tokens_seconds 21.43\n# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing 2\n# TYPE llamacpp:requests_deferred gauge\nllamacpp:requests_deferred 1\n".to_vec(),
    );
    server.set(
        "/v1/models",
        br#"{"object":"list","data":[{"id":"Qwen2.5-0.5B-Instruct-Q4_K_M.gguf","object":"model"}]}"#.to_vec(),
    );
    let live = run(&[
        "status",
        "--json",
        "--llama-url",
        &format!("{}/v1", server.base),
    ]);
    let st: serde_json::Value = serde_json::from_str(&stdout(&live)).unwrap();
    assert_eq!(st["live"]["prompt_tokens_per_s"], 539.896, "{st}");
    assert_eq!(st["live"]["generation_tokens_per_s"], 21.43);
    assert_eq!(st["live"]["requests_processing"], 2.0);
    assert_eq!(st["loaded_model"], "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf");
    let text = run(&["status", "--llama-url", &server.base]);
    assert!(
        stdout(&text).contains("llama-server now: prompt 539.9 tokens/s, generation 21.4 tokens/s, 2.0 request(s) in flight, 1.0 waiting"),
        "{}",
        stdout(&text)
    );
    let shown = run(&["status", "--show-secrets"]);
    assert!(
        stdout(&shown).contains("llama-server's API key"),
        "{}",
        stdout(&shown)
    );

    // llama-server is the point of the box: removing it asks, and no terminal means no.
    let out = run(&["remove", "llama-server"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no terminal to ask on"),
        "{}",
        stderr(&out)
    );
    assert!(kubectl(&kc, &["-n", &ns, "get", "deployment", "llama-server"], None).0);

    let before = objects(&kc, &ns);
    let out = run(&["add", "open-webui", "--wait", "180"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("svc/open-webui 30800:8080"),
        "{}",
        stdout(&out)
    );
    let (ok, webui) = kubectl(
        &kc,
        &["-n", &ns, "get", "deployment", "open-webui", "-o", "yaml"],
        None,
    );
    assert!(ok, "{webui}");
    assert!(
        webui.contains(&format!("http://llama-server.{ns}.svc:8080/v1")),
        "{webui}"
    );
    let out = run(&["add", "open-webui"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("open-webui is already installed"),
        "{}",
        stderr(&out)
    );
    let out = run(&["remove", "open-webui", "--yes", "--wait", "180"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        objects(&kc, &ns),
        before,
        "add then remove leaves the cluster as before"
    );
    let out = run(&["remove", "open-webui"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("open-webui is not installed"),
        "{}",
        stderr(&out)
    );

    // Reset keeps the model volume; with --purge-models nothing of uaiso's is left.
    let out = run(&["reset", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let left = objects(&kc, &ns);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0].starts_with("persistentvolumeclaim/model-"),
        "{left:?}"
    );
    let out = run(&["reset", "--yes", "--purge-models"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !namespace_exists(&kc, &ns),
        "the namespace uaiso made is gone"
    );
    let (ok, cluster_wide) = kubectl(
        &kc,
        &[
            "get",
            "clusterroles,clusterrolebindings,runtimeclasses",
            "-l",
            &format!("uaiso.io/namespace={ns}"),
            "-o",
            "name",
        ],
        None,
    );
    assert!(
        ok && cluster_wide.trim().is_empty() || cluster_wide.contains("No resources"),
        "{cluster_wide}"
    );
}

#[test]
fn refusals_on_a_cluster_change_nothing() {
    let Some(kc) = common::test_kubeconfig() else {
        return;
    };
    let (server, _) = hub();
    let env = [("HF_ENDPOINT", server.base.as_str())];

    // An unknown tool: the list and the closest name, before any cluster is asked.
    let out = uaiso_with(&["add", "openwebui", "--kubeconfig", "/nonexistent"], &env);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no tool named `openwebui`; did you mean `open-webui`?"),
        "{err}"
    );
    assert!(err.contains("llama-server, monitoring, proxy"), "{err}");

    // A cluster that is not there.
    let dir = tempfile::tempdir().unwrap();
    let dead = dir.path().join("kubeconfig");
    let text = std::fs::read_to_string(&kc).unwrap();
    let port_line = text.lines().find(|l| l.contains("server:")).unwrap();
    std::fs::write(
        &dead,
        text.replace(port_line, "    server: https://127.0.0.1:1"),
    )
    .unwrap();
    let out = uaiso_with(
        &["up", "--yes", "--kubeconfig", dead.to_str().unwrap()],
        &env,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot reach the cluster"),
        "{}",
        stderr(&out)
    );
    let out = uaiso_with(&["status", "--kubeconfig", dead.to_str().unwrap()], &env);
    assert!(
        stderr(&out).contains("cannot reach the cluster"),
        "{}",
        stderr(&out)
    );

    // Credentials without rights: every missing one named, nothing created.
    let limited = std::path::Path::new(&kc).with_file_name("kubeconfig-limited");
    let ns = format!("limited-{}", std::process::id());
    let out = uaiso_with(
        &[
            "up",
            "--yes",
            "--model",
            MODEL,
            "--kubeconfig",
            limited.to_str().unwrap(),
            "--namespace",
            &ns,
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("the credentials lack rights uaiso needs, so nothing was changed"),
        "{err}"
    );
    assert!(
        err.contains(&format!("create deployments.apps in namespace {ns}")),
        "{err}"
    );
    assert!(
        err.contains(&format!("create secrets in namespace {ns}")),
        "{err}"
    );
    assert!(!namespace_exists(&kc, &ns), "nothing was created");

    // A GPU profile the cluster cannot serve (Vulkan needs the host's /dev/dri, which
    // uaiso mounts only on a box it installed).
    let out = uaiso_with(
        &[
            "up",
            "--yes",
            "--kubeconfig",
            &kc,
            "--namespace",
            &ns,
            "--profile",
            "vulkan-uma",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("profile `vulkan-uma` needs /dev/dri (Vulkan), and no node of this cluster offers it, so nothing was changed"),
        "{}",
        stderr(&out)
    );
    assert!(!namespace_exists(&kc, &ns), "nothing was created");

    // An install `sudo uaiso up` made on its box is not re-applied as someone else's
    // cluster: that would move the model and the ports.
    let boxed = format!("boxed-{}", std::process::id());
    let record = r#"{"uaiso_version":"0.1.0","mode":"host","profile":"cpu","model":null,"added":[],"removed":[],"components":["base"]}"#;
    assert!(kubectl(&kc, &["create", "namespace", &boxed], None).0);
    let (ok, text) = kubectl(
        &kc,
        &[
            "-n",
            &boxed,
            "create",
            "configmap",
            "uaiso-install",
            &format!("--from-literal=record.json={record}"),
        ],
        None,
    );
    assert!(ok, "{text}");
    let out = uaiso_with(
        &["up", "--yes", "--kubeconfig", &kc, "--namespace", &boxed],
        &env,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("was made by `sudo uaiso up` on the box"),
        "{}",
        stderr(&out)
    );
    let (_, left) = kubectl(
        &kc,
        &["-n", &boxed, "get", "all,configmaps", "-o", "name"],
        None,
    );
    assert!(!left.contains("deployment"), "nothing was applied: {left}");

    // Nothing installed in that namespace.
    let out = uaiso_with(&["status", "--kubeconfig", &kc, "--namespace", &ns], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("uaiso is not installed in namespace `{ns}`")),
        "{}",
        stderr(&out)
    );
}
