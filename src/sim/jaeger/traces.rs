//! Deterministic trace sampling: which entry requests of a scenario are
//! sampled (one in [`SAMPLE_EVERY`], chosen by the seed), their trace ids,
//! and the traces they produce. No state: the same scenario and window
//! always give the same traces, and a trace id alone is enough to rebuild
//! its trace.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::generate::generate;
use super::graph;
use super::model::{Entry, SimTrace, SpanKind};
use crate::sim::rng;
use crate::sim::scenario::Scenario;

/// One entry request in this many is sampled (1%, Istio's default).
pub const SAMPLE_EVERY: u64 = 100;

/// How long traces are kept: older ones are gone, like a backend's retention.
pub const RETENTION_MS: u64 = 6 * 3_600_000;

/// Most traces one query looks at (the most recent ones in its window).
pub const MAX_TRACES_PER_QUERY: usize = 20_000;

/// Bits of the request index in a trace id's low half.
const INDEX_BITS: u32 = 40;

/// The traces of a scenario.
pub struct Tracer {
    scenario: Arc<Scenario>,
    pub(crate) names: Vec<String>,
    pub(crate) inbound: Vec<f64>,
    roots: Vec<usize>,
    traced: Vec<bool>,
}

/// Services and their operations (name, span kind), sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub operations: BTreeMap<String, BTreeSet<(String, SpanKind)>>,
}

impl Tracer {
    /// Analyse `scenario`'s call graph.
    pub fn new(scenario: Arc<Scenario>) -> Tracer {
        let names = (0..scenario.workloads.len())
            .map(|w| graph::service_name(&scenario, w))
            .collect();
        let inbound = graph::inbound_rates(&scenario);
        let roots = graph::root_edges(&scenario);
        let traced = graph::traced_edges(&scenario, &inbound);
        Tracer {
            scenario,
            names,
            inbound,
            roots,
            traced,
        }
    }

    /// The scenario being traced.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The edges whose requests start traces.
    pub fn root_edges(&self) -> &[usize] {
        &self.roots
    }

    /// Whether edge `e` can appear in traces.
    pub fn is_traced(&self, e: usize) -> bool {
        self.traced.get(e).copied().unwrap_or(false)
    }

    /// The service name workload `w` reports.
    pub fn service_name(&self, w: usize) -> &str {
        self.names.get(w).map_or("", String::as_str)
    }

    /// Every service that reports spans, with its operations.
    pub fn catalog(&self) -> Catalog {
        let s = &*self.scenario;
        let mut c = Catalog::default();
        for (ei, e) in s.edges.iter().enumerate() {
            if !self.is_traced(ei) {
                continue;
            }
            let (client_op, server_op) = graph::operation_names(s, e);
            if s.workloads[e.from].meshed {
                c.operations
                    .entry(self.names[e.from].clone())
                    .or_default()
                    .insert((client_op, SpanKind::Client));
            }
            for b in &e.backends {
                if b.share > 0.0 && s.workloads[b.workload].meshed {
                    c.operations
                        .entry(self.names[b.workload].clone())
                        .or_default()
                        .insert((server_op.clone(), SpanKind::Server));
                }
            }
        }
        c
    }

    /// The sampled request index in block `block` of root edge `edge`.
    fn sampled_index(&self, edge: usize, block: u64) -> u64 {
        let h = rng::hash(
            self.scenario.seed,
            &["jaeger-sample", &edge.to_string(), &block.to_string()],
        );
        block * SAMPLE_EVERY + h % SAMPLE_EVERY
    }

    /// When request `index` of edge `edge` starts, in ms since the scenario epoch.
    fn request_ms(&self, edge: usize, index: u64) -> f64 {
        index as f64 * 1000.0 / self.scenario.edges[edge].rps
    }

    fn entry(&self, edge: usize, index: u64) -> Entry {
        let ms = self.request_ms(edge, index);
        Entry {
            edge,
            index,
            start_ns: self.scenario.epoch_ms * 1_000_000 + (ms * 1e6) as u64,
        }
    }

