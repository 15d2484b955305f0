//! The graph build from scrape rounds (`model::build`): which reporter's
//! latency an edge shows, and the per-edge work on two threads (a large
//! graph's edges are made in two halves, each on its own thread: the result
//! must be the one a single thread gives, byte for byte).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use meshscope::model::build::{BuildContext, PodScrape, Round, build_snapshot};
use meshscope::model::intern::NodeId;
use meshscope::model::inventory::Inventory;
use meshscope::model::sample::{EdgeKey, EdgeSample, Reporter, ReqKey, ScrapeData, Tls};
use meshscope::model::snapshot::{MeshKind, Protocol};

fn ok(tls: Tls) -> ReqKey {
    ReqKey {
        code: 200,
        grpc: None,
        flags: None,
        tls,
        failed: false,
    }
}

/// `total` requests, with a histogram of `buckets` (`(le, cumulative)`) when given.
fn sample(total: f64, buckets: Option<&[(f64, f64)]>, tls: Tls) -> EdgeSample {
    let mut s = EdgeSample::default();
    s.add_requests(&ok(tls), total);
    if let Some(b) = buckets {
        for (le, v) in b {
            s.add_bucket(*le, *v);
        }
        s.latency_count = total;
        s.latency_sum = total * 10.0;
    }
    s
}

fn key(a: &str, b: &str) -> EdgeKey {
    EdgeKey {
        source: NodeId::workload("ns", a),
        target: NodeId::workload("ns", b),
        protocol: Protocol::Http,
    }
}

/// One pod's series: `(edge, reporter, sample)`.
type Series = Vec<(EdgeKey, Reporter, EdgeSample)>;

/// One round: `pod → series`.
fn round(at_ms: i64, pods: Vec<(String, Series)>) -> Round {
    let mut scrapes = BTreeMap::new();
    for (pod, series) in pods {
        let mut data = ScrapeData::default();
        for (k, r, s) in series {
            data.edges.insert((k, r), s);
        }
        scrapes.insert(
            pod,
            PodScrape {
                mesh: Some(MeshKind::Istio),
                data,
            },
        );
    }
    Round { at_ms, scrapes }
}

/// Two rounds 10 s apart of `caller → callee`: the caller's histogram
/// puts every request under 10 ms, the callee's (when it has one) under 100 ms.
fn caller_and_callee(callee_histogram: bool) -> Vec<Round> {
    let k = key("caller", "callee");
    let fast = |n: f64| vec![(10.0, n), (100.0, n), (f64::INFINITY, n)];
    let slow = |n: f64| vec![(10.0, 0.0), (100.0, n), (f64::INFINITY, n)];
    [(0, 100.0), (10_000, 300.0)]
        .into_iter()
        .map(|(at, n)| {
            let callee = callee_histogram.then(|| slow(n));
            round(
                at,
                vec![
                    (
                        "ns/caller-1".into(),
                        vec![(
                            k.clone(),
                            Reporter::Source,
                            sample(n, Some(&fast(n)), Tls::Unknown),
                        )],
                    ),
                    (
                        "ns/callee-1".into(),
                        vec![(
                            k.clone(),
                            Reporter::Destination,
                            sample(n, callee.as_deref(), Tls::Mutual),
                        )],
                    ),
                ],
            )
        })
        .collect()
}

#[test]
fn the_callers_histogram_counts_only_when_the_callee_has_none() {
    // The callee reports a histogram: its latency is the edge's (the
    // caller's includes the network), p50 interpolated in (10, 100].
    // Without one, the caller's is used: p50 in (0, 10].
    for (callee_histogram, p50) in [(true, 55.0), (false, 5.0)] {
        let rounds = caller_and_callee(callee_histogram);
        let snap = build_snapshot(&Inventory::default(), &rounds, BuildContext::default());
        let e = &snap.edges[0];
        assert_eq!(e.signals.rps, Some(20.0));
        assert_eq!(
            e.signals.p50_ms,
            Some(p50),
            "callee histogram: {callee_histogram}"
        );
    }
}

fn lcg(x: &mut u64) -> u64 {
    *x = x
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *x >> 33
}

