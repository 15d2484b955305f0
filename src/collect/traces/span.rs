//! The canonical span model every trace format is converted into.

/// The role of a span in a call (OTLP's span kinds; Zipkin and Jaeger map
/// onto the same five).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SpanKind {
    Client,
    Server,
    Producer,
    Consumer,
    Internal,
    /// No kind given (Zipkin local spans, OTLP `SPAN_KIND_UNSPECIFIED`).
    #[default]
    Unspecified,
}

impl SpanKind {
    /// From a Jaeger `span.kind` tag or a Zipkin `kind` (any case).
    pub fn from_name(s: &str) -> SpanKind {
        let s = s.trim();
        let s = s.strip_prefix("SPAN_KIND_").unwrap_or(s);
        match s.to_ascii_lowercase().as_str() {
            "client" => SpanKind::Client,
            "server" => SpanKind::Server,
            "producer" => SpanKind::Producer,
            "consumer" => SpanKind::Consumer,
            "internal" => SpanKind::Internal,
            _ => SpanKind::Unspecified,
        }
    }

    /// From OTLP's enum number (1 internal, 2 server, 3 client, 4 producer, 5 consumer).
    pub fn from_otlp(n: i64) -> SpanKind {
        match n {
            1 => SpanKind::Internal,
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Unspecified,
        }
    }

    /// The calling side of a call (client or producer).
    pub fn is_caller(self) -> bool {
        matches!(self, SpanKind::Client | SpanKind::Producer)
    }
}

/// Attribute keys kept on spans because they help map a service name to a
/// workload (the rest is dropped at parse time).
pub const MAPPING_KEYS: &[&str] = &[
    "node_id",
    "istio.canonical_service",
    "istio.namespace",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.deployment.name",
    "k8s.statefulset.name",
    "k8s.daemonset.name",
    "service.namespace",
];

/// One span, whatever format it came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub span_id: u64,
    /// The parent (Jaeger's first `CHILD_OF`, OTLP `parentSpanId`, Zipkin `parentId`).
    pub parent_id: Option<u64>,
    /// Further referenced spans (other Jaeger references), tried in order
    /// when the parent is not in the trace.
    pub other_refs: Vec<u64>,
    /// The reporting service (`None` when the span names none).
    pub service: Option<String>,
    /// The peer the span says it talked to (Zipkin `remoteEndpoint.serviceName`,
    /// the `peer.service` tag), used for uninstrumented peers.
    pub remote_service: Option<String>,
    pub name: String,
    pub kind: SpanKind,
    /// Start, unix microseconds.
    pub start_us: i64,
    /// Duration in microseconds.
    pub duration_us: i64,
    /// Status ERROR, an `error` tag, or an HTTP status ≥ 500.
    pub error: bool,
    pub http_status: Option<u16>,
    /// Zipkin `shared`: a server span sharing its id with the client span.
    pub shared: bool,
    /// The [`MAPPING_KEYS`] attributes the span (or its process/resource) carries.
    pub attrs: Vec<(String, String)>,
}

impl Span {
    /// The attribute `key`, if kept.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The spans of one trace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    pub trace_id: u128,
    pub spans: Vec<Span>,
}

impl Trace {
    /// The trace id as lower-case hex (16 digits for 64-bit ids, else 32).
    pub fn id_hex(&self) -> String {
        id_hex(self.trace_id)
    }
}

/// A trace id as lower-case hex (16 digits for 64-bit ids, else 32).
pub fn id_hex(id: u128) -> String {
    if id >> 64 == 0 {
        format!("{id:016x}")
    } else {
        format!("{id:032x}")
    }
}

/// A precomputed service dependency (Jaeger `/api/dependencies`, Zipkin
/// `/api/v2/dependencies`): counts only, no durations.
#[derive(Debug, Clone, PartialEq)]
pub struct DependencyLink {
    pub parent: String,
    pub child: String,
    pub calls: u64,
    pub errors: u64,
}

/// What the parsers skipped or could not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Spans without a usable span id (skipped).
    pub bad_spans: usize,
    /// Ids that were neither hex nor base64 (hashed instead).
    pub odd_ids: usize,
}

/// The spans and links read from one document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The format detected (`jaeger`, `zipkin`, `otlp`, `tempo`, …).
    pub format: &'static str,
    pub traces: Vec<Trace>,
    pub links: Vec<DependencyLink>,
    /// Trace ids only (a Tempo search result): no spans.
    pub trace_ids: Vec<u128>,
    pub stats: ParseStats,
}

impl ParseStats {
    /// A span's trace and span ids, parsed (`base64`: Tempo's encoding is
    /// tried first). `None`, counted in `bad_spans`, when either is missing
    /// or unusable; ids that had to be hashed are counted in `odd_ids`.
    pub fn ids(
        &mut self,
        trace: Option<&str>,
        span: Option<&str>,
        base64: bool,
    ) -> Option<(u128, u128)> {
        use super::ids::parse_id;
        match (
            trace.and_then(|x| parse_id(x, base64)),
            span.and_then(|x| parse_id(x, base64)),
        ) {
            (Some((t, ok_t)), Some((s, ok_s))) => {
                self.odd_ids += usize::from(!ok_t) + usize::from(!ok_s);
                Some((t, s))
            }
            _ => {
                self.bad_spans += 1;
                None
            }
        }
    }
}

/// Groups spans into traces by trace id, the traces in the order their
/// first span was seen.
#[derive(Debug, Default)]
pub struct TraceGroups(rustc_hash::FxHashMap<u128, usize>);

impl TraceGroups {
    /// Add `span` to trace `trace_id` of `traces` (created when new).
    pub fn push(&mut self, traces: &mut Vec<Trace>, trace_id: u128, span: Span) {
        let idx = *self.0.entry(trace_id).or_insert_with(|| {
            traces.push(Trace {
                trace_id,
                spans: Vec::new(),
            });
            traces.len() - 1
        });
        traces[idx].spans.push(span);
    }
}
