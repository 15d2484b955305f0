//! kube-rs watchers and reflectors against the simulated API server:
//! initial list, live changes, dropped watches, compaction (410 Gone),
//! streaming lists.

mod apiserver_common;

use std::time::Duration;

use apiserver_common::{TEST_BOUND, install_crypto, pod, start};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client, Config};
use meshscope::sim::apiserver::{ApiServer, ApiServerConfig};
use tokio::sync::mpsc;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Poll `cond` every 20 ms for up to 10 s.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("timed out waiting for {what}"))
}

/// Start a reflector over all pods; watcher errors are forwarded on the channel.
type Reflecting = (
    Store<Pod>,
    mpsc::UnboundedReceiver<String>,
    tokio::task::JoinHandle<()>,
);

fn reflect(
    server: &ApiServer,
    config: watcher::Config,
) -> Result<Reflecting, Box<dyn std::error::Error>> {
    install_crypto();
    let client = Client::try_from(Config::new(server.url().parse()?))?;
    let (reader, writer) = reflector::store::<Pod>();
    let (err_tx, err_rx) = mpsc::unbounded_channel();
    let stream = reflector::reflector(writer, watcher(Api::<Pod>::all(client), config));
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(ev) = stream.next().await {
            if let Err(e) = ev {
                let _ = err_tx.send(e.to_string());
            }
        }
    });
    Ok((reader, err_rx, task))
}

fn has(reader: &Store<Pod>, ns: &str, name: &str) -> bool {
    reader.get(&ObjectRef::new(name).within(ns)).is_some()
}

fn count(server: &ApiServer, pred: impl Fn(&str) -> bool) -> usize {
    server
        .request_log()
        .iter()
        .filter(|r| r.path == "/api/v1/pods" && pred(&r.query))
        .count()
}

#[tokio::test]
async fn reflector_follows_changes_drops_and_compaction() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        // Long bookmark interval: the watcher's resourceVersion only moves with events.
        let config = ApiServerConfig {
            bookmark_interval: Duration::from_secs(3600),
            ..ApiServerConfig::default()
        };
        let server = start(config).await?;
        let (reader, mut errors, task) = reflect(&server, watcher::Config::default())?;
        tokio::time::timeout(Duration::from_secs(10), reader.wait_until_ready()).await??;
        assert_eq!(reader.state().len(), 3);

        // Live apply and delete.
        server
            .store()
            .apply(pod("bookinfo", "ratings-v1-1", "ratings", "ratings-v1"))?;
        eventually("ADDED ratings-v1-1", || {
            has(&reader, "bookinfo", "ratings-v1-1")
        })
        .await?;
        let mut relabelled = pod("bookinfo", "ratings-v1-1", "ratings", "ratings-v1");
        relabelled["metadata"]["labels"]["version"] = "v9".into();
        server.store().apply(relabelled)?;
        eventually("MODIFIED ratings-v1-1", || {
            reader
                .get(&ObjectRef::new("ratings-v1-1").within("bookinfo"))
                .is_some_and(|p| {
                    p.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("version"))
                        .map(String::as_str)
                        == Some("v9")
                })
        })
        .await?;
        assert!(
            server
                .store()
                .delete("v1", "Pod", Some("bookinfo"), "reviews-v1-5d4c-x7k2p")
        );
        eventually("DELETED reviews", || {
            !has(&reader, "bookinfo", "reviews-v1-5d4c-x7k2p")
        })
        .await?;
        let watches_before = count(&server, |q| q.contains("watch=true"));
        let lists_before = count(&server, |q| !q.contains("watch=true"));
        assert_eq!((watches_before, lists_before), (1, 1));

        // Dropped watch: the watcher re-watches from its resourceVersion, no relist.
        server.drop_watches();
        eventually("a second watch", || {
            count(&server, |q| q.contains("watch=true")) == 2
        })
        .await?;
        server
            .store()
            .apply(pod("bookinfo", "ratings-v1-2", "ratings", "ratings-v1"))?;
        eventually("pod after re-watch", || {
            has(&reader, "bookinfo", "ratings-v1-2")
        })
        .await?;
        assert_eq!(
            count(&server, |q| !q.contains("watch=true")),
            1,
            "a dropped watch must not relist"
        );

        // Changes made while no watch is open are replayed on re-watch.
        server.drop_watches();
        server.store().apply(pod(
            "istio-system",
            "istiod-7c9d-fghij",
            "istiod",
            "istiod-7c9d",
        ))?;
        eventually("pod applied between watches", || {
            has(&reader, "istio-system", "istiod-7c9d-fghij")
        })
        .await?;

        // Compaction: the resumed watch gets 410 Gone and the watcher relists.
        server.compact();
        server.drop_watches();
        eventually("a relist after 410", || {
            count(&server, |q| !q.contains("watch=true")) == 2
        })
        .await?;
        let err = tokio::time::timeout(Duration::from_secs(5), errors.recv())
            .await?
            .ok_or("no watcher error")?;
        assert!(
            err.contains("410") || err.contains("too old resource version"),
            "{err}"
        );
        server
            .store()
            .apply(pod("bookinfo", "ratings-v1-3", "ratings", "ratings-v1"))?;
        eventually("pod after relist", || {
            has(&reader, "bookinfo", "ratings-v1-3")
        })
        .await?;
        assert_eq!(reader.state().len(), 6);

        task.abort();
        server.shutdown().await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn streaming_list_watcher_and_bookmarks() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let config = ApiServerConfig {
            bookmark_interval: Duration::from_millis(100),
            ..ApiServerConfig::default()
        };
        let server = start(config).await?;
        let (reader, _errors, task) =
            reflect(&server, watcher::Config::default().streaming_lists())?;
        tokio::time::timeout(Duration::from_secs(10), reader.wait_until_ready()).await??;
        assert_eq!(reader.state().len(), 3);
        let log = server.request_log();
        assert!(
            log.iter().all(|r| r.query.contains("watch=true")),
            "streaming lists must not list: {log:?}"
        );
        assert!(
            log.iter()
                .any(|r| r.query.contains("sendInitialEvents=true")),
            "{log:?}"
        );

        // Bookmarks move the watcher on; a later drop resumes without a relist.
        tokio::time::sleep(Duration::from_millis(300)).await;
        server
            .store()
            .apply(pod("bookinfo", "details-v1-1", "details", "details-v1"))?;
        eventually("ADDED details", || has(&reader, "bookinfo", "details-v1-1")).await?;
        server.drop_watches();
        server
            .store()
            .delete("v1", "Pod", Some("bookinfo"), "details-v1-1");
        eventually("DELETED details", || {
            !has(&reader, "bookinfo", "details-v1-1")
        })
        .await?;
        let initial = server
            .request_log()
            .iter()
            .filter(|r| r.query.contains("sendInitialEvents=true"))
            .count();
        assert_eq!(
            initial, 1,
            "a dropped watch must resume, not restart the streaming list"
        );

        task.abort();
        server.shutdown().await;
        Ok(())
    })
    .await?
}
