//! OTLP JSON read with typed serde structs that borrow from the text
//! (strings are `Cow`: borrowed unless they hold escapes), instead of a
//! `serde_json::Value` DOM that costs about ten times the document. Unknown
//! fields are skipped; `resourceSpans` (OTLP), `batches` (Tempo, base64
//! ids) and api_v3's `{"result": …}` wrapper are accepted. Numbers may be
//! JSON numbers or decimal strings (protojson int64), enums numbers or
//! names. A document this reader rejects (an odd type somewhere) is read
//! again by the lenient DOM parser ([`super::otlp::parse`]), so the result
//! never depends on which reader succeeded.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::Value;

use super::ids::{parse_id, span_id};
use super::parse::{apply_attr, wants_attr};
use super::span::{Parsed, Span, SpanKind, TraceGroups};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Doc<'a> {
    #[serde(rename = "resourceSpans", borrow)]
    resource_spans: Option<Vec<ResourceSpans<'a>>>,
    #[serde(borrow)]
    batches: Option<Vec<ResourceSpans<'a>>>,
    #[serde(borrow)]
    result: Option<Box<Doc<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResourceSpans<'a> {
    #[serde(borrow)]
    resource: Option<Resource<'a>>,
    #[serde(rename = "scopeSpans", borrow)]
    scope_spans: Option<Vec<ScopeSpans<'a>>>,
    #[serde(rename = "instrumentationLibrarySpans", borrow)]
    library_spans: Option<Vec<ScopeSpans<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Resource<'a> {
    #[serde(borrow)]
    attributes: Option<Vec<KeyValue<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScopeSpans<'a> {
    #[serde(borrow)]
    spans: Option<Vec<OtlpSpan<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OtlpSpan<'a> {
    #[serde(rename = "traceId", borrow)]
    trace_id: Option<Cow<'a, str>>,
    #[serde(rename = "spanId", borrow)]
    span_id: Option<Cow<'a, str>>,
    #[serde(rename = "parentSpanId", borrow)]
    parent_span_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "kind")]
    kind: SpanKind,
    #[serde(rename = "startTimeUnixNano", deserialize_with = "int")]
    start: Option<i64>,
    #[serde(rename = "endTimeUnixNano", deserialize_with = "int")]
    end: Option<i64>,
    #[serde(borrow)]
    attributes: Option<Vec<KeyValue<'a>>>,
    status: Option<Status>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Status {
    #[serde(deserialize_with = "status_code")]
    code: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KeyValue<'a> {
    #[serde(borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    value: Option<AnyValue<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AnyValue<'a> {
    #[serde(rename = "stringValue", borrow)]
    string: Option<Cow<'a, str>>,
    #[serde(rename = "boolValue")]
    boolean: Option<bool>,
    #[serde(rename = "intValue", deserialize_with = "int_value")]
    int: Option<Value>,
    #[serde(rename = "doubleValue")]
    double: Option<f64>,
}

impl AnyValue<'_> {
    /// The value as the DOM reader sees it (the first of string, bool, int, double).
    fn to_value(&self) -> Value {
        if let Some(s) = &self.string {
            return Value::String(s.to_string());
        }
        if let Some(b) = self.boolean {
            return Value::Bool(b);
        }
        if let Some(v) = &self.int {
            return v.clone();
        }
        self.double
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number)
    }
}

