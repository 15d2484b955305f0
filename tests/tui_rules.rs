//! The Rules view with rule diffs (declared vs live and watch events) and
//! the mTLS summary, at 80×24 and 160×48 (insta snapshots), colours from
//! the theme's semantic names.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod tui_support;

use std::path::PathBuf;
use std::sync::Arc;

use meshscope::analyze::diffs::declared_vs_live;
use meshscope::analyze::history::RuleHistory;
use meshscope::analyze::load_declared;
use meshscope::app::action::Action;
use meshscope::collect::manifests::read_objects;
use meshscope::model::snapshot::{MtlsBadge, MtlsScopeSummary, MtlsSummary, Snapshot};
use meshscope::view::theme::Theme;
use ratatui::buffer::Buffer;
use serde_json::json;
use tui_support::*;

fn with_rules() -> Snapshot {
    let mut snap = fixture("bookinfo.json");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/analyze/rule-diffs");
    let declared = load_declared(&dir.join("declared")).unwrap();
    let live = read_objects(&dir.join("live.yaml")).unwrap().objects;
    snap.rule_diffs = declared_vs_live(&declared.objects, &live, None);
    let mut h = RuleHistory::default();
    let pa = |mode: &str| {
        json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": "default"},
            "spec": {"mtls": {"mode": mode}}})
    };
    h.seed(&pa("STRICT"));
    h.apply("2026-01-05T09:12:03Z".parse().unwrap(), &pa("PERMISSIVE"));
    h.attach(&mut snap, "2026-01-05T08:45:00Z".parse().unwrap());
    let scope = |ns: Option<&str>, status, declared: &str, exceptions: Vec<&str>, observed| {
        MtlsScopeSummary {
            namespace: ns.map(str::to_string),
            status,
            declared: declared.into(),
            exceptions: exceptions.into_iter().map(str::to_string).collect(),
            observed,
        }
    };
    snap.mtls_summary = Some(MtlsSummary {
        mesh: scope(
            None,
            MtlsBadge::Partially,
            "PERMISSIVE (default)",
            vec![],
            Some(0.9),
        ),
        namespaces: vec![
            scope(
                Some("default"),
                MtlsBadge::Partially,
                "STRICT (PeerAuthentication/default/default)",
                vec!["TLS disabled by DestinationRule/default/ratings"],
                Some(0.875),
            ),
            scope(
                Some("istio-system"),
                MtlsBadge::NotEnabled,
                "PERMISSIVE (default)",
                vec![],
                None,
            ),
        ],
    });
    snap
}

fn row_of(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let area = buf.area;
    (0..area.height).find_map(|y| {
        let line: String = (0..area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        line.find(needle).map(|i| {
            let x = line[..i].chars().count();
            (u16::try_from(x).unwrap(), y)
        })
    })
}

#[test]
fn rules_view_with_diffs_and_mtls() {
    let mut app = app(Arc::new(with_rules()));
    app.update(Action::ShowRules);
    let theme = Theme::builtin("default").unwrap();
    for (w, h) in [(80, 24), (160, 48)] {
        let term = render(&app, w, h);
        insta::assert_snapshot!(format!("rules_diffs_{w}x{h}"), term.backend());
        let buf = term.backend().buffer();
        assert!(row_of(buf, "mesh mTLS partially").is_some(), "title badge");
        let (x, y) = row_of(buf, "+apiVersion: security").expect("an added line");
        assert_eq!(buf[(x, y)].fg, theme.diff_added.fg.unwrap_or_default());
        let (x, y) = row_of(buf, "partially   PERMISSIVE").expect("a badge");
        assert_eq!(buf[(x, y)].fg, theme.mtls_partial.fg.unwrap_or_default());
    }
    // Further down: the modified rule and the watch event with its time.
    app.update(Action::Bottom);
    let term = render(&app, 160, 48);
    insta::assert_snapshot!("rules_diffs_bottom_160x48", term.backend());
    let buf = term.backend().buffer();
    let (x, y) = row_of(buf, "+      weight: 50").expect("the live weight");
    assert_eq!(buf[(x, y)].fg, theme.diff_added.fg.unwrap_or_default());
    let (x, y) = row_of(buf, "-      weight: 80").expect("the declared weight");
    assert_eq!(buf[(x, y)].fg, theme.diff_removed.fg.unwrap_or_default());
    assert!(row_of(buf, "2026-01-05T09:12:03Z  watch").is_some());
    assert!(row_of(buf, "+    mode: PERMISSIVE").is_some());
}

/// The edge detail's Rules section lists the rules about the edge's target
/// or Service, matched on identities: a policy that lets productpage's
/// service account call details is not a rule about productpage.
#[test]
fn edge_detail_lists_only_rules_about_its_target() {
    let mut snap = fixture("bookinfo.json");
    snap.declared.policies.push(json!({
        "action": "ALLOW", "enforced": true,
        "from": ["cluster.local/ns/default/sa/bookinfo-productpage"],
        "resource": "AuthorizationPolicy/default/details-viewer",
        "targets": ["default/details-v1"], "understood": true}));
    snap.declared.routes.push(json!({
        "host": "productpage", "resource": "DestinationRule/default/productpage",
        "service": "default/productpage",
        "subsets": [{"name": "v1", "workloads": ["default/productpage-v1"]}],
        "tls_mode": null, "understood": true}));
    let mut app = app(Arc::new(snap));
    app.update(Action::ShowEdges);
    let mut seen = Vec::new();
    for _ in 0..8 {
        app.update(Action::Select);
        let term = render(&app, 160, 48);
        let buf = term.backend().buffer();
        let edge = |s: &str| row_of(buf, &format!("Edge {s}")).is_some();
        let viewer = row_of(buf, "AuthorizationPolicy default/details-viewer").is_some();
        let dr = row_of(buf, "DestinationRule default/productpage").is_some();
        if edge("istio-system/istio-ingressgateway → default/productpage-v1") {
            assert!(dr && !viewer, "ingress → productpage lists {dr} {viewer}");
            seen.push("productpage");
        }
        if edge("default/productpage-v1 → default/details-v1") {
            assert!(viewer && !dr, "productpage → details lists {dr} {viewer}");
            seen.push("details");
        }
        app.update(Action::Back);
        app.update(Action::Down);
    }
    seen.sort();
    assert_eq!(seen, ["details", "productpage"]);
}
