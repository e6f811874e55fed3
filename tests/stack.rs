//! The catalogue's logic on real fixture hosts: which components a selection wants on a
//! box uaiso installs and on someone else's cluster, and what `add` and `remove` do to
//! the install record, refusals included.
#![allow(clippy::disallowed_methods)]

mod common;

use uaiso::stack::{self, Added, Mode, Record, Removed, StackError};

fn record_for(host: &str, mode: Mode) -> (Record, uaiso::profile::Selection) {
    let (_, sel) = common::selection_for(&common::fixtures().join(host));
    let mut r = Record::new(mode, &sel);
    r.components = stack::wanted(&sel, mode, &[], &[]);
    (r, sel)
}

#[test]
fn a_selection_wants_its_profiles_components() {
    let (r, _) = record_for("kvm-guest-noavx2", Mode::Host);
    assert_eq!(
        r.components,
        ["base", "llama-server", "monitoring", "proxy"]
    );
    // NVIDIA on a box uaiso installs: the device plugin and the GPU exporter.
    let (r, _) = record_for("x79-xeon-6x3060", Mode::Host);
    assert_eq!(
        r.components,
        [
            "base",
            "nvidia-device-plugin",
            "llama-server",
            "monitoring",
            "proxy",
            "gpu-exporter"
        ]
    );
    // On someone else's cluster the device plugin is theirs.
    let (r, _) = record_for("x79-xeon-6x3060", Mode::Cluster);
    assert!(
        !r.components.iter().any(|c| c.ends_with("device-plugin")),
        "{:?}",
        r.components
    );
}

#[test]
fn add_brings_requirements_and_remove_takes_dependents() {
    let (mut r, sel) = record_for("kvm-guest-noavx2", Mode::Host);
    assert_eq!(
        stack::add(&mut r, &sel, "open-webui").unwrap(),
        Added::New(vec!["open-webui".into()])
    );
    assert_eq!(r.added, ["open-webui"]);
    r.components = stack::wanted(&sel, r.mode, &r.added, &r.removed);
    assert_eq!(
        stack::add(&mut r, &sel, "open-webui").unwrap(),
        Added::Present
    );

    // llama-server takes what needs it with it.
    assert_eq!(
        stack::remove(&mut r, &sel, "llama-server").unwrap(),
        Removed::Going(vec![
            "llama-server".into(),
            "monitoring".into(),
            "open-webui".into()
        ])
    );
    assert!(r.added.is_empty());
    assert_eq!(r.removed, ["llama-server", "monitoring"]);
    r.components = stack::wanted(&sel, r.mode, &r.added, &r.removed);
    assert_eq!(r.components, ["base", "proxy"]);
    assert_eq!(
        stack::remove(&mut r, &sel, "open-webui").unwrap(),
        Removed::Absent
    );

    // Monitoring needs llama-server: adding it brings it back.
    assert_eq!(
        stack::add(&mut r, &sel, "monitoring").unwrap(),
        Added::New(vec!["llama-server".into(), "monitoring".into()])
    );
    assert!(r.removed.is_empty(), "{:?}", r.removed);
}

#[test]
fn refusals_name_the_problem() {
    let (mut r, sel) = record_for("kvm-guest-noavx2", Mode::Host);
    let before = r.clone();
    match stack::add(&mut r, &sel, "openwebui") {
        Err(StackError::UnknownTool { closest, tools, .. }) => {
            assert_eq!(closest, "; did you mean `open-webui`?");
            assert!(
                tools.contains("argocd") && tools.contains("onedev"),
                "{tools}"
            );
        }
        other => panic!("{other:?}"),
    }
    let e = stack::add(&mut r, &sel, "gpu-exporter")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("runs only with the cuda backend") && e.contains("uses cpu"),
        "{e}"
    );
    let e = stack::remove(&mut r, &sel, "base").unwrap_err().to_string();
    assert!(e.contains("not a tool you add or remove"), "{e}");
    let e = stack::add(&mut r, &sel, "nvidia-device-plugin")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("installs it with the profile that needs it"),
        "{e}"
    );
    assert_eq!(r, before, "a refusal changes nothing");
}

#[test]
fn the_record_round_trips_through_its_configmap() {
    let (r, _) = record_for("n100-intel-igpu", Mode::Host);
    let doc = r.document("uaiso");
    assert_eq!(
        (doc.kind.as_str(), doc.name.as_str()),
        ("ConfigMap", stack::RECORD)
    );
    let value: serde_json::Value = serde_json::from_str(&doc.yaml).unwrap();
    assert_eq!(
        value["metadata"]["labels"]["app.kubernetes.io/part-of"],
        "base"
    );
    let text = value["data"]["record.json"].as_str().unwrap();
    assert_eq!(Record::parse(text).unwrap(), r);
    assert!(Record::parse("{").is_err());
}

#[test]
fn endpoints_are_nodeports_on_the_box_and_port_forwards_elsewhere() {
    let comps: Vec<String> = ["llama-server", "open-webui"].map(String::from).to_vec();
    let host = stack::access(&comps, Mode::Host, "uaiso");
    assert_eq!(host[0].url, "http://127.0.0.1:30080/v1");
    assert!(host.iter().all(|a| a.via.is_none()));
    let byo = stack::access(&comps, Mode::Cluster, "ai");
    assert_eq!(byo[1].url, "http://127.0.0.1:30800");
    assert_eq!(
        byo[1].via.as_deref(),
        Some("kubectl -n ai port-forward svc/open-webui 30800:8080")
    );
}
