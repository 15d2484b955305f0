//! The shared back half of the graph build: deduped per-edge samples →
//! the snapshot's nodes and edges.
//!
//! Nodes are interned to `u32` indices as they are first seen, so per-edge
//! and per-node bookkeeping hashes integers, and id strings are rendered
//! once per node when the snapshot is written.

use rustc_hash::FxHashMap;

use crate::model::ids::NodeRef;
use crate::model::intern::NodeId;
use crate::model::inventory::Inventory;
use crate::model::sample::{EdgeSample, NodeHint};
use crate::model::signals::{mtls, responses, signals};
use crate::model::snapshot::{Edge, Evidence, Identities, Node, NodeKind, Protocol};

/// Node identities of one build, each with its merged hint and whether it
/// appears in the output.
#[derive(Debug, Default)]
pub struct NodeTable {
    index: FxHashMap<NodeId, u32>,
    refs: Vec<NodeRef>,
    hints: Vec<Option<NodeHint>>,
    used: Vec<bool>,
    in_scope: Vec<bool>,
    namespaces: Option<Vec<String>>,
}

impl NodeTable {
    /// A table keeping nodes in `namespaces` (`None` = all).
    pub fn new(namespaces: Option<Vec<String>>) -> Self {
        NodeTable {
            namespaces,
            ..NodeTable::default()
        }
    }

    /// The index of `node`, adding it (its names are shared) when new.
    pub fn intern(&mut self, id: NodeId) -> u32 {
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        let node = id.node();
        let i = self.refs.len() as u32;
        let in_scope = match (&self.namespaces, node.namespace()) {
            (None, _) => true,
            (Some(nss), Some(ns)) => nss.iter().any(|x| x == ns),
            (Some(_), None) => false,
        };
        self.index.insert(id, i);
        self.refs.push(node);
        self.hints.push(None);
        self.used.push(false);
        self.in_scope.push(in_scope);
        i
    }

    /// Merge a hint into a node's (the first app/version seen wins).
    pub fn hint(&mut self, node: NodeId, hint: &NodeHint) {
        let i = self.intern(node) as usize;
        match &mut self.hints[i] {
            Some(h) => h.merge(hint),
            slot @ None => *slot = Some(hint.clone()),
        }
    }

    fn in_scope(&self, i: u32) -> bool {
        self.in_scope[i as usize]
    }
}

/// Edges and inbound node traffic collected so far.
pub struct Assembly {
    pub nodes: NodeTable,
    window_s: f64,
    /// Source, target and protocol of each edge in `edges`.
    keys: Vec<(u32, u32, Protocol)>,
    edges: Vec<Edge>,
    /// Per target node: window increase, last values, whether a window exists.
    inbound: FxHashMap<u32, (EdgeSample, EdgeSample, bool)>,
}

impl Assembly {
    pub fn new(namespaces: Option<Vec<String>>, window_s: f64) -> Self {
        Assembly {
            nodes: NodeTable::new(namespaces),
            window_s,
            keys: Vec::new(),
            edges: Vec::new(),
            inbound: FxHashMap::default(),
        }
    }

    /// Room for `n` more edges.
    pub fn reserve(&mut self, n: usize) {
        self.keys.reserve_exact(n);
        self.edges.reserve_exact(n);
    }

    /// Whether an edge between these nodes is kept (either end in scope).
    pub fn keeps(&self, source: u32, target: u32) -> bool {
        self.nodes.in_scope(source) || self.nodes.in_scope(target)
    }

