//! The workload graph as a petgraph `StableDiGraph`, built from a snapshot,
//! and its Graphviz rendering.

use std::collections::HashMap;
use std::fmt::Write as _;

use petgraph::stable_graph::{NodeIndex, StableDiGraph};

use crate::model::snapshot::{Edge, MtlsStatus, Node, NodeKind, Snapshot};

/// Nodes and edges by reference, indexed for traversal.
pub struct WorkloadGraph<'a> {
    pub graph: StableDiGraph<&'a Node, &'a Edge>,
    pub index: HashMap<&'a str, NodeIndex>,
}

impl<'a> WorkloadGraph<'a> {
    pub fn new(snap: &'a Snapshot) -> Self {
        let mut graph = StableDiGraph::new();
        let mut index = HashMap::new();
        for n in &snap.nodes {
            index.insert(n.id.as_str(), graph.add_node(n));
        }
        for e in &snap.edges {
            if let (Some(&a), Some(&b)) =
                (index.get(e.source.as_str()), index.get(e.target.as_str()))
            {
                graph.add_edge(a, b, e);
            }
        }
        WorkloadGraph { graph, index }
    }
}

/// Kiali's default health thresholds on an error share: any error →
/// degraded, ≥ 10% → failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Degraded,
    Failure,
    NoTraffic,
}

pub fn health(success_rate: Option<f64>) -> Health {
    match success_rate {
        None => Health::NoTraffic,
        Some(s) if 1.0 - s >= 0.10 - 1e-9 => Health::Failure,
        Some(s) if s < 1.0 => Health::Degraded,
        Some(_) => Health::Healthy,
    }
}

fn health_colour(h: Health) -> &'static str {
    match h {
        Health::Healthy => "#3f9c35",
        Health::Degraded => "#f0ab00",
        Health::Failure => "#cc0000",
        Health::NoTraffic => "#8a8d90",
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `1.23 rps`, `—` when unknown.
pub fn fmt_rps(v: Option<f64>) -> String {
    match v {
        Some(r) if r >= 100.0 => format!("{r:.0} rps"),
        Some(r) if r >= 10.0 => format!("{r:.1} rps"),
        Some(r) => format!("{r:.2} rps"),
        None => "— rps".to_string(),
    }
}

/// `99.5%`, `—` when unknown.
pub fn fmt_pct(v: Option<f64>) -> String {
    match v {
        Some(s) => format!("{:.1}%", s * 100.0),
        None => "—".to_string(),
    }
}

/// Graphviz DOT: nodes coloured by health, edges labelled with rps and
/// success rate, a lock for full mTLS, dashed for plaintext.
pub fn to_dot(snap: &Snapshot) -> String {
    let g = WorkloadGraph::new(snap);
    let mut out = String::from(
        "digraph meshscope {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for idx in g.graph.node_indices() {
        let n = g.graph[idx];
        let h = health(n.signals.as_ref().and_then(|s| s.success_rate));
        let shape = match n.kind {
            NodeKind::Workload => "box",
            NodeKind::Service => "triangle",
            NodeKind::External => "parallelogram",
            NodeKind::Unknown => "diamond",
        };
        let label = match (&n.namespace, n.kind) {
            (Some(ns), NodeKind::Workload) => format!("{}\\n{}", esc(&n.name), esc(ns)),
            _ => esc(&n.id),
        };
        let _ = writeln!(
            out,
            "  \"{}\" [label=\"{}\", shape={}, fillcolor=\"{}\", fontcolor=\"white\"{}];",
            esc(&n.id),
            label,
            shape,
            health_colour(h),
            if n.meshed {
                ""
            } else {
                ", style=\"rounded,filled,dashed\""
            }
        );
    }
    for e in g.graph.edge_indices() {
        let Some((a, b)) = g.graph.edge_endpoints(e) else {
            continue;
        };
        let edge = g.graph[e];
        let lock = match edge.mtls.status {
            MtlsStatus::Full => " 🔒",
            MtlsStatus::Partial | MtlsStatus::None => " ⚠",
            MtlsStatus::Unknown => "",
        };
        let label = format!(
            "{} {}{}{}",
            fmt_rps(edge.signals.rps),
            fmt_pct(edge.signals.success_rate),
            if edge.protocol == crate::model::snapshot::Protocol::Http {
                String::new()
            } else {
                format!(" {}", edge.protocol.as_str())
            },
            lock
        );
        let h = health(edge.signals.success_rate);
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{}\", color=\"{}\"{}];",
            esc(&g.graph[a].id),
            esc(&g.graph[b].id),
            esc(&label),
            health_colour(h),
            if edge.mtls.status == MtlsStatus::None {
                ", style=dashed"
            } else {
                ""
            }
        );
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiali_thresholds() {
        assert_eq!(health(Some(1.0)), Health::Healthy);
        assert_eq!(health(Some(0.999)), Health::Degraded);
        assert_eq!(health(Some(0.90)), Health::Failure);
        assert_eq!(health(Some(0.85)), Health::Failure);
        assert_eq!(health(None), Health::NoTraffic);
    }
}
