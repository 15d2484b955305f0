#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `meshscope record`: a bundle written from a live collection (the
//! simulated cluster) reads back as the same snapshot; a redacted one hides
//! IPs, pod hashes and principals but keeps the graph.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use meshscope::collect::session::{LiveRounds, live_rounds};
use meshscope::model::snapshot::Snapshot;
use meshscope::record::{live_snapshot_of, write};
use meshscope::sim::apiserver::ApiServerConfig;
use meshscope::sim::demo::Demo;
use meshscope::sim::scenario::load;

async fn collect(scenario: &str) -> LiveRounds {
    let demo = Demo::start(load(scenario).unwrap(), None, ApiServerConfig::default())
        .await
        .unwrap();
    let opts = demo.live_options(Duration::from_millis(500));
    let r = tokio::time::timeout(Duration::from_secs(60), live_rounds(&opts, 2, true))
        .await
        .expect("collection within 60 s")
        .unwrap();
    demo.shutdown().await;
    r
}

fn read_back(dir: &Path) -> Snapshot {
    meshscope::app_main::snapshot_from_bundle(dir, None).unwrap()
}

/// Everything but the sources (kube vs manifests) and nothing else.
fn comparable(s: &Snapshot) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap();
    v.as_object_mut().unwrap().remove("sources");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_then_snapshot_from_round_trips() {
    for scenario in ["bookinfo", "emojivoto"] {
        let r = collect(scenario).await;
        let live = live_snapshot_of(&r, None);
        assert!(!live.edges.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("bundle");
        if scenario == "bookinfo" {
            // A bundle keeps each Envoy page whole: no `?filter=` (families
            // no dialect reads are still there).
            let pages: Vec<&Vec<u8>> = r.raw.iter().flat_map(|m| m.values()).collect();
            assert!(!pages.is_empty());
            assert!(pages.iter().all(|p| {
                let t = String::from_utf8_lossy(p);
                t.is_empty() || t.contains("envoy_server_uptime")
            }));
            assert!(
                pages
                    .iter()
                    .any(|p| String::from_utf8_lossy(p).contains("istio_request_bytes_bucket"))
            );
        }
        let w = write(&out, &r, false).unwrap();
        assert_eq!(w.rounds, 2);
        assert!(w.scrapes > 0 && w.objects > 0);
        let text = std::fs::read_to_string(out.join("manifests/objects.json")).unwrap();
        assert!(!text.contains("managedFields") && !text.contains("\"kind\": \"Secret\""));
        let back = read_back(&out);
        common::assert_valid_snapshot(&serde_json::to_value(&back).unwrap());
        assert_eq!(
            comparable(&back),
            comparable(&live),
            "{scenario}: round trip"
        );
        // Writing into a non-empty folder is refused.
        let e = write(&out, &r, false).unwrap_err().to_string();
        assert!(e.contains("not empty"), "{e}");
    }
}

fn shape(
    s: &Snapshot,
) -> (
    BTreeSet<String>,
    BTreeSet<String>,
    BTreeSet<(String, String)>,
) {
    (
        s.nodes.iter().map(|n| n.id.clone()).collect(),
        s.edges
            .iter()
            .map(|e| format!("{} -> {} {:?}", e.source, e.target, e.protocol))
            .collect(),
        s.gaps
            .iter()
            .map(|g| (g.kind.clone(), g.subject.clone()))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redacted_bundle_keeps_the_graph_and_hides_what_it_should() {
    for scenario in ["bookinfo", "emojivoto"] {
        let r = collect(scenario).await;
        let live = live_snapshot_of(&r, None);
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        let red = dir.path().join("red");
        write(&plain, &r, false).unwrap();
        write(&red, &r, true).unwrap();
        let back = read_back(&red);
        assert_eq!(shape(&back), shape(&live), "{scenario}: same graph shape");
        // What must be gone: pod IPs, pod names' hashes, principals.
        let all = |d: &Path| {
            let mut s = String::new();
            for e in walk(d) {
                s.push_str(&e.0);
                s.push('\n');
                s.push_str(&std::fs::read_to_string(&e.1).unwrap());
            }
            s
        };
        let redacted = all(&red);
        for p in &r.inventory.pods {
            if let Some(ip) = &p.ip {
                assert!(
                    !redacted.contains(&format!("\"{ip}\"")),
                    "{scenario}: IP {ip} left"
                );
            }
            if p.name.matches('-').count() >= 2 {
                assert!(
                    !redacted.contains(&p.name),
                    "{scenario}: pod name {} left",
                    p.name
                );
            }
            if let Some(sa) = &p.service_account {
                let principal = format!("ns/{}/sa/{sa}", p.namespace);
                let linkerd = format!("{sa}.{}.serviceaccount.identity", p.namespace);
                assert!(
                    !redacted.contains(&principal) && !redacted.contains(&linkerd),
                    "{scenario}: {principal}"
                );
            }
        }
        // Consistent: redacting twice gives the same bundle.
        let red2 = dir.path().join("red2");
        write(&red2, &r, true).unwrap();
        assert_eq!(all(&red), all(&red2));
        assert_ne!(all(&plain), all(&red));
    }
}

fn walk(d: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![d.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.strip_prefix(d).unwrap().display().to_string(), path));
            }
        }
    }
    out.sort();
    out
}
