//! The Prometheus source: the same canonical edges as the direct scrapes,
//! computed from PromQL against a Prometheus that already scrapes the
//! proxies (`--prometheus URL`).
//!
//! Instant queries at one evaluation time `t` that let Prometheus aggregate
//! (`queries`): the window increases and, where the snapshot uses them, the
//! end-of-window values of every family a dialect reads, summed down to
//! about one series per edge. Result series are grouped by scrape target
//! (Istio's under one group) and fed to the dialects like one scrape each;
//! see `docs/prometheus.md`.

pub mod mapping;
pub mod queries;
pub mod response;

use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use reqwest::Url;

use crate::collect::http::{base_url, error_chain};

use crate::collect::prom_api::mapping::{ByTarget, MapStats, group_into};
use crate::collect::prom_api::queries::{Mesh, Query, Use};
use crate::collect::prom_api::response::{QueryResult, ResponseError, parse_query_response};
use crate::model::build::{BuildContext, EdgeInputs, build_from_inputs, rfc3339};
use crate::model::inventory::Inventory;
use crate::model::snapshot::{Snapshot, SourceState, SourceStatus};

/// Queries in flight at once.
const CONCURRENCY: usize = 8;
/// Per-request timeout (connect included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Warnings quoted in the source status.
const MAX_WARNINGS: usize = 5;

/// Why the Prometheus source failed. Every variant names the Prometheus URL;
/// query failures name the query too.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("--prometheus {url:?} is not a usable URL: {message}")]
    BadUrl { url: String, message: String },
    #[error("cannot reach Prometheus at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("Prometheus at {url} rejected query `{query}`: {message}")]
    Rejected {
        url: String,
        query: String,
        message: String,
    },
    #[error("Prometheus at {url} answered query `{query}` with HTTP {status}: {message}")]
    Http {
        url: String,
        query: String,
        status: u16,
        message: String,
    },
    #[error("Prometheus at {url}: unusable answer to query `{query}`: {message}")]
    BadAnswer {
        url: String,
        query: String,
        message: String,
    },
    #[error("the Prometheus window must be at least 1 ms (got {0:?})")]
    BadWindow(Duration),
}

impl PromError {
    /// The CLI exit code (CONTRACT.md): 3 for a bad `--prometheus` URL or
    /// window (bad usage), 4 for a Prometheus that could not be used.
    pub fn exit_code(&self) -> i32 {
        match self {
            PromError::BadUrl { .. } | PromError::BadWindow(_) => 3,
            _ => 4,
        }
    }
}

/// Where the time of a Prometheus collection went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PromTimings {
    /// Queries sent.
    pub queries: usize,
    /// Wall time of all queries (sent concurrently), JSON parsing included.
    pub query_wall: Duration,
    /// Sum of the queries' HTTP round trips until the last byte of the
    /// answer: Prometheus's evaluation and the transfer.
    pub http_sum: Duration,
    /// Sum of our JSON parsing of the answers (inside `query_wall`).
    pub parse_sum: Duration,
    /// Our time after the queries: grouping, the dialects, the inputs.
    pub mapping: Duration,
}

/// The inputs, the source status and the timings of one collection.
#[derive(Debug, Clone)]
pub struct PromCollection {
    pub inputs: EdgeInputs,
    pub sources: Vec<SourceStatus>,
    pub stats: MapStats,
    pub timings: PromTimings,
}

/// A Prometheus HTTP API client for instant queries.
pub struct PromClient {
    http: reqwest::Client,
    endpoint: Url,
    url: String,
}

