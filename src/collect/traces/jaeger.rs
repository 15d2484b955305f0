//! The Jaeger query API's UI model (`/api/traces/{id}` → `{"data":[Trace]}`,
//! `internal/uimodel/model.go`): traces with `spans` and a `processes` map.

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::ids::{parse_id, span_id};
use super::parse::{apply_attr, int_of, str_of};
use super::span::{Parsed, Span, TraceGroups};

struct Process {
    service: Option<String>,
    attrs: Vec<(String, Value)>,
}

fn process(v: &Value) -> Process {
    Process {
        service: str_of(v.get("serviceName")).map(str::to_string),
        attrs: tags(v.get("tags")),
    }
}

fn tags(v: Option<&Value>) -> Vec<(String, Value)> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let k = str_of(t.get("key"))?;
            Some((
                k.to_string(),
                t.get("value").cloned().unwrap_or(Value::Null),
            ))
        })
        .collect()
}

/// `data[]` of the query API (or a single trace object in a slice).
pub fn parse_traces(items: &[Value]) -> Parsed {
    let mut out = Parsed {
        format: "jaeger",
        ..Parsed::default()
    };
    for t in items {
        let processes: FxHashMap<&str, Process> = t
            .get("processes")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.as_str(), process(v))).collect())
            .unwrap_or_default();
        let spans = t.get("spans").and_then(Value::as_array);
        let trace_hint = str_of(t.get("traceID"));
        collect(
            &mut out,
            spans.map(Vec::as_slice).unwrap_or(&[]),
            &processes,
            trace_hint,
        );
    }
    out
}

/// A bare array of UI-model spans, each with an embedded `process`
/// (the Jaeger anonymizer's output).
pub fn parse_loose_spans(items: &[Value]) -> Parsed {
    let mut out = Parsed {
        format: "jaeger",
        ..Parsed::default()
    };
    collect(&mut out, items, &FxHashMap::default(), None);
    out
}

fn collect(
    out: &mut Parsed,
    spans: &[Value],
    processes: &FxHashMap<&str, Process>,
    trace_hint: Option<&str>,
) {
    let mut by_trace = TraceGroups::default();
    for s in spans {
        let tid = str_of(s.get("traceID")).or(trace_hint);
        let Some((tid, sid)) = out.stats.ids(tid, str_of(s.get("spanID")), false) else {
            continue;
        };
        let mut span = Span {
            span_id: span_id(sid),
            name: str_of(s.get("operationName")).unwrap_or("").to_string(),
            start_us: int_of(s.get("startTime")).unwrap_or(0),
            duration_us: int_of(s.get("duration")).unwrap_or(0).max(0),
            ..Span::default()
        };
        let mut refs: Vec<u64> = Vec::new();
        let mut follows: Vec<u64> = Vec::new();
        for r in s
            .get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some((id, _)) = str_of(r.get("spanID")).and_then(|x| parse_id(x, false)) else {
                continue;
            };
            if str_of(r.get("refType")) == Some("FOLLOWS_FROM") {
                follows.push(span_id(id));
            } else {
                refs.push(span_id(id));
            }
        }
        if let Some((p, _)) = str_of(s.get("parentSpanID")).and_then(|x| parse_id(x, false))
            && p != 0
        {
            refs.insert(0, span_id(p));
        }
        refs.extend(follows);
        refs.dedup();
        let mut refs = refs.into_iter();
        span.parent_id = refs.next();
        span.other_refs = refs.collect();
        let embedded = s.get("process").map(process);
        let proc = embedded
            .as_ref()
            .or_else(|| str_of(s.get("processID")).and_then(|p| processes.get(p)));
        if let Some(p) = proc {
            span.service = p.service.clone();
            for (k, v) in &p.attrs {
                apply_attr(&mut span, k, v);
            }
        }
        for (k, v) in tags(s.get("tags")) {
            apply_attr(&mut span, &k, &v);
        }
        by_trace.push(&mut out.traces, tid, span);
    }
}
