//! The host engine in a sandboxed root (TESTING.md, tier 3): `up` writes the tree, a
//! second `up` changes nothing, `reset` brings the tree back to exactly what it was,
//! and a failure injected at each step leaves a receipt from which both a rerun and a
//! reset succeed.
//!
//! Real here: every file the steps write, the downloads (from an HTTP server on
//! 127.0.0.1, checked by sha256), the receipt. Not real: the commands. They go through
//! the one runner, which this test replaces with [`FakeSystem`]: it records each
//! command and plays the running system — `modprobe` makes the module's /sys and
//! /proc/sys entries appear, `kubectl get nodes` answers Ready, `systemctl`,
//! `iptables-save` and the rest succeed without acting — because systemd, the kernel
//! and k3s itself cannot run in a test.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::http::Server;
use common::{copy_tree, fixtures, selection_for};
use sha2::{Digest, Sha256};
use uaiso::exec::{self, Event};
use uaiso::plan::build::{PlanOptions, host_plan};
use uaiso::plan::receipt::{self, Receipt, State};
use uaiso::plan::{HostPlan, Step};
use uaiso::sys::download::{Downloader, NoProgress};
use uaiso::sys::host::Host;
use uaiso::sys::runner::{Output, Runner};

#[derive(Clone, Default)]
struct FakeSystem {
    root: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
    /// Commands containing this text fail.
    fail: Arc<Mutex<Option<String>>>,
    /// `kubectl get nodes` says Ready.
    ready: Arc<Mutex<bool>>,
}

/// What the fake kernel creates; reset leaves loaded modules loaded on purpose.
const KERNEL_MADE: [&str; 6] = [
    "sys/module",
    "sys/module/overlay",
    "sys/module/br_netfilter",
    "proc/sys/net/bridge",
    "proc/sys/net/bridge/bridge-nf-call-iptables",
    "proc/sys/net/bridge/bridge-nf-call-ip6tables",
];