impl PromClient {
    /// A client for the Prometheus at `url` (e.g. `http://prometheus:9090`,
    /// or with a path prefix `http://host/prometheus`).
    pub fn new(url: &str) -> Result<Self, PromError> {
        crate::collect::kube::install_crypto_provider();
        let bad = |message: String| PromError::BadUrl {
            url: url.to_string(),
            message,
        };
        let base = base_url(url).map_err(bad)?;
        let endpoint = base.join("api/v1/query").map_err(|e| bad(e.to_string()))?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| bad(format!("HTTP client: {}", error_chain(&e))))?;
        Ok(PromClient {
            http,
            endpoint,
            url: url.to_string(),
        })
    }

    /// One instant query evaluated at `at_ms`.
    pub async fn query(&self, query: &str, at_ms: i64) -> Result<QueryResult, PromError> {
        self.query_timed(query, at_ms).await.map(|(r, _, _)| r)
    }

    /// [`PromClient::query`] with the time of the HTTP round trip and of
    /// the JSON parsing.
    pub async fn query_timed(
        &self,
        query: &str,
        at_ms: i64,
    ) -> Result<(QueryResult, Duration, Duration), PromError> {
        let started = Instant::now();
        let mut u = self.endpoint.clone();
        u.query_pairs_mut().append_pair("query", query).append_pair(
            "time",
            &format!("{}.{:03}", at_ms.div_euclid(1000), at_ms.rem_euclid(1000)),
        );
        let resp = self
            .http
            .get(u)
            .send()
            .await
            .map_err(|e| PromError::Unreachable {
                url: self.url.clone(),
                message: error_chain(&e),
            })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| PromError::Unreachable {
            url: self.url.clone(),
            message: format!("reading the answer to `{query}`: {}", error_chain(&e)),
        })?;
        let http = started.elapsed();
        let parsing = Instant::now();
        let parsed = parse_query_response(&body);
        let parse = parsing.elapsed();
        match parsed {
            Ok(r) => Ok((r, http, parse)),
            Err(ResponseError::Rejected {
                error_type,
                message,
            }) => Err(PromError::Rejected {
                url: self.url.clone(),
                query: query.to_string(),
                message: format!("{error_type}: {message}"),
            }),
            Err(ResponseError::Malformed(m)) if !status.is_success() => Err(PromError::Http {
                url: self.url.clone(),
                query: query.to_string(),
                status: status.as_u16(),
                message: m,
            }),
            Err(ResponseError::Malformed(m)) => Err(PromError::BadAnswer {
                url: self.url.clone(),
                query: query.to_string(),
                message: m,
            }),
        }
    }
}

pub use crate::collect::prom_api::queries::queries;

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// One answer (or failure), with the HTTP and parse times.
type Answer = Result<(QueryResult, Duration, Duration), PromError>;

/// Send `picked` (indexes into `qs`) at most [`CONCURRENCY`] at a time.
/// An unreachable Prometheus fails every query the same way: stop at the
/// first (a black-holed address would otherwise cost a connect timeout per
/// batch of queries).
async fn run_queries(
    client: &PromClient,
    qs: &[Query],
    picked: &[usize],
    at_ms: i64,
) -> Result<Vec<(usize, Answer)>, PromError> {
    let mut pending = stream::iter(
        picked
            .iter()
            .map(|&i| async move { (i, client.query_timed(&qs[i].promql, at_ms).await) }),
    )
    .buffer_unordered(CONCURRENCY);
    let mut results = Vec::with_capacity(picked.len());
    while let Some(r) = pending.next().await {
        if let (_, Err(e @ PromError::Unreachable { .. })) = r {
            return Err(e);
        }
        results.push(r);
    }
    Ok(results)
}

