//! `uaiso up` and `uaiso reset` as a person runs them, into a sandboxed root: the dry
//! run, every refusal (nothing changes), and a full up → up → reset against a release
//! server on 127.0.0.1. With `--root`, uaiso runs no command, so this exercises the
//! binary end to end without systemd.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::http::Server;
use common::{copy_tree, fixtures, stderr, stdout, uaiso, uaiso_with};

fn sandbox(host: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join(host), &dir.path().join("root"));
    dir
}

/// A k3s release page on 127.0.0.1: the binary and its sha256 list.
fn release_server(binary: &[u8], sum: &str) -> Server {
    Server::start(BTreeMap::from([
        ("/v1.36.4%2Bk3s1/k3s".to_string(), binary.to_vec()),
        (
            "/v1.36.4%2Bk3s1/sha256sum-amd64.txt".to_string(),
            format!("{sum}  k3s\n").into_bytes(),
        ),
    ]))
}

/// The model `up` picks for a root, and its path on a Hugging Face mirror.
fn model_of(root: &Path) -> (uaiso::profile::ModelChoice, String) {
    let (_, sel) = common::selection_for(root);
    let model = sel.model.expect("a model fits the fixture");
    let path = model
        .url
        .strip_prefix("https://huggingface.co")
        .unwrap()
        .to_string();
    (model, path)
}

/// Every path under `root` with the sha256 of its content, to show nothing changed.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (path, bytes) in contents(root) {
        out.insert(path, common::sha256_hex(&bytes));
    }
    out
}

