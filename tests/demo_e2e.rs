#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The demo end to end: the simulated cluster served on loopback, meshscope
//! collecting through kube-rs and the pod proxy, exactly as against a real
//! cluster.

mod common;

use std::time::Duration;

use meshscope::collect::session::{LiveOptions, live_snapshot};
use meshscope::model::snapshot::{MtlsStatus, Snapshot, SourceState};
use meshscope::sim::apiserver::{ApiServerConfig, ForbiddenRule, PodProxyResponse};
use meshscope::sim::demo::{Demo, SimProxy};
use meshscope::sim::scenario::{Scenario, Target, load};

fn opts(demo: &Demo, window_ms: u64) -> LiveOptions {
    demo.live_options(Duration::from_millis(window_ms))
}

async fn collect(
    scenario: &str,
    window_ms: u64,
) -> (
    Snapshot,
    Scenario,
    Vec<meshscope::sim::apiserver::LoggedRequest>,
) {
    let sc = load(scenario).unwrap();
    let demo = Demo::start(sc.clone(), None, ApiServerConfig::default())
        .await
        .unwrap();
    let kubeconfig = demo.kubeconfig.clone();
    let snap = tokio::time::timeout(
        Duration::from_secs(60),
        live_snapshot(&opts(&demo, window_ms)),
    )
    .await
    .expect("collection within 60 s")
    .unwrap();
    let log = demo.api().unwrap().request_log();
    demo.shutdown().await;
    assert!(!kubeconfig.exists(), "temporary kubeconfig removed");
    common::assert_valid_snapshot(&serde_json::to_value(&snap).unwrap());
    (snap, sc, log)
}

