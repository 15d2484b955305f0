//! The simulated proxies emit the metric families and label sets real proxies
//! emit (compared with real scrapes from the shared corpus).

#![allow(clippy::unwrap_used)]

mod sim_common;

use std::collections::{BTreeMap, BTreeSet};

use meshscope::sim::proxy::{Noise, render_metrics, render_metrics_with};
use meshscope::sim::scenario;
use sim_common::{S, corpus, parse};

fn all_samples(spec: &str, t: u64, noise: Noise) -> Vec<S> {
    let s = scenario::load(spec).unwrap();
    s.meshed_pods()
        .flat_map(|p| parse(&render_metrics_with(&s, p, t, noise)))
        .collect()
}

/// family → set of label-key sequences.
fn key_seqs(
    samples: &[S],
    family: impl Fn(&str) -> bool,
) -> BTreeMap<String, BTreeSet<Vec<String>>> {
    let mut m: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
    for s in samples.iter().filter(|s| family(&s.name)) {
        m.entry(s.name.clone()).or_default().insert(s.keys());
    }
    m
}

#[test]
fn istio_families_and_label_keys_match_real_sidecars() {
    let Some(c) = corpus() else { return };
    let mut real = Vec::new();
    for f in std::fs::read_dir(c.join("envoy-istio-metrics")).unwrap() {
        let p = f.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().contains("istio") {
            real.extend(parse(&std::fs::read_to_string(p).unwrap()));
        }
    }
    let is_mesh = |n: &str| {
        n.starts_with("istio_requests_total")
            || n.starts_with("istio_request_duration_milliseconds")
            || n.starts_with("istio_tcp_")
            || n.starts_with("istio_request_bytes")
            || n.starts_with("istio_response_bytes")
    };
    let real_keys = key_seqs(&real, is_mesh);
    let real_names: BTreeSet<String> = real.iter().map(|s| s.name.clone()).collect();
    for spec in ["bookinfo", "boutique", "scale:30"] {
        let sim = all_samples(spec, 5_000, Noise::Realistic);
        let sim_keys = key_seqs(&sim, is_mesh);
        for fam in [
            "istio_requests_total",
            "istio_request_duration_milliseconds_bucket",
        ] {
            assert!(sim_keys.contains_key(fam), "{spec}: {fam} missing");
        }
        if spec == "boutique" {
            for fam in [
                "istio_tcp_sent_bytes_total",
                "istio_tcp_received_bytes_total",
                "istio_tcp_connections_opened_total",
                "istio_tcp_connections_closed_total",
            ] {
                assert!(sim_keys.contains_key(fam), "{spec}: {fam} missing");
            }
        }
        for (fam, seqs) in &sim_keys {
            let real_seqs = real_keys
                .get(fam)
                .unwrap_or_else(|| panic!("{spec}: {fam} is not in any real scrape"));
            let real_sets: BTreeSet<BTreeSet<String>> = real_seqs
                .iter()
                .map(|v| v.iter().cloned().collect())
                .collect();
            for seq in seqs {
                let set: BTreeSet<String> = seq.iter().cloned().collect();
                assert!(
                    real_sets.contains(&set),
                    "{spec}: {fam} label keys {seq:?} differ from the real ones {real_seqs:?}"
                );
                // Sidecar (Envoy stats plugin) order, where the corpus has a sidecar sample of it.
                if fam.starts_with("istio_request") {
                    assert!(
                        real_seqs.contains(seq),
                        "{spec}: {fam} label order {seq:?} differs from {real_seqs:?}"
                    );
                }
            }
        }
        // Every istio_* family we emit exists in a real scrape.
        for n in sim
            .iter()
            .map(|s| &s.name)
            .filter(|n| n.starts_with("istio_"))
            .collect::<BTreeSet<_>>()
        {
            assert!(
                real_names.contains(n),
                "{spec}: {n} is not a real Istio family"
            );
        }
    }
}

#[test]
fn istio_reporters_and_security_policy_are_consistent() {
    let sim = all_samples("bookinfo", 5_000, Noise::None);
    for s in sim.iter().filter(|s| s.name == "istio_requests_total") {
        match s.get("reporter") {
            Some("source") => assert_eq!(
                s.get("connection_security_policy"),
                Some("unknown"),
                "{}",
                s.id()
            ),
            Some("destination") => assert!(
                matches!(
                    s.get("connection_security_policy"),
                    Some("mutual_tls" | "none")
                ),
                "{}",
                s.id()
            ),
            r => panic!("bad reporter {r:?}"),
        }
    }
    // The unmeshed caller appears as `unknown` only on the destination side.
    let unknown: Vec<_> = sim
        .iter()
        .filter(|s| s.name == "istio_requests_total" && s.get("source_workload") == Some("unknown"))
        .collect();
    assert!(!unknown.is_empty());
    assert!(
        unknown
            .iter()
            .all(|s| s.get("reporter") == Some("destination")
                && s.get("source_principal") == Some("unknown"))
    );
}

