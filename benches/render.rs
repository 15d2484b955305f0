//! Rendering and layout cost on a generated 2,000-node mesh.
//! Targets: a full Graph frame < 10 ms; the layout < 100 ms.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use meshscope::app::App;
use meshscope::app::graph_cache::Laid;
use meshscope::app::keymap::Keymap;
use meshscope::view::graph::model::{Collapse, ViewGraph};
use meshscope::view::graph::synthetic;
use meshscope::view::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

fn benches(c: &mut Criterion) {
    let snap = Arc::new(synthetic::snapshot(2000));
    let graph = ViewGraph::build(&snap, Collapse::None);
    eprintln!(
        "2,000-node mesh: {} nodes, {} edges",
        graph.nodes.len(),
        graph.edges.len()
    );

    c.bench_function("layout_2000_nodes", |b| {
        b.iter(|| Laid::new(black_box(graph.clone())))
    });
    c.bench_function("build_and_layout_2000_nodes", |b| {
        b.iter(|| Laid::new(ViewGraph::build(black_box(&snap), Collapse::None)))
    });

    // A full frame of the Graph view, as the user sees it (neighbourhood of the focus).
    let app = App::new(snap.clone(), Theme::default(), Keymap::default(), None);
    for (w, h) in [(160u16, 48u16), (80, 24)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        c.bench_function(&format!("graph_frame_2000_nodes_{w}x{h}"), |b| {
            b.iter(|| {
                term.draw(|f| f.render_widget(&app.screen(), f.area()))
                    .unwrap();
            })
        });
    }

    // The whole 2,000-node drawing (no neighbourhood), scrolled to the focus.
    let whole = Laid::new(graph.clone());
    let mut full = app.screen();
    full.ctx.laid = &whole;
    full.ctx.hood = false;
    let area = Rect::new(0, 0, 160, 48);
    c.bench_function("graph_frame_2000_nodes_whole_graph_160x48", |b| {
        b.iter(|| {
            let mut buf = Buffer::empty(area);
            (&full).render(area, &mut buf);
            black_box(buf)
        })
    });
    let l = &whole.layout;
    eprintln!(
        "whole layout: {} layers, {} elements (incl. dummies), {} hops, {}x{} cells, {} reversed edges",
        l.layers.len(),
        l.elems.len(),
        l.hops.len(),
        l.width,
        l.height,
        l.reversed_edges
    );
}

criterion_group!(render, benches);
criterion_main!(render);