/// 300 workloads, 4,000 edges (popular callees called from both halves of
/// the sorted edges), two pods per workload, rates that are not whole
/// numbers (so the order of sums shows in the last digits).
fn large() -> Vec<Round> {
    let mut seed = 7u64;
    let mut pairs = std::collections::BTreeSet::new();
    while pairs.len() < 4_000 {
        let a = lcg(&mut seed) % 300;
        let r = (lcg(&mut seed) % 1000) as f64 / 1000.0;
        let b = (r * r * 300.0) as u64;
        if a != b {
            pairs.insert((a, b));
        }
    }
    let buckets = |n: f64| vec![(5.0, n * 0.3), (50.0, n * 0.9), (f64::INFINITY, n)];
    (0..2)
        .map(|r| {
            let mut pods: BTreeMap<String, Series> = BTreeMap::new();
            for (i, &(a, b)) in pairs.iter().enumerate() {
                let k = key(&format!("w{a}"), &format!("w{b}"));
                let n = (1.0 + (i % 17) as f64 * 0.37) * (100.0 + r as f64 * 7.3);
                let replica = i % 2;
                for (w, rep, tls) in [
                    (a, Reporter::Source, Tls::Unknown),
                    (b, Reporter::Destination, Tls::Mutual),
                ] {
                    pods.entry(format!("ns/w{w}-{replica}")).or_default().push((
                        k.clone(),
                        rep,
                        sample(n, Some(&buckets(n)), tls),
                    ));
                }
            }
            round(r * 10_000, pods.into_iter().collect())
        })
        .collect()
}

#[test]
fn two_threads_build_what_one_builds() {
    let rounds = large();
    let inv = Inventory::default();
    let parallel = build_snapshot(&inv, &rounds, BuildContext::default());
    assert!(parallel.edges.len() >= 4_000, "{}", parallel.edges.len());
    let serial = meshscope::par::serial(|| build_snapshot(&inv, &rounds, BuildContext::default()));
    assert_eq!(
        serde_json::to_string(&parallel).unwrap(),
        serde_json::to_string(&serial).unwrap()
    );
    // Edges in order, and a node's inbound rate is the sum of its edges'.
    assert!(
        parallel
            .edges
            .windows(2)
            .all(|w| (&w[0].source, &w[0].target) < (&w[1].source, &w[1].target))
    );
    let popular = "ns/w0";
    let by_edges: f64 = parallel
        .edges
        .iter()
        .filter(|e| e.target == popular)
        .map(|e| e.signals.rps.unwrap())
        .sum();
    let node = parallel.nodes.iter().find(|n| n.id == popular).unwrap();
    let rps = node.signals.as_ref().unwrap().rps.unwrap();
    assert!(
        (rps - by_edges).abs() < 1e-9 * by_edges,
        "{rps} vs {by_edges}"
    );
}

/// Pods come and go between rounds: a pod scraped in both rounds gives
/// rates; one only in the first round keeps its edges without rates (it is
/// gone, its topology is still news); one only in the last round gives
/// topology without rates (it has no earlier value to take an increase from).
#[test]
fn pods_in_one_round_only_give_topology_without_rates() {
    let series = |pod: &str, from: &str, to: &str, n: f64| -> (String, Series) {
        (
            format!("ns/{pod}"),
            vec![(
                key(from, to),
                Reporter::Source,
                sample(n, None, Tls::Mutual),
            )],
        )
    };
    // Names chosen so each round's own order interleaves with the other's.
    let first = round(
        0,
        vec![
            series("a-1", "a", "x", 10.0),
            series("c-1", "c", "x", 10.0),
            series("e-1", "e", "x", 10.0),
        ],
    );
    let last = round(
        10_000,
        vec![
            series("b-1", "b", "x", 50.0),
            series("c-1", "c", "x", 110.0),
            series("d-1", "d", "x", 70.0),
        ],
    );
    let snap = build_snapshot(
        &Inventory::default(),
        &[first, last],
        BuildContext::default(),
    );
    let rps: Vec<(&str, Option<f64>)> = snap
        .edges
        .iter()
        .map(|e| (e.source.as_str(), e.signals.rps))
        .collect();
    assert_eq!(
        rps,
        [
            ("ns/a", None),
            ("ns/b", None),
            ("ns/c", Some(10.0)),
            ("ns/d", None),
            ("ns/e", None),
        ]
    );
}
