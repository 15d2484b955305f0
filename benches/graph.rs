//! Build the graph and signals for 10,000 workloads / 100,000 edges from two
//! scrape rounds (issue 2 target: < 200 ms, < 300 MB peak RSS).
//!
//! Input: the canonical per-pod samples the dialects produce, as for a real
//! Istio mesh: every edge reported by both proxies (source and destination),
//! two response codes and the 20-bucket Istio latency histogram each, one
//! pod per workload.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use meshscope::model::build::{BuildContext, PodScrape, Round, build_snapshot};
use meshscope::model::intern::NodeId;
use meshscope::model::inventory::Inventory;
use meshscope::model::sample::{EdgeKey, EdgeSample, Reporter, ReqKey, ScrapeData, Tls};
use meshscope::model::snapshot::{MeshKind, Protocol};

const WORKLOADS: usize = 10_000;
const EDGES: usize = 100_000;
const BUCKETS: [f64; 20] = [
    0.5,
    1.0,
    5.0,
    10.0,
    25.0,
    50.0,
    100.0,
    250.0,
    500.0,
    1000.0,
    2500.0,
    5000.0,
    10000.0,
    30000.0,
    60000.0,
    300000.0,
    600000.0,
    1800000.0,
    3600000.0,
    f64::INFINITY,
];

fn lcg(x: &mut u64) -> u64 {
    *x = x
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *x >> 33
}

fn sample(total: f64, tls: Tls) -> EdgeSample {
    let mut s = EdgeSample {
        service: Some("svc:ns-0/x".into()),
        ..EdgeSample::default()
    };
    let ok = ReqKey {
        code: 200,
        grpc: None,
        flags: None,
        tls,
        failed: false,
    };
    let err = ReqKey {
        code: 503,
        grpc: None,
        flags: None,
        tls,
        failed: true,
    };
    s.add_requests(&ok, total * 0.99);
    s.add_requests(&err, total * 0.01);
    for (i, le) in BUCKETS.iter().enumerate() {
        s.add_bucket(*le, (total * (i as f64 + 1.0) / 20.0).floor());
    }
    s.latency_count = total;
    s.latency_sum = total * 12.0;
    s
}

/// Two rounds, 10 s apart.
///
/// Each pod's scrape is built and shrunk on its own, one pod after the
/// other, as the dialects map one proxy's scrape at a time (its samples are
/// allocated together, then `shrink_to_fit`); the samples of a pod are
/// inserted in the same order as the edges are listed.
pub fn rounds() -> Vec<Round> {
    let mut seed = 42u64;
    // Interned as the dialects do (one id per workload, shared by every key).
    let wl = |i: usize| NodeId::workload(&format!("ns-{}", i % 50), &format!("wl-{i}"));
    let mut pairs = Vec::with_capacity(EDGES);
    let mut seen = std::collections::HashSet::with_capacity(EDGES);
    while pairs.len() < EDGES {
        let a = (lcg(&mut seed) as usize) % WORKLOADS;
        // Power-law-ish callees: low indices are popular.
        let r = (lcg(&mut seed) % 1_000_000) as f64 / 1_000_000.0;
        let b = ((r * r * r) * WORKLOADS as f64) as usize % WORKLOADS;
        if a != b && seen.insert((a, b)) {
            pairs.push((a, b, 1.0 + (lcg(&mut seed) % 100) as f64));
        }
    }
    drop(seen);
    let keys: Vec<EdgeKey> = pairs
        .iter()
        .map(|&(a, b, _)| EdgeKey {
            source: wl(a),
            target: wl(b),
            protocol: Protocol::Http,
        })
        .collect();
    // Each pod's series: (edge, reporter) in edge order.
    let mut series: Vec<Vec<(u32, Reporter)>> = vec![Vec::new(); WORKLOADS];
    for (i, &(a, b, _)) in pairs.iter().enumerate() {
        series[a].push((i as u32, Reporter::Source));
        series[b].push((i as u32, Reporter::Destination));
    }
    (0..2)
        .map(|round| {
            let scrapes = series
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.is_empty())
                .map(|(pod, s)| {
                    let mut data = ScrapeData::default();
                    for &(i, reporter) in s {
                        let rps = pairs[i as usize].2;
                        let total = rps * 3600.0 + round as f64 * rps * 10.0;
                        let tls = match reporter {
                            Reporter::Source => Tls::Unknown,
                            Reporter::Destination => Tls::Mutual,
                        };
                        data.edges
                            .insert((keys[i as usize].clone(), reporter), sample(total, tls));
                    }
                    // As the dialects leave a mapped scrape.
                    data.shrink_to_fit();
                    (
                        format!("ns-{}/wl-{pod}-5d9f8c7b6-abcde", pod % 50),
                        PodScrape {
                            mesh: Some(MeshKind::Istio),
                            data,
                        },
                    )
                })
                .collect();
            Round {
                at_ms: 1_700_000_000_000 + round as i64 * 10_000,
                scrapes,
            }
        })
        .collect()
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The process's CPU time (user + system, every thread, exited ones too)
/// in milliseconds, from `/proc/self/stat` (clock ticks of 10 ms).
fn process_cpu_ms() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses.
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

