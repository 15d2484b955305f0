//! HTTP clients of the tracing backends, chosen by probing `--traces URL`:
//! Jaeger's api_v3 (the default; `/api/v3/services`, `/api/v3/traces`),
//! Jaeger's older v1 search (the fallback: `/api/services`, `/api/traces`),
//! Zipkin v2 (`/api/v2/services`, `/api/v2/traces`) and Tempo
//! (`/api/search`, then `/api/traces/{id}`). A failing backend never fails
//! the snapshot: [`fetch`] returns a [`TraceInput`] whose status says why.

use std::time::Duration;

use reqwest::Url;

use crate::collect::http::{base_url, error_chain};
use serde_json::Value;

use super::TraceInput;
use super::span::id_hex;

/// The tracing API found at a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    JaegerV3,
    JaegerV1,
    Zipkin,
    Tempo,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::JaegerV3 => "jaeger api_v3",
            Backend::JaegerV1 => "jaeger v1",
            Backend::Zipkin => "zipkin v2",
            Backend::Tempo => "tempo",
        }
    }
}

/// What to fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchOptions {
    /// How far back from the end time to search.
    pub lookback: Duration,
    /// Most traces per service (Tempo: in total).
    pub limit: usize,
    /// Most services searched.
    pub max_services: usize,
    /// Added to the local clock to get the backend's "now", in ms (a
    /// simulated backend runs on its own clock; 0 for a real one).
    pub clock_offset_ms: i64,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            lookback: Duration::from_secs(15 * 60),
            limit: 50,
            max_services: 50,
            clock_offset_ms: 0,
            timeout: Duration::from_secs(10),
        }
    }
}

/// A failure talking to the backend.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("--traces '{url}': {message}")]
    BadUrl { url: String, message: String },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error(
        "--traces '{url}': no Jaeger, Zipkin or Tempo query API answered (tried /api/v3/services, /api/v2/services, /api/echo, /api/services)"
    )]
    NoBackend { url: String },
}

pub(super) struct Client {
    http: reqwest::Client,
    base: Url,
}

pub(super) enum Got {
    Json(Value),
    Status(u16, String),
}

impl Client {
    pub(super) fn new(url: &str, timeout: Duration) -> Result<Client, ClientError> {
        crate::collect::kube::install_crypto_provider();
        let bad = |message: String| ClientError::BadUrl {
            url: url.to_string(),
            message,
        };
        let base = base_url(url).map_err(bad)?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .build()
            .map_err(|e| bad(format!("HTTP client: {}", error_chain(&e))))?;
        Ok(Client { http, base })
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url, ClientError> {
        let mut u = self.base.join(path).map_err(|e| ClientError::BadUrl {
            url: self.base.to_string(),
            message: e.to_string(),
        })?;
        if !query.is_empty() {
            let mut q = u.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(u)
    }

    /// GET a path; JSON on 2xx, the status and body text otherwise.
    pub(super) async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Got, ClientError> {
        let u = self.url(path, query)?;
        let err = |message: String| ClientError::Http {
            url: u.to_string(),
            message,
        };
        let resp = self
            .http
            .get(u.clone())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| err(error_chain(&e)))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| err(error_chain(&e)))?;
        if !(200..300).contains(&status) {
            return Ok(Got::Status(status, text.chars().take(200).collect()));
        }
        match serde_json::from_str(&text) {
            Ok(v) => Ok(Got::Json(v)),
            Err(_) => Ok(Got::Status(status, text.chars().take(200).collect())),
        }
    }
}

