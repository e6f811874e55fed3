//! `uaiso plan`, `profile` and `models` over the fixture hosts: the selection per box,
//! snapshots of the plan, the budget property, and the refusals.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{fixture_names, fixtures, stderr, stdout, uaiso};
use serde_json::Value;

fn plan(name: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = fixtures().join(name);
    let mut args = vec!["plan", "--sysroot", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = uaiso(&args);
    (out.status.code().unwrap(), stdout(&out), stderr(&out))
}

fn plan_json(name: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = plan(name, &args);
    assert_eq!(code, 0, "{name}: {err}");
    serde_json::from_str(&out).unwrap()
}

/// Each fixture host gets the profile and model a person would pick for it.
#[test]
fn selection_per_fixture_host() {
    let table = [
        (
            "dual-cascadelake-4xa4000",
            "nvidia-multi",
            "qwen2.5-32b-instruct",
        ),
        ("icelake-laptop-8g", "cpu-small", "qwen2.5-3b-instruct"),
        ("kvm-guest-noavx2", "cpu-small", "llama-3.2-3b-instruct"),
        ("n100-intel-igpu", "cpu-small", "llama-3.2-3b-instruct"),
        ("rx7900xtx-rocm", "amd-rocm", "qwen2.5-14b-instruct"),
        ("strix-halo-uma", "vulkan-uma", "llama-3.3-70b-instruct"),
        ("x79-xeon-6x3060", "nvidia-multi", "llama-3.3-70b-instruct"),
    ];
    assert_eq!(
        table.len(),
        fixture_names().len(),
        "every fixture is in the table"
    );
    for (host, profile, model) in table {
        let sel = plan_json(host, &[]);
        assert_eq!(sel["profile"]["name"], profile, "{host}");
        assert_eq!(sel["model"]["id"], model, "{host}");
        let fit = &sel["model"]["fit"];
        assert!(
            fit["total_bytes"].as_u64() <= sel["budget"]["limit_bytes"].as_u64(),
            "{host}"
        );
    }
}

#[test]
fn plans_match_their_snapshots() {
    for name in fixture_names() {
        let (code, out, err) = plan(&name, &[]);
        assert_eq!(code, 0, "{name}: {err}");
        insta::assert_snapshot!(format!("plan-{name}"), out);
    }
}

#[test]
fn server_flags_follow_the_selection() {
    let six = plan_json("x79-xeon-6x3060", &[]);
    let server = &six["server"];
    assert_eq!(
        server["tensor_split"],
        serde_json::json!([12, 12, 12, 12, 12, 12])
    );
    assert_eq!(server["flash_attn"], "on");
    assert_eq!(server["gpu_layers"], 81, "80 layers and the output layer");
    let args: Vec<&str> = server["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(args.windows(2).any(|w| w == ["--port", "8080"]));
    assert!(
        !args.iter().any(|a| a.contains("api-key")),
        "the API key never goes in the args"
    );

    let cpu = plan_json("kvm-guest-noavx2", &[]);
    assert_eq!(cpu["server"]["gpu_layers"], Value::Null);
    assert_eq!(
        cpu["server"]["numa"],
        Value::Null,
        "virtual sockets are no NUMA nodes"
    );
    assert_eq!(cpu["server"]["threads"], 4);

    let two_sockets = plan_json("dual-cascadelake-4xa4000", &["--profile", "cpu"]);
    assert_eq!(two_sockets["server"]["numa"], "distribute");
    assert_eq!(
        two_sockets["server"]["threads"], 32,
        "physical cores, not threads"
    );
}

#[test]
fn model_override_warns_or_refuses_with_the_numbers() {
    let sel = plan_json(
        "icelake-laptop-8g",
        &["--model", "qwen2.5-0.5b-instruct:Q8_0"],
    );
    assert_eq!(sel["model"]["fit"]["quant"], "Q8_0");
    assert_eq!(
        sel["model_reasons"][0],
        "`--model qwen2.5-0.5b-instruct:Q8_0` given"
    );

    let (code, _, err) = plan("icelake-laptop-8g", &["--model", "llama-3.3-70b-instruct"]);
    assert_eq!(code, 1);
    assert!(err.contains("llama-3.3-70b-instruct does not fit"), "{err}");
    assert!(err.contains("short"), "{err}");

    let (code, _, err) = plan("icelake-laptop-8g", &["--model", "qwen2.5-7b-instruc"]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean `qwen2.5-7b-instruct`?"), "{err}");

    let (code, _, err) = plan(
        "icelake-laptop-8g",
        &["--model", "qwen2.5-7b-instruct:Q2_K"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("has no `Q2_K` file") && err.contains("Q4_K_M"),
        "{err}"
    );

    let (code, _, err) = plan("icelake-laptop-8g", &["--profile", "gpu-huge"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no profile named `gpu-huge`") && err.contains("cpu-small"),
        "{err}"
    );
}

#[test]
fn user_profiles_are_validated_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/cpu.toml"),
    )
    .unwrap();
    let mine = dir.path().join("mine.toml");
    std::fs::write(
        &mine,
        good.replace("name = \"cpu\"", "name = \"mine\"")
            .replace("parallel = 2", "parallel = 2\nslots = 3"),
    )
    .unwrap();
    let (code, _, err) = plan(
        "n100-intel-igpu",
        &["--profile-file", mine.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("profile `{}`", mine.display())),
        "{err}"
    );
    assert!(
        err.contains("unknown field `slots`") && err.contains("line 23"),
        "{err}"
    );

    std::fs::write(
        &mine,
        good.replace("name = \"cpu\"", "name = \"mine\"")
            .replace("max_params_b = 14.0", "max_params_b = 1.0"),
    )
    .unwrap();
    let sel = plan_json(
        "n100-intel-igpu",
        &[
            "--profile-file",
            mine.to_str().unwrap(),
            "--profile",
            "mine",
        ],
    );
    assert_eq!(sel["profile"]["name"], "mine");
    assert!(sel["model"]["params_b"].as_f64().unwrap() <= 1.0);

    let list = uaiso(&["profile", "list", "--profile-file", mine.to_str().unwrap()]);
    assert!(stdout(&list).contains("mine"));
    let missing = uaiso(&["plan", "--profile-file", "/nonexistent/p.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/p.toml"));
}

#[test]
fn profile_and_models_commands() {
    let out = uaiso(&["profile", "list", "--json"]);
    let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for want in [
        "cpu-small",
        "cpu",
        "nvidia-single",
        "nvidia-multi",
        "amd-rocm",
        "vulkan-uma",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    let show = uaiso(&["profile", "show", "nvidia-multi"]);
    assert!(stdout(&show).contains("backend = \"cuda\""));
    let unknown = uaiso(&["profile", "show", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));

    let dir = fixtures().join("icelake-laptop-8g");
    let out = uaiso(&[
        "models",
        "list",
        "--fits",
        "--json",
        "--sysroot",
        dir.to_str().unwrap(),
    ]);
    let fits: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let fits = fits.as_array().unwrap();
    assert!(!fits.is_empty());
    assert!(
        fits.iter()
            .all(|f| f["margin_bytes"].as_i64().unwrap() >= 0)
    );
    assert!(
        !fits.iter().any(|f| f["model"] == "qwen2.5-7b-instruct"),
        "7B does not fit 8 GB"
    );
    let all = uaiso(&["models", "list"]);
    assert!(stdout(&all).contains("llama-3.3-70b-instruct"));
}