/// Configured rps per (caller workload id, backend workload id).
fn configured(sc: &Scenario) -> Vec<(String, String, f64)> {
    let mut out = Vec::new();
    for e in &sc.edges {
        if !matches!(e.target, Target::Service { .. }) {
            continue;
        }
        let from = &sc.workloads[e.from];
        for b in &e.backends {
            let to = &sc.workloads[b.workload];
            out.push((
                format!("{}/{}", from.namespace, from.name),
                format!("{}/{}", to.namespace, to.name),
                e.rps * b.share,
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookinfo_rates_match_the_configured_traffic() {
    let (snap, sc, log) = collect("bookinfo", 2000).await;
    assert_eq!(snap.mesh.kind, meshscope::model::snapshot::MeshKind::Istio);
    let scrapes = snap.sources.iter().find(|s| s.name == "scrapes").unwrap();
    assert_eq!(scrapes.status, SourceState::Ok, "{scrapes:?}");
    let mut checked = 0;
    for (from, to, rps) in configured(&sc) {
        let caller_meshed = sc
            .workloads
            .iter()
            .any(|w| format!("{}/{}", w.namespace, w.name) == from && w.meshed);
        let src = if caller_meshed {
            from.clone()
        } else {
            "unknown".to_string()
        };
        let Some(e) = snap.edge(&src, &to) else {
            assert!(
                rps < 0.05,
                "missing edge {src} -> {to} ({rps} rps configured)"
            );
            continue;
        };
        let got = e.signals.rps.unwrap();
        if rps >= 1.0 {
            assert!(
                (got - rps).abs() / rps < 0.10,
                "{src} -> {to}: {got} rps observed, {rps} configured"
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} edges checked");
    // The planted imperfections show in the signals.
    let failing = snap
        .edges
        .iter()
        .filter(|e| e.signals.success_rate.is_some_and(|s| s < 0.95))
        .count();
    assert!(failing >= 1, "a failing edge");
    assert!(
        snap.edges.iter().any(|e| e.mtls.status == MtlsStatus::None),
        "a plaintext edge"
    );
    // Read-only: only GETs, never a Secret.
    assert!(
        log.iter().all(|r| r.method == "GET"),
        "{:?}",
        log.iter().find(|r| r.method != "GET")
    );
    assert!(log.iter().all(|r| !r.path.contains("secrets")));
    assert!(
        log.iter()
            .any(|r| r.path.contains("/proxy/stats/prometheus"))
    );
    // Envoy sidecars are asked for only the stats the dialects read.
    let expected = meshscope::mesh::stat_filter::envoy_stat_query();
    assert!(
        log.iter()
            .filter(|r| r.path.contains("/proxy/stats/prometheus"))
            .all(|r| r.query == expected),
        "{:?}",
        log.iter()
            .find(|r| r.path.contains("/proxy/") && r.query != expected)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emojivoto_over_linkerd() {
    let (snap, _sc, _) = collect("emojivoto", 2000).await;
    assert_eq!(
        snap.mesh.kind,
        meshscope::model::snapshot::MeshKind::Linkerd
    );
    let web_voting = snap
        .edges
        .iter()
        .find(|e| e.source.ends_with("/web") && e.target.ends_with("/voting"))
        .expect("web -> voting");
    assert_eq!(
        web_voting.protocol,
        meshscope::model::snapshot::Protocol::Grpc
    );
    assert!(
        web_voting.signals.success_rate.unwrap() < 1.0,
        "voting fails a share of requests"
    );
    assert!(
        snap.edges
            .iter()
            .any(|e| e.source.ends_with("/vote-bot") && e.target.ends_with("/web"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_pods_and_forbidden_resources_degrade_but_do_not_stop_collection() {
    let sc = load("bookinfo").unwrap();
    let pods: Vec<(String, String)> = sc
        .pods
        .iter()
        .filter(|p| sc.workloads[p.workload].meshed)
        .map(|p| (p.namespace.clone(), p.name.clone()))
        .collect();
    let (timeout, err500, garbage) = (pods[0].clone(), pods[1].clone(), pods[2].clone());
    let (t2, e2, g2) = (timeout.clone(), err500.clone(), garbage.clone());
    let config = ApiServerConfig {
        forbidden: vec![ForbiddenRule::resource("statefulsets")],
        proxy_hang: Duration::from_secs(5),
        ..ApiServerConfig::default()
    };
    let demo = Demo::start_with_proxy(sc, None, config, move |s| {
        SimProxy::new(s)
            .with_fault(&t2.0, &t2.1, PodProxyResponse::Timeout)
            .with_fault(
                &e2.0,
                &e2.1,
                PodProxyResponse::Status(500, "internal error\n".into()),
            )
            .with_fault(
                &g2.0,
                &g2.1,
                PodProxyResponse::Garbage("\u{0}\u{1}garbage{{{ not metrics\n".into()),
            )
    })
    .await
    .unwrap();
    let mut o = opts(&demo, 500);
    o.scrape.timeout = Duration::from_millis(800);
    let snap = tokio::time::timeout(Duration::from_secs(30), live_snapshot(&o))
        .await
        .unwrap()
        .unwrap();
    demo.shutdown().await;
    let find = |needle: &str| {
        snap.sources
            .iter()
            .find(|s| s.name.contains(needle))
            .unwrap_or_else(|| panic!("no source {needle}: {:#?}", snap.sources))
    };
    let t = find(&timeout.1);
    assert_eq!(t.status, SourceState::Unavailable);
    assert!(t.detail.as_deref().unwrap().contains("no answer"), "{t:?}");
    assert!(find(&err500.1).detail.as_deref().unwrap().contains("500"));
    assert!(
        find(&garbage.1)
            .detail
            .as_deref()
            .unwrap()
            .contains("not a metrics exposition")
    );
    let rbac = find("statefulsets");
    assert_eq!(rbac.status, SourceState::Degraded);
    assert!(
        rbac.detail.as_deref().unwrap().contains("'list'"),
        "{rbac:?}"
    );
    assert_eq!(find("scrapes").status, SourceState::Degraded);
    // The healthy pods still give edges.
    assert!(snap.edges.len() >= 4, "{}", snap.edges.len());
}

/// `--mesh`: the Istio demo read as Envoy (every Istio sidecar is an Envoy,
/// so every proxy is still scraped, and the snapshot says `envoy`), and as
/// Linkerd (no Istio pod is selected at all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mesh_override_picks_the_proxies() {
    use meshscope::model::snapshot::MeshKind;
    let sc = load("bookinfo").unwrap();
    let demo = Demo::start(sc, None, ApiServerConfig::default())
        .await
        .unwrap();
    let run = |mesh: Option<MeshKind>| {
        let mut o = opts(&demo, 500);
        o.scrape.mesh = mesh;
        async move {
            tokio::time::timeout(Duration::from_secs(60), live_snapshot(&o))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let auto = run(None).await;
    let envoy = run(Some(MeshKind::Envoy)).await;
    let linkerd = run(Some(MeshKind::Linkerd)).await;
    demo.shutdown().await;
    let scraped = |s: &Snapshot| {
        s.sources
            .iter()
            .find(|x| x.name == "scrapes")
            .and_then(|x| x.detail.clone())
            .unwrap()
    };
    assert_eq!(auto.mesh.kind, MeshKind::Istio);
    assert_eq!(envoy.mesh.kind, MeshKind::Envoy);
    assert_eq!(scraped(&auto), scraped(&envoy));
    assert!(
        scraped(&auto).contains("7 of 7 proxies"),
        "{}",
        scraped(&auto)
    );
    // Envoy's cluster stats are the client side only: no unknown callers.
    assert!(!envoy.edges.is_empty(), "the Envoy dialect read no edge");
    assert!(envoy.edges.iter().all(|e| e.source != "unknown"));
    assert_eq!(linkerd.mesh.kind, MeshKind::Linkerd);
    assert!(linkerd.edges.is_empty());
    assert!(
        scraped(&linkerd).contains("0 of 0 proxies"),
        "{}",
        scraped(&linkerd)
    );
}
