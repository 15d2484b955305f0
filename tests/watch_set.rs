//! meshscope's own watches (src/collect/watch) against the simulated API
//! server: first list, live changes, rule history, a dropped connection, a
//! 410 Gone after compaction, and 403s on list and on watch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apiserver_common;

use std::time::Duration;

use apiserver_common::{TEST_BOUND, install_crypto, pod, start};
use kube::{Client, Config};
use meshscope::collect::kube::Scope;
use meshscope::collect::watch::WatchSet;
use meshscope::model::snapshot::SourceState;
use meshscope::sim::apiserver::{ApiServer, ApiServerConfig, ForbiddenRule};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

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

fn client(server: &ApiServer) -> Client {
    install_crypto();
    Client::try_from(Config::new(server.url().parse().unwrap())).unwrap()
}

fn pods(w: &WatchSet) -> Vec<String> {
    let (inv, _) = w.inventory();
    let mut v: Vec<String> = inv
        .pods
        .iter()
        .map(|p| format!("{}/{}", p.namespace, p.name))
        .collect();
    v.sort();
    v
}

fn vs(weight: u32) -> serde_json::Value {
    json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
        "metadata": {"name": "reviews-route", "namespace": "bookinfo"},
        "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": weight}]}]}})
}

#[tokio::test]
async fn watches_follow_changes_and_survive_drops_and_410() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let server = start(ApiServerConfig::default()).await?;
        let w = WatchSet::start(&client(&server), &Scope::All).await;
        assert!(
            w.wait_synced(Duration::from_secs(10)).await,
            "{:?}",
            w.sources()
        );
        assert_eq!(pods(&w).len(), 3);
        let (inv, sources) = w.inventory();
        assert_eq!(sources[0].name, "kube");
        assert_eq!(sources[0].status, SourceState::Ok, "{sources:?}");
        assert!(
            sources[0]
                .detail
                .as_deref()
                .unwrap()
                .contains("1 mesh rule kinds"),
            "{sources:?}"
        );
        assert!(
            inv.other_objects
                .iter()
                .any(|o| o["kind"] == "VirtualService"),
            "mesh rules are in the inventory"
        );
        assert!(w.rule_events().is_empty(), "the first list is not a change");

        // A live change: a new pod and an edited rule.
        let g0 = w.generation();
        server.store().apply(pod(
            "bookinfo",
            "ratings-v1-1-aaaaa",
            "ratings",
            "ratings-v1-1",
        ))?;
        server.store().apply(vs(80))?;
        eventually("the new pod", || {
            pods(&w).contains(&"bookinfo/ratings-v1-1-aaaaa".to_string())
        })
        .await?;
        eventually("the rule change", || w.rule_events().len() == 1).await?;
        assert!(w.generation() > g0);
        let ev = &w.rule_events()[0];
        assert_eq!(ev.resource, "VirtualService/bookinfo/reviews-route");
        assert!(ev.before.is_some() && ev.after.is_some());
        assert_eq!(
            ev.after.as_ref().unwrap()["spec"]["http"][0]["route"][0]["weight"],
            80
        );

        // The server drops every watch: the watches resume, nothing is lost.
        server.drop_watches();
        assert!(
            server
                .store()
                .delete("v1", "Pod", Some("bookinfo"), "ratings-v1-1-aaaaa")
        );
        eventually("the deletion after a dropped watch", || pods(&w).len() == 3).await?;

        // Compaction then a dropped watch: the resume gets 410 Gone, the
        // watch re-lists, and the restart is reported.
        server.store().compact();
        server.drop_watches();
        server.store().apply(vs(50))?;
        eventually("the change after 410", || w.rule_events().len() == 2).await?;
        let seqs: Vec<u64> = w.rule_events().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [0, 1]);
        assert_eq!(w.rule_events_after(Some(0)).len(), 1);
        assert!(w.rule_events_after(Some(1)).is_empty());
        eventually("the restart in sources", || {
            w.sources()[0]
                .detail
                .as_deref()
                .is_some_and(|d| !d.contains(" 0 watch restarts"))
        })
        .await?;
        let summary = w.sources()[0].detail.clone().unwrap();
        assert!(summary.contains("410"), "{summary}");
        assert_eq!(pods(&w).len(), 3);
        server.shutdown().await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
    .await??;
    Ok(())
}

#[tokio::test]
async fn a_refused_list_or_watch_degrades_only_that_resource() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let config = ApiServerConfig {
            forbidden: vec![
                ForbiddenRule::resource("virtualservices"),
                ForbiddenRule {
                    resource: "services".into(),
                    namespace: None,
                    verb: Some("watch".into()),
                },
            ],
            ..ApiServerConfig::default()
        };
        let server = start(config).await?;
        let w = WatchSet::start(&client(&server), &Scope::All).await;
        assert!(!w.wait_synced(Duration::from_secs(10)).await);
        // Pods still arrive.
        eventually("pods", || pods(&w).len() == 3).await?;
        eventually("both refusals", || {
            let s = w.sources();
            s.iter().any(|x| x.name == "kube: virtualservices")
                && s.iter().any(|x| x.name == "kube: services")
        })
        .await?;
        let s = w.sources();
        assert_eq!(s[0].status, SourceState::Degraded);
        let vs = s
            .iter()
            .find(|x| x.name == "kube: virtualservices")
            .unwrap();
        assert!(
            vs.detail
                .as_deref()
                .unwrap()
                .contains("verb 'list' on 'virtualservices'"),
            "{vs:?}"
        );
        let svc = s.iter().find(|x| x.name == "kube: services").unwrap();
        assert!(
            svc.detail
                .as_deref()
                .unwrap()
                .contains("verb 'watch' on 'services'"),
            "{svc:?}"
        );
        assert!(!s.iter().any(|x| x.name == "kube: pods"), "{s:?}");
        server.shutdown().await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
    .await??;
    Ok(())
}

#[tokio::test]
async fn a_namespace_scope_watches_only_that_namespace() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let server = start(ApiServerConfig::default()).await?;
        let w = WatchSet::start(&client(&server), &Scope::Namespace("bookinfo".into())).await;
        assert!(
            w.wait_synced(Duration::from_secs(10)).await,
            "{:?}",
            w.sources()
        );
        assert_eq!(
            pods(&w),
            vec![
                "bookinfo/productpage-v1-6b7f-q9z8w",
                "bookinfo/reviews-v1-5d4c-x7k2p"
            ]
        );
        let (inv, _) = w.inventory();
        assert_eq!(inv.namespaces.len(), 1, "{:?}", inv.namespaces);
        // Only GETs went out, and never for Secrets.
        for r in server.request_log() {
            assert_eq!(r.method, "GET", "{r:?}");
            assert!(!r.path.contains("secrets"), "{r:?}");
        }
        server.shutdown().await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
    .await??;
    Ok(())
}
