#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Two-round bundles whose signals were computed by hand (see
//! fixtures/gen/make_mini_bundles.py for the counters).

mod common;

use meshscope::app_main::snapshot_from_bundle;
use meshscope::model::snapshot::{Edge, MtlsStatus, Protocol, Snapshot};

fn load(name: &str) -> Snapshot {
    snapshot_from_bundle(&common::fixtures().join("bundles").join(name), None).unwrap()
}

fn edge<'a>(s: &'a Snapshot, src: &str, dst: &str) -> &'a Edge {
    s.edge(src, dst)
        .unwrap_or_else(|| panic!("no edge {src} -> {dst}"))
}

fn close(a: Option<f64>, b: f64) {
    let a = a.unwrap_or(f64::NAN);
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

#[test]
fn istio_two_rounds_by_hand() {
    let s = load("istio-mini");
    assert_eq!(s.window_seconds, 10.0);
    assert_eq!(s.collected_at, "2023-11-14T22:13:30Z");
    assert_eq!(s.edges.len(), 4, "{:#?}", s.edges);

    // Both reporters saw +100: counted once.
    let e = edge(&s, "default/productpage-v1", "default/reviews-v1");
    close(e.signals.rps, 10.0);
    close(e.signals.success_rate, 1.0);
    close(e.signals.error_rate, 0.0);
    // Buckets over the window: ≤5: 0, ≤10: 70, ≤50: 90, ≤100: 100, +Inf: 100.
    close(e.signals.p50_ms, 5.0 + 5.0 * 50.0 / 70.0);
    close(e.signals.p95_ms, 50.0 + 50.0 * 5.0 / 10.0);
    close(e.signals.p99_ms, 50.0 + 50.0 * 9.0 / 10.0);
    assert_eq!(e.mtls.status, MtlsStatus::Full);
    assert_eq!(e.service.as_deref(), Some("svc:default/reviews"));
    assert_eq!(
        e.identities.as_ref().and_then(|i| i.source.as_deref()),
        Some("spiffe://cluster.local/ns/default/sa/bookinfo-productpage")
    );

    // reviews-v2 restarted: its 200 counter went 500 → 40 (a reset: +40);
    // its 500 counter 5 → 10 (+5); the source alone saw 10 × 503 UH.
    let e = edge(&s, "default/productpage-v1", "default/reviews-v2");
    close(e.signals.rps, 55.0 / 10.0);
    close(e.signals.error_rate, 15.0 / 10.0);
    close(e.signals.success_rate, 40.0 / 55.0);
    assert_eq!(e.signals.p50_ms, None);
    let codes: Vec<(&str, Option<f64>)> = e
        .responses
        .iter()
        .map(|r| (r.code.as_str(), r.count))
        .collect();
    assert_eq!(
        codes,
        vec![("200", Some(40.0)), ("500", Some(5.0)), ("503", Some(10.0))]
    );

    // A caller without a sidecar, over plaintext, first seen in round 2.
    let e = edge(&s, "unknown", "default/reviews-v1");
    close(e.signals.rps, 2.0);
    assert_eq!(e.mtls.status, MtlsStatus::None);
    assert_eq!(e.mtls.fraction, Some(0.0));

    // TCP to a workload without a sidecar, resolved through its Service.
    let e = edge(&s, "default/reviews-v1", "default/mysqldb-v1");
    assert_eq!(e.protocol, Protocol::Tcp);
    close(e.signals.bytes_sent_per_s, 100.0);
    close(e.signals.bytes_received_per_s, 200.0);
    close(e.signals.open_connections, 3.0);
    assert_eq!(e.signals.rps, None);
    assert_eq!(e.mtls.status, MtlsStatus::Unknown);

    let rv1 = s.node("default/reviews-v1").unwrap();
    assert!(rv1.meshed);
    close(rv1.signals.as_ref().and_then(|x| x.rps), 12.0);
    assert!(!s.node("default/mysqldb-v1").unwrap().meshed);
    assert!(!s.node("unknown").unwrap().meshed);
    assert_eq!(s.mesh.kind, meshscope::model::snapshot::MeshKind::Istio);
    assert_eq!(s.mesh.version.as_deref(), Some("1.24.0"));
}

#[test]
fn linkerd_two_rounds_by_hand() {
    let s = load("linkerd-mini");
    assert_eq!(s.edges.len(), 4, "{:#?}", s.edges);

    let e = edge(&s, "emojivoto/web", "emojivoto/voting");
    assert_eq!(e.protocol, Protocol::Grpc);
    close(e.signals.rps, 10.0);
    close(e.signals.success_rate, 0.9);
    close(e.signals.error_rate, 1.0);
    // Buckets over the window: ≤4: 10, ≤5: 50, ≤10..≤200: 60, +Inf: 100.
    close(e.signals.p50_ms, 4.0 + 1.0 * 40.0 / 40.0);
    close(e.signals.p95_ms, 200.0);
    assert_eq!(e.mtls.status, MtlsStatus::Full);
    assert_eq!(e.service.as_deref(), Some("svc:emojivoto/voting-svc"));

    // gRPC edge with its TCP stats folded in.
    let e = edge(&s, "emojivoto/web", "emojivoto/emoji");
    assert_eq!(e.protocol, Protocol::Grpc);
    close(e.signals.rps, 30.0);
    close(e.signals.open_connections, 2.0);
    close(e.signals.bytes_sent_per_s, 1000.0);

    // Counted once, from vote-bot's outbound side (web's inbound with a
    // client identity is skipped).
    let e = edge(&s, "emojivoto/vote-bot", "emojivoto/web");
    close(e.signals.rps, 5.0);
    close(e.signals.success_rate, 0.8);

    // Inbound without identity → unknown caller; the admin port is ignored.
    let e = edge(&s, "unknown", "emojivoto/web");
    close(e.signals.rps, 5.0);
    assert_eq!(e.mtls.status, MtlsStatus::None);

    let web = s.node("emojivoto/web").unwrap();
    close(web.signals.as_ref().and_then(|x| x.rps), 10.0);
    assert!(s.nodes.iter().all(|n| n.id == "unknown" || n.meshed));
}

#[test]
fn json_snapshots() {
    for b in ["istio-mini", "linkerd-mini"] {
        let s = load(b);
        insta::assert_json_snapshot!(format!("snapshot_{b}"), s, {
            ".collected_at" => "[time]",
        });
    }
}
