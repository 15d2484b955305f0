//! Deterministic traffic: cumulative counters for every flow at any time.
//!
//! A flow is one (edge, backend workload) pair. Its request rate is the
//! configured rate times the backend's share, modulated by a slow sine
//! (±1%, period of a few minutes, phase from the seed). Counters are the
//! integral of that rate since the pod "started" (an uptime of one to three
//! hours before the scenario epoch), so they are monotonic in `t`, identical
//! on every run, and any window of ≥ 1 s sees the configured rate within ±1%
//! before integer rounding. A (source pod, destination pod) pair gets the
//! flow's counts divided evenly over the replicas on each side.

use std::f64::consts::PI;

use super::rng;
use super::scenario::{Edge, Latency, Protocol, Scenario};

/// Istio's default histogram bucket bounds (`+Inf` implied).
pub const ISTIO_BUCKETS: [f64; 19] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];

/// linkerd2-proxy's `response_latency_ms` bucket bounds (`+Inf` implied).
pub const LINKERD_BUCKETS: [f64; 25] = [
    1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 100.0, 200.0, 300.0, 400.0, 500.0,
    1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 10000.0, 20000.0, 30000.0, 40000.0, 50000.0,
];

/// Relative amplitude of the slow rate modulation.
pub const WOBBLE: f64 = 0.01;

/// One outcome of an edge's requests, success included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutcomeView {
    pub http_status: u16,
    pub grpc_status: Option<u8>,
    pub response_flags: &'static str,
    pub share: f64,
    pub success: bool,
}

/// The outcomes of an edge: success first, then each configured failure.
pub fn outcomes(edge: &Edge) -> Vec<OutcomeView> {
    let failed: f64 = edge.errors.iter().map(|o| o.share).sum();
    let mut v = Vec::with_capacity(edge.errors.len() + 1);
    v.push(OutcomeView {
        http_status: 200,
        grpc_status: (edge.protocol == Protocol::Grpc).then_some(0),
        response_flags: "-",
        share: (1.0 - failed).max(0.0),
        success: true,
    });
    for o in &edge.errors {
        v.push(OutcomeView {
            http_status: o.http_status,
            grpc_status: o.grpc_status,
            response_flags: o.response_flags,
            share: o.share,
            success: false,
        });
    }
    v
}

/// The share of an edge's traffic carried by backend `backend` (1 for egress).
pub fn backend_share(edge: &Edge, backend: usize) -> f64 {
    if edge.backends.is_empty() {
        1.0
    } else {
        edge.backends.get(backend).map_or(0.0, |b| b.share)
    }
}

struct Shape {
    uptime_s: f64,
    period_s: f64,
    phase: f64,
}

fn shape(s: &Scenario, edge: usize, backend: usize) -> Shape {
    let h = rng::hash(s.seed, &[&edge.to_string(), &backend.to_string()]);
    Shape {
        uptime_s: 3600.0 + (h % 7200) as f64,
        period_s: 180.0 + ((h >> 16) % 180) as f64,
        phase: ((h >> 32) % 6283) as f64 / 1000.0,
    }
}

/// Cumulative "unit" count of a flow at `t_ms`: the integral of its rate
/// profile in seconds (multiply by a rate to get events).
fn integral(sh: &Shape, t_ms: u64) -> f64 {
    let tau = t_ms as f64 / 1000.0;
    let w = 2.0 * PI / sh.period_s;
    sh.uptime_s + tau + WOBBLE / w * (sh.phase.cos() - (w * tau + sh.phase).cos())
}

/// Cumulative requests (float, before rounding) of the whole flow `(edge, backend)`.
pub fn flow_requests(s: &Scenario, edge: usize, backend: usize, t_ms: u64) -> f64 {
    let e = &s.edges[edge];
    e.rps * backend_share(e, backend) * integral(&shape(s, edge, backend), t_ms)
}

/// Cumulative connections opened (float) by the whole flow.
pub fn flow_connections(s: &Scenario, edge: usize, backend: usize, t_ms: u64) -> f64 {
    let e = &s.edges[edge];
    let per_s = match e.protocol {
        Protocol::Tcp => (e.rps / 40.0).max(0.02),
        Protocol::Http | Protocol::Grpc => 1.0 / 300.0,
    };
    per_s * backend_share(e, backend) * integral(&shape(s, edge, backend), t_ms)
}