/// A scalar read leniently (strings borrowed from the text when they can be).
enum Scalar<'de> {
    I(i64),
    F(f64),
    S(Cow<'de, str>),
    Bool(bool),
    Null,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a string, a boolean or null")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::I(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(i64::try_from(v).map_or(Scalar::F(v as f64), Scalar::I))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::F(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::S(Cow::Owned(v.to_string())))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::S(Cow::Borrowed(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar<'de>, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match scalar(d)? {
        Scalar::I(i) => Some(i),
        Scalar::F(f) => Some(f as i64),
        Scalar::S(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn int_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(Some(match scalar(d)? {
        Scalar::I(i) => Value::from(i),
        Scalar::F(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Scalar::S(s) => Value::String(s.into_owned()),
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Null => Value::Null,
    }))
}

fn kind<'de, D: Deserializer<'de>>(d: D) -> Result<SpanKind, D::Error> {
    Ok(match scalar(d)? {
        Scalar::I(i) => SpanKind::from_otlp(i),
        Scalar::S(s) => SpanKind::from_name(&s),
        _ => SpanKind::Unspecified,
    })
}

fn status_code<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match scalar(d)? {
        Scalar::I(i) => i == 2,
        Scalar::S(s) => s == "STATUS_CODE_ERROR" || s == "2",
        _ => false,
    })
}

fn non_empty<'a>(s: &'a Option<Cow<'_, str>>) -> Option<&'a str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// Parse OTLP JSON text (`resourceSpans`, Tempo `batches`, either inside
/// `{"result": …}`); `None` when the text is not such a document or this
/// reader cannot read it (the DOM reader then decides).
pub fn parse_text(text: &str) -> Option<Parsed> {
    let mut doc: Doc<'_> = serde_json::from_str(text).ok()?;
    while doc.resource_spans.is_none() && doc.batches.is_none() {
        doc = *doc.result.take()?;
    }
    let (list, base64, format) = match (doc.resource_spans, doc.batches) {
        (Some(rs), _) => (rs, false, "otlp"),
        (None, Some(b)) => (b, true, "tempo"),
        (None, None) => return None,
    };
    Some(convert(list, base64, format))
}

fn convert(list: Vec<ResourceSpans<'_>>, base64: bool, format: &'static str) -> Parsed {
    let mut out = Parsed {
        format,
        ..Parsed::default()
    };
    let mut by_trace = TraceGroups::default();
    for rs in list {
        let attrs = rs.resource.and_then(|r| r.attributes).unwrap_or_default();
        let service = attrs
            .iter()
            .find(|a| a.key.as_deref() == Some("service.name"))
            .and_then(|a| a.value.as_ref())
            .and_then(|v| v.string.as_deref())
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let res_attrs: Vec<(&str, Value)> = attrs
            .iter()
            .filter_map(|a| {
                let k = non_empty(&a.key)?;
                (k != "service.name" && wants_attr(k))
                    .then(|| (k, a.value.as_ref().map_or(Value::Null, AnyValue::to_value)))
            })
            .collect();
        let scopes = rs.scope_spans.or(rs.library_spans).unwrap_or_default();
        for s in scopes
            .into_iter()
            .flat_map(|ss| ss.spans.unwrap_or_default())
        {
            let Some((tid, sid)) =
                out.stats
                    .ids(non_empty(&s.trace_id), non_empty(&s.span_id), base64)
            else {
                continue;
            };
            let start_ns = s.start.unwrap_or(0);
            let end_ns = s.end.unwrap_or(start_ns);
            let mut span = Span {
                span_id: span_id(sid),
                parent_id: non_empty(&s.parent_span_id)
                    .and_then(|x| parse_id(x, base64))
                    .map(|(p, _)| span_id(p))
                    .filter(|p| *p != 0),
                service: service.clone(),
                name: non_empty(&s.name).unwrap_or("").to_string(),
                kind: s.kind,
                start_us: start_ns / 1000,
                duration_us: (end_ns.saturating_sub(start_ns) / 1000).max(0),
                error: s.status.is_some_and(|st| st.code),
                ..Span::default()
            };
            for (k, v) in &res_attrs {
                apply_attr(&mut span, k, v);
            }
            for a in s.attributes.iter().flatten() {
                if let Some(k) = non_empty(&a.key).filter(|k| wants_attr(k)) {
                    let v = a.value.as_ref().map_or(Value::Null, AnyValue::to_value);
                    apply_attr(&mut span, k, &v);
                }
            }
            by_trace.push(&mut out.traces, tid, span);
        }
    }
    out
}
