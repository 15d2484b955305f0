//! The layered layout: cycles, layering, no overlapping boxes, caching, large graphs.
#![allow(clippy::unwrap_used)]
mod tui_support;

use std::sync::Arc;

use meshscope::app::App;
use meshscope::app::action::Action;
use meshscope::app::graph_cache::GraphCache;
use meshscope::app::keymap::Keymap;
use meshscope::view::graph::layout::{Arrow, LayoutParams, layout};
use meshscope::view::graph::model::{Collapse, ViewGraph};
use meshscope::view::graph::synthetic;
use meshscope::view::theme::Theme;

fn boxes_overlap(l: &meshscope::view::graph::layout::Layout) -> Option<(usize, usize)> {
    let real: Vec<_> = l
        .elems
        .iter()
        .enumerate()
        .filter(|(_, e)| e.node.is_some())
        .collect();
    for (i, a) in &real {
        for (j, b) in &real {
            if i < j && a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h {
                return Some((*i, *j));
            }
        }
    }
    None
}

#[test]
fn chain_goes_left_to_right() {
    let l = layout(&[5, 5, 5], &[(0, 1), (1, 2)], LayoutParams::default());
    let layers: Vec<usize> = (0..3).map(|n| l.elems[l.node_elem[n]].layer).collect();
    assert_eq!(layers, [0, 1, 2]);
    assert!(l.elems[0].x < l.elems[1].x && l.elems[1].x < l.elems[2].x);
    assert_eq!(l.reversed_edges, 0);
    assert!(l.hops.iter().all(|h| h.arrow == Arrow::Right));
}

#[test]
fn cycles_are_broken_and_drawn_backwards() {
    // a → b → c → a, plus a self-loop on b (not drawn).
    let l = layout(
        &[5, 5, 5],
        &[(0, 1), (1, 2), (2, 0), (1, 1)],
        LayoutParams::default(),
    );
    assert_eq!(l.reversed_edges, 1);
    assert!(
        l.hops.iter().any(|h| h.arrow == Arrow::Left),
        "the back edge points left"
    );
    assert!(
        l.hops.iter().all(|h| h.edge != 3),
        "self-loops are not drawn"
    );
    assert!(boxes_overlap(&l).is_none());
}

#[test]
fn long_edges_pass_through_dummies() {
    // 0 → 1 → 2 → 3 and 0 → 3 (spans three layers).
    let l = layout(
        &[5; 4],
        &[(0, 1), (1, 2), (2, 3), (0, 3)],
        LayoutParams::default(),
    );
    let hops_of_long: Vec<_> = l.hops.iter().filter(|h| h.edge == 3).collect();
    assert_eq!(hops_of_long.len(), 3);
    assert_eq!(
        hops_of_long.iter().filter(|h| h.label_x.is_some()).count(),
        1,
        "one label per edge"
    );
    assert_eq!(l.elems.iter().filter(|e| e.node.is_none()).count(), 2);
}

#[test]
fn bookinfo_layers_follow_call_depth() {
    let snap = tui_support::bookinfo();
    let g = ViewGraph::build(&snap, Collapse::None);
    let mut cache = GraphCache::default();
    cache.update(&snap, Collapse::None);
    let l = &cache.full.layout;
    let layer = |id: &str| l.elems[l.node_elem[g.index[id]]].layer;
    assert_eq!(layer("unknown"), 0);
    assert_eq!(layer("istio-system/istio-ingressgateway"), 1);
    assert_eq!(layer("default/productpage-v1"), 2);
    assert_eq!(layer("default/reviews-v2"), 3);
    assert_eq!(layer("default/ratings-v1"), 4);
    assert!(boxes_overlap(l).is_none());
}

#[test]
fn collapse_by_app_folds_versions() {
    let snap = tui_support::bookinfo();
    let g = ViewGraph::build(&snap, Collapse::App);
    let reviews = &g.nodes[g.index["app:default/reviews"]];
    assert_eq!(reviews.members.len(), 3);
    // 6.7 + 6.8 + 6.6 rps, success weighted by rps.
    assert!((reviews.signals.rps.unwrap() - 20.1).abs() < 1e-9);
    let ok = reviews.signals.success_rate.unwrap();
    assert!((ok - (6.7 + 6.8 + 6.6 * 0.82) / 20.1).abs() < 1e-9, "{ok}");
    let ns = ViewGraph::build(&snap, Collapse::Namespace);
    assert_eq!(ns.nodes.len(), 3, "default, istio-system, unknown");
}

#[test]
fn layout_is_cached_while_the_topology_is_unchanged() {
    let snap = tui_support::bookinfo();
    let mut cache = GraphCache::default();
    cache.update(&snap, Collapse::None);
    let before = cache.full.layout.clone();
    let mut next = (*snap).clone();
    next.edges[0].signals.rps = Some(999.0);
    cache.update(&next, Collapse::None);
    assert_eq!(cache.full.layout, before);
    assert_eq!(
        cache.full.graph.edges[0].signals.rps,
        Some(999.0),
        "signals refreshed"
    );
    next.edges.pop();
    cache.update(&next, Collapse::None);
    assert_ne!(cache.full.layout, before, "a topology change relays out");
}

#[test]
fn large_graphs_show_a_neighbourhood_and_focus_moves_along_edges() {
    let snap = Arc::new(synthetic::snapshot(2000));
    let start = snap.nodes[0].id.clone();
    let mut app = App::new(
        snap,
        Theme::default(),
        Keymap::default(),
        Some(start.clone()),
    );
    assert!(app.hood_active());
    let focus = app.ui.focus.clone().unwrap();
    assert_eq!(focus, start);
    let g = &app.graph.full.graph;
    let f = g.index[&focus];
    let callee_ids: Vec<String> = g
        .edges
        .iter()
        .filter(|e| e.source == f)
        .map(|e| g.nodes[e.target].id.clone())
        .collect();
    assert!(app.laid().graph.nodes.len() < 60, "neighbourhood is small");
    app.update(Action::Right);
    let now = app.ui.focus.clone().unwrap();
    assert!(callee_ids.contains(&now), "{now} is a callee of {focus}");
    app.update(Action::Left);
    let back = app.ui.focus.clone().unwrap();
    let g = &app.graph.full.graph;
    let n = g.index[&now];
    assert!(
        g.edges
            .iter()
            .any(|e| e.target == n && g.nodes[e.source].id == back)
    );
    let screen = tui_support::render(&app, 80, 24).backend().to_string();
    assert!(screen.contains("neighbourhood"), "{screen}");
}

#[test]
fn synthetic_layout_has_no_overlaps_and_every_edge_drawn() {
    let snap = synthetic::snapshot(300);
    let laid = meshscope::app::graph_cache::Laid::new(ViewGraph::build(&snap, Collapse::None));
    assert!(boxes_overlap(&laid.layout).is_none());
    let drawn: std::collections::HashSet<usize> = laid.layout.hops.iter().map(|h| h.edge).collect();
    let expected = laid
        .graph
        .edges
        .iter()
        .filter(|e| e.source != e.target)
        .count();
    assert_eq!(drawn.len(), expected);
    assert_eq!(
        laid.layout
            .hops
            .iter()
            .filter(|h| h.label_x.is_some())
            .count(),
        expected
    );
}
