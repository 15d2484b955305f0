//! Envoy's own statistics around Istio's metrics: server, cluster manager,
//! listener manager and per-cluster stats (`{}` label sets included), with
//! deterministic, monotonic values. This is the bulk of a real sidecar's
//! scrape and what a parser's family prefilter must skip cheaply.

use std::fmt::Write;

use super::istio::line;
use super::{Noise, StatFilter, fmt_bound};
use crate::sim::rng;
use crate::sim::scenario::{Pod, Scenario};
use crate::sim::traffic::ISTIO_BUCKETS;

/// Untagged counters (`name{} value`), emitted at every noise level but `None`.
const BASE_COUNTERS: &[&str] = &[
    "cluster_manager_cds_update_attempt",
    "cluster_manager_cds_update_failure",
    "cluster_manager_cds_update_rejected",
    "cluster_manager_cds_update_success",
    "cluster_manager_cluster_added",
    "cluster_manager_cluster_modified",
    "cluster_manager_cluster_removed",
    "cluster_manager_cluster_updated",
    "cluster_manager_cluster_updated_via_merge",
    "cluster_manager_update_merge_cancelled",
    "cluster_manager_update_out_of_merge_window",
    "listener_manager_lds_update_attempt",
    "listener_manager_lds_update_failure",
    "listener_manager_lds_update_rejected",
    "listener_manager_lds_update_success",
    "listener_manager_listener_added",
    "listener_manager_listener_create_failure",
    "listener_manager_listener_create_success",
    "listener_manager_listener_in_place_updated",
    "listener_manager_listener_modified",
    "listener_manager_listener_removed",
    "listener_manager_listener_stopped",
    "server_debug_assertion_failures",
    "server_dropped_stat_flushes",
    "server_dynamic_unknown_fields",
    "server_envoy_bug_failures",
    "server_main_thread_watchdog_mega_miss",
    "server_main_thread_watchdog_miss",
    "server_static_unknown_fields",
    "server_wip_protos",
    "server_worker_0_watchdog_mega_miss",
    "server_worker_0_watchdog_miss",
    "server_worker_1_watchdog_mega_miss",
    "server_worker_1_watchdog_miss",
];

const BASE_GAUGES: &[&str] = &[
    "cluster_manager_active_clusters",
    "cluster_manager_cds_update_time",
    "cluster_manager_warming_clusters",
    "listener_manager_lds_update_time",
    "listener_manager_total_filter_chains_draining",
    "listener_manager_total_listeners_active",
    "listener_manager_total_listeners_draining",
    "listener_manager_total_listeners_warming",
    "listener_manager_workers_started",
    "server_concurrency",
    "server_days_until_first_cert_expiring",
    "server_hot_restart_epoch",
    "server_live",
    "server_memory_allocated",
    "server_memory_heap_size",
    "server_memory_physical_size",
    "server_parent_connections",
    "server_seconds_until_first_ocsp_response_expiring",
    "server_state",
    "server_stats_recent_lookups",
    "server_total_connections",
    "server_uptime",
    "server_version",
];

const BASE_HISTOGRAMS: &[&str] = &[
    "cluster_manager_cds_update_duration",
    "listener_manager_lds_update_duration",
    "server_initialization_time_ms",
];

