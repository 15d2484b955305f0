//! OTLP JSON (`TracesData` / `ExportTraceServiceRequest`): `resourceSpans`
//! → `scopeSpans` (or the older `instrumentationLibrarySpans`) → `spans`,
//! hex ids; Tempo's `/api/traces/{id}` uses `batches` and base64 ids.
//! Also Tempo's search result (`{"traces":[{traceID,…}]}`: ids, no spans).

use serde_json::Value;

use super::ids::{parse_id, span_id};
use super::parse::{apply_attr, int_of, str_of};
use super::span::{Parsed, Span, SpanKind, TraceGroups};

fn any_value(v: &Value) -> Value {
    for k in ["stringValue", "boolValue", "intValue", "doubleValue"] {
        if let Some(x) = v.get(k) {
            return x.clone();
        }
    }
    Value::Null
}

fn attributes(v: Option<&Value>) -> impl Iterator<Item = (&str, Value)> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let k = str_of(a.get("key"))?;
            Some((k, a.get("value").map(any_value).unwrap_or(Value::Null)))
        })
}

fn kind(v: Option<&Value>) -> SpanKind {
    match v {
        Some(Value::Number(n)) => SpanKind::from_otlp(n.as_i64().unwrap_or(0)),
        Some(Value::String(s)) => SpanKind::from_name(s),
        _ => SpanKind::Unspecified,
    }
}

fn status_error(v: Option<&Value>) -> bool {
    match v.and_then(|s| s.get("code")) {
        Some(Value::Number(n)) => n.as_i64() == Some(2),
        Some(Value::String(s)) => s == "STATUS_CODE_ERROR" || s == "2",
        _ => false,
    }
}

/// Parse OTLP JSON whose resource list is under `key`.
pub fn parse(v: &Value, key: &str, base64: bool, format: &'static str) -> Parsed {
    let mut out = Parsed {
        format,
        ..Parsed::default()
    };
    let mut by_trace = TraceGroups::default();
    for rs in v.get(key).and_then(Value::as_array).into_iter().flatten() {
        let res_attrs: Vec<(&str, Value)> =
            attributes(rs.get("resource").and_then(|r| r.get("attributes"))).collect();
        let service = res_attrs
            .iter()
            .find(|(k, _)| *k == "service.name")
            .and_then(|(_, v)| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let scopes = rs
            .get("scopeSpans")
            .or_else(|| rs.get("instrumentationLibrarySpans"))
            .and_then(Value::as_array);
        for ss in scopes.into_iter().flatten() {
            for s in ss
                .get("spans")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some((tid, sid)) =
                    out.stats
                        .ids(str_of(s.get("traceId")), str_of(s.get("spanId")), base64)
                else {
                    continue;
                };
                let start_ns = int_of(s.get("startTimeUnixNano")).unwrap_or(0);
                let end_ns = int_of(s.get("endTimeUnixNano")).unwrap_or(start_ns);
                let mut span = Span {
                    span_id: span_id(sid),
                    parent_id: str_of(s.get("parentSpanId"))
                        .and_then(|x| parse_id(x, base64))
                        .map(|(p, _)| span_id(p))
                        .filter(|p| *p != 0),
                    service: service.clone(),
                    name: str_of(s.get("name")).unwrap_or("").to_string(),
                    kind: kind(s.get("kind")),
                    start_us: start_ns / 1000,
                    duration_us: (end_ns.saturating_sub(start_ns) / 1000).max(0),
                    error: status_error(s.get("status")),
                    ..Span::default()
                };
                for (k, v) in &res_attrs {
                    if *k != "service.name" {
                        apply_attr(&mut span, k, v);
                    }
                }
                for (k, v) in attributes(s.get("attributes")) {
                    apply_attr(&mut span, k, &v);
                }
                by_trace.push(&mut out.traces, tid, span);
            }
        }
    }
    out
}

/// Tempo's `/api/search` answer: the trace ids it found (spans are fetched
/// one by one with `/api/traces/{id}`).
pub fn tempo_search(traces: &[Value]) -> Parsed {
    let mut out = Parsed {
        format: "tempo-search",
        ..Parsed::default()
    };
    for t in traces {
        match str_of(t.get("traceID")).and_then(|x| parse_id(x, false)) {
            Some((id, _)) => out.trace_ids.push(id),
            None => out.stats.bad_spans += 1,
        }
    }
    out
}
