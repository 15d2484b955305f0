//! Scrape rounds + inventory → the snapshot's nodes and edges.
//!
//! Rates use the first and the last round. A pod scraped in both rounds
//! contributes the increase of each of its series (a series absent in the
//! first round started after it, so it counts from zero); a pod scraped only
//! in the last round contributes topology but no rates. A pod missing from
//! the last round keeps its first-round topology.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::model::assemble::{Assembly, Combine, Deduped, touch};
use crate::model::intern::NodeId;
use crate::model::inventory::Inventory;
use crate::model::sample::{EdgeKey, EdgeSample, NodeHint, Reporter, ScrapeData};
use crate::model::signals::{by_reporter, dedupe_into};
use crate::model::snapshot::{
    Declared, Edge, MeshInfo, MeshKind, Node, SNAPSHOT_SCHEMA, Snapshot, SourceStatus,
};

/// One scrape round: every proxy scraped in it, by `namespace/pod`.
#[derive(Debug, Clone, Default)]
pub struct Round {
    /// Unix milliseconds when the round was taken.
    pub at_ms: i64,
    pub scrapes: BTreeMap<String, PodScrape>,
}

/// One proxy's scrape after its dialect mapped it.
#[derive(Debug, Clone, Default)]
pub struct PodScrape {
    pub mesh: Option<MeshKind>,
    pub data: ScrapeData,
}

/// What the builder needs besides the rounds.
#[derive(Debug, Clone, Default)]
pub struct BuildContext {
    pub sources: Vec<SourceStatus>,
    pub cluster: Option<crate::model::snapshot::ClusterInfo>,
    /// Restrict nodes and edges to these namespaces (an edge stays when
    /// either end is in scope); `None` = all.
    pub namespaces: Option<Vec<String>>,
}

/// One edge's samples by reporter: the increase over the window and the
/// cumulative values at its end.
#[derive(Debug, Clone, Default)]
pub struct EdgeAcc {
    pub window: Vec<(Reporter, EdgeSample)>,
    pub last: Vec<(Reporter, EdgeSample)>,
    pub has_window: bool,
}

impl EdgeAcc {
    /// Add a cumulative sample (end of the window).
    pub fn add_last(&mut self, r: Reporter, s: &EdgeSample) {
        add(&mut self.last, r, s);
    }

    /// Add an increase over the window.
    pub fn add_window(&mut self, r: Reporter, s: &EdgeSample) {
        add(&mut self.window, r, s);
        self.has_window = true;
    }

    /// [`EdgeAcc::add_window`] without a copy.
    pub fn add_window_owned(&mut self, r: Reporter, s: EdgeSample) {
        match self.window.iter_mut().find(|(x, _)| *x == r) {
            Some((_, acc)) => acc.merge(&s),
            None => self.window.push((r, s)),
        }
        self.has_window = true;
    }
}

/// Everything the builder needs from any metrics source: per-edge samples,
/// node hints, the meshes seen, and the window they cover. The scrape path
/// makes it from rounds ([`inputs_from_rounds`]); the Prometheus source from
/// PromQL results.
#[derive(Debug, Clone, Default)]
pub struct EdgeInputs {
    pub edges: FxHashMap<EdgeKey, EdgeAcc>,
    pub hints: FxHashMap<NodeId, NodeHint>,
    pub meshes: Vec<MeshKind>,
    /// Seconds the window samples cover (0 = no window).
    pub window_s: f64,
    /// Unix milliseconds of the end of the window.
    pub at_ms: i64,
}

impl EdgeInputs {
    /// Fold one source's scrape data in (hints and mesh).
    pub fn note(&mut self, mesh: Option<MeshKind>, data: &ScrapeData) {
        note_mesh(&mut self.meshes, mesh);
        for (node, h) in &data.nodes {
            self.hints.entry(*node).or_default().merge(h);
        }
    }
}

fn add(v: &mut Vec<(Reporter, EdgeSample)>, r: Reporter, s: &EdgeSample) {
    match v.iter_mut().find(|(x, _)| *x == r) {
        Some((_, acc)) => acc.merge(s),
        None => v.push((r, s.clone())),
    }
}