/// The paths whose content differs, so that a failure names them.
fn differences(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn contents(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                walk(root, &p, out);
                out.insert(rel, b"dir".to_vec());
            } else if meta.file_type().is_symlink() {
                out.insert(
                    rel,
                    std::fs::read_link(&p)
                        .unwrap()
                        .to_string_lossy()
                        .as_bytes()
                        .to_vec(),
                );
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let dir = sandbox("kvm-guest-noavx2");
    let root = dir.path().join("root");
    let before = snapshot(&root);
    let out = uaiso(&["up", "--dry-run", "--root", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("Host steps (k3s):"), "{text}");
    assert!(
        text.contains(
            "download https://github.com/k3s-io/k3s/releases/download/v1.36.4%2Bk3s1/k3s"
        )
    );
    assert_eq!(snapshot(&root), before);
    let k0s = uaiso(&[
        "up",
        "--dry-run",
        "--distro",
        "k0s",
        "--root",
        root.to_str().unwrap(),
    ]);
    assert!(
        stdout(&k0s)
            .contains("k0s install controller --single --disable-components metrics-server"),
        "{}",
        stdout(&k0s)
    );
}

#[test]
fn refusals_change_nothing() {
    // No terminal and no --yes.
    let dir = sandbox("kvm-guest-noavx2");
    let root = dir.path().join("root");
    let before = snapshot(&root);
    let out = uaiso(&["up", "--root", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no terminal to ask on, so nothing was changed"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--yes"));
    assert_eq!(snapshot(&root), before);

    // Doctor's failing checks stop it; the message lists them.
    std::fs::remove_dir_all(root.join("run/systemd")).unwrap();
    let before = snapshot(&root);
    let out = uaiso(&["up", "--yes", "--root", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("doctor found 1 failing check")
            && err.contains("host.systemd")
            && err.contains("--force"),
        "{err}"
    );
    assert_eq!(snapshot(&root), before);

    // An NVIDIA box without the container toolkit stops before anything changes.
    let dir = sandbox("x79-xeon-6x3060");
    let root = dir.path().join("root");
    let before = snapshot(&root);
    let out = uaiso(&["up", "--yes", "--force", "--root", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no nvidia-container-toolkit"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&root), before);

    // Reset without a receipt has nothing to do.
    let out = uaiso(&["reset", "--yes", "--root", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("nothing to reset"));
}

#[test]
fn up_up_reset_into_a_root() {
    let binary = b"#!/bin/sh\n# stands in for k3s\n".to_vec();
    let server = release_server(&binary, &common::sha256_hex(&binary));
    let dir = sandbox("n100-intel-igpu");
    let root = dir.path().join("root");
    let r = root.to_str().unwrap();
    // The model comes from the same server, as from a Hugging Face mirror (HF_ENDPOINT).
    let (model, model_path) = model_of(&root);
    let weights = b"GGUF stands in for the weights".repeat(1000);
    server.set_model(&model_path, weights.clone());
    let hf = [("HF_ENDPOINT", server.base.as_str())];
    let before = snapshot(&root);
    let out = uaiso_with(&["up", "--yes", "--root", r, "--mirror", &server.base], &hf);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`uaiso reset` takes it back"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(root.join("usr/local/bin/k3s")).unwrap(),
        binary
    );
    assert!(root.join("var/lib/uaiso/receipt.json").exists());
    let cached = root.join("var/lib/uaiso/models").join(&model.fit.file);
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        weights,
        "the model, verified"
    );
    // The summary says where things will be once the box boots.
    let text = stdout(&out);
    assert!(
        text.contains("nothing was applied, because no cluster runs there"),
        "{text}"
    );
    assert!(text.contains("http://127.0.0.1:30080/v1"), "{text}");
    assert!(text.contains("http://127.0.0.1:30300"), "{text}");

    let again = uaiso_with(&["up", "--yes", "--root", r, "--mirror", &server.base], &hf);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stderr(&again).contains("nothing needed doing"),
        "{}",
        stderr(&again)
    );

    let before_switch = snapshot(&root);
    let other = uaiso_with(&["up", "--yes", "--distro", "k0s", "--root", r], &hf);
    assert_eq!(other.status.code(), Some(1));
    assert!(
        stderr(&other).contains("uaiso installed k3s on this host"),
        "{}",
        stderr(&other)
    );
    assert_eq!(
        snapshot(&root),
        before_switch,
        "switching distros changes nothing"
    );

    let out = uaiso(&["reset", "--root", r]);
    assert_eq!(out.status.code(), Some(1), "no terminal and no --yes");
    assert!(
        root.join("var/lib/uaiso/receipt.json").exists(),
        "nothing was reset"
    );
    let out = uaiso(&["reset", "--yes", "--root", r]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("--purge-models"), "{}", stderr(&out));
    // Everything is taken back but the model cache.
    let mut with_models = before.clone();
    // The directories that lead to the cache stay with it, the fixture's own or not.
    for dir in ["var", "var/lib", "var/lib/uaiso", "var/lib/uaiso/models"] {
        with_models.insert(dir.to_string(), common::sha256_hex(b"dir"));
    }
    with_models.insert(
        format!("var/lib/uaiso/models/{}", model.fit.file),
        common::sha256_hex(&weights),
    );
    // The receipt stays, listing only the directories uaiso made for them.
    let receipt = std::fs::read_to_string(root.join("var/lib/uaiso/receipt.json")).unwrap();
    let receipt: serde_json::Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(receipt["steps"], serde_json::json!([]));
    assert!(
        receipt["created_dirs"]
            .as_array()
            .unwrap()
            .contains(&"/var/lib/uaiso/models".into())
    );
    with_models.insert(
        "var/lib/uaiso/receipt.json".to_string(),
        snapshot(&root)["var/lib/uaiso/receipt.json"].clone(),
    );
    let after = snapshot(&root);
    assert!(
        after == with_models,
        "only the models stay: {:?}",
        differences(&after, &with_models)
    );

    let out = uaiso(&["reset", "--yes", "--purge-models", "--root", r]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = snapshot(&root);
    assert!(
        after == before,
        "the root is exactly as it was: {:?}",
        differences(&after, &before)
    );
}

#[test]
fn purge_after_a_partial_up_leaves_the_original_tree() {
    // The host steps finish, the model does not: its sha256 is wrong.
    let binary = b"#!/bin/sh\n# stands in for k3s\n".to_vec();
    let server = release_server(&binary, &common::sha256_hex(&binary));
    let dir = sandbox("icelake-laptop-8g");
    let root = dir.path().join("root");
    let r = root.to_str().unwrap();
    let (_, model_path) = model_of(&root);
    // The sha256 stated is not the file's: the download fails after the host steps.
    server.set(&model_path, b"not the weights".to_vec());
    server.set_headers(
        &model_path,
        &[("X-Linked-Etag", &format!("\"{}\"", "ab".repeat(32)))],
    );
    let before = snapshot(&root);
    let hf = [("HF_ENDPOINT", server.base.as_str())];
    let out = uaiso_with(&["up", "--yes", "--root", r, "--mirror", &server.base], &hf);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("downloading the model"),
        "{}",
        stderr(&out)
    );
    assert!(
        root.join("var/lib/uaiso/receipt.json").exists(),
        "the host steps ran"
    );
    let out = uaiso(&["reset", "--yes", "--purge-models", "--root", r]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = snapshot(&root);
    assert!(
        after == before,
        "the root is exactly as it was: {:?}",
        differences(&after, &before)
    );
}
