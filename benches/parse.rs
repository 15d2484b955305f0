//! Exposition parsing throughput on a generated ≥ 20 MB Istio sidecar dump
//! (≥ 80 % `envoy_*` lines): our `StreamParser` keeping only `istio_*`
//! families (a), keeping everything (b), and plain prometheus-parse (c).
//! Run: `cargo bench --bench parse`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use meshscope::collect::scrape::parser::StreamParser;
use meshscope::collect::scrape::{ExpositionParser, FamilyFilter, KeepAll, Sample, SampleSink};

const TARGET_BYTES: usize = 20 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

const SERVICES: [&str; 12] = [
    "productpage",
    "reviews",
    "ratings",
    "details",
    "frontend",
    "cartservice",
    "checkout",
    "payment",
    "shipping",
    "currency",
    "emailservice",
    "recommendation",
];
const NAMESPACES: [&str; 3] = ["default", "shop", "payments"];
const LE: [&str; 20] = [
    "0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000",
    "30000", "60000", "300000", "600000", "1800000", "3600000", "+Inf",
];
const ENVOY_COUNTERS: [&str; 24] = [
    "upstream_cx_total",
    "upstream_cx_active",
    "upstream_cx_connect_fail",
    "upstream_cx_destroy",
    "upstream_cx_destroy_local",
    "upstream_cx_destroy_remote",
    "upstream_cx_http1_total",
    "upstream_cx_http2_total",
    "upstream_cx_rx_bytes_total",
    "upstream_cx_tx_bytes_total",
    "upstream_rq_total",
    "upstream_rq_active",
    "upstream_rq_pending_total",
    "upstream_rq_pending_overflow",
    "upstream_rq_retry",
    "upstream_rq_timeout",
    "upstream_rq_cancelled",
    "upstream_rq_completed",
    "membership_healthy",
    "membership_total",
    "membership_change",
    "lb_healthy_panic",
    "update_attempt",
    "update_success",
];

/// Workload `i` (distinct names, several versions and namespaces).
fn workload(i: usize) -> (String, &'static str, String) {
    let svc = SERVICES[i % SERVICES.len()];
    let ns = NAMESPACES[(i / SERVICES.len()) % NAMESPACES.len()];
    (
        format!("{svc}-{}", i / (SERVICES.len() * NAMESPACES.len())),
        ns,
        format!("v{}", 1 + i % 3),
    )
}

/// The full Istio standard label set (shape of `istio_requests_total` in the
/// istio-1.5 corpus dump), for source workload `s` → destination `d`.
fn istio_labels(out: &mut String, s: usize, d: usize, code: u16) {
    let (sw, sns, sv) = workload(s);
    let (dw, dns, dv) = workload(d);
    let (sapp, dapp) = (
        &sw[..sw.rfind('-').unwrap_or(sw.len())],
        &dw[..dw.rfind('-').unwrap_or(dw.len())],
    );
    let _ = write!(
        out,
        "response_code=\"{code}\",reporter=\"destination\",source_workload=\"{sw}-{sv}\",\
source_workload_namespace=\"{sns}\",source_principal=\"spiffe://cluster.local/ns/{sns}/sa/{sapp}\",\
source_app=\"{sapp}\",source_version=\"{sv}\",source_cluster=\"Kubernetes\",\
destination_workload=\"{dw}-{dv}\",destination_workload_namespace=\"{dns}\",\
destination_principal=\"spiffe://cluster.local/ns/{dns}/sa/{dapp}\",destination_app=\"{dapp}\",\
destination_version=\"{dv}\",destination_service=\"{dw}.{dns}.svc.cluster.local\",\
destination_service_name=\"{dw}\",destination_service_namespace=\"{dns}\",\
destination_cluster=\"Kubernetes\",request_protocol=\"http\",response_flags=\"-\",\
grpc_response_status=\"\",connection_security_policy=\"mutual_tls\",\
source_canonical_service=\"{sapp}\",destination_canonical_service=\"{dapp}\",\
source_canonical_revision=\"{sv}\",destination_canonical_revision=\"{dv}\""
    );
}

/// A deterministic pseudo-random counter value.
fn val(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*seed >> 33) % 5_000_000
}

