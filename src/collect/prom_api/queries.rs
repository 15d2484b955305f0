//! The PromQL of one collection. Pure: strings in, strings out.
//!
//! Prometheus aggregates, so an answer holds about one series per edge and
//! response tuple instead of one per pod, bucket and response code:
//!
//! - every query is `sum by (<labels a dialect reads>) (max without (job)
//!   (f(family[w])))`: the scrape target (pod, instance) and labels no
//!   dialect reads are summed away; `max without (job)` first keeps a pod
//!   scraped by two jobs (same `instance`) counted once;
//! - Istio names both ends of an edge in its labels, so its series are summed
//!   over every target; Linkerd's raw proxy metrics name only the callee (the
//!   caller is the scraped pod), and Envoy's the cluster, so theirs keep the
//!   target labels ([`TARGET_LABELS`]);
//! - histogram buckets, `_sum` and `_count` keep only the labels that make
//!   the edge (no response code, TLS, principals…); Istio's source-reported
//!   buckets only for edges the destination did not report (the dedupe
//!   prefers the destination's latency), like Kiali;
//! - `last_over_time` (the end-of-window values) only where the snapshot
//!   uses them: request counters (which edges carry requests, the mTLS share
//!   without traffic in the window, identities, node hints) and TCP counters
//!   and gauges (open connections); none for histograms;
//! - a dialect is chosen per target (Istio, then Linkerd, then Envoy):
//!   [`istio_targets`] finds the targets with Istio series, and Linkerd and
//!   Envoy queries drop those targets (`unless on (<target labels>)`). They
//!   are only sent when [`other_targets`] finds a target without Istio series
//!   that has Linkerd or Envoy series.

use std::time::Duration;

use crate::collect::prom_api::mapping::{FAMILIES, FamilyKind};

/// The labels Prometheus's Kubernetes scrape configs attach that identify
/// the scraped pod (`job` aside), see `mapping::to_proxy_series`.
pub const TARGET_LABELS: [&str; 5] = [
    "namespace",
    "pod",
    "kubernetes_namespace",
    "kubernetes_pod_name",
    "instance",
];

/// Istio labels of request and TCP series that the dialect reads.
const ISTIO_LABELS: [&str; 23] = [
    "reporter",
    "source_workload",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_canonical_service",
    "source_canonical_revision",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
    "connection_security_policy",
];

/// The Istio labels that decide an edge (`mesh::istio`: the two workloads,
/// the Service when the destination workload is unknown, the protocol) and
/// the reporter: what histogram series keep.
const ISTIO_EDGE_LABELS: [&str; 9] = [
    "reporter",
    "source_workload",
    "source_workload_namespace",
    "destination_workload",
    "destination_workload_namespace",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "request_protocol",
];

/// Reporters the Istio dialect reads (`waypoint` counts as destination).
const ISTIO_REPORTERS: &str = r#"reporter=~"source|destination|waypoint""#;
const ISTIO_DEST_REPORTERS: &str = r#"reporter=~"destination|waypoint""#;

/// Linkerd labels the dialect reads.
const LINKERD_LABELS: [&str; 21] = [
    "direction",
    "peer",
    "tls",
    "target_port",
    "target_addr",
    "authority",
    "dst_namespace",
    "dst_deployment",
    "dst_statefulset",
    "dst_daemonset",
    "dst_job",
    "dst_cronjob",
    "dst_replicaset",
    "dst_service",
    "server_id",
    "client_id",
    "grpc_status",
    "grpc_status_code",
    "status_code",
    "classification",
    "error",
];

/// Of [`LINKERD_LABELS`], those only request counts need.
const LINKERD_RESPONSE_ONLY: [&str; 3] = ["status_code", "classification", "error"];

/// Envoy labels the dialect reads (Envoy's tag names and Istio's, Consul's).
const ENVOY_LABELS: [&str; 8] = [
    "envoy_cluster_name",
    "cluster_name",
    "consul_destination_namespace",
    "consul_destination_service",
    "envoy_response_code",
    "response_code",
    "envoy_response_code_class",
    "response_code_class",
];

