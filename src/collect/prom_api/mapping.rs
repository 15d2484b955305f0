//! PromQL result series → the dialects → per-edge inputs. Pure logic.
//!
//! Prometheus attaches target labels to every series it stores; the
//! dialects expect the labels the proxy exposed. So each series is grouped
//! by its scrape target (`namespace`/`kubernetes_namespace` +
//! `pod`/`kubernetes_pod_name`, else `instance`), the target labels are
//! removed, and labels Prometheus renamed on a clash (`exported_namespace`)
//! get their original name back. Each target's series then go through one
//! [`ScrapeProcessor`], exactly like one proxy scrape.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::collect::prom_api::response::Series;
use crate::collect::scrape::{Label, Sample};
use crate::mesh::{ScrapeProcessor, ScrapeResult, ScrapeTarget};
use crate::model::build::EdgeInputs;
use crate::model::inventory::Inventory;

/// How a family is queried over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyKind {
    /// `increase(f[window])` for the window, the instant value at its end.
    Counter,
    /// A gauge: its instant value stands for both.
    Gauge,
}

/// Every family a dialect reads (see `mesh::{istio, linkerd, envoy}`),
/// histograms as their `_bucket`, `_sum` and `_count` series.
pub const FAMILIES: [(&str, FamilyKind); 29] = [
    // Istio standard metrics.
    ("istio_requests_total", FamilyKind::Counter),
    (
        "istio_request_duration_milliseconds_bucket",
        FamilyKind::Counter,
    ),
    (
        "istio_request_duration_milliseconds_sum",
        FamilyKind::Counter,
    ),
    (
        "istio_request_duration_milliseconds_count",
        FamilyKind::Counter,
    ),
    ("istio_tcp_sent_bytes_total", FamilyKind::Counter),
    ("istio_tcp_received_bytes_total", FamilyKind::Counter),
    ("istio_tcp_connections_opened_total", FamilyKind::Counter),
    ("istio_tcp_connections_closed_total", FamilyKind::Counter),
    // Linkerd proxy metrics.
    ("response_total", FamilyKind::Counter),
    ("response_latency_ms_bucket", FamilyKind::Counter),
    ("response_latency_ms_sum", FamilyKind::Counter),
    ("response_latency_ms_count", FamilyKind::Counter),
    ("tcp_open_connections", FamilyKind::Gauge),
    ("tcp_read_bytes_total", FamilyKind::Counter),
    ("tcp_write_bytes_total", FamilyKind::Counter),
    ("tcp_open_total", FamilyKind::Counter),
    ("tcp_close_total", FamilyKind::Counter),
    // Envoy cluster stats.
    ("envoy_cluster_upstream_rq", FamilyKind::Counter),
    ("envoy_cluster_upstream_rq_xx", FamilyKind::Counter),
    ("envoy_cluster_upstream_rq_total", FamilyKind::Counter),
    ("envoy_cluster_upstream_rq_time_bucket", FamilyKind::Counter),
    ("envoy_cluster_upstream_rq_time_sum", FamilyKind::Counter),
    ("envoy_cluster_upstream_rq_time_count", FamilyKind::Counter),
    ("envoy_cluster_upstream_cx_total", FamilyKind::Counter),
    ("envoy_cluster_upstream_cx_destroy", FamilyKind::Counter),
    ("envoy_cluster_upstream_cx_active", FamilyKind::Gauge),
    (
        "envoy_cluster_upstream_cx_tx_bytes_total",
        FamilyKind::Counter,
    ),
    (
        "envoy_cluster_upstream_cx_rx_bytes_total",
        FamilyKind::Counter,
    ),
    ("envoy_cluster_ssl_handshake", FamilyKind::Counter),
];

const NS_LABELS: [&str; 2] = ["namespace", "kubernetes_namespace"];
const POD_LABELS: [&str; 2] = ["pod", "kubernetes_pod_name"];

/// The scrape target a series came from: `(namespace, pod)`; the namespace
/// is empty when Prometheus has no Kubernetes target labels (the pod is then
/// the `instance`, or empty).
pub type TargetKey = (String, String);

/// One series as a dialect sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxySeries {
    pub family: &'static str,
    /// The proxy's own labels, sorted by name.
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl ProxySeries {
    /// `family{a="x",b="y"}`: the series' identity within its target.
    pub fn identity(&self) -> String {
        let mut s = String::with_capacity(64);
        s.push_str(self.family);
        s.push('{');
        for (i, (k, v)) in self.labels.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(k);
            s.push_str("=\"");
            s.push_str(v);
            s.push('"');
        }
        s.push('}');
        s
    }
}

/// The first of `names` present (non-empty) in `labels`: (label, value).
fn pick<'a>(
    labels: &'a BTreeMap<String, String>,
    names: &[&'static str],
) -> Option<(&'static str, &'a str)> {
    names.iter().find_map(|n| {
        labels
            .get(*n)
            .filter(|v| !v.is_empty())
            .map(|v| (*n, v.as_str()))
    })
}

