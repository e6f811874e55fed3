//! `uaiso up` and `uaiso reset` as a person runs them, into a sandboxed root: the dry
//! run, every refusal (nothing changes), and a full up → up → reset against a release
//! server on 127.0.0.1. With `--root`, uaiso runs no command, so this exercises the
//! binary end to end without systemd.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::http::Server;
use common::{copy_tree, fixtures, stderr, stdout, uaiso};

fn sandbox(host: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join(host), &dir.path().join("root"));
    dir
}

/// Every path under `root` with its content, to show nothing changed.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
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
    let sum: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(&binary)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let server = Server::start(BTreeMap::from([
        ("/v1.36.4%2Bk3s1/k3s".to_string(), binary.clone()),
        (
            "/v1.36.4%2Bk3s1/sha256sum-amd64.txt".to_string(),
            format!("{sum}  k3s\n").into_bytes(),
        ),
    ]));
    let dir = sandbox("n100-intel-igpu");
    let root = dir.path().join("root");
    let r = root.to_str().unwrap();
    let before = snapshot(&root);
    let out = uaiso(&["up", "--yes", "--root", r, "--mirror", &server.base]);
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

    let again = uaiso(&["up", "--yes", "--root", r, "--mirror", &server.base]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stderr(&again).contains("nothing needed doing"),
        "{}",
        stderr(&again)
    );

    let before_switch = snapshot(&root);
    let other = uaiso(&["up", "--yes", "--distro", "k0s", "--root", r]);
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
    assert_eq!(snapshot(&root), before, "the root is exactly as it was");
}