/// RFC 3339 for unix milliseconds.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// Build the snapshot (without declared topology or gaps: `analyze` adds them).
///
/// Works on the rounds by reference: each edge's samples are collected as
/// references, combined once per edge, and only the deduped results are
/// owned.
pub fn build_snapshot(inv: &Inventory, rounds: &[Round], ctx: BuildContext) -> Snapshot {
    let refs: Vec<&Round> = rounds.iter().collect();
    build_snapshot_refs(inv, &refs, ctx)
}

/// [`build_snapshot`] over borrowed rounds, for windows picked out of a
/// longer series (triage's baseline) without copying any round.
pub fn build_snapshot_refs(inv: &Inventory, rounds: &[&Round], ctx: BuildContext) -> Snapshot {
    let (first, last, window_s, at_ms) = window_of(rounds);
    let mut asm = Assembly::new(ctx.namespaces.clone(), window_s);
    let mut meshes = Vec::new();
    // Edge keys borrowed from the rounds → slot; `u32::MAX` = out of scope.
    let series: usize = last.map_or(0, |l| l.scrapes.values().map(|p| p.data.edges.len()).sum());
    let mut index: FxHashMap<EdgeKey, u32> =
        FxHashMap::with_capacity_and_hasher(series / 2, Default::default());
    // Every sample as (slot, part) in scrape order.
    let mut parts: Vec<(u32, Part<'_>)> = Vec::with_capacity(series);
    // The previous round's samples of the current pod (reused per pod).
    let mut prev_index: FxHashMap<(EdgeKey, Reporter), &EdgeSample> = FxHashMap::default();
    for (scrape, prev) in pods(first, last) {
        note_mesh(&mut meshes, scrape.mesh);
        for (node, h) in &scrape.data.nodes {
            asm.nodes.hint(*node, h);
        }
        prev_index.clear();
        // A pod's series usually come in the same order in both rounds, and
        // then both maps iterate alike: walk them side by side and index
        // the previous round only from the first mismatch.
        let mut side_by_side = prev.map(|p| p.data.edges.iter());
        for ((key, reporter), sample) in &scrape.data.edges {
            let slot = match index.get(key) {
                Some(&slot) => slot,
                None => {
                    let s = asm.nodes.intern(key.source);
                    let t = asm.nodes.intern(key.target);
                    let slot = if asm.keeps(s, t) {
                        asm.push_key((s, t, key.protocol))
                    } else {
                        u32::MAX
                    };
                    index.insert(key.clone(), slot);
                    slot
                }
            };
            if slot == u32::MAX {
                continue;
            }
            // Only a pod present in both rounds has a window.
            let prev = match prev {
                None => None,
                Some(p) => {
                    let hit = match &mut side_by_side {
                        Some(it) => match it.next() {
                            Some(((k, r), s)) if r == reporter && k == key => Some(s),
                            _ => {
                                side_by_side = None;
                                None
                            }
                        },
                        None => None,
                    };
                    match hit {
                        Some(s) => Some(Some(s)),
                        None => {
                            if prev_index.is_empty() {
                                prev_index.extend(
                                    p.data.edges.iter().map(|((k, r), s)| ((k.clone(), *r), s)),
                                );
                            }
                            Some(prev_index.get(&(key.clone(), *reporter)).copied())
                        }
                    }
                }
            };
            parts.push((
                slot,
                Part {
                    reporter: *reporter,
                    last: sample,
                    prev,
                },
            ));
        }
    }
    drop(index);
    drop(prev_index);
    // Group the parts by slot (a counting sort: stable, so each edge sees
    // its parts in scrape order), without a vector per edge.
    let mut start = vec![0u32; asm.len() + 1];
    for (slot, _) in &parts {
        start[*slot as usize + 1] += 1;
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut fill = start.clone();
    let mut grouped: Vec<u32> = vec![0; parts.len()];
    for (i, (slot, _)) in parts.iter().enumerate() {
        let at = &mut fill[*slot as usize];
        grouped[*at as usize] = i as u32;
        *at += 1;
    }
    drop(fill);
    let grouped = Grouped {
        parts,
        start,
        grouped,
    };
    let (nodes, edges) = asm.finish(inv, &grouped);
    finish(inv, nodes, edges, meshes, window_s, at_ms, ctx)
}

/// Every sample of the window by edge: `parts[grouped[start[slot]..start[slot + 1]]]`.
struct Grouped<'a> {
    parts: Vec<(u32, Part<'a>)>,
    start: Vec<u32>,
    grouped: Vec<u32>,
}

impl<'a> Grouped<'a> {
    /// The parts of the edge in `slot`, in scrape order.
    fn of(&self, slot: u32) -> impl Iterator<Item = &Part<'a>> + Clone {
        let slot = slot as usize;
        self.grouped[self.start[slot] as usize..self.start[slot + 1] as usize]
            .iter()
            .map(|&i| &self.parts[i as usize].1)
    }
}

impl Combine for Grouped<'_> {
    type Scratch = Scratch;

    fn combine(&self, slot: u32, scratch: &mut Scratch, out: &mut Deduped) -> bool {
        scratch.combine(self.of(slot), out)
    }

    fn touch(&self, slots: &[u32]) {
        let parts = slots.iter().flat_map(|&slot| self.of(slot));
        // A part's sample, and the one a round earlier (itself when none).
        touch(parts, |p| [p.last, p.prev.flatten().unwrap_or(p.last)]);
    }
}