/// Per-cluster counters (`envoy_cluster_<stat>{cluster_name="..."}`).
const CLUSTER_COUNTERS: &[&str] = &[
    "assignment_stale",
    "assignment_timeout_received",
    "bind_errors",
    "default_total_match_count",
    "http2_dropped_headers_with_underscores",
    "http2_header_overflow",
    "http2_headers_cb_no_stream",
    "http2_inbound_empty_frames_flood",
    "http2_inbound_priority_frames_flood",
    "http2_inbound_window_update_frames_flood",
    "http2_keepalive_timeout",
    "http2_metadata_empty_frames",
    "http2_outbound_control_flood",
    "http2_outbound_flood",
    "http2_requests_rejected_with_underscores_in_headers",
    "http2_rx_messaging_error",
    "http2_rx_reset",
    "http2_stream_refused_errors",
    "http2_trailers",
    "http2_tx_flush_timeout",
    "http2_tx_reset",
    "internal_upstream_rq_completed",
    "lb_healthy_panic",
    "lb_local_cluster_not_ok",
    "lb_recalculate_zone_structures",
    "lb_subsets_created",
    "lb_subsets_fallback",
    "lb_subsets_fallback_panic",
    "lb_subsets_removed",
    "lb_subsets_selected",
    "lb_zone_cluster_too_small",
    "lb_zone_no_capacity_left",
    "lb_zone_number_differs",
    "lb_zone_routing_all_directly",
    "lb_zone_routing_cross_zone",
    "lb_zone_routing_sampled",
    "membership_change",
    "original_dst_host_invalid",
    "retry_or_shadow_abandoned",
    "update_attempt",
    "update_empty",
    "update_failure",
    "update_no_rebuild",
    "update_success",
    "upstream_cx_close_notify",
    "upstream_cx_connect_attempts_exceeded",
    "upstream_cx_connect_fail",
    "upstream_cx_connect_timeout",
    "upstream_cx_destroy",
    "upstream_cx_destroy_local",
    "upstream_cx_destroy_local_with_active_rq",
    "upstream_cx_destroy_remote",
    "upstream_cx_destroy_remote_with_active_rq",
    "upstream_cx_destroy_with_active_rq",
    "upstream_cx_http1_total",
    "upstream_cx_http2_total",
    "upstream_cx_http3_total",
    "upstream_cx_idle_timeout",
    "upstream_cx_max_duration_reached",
    "upstream_cx_max_requests",
    "upstream_cx_none_healthy",
    "upstream_cx_overflow",
    "upstream_cx_pool_overflow",
    "upstream_cx_protocol_error",
    "upstream_cx_rx_bytes_total",
    "upstream_cx_total",
    "upstream_cx_tx_bytes_total",
    "upstream_flow_control_backed_up_total",
    "upstream_flow_control_drained_total",
    "upstream_flow_control_paused_reading_total",
    "upstream_flow_control_resumed_reading_total",
    "upstream_internal_redirect_failed_total",
    "upstream_internal_redirect_succeeded_total",
    "upstream_rq_cancelled",
    "upstream_rq_completed",
    "upstream_rq_maintenance_mode",
    "upstream_rq_max_duration_reached",
    "upstream_rq_pending_failure_eject",
    "upstream_rq_pending_overflow",
    "upstream_rq_pending_total",
    "upstream_rq_per_try_idle_timeout",
    "upstream_rq_per_try_timeout",
    "upstream_rq_retry",
    "upstream_rq_retry_backoff_exponential",
    "upstream_rq_retry_backoff_ratelimited",
    "upstream_rq_retry_limit_exceeded",
    "upstream_rq_retry_overflow",
    "upstream_rq_retry_success",
    "upstream_rq_rx_reset",
    "upstream_rq_timeout",
    "upstream_rq_total",
    "upstream_rq_tx_reset",
];

const CLUSTER_GAUGES: &[&str] = &[
    "circuit_breakers_default_cx_open",
    "circuit_breakers_default_cx_pool_open",
    "circuit_breakers_default_rq_open",
    "circuit_breakers_default_rq_pending_open",
    "circuit_breakers_default_rq_retry_open",
    "circuit_breakers_high_cx_open",
    "circuit_breakers_high_cx_pool_open",
    "circuit_breakers_high_rq_open",
    "circuit_breakers_high_rq_pending_open",
    "circuit_breakers_high_rq_retry_open",
    "lb_subsets_active",
    "max_host_weight",
    "membership_degraded",
    "membership_excluded",
    "membership_healthy",
    "membership_total",
    "upstream_cx_active",
    "upstream_cx_rx_bytes_buffered",
    "upstream_cx_tx_bytes_buffered",
    "upstream_rq_active",
    "upstream_rq_pending_active",
    "version",
];

const CLUSTER_HISTOGRAMS: &[&str] = &["upstream_cx_connect_ms", "upstream_cx_length_ms"];

