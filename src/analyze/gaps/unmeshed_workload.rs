//! `unmeshed_workload`: a workload without a proxy in a namespace with
//! injection enabled (warning), or one talking to meshed workloads (info).

use crate::analyze::gaps::{Ctx, gap};
use crate::analyze::index::is_control_plane;
use crate::model::snapshot::{Edge, Evidence, Gap, Severity};

fn injection(ctx: &Ctx, ns: &str) -> Option<String> {
    let info = ctx.inv.namespaces.get(ns)?;
    let l = &info.labels;
    let a = &info.annotations;
    if l.get("istio-injection").map(String::as_str) == Some("enabled") {
        return Some("label istio-injection=enabled".into());
    }
    if let Some(rev) = l.get("istio.io/rev") {
        return Some(format!("label istio.io/rev={rev}"));
    }
    if a.get("linkerd.io/inject")
        .or(l.get("linkerd.io/inject"))
        .map(String::as_str)
        == Some("enabled")
    {
        return Some("linkerd.io/inject=enabled".into());
    }
    None
}

/// Check every workload without a proxy.
pub fn check(ctx: &Ctx) -> Vec<Gap> {
    let mut out = Vec::new();
    for (id, w) in ctx
        .inv
        .workloads
        .iter()
        .filter(|(_, w)| !w.meshed && w.pods > 0)
    {
        if is_control_plane(ctx.inv, id) {
            continue;
        }
        let subject = format!("{}/{}/{}", w.kind, w.namespace, w.name);
        if let Some(how) = injection(ctx, &w.namespace) {
            out.push(gap("unmeshed_workload", Severity::Warning, subject, format!(
                "{id} runs without a mesh proxy although namespace {} enables injection ({how}).", w.namespace)));
            continue;
        }
        if let Some(peers) = meshed_peers(ctx, id, resolved_caller, |_| true) {
            out.push(gap(
                "unmeshed_workload",
                Severity::Info,
                subject,
                format!("{id} runs without a mesh proxy but talks to meshed workloads ({peers})."),
            ));
        }
    }
    out.extend(trace_only(ctx));
    out
}

/// Workloads the inventory does not know, seen only in traces (their
/// spans carry no mesh identity), that talk to meshed workloads.
fn trace_only(ctx: &Ctx) -> Vec<Gap> {
    use crate::model::snapshot::NodeKind;
    let mut out = Vec::new();
    for n in &ctx.snap.nodes {
        if n.kind != NodeKind::Workload || n.meshed || ctx.inv.workload(&n.id).is_some() {
            continue;
        }
        let trace_edges = |e: &Edge| e.evidence == [Evidence::Traces];
        if let Some(peers) = meshed_peers(ctx, &n.id, edge_source, trace_edges) {
            out.push(gap(
                "unmeshed_workload",
                Severity::Info,
                format!("Workload/{}", n.id),
                format!(
                    "{} is seen only in traces (no proxy reports it) and talks to meshed workloads ({peers}).",
                    n.id
                ),
            ));
        }
    }
    out
}

/// The meshed workloads `id` calls or is called by over the edges `keep`
/// admits (`source_of` names an edge's caller), as `first` or `first and N
/// more`; `None` when there are none.
fn meshed_peers(
    ctx: &Ctx,
    id: &str,
    source_of: for<'b> fn(&'b Ctx, usize, &'b Edge) -> &'b str,
    keep: impl Fn(&Edge) -> bool,
) -> Option<String> {
    let meshed = |n: &str| ctx.node(n).is_some_and(|n| n.meshed);
    let peers: Vec<&str> = ctx
        .snap
        .edges
        .iter()
        .enumerate()
        .filter(|(_, e)| keep(e))
        .filter_map(|(i, e)| {
            let source = source_of(ctx, i, e);
            if source == id && meshed(&e.target) {
                Some(e.target.as_str())
            } else if e.target == id && meshed(&e.source) {
                Some(e.source.as_str())
            } else {
                None
            }
        })
        .collect();
    let first = peers.first()?;
    Some(match peers.len() {
        1 => (*first).to_string(),
        n => format!("{first} and {} more", n - 1),
    })
}

/// An edge's caller as the analysis resolved it.
fn resolved_caller<'b>(ctx: &'b Ctx, i: usize, _: &'b Edge) -> &'b str {
    ctx.callers[i].id
}

/// An edge's caller as the snapshot names it.
fn edge_source<'b>(_: &'b Ctx, _: usize, e: &'b Edge) -> &'b str {
    e.source.as_str()
}
