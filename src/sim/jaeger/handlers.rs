//! Endpoint logic of the simulated Jaeger query service (no I/O: each
//! function turns query parameters into an [`Answer`]).

use axum::http::StatusCode;
use serde_json::json;

use super::model::SimTrace;
use super::otlp::{Wrapper, traces_data};
use super::query::{self, ParamError, Params};
use super::server::{Answer, Ctx, Reply, to_json};
use super::uimodel::{Envelope, dependencies as deps, ui_trace};

fn v3_bad(e: &ParamError, deprecated: Vec<String>) -> Answer {
    Answer {
        reply: Reply::V3Error(StatusCode::BAD_REQUEST, e.to_string()),
        deprecated,
    }
}

/// `GET /api/v3/services` → `{"services": [...]}`.
pub(crate) fn services(ctx: &Ctx) -> Answer {
    let names: Vec<String> = ctx.tracer.catalog().operations.into_keys().collect();
    Reply::Json(json!({ "services": names }).to_string()).into()
}

/// `GET /api/v3/operations?service=…[&spanKind=…]` →
/// `{"operations": [{"name", "spanKind"}]}`.
pub(crate) fn operations(ctx: &Ctx, pairs: Vec<(String, String)>) -> Answer {
    let mut p = Params::new(pairs);
    let Some(service) = p.get("service").map(str::to_string) else {
        let e = ParamError {
            param: "service".into(),
            reason: "parameter 'service' is required".into(),
        };
        return v3_bad(&e, p.deprecated);
    };
    let kind = p.resolve("spanKind", &["span_kind"]).map(|(v, _)| v);
    let catalog = ctx.tracer.catalog();
    let ops: Vec<serde_json::Value> = catalog
        .operations
        .get(&service)
        .into_iter()
        .flatten()
        .filter(|(_, k)| kind.as_deref().is_none_or(|want| want == k.as_str()))
        .map(|(name, k)| json!({"name": name, "spanKind": k.as_str()}))
        .collect();
    Answer {
        reply: Reply::Json(json!({ "operations": ops }).to_string()),
        deprecated: p.deprecated,
    }
}

fn matches(t: &SimTrace, q: &query::FindQuery) -> bool {
    t.spans.iter().any(|s| {
        q.service.as_ref().is_none_or(|want| *want == s.service)
            && q.operation.as_ref().is_none_or(|want| *want == s.name)
            && q.duration_min_ns.is_none_or(|d| s.duration_ns() >= d)
            && q.duration_max_ns.is_none_or(|d| s.duration_ns() <= d)
    })
}

/// `GET /api/v3/traces?query.serviceName=…&query.startTimeMin=…&…` → OTLP.
pub(crate) fn find_traces(ctx: &Ctx, pairs: Vec<(String, String)>) -> Answer {
    let mut p = Params::new(pairs);
    let q = match query::parse_find(&mut p) {
        Ok(q) => q,
        Err(e) => return v3_bad(&e, p.deprecated),
    };
    let t = &ctx.tracer;
    let epoch_ns = i128::from(t.scenario().epoch_ms) * 1_000_000;
    let min_ms = (q.start_min_ns - epoch_ns) as f64 / 1e6;
    let max_ms = (q.start_max_ns - epoch_ns) as f64 / 1e6;
    let (lo, hi) = t.retained(min_ms, max_ms, ctx.now_ms());
    let mut found = Vec::new();
    for entry in t.entries(lo, hi) {
        let start = i128::from(entry.start_ns);
        if start < q.start_min_ns || start > q.start_max_ns {
            continue;
        }
        if let Some(tr) = t.trace(entry)
            && matches(&tr, &q)
        {
            found.push(tr);
            if found.len() >= q.search_depth {
                break;
            }
        }
    }
    let reply = if found.is_empty() {
        Reply::V3Error(StatusCode::NOT_FOUND, "No traces found".into())
    } else {
        Reply::Json(to_json(&Wrapper {
            result: traces_data(&found),
        }))
    };
    Answer {
        reply,
        deprecated: p.deprecated,
    }
}

/// `GET /api/v3/traces/{trace_id}` → OTLP.
pub(crate) fn get_trace_v3(ctx: &Ctx, id: &str, pairs: Vec<(String, String)>) -> Answer {
    let mut p = Params::new(pairs);
    let id = match query::parse_trace_id("trace_id", id) {
        Ok(id) => id,
        Err(e) => return v3_bad(&e, p.deprecated),
    };
    for (canonical, alias) in [("startTime", "start_time"), ("endTime", "end_time")] {
        if let Some((v, name)) = p.resolve(canonical, &[alias])
            && let Err(e) = query::parse_rfc3339(&name, &v)
        {
            return v3_bad(&e, p.deprecated);
        }
    }
    if let Some((v, name)) = p.resolve("rawTraces", &["raw_traces"])
        && let Err(e) = query::parse_bool(&name, &v)
    {
        return v3_bad(&e, p.deprecated);
    }
    let reply = match ctx.tracer.get(id, ctx.now_ms()) {
        Some(t) => Reply::Json(to_json(&Wrapper {
            result: traces_data(std::slice::from_ref(&t)),
        })),
        None => Reply::V3Error(StatusCode::NOT_FOUND, "trace not found".into()),
    };
    Answer {
        reply,
        deprecated: p.deprecated,
    }
}

/// `GET /api/traces/{traceID}` → the UI model envelope.
pub(crate) fn get_trace_ui(ctx: &Ctx, id: &str, pairs: Vec<(String, String)>) -> Answer {
    let p = Params::new(pairs);
    let id = match query::parse_trace_id("traceID", id) {
        Ok(id) => id,
        Err(e) => return Reply::V1Error(StatusCode::BAD_REQUEST, e.to_string()).into(),
    };
    for name in ["start", "end"] {
        if let Some(v) = p.get(name)
            && v.parse::<i64>().is_err()
        {
            let msg = format!("unable to parse param '{name}': {v:?} is not an integer");
            return Reply::V1Error(StatusCode::BAD_REQUEST, msg).into();
        }
    }
    match ctx.tracer.get(id, ctx.now_ms()) {
        Some(t) => Reply::Json(to_json(&Envelope::ok(vec![ui_trace(&t)]))).into(),
        None => Reply::V1Error(StatusCode::NOT_FOUND, "trace not found".into()).into(),
    }
}

/// `GET /api/dependencies?endTs=…&lookback=…[&service=…]` → links.
pub(crate) fn dependencies(ctx: &Ctx, pairs: Vec<(String, String)>) -> Answer {
    let p = Params::new(pairs);
    let t = &ctx.tracer;
    let now = ctx.now_ms();
    let epoch = t.scenario().epoch_ms as i64;
    let (end, lookback) = match query::parse_dependencies(&p, epoch + now as i64) {
        Ok(v) => v,
        Err(e) => return Reply::V1Error(StatusCode::BAD_REQUEST, e.to_string()).into(),
    };
    let max_ms = (end - epoch) as f64;
    let min_ms = (end - lookback - epoch) as f64;
    let mut links = deps(&t.skeletons_in(min_ms, max_ms, now));
    if let Some(svc) = p.get("service") {
        links.retain(|l| l.parent == svc || l.child == svc);
    }
    Reply::Json(to_json(&Envelope::ok(links))).into()
}
