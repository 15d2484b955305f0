//! Trace calls merged into the metrics graph: trace service names mapped
//! to workloads (the pod named in Istio's `node_id` or `k8s.pod.name`, a
//! `k8s.deployment.name`, Istio's `app.namespace` service names, the `app`
//! label), edges seen in both marked `evidence: ["metrics","traces"]`,
//! trace-only edges and services added with `evidence: ["traces"]`, and
//! sample traces attached per edge. Pure: runs before `analyze`.

use rustc_hash::FxHashMap;

use super::TraceInput;
use super::graph::{EdgeStats, Sample, TraceGraph};
use super::span::{Span, id_hex};
use crate::model::ids::NodeRef;
use crate::model::inventory::Inventory;
use crate::model::snapshot::{
    Edge, Evidence, Mtls, MtlsStatus, Node, NodeKind, Protocol, Signals, Snapshot, SourceStatus,
    TraceExemplar,
};

/// Maps trace service names (and spans) to snapshot node ids.
pub struct Mapper<'a> {
    inv: &'a Inventory,
    names: FxHashMap<String, String>,
}

fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl<'a> Mapper<'a> {
    pub fn new(inv: &'a Inventory) -> Self {
        Mapper {
            inv,
            names: FxHashMap::default(),
        }
    }

    /// The node of a span: its pod's workload when the span names the pod,
    /// else its workload attributes, else its service name.
    pub fn span_node(&mut self, s: &Span) -> Option<String> {
        let ns = s
            .attr("k8s.namespace.name")
            .or_else(|| s.attr("istio.namespace"));
        // Istio's node_id: `sidecar~10.1.2.3~pod-name.namespace~namespace.svc.cluster.local`.
        let pod = s
            .attr("node_id")
            .and_then(|n| n.split('~').nth(2))
            .and_then(|p| p.rsplit_once('.'))
            .map(|(p, n)| (n, p))
            .or_else(|| Some((ns?, s.attr("k8s.pod.name")?)));
        if let Some((ns, pod)) = pod
            && let Some(p) = self.inv.pod(ns, pod)
        {
            return Some(p.workload.clone());
        }
        if let Some(ns) = ns {
            for key in [
                "k8s.deployment.name",
                "k8s.statefulset.name",
                "k8s.daemonset.name",
            ] {
                if let Some(name) = s.attr(key) {
                    return Some(NodeRef::workload(ns, name).id());
                }
            }
        }
        s.service.as_deref().map(|n| self.name_node(n))
    }

    /// The node of a bare service name.
    pub fn name_node(&mut self, name: &str) -> String {
        if let Some(id) = self.names.get(name) {
            return id.clone();
        }
        let id = self.resolve_name(name);
        self.names.insert(name.to_string(), id.clone());
        id
    }

    fn by_app(&self, app: &str, ns: Option<&str>) -> Option<String> {
        let inv = self.inv;
        let hits: Vec<String> = inv
            .workloads
            .iter()
            .filter(|(_, w)| ns.is_none_or(|n| w.namespace == n))
            .filter(|(_, w)| w.app.as_deref() == Some(app) || w.name == app)
            .map(|(id, _)| id.clone())
            .collect();
        match hits.as_slice() {
            [one] => Some(one.clone()),
            [] => None,
            [first, ..] => {
                let ns = ns.or_else(|| first.split('/').next())?;
                Some(match inv.service(ns, app) {
                    Some(_) => NodeRef::service(ns, app).id(),
                    None => first.clone(),
                })
            }
        }
    }

    fn resolve_name(&self, raw: &str) -> String {
        let name = raw
            .strip_suffix(".svc.cluster.local")
            .or_else(|| raw.strip_suffix(".svc"))
            .unwrap_or(raw);
        if let Some((app, ns)) = name.split_once('.')
            && dns_label(app)
            && dns_label(ns)
        {
            return self
                .by_app(app, Some(ns))
                .unwrap_or_else(|| NodeRef::workload(ns, app).id());
        }
        self.by_app(name, None)
            .unwrap_or_else(|| NodeRef::external(name).id())
    }
}

/// Rewrite every span's service and peer to snapshot node ids.
pub fn map_input(input: &mut TraceInput, inv: &Inventory) {
    let mut m = Mapper::new(inv);
    for t in &mut input.traces {
        for s in &mut t.spans {
            s.service = m.span_node(s);
            if let Some(r) = &s.remote_service {
                s.remote_service = Some(m.name_node(r));
            }
        }
    }
    for l in &mut input.links {
        l.parent = m.name_node(&l.parent);
        l.child = m.name_node(&l.child);
    }
}

fn exemplar(s: &Sample) -> TraceExemplar {
    TraceExemplar {
        trace_id: id_hex(s.trace_id),
        duration_ms: (s.duration_ms * 1000.0).round() / 1000.0,
        error: s.error,
        status: s.http_status,
        root: s.root.clone(),
    }
}

