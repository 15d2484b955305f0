//! Where the errors come from and who is hit.
//!
//! Culprits: every failing edge downstream of the target (its callees, and
//! theirs), ranked by the failures that *originate* there: an edge whose
//! callee fails on its own (its own outbound calls do not fail as much)
//! outranks an edge that only passes on a failure from further down.
//! Callers: the edges into the target, ranked by how much of their traffic
//! fails (the blast radius); entry points: the roots upstream of it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::snapshot::{Edge, Snapshot};
use crate::triage::resolve::Target;
use crate::triage::verdict::is_inbound;

/// How deep downstream culprits are searched.
pub const MAX_DEPTH: usize = 6;

/// A failing edge downstream of the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Culprit {
    pub source: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// 1 for the target's own callees, 2 for theirs…
    pub depth: usize,
    pub rps: Option<f64>,
    pub success_rate: Option<f64>,
    /// Failed requests per second on this edge.
    pub error_rps: f64,
    /// Of those, the part the callee produces itself (not passed on from
    /// its own callees).
    pub origin_error_rps: f64,
    /// `origin` (the callee fails on its own) or `propagated` (its
    /// callees' failures come back through it).
    pub kind: String,
    /// For direct callees: the share of the target's own inbound failures
    /// this edge can explain (0–1); `null` when the target has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_of_target_failures: Option<f64>,
    /// Failing response codes and their counts over the window.
    pub codes: Vec<String>,
}

/// A caller of the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Caller {
    pub source: String,
    pub target: String,
    pub rps: Option<f64>,
    pub error_rps: Option<f64>,
    /// Share (0–1) of its calls to the target that fail.
    pub failing_share: Option<f64>,
}

fn err(e: &Edge) -> f64 {
    e.signals.error_rate.unwrap_or(0.0).max(0.0)
}

fn failing_codes(e: &Edge) -> Vec<String> {
    let mut v: Vec<(f64, String)> = e
        .responses
        .iter()
        .filter(|r| {
            let c = r.code.as_str();
            c.starts_with('5') || c == "0" || (c.starts_with("grpc:") && c != "grpc:0")
        })
        .filter_map(|r| r.count.filter(|n| *n > 0.0).map(|n| (n, r.code.clone())))
        .collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    v.into_iter()
        .map(|(n, c)| format!("{c} ({n:.0})"))
        .collect()
}

/// Failing edges downstream of `t`, best culprit first.
pub fn culprits(snap: &Snapshot, t: &Target) -> Vec<Culprit> {
    let mut out_of: BTreeMap<&str, Vec<&Edge>> = BTreeMap::new();
    let mut in_err: BTreeMap<&str, f64> = BTreeMap::new();
    for e in &snap.edges {
        out_of.entry(e.source.as_str()).or_default().push(e);
        *in_err.entry(e.target.as_str()).or_default() += err(e);
    }
    let out_err = |node: &str| -> f64 {
        out_of
            .get(node)
            .map_or(0.0, |v| v.iter().map(|e| err(e)).sum())
    };
    let target_in: f64 = snap
        .edges
        .iter()
        .filter(|e| is_inbound(e, t))
        .map(err)
        .sum();
    // Breadth-first from the target's workloads.
    let mut depth_of: BTreeMap<&str, usize> = BTreeMap::new();
    let mut queue: VecDeque<(&str, usize)> = VecDeque::new();
    let mut starts: BTreeSet<&str> = t.workloads.iter().map(String::as_str).collect();
    starts.insert(t.id.as_str());
    for s in starts {
        depth_of.insert(s, 0);
        queue.push_back((s, 0));
    }
    let mut found = Vec::new();
    let mut seen_edges = BTreeSet::new();
    while let Some((node, d)) = queue.pop_front() {
        if d >= MAX_DEPTH {
            continue;
        }
        for e in out_of.get(node).map(Vec::as_slice).unwrap_or(&[]) {
            if !seen_edges.insert((e.source.as_str(), e.target.as_str(), e.protocol)) {
                continue;
            }
            let next = e.target.as_str();
            if !depth_of.contains_key(next) {
                depth_of.insert(next, d + 1);
                queue.push_back((next, d + 1));
            }
            let er = err(e);
            if er <= 0.0 {
                continue;
            }
            // The callee's own share of its failures: what its outbound
            // failures cannot explain.
            let callee_in = in_err.get(next).copied().unwrap_or(0.0);
            let callee_out = out_err(next);
            let own_share = if callee_in > 0.0 {
                (1.0 - callee_out / callee_in).clamp(0.0, 1.0)
            } else {
                1.0
            };
            let origin = er * own_share;
            found.push(Culprit {
                source: e.source.clone(),
                target: e.target.clone(),
                service: e.service.clone(),
                depth: d + 1,
                rps: e.signals.rps,
                success_rate: e.signals.success_rate,
                error_rps: er,
                origin_error_rps: origin,
                kind: if own_share >= 0.5 {
                    "origin"
                } else {
                    "propagated"
                }
                .into(),
                share_of_target_failures: (d == 0 && target_in > 0.0)
                    .then(|| (er / target_in).min(1.0)),
                codes: failing_codes(e),
            });
        }
    }
    found.sort_by(|a, b| {
        b.origin_error_rps
            .total_cmp(&a.origin_error_rps)
            .then(b.error_rps.total_cmp(&a.error_rps))
            .then(a.depth.cmp(&b.depth))
            .then(a.source.cmp(&b.source))
            .then(a.target.cmp(&b.target))
    });
    found
}

