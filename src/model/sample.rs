//! The canonical edge sample every mesh dialect maps its metrics to, and the
//! counter arithmetic between scrape rounds.
//!
//! A dialect folds the series of one proxy scrape into one [`EdgeSample`] per
//! (edge, reporter): cumulative request counts by response tuple, latency
//! buckets, TCP counters. Between two rounds each element is diffed with
//! Prometheus's reset rule (a value lower than before means the counter
//! restarted from zero, so the increase is the new value).

use rustc_hash::FxHashMap;

use crate::model::buckets::Buckets;
use crate::model::intern::{NodeId, Sym};
use crate::model::snapshot::Protocol;

/// Which proxy reported a series: the caller's (`source`, Linkerd's
/// outbound side) or the callee's (`destination`, Linkerd's inbound side).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reporter {
    Source,
    Destination,
}

/// What the reporting proxy knew of the connection's security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tls {
    Mutual,
    Plain,
    Unknown,
}

impl Tls {
    fn index(self) -> usize {
        match self {
            Tls::Mutual => 0,
            Tls::Plain => 1,
            Tls::Unknown => 2,
        }
    }
}

/// A directed call between two nodes over one protocol (12 bytes: the
/// nodes are interned; `Clone` is a plain copy).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeKey {
    pub source: NodeId,
    pub target: NodeId,
    pub protocol: Protocol,
}

/// The response tuple requests are counted by (12 bytes, `Copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReqKey {
    /// HTTP status; 0 when no response was received.
    pub code: u16,
    /// gRPC status, where the protocol is gRPC and a status was seen.
    pub grpc: Option<u16>,
    /// Envoy response flags (`UH`, `UF`, `RBAC`…) or Linkerd's `error`,
    /// interned; `None` for `-` or empty (4 bytes: the tuple is 12).
    pub flags: Option<Sym>,
    pub tls: Tls,
    /// Whether the request counts as a failure (5xx, no response, gRPC not
    /// OK, or Linkerd's `classification="failure"`).
    pub failed: bool,
}

impl ReqKey {
    /// HTTP and gRPC success rule shared by the dialects: a failure is a 5xx,
    /// no response at all (code 0), or a gRPC status other than OK.
    pub fn failed_by_codes(code: u16, grpc: Option<u16>) -> bool {
        code >= 500 || code == 0 || matches!(grpc, Some(g) if g != 0)
    }

    /// The response code as shown to users: `503`, `grpc:14`, `0`.
    pub fn display_code(&self) -> String {
        match self.grpc {
            Some(g) if g != 0 || self.code < 400 => format!("grpc:{g}"),
            _ => self.code.to_string(),
        }
    }
}

/// TCP counters of one edge for one TLS state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tcp {
    /// Bytes the caller sent (the request direction).
    pub sent: f64,
    /// Bytes the caller received (the response direction).
    pub received: f64,
    pub opened: f64,
    pub closed: f64,
    /// A gauge of open connections, where the proxy exposes one.
    pub open: Option<f64>,
}

impl Tcp {
    fn is_empty(&self) -> bool {
        self.sent == 0.0
            && self.received == 0.0
            && self.opened == 0.0
            && self.closed == 0.0
            && self.open.is_none()
    }
}

/// One edge as seen by one reporter in one scrape (cumulative values), or
/// the increase of those values over a window (after [`EdgeSample::increase`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeSample {
    /// The Service the calls went through (`svc:namespace/name`).
    pub service: Option<Sym>,
    pub source_identity: Option<Sym>,
    pub target_identity: Option<Sym>,
    pub requests: Vec<(ReqKey, f64)>,
    /// `(le, cumulative count)` of the latency histogram in milliseconds,
    /// the bounds shared between samples.
    pub latency: Buckets,
    pub latency_sum: f64,
    pub latency_count: f64,
    /// TCP counters by TLS state (`Tls::index`); `None` (no allocation)
    /// until a TCP counter is seen, as most edges are HTTP only.
    pub tcp: Option<Box<[Tcp; 3]>>,
}