fn trace_edge(source: &str, target: &str, e: &mut EdgeStats) -> Edge {
    let (p50, p95, p99) = e.quantiles();
    let success = (e.calls > 0).then(|| 1.0 - e.errors as f64 / e.calls as f64);
    Edge {
        source: source.to_string(),
        target: target.to_string(),
        service: target.starts_with("svc:").then(|| target.to_string()),
        protocol: Protocol::Http,
        signals: Signals {
            rps: None,
            success_rate: success,
            error_rate: None,
            p50_ms: p50,
            p95_ms: p95,
            p99_ms: p99,
            ..Signals::default()
        },
        mtls: Mtls {
            status: MtlsStatus::Unknown,
            fraction: None,
            declared: None,
            verdict: None,
        },
        evidence: vec![Evidence::Traces],
        declared: None,
        responses: Vec::new(),
        identities: None,
        traces: e.samples().iter().map(exemplar).collect(),
    }
}

fn node_for(id: &str, inv: &Inventory) -> Node {
    let r = NodeRef::parse(id).unwrap_or_else(|| NodeRef::external(id));
    let w = inv.workload(id);
    let kind = r.kind();
    Node {
        id: id.to_string(),
        kind,
        namespace: r.namespace().map(str::to_string),
        name: r.name().to_string(),
        app: w.and_then(|w| w.app.clone()),
        version: w.and_then(|w| w.version.clone()),
        meshed: kind == NodeKind::Workload && w.is_some_and(|w| w.meshed),
        signals: None,
    }
}

/// The node ids an id stands for: the workloads behind a `svc:` node
/// (when the inventory knows them), plus the id itself.
fn members(id: &str, inv: &Inventory) -> Vec<String> {
    let mut out = vec![id.to_string()];
    if let Some(NodeRef::Service { namespace, name }) = NodeRef::parse(id)
        && let Some(svc) = inv.service(&namespace, &name)
    {
        out.extend(
            inv.service_workloads(svc)
                .iter()
                .map(|w| NodeRef::workload(&w.namespace, &w.name).id()),
        );
    }
    out
}

/// What [`merge`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Metrics edges confirmed by traces.
    pub confirmed: usize,
    /// Edges seen only in traces (added).
    pub trace_only: usize,
    /// Nodes added for trace-only services.
    pub new_nodes: usize,
}

/// Merge a linked trace graph (its names already node ids, see
/// [`map_input`]) into `snap`.
pub fn merge_graph(snap: &mut Snapshot, inv: &Inventory, mut g: TraceGraph) -> MergeReport {
    let mut report = MergeReport::default();
    let mut added: Vec<Edge> = Vec::new();
    for (src, targets) in &mut g.edges {
        for (dst, stats) in targets.iter_mut() {
            if src == dst {
                continue;
            }
            let srcs = members(src, inv);
            let dsts = members(dst, inv);
            let hits: Vec<usize> = snap
                .edges
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    srcs.contains(&e.source)
                        && (dsts.contains(&e.target) || e.service.as_deref() == Some(dst))
                })
                .map(|(i, _)| i)
                .collect();
            if hits.is_empty() {
                report.trace_only += 1;
                added.push(trace_edge(src, dst, stats));
                continue;
            }
            report.confirmed += hits.len();
            let samples: Vec<TraceExemplar> = stats.samples().iter().map(exemplar).collect();
            for i in hits {
                let e = &mut snap.edges[i];
                if !e.evidence.contains(&Evidence::Traces) {
                    e.evidence.push(Evidence::Traces);
                    e.evidence.sort();
                }
                for s in &samples {
                    if !e.traces.iter().any(|t| t.trace_id == s.trace_id) {
                        e.traces.push(s.clone());
                    }
                }
            }
        }
    }
    for e in &added {
        for id in [&e.source, &e.target] {
            if snap.node(id).is_none() {
                snap.nodes.push(node_for(id, inv));
                report.new_nodes += 1;
            }
        }
    }
    snap.edges.extend(added);
    snap.edges.sort_by(|a, b| {
        (&a.source, &a.target, a.protocol).cmp(&(&b.source, &b.target, b.protocol))
    });
    snap.nodes.sort_by(|a, b| a.id.cmp(&b.id));
    report
}

/// Map, link and merge one trace source into `snap`, and add its entry to
/// `sources`. Call before `analyze`.
pub fn merge(snap: &mut Snapshot, inv: &Inventory, mut input: TraceInput) -> MergeReport {
    map_input(&mut input, inv);
    let g = input.graph();
    let mut status: SourceStatus = input.status(&g);
    let report = merge_graph(snap, inv, g);
    if input.failed.is_none()
        && let Some(d) = &mut status.detail
    {
        d.push_str(&format!(
            "; {} metrics edges confirmed, {} seen only in traces",
            report.confirmed, report.trace_only
        ));
    }
    snap.sources.push(status);
    report
}
