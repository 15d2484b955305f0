//! Traffic counters: monotonic, reproducible, at the configured rates; and
//! scenario specs that are rejected with a clear message.
//!
//! Rates: the flow rate (before rounding) is within ±3% of the configured rate
//! over any window of 1 s or more; exposed integer counters add at most one
//! count of rounding per series to that.

#![allow(clippy::unwrap_used)]

mod sim_common;

use std::collections::BTreeMap;

use meshscope::sim::proxy::{Noise, render_metrics_with};
use meshscope::sim::scenario::{self, ScenarioError, Target};
use meshscope::sim::traffic;
use sim_common::{parse, sum_by};

fn snapshot(spec: &str, t: u64) -> BTreeMap<String, f64> {
    let s = scenario::load(spec).unwrap();
    s.meshed_pods()
        .flat_map(|p| {
            let pod = p.name.clone();
            parse(&render_metrics_with(&s, p, t, Noise::Low))
                .into_iter()
                .map(move |x| (format!("{pod}:{}", x.id()), x.value))
        })
        .collect()
}

fn is_counter(id: &str) -> bool {
    let name = id.split(['{', ':']).nth(1).unwrap_or("");
    name.ends_with("_total")
        || name.ends_with("_bucket")
        || name.ends_with("_sum")
        || name.ends_with("_count")
}

#[test]
fn counters_are_monotonic_and_reproducible() {
    for spec in ["bookinfo", "emojivoto", "boutique", "scale:40"] {
        let times = [0u64, 1, 999, 1_000, 10_000, 61_234, 3_600_000];
        let snaps: Vec<_> = times.iter().map(|&t| snapshot(spec, t)).collect();
        assert_eq!(snaps[0], snapshot(spec, 0), "{spec}: not reproducible");
        for w in snaps.windows(2) {
            assert_eq!(
                w[0].len(),
                w[1].len(),
                "{spec}: series set changed over time"
            );
            for (k, v) in &w[0] {
                if is_counter(k) && !k.contains("tcp_open_connections") {
                    assert!(w[1][k] >= *v, "{spec}: {k} went down {v} -> {}", w[1][k]);
                }
            }
        }
        // Some traffic counter actually moves over 10 s.
        let moved = snaps[3]
            .iter()
            .filter(|(k, v)| is_counter(k) && snaps[4][*k] > **v)
            .count();
        assert!(moved > 10, "{spec}: only {moved} counters moved");
    }
}

#[test]
fn histograms_are_cumulative_and_consistent() {
    for spec in ["bookinfo", "emojivoto"] {
        let s = scenario::load(spec).unwrap();
        for p in s.meshed_pods() {
            let samples = parse(&render_metrics_with(&s, p, 10_000, Noise::None));
            let mut by_series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
            for x in samples.iter().filter(|x| x.name.ends_with("_bucket")) {
                let le: f64 = match x.get("le").unwrap() {
                    "+Inf" => f64::INFINITY,
                    v => v.parse().unwrap(),
                };
                let mut y = x.clone();
                y.labels.retain(|(k, _)| k != "le");
                by_series
                    .entry(y.id().replace("_bucket", ""))
                    .or_default()
                    .push((le, x.value));
            }
            for (series, mut buckets) in by_series {
                buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
                assert!(
                    buckets.windows(2).all(|w| w[0].1 <= w[1].1),
                    "{series} not cumulative"
                );
                let count = samples
                    .iter()
                    .find(|x| x.name.ends_with("_count") && x.id().replace("_count", "") == series)
                    .map(|x| x.value);
                assert_eq!(
                    count,
                    Some(buckets.last().unwrap().1),
                    "{series}: +Inf != count"
                );
            }
        }
    }
}

#[test]
fn istio_rates_match_the_configured_rps_over_10s() {
    for spec in ["bookinfo", "boutique"] {
        let s = scenario::load(spec).unwrap();
        let at = |t| -> Vec<_> {
            s.meshed_pods()
                .flat_map(|p| parse(&render_metrics_with(&s, p, t, Noise::None)))
                .collect()
        };
        let (a, b) = (at(20_000), at(30_000));
        for (reporter, by) in [
            ("source", "source_workload"),
            ("destination", "destination_workload"),
        ] {
            let before = sum_by(
                &a,
                "istio_requests_total",
                &[("reporter", reporter)],
                &[
                    "source_workload",
                    "destination_service",
                    "destination_workload",
                ],
            );
            let after = sum_by(
                &b,
                "istio_requests_total",
                &[("reporter", reporter)],
                &[
                    "source_workload",
                    "destination_service",
                    "destination_workload",
                ],
            );
            for e in &s.edges {
                let from = &s.workloads[e.from];
                if e.protocol == scenario::Protocol::Tcp || (reporter == "source" && !from.meshed) {
                    continue;
                }
                let host = match &e.target {
                    Target::Service { service, .. } => s.services[*service].fqdn(),
                    Target::External { host, .. } => host.clone(),
                };
                let backends: Vec<(String, f64)> = if e.backends.is_empty() {
                    if reporter == "destination" {
                        continue;
                    }
                    vec![("unknown".into(), 1.0)]
                } else {
                    e.backends
                        .iter()
                        .map(|x| (s.workloads[x.workload].name.clone(), x.share))
                        .collect()
                };
                let src = if from.meshed {
                    from.name.clone()
                } else {
                    "unknown".into()
                };
                for (dst, share) in backends {
                    let k = vec![src.clone(), host.clone(), dst.clone()];
                    let rate = (after.get(&k).copied().unwrap_or(0.0)
                        - before.get(&k).copied().unwrap_or(0.0))
                        / 10.0;
                    let want = e.rps * share;
                    // ±3%, plus at most one count of integer rounding per series over the 10 s.
                    let series = 1 + e.errors.len();
                    assert!(
                        (rate - want).abs() <= 0.03 * want + series as f64 / 10.0,
                        "{spec} {reporter} ({by}) {src} -> {dst}: {rate:.3} rps, configured {want:.3}"
                    );
                }
            }
        }
    }
}

