//! Query parameter parsing for the simulated Jaeger query API, with the
//! names Jaeger accepts: api_v3 camelCase (`query.serviceName`) and its
//! deprecated snake_case aliases (`query.service_name`, `query.num_traces`…),
//! and the v1 `/api/dependencies` parameters (`endTs`, `lookback`, in ms).

use std::str::FromStr;

/// A parameter that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed parameter {param}: {reason}")]
pub struct ParamError {
    /// The parameter name as the client sent it.
    pub param: String,
    pub reason: String,
}

fn bad(param: &str, reason: impl Into<String>) -> ParamError {
    ParamError {
        param: param.to_string(),
        reason: reason.into(),
    }
}

/// Query string pairs, with canonical/deprecated name resolution.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// Deprecated names that were used, in order.
    pub deprecated: Vec<String>,
}

impl Params {
    /// Wrap decoded query pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Params {
            pairs,
            deprecated: Vec::new(),
        }
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The value of `canonical`, else of the first deprecated alias present
    /// (recorded in [`Params::deprecated`]); with the name that matched.
    pub fn resolve(&mut self, canonical: &str, aliases: &[&str]) -> Option<(String, String)> {
        if let Some(v) = self.get(canonical) {
            return Some((v.to_string(), canonical.to_string()));
        }
        for a in aliases {
            if let Some(v) = self.get(a) {
                let v = v.to_string();
                if !self.deprecated.iter().any(|d| d == a) {
                    self.deprecated.push((*a).to_string());
                }
                return Some((v, (*a).to_string()));
            }
        }
        None
    }
}

/// A parsed `GET /api/v3/traces` query.
#[derive(Debug, Clone, PartialEq)]
pub struct FindQuery {
    pub service: Option<String>,
    pub operation: Option<String>,
    /// Unix nanoseconds, inclusive.
    pub start_min_ns: i128,
    pub start_max_ns: i128,
    /// Most traces returned.
    pub search_depth: usize,
    pub duration_min_ns: Option<u64>,
    pub duration_max_ns: Option<u64>,
}

/// Traces returned when no search depth is given.
pub const DEFAULT_SEARCH_DEPTH: usize = 100;

/// Parse RFC 3339 (Go's `time.RFC3339Nano`) into unix nanoseconds.
pub fn parse_rfc3339(param: &str, v: &str) -> Result<i128, ParamError> {
    jiff::Timestamp::from_str(v)
        .map(|t| t.as_nanosecond())
        .map_err(|e| bad(param, format!("{v:?} is not an RFC 3339 time ({e})")))
}

/// Parse a Go duration (`1.5s`, `300ms`, `1h2m`, `0`) into nanoseconds.
pub fn parse_go_duration(param: &str, v: &str) -> Result<u64, ParamError> {
    let err = |why: &str| bad(param, format!("{v:?} is not a duration ({why})"));
    let s = v.strip_prefix('+').unwrap_or(v);
    if s.starts_with('-') {
        return Err(err("negative"));
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(err("empty"));
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| err("missing unit"))?;
        let num: f64 = rest[..n].parse().map_err(|_| err("bad number"))?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(err("unknown unit; use ns, us, ms, s, m or h")),
        };
        total += num * scale;
        rest = &rest[u..];
    }
    Ok(total as u64)
}

