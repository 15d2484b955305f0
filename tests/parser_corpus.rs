//! The production parser against the published metrics dumps in
//! `../shared/corpus` (never copied into the repo): zero lost samples, exact
//! values, and prometheus-parse's defects measured on the same files.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;

use meshscope::collect::scrape::baseline::PromParseBaseline;
use meshscope::collect::scrape::{
    ExpositionParser, FamilyFilter, KeepAll, MetricType, ParseStats, Sample, SampleSink,
    parse_bytes,
};

/// `../shared/corpus` from the crate root, else `/work/shared/corpus`.
fn corpus() -> Option<PathBuf> {
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    [local, PathBuf::from("/work/shared/corpus")]
        .into_iter()
        .find(|p| p.is_dir())
}

macro_rules! corpus_or_skip {
    () => {
        match corpus() {
            Some(c) => c,
            None => {
                println!("skipped: corpus not found");
                return;
            }
        }
    };
}

/// Every metrics file of the two metrics folders, sorted.
fn metrics_files(root: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["envoy-istio-metrics", "linkerd-metrics"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    files.sort();
    assert!(files.len() >= 9, "expected the 9 corpus metrics files");
    files
}

/// An owned copy of a sample.
#[derive(Debug, Clone)]
struct Owned {
    name: String,
    labels: Vec<(String, String)>,
    series: String,
    value: f64,
    ts: Option<i64>,
}

#[derive(Default)]
struct Collect {
    samples: Vec<Owned>,
    types: Vec<(String, MetricType)>,
}

impl SampleSink for Collect {
    fn sample(&mut self, s: &Sample<'_>) {
        self.samples.push(Owned {
            name: s.name.to_owned(),
            labels: s
                .labels
                .iter()
                .map(|l| (l.name.to_owned(), l.value.to_string()))
                .collect(),
            series: String::from_utf8_lossy(s.series).into_owned(),
            value: s.value,
            ts: s.timestamp_ms,
        });
    }
    fn family_type(&mut self, family: &str, kind: MetricType) {
        self.types.push((family.to_owned(), kind));
    }
}

fn ours(input: &[u8], filter: &dyn FamilyFilter) -> (Collect, ParseStats) {
    let mut c = Collect::default();
    let st = parse_bytes(input, filter, &mut c);
    (c, st)
}

fn baseline(input: &[u8], filter: &dyn FamilyFilter) -> (Collect, ParseStats) {
    let mut c = Collect::default();
    let mut p = PromParseBaseline::new();
    p.feed(input, filter, &mut c);
    let st = p.finish(filter, &mut c);
    (c, st)
}

/// Independent count, with plain string operations, of the sample lines
/// (non-blank, non-comment) whose metric name passes `keep`.
fn count_sample_lines(text: &str, keep: &dyn Fn(&str) -> bool) -> usize {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| {
            let name = if let Some(rest) = l.strip_prefix('{') {
                rest.trim_start().split('"').nth(1).unwrap_or("")
            } else {
                l.split(['{', ' ', '\t']).next().unwrap_or("")
            };
            keep(name)
        })
        .count()
}

/// A test on a metric name.
type NameTest<'a> = &'a dyn Fn(&str) -> bool;

fn istio(n: &str) -> bool {
    n.starts_with("istio_")
}
fn linkerd(n: &str) -> bool {
    n == "response_total" || n.starts_with("response_latency_ms_") || n.starts_with("tcp_")
}

#[test]
fn zero_lost_samples_for_every_filter() {
    let root = corpus_or_skip!();
    let filters: [(&str, NameTest); 3] = [
        ("all", &|_: &str| true),
        ("istio_*", &istio),
        ("linkerd golden", &linkerd),
    ];
    for path in metrics_files(&root) {
        let bytes = std::fs::read(&path).unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        let total = count_sample_lines(text, &|_| true);
        for (label, keep) in filters {
            let filter = |n: &[u8]| keep(std::str::from_utf8(n).unwrap());
            let (c, st) = ours(&bytes, &filter);
            let expected = count_sample_lines(text, keep);
            let file = path.file_name().unwrap().to_string_lossy();
            println!("{file} [{label}]: {} kept of {total}", st.samples_kept);
            assert_eq!(st.samples_kept, expected, "{file} [{label}]");
            assert_eq!(c.samples.len(), expected, "{file} [{label}]");
            assert_eq!(
                st.samples_kept + st.samples_skipped,
                total,
                "{file} [{label}]"
            );
            assert!(c.samples.iter().all(|s| keep(&s.name)), "{file} [{label}]");
            assert!(!st.truncated, "{file}");
            assert_eq!(st.lines, text.lines().count(), "{file}");
            // Only the deliberately non-conforming file has a defect.
            if file.contains("non-conforming") {
                assert_eq!(st.issue_count, 1, "{file}: {:?}", st.issues);
            } else {
                assert_eq!(st.issues, vec![], "{file}");
            }
        }
    }
}

fn read(root: &std::path::Path, rel: &str) -> Vec<u8> {
    std::fs::read(root.join(rel)).unwrap()
}