#[test]
fn linkerd_rates_match_the_configured_rps_over_10s() {
    let s = scenario::load("emojivoto").unwrap();
    for p in s.meshed_pods() {
        let w = &s.workloads[p.workload];
        let a = parse(&render_metrics_with(&s, p, 0, Noise::None));
        let b = parse(&render_metrics_with(&s, p, 10_000, Noise::None));
        let ra = sum_by(
            &a,
            "request_total",
            &[("direction", "outbound")],
            &["authority"],
        );
        let rb = sum_by(
            &b,
            "request_total",
            &[("direction", "outbound")],
            &["authority"],
        );
        for &ei in &s.out_edges[p.workload] {
            let e = &s.edges[ei];
            let Target::Service { service, port } = &e.target else {
                continue;
            };
            let k = vec![format!("{}:{port}", s.services[*service].fqdn())];
            let rate = (rb[&k] - ra[&k]) / 10.0;
            let want = e.rps / f64::from(w.replicas);
            assert!(
                (rate - want).abs() <= 0.03 * want + 0.1,
                "{} -> {k:?}: {rate} vs {want}",
                w.name
            );
        }
    }
}

#[test]
fn flow_rate_is_within_3_percent_over_any_1s_window() {
    let s = scenario::load("scale:200").unwrap();
    for ei in 0..s.edges.len() {
        for bi in 0..s.edges[ei].backends.len().max(1) {
            let want = s.edges[ei].rps * traffic::backend_share(&s.edges[ei], bi);
            for start in [0u64, 777, 45_000, 123_456, 7_200_000] {
                let got = traffic::flow_requests(&s, ei, bi, start + 1_000)
                    - traffic::flow_requests(&s, ei, bi, start);
                assert!(
                    (got - want).abs() <= 0.03 * want,
                    "edge {ei}/{bi} at {start}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn pair_counters_split_evenly_and_sum_up() {
    let s = scenario::load("boutique").unwrap();
    for ei in 0..s.edges.len() {
        let c = traffic::pair_counters(&s, ei, 0, 10_000, &traffic::ISTIO_BUCKETS);
        let total: u64 = c.requests.iter().map(|(_, n)| n).sum();
        let want = traffic::flow_requests(&s, ei, 0, 10_000) * traffic::pair_fraction(&s, ei, 0);
        assert!(
            (total as f64 - want).abs() <= c.requests.len() as f64,
            "edge {ei}: {total} vs {want}"
        );
        for (h, (_, n)) in c.latency.iter().zip(&c.requests) {
            assert_eq!(h.count, *n);
        }
    }
}

#[test]
fn scenario_spec_errors_name_the_bad_value() {
    for (spec, needle) in [
        ("scale:0", "scale:0"),
        ("scale:abc", "abc"),
        ("nope", "nope"),
        ("scale:", "scale:"),
        ("scale:-3", "-3"),
    ] {
        let err = scenario::load(spec).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(needle), "{spec}: {msg}");
        assert!(
            msg.contains("bookinfo") && msg.contains("scale:N"),
            "{spec}: message lists the accepted forms: {msg}"
        );
    }
    assert!(matches!(
        scenario::load("nope"),
        Err(ScenarioError::Unknown(_))
    ));
    for ok in [
        "bookinfo",
        "emojivoto",
        "boutique",
        "scale:1",
        "scale:2",
        "scale:5",
        " bookinfo ",
    ] {
        let s = scenario::load(ok).unwrap();
        assert!(!s.workloads.is_empty(), "{ok}");
    }
}

#[test]
fn scenarios_can_switch_mesh() {
    let s = scenario::load("bookinfo")
        .unwrap()
        .with_mesh(scenario::MeshKind::Linkerd);
    assert_eq!(s.mesh, scenario::MeshKind::Linkerd);
    assert!(
        s.declared
            .iter()
            .all(|o| !o["apiVersion"].as_str().unwrap().contains("istio"))
    );
    assert!(s.namespaces.iter().any(|n| {
        n.annotations
            .iter()
            .any(|(k, v)| k == "linkerd.io/inject" && v == "enabled")
    }));
    let pp = s
        .pods
        .iter()
        .find(|p| p.name.starts_with("productpage"))
        .unwrap();
    let text = render_metrics_with(&s, pp, 1_000, Noise::None);
    assert!(
        text.contains("request_total{direction=\"inbound\"")
            && !text.contains("istio_requests_total")
    );
    let e = scenario::load("emojivoto")
        .unwrap()
        .with_mesh(scenario::MeshKind::Istio);
    let web = e.pods.iter().find(|p| p.name.starts_with("web-")).unwrap();
    assert!(render_metrics_with(&e, web, 1_000, Noise::None).contains("istio_requests_total{"));
}
