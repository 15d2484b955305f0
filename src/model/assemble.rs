//! The shared back half of the graph build: deduped per-edge samples →
//! the snapshot's nodes and edges.
//!
//! Nodes are interned to `u32` indices as they are first seen, so per-edge
//! and per-node bookkeeping hashes integers, and id strings are rendered
//! once per node when the snapshot is written.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::model::ids::NodeRef;
use crate::model::intern::{NodeId, Sym};
use crate::model::inventory::Inventory;
use crate::model::sample::{EdgeSample, Lifetime, NodeHint};
use crate::model::signals::{mtls, responses, signals, signals_with};
use crate::model::snapshot::{
    Edge, Evidence, Identities, Mtls, MtlsStatus, Node, NodeKind, Protocol,
};

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

/// One edge's deduped samples, written by a [`Combine`]: the cumulative
/// values at the end of the window and the increase over it.
#[derive(Default)]
pub struct Deduped {
    pub last: EdgeSample,
    pub window: EdgeSample,
}

/// How an edge's samples are made, by slot (the order its key was added).
/// Called from two threads on a large graph, each with its own scratch.
pub trait Combine: Sync {
    /// Whatever a thread reuses from edge to edge.
    type Scratch: Default;
    /// Fill `out` with the samples of the edge in `slot`; whether it has a
    /// window (`out.window` is then the increase).
    fn combine(&self, slot: u32, scratch: &mut Self::Scratch, out: &mut Deduped) -> bool;

    /// Read the samples of these slots into the cache before they are
    /// combined one by one (see [`Assembly::run`]); nothing by default.
    fn touch(&self, _slots: &[u32]) {}
}

/// The edges' keys collected so far, with the node table they index.
pub struct Assembly {
    pub nodes: NodeTable,
    window_s: f64,
    /// Source, target and protocol of each edge, by slot.
    keys: Vec<(u32, u32, Protocol)>,
}

/// Per target node: window increase, what the last values say beyond it,
/// whether a window exists.
type Inbound = Vec<Option<(EdgeSample, Lifetime, bool)>>;

impl Assembly {
    pub fn new(namespaces: Option<Vec<String>>, window_s: f64) -> Self {
        Assembly {
            nodes: NodeTable::new(namespaces),
            window_s,
            keys: Vec::new(),
        }
    }

    /// Whether an edge between these nodes is kept (either end in scope).
    pub fn keeps(&self, source: u32, target: u32) -> bool {
        self.nodes.in_scope(source) || self.nodes.in_scope(target)
    }

    /// Add a kept edge's key; its slot.
    pub fn push_key(&mut self, key: (u32, u32, Protocol)) -> u32 {
        self.keys.push(key);
        (self.keys.len() - 1) as u32
    }

    /// The number of edges added.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Nodes (every node an edge touches plus the inventory's workloads in
    /// scope, sorted by id) and edges (sorted by source, target, protocol),
    /// each edge's samples made by `c`.
    ///
    /// The edges are made in output order, on two threads from
    /// [`crate::par::EDGES_WORTH_A_THREAD`] on: the first half of the sorted edges on one, the
    /// second on the other. A node's inbound traffic is summed over its
    /// edges in output order, each half apart and then the two halves, at
    /// every size and thread count alike, so the result does not depend on
    /// the threads. The nodes are made in two halves as well.
    pub fn finish(mut self, inv: &Inventory, c: &impl Combine) -> (Vec<Node>, Vec<Edge>) {
        for &(s, t, _) in &self.keys {
            self.nodes.used[s as usize] = true;
            self.nodes.used[t as usize] = true;
        }
        for w in inv.workloads.values() {
            let i = self.nodes.intern(NodeId::workload(&w.namespace, &w.name));
            if self.nodes.in_scope(i) {
                self.nodes.used[i as usize] = true;
            }
        }
        let n = self.keys.len();
        let two_threads = n >= crate::par::EDGES_WORTH_A_THREAD;
        // Every edge is written in place: one vector of edges, never a
        // second copy of a half (each edge is ≈ 400 bytes). Its placeholders
        // are laid out on another thread while this one orders the nodes
        // and edges.
        let ((order, ids, slots), mut edges) =
            crate::par::join(two_threads, || self.order(), || vec![placeholder(); n]);
        let table = &self.nodes;
        let half = if two_threads { n / 2 } else { n };
        let (ea, eb) = edges.split_at_mut(half);
        let (a, b) = slots.split_at(half);
        let run = |slots: &[u32], out: &mut [Edge]| self.run(slots, out, &ids, c);
        let (mut inbound, second) = crate::par::join(!b.is_empty(), || run(a, ea), || run(b, eb));
        for (acc, theirs) in inbound.iter_mut().zip(second) {
            match (acc, theirs) {
                (Some(acc), Some((w, l, has_w))) => {
                    acc.0.merge(&w);
                    acc.1.merge(&l);
                    acc.2 |= has_w;
                }
                (acc @ None, theirs) => *acc = theirs,
                (Some(_), None) => {}
            }
        }
        let window_s = self.window_s;
        let node = |i: u32| {
            let r = &table.refs[i as usize];
            let id = ids[i as usize].clone();
            let hint = table.hints[i as usize].as_ref();
            let wl = inv.workload(&id);
            let kind = r.kind();
            let sig = inbound[i as usize].as_ref().map(|(w, l, has_w)| {
                signals_with(has_w.then_some((w, window_s)), l.has_requests, l.tcp_all())
            });
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
        };
        // Nodes in two halves too, on a large graph.
        let (a, b) = order.split_at(if two_threads {
            order.len() / 2
        } else {
            order.len()
        });
        let (mut nodes, rest) = crate::par::join(
            !b.is_empty(),
            || a.iter().map(|&i| node(i)).collect::<Vec<Node>>(),
            || b.iter().map(|&i| node(i)).collect::<Vec<Node>>(),
        );
        nodes.extend(rest);
        (nodes, edges)
    }

