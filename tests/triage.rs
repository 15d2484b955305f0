#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `meshscope triage` and `demo --triage`: the planted failing edge ranks
//! first from each scenario's entry service, verdicts map to exit codes,
//! bad input exits 3 naming the value, the JSON follows its schema.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use meshscope::sim::bundle::write_bundle;
use meshscope::sim::proxy::Noise;
use meshscope::sim::scenario;
use serde_json::Value;

fn bin() -> Command {
    Command::cargo_bin("meshscope").unwrap()
}

fn bundle(name: &str) -> PathBuf {
    common::fixtures().join("bundles").join(name)
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = bin()
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn json(args: &[&str]) -> (i32, Value) {
    let (code, out, err) = run(args);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code.unwrap(), v)
}

/// The planted failing edge of a scenario, `a -> b`.
fn planted_failing(name: &str) -> String {
    let s = scenario::load(name).unwrap();
    s.imperfections
        .iter()
        .find(|i| i.kind == "failing_edge")
        .unwrap()
        .subject
        .clone()
}

fn first_culprit(report: &Value) -> String {
    let c = &report["errors"]["culprits"][0];
    format!(
        "{} -> {}",
        c["source"].as_str().unwrap(),
        c["target"].as_str().unwrap()
    )
}

fn assert_valid_report(v: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/triage.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(v).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "report does not follow its schema: {errors:?}"
    );
}

#[test]
fn committed_schema_matches_the_struct() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/triage.schema.json");
    let generated =
        serde_json::to_string_pretty(&meshscope::triage::triage_schema()).unwrap() + "\n";
    if std::env::var_os("MESHSCOPE_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap_or_default(),
        generated,
        "docs/triage.schema.json is stale: run MESHSCOPE_UPDATE_FIXTURES=1 cargo test --test triage"
    );
}

/// Each demo scenario, triaged from its entry service over the live
/// (simulated) cluster: the planted failing edge ranks first.
fn demo_ranks_planted_first(name: &str, entry: &str) -> Value {
    let (code, v) = json(&[
        "demo",
        "--scenario",
        name,
        "--triage",
        entry,
        "--interval",
        "400ms",
        "-o",
        "json",
    ]);
    assert!((0..=2).contains(&code), "{name}: exit {code}");
    assert_eq!(
        code,
        i32::from(v["verdict"] != "healthy") + i32::from(v["verdict"] == "critical")
    );
    assert_valid_report(&v);
    assert_eq!(
        first_culprit(&v),
        planted_failing(name),
        "{name}: {:#}",
        v["errors"]
    );
    assert!(
        v["baseline"].is_object(),
        "{name}: three rounds give a baseline"
    );
    assert_eq!(v["changes"].as_array().unwrap().len(), 6);
    v
}

#[test]
fn demo_bookinfo_productpage() {
    let v = demo_ranks_planted_first("bookinfo", "productpage");
    assert_eq!(v["subject"]["id"], "svc:default/productpage");
    assert_eq!(v["errors"]["culprits"][0]["depth"], 2);
    assert_eq!(v["errors"]["culprits"][0]["kind"], "origin");
}

#[test]
fn demo_boutique_frontend() {
    let v = demo_ranks_planted_first("boutique", "frontend");
    assert_eq!(v["subject"]["id"], "svc:default/frontend");
}

#[test]
fn demo_emojivoto_web() {
    // The web workload: its own failing call ranks first.
    let v = demo_ranks_planted_first("emojivoto", "emojivoto/web");
    assert_eq!(v["verdict"], "critical", "8% of vote-bot's requests fail");
    // Its callers are hit: vote-bot first.
    assert_eq!(
        v["blast_radius"]["callers"][0]["source"], "emojivoto/vote-bot",
        "{:#}",
        v["blast_radius"]
    );
    // The Service in front of web and web-canary: a failing call into
    // voting from one of its workloads ranks first.
    let (_, v) = json(&[
        "demo",
        "--scenario",
        "emojivoto",
        "--triage",
        "web-svc",
        "--interval",
        "400ms",
        "-o",
        "json",
    ]);
    let c = &v["errors"]["culprits"][0];
    assert_eq!(c["target"], "emojivoto/voting");
    assert!(["emojivoto/web", "emojivoto/web-canary"].contains(&c["source"].as_str().unwrap()));
}

/// A bundle with three rounds (0, 10 s, 20 s): baseline and long window.
fn three_round_bundle(name: &str, dir: &Path) {
    let s = scenario::load(name).unwrap();
    write_bundle(dir, &s, &[0, 10_000, 20_000], Noise::None).unwrap();
}

