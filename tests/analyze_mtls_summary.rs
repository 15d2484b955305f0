#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The mTLS summary (Kiali-like badge) per namespace and mesh-wide, beside
//! the observed mTLS share.

mod analyze_common;

use analyze_common::{FULL, NONE, edge, inventory, pa, run};
use meshscope::analyze::{AnalyzeConfig, analyze};
use meshscope::model::snapshot::{MeshKind, MtlsBadge, MtlsScopeSummary, Snapshot};
use serde_json::{Value, json};

fn ns(s: &Snapshot) -> &MtlsScopeSummary {
    let sum = s.mtls_summary.as_ref().expect("a summary");
    assert_eq!(sum.namespaces.len(), 1, "{sum:?}");
    &sum.namespaces[0]
}

fn mesh(s: &Snapshot) -> &MtlsScopeSummary {
    &s.mtls_summary.as_ref().expect("a summary").mesh
}

fn mesh_pa(mode: &str) -> Value {
    json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
           "metadata": {"name": "default", "namespace": "istio-system"},
           "spec": {"mtls": {"mode": mode}}})
}

fn workload_pa(mode: &str) -> Value {
    json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
           "metadata": {"name": "b-only", "namespace": "ns"},
           "spec": {"selector": {"matchLabels": {"app": "b"}}, "mtls": {"mode": mode}}})
}

#[test]
fn mesh_strict_is_enabled_beside_the_observed_share() {
    // 100 requests over mTLS, 300 in plaintext: a quarter observed.
    let s = run(
        vec![edge("a", "b", 100, 0, FULL), edge("c", "b", 300, 0, NONE)],
        vec![mesh_pa("STRICT")],
        false,
    );
    assert_eq!(mesh(&s).status, MtlsBadge::Enabled);
    assert_eq!(
        mesh(&s).declared,
        "STRICT (PeerAuthentication/istio-system/default)"
    );
    assert!((mesh(&s).observed.unwrap() - 0.25).abs() < 1e-9);
    let n = ns(&s);
    assert_eq!(
        (n.namespace.as_deref(), n.status),
        (Some("ns"), MtlsBadge::Enabled)
    );
    assert!((n.observed.unwrap() - 0.25).abs() < 1e-9);
    assert!(n.exceptions.is_empty());
}

#[test]
fn exceptions_make_it_partial() {
    // Namespace PERMISSIVE, one workload STRICT.
    let s = run(vec![], vec![pa("PERMISSIVE"), workload_pa("STRICT")], false);
    assert_eq!(ns(&s).status, MtlsBadge::Partially);
    assert_eq!(
        ns(&s).exceptions,
        vec!["STRICT PeerAuthentication/ns/b-only"]
    );
    assert_eq!(ns(&s).observed, None);
    assert_eq!(mesh(&s).status, MtlsBadge::Partially);
    assert_eq!(mesh(&s).declared, "PERMISSIVE (default)");
    // Namespace STRICT, one workload PERMISSIVE.
    let s = run(vec![], vec![pa("STRICT"), workload_pa("PERMISSIVE")], false);
    assert_eq!(ns(&s).status, MtlsBadge::Partially);
    // Namespace STRICT, a DestinationRule disabling TLS towards b.
    let dr = json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": "b", "namespace": "ns"},
        "spec": {"host": "b", "trafficPolicy": {"tls": {"mode": "DISABLE"}}}});
    let s = run(vec![], vec![pa("STRICT"), dr], false);
    assert_eq!(ns(&s).status, MtlsBadge::Partially);
    assert_eq!(
        ns(&s).exceptions,
        vec!["TLS disabled by DestinationRule/ns/b"]
    );
    // Namespace STRICT over a mesh-wide PERMISSIVE.
    let s = run(vec![], vec![mesh_pa("PERMISSIVE"), pa("STRICT")], false);
    assert_eq!(ns(&s).status, MtlsBadge::Enabled);
    assert_eq!(mesh(&s).status, MtlsBadge::Partially);
}

#[test]
fn permissive_disabled_and_nothing_known() {
    let s = run(vec![], vec![pa("PERMISSIVE")], false);
    assert_eq!(ns(&s).status, MtlsBadge::NotEnabled);
    assert_eq!(mesh(&s).status, MtlsBadge::NotEnabled);
    let s = run(vec![], vec![mesh_pa("DISABLE")], false);
    assert_eq!(ns(&s).status, MtlsBadge::Disabled);
    assert_eq!(mesh(&s).status, MtlsBadge::Disabled);
    // Namespace DISABLE under a mesh-wide STRICT: the mesh is partial.
    let s = run(vec![], vec![mesh_pa("STRICT"), pa("DISABLE")], false);
    assert_eq!(ns(&s).status, MtlsBadge::Disabled);
    assert_eq!(mesh(&s).status, MtlsBadge::Partially);
    assert_eq!(
        mesh(&s).exceptions,
        vec!["DISABLE PeerAuthentication/ns/default"]
    );
    // No mesh and nothing declared: no summary at all.
    let s = run(vec![edge("a", "b", 1, 0, FULL)], vec![], false);
    assert_eq!(s.mtls_summary, None);
}

#[test]
fn linkerd_default_inbound_policy() {
    let mut inv = inventory(false);
    inv.namespaces.get_mut("ns").unwrap().annotations.insert(
        "config.linkerd.io/default-inbound-policy".into(),
        "all-authenticated".into(),
    );
    let mut snap = Snapshot::empty("2026-01-05T09:00:00Z".into(), 60.0);
    snap.mesh.kind = MeshKind::Linkerd;
    analyze(&mut snap, &inv, None, &AnalyzeConfig::default());
    let n = ns(&snap);
    assert_eq!(n.status, MtlsBadge::Enabled);
    assert_eq!(n.declared, "STRICT (Namespace/ns/ns)");
    // Without the annotation, a known mesh still gets a summary.
    let mut snap = Snapshot::empty("2026-01-05T09:00:00Z".into(), 60.0);
    snap.mesh.kind = MeshKind::Linkerd;
    analyze(
        &mut snap,
        &inventory(false),
        None,
        &AnalyzeConfig::default(),
    );
    assert_eq!(ns(&snap).status, MtlsBadge::NotEnabled);
}
