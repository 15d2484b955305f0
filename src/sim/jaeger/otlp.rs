//! OTLP/JSON rendering (`TracesData`), as Jaeger's api_v3 returns it inside
//! `{"result": …}`: one `resourceSpans` entry per (trace, service), hex ids,
//! integer span kinds, decimal-string nanosecond timestamps.

use serde::Serialize;

use super::model::{AttrValue, SimTrace, span_id_hex};

/// `{"result": TracesData}`, the api_v3 HTTP gateway's wrapper.
#[derive(Debug, Serialize)]
pub struct Wrapper {
    pub result: TracesData,
}

/// OTLP `TracesData`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TracesData {
    pub resource_spans: Vec<ResourceSpans>,
}

/// OTLP `ResourceSpans`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSpans {
    pub resource: Resource,
    pub scope_spans: Vec<ScopeSpans>,
}

/// OTLP `Resource`.
#[derive(Debug, Serialize)]
pub struct Resource {
    pub attributes: Vec<KeyValue>,
}

/// OTLP `ScopeSpans` (the proxies set no instrumentation scope).
#[derive(Debug, Serialize)]
pub struct ScopeSpans {
    pub scope: Scope,
    pub spans: Vec<Span>,
}

/// OTLP `InstrumentationScope` (empty).
#[derive(Debug, Serialize)]
pub struct Scope {}

/// OTLP `KeyValue`.
#[derive(Debug, Serialize)]
pub struct KeyValue {
    pub key: String,
    pub value: AnyValue,
}

/// OTLP `AnyValue` (64-bit integers as decimal strings, as protojson does).
#[derive(Debug, Serialize)]
pub enum AnyValue {
    #[serde(rename = "stringValue")]
    String(String),
    #[serde(rename = "intValue")]
    Int(String),
    #[serde(rename = "boolValue")]
    Bool(bool),
}

/// OTLP `Span`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: u8,
    pub start_time_unix_nano: String,
    pub end_time_unix_nano: String,
    pub attributes: Vec<KeyValue>,
    pub status: Status,
}

/// OTLP `Status`: `{}` when unset, `{"code": 2, "message": …}` on error.
#[derive(Debug, Serialize)]
pub struct Status {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn value(v: &AttrValue) -> AnyValue {
    match v {
        AttrValue::Str(s) => AnyValue::String(s.clone()),
        AttrValue::Int(i) => AnyValue::Int(i.to_string()),
        AttrValue::Bool(b) => AnyValue::Bool(*b),
    }
}

/// The OTLP rendering of `traces`, in order.
pub fn traces_data(traces: &[SimTrace]) -> TracesData {
    let mut resource_spans = Vec::new();
    for t in traces {
        let trace_id = t.trace_id_hex();
        let mut services: Vec<(&str, Vec<Span>)> = Vec::new();
        for sp in &t.spans {
            let span = Span {
                trace_id: trace_id.clone(),
                span_id: span_id_hex(sp.span_id),
                parent_span_id: sp.parent_span_id.map(span_id_hex),
                name: sp.name.clone(),
                kind: sp.kind.otlp(),
                start_time_unix_nano: sp.start_ns.to_string(),
                end_time_unix_nano: sp.end_ns.to_string(),
                attributes: sp
                    .attributes
                    .iter()
                    .map(|(k, v)| KeyValue {
                        key: k.clone(),
                        value: value(v),
                    })
                    .collect(),
                status: Status {
                    code: sp.error.as_ref().map(|_| 2),
                    message: sp.error.clone(),
                },
            };
            match services.iter_mut().find(|(s, _)| *s == sp.service) {
                Some((_, spans)) => spans.push(span),
                None => services.push((&sp.service, vec![span])),
            }
        }
        for (service, spans) in services {
            resource_spans.push(ResourceSpans {
                resource: Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".to_string(),
                        value: AnyValue::String(service.to_string()),
                    }],
                },
                scope_spans: vec![ScopeSpans {
                    scope: Scope {},
                    spans,
                }],
            });
        }
    }
    TracesData { resource_spans }
}
