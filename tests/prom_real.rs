#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Prometheus source against a real Prometheus (Debian's `prometheus`)
//! scraping the simulated bookinfo mesh through the API server's pod proxy,
//! compared with meshscope's own direct scrapes of the same traffic.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meshscope::collect::kube::{KubeOptions, connect};
use meshscope::collect::live::ScrapeOptions;
use meshscope::collect::prom_api::{PromClient, prometheus_collect};
use meshscope::collect::session::{LiveOptions, inventory, live_snapshot};
use meshscope::model::build::{BuildContext, build_from_inputs};
use meshscope::model::snapshot::{Edge, Snapshot, SourceState};
use meshscope::sim::apiserver::ApiServerConfig;
use meshscope::sim::cluster::metrics_port;
use meshscope::sim::demo::Demo;
use meshscope::sim::traffic::ISTIO_BUCKETS;

/// One comparison: a scenario, Prometheus's scrape interval, the window.
#[derive(Clone, Copy)]
struct Case {
    scenario: &'static str,
    interval_s: u64,
    window: Duration,
    /// The whole test's time limit.
    limit: Duration,
    /// Compare with direct scrapes (else only measure).
    compare: bool,
}

/// One Prometheus at a time: the machine is small and the rates compared
/// depend on scrapes being on time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A running Prometheus: killed and its data dir removed when dropped, also
/// when the test fails.
struct PromGuard {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
}

impl Drop for PromGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PromGuard {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }
}

