//! Zipkin v2 spans (`zipkin2-api.yaml`): a span array, a list of traces
//! (array of arrays) or a single span object.

use serde_json::Value;

use super::ids::{parse_id, span_id};
use super::parse::{apply_attr, int_of, str_of};
use super::span::{Parsed, Span, SpanKind, TraceGroups};

/// Parse Zipkin v2 span objects, grouped by trace id.
pub fn parse(items: &[Value]) -> Parsed {
    let mut out = Parsed {
        format: "zipkin",
        ..Parsed::default()
    };
    let mut by_trace = TraceGroups::default();
    for s in items {
        let Some((tid, sid)) = out
            .stats
            .ids(str_of(s.get("traceId")), str_of(s.get("id")), false)
        else {
            continue;
        };
        let mut span = Span {
            span_id: span_id(sid),
            parent_id: str_of(s.get("parentId"))
                .and_then(|x| parse_id(x, false))
                .map(|(p, _)| span_id(p)),
            name: str_of(s.get("name")).unwrap_or("").to_string(),
            kind: str_of(s.get("kind")).map_or(SpanKind::Unspecified, SpanKind::from_name),
            start_us: int_of(s.get("timestamp")).unwrap_or(0),
            duration_us: int_of(s.get("duration")).unwrap_or(0).max(0),
            shared: s.get("shared").and_then(Value::as_bool).unwrap_or(false),
            service: s
                .get("localEndpoint")
                .and_then(|e| str_of(e.get("serviceName")))
                .map(str::to_string),
            ..Span::default()
        };
        if let Some(tags) = s.get("tags").and_then(Value::as_object) {
            for (k, v) in tags {
                if k == "error" {
                    // Zipkin: the presence of the tag marks an error, even empty.
                    span.error = true;
                    continue;
                }
                apply_attr(&mut span, k, v);
            }
        }
        // The remote endpoint wins over a `peer.service` tag.
        if let Some(r) = s
            .get("remoteEndpoint")
            .and_then(|e| str_of(e.get("serviceName")))
        {
            span.remote_service = Some(r.to_string());
        }
        by_trace.push(&mut out.traces, tid, span);
    }
    out
}