/// The target's callers, the most affected first.
pub fn callers(snap: &Snapshot, t: &Target) -> Vec<Caller> {
    let mut v: Vec<Caller> = snap
        .edges
        .iter()
        .filter(|e| is_inbound(e, t))
        .map(|e| Caller {
            source: e.source.clone(),
            target: e.target.clone(),
            rps: e.signals.rps,
            error_rps: e.signals.error_rate,
            failing_share: e.signals.success_rate.map(|s| 1.0 - s),
        })
        .collect();
    v.sort_by(|a, b| {
        b.failing_share
            .unwrap_or(0.0)
            .total_cmp(&a.failing_share.unwrap_or(0.0))
            .then(b.rps.unwrap_or(0.0).total_cmp(&a.rps.unwrap_or(0.0)))
            .then(a.source.cmp(&b.source))
    });
    v
}

/// The upstream walk of [`entry_points`]: the entry points found, the
/// nodes whose callers were looked up (a focused collection must scrape
/// them: their inbound reports name their callers), and the depth at which
/// a level wider than [`ENTRY_WIDTH`] stopped the walk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Upstream {
    pub roots: Vec<String>,
    pub expanded: BTreeSet<String>,
    pub cut_at: Option<usize>,
}

/// A level of the upstream walk wider than this ends it: its nodes count as
/// entry points (as those at [`MAX_DEPTH`] do). A hub called by hundreds of
/// workloads would otherwise need the whole mesh to name its roots.
pub const ENTRY_WIDTH: usize = 32;

/// Walk upstream from the target's callers, level by level (depth 1 = its
/// callers): a node nothing else calls is an entry point; the walk stops at
/// [`MAX_DEPTH`], or at a level wider than [`ENTRY_WIDTH`], and the nodes of
/// that level count as entry points.
pub fn upstream(snap: &Snapshot, t: &Target) -> Upstream {
    let mut into: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &snap.edges {
        into.entry(e.target.as_str())
            .or_default()
            .push(e.source.as_str());
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut level: Vec<&str> = Vec::new();
    for e in snap.edges.iter().filter(|e| is_inbound(e, t)) {
        if seen.insert(e.source.as_str()) {
            level.push(e.source.as_str());
        }
    }
    let mut out = Upstream::default();
    let mut roots = BTreeSet::new();
    let mut d = 1;
    while !level.is_empty() {
        if d >= MAX_DEPTH || level.len() > ENTRY_WIDTH {
            if level.len() > ENTRY_WIDTH {
                out.cut_at = Some(d);
            }
            roots.extend(level.iter().map(|n| n.to_string()));
            break;
        }
        let mut next = Vec::new();
        for n in level {
            out.expanded.insert(n.to_string());
            let parents: Vec<&str> = into
                .get(n)
                .map(|v| v.iter().copied().filter(|p| !t.contains(p)).collect())
                .unwrap_or_default();
            if parents.is_empty() {
                roots.insert(n.to_string());
            }
            for p in parents {
                if seen.insert(p) {
                    next.push(p);
                }
            }
        }
        level = next;
        d += 1;
    }
    out.roots = roots.into_iter().collect();
    out
}

/// The roots upstream of the target (nodes nothing calls), which users or
/// other systems hit first; see [`upstream`] for where the walk stops.
pub fn entry_points(snap: &Snapshot, t: &Target) -> Vec<String> {
    upstream(snap, t).roots
}
