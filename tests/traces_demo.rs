#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The simulator's Jaeger API end to end: `demo --headless` merges its own
//! Jaeger's traces, `snapshot --traces URL` reads a backend, and a dead
//! backend is an `unavailable` source, never a failure.

mod common;

use std::time::Duration;

use assert_cmd::Command;
use meshscope::collect::session::live_snapshot_traced;
use meshscope::collect::traces::TraceSource;
use meshscope::collect::traces::client::{FetchOptions, fetch};
use meshscope::model::snapshot::{Edge, Evidence};
use meshscope::sim::apiserver::ApiServerConfig;
use meshscope::sim::demo::{Demo, WARM_UP_MS};

fn bin() -> Command {
    Command::cargo_bin("meshscope").unwrap()
}

fn snapshot(out: &[u8]) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(out).unwrap();
    common::assert_valid_snapshot(&v);
    v
}

#[test]
fn headless_demo_shows_trace_evidence() {
    let out = bin()
        .args(["demo", "--headless"])
        .timeout(Duration::from_secs(90))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = snapshot(&out.stdout);
    let src = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "traces (jaeger api_v3)")
        .expect("a traces source");
    assert_eq!(src["status"], "ok", "{src}");
    let edges = v["edges"].as_array().unwrap();
    let find = |s: &str, t: &str| {
        edges
            .iter()
            .find(|e| e["source"] == s && e["target"] == t)
            .unwrap_or_else(|| panic!("no edge {s} → {t}"))
    };
    let e = find("default/productpage-v1", "default/reviews-v2");
    assert_eq!(e["evidence"], serde_json::json!(["metrics", "traces"]));
    assert!(!e["traces"].as_array().unwrap().is_empty());
    // sleep has no sidecar: metrics see an `unknown` caller, its traces
    // (the callee's server spans naming it as peer) see who it is.
    let e = find("legacy/sleep", "default/productpage-v1");
    assert_eq!(e["evidence"], serde_json::json!(["traces"]));
    assert_eq!(
        find("unknown", "default/productpage-v1")["evidence"],
        serde_json::json!(["metrics"])
    );
}

#[test]
fn snapshot_with_a_dead_trace_backend_is_degraded_not_failed() {
    let Some(_) = common::corpus() else { return };
    let dir = common::fixtures().join("bundles/bookinfo");
    let out = bin()
        .args(["snapshot", "--traces", "http://127.0.0.1:9", "--from"])
        .arg(&dir)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = snapshot(&out.stdout);
    let src = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "traces")
        .unwrap();
    assert_eq!(src["status"], "unavailable");
    assert!(
        src["detail"].as_str().unwrap().contains("127.0.0.1:9"),
        "{src}"
    );
    let bad = bin()
        .args(["snapshot", "--traces", "ftp://x", "--from"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stdout).contains("is not http or https"));
}

#[tokio::test(flavor = "multi_thread")]
async fn client_reads_the_simulated_jaeger() {
    let scenario = meshscope::sim::scenario::load("bookinfo").unwrap();
    let demo = Demo::start(scenario, None, ApiServerConfig::default())
        .await
        .unwrap();
    let jaeger = demo.start_jaeger().await.unwrap();
    let opts = FetchOptions {
        clock_offset_ms: (demo.scenario.epoch_ms + WARM_UP_MS) as i64
            - meshscope::collect::live::now_ms(),
        limit: 10,
        ..FetchOptions::default()
    };
    let input = fetch(&jaeger.url(), &opts.clone()).await;
    assert_eq!(input.failed, None);
    assert_eq!(input.name, "traces (jaeger api_v3)");
    assert!(input.problems.is_empty(), "{:?}", input.problems);
    assert!(!input.traces.is_empty());
    let g = input.graph();
    assert!(
        g.edges["productpage.default"].contains_key("reviews.default"),
        "{:?}",
        g.counts()
    );
    // Every call has a client and a server span: counted once each, so
    // missing parents and duplicates are zero.
    assert_eq!(g.stats.missing_parents, 0);
    assert_eq!(g.stats.duplicate_span_ids, 0);
    // A live collection with the backend merged before the analysis.
    let live = demo.live_options(Duration::from_millis(500));
    let source = TraceSource {
        url: jaeger.url(),
        options: opts,
    };
    let snap = live_snapshot_traced(&live, Some(&source)).await.unwrap();
    let traced: Vec<&Edge> = snap
        .edges
        .iter()
        .filter(|e| e.evidence.contains(&Evidence::Traces))
        .collect();
    assert!(traced.len() >= 5, "{} traced edges", traced.len());
    assert!(traced.iter().all(|e| !e.traces.is_empty()));
    // `snapshot --traces URL` finds and names the backend (the CLI asks
    // for the last 15 minutes of the real clock: the simulator's traces
    // live on the scenario's clock, so there may be none).
    let url = jaeger.url();
    let kc = demo.kubeconfig.clone();
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args([
                "snapshot",
                "--window",
                "1s",
                "-A",
                "--traces",
                &url,
                "--kubeconfig",
            ])
            .arg(&kc)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = snapshot(&out.stdout);
    assert!(
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "traces (jaeger api_v3)" && s["status"] == "ok"),
        "{}",
        v["sources"]
    );
    jaeger.shutdown().await;
    demo.shutdown().await;
}
