//! Detect a trace document's format by its shape and convert it into
//! [`Parsed`]: Jaeger query API JSON, Zipkin v2 span arrays, OTLP JSON
//! (plain, api_v3's `{"result": …}`, Tempo's `batches`), Tempo search
//! results and dependency link lists.

use serde_json::Value;

use super::span::{DependencyLink, Parsed, Span};
use super::{jaeger, otlp, zipkin};

/// A document that is not a trace payload.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{origin}: not valid JSON: {message}")]
    Json { origin: String, message: String },
    #[error(
        "{origin}: not a trace document ({what}); expected Jaeger {{\"data\":[…]}}, a Zipkin v2 span array, OTLP JSON (resourceSpans) or Tempo (batches)"
    )]
    Shape { origin: String, what: String },
    #[error("{origin}: the API answered an error: {message}")]
    ApiError { origin: String, message: String },
}

/// Parse JSON text; `origin` names where it came from in errors.
pub fn parse_str(text: &str, origin: &str) -> Result<Parsed, ParseError> {
    // OTLP and Tempo documents (the large ones) go through typed structs
    // that borrow from the text; anything they cannot read falls through to
    // the lenient DOM below.
    let finder = |needle: &str| memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some();
    if (finder("\"resourceSpans\"") || finder("\"batches\""))
        && let Some(p) = super::otlp_typed::parse_text(text)
    {
        return Ok(p);
    }
    let v: Value = serde_json::from_str(text).map_err(|e| ParseError::Json {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    parse_value(&v, origin)
}

fn describe(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let keys: Vec<&str> = m.keys().take(5).map(String::as_str).collect();
            format!("an object with keys {keys:?}")
        }
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Null => "null".into(),
        _ => "a scalar".into(),
    }
}

/// Parse a JSON value by shape.
pub fn parse_value(v: &Value, origin: &str) -> Result<Parsed, ParseError> {
    let shape = || ParseError::Shape {
        origin: origin.to_string(),
        what: describe(v),
    };
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("result").filter(|r| r.is_object()) {
                return parse_value(r, origin);
            }
            if m.contains_key("resourceSpans") {
                return Ok(otlp::parse(v, "resourceSpans", false, "otlp"));
            }
            if m.contains_key("batches") {
                return Ok(otlp::parse(v, "batches", true, "tempo"));
            }
            if let Some(Value::Array(traces)) = m.get("traces") {
                return Ok(otlp::tempo_search(traces));
            }
            if let Some(data) = m.get("data") {
                return match data {
                    Value::Array(items) if items.first().is_some_and(is_link) => {
                        Ok(links(items, "jaeger-dependencies"))
                    }
                    Value::Array(items) => Ok(jaeger::parse_traces(items)),
                    Value::Null => Err(ParseError::ApiError {
                        origin: origin.to_string(),
                        message: api_errors(m.get("errors")),
                    }),
                    _ => Err(shape()),
                };
            }
            if m.contains_key("traceID") && m.contains_key("spans") {
                return Ok(jaeger::parse_traces(std::slice::from_ref(v)));
            }
            if m.contains_key("traceId") && m.contains_key("id") {
                return Ok(zipkin::parse(std::slice::from_ref(v)));
            }
            if let Some(e) = m.get("error") {
                return Err(ParseError::ApiError {
                    origin: origin.to_string(),
                    message: e.to_string(),
                });
            }
            Err(shape())
        }
        Value::Array(items) => {
            let Some(first) = items.iter().find(|i| !i.is_null()) else {
                return Ok(Parsed {
                    format: "empty",
                    ..Parsed::default()
                });
            };
            if is_link(first) {
                return Ok(links(items, "dependencies"));
            }
            if first.is_array() {
                let spans: Vec<Value> = items
                    .iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .cloned()
                    .collect();
                return Ok(zipkin::parse(&spans));
            }
            if first.get("spanID").is_some() {
                return Ok(jaeger::parse_loose_spans(items));
            }
            if first.get("traceID").is_some() && first.get("spans").is_some() {
                return Ok(jaeger::parse_traces(items));
            }
            if first.get("traceId").is_some() {
                return Ok(zipkin::parse(items));
            }
            Err(shape())
        }
        _ => Err(shape()),
    }
}

fn api_errors(v: Option<&Value>) -> String {
    match v.and_then(Value::as_array) {
        Some(errs) if !errs.is_empty() => errs
            .iter()
            .map(|e| match e.get("msg").and_then(Value::as_str) {
                Some(m) => m.to_string(),
                None => e.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => "data is null".into(),
    }
}

fn is_link(v: &Value) -> bool {
    v.get("parent").is_some() && v.get("child").is_some()
}

fn links(items: &[Value], format: &'static str) -> Parsed {
    let mut out = Parsed {
        format,
        ..Parsed::default()
    };
    for i in items {
        let (Some(p), Some(c)) = (str_of(i.get("parent")), str_of(i.get("child"))) else {
            out.stats.bad_spans += 1;
            continue;
        };
        out.links.push(DependencyLink {
            parent: p.to_string(),
            child: c.to_string(),
            calls: int_of(i.get("callCount")).unwrap_or(0).max(0) as u64,
            errors: int_of(i.get("errorCount")).unwrap_or(0).max(0) as u64,
        });
    }
    out
}

/// A string field.
pub(crate) fn str_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// An integer from a JSON number or a decimal string (protojson int64).
pub(crate) fn int_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// A value rendered as text (strings as-is, numbers and booleans printed).
pub(crate) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether [`apply_attr`] does anything with `key` (other attributes can
/// be skipped without building their values).
pub(crate) fn wants_attr(key: &str) -> bool {
    matches!(
        key,
        "span.kind"
            | "error"
            | "otel.status_code"
            | "http.status_code"
            | "http.response.status_code"
            | "peer.service"
    ) || super::span::MAPPING_KEYS.contains(&key)
}

/// Apply one attribute/tag to a span: kind, error, HTTP status, peer
/// service and the mapping keys.
pub(crate) fn apply_attr(span: &mut Span, key: &str, value: &Value) {
    use super::span::{MAPPING_KEYS, SpanKind};
    match key {
        "span.kind" => {
            if let Some(s) = value.as_str() {
                span.kind = SpanKind::from_name(s);
            }
        }
        "error" => {
            span.error |= match value {
                Value::Bool(b) => *b,
                Value::String(s) => s != "false",
                Value::Null => false,
                _ => true,
            };
        }
        "otel.status_code" => span.error |= value.as_str() == Some("ERROR"),
        "http.status_code" | "http.response.status_code" => {
            if let Some(code) = int_of(Some(value)).and_then(|c| u16::try_from(c).ok()) {
                span.http_status = Some(code);
                span.error |= code >= 500;
            }
        }
        "peer.service" => {
            if let Some(s) = value.as_str().filter(|s| !s.is_empty()) {
                span.remote_service = Some(s.to_string());
            }
        }
        k if MAPPING_KEYS.contains(&k) => {
            if let Some(s) = text_of(value) {
                span.attrs.push((k.to_string(), s));
            }
        }
        _ => {}
    }
}
