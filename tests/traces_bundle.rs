#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `--from` a bundle holding Tempo (OTLP), Zipkin and Jaeger trace files:
//! trace edges merge into the metrics graph with the right evidence.

mod common;

use std::path::Path;

use meshscope::app_main::snapshot_from_bundle;
use meshscope::model::snapshot::{Evidence, Snapshot};
use serde_json::json;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let dst = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dst);
        } else {
            std::fs::copy(&p, &dst).unwrap();
        }
    }
}

fn bundle_with_traces() -> Option<(tempfile::TempDir, Snapshot)> {
    let corpus = common::corpus()?;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    copy_dir(&common::fixtures().join("bundles/bookinfo"), &dir);
    let traces = dir.join("traces");
    std::fs::create_dir_all(&traces).unwrap();
    // Kiali's Tempo capture of bookinfo, moved to this bundle's namespace.
    let tempo = std::fs::read_to_string(corpus.join("otlp/kiali__responseTrace.json")).unwrap();
    std::fs::write(
        traces.join("tempo.json"),
        tempo.replace(".bookinfo", ".default"),
    )
    .unwrap();
    // Zipkin: productpage calls a cache no proxy reports.
    let zipkin = json!([
        {"traceId": "00000000000000000000000000000abc", "id": "00000000000000a1", "kind": "SERVER",
         "name": "get", "timestamp": 1_000_000, "duration": 50_000,
         "localEndpoint": {"serviceName": "productpage.default"}},
        {"traceId": "00000000000000000000000000000abc", "id": "00000000000000a2", "parentId": "00000000000000a1",
         "kind": "CLIENT", "name": "cache get", "timestamp": 1_001_000, "duration": 7_000,
         "localEndpoint": {"serviceName": "productpage.default"},
         "remoteEndpoint": {"serviceName": "cache.default"}, "tags": {"http.status_code": "503"}},
        // sleep (no sidecar) → ratings, and ratings → details: leaf client
        // spans naming their peers.
        {"traceId": "0000000000000def", "id": "00000000000000b1", "kind": "CLIENT",
         "name": "get", "timestamp": 2_000_000, "duration": 3_000,
         "localEndpoint": {"serviceName": "sleep.legacy"},
         "remoteEndpoint": {"serviceName": "ratings.default"}},
        {"traceId": "0000000000000def", "id": "00000000000000b2", "kind": "CLIENT",
         "name": "get", "timestamp": 2_100_000, "duration": 2_000,
         "localEndpoint": {"serviceName": "ratings.default"},
         "remoteEndpoint": {"serviceName": "details.default"}}
    ]);
    std::fs::write(traces.join("zipkin.json"), zipkin.to_string()).unwrap();
    // Jaeger: details → ratings, which metrics never saw.
    let jaeger = json!({"data": [{"traceID": "00000000000000ff", "processes": {
        "p1": {"serviceName": "details.default"}, "p2": {"serviceName": "ratings.default"}},
        "spans": [
        {"traceID": "00000000000000ff", "spanID": "0000000000000001", "operationName": "a",
         "references": [], "startTime": 10, "duration": 9000, "processID": "p1",
         "tags": [{"key": "span.kind", "type": "string", "value": "server"}]},
        {"traceID": "00000000000000ff", "spanID": "0000000000000002", "operationName": "b",
         "references": [{"refType": "CHILD_OF", "traceID": "00000000000000ff", "spanID": "0000000000000001"}],
         "startTime": 20, "duration": 4000, "processID": "p2",
         "tags": [{"key": "span.kind", "type": "string", "value": "server"}]}]}]});
    std::fs::write(traces.join("jaeger.json"), jaeger.to_string()).unwrap();
    std::fs::write(traces.join("broken.json"), "{\"data\": [").unwrap();
    let snap = snapshot_from_bundle(&dir, None).unwrap();
    Some((tmp, snap))
}