/// Per-listener counters (`envoy_listener_<stat>{listener_address="..."}`).
const LISTENER_COUNTERS: &[&str] = &[
    "downstream_cx_destroy",
    "downstream_cx_overflow",
    "downstream_cx_overload_reject",
    "downstream_cx_total",
    "downstream_cx_transport_socket_connect_timeout",
    "downstream_global_cx_overflow",
    "downstream_listener_filter_error",
    "downstream_listener_filter_remote_close",
    "downstream_pre_cx_timeout",
    "extension_config_missing",
    "http.inbound_0.0.0.0_15006.downstream_rq_completed",
    "no_filter_chain_match",
    "server_ssl_socket_factory.downstream_context_secrets_not_ready",
    "server_ssl_socket_factory.ssl_context_update_by_sds",
    "worker_0_downstream_cx_total",
    "worker_1_downstream_cx_total",
];

const LISTENERS: &[&str] = &[
    "0.0.0.0_15001",
    "0.0.0.0_15006",
    "0.0.0.0_15021",
    "0.0.0.0_15090",
    "virtualInbound",
    "virtualOutbound",
];

/// HTTP connection manager counters (`envoy_http_<stat>{http_conn_manager_prefix="..."}`).
const HTTP_COUNTERS: &[&str] = &[
    "downstream_cx_delayed_close_timeout",
    "downstream_cx_destroy",
    "downstream_cx_destroy_local",
    "downstream_cx_destroy_remote",
    "downstream_cx_http1_total",
    "downstream_cx_http2_total",
    "downstream_cx_idle_timeout",
    "downstream_cx_protocol_error",
    "downstream_cx_rx_bytes_total",
    "downstream_cx_total",
    "downstream_cx_tx_bytes_total",
    "downstream_rq_completed",
    "downstream_rq_http1_total",
    "downstream_rq_http2_total",
    "downstream_rq_idle_timeout",
    "downstream_rq_non_relative_path",
    "downstream_rq_overload_close",
    "downstream_rq_response_before_rq_complete",
    "downstream_rq_rx_reset",
    "downstream_rq_timeout",
    "downstream_rq_too_large",
    "downstream_rq_total",
    "downstream_rq_tx_reset",
    "downstream_rq_ws_on_non_ws_route",
    "no_cluster",
    "no_route",
    "rq_direct_response",
    "rq_redirect",
    "rq_reset_after_downstream_response_started",
    "rq_total",
];

const HTTP_PREFIXES: &[&str] = &[
    "admin",
    "agent",
    "inbound_0.0.0.0_15006",
    "outbound_0.0.0.0_15001",
    "stats",
];

/// Clusters every sidecar has besides the ones its traffic uses.
const STATIC_CLUSTERS: &[&str] = &[
    "BlackHoleCluster",
    "InboundPassthroughCluster",
    "PassthroughCluster",
    "agent",
    "prometheus_stats",
    "sds-grpc",
];

/// Everything needed to render one pod's noise at one moment.
pub struct NoiseCtx<'a> {
    level: Noise,
    seed: u64,
    t_s: u64,
    uptime_s: u64,
    clusters: Vec<String>,
    /// Requests by response class (1–5) of the clusters traffic uses: their
    /// request counters follow the traffic instead of the noise.
    traffic: Vec<Option<[u64; 6]>>,
    /// Envoy admin's `?filter=`: the families served.
    filter: StatFilter<'a>,
}

impl<'a> NoiseCtx<'a> {
    /// Noise for `pod` at `t_ms`; `traffic_clusters` are the Envoy clusters its traffic uses.
    pub fn new(
        s: &Scenario,
        pod: &Pod,
        t_ms: u64,
        level: Noise,
        traffic_clusters: &[String],
    ) -> Self {
        let seed = rng::hash(s.seed, &[&pod.namespace, &pod.name]);
        let mut clusters = vec!["xds-grpc".to_string()];
        if level == Noise::Realistic {
            clusters.extend(STATIC_CLUSTERS.iter().map(|c| (*c).to_string()));
            for c in traffic_clusters {
                if !clusters.contains(c) {
                    clusters.push(c.clone());
                }
            }
        }
        Self {
            level,
            seed,
            t_s: t_ms / 1000,
            uptime_s: 3600 + seed % 7200,
            traffic: vec![None; clusters.len()],
            clusters,
            filter: StatFilter::default(),
        }
    }