/// One pod's sample of an edge: the last value and, when the pod was
/// scraped in both rounds, its sample one round earlier (`Some(None)` when
/// the series is new).
struct Part<'a> {
    reporter: Reporter,
    last: &'a EdgeSample,
    prev: Option<Option<&'a EdgeSample>>,
}

/// Samples reused from edge to edge, so combining allocates nothing once
/// they have grown.
#[derive(Default)]
struct Scratch {
    /// Last values by reporter, when an edge has several parts for it.
    last: [EdgeSample; 2],
    /// Window increases by reporter.
    window: [EdgeSample; 2],
    increase: EdgeSample,
}

impl Scratch {
    /// An edge's parts (in scrape order) → its deduped last values and
    /// window increase in `out`; whether there is a window.
    fn combine<'p>(
        &mut self,
        parts: impl Iterator<Item = &'p Part<'p>> + Clone,
        out: &mut Deduped,
    ) -> bool {
        // Per reporter: no part yet, one (borrowed), or several (merged in `last`).
        let mut last: [Option<Option<&EdgeSample>>; 2] = [None, None];
        let mut has_window = [false; 2];
        // The callee's parts first: when its window has a latency histogram,
        // the caller's is never used (`dedupe_into`), so it is not read.
        let dest = Reporter::Destination as usize;
        for p in parts
            .clone()
            .filter(|p| p.reporter == Reporter::Destination)
        {
            self.add(p, true, &mut last, &mut has_window);
        }
        let w = &self.window[dest];
        let source_latency = !has_window[dest] || (w.latency.is_empty() && w.latency_count == 0.0);
        for p in parts.filter(|p| p.reporter == Reporter::Source) {
            self.add(p, source_latency, &mut last, &mut has_window);
        }
        let pick = |i: usize| match last[i] {
            None => None,
            Some(Some(one)) => Some(one),
            Some(None) => Some(&self.last[i]),
        };
        dedupe_into(pick(0), pick(1), &mut out.last);
        let win = |i: usize| has_window[i].then_some(&self.window[i]);
        dedupe_into(win(0), win(1), &mut out.window);
        has_window[0] || has_window[1]
    }

    /// Add one part to its reporter's last values and window increase
    /// (without the latency histogram unless `latency`).
    fn add<'p>(
        &mut self,
        p: &'p Part<'p>,
        latency: bool,
        last: &mut [Option<Option<&'p EdgeSample>>; 2],
        has_window: &mut [bool; 2],
    ) {
        let i = p.reporter as usize;
        match last[i] {
            None => last[i] = Some(Some(p.last)),
            Some(Some(one)) => {
                self.last[i].copy_from(one);
                self.last[i].merge(p.last);
                last[i] = Some(None);
            }
            Some(None) => self.last[i].merge(p.last),
        }
        let Some(prev) = p.prev else {
            return;
        };
        let into = if has_window[i] {
            &mut self.increase
        } else {
            &mut self.window[i]
        };
        if latency {
            p.last.increase_into(prev, into);
        } else {
            p.last.increase_without_latency_into(prev, into);
        }
        if has_window[i] {
            self.window[i].merge(&self.increase);
        }
        has_window[i] = true;
    }
}