/// Generates the dump; returns it with (envoy lines, istio lines).
fn generate() -> (Vec<u8>, usize, usize) {
    let mut out = String::with_capacity(TARGET_BYTES + (1 << 20));
    let (mut envoy, mut istio) = (0usize, 0usize);
    let mut seed = 42u64;
    let mut round = 0usize;
    let mut labels = String::new();
    while out.len() < TARGET_BYTES {
        // Envoy cluster stats: 60 outbound clusters × 24 counters + 2 histograms.
        let clusters: Vec<String> = (0..60)
            .map(|c| {
                let (w, ns, _) = workload(round * 60 + c);
                format!("outbound|{}||{w}.{ns}.svc.cluster.local", 8000 + c % 200)
            })
            .collect();
        for name in ENVOY_COUNTERS {
            let _ = writeln!(out, "# TYPE envoy_cluster_{name} counter");
            for c in &clusters {
                let _ = writeln!(
                    out,
                    "envoy_cluster_{name}{{cluster_name=\"{c}\"}} {}",
                    val(&mut seed)
                );
                envoy += 1;
            }
        }
        for h in ["upstream_cx_connect_ms", "upstream_cx_length_ms"] {
            let _ = writeln!(out, "# TYPE envoy_cluster_{h} histogram");
            for c in &clusters {
                for le in LE {
                    let _ = writeln!(
                        out,
                        "envoy_cluster_{h}_bucket{{cluster_name=\"{c}\",le=\"{le}\"}} {}",
                        val(&mut seed)
                    );
                }
                let _ = writeln!(
                    out,
                    "envoy_cluster_{h}_sum{{cluster_name=\"{c}\"}} {}",
                    val(&mut seed)
                );
                let _ = writeln!(
                    out,
                    "envoy_cluster_{h}_count{{cluster_name=\"{c}\"}} {}",
                    val(&mut seed)
                );
                envoy += LE.len() + 2;
            }
        }
        let _ = writeln!(
            out,
            "# TYPE envoy_server_live gauge\nenvoy_server_live{{}} 1"
        );
        envoy += 1;
        // Istio standard metrics: 40 source → destination edges.
        let _ = writeln!(out, "# TYPE istio_requests_total counter");
        let edges: Vec<(usize, usize)> = (0..40)
            .map(|e| (round * 40 + e, round * 40 + e + 7))
            .collect();
        for &(s, d) in &edges {
            for code in [200u16, 503] {
                labels.clear();
                istio_labels(&mut labels, s, d, code);
                let _ = writeln!(out, "istio_requests_total{{{labels}}} {}", val(&mut seed));
                istio += 1;
            }
        }
        let _ = writeln!(out, "# TYPE istio_request_duration_milliseconds histogram");
        for &(s, d) in &edges {
            labels.clear();
            istio_labels(&mut labels, s, d, 200);
            for le in LE {
                let _ = writeln!(
                    out,
                    "istio_request_duration_milliseconds_bucket{{{labels},le=\"{le}\"}} {}",
                    val(&mut seed)
                );
            }
            let _ = writeln!(
                out,
                "istio_request_duration_milliseconds_sum{{{labels}}} {}.5",
                val(&mut seed)
            );
            let _ = writeln!(
                out,
                "istio_request_duration_milliseconds_count{{{labels}}} {}",
                val(&mut seed)
            );
            istio += LE.len() + 2;
        }
        round += 1;
    }
    (out.into_bytes(), envoy, istio)
}

/// Touches every sample so no work can be optimised away.
#[derive(Default)]
struct Sum {
    n: usize,
    labels: usize,
    total: f64,
}

impl SampleSink for Sum {
    fn sample(&mut self, s: &Sample<'_>) {
        self.n += 1;
        self.labels += s.labels.len() + s.series.len();
        self.total += s.value;
    }
}

fn ours(input: &[u8], filter: &dyn FamilyFilter) -> Sum {
    let mut sink = Sum::default();
    let mut p = StreamParser::new();
    for chunk in input.chunks(CHUNK) {
        p.feed(chunk, filter, &mut sink);
    }
    let st = p.finish(filter, &mut sink);
    assert_eq!(st.issue_count, 0);
    sink
}

fn istio_only(name: &[u8]) -> bool {
    name.starts_with(b"istio_")
}

fn bench(c: &mut Criterion) {
    let (input, envoy, istio) = generate();
    let text = std::str::from_utf8(&input).unwrap_or_default();
    let lines = envoy + istio;
    let mean_istio = text
        .lines()
        .filter(|l| l.starts_with("istio_"))
        .map(str::len)
        .sum::<usize>()
        / istio.max(1);
    eprintln!(
        "input: {:.1} MB, {lines} sample lines, {:.1} % envoy_*, istio line mean {mean_istio} bytes",
        input.len() as f64 / 1e6,
        100.0 * envoy as f64 / lines as f64
    );
    assert!(input.len() >= TARGET_BYTES && envoy * 10 >= lines * 8);
    // Sanity: each parser sees every sample.
    assert_eq!(ours(&input, &KeepAll).n, lines);
    assert_eq!(ours(&input, &istio_only).n, istio);

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("a_stream_istio_only_64k", |b| {
        b.iter(|| black_box(ours(black_box(&input), &istio_only)))
    });
    g.bench_function("b_stream_keep_all_64k", |b| {
        b.iter(|| black_box(ours(black_box(&input), &KeepAll)))
    });
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("c_prometheus_parse", |b| {
        b.iter(|| {
            let lines = black_box(text).lines().map(|l| Ok(l.to_owned()));
            black_box(
                prometheus_parse::Scrape::parse(lines)
                    .map(|s| s.samples.len())
                    .unwrap_or(0),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
