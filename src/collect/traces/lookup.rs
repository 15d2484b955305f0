//! The spans of one sample trace, fetched when the TUI opens its waterfall.
//!
//! The snapshot keeps only the ids, durations and status of each edge's
//! sample traces (a few per edge); the spans stay in the backend (or the
//! bundle's `traces/` folder) and are read again, by id, on demand.

use std::path::PathBuf;
use std::sync::Arc;

use super::TraceSource;
use super::client::{Backend, Client, ClientError, Got, detect};
use super::ids::parse_id;
use super::span::{Trace, id_hex};

/// Where the TUI finds a trace's spans.
#[derive(Clone)]
pub enum TraceLookup {
    /// The tracing backend the feed searches (`--traces URL`, the demo's Jaeger).
    Backend(TraceSource),
    /// A bundle's `traces/` folder.
    Dir(PathBuf),
    /// Traces already in memory (tests, small inputs).
    Memory(Arc<Vec<Trace>>),
    /// `--traces auto`: the tracing service found in the cluster, reached
    /// through a port-forward opened for each lookup.
    InCluster {
        client: kube::Client,
        scope: crate::collect::kube::Scope,
        options: super::client::FetchOptions,
    },
}

impl std::fmt::Debug for TraceLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceLookup::Backend(s) => f.debug_tuple("Backend").field(s).finish(),
            TraceLookup::Dir(d) => f.debug_tuple("Dir").field(d).finish(),
            TraceLookup::Memory(t) => write!(f, "Memory({} traces)", t.len()),
            TraceLookup::InCluster { scope, .. } => {
                f.debug_struct("InCluster").field("scope", scope).finish()
            }
        }
    }
}

impl TraceLookup {
    /// The lookup for the feed's trace source: its URL, or (`auto`) the
    /// cluster's tracing service through `client`.
    pub fn for_source(
        source: &TraceSource,
        client: &kube::Client,
        scope: &crate::collect::kube::Scope,
    ) -> TraceLookup {
        if source.is_auto() {
            TraceLookup::InCluster {
                client: client.clone(),
                scope: scope.clone(),
                options: source.options.clone(),
            }
        } else {
            TraceLookup::Backend(source.clone())
        }
    }
}

/// Why a trace could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("'{id}' is not a trace id (expected hex)")]
    BadId { id: String },
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("trace {id} not found in {origin}")]
    NotFound { id: String, origin: String },
    #[error("{origin}: HTTP {status}: {body}")]
    Status {
        origin: String,
        status: u16,
        body: String,
    },
    #[error(transparent)]
    Parse(#[from] super::ParseError),
    #[error("reading {origin} failed: {message}")]
    Task { origin: String, message: String },
}

/// The path of one trace by id on `backend`.
pub fn trace_path(backend: Backend, id: u128) -> String {
    let hex = id_hex(id);
    match backend {
        Backend::JaegerV3 => format!("api/v3/traces/{hex}"),
        Backend::JaegerV1 | Backend::Tempo => format!("api/traces/{hex}"),
        Backend::Zipkin => format!("api/v2/trace/{hex}"),
    }
}

fn pick(traces: Vec<Trace>, id: u128, hex: &str, origin: &str) -> Result<Trace, LookupError> {
    // A 64-bit id may be written as 128 bits with zero high bits, or the
    // reverse: compare the low 64 bits when the full ids differ.
    let low = |x: u128| x as u64;
    let mut best = None;
    for t in traces {
        if t.trace_id == id {
            return Ok(t);
        }
        if low(t.trace_id) == low(id) {
            best = Some(t);
        }
    }
    best.ok_or_else(|| LookupError::NotFound {
        id: hex.to_string(),
        origin: origin.to_string(),
    })
}

impl TraceLookup {
    /// The trace with id `hex` (as the snapshot's sample writes it).
    pub async fn fetch(&self, hex: &str) -> Result<Trace, LookupError> {
        let id = parse_id(hex.trim(), false)
            .filter(|(_, proper)| *proper)
            .map(|(id, _)| id)
            .ok_or_else(|| LookupError::BadId { id: hex.into() })?;
        match self {
            TraceLookup::Memory(traces) => pick(traces.to_vec(), id, hex, "memory"),
            TraceLookup::Dir(dir) => {
                let dir = dir.clone();
                let origin = dir.display().to_string();
                let read = tokio::task::spawn_blocking(move || {
                    super::read_trace_dir(&dir, "traces").map(|i| i.traces)
                })
                .await
                .map_err(|e| LookupError::Task {
                    origin: origin.clone(),
                    message: e.to_string(),
                })?;
                pick(read.unwrap_or_default(), id, hex, &origin)
            }
            TraceLookup::InCluster {
                client,
                scope,
                options,
            } => {
                let fwd = super::incluster::forward_tracing(client, scope)
                    .await
                    .map_err(|message| LookupError::Task {
                        origin: "--traces auto".into(),
                        message,
                    })?;
                by_id(&fwd.url, options.timeout, id, hex).await
            }
            TraceLookup::Backend(src) => by_id(&src.url, src.options.timeout, id, hex).await,
        }
    }
}

async fn by_id(
    url: &str,
    timeout: std::time::Duration,
    id: u128,
    hex: &str,
) -> Result<Trace, LookupError> {
    let c = Client::new(url, timeout)?;
    let backend = detect(&c, url).await?;
    let path = trace_path(backend, id);
    let origin = format!("{url} {path}");
    match c.get(&path, &[]).await? {
        Got::Json(v) => {
            let parsed = super::parse::parse_value(&v, &origin)?;
            pick(parsed.traces, id, hex, &origin)
        }
        Got::Status(404, _) => Err(LookupError::NotFound {
            id: hex.into(),
            origin,
        }),
        Got::Status(status, body) => Err(LookupError::Status {
            origin,
            status,
            body,
        }),
    }
}
