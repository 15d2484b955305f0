//! Property tests: any snapshot, any key sequence, any terminal size: no panic,
//! and the layout keeps its invariants.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use meshscope::app::App;
use meshscope::app::action::Action;
use meshscope::app::keymap::Keymap;
use meshscope::model::snapshot::*;
use meshscope::view::graph::layout::{LayoutParams, layout};
use meshscope::view::theme::Theme;
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn snapshot(n: usize, edges: &[(usize, usize, u8)]) -> Snapshot {
    let mut s = Snapshot::empty("2026-11-21T00:00:00Z".into(), 10.0);
    for i in 0..n {
        s.nodes.push(Node {
            id: format!("ns{}/w{i}", i % 3),
            kind: NodeKind::Workload,
            namespace: Some(format!("ns{}", i % 3)),
            name: format!("w{i}"),
            app: Some(format!("a{}", i / 2)),
            version: None,
            meshed: i % 2 == 0,
            signals: None,
        });
    }
    for &(a, b, k) in edges {
        // Ids past `n` are edges to nodes the snapshot does not list.
        let id = |x: usize| {
            if x < n {
                s.nodes[x].id.clone()
            } else {
                format!("ext:host{x}")
            }
        };
        s.edges.push(Edge {
            source: id(a),
            target: id(b),
            service: None,
            protocol: Protocol::Http,
            signals: Signals {
                rps: (k % 3 != 0).then_some(f64::from(k)),
                success_rate: (k % 4 != 0).then_some(f64::from(k % 101) / 100.0),
                ..Signals::default()
            },
            mtls: Mtls {
                status: [
                    MtlsStatus::Full,
                    MtlsStatus::Partial,
                    MtlsStatus::None,
                    MtlsStatus::Unknown,
                ][usize::from(k % 4)],
                fraction: None,
                declared: None,
                verdict: None,
            },
            evidence: vec![],
            declared: None,
            responses: vec![],
            identities: None,
            traces: Vec::new(),
        });
    }
    s.gaps.push(Gap {
        kind: "failing_edge".into(),
        severity: Severity::Warning,
        subject: "nowhere -> nothing".into(),
        message: "x".into(),
    });
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_snapshot_keys_and_size_never_panic(
        n in 0usize..60,
        edges in prop::collection::vec((0usize..64, 0usize..64, any::<u8>()), 0..120),
        actions in prop::collection::vec(0usize..Action::ALL.len(), 0..40),
        w in 0u16..200,
        h in 0u16..60,
    ) {
        let snap = Arc::new(snapshot(n, &edges));
        let mut app = App::new(snap, Theme::default(), Keymap::default(), None);
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        for a in actions {
            let _ = app.update(Action::ALL[a]);
            term.draw(|f| f.render_widget(&app.screen(), f.area())).unwrap();
        }
        term.draw(|f| f.render_widget(&app.screen(), f.area())).unwrap();
    }

    #[test]
    fn every_edge_is_drawn_once_with_one_label(
        n in 1usize..30,
        edges in prop::collection::vec((0usize..30, 0usize..30), 0..80),
    ) {
        let edges: Vec<(usize, usize)> = edges.into_iter().map(|(a, b)| (a % n, b % n)).collect();
        let l = layout(&vec![8; n], &edges, LayoutParams::default());
        for (i, &(a, b)) in edges.iter().enumerate() {
            let hops: Vec<_> = l.hops.iter().filter(|h| h.edge == i).collect();
            if a == b {
                prop_assert!(hops.is_empty());
            } else {
                prop_assert!(!hops.is_empty());
                prop_assert_eq!(hops.iter().filter(|h| h.label_x.is_some()).count(), 1);
                for h in hops {
                    prop_assert_eq!(l.elems[h.from].layer + 1, l.elems[h.to].layer);
                    prop_assert!(h.y_from < l.height.max(1) + 1 && h.y_to < l.height.max(1) + 1);
                }
            }
        }
    }
}
