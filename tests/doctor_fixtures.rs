//! `uaiso doctor --sysroot` over every fixture host: snapshots of the human and JSON
//! reports, the facts each machine must yield, and variants made from the fixtures
//! (a card without its driver, cgroup v1, a proxy, a busy port).
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;

use common::{copy_tree, fixture_names, fixtures, stderr, stdout, uaiso};
use serde_json::Value;

fn run(root: &Path, json: bool) -> (i32, String) {
    let root_s = root.to_str().unwrap();
    let mut args = vec!["doctor", "--sysroot", root_s];
    if json {
        args.push("--json");
    }
    let out = uaiso(&args);
    let code = out.status.code().expect("exited");
    assert!(matches!(code, 0 | 1), "{}", stderr(&out));
    (code, stdout(&out))
}

fn report(root: &Path) -> Value {
    serde_json::from_str(&run(root, true).1).unwrap()
}

fn statuses(report: &Value, id: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .map(|f| f["status"].as_str().unwrap().to_string())
        .collect()
}

fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
}

#[test]
fn reports_match_their_snapshots() {
    let names = fixture_names();
    assert!(names.len() >= 6, "six fixture hosts at least: {names:?}");
    for name in names {
        let dir = fixtures().join(&name);
        let shown = format!("tests/fixtures/hosts/{name}");
        let (code, human) = run(&dir, false);
        let human = human.replace(dir.to_str().unwrap(), &shown);
        insta::assert_snapshot!(format!("{name}.txt"), human);
        let (json_code, json) = run(&dir, true);
        assert_eq!(code, json_code, "{name}: both outputs exit alike");
        let mut value: Value = serde_json::from_str(&json).unwrap();
        value["source"] = Value::String(shown);
        value["uaiso_version"] = Value::String("[version]".into());
        assert_eq!(code == 1, value["summary"]["fail"].as_u64().unwrap() > 0);
        insta::assert_json_snapshot!(format!("{name}.json"), value);
    }
}

#[test]
fn icelake_laptop() {
    let r = report(&fixtures().join("icelake-laptop-8g"));
    let cpu = &r["facts"]["cpu"];
    assert_eq!(cpu["llama_cpu_variant"], "icelake");
    assert_eq!(cpu["x86_level"], 4);
    assert_eq!(cpu["features"]["avx512_vnni"], true);
    assert_eq!(
        (cpu["cores"].as_u64(), cpu["threads"].as_u64()),
        (Some(4), Some(8))
    );
    assert_eq!(cpu["hypervisor"], Value::Null);
    let mem = &r["facts"]["memory"];
    assert!(mem["zram_swap_bytes"].as_u64().unwrap() > 0);
    assert_eq!(mem["disk_swap_bytes"], 0);
    assert_eq!(mem["zram"][0]["algorithm"], "zstd");
    let gpu = &r["facts"]["gpus"][0];
    assert_eq!(
        (gpu["vendor"].as_str(), gpu["integrated"].as_bool()),
        (Some("intel"), Some(true))
    );
    assert_eq!(statuses(&r, "memory.ram"), ["warn"]);
}

#[test]
fn x79_with_six_rtx_3060() {
    let r = report(&fixtures().join("x79-xeon-6x3060"));
    let cpu = &r["facts"]["cpu"];
    assert_eq!(cpu["features"]["avx2"], false);
    assert_eq!(cpu["features"]["avx"], true);
    assert_eq!(cpu["sockets"], 2);
    let gpus = r["facts"]["gpus"].as_array().unwrap();
    assert_eq!(gpus.len(), 6, "audio functions are not GPUs");
    assert!(gpus.iter().all(|g| g["vram_total_bytes"] == 12884901888u64));
    assert!(
        gpus.iter()
            .all(|g| g["nvidia"]["compute_capability"] == "8.6")
    );
    assert_eq!(statuses(&r, "gpu.nvidia.toolkit"), ["fail"]);
    assert_eq!(statuses(&r, "gpu.power"), ["warn"]);
    assert!(
        finding(&r, "gpu.power")["message"]
            .as_str()
            .unwrap()
            .contains("1020 W")
    );
    assert_eq!(statuses(&r, "gpu.pcie"), ["warn"]);
    assert_eq!(statuses(&r, "cpu.isa"), ["warn"]);
    assert!(
        finding(&r, "cpu.isa")["hint"].is_null(),
        "bare metal: no passthrough hint"
    );
}

#[test]
fn dual_cascade_lake_workstation() {
    let r = report(&fixtures().join("dual-cascadelake-4xa4000"));
    let cpu = &r["facts"]["cpu"];
    assert_eq!(cpu["sockets"], 2);
    assert_eq!(cpu["llama_cpu_variant"], "cascadelake");
    assert_eq!(r["facts"]["gpus"].as_array().unwrap().len(), 4);
    assert_eq!(statuses(&r, "gpu.nvidia.toolkit"), ["pass"]);
    assert_eq!(statuses(&r, "gpu.power"), ["pass"]);
    assert_eq!(r["summary"]["fail"], 0);
}

