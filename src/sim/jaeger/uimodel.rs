//! The Jaeger UI model (`internal/uimodel`) served by `/api/traces/{id}`,
//! and dependency links computed like Jaeger's in-memory dependency
//! processor (a span whose parent in the same trace belongs to another
//! service adds one call to the `parent → child` link).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::model::{AttrValue, SimTrace, span_id_hex};

/// The `{"data", "total", "limit", "offset", "errors"}` envelope.
#[derive(Debug, Serialize)]
pub struct Envelope<T: Serialize> {
    pub data: T,
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub errors: Option<Vec<StructuredError>>,
}

impl<T: Serialize> Envelope<T> {
    /// A successful response carrying `data`.
    pub fn ok(data: T) -> Self {
        Envelope {
            data,
            total: 0,
            limit: 0,
            offset: 0,
            errors: None,
        }
    }
}

/// One entry of the envelope's `errors`.
#[derive(Debug, Serialize)]
pub struct StructuredError {
    pub code: u16,
    pub msg: String,
}

/// The error envelope (`data: null`).
pub fn error_envelope(code: u16, msg: &str) -> Envelope<Value> {
    Envelope {
        data: Value::Null,
        total: 0,
        limit: 0,
        offset: 0,
        errors: Some(vec![StructuredError {
            code,
            msg: msg.to_string(),
        }]),
    }
}

/// A UI-model trace.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UiTrace {
    #[serde(rename = "traceID")]
    pub trace_id: String,
    pub spans: Vec<UiSpan>,
    pub processes: BTreeMap<String, UiProcess>,
    pub warnings: Option<Vec<String>>,
}

/// A UI-model span.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UiSpan {
    #[serde(rename = "traceID")]
    pub trace_id: String,
    #[serde(rename = "spanID")]
    pub span_id: String,
    pub operation_name: String,
    pub references: Vec<UiReference>,
    /// Unix microseconds.
    pub start_time: u64,
    /// Microseconds.
    pub duration: u64,
    pub tags: Vec<UiTag>,
    pub logs: Vec<Value>,
    #[serde(rename = "processID")]
    pub process_id: String,
    pub warnings: Option<Vec<String>>,
}

/// A span reference (`CHILD_OF` the parent span).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UiReference {
    pub ref_type: &'static str,
    #[serde(rename = "traceID")]
    pub trace_id: String,
    #[serde(rename = "spanID")]
    pub span_id: String,
}

/// A typed tag: `{key, type, value}`.
#[derive(Debug, Serialize)]
pub struct UiTag {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: Value,
}

/// A process: the reporting service.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UiProcess {
    pub service_name: String,
    pub tags: Vec<UiTag>,
}

fn tag(key: &str, v: &AttrValue) -> UiTag {
    let (kind, value) = match v {
        AttrValue::Str(s) => ("string", json!(s)),
        AttrValue::Int(i) => ("int64", json!(i)),
        AttrValue::Bool(b) => ("bool", json!(b)),
    };
    UiTag {
        key: key.to_string(),
        kind,
        value,
    }
}

/// The UI model of a trace (processes `p1`, `p2`… in order of first use).
pub fn ui_trace(t: &SimTrace) -> UiTrace {
    let trace_id = t.trace_id_hex();
    let mut process_of: Vec<&str> = Vec::new();
    let mut spans = Vec::with_capacity(t.spans.len());
    for sp in &t.spans {
        let pi = match process_of.iter().position(|s| *s == sp.service) {
            Some(i) => i,
            None => {
                process_of.push(&sp.service);
                process_of.len() - 1
            }
        };
        let mut tags: Vec<UiTag> = sp.attributes.iter().map(|(k, v)| tag(k, v)).collect();
        tags.push(tag("span.kind", &AttrValue::Str(sp.kind.as_str().into())));
        if let Some(msg) = &sp.error {
            tags.push(tag("otel.status_code", &AttrValue::Str("ERROR".into())));
            tags.push(tag("otel.status_description", &AttrValue::Str(msg.clone())));
            if sp.attr("error").is_none() {
                tags.push(tag("error", &AttrValue::Bool(true)));
            }
        }
        spans.push(UiSpan {
            trace_id: trace_id.clone(),
            span_id: span_id_hex(sp.span_id),
            operation_name: sp.name.clone(),
            references: sp
                .parent_span_id
                .map(|p| UiReference {
                    ref_type: "CHILD_OF",
                    trace_id: trace_id.clone(),
                    span_id: span_id_hex(p),
                })
                .into_iter()
                .collect(),
            start_time: sp.start_ns / 1_000,
            duration: sp.duration_ns() / 1_000,
            tags,
            logs: Vec::new(),
            process_id: format!("p{}", pi + 1),
            warnings: None,
        });
    }
    let processes = process_of
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                format!("p{}", i + 1),
                UiProcess {
                    service_name: s.to_string(),
                    tags: Vec::new(),
                },
            )
        })
        .collect();
    UiTrace {
        trace_id,
        spans,
        processes,
        warnings: None,
    }
}

/// A dependency link, as `/api/dependencies` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DependencyLink {
    pub parent: String,
    pub child: String,
    pub call_count: u64,
}

/// Dependency links over `traces`, sorted by (parent, child).
pub fn dependencies(traces: &[SimTrace]) -> Vec<DependencyLink> {
    let mut links: BTreeMap<(String, String), u64> = BTreeMap::new();
    for t in traces {
        let by_id: BTreeMap<u64, &str> = t
            .spans
            .iter()
            .map(|s| (s.span_id, s.service.as_str()))
            .collect();
        for sp in &t.spans {
            let Some(parent) = sp.parent_span_id.and_then(|p| by_id.get(&p)) else {
                continue;
            };
            if *parent != sp.service {
                *links
                    .entry((parent.to_string(), sp.service.clone()))
                    .or_default() += 1;
            }
        }
    }
    links
        .into_iter()
        .map(|((parent, child), call_count)| DependencyLink {
            parent,
            child,
            call_count,
        })
        .collect()
}