fn bench(c: &mut Criterion) {
    let rounds = rounds();
    let before = peak_rss_mb();
    let inv = Inventory::default();
    let snap = build_snapshot(&inv, &rounds, BuildContext::default());
    assert_eq!(snap.edges.len(), EDGES);
    assert!(snap.nodes.len() > WORKLOADS / 2);
    let after = peak_rss_mb();
    // A fingerprint of the output, to check that a change to the build
    // leaves the snapshot byte-identical (compare with an older binary).
    let json = serde_json::to_vec(&snap).unwrap_or_default();
    let mut h = std::hash::DefaultHasher::new();
    std::hash::Hasher::write(&mut h, &json);
    eprintln!(
        "snapshot JSON: {} bytes, hash {:016x}",
        json.len(),
        std::hash::Hasher::finish(&h)
    );
    // With `MESHSCOPE_BENCH_DUMP=DIR`, the JSON goes to `DIR/graph.json`, to
    // compare two builds value by value.
    if let Some(dir) = std::env::var_os("MESHSCOPE_BENCH_DUMP") {
        let path = std::path::Path::new(&dir).join("graph.json");
        if let Err(e) = std::fs::write(&path, &json) {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }
    drop(json);
    drop(snap);
    eprintln!(
        "peak RSS: {:.0} MB with the input only, {:.0} MB after one build (input ≈ two rounds of {} edge samples)",
        before.unwrap_or(f64::NAN),
        after.unwrap_or(f64::NAN),
        EDGES * 2
    );
    // Wall and CPU time of 20 builds (with the drop of their output): the
    // machine is shared, so the CPU time (both threads) says what the
    // build costs when other processes hold the cores.
    let mut walls = Vec::new();
    let cpu0 = process_cpu_ms();
    for _ in 0..20 {
        let w0 = std::time::Instant::now();
        drop(build_snapshot(&inv, &rounds, BuildContext::default()));
        walls.push(w0.elapsed().as_secs_f64() * 1000.0);
    }
    let cpu = match (cpu0, process_cpu_ms()) {
        (Some(a), Some(b)) => (b - a) / 20.0,
        _ => f64::NAN,
    };
    walls.sort_by(f64::total_cmp);
    eprintln!(
        "20 builds (incl. drop): wall median {:.0} ms (min {:.0}, max {:.0}); CPU {cpu:.0} ms per build",
        walls[10], walls[0], walls[19]
    );
    let mut g = c.benchmark_group("graph");
    g.sample_size(10);
    g.bench_function("build_10k_workloads_100k_edges_two_rounds", |b| {
        b.iter(|| {
            black_box(build_snapshot(
                &inv,
                black_box(&rounds),
                BuildContext::default(),
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
