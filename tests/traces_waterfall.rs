#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The waterfall screen: picked from an edge's detail, fetched off the UI
//! thread, drawn at 80x24 and 160x48 (long names cut, 100,000 spans fast),
//! keys in the help, and the spans read back from the simulated Jaeger.
mod tui_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::StreamExt;
use meshscope::app::action::{Action, View};
use meshscope::app::state::{Overlay, TracePane};
use meshscope::app::{App, Effect};
use meshscope::collect::traces::lookup::{LookupError, TraceLookup};
use meshscope::collect::traces::{Span, Trace};
use meshscope::model::snapshot::{Evidence, Snapshot, TraceExemplar};
use meshscope::tui::{Feed, Progress, TuiOptions, run_loop};
use meshscope::view::theme::Theme;
use meshscope::view::waterfall::Waterfall;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::{mpsc, watch};
use tui_support::*;

const LONG: &str = "a-very-long-service-name-that-goes-on-and-on.some-namespace-with-a-long-name";

fn span(id: u64, parent: Option<u64>, svc: &str, start: i64, dur: i64, error: bool) -> Span {
    Span {
        span_id: id,
        parent_id: parent,
        service: Some(svc.into()),
        name: format!("GET /op{id}"),
        start_us: start,
        duration_us: dur,
        error,
        ..Span::default()
    }
}

/// productpage [0,100ms]: details [5,25] ∥ reviews [10,90] → ratings
/// [20,80] (failing); a long-named service [30,60] overlaps ratings.
fn trace() -> Trace {
    Trace {
        trace_id: 0x3ba5_5609_c3cd_e496_49cd_77d1_f9dc_d936,
        spans: vec![
            span(1, None, "productpage.default", 0, 100_000, false),
            span(2, Some(1), "details.default", 5_000, 20_000, false),
            span(3, Some(1), "reviews.default", 10_000, 80_000, false),
            span(4, Some(3), "ratings.default", 20_000, 60_000, true),
            span(5, Some(3), LONG, 30_000, 30_000, false),
        ],
    }
}

fn snapshot_with_samples() -> Arc<Snapshot> {
    let mut snap = (*bookinfo()).clone();
    let e = snap
        .edges
        .iter_mut()
        .find(|e| e.source == "default/productpage-v1" && e.target == "default/details-v1")
        .unwrap();
    e.evidence = vec![Evidence::Metrics, Evidence::Traces];
    e.traces = vec![
        TraceExemplar {
            trace_id: "00000000000000ff".into(),
            duration_ms: 12.0,
            error: false,
            status: Some(200),
            root: None,
        },
        TraceExemplar {
            trace_id: trace().id_hex(),
            duration_ms: 100.0,
            error: true,
            status: Some(503),
            root: Some("productpage.default: GET /op1".into()),
        },
    ];
    Arc::new(snap)
}

/// The edge's detail, second sample picked, waterfall opened.
fn open(a: &mut App) -> Option<Effect> {
    a.update(Action::ShowEdges);
    a.update(Action::Select);
    assert_eq!(a.ui.active_view(), View::Detail);
    a.update(Action::Down);
    a.update(Action::Select)
}

#[test]
fn enter_on_a_sample_asks_for_its_spans_and_esc_goes_back() {
    let mut a = app(snapshot_with_samples());
    let id = trace().id_hex();
    assert_eq!(open(&mut a), Some(Effect::FetchTrace(id.clone())));
    assert_eq!(a.ui.active_view(), View::Waterfall);
    let loading = render(&a, 80, 24).backend().to_string();
    assert!(loading.contains("loading trace 3ba55609"), "{loading}");
    // A late answer for another trace is dropped.
    a.trace_arrived("00000000000000ff", Err("nope".into()));
    assert_eq!(a.ui.trace_pane, Some(TracePane::Loading));
    a.trace_arrived(&id, Err("traces (jaeger api_v3): HTTP 500: boom".into()));
    let failed = render(&a, 80, 24).backend().to_string();
    assert!(failed.contains("could not be read"), "{failed}");
    assert!(failed.contains("HTTP 500: boom"), "{failed}");
    a.update(Action::Back);
    assert!(matches!(a.ui.overlay, Some(Overlay::Detail(_))));
    assert_eq!(a.ui.sample_selected, 1);
    assert_eq!(a.ui.trace_pane, None);
    a.update(Action::Back);
    assert_eq!(a.ui.overlay, None);
}