#[test]
fn kvm_guest_without_avx2_gets_the_passthrough_hint() {
    let r = report(&fixtures().join("kvm-guest-noavx2"));
    assert_eq!(r["facts"]["cpu"]["hypervisor"], "kvm");
    assert_eq!(r["facts"]["cpu"]["features"]["avx2"], false);
    let isa = finding(&r, "cpu.isa");
    assert_eq!(isa["status"], "warn");
    assert!(isa["hint"].as_str().unwrap().contains("--cpu host"));
    assert_eq!(
        statuses(&r, "gpu.none"),
        ["pass"],
        "the bochs VGA is no compute GPU"
    );
}

#[test]
fn n100_with_intel_igpu_only() {
    let r = report(&fixtures().join("n100-intel-igpu"));
    assert_eq!(r["facts"]["cpu"]["llama_cpu_variant"], "alderlake");
    assert_eq!(r["facts"]["cpu"]["features"]["avx512f"], false);
    let gpus = r["facts"]["gpus"].as_array().unwrap();
    assert_eq!(gpus.len(), 1);
    assert_eq!(gpus[0]["render_node"], "/dev/dri/renderD128");
    assert_eq!(statuses(&r, "gpu.intel.driver"), ["pass"]);
}

#[test]
fn strix_halo_is_uma_with_rocm() {
    let r = report(&fixtures().join("strix-halo-uma"));
    let gpu = &r["facts"]["gpus"][0];
    assert_eq!(gpu["amd_gfx_target"], "gfx1151");
    assert_eq!(gpu["integrated"], true);
    assert_eq!(r["facts"]["accelerators"].as_array().unwrap().len(), 1);
    assert_eq!(r["facts"]["cpu"]["features"]["avx512_bf16"], true);
    assert_eq!(statuses(&r, "gpu.amd.driver"), ["pass"]);
}

/// A copy of a fixture to change.
fn variant(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join(name), dir.path());
    dir
}

#[test]
fn nvidia_card_without_a_driver_fails_with_the_fix() {
    let dir = variant("x79-xeon-6x3060");
    let root = dir.path();
    for entry in std::fs::read_dir(root.join("sys/bus/pci/devices")).unwrap() {
        let _ = std::fs::remove_file(entry.unwrap().path().join("driver"));
    }
    std::fs::remove_file(root.join("uaiso/nvidia.json")).unwrap();
    std::fs::remove_file(root.join("proc/driver/nvidia/version")).unwrap();
    let (code, _) = run(root, false);
    assert_eq!(code, 1);
    let r = report(root);
    let f = finding(&r, "gpu.nvidia.driver");
    assert_eq!(f["status"], "fail");
    assert!(f["message"].as_str().unwrap().contains("no driver loaded"));
    assert!(f["hint"].as_str().unwrap().contains("ubuntu-drivers"));
}

#[test]
fn nvml_failure_is_a_failing_check() {
    let dir = variant("dual-cascadelake-4xa4000");
    std::fs::write(
        dir.path().join("uaiso/nvidia.json"),
        r#"{"schema":1,"error":"NVML could not start: a libloading error occurred: libnvidia-ml.so.1: cannot open shared object file","driver_version":null,"cuda_driver_version":null,"gpus":[]}"#,
    )
    .unwrap();
    let r = report(dir.path());
    let f = finding(&r, "gpu.nvidia.nvml");
    assert_eq!(f["status"], "fail");
    assert!(f["message"].as_str().unwrap().contains("libnvidia-ml.so.1"));
    // The driver version still comes from /proc/driver/nvidia/version.
    assert_eq!(r["facts"]["nvidia"]["driver_version"], "520.61.05");
}

#[test]
fn cgroup_v1_fails_and_busy_ports_are_named() {
    let dir = variant("n100-intel-igpu");
    let root = dir.path();
    std::fs::remove_file(root.join("sys/fs/cgroup/cgroup.controllers")).unwrap();
    let mounts = std::fs::read_to_string(root.join("proc/mounts")).unwrap();
    let mounts: String = mounts
        .lines()
        .filter(|l| !l.contains("cgroup2"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n";
    std::fs::write(root.join("proc/mounts"), mounts).unwrap();
    let mut tcp = std::fs::read_to_string(root.join("proc/net/tcp")).unwrap();
    tcp.push_str("   9: 00000000:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99999 1 0000000000000000 100 0 0 10 0\n");
    std::fs::write(root.join("proc/net/tcp"), tcp).unwrap();
    let r = report(root);
    assert_eq!(r["facts"]["host"]["cgroup"], "v1");
    assert_eq!(statuses(&r, "host.cgroup"), ["fail"]);
    let ports = finding(&r, "host.ports");
    assert_eq!(ports["status"], "fail");
    assert!(ports["message"].as_str().unwrap().contains("6443"));
}

#[test]
fn proxy_without_cluster_ranges_gets_a_ready_no_proxy() {
    let dir = variant("n100-intel-igpu");
    let host = dir.path().join("uaiso/host.json");
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&host).unwrap()).unwrap();
    value["env"] = serde_json::json!({"HTTPS_PROXY": "http://***@proxy.lan:3128", "NO_PROXY": "localhost,127.0.0.1"});
    std::fs::write(&host, value.to_string()).unwrap();
    let r = report(dir.path());
    let f = finding(&r, "host.proxy");
    assert_eq!(f["status"], "warn");
    assert_eq!(
        f["hint"],
        "export NO_PROXY=localhost,127.0.0.1,10.42.0.0/16,10.43.0.0/16"
    );
}
