//! Trace spans from Jaeger, Zipkin and Tempo (or bundle files in their
//! formats), turned into service-to-service calls with latency
//! distributions and sample traces, and merged into the metrics graph.
//!
//! - [`span`]: the canonical span model; [`parse`] detects a document's
//!   format by shape ([`jaeger`], [`zipkin`], [`otlp`]).
//! - [`link`]: spans → calls (Jaeger's dependency rule, Zipkin's peers);
//!   [`graph`]: calls → per-edge counts, quantiles, samples.
//! - [`merge`]: trace services → workloads, edges into the snapshot.
//! - [`client`]: the HTTP clients (Jaeger v3/v1, Zipkin v2, Tempo).

pub mod client;
pub mod graph;
pub mod ids;
pub mod incluster;
pub mod jaeger;
pub mod link;
pub mod lookup;
pub mod merge;
pub mod otlp;
pub mod otlp_typed;
pub mod parse;
pub mod span;
pub mod zipkin;

pub use graph::TraceGraph;
pub use parse::{ParseError, parse_str};
pub use span::{DependencyLink, Parsed, Span, SpanKind, Trace};

use crate::model::snapshot::{SourceState, SourceStatus};

/// Traces and links collected from one source (a backend or a bundle).
#[derive(Debug, Clone, Default)]
pub struct TraceInput {
    /// The source's name in `sources` (`traces`, `traces: jaeger …`).
    pub name: String,
    pub traces: Vec<Trace>,
    pub links: Vec<DependencyLink>,
    /// Problems per document (file or response), already phrased.
    pub problems: Vec<String>,
    /// Documents read successfully.
    pub documents: usize,
    /// Spans the parsers had to skip (no id).
    pub bad_spans: usize,
    /// Formats seen (`jaeger`, `zipkin`, `otlp`, `tempo`…).
    pub formats: Vec<&'static str>,
    /// Set when the whole source failed (unreachable, nothing readable).
    pub failed: Option<String>,
}

impl TraceInput {
    /// An input named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        TraceInput {
            name: name.into(),
            ..TraceInput::default()
        }
    }

    /// Add one parsed document.
    pub fn add(&mut self, p: Parsed) {
        self.documents += 1;
        self.bad_spans += p.stats.bad_spans;
        if !self.formats.contains(&p.format) {
            self.formats.push(p.format);
        }
        self.traces.extend(p.traces);
        self.links.extend(p.links);
    }

    /// Parse `text` (from `origin`) and add it, or record the problem.
    pub fn add_text(&mut self, text: &str, origin: &str) {
        match parse_str(text, origin) {
            Ok(p) => self.add(p),
            Err(e) => self.problems.push(e.to_string()),
        }
    }

    /// Drop repeated traces (the same id fetched twice), keeping the first.
    pub fn dedup_traces(&mut self) {
        let mut seen = rustc_hash::FxHashSet::default();
        self.traces.retain(|t| seen.insert(t.trace_id));
    }

    /// Link every trace and link into a graph.
    pub fn graph(&self) -> TraceGraph {
        let mut g = TraceGraph::default();
        for t in &self.traces {
            g.add_trace(t);
        }
        for l in &self.links {
            g.add_link(l);
        }
        g
    }

    /// The `sources` entry: ok, degraded (problems, repaired spans) or
    /// unavailable (nothing read).
    pub fn status(&self, g: &TraceGraph) -> SourceStatus {
        if let Some(why) = &self.failed {
            return SourceStatus::new(&self.name, SourceState::Unavailable, why.clone());
        }
        let s = &g.stats;
        let mut detail = format!(
            "{} traces, {} spans, {} edges{}",
            s.traces,
            s.spans,
            g.counts().len(),
            if self.formats.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.formats.join(", "))
            }
        );
        if !self.links.is_empty() {
            detail.push_str(&format!("; {} dependency links", self.links.len()));
        }
        let mut issues: Vec<String> = Vec::new();
        let mut count = |n: usize, what: &str| {
            if n > 0 {
                issues.push(format!("{n} {what}"));
            }
        };
        count(self.problems.len(), "unreadable documents");
        count(self.bad_spans, "spans without ids skipped");
        count(s.missing_parents, "spans with a missing parent");
        count(s.duplicate_span_ids, "duplicate span ids dropped");
        count(s.cycles, "parent cycles cut");
        count(
            s.skewed_spans,
            "spans starting before their parent (clock skew)",
        );
        count(s.large_traces, "enormous traces");
        let mut state = if issues.is_empty() {
            SourceState::Ok
        } else {
            SourceState::Degraded
        };
        if self.documents == 0 && !self.problems.is_empty() {
            state = SourceState::Unavailable;
        }
        if !issues.is_empty() {
            detail.push_str("; ");
            detail.push_str(&issues.join(", "));
        }
        if let Some(first) = self.problems.first() {
            detail.push_str(&format!("; first problem: {first}"));
        }
        SourceStatus::new(&self.name, state, detail)
    }
}

/// Read every `*.json` of a bundle's `traces/` folder (sorted); `None`
/// when the folder does not exist. Unreadable files are problems of the
/// input, never fatal.
pub fn read_trace_dir(dir: &std::path::Path, name: &str) -> Option<TraceInput> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut files: Vec<std::path::PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    let mut input = TraceInput::new(name);
    for f in &files {
        let origin = format!(
            "traces/{}",
            f.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        match std::fs::read_to_string(f) {
            Ok(text) => input.add_text(&text, &origin),
            Err(e) => input
                .problems
                .push(format!("{origin}: cannot be read: {e}")),
        }
    }
    if files.is_empty() {
        input.failed = Some("the bundle's traces/ folder holds no .json file".into());
    }
    input.dedup_traces();
    Some(input)
}

/// A tracing backend to read during a live collection (`--traces URL`).
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSource {
    pub url: String,
    pub options: client::FetchOptions,
}

impl TraceSource {
    /// The backend at `url` with default options.
    pub fn new(url: impl Into<String>) -> Self {
        TraceSource {
            url: url.into(),
            options: client::FetchOptions::default(),
        }
    }

    /// Fetch, link and merge into `snap` (before `analyze`); never fails.
    /// `kube` is how `--traces auto` finds the tracing service.
    pub async fn merge_into(
        &self,
        snap: &mut crate::model::snapshot::Snapshot,
        inv: &crate::model::inventory::Inventory,
        kube: Option<(&kube::Client, &crate::collect::kube::Scope)>,
    ) -> merge::MergeReport {
        let input = self.fetch(kube).await;
        merge::merge(snap, inv, input)
    }
}