/// Parse the parameters of `GET /api/v3/traces`.
pub fn parse_find(p: &mut Params) -> Result<FindQuery, ParamError> {
    let service = p
        .resolve("query.serviceName", &["query.service_name"])
        .map(|(v, _)| v);
    let operation = p
        .resolve("query.operationName", &["query.operation_name"])
        .map(|(v, _)| v);
    let min = p.resolve("query.startTimeMin", &["query.start_time_min"]);
    let max = p.resolve("query.startTimeMax", &["query.start_time_max"]);
    let (Some((min, min_name)), Some((max, max_name))) = (min, max) else {
        return Err(bad(
            "query.startTimeMin",
            "query.startTimeMin and query.startTimeMax are required",
        ));
    };
    let start_min_ns = parse_rfc3339(&min_name, &min)?;
    let start_max_ns = parse_rfc3339(&max_name, &max)?;
    let search_depth = match p.resolve(
        "query.searchDepth",
        &["query.search_depth", "query.num_traces"],
    ) {
        None => DEFAULT_SEARCH_DEPTH,
        Some((v, name)) => match v.parse::<i64>() {
            Ok(0) => DEFAULT_SEARCH_DEPTH,
            Ok(n) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
            Ok(n) => return Err(bad(&name, format!("{n} must not be negative"))),
            Err(e) => return Err(bad(&name, format!("{v:?} is not an integer ({e})"))),
        },
    };
    let mut duration = |canonical: &str, alias: &str| -> Result<Option<u64>, ParamError> {
        match p.resolve(canonical, &[alias]) {
            None => Ok(None),
            Some((v, name)) => parse_go_duration(&name, &v).map(Some),
        }
    };
    let duration_min_ns = duration("query.durationMin", "query.duration_min")?;
    let duration_max_ns = duration("query.durationMax", "query.duration_max")?;
    for (canonical, alias) in [
        ("query.rawTraces", "query.raw_traces"),
        ("rawTraces", "raw_traces"),
    ] {
        if let Some((v, name)) = p.resolve(canonical, &[alias]) {
            parse_bool(&name, &v)?;
        }
    }
    Ok(FindQuery {
        service,
        operation,
        start_min_ns,
        start_max_ns,
        search_depth,
        duration_min_ns,
        duration_max_ns,
    })
}

/// Parse a Go `strconv.ParseBool` value.
pub fn parse_bool(param: &str, v: &str) -> Result<bool, ParamError> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(bad(param, format!("{v:?} is not a boolean"))),
    }
}

/// Parse a trace id: 1 to 32 hex digits (Jaeger's `TraceIDFromString`).
pub fn parse_trace_id(param: &str, v: &str) -> Result<u128, ParamError> {
    if v.is_empty() || v.len() > 32 {
        return Err(bad(
            param,
            format!("{v:?} must be 1 to 32 hex digits, got {}", v.len()),
        ));
    }
    u128::from_str_radix(v, 16).map_err(|e| bad(param, format!("{v:?} is not hex ({e})")))
}

/// Default `/api/dependencies` lookback: 24 h.
pub const DEFAULT_LOOKBACK_MS: i64 = 86_400_000;

/// Parse `endTs` (unix ms, default `now_ms`) and `lookback` (ms, default
/// 24 h) of `GET /api/dependencies`.
pub fn parse_dependencies(p: &Params, now_ms: i64) -> Result<(i64, i64), ParamError> {
    let int = |name: &str| -> Result<Option<i64>, ParamError> {
        p.get(name)
            .map(|v| {
                v.parse::<i64>().map_err(|e| {
                    bad(
                        name,
                        format!("unable to parse param '{name}': {v:?} is not an integer ({e})"),
                    )
                })
            })
            .transpose()
    };
    let end = int("endTs")?.unwrap_or(now_ms);
    let lookback = int("lookback")?.unwrap_or(DEFAULT_LOOKBACK_MS);
    if lookback < 0 {
        return Err(bad("lookback", format!("{lookback} must not be negative")));
    }
    Ok((end, lookback))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(parse_go_duration("d", "1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go_duration("d", "1h2m"), Ok(3_720_000_000_000));
        assert_eq!(parse_go_duration("d", "250us"), Ok(250_000));
        assert!(parse_go_duration("d", "10").is_err());
        assert!(parse_go_duration("d", "5x").is_err());
        assert_eq!(
            parse_rfc3339("t", "2026-01-05T09:00:00Z"),
            Ok(1_767_603_600_000_000_000)
        );
        assert!(parse_rfc3339("t", "yesterday").is_err());
        assert_eq!(parse_trace_id("id", "ff"), Ok(255));
        assert!(parse_trace_id("id", "xyz").is_err());
    }

    #[test]
    fn aliases_are_recorded() {
        let mut p = Params::new(vec![
            ("query.service_name".into(), "a".into()),
            ("query.startTimeMin".into(), "2026-01-05T09:00:00Z".into()),
            ("query.start_time_max".into(), "2026-01-05T10:00:00Z".into()),
            ("query.num_traces".into(), "3".into()),
        ]);
        let q = parse_find(&mut p).unwrap();
        assert_eq!(q.service.as_deref(), Some("a"));
        assert_eq!(q.search_depth, 3);
        assert_eq!(
            p.deprecated,
            [
                "query.service_name",
                "query.start_time_max",
                "query.num_traces"
            ]
        );
    }
}
