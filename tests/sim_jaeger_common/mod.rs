//! Helpers shared by the `sim_jaeger*` tests: a server fixture with a
//! fixed clock, OTLP helpers, and the links the scenario's call graph implies.

#![allow(dead_code, clippy::unwrap_used)]

#[path = "../sim_common/mod.rs"]
mod sim_common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use meshscope::sim::jaeger::JaegerServer;
use meshscope::sim::scenario::{self, MeshKind, Protocol, Scenario, Target};
use serde_json::Value;

pub const TEST_BOUND: Duration = Duration::from_secs(120);
pub const HOUR: u64 = 3_600_000;
/// The simulated "now": two hours after the scenario epoch.
pub const NOW: u64 = 2 * HOUR;

pub struct Fixture {
    pub server: JaegerServer,
    pub scenario: Arc<Scenario>,
    pub http: reqwest::Client,
}

pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Got {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Fixture {
    pub async fn start(name: &str) -> Fixture {
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

    pub async fn get(&self, path_and_query: &str) -> Got {
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
    pub fn at(&self, ms: u64) -> String {
        jiff::Timestamp::from_millisecond((self.scenario.epoch_ms + ms) as i64)
            .unwrap()
            .to_string()
    }

    pub fn find_path(&self, service: &str, from: u64, to: u64, n: usize) -> String {
        format!(
            "/api/v3/traces?query.serviceName={service}&query.startTimeMin={}&query.startTimeMax={}&query.searchDepth={n}",
            self.at(from),
            self.at(to)
        )
    }
}

pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

pub fn corpus_json(rel: &str) -> Option<Value> {
    let dir = sim_common::corpus()?;
    Some(serde_json::from_str(&std::fs::read_to_string(dir.join(rel)).unwrap()).unwrap())
}

/// Every span of an OTLP response, with its resource's service name.
pub fn otlp_spans(v: &Value) -> Vec<(String, Value)> {
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

pub fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

pub fn attr_str<'a>(span: &'a Value, key: &str) -> &'a str {
    attr(span, key)
        .and_then(|v| v["stringValue"].as_str())
        .unwrap_or("")
}

/// The service name the mesh's proxies report for a workload, per the
/// Istio / Linkerd conventions (independent of the implementation).
pub fn svc_name(s: &Scenario, w: usize) -> String {
    let wl = &s.workloads[w];
    match s.mesh {
        MeshKind::Istio => format!("{}.{}", wl.app, wl.namespace),
        MeshKind::Linkerd => wl.app.clone(),
    }
}

/// Service-level links the traces must show: calls between two meshed
/// workloads over HTTP/gRPC, on request paths that start at a workload
/// nobody calls and continue through meshed callees.
pub fn expected_links(s: &Scenario) -> BTreeSet<(String, String)> {
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

pub async fn check_dependencies(f: &Fixture) {
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
pub async fn error_share(f: &Fixture, callee: &str, pod_prefix: &str) -> (usize, usize) {
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
