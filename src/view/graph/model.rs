//! The graph as drawn: snapshot nodes and edges, optionally collapsed by app or
//! namespace, with aggregated signals. Pure.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::model::snapshot::{MtlsStatus, NodeKind, Signals, Snapshot};
use crate::view::fmt::{Health, health};

/// How nodes are folded together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Collapse {
    /// One node per workload.
    #[default]
    None,
    /// Versions of one app folded into one node.
    App,
    /// One node per namespace.
    Namespace,
}

impl Collapse {
    /// The next mode, for the collapse key.
    pub fn next(self) -> Collapse {
        match self {
            Collapse::None => Collapse::App,
            Collapse::App => Collapse::Namespace,
            Collapse::Namespace => Collapse::None,
        }
    }

    /// A short name for the status line.
    pub fn name(self) -> &'static str {
        match self {
            Collapse::None => "workloads",
            Collapse::App => "by app",
            Collapse::Namespace => "by namespace",
        }
    }
}

/// A drawn node.
#[derive(Debug, Clone, PartialEq)]
pub struct GNode {
    /// The snapshot node id, or a group id (`app:ns/app`, `ns:ns`).
    pub id: String,
    pub label: String,
    pub kind: NodeKind,
    /// Snapshot node ids folded into this node.
    pub members: Vec<String>,
    pub signals: Signals,
    pub health: Health,
}

/// A drawn edge (between indexes into `nodes`).
#[derive(Debug, Clone, PartialEq)]
pub struct GEdge {
    pub source: usize,
    pub target: usize,
    pub signals: Signals,
    pub mtls: MtlsStatus,
    pub health: Health,
    /// Snapshot edges folded into this one: (source, target).
    pub members: Vec<(String, String)>,
}

/// The graph to lay out and draw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ViewGraph {
    pub nodes: Vec<GNode>,
    pub edges: Vec<GEdge>,
    pub index: HashMap<String, usize>,
}

fn group_of(
    snap_node: Option<&crate::model::snapshot::Node>,
    id: &str,
    c: Collapse,
    unique_name: &dyn Fn(&str) -> bool,
) -> (String, String) {
    let Some(n) = snap_node else {
        return (id.to_string(), id.to_string());
    };
    // Short labels: the workload name, qualified only when it is ambiguous.
    let short = |name: &str, full: String| {
        if unique_name(name) {
            name.to_string()
        } else {
            full
        }
    };
    match (c, &n.namespace) {
        (Collapse::App, Some(ns)) if n.kind == NodeKind::Workload => match &n.app {
            Some(app) => (format!("app:{ns}/{app}"), short(app, format!("{ns}/{app}"))),
            None => (id.to_string(), short(&n.name, id.to_string())),
        },
        (Collapse::Namespace, Some(ns)) => (format!("ns:{ns}"), format!("ns {ns}")),
        _ if n.kind == NodeKind::Workload => (id.to_string(), short(&n.name, id.to_string())),
        _ => (id.to_string(), id.to_string()),
    }
}

/// Sums rates and takes the rps-weighted success and the worst latencies.
pub fn aggregate<'a>(items: impl IntoIterator<Item = &'a Signals>) -> Signals {
    let mut out = Signals::default();
    let mut ok_weighted = 0.0;
    let mut ok_weight = 0.0;
    for s in items {
        add(&mut out.rps, s.rps);
        add(&mut out.error_rate, s.error_rate);
        add(&mut out.bytes_sent_per_s, s.bytes_sent_per_s);
        add(&mut out.bytes_received_per_s, s.bytes_received_per_s);
        add(&mut out.open_connections, s.open_connections);
        if let (Some(ok), Some(r)) = (s.success_rate, s.rps) {
            ok_weighted += ok * r;
            ok_weight += r;
        }
        max(&mut out.p50_ms, s.p50_ms);
        max(&mut out.p95_ms, s.p95_ms);
        max(&mut out.p99_ms, s.p99_ms);
    }
    if ok_weight > 0.0 {
        out.success_rate = Some(ok_weighted / ok_weight);
    }
    out
}

fn add(acc: &mut Option<f64>, v: Option<f64>) {
    if let Some(v) = v {
        *acc = Some(acc.unwrap_or(0.0) + v);
    }
}

fn max(acc: &mut Option<f64>, v: Option<f64>) {
    if let Some(v) = v {
        *acc = Some(acc.map_or(v, |a| a.max(v)));
    }
}

/// Folds several mTLS statuses: all equal → that one, otherwise partial.
pub fn fold_mtls(items: impl IntoIterator<Item = MtlsStatus>) -> MtlsStatus {
    let mut acc: Option<MtlsStatus> = None;
    for s in items {
        acc = Some(match acc {
            None => s,
            Some(a) if a == s => a,
            Some(_) => MtlsStatus::Partial,
        });
    }
    acc.unwrap_or(MtlsStatus::Unknown)
}