/// Probe `url` for a tracing API.
pub(super) async fn detect(c: &Client, url: &str) -> Result<Backend, ClientError> {
    let mut first_err = None;
    let mut probe = |r: Result<Got, ClientError>| match r {
        Ok(g) => Some(g),
        Err(e) => {
            first_err.get_or_insert(e);
            None
        }
    };
    if let Some(Got::Json(v)) = probe(c.get("api/v3/services", &[]).await)
        && v.get("services").is_some()
    {
        return Ok(Backend::JaegerV3);
    }
    if let Some(Got::Json(Value::Array(_))) = probe(c.get("api/v2/services", &[]).await) {
        return Ok(Backend::Zipkin);
    }
    if let Some(Got::Status(200, body)) = probe(c.get("api/echo", &[]).await)
        && body.trim() == "echo"
    {
        return Ok(Backend::Tempo);
    }
    if let Some(Got::Json(v)) = probe(c.get("api/services", &[]).await)
        && v.get("data").is_some()
    {
        return Ok(Backend::JaegerV1);
    }
    Err(first_err.unwrap_or(ClientError::NoBackend {
        url: url.to_string(),
    }))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Fetch recent traces from the backend at `url` (detected by probing).
/// Never fails: an unreachable or unknown backend gives an input whose
/// `failed` says why (its status is then `unavailable`).
pub async fn fetch(url: &str, opts: &FetchOptions) -> TraceInput {
    let mut input = TraceInput::new("traces");
    if let Err(e) = fetch_into(url, opts, &mut input).await {
        if input.documents == 0 {
            input.failed = Some(e.to_string());
        } else {
            input.problems.push(e.to_string());
        }
    }
    input.dedup_traces();
    input
}

async fn fetch_into(
    url: &str,
    opts: &FetchOptions,
    input: &mut TraceInput,
) -> Result<(), ClientError> {
    let c = Client::new(url, opts.timeout)?;
    let backend = detect(&c, url).await?;
    input.name = format!("traces ({})", backend.as_str());
    let end_ms = crate::collect::live::now_ms() + opts.clock_offset_ms;
    let start_ms = end_ms - opts.lookback.as_millis() as i64;
    let limit = opts.limit.to_string();
    let services_path = match backend {
        Backend::JaegerV3 => "api/v3/services",
        Backend::JaegerV1 => "api/services",
        Backend::Zipkin => "api/v2/services",
        Backend::Tempo => "",
    };
    let services = match backend {
        Backend::Tempo => Vec::new(),
        _ => match c.get(services_path, &[]).await? {
            Got::Json(v) => match backend {
                Backend::JaegerV3 => strings(v.get("services")),
                Backend::JaegerV1 => strings(v.get("data")),
                _ => strings(Some(&v)),
            },
            Got::Status(s, body) => {
                return Err(ClientError::Http {
                    url: format!("{url} {services_path}"),
                    message: format!("HTTP {s}: {body}"),
                });
            }
        },
    };
    let mut docs: Vec<(String, Got)> = Vec::new();
    for svc in services.iter().take(opts.max_services) {
        let (path, q): (&str, Vec<(&str, String)>) = match backend {
            Backend::JaegerV3 => (
                "api/v3/traces",
                vec![
                    ("query.serviceName", svc.clone()),
                    ("query.startTimeMin", rfc3339(start_ms)),
                    ("query.startTimeMax", rfc3339(end_ms)),
                    ("query.searchDepth", limit.clone()),
                ],
            ),
            Backend::JaegerV1 => (
                "api/traces",
                vec![
                    ("service", svc.clone()),
                    ("start", (start_ms * 1000).to_string()),
                    ("end", (end_ms * 1000).to_string()),
                    ("limit", limit.clone()),
                ],
            ),
            _ => (
                "api/v2/traces",
                vec![
                    ("serviceName", svc.clone()),
                    ("endTs", end_ms.to_string()),
                    ("lookback", (end_ms - start_ms).to_string()),
                    ("limit", limit.clone()),
                ],
            ),
        };
        docs.push((format!("{path}?service={svc}"), c.get(path, &q).await?));
    }
    if backend == Backend::Tempo {
        let q = vec![
            ("start", (start_ms / 1000).to_string()),
            ("end", (end_ms / 1000).to_string()),
            ("limit", limit.clone()),
        ];
        let found = c.get("api/search", &q).await?;
        let ids = match &found {
            Got::Json(v) => super::parse::parse_value(v, "api/search")
                .map(|p| p.trace_ids)
                .unwrap_or_default(),
            Got::Status(..) => Vec::new(),
        };
        docs.push(("api/search".into(), found));
        for id in ids.into_iter().take(opts.limit) {
            let path = format!("api/traces/{}", id_hex(id));
            let got = c.get(&path, &[]).await?;
            docs.push((path, got));
        }
    }
    for (origin, got) in docs {
        match got {
            Got::Json(v) => match super::parse::parse_value(&v, &origin) {
                Ok(p) if p.format == "tempo-search" => input.documents += 1,
                Ok(p) => input.add(p),
                Err(e) => input.problems.push(e.to_string()),
            },
            // api_v3 answers 404 "No traces found" for an empty search.
            Got::Status(404, _) => input.documents += 1,
            Got::Status(s, body) => input
                .problems
                .push(format!("{url} {origin}: HTTP {s}: {body}")),
        }
    }
    Ok(())
}
