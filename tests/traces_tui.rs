//! The edge detail view lists an edge's sample traces (insta snapshot).
#![allow(clippy::unwrap_used)]
mod tui_support;

use std::sync::Arc;

use meshscope::app::action::Action;
use meshscope::collect::traces::{Span, Trace, parse_str};
use meshscope::model::snapshot::{Evidence, TraceExemplar};
use meshscope::view::waterfall;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::widgets::Paragraph;
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

fn span(id: u64, parent: Option<u64>, svc: &str, start: i64, dur: i64) -> Span {
    Span {
        span_id: id,
        parent_id: parent,
        service: Some(svc.into()),
        name: format!("op{id}"),
        start_us: start,
        duration_us: dur,
        ..Span::default()
    }
}

#[test]
fn critical_path_follows_the_last_finishing_children() {
    // a [0,100]: b [5,30], d [10,35] overlap; c [40,95] ends last.
    // Walking back from 100: c (cursor → 40), then d (ends 35 ≤ 40,
    // cursor → 10); b ends at 30 > 10: not critical.
    let t = Trace {
        trace_id: 7,
        spans: vec![
            span(1, None, "a", 0, 100),
            span(2, Some(1), "b", 5, 25),
            span(3, Some(1), "c", 40, 55),
            span(4, Some(1), "d", 10, 25),
        ],
    };
    let rows = waterfall::rows(&t);
    let crit: Vec<(usize, bool)> = rows.iter().map(|r| (r.index, r.critical)).collect();
    assert_eq!(crit, vec![(0, true), (1, false), (3, true), (2, true)]);
}

#[test]
fn waterfall_of_a_tempo_trace() {
    let Some(dir) = common_corpus() else { return };
    let text = std::fs::read_to_string(dir.join("otlp/kiali__responseTrace.json")).unwrap();
    let p = parse_str(&text, "kiali").unwrap();
    let t = &p.traces[0];
    let theme = meshscope::view::theme::Theme::default();
    let lines = waterfall::lines(t, &theme, 110);
    assert_eq!(lines.len(), 9);
    let mut term = Terminal::new(TestBackend::new(110, 10)).unwrap();
    term.draw(|f| f.render_widget(Paragraph::new(lines), f.area()))
        .unwrap();
    let screen = term.backend().to_string();
    assert!(
        screen.contains("istio-ingressgateway.istio-system: "),
        "{screen}"
    );
    assert!(screen.contains("      details.bookinfo: "), "{screen}");
    assert!(screen.contains('━'), "{screen}");
    insta::assert_snapshot!(screen);
}

fn common_corpus() -> Option<std::path::PathBuf> {
    [
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
        std::path::PathBuf::from("/work/shared/corpus"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
    .or_else(|| {
        println!("skipped: corpus not found");
        None
    })
}