    /// Add one edge from its deduped samples: `last` (cumulative) and
    /// `window` (the increase, `None` without a window).
    pub fn add_edge(
        &mut self,
        (source, target, protocol): (u32, u32, Protocol),
        last: &EdgeSample,
        window: Option<&EdgeSample>,
    ) {
        let sig = signals(window.map(|w| (w, self.window_s)), last);
        let inb = self.inbound.entry(target).or_default();
        inb.1.merge(last);
        if let Some(w) = window {
            inb.0.merge(w);
            inb.2 = true;
        }
        self.nodes.used[source as usize] = true;
        self.nodes.used[target as usize] = true;
        let identities =
            (last.source_identity.is_some() || last.target_identity.is_some()).then(|| {
                Identities {
                    source: last.source_identity.map(|s| s.to_string()),
                    target: last.target_identity.map(|s| s.to_string()),
                }
            });
        self.keys.push((source, target, protocol));
        self.edges.push(Edge {
            source: String::new(),
            target: String::new(),
            service: last.service.map(|s| String::from(&*s.get())),
            protocol,
            signals: sig,
            mtls: mtls(window, last),
            evidence: vec![Evidence::Metrics],
            declared: None,
            responses: responses(window, last),
            identities,
            traces: Vec::new(),
        });
    }

    /// Nodes (every node an edge touches plus the inventory's workloads in
    /// scope, sorted by id) and edges (sorted by source, target, protocol).
    pub fn finish(mut self, inv: &Inventory) -> (Vec<Node>, Vec<Edge>) {
        for w in inv.workloads.values() {
            let i = self.nodes.intern(NodeId::workload(&w.namespace, &w.name));
            if self.nodes.in_scope(i) {
                self.nodes.used[i as usize] = true;
            }
        }
        let table = &self.nodes;
        let ids: Vec<String> = table
            .refs
            .iter()
            .zip(&table.used)
            .map(|(r, used)| if *used { r.id() } else { String::new() })
            .collect();
        let mut order: Vec<u32> = (0..ids.len() as u32)
            .filter(|&i| table.used[i as usize])
            .collect();
        order.sort_unstable_by(|&a, &b| ids[a as usize].cmp(&ids[b as usize]));
        // Ids are unique, so comparing ranks orders edges as their id strings would.
        let mut rank = vec![0u32; ids.len()];
        for (pos, &i) in order.iter().enumerate() {
            rank[i as usize] = pos as u32;
        }
        // Sort small keys, then move each edge once.
        let mut order_e: Vec<(u32, u32, Protocol, u32)> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, (s, t, p))| (rank[*s as usize], rank[*t as usize], *p, i as u32))
            .collect();
        order_e.sort_unstable();
        // Put each edge in place by following the permutation's cycles: no
        // second vector of edges (each is ≈ 400 bytes).
        let mut edges = std::mem::take(&mut self.edges);
        let perm: Vec<u32> = order_e.iter().map(|&(_, _, _, i)| i).collect();
        drop(order_e);
        let mut placed = vec![false; perm.len()];
        for i in 0..perm.len() {
            if placed[i] {
                continue;
            }
            let mut j = i;
            loop {
                placed[j] = true;
                let k = perm[j] as usize;
                if k == i {
                    break;
                }
                edges.swap(j, k);
                j = k;
            }
        }
        for (e, &i) in edges.iter_mut().zip(&perm) {
            let (s, t, _) = self.keys[i as usize];
            e.source.clone_from(&ids[s as usize]);
            e.target.clone_from(&ids[t as usize]);
        }
        let window_s = self.window_s;
        let nodes = order
            .iter()
            .map(|&i| {
                let r = &table.refs[i as usize];
                let id = ids[i as usize].clone();
                let hint = table.hints[i as usize].as_ref();
                let wl = inv.workload(&id);
                let kind = r.kind();
                let sig = self
                    .inbound
                    .get(&i)
                    .map(|(w, l, has_w)| signals(has_w.then_some((w, window_s)), l));
                Node {
                    kind,
                    namespace: r.namespace().map(str::to_string),
                    name: r.name().to_string(),
                    app: wl
                        .and_then(|w| w.app.clone())
                        .or_else(|| hint.and_then(|h| h.app.clone())),
                    version: wl
                        .and_then(|w| w.version.clone())
                        .or_else(|| hint.and_then(|h| h.version.clone())),
                    meshed: kind == NodeKind::Workload
                        && (wl.is_some_and(|w| w.meshed) || hint.is_some_and(|h| h.meshed)),
                    signals: sig,
                    id,
                }
            })
            .collect();
        (nodes, edges)
    }
}
