//! The TUI's continuous collector (src/collect/feed.rs) against the
//! simulated API server: a mesh rule edited while the feed runs shows up in
//! the next snapshots' `rule_diffs` as a watch change with its YAML diff;
//! `--declared` reaches the analysis.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apiserver_common;

use std::sync::Arc;
use std::time::Duration;

use apiserver_common::{TEST_BOUND, install_crypto, start};
use kube::{Client, Config};
use meshscope::collect::feed::{FeedOptions, run};
use meshscope::collect::kube::{Connected, Scope};
use meshscope::collect::live::ScrapeOptions;
use meshscope::model::snapshot::{Change, DiffSource, Snapshot};
use meshscope::sim::apiserver::ApiServerConfig;
use meshscope::tui::{Command, Progress};
use serde_json::json;
use tokio::sync::{mpsc, watch};

fn vs(weight: u32) -> serde_json::Value {
    json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
        "metadata": {"name": "reviews-route", "namespace": "bookinfo"},
        "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": weight}]}]}})
}

/// Wait (bounded) for a published snapshot that satisfies `cond`.
async fn next_matching(
    rx: &mut watch::Receiver<Arc<Snapshot>>,
    what: &str,
    cond: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = rx.borrow_and_update().clone();
        if cond(&s) {
            return s;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "timed out waiting for {what}");
        let _ = tokio::time::timeout(left, rx.changed()).await;
    }
}

#[tokio::test]
async fn rule_edits_during_the_session_are_attached_as_watch_diffs() {
    tokio::time::timeout(TEST_BOUND, async {
        let server = start(ApiServerConfig::default()).await.unwrap();
        install_crypto();
        let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();
        let conn = Connected {
            client,
            context: None,
            server: server.url(),
            scope: Scope::All,
        };
        let empty = Snapshot::empty("1970-01-01T00:00:00Z".into(), 0.0);
        let (snap_tx, mut snap_rx) = watch::channel(Arc::new(empty));
        let (prog_tx, _prog_rx) = watch::channel(Progress::default());
        let (cmd_tx, cmd_rx) = mpsc::channel(4);
        let feed = FeedOptions {
            interval: Duration::from_millis(150),
            scrape: ScrapeOptions::default(),
            declared: None,
            traces: None,
        };
        let task = tokio::spawn(run(conn, feed, snap_tx, prog_tx, cmd_rx));

        // The first snapshots: the rules as listed are not changes.
        let first = next_matching(&mut snap_rx, "a first snapshot", |s| {
            s.sources.iter().any(|x| x.name == "kube")
        })
        .await;
        assert!(
            first
                .rule_diffs
                .iter()
                .all(|d| d.source != Some(DiffSource::Watch)),
            "{:?}",
            first.rule_diffs
        );

        // An edit while the feed runs.
        server.store().apply(vs(80)).unwrap();
        let s = next_matching(&mut snap_rx, "the watch diff", |s| {
            s.rule_diffs
                .iter()
                .any(|d| d.source == Some(DiffSource::Watch))
        })
        .await;
        let d: Vec<_> = s
            .rule_diffs
            .iter()
            .filter(|d| d.source == Some(DiffSource::Watch))
            .collect();
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].change, Change::Modified);
        assert!(d[0].resource.contains("reviews-route"), "{}", d[0].resource);
        assert!(
            d[0].diff.contains("+") && d[0].diff.contains("weight: 80"),
            "{}",
            d[0].diff
        );
        assert!(d[0].at.is_some());

        // A second edit: both changes are listed, newest first, and the
        // first is not recorded twice by later rounds.
        server.store().apply(vs(50)).unwrap();
        let s = next_matching(&mut snap_rx, "the second watch diff", |s| {
            s.rule_diffs
                .iter()
                .filter(|d| d.source == Some(DiffSource::Watch))
                .count()
                >= 2
        })
        .await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let later = snap_rx.borrow().clone();
        for snap in [&s, &later] {
            let w: Vec<_> = snap
                .rule_diffs
                .iter()
                .filter(|d| d.source == Some(DiffSource::Watch))
                .collect();
            assert_eq!(w.len(), 2, "{w:?}");
            assert!(w[0].diff.contains("weight: 50"), "{}", w[0].diff);
        }
        cmd_tx.send(Command::Quit).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the feed stops on Quit")
            .unwrap();
        server.shutdown().await;
    })
    .await
    .unwrap();
}
