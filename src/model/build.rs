//! Scrape rounds + inventory → the snapshot's nodes and edges.
//!
//! Rates use the first and the last round. A pod scraped in both rounds
//! contributes the increase of each of its series (a series absent in the
//! first round started after it, so it counts from zero); a pod scraped only
//! in the last round contributes topology but no rates. A pod missing from
//! the last round keeps its first-round topology.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::model::ids::NodeRef;
use crate::model::inventory::Inventory;
use crate::model::sample::{EdgeKey, EdgeSample, NodeHint, Reporter, ScrapeData};
use crate::model::signals::{dedupe_reporters, mtls, responses, signals};
use crate::model::snapshot::{
    Declared, Edge, Evidence, Identities, MeshInfo, MeshKind, Node, NodeKind, SNAPSHOT_SCHEMA,
    Snapshot, SourceStatus,
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
    pub hints: FxHashMap<NodeRef, NodeHint>,
    pub meshes: Vec<MeshKind>,
    /// Seconds the window samples cover (0 = no window).
    pub window_s: f64,
    /// Unix milliseconds of the end of the window.
    pub at_ms: i64,
}

impl EdgeInputs {
    /// Fold one source's scrape data in (hints and mesh).
    pub fn note(&mut self, mesh: Option<MeshKind>, data: &ScrapeData) {
        if let Some(m) = mesh
            && !self.meshes.contains(&m)
        {
            self.meshes.push(m);
        }
        for (node, h) in &data.nodes {
            self.hints.entry(node.clone()).or_default().merge(h);
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
pub fn build_snapshot(inv: &Inventory, rounds: &[Round], ctx: BuildContext) -> Snapshot {
    build_from_inputs(inv, inputs_from_rounds(rounds), ctx)
}

/// Rounds → per-edge window increases and last values.
pub fn inputs_from_rounds(rounds: &[Round]) -> EdgeInputs {
    let last = rounds.iter().max_by_key(|r| r.at_ms);
    let first = rounds.iter().min_by_key(|r| r.at_ms);
    let (window_ms, first) = match (first, last) {
        (Some(f), Some(l)) if l.at_ms > f.at_ms => (l.at_ms - f.at_ms, Some(f)),
        _ => (0, None),
    };
    let mut inputs = EdgeInputs {
        window_s: window_ms as f64 / 1000.0,
        at_ms: last.map_or(0, |r| r.at_ms),
        ..EdgeInputs::default()
    };
    let mut pods: BTreeMap<&str, (&PodScrape, Option<&PodScrape>)> = BTreeMap::new();
    if let Some(l) = last {
        for (pod, scrape) in &l.scrapes {
            let prev = first.and_then(|f| f.scrapes.get(pod));
            pods.insert(pod, (scrape, prev));
        }
    }
    if let Some(f) = first {
        for (pod, scrape) in &f.scrapes {
            pods.entry(pod).or_insert((scrape, None));
        }
    }
    let last_pods = last.map(|l| &l.scrapes);
    for (pod, (scrape, prev)) in pods {
        inputs.note(scrape.mesh, &scrape.data);
        // Only a pod present in both rounds has a window.
        let in_last = last_pods.is_some_and(|l| l.contains_key(pod));
        // Look the previous round up by reference: no key clones.
        let prev_index: Option<FxHashMap<(&EdgeKey, Reporter), &EdgeSample>> =
            prev.filter(|_| in_last).map(|p| {
                p.data
                    .edges
                    .iter()
                    .map(|((k, r), s)| ((k, *r), s))
                    .collect()
            });
        for ((key, reporter), sample) in &scrape.data.edges {
            let acc = match inputs.edges.get_mut(key) {
                Some(acc) => acc,
                None => inputs.edges.entry(key.clone()).or_default(),
            };
            acc.add_last(*reporter, sample);
            if let Some(index) = &prev_index {
                let inc = sample.increase(index.get(&(key, *reporter)).copied());
                acc.add_window_owned(*reporter, inc);
            }
        }
    }
    inputs
}

/// Per-edge inputs → the snapshot's nodes and edges.
pub fn build_from_inputs(inv: &Inventory, inputs: EdgeInputs, ctx: BuildContext) -> Snapshot {
    let window_s = inputs.window_s;
    let collected_at = rfc3339(inputs.at_ms);
    let edges = inputs.edges;
    let hints = inputs.hints;
    let meshes = inputs.meshes;

    let in_scope = |n: &NodeRef| match (&ctx.namespaces, n.namespace()) {
        (None, _) => true,
        (Some(nss), Some(ns)) => nss.iter().any(|x| x == ns),
        (Some(_), None) => false,
    };

    let mut out_edges: Vec<Edge> = Vec::new();
    let mut inbound: FxHashMap<NodeRef, (EdgeSample, EdgeSample, bool)> = FxHashMap::default();
    let mut node_refs: BTreeMap<String, NodeRef> = BTreeMap::new();
    for (key, acc) in &edges {
        if !(in_scope(&key.source) || in_scope(&key.target)) {
            continue;
        }
        let last_s = dedupe_reporters(&acc.last);
        let win_s = acc.has_window.then(|| dedupe_reporters(&acc.window));
        let sig = signals(win_s.as_ref().map(|w| (w, window_s)), &last_s);
        let inb = inbound.entry(key.target.clone()).or_default();
        inb.1.merge(&last_s);
        if let Some(w) = &win_s {
            inb.0.merge(w);
            inb.2 = true;
        }
        node_refs.insert(key.source.id(), key.source.clone());
        node_refs.insert(key.target.id(), key.target.clone());
        let identities = (last_s.source_identity.is_some() || last_s.target_identity.is_some())
            .then(|| Identities {
                source: last_s.source_identity.clone(),
                target: last_s.target_identity.clone(),
            });
        out_edges.push(Edge {
            source: key.source.id(),
            target: key.target.id(),
            service: last_s.service.clone(),
            protocol: key.protocol,
            signals: sig,
            mtls: mtls(win_s.as_ref(), &last_s),
            evidence: vec![Evidence::Metrics],
            declared: None,
            responses: responses(win_s.as_ref(), &last_s),
            identities,
            traces: Vec::new(),
        });
    }
    out_edges.sort_by(|a, b| {
        (&a.source, &a.target, a.protocol).cmp(&(&b.source, &b.target, b.protocol))
    });

    for w in inv.workloads.values() {
        let r = NodeRef::workload(&w.namespace, &w.name);
        if in_scope(&r) {
            node_refs.insert(r.id(), r);
        }
    }
    let nodes: Vec<Node> = node_refs
        .into_values()
        .map(|r| {
            let id = r.id();
            let hint = hints.get(&r);
            let wl = inv.workload(&id);
            let kind = r.kind();
            let sig = inbound
                .get(&r)
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
        collected_at,
        window_seconds: window_s,
        cluster: ctx.cluster,
        mesh: MeshInfo {
            kind: mesh_kind,
            version: inv.mesh_version(),
        },
        sources: ctx.sources,
        nodes,
        edges: out_edges,
        declared: Declared::default(),
        gaps: Vec::new(),
        rule_diffs: Vec::new(),
    }
}