/// The counters of an edge without TCP traffic.
const NO_TCP: Tcp = Tcp {
    sent: 0.0,
    received: 0.0,
    opened: 0.0,
    closed: 0.0,
    open: None,
};

fn add_to<K: PartialEq + Clone>(v: &mut Vec<(K, f64)>, key: &K, value: f64) {
    match v.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 += value,
        None => v.push((key.clone(), value)),
    }
}

/// `v` in an allocation of exactly its length (see
/// [`EdgeSample::shrink_to_fit`]).
pub(crate) fn exact<T: Copy>(v: &mut Vec<T>) {
    if v.capacity() > v.len() {
        *v = v.as_slice().to_vec();
    }
}

/// Prometheus's counter reset rule for one pair of samples.
pub fn counter_increase(first: f64, last: f64) -> f64 {
    if last >= first { last - first } else { last }
}

impl EdgeSample {
    pub fn add_requests(&mut self, key: &ReqKey, value: f64) {
        add_to(&mut self.requests, key, value);
    }

    pub fn add_bucket(&mut self, le: f64, value: f64) {
        self.latency.add(le, value);
    }

    pub fn tcp_mut(&mut self, tls: Tls) -> &mut Tcp {
        &mut self.tcp.get_or_insert_with(|| Box::new([NO_TCP; 3]))[tls.index()]
    }

    pub fn tcp(&self, tls: Tls) -> &Tcp {
        match &self.tcp {
            Some(t) => &t[tls.index()],
            None => &NO_TCP,
        }
    }

    /// The TCP counters of every TLS state (empty without TCP counters).
    pub fn tcp_all(&self) -> &[Tcp] {
        tcp_slice(&self.tcp)
    }

    /// Release spare capacity once a scrape is mapped: a sample lives for
    /// a whole round, and `latency` grows to 32 slots for 20 buckets.
    ///
    /// The vectors are copied into exact allocations rather than shrunk in
    /// place: an allocator may keep a shrunk block where it is (mimalloc
    /// does when the new size is at least half the old one: 20 of 32
    /// buckets kept 256 bytes for 160), and a copy also lays a scrape's
    /// samples out one after the other in the order they are read.
    pub fn shrink_to_fit(&mut self) {
        exact(&mut self.requests);
        self.latency.shrink_to_fit();
    }

    pub fn has_requests(&self) -> bool {
        !self.requests.is_empty() || !self.latency.is_empty()
    }

    pub fn has_tcp(&self) -> bool {
        any_tcp(self.tcp_all())
    }

    pub fn total_requests(&self) -> f64 {
        self.requests.iter().fold(0.0, |acc, (_, v)| acc + v)
    }

    pub fn failed_requests(&self) -> f64 {
        self.requests
            .iter()
            .filter(|(k, _)| k.failed)
            .fold(0.0, |acc, (_, v)| acc + v)
    }

    /// Keep descriptive fields that another sample of the same edge knows.
    fn absorb_meta(&mut self, other: &EdgeSample) {
        self.service = self.service.or(other.service);
        self.source_identity = self.source_identity.or(other.source_identity);
        self.target_identity = self.target_identity.or(other.target_identity);
    }

    /// Add every counter of `other` into `self` (same edge, same reporter).
    pub fn merge(&mut self, other: &EdgeSample) {
        self.absorb_meta(other);
        for (k, v) in &other.requests {
            add_to(&mut self.requests, k, *v);
        }
        self.latency.merge(&other.latency);
        self.latency_sum += other.latency_sum;
        self.latency_count += other.latency_count;
        merge_tcp(&mut self.tcp, &other.tcp);
    }

    /// The increase from `first` (the same series one round earlier, or
    /// `None` when the series did not exist then) to `self`, element by
    /// element with the reset rule. Gauges keep their last value.
    pub fn increase(&self, first: Option<&EdgeSample>) -> EdgeSample {
        let mut out = self.increase_counters(first);
        out.service = self.service;
        out.source_identity = self.source_identity;
        out.target_identity = self.target_identity;
        out
    }

