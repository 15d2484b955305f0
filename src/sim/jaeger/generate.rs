//! Span generation for one sampled request: the request follows the
//! scenario's call graph, one client span in the caller's proxy and one
//! server span in the callee's proxy per call (as Envoy sidecars and
//! linkerd2-proxy emit), children nested in their parent's time range.

use super::attrs::{CallSide, attributes};
use super::graph;
use super::model::{AttrValue, Entry, SimSpan, SpanKind};
use super::traces::Tracer;
use crate::sim::rng::{self, SplitMix64};
use crate::sim::scenario::Latency;
use crate::sim::traffic::{OutcomeView, outcomes};

/// Deepest call chain followed.
const MAX_DEPTH: u32 = 12;
/// Most spans in one trace.
const MAX_SPANS: usize = 1_000;
/// Most calls on one edge per request.
const MAX_CALLS_PER_EDGE: u64 = 10;

struct Gen<'a> {
    t: &'a Tracer,
    rng: SplitMix64,
    spans: Vec<SimSpan>,
    request_id: String,
    /// Whether to fill span attributes (the dependency scan does not need them).
    with_attributes: bool,
}

/// The spans of the request `entry` of trace `trace_id` (empty when neither
/// side of the entry call has a proxy). Without `with_attributes` the spans
/// are the same except for empty attribute lists (cheaper).
pub fn generate(t: &Tracer, trace_id: u128, entry: Entry, with_attributes: bool) -> Vec<SimSpan> {
    let seed = rng::hash(
        t.scenario().seed,
        &["jaeger-gen", &format!("{trace_id:032x}")],
    );
    let mut rng = SplitMix64::new(seed);
    let request_id = rng::uuid(rng.next_u64());
    let mut g = Gen {
        t,
        rng,
        spans: Vec::new(),
        request_id,
        with_attributes,
    };
    g.call(entry.edge, entry.start_ns, None, 0);
    g.spans
}

impl Gen<'_> {
    fn span_id(&mut self) -> u64 {
        self.rng.next_u64().max(1)
    }

    fn attributes(&self, side: &CallSide<'_>, failed: bool) -> Vec<(String, AttrValue)> {
        if self.with_attributes {
            attributes(self.t, side, failed)
        } else {
            Vec::new()
        }
    }

    fn pick_pod(&mut self, workload: usize) -> usize {
        let pods = &self.t.scenario().workload_pods[workload];
        let i = self.rng.below(pods.len() as u64) as usize;
        pods.get(i).copied().unwrap_or(0)
    }

    /// A log-normal latency sample in ns (capped at 50× the median).
    fn latency_ns(&mut self, lat: Latency) -> u64 {
        let u1 = self.rng.next_f64().max(1e-12);
        let u2 = self.rng.next_f64();
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let ms = (lat.median_ms * (lat.sigma * z).exp()).min(lat.median_ms * 50.0);
        (ms * 1e6).max(50_000.0) as u64
    }

    fn pick_outcome(&mut self, all: &[OutcomeView]) -> Option<OutcomeView> {
        let mut x = self.rng.next_f64();
        for o in all {
            if x < o.share {
                return Some(*o);
            }
            x -= o.share;
        }
        all.first().copied()
    }

    /// One call on edge `edge` starting at `start`; returns when it ends.
    fn call(&mut self, edge: usize, start: u64, parent: Option<u64>, depth: u32) -> u64 {
        let t = self.t;
        let s = t.scenario();
        let e = &s.edges[edge];
        let caller = e.from;
        let caller_pod = self.pick_pod(caller);
        let backend = if e.backends.is_empty() {
            None
        } else {
            let mut x = self.rng.next_f64();
            let mut chosen = e.backends.last().map(|b| b.workload);
            for b in &e.backends {
                if x < b.share {
                    chosen = Some(b.workload);
                    break;
                }
                x -= b.share;
            }
            chosen
        };
        let Some(outcome) = self.pick_outcome(&outcomes(e)) else {
            return start;
        };
        let d = self.latency_ns(e.latency);
        let net = (50_000 + self.rng.below(250_000)).min(d / 10);
        let gap = 20_000 + self.rng.below(180_000);
        let (client_op, server_op) = graph::operation_names(s, e);
        let failed = !outcome.success
            && (outcome.http_status >= 500 || outcome.grpc_status.is_some_and(|g| g != 0));
        let error = failed.then(|| match outcome.grpc_status {
            Some(g) if g != 0 => format!("gRPC status {g}"),
            _ => format!("HTTP {}", outcome.http_status),
        });

        let client = if s.workloads[caller].meshed && self.spans.len() < MAX_SPANS {
            let id = self.span_id();
            let side = CallSide {
                edge,
                kind: SpanKind::Client,
                workload: caller,
                pod: caller_pod,
                caller_pod,
                peer: backend,
                outcome,
                request_id: &self.request_id,
            };
            let attributes = self.attributes(&side, failed);
            self.spans.push(SimSpan {
                span_id: id,
                parent_span_id: parent,
                service: t.service_name(caller).to_string(),
                workload: caller,
                pod: caller_pod,
                kind: SpanKind::Client,
                name: client_op,
                start_ns: start,
                end_ns: start + d,
                attributes,
                error: error.clone(),
            });
            Some((self.spans.len() - 1, id))
        } else {
            None
        };

        let mut end = start + d;
        let reached = outcome.response_flags == "-";
        if let Some(b) = backend
            && reached
            && s.workloads[b].meshed
            && self.spans.len() < MAX_SPANS
        {
            let pod = self.pick_pod(b);
            let id = self.span_id();
            let side = CallSide {
                edge,
                kind: SpanKind::Server,
                workload: b,
                pod,
                caller_pod,
                peer: Some(caller),
                outcome,
                request_id: &self.request_id,
            };
            let attributes = self.attributes(&side, failed);
            let server_start = start + net;
            self.spans.push(SimSpan {
                span_id: id,
                parent_span_id: client.map(|(_, id)| id).or(parent),
                service: t.service_name(b).to_string(),
                workload: b,
                pod,
                kind: SpanKind::Server,
                name: server_op,
                start_ns: server_start,
                end_ns: server_start,
                attributes,
                error,
            });
            let idx = self.spans.len() - 1;
            let mut cursor = server_start + gap;
            if depth < MAX_DEPTH {
                for (o, m) in graph::fan_out(s, &t.inbound, b) {
                    let extra = u64::from(self.rng.next_f64() < m.fract());
                    let n = (m.trunc() as u64 + extra).min(MAX_CALLS_PER_EDGE);
                    for _ in 0..n {
                        if self.spans.len() >= MAX_SPANS {
                            break;
                        }
                        cursor = self.call(o, cursor, Some(id), depth + 1) + gap;
                    }
                }
            }
            let server_end = (server_start + d.saturating_sub(2 * net)).max(cursor);
            self.spans[idx].end_ns = server_end;
            end = end.max(server_end + net);
        }
        if let Some((idx, _)) = client {
            self.spans[idx].end_ns = end;
        }
        end
    }
}
