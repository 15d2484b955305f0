//! Envoy admin's `filter` query parameter: ask an Envoy sidecar for only the
//! stats the dialects read, instead of its whole page.
//!
//! `GET /stats/prometheus?filter=REGEX` serves only the stats whose name the
//! regular expression matches, partially (Envoy's admin: "Filters the
//! returned stats to those with names matching the regular expression").
//! An Istio sidecar's page is 0.1–5 MB (22 MB for the scale:1000 demo's
//! busiest pod), of which the dialects keep a
//! fraction: the rest is Envoy's own noise and Istio's request/response
//! size histograms, each as large as the latency histogram. Filtering at the
//! proxy saves its serialisation, the API server's pod-proxy transfer and
//! our parse.
//!
//! Envoy matches its own stat name (`cluster.NAME.upstream_rq_200`, Istio's
//! stats under names that contain `istio_requests_total`),
//! not the Prometheus family name (`envoy_cluster_upstream_rq`): every
//! fragment below matches both forms, unanchored. The regex may keep more
//! than a dialect reads (never less: `tests/stat_filter_corpus.rs` runs the
//! dialects over real pages whole and filtered and requires the same
//! result); the parser's family prefilter still drops the rest.

/// The `filter` for an Envoy sidecar (Istio's or plain Envoy's): the
/// families of the Istio and the Envoy dialect.
pub const ENVOY_STAT_FILTER: &str = concat!(
    "istio_requests_total|istio_request_duration_milliseconds|",
    "istio_tcp_(sent|received)_bytes|istio_tcp_connections_(opened|closed)|",
    // envoy_cluster_upstream_rq{response_code} is cluster.X.upstream_rq_200,
    // envoy_cluster_upstream_rq_xx{class} is cluster.X.upstream_rq_2xx.
    "upstream_rq($|_(total|time|xx|[1-5][0-9x][0-9x]))|",
    "upstream_cx_(total|destroy|active|tx_bytes_total|rx_bytes_total)|",
    // cluster.X.ssl.handshake, envoy_cluster_ssl_handshake.
    "ssl.handshake"
);

/// The query string for [`ENVOY_STAT_FILTER`]: `filter=` and the regex,
/// percent-encoded (built once: every scrape of a round sends it).
pub fn envoy_stat_query() -> &'static str {
    static QUERY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    QUERY.get_or_init(|| {
        let encoded: String =
            form_urlencoded::byte_serialize(ENVOY_STAT_FILTER.as_bytes()).collect();
        format!("filter={encoded}")
    })
}

/// The `filter` parameter of a query string, decoded (as Envoy's admin reads it).
pub fn filter_param(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "filter")
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re() -> regex::Regex {
        regex::Regex::new(ENVOY_STAT_FILTER).unwrap()
    }

    #[test]
    fn keeps_every_family_a_dialect_reads_in_both_name_forms() {
        let re = re();
        for f in crate::mesh::istio::FAMILIES
            .iter()
            .chain(crate::mesh::envoy::FAMILIES.iter())
        {
            let base = f
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(re.is_match(base), "{base} dropped");
        }
        // Envoy's own names of the same stats.
        for name in [
            "cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_200",
            "cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_5xx",
            "cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_total",
            "cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_time",
            "cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_cx_active",
            "cluster.outbound|9080||reviews.default.svc.cluster.local.ssl.handshake",
            "reporter=.=destination;.;source_workload=.=productpage-v1;.;istio_requests_total",
            "istiocustom.istio_request_duration_milliseconds",
        ] {
            assert!(re.is_match(name), "{name} dropped");
        }
    }

    #[test]
    fn drops_the_noise() {
        let re = re();
        for name in [
            "istio_request_bytes",
            "istio_response_bytes",
            "istio_build",
            "envoy_cluster_upstream_cx_connect_ms",
            "envoy_cluster_upstream_cx_length_ms",
            "envoy_cluster_upstream_rq_retry",
            "envoy_cluster_upstream_rq_pending_active",
            "envoy_listener_downstream_cx_total",
            "envoy_server_memory_allocated",
            "envoy_http_downstream_rq_total",
        ] {
            assert!(!re.is_match(name), "{name} kept");
        }
    }

    #[test]
    fn the_query_round_trips() {
        let q = envoy_stat_query();
        assert!(!q.contains('|') && !q.contains('('), "{q}");
        assert_eq!(filter_param(q).as_deref(), Some(ENVOY_STAT_FILTER));
        assert_eq!(
            filter_param(&format!("usedonly&{q}")).as_deref(),
            Some(ENVOY_STAT_FILTER)
        );
        assert_eq!(filter_param("usedonly"), None);
    }
}