    /// [`EdgeSample::increase`] of the counters only: the descriptive
    /// fields (service, identities) stay `None`.
    pub fn increase_counters(&self, first: Option<&EdgeSample>) -> EdgeSample {
        let mut out = EdgeSample::default();
        self.increase_into(first, &mut out);
        out
    }

    /// [`EdgeSample::increase_counters`] written into `out`, reusing its
    /// allocations (the graph build keeps one scratch sample per reporter).
    pub fn increase_into(&self, first: Option<&EdgeSample>, out: &mut EdgeSample) {
        self.increase_counters_into(first, out, true);
    }

    /// [`EdgeSample::increase_into`] without the latency histogram: `out`'s
    /// is left empty, with a sum and count of 0, and the histogram of
    /// neither sample is read (the graph build needs none from a caller
    /// whose callee reported one: see `signals::dedupe`).
    pub fn increase_without_latency_into(&self, first: Option<&EdgeSample>, out: &mut EdgeSample) {
        self.increase_counters_into(first, out, false);
    }

    fn increase_counters_into(
        &self,
        first: Option<&EdgeSample>,
        out: &mut EdgeSample,
        latency: bool,
    ) {
        out.service = None;
        out.source_identity = None;
        out.target_identity = None;
        if !latency {
            out.latency.clear();
            out.latency_sum = 0.0;
            out.latency_count = 0.0;
        }
        let Some(first) = first else {
            out.requests.clone_from(&self.requests);
            if latency {
                out.latency.copy_from(&self.latency);
                out.latency_sum = self.latency_sum;
                out.latency_count = self.latency_count;
            }
            out.tcp.clone_from(&self.tcp);
            return;
        };
        // Series usually come in the same order in both rounds: try the
        // same position first.
        let lookup_req = |i: usize, k: &ReqKey| match first.requests.get(i) {
            Some((fk, v)) if fk == k => *v,
            _ => first
                .requests
                .iter()
                .find(|(fk, _)| fk == k)
                .map_or(0.0, |(_, v)| *v),
        };
        out.requests.clear();
        out.requests.extend(
            self.requests
                .iter()
                .enumerate()
                .map(|(i, (k, v))| (*k, counter_increase(lookup_req(i, k), *v))),
        );
        if latency {
            self.latency_increase_into(first, out);
        }
        match &self.tcp {
            Some(b) => {
                let a = first.tcp.as_deref().unwrap_or(&[NO_TCP; 3]);
                let t = out.tcp.get_or_insert_with(|| Box::new([NO_TCP; 3]));
                for i in 0..3 {
                    t[i] = Tcp {
                        sent: counter_increase(a[i].sent, b[i].sent),
                        received: counter_increase(a[i].received, b[i].received),
                        opened: counter_increase(a[i].opened, b[i].opened),
                        closed: counter_increase(a[i].closed, b[i].closed),
                        open: b[i].open,
                    };
                }
            }
            None => out.tcp = None,
        }
    }

    /// The latency histogram's increase from `first` to `self`, into `out`.
    fn latency_increase_into(&self, first: &EdgeSample, out: &mut EdgeSample) {
        // A histogram resets as a whole: if its count went down, every bucket
        // restarted.
        let hist_reset = self.latency_count < first.latency_count;
        // Same layout in both rounds (the usual case): position by position.
        if hist_reset
            || !out
                .latency
                .zip_from(&first.latency, &self.latency, counter_increase)
        {
            out.latency.map_from(&self.latency, |i, le, v| {
                if hist_reset {
                    v
                } else {
                    counter_increase(first.latency.count_at(i, le), v)
                }
            });
        }
        out.latency_count = counter_increase(first.latency_count, self.latency_count);
        out.latency_sum = if hist_reset {
            self.latency_sum
        } else {
            counter_increase(first.latency_sum, self.latency_sum)
        };
    }

