//! Every planted imperfection is visible in the raw signals a collector sees.

#![allow(clippy::unwrap_used)]

mod sim_common;

use std::collections::BTreeMap;

use meshscope::sim::proxy::{Noise, render_metrics_with};
use meshscope::sim::scenario::{self, Scenario};
use serde_json::Value;
use sim_common::{S, parse, sum_by};

const KINDS: [&str; 5] = [
    "split_drift",
    "undeclared_edge",
    "unobserved_edge",
    "mtls_gap",
    "failing_edge",
];

fn scrape(s: &Scenario, t: u64) -> Vec<S> {
    s.meshed_pods()
        .flat_map(|p| parse(&render_metrics_with(s, p, t, Noise::None)))
        .collect()
}

/// Increase over 60 s of `name` grouped by `by`, with filters.
fn delta(
    s: &Scenario,
    name: &str,
    filters: &[(&str, &str)],
    by: &[&str],
) -> BTreeMap<Vec<String>, f64> {
    let a = sum_by(&scrape(s, 0), name, filters, by);
    let mut b = sum_by(&scrape(s, 60_000), name, filters, by);
    for (k, v) in b.iter_mut() {
        *v -= a.get(k).copied().unwrap_or(0.0);
    }
    b
}

fn declared<'a>(s: &'a Scenario, kind: &str, name: &str) -> &'a Value {
    s.declared
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap()
}

fn shares(m: &BTreeMap<Vec<String>, f64>) -> BTreeMap<String, f64> {
    let total: f64 = m.values().sum();
    m.iter().map(|(k, v)| (k[0].clone(), v / total)).collect()
}

#[test]
fn every_scenario_plants_each_gap_kind_once() {
    for spec in ["bookinfo", "emojivoto", "boutique", "scale:50"] {
        let s = scenario::load(spec).unwrap();
        let mut kinds: Vec<&str> = s.imperfections.iter().map(|i| i.kind.as_str()).collect();
        kinds.sort_unstable();
        let mut want = KINDS.to_vec();
        want.sort_unstable();
        assert_eq!(kinds, want, "{spec}");
        for i in &s.imperfections {
            assert!(!i.subject.is_empty() && !i.description.is_empty());
        }
    }
}

#[test]
fn bookinfo_imperfections_show_in_istio_metrics() {
    let s = scenario::load("bookinfo").unwrap();
    // split_drift: the VS says 80/20 v1/v2; source-reported counts say otherwise.
    let vs = declared(&s, "VirtualService", "reviews");
    let routes = vs["spec"]["http"][0]["route"].as_array().unwrap();
    let declared_v1 = routes
        .iter()
        .find(|r| r["destination"]["subset"] == "v1")
        .unwrap()["weight"]
        .as_f64()
        .unwrap()
        / 100.0;
    let seen = shares(&delta(
        &s,
        "istio_requests_total",
        &[
            ("reporter", "source"),
            ("source_workload", "productpage-v1"),
            ("destination_service_name", "reviews"),
        ],
        &["destination_workload"],
    ));
    assert!((seen["reviews-v1"] - declared_v1).abs() > 0.5, "{seen:?}");
    assert!(
        seen["reviews-v3"] > 0.4,
        "v3 gets traffic no route sends it: {seen:?}"
    );
    // failing_edge: 5xx from reviews-v3 to ratings.
    let codes = delta(
        &s,
        "istio_requests_total",
        &[
            ("reporter", "destination"),
            ("source_workload", "reviews-v3"),
            ("destination_workload", "ratings-v1"),
        ],
        &["response_code"],
    );
    let total: f64 = codes.values().sum();
    let errors: f64 = codes
        .iter()
        .filter(|(k, _)| k[0].starts_with('5'))
        .map(|(_, v)| v)
        .sum();
    assert!((errors / total - 0.2).abs() < 0.03, "{codes:?}");
    // mtls_gap: plaintext into productpage from the uninjected caller.
    let sec = delta(
        &s,
        "istio_requests_total",
        &[
            ("reporter", "destination"),
            ("destination_workload", "productpage-v1"),
        ],
        &["source_workload", "connection_security_policy"],
    );
    assert!(
        sec[&vec!["unknown".to_string(), "none".to_string()]] > 0.0,
        "{sec:?}"
    );
    assert!(sec[&vec!["istio-ingressgateway".to_string(), "mutual_tls".to_string()]] > 0.0);
    // undeclared_edge: productpage calls ratings, which the policy does not list.
    let ap = declared(&s, "AuthorizationPolicy", "ratings-viewer").to_string();
    assert!(!ap.contains("sa/bookinfo-productpage"));
    let callers = delta(
        &s,
        "istio_requests_total",
        &[
            ("reporter", "destination"),
            ("destination_workload", "ratings-v1"),
        ],
        &["source_principal"],
    );
    assert!(
        callers[&vec!["spiffe://cluster.local/ns/default/sa/bookinfo-productpage".to_string()]]
            > 0.0,
        "{callers:?}"
    );
    // unobserved_edge: the policy lists details, which never calls ratings.
    assert!(ap.contains("sa/bookinfo-details"));
    assert!(!callers.keys().any(|k| k[0].contains("bookinfo-details")));
}

