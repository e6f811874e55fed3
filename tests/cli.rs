//! The `uaiso` binary end to end on this machine: version, completions, usage errors,
//! live snapshots that replay exactly, and input that must not break the report.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{copy_tree, fixtures, stderr, stdout, uaiso};
use serde_json::Value;

#[test]
fn version_and_completions() {
    let out = uaiso(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out).trim(),
        format!("uaiso {}", env!("CARGO_PKG_VERSION"))
    );
    for shell in ["bash", "zsh", "fish"] {
        let out = uaiso(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("doctor"),
            "{shell} completion names the subcommands"
        );
    }
    let out = uaiso(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_missing_sysroot_is_a_usage_error() {
    let out = uaiso(&["doctor", "--sysroot", "/nonexistent/uaiso-snapshot"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("error: `/nonexistent/uaiso-snapshot` does not exist"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert!(stdout(&out).is_empty());

    let file = tempfile::NamedTempFile::new().unwrap();
    let out = uaiso(&["doctor", "--sysroot", file.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a directory"));
}

/// The JSON of a live run and of its saved snapshot, read back, describe the same box.
#[test]
fn a_live_snapshot_replays_to_the_same_facts() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    let live = uaiso(&[
        "doctor",
        "--json",
        "--save-snapshot",
        snap.to_str().unwrap(),
    ]);
    assert!(
        matches!(live.status.code(), Some(0 | 1)),
        "{}",
        stderr(&live)
    );
    assert!(stderr(&live).contains("snapshot saved"));
    for file in ["proc/cpuinfo", "proc/meminfo", "uaiso/host.json"] {
        assert!(snap.join(file).is_file(), "{file} is in the snapshot");
    }
    let replay = uaiso(&["doctor", "--json", "--sysroot", snap.to_str().unwrap()]);
    assert_eq!(live.status.code(), replay.status.code());
    let live: Value = serde_json::from_str(&stdout(&live)).unwrap();
    let replay: Value = serde_json::from_str(&stdout(&replay)).unwrap();
    assert_eq!(live["facts"], replay["facts"]);
    assert_eq!(live["findings"], replay["findings"]);
    assert_eq!(replay["source"], snap.to_str().unwrap());
}

#[test]
fn saving_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
    let out = uaiso(&["doctor", "--save-snapshot", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("already exists and is not empty"));
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "nothing was added");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.txt")).unwrap(),
        "mine"
    );
}

/// A snapshot of a fixture is the fixture again: same facts, same findings.
#[test]
fn every_fixture_snapshot_round_trips() {
    for name in common::fixture_names() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("again");
        let from = fixtures().join(&name);
        let first = uaiso(&[
            "doctor",
            "--json",
            "--sysroot",
            from.to_str().unwrap(),
            "--save-snapshot",
            snap.to_str().unwrap(),
        ]);
        assert!(
            stderr(&first).contains("snapshot saved"),
            "{name}: {}",
            stderr(&first)
        );
        let second = uaiso(&["doctor", "--json", "--sysroot", snap.to_str().unwrap()]);
        let a: Value = serde_json::from_str(&stdout(&first)).unwrap();
        let b: Value = serde_json::from_str(&stdout(&second)).unwrap();
        assert_eq!(a["facts"], b["facts"], "{name}");
        assert_eq!(a["findings"], b["findings"], "{name}");
        // The saved pci.ids keeps only the lines of the devices present.
        if let Ok(ids) = std::fs::read_to_string(snap.join("usr/share/misc/pci.ids")) {
            assert!(ids.lines().count() < 60, "{name}: {ids}");
        }
    }
}

/// Broken and hostile snapshot content is reported, never fatal.
#[test]
fn bad_snapshot_content_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_tree(&fixtures().join("x79-xeon-6x3060"), root);
    std::fs::write(
        root.join("proc/cpuinfo"),
        "processor : zero\n\x00\x01garbage: : :\n",
    )
    .unwrap();
    std::fs::remove_file(root.join("proc/meminfo")).unwrap();
    std::fs::write(
        root.join("uaiso/nvidia.json"),
        "{ \"schema\": 1, \"gpus\": [ {",
    )
    .unwrap();
    std::fs::write(root.join("uaiso/host.json"), "[]").unwrap();
    std::fs::remove_file(root.join("proc/swaps")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("proc/swaps"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();

    let out = uaiso(&["doctor", "--json", "--sysroot", root.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let notes: Vec<String> = report["facts"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"].as_str().unwrap().to_string())
        .collect();
    let has = |needle: &str| notes.iter().any(|n| n.contains(needle));
    assert!(has("`/proc/meminfo` is missing"), "{notes:?}");
    assert!(has("`/uaiso/nvidia.json` is malformed"), "{notes:?}");
    assert!(has("`/uaiso/host.json` is malformed"), "{notes:?}");
    assert!(
        has("`/proc/swaps` could not be read: not a regular file"),
        "{notes:?}"
    );
    // The GPUs are still reported from the PCI tree.
    assert_eq!(report["facts"]["gpus"].as_array().unwrap().len(), 6);
    let human = uaiso(&["doctor", "--sysroot", root.to_str().unwrap()]);
    assert!(stdout(&human).contains("could not learn everything"));
}

/// The NVML boundary on a machine without the NVIDIA library: a clear error, no panic.
#[test]
fn nvml_without_a_driver_says_why() {
    if std::path::Path::new("/proc/driver/nvidia/version").exists() {
        return; // a real driver: the device check covers this machine
    }
    let report = uaiso::sys::nvml::report();
    assert!(report.gpus.is_empty());
    let err = report
        .error
        .expect("NVML cannot start without libnvidia-ml");
    assert!(err.starts_with("NVML could not start"), "{err}");
}

/// CPUID as raw-cpuid reads it names the same features as the kernel's cpuinfo.
#[cfg(target_arch = "x86_64")]
#[test]
fn cpuid_agrees_with_cpuinfo() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let kernel: std::collections::BTreeSet<&str> = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, f)| f.split_whitespace().collect())
        .unwrap();
    let cpuid = uaiso::sys::cpuid::report().unwrap();
    for flag in &cpuid.flags {
        assert!(
            kernel.contains(flag.as_str()),
            "CPUID says {flag}, cpuinfo does not"
        );
    }
    let tracked = [
        "avx",
        "avx2",
        "fma",
        "f16c",
        "bmi2",
        "avx512f",
        "avx512cd",
        "avx512vl",
        "avx512dq",
        "avx512bw",
        "avx512vbmi",
        "avx512_vnni",
        "avx512_bf16",
        "avx_vnni",
        "amx_tile",
        "amx_int8",
        "sse4_2",
        "aes",
        "hypervisor",
    ];
    for flag in tracked {
        assert_eq!(
            kernel.contains(flag),
            cpuid.flags.iter().any(|f| f == flag),
            "{flag}: cpuinfo and CPUID disagree"
        );
    }
}
