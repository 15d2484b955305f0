//! Prints every view of the fixture (run with --nocapture to look at them).
#![allow(clippy::unwrap_used)]
mod tui_support;

use meshscope::app::action::Action;
use tui_support::*;

#[test]
#[ignore = "for looking at screens by eye"]
fn peek() {
    for (w, h) in [(80, 24), (160, 48)] {
        for a in [
            Action::ShowGraph,
            Action::ShowWorkloads,
            Action::ShowEdges,
            Action::ShowGaps,
            Action::ShowRules,
        ] {
            let mut app = app(bookinfo());
            app.update(a);
            println!("{}", render(&app, w, h).backend());
        }
        let mut app = app(bookinfo());
        app.update(Action::Select);
        println!("{}", render(&app, w, h).backend());
        let mut app = tui_support::app(bookinfo());
        app.update(Action::ShowEdges);
        app.update(Action::Bottom);
        app.update(Action::Select);
        println!("{}", render(&app, w, h).backend());
        let mut app = tui_support::app(bookinfo());
        app.update(Action::Help);
        println!("{}", render(&app, w, h).backend());
    }
}

#[test]
#[ignore = "for looking at screens by eye"]
fn peek_synthetic() {
    let snap = std::sync::Arc::new(meshscope::view::graph::synthetic::snapshot(36));
    let app = tui_support::app(snap);
    println!("{}", render(&app, 160, 48).backend());
    let snap = std::sync::Arc::new(meshscope::view::graph::synthetic::snapshot(300));
    let app = tui_support::app(snap);
    println!("{}", render(&app, 120, 30).backend());
}

#[test]
#[ignore = "for looking at screens by eye"]
fn peek_cycle() {
    let mut snap = (*bookinfo()).clone();
    let mut back = snap.edges[6].clone();
    std::mem::swap(&mut back.source, &mut back.target);
    snap.edges.push(back);
    let app = tui_support::app(std::sync::Arc::new(snap));
    println!("{}", render(&app, 160, 30).backend());
}

#[test]
#[ignore = "for looking at screens by eye"]
fn peek_hood_cycle() {
    let snap = std::sync::Arc::new(meshscope::view::graph::synthetic::snapshot(300));
    let mut app = tui_support::app(snap);
    let focus = app.ui.focus.clone().unwrap();
    let laid = app.laid();
    for h in &laid.layout.hops {
        let e = &laid.graph.edges[h.edge];
        println!(
            "{} -> {} arrow {:?} from {} to {} yf {} yt {}",
            laid.graph.nodes[e.source].label,
            laid.graph.nodes[e.target].label,
            h.arrow,
            h.from,
            h.to,
            h.y_from,
            h.y_to
        );
    }
    let _ = &mut app;
    println!("{focus}");
}