/// Of [`ENVOY_LABELS`], those only request counts need.
const ENVOY_RESPONSE_ONLY: [&str; 4] = [
    "envoy_response_code",
    "response_code",
    "envoy_response_code_class",
    "response_code_class",
];

/// Which mesh dialect reads a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mesh {
    Istio,
    Linkerd,
    Envoy,
}

/// The mesh of a family of [`FAMILIES`], by its name.
pub fn mesh_of(family: &str) -> Mesh {
    if family.starts_with("istio_") {
        Mesh::Istio
    } else if family.starts_with("envoy_") {
        Mesh::Envoy
    } else {
        Mesh::Linkerd
    }
}

/// What a family is, for querying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A counter of requests or bytes (window and end of window).
    Counter,
    /// A gauge: its value stands for both.
    Gauge,
    /// A histogram's `_bucket`.
    Bucket,
    /// A histogram's `_sum` or `_count`.
    HistPart,
}

fn role_of(family: &str, kind: FamilyKind) -> Role {
    if kind == FamilyKind::Gauge {
        Role::Gauge
    } else if family.ends_with("_bucket") {
        Role::Bucket
    } else if family.ends_with("_sum") || family.ends_with("_count") {
        Role::HistPart
    } else {
        Role::Counter
    }
}

/// What an answer is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// A family's increase over the window.
    Window,
    /// A family's value at the end of the window.
    Last,
    /// A gauge: the value is both.
    WindowAndLast,
    /// The targets with Istio series (one series per target).
    IstioTargets,
    /// The targets without Istio series with Linkerd or Envoy series.
    OtherTargets,
}

/// One query of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The family its series belong to (none for the target queries).
    pub family: Option<&'static str>,
    pub mesh: Option<Mesh>,
    pub used_as: Use,
    pub promql: String,
}

/// `a,b,c`.
fn join<'a>(labels: impl IntoIterator<Item = &'a str>) -> String {
    labels.into_iter().collect::<Vec<_>>().join(",")
}

/// `sum by (labels) (max without (job) (inner))`.
fn agg(labels: &str, inner: &str) -> String {
    format!("sum by ({labels}) (max without (job) ({inner}))")
}

/// `f{sel}[w]` inside `func`.
fn over(func: &str, family: &str, selector: &str, ms: u128) -> String {
    if selector.is_empty() {
        format!("{func}({family}[{ms}ms])")
    } else {
        format!("{func}({family}{{{selector}}}[{ms}ms])")
    }
}

/// The targets with Istio series in the window: requests, or TCP
/// connections for TCP-only proxies.
pub fn istio_targets(window: Duration) -> String {
    let ms = window.as_millis();
    let t = join(TARGET_LABELS);
    let one = |f: &str| {
        format!(
            "group by ({t}) ({})",
            over("last_over_time", f, ISTIO_REPORTERS, ms)
        )
    };
    format!(
        "{} or {}",
        one("istio_requests_total"),
        one("istio_tcp_connections_opened_total")
    )
}

/// The targets without Istio series that have series of a Linkerd or
/// Envoy family in the window.
pub fn other_targets(window: Duration) -> String {
    let ms = window.as_millis();
    let names = join(
        FAMILIES
            .iter()
            .map(|(f, _)| *f)
            .filter(|f| mesh_of(f) != Mesh::Istio),
    )
    .replace(',', "|");
    format!(
        "group by ({t}) (last_over_time({{__name__=~\"{names}\"}}[{ms}ms])) unless on ({t}) ({istio})",
        t = join(TARGET_LABELS),
        istio = istio_targets(window)
    )
}

