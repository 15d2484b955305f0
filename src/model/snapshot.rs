//! The one serializable struct both front ends consume. Its JSON form is the
//! contract in CONTRACT.md (`meshscope.snapshot/v1`); docs/snapshot.schema.json
//! is generated from these types and checked in tests.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const SNAPSHOT_SCHEMA: &str = "meshscope.snapshot/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Snapshot {
    /// Always `meshscope.snapshot/v1`.
    pub schema: String,
    /// RFC 3339 time of the (last) collection round.
    pub collected_at: String,
    /// The span, in seconds, that the rates were computed over (0 with one round).
    pub window_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterInfo>,
    pub mesh: MeshInfo,
    pub sources: Vec<SourceStatus>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub declared: Declared,
    pub gaps: Vec<Gap>,
    pub rule_diffs: Vec<RuleDiff>,
    /// Declared mTLS per namespace and mesh-wide, like Kiali's badge,
    /// beside the observed share; set by `analyze` when a mesh is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_summary: Option<MtlsSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MeshKind {
    Istio,
    Linkerd,
    Envoy,
    Mixed,
    None,
}

impl MeshKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MeshKind::Istio => "istio",
            MeshKind::Linkerd => "linkerd",
            MeshKind::Envoy => "envoy",
            MeshKind::Mixed => "mixed",
            MeshKind::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MeshInfo {
    pub kind: MeshKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceState {
    Ok,
    Degraded,
    Unavailable,
}

/// The state of one input (the kube API, a scrape round, a bundle file…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceStatus {
    pub name: String,
    pub status: SourceState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl SourceStatus {
    /// A source with a detail line.
    pub fn new(name: impl Into<String>, status: SourceState, detail: impl Into<String>) -> Self {
        SourceStatus {
            name: name.into(),
            status,
            detail: Some(detail.into()),
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Workload,
    Service,
    External,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Node {
    /// `namespace/name` (workload), `svc:namespace/name`, `ext:host` or `unknown`.
    pub id: String,
    pub kind: NodeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Whether the node's pods run a mesh proxy.
    pub meshed: bool,
    /// Inbound signals: every request the node served in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signals: Option<Signals>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Grpc,
    Tcp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Tcp => "tcp",
        }
    }
}

/// Golden signals over the window. Rates are per second; `null` when unknown
/// (for example with a single scrape round).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Signals {
    /// Requests per second (completed responses).
    pub rps: Option<f64>,
    /// Share (0–1) of non-5xx HTTP (or gRPC OK) responses; `null` without requests.
    pub success_rate: Option<f64>,
    /// Failed responses per second.
    pub error_rate: Option<f64>,
    /// Latency quantiles in milliseconds (Prometheus `histogram_quantile` interpolation).
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// TCP bytes per second sent by the source (TCP edges and Linkerd edges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_sent_per_s: Option<f64>,
    /// TCP bytes per second received by the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_received_per_s: Option<f64>,
    /// Open TCP connections at the last round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_connections: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MtlsStatus {
    Full,
    Partial,
    None,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Mtls {
    pub status: MtlsStatus,
    /// Share (0–1) of the edge's requests (or connections) seen over mutual
    /// TLS; `null` when unknown.
    pub fraction: Option<f64>,
    /// The destination's effective declared mode (`STRICT`, `PERMISSIVE`,
    /// `DISABLE`), with what declares it; set by `analyze`, absent when
    /// nothing is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<String>,
    /// The observed share judged against the declared mode: `ok`,
    /// `plaintext_under_strict`, `plaintext_permitted`, `safe_to_tighten`,
    /// `unknown` (mTLS not observable);
    /// set by `analyze`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    Metrics,
    Traces,
    Declared,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Edge {
    pub source: String,
    pub target: String,
    /// The Service the calls went through (`svc:namespace/name`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub protocol: Protocol,
    pub signals: Signals,
    pub mtls: Mtls,
    pub evidence: Vec<Evidence>,
    /// Whether the declared topology allows this edge; `null` when nothing is declared.
    pub declared: Option<bool>,
    /// Responses by code over the window (HTTP status, or `grpc:N`), as
    /// counts; an extension of the contract used by the detail views.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<ResponseCount>,
    /// Workload identities seen on the edge (SPIFFE principals or Linkerd
    /// identities); an extension of the contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identities: Option<Identities>,
    /// Sample traces of the edge (the failing and the slowest calls), when
    /// traces were collected; an extension of the contract.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traces: Vec<TraceExemplar>,
}

/// One sample trace of an edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TraceExemplar {
    /// The trace id, lower-case hex, as the tracing backend shows it.
    pub trace_id: String,
    /// The duration of the call on this edge, in milliseconds.
    pub duration_ms: f64,
    /// Whether the call failed (span status, `error` tag or HTTP 5xx).
    pub error: bool,
    /// The HTTP status of the call, when the spans say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `service: operation` of the trace's root span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResponseCount {
    /// `200`, `503`, `grpc:14`, `0` (no response)…
    pub code: String,
    /// Requests with that code over the window (`null` with one round).
    pub count: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Identities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Declared {
    pub routes: Vec<serde_json::Value>,
    pub policies: Vec<serde_json::Value>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Gap {
    pub kind: String,
    pub severity: Severity,
    pub subject: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Modified,
}

/// Where a rule diff comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiffSource {
    /// `--declared DIR` (desired) against the live or bundled rule (actual).
    Declared,
    /// A watch event during the session (before → after).
    Watch,
}

/// One mesh rule that differs; see docs/rule-diffs.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleDiff {
    /// `Kind/namespace/name`.
    pub resource: String,
    /// `added` = live only (or created), `removed` = declared only (or
    /// deleted), `modified` = both, differing beyond server-set fields.
    pub change: Change,
    /// A unified YAML diff (`---` declared or before, `+++` live or after).
    pub diff: String,
    /// RFC 3339 time of the change (watch events); absent for
    /// declared-vs-live diffs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// What the diff compares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<DiffSource>,
}

/// The badge of a scope, from its policies (see docs/gaps.md, "mTLS summary").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MtlsBadge {
    /// STRICT for the whole scope, no exception.
    Enabled,
    /// STRICT with exceptions, or STRICT only for a part of the scope.
    Partially,
    /// PERMISSIVE (or nothing declared): mTLS accepted, plaintext too.
    NotEnabled,
    /// DISABLE, nothing STRICT within.
    Disabled,
}

/// The mTLS summary of the mesh and of each namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MtlsSummary {
    pub mesh: MtlsScopeSummary,
    pub namespaces: Vec<MtlsScopeSummary>,
}