impl Runner for FakeSystem {
    fn run(&self, argv: &[String], _input: Option<&str>) -> std::io::Result<Output> {
        let line = argv.join(" ");
        self.log.lock().unwrap().push(line.clone());
        if let Some(f) = self.fail.lock().unwrap().as_deref()
            && line.contains(f)
        {
            return Ok(Output {
                success: false,
                code: Some(1),
                stdout: String::new(),
                stderr: "injected failure".into(),
            });
        }
        let mut stdout = String::new();
        match argv[0].as_str() {
            "modprobe" => {
                for m in argv.iter().skip(1).filter(|a| !a.starts_with('-')) {
                    std::fs::create_dir_all(self.root.join("sys/module").join(m)).unwrap();
                    if m == "br_netfilter" {
                        let bridge = self.root.join("proc/sys/net/bridge");
                        std::fs::create_dir_all(&bridge).unwrap();
                        for f in ["bridge-nf-call-iptables", "bridge-nf-call-ip6tables"] {
                            if !bridge.join(f).exists() {
                                std::fs::write(bridge.join(f), "0\n").unwrap();
                            }
                        }
                    }
                }
            }
            _ if line.contains("kubectl get nodes") => {
                stdout = if *self.ready.lock().unwrap() {
                    "True".into()
                } else {
                    "False".into()
                };
            }
            _ => {}
        }
        Ok(Output {
            success: true,
            code: Some(0),
            stdout,
            stderr: String::new(),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Path → kind, mode and content hash of every entry under `root`.
fn listing(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            let value = if meta.file_type().is_symlink() {
                format!("link {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                walk(root, &path, out);
                format!("dir {mode:o}")
            } else {
                let bytes = std::fs::read(&path).unwrap();
                format!("file {mode:o} {}", hex(&bytes))
            };
            out.insert(rel, value);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn without_kernel_made(mut l: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for k in KERNEL_MADE {
        l.remove(k);
    }
    l
}

/// The entries where two listings differ, for a readable failure.
fn differences(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: {:?} → {:?}", b.get(k), a.get(k)))
        .collect()
}

fn assert_same_tree(
    now: BTreeMap<String, String>,
    before: BTreeMap<String, String>,
    context: &str,
) {
    let diff = differences(&without_kernel_made(now), &without_kernel_made(before));
    assert!(
        diff.is_empty(),
        "{context}: the tree differs from before:\n{}",
        diff.join("\n")
    );
}

const K3S_BINARY: &[u8] = b"#!/bin/sh\n# stands in for the k3s binary\n";

struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
    fake: FakeSystem,
    server: Server,
    plan: HostPlan,
}

impl Sandbox {
    /// A copy of the KVM guest fixture, whose /etc/hosts lacks its own name (so the
    /// hosts step runs too), and a release server for k3s.
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        copy_tree(&fixtures().join("kvm-guest-noavx2"), &root);
        std::fs::write(
            root.join("etc/hosts"),
            "127.0.0.1 localhost\n::1 localhost ip6-localhost\n",
        )
        .unwrap();
        let sum = format!(
            "{}  k3s\n{}  k3s-airgap-images-amd64.tar\n",
            hex(K3S_BINARY),
            hex(b"x")
        );
        let server = Server::start(BTreeMap::from([
            ("/v1.36.4%2Bk3s1/k3s".to_string(), K3S_BINARY.to_vec()),
            (
                "/v1.36.4%2Bk3s1/sha256sum-amd64.txt".to_string(),
                sum.into_bytes(),
            ),
        ]));
        let fake = FakeSystem {
            root: root.clone(),
            ready: Arc::new(Mutex::new(true)),
            ..FakeSystem::default()
        };
        let (facts, sel) = selection_for(&root);
        let opts = PlanOptions {
            distro: None,
            base_url: Some(server.base.clone()),
            expose: false,
            proxy_env: BTreeMap::from([(
                "HTTPS_PROXY".to_string(),
                "http://user:secret@proxy.lan:3128".to_string(),
            )]),
            wait_timeout_s: 1,
        };
        let plan = host_plan(&facts, &sel, &opts).unwrap();
        Sandbox {
            _dir: dir,
            root,
            fake,
            server,
            plan,
        }
    }

    fn host(&self) -> Host {
        Host::new(&self.root, Box::new(self.fake.clone())).with_downloader(
            Downloader::new()
                .unwrap()
                .with_retry_policy(1, std::time::Duration::from_millis(10)),
        )
    }

    fn up(&self, on_event: &mut dyn FnMut(Event)) -> Result<exec::RunReport, exec::ExecError> {
        exec::run(&self.host(), &self.plan, &mut NoProgress, on_event)
    }

    fn receipt(&self) -> Option<Receipt> {
        let text =
            std::fs::read_to_string(self.root.join(receipt::PATH.trim_start_matches('/'))).ok()?;
        Some(Receipt::parse(&text).unwrap())
    }

    fn reset(&self) -> exec::ResetReport {
        let receipt = self.receipt().expect("a receipt");
        exec::reset(&self.host(), receipt, &mut |_| {}).unwrap()
    }

    fn commands(&self) -> Vec<String> {
        std::mem::take(&mut *self.fake.log.lock().unwrap())
    }
}

#[test]
fn up_writes_the_tree_a_second_up_does_nothing_and_reset_restores_it() {
    let sb = Sandbox::new();
    let before = listing(&sb.root);
    let report = sb.up(&mut |_| {}).unwrap();
    assert!(report.changed >= 12, "{report:?}");

    let r = |p: &str| std::fs::read_to_string(sb.root.join(p)).unwrap();
    let mode = |p: &str| {
        std::fs::symlink_metadata(sb.root.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(
        std::fs::read(sb.root.join("usr/local/bin/k3s")).unwrap(),
        K3S_BINARY
    );
    assert_eq!(mode("usr/local/bin/k3s"), 0o755);
    assert_eq!(
        std::fs::read_link(sb.root.join("usr/local/bin/kubectl")).unwrap(),
        Path::new("/usr/local/bin/k3s")
    );
    assert!(r("etc/rancher/k3s/config.yaml").contains("nodeport-addresses=127.0.0.1/32"));
    assert!(r("etc/rancher/k3s/config.yaml").contains("write-kubeconfig-mode: \"0600\""));
    assert!(r("etc/systemd/system/k3s.service").contains("ExecStart=/usr/local/bin/k3s server"));
    assert_eq!(
        mode("etc/systemd/system/k3s.service.env"),
        0o600,
        "it holds proxy credentials"
    );
    assert!(
        r("etc/systemd/system/k3s.service.env")
            .contains("CONTAINERD_HTTPS_PROXY=http://user:secret@proxy.lan:3128")
    );
    assert_eq!(
        r("etc/sysctl.d/90-uaiso.conf")
            .lines()
            .filter(|l| l.contains(" = 1"))
            .count(),
        3
    );
    assert_eq!(r("proc/sys/net/ipv4/ip_forward"), "1\n");
    assert!(r("etc/hosts").ends_with("127.0.1.1 debian-vm\n"));
    assert!(r("etc/systemd/system/uaiso-zram.service").contains("--algorithm zstd"));
    assert!(sb.root.join("var/lib/uaiso/bin/uaiso").exists());
    assert_eq!(mode("var/lib/uaiso/receipt.json"), 0o600);
    let receipt = sb.receipt().unwrap();
    assert!(
        receipt
            .steps
            .iter()
            .all(|e| matches!(e.state, State::Done | State::NotOurs)),
        "{receipt:#?}"
    );
    let cmds = sb.commands();
    assert!(
        cmds.iter()
            .any(|c| c == "modprobe --all br_netfilter overlay"),
        "{cmds:?}"
    );
    assert!(
        cmds.iter().any(|c| c == "systemctl start k3s.service"),
        "{cmds:?}"
    );
    assert!(
        !cmds.iter().any(|c| c.contains("iptables")),
        "nothing is torn down on the way up"
    );
    let downloads = sb.server.requests.load(std::sync::atomic::Ordering::SeqCst);

    // A second run changes nothing and restarts nothing.
    let after_up = listing(&sb.root);
    let again = sb.up(&mut |_| {}).unwrap();
    assert_eq!(again.changed, 0, "{again:?}");
    let cmds = sb.commands();
    assert!(
        !cmds
            .iter()
            .any(|c| c.starts_with("systemctl") || c.starts_with("modprobe")),
        "{cmds:?}"
    );
    let mut later = listing(&sb.root);
    let mut earlier = after_up.clone();
    // The copy of uaiso and the receipt are rewritten in place; their content is the same.
    for l in [&mut later, &mut earlier] {
        l.retain(|k, _| !k.ends_with(".tmp") && !k.contains(".tmp-"));
    }
    assert_eq!(earlier, later);
    assert_eq!(
        sb.server.requests.load(std::sync::atomic::Ordering::SeqCst),
        downloads,
        "nothing is downloaded again: the receipt says the binary is in place"
    );

    // What k3s itself would leave: its data dir and a CNI interface. A model the user
    // downloaded meanwhile lives beside, in the model cache.
    std::fs::create_dir_all(sb.root.join("var/lib/rancher/k3s/agent/containerd")).unwrap();
    std::fs::write(
        sb.root.join("var/lib/rancher/k3s/agent/containerd/blob"),
        b"layer",
    )
    .unwrap();
    std::fs::create_dir_all(sb.root.join("sys/class/net/cni0")).unwrap();
    std::fs::create_dir_all(sb.root.join("var/lib/uaiso/models")).unwrap();
    std::fs::write(sb.root.join("var/lib/uaiso/models/tiny.gguf"), b"GGUF").unwrap();

    let report = sb.reset();
    assert!(report.ok(), "{:?}", report.errors);
    // Everything was taken back; what is left of the receipt lists only the directories
    // uaiso made that now hold the kept models, for a later `reset --purge-models`.
    let left = sb
        .receipt()
        .expect("a receipt for the kept models' directories");
    assert!(left.steps.is_empty(), "{:?}", left.steps);
    assert!(
        left.created_dirs
            .iter()
            .all(|d| sb.root.join(d.trim_start_matches('/')).exists())
            && left.created_dirs.iter().any(|d| d == "/var/lib/uaiso"),
        "{:?}",
        left.created_dirs
    );
    assert!(
        !sb.root.join("var/lib/rancher/k3s").exists(),
        "the distro's data goes"
    );
    assert_eq!(
        std::fs::read(sb.root.join("var/lib/uaiso/models/tiny.gguf")).unwrap(),
        b"GGUF",
        "models stay"
    );
    // The fixture has no /var: what k3s and the user made there goes before comparing.
    assert!(!before.contains_key("var"));
    std::fs::remove_dir_all(sb.root.join("var")).unwrap();
    std::fs::remove_dir_all(sb.root.join("sys/class/net")).unwrap();
    assert_same_tree(listing(&sb.root), before, "after up, up and reset");
    let cmds = sb.commands();
    assert!(
        cmds.iter()
            .any(|c| c == "systemctl disable --now k3s.service"),
        "{cmds:?}"
    );
    assert!(cmds.iter().any(|c| c == "iptables-save"), "{cmds:?}");
    assert!(cmds.iter().any(|c| c == "ip link delete cni0"), "{cmds:?}");
}

#[test]
fn a_changed_config_rewrites_it_and_restarts_only_then() {
    let sb = Sandbox::new();
    sb.up(&mut |_| {}).unwrap();
    sb.commands();
    let mut plan = sb.plan.clone();
    for step in &mut plan.steps {
        if let Step::WriteFile { path, content, .. } = step
            && path.ends_with("config.yaml")
        {
            content.push_str("node-name: box\n");
        }
    }
    let report = exec::run(&sb.host(), &plan, &mut NoProgress, &mut |_| {}).unwrap();
    assert_eq!(report.changed, 2, "the config and the restart: {report:?}");
    let cmds = sb.commands();
    assert!(
        cmds.iter().any(|c| c == "systemctl restart k3s.service"),
        "{cmds:?}"
    );
    assert!(
        !cmds.iter().any(|c| c.contains("uaiso-zram")),
        "zram is untouched: {cmds:?}"
    );
}

#[test]
fn files_that_were_there_before_come_back_on_reset() {
    let sb = Sandbox::new();
    let config = sb.root.join("etc/rancher/k3s/config.yaml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "# the user's own\ntls-san: [box.lan]\n").unwrap();
    let before = listing(&sb.root);
    sb.up(&mut |_| {}).unwrap();
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("traefik")
    );
    assert!(sb.reset().ok());
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "# the user's own\ntls-san: [box.lan]\n"
    );
    assert_same_tree(listing(&sb.root), before, "after up and reset");
}

#[test]
fn an_existing_foreign_k3s_is_never_replaced() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.root.join("usr/local/bin")).unwrap();
    std::fs::write(sb.root.join("usr/local/bin/k3s"), b"someone else's k3s").unwrap();
    let err = sb.up(&mut |_| {}).unwrap_err().to_string();
    assert!(
        err.contains("not the pinned release") && err.contains("hint:"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(sb.root.join("usr/local/bin/k3s")).unwrap(),
        b"someone else's k3s"
    );
    let receipt = sb.receipt().unwrap();
    assert!(
        receipt
            .steps
            .iter()
            .any(|e| e.state == State::Failed && e.error.is_some())
    );
    assert!(sb.reset().ok());
    assert_eq!(
        std::fs::read(sb.root.join("usr/local/bin/k3s")).unwrap(),
        b"someone else's k3s"
    );
}

/// How to make step `step` fail in the sandbox, and how to take the fault away.
enum Fault {
    /// The named path's parent becomes a plain file.
    ParentIsFile(PathBuf),
    /// The named /proc/sys entry disappears.
    Missing(PathBuf),
    /// Commands containing this text fail.
    Command(String),
    /// The node never becomes Ready.
    NotReady,
    /// The release server loses the file.
    Gone(String),
}

fn fault_for(sb: &Sandbox, step: &Step) -> Option<Fault> {
    let under = |p: &str| sb.root.join(p.trim_start_matches('/'));
    Some(match step {
        Step::WriteFile { path, .. }
        | Step::AppendLine { path, .. }
        | Step::Symlink { path, .. } => Fault::ParentIsFile(under(path)),
        Step::CopySelf { dest } => Fault::ParentIsFile(under(dest)),
        Step::Sysctl { .. } => Fault::Missing(under("/proc/sys/net/ipv4/ip_forward")),
        Step::LoadModules { .. } => Fault::Command("modprobe".into()),
        Step::EnableService { unit } => Fault::Command(format!("enable {unit}")),
        Step::WaitForNode { .. } => Fault::NotReady,
        Step::Download { .. } => Fault::Gone("/v1.36.4%2Bk3s1/k3s".into()),
        Step::Command { argv, .. } | Step::CaptureToFile { argv, .. } => {
            Fault::Command(argv.join(" "))
        }
        Step::DistroLeftovers { .. } => return None,
    })
}

/// The directory to replace with a file so that `path` cannot be written: its parent
/// when that exists, else the outermost directory on the way that is missing.
fn blocker(path: &Path) -> PathBuf {
    let mut dir = path.parent().unwrap().to_path_buf();
    while !dir.parent().unwrap().exists() {
        dir = dir.parent().unwrap().to_path_buf();
    }
    dir
}

/// Apply the fault; returns the directory a `ParentIsFile` fault replaced.
fn apply(sb: &Sandbox, fault: &Fault) -> Option<PathBuf> {
    match fault {
        Fault::ParentIsFile(path) => {
            let blocker = blocker(path);
            if blocker.exists() {
                std::fs::rename(&blocker, blocker.with_extension("moved-aside")).unwrap();
            }
            std::fs::write(&blocker, "in the way\n").unwrap();
            return Some(blocker);
        }
        Fault::Missing(path) => {
            std::fs::rename(path, path.with_extension("moved-aside")).unwrap();
        }
        Fault::Command(text) => *sb.fake.fail.lock().unwrap() = Some(text.clone()),
        Fault::NotReady => *sb.fake.ready.lock().unwrap() = false,
        Fault::Gone(path) => sb.server.remove(path),
    }
    None
}

fn heal(sb: &Sandbox, fault: &Fault, blocker: Option<PathBuf>) {
    match fault {
        Fault::ParentIsFile(_) => {
            let blocker = blocker.expect("the fault was applied");
            std::fs::remove_file(&blocker).unwrap();
            let aside = blocker.with_extension("moved-aside");
            if aside.exists() {
                std::fs::rename(aside, blocker).unwrap();
            }
        }
        Fault::Missing(path) => std::fs::rename(path.with_extension("moved-aside"), path).unwrap(),
        Fault::Command(_) => *sb.fake.fail.lock().unwrap() = None,
        Fault::NotReady => *sb.fake.ready.lock().unwrap() = true,
        Fault::Gone(path) => sb.server.set(path, K3S_BINARY.to_vec()),
    }
}

/// Run `up` with `fault` applied just as step `index` starts.
fn up_failing_at(sb: &Sandbox, index: usize, fault: &Fault) -> String {
    let mut applied = None;
    let result = sb.up(&mut |event| {
        if let Event::Start { index: i, .. } = event
            && i == index
            && applied.is_none()
        {
            applied = Some(apply(sb, fault));
        }
    });
    let err = result
        .expect_err("the injected fault fails the run")
        .to_string();
    heal(sb, fault, applied.flatten());
    err
}

#[test]
fn a_failure_at_each_step_leaves_a_receipt_that_rerun_and_reset_both_finish() {
    let probe = Sandbox::new();
    let steps = probe.plan.steps.clone();
    drop(probe);
    let mut covered = 0;
    for (index, step) in steps.iter().enumerate() {
        for then_rerun in [true, false] {
            let sb = Sandbox::new();
            let Some(fault) = fault_for(&sb, step) else {
                continue;
            };
            let before = listing(&sb.root);
            let err = up_failing_at(&sb, index, &fault);
            assert!(
                err.starts_with(&format!("step {} ", index + 1)),
                "{}: {err}",
                step.describe()
            );
            let receipt = sb.receipt().expect("a receipt after a failure");
            let offset = receipt.steps.len() - steps.len();
            assert_eq!(
                receipt.steps[offset + index].state,
                State::Failed,
                "{}",
                step.describe()
            );
            assert!(
                receipt.steps[offset + index + 1..]
                    .iter()
                    .all(|e| e.state == State::Pending)
            );
            if then_rerun {
                sb.up(&mut |_| {})
                    .unwrap_or_else(|e| panic!("rerun after {}: {e}", step.describe()));
            }
            let report = sb.reset();
            assert!(report.ok(), "{}: {:?}", step.describe(), report.errors);
            let context = format!(
                "after a failure at `{}`{} and a reset",
                step.describe(),
                if then_rerun { ", a rerun" } else { "" }
            );
            assert_same_tree(listing(&sb.root), before, &context);
            covered += 1;
        }
    }
    assert!(covered >= 2 * (steps.len() - 1), "{covered} cases");
}

#[test]
fn receipts_of_this_version_keep_parsing() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/receipts/receipt-0.1.0.json"),
    )
    .unwrap();
    let receipt = Receipt::parse(&text).unwrap();
    assert_eq!(receipt.schema, 1);
    assert!(receipt.steps.len() > 10);
    assert!(
        receipt
            .steps
            .iter()
            .any(|e| matches!(e.step, Step::Download { .. }))
    );
}

/// k0s through the same engine. Its download is pinned to the real release's sha256,
/// which a file served here cannot match, so this test pins the stand-in's instead.
#[test]
fn k0s_up_and_reset() {
    let mut sb = Sandbox::new();
    let k0s = b"#!/bin/sh\n# stands in for k0s\n".to_vec();
    let (facts, sel) = selection_for(&sb.root);
    let opts = PlanOptions {
        distro: Some(uaiso::profile::spec::Distro::K0s),
        base_url: Some(sb.server.base.clone()),
        expose: false,
        proxy_env: BTreeMap::new(),
        wait_timeout_s: 1,
    };
    sb.plan = host_plan(&facts, &sel, &opts).unwrap();
    for step in &mut sb.plan.steps {
        if let Step::Download { url, checksum, .. } = step {
            let path = url.strip_prefix(&sb.server.base).unwrap().to_string();
            sb.server.set(&path, k0s.clone());
            *checksum = uaiso::plan::Checksum::Pinned { sha256: hex(&k0s) };
        }
    }
    let before = listing(&sb.root);
    sb.up(&mut |_| {}).unwrap();
    let cmds = sb.commands();
    assert!(
        cmds.iter()
            .any(|c| c.starts_with("/usr/local/bin/k0s install controller --single")),
        "{cmds:?}"
    );
    assert!(
        cmds.iter()
            .any(|c| c == "/usr/local/bin/k0s kubeconfig admin"),
        "{cmds:?}"
    );
    let kubeconfig = sb.root.join("var/lib/uaiso/k0s-admin.kubeconfig");
    assert_eq!(
        std::fs::metadata(&kubeconfig).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(sb.reset().ok());
    assert_same_tree(listing(&sb.root), before, "after k0s up and reset");
}