    /// Serve only the families `filter` keeps.
    pub fn with_filter(mut self, filter: StatFilter<'a>) -> Self {
        self.filter = filter;
        self
    }

    /// Let the request counters of the traffic's clusters follow `rq`
    /// (cluster → requests so far by response class).
    pub fn with_traffic(mut self, rq: &rustc_hash::FxHashMap<String, [f64; 6]>) -> Self {
        for (j, c) in self.clusters.iter().enumerate() {
            if let Some(by) = rq.get(c) {
                self.traffic[j] = Some(by.map(|x| x.floor() as u64));
            }
        }
        self
    }

    /// Stat `name` of cluster `j`: the traffic's count for the request
    /// counters of a cluster traffic uses, else noise.
    fn cluster_counter(&self, name: &str, i: usize, j: usize) -> u64 {
        match (&self.traffic[j], name) {
            (Some(by), "upstream_rq_total" | "upstream_rq_completed") => by.iter().sum(),
            _ => self.counter(i, j),
        }
    }

    /// A monotonic counter value for stat `i` of cluster `j`.
    fn counter(&self, i: usize, j: usize) -> u64 {
        let h = rng::mix(self.seed ^ ((i as u64) << 20) ^ j as u64);
        if h.is_multiple_of(3) {
            return 0;
        }
        let period = 5 + (h >> 8) % 900;
        (h >> 20) % 40 + (self.uptime_s + self.t_s) / period
    }

    fn gauge(&self, i: usize, j: usize) -> u64 {
        let h = rng::mix(self.seed ^ 0xabc ^ ((i as u64) << 20) ^ j as u64);
        if h.is_multiple_of(4) {
            0
        } else {
            (h >> 8) % 64
        }
    }