fn ready(w: u16, h: u16) -> String {
    let mut a = app(snapshot_with_samples());
    let id = trace().id_hex();
    open(&mut a);
    a.trace_arrived(&id, Ok(Arc::new(Waterfall::new(trace()))));
    render(&a, w, h).backend().to_string()
}

#[test]
fn waterfall_at_80x24() {
    let screen = ready(80, 24);
    assert!(screen.contains("5 spans  100.0 ms"), "{screen}");
    assert!(screen.contains("critical path 100.0 ms"), "{screen}");
    // The long name is cut with an ellipsis, not wrapped onto a new row.
    assert!(screen.contains("…"), "{screen}");
    assert_eq!(screen.matches("a-very-long").count(), 1, "{screen}");
    assert!(screen.contains('━'), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn waterfall_at_160x48() {
    let screen = ready(160, 48);
    assert!(screen.contains("esc back to the edge"), "{screen}");
    assert_eq!(screen.matches("a-very-long").count(), 1, "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn critical_path_of_the_sample() {
    // Walking back from 100 ms: reviews ends last (90), inside it ratings
    // (80) ends after the long-named span (60) which it overlaps, so the
    // long-named span and details (overlapping reviews) are off the path.
    let w = Waterfall::new(trace());
    let crit: Vec<(u64, bool)> = w
        .rows
        .iter()
        .map(|r| (w.trace.spans[r.index].span_id, r.critical))
        .collect();
    assert_eq!(
        crit,
        vec![(1, true), (2, false), (3, true), (4, true), (5, false)]
    );
    assert_eq!(w.critical_us, 100_000);
    let sum: i64 = w
        .rows
        .iter()
        .flat_map(|r| &r.sections)
        .map(|(a, b)| b - a)
        .sum();
    assert_eq!(sum, 100_000);
}

fn huge(n: usize) -> Trace {
    // A root calling 99 services, each with a long sequential chain of spans.
    let mut spans = vec![span(1, None, "root.default", 0, 10_000_000, false)];
    let per = n / 100;
    for s in 0..99u64 {
        let id = 2 + s * per as u64;
        spans.push(span(
            id,
            Some(1),
            &format!("svc{s}.default"),
            0,
            9_000_000,
            false,
        ));
        for k in 1..per as u64 {
            spans.push(span(
                id + k,
                Some(id),
                &format!("svc{s}.default"),
                k as i64 * 80,
                70,
                s == 7,
            ));
        }
    }
    spans.truncate(n);
    Trace {
        trace_id: 0xabc,
        spans,
    }
}

#[test]
fn a_trace_of_100000_spans_draws_only_the_visible_rows() {
    let t = huge(100_000);
    let n = t.spans.len();
    let started = Instant::now();
    let w = Arc::new(Waterfall::new(t));
    let layout = started.elapsed();
    assert_eq!(w.rows.len(), n);
    let mut a = app(snapshot_with_samples());
    open(&mut a);
    a.trace_arrived(&trace().id_hex(), Ok(w));
    a.ui.page_rows = 44;
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let started = Instant::now();
    for _ in 0..20 {
        a.update(Action::PageDown);
        term.draw(|f| f.render_widget(&a.screen(), f.area()))
            .unwrap();
    }
    let per_frame = started.elapsed() / 20;
    a.update(Action::Bottom);
    assert_eq!(a.ui.waterfall_scroll, n - 43);
    term.draw(|f| f.render_widget(&a.screen(), f.area()))
        .unwrap();
    let screen = term.backend().to_string();
    assert!(screen.contains("svc98.default"), "{screen}");
    // The same frames with the 5-span trace: drawing does not grow with the trace.
    let mut small = app(snapshot_with_samples());
    open(&mut small);
    small.trace_arrived(&trace().id_hex(), Ok(Arc::new(Waterfall::new(trace()))));
    let started = Instant::now();
    for _ in 0..20 {
        small.update(Action::PageDown);
        term.draw(|f| f.render_widget(&small.screen(), f.area()))
            .unwrap();
    }
    let small_frame = started.elapsed() / 20;
    println!(
        "100k spans: layout {layout:?}, {per_frame:?} per frame (5 spans: {small_frame:?} per frame)"
    );
    // Debug build on a shared machine: generous, but a frame formatting
    // all 100,000 rows would take far longer.
    assert!(
        per_frame < Duration::from_millis(100),
        "{per_frame:?} per frame"
    );
    assert!(layout < Duration::from_secs(5), "layout took {layout:?}");
}

#[test]
fn help_over_the_waterfall_lists_its_keys_and_returns_to_it() {
    let mut a = app(snapshot_with_samples());
    open(&mut a);
    a.update(Action::Help);
    let screen = render(&a, 160, 48).backend().to_string();
    assert!(screen.contains("help · waterfall"), "{screen}");
    assert!(screen.contains("critical path"), "{screen}");
    a.update(Action::Back);
    assert_eq!(a.ui.active_view(), View::Waterfall);
    a.update(Action::Back);
    a.update(Action::Help);
    let screen = render(&a, 160, 48).backend().to_string();
    assert!(screen.contains("help · detail"), "{screen}");
    assert!(screen.contains("open its waterfall"), "{screen}");
    a.update(Action::Help);
    assert_eq!(a.ui.active_view(), View::Detail);
    let screen = render(&a, 160, 48).backend().to_string();
    assert!(screen.contains("enter waterfall"), "{screen}");
    assert!(screen.contains("▶✗ 3ba55609"), "{screen}");
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[tokio::test]
async fn the_loop_fetches_the_trace_without_blocking() {
    let (_snap_tx, snapshots) = watch::channel(snapshot_with_samples());
    let (_progress_tx, progress) = watch::channel(Progress::default());
    let (commands, _cmd_rx) = mpsc::channel(4);
    let feed = Feed {
        snapshots,
        progress,
        commands,
    };
    let opts = TuiOptions {
        theme: Theme::builtin("default").unwrap(),
        traces: Some(TraceLookup::Memory(Arc::new(vec![trace()]))),
        ..TuiOptions::default()
    };
    let keys = [
        key(KeyCode::Char('3')),
        key(KeyCode::Enter),
        key(KeyCode::Char('j')),
        key(KeyCode::Enter),
    ];
    // The stream stays open a moment so the fetch can answer.
    let events = futures::stream::iter(keys).chain(futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        key(KeyCode::F(12))
    }));
    let mut term = Terminal::new(TestBackend::new(120, 30)).unwrap();
    run_loop(&mut term, events, feed, opts).await.unwrap();
    let screen = term.backend().to_string();
    assert!(screen.contains("ratings.default"), "{screen}");
    assert!(screen.contains("critical path 100.0 ms"), "{screen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_are_read_back_from_the_simulated_jaeger() {
    use meshscope::collect::traces::TraceSource;
    use meshscope::collect::traces::client::{FetchOptions, fetch};
    use meshscope::sim::apiserver::ApiServerConfig;
    use meshscope::sim::demo::{Demo, WARM_UP_MS};
    let scenario = meshscope::sim::scenario::load("bookinfo").unwrap();
    let demo = Demo::start(scenario, None, ApiServerConfig::default())
        .await
        .unwrap();
    let jaeger = demo.start_jaeger().await.unwrap();
    let options = FetchOptions {
        clock_offset_ms: (demo.scenario.epoch_ms + WARM_UP_MS) as i64
            - meshscope::collect::live::now_ms(),
        limit: 3,
        max_services: 2,
        ..FetchOptions::default()
    };
    let input = fetch(&jaeger.url(), &options).await;
    let first = input.traces.first().expect("traces from the simulator");
    let lookup = TraceLookup::Backend(TraceSource {
        url: jaeger.url(),
        options,
    });
    let got = lookup.fetch(&first.id_hex()).await.unwrap();
    assert_eq!(got.trace_id, first.trace_id);
    assert_eq!(got.spans.len(), first.spans.len());
    let missing = lookup.fetch("0123456789abcdef0123456789abcdef").await;
    assert!(
        matches!(missing, Err(LookupError::NotFound { .. })),
        "{missing:?}"
    );
    let bad = lookup.fetch("not-an-id!").await;
    assert!(matches!(bad, Err(LookupError::BadId { .. })), "{bad:?}");
    jaeger.shutdown().await;
    demo.shutdown().await;
}