#[test]
fn realistic_istio_scrape_is_mostly_envoy_noise() {
    let s = scenario::load("bookinfo").unwrap();
    for p in s.meshed_pods() {
        let text = render_metrics(&s, p, 1_000);
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let envoy = lines.iter().filter(|l| l.starts_with("envoy_")).count();
        let share = envoy as f64 / lines.len() as f64;
        assert!(
            share >= 0.8,
            "{}: envoy_* share {share:.2} of {} lines",
            p.name,
            lines.len()
        );
        assert!(text.contains("{} "), "untagged `{{}}` stats missing");
    }
}

/// Linkerd key sequences normalized for what legitimately varies between
/// proxies and requests: `authority` (absent on requests without one, e.g.
/// the admin port in the sample), `dst_service` (absent when the target was
/// not resolved through a Service), and the TLS alternative (`client_id` is
/// given exactly where a plaintext connection gets `no_tls_reason`).
fn normalize(seq: &[String]) -> Vec<String> {
    seq.iter()
        .filter(|k| *k != "authority" && *k != "dst_service")
        .map(|k| {
            if k == "client_id" {
                "no_tls_reason".to_string()
            } else {
                k.clone()
            }
        })
        .collect()
}

#[test]
fn linkerd_families_and_label_keys_match_a_real_proxy() {
    let Some(c) = corpus() else { return };
    let real = parse(
        &std::fs::read_to_string(c.join("linkerd-metrics/linkerd2__sampleMetrics.txt")).unwrap(),
    );
    let real_names: BTreeSet<String> = real.iter().map(|s| s.name.clone()).collect();
    let sim = all_samples("emojivoto", 5_000, Noise::Realistic);
    for n in sim.iter().map(|s| &s.name).collect::<BTreeSet<_>>() {
        assert!(
            real_names.contains(n),
            "{n} is not a family of the real linkerd2-proxy sample"
        );
    }
    for s in &sim {
        for k in ["namespace", "pod", "deployment", "instance", "job"] {
            assert!(
                s.get(k).is_none(),
                "{} carries collection-time label {k}",
                s.id()
            );
        }
    }
    let checks: [(&str, Option<&str>); 3] = [
        ("tcp_open_connections", None),
        ("response_latency_ms_bucket", None),
        ("request_total", Some("inbound")),
    ];
    for (fam, dir) in checks {
        let real_seqs: BTreeSet<Vec<String>> = real
            .iter()
            .filter(|s| s.name == fam && dir.is_none_or(|d| s.get("direction") == Some(d)))
            .map(|s| s.keys())
            .collect();
        let sim_seqs: BTreeSet<Vec<String>> = sim
            .iter()
            .filter(|s| s.name == fam && dir.is_none_or(|d| s.get("direction") == Some(d)))
            .map(|s| s.keys())
            .collect();
        assert!(!sim_seqs.is_empty(), "{fam} missing");
        let real_norm: BTreeSet<Vec<String>> = real_seqs.iter().map(|v| normalize(v)).collect();
        for seq in &sim_seqs {
            let n = normalize(seq);
            // Outbound HTTP latency has no real sample; it must equal the real outbound TCP keys plus the response's.
            let ok = real_norm.contains(&n)
                || (fam == "response_latency_ms_bucket"
                    && seq.first().map(String::as_str) == Some("direction")
                    && n.contains(&"dst_pod".to_string()));
            assert!(
                ok,
                "{fam}: label keys {seq:?} (normalized {n:?}) match no real series {real_seqs:?}"
            );
        }
    }
    // Outbound TCP to a meshed pod matches the real one exactly.
    let real_out: BTreeSet<Vec<String>> = real
        .iter()
        .filter(|s| s.name == "tcp_open_connections" && s.get("peer") == Some("dst"))
        .map(|s| normalize(&s.keys()))
        .collect();
    assert!(sim.iter().any(|s| s.name == "tcp_open_connections"
        && s.get("peer") == Some("dst")
        && real_out.contains(&normalize(&s.keys()))));
    // gRPC responses carry the proxy's real gRPC status label.
    assert!(sim.iter().any(|s| s.name == "response_total"
        && s.get("grpc_status") == Some("2")
        && s.get("classification") == Some("failure")));
}
