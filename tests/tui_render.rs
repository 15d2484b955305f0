//! Every view of the Bookinfo fixture at 80×24 and 160×48 (insta snapshots), and
//! every view at tiny sizes without panicking.
#![allow(clippy::unwrap_used)]
mod tui_support;

use meshscope::app::App;
use meshscope::app::action::Action;
use tui_support::*;

/// The screens to check: a name and the actions that reach it from the start.
fn screens() -> Vec<(&'static str, Vec<Action>)> {
    vec![
        ("graph", vec![]),
        ("graph_p95", vec![Action::ToggleLabel]),
        ("graph_by_app", vec![Action::Collapse]),
        (
            "graph_by_namespace",
            vec![Action::Collapse, Action::Collapse],
        ),
        (
            "graph_neighbourhood",
            vec![Action::Neighbourhood, Action::Right],
        ),
        ("workloads", vec![Action::ShowWorkloads]),
        (
            "workloads_by_rps",
            vec![
                Action::ShowWorkloads,
                Action::SortNext,
                Action::SortNext,
                Action::SortNext,
                Action::SortReverse,
            ],
        ),
        ("edges", vec![Action::ShowEdges]),
        ("gaps", vec![Action::ShowGaps]),
        ("rules", vec![Action::ShowRules]),
        ("detail_node", vec![Action::Select]),
        (
            "detail_edge",
            vec![
                Action::ShowEdges,
                Action::Down,
                Action::Down,
                Action::Down,
                Action::Select,
            ],
        ),
        ("gap_jump", vec![Action::ShowGaps, Action::Select]),
        ("help", vec![Action::Help]),
    ]
}

fn reach(actions: &[Action]) -> App {
    let mut app = app(bookinfo());
    for a in actions {
        app.update(*a);
    }
    app
}

#[test]
fn every_view_at_80x24_and_160x48() {
    for (name, actions) in screens() {
        let app = reach(&actions);
        for (w, h) in [(80, 24), (160, 48)] {
            let term = render(&app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), term.backend());
        }
    }
}

#[test]
fn every_view_survives_tiny_terminals() {
    for (_, actions) in screens() {
        let app = reach(&actions);
        for (w, h) in [(0, 0), (1, 1), (20, 5), (5, 20), (2, 3)] {
            render(&app, w, h);
        }
    }
}

#[test]
fn empty_snapshot_says_nothing_is_known_yet() {
    let snap = std::sync::Arc::new(meshscope::model::snapshot::Snapshot::empty(
        "2026-11-21T00:00:00Z".into(),
        0.0,
    ));
    for (view, needle) in [
        (Action::ShowGraph, "No workloads seen yet"),
        (Action::ShowWorkloads, "No workloads seen yet"),
        (Action::ShowGaps, "No gaps known yet"),
        (Action::ShowRules, "no routes known yet"),
    ] {
        let mut a = app(snap.clone());
        a.update(view);
        let screen = render(&a, 100, 20).backend().to_string();
        assert!(
            screen.contains(needle),
            "{view:?} should say '{needle}':\n{screen}"
        );
        render(&a, 1, 1);
        render(&a, 0, 0);
    }
}

#[test]
fn failing_edge_and_mtls_marks_are_drawn() {
    let screen = render(&app(bookinfo()), 160, 48).backend().to_string();
    // The failing edge shows its success rate; full mTLS shows a lock, none a warning.
    assert!(screen.contains("82.0%"), "{screen}");
    assert!(screen.contains('🔒'));
    assert!(screen.contains('⚠'));
    assert!(
        screen.contains("✖ reviews-v3"),
        "failing node glyph:\n{screen}"
    );
}

#[test]
fn detail_shows_sparklines_once_history_builds_up() {
    let mut a = app(bookinfo());
    for (i, rps) in [5.0, 9.0, 14.0].iter().enumerate() {
        let mut next = (*bookinfo()).clone();
        next.collected_at = format!("2026-11-21T13:3{}:00Z", i + 1);
        for e in &mut next.edges {
            e.signals.rps = Some(*rps);
        }
        a.set_snapshot(std::sync::Arc::new(next));
    }
    a.update(Action::ShowEdges);
    a.update(Action::Select);
    let screen = render(&a, 100, 30).backend().to_string();
    // rps of the first edge over four rounds: 20.1, 5, 9, 14.
    assert!(screen.contains("█▁▃▅"), "{screen}");
    assert_eq!(a.history.rounds(), 4);
    // The same snapshot twice is recorded once.
    let same = a.snapshot.clone();
    a.set_snapshot(same);
    assert_eq!(a.history.rounds(), 4);
}

#[test]
fn status_bar_shows_progress_pause_and_sources() {
    let mut a = app(bookinfo());
    a.ui.progress.total = 1000;
    a.ui.progress.scraped = 812;
    a.ui.progress.paused = true;
    let screen = render(&a, 160, 10).backend().to_string();
    let status = screen.lines().last().unwrap();
    for needle in [
        "PAUSED",
        "ctx kind-bookinfo",
        "ns all",
        "istio 1.24.2",
        "3s ago",
        "scraped 812/1000",
        "traces degraded",
    ] {
        assert!(status.contains(needle), "'{needle}' missing from {status}");
    }
}