/// Split a result series into its target and the proxy's own labels.
pub fn to_proxy_series(family: &'static str, s: Series) -> (TargetKey, ProxySeries) {
    let ns = pick(&s.labels, &NS_LABELS);
    let pod = pick(&s.labels, &POD_LABELS);
    let mut dropped = vec!["__name__", "instance", "job"];
    let target = match (ns, pod) {
        (Some((nl, ns)), Some((pl, pod))) => {
            dropped.extend([nl, pl]);
            (ns.to_string(), pod.to_string())
        }
        _ => (
            String::new(),
            s.labels.get("instance").cloned().unwrap_or_default(),
        ),
    };
    let mut own: Vec<(String, String)> = Vec::with_capacity(s.labels.len());
    let mut exported: Vec<(String, String)> = Vec::new();
    for (k, v) in s.labels {
        if dropped.contains(&k.as_str()) {
            continue;
        }
        match k.strip_prefix("exported_") {
            // The proxy's own label, renamed because a target label had its name.
            Some(orig) if !orig.is_empty() => exported.push((orig.to_string(), v)),
            _ => own.push((k, v)),
        }
    }
    // `own` is sorted (it came from a BTreeMap); a restored label replaces
    // a same-named one.
    for (k, v) in exported {
        match own.binary_search_by(|(x, _)| x.as_str().cmp(&k)) {
            Ok(i) => own[i].1 = v,
            Err(i) => own.insert(i, (k, v)),
        }
    }
    (
        target,
        ProxySeries {
            family,
            labels: own,
            value: s.value,
        },
    )
}

/// Series grouped by target.
pub type ByTarget = BTreeMap<TargetKey, Vec<ProxySeries>>;

/// Add one query's series to `by`.
pub fn group_into(by: &mut ByTarget, family: &'static str, series: Vec<Series>) {
    for s in series {
        let (t, p) = to_proxy_series(family, s);
        by.entry(t).or_default().push(p);
    }
}

/// Run one target's series through the dialects.
pub fn process_target(
    inv: &Inventory,
    (ns, pod): &TargetKey,
    series: &[ProxySeries],
) -> ScrapeResult {
    let mut proc = ScrapeProcessor::new(ScrapeTarget::new(ns, pod, inv));
    for s in series {
        let labels: Vec<Label<'_>> = s
            .labels
            .iter()
            .map(|(k, v)| Label {
                name: k.as_str(),
                value: Cow::Borrowed(v.as_str()),
            })
            .collect();
        let id = s.identity();
        proc.feed_sample(&Sample {
            name: s.family,
            labels: &labels,
            series: id.as_bytes(),
            value: s.value,
            timestamp_ms: None,
        });
    }
    proc.finish()
}

/// What the mapping saw, for the source status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MapStats {
    pub targets: usize,
    pub series: usize,
    pub edges: usize,
}

/// The window increases and the end-of-window values, by target → inputs.
pub fn inputs_from_series(
    inv: &Inventory,
    window: &ByTarget,
    last: &ByTarget,
    window_s: f64,
    at_ms: i64,
) -> (EdgeInputs, MapStats) {
    let mut inputs = EdgeInputs {
        window_s,
        at_ms,
        ..EdgeInputs::default()
    };
    let mut stats = MapStats::default();
    for (target, series) in last {
        stats.targets += 1;
        stats.series += series.len();
        let r = process_target(inv, target, series);
        inputs.note(r.mesh, &r.acc);
        for ((key, reporter), sample) in &r.acc.edges {
            inputs
                .edges
                .entry(key.clone())
                .or_default()
                .add_last(*reporter, sample);
        }
    }
    for (target, series) in window {
        let r = process_target(inv, target, series);
        inputs.note(r.mesh, &r.acc);
        for ((key, reporter), sample) in &r.acc.edges {
            inputs
                .edges
                .entry(key.clone())
                .or_default()
                .add_window(*reporter, sample);
        }
    }
    stats.edges = inputs.edges.len();
    (inputs, stats)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::mesh::dialect_filter;

    fn series(labels: &[(&str, &str)], value: f64) -> Series {
        Series {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
            at_ms: 0,
        }
    }

    #[test]
    fn every_family_is_one_a_dialect_reads() {
        for (f, _) in FAMILIES {
            assert!(dialect_filter(f.as_bytes()), "{f} not read by any dialect");
        }
    }

    #[test]
    fn target_labels_removed_and_exported_restored() {
        let s = series(
            &[
                ("__name__", "response_total"),
                ("namespace", "emojivoto"),
                ("pod", "web-1"),
                ("instance", "10.0.0.1:4191"),
                ("job", "linkerd-proxy"),
                ("exported_namespace", "proxy-own"),
                ("direction", "inbound"),
            ],
            3.0,
        );
        let (t, p) = to_proxy_series("response_total", s);
        assert_eq!(t, ("emojivoto".to_string(), "web-1".to_string()));
        assert_eq!(
            p.labels,
            vec![
                ("direction".to_string(), "inbound".to_string()),
                ("namespace".to_string(), "proxy-own".to_string()),
            ]
        );
        assert_eq!(
            p.identity(),
            "response_total{direction=\"inbound\",namespace=\"proxy-own\"}"
        );
    }

    #[test]
    fn without_kubernetes_labels_the_instance_is_the_target() {
        let s = series(
            &[("instance", "h:9090"), ("kubernetes_namespace", "x")],
            1.0,
        );
        let (t, _) = to_proxy_series("istio_requests_total", s);
        assert_eq!(t, (String::new(), "h:9090".to_string()));
        let (t, p) = to_proxy_series("istio_requests_total", series(&[], 1.0));
        assert_eq!(t, (String::new(), String::new()));
        assert!(p.labels.is_empty());
    }
}
