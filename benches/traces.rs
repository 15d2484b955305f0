//! Spans → edges and per-edge latency distributions for 10,000 traces /
//! 200,000 spans (issue 7 target: < 1 s, < 500 MB peak RSS), plus parsing
//! the same spans from OTLP JSON.
//!
//! Input: Istio-like traces over 50 services: each call is a client span in
//! the caller and a server span in the callee (so 10 calls per trace), with
//! log-normal-ish durations and 2% errors.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use meshscope::collect::traces::parse::parse_value;
use meshscope::collect::traces::{Span, SpanKind, Trace, TraceInput, parse_str};

const TRACES: usize = 10_000;
const SPANS_PER_TRACE: usize = 20;
const SERVICES: u64 = 50;

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn traces() -> Vec<Trace> {
    let names: Vec<String> = (0..SERVICES).map(|i| format!("svc-{i}.default")).collect();
    (0..TRACES as u64)
        .map(|t| {
            let mut spans = Vec::with_capacity(SPANS_PER_TRACE);
            let mut caller = mix(t) % SERVICES;
            let mut parent: Option<u64> = None;
            for c in 0..(SPANS_PER_TRACE / 2) as u64 {
                let h = mix(t * 1000 + c);
                let callee = (caller + 1 + h % (SERVICES - 1)) % SERVICES;
                let dur = 1_000 + (h >> 20) % 200_000;
                let error = h.is_multiple_of(50);
                let client_id = t * 100 + 2 * c + 1;
                let server_id = client_id + 1;
                let start = 1_700_000_000_000_000 + (t * 1000 + c) as i64;
                spans.push(Span {
                    span_id: client_id,
                    parent_id: parent,
                    service: Some(names[caller as usize].clone()),
                    name: "GET".into(),
                    kind: SpanKind::Client,
                    start_us: start,
                    duration_us: dur as i64,
                    error,
                    http_status: Some(if error { 503 } else { 200 }),
                    ..Span::default()
                });
                spans.push(Span {
                    span_id: server_id,
                    parent_id: Some(client_id),
                    service: Some(names[callee as usize].clone()),
                    name: "GET".into(),
                    kind: SpanKind::Server,
                    start_us: start + 10,
                    duration_us: dur as i64 - 20,
                    error,
                    ..Span::default()
                });
                // Half the time the chain goes deeper, else fans out.
                if h.is_multiple_of(2) {
                    caller = callee;
                    parent = Some(server_id);
                }
            }
            Trace {
                trace_id: u128::from(mix(t)) << 64 | u128::from(t),
                spans,
            }
        })
        .collect()
}

fn otlp_json(traces: &[Trace]) -> String {
    let mut spans = Vec::new();
    for t in traces {
        for s in &t.spans {
            spans.push(serde_json::json!({
                "traceId": format!("{:032x}", t.trace_id),
                "spanId": format!("{:016x}", s.span_id),
                "parentSpanId": s.parent_id.map(|p| format!("{p:016x}")).unwrap_or_default(),
                "name": s.name, "kind": if s.kind == SpanKind::Client { 3 } else { 2 },
                "startTimeUnixNano": (s.start_us * 1000).to_string(),
                "endTimeUnixNano": ((s.start_us + s.duration_us) * 1000).to_string(),
                "attributes": [{"key": "peer.address", "value": {"stringValue": "10.0.0.1"}}],
                "status": if s.error { serde_json::json!({"code": 2}) } else { serde_json::json!({}) },
                "x": s.service,
            }));
        }
    }
    // One resource per service.
    let mut by_service: std::collections::BTreeMap<String, Vec<serde_json::Value>> =
        std::collections::BTreeMap::new();
    for mut s in spans {
        let svc = s["x"].as_str().unwrap_or_default().to_string();
        if let Some(o) = s.as_object_mut() {
            o.remove("x");
        }
        by_service.entry(svc).or_default().push(s);
    }
    let rs: Vec<serde_json::Value> = by_service
        .into_iter()
        .map(|(svc, spans)| {
            serde_json::json!({
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
                "scopeSpans": [{"scope": {}, "spans": spans}]
            })
        })
        .collect();
    serde_json::json!({ "resourceSpans": rs }).to_string()
}

/// Link everything and compute p50/p95/p99 of every edge.
fn edges_and_quantiles(input: &TraceInput) -> usize {
    let mut g = input.graph();
    let mut n = 0;
    for m in g.edges.values_mut() {
        for e in m.values_mut() {
            let q = e.quantiles();
            n += usize::from(q.2.is_some());
        }
    }
    n
}

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn bench(c: &mut Criterion) {
    let mut input = TraceInput::new("bench");
    input.traces = traces();
    let spans: usize = input.traces.iter().map(|t| t.spans.len()).sum();
    assert_eq!(spans, TRACES * SPANS_PER_TRACE);
    let edges = edges_and_quantiles(&input);
    eprintln!("{TRACES} traces, {spans} spans → {edges} edges with quantiles");
    let mut g = c.benchmark_group("traces");
    g.sample_size(10);
    g.bench_function("link_200k_spans_edges_quantiles", |b| {
        b.iter(|| black_box(edges_and_quantiles(black_box(&input))))
    });
    if let Some(mb) = peak_rss_mb() {
        eprintln!("peak RSS after generating and linking (VmHWM): {mb:.0} MB");
    }
    let json = otlp_json(&input.traces);
    eprintln!("OTLP JSON: {:.1} MB", json.len() as f64 / 1e6);
    drop(input);
    // Before and after, side by side: the serde_json::Value DOM the parser
    // used to go through, and the typed borrowing reader `parse_str` now
    // uses for OTLP. The peak is reset (Linux: clear_refs 5) before each,
    // so each figure is that reader's.
    let dom = |text: &str| {
        let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        parse_value(&v, "bench")
            .map(|p| p.traces.len())
            .unwrap_or(0)
    };
    let typed = |text: &str| {
        parse_str(text, "bench")
            .map(|p| p.traces.len())
            .unwrap_or(0)
    };
    assert_eq!(dom(&json), TRACES);
    assert_eq!(typed(&json), TRACES);
    type Reader<'a> = &'a dyn Fn(&str) -> usize;
    // Typed first: the allocator keeps what the DOM freed resident, which
    // would hide the typed reader's smaller peak.
    let readers: [(&str, Reader); 2] = [("typed", &typed), ("dom", &dom)];
    for (name, read) in readers {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let base = rss_mb().unwrap_or(0.0);
        let t = std::time::Instant::now();
        black_box(read(black_box(&json)));
        let once = t.elapsed();
        g.bench_function(format!("parse_otlp_200k_spans_{name}"), |b| {
            b.iter(|| black_box(read(black_box(&json))))
        });
        if let Some(mb) = peak_rss_mb() {
            eprintln!(
                "parse {name}: first run {once:?}; peak RSS while parsing {mb:.0} MB (process before: {base:.0} MB, JSON text included)"
            );
        }
    }
    g.finish();
}

fn rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

criterion_group!(benches, bench);
criterion_main!(benches);