/// The first and last rounds, the window in seconds and its end.
fn window_of<'a>(rounds: &[&'a Round]) -> (Option<&'a Round>, Option<&'a Round>, f64, i64) {
    let last = rounds.iter().copied().max_by_key(|r| r.at_ms);
    let first = rounds.iter().copied().min_by_key(|r| r.at_ms);
    let (window_ms, first) = match (first, last) {
        (Some(f), Some(l)) if l.at_ms > f.at_ms => (l.at_ms - f.at_ms, Some(f)),
        _ => (0, None),
    };
    (
        first,
        last,
        window_ms as f64 / 1000.0,
        last.map_or(0, |r| r.at_ms),
    )
}

/// Every pod by name: its last scrape with the first-round one when it was
/// scraped in both, or its first-round scrape when it is missing from the last.
///
/// Both rounds hold their pods sorted by name, so they are walked side by
/// side (one name comparison per pod, no map built).
fn pods<'a>(
    first: Option<&'a Round>,
    last: Option<&'a Round>,
) -> impl Iterator<Item = (&'a PodScrape, Option<&'a PodScrape>)> {
    let mut f = first.into_iter().flat_map(|r| r.scrapes.iter()).peekable();
    let mut l = last.into_iter().flat_map(|r| r.scrapes.iter()).peekable();
    std::iter::from_fn(move || {
        let order = match (l.peek(), f.peek()) {
            (None, None) => return None,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((a, _)), Some((b, _))) => a.cmp(b),
        };
        Some(match order {
            // Only in the last round.
            std::cmp::Ordering::Less => (l.next()?.1, None),
            // Only in the first round: its scrape alone.
            std::cmp::Ordering::Greater => (f.next()?.1, None),
            std::cmp::Ordering::Equal => (l.next()?.1, Some(f.next()?.1)),
        })
    })
}

fn note_mesh(meshes: &mut Vec<MeshKind>, mesh: Option<MeshKind>) {
    if let Some(m) = mesh
        && !meshes.contains(&m)
    {
        meshes.push(m);
    }
}

/// Per-edge inputs → the snapshot's nodes and edges.
pub fn build_from_inputs(inv: &Inventory, inputs: EdgeInputs, ctx: BuildContext) -> Snapshot {
    let mut asm = Assembly::new(ctx.namespaces.clone(), inputs.window_s);
    for (node, h) in &inputs.hints {
        asm.nodes.hint(*node, h);
    }
    // Each kept edge's accumulated samples, by slot.
    let mut accs: Vec<&EdgeAcc> = Vec::new();
    for (key, acc) in &inputs.edges {
        let s = asm.nodes.intern(key.source);
        let t = asm.nodes.intern(key.target);
        if asm.keeps(s, t) {
            asm.push_key((s, t, key.protocol));
            accs.push(acc);
        }
    }
    let (nodes, edges) = asm.finish(inv, &ByAcc(accs));
    finish(
        inv,
        nodes,
        edges,
        inputs.meshes,
        inputs.window_s,
        inputs.at_ms,
        ctx,
    )
}

/// Edges accumulated by reporter ([`EdgeInputs`]), by slot.
struct ByAcc<'a>(Vec<&'a EdgeAcc>);

impl Combine for ByAcc<'_> {
    type Scratch = ();

    fn combine(&self, slot: u32, _: &mut (), out: &mut Deduped) -> bool {
        let acc = self.0[slot as usize];
        let (s, d) = by_reporter(&acc.last);
        dedupe_into(s, d, &mut out.last);
        if acc.has_window {
            let (s, d) = by_reporter(&acc.window);
            dedupe_into(s, d, &mut out.window);
        }
        acc.has_window
    }
}

fn finish(
    inv: &Inventory,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    meshes: Vec<MeshKind>,
    window_s: f64,
    at_ms: i64,
    ctx: BuildContext,
) -> Snapshot {
    let mesh_kind = match inv.mesh_kind() {
        MeshKind::None => match meshes.as_slice() {
            [] => MeshKind::None,
            [one] => *one,
            _ => MeshKind::Mixed,
        },
        k => k,
    };
    Snapshot {
        schema: SNAPSHOT_SCHEMA.to_string(),
        collected_at: rfc3339(at_ms),
        window_seconds: window_s,
        cluster: ctx.cluster,
        mesh: MeshInfo {
            kind: mesh_kind,
            version: inv.mesh_version(),
        },
        sources: ctx.sources,
        nodes,
        edges,
        declared: Declared::default(),
        gaps: Vec::new(),
        rule_diffs: Vec::new(),
        mtls_summary: None,
    }
}
