#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Prometheus source sums series down to the labels a dialect reads
//! (`prom_api::queries::kept_labels`). Here that aggregation is done in Rust
//! on real scrapes (corpus) and simulated ones (bookinfo's Istio sidecars,
//! emojivoto's Linkerd proxies), and the dialects' edges from the summed
//! series must equal those from the raw series: a label the query drops but
//! a dialect needs makes this fail.

mod common;

use std::collections::BTreeMap;

use meshscope::collect::prom_api::mapping::{FAMILIES, ProxySeries, process_target};
use meshscope::collect::prom_api::queries::kept_labels;
use meshscope::collect::scrape::{Sample, parse_bytes};
use meshscope::mesh::{ScrapeResult, dialect_filter};
use meshscope::model::inventory::Inventory;
use meshscope::model::sample::{EdgeSample, Tls};

/// The raw series of one scrape, as the Prometheus source would get them
/// without aggregation (one per exposed series).
fn raw(text: &[u8]) -> Vec<ProxySeries> {
    let mut out = Vec::new();
    let mut sink = |s: &Sample<'_>| {
        let Some((family, _)) = FAMILIES.iter().find(|(f, _)| *f == s.name) else {
            return;
        };
        let mut labels: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        labels.sort();
        out.push(ProxySeries {
            family,
            labels,
            value: s.value,
        });
    };
    parse_bytes(text, &dialect_filter, &mut sink);
    out
}

type Labels = Vec<(String, String)>;