#[test]
fn emojivoto_imperfections_show_in_linkerd_metrics() {
    let s = scenario::load("emojivoto").unwrap();
    let ts = declared(&s, "TrafficSplit", "web-split");
    let canary_w = ts["spec"]["backends"][1]["weight"].as_f64().unwrap();
    let stable_w = ts["spec"]["backends"][0]["weight"].as_f64().unwrap();
    let seen = shares(&delta(
        &s,
        "request_total",
        &[("direction", "outbound"), ("dst_service", "web-svc")],
        &["dst_deployment"],
    ));
    assert!(
        (seen["web-canary"] - canary_w / (canary_w + stable_w)).abs() > 0.3,
        "{seen:?}"
    );
    // failing_edge: gRPC Unknown from voting, and web answering 500.
    let voting = delta(
        &s,
        "response_total",
        &[("direction", "outbound"), ("dst_deployment", "voting")],
        &["classification", "grpc_status"],
    );
    assert!(
        voting[&vec!["failure".to_string(), "2".to_string()]] > 0.0,
        "{voting:?}"
    );
    let web = delta(
        &s,
        "response_total",
        &[
            ("direction", "inbound"),
            ("authority", "web-svc.emojivoto.svc.cluster.local:80"),
        ],
        &["status_code"],
    );
    assert!(web[&vec!["500".to_string()]] > 0.0, "{web:?}");
    // mtls_gap: plaintext into voting's server.
    let tls = delta(
        &s,
        "request_total",
        &[("direction", "inbound"), ("srv_name", "voting-grpc")],
        &["tls", "no_tls_reason"],
    );
    assert!(
        tls.keys().any(|k| k[0] != "true" && !k[1].is_empty()),
        "{tls:?}"
    );
    // undeclared_edge: voting's identity calls emoji, which only authorizes web.
    let emoji_in = delta(
        &s,
        "request_total",
        &[("direction", "inbound"), ("srv_name", "emoji-grpc")],
        &["client_id", "authz_name"],
    );
    assert!(
        emoji_in[&vec![
            "voting.emojivoto.serviceaccount.identity.linkerd.cluster.local".to_string(),
            "audit".to_string()
        ]] > 0.0,
        "{emoji_in:?}"
    );
    // unobserved_edge: vote-bot is authorized for voting but never calls it.
    assert!(
        declared(&s, "MeshTLSAuthentication", "voting-clients")
            .to_string()
            .contains("default")
    );
    let bot = s
        .pods
        .iter()
        .find(|p| p.name.starts_with("vote-bot"))
        .unwrap();
    let bot_out = parse(&render_metrics_with(&s, bot, 60_000, Noise::None));
    assert!(
        !bot_out
            .iter()
            .any(|x| x.get("dst_deployment") == Some("voting"))
    );
}

#[test]
fn boutique_imperfections_tcp_and_egress_show_in_istio_metrics() {
    let s = scenario::load("boutique").unwrap();
    let seen = shares(&delta(
        &s,
        "istio_requests_total",
        &[
            ("reporter", "destination"),
            ("destination_service_name", "productcatalogservice"),
        ],
        &["destination_version"],
    ));
    assert!((seen["v2"] - 0.25).abs() > 0.15, "{seen:?}");
    let pay = delta(
        &s,
        "istio_requests_total",
        &[
            ("reporter", "source"),
            ("destination_workload", "paymentservice"),
        ],
        &["grpc_response_status"],
    );
    assert!(pay[&vec!["14".to_string()]] > 0.0, "{pay:?}");
    let front = delta(
        &s,
        "istio_requests_total",
        &[
            ("reporter", "destination"),
            ("destination_workload", "frontend"),
        ],
        &["connection_security_policy"],
    );
    assert!(front[&vec!["none".to_string()]] > 0.0);
    let egress = delta(
        &s,
        "istio_requests_total",
        &[
            ("reporter", "source"),
            ("destination_service", "metadata.google.internal"),
        ],
        &["destination_service_name", "destination_workload"],
    );
    assert!(
        egress[&vec!["PassthroughCluster".to_string(), "unknown".to_string()]] > 0.0,
        "{egress:?}"
    );
    let redis = delta(
        &s,
        "istio_tcp_sent_bytes_total",
        &[
            ("destination_workload", "redis-cart"),
            ("request_protocol", "tcp"),
        ],
        &["reporter"],
    );
    assert!(
        redis[&vec!["source".to_string()]] > 0.0 && redis[&vec!["destination".to_string()]] > 0.0,
        "{redis:?}"
    );
    let undeclared = delta(
        &s,
        "istio_requests_total",
        &[
            ("reporter", "destination"),
            ("source_workload", "recommendationservice"),
            ("destination_workload", "cartservice"),
        ],
        &[],
    );
    assert!(undeclared[&Vec::<String>::new()] > 0.0);
    let unobserved = delta(
        &s,
        "istio_requests_total",
        &[
            ("source_workload", "frontend"),
            ("destination_workload", "emailservice"),
        ],
        &[],
    );
    assert!(unobserved.values().all(|v| *v == 0.0));
}

#[test]
fn scale_failing_edge_returns_503() {
    let s = scenario::load("scale:60").unwrap();
    let f = s
        .imperfections
        .iter()
        .find(|i| i.kind == "failing_edge")
        .unwrap();
    let (src, dst) = f.subject.split_once(" -> ").unwrap();
    let name = |x: &str| x.rsplit('/').next().unwrap().to_string();
    let codes = delta(
        &s,
        "istio_requests_total",
        &[
            ("reporter", "destination"),
            ("source_workload", &name(src)),
            ("destination_workload", &name(dst)),
        ],
        &["response_code"],
    );
    assert!(codes[&vec!["503".to_string()]] > 0.0, "{codes:?}");
}
