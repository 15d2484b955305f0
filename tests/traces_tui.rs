//! The edge detail view lists an edge's sample traces (insta snapshot).
#![allow(clippy::unwrap_used)]
mod tui_support;

use std::sync::Arc;

use meshscope::app::action::Action;
use meshscope::model::snapshot::{Evidence, TraceExemplar};
use tui_support::*;

#[test]
fn edge_detail_lists_sample_traces() {
    let mut snap = (*bookinfo()).clone();
    // The first row of the edges view.
    let e = snap
        .edges
        .iter_mut()
        .find(|e| e.source == "default/productpage-v1" && e.target == "default/details-v1")
        .unwrap();
    e.evidence = vec![Evidence::Metrics, Evidence::Traces];
    e.traces = vec![
        TraceExemplar {
            trace_id: "3ba55609c3cde49649cd77d1f9dcd936".into(),
            duration_ms: 1234.5,
            error: true,
            status: Some(503),
            root: Some("istio-ingressgateway.istio-system: GET /productpage".into()),
        },
        TraceExemplar {
            trace_id: "00000000000000ff".into(),
            duration_ms: 87.25,
            error: false,
            status: Some(200),
            root: None,
        },
    ];
    let mut a = app(Arc::new(snap));
    a.update(Action::ShowEdges);
    a.update(Action::Select);
    let screen = render(&a, 160, 48).backend().to_string();
    assert!(
        screen.contains("✗ 3ba55609c3cde49649cd77d1f9dcd936"),
        "{screen}"
    );
    assert!(screen.contains("1234.5 ms  HTTP 503"), "{screen}");
    assert!(screen.contains("· 00000000000000ff"), "{screen}");
    assert!(!screen.contains("no traces yet"));
    insta::assert_snapshot!(screen);
}
