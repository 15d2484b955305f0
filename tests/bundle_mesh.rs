//! `snapshot --from DIR --mesh M`: only that mesh's dialect reads the
//! bundle's scrapes and `mesh.kind` says which (a bundle written by the
//! simulator with realistic noise carries Istio standard metrics and Envoy's
//! own cluster stats).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use meshscope::app_main::snapshot_from_bundle_traced;
use meshscope::model::snapshot::MeshKind;
use meshscope::sim::bundle::write_bundle;
use meshscope::sim::proxy::Noise;
use meshscope::sim::scenario;

#[test]
fn mesh_override_selects_the_dialect_of_a_bundle() {
    let s = scenario::load("bookinfo").unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_bundle(dir.path(), &s, &[0, 60_000], Noise::Realistic).unwrap();
    let snap = |m| snapshot_from_bundle_traced(dir.path(), None, None, None, m).unwrap();
    let auto = snap(None);
    let envoy = snap(Some(MeshKind::Envoy));
    let linkerd = snap(Some(MeshKind::Linkerd));
    assert_eq!(auto.mesh.kind, MeshKind::Istio);
    assert!(!auto.edges.is_empty());
    assert_eq!(envoy.mesh.kind, MeshKind::Envoy);
    assert!(!envoy.edges.is_empty(), "Envoy's cluster stats give edges");
    // Client side only: no unknown callers, and every caller is meshed.
    assert!(envoy.edges.iter().all(|e| e.source != "unknown"));
    // The proxies' own plumbing is not traffic.
    assert!(
        envoy
            .edges
            .iter()
            .all(|e| e.target != "ext:prometheus_stats"),
        "{:?}",
        envoy.edges.iter().map(|e| &e.target).collect::<Vec<_>>()
    );
    // The same workload pairs as the Istio dialect sees, plus egress.
    let pairs = |s: &meshscope::model::snapshot::Snapshot| {
        s.edges
            .iter()
            .filter(|e| e.target.starts_with("default/"))
            .map(|e| (e.source.clone(), e.target.clone()))
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert!(
        pairs(&envoy).is_subset(&pairs(&auto)),
        "{:?} vs {:?}",
        pairs(&envoy),
        pairs(&auto)
    );
    assert!(!pairs(&envoy).is_empty());
    // Envoy's cluster stats count the same requests as Istio's metrics:
    // the rates and success rates agree on the workload edges (the
    // simulated sidecar's cluster stats follow its traffic).
    for e in envoy
        .edges
        .iter()
        .filter(|e| e.target.starts_with("default/"))
    {
        let i = auto
            .edges
            .iter()
            .find(|a| a.source == e.source && a.target == e.target)
            .unwrap();
        let (re, ri) = (e.signals.rps.unwrap(), i.signals.rps.unwrap());
        assert!(
            (re - ri).abs() <= 0.05 * ri + 0.1,
            "{} -> {}: envoy {re} vs istio {ri}",
            e.source,
            e.target
        );
        let (se, si) = (
            e.signals.success_rate.unwrap(),
            i.signals.success_rate.unwrap(),
        );
        assert!(
            (se - si).abs() < 0.02,
            "{} -> {}: success {se} vs {si}",
            e.source,
            e.target
        );
    }
    assert_eq!(linkerd.mesh.kind, MeshKind::Linkerd);
    assert!(linkerd.edges.is_empty(), "{:?}", linkerd.edges);
}
