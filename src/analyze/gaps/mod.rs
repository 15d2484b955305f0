//! The gap rules, one file each, over a shared [`Ctx`]; see docs/gaps.md.

pub mod failing_edge;
pub mod mtls_gap;
pub mod orphan_route;
pub mod policy_violation;
pub mod split_drift;
pub mod undeclared_edge;
pub mod unmeshed_workload;
pub mod unobserved_edge;

use crate::analyze::AnalyzeConfig;
use crate::analyze::index::{Caller, peer_matches};
use crate::analyze::model::{AccessRule, Action, Model};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::analyze::index::Idx;
use crate::model::snapshot::{Edge, Gap, MtlsStatus, Node, Severity, Snapshot};

/// Everything a rule reads.
pub struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub inv: &'a Idx<'a>,
    pub model: &'a Model,
    pub cfg: &'a AnalyzeConfig,
    /// The caller of each edge, by edge index.
    pub callers: Vec<Caller<'a>>,
    nodes: FxHashMap<&'a str, &'a Node>,
    by_service: FxHashMap<&'a str, Vec<usize>>,
    /// (source, target) of every edge.
    pairs: FxHashSet<(&'a str, &'a str)>,
    /// caller → targets, where the resolved caller is not the edge's source.
    caller_pairs: FxHashMap<&'a str, FxHashSet<&'a str>>,
    /// The effective mTLS mode of every edge target (`None`: not a meshed
    /// workload).
    pub target_modes: FxHashMap<&'a str, Option<crate::analyze::model::EffectiveMode>>,
    /// What the access rules say about each edge, by edge index: all rules,
    /// then enforced rules only (several rules ask the same).
    /// (`None` for the enforced ones: the same as all rules, which is the
    /// case when every rule that applies is enforced.)
    decisions: Vec<(Decision<'a>, Option<Decision<'a>>)>,
}

impl<'a> Ctx<'a> {
    /// Index the snapshot for the rules.
    pub fn new(
        snap: &'a Snapshot,
        inv: &'a Idx<'a>,
        model: &'a Model,
        cfg: &'a AnalyzeConfig,
        callers: Vec<Caller<'a>>,
    ) -> Self {
        // Each edge target's effective mTLS mode, once per target (the
        // rules ask per edge, several times), on another thread for a
        // large graph while the edges are indexed.
        let modes = || {
            mtls_gap::modes_of(
                inv,
                &model.peer,
                snap.edges.iter().map(|e| e.target.as_str()),
            )
        };
        let (indexed, target_modes) = crate::par::join(
            snap.edges.len() >= crate::par::EDGES_WORTH_A_THREAD,
            || Self::index_edges(snap, model, &callers),
            modes,
        );
        let (nodes, by_service, pairs, caller_pairs, decisions) = indexed;
        Ctx {
            snap,
            inv,
            model,
            cfg,
            callers,
            decisions,
            nodes,
            by_service,
            pairs,
            caller_pairs,
            target_modes,
        }
    }

    /// The snapshot's indexes and each edge's access decisions.
    #[allow(clippy::type_complexity)]
    fn index_edges(
        snap: &'a Snapshot,
        model: &'a Model,
        callers: &[Caller<'a>],
    ) -> (
        FxHashMap<&'a str, &'a Node>,
        FxHashMap<&'a str, Vec<usize>>,
        FxHashSet<(&'a str, &'a str)>,
        FxHashMap<&'a str, FxHashSet<&'a str>>,
        Vec<(Decision<'a>, Option<Decision<'a>>)>,
    ) {
        let nodes = snap.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let mut by_service: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        let mut pairs = FxHashSet::default();
        let mut caller_pairs: FxHashMap<&str, FxHashSet<&str>> = FxHashMap::default();
        for (i, e) in snap.edges.iter().enumerate() {
            if let Some(s) = &e.service {
                by_service.entry(s.as_str()).or_default().push(i);
            }
            pairs.insert((e.source.as_str(), e.target.as_str()));
            if callers[i].id != e.source {
                caller_pairs
                    .entry(callers[i].id)
                    .or_default()
                    .insert(e.target.as_str());
            }
        }
        let decisions = snap
            .edges
            .iter()
            .zip(callers)
            .map(|(e, c)| {
                let ids = model.rule_ids(&e.target);
                let all = decide_among(model, ids, c, false);
                let enforced = ids
                    .iter()
                    .any(|&r| !model.access[r].enforced)
                    .then(|| decide_among(model, ids, c, true));
                (all, enforced)
            })
            .collect();
        (nodes, by_service, pairs, caller_pairs, decisions)
    }

    /// [`decide`] for edge `i`'s caller and target (computed once).
    pub fn decision(&self, i: usize, enforced_only: bool) -> &Decision<'a> {
        let (all, enforced) = &self.decisions[i];
        match enforced {
            Some(d) if enforced_only => d,
            _ => all,
        }
    }