/// One scope: the mesh (no `namespace`) or a namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MtlsScopeSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub status: MtlsBadge,
    /// The mode for the scope as a whole and what declares it, e.g.
    /// `STRICT (PeerAuthentication/istio-system/default)`, `PERMISSIVE (default)`.
    pub declared: String,
    /// What makes the scope partial or weaker: workload- or port-level
    /// policies with another mode, DestinationRules that disable TLS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<String>,
    /// Observed share (0–1) of the requests into the scope's workloads that
    /// used mTLS (weighted by rate); `null` without such traffic.
    pub observed: Option<f64>,
}

impl Snapshot {
    /// An empty snapshot, for a collection that produced nothing yet.
    pub fn empty(collected_at: String, window_seconds: f64) -> Self {
        Snapshot {
            schema: SNAPSHOT_SCHEMA.to_string(),
            collected_at,
            window_seconds,
            cluster: None,
            mesh: MeshInfo {
                kind: MeshKind::None,
                version: None,
            },
            sources: Vec::new(),
            nodes: Vec::new(),
            edges: Vec::new(),
            declared: Declared::default(),
            gaps: Vec::new(),
            rule_diffs: Vec::new(),
            mtls_summary: None,
        }
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    pub fn edge(&self, source: &str, target: &str) -> Option<&Edge> {
        self.edges
            .iter()
            .find(|e| e.source == source && e.target == target)
    }
}

/// The JSON Schema of the snapshot (kept in docs/snapshot.schema.json).
pub fn snapshot_schema() -> serde_json::Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(Snapshot)).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            serde_json::Value::String(format!("https://meshscope.dev/schema/{SNAPSHOT_SCHEMA}")),
        );
    }
    schema
}