    /// A value read from what the sample points to: its first request
    /// tuple and every cache line of its latency counts (8 per line), to
    /// bring them into the cache ahead of use (see `model::assemble::touch`).
    pub fn heads(&self) -> f64 {
        self.requests.first().map_or(0.0, |r| r.1)
            + self.latency.counts().iter().step_by(8).sum::<f64>()
    }

    /// A value read from every field of the sample itself, wherever the
    /// compiler laid them out (see [`EdgeSample::heads`]).
    pub fn fields(&self) -> f64 {
        let flags = u32::from(self.service.is_some())
            + u32::from(self.source_identity.is_some())
            + u32::from(self.target_identity.is_some())
            + u32::from(self.tcp.is_some());
        self.latency_count
            + self.latency_sum
            + f64::from(flags)
            + (self.requests.len() + self.latency.len()) as f64
    }

    /// Make `self` a copy of `other`, reusing its allocations.
    pub fn copy_from(&mut self, other: &EdgeSample) {
        self.service = other.service;
        self.source_identity = other.source_identity;
        self.target_identity = other.target_identity;
        self.requests.clone_from(&other.requests);
        self.latency.copy_from(&other.latency);
        self.latency_sum = other.latency_sum;
        self.latency_count = other.latency_count;
        match (&mut self.tcp, &other.tcp) {
            (Some(mine), Some(theirs)) => **mine = **theirs,
            (mine, theirs) => mine.clone_from(theirs),
        }
    }
}

/// TCP counters by TLS state as a slice (empty without TCP counters).
fn tcp_slice(tcp: &Option<Box<[Tcp; 3]>>) -> &[Tcp] {
    match tcp {
        Some(t) => &t[..],
        None => &[],
    }
}

/// Whether any of these TCP counters saw traffic.
pub fn any_tcp(tcp: &[Tcp]) -> bool {
    tcp.iter().any(|t| !t.is_empty())
}

/// Add TCP counters by TLS state into `mine` (gauges too: the sum of the
/// open connections).
fn merge_tcp(mine: &mut Option<Box<[Tcp; 3]>>, theirs: &Option<Box<[Tcp; 3]>>) {
    let Some(other_tcp) = theirs else {
        return;
    };
    let tcp = mine.get_or_insert_with(|| Box::new([NO_TCP; 3]));
    for (mine, theirs) in tcp.iter_mut().zip(other_tcp.iter()) {
        mine.sent += theirs.sent;
        mine.received += theirs.received;
        mine.opened += theirs.opened;
        mine.closed += theirs.closed;
        mine.open = match (mine.open, theirs.open) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
        };
    }
}

/// What the cumulative values of edges say beyond their window: whether
/// any requests were seen at all, and the TCP counters. A node's inbound
/// traffic needs no more of them (see `signals::signals_with`), so this is
/// all the graph build sums of them per node, rather than whole samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lifetime {
    pub has_requests: bool,
    tcp: Option<Box<[Tcp; 3]>>,
}

impl Lifetime {
    /// Add one sample's (as [`EdgeSample::merge`] would add it).
    pub fn add(&mut self, s: &EdgeSample) {
        self.has_requests |= s.has_requests();
        merge_tcp(&mut self.tcp, &s.tcp);
    }

    /// Add another sum's.
    pub fn merge(&mut self, other: &Lifetime) {
        self.has_requests |= other.has_requests;
        merge_tcp(&mut self.tcp, &other.tcp);
    }

    /// The TCP counters of every TLS state (empty without TCP counters).
    pub fn tcp_all(&self) -> &[Tcp] {
        tcp_slice(&self.tcp)
    }
}

/// What the metrics say about a node beyond its id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeHint {
    pub app: Option<String>,
    pub version: Option<String>,
    /// Seen with a proxy of its own (reported, or identified by mTLS).
    pub meshed: bool,
}