#[test]
fn bundle_with_three_rounds_has_a_baseline_and_ranks_the_culprit() {
    for (name, entry) in [("bookinfo", "productpage"), ("boutique", "frontend")] {
        let dir = tempfile::tempdir().unwrap();
        three_round_bundle(name, dir.path());
        let d = dir.path().to_str().unwrap();
        let (code, v) = json(&["triage", entry, "--from", d, "-o", "json"]);
        assert_eq!(code, 0, "{name}: the entry service itself is healthy");
        assert_valid_report(&v);
        assert_eq!(first_culprit(&v), planted_failing(name));
        assert!(v["burn_rate_long"].is_number());
        assert!((v["signals"]["window_seconds"].as_f64().unwrap() - 10.0).abs() < 1e-6);
        assert!(v["baseline"]["rps"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn bundle_verdicts_and_exit_codes() {
    let b = bundle("bookinfo");
    let d = b.to_str().unwrap();
    // ratings answers ~10% errors: 100× the 0.1% budget, critical.
    let (code, out, _) = run(&["triage", "ratings", "--from", d]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("VERDICT: CRITICAL"), "{out}");
    assert!(out.contains("no baseline"), "{out}");
    // The same with a looser objective: 98.5% → ~6.8× burn, degraded.
    let dir = tempfile::tempdir().unwrap();
    let slo = dir.path().join("slo.toml");
    std::fs::write(
        &slo,
        "[services.\"default/ratings\"]\nsuccess_rate = 98.5\n",
    )
    .unwrap();
    let (code, out, _) = run(&[
        "triage",
        "default/ratings",
        "--from",
        d,
        "--slo",
        slo.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("VERDICT: DEGRADED") && out.contains("slo.toml"),
        "{out}"
    );
    // 85%: within budget, healthy.
    std::fs::write(&slo, "[default]\nsuccess_rate = 85\n").unwrap();
    let (code, out, _) = run(&[
        "triage",
        "ratings",
        "-n",
        "default",
        "--from",
        d,
        "--slo",
        slo.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn emojivoto_bundle_names_the_failing_callee() {
    let b = bundle("emojivoto");
    let (code, v) = json(&[
        "triage",
        "emojivoto/web",
        "--from",
        b.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(code, 2);
    assert_eq!(first_culprit(&v), planted_failing("emojivoto"));
    let share = v["errors"]["culprits"][0]["share_of_target_failures"]
        .as_f64()
        .unwrap();
    assert!(share > 0.0 && share <= 1.0);
}

#[test]
fn no_traffic_says_so() {
    let b = bundle("bookinfo");
    let (code, out, _) = run(&[
        "triage",
        "istio-system/istiod",
        "--from",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("no requests in the last"), "{out}");
    assert!(out.contains("received no requests"), "{out}");
}

#[test]
fn bad_input_exits_3_naming_the_value() {
    let b = bundle("bookinfo");
    let d = b.to_str().unwrap();
    let (code, _, err) = run(&["triage", "revews", "--from", d]);
    assert_eq!(code, Some(3));
    assert!(
        err.contains("'revews'") && err.contains("default/reviews"),
        "{err}"
    );
    let (code, _, err) = run(&["triage", "reviews", "-n", "prod", "--from", d]);
    assert_eq!(code, Some(3));
    assert!(err.contains("namespace 'prod'"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let slo = dir.path().join("bad.toml");
    std::fs::write(&slo, "[default]\nlatency_p99_ms = -5\n").unwrap();
    let (code, _, err) = run(&[
        "triage",
        "ratings",
        "--from",
        d,
        "--slo",
        slo.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(3));
    assert!(
        err.contains("bad.toml") && err.contains("default.latency_p99_ms"),
        "{err}"
    );
    std::fs::write(&slo, "[default\n").unwrap();
    let (code, _, err) = run(&[
        "triage",
        "ratings",
        "--from",
        d,
        "--slo",
        slo.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(3));
    assert!(err.contains("bad.toml"), "{err}");
    let (code, _, err) = run(&[
        "triage",
        "ratings",
        "--from",
        d,
        "--slo",
        "/nonexistent/slo.toml",
    ]);
    assert_eq!(code, Some(3));
    assert!(err.contains("/nonexistent/slo.toml"), "{err}");
    // Live: the name is checked right after the list, before any scrape.
    let t = std::time::Instant::now();
    let (code, _, err) = run(&["demo", "--triage", "ratngs", "--interval", "5s"]);
    assert_eq!(code, Some(3));
    assert!(
        err.contains("'ratngs'") && err.contains("default/ratings"),
        "{err}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "failed before the rounds"
    );
    let (code, _, err) = run(&["triage", "ratings", "--from", "/nonexistent/bundle"]);
    assert_eq!(code, Some(3));
    assert!(err.contains("/nonexistent/bundle"), "{err}");
}