    /// Sampled entries starting within `[min_ms, max_ms]` (ms since the
    /// scenario epoch, both inclusive), newest first, at most
    /// [`MAX_TRACES_PER_QUERY`].
    pub fn entries(&self, min_ms: f64, max_ms: f64) -> Vec<Entry> {
        let mut out = Vec::new();
        let min_ms = min_ms.max(0.0);
        if max_ms < min_ms {
            return out;
        }
        for &e in &self.roots {
            let rps = self.scenario.edges[e].rps;
            let k_lo = (min_ms * rps / 1000.0).ceil().max(0.0) as u64;
            let k_hi = (max_ms * rps / 1000.0).floor().max(0.0) as u64;
            if k_hi >= 1 << INDEX_BITS {
                continue;
            }
            for block in k_lo / SAMPLE_EVERY..=k_hi / SAMPLE_EVERY {
                let k = self.sampled_index(e, block);
                if (k_lo..=k_hi).contains(&k) {
                    out.push(self.entry(e, k));
                }
            }
        }
        out.sort_by(|a, b| b.start_ns.cmp(&a.start_ns).then(a.edge.cmp(&b.edge)));
        out.truncate(MAX_TRACES_PER_QUERY);
        out
    }

    /// The trace id of an entry: a random-looking high half, and a low half
    /// that encodes the entry (so ids can be looked up without storage).
    pub fn trace_id(&self, edge: usize, index: u64) -> u128 {
        let hi = self.id_high(edge, index);
        let payload = ((edge as u64) << INDEX_BITS) | index;
        (u128::from(hi) << 64) | u128::from(payload ^ rng::mix(hi))
    }

    fn id_high(&self, edge: usize, index: u64) -> u64 {
        rng::hash(
            self.scenario.seed,
            &["jaeger-trace", &edge.to_string(), &index.to_string()],
        ) | 1
    }

    /// The entry a trace id belongs to, if it is one of ours.
    pub fn decode(&self, id: u128) -> Option<Entry> {
        let hi = (id >> 64) as u64;
        let payload = (id as u64) ^ rng::mix(hi);
        let edge = usize::try_from(payload >> INDEX_BITS).ok()?;
        let index = payload & ((1 << INDEX_BITS) - 1);
        if !self.roots.contains(&edge)
            || self.id_high(edge, index) != hi
            || self.sampled_index(edge, index / SAMPLE_EVERY) != index
        {
            return None;
        }
        Some(self.entry(edge, index))
    }

    /// The trace of an entry (`None` when no proxy saw the request).
    pub fn trace(&self, entry: Entry) -> Option<SimTrace> {
        self.build(entry, true)
    }

    /// [`Tracer::trace`] without span attributes (ids, parents, services,
    /// names, kinds, times and statuses are the same).
    pub fn trace_skeleton(&self, entry: Entry) -> Option<SimTrace> {
        self.build(entry, false)
    }

    fn build(&self, entry: Entry, with_attributes: bool) -> Option<SimTrace> {
        let id = self.trace_id(entry.edge, entry.index);
        let spans = generate(self, id, entry, with_attributes);
        (!spans.is_empty()).then_some(SimTrace {
            trace_id: id,
            entry,
            spans,
        })
    }

    /// The trace with id `id` if it exists at `now_ms` (ms since the
    /// scenario epoch): started, and not older than [`RETENTION_MS`].
    pub fn get(&self, id: u128, now_ms: u64) -> Option<SimTrace> {
        let entry = self.decode(id)?;
        let start_ms = (entry.start_ns / 1_000_000).checked_sub(self.scenario.epoch_ms)?;
        if start_ms > now_ms || start_ms + RETENTION_MS < now_ms {
            return None;
        }
        self.trace(entry)
    }

    /// The retained part of `[min_ms, max_ms]` at `now_ms` (all ms since the
    /// scenario epoch).
    pub fn retained(&self, min_ms: f64, max_ms: f64, now_ms: u64) -> (f64, f64) {
        let oldest = now_ms.saturating_sub(RETENTION_MS) as f64;
        (min_ms.max(oldest), max_ms.min(now_ms as f64))
    }

    /// Traces started within `[min_ms, max_ms]` (ms since the scenario
    /// epoch) and retained at `now_ms`, newest first.
    pub fn traces_in(&self, min_ms: f64, max_ms: f64, now_ms: u64) -> Vec<SimTrace> {
        let (lo, hi) = self.retained(min_ms, max_ms, now_ms);
        self.entries(lo, hi)
            .into_iter()
            .filter_map(|e| self.trace(e))
            .collect()
    }

    /// [`Tracer::traces_in`] without span attributes.
    pub fn skeletons_in(&self, min_ms: f64, max_ms: f64, now_ms: u64) -> Vec<SimTrace> {
        let (lo, hi) = self.retained(min_ms, max_ms, now_ms);
        self.entries(lo, hi)
            .into_iter()
            .filter_map(|e| self.trace_skeleton(e))
            .collect()
    }
}
