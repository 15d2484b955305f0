//! Unit tests of trace generation invariants and the handlers.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;

use super::handlers;
use super::model::SpanKind;
use super::server::{Reply, test_ctx};
use super::traces::{SAMPLE_EVERY, Tracer};
use crate::sim::scenario::load;

const HOUR: f64 = 3_600_000.0;

fn tracer(name: &str) -> Tracer {
    Tracer::new(Arc::new(load(name).unwrap()))
}

#[test]
fn sampling_rate_and_ids_round_trip() {
    let t = tracer("bookinfo");
    let entries = t.entries(0.0, HOUR);
    let rps: f64 = t
        .root_edges()
        .iter()
        .map(|&e| t.scenario().edges[e].rps)
        .sum();
    let expected = rps * 3600.0 / SAMPLE_EVERY as f64;
    let n = entries.len() as f64;
    assert!(
        (n - expected).abs() <= expected * 0.02 + 2.0,
        "{n} vs {expected}"
    );
    assert!(entries.windows(2).all(|w| w[0].start_ns >= w[1].start_ns));
    for e in entries.iter().take(50) {
        let id = t.trace_id(e.edge, e.index);
        assert_eq!(t.decode(id), Some(*e));
        assert_eq!(t.decode(id ^ 1), None);
        assert_eq!(t.decode(id ^ (1 << 100)), None);
    }
}

#[test]
fn spans_nest_and_alternate_kinds() {
    for name in ["bookinfo", "emojivoto", "boutique"] {
        let t = tracer(name);
        let traces: Vec<_> = t
            .entries(HOUR, 2.0 * HOUR)
            .into_iter()
            .filter_map(|e| t.trace(e))
            .collect();
        assert!(traces.len() > 50, "{name}: {} traces", traces.len());
        for tr in &traces {
            let by_id: HashMap<u64, _> = tr.spans.iter().map(|s| (s.span_id, s)).collect();
            assert_eq!(by_id.len(), tr.spans.len(), "{name}: duplicate span ids");
            let roots = tr.spans.iter().filter(|s| s.parent_span_id.is_none());
            assert_eq!(roots.count(), 1, "{name}: one root per trace");
            for s in &tr.spans {
                assert!(s.end_ns > s.start_ns);
                let Some(p) = s.parent_span_id.map(|p| by_id[&p]) else {
                    continue;
                };
                assert!(s.start_ns >= p.start_ns && s.end_ns <= p.end_ns, "{name}");
                // Client spans' children are server spans in another
                // workload; server spans' children are client spans in it.
                match p.kind {
                    SpanKind::Client => assert_eq!(s.kind, SpanKind::Server),
                    SpanKind::Server => {
                        assert_eq!(s.kind, SpanKind::Client);
                        assert_eq!(s.workload, p.workload);
                    }
                }
            }
        }
    }
}

#[test]
fn same_entry_same_trace() {
    let a = tracer("emojivoto");
    let b = tracer("emojivoto");
    let ea = a.entries(0.0, HOUR);
    assert_eq!(ea, b.entries(0.0, HOUR));
    for e in ea.iter().take(20) {
        assert_eq!(a.trace(*e), b.trace(*e));
    }
}

#[test]
fn handlers_reject_bad_parameters() {
    let ctx = test_ctx(Arc::new(load("bookinfo").unwrap()), 2 * 3_600_000);
    let bad = |r: Reply, want: &str| match r {
        Reply::V3Error(s, m) | Reply::V1Error(s, m) => {
            assert_eq!(s.as_u16(), 400, "{m}");
            assert!(m.contains(want), "{m:?} should name {want}");
        }
        Reply::Json(v) => panic!("expected an error, got {v}"),
    };
    let q = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    bad(
        handlers::find_traces(&ctx, vec![]).reply,
        "query.startTimeMin",
    );
    let mut p = q("query.startTimeMin", "soon");
    p.extend(q("query.startTimeMax", "2026-01-05T10:00:00Z"));
    bad(handlers::find_traces(&ctx, p).reply, "query.startTimeMin");
    bad(handlers::get_trace_v3(&ctx, "zz", vec![]).reply, "trace_id");
    bad(handlers::get_trace_ui(&ctx, "zz", vec![]).reply, "traceID");
    bad(
        handlers::dependencies(&ctx, q("lookback", "1h")).reply,
        "lookback",
    );
    bad(handlers::operations(&ctx, vec![]).reply, "service");
}

#[test]
fn skeletons_match_full_traces() {
    let t = tracer("bookinfo");
    for e in t.entries(0.0, HOUR).into_iter().take(30) {
        let mut full = t.trace(e).unwrap();
        let skel = t.trace_skeleton(e).unwrap();
        assert!(full.spans.iter().all(|s| !s.attributes.is_empty()));
        for s in &mut full.spans {
            s.attributes.clear();
        }
        assert_eq!(full, skel);
    }
}