fn prometheus_installed() -> bool {
    Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One static target per meshed pod: the API server's pod proxy path.
fn config(demo: &Demo, interval_s: u64) -> String {
    let host = demo.url().trim_start_matches("http://").to_string();
    let sc = &demo.scenario;
    let out = String::from(
        "global:\n  scrape_interval: {interval_s}s\n  scrape_timeout: {interval_s}s\n  evaluation_interval: {interval_s}s\nscrape_configs:\n  - job_name: mesh-proxies\n    static_configs:\n",
    );
    let mut out = out.replace("{interval_s}", &interval_s.to_string());
    for p in sc.pods.iter().filter(|p| sc.workloads[p.workload].meshed) {
        let (port, path) = metrics_port(sc, p);
        let mpath = format!(
            "/api/v1/namespaces/{}/pods/{}:{port}/proxy{path}",
            p.namespace, p.name
        );
        out.push_str(&format!(
            "      - targets: [{host:?}]\n        labels: {{namespace: {:?}, pod: {:?}, __metrics_path__: {mpath:?}}}\n",
            p.namespace, p.name
        ));
    }
    out
}

fn start_prometheus(demo: &Demo, interval_s: u64) -> PromGuard {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(&cfg, config(demo, interval_s)).unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    PromGuard {
        child,
        dir,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn wait_ready(p: &mut PromGuard) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = p.child.try_wait().unwrap() {
            panic!("prometheus exited with {st}:\n{}", p.log());
        }
        if let Ok(r) = http.get(format!("{}/-/ready", p.url)).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus not ready in 30 s:\n{}",
            p.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Wait until every target has been scraped successfully for more than
/// the last `WINDOW`.
async fn wait_samples(p: &PromGuard, targets: usize, case: Case) {
    let client = PromClient::new(&p.url).unwrap();
    // Prometheus extrapolates an increase only half an interval beyond the
    // first sample: the series must cover the whole window, so wait for
    // samples older than it (one per interval over WINDOW + 2 intervals).
    let w = case.window.as_secs() + 2 * case.interval_s;
    let q = format!(
        "count(min_over_time(up[{w}s]) == 1 and count_over_time(up[{w}s]) >= {})",
        w / case.interval_s - 1
    );
    let deadline = Instant::now() + case.window + Duration::from_secs(20 + 2 * case.interval_s);
    loop {
        let now = jiff::Timestamp::now().as_millisecond();
        let r = client.query(&q, now).await.unwrap();
        if r.series
            .first()
            .is_some_and(|s| s.value as usize >= if case.compare { targets } else { targets / 2 })
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "targets not up for {:?}: {r:?}\n{}",
            case.window,
            p.log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn bucket(v: f64) -> usize {
    ISTIO_BUCKETS
        .iter()
        .position(|b| v <= *b)
        .unwrap_or(ISTIO_BUCKETS.len())
}

fn by_key(s: &Snapshot) -> BTreeMap<String, &Edge> {
    s.edges
        .iter()
        .map(|e| {
            (
                format!("{} -> {} ({:?})", e.source, e.target, e.protocol),
                e,
            )
        })
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>, rel: f64, what: &str, key: &str) {
    match (a, b) {
        (Some(a), Some(b)) => {
            let tol = rel * a.abs().max(b.abs()).max(1e-9);
            assert!(
                (a - b).abs() <= tol,
                "{key}: {what} prometheus {a} vs direct {b}"
            );
        }
        (None, None) => {}
        _ => panic!("{key}: {what} prometheus {a:?} vs direct {b:?}"),
    }
}

async fn run(case: Case) {
    let sc = meshscope::sim::scenario::load(case.scenario).unwrap();
    let demo = Demo::start(sc, None, ApiServerConfig::default())
        .await
        .unwrap();
    let targets = demo
        .scenario
        .pods
        .iter()
        .filter(|p| demo.scenario.workloads[p.workload].meshed)
        .count();
    let mut prom = start_prometheus(&demo, case.interval_s);
    wait_ready(&mut prom).await;
    let kube = KubeOptions {
        kubeconfig: Some(demo.kubeconfig.clone()),
        all_namespaces: true,
        ..KubeOptions::default()
    };
    // The direct scrapes cover the same seconds Prometheus accumulates.
    let live = LiveOptions {
        kube: kube.clone(),
        window: case.window,
        scrape: ScrapeOptions::default(),
        progress: false,
        declared: None,
    };
    let direct = if case.compare {
        let (direct, ()) = tokio::join!(live_snapshot(&live), wait_samples(&prom, targets, case));
        Some(direct.unwrap())
    } else {
        wait_samples(&prom, targets, case).await;
        None
    };
    let conn = connect(&kube).await.unwrap();
    let (inv, _) = inventory(&conn).await;
    if !case.compare {
        // Measure the queries without the simulated proxies competing for
        // the CPU: stop them (Prometheus keeps the window's samples).
        demo.shutdown().await;
        let c = prometheus_collect(&prom.url, case.window, None, &inv)
            .await
            .unwrap();
        let t = &c.timings;
        eprintln!(
            "{} via prometheus (proxies stopped): {} queries in {:?} wall (HTTP summed {:?}, our JSON parsing summed {:?}); our mapping {:?}; {:?}",
            case.scenario, t.queries, t.query_wall, t.http_sum, t.parse_sum, t.mapping, c.stats
        );
        assert!(c.stats.edges > 0, "{:?}", c.stats);
        return;
    }

    let t = Instant::now();
    let c = prometheus_collect(&prom.url, case.window, None, &inv)
        .await
        .unwrap();
    let snap = build_from_inputs(&inv, c.inputs.clone(), BuildContext::default());
    let total = t.elapsed();
    let t = &c.timings;
    eprintln!(
        "{} via prometheus: {} queries in {:?} wall (HTTP round trips summed {:?}, our JSON parsing summed {:?}); our mapping {:?}; total with build {:?}; {:?}",
        case.scenario, t.queries, t.query_wall, t.http_sum, t.parse_sum, t.mapping, total, c.stats
    );
    assert_eq!(c.sources.len(), 1);
    assert_eq!(c.sources[0].status, SourceState::Ok, "{:?}", c.sources);
    let direct = direct.unwrap();
    assert_eq!(c.stats.targets, targets, "every meshed pod is a target");
    assert_eq!(snap.window_seconds, case.window.as_secs_f64());

    let (pe, de) = (by_key(&snap), by_key(&direct));
    assert!(
        de.len() >= 5,
        "the direct snapshot has edges: {:?}",
        de.keys()
    );
    assert_eq!(
        pe.keys().collect::<Vec<_>>(),
        de.keys().collect::<Vec<_>>(),
        "same edges"
    );
    let mut compared = 0;
    let mut worst = 0.0f64;
    for (k, p) in &pe {
        let d = de[k];
        // The direct path is analysed (declared mode, verdict); compare what was observed.
        assert_eq!(
            (p.mtls.status, p.mtls.fraction),
            (d.mtls.status, d.mtls.fraction),
            "{k}: mtls"
        );
        assert_eq!(p.service, d.service, "{k}: service");
        let (ps, ds) = (&p.signals, &d.signals);
        close(ps.rps, ds.rps, 0.05, "rps", k);
        if let (Some(a), Some(b)) = (ps.rps, ds.rps)
            && b > 0.0
        {
            worst = worst.max((a - b).abs() / b);
        }
        close(ps.success_rate, ds.success_rate, 0.05, "success rate", k);
        for (what, a, b) in [
            ("p50", ps.p50_ms, ds.p50_ms),
            ("p95", ps.p95_ms, ds.p95_ms),
            ("p99", ps.p99_ms, ds.p99_ms),
        ] {
            match (a, b) {
                (Some(a), Some(b)) => assert!(
                    bucket(a).abs_diff(bucket(b)) <= 1,
                    "{k}: {what} prometheus {a} vs direct {b}"
                ),
                (None, None) => {}
                _ => panic!("{k}: {what} prometheus {a:?} vs direct {b:?}"),
            }
        }
        if ps.rps.is_some_and(|r| r > 0.0) {
            compared += 1;
        }
    }
    assert!(compared >= 5, "rates compared on {compared} edges");
    eprintln!(
        "{}: {compared} edges with rates, largest rps difference {:.2}%",
        case.scenario,
        worst * 100.0
    );
    // Nodes: the same set, meshed flags equal.
    let nodes = |s: &Snapshot| -> Vec<(String, bool)> {
        s.nodes.iter().map(|n| (n.id.clone(), n.meshed)).collect()
    };
    assert_eq!(nodes(&snap), nodes(&direct));
    drop(prom);
    demo.shutdown().await;
}

async fn check(case: Case) {
    if !prometheus_installed() {
        println!("skipped: prometheus not installed");
        return;
    }
    meshscope::collect::kube::install_crypto_provider();
    let _one = ONE_AT_A_TIME.lock().await;
    tokio::time::timeout(case.limit, run(case))
        .await
        .unwrap_or_else(|_| panic!("{}: finished within {:?}", case.scenario, case.limit));
}

/// Istio: bookinfo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_source_matches_direct_scrapes_istio() {
    check(Case {
        scenario: "bookinfo",
        interval_s: 1,
        window: Duration::from_secs(8),
        limit: Duration::from_secs(90),
        compare: true,
    })
    .await;
}

/// Linkerd: emojivoto (inbound and outbound series, a gauge).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_source_matches_direct_scrapes_linkerd() {
    check(Case {
        scenario: "emojivoto",
        interval_s: 1,
        window: Duration::from_secs(8),
        limit: Duration::from_secs(90),
        compare: true,
    })
    .await;
}

/// The measurement at scale (`cargo test --test prom_real -- --ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: a measurement of scale:200"]
async fn prometheus_source_scale_200() {
    check(Case {
        scenario: "scale:200",
        interval_s: 5,
        window: Duration::from_secs(20),
        limit: Duration::from_secs(240),
        compare: false,
    })
    .await;
}

/// `--prometheus auto`: no Prometheus in the cluster is exit 4 naming where
/// it looked; once `istio-system/prometheus` exists, it is found and read
/// through a kube-rs port-forward (the simulated API server forwards the
/// pod's port to the real Prometheus).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_found_in_the_cluster_through_a_port_forward() {
    use meshscope::collect::session::prometheus_in_cluster_snapshot;
    use serde_json::json;
    if !prometheus_installed() {
        println!("skipped: prometheus not installed");
        return;
    }
    meshscope::collect::kube::install_crypto_provider();
    let _one = ONE_AT_A_TIME.lock().await;
    let case = Case {
        scenario: "bookinfo",
        interval_s: 1,
        window: Duration::from_secs(4),
        limit: Duration::from_secs(90),
        compare: false,
    };
    tokio::time::timeout(case.limit, async {
        let sc = meshscope::sim::scenario::load(case.scenario).unwrap();
        let demo = Demo::start(sc, None, ApiServerConfig::default())
            .await
            .unwrap();
        let opts = demo.live_options(case.window);
        let err = prometheus_in_cluster_snapshot(&opts, None).await.err().unwrap();
        assert_eq!(err.exit_code(), 4, "{err}");
        assert!(err.to_string().contains("istio-system/prometheus"), "{err}");

        let targets = demo
            .scenario
            .pods
            .iter()
            .filter(|p| demo.scenario.workloads[p.workload].meshed)
            .count();
        let mut prom = start_prometheus(&demo, case.interval_s);
        wait_ready(&mut prom).await;
        let api = demo.api().unwrap();
        api.store()
            .apply(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "prometheus", "namespace": "istio-system", "labels": {"app": "prometheus"}},
                "spec": {"selector": {"app": "prometheus"}, "ports": [{"name": "http", "port": 9090, "targetPort": "http"}]}}))
            .unwrap();
        api.store()
            .apply(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "prometheus-7d9f8-x2x4q", "namespace": "istio-system", "labels": {"app": "prometheus"}},
                "spec": {"containers": [{"name": "prometheus-server", "image": "prom/prometheus:v3.1.0",
                    "ports": [{"name": "http", "containerPort": 9090}]}]},
                "status": {"phase": "Running", "podIP": "10.0.9.9"}}))
            .unwrap();
        let addr: std::net::SocketAddr = prom.url.trim_start_matches("http://").parse().unwrap();
        api.add_port_forward("istio-system", "prometheus-7d9f8-x2x4q", 9090, addr);
        wait_samples(&prom, targets, case).await;

        let snap = prometheus_in_cluster_snapshot(&opts, None).await.unwrap();
        let via = snap
            .sources
            .iter()
            .find(|s| s.name == "prometheus: in-cluster")
            .unwrap();
        assert!(
            via.detail.as_deref().unwrap().contains("istio-system/prometheus-7d9f8-x2x4q:9090"),
            "{via:?}"
        );
        assert!(
            snap.edges.iter().filter(|e| e.signals.rps.is_some_and(|r| r > 0.0)).count() >= 5,
            "{:?}",
            snap.sources
        );
        let log = api.request_log();
        assert!(log.iter().any(|r| r.path.ends_with("/pods/prometheus-7d9f8-x2x4q/portforward")));
        assert!(log.iter().all(|r| r.method == "GET"), "read-only");
        drop(prom);
        demo.shutdown().await;
    })
    .await
    .expect("finished in time");
}
