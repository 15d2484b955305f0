//! Declared topology beside observed traffic: what the cluster declares
//! (policies, mTLS modes, routes), where it disagrees with what the proxies
//! saw (gaps), and an mTLS verdict per edge. Pure, except
//! [`load_declared`], which reads `--declared PATH`.

pub mod declared;
pub mod diffs;
pub mod gaps;
pub mod history;
pub mod index;
pub mod intent;
pub mod model;
pub mod mtls_summary;
pub mod stats;

use serde_json::Value;

pub use intent::{Declared, DeclaredError, IntentRule, load_declared};

use crate::model::inventory::Inventory;
use crate::model::snapshot::{
    Declared as SnapDeclared, Edge, MeshKind, MtlsStatus, NodeKind, Snapshot,
};

use gaps::Ctx;
use index::{Caller, is_control_plane};

/// Thresholds of the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeConfig {
    /// Error share above which an edge is failing (critical); Kiali's 10%.
    pub failing_threshold: f64,
    /// Error share above which an edge is degraded (warning); 0 = any error.
    pub degraded_threshold: f64,
    /// Confidence at which observed split shares must contradict the
    /// declared weights before `split_drift` is raised.
    pub split_confidence: f64,
}

impl Default for AnalyzeConfig {
    fn default() -> Self {
        AnalyzeConfig {
            failing_threshold: 0.10,
            degraded_threshold: 0.0,
            split_confidence: 0.999,
        }
    }
}

/// The caller of an edge; an `unknown` plaintext source is attributed to
/// the single non-control-plane workload without a proxy, when there is
/// exactly one (it is the only one whose calls carry no identity).
fn caller<'a>(e: &'a Edge, inv: &index::Idx<'a>, unmeshed: &[&'a str]) -> Caller<'a> {
    let authenticated = match e.mtls.status {
        MtlsStatus::Full | MtlsStatus::Partial => true,
        MtlsStatus::None => false,
        MtlsStatus::Unknown => inv.workload(&e.source).is_some_and(|w| w.meshed),
    };
    let (id, attributed) = match (e.source.as_str(), unmeshed) {
        ("unknown", [only]) if !authenticated => (*only, true),
        _ => (e.source.as_str(), false),
    };
    let w = inv.workload(id);
    Caller {
        namespace: w.map(|w| w.namespace.as_str()),
        service_account: w.map(|w| w.service_account.as_deref().unwrap_or("default")),
        id,
        authenticated,
        attributed,
    }
}

/// Fill `snap.declared`, `snap.gaps`, each edge's `declared` and its mTLS
/// `declared`/`verdict` from the inventory's mesh objects plus `extra`.
pub fn analyze(
    snap: &mut Snapshot,
    inv: &Inventory,
    extra: Option<&Declared>,
    cfg: &AnalyzeConfig,
) {
    let mut objects: Vec<&Value> = inv.other_objects.iter().collect();
    let mut intent: &[IntentRule] = &[];
    if let Some(x) = extra {
        // The declared source (a GitOps repo) wins over the cluster's copy.
        let ids: std::collections::BTreeSet<String> =
            x.objects.iter().map(model::resource_id).collect();
        objects.retain(|o| !ids.contains(&model::resource_id(o)));
        objects.extend(x.objects.iter());
        intent = &x.intent;
    }
    let idx = index::Idx::new(inv);
    let mut model = declared::build_model(&objects, intent, &idx);
    let unmeshed: Vec<&str> = inv
        .workloads
        .iter()
        .filter(|(id, w)| !w.meshed && w.pods > 0 && !is_control_plane(inv, id))
        .map(|(id, _)| id.as_str())
        .collect();
    let callers: Vec<Caller> = snap
        .edges
        .iter()
        .map(|e| caller(e, &idx, &unmeshed))
        .collect();
    let (found, edge_declared, verdicts) = {
        // The callers borrow the edges; they go with the context.
        let ctx = Ctx::new(snap, &idx, &model, cfg, callers);
        let per_edge = || {
            let edge_declared: Vec<Option<bool>> = snap
                .edges
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    if let Some(host) = e.target.strip_prefix("ext:") {
                        return (!model.external_hosts.is_empty())
                            .then(|| model.external_hosts.iter().any(|h| h == host));
                    }
                    if ctx
                        .node(&e.target)
                        .is_some_and(|n| n.kind != NodeKind::Workload)
                    {
                        return None;
                    }
                    let d = ctx.decision(i, false);
                    d.covered.then_some(d.allowed)
                })
                .collect();
            (edge_declared, gaps::mtls_gap::verdicts(&ctx))
        };
        // The gaps and the per-edge verdicts are independent.
        let (found, (edge_declared, verdicts)) = crate::par::join(
            snap.edges.len() >= crate::par::EDGES_WORTH_A_THREAD,
            || gaps::run_all(&ctx),
            per_edge,
        );
        (found, edge_declared, verdicts)
    };
    for ((e, d), v) in snap.edges.iter_mut().zip(edge_declared).zip(verdicts) {
        e.declared = d;
        if let Some((declared, verdict)) = v {
            e.mtls.declared = Some(declared);
            e.mtls.verdict = Some(verdict);
        }
    }
    // The entries move into the snapshot; the model keeps the rest.
    let mut routes = std::mem::take(&mut model.route_entries);
    let mut policies = std::mem::take(&mut model.policy_entries);
    let changes = diffs::managed::last_changes(&inv.other_objects);
    diffs::managed::annotate(&mut routes, &changes);
    diffs::managed::annotate(&mut policies, &changes);
    snap.declared = SnapDeclared { routes, policies };
    snap.gaps = found;
    snap.mtls_summary = (snap.mesh.kind != MeshKind::None || !model.peer.is_empty()).then(|| {
        let namespaces: std::collections::BTreeSet<&str> = inv
            .workloads
            .values()
            .map(|w| w.namespace.as_str())
            .collect();
        let namespaces = namespaces.into_iter().map(str::to_string).collect();
        mtls_summary::summarize(snap, &model, &namespaces)
    });
    if let Some(x) = extra {
        rule_diffs(snap, inv, &x.objects);
    }
}

/// Put the declared-vs-live diffs first in `snap.rule_diffs` (replacing
/// earlier ones, keeping watch diffs). Nothing is compared when the live
/// side holds no mesh rule at all (a Prometheus-only snapshot, a bundle
/// without CRDs): every declared rule would look removed. The scope is the
/// namespaces the live side covers: those with workloads or mesh rules.
fn rule_diffs(snap: &mut Snapshot, inv: &Inventory, declared: &[Value]) {
    let live_rules: Vec<&Value> = inv
        .other_objects
        .iter()
        .filter(|o| diffs::is_mesh_rule(o))
        .collect();
    if live_rules.is_empty() {
        return;
    }
    let mut scope: std::collections::BTreeSet<String> = inv
        .workloads
        .values()
        .map(|w| w.namespace.as_str())
        .collect::<std::collections::BTreeSet<&str>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    scope.extend(live_rules.iter().map(|o| diffs::RuleKey::of(o).namespace));
    let found = diffs::declared_vs_live(declared, &inv.other_objects, Some(&scope));
    snap.rule_diffs
        .retain(|d| d.source != Some(crate::model::snapshot::DiffSource::Declared));
    snap.rule_diffs.splice(0..0, found);
}
