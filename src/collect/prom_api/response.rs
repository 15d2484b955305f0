//! The Prometheus HTTP API's JSON envelope (`/api/v1/query`) → series.
//!
//! Pure parsing, no I/O. Every answer is `{"status": "success" | "error" |
//! "warning"?, "data": {...}, "errorType", "error", "warnings"}`; the data of
//! a query is a `vector`, `matrix`, `scalar` or `string` result.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One result series: its labels (`__name__` included when Prometheus kept
/// it) and its value (for a matrix, the last point of the range).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    /// Unix milliseconds of the value.
    pub at_ms: i64,
}

/// A successful query answer, with the warnings Prometheus attached.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    pub series: Vec<Series>,
    pub warnings: Vec<String>,
}

/// Why an answer could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResponseError {
    /// Prometheus answered `status: "error"`.
    #[error("{error_type}: {message}")]
    Rejected { error_type: String, message: String },
    /// Not the API's JSON envelope.
    #[error("not a Prometheus API answer: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    infos: Vec<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Vector(Vec<VectorItem>),
    Matrix(Vec<MatrixItem>),
    Scalar(Point),
    String(Point),
}

#[derive(Deserialize)]
struct VectorItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: Point,
}

#[derive(Deserialize)]
struct MatrixItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<Point>,
}

/// `[<unix seconds>, "<value>"]`.
#[derive(Deserialize)]
struct Point(f64, String);

impl Point {
    fn parse(&self) -> Result<(i64, f64), ResponseError> {
        let v = parse_value(&self.1)
            .ok_or_else(|| ResponseError::Malformed(format!("sample value {:?}", self.1)))?;
        Ok(((self.0 * 1000.0).round() as i64, v))
    }
}

/// A sample value as the API writes it: `"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`.
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok(),
    }
}

/// Parse one `/api/v1/query` (or `query_range`) answer body.
pub fn parse_query_response(body: &[u8]) -> Result<QueryResult, ResponseError> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| {
        let head = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        ResponseError::Malformed(format!("{e} (body starts {head:?})"))
    })?;
    let mut warnings = env.warnings;
    warnings.extend(env.infos.into_iter().map(|i| format!("info: {i}")));
    match env.status.as_str() {
        "success" | "warning" => {}
        "error" => {
            return Err(ResponseError::Rejected {
                error_type: env.error_type.unwrap_or_else(|| "error".into()),
                message: env.error.unwrap_or_else(|| "(no message)".into()),
            });
        }
        other => return Err(ResponseError::Malformed(format!("status {other:?}"))),
    }
    if env.status == "warning" && warnings.is_empty() {
        warnings.push("Prometheus answered status \"warning\" without details".into());
    }
    let series = match env.data {
        None => return Err(ResponseError::Malformed("no \"data\"".into())),
        Some(Data::Vector(items)) => items
            .into_iter()
            .map(|it| {
                let (at_ms, value) = it.value.parse()?;
                Ok(Series {
                    labels: it.metric,
                    value,
                    at_ms,
                })
            })
            .collect::<Result<Vec<_>, ResponseError>>()?,
        Some(Data::Matrix(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                if let Some(last) = it.values.last() {
                    let (at_ms, value) = last.parse()?;
                    out.push(Series {
                        labels: it.metric,
                        value,
                        at_ms,
                    });
                }
            }
            out
        }
        Some(Data::Scalar(p)) | Some(Data::String(p)) => {
            let (at_ms, value) = p.parse()?;
            vec![Series {
                labels: BTreeMap::new(),
                value,
                at_ms,
            }]
        }
    };
    Ok(QueryResult { series, warnings })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn vector_with_special_values() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"istio_requests_total","reporter":"source"},"value":[1700000000.5,"12.5"]},
            {"metric":{},"value":[1700000000.5,"NaN"]},
            {"metric":{"le":"+Inf"},"value":[1700000000.5,"+Inf"]}]}}"#;
        let r = parse_query_response(body).unwrap();
        assert_eq!(r.series.len(), 3);
        assert_eq!(r.series[0].value, 12.5);
        assert_eq!(r.series[0].at_ms, 1_700_000_000_500);
        assert_eq!(r.series[0].labels["reporter"], "source");
        assert!(r.series[1].value.is_nan());
        assert_eq!(r.series[2].value, f64::INFINITY);
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn error_names_type_and_message() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}"#;
        let e = parse_query_response(body).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad_data: 1:5: parse error: unexpected end of input"
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for body in [
            &b"<html>502 Bad Gateway</html>"[..],
            b"",
            b"{}",
            b"{\"status\":\"odd\"}",
        ] {
            assert!(matches!(
                parse_query_response(body),
                Err(ResponseError::Malformed(_))
            ));
        }
        let bad_value = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x1"]}]}}"#;
        let e = parse_query_response(bad_value).unwrap_err();
        assert!(e.to_string().contains("\"x1\""), "{e}");
    }
}