    /// The node by id.
    pub fn node(&self, id: &str) -> Option<&'a Node> {
        self.nodes.get(id).copied()
    }

    /// Indices of the edges that went through Service `svc:ns/name`.
    pub fn edges_via(&self, service: &str) -> &[usize] {
        self.by_service
            .get(service)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether any edge goes from `source` (or its attributed caller) to `target`.
    pub fn has_edge(&self, source: &str, target: &str) -> bool {
        self.pairs.contains(&(source, target))
            || self
                .caller_pairs
                .get(source)
                .is_some_and(|t| t.contains(target))
    }
}

/// What the access rules say about one caller → workload.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision<'a> {
    /// Some rule applies to the target.
    pub covered: bool,
    pub allowed: bool,
    /// The rules that decided (the matching DENY, or the ALLOWs).
    pub by: Vec<&'a str>,
}

fn rule_matches(r: &AccessRule, c: &Caller) -> bool {
    r.from.iter().any(|s| {
        s.all
            .iter()
            .all(|(pos, peers)| *pos == peers.iter().any(|p| peer_matches(p, c)))
    })
}

/// Evaluate the rules for `target` (Istio semantics: a matching DENY wins;
/// once any ALLOW applies, only a matching ALLOW admits).
pub fn decide<'a>(model: &'a Model, c: &Caller, target: &str, enforced_only: bool) -> Decision<'a> {
    decide_among(model, model.rule_ids(target), c, enforced_only)
}

/// [`decide`] over the rules `ids` (indices into `model.access`).
fn decide_among<'a>(
    model: &'a Model,
    ids: &[usize],
    c: &Caller,
    enforced_only: bool,
) -> Decision<'a> {
    let rel = || {
        ids.iter()
            .map(|&i| &model.access[i])
            .filter(move |r| !enforced_only || r.enforced)
    };
    let mut covered = false;
    for r in rel() {
        covered = true;
        if r.action == Action::Deny && rule_matches(r, c) {
            return Decision {
                covered: true,
                allowed: false,
                by: vec![r.resource.as_str()],
            };
        }
    }
    let allows = || rel().filter(|r| r.action == Action::Allow);
    let mut any_allow = false;
    let mut hit = Vec::new();
    for r in allows() {
        any_allow = true;
        if rule_matches(r, c) {
            hit.push(r.resource.as_str());
        }
    }
    if !any_allow || !hit.is_empty() {
        return Decision {
            covered,
            allowed: true,
            by: hit,
        };
    }
    Decision {
        covered: true,
        allowed: false,
        by: allows().map(|r| r.resource.as_str()).collect(),
    }
}

/// Requests (or connections) over the window: the response counts, else
/// rps × window.
pub fn edge_count(e: &Edge, window: f64) -> Option<f64> {
    let from_codes: Option<f64> = e
        .responses
        .iter()
        .map(|r| r.count)
        .try_fold(0.0, |acc, c| c.map(|c| acc + c));
    match from_codes {
        Some(n) if !e.responses.is_empty() => Some(n),
        _ => e.signals.rps.map(|r| r * window).filter(|_| window > 0.0),
    }
}

/// Whether the edge carries plaintext (wholly or partly).
pub fn plaintext(e: &Edge) -> bool {
    matches!(e.mtls.status, MtlsStatus::None | MtlsStatus::Partial)
}

/// `source -> target`.
pub fn subject(c: &Caller, e: &Edge) -> String {
    format!("{} -> {}", c.id, e.target)
}

/// A gap.
pub fn gap(kind: &str, severity: Severity, subject: String, message: String) -> Gap {
    Gap {
        kind: kind.to_string(),
        severity,
        subject,
        message,
    }
}

/// Percent with one decimal.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Run every rule.
pub fn run_all(ctx: &Ctx) -> Vec<Gap> {
    // Two groups of rules on two threads for a large graph, appended in
    // this order (which of two duplicates is kept below depends on it).
    let first = || {
        let mut out = undeclared_edge::check(ctx);
        out.extend(unobserved_edge::check(ctx));
        out.extend(split_drift::check(ctx));
        out.extend(mtls_gap::check(ctx));
        out
    };
    let second = || {
        let mut out = policy_violation::check(ctx);
        out.extend(unmeshed_workload::check(ctx));
        out.extend(orphan_route::check(ctx));
        out.extend(failing_edge::check(ctx));
        out
    };
    let (mut out, rest) = crate::par::join(
        ctx.snap.edges.len() >= crate::par::EDGES_WORTH_A_THREAD,
        first,
        second,
    );
    out.extend(rest);
    out.sort_by(|a, b| (a.severity, &a.kind, &a.subject).cmp(&(b.severity, &b.kind, &b.subject)));
    out.dedup_by(|a, b| a.kind == b.kind && a.subject == b.subject);
    out
}