impl NodeHint {
    pub fn merge(&mut self, other: &NodeHint) {
        if self.app.is_none() {
            self.app.clone_from(&other.app);
        }
        if self.version.is_none() {
            self.version.clone_from(&other.version);
        }
        self.meshed |= other.meshed;
    }
}

/// The edges and node hints of one proxy scrape.
#[derive(Debug, Clone, Default)]
pub struct ScrapeData {
    pub edges: FxHashMap<(EdgeKey, Reporter), EdgeSample>,
    pub nodes: FxHashMap<NodeId, NodeHint>,
}

impl ScrapeData {
    pub fn edge(&mut self, key: EdgeKey, reporter: Reporter) -> &mut EdgeSample {
        self.edges.entry((key, reporter)).or_default()
    }

    pub fn hint(&mut self, node: NodeId, hint: NodeHint) {
        if node.is_unknown() {
            return;
        }
        match self.nodes.get_mut(&node) {
            Some(h) => h.merge(&hint),
            None => {
                self.nodes.insert(node, hint);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// Release spare capacity once the scrape is fully mapped. The map is
    /// shrunk first (which moves its entries), then each sample in the
    /// map's final order, so the samples' data follows the order the graph
    /// build reads them in.
    pub fn shrink_to_fit(&mut self) {
        self.edges.shrink_to_fit();
        self.nodes.shrink_to_fit();
        for s in self.edges.values_mut() {
            s.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(code: u16) -> ReqKey {
        ReqKey {
            code,
            grpc: None,
            flags: None,
            tls: Tls::Mutual,
            failed: ReqKey::failed_by_codes(code, None),
        }
    }

    #[test]
    fn reset_rule() {
        assert_eq!(counter_increase(10.0, 15.0), 5.0);
        assert_eq!(counter_increase(10.0, 3.0), 3.0);
        assert_eq!(counter_increase(0.0, 0.0), 0.0);
    }

    #[test]
    fn increase_per_element_with_new_series_and_reset() {
        let mut a = EdgeSample::default();
        a.add_requests(&req(200), 100.0);
        a.add_requests(&req(503), 7.0);
        a.add_bucket(10.0, 50.0);
        a.add_bucket(f64::INFINITY, 107.0);
        a.latency_count = 107.0;
        a.latency_sum = 900.0;
        let mut b = EdgeSample::default();
        b.add_requests(&req(200), 130.0); // +30
        b.add_requests(&req(503), 2.0); // reset → 2
        b.add_requests(&req(404), 4.0); // new series → 4
        b.add_bucket(10.0, 70.0);
        b.add_bucket(f64::INFINITY, 136.0);
        b.latency_count = 136.0;
        b.latency_sum = 1200.0;
        let d = b.increase(Some(&a));
        assert_eq!(d.total_requests(), 36.0);
        assert_eq!(d.failed_requests(), 2.0);
        assert_eq!(d.latency, vec![(10.0, 20.0), (f64::INFINITY, 29.0)]);
        assert_eq!(d.latency_count, 29.0);
        assert_eq!(d.latency_sum, 300.0);
    }

    #[test]
    fn histogram_reset_takes_all_buckets_from_the_new_values() {
        let mut a = EdgeSample::default();
        a.add_bucket(10.0, 5.0);
        a.add_bucket(f64::INFINITY, 50.0);
        a.latency_count = 50.0;
        let mut b = EdgeSample::default();
        b.add_bucket(10.0, 6.0); // would look like +1 without the reset rule
        b.add_bucket(f64::INFINITY, 8.0);
        b.latency_count = 8.0;
        let d = b.increase(Some(&a));
        assert_eq!(d.latency, vec![(10.0, 6.0), (f64::INFINITY, 8.0)]);
    }

    #[test]
    fn failure_rule() {
        assert!(ReqKey::failed_by_codes(503, None));
        assert!(ReqKey::failed_by_codes(0, None));
        assert!(!ReqKey::failed_by_codes(404, None));
        assert!(ReqKey::failed_by_codes(200, Some(14)));
        assert!(!ReqKey::failed_by_codes(200, Some(0)));
    }
}