/// Query Prometheus at `url` for the window ending at `at` (unix ms; now
/// when `None`) and map the results to edge inputs, with timings.
///
/// First the target queries and Istio's families, then, only when some
/// target without Istio series has Linkerd or Envoy series, their families
/// (`queries` module).
pub async fn prometheus_collect(
    url: &str,
    window: Duration,
    at: Option<i64>,
    inv: &Inventory,
) -> Result<PromCollection, PromError> {
    if window.as_millis() < 1 {
        return Err(PromError::BadWindow(window));
    }
    let client = PromClient::new(url)?;
    let at_ms = at.unwrap_or_else(now_ms);
    let qs = queries(window);
    let started = Instant::now();
    let (first, second): (Vec<usize>, Vec<usize>) =
        (0..qs.len()).partition(|&i| matches!(qs[i].mesh, None | Some(Mesh::Istio)));
    let mut results = run_queries(&client, &qs, &first, at_ms).await?;
    let others = results.iter().any(|(i, r)| {
        qs[*i].used_as == Use::OtherTargets
            && r.as_ref().is_ok_and(|(a, _, _)| !a.series.is_empty())
    });
    if others {
        results.extend(run_queries(&client, &qs, &second, at_ms).await?);
    }
    let query_wall = started.elapsed();
    let mapping_started = Instant::now();
    let mut timings = PromTimings {
        queries: results.len(),
        query_wall,
        ..PromTimings::default()
    };
    let mut window_series = ByTarget::new();
    let mut last_series = ByTarget::new();
    let mut istio_targets = 0;
    let mut warnings: Vec<String> = Vec::new();
    // Report the first failing query in query order, not completion order.
    let mut failed: Option<(usize, PromError)> = None;
    for (i, r) in results {
        let r = match r {
            Ok((r, http, parse)) => {
                timings.http_sum += http;
                timings.parse_sum += parse;
                r
            }
            Err(e) => {
                if failed.as_ref().is_none_or(|(p, _)| i < *p) {
                    failed = Some((i, e));
                }
                continue;
            }
        };
        for w in r.warnings {
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        let q = &qs[i];
        let Some(f) = q.family else {
            if q.used_as == Use::IstioTargets {
                istio_targets = r.series.len();
            }
            continue;
        };
        match q.used_as {
            Use::Window => group_into(&mut window_series, f, r.series),
            Use::Last => group_into(&mut last_series, f, r.series),
            Use::WindowAndLast => {
                group_into(&mut window_series, f, r.series.clone());
                group_into(&mut last_series, f, r.series);
            }
            Use::IstioTargets | Use::OtherTargets => {}
        }
    }
    if let Some((_, e)) = failed {
        return Err(e);
    }
    let window_s = window.as_secs_f64();
    let (inputs, mut stats) =
        mapping::inputs_from_series(inv, &window_series, &last_series, window_s, at_ms);
    // Istio's series are summed over its targets (one group under the
    // empty target); Linkerd's and Envoy's keep theirs.
    stats.targets = istio_targets
        + last_series
            .keys()
            .filter(|(ns, pod)| !ns.is_empty() || !pod.is_empty())
            .count();
    timings.mapping = mapping_started.elapsed();
    let sources = vec![source_status(url, window, at_ms, &stats, &warnings)];
    Ok(PromCollection {
        inputs,
        sources,
        stats,
        timings,
    })
}

/// The status of the Prometheus source.
pub fn source_status(
    url: &str,
    window: Duration,
    at_ms: i64,
    stats: &MapStats,
    warnings: &[String],
) -> SourceStatus {
    let mut detail = format!(
        "{url}: window {}s ending {}; {} series from {} targets; {} edges",
        window.as_secs_f64(),
        rfc3339(at_ms),
        stats.series,
        stats.targets,
        stats.edges
    );
    let mut status = SourceState::Ok;
    if stats.series == 0 {
        status = SourceState::Degraded;
        detail.push_str("; no mesh metrics found (is Prometheus scraping the proxies?)");
    }
    if !warnings.is_empty() {
        status = SourceState::Degraded;
        let shown: Vec<&str> = warnings
            .iter()
            .take(MAX_WARNINGS)
            .map(String::as_str)
            .collect();
        detail.push_str(&format!("; warnings: {}", shown.join("; ")));
        if warnings.len() > MAX_WARNINGS {
            detail.push_str(&format!(" (+{} more)", warnings.len() - MAX_WARNINGS));
        }
    }
    SourceStatus {
        name: "prometheus".into(),
        status,
        detail: Some(detail),
    }
}

/// Query Prometheus at `url` for the window ending at `at` (unix ms; now
/// when `None`): the edge inputs and the source's status.
pub async fn prometheus_inputs(
    url: &str,
    window: Duration,
    at: Option<i64>,
    inv: &Inventory,
) -> Result<(EdgeInputs, Vec<SourceStatus>), PromError> {
    let c = prometheus_collect(url, window, at, inv).await?;
    Ok((c.inputs, c.sources))
}

/// The snapshot of the window ending now, from Prometheus at `url`; the
/// Prometheus source status is appended to `ctx.sources`.
pub async fn prometheus_snapshot(
    url: &str,
    window: Duration,
    inv: &Inventory,
    mut ctx: BuildContext,
) -> Result<Snapshot, PromError> {
    let c = prometheus_collect(url, window, None, inv).await?;
    ctx.sources.extend(c.sources);
    let built = Instant::now();
    let snap = build_from_inputs(inv, c.inputs, ctx);
    // For measurements (docs/prometheus.md): where the time went.
    if std::env::var_os("MESHSCOPE_TIMINGS").is_some() {
        let t = &c.timings;
        eprintln!(
            "meshscope: {} queries in {:.3} s wall (Prometheus answering + transfer {:.3} s summed, our JSON parsing {:.3} s summed); mapping {:.3} s; build {:.3} s",
            t.queries,
            t.query_wall.as_secs_f64(),
            t.http_sum.as_secs_f64(),
            t.parse_sum.as_secs_f64(),
            t.mapping.as_secs_f64(),
            built.elapsed().as_secs_f64()
        );
    }
    Ok(snap)
}
