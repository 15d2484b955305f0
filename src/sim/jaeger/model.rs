//! The simulated spans and traces, independent of any wire format.

/// The kind of a span (OTLP numbering via [`SpanKind::otlp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpanKind {
    /// The callee proxy's inbound span.
    Server,
    /// The caller proxy's outbound span.
    Client,
}

impl SpanKind {
    /// The OTLP `SpanKind` number (`SPAN_KIND_SERVER` = 2, `SPAN_KIND_CLIENT` = 3).
    pub fn otlp(self) -> u8 {
        match self {
            SpanKind::Server => 2,
            SpanKind::Client => 3,
        }
    }

    /// Jaeger's lower-case name (`server`, `client`), as in the `span.kind` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Server => "server",
            SpanKind::Client => "client",
        }
    }
}

/// A span attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Str(String),
    Int(i64),
    Bool(bool),
}

/// One span emitted by a sidecar proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSpan {
    pub span_id: u64,
    /// The parent span in the same trace (`None` for the trace's root).
    pub parent_span_id: Option<u64>,
    /// The reporting service (see [`super::graph::service_name`]).
    pub service: String,
    /// The workload and pod (indices into the scenario) that emitted it.
    pub workload: usize,
    pub pod: usize,
    pub kind: SpanKind,
    pub name: String,
    /// Unix nanoseconds.
    pub start_ns: u64,
    pub end_ns: u64,
    pub attributes: Vec<(String, AttrValue)>,
    /// `Some(message)` when the span's status is ERROR.
    pub error: Option<String>,
}

impl SimSpan {
    /// The attribute `key`, if set.
    pub fn attr(&self, key: &str) -> Option<&AttrValue> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Duration in nanoseconds.
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}

/// One sampled request and every span it produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SimTrace {
    /// The 128-bit trace id.
    pub trace_id: u128,
    /// The root edge and request index it was sampled from.
    pub entry: Entry,
    /// Spans in the order they were started (the root first).
    pub spans: Vec<SimSpan>,
}

impl SimTrace {
    /// The trace id as 32 lower-case hex digits.
    pub fn trace_id_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }
}

/// A sampled entry request: request `index` on root edge `edge`, starting
/// at `start_ns` (unix nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub edge: usize,
    pub index: u64,
    pub start_ns: u64,
}

/// A 64-bit span id as 16 lower-case hex digits.
pub fn span_id_hex(id: u64) -> String {
    format!("{id:016x}")
}