/// Connections a pod pair of this edge keeps open.
pub fn open_connections(edge: &Edge) -> u64 {
    match edge.protocol {
        Protocol::Tcp => 2,
        Protocol::Http | Protocol::Grpc => 1,
    }
}

/// The fraction of a flow seen by one (source pod, destination pod) pair.
pub fn pair_fraction(s: &Scenario, edge: usize, backend: usize) -> f64 {
    let e = &s.edges[edge];
    let src = f64::from(s.workloads[e.from].replicas.max(1));
    let dst = e
        .backends
        .get(backend)
        .map_or(1.0, |b| f64::from(s.workloads[b.workload].replicas.max(1)));
    1.0 / (src * dst)
}

/// Standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// The log-normal CDF at each bucket bound.
pub fn lognormal_cdf(median: f64, sigma: f64, bounds: &[f64]) -> Vec<f64> {
    let mu = median.max(1e-9).ln();
    bounds
        .iter()
        .map(|&b| normal_cdf((b.ln() - mu) / sigma.max(1e-6)))
        .collect()
}

/// The mean of a log-normal distribution.
pub fn lognormal_mean(median: f64, sigma: f64) -> f64 {
    median * (sigma * sigma / 2.0).exp()
}

/// The latency CDF of an edge over `bounds`, and its mean in ms.
pub fn latency_profile(lat: Latency, bounds: &[f64]) -> (Vec<f64>, f64) {
    (
        lognormal_cdf(lat.median_ms, lat.sigma, bounds),
        lognormal_mean(lat.median_ms, lat.sigma),
    )
}

/// A histogram being summed from float contributions; rounded at the end so
/// every exposed integer is monotonic in time.
#[derive(Debug, Clone, Default)]
pub struct HistAcc {
    pub count: f64,
    pub sum: f64,
    pub buckets: Vec<f64>,
}

impl HistAcc {
    /// Add `n` observations distributed as `cdf` with the given mean.
    pub fn add(&mut self, n: f64, cdf: &[f64], mean: f64) {
        if self.buckets.len() < cdf.len() {
            self.buckets.resize(cdf.len(), 0.0);
        }
        self.count += n;
        self.sum += n * mean;
        for (b, c) in self.buckets.iter_mut().zip(cdf) {
            *b += n * c;
        }
    }

    /// Integer bucket counts (cumulative, `+Inf` last), sum and count.
    pub fn finish(&self) -> HistInts {
        let count = self.count.floor() as u64;
        let mut buckets: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| (b.floor() as u64).min(count))
            .collect();
        buckets.push(count);
        HistInts {
            buckets,
            sum: self.sum.floor() as u64,
            count,
        }
    }
}

/// Rounded histogram values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistInts {
    /// Cumulative counts per bound, with `+Inf` (= count) last.
    pub buckets: Vec<u64>,
    pub sum: u64,
    pub count: u64,
}

/// Integer counters of one (source pod, destination pod) pair of a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct PairCounters {
    /// Requests per outcome (same order as [`outcomes`]).
    pub requests: Vec<(OutcomeView, u64)>,
    /// Latency histogram per outcome over the given bounds.
    pub latency: Vec<HistInts>,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub connections_opened: u64,
    pub connections_closed: u64,
}

/// Counters at `t_ms` of the pod pair `(src pod, dst pod)` of flow `(edge, backend)`
/// (all pairs of a flow are equal: traffic splits evenly across replicas).
pub fn pair_counters(
    s: &Scenario,
    edge: usize,
    backend: usize,
    t_ms: u64,
    bounds: &[f64],
) -> PairCounters {
    let e = &s.edges[edge];
    let frac = pair_fraction(s, edge, backend);
    let n = flow_requests(s, edge, backend, t_ms) * frac;
    let (cdf, mean) = latency_profile(e.latency, bounds);
    let mut requests = Vec::new();
    let mut latency = Vec::new();
    for o in outcomes(e) {
        requests.push((o, (n * o.share).floor() as u64));
        let mut h = HistAcc::default();
        h.add(n * o.share, &cdf, mean);
        latency.push(h.finish());
    }
    let opened = flow_connections(s, edge, backend, t_ms) * frac;
    PairCounters {
        requests,
        latency,
        request_bytes: (n * e.request_bytes).floor() as u64,
        response_bytes: (n * e.response_bytes).floor() as u64,
        connections_opened: opened.floor() as u64,
        connections_closed: (opened - open_connections(e) as f64).max(0.0).floor() as u64,
    }
}
