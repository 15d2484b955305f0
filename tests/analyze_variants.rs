//! Bookinfo (fixtures/bundles/bookinfo) under other declarations: a STRICT
//! PeerAuthentication with an enforced ALLOW and an 80/20 VirtualService, and
//! intent files; plus `load_declared` errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use meshscope::analyze::{AnalyzeConfig, DeclaredError, analyze, load_declared};
use meshscope::collect::bundle::read_bundle;
use meshscope::model::build::{BuildContext, build_snapshot};
use meshscope::model::snapshot::{Severity, Snapshot};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bookinfo_with(declared: Option<&Path>) -> Snapshot {
    let b = read_bundle(&root().join("fixtures/bundles/bookinfo")).unwrap();
    let mut snap = build_snapshot(&b.inventory, &b.rounds, BuildContext::default());
    let extra = declared.map(|p| load_declared(p).unwrap());
    analyze(
        &mut snap,
        &b.inventory,
        extra.as_ref(),
        &AnalyzeConfig::default(),
    );
    for g in &snap.gaps {
        eprintln!("{:?} {} [{}] {}", g.severity, g.kind, g.subject, g.message);
    }
    snap
}

fn find<'a>(
    s: &'a Snapshot,
    kind: &str,
    subject: &str,
) -> Vec<&'a meshscope::model::snapshot::Gap> {
    s.gaps
        .iter()
        .filter(|g| g.kind == kind && g.subject == subject)
        .collect()
}

#[test]
fn strict_variant_reports_drift_violation_unused_permission_and_plaintext() {
    let s = bookinfo_with(Some(&root().join("fixtures/analyze/bookinfo-strict")));
    let drift = find(&s, "split_drift", "VirtualService/default/reviews");
    assert_eq!(drift.len(), 1);
    assert!(
        drift[0].message.contains("80.0%") && drift[0].message.contains("reviews-v3"),
        "{}",
        drift[0].message
    );
    // productpage is outside the now-enforced ALLOW on ratings, yet succeeds.
    let v = find(
        &s,
        "policy_violation",
        "default/productpage-v1 -> default/ratings-v1",
    );
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].severity, Severity::Critical);
    assert!(
        v[0].message
            .contains("AuthorizationPolicy/default/ratings-viewer")
    );
    let unused = find(
        &s,
        "unobserved_edge",
        "default/details-v1 -> default/ratings-v1",
    );
    assert_eq!(unused.len(), 1);
    let m = find(&s, "mtls_gap", "legacy/sleep -> default/productpage-v1");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].severity, Severity::Critical, "plaintext under STRICT");
    let e = s.edge("unknown", "default/productpage-v1").unwrap();
    assert_eq!(e.mtls.verdict.as_deref(), Some("plaintext_under_strict"));
    assert!(e.mtls.declared.as_deref().unwrap().starts_with("STRICT"));
    let ok = s
        .edge("default/productpage-v1", "default/details-v1")
        .unwrap();
    assert_eq!(ok.mtls.verdict.as_deref(), Some("ok"));
    assert_eq!(ok.declared, Some(true));
    assert_eq!(
        s.edge("default/productpage-v1", "default/ratings-v1")
            .unwrap()
            .declared,
        Some(false)
    );
    // The cluster's dry-run copy of ratings-viewer was replaced by the declared one.
    assert!(
        find(
            &s,
            "undeclared_edge",
            "default/productpage-v1 -> default/ratings-v1"
        )
        .is_empty()
    );
}

#[test]
fn cluster_only_bookinfo_has_no_critical_access_or_mtls_gap() {
    let s = bookinfo_with(None);
    assert!(
        s.gaps
            .iter()
            .all(|g| g.severity != Severity::Critical || g.kind == "failing_edge")
    );
    assert_eq!(
        find(
            &s,
            "undeclared_edge",
            "default/productpage-v1 -> default/ratings-v1"
        )
        .len(),
        1
    );
    let e = s
        .edge("default/productpage-v1", "default/reviews-v1")
        .unwrap();
    assert_eq!(e.declared, None, "no policy covers reviews");
    assert_eq!(e.mtls.verdict.as_deref(), Some("safe_to_tighten"));
    assert!(!s.declared.policies.is_empty() && !s.declared.routes.is_empty());
}

#[test]
fn intent_file_flags_undeclared_caller() {
    let s = bookinfo_with(Some(&root().join("fixtures/analyze/bookinfo-intent.yaml")));
    let u = find(
        &s,
        "undeclared_edge",
        "default/productpage-v1 -> default/ratings-v1",
    );
    assert_eq!(u.len(), 1);
    assert!(
        u[0].message.contains("Intent/default/ratings"),
        "{}",
        u[0].message
    );
    // legacy/sleep is listed for productpage: its plaintext call is an mTLS matter, not undeclared.
    assert!(
        find(
            &s,
            "undeclared_edge",
            "legacy/sleep -> default/productpage-v1"
        )
        .is_empty()
    );
}

#[test]
fn honoured_intent_raises_no_access_gap() {
    let s = bookinfo_with(Some(&root().join("fixtures/analyze/healthy-bookinfo.yaml")));
    assert!(
        s.gaps
            .iter()
            .all(|g| !g.subject.ends_with("-> default/ratings-v1")
                || g.kind == "failing_edge"
                || g.subject.starts_with("default/details-v1")),
        "{:?}",
        s.gaps
    );
    assert!(
        s.gaps
            .iter()
            .all(|g| g.kind != "undeclared_edge" || !g.subject.contains("ratings"))
    );
}

#[test]
fn bad_declared_inputs_are_named() {
    let e = load_declared(&root().join("fixtures/analyze/bad-intent.yaml")).unwrap_err();
    assert!(matches!(e, DeclaredError::BadIntent { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("bad-intent.yaml")
            && msg.contains("namespace/name")
            && msg.contains("ratings"),
        "{msg}"
    );
    let e = load_declared(Path::new("/nonexistent/declared")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/declared"));
}