    /// The nodes in output order (by id), every node's id (empty for nodes
    /// not shown), and the edges' slots in output order (by source id,
    /// target id, protocol).
    fn order(&self) -> (Vec<u32>, Vec<String>, Vec<u32>) {
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
        // (source rank, target rank, protocol, slot) packed in one integer,
        // most significant first, so one comparison orders two edges.
        let mut sorted: Vec<u128> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, (s, t, p))| {
                (u128::from(rank[*s as usize]) << 96)
                    | (u128::from(rank[*t as usize]) << 64)
                    | (u128::from(*p as u8) << 32)
                    | i as u128
            })
            .collect();
        sorted.sort_unstable();
        let slots = sorted.into_iter().map(|k| k as u32).collect();
        (order, ids, slots)
    }

    /// The edges of `slots` written to `out`, in that order; the inbound
    /// traffic of their targets, by node.
    ///
    /// The samples an edge reads lie all over the rounds, and reading them
    /// one edge at a time waits on each cache miss in turn. So the edges go
    /// in batches: the samples and the targets' inbound totals of a whole
    /// batch are read first in short loops, whose reads the processor
    /// overlaps, and the batch's edges are then made from the cache
    /// (≈ 1.5× less time for the per-edge work of the bench).
    fn run(&self, slots: &[u32], out: &mut [Edge], ids: &[String], c: &impl Combine) -> Inbound {
        let mut inbound: Inbound = vec![None; self.nodes.refs.len()];
        let mut scratch = Default::default();
        let mut d = Deduped::default();
        let mut names = Names::default();
        for (batch, out) in slots.chunks(BATCH).zip(out.chunks_mut(BATCH)) {
            c.touch(batch);
            let targets = || batch.iter().map(|&s| self.keys[s as usize].1 as usize);
            touch(
                targets().filter_map(|t| inbound[t].as_ref()),
                |(w, _, _)| [w],
            );
            for (&slot, edge) in batch.iter().zip(out) {
                let has_window = c.combine(slot, &mut scratch, &mut d);
                let (source, target, protocol) = self.keys[slot as usize];
                let last = &d.last;
                let window = has_window.then_some(&d.window);
                let inb = inbound[target as usize].get_or_insert_default();
                inb.1.add(last);
                if let Some(w) = window {
                    inb.0.merge(w);
                    inb.2 = true;
                }
                let identities = (last.source_identity.is_some() || last.target_identity.is_some())
                    .then(|| Identities {
                        source: last.source_identity.map(|s| names.string(s)),
                        target: last.target_identity.map(|s| names.string(s)),
                    });
                *edge = Edge {
                    source: ids[source as usize].clone(),
                    target: ids[target as usize].clone(),
                    service: last.service.map(|s| names.string(s)),
                    protocol,
                    signals: signals(window.map(|w| (w, self.window_s)), last),
                    mtls: mtls(window, last),
                    evidence: vec![Evidence::Metrics],
                    declared: None,
                    responses: responses(window, last),
                    identities,
                    traces: Vec::new(),
                };
            }
        }
        inbound
    }
}

/// Edges made per batch in [`Assembly::run`]: the samples of 64 edges fit
/// in a core's cache (64 was faster than 32 and 128 on the bench).
const BATCH: usize = 64;

/// Read `items` and then the samples they hold (`samples` of each) into the
/// cache: each sample's own fields in one loop, then what they point to in
/// another, every read independent of the others in its loop.
pub(crate) fn touch<'a, T: 'a, const N: usize>(
    items: impl Iterator<Item = &'a T> + Clone,
    samples: impl Fn(&'a T) -> [&'a EdgeSample; N],
) {
    let mut sum = 0.0;
    for item in items.clone() {
        for s in samples(item) {
            sum += s.fields();
        }
    }
    for item in items {
        for s in samples(item) {
            sum += s.heads();
        }
    }
    std::hint::black_box(sum);
}

/// Interned names resolved once per thread: [`Sym::get`] takes the
/// process-wide table's lock and counts a reference to the shared string,
/// which two threads resolving the same Service on every edge would fight
/// over.
#[derive(Default)]
struct Names(FxHashMap<Sym, Arc<str>>);

impl Names {
    fn string(&mut self, s: Sym) -> String {
        String::from(&**self.0.entry(s).or_insert_with(|| s.get()))
    }
}

/// An edge to be overwritten (allocates nothing).
fn placeholder() -> Edge {
    Edge {
        source: String::new(),
        target: String::new(),
        service: None,
        protocol: Protocol::Http,
        signals: Default::default(),
        mtls: Mtls {
            status: MtlsStatus::Unknown,
            fraction: None,
            declared: None,
            verdict: None,
        },
        evidence: Vec::new(),
        declared: None,
        responses: Vec::new(),
        identities: None,
        traces: Vec::new(),
    }
}