/// The labels a family's series keep.
fn kept(mesh: Mesh, role: Role) -> Vec<&'static str> {
    let edge_only = matches!(role, Role::Bucket | Role::HistPart);
    let mut out: Vec<&'static str> = match mesh {
        Mesh::Istio if edge_only => ISTIO_EDGE_LABELS.to_vec(),
        Mesh::Istio => ISTIO_LABELS.to_vec(),
        Mesh::Linkerd => LINKERD_LABELS
            .iter()
            .copied()
            .filter(|l| !edge_only || !LINKERD_RESPONSE_ONLY.contains(l))
            .collect(),
        Mesh::Envoy => ENVOY_LABELS
            .iter()
            .copied()
            .filter(|l| !edge_only || !ENVOY_RESPONSE_ONLY.contains(l))
            .collect(),
    };
    if mesh != Mesh::Istio {
        out.splice(0..0, TARGET_LABELS);
    }
    if role == Role::Bucket {
        out.push("le");
    }
    out
}

/// The labels the series of `family` keep after aggregation (the target
/// labels included for Linkerd and Envoy); `None` for a family no dialect
/// reads.
pub fn kept_labels(family: &str) -> Option<Vec<&'static str>> {
    let (_, kind) = FAMILIES.iter().find(|(f, _)| *f == family)?;
    Some(kept(mesh_of(family), role_of(family, *kind)))
}

