#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `--traces auto`: the tracing service found in the (simulated) cluster
//! and read through a kube-rs port-forward; none in the cluster is an
//! `unavailable` source naming what was looked for, never a failure.

use std::time::Duration;

use meshscope::collect::session::{LiveOptions, live_snapshot_traced};
use meshscope::collect::traces::TraceSource;
use meshscope::model::snapshot::{Evidence, SourceState};
use meshscope::sim::apiserver::ApiServerConfig;
use meshscope::sim::demo::Demo;

fn live(demo: &Demo) -> LiveOptions {
    demo.live_options(Duration::from_millis(500))
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_finds_the_tracing_service_or_says_what_it_looked_for() {
    meshscope::collect::kube::install_crypto_provider();
    let scenario = meshscope::sim::scenario::load("bookinfo").unwrap();
    let demo = Demo::start(scenario, None, ApiServerConfig::default())
        .await
        .unwrap();
    let auto = TraceSource::new("auto");
    // No tracing service yet: the snapshot succeeds, the source says why.
    let snap = live_snapshot_traced(&live(&demo), Some(&auto))
        .await
        .unwrap();
    let src = snap.sources.iter().find(|s| s.name == "traces").unwrap();
    assert_eq!(src.status, SourceState::Unavailable, "{src:?}");
    let detail = src.detail.as_deref().unwrap();
    for looked in [
        "--traces auto",
        "istio-system/tracing",
        "jaeger-query",
        "zipkin",
        "tempo",
    ] {
        assert!(detail.contains(looked), "{looked}: {detail}");
    }
    assert!(!snap.edges.is_empty());
    assert!(
        snap.edges
            .iter()
            .all(|e| e.evidence == vec![Evidence::Metrics]),
        "no trace evidence without traces"
    );

    // The cluster's tracing service, as Istio's addon installs it.
    let jaeger = demo.serve_tracing().await.unwrap();
    let snap = live_snapshot_traced(&live(&demo), Some(&auto))
        .await
        .unwrap();
    let src = snap
        .sources
        .iter()
        .find(|s| s.name.starts_with("traces"))
        .unwrap();
    assert_eq!(
        src.name,
        "traces (jaeger api_v3, in-cluster istio-system/tracing)"
    );
    assert_eq!(src.status, SourceState::Ok, "{src:?}");
    let both: Vec<_> = snap
        .edges
        .iter()
        .filter(|e| e.evidence == vec![Evidence::Metrics, Evidence::Traces])
        .collect();
    assert!(both.len() >= 5, "{} edges seen in both", both.len());
    assert!(
        both.iter()
            .any(|e| e.source == "default/productpage-v1" && e.target == "default/reviews-v2")
    );
    // The api server saw the port-forward to the Jaeger pod.
    let forwarded = demo
        .api()
        .unwrap()
        .request_log()
        .iter()
        .any(|r| r.path.ends_with("/pods/jaeger-5f8c7d6b9-q7xkz/portforward"));
    assert!(forwarded);
    jaeger.shutdown().await;
    demo.shutdown().await;
}

/// `meshscope snapshot --traces auto` against `meshscope demo --serve-only`.
#[test]
fn snapshot_traces_auto_against_demo_serve_only() {
    use assert_cmd::cargo::CommandCargoExt;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let mut server = std::process::Command::cargo_bin("meshscope")
        .unwrap()
        .args(["demo", "--serve-only", "--kubeconfig-out"])
        .arg(&kc)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !kc.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    // The tracing service is applied just after the kubeconfig is written.
    std::thread::sleep(Duration::from_millis(500));
    let out = assert_cmd::Command::cargo_bin("meshscope")
        .unwrap()
        .args([
            "snapshot",
            "-A",
            "--window",
            "1s",
            "--traces",
            "auto",
            "--kubeconfig",
        ])
        .arg(&kc)
        .timeout(Duration::from_secs(90))
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let src = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().unwrap().starts_with("traces"))
        .unwrap()
        .clone();
    assert_eq!(src["status"], "ok", "{src}");
    let both = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["evidence"] == serde_json::json!(["metrics", "traces"]))
        .count();
    assert!(both >= 5, "{both} edges with both evidences; {src}");
}

#[test]
fn help_shows_traces_auto() {
    let out = assert_cmd::Command::cargo_bin("meshscope")
        .unwrap()
        .args(["snapshot", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--traces <URL>"), "{text}");
    assert!(text.contains("`auto`"), "{text}");
    assert!(text.contains("istio-system/tracing"), "{text}");
}