#[test]
fn trace_only_edges_raise_policy_gaps() {
    let Some((_tmp, snap)) = bundle_with_traces() else {
        return;
    };
    let find = |kind: &str, subject: &str| {
        snap.gaps
            .iter()
            .find(|g| g.kind == kind && g.subject == subject)
            .unwrap_or_else(|| panic!("no {kind} {subject}: {:#?}", snap.gaps))
            .clone()
    };
    // ratings-viewer (dry-run) allows reviews and details, not sleep.
    let g = find("undeclared_edge", "legacy/sleep -> default/ratings-v1");
    assert!(g.message.contains("ratings-viewer"), "{g:?}");
    // details-viewer (enforced) allows only productpage: ratings reached
    // details in a trace, so the policy did not hold.
    let g = find(
        "policy_violation",
        "default/ratings-v1 -> default/details-v1",
    );
    assert_eq!(g.severity, meshscope::model::snapshot::Severity::Critical);
    // details → ratings is allowed (ratings-viewer names bookinfo-details)
    // and now observed, by traces: no gap about it.
    assert!(
        !snap
            .gaps
            .iter()
            .any(|g| g.subject == "default/details-v1 -> default/ratings-v1"),
        "{:#?}",
        snap.gaps
    );
}

fn evidence(s: &Snapshot, src: &str, dst: &str) -> Vec<Evidence> {
    s.edge(src, dst)
        .unwrap_or_else(|| panic!("no edge {src} → {dst}"))
        .evidence
        .clone()
}

#[test]
fn trace_edges_merge_with_evidence() {
    let Some((_tmp, snap)) = bundle_with_traces() else {
        return;
    };
    let both = vec![Evidence::Metrics, Evidence::Traces];
    assert_eq!(
        evidence(
            &snap,
            "istio-system/istio-ingressgateway",
            "default/productpage-v1"
        ),
        both
    );
    assert_eq!(
        evidence(&snap, "default/productpage-v1", "default/details-v1"),
        both
    );
    // `reviews.default` is three workloads behind svc:default/reviews: each
    // metrics edge of the split is confirmed.
    for v in ["v1", "v2", "v3"] {
        assert_eq!(
            evidence(
                &snap,
                "default/productpage-v1",
                &format!("default/reviews-{v}")
            ),
            both
        );
    }
    // Only metrics: sleep's plaintext calls.
    assert_eq!(
        evidence(&snap, "unknown", "default/productpage-v1"),
        vec![Evidence::Metrics]
    );
    // Only traces: a call to a cache no proxy reports, details → ratings.
    let cache = snap
        .edge("default/productpage-v1", "default/cache")
        .unwrap();
    assert_eq!(cache.evidence, vec![Evidence::Traces]);
    assert_eq!(cache.signals.success_rate, Some(0.0));
    assert_eq!(cache.signals.p50_ms, Some(7.0));
    assert_eq!(cache.traces.len(), 1);
    // 128-bit ids whose high half is zero print as 64-bit ids.
    assert_eq!(cache.traces[0].trace_id, "0000000000000abc");
    assert_eq!(cache.traces[0].status, Some(503));
    assert!(cache.traces[0].error);
    assert_eq!(
        evidence(&snap, "default/details-v1", "default/ratings-v1"),
        vec![Evidence::Traces]
    );
    let node = snap.node("default/cache").unwrap();
    assert!(!node.meshed);
    // Exemplars on a confirmed edge.
    let pd = snap
        .edge("default/productpage-v1", "default/details-v1")
        .unwrap();
    assert_eq!(pd.traces.len(), 1);
    assert_eq!(pd.traces[0].trace_id, "3ba55609c3cde49649cd77d1f9dcd936");
    // The trace-only workload raises an unmeshed_workload gap.
    assert!(
        snap.gaps
            .iter()
            .any(|g| g.kind == "unmeshed_workload" && g.subject.contains("default/cache")),
        "{:#?}",
        snap.gaps
    );
    // The broken file degrades the source, never fails the snapshot.
    let src = snap.sources.iter().find(|s| s.name == "traces").unwrap();
    assert_eq!(
        src.status,
        meshscope::model::snapshot::SourceState::Degraded,
        "{src:?}"
    );
    let detail = src.detail.as_deref().unwrap();
    assert!(detail.contains("traces/broken.json"), "{detail}");
    assert!(detail.contains("4 traces"), "{detail}");
    common::assert_valid_snapshot(&serde_json::to_value(&snap).unwrap());
}

#[test]
fn bundles_without_traces_are_unchanged() {
    let dir = common::fixtures().join("bundles/bookinfo");
    let snap = snapshot_from_bundle(&dir, None).unwrap();
    assert!(snap.sources.iter().all(|s| s.name != "traces"));
    assert!(snap.edges.iter().all(|e| e.traces.is_empty()));
    let text = serde_json::to_string(&snap).unwrap();
    assert!(!text.contains("\"traces\""));
}
