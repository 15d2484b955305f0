//! Calls aggregated per (caller service, callee service): counts, errors,
//! a latency distribution (p50/p95/p99) and sample traces (the slowest and
//! the failing ones).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::link::{LinkStats, calls, resolve};
use super::span::{DependencyLink, Span, Trace, id_hex};

/// Sample traces kept per edge: this many slowest plus this many failing.
pub const EXEMPLARS: usize = 3;

/// A sample trace of an edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub trace_id: u128,
    pub duration_ms: f64,
    pub error: bool,
    pub http_status: Option<u16>,
    /// `service: operation` of the trace's root span.
    pub root: Option<String>,
}

/// The calls of one edge so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeStats {
    pub calls: u64,
    pub errors: u64,
    /// Call durations (ms); empty for edges known only from dependency links.
    pub durations_ms: Vec<f64>,
    pub slowest: Vec<Sample>,
    pub failing: Vec<Sample>,
}

impl EdgeStats {
    /// The `q` quantile (0–1) of the durations, linearly interpolated
    /// between closest ranks; `None` without durations. Sorts in place.
    pub fn quantile(&mut self, q: f64) -> Option<f64> {
        self.durations_ms.sort_unstable_by(f64::total_cmp);
        quantile_sorted(&self.durations_ms, q)
    }

    /// p50, p95 and p99 in ms.
    pub fn quantiles(&mut self) -> (Option<f64>, Option<f64>, Option<f64>) {
        self.durations_ms.sort_unstable_by(f64::total_cmp);
        let d = &self.durations_ms;
        (
            quantile_sorted(d, 0.50),
            quantile_sorted(d, 0.95),
            quantile_sorted(d, 0.99),
        )
    }

    /// The kept sample traces: failing first, then the slowest, no repeats.
    pub fn samples(&self) -> Vec<Sample> {
        let mut out: Vec<Sample> = self.failing.clone();
        for s in &self.slowest {
            if !out.iter().any(|o| o.trace_id == s.trace_id) {
                out.push(s.clone());
            }
        }
        out
    }

    fn keep(&mut self, s: Sample) {
        if s.error
            && self.failing.len() < EXEMPLARS
            && !self.failing.iter().any(|f| f.trace_id == s.trace_id)
        {
            self.failing.push(s.clone());
        }
        if let Some(pos) = self.slowest.iter().position(|o| o.trace_id == s.trace_id) {
            if self.slowest[pos].duration_ms < s.duration_ms {
                self.slowest[pos] = s;
            }
        } else if self.slowest.len() < EXEMPLARS {
            self.slowest.push(s);
        } else if let Some((min_i, min)) = self
            .slowest
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.duration_ms.total_cmp(&b.1.duration_ms))
            && min.duration_ms < s.duration_ms
        {
            self.slowest[min_i] = s;
        }
        self.slowest
            .sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
    }
}

/// The `q` quantile of sorted values (linear interpolation between ranks).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi.min(n - 1)] - sorted[lo]) * frac)
}

/// Service-to-service calls from traces.
#[derive(Debug, Clone, Default)]
pub struct TraceGraph {
    /// By caller, then callee (sorted for stable output).
    pub edges: BTreeMap<String, BTreeMap<String, EdgeStats>>,
    pub stats: LinkStats,
    /// Every service that reported a span or was named as a peer.
    pub services: BTreeMap<String, u64>,
}

impl TraceGraph {
    /// Link one trace's spans and add its calls.
    pub fn add_trace(&mut self, t: &Trace) {
        self.stats.traces += 1;
        let tree = resolve(&t.spans, &mut self.stats);
        let root = tree
            .parent
            .iter()
            .zip(&tree.dropped)
            .position(|(p, d)| p.is_none() && !d)
            .map(|i| root_name(&t.spans[i]));
        let mut found: FxHashMap<(&str, &str), Sample> = FxHashMap::default();
        let mut stats = std::mem::take(&mut self.stats);
        calls(&tree, &mut stats, |c| {
            let e = self.edge(c.parent, c.child);
            e.calls += 1;
            e.errors += u64::from(c.error);
            e.durations_ms.push(c.duration_ms);
            // One sample per edge and trace: its slowest (or failing) call.
            let s = found.entry((c.parent, c.child)).or_insert(Sample {
                trace_id: t.trace_id,
                duration_ms: c.duration_ms,
                error: c.error,
                http_status: c.http_status,
                root: root.clone(),
            });
            if (c.error && !s.error) || (c.error == s.error && c.duration_ms > s.duration_ms) {
                s.duration_ms = c.duration_ms;
                s.error = c.error;
                s.http_status = c.http_status;
            }
        });
        self.stats = stats;
        for ((p, c), s) in found {
            self.edge(p, c).keep(s);
        }
        for s in &t.spans {
            if let Some(svc) = &s.service {
                self.count_service(svc);
            }
        }
    }

    /// Add a precomputed dependency link (counts only).
    pub fn add_link(&mut self, l: &DependencyLink) {
        let e = self.edge(&l.parent, &l.child);
        e.calls += l.calls;
        e.errors += l.errors;
        self.count_service(&l.parent);
        self.count_service(&l.child);
    }

    fn count_service(&mut self, svc: &str) {
        match self.services.get_mut(svc) {
            Some(n) => *n += 1,
            None => {
                self.services.insert(svc.to_string(), 1);
            }
        }
    }

    fn edge(&mut self, parent: &str, child: &str) -> &mut EdgeStats {
        if !self.edges.contains_key(parent) {
            self.edges.insert(parent.to_string(), BTreeMap::new());
        }
        let m = self.edges.entry(parent.to_string()).or_default();
        if !m.contains_key(child) {
            m.insert(child.to_string(), EdgeStats::default());
        }
        m.entry(child.to_string()).or_default()
    }

    /// `(parent, child, calls, errors)` of every edge, sorted.
    pub fn counts(&self) -> Vec<(String, String, u64, u64)> {
        self.edges
            .iter()
            .flat_map(|(p, m)| {
                m.iter()
                    .map(move |(c, e)| (p.clone(), c.clone(), e.calls, e.errors))
            })
            .collect()
    }
}

fn root_name(s: &Span) -> String {
    format!("{}: {}", s.service.as_deref().unwrap_or("?"), s.name)
}

/// Trace id text for a sample.
pub fn sample_id(s: &Sample) -> String {
    id_hex(s.trace_id)
}