    /// Counter families, to go before Istio's counters.
    pub fn counters(&self, out: &mut String) {
        if self.level == Noise::None {
            return;
        }
        let cluster_stats = if self.level == Noise::Realistic {
            CLUSTER_COUNTERS
        } else {
            &CLUSTER_COUNTERS[..8]
        };
        for (i, name) in cluster_stats.iter().enumerate() {
            let prefix = format!("envoy_cluster_{name}");
            if !self.filter.keeps(&prefix) {
                continue;
            }
            let _ = writeln!(out, "# TYPE {prefix} counter");
            for (j, c) in self.clusters.iter().enumerate() {
                line(
                    out,
                    &prefix,
                    "{cluster_name=\"",
                    c,
                    "\"} ",
                    self.cluster_counter(name, i, j),
                );
            }
        }
        if self.level == Noise::Realistic && self.filter.keeps("envoy_cluster_upstream_rq_xx") {
            let _ = writeln!(out, "# TYPE envoy_cluster_upstream_rq_xx counter");
            for (j, c) in self.clusters.iter().enumerate() {
                match &self.traffic[j] {
                    Some(by) => {
                        for (class, n) in by.iter().enumerate().filter(|(k, n)| *k > 0 && **n > 0) {
                            let _ = writeln!(
                                out,
                                "envoy_cluster_upstream_rq_xx{{response_code_class=\"{class}xx\",cluster_name=\"{c}\"}} {n}"
                            );
                        }
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "envoy_cluster_upstream_rq_xx{{response_code_class=\"2xx\",cluster_name=\"{c}\"}} {}",
                            self.counter(999, j)
                        );
                    }
                }
            }
        }
        if self.level == Noise::Realistic {
            let blocks: [(&str, &str, &[&str], &[&str]); 2] = [
                (
                    "http",
                    "http_conn_manager_prefix",
                    HTTP_COUNTERS,
                    HTTP_PREFIXES,
                ),
                ("listener", "listener_address", LISTENER_COUNTERS, LISTENERS),
            ];
            for (bi, (family, label, stats, values)) in blocks.iter().enumerate() {
                for (i, name) in stats.iter().enumerate() {
                    let name = name.replace('.', "_");
                    if !self.filter.keeps(&format!("envoy_{family}_{name}")) {
                        continue;
                    }
                    let _ = writeln!(out, "# TYPE envoy_{family}_{name} counter");
                    for (j, v) in values.iter().enumerate() {
                        let _ = writeln!(
                            out,
                            "envoy_{family}_{name}{{{label}=\"{v}\"}} {}",
                            self.counter(5000 + bi * 100 + i, j)
                        );
                    }
                }
            }
        }
        let base = if self.level == Noise::Realistic {
            BASE_COUNTERS
        } else {
            &BASE_COUNTERS[..6]
        };
        for (i, name) in base.iter().enumerate() {
            if !self.filter.keeps(&format!("envoy_{name}")) {
                continue;
            }
            let _ = writeln!(
                out,
                "# TYPE envoy_{name} counter\nenvoy_{name}{{}} {}",
                self.counter(1000 + i, 0)
            );
        }
    }

    /// Gauge families (and `istio_build`).
    pub fn gauges(&self, out: &mut String) {
        if self.level == Noise::None {
            return;
        }
        if self.level == Noise::Realistic {
            for (i, name) in CLUSTER_GAUGES.iter().enumerate() {
                let prefix = format!("envoy_cluster_{name}");
                if !self.filter.keeps(&prefix) {
                    continue;
                }
                let _ = writeln!(out, "# TYPE {prefix} gauge");
                for (j, c) in self.clusters.iter().enumerate() {
                    line(
                        out,
                        &prefix,
                        "{cluster_name=\"",
                        c,
                        "\"} ",
                        self.gauge(i, j),
                    );
                }
            }
        }
        let base = if self.level == Noise::Realistic {
            BASE_GAUGES
        } else {
            &BASE_GAUGES[..4]
        };
        for (i, name) in base.iter().enumerate() {
            if !self.filter.keeps(&format!("envoy_{name}")) {
                continue;
            }
            let v = if *name == "server_uptime" {
                self.uptime_s + self.t_s
            } else {
                self.gauge(2000 + i, 0)
            };
            let _ = writeln!(out, "# TYPE envoy_{name} gauge\nenvoy_{name}{{}} {v}");
        }
        if !self.filter.keeps("istio_build") {
            return;
        }
        out.push_str(
            "# TYPE istio_build gauge\nistio_build{component=\"proxy\",tag=\"1.24.2\"} 1\n",
        );
    }

    /// Histogram families, to go before Istio's histograms.
    pub fn histograms(&self, out: &mut String) {
        if self.level != Noise::Realistic {
            return;
        }
        for (i, name) in CLUSTER_HISTOGRAMS.iter().enumerate() {
            if !self.filter.keeps(&format!("envoy_cluster_{name}")) {
                continue;
            }
            let _ = writeln!(out, "# TYPE envoy_cluster_{name} histogram");
            for (j, c) in self.clusters.iter().enumerate() {
                self.histogram(
                    out,
                    &format!("envoy_cluster_{name}"),
                    &format!("cluster_name=\"{c}\""),
                    3000 + i * 100 + j,
                );
            }
        }
        for (i, name) in BASE_HISTOGRAMS.iter().enumerate() {
            if !self.filter.keeps(&format!("envoy_{name}")) {
                continue;
            }
            let _ = writeln!(out, "# TYPE envoy_{name} histogram");
            self.histogram(out, &format!("envoy_{name}"), "", 4000 + i);
        }
    }

    fn histogram(&self, out: &mut String, name: &str, labels: &str, i: usize) {
        let count = self.counter(i, 7);
        let knee = rng::mix(self.seed ^ i as u64) % ISTIO_BUCKETS.len() as u64;
        let sep = if labels.is_empty() { "" } else { "," };
        for (k, b) in ISTIO_BUCKETS.iter().enumerate() {
            let v = if (k as u64) < knee {
                count / (knee - k as u64 + 1)
            } else {
                count
            };
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{}\"}} {v}",
                fmt_bound(*b)
            );
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", count * 3);
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}
