#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bad trace input is counted and reported, never a panic or a hang.

use std::time::{Duration, Instant};

use meshscope::collect::traces::{ParseError, TraceInput, parse_str};
use meshscope::model::snapshot::SourceState;
use serde_json::json;

fn zspan(id: &str, parent: Option<&str>, svc: &str, kind: &str, ts: i64) -> serde_json::Value {
    let mut v = json!({
        "traceId": "00000000000000aa", "id": id, "name": "op", "kind": kind,
        "timestamp": ts, "duration": 1000, "localEndpoint": {"serviceName": svc}
    });
    if let Some(p) = parent {
        v["parentId"] = json!(p);
    }
    v
}

fn input_of(v: &serde_json::Value) -> TraceInput {
    let mut i = TraceInput::new("traces");
    i.add_text(&v.to_string(), "test.json");
    i
}

#[test]
fn malformed_json_is_an_error_naming_the_origin() {
    for text in ["{\"data\": [", "", "nope", "[1, 2"] {
        let e = parse_str(text, "traces/x.json").unwrap_err();
        assert!(matches!(e, ParseError::Json { .. }), "{text}: {e}");
        assert!(e.to_string().contains("traces/x.json"));
    }
    let e = parse_str("{\"hello\": 1}", "traces/y.json").unwrap_err();
    assert!(e.to_string().contains("not a trace document"), "{e}");
    let mut i = TraceInput::new("traces");
    i.add_text("{", "traces/x.json");
    let st = i.status(&i.graph());
    assert_eq!(st.status, SourceState::Unavailable);
    assert!(st.detail.unwrap().contains("traces/x.json"));
}

#[test]
fn jaeger_error_envelope_is_reported() {
    let v = json!({"data": null, "errors": [{"code": 404, "msg": "trace not found"}]});
    let e = parse_str(&v.to_string(), "jaeger").unwrap_err();
    assert!(e.to_string().contains("trace not found"), "{e}");
}

#[test]
fn missing_parents_are_counted_and_become_roots() {
    let v = json!([
        zspan(
            "0000000000000001",
            Some("00000000000000ff"),
            "a",
            "SERVER",
            10
        ),
        zspan(
            "0000000000000002",
            Some("0000000000000001"),
            "b",
            "SERVER",
            20
        ),
    ]);
    let i = input_of(&v);
    let g = i.graph();
    assert_eq!(g.stats.missing_parents, 1);
    assert_eq!(g.counts(), vec![("a".into(), "b".into(), 1, 0)]);
    let st = i.status(&g);
    assert_eq!(st.status, SourceState::Degraded);
    assert!(st.detail.unwrap().contains("1 spans with a missing parent"));
}

#[test]
fn duplicate_span_ids_are_dropped() {
    let v = json!([
        zspan("0000000000000001", None, "a", "SERVER", 10),
        zspan(
            "0000000000000002",
            Some("0000000000000001"),
            "b",
            "SERVER",
            20
        ),
        zspan(
            "0000000000000002",
            Some("0000000000000001"),
            "b",
            "SERVER",
            20
        ),
    ]);
    let g = input_of(&v).graph();
    assert_eq!(g.stats.duplicate_span_ids, 1);
    assert_eq!(g.counts(), vec![("a".into(), "b".into(), 1, 0)]);
}

#[test]
fn parent_cycles_are_cut_without_hanging() {
    // 1 → 2 → 3 → 1, and a self-parent.
    let v = json!([
        zspan(
            "0000000000000001",
            Some("0000000000000003"),
            "a",
            "SERVER",
            10
        ),
        zspan(
            "0000000000000002",
            Some("0000000000000001"),
            "b",
            "SERVER",
            20
        ),
        zspan(
            "0000000000000003",
            Some("0000000000000002"),
            "c",
            "SERVER",
            30
        ),
        zspan(
            "0000000000000004",
            Some("0000000000000004"),
            "d",
            "SERVER",
            30
        ),
    ]);
    let g = input_of(&v).graph();
    assert_eq!(g.stats.cycles, 1);
    // The self-parent is not a parent: counted as missing.
    assert_eq!(g.stats.missing_parents, 1);
    // One link of the cycle is cut: two of a→b, b→c, c→a remain.
    assert_eq!(g.counts().len(), 2, "{:?}", g.counts());
}

#[test]
fn clock_skew_is_counted() {
    let v = json!([
        zspan("0000000000000001", None, "a", "SERVER", 1_000_000),
        zspan(
            "0000000000000002",
            Some("0000000000000001"),
            "b",
            "SERVER",
            10
        ),
    ]);
    let i = input_of(&v);
    let g = i.graph();
    assert_eq!(g.stats.skewed_spans, 1);
    assert!(i.status(&g).detail.unwrap().contains("clock skew"));
}

#[test]
fn unknown_fields_and_odd_values_are_ignored() {
    let v = json!([{
        "traceId": "00000000000000aa", "id": "0000000000000001", "kind": "WEIRD",
        "timestamp": "not a number", "duration": -5, "future": {"x": [1, 2]},
        "localEndpoint": {"serviceName": "a", "zone": "eu"}, "tags": {"http.status_code": "503"}
    }, {"no": "ids"}]);
    let i = input_of(&v);
    let g = i.graph();
    assert_eq!(i.bad_spans, 1);
    assert_eq!(g.stats.spans, 1);
    assert!(
        i.status(&g)
            .detail
            .unwrap()
            .contains("1 spans without ids skipped")
    );
}

#[test]
fn an_enormous_trace_is_linked_quickly() {
    // 100,000 spans in one trace: a chain alternating two services, plus a
    // long parent cycle at the end.
    let n = 100_000;
    let mut spans = Vec::with_capacity(n);
    for k in 1..=n {
        let parent = if k == 1 {
            None
        } else {
            Some(format!("{:016x}", k - 1))
        };
        let svc = if k % 2 == 0 { "even" } else { "odd" };
        spans.push(zspan(
            &format!("{k:016x}"),
            parent.as_deref(),
            svc,
            "SERVER",
            k as i64,
        ));
    }
    let text = serde_json::to_string(&spans).unwrap();
    let t0 = Instant::now();
    let mut i = TraceInput::new("traces");
    i.add_text(&text, "big.json");
    let g = i.graph();
    assert!(t0.elapsed() < Duration::from_secs(30));
    assert_eq!(g.stats.spans, n);
    assert_eq!(g.stats.large_traces, 1);
    let counts = g.counts();
    assert_eq!(
        counts,
        vec![
            ("even".into(), "odd".into(), (n / 2 - 1) as u64, 0),
            ("odd".into(), "even".into(), (n / 2) as u64, 0)
        ]
    );
    assert!(i.status(&g).detail.unwrap().contains("1 enormous traces"));
}