impl ViewGraph {
    /// Builds the drawn graph. Nodes referenced only by edges get a stub; edges
    /// that collapse onto one node are dropped from the drawing.
    pub fn build(snap: &Snapshot, collapse: Collapse) -> ViewGraph {
        let by_id: HashMap<&str, &crate::model::snapshot::Node> =
            snap.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let mut g = ViewGraph::default();
        let mut ids: Vec<&str> = snap.nodes.iter().map(|n| n.id.as_str()).collect();
        for e in &snap.edges {
            for id in [e.source.as_str(), e.target.as_str()] {
                if !by_id.contains_key(id) {
                    ids.push(id);
                }
            }
        }
        // A name (or app) used in several namespaces needs its namespace in the label.
        let mut name_ns: HashMap<&str, std::collections::HashSet<Option<&str>>> = HashMap::new();
        for n in &snap.nodes {
            let ns = n.namespace.as_deref();
            name_ns.entry(n.name.as_str()).or_default().insert(ns);
            if let Some(app) = &n.app {
                name_ns.entry(app.as_str()).or_default().insert(ns);
            }
        }
        let unique = |name: &str| name_ns.get(name).is_none_or(|s| s.len() <= 1);
        let mut member_of: HashMap<&str, usize> = HashMap::new();
        for id in ids {
            if member_of.contains_key(id) {
                continue;
            }
            let node = by_id.get(id).copied();
            let (gid, label) = group_of(node, id, collapse, &unique);
            let idx = match g.index.get(&gid) {
                Some(&i) => i,
                None => {
                    let kind = node.map_or(NodeKind::Unknown, |n| n.kind);
                    g.nodes.push(GNode {
                        id: gid.clone(),
                        label,
                        kind,
                        members: Vec::new(),
                        signals: Signals::default(),
                        health: Health::Neutral,
                    });
                    g.index.insert(gid, g.nodes.len() - 1);
                    g.nodes.len() - 1
                }
            };
            g.nodes[idx].members.push(id.to_string());
            member_of.insert(id, idx);
        }
        // Node signals: the node's own inbound signals, else its inbound edges.
        let mut inbound: HashMap<&str, Vec<&Signals>> = HashMap::new();
        for e in &snap.edges {
            inbound
                .entry(e.target.as_str())
                .or_default()
                .push(&e.signals);
        }
        for n in &mut g.nodes {
            let sigs: Vec<Signals> = n
                .members
                .iter()
                .map(
                    |m| match by_id.get(m.as_str()).and_then(|n| n.signals.as_ref()) {
                        Some(s) => s.clone(),
                        None => aggregate(inbound.get(m.as_str()).into_iter().flatten().copied()),
                    },
                )
                .collect();
            n.signals = aggregate(&sigs);
            n.health = if n.kind == NodeKind::Unknown && n.members.len() == 1 {
                Health::Neutral
            } else {
                health(&n.signals)
            };
        }
        let mut edge_index: HashMap<(usize, usize), usize> = HashMap::new();
        let mut mtls: Vec<Vec<MtlsStatus>> = Vec::new();
        let mut sigs: Vec<Vec<&Signals>> = Vec::new();
        for e in &snap.edges {
            let (Some(&s), Some(&t)) = (
                member_of.get(e.source.as_str()),
                member_of.get(e.target.as_str()),
            ) else {
                continue;
            };
            if s == t && collapse != Collapse::None {
                continue;
            }
            let i = *edge_index.entry((s, t)).or_insert_with(|| {
                g.edges.push(GEdge {
                    source: s,
                    target: t,
                    signals: Signals::default(),
                    mtls: MtlsStatus::Unknown,
                    health: Health::Neutral,
                    members: Vec::new(),
                });
                mtls.push(Vec::new());
                sigs.push(Vec::new());
                g.edges.len() - 1
            });
            g.edges[i]
                .members
                .push((e.source.clone(), e.target.clone()));
            mtls[i].push(e.mtls.status);
            sigs[i].push(&e.signals);
        }
        for (i, e) in g.edges.iter_mut().enumerate() {
            e.signals = aggregate(sigs[i].iter().copied());
            e.mtls = fold_mtls(mtls[i].iter().copied());
            e.health = health(&e.signals);
        }
        g
    }

    /// The subgraph around `center`: it, its callers and its callees.
    pub fn neighbourhood(&self, center: usize) -> ViewGraph {
        let mut keep = vec![false; self.nodes.len()];
        if center < keep.len() {
            keep[center] = true;
        }
        for e in &self.edges {
            if e.source == center {
                keep[e.target] = true;
            }
            if e.target == center {
                keep[e.source] = true;
            }
        }
        let mut g = ViewGraph::default();
        let mut map = vec![usize::MAX; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            if keep[i] {
                map[i] = g.nodes.len();
                g.index.insert(n.id.clone(), g.nodes.len());
                g.nodes.push(n.clone());
            }
        }
        for e in &self.edges {
            // Only the centre's own edges: the neighbourhood stays a star, readable.
            if (e.source == center || e.target == center) && keep[e.source] && keep[e.target] {
                let mut e2 = e.clone();
                e2.source = map[e.source];
                e2.target = map[e.target];
                g.edges.push(e2);
            }
        }
        g
    }

    /// A hash of what the layout depends on (node ids and labels, edge endpoints).
    pub fn topology_key(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for n in &self.nodes {
            n.id.hash(&mut h);
            n.label.hash(&mut h);
        }
        for e in &self.edges {
            (e.source, e.target).hash(&mut h);
        }
        h.finish()
    }
}
