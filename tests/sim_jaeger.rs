//! The simulated Jaeger query service over HTTP: payload shapes against the
//! real Jaeger payloads of the corpus, dependency links against the
//! scenario's call graph, planted errors, determinism, 400/404 answers.

#![allow(clippy::unwrap_used)]

mod sim_common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use meshscope::sim::jaeger::JaegerServer;
use meshscope::sim::scenario::{self, MeshKind, Protocol, Scenario, Target};
use serde_json::Value;

const TEST_BOUND: Duration = Duration::from_secs(120);
const HOUR: u64 = 3_600_000;
/// The simulated "now": two hours after the scenario epoch.
const NOW: u64 = 2 * HOUR;

struct Fixture {
    server: JaegerServer,
    scenario: Arc<Scenario>,
    http: reqwest::Client,
}

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Fixture {
    async fn start(name: &str) -> Fixture {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let scenario = Arc::new(scenario::load(name).unwrap());
        let server = JaegerServer::start(scenario.clone(), || NOW).await.unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Fixture {
            server,
            scenario,
            http,
        }
    }

    async fn get(&self, path_and_query: &str) -> Got {
        let r = self
            .http
            .get(format!("{}{path_and_query}", self.server.url()))
            .send()
            .await
            .unwrap();
        Got {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    /// RFC 3339 of `ms` after the scenario epoch.
    fn at(&self, ms: u64) -> String {
        jiff::Timestamp::from_millisecond((self.scenario.epoch_ms + ms) as i64)
            .unwrap()
            .to_string()
    }

    fn find_path(&self, service: &str, from: u64, to: u64, n: usize) -> String {
        format!(
            "/api/v3/traces?query.serviceName={service}&query.startTimeMin={}&query.startTimeMax={}&query.searchDepth={n}",
            self.at(from),
            self.at(to)
        )
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn corpus_json(rel: &str) -> Option<Value> {
    let dir = sim_common::corpus()?;
    Some(serde_json::from_str(&std::fs::read_to_string(dir.join(rel)).unwrap()).unwrap())
}

/// Every span of an OTLP response, with its resource's service name.
fn otlp_spans(v: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for rs in v["result"]["resourceSpans"].as_array().unwrap() {
        let svc = rs["resource"]["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == "service.name")
            .unwrap()["value"]["stringValue"]
            .as_str()
            .unwrap()
            .to_string();
        for ss in rs["scopeSpans"].as_array().unwrap() {
            for sp in ss["spans"].as_array().unwrap() {
                out.push((svc.clone(), sp.clone()));
            }
        }
    }
    out
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

fn attr_str<'a>(span: &'a Value, key: &str) -> &'a str {
    attr(span, key)
        .and_then(|v| v["stringValue"].as_str())
        .unwrap_or("")
}

/// The service name the mesh's proxies report for a workload, per the
/// Istio / Linkerd conventions (independent of the implementation).
fn svc_name(s: &Scenario, w: usize) -> String {
    let wl = &s.workloads[w];
    match s.mesh {
        MeshKind::Istio => format!("{}.{}", wl.app, wl.namespace),
        MeshKind::Linkerd => wl.app.clone(),
    }
}

/// Service-level links the traces must show: calls between two meshed
/// workloads over HTTP/gRPC, on request paths that start at a workload
/// nobody calls and continue through meshed callees.
fn expected_links(s: &Scenario) -> BTreeSet<(String, String)> {
    let mut reached: BTreeSet<usize> = (0..s.workloads.len())
        .filter(|&w| s.in_edges[w].is_empty() && !s.workloads[w].control_plane)
        .collect();
    let roots = reached.clone();
    let mut links = BTreeSet::new();
    let mut changed = true;
    while changed {
        changed = false;
        for e in &s.edges {
            if !reached.contains(&e.from) || e.protocol == Protocol::Tcp {
                continue;
            }
            if !roots.contains(&e.from) && !s.workloads[e.from].meshed {
                continue;
            }
            let Target::Service { .. } = e.target else {
                continue;
            };
            for b in &e.backends {
                if b.share <= 0.0 || !s.workloads[b.workload].meshed {
                    continue;
                }
                if s.workloads[e.from].meshed {
                    links.insert((svc_name(s, e.from), svc_name(s, b.workload)));
                }
                changed |= reached.insert(b.workload);
            }
        }
    }
    links
}

async fn check_dependencies(f: &Fixture) {
    let path = format!(
        "/api/dependencies?endTs={}&lookback={HOUR}",
        f.scenario.epoch_ms + NOW
    );
    let got = f.get(&path).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let v = got.json();
    assert_eq!(
        keys(&v),
        ["data", "errors", "limit", "offset", "total"]
            .map(String::from)
            .into()
    );
    if let Some(c) = corpus_json("jaeger/jaeger-ui__dependencygraph-small.json") {
        let want = keys(&c[0]);
        for l in v["data"].as_array().unwrap() {
            assert_eq!(keys(l), want);
            assert!(l["callCount"].as_u64().unwrap() > 0);
        }
    }
    let links: BTreeSet<(String, String)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["parent"].as_str().unwrap().to_string(),
                l["child"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(links, expected_links(&f.scenario), "{}", f.scenario.name);
    // Deterministic: the same window gives byte-identical JSON.
    assert_eq!(f.get(&path).await.body, got.body);
    // A service filter keeps the links that touch it.
    let some = links.iter().next().unwrap().0.clone();
    let filtered = f.get(&format!("{path}&service={some}")).await.json();
    for l in filtered["data"].as_array().unwrap() {
        assert!(l["parent"] == some.as_str() || l["child"] == some.as_str());
    }
}

/// Client spans of `caller` calling `callee` in the last hour: (errors, total).
async fn error_share(f: &Fixture, callee: &str, pod_prefix: &str) -> (usize, usize) {
    let got = f.get(&f.find_path(callee, HOUR, NOW, 1000)).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let (mut errors, mut total) = (0, 0);
    for (_, sp) in otlp_spans(&got.json()) {
        if sp["kind"] != 3
            || attr_str(&sp, "peer.service") != callee
            || !attr_str(&sp, "node_id").contains(pod_prefix)
        {
            continue;
        }
        total += 1;
        if sp["status"]["code"] == 2 {
            errors += 1;
            assert_eq!(attr(&sp, "error").unwrap()["boolValue"], true);
            let code = attr_str(&sp, "http.status_code");
            let grpc = attr_str(&sp, "grpc.status_code");
            assert!(code.starts_with('5') || (!grpc.is_empty() && grpc != "0"));
        }
    }
    (errors, total)
}

async fn bookinfo_body() {
    let f = Fixture::start("bookinfo").await;

    // Services and operations.
    let got = f.get("/api/v3/services").await;
    assert_eq!(got.status, 200);
    let v = got.json();
    assert_eq!(keys(&v), ["services".to_string()].into());
    let services: BTreeSet<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for s in [
        "istio-ingressgateway.istio-system",
        "productpage.default",
        "reviews.default",
        "ratings.default",
        "details.default",
    ] {
        assert!(services.contains(s), "{s} missing from {services:?}");
    }
    assert!(!services.contains("sleep.legacy"), "sleep has no proxy");
    let ops = f.get("/api/v3/operations?service=reviews.default").await;
    let ops = ops.json()["operations"].as_array().unwrap().clone();
    let kinds: BTreeSet<&str> = ops
        .iter()
        .map(|o| o["spanKind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["client", "server"].into());
    let server_only = f
        .get("/api/v3/operations?service=reviews.default&spanKind=server")
        .await
        .json();
    assert!(
        server_only["operations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["spanKind"] == "server" && o["name"].is_string())
    );

    // Find traces; snake_case aliases give the same answer plus deprecation headers.
    let camel = f
        .get(&f.find_path("productpage.default", HOUR, NOW, 20))
        .await;
    assert_eq!(camel.status, 200, "{}", camel.body);
    assert!(camel.headers.get("deprecation").is_none());
    let snake = f
        .get(&format!(
            "/api/v3/traces?query.service_name=productpage.default&query.start_time_min={}&query.start_time_max={}&query.num_traces=20",
            f.at(HOUR),
            f.at(NOW)
        ))
        .await;
    assert_eq!(snake.status, 200);
    assert_eq!(snake.headers["deprecation"], "true");
    assert_eq!(snake.body, camel.body, "aliases give the same traces");
    let v = camel.json();
    if let Some(c) = corpus_json("otlp/jaeger__GetTrace.json") {
        assert_eq!(keys(&v), keys(&c));
        assert_eq!(keys(&v["result"]), keys(&c["result"]));
        assert!(
            keys(&v["result"]["resourceSpans"][0])
                .is_superset(&keys(&c["result"]["resourceSpans"][0]))
        );
    }
    let spans = otlp_spans(&v);
    let trace_ids: BTreeSet<String> = spans
        .iter()
        .map(|(_, s)| s["traceId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(trace_ids.len(), 20, "searchDepth traces");
    let want_span_keys = corpus_json("otlp/jaeger__otlp2jaeger-in.json")
        .map(|c| keys(&c["resourceSpans"][0]["scopeSpans"][0]["spans"][0]));
    for (_, sp) in &spans {
        assert_eq!(sp["traceId"].as_str().unwrap().len(), 32);
        assert_eq!(sp["spanId"].as_str().unwrap().len(), 16);
        if let Some(p) = sp.get("parentSpanId") {
            assert_eq!(p.as_str().unwrap().len(), 16);
        }
        assert!(sp["kind"] == 2 || sp["kind"] == 3);
        let start: u64 = sp["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
        let end: u64 = sp["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
        assert!(start < end);
        assert!(start >= (f.scenario.epoch_ms + HOUR) * 1_000_000);
        if let Some(want) = &want_span_keys {
            // A trace's root span has no parent.
            let mut want = want.clone();
            if sp.get("parentSpanId").is_none() {
                want.remove("parentSpanId");
            }
            assert!(keys(sp).is_superset(&want), "{sp}");
        }
        for k in [
            "http.method",
            "http.url",
            "http.status_code",
            "upstream_cluster",
            "peer.service",
            "node_id",
            "guid:x-request-id",
        ] {
            assert!(attr(sp, k).is_some(), "{k} missing in {sp}");
        }
        assert_eq!(attr_str(sp, "component"), "proxy");
    }

    // One trace by id, in OTLP and in the UI model.
    let id = trace_ids.iter().next().unwrap();
    let one = f.get(&format!("/api/v3/traces/{id}")).await;
    assert_eq!(one.status, 200, "{}", one.body);
    let one_spans = otlp_spans(&one.json());
    let in_find = spans
        .iter()
        .filter(|(_, s)| s["traceId"] == id.as_str())
        .count();
    assert_eq!(one_spans.len(), in_find);
    let ui = f.get(&format!("/api/traces/{id}")).await;
    assert_eq!(ui.status, 200, "{}", ui.body);
    let ui = ui.json();
    if let Some(c) = corpus_json("jaeger/jaeger__otlp2jaeger-out.json") {
        assert_eq!(keys(&ui), keys(&c));
        assert_eq!(keys(&ui["data"][0]), keys(&c["data"][0]));
        let want = keys(&c["data"][0]["spans"][0]);
        for sp in ui["data"][0]["spans"].as_array().unwrap() {
            assert_eq!(keys(sp), want, "{sp}");
        }
        let p = keys(&c["data"][0]["processes"]["p1"]);
        for proc in ui["data"][0]["processes"].as_object().unwrap().values() {
            assert_eq!(keys(proc), p);
        }
    }
    let t = &ui["data"][0];
    assert_eq!(t["traceID"], id.as_str());
    assert_eq!(t["spans"].as_array().unwrap().len(), one_spans.len());
    for sp in t["spans"].as_array().unwrap() {
        assert!(t["processes"][sp["processID"].as_str().unwrap()]["serviceName"].is_string());
        let tags = sp["tags"].as_array().unwrap();
        assert!(
            tags.iter()
                .all(|g| keys(g) == ["key", "type", "value"].map(String::from).into())
        );
        assert!(tags.iter().any(|g| g["key"] == "span.kind"));
        for r in sp["references"].as_array().unwrap() {
            assert_eq!(r["refType"], "CHILD_OF");
        }
    }

    check_dependencies(&f).await;

    // The planted failing edge: reviews-v3 -> ratings fails ~20%, reviews-v2 -> ratings never.
    let (err3, n3) = error_share(&f, "ratings.default", "reviews-v3").await;
    let (err2, n2) = error_share(&f, "ratings.default", "reviews-v2").await;
    assert!(n3 >= 50 && n2 >= 30, "{n3} {n2}");
    let share = err3 as f64 / n3 as f64;
    assert!(
        (0.1..=0.32).contains(&share),
        "reviews-v3 -> ratings error share {share}"
    );
    assert_eq!(err2, 0, "reviews-v2 -> ratings has no planted errors");

    // 400s name the parameter; 404s for unknown ids and removed endpoints.
    for (path, param) in [
        (
            "/api/v3/traces?query.serviceName=x".to_string(),
            "query.startTimeMin",
        ),
        (
            format!(
                "/api/v3/traces?query.startTimeMin=yesterday&query.startTimeMax={}",
                f.at(NOW)
            ),
            "query.startTimeMin",
        ),
        (
            format!(
                "{}&query.num_traces=many",
                f.find_path("x", 0, NOW, 1)
                    .replace("&query.searchDepth=1", "")
            ),
            "query.num_traces",
        ),
        (
            format!("{}&query.durationMin=5", f.find_path("x", 0, NOW, 1)),
            "query.durationMin",
        ),
        ("/api/v3/traces/not-hex".to_string(), "trace_id"),
        ("/api/v3/operations".to_string(), "service"),
    ] {
        let got = f.get(&path).await;
        assert_eq!(got.status, 400, "{path}: {}", got.body);
        let msg = got.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(msg.contains(param), "{path}: {msg}");
        assert_eq!(got.json()["error"]["httpCode"], 400);
    }
    for (path, param) in [
        ("/api/traces/xyz", "traceID"),
        ("/api/dependencies?endTs=tomorrow", "endTs"),
        ("/api/dependencies?lookback=-5", "lookback"),
    ] {
        let got = f.get(path).await;
        assert_eq!(got.status, 400, "{path}: {}", got.body);
        let v = got.json();
        assert_eq!(v["errors"][0]["code"], 400);
        assert!(
            v["errors"][0]["msg"].as_str().unwrap().contains(param),
            "{v}"
        );
    }
    let unknown = "0123456789abcdef0123456789abcdef";
    let got = f.get(&format!("/api/v3/traces/{unknown}")).await;
    assert_eq!(got.status, 404);
    assert_eq!(got.json()["error"]["httpCode"], 404);
    let got = f.get(&format!("/api/traces/{unknown}")).await;
    assert_eq!(got.status, 404);
    assert_eq!(got.json()["errors"][0]["code"], 404);
    // A trace from the future (after NOW) does not exist yet.
    let future = f
        .get(&f.find_path("productpage.default", NOW + HOUR, NOW + 2 * HOUR, 5))
        .await;
    assert_eq!(future.status, 404, "{}", future.body);
    for removed in [
        "/api/services",
        "/api/traces?service=productpage.default",
        "/api/operations?service=reviews.default",
    ] {
        assert_eq!(f.get(removed).await.status, 404, "{removed}");
    }
    f.server.shutdown().await;
}

#[tokio::test]
async fn bookinfo_all_endpoints() {
    tokio::time::timeout(TEST_BOUND, bookinfo_body())
        .await
        .unwrap();
}

async fn emojivoto_body() {
    let f = Fixture::start("emojivoto").await;
    let v = f.get("/api/v3/services").await.json();
    let services: BTreeSet<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        services,
        ["emoji-svc", "vote-bot", "voting-svc", "web-svc"].into()
    );
    check_dependencies(&f).await;
    // web -> voting fails with gRPC Unknown on ~16% of calls.
    let (err, n) = error_share(&f, "voting-svc", "web").await;
    assert!(n >= 50, "{n}");
    let share = err as f64 / n as f64;
    assert!(
        (0.08..=0.26).contains(&share),
        "web -> voting error share {share}"
    );
    let (err, n) = error_share(&f, "emoji-svc", "web").await;
    assert!(n >= 50 && err == 0, "{err}/{n} errors on web -> emoji");
    // Traces are identical across server instances (no hidden state).
    let path = f.find_path("web-svc", HOUR, NOW, 50);
    let a = f.get(&path).await.body;
    let g = Fixture::start("emojivoto").await;
    assert_eq!(g.get(&path).await.body, a);
    let per_trace: BTreeMap<String, usize> = otlp_spans(&serde_json::from_str(&a).unwrap())
        .into_iter()
        .fold(BTreeMap::new(), |mut m, (_, s)| {
            *m.entry(s["traceId"].as_str().unwrap().to_string())
                .or_default() += 1;
            m
        });
    assert_eq!(per_trace.len(), 50);
    g.server.shutdown().await;
    f.server.shutdown().await;
}

#[tokio::test]
async fn emojivoto_links_errors_determinism() {
    tokio::time::timeout(TEST_BOUND, emojivoto_body())
        .await
        .unwrap();
}
