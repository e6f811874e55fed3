//! Helpers for the integration tests: run the real `uaiso` binary, copy fixture trees.
#![allow(dead_code, clippy::disallowed_methods)]

pub mod http;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn uaiso(args: &[&str]) -> Output {
    uaiso_with(args, &[])
}

/// The binary with these environment variables; the caller's KUBECONFIG and
/// HF_ENDPOINT never leak in.
pub fn uaiso_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_uaiso"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("RUST_LOG")
        .env_remove("KUBECONFIG")
        .env_remove("HF_ENDPOINT")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the uaiso binary runs")
}

/// The sha256 of `bytes`, as hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hosts")
}

/// Every fixture host, by name.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .expect("tests/fixtures/hosts exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Copy a tree, keeping symlinks as symlinks.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The facts of a host tree and the automatic selection for it.
pub fn selection_for(root: &Path) -> (uaiso::probe::HostFacts, uaiso::profile::Selection) {
    let source = uaiso::sys::snapshot::Source::Sysroot(root.to_path_buf());
    let facts = uaiso::probe::probe(&uaiso::sys::snapshot::collect(&source).unwrap());
    let sel = uaiso::profile::select(
        &facts,
        &uaiso::profile::bundled::profiles(),
        &uaiso::profile::bundled::models(),
        &Default::default(),
    )
    .unwrap();
    (facts, sel)
}

/// The test cluster's kubeconfig (`scripts/test` starts it), or `None` with a notice
/// when it is not running; `UAISO_REQUIRE_CLUSTER` turns its absence into a failure.
pub fn test_kubeconfig() -> Option<String> {
    match std::env::var("UAISO_TEST_KUBECONFIG") {
        Ok(k) => Some(k),
        Err(_) => {
            assert!(
                std::env::var_os("UAISO_REQUIRE_CLUSTER").is_none(),
                "UAISO_REQUIRE_CLUSTER is set but no test cluster is: run `scripts/test`"
            );
            eprintln!(
                "notice: no test cluster (UAISO_TEST_KUBECONFIG); run `scripts/test` for the cluster tests"
            );
            None
        }
    }
}

/// Rendered YAML moved from the `uaiso` namespace into `ns`, with the cluster-scoped
/// RuntimeClass renamed to match: tests share one cluster.
pub fn in_namespace(yaml: &str, ns: &str) -> String {
    yaml.replace("namespace: uaiso\n", &format!("namespace: {ns}\n"))
        .replace("  name: uaiso\n", &format!("  name: {ns}\n"))
        .replace(".uaiso.svc", &format!(".{ns}.svc"))
        .replace(
            "kind: RuntimeClass\nmetadata:\n  name: nvidia\n",
            &format!("kind: RuntimeClass\nmetadata:\n  name: nvidia-{ns}\n"),
        )
        .replace(
            "runtimeClassName: nvidia\n",
            &format!("runtimeClassName: nvidia-{ns}\n"),
        )
}

/// kubectl from the test cluster's build (on PATH under `scripts/test`): success, and
/// stdout with stderr.
pub fn kubectl(kubeconfig: &str, args: &[&str], input: Option<&str>) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(if input.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl from the test cluster's build is on PATH");
    if let Some(text) = input {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
