//! The drawn graph and its layout, cached while the topology is unchanged.

use crate::model::snapshot::Snapshot;
use crate::view::fmt::width;
use crate::view::graph::layout::{Layout, LayoutParams, layout};
use crate::view::graph::model::{Collapse, ViewGraph};

/// Above this many drawn nodes the graph shows the focused neighbourhood only.
pub const AUTO_NEIGHBOURHOOD_NODES: usize = 40;
/// Longest node label drawn in a box.
pub const MAX_LABEL: usize = 24;

/// A graph with its layout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Laid {
    pub graph: ViewGraph,
    pub layout: Layout,
}

impl Laid {
    /// Lays out `graph`.
    pub fn new(graph: ViewGraph) -> Laid {
        let widths: Vec<u32> = graph
            .nodes
            .iter()
            .map(|n| width(&n.label).min(MAX_LABEL) as u32 + 4)
            .collect();
        let edges: Vec<(usize, usize)> = graph.edges.iter().map(|e| (e.source, e.target)).collect();
        let layout = layout(&widths, &edges, LayoutParams::default());
        Laid { graph, layout }
    }
}

/// The full graph, and the focused neighbourhood when it is in use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphCache {
    pub full: Laid,
    key: Option<(u64, Collapse)>,
    /// (centre node id, its neighbourhood).
    pub hood: Option<(String, Laid)>,
}

impl GraphCache {
    /// Rebuilds the drawn graph; the layout is recomputed only when the topology changed.
    pub fn update(&mut self, snap: &Snapshot, collapse: Collapse) {
        let graph = ViewGraph::build(snap, collapse);
        let key = (graph.topology_key(), collapse);
        if self.key == Some(key) {
            self.full.graph = graph;
        } else {
            // A graph this large is only ever drawn as neighbourhoods: skip its full layout.
            self.full = if graph.nodes.len() > AUTO_NEIGHBOURHOOD_NODES {
                Laid {
                    graph,
                    layout: Layout::default(),
                }
            } else {
                Laid::new(graph)
            };
            self.key = Some(key);
            if let Some((_, laid)) = &mut self.hood {
                // Force a relayout of the neighbourhood below.
                laid.graph = ViewGraph::default();
            }
        }
        let centre = self.hood.as_ref().map(|(c, _)| c.clone());
        if let Some(centre) = centre {
            self.set_hood(&centre);
        }
    }

    /// Whether a graph of this size is drawn as a neighbourhood regardless of the user's choice.
    pub fn too_large(&self) -> bool {
        self.full.graph.nodes.len() > AUTO_NEIGHBOURHOOD_NODES
    }

    /// Computes the neighbourhood of `centre` (kept if already current).
    pub fn set_hood(&mut self, centre: &str) {
        let Some(&i) = self.full.graph.index.get(centre) else {
            self.hood = None;
            return;
        };
        let g = self.full.graph.neighbourhood(i);
        match &mut self.hood {
            Some((c, laid)) if c == centre && laid.graph.topology_key() == g.topology_key() => {
                laid.graph = g;
            }
            _ => self.hood = Some((centre.to_string(), Laid::new(g))),
        }
    }

    /// The default focus: the node with the most edges (ties: the first).
    pub fn default_focus(&self) -> Option<String> {
        let g = &self.full.graph;
        let mut degree = vec![0usize; g.nodes.len()];
        for e in &g.edges {
            degree[e.source] += 1;
            degree[e.target] += 1;
        }
        let best = (0..g.nodes.len()).max_by(|&a, &b| degree[a].cmp(&degree[b]).then(b.cmp(&a)))?;
        Some(g.nodes[best].id.clone())
    }
}