/// The window increase of an Istio histogram's buckets: the destination's
/// series, and the source's of edges the destination did not report.
fn istio_buckets(family: &str, ms: u128) -> String {
    let labels = join(kept(Mesh::Istio, Role::Bucket));
    let edge = join(
        ISTIO_EDGE_LABELS
            .iter()
            .copied()
            .filter(|l| *l != "reporter"),
    );
    let count = family.replace("_bucket", "_count");
    let dest = agg(&labels, &over("increase", family, ISTIO_DEST_REPORTERS, ms));
    let source = agg(
        &labels,
        &over("increase", family, r#"reporter="source""#, ms),
    );
    let dest_count = agg(
        &join(ISTIO_EDGE_LABELS),
        &over("increase", &count, ISTIO_DEST_REPORTERS, ms),
    );
    format!("{dest} or ({source} unless on ({edge}) {dest_count})")
}

/// The queries of one family.
fn family_queries(family: &'static str, kind: FamilyKind, window: Duration) -> Vec<Query> {
    let ms = window.as_millis();
    let mesh = mesh_of(family);
    let role = role_of(family, kind);
    let labels = join(kept(mesh, role));
    let selector = if mesh == Mesh::Istio {
        ISTIO_REPORTERS
    } else {
        ""
    };
    // Linkerd and Envoy: not from targets with Istio series.
    let finish = |q: String| match mesh {
        Mesh::Istio => q,
        _ => format!(
            "{q} unless on ({}) ({})",
            join(TARGET_LABELS),
            istio_targets(window)
        ),
    };
    let query = |used_as: Use, promql: String| Query {
        family: Some(family),
        mesh: Some(mesh),
        used_as,
        promql: finish(promql),
    };
    let window_q = |func: &str| agg(&labels, &over(func, family, selector, ms));
    match role {
        Role::Gauge => vec![query(Use::WindowAndLast, window_q("last_over_time"))],
        Role::Counter => vec![
            query(Use::Last, window_q("last_over_time")),
            query(Use::Window, window_q("increase")),
        ],
        Role::Bucket if mesh == Mesh::Istio => {
            vec![query(Use::Window, istio_buckets(family, ms))]
        }
        Role::Bucket | Role::HistPart => vec![query(Use::Window, window_q("increase"))],
    }
}

/// Every query of a collection over `window`: the two target queries, then
/// the families' queries in [`FAMILIES`] order.
pub fn queries(window: Duration) -> Vec<Query> {
    let mut out = vec![
        Query {
            family: None,
            mesh: None,
            used_as: Use::IstioTargets,
            promql: istio_targets(window),
        },
        Query {
            family: None,
            mesh: None,
            used_as: Use::OtherTargets,
            promql: other_targets(window),
        },
    ];
    for (f, kind) in FAMILIES {
        out.extend(family_queries(f, kind, window));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn qs() -> Vec<Query> {
        queries(Duration::from_secs(60))
    }

    fn of(family: &str) -> Vec<Query> {
        qs().into_iter()
            .filter(|q| q.family == Some(family))
            .collect()
    }

    /// Parentheses, braces, brackets and quotes balance (PromQL syntax is
    /// checked for real in tests/prom_real.rs).
    fn balanced(q: &str) -> bool {
        let mut stack = Vec::new();
        let mut in_str = false;
        for c in q.chars() {
            if in_str {
                in_str = c != '"';
                continue;
            }
            match c {
                '"' => in_str = true,
                '(' | '{' | '[' => stack.push(c),
                ')' | '}' | ']' => {
                    let open = match c {
                        ')' => '(',
                        '}' => '{',
                        _ => '[',
                    };
                    if stack.pop() != Some(open) {
                        return false;
                    }
                }
                _ => {}
            }
        }
        stack.is_empty() && !in_str
    }

    #[test]
    fn every_query_is_balanced_and_aggregated() {
        let all = qs();
        for q in &all {
            assert!(balanced(&q.promql), "{}", q.promql);
            if q.family.is_some() {
                assert!(q.promql.starts_with("sum by ("), "{}", q.promql);
                assert!(q.promql.contains("max without (job)"), "{}", q.promql);
            } else {
                assert!(q.promql.starts_with("group by ("), "{}", q.promql);
            }
        }
        // 2 target queries; counters 2, gauges and histogram parts 1.
        assert_eq!(all.len(), 2 + 2 * 18 + 2 + 9, "{all:#?}");
    }

    #[test]
    fn no_end_of_window_values_for_histograms() {
        for (f, _) in FAMILIES {
            let hist = f.ends_with("_bucket") || f.ends_with("_sum") || f.ends_with("_count");
            for q in of(f) {
                assert!(
                    !q.promql.contains(&format!("last_over_time({f}")) || !hist,
                    "{}",
                    q.promql
                );
            }
            let uses: Vec<Use> = of(f).iter().map(|q| q.used_as).collect();
            if hist {
                assert_eq!(uses, vec![Use::Window], "{f}");
            } else if f == "tcp_open_connections" || f == "envoy_cluster_upstream_cx_active" {
                assert_eq!(uses, vec![Use::WindowAndLast], "{f}");
            } else {
                assert_eq!(uses, vec![Use::Last, Use::Window], "{f}");
            }
        }
    }

    #[test]
    fn istio_requests_are_summed_over_targets() {
        let q = of("istio_requests_total");
        assert_eq!(
            q[1].promql,
            format!(
                "sum by ({}) (max without (job) (increase(istio_requests_total{{reporter=~\"source|destination|waypoint\"}}[60000ms])))",
                ISTIO_LABELS.join(",")
            )
        );
        assert!(
            q[0].promql
                .contains("(last_over_time(istio_requests_total{")
        );
        for l in ["pod", "instance", "namespace", "le", "source_cluster"] {
            assert!(!ISTIO_LABELS.contains(&l), "{l}");
        }
        assert!(!q[1].promql.contains("unless"));
    }

    #[test]
    fn istio_buckets_drop_the_response_tuple_and_prefer_the_destination() {
        let q = of("istio_request_duration_milliseconds_bucket");
        assert_eq!(q.len(), 1);
        let p = &q[0].promql;
        let by = format!("sum by ({},le)", ISTIO_EDGE_LABELS.join(","));
        assert!(p.starts_with(&by), "{p}");
        for l in [
            "response_code",
            "response_flags",
            "connection_security_policy",
            "source_principal",
        ] {
            assert!(!p.contains(l), "{l} kept in {p}");
        }
        assert!(p.contains(r#"istio_request_duration_milliseconds_bucket{reporter=~"destination|waypoint"}[60000ms]"#), "{p}");
        assert!(p.contains(r#" or (sum by ("#), "{p}");
        assert!(
            p.contains(r#"istio_request_duration_milliseconds_bucket{reporter="source"}[60000ms]"#),
            "{p}"
        );
        assert!(
            p.contains(
                "unless on (source_workload,source_workload_namespace,destination_workload,"
            ),
            "{p}"
        );
        assert!(p.contains(r#"increase(istio_request_duration_milliseconds_count{reporter=~"destination|waypoint"}[60000ms])"#), "{p}");
        let count = of("istio_request_duration_milliseconds_count");
        assert_eq!(
            count[0].promql,
            format!(
                "sum by ({}) (max without (job) (increase(istio_request_duration_milliseconds_count{{reporter=~\"source|destination|waypoint\"}}[60000ms])))",
                ISTIO_EDGE_LABELS.join(",")
            )
        );
    }

    #[test]
    fn linkerd_and_envoy_keep_their_target_and_skip_istio_targets() {
        for f in [
            "response_total",
            "response_latency_ms_bucket",
            "envoy_cluster_upstream_rq_xx",
            "tcp_open_connections",
        ] {
            for q in of(f) {
                let p = &q.promql;
                assert!(
                    p.starts_with(
                        "sum by (namespace,pod,kubernetes_namespace,kubernetes_pod_name,instance,"
                    ),
                    "{p}"
                );
                assert!(
                    p.ends_with(&format!(
                        " unless on (namespace,pod,kubernetes_namespace,kubernetes_pod_name,instance) ({})",
                        istio_targets(Duration::from_secs(60))
                    )),
                    "{p}"
                );
            }
        }
        let b = &of("response_latency_ms_bucket")[0].promql;
        assert!(
            b.contains(",le) (max without (job) (increase(response_latency_ms_bucket[60000ms])))"),
            "{b}"
        );
        assert!(
            !b.contains(",status_code,") && !b.contains("classification"),
            "{b}"
        );
        assert!(
            of("response_total")[1]
                .promql
                .contains("status_code,classification,error")
        );
        let e = &of("envoy_cluster_upstream_rq_time_bucket")[0].promql;
        assert!(e.contains("envoy_cluster_name,cluster_name,consul_destination_namespace,consul_destination_service,le)"), "{e}");
    }

    #[test]
    fn target_queries() {
        let w = Duration::from_millis(1500);
        assert_eq!(
            istio_targets(w),
            "group by (namespace,pod,kubernetes_namespace,kubernetes_pod_name,instance) (last_over_time(istio_requests_total{reporter=~\"source|destination|waypoint\"}[1500ms])) or group by (namespace,pod,kubernetes_namespace,kubernetes_pod_name,instance) (last_over_time(istio_tcp_connections_opened_total{reporter=~\"source|destination|waypoint\"}[1500ms]))"
        );
        let o = other_targets(w);
        assert!(
            o.contains("{__name__=~\"response_total|response_latency_ms_bucket|"),
            "{o}"
        );
        assert!(o.contains("|envoy_cluster_ssl_handshake\"}[1500ms]"), "{o}");
        assert!(
            !o.contains("__name__=~\"istio") && !o.contains("|istio_"),
            "{o}"
        );
        assert!(o.ends_with(&format!(
            "unless on (namespace,pod,kubernetes_namespace,kubernetes_pod_name,instance) ({})",
            istio_targets(w)
        )));
    }

    #[test]
    fn kept_labels_by_family() {
        assert_eq!(kept_labels("nope"), None);
        let b = kept_labels("istio_request_duration_milliseconds_bucket").unwrap();
        assert_eq!(b.last(), Some(&"le"));
        assert!(!b.contains(&"response_code"));
        let r = kept_labels("istio_requests_total").unwrap();
        assert!(r.contains(&"response_code") && !r.contains(&"le"));
        let l = kept_labels("tcp_read_bytes_total").unwrap();
        assert_eq!(&l[..5], &TARGET_LABELS);
    }
}