#[test]
fn istio_requests_total_sample_with_25_labels() {
    let root = corpus_or_skip!();
    let input = read(
        &root,
        "envoy-istio-metrics/datadog-integrations-core__istio-1.5-istio-merged.txt",
    );
    let (c, st) = ours(&input, &|n: &[u8]| n == b"istio_requests_total");
    assert!(st.samples_kept >= 1);
    let s = c
        .samples
        .iter()
        .find(|s| {
            s.labels
                .iter()
                .any(|l| l == &("response_code".into(), "200".into()))
                && s.labels
                    .iter()
                    .any(|l| l == &("destination_workload".into(), "reviews-v1".into()))
        })
        .unwrap();
    assert_eq!(s.labels.len(), 25);
    assert_eq!(s.labels[0], ("response_code".to_owned(), "200".to_owned()));
    assert_eq!(
        s.labels[1],
        ("reporter".to_owned(), "destination".to_owned())
    );
    let get = |k: &str| s.labels.iter().find(|l| l.0 == k).map(|l| l.1.as_str());
    assert_eq!(get("source_workload"), Some("productpage-v1"));
    assert_eq!(
        get("source_principal"),
        Some("spiffe://cluster.local/ns/default/sa/bookinfo-productpage")
    );
    assert_eq!(get("grpc_response_status"), Some(""));
    assert_eq!(get("connection_security_policy"), Some("mutual_tls"));
    assert_eq!(get("destination_canonical_revision"), Some("v1"));
    assert_eq!(s.value, 1.0);
    assert_eq!(s.ts, None);
    // The series identity is the raw text of name and label block.
    let text = String::from_utf8(input.clone()).unwrap();
    let line = text.lines().find(|l| l.starts_with(&s.series)).unwrap();
    assert_eq!(line, format!("{} 1", s.series));
}

#[test]
fn envoy_empty_label_set() {
    let root = corpus_or_skip!();
    let input = read(&root, "envoy-istio-metrics/netdata-go.d.plugin__envoy.txt");
    let (c, _) = ours(&input, &|n: &[u8]| {
        n == b"envoy_cluster_manager_cluster_added"
    });
    assert_eq!(c.samples.len(), 1);
    let s = &c.samples[0];
    assert!(s.labels.is_empty());
    assert_eq!(s.series, "envoy_cluster_manager_cluster_added{}");
    assert_eq!(s.value, 1.0);
    assert!(c.types.contains(&(
        "envoy_cluster_manager_cluster_added".to_owned(),
        MetricType::Counter
    )));
}

#[test]
fn consul_nan_quantiles() {
    let root = corpus_or_skip!();
    let input = read(
        &root,
        "envoy-istio-metrics/netdata-go.d.plugin__consul-dataplane.txt",
    );
    let (c, _) = ours(&input, &|n: &[u8]| {
        n == b"consul_dataplane_connect_duration"
    });
    let q: HashMap<String, f64> = c
        .samples
        .iter()
        .map(|s| (s.labels[0].1.clone(), s.value))
        .collect();
    assert_eq!(q.len(), 3);
    assert!(q["0.5"].is_nan() && q["0.9"].is_nan() && q["0.99"].is_nan());
}

#[test]
fn ztunnel_openmetrics_eof() {
    let root = corpus_or_skip!();
    let input = read(
        &root,
        "envoy-istio-metrics/datadog-integrations-core__istio-1.24-ztunnel.txt",
    );
    let (c, st) = ours(&input, &KeepAll);
    assert!(st.saw_eof);
    let s = c
        .samples
        .iter()
        .find(|s| s.name == "workload_manager_proxies_started_total")
        .unwrap();
    assert_eq!((s.labels.len(), s.value), (0, 7.0));
    // OpenMetrics style: TYPE names the family without `_total`.
    assert!(c.types.contains(&(
        "istio_tcp_connections_opened".to_owned(),
        MetricType::Counter
    )));
    assert!(
        c.samples
            .iter()
            .any(|s| s.name == "istio_tcp_connections_opened_total"
                && s.labels.len() == 23
                && s.labels.iter().any(|l| l.1 == "mutual_tls"))
    );
}

#[test]
fn non_conforming_double_type_is_reported_and_samples_kept() {
    let root = corpus_or_skip!();
    let input = read(
        &root,
        "envoy-istio-metrics/datadog-integrations-core__istio-1.5-non-conforming.txt",
    );
    let text = std::str::from_utf8(&input).unwrap();
    assert!(!text.ends_with('\n'), "fixture has no final newline");
    let second_type = 1 + text
        .lines()
        .position(|l| l == "# TYPE istio_mcp_clients_total counter")
        .unwrap();
    let (c, st) = ours(&input, &KeepAll);
    assert_eq!(st.issues.len(), 1);
    assert_eq!(st.issues[0].line, second_type);
    assert!(st.issues[0].message.contains("istio_mcp_clients_total"));
    assert!(st.issues[0].message.contains("Counter") && st.issues[0].message.contains("Gauge"));
    let mcp: Vec<_> = c
        .samples
        .iter()
        .filter(|s| s.name == "istio_mcp_clients_total")
        .collect();
    assert_eq!(mcp.len(), 4);
    // The last line (no final newline) is parsed.
    assert_eq!(c.samples.last().unwrap().value, 1.0);
    assert!(!st.truncated);
}

#[path = "parser_corpus/baseline_defects.rs"]
mod baseline_defects;