/// `sum by (kept_labels(family))` of every family.
fn summed(series: &[ProxySeries]) -> Vec<ProxySeries> {
    let mut groups: BTreeMap<(&'static str, Labels), f64> = BTreeMap::new();
    for s in series {
        let kept = kept_labels(s.family).unwrap();
        let labels: Vec<(String, String)> = s
            .labels
            .iter()
            .filter(|(k, _)| kept.contains(&k.as_str()))
            .cloned()
            .collect();
        *groups.entry((s.family, labels)).or_default() += s.value;
    }
    groups
        .into_iter()
        .map(|((family, labels), value)| ProxySeries {
            family,
            labels,
            value,
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Two samples of one edge agree (sums in another order may differ in the
/// last bits).
fn same(a: &EdgeSample, b: &EdgeSample, what: &str) {
    assert_eq!(a.service, b.service, "{what}: service");
    assert_eq!(a.source_identity, b.source_identity, "{what}: source id");
    assert_eq!(a.target_identity, b.target_identity, "{what}: target id");
    let mut ra = a.requests.clone();
    let mut rb = b.requests.clone();
    ra.sort_by_key(|x| x.0);
    rb.sort_by_key(|x| x.0);
    assert_eq!(
        ra.len(),
        rb.len(),
        "{what}: response tuples {ra:?} vs {rb:?}"
    );
    for ((ka, va), (kb, vb)) in ra.iter().zip(&rb) {
        assert_eq!(ka, kb, "{what}");
        assert!(close(*va, *vb), "{what}: {ka:?} {va} vs {vb}");
    }
    // Bounds keep the order they came in; the quantiles sort them.
    let sorted = |s: &EdgeSample| {
        let mut v: Vec<(f64, f64)> = s.latency.iter().collect();
        v.sort_by(|x, y| x.0.total_cmp(&y.0));
        v
    };
    let (la, lb) = (sorted(a), sorted(b));
    assert_eq!(la.len(), lb.len(), "{what}: buckets {la:?} vs {lb:?}");
    for (x, y) in la.iter().zip(&lb) {
        assert!(
            x.0 == y.0 && close(x.1, y.1),
            "{what}: bucket {x:?} vs {y:?}"
        );
    }
    assert!(close(a.latency_sum, b.latency_sum), "{what}: latency sum");
    assert!(close(a.latency_count, b.latency_count), "{what}: count");
    for tls in [Tls::Mutual, Tls::Plain, Tls::Unknown] {
        let (x, y) = (a.tcp(tls), b.tcp(tls));
        assert!(
            close(x.sent, y.sent)
                && close(x.received, y.received)
                && close(x.opened, y.opened)
                && close(x.closed, y.closed)
                && x.open.is_some() == y.open.is_some()
                && close(x.open.unwrap_or(0.0), y.open.unwrap_or(0.0)),
            "{what}: tcp {tls:?} {x:?} vs {y:?}"
        );
    }
}

fn same_result(a: &ScrapeResult, b: &ScrapeResult, what: &str) {
    assert_eq!(a.mesh, b.mesh, "{what}: mesh");
    let mut ka: Vec<_> = a.acc.edges.keys().collect();
    let mut kb: Vec<_> = b.acc.edges.keys().collect();
    ka.sort();
    kb.sort();
    assert_eq!(ka, kb, "{what}: edges");
    for (k, s) in &a.acc.edges {
        same(s, &b.acc.edges[k], &format!("{what} {k:?}"));
    }
    let mut ha: Vec<_> = a.acc.nodes.iter().collect();
    let mut hb: Vec<_> = b.acc.nodes.iter().collect();
    ha.sort_by_key(|(n, _)| **n);
    hb.sort_by_key(|(n, _)| **n);
    assert_eq!(ha, hb, "{what}: node hints");
}

/// One scrape's edges from raw and from summed series; returns how many
/// series the sum left, of how many, and the edges.
fn check(inv: &Inventory, ns: &str, pod: &str, text: &[u8], what: &str) -> (usize, usize, usize) {
    let r = raw(text);
    let s = summed(&r);
    let target = (ns.to_string(), pod.to_string());
    let a = process_target(inv, &target, &r);
    let b = process_target(inv, &target, &s);
    same_result(&a, &b, what);
    (s.len(), r.len(), a.acc.edges.len())
}

#[test]
fn corpus_scrapes_give_the_same_edges_summed() {
    let Some(dir) = common::corpus() else {
        return;
    };
    let inv = Inventory::default();
    let files = [
        "envoy-istio-metrics/datadog-integrations-core__istio-1.5-istio-merged.txt",
        "envoy-istio-metrics/netdata-go.d.plugin__envoy.txt",
        "envoy-istio-metrics/netdata-go.d.plugin__consul-dataplane.txt",
        "linkerd-metrics/datadog-integrations-core__linkerd_v2.txt",
        "linkerd-metrics/linkerd2__sampleMetrics.txt",
    ];
    let mut with_edges = 0;
    for f in files {
        let path = dir.join(f);
        let Ok(text) = std::fs::read(&path) else {
            println!("skipped: {f} not found");
            continue;
        };
        let (n, of, edges) = check(&inv, "default", "web-1-abc-12345", &text, f);
        println!("{f}: {of} series -> {n}, {edges} edges");
        if edges > 0 {
            with_edges += 1;
        }
    }
    assert!(with_edges >= 3, "too few corpus files with edges");
}

#[test]
fn simulated_scrapes_give_the_same_edges_summed() {
    use meshscope::sim::proxy::render_metrics;
    for spec in ["bookinfo", "emojivoto"] {
        let sc = meshscope::sim::scenario::load(spec).unwrap();
        let inv = Inventory::default();
        let (mut n, mut of, mut edges) = (0, 0, 0);
        for p in sc.pods.iter().filter(|p| sc.workloads[p.workload].meshed) {
            let text = render_metrics(&sc, p, 120_000);
            let (a, b, e) = check(&inv, &p.namespace, &p.name, text.as_bytes(), &p.name);
            n += a;
            of += b;
            edges += e;
        }
        println!("{spec}: {of} series -> {n}, {edges} edges");
        assert!(edges > 5, "{spec}: {edges} edges");
        assert!(n < of, "{spec}: the sum did not shrink anything");
    }
}
