//! Plain Envoy cluster stats, for meshes without standard metrics (Consul,
//! Kuma, OSM…): `envoy_cluster_upstream_rq_*`, `upstream_rq_time`,
//! `upstream_cx_*` and `ssl.handshake`, keyed by `envoy_cluster_name`.
//!
//! The same requests appear three ways (`upstream_rq{envoy_response_code}`,
//! `upstream_rq_xx{envoy_response_code_class}`, `upstream_rq_total`), so the
//! whole scrape is read first and, per cluster, the most detailed view
//! present is used. mTLS is estimated per connection: TLS handshakes over
//! connections opened.

use std::collections::BTreeMap;

use crate::collect::scrape::Sample;
use crate::mesh::envoy_names::{ClusterTarget, parse_cluster_name};
use crate::mesh::{Dialect, NodeHint, ScrapeAcc, ScrapeTarget, parse_le, resolve_service};
use crate::model::ids::NodeRef;
use crate::model::intern::{NodeId, Sym};
use crate::model::sample::{EdgeKey, Reporter, ReqKey, Tcp, Tls};
use crate::model::snapshot::{MeshKind, Protocol};

const RQ_CODE: &str = "envoy_cluster_upstream_rq";
const RQ_CLASS: &str = "envoy_cluster_upstream_rq_xx";
const RQ_TOTAL: &str = "envoy_cluster_upstream_rq_total";
const RQ_TIME_BUCKET: &str = "envoy_cluster_upstream_rq_time_bucket";
const RQ_TIME_SUM: &str = "envoy_cluster_upstream_rq_time_sum";
const RQ_TIME_COUNT: &str = "envoy_cluster_upstream_rq_time_count";
const CX_TOTAL: &str = "envoy_cluster_upstream_cx_total";
const CX_DESTROY: &str = "envoy_cluster_upstream_cx_destroy";
const CX_ACTIVE: &str = "envoy_cluster_upstream_cx_active";
const CX_TX: &str = "envoy_cluster_upstream_cx_tx_bytes_total";
const CX_RX: &str = "envoy_cluster_upstream_cx_rx_bytes_total";
const SSL_HANDSHAKE: &str = "envoy_cluster_ssl_handshake";

pub(crate) const FAMILIES: [&str; 12] = [
    RQ_CODE,
    RQ_CLASS,
    RQ_TOTAL,
    RQ_TIME_BUCKET,
    RQ_TIME_SUM,
    RQ_TIME_COUNT,
    CX_TOTAL,
    CX_DESTROY,
    CX_ACTIVE,
    CX_TX,
    CX_RX,
    SSL_HANDSHAKE,
];

pub fn wants(name: &[u8]) -> bool {
    name.starts_with(b"envoy_cluster_") && FAMILIES.iter().any(|f| f.as_bytes() == name)
}

#[derive(Default, Debug)]
struct ClusterStats {
    codes: BTreeMap<u16, f64>,
    classes: BTreeMap<u16, f64>,
    total: f64,
    buckets: Vec<(f64, f64)>,
    time_sum: f64,
    time_count: f64,
    cx_total: f64,
    cx_destroy: f64,
    cx_active: Option<f64>,
    tx: f64,
    rx: f64,
    handshakes: f64,
    /// Consul's stats tags name the destination directly.
    consul_service: Option<(String, String)>,
}

/// Per-scrape state: stats by cluster name.
#[derive(Default)]
pub struct Envoy {
    clusters: BTreeMap<String, ClusterStats>,
}

impl Dialect for Envoy {
    fn mesh(&self) -> MeshKind {
        MeshKind::Envoy
    }

    fn wants(&self, name: &[u8]) -> bool {
        wants(name)
    }

    fn sample(&mut self, _target: &ScrapeTarget<'_>, s: &Sample<'_>, _acc: &mut ScrapeAcc) {
        // Envoy's own tag name, or Istio's (its sidecars rename it).
        let Some(cluster) = s
            .label("envoy_cluster_name")
            .or_else(|| s.label("cluster_name"))
        else {
            return;
        };
        if !s.value.is_finite() {
            return;
        }
        let st = self.clusters.entry(cluster.to_string()).or_default();
        if st.consul_service.is_none()
            && let (Some(svc), Some(ns)) = (
                s.label("consul_destination_service"),
                s.label("consul_destination_namespace"),
            )
        {
            st.consul_service = Some((ns.to_string(), svc.to_string()));
        }
        match s.name {
            // Envoy's tag names (`envoy_response_code`, class `2`), or
            // Istio's (`response_code`, class `2xx`).
            RQ_CODE => {
                if let Some(code) = s
                    .label("envoy_response_code")
                    .or_else(|| s.label("response_code"))
                    .and_then(|c| c.parse().ok())
                {
                    *st.codes.entry(code).or_default() += s.value;
                }
            }
            RQ_CLASS => {
                if let Some(class) = s
                    .label("envoy_response_code_class")
                    .or_else(|| s.label("response_code_class"))
                    .and_then(|c| c.trim_end_matches("xx").parse::<u16>().ok())
                {
                    *st.classes.entry(class * 100).or_default() += s.value;
                }
            }
            RQ_TOTAL => st.total += s.value,
            RQ_TIME_BUCKET => {
                if let Some(le) = s.label("le").and_then(parse_le) {
                    match st.buckets.iter_mut().find(|(b, _)| *b == le) {
                        Some(slot) => slot.1 += s.value,
                        None => st.buckets.push((le, s.value)),
                    }
                }
            }
            RQ_TIME_SUM => st.time_sum += s.value,
            RQ_TIME_COUNT => st.time_count += s.value,
            CX_TOTAL => st.cx_total += s.value,
            CX_DESTROY => st.cx_destroy += s.value,
            CX_ACTIVE => st.cx_active = Some(st.cx_active.unwrap_or(0.0) + s.value),
            CX_TX => st.tx += s.value,
            CX_RX => st.rx += s.value,
            SSL_HANDSHAKE => st.handshakes += s.value,
            _ => {}
        }
    }

    fn finish(&mut self, target: &ScrapeTarget<'_>, acc: &mut ScrapeAcc) {
        let clusters = std::mem::take(&mut self.clusters);
        for (name, st) in clusters {
            let dest = match &st.consul_service {
                Some((ns, svc)) => resolve_service(target.inventory, ns, svc),
                None => match parse_cluster_name(&name) {
                    ClusterTarget::Internal => continue,
                    ClusterTarget::External(host) => NodeRef::external(&host),
                    ClusterTarget::Service {
                        namespace: Some(ns),
                        name,
                        ..
                    } => resolve_service(target.inventory, &ns, &name),
                    ClusterTarget::Service {
                        namespace: None,
                        name,
                        ..
                    } => match target.inventory.service(target.namespace, &name) {
                        Some(_) => resolve_service(target.inventory, target.namespace, &name),
                        None => NodeRef::external(&name),
                    },
                },
            };
            let requests: Vec<(u16, f64)> = if !st.codes.is_empty() {
                st.codes.into_iter().collect()
            } else if !st.classes.is_empty() {
                st.classes.into_iter().collect()
            } else if st.total > 0.0 {
                // Only a total: codes unknown, counted as successes.
                vec![(200, st.total)]
            } else {
                Vec::new()
            };
            let protocol = if requests.is_empty() && st.buckets.is_empty() {
                Protocol::Tcp
            } else {
                Protocol::Http
            };
            if protocol == Protocol::Tcp && st.cx_total == 0.0 && st.tx == 0.0 {
                continue;
            }
            acc.hint(
                NodeId::of(&target.workload),
                NodeHint {
                    meshed: true,
                    ..NodeHint::default()
                },
            );
            let service = match &dest {
                NodeRef::Service { namespace, name } => {
                    Some(Sym::new(&crate::model::ids::service_id(namespace, name)))
                }
                _ => None,
            };
            let edge = acc.edge(
                EdgeKey {
                    source: NodeId::of(&target.workload),
                    target: NodeId::of(&dest),
                    protocol,
                },
                Reporter::Source,
            );
            edge.service = service;
            for (code, v) in requests {
                edge.add_requests(
                    &ReqKey {
                        code,
                        grpc: None,
                        flags: None,
                        tls: Tls::Unknown,
                        failed: ReqKey::failed_by_codes(code, None),
                    },
                    v,
                );
            }
            for (le, v) in st.buckets {
                edge.add_bucket(le, v);
            }
            edge.latency_sum += st.time_sum;
            edge.latency_count += st.time_count;
            let tls_cx = st.handshakes.min(st.cx_total);
            *edge.tcp_mut(Tls::Mutual) = Tcp {
                opened: tls_cx,
                ..Tcp::default()
            };
            *edge.tcp_mut(Tls::Plain) = Tcp {
                opened: st.cx_total - tls_cx,
                ..Tcp::default()
            };
            let t = edge.tcp_mut(Tls::Unknown);
            t.sent = st.tx;
            t.received = st.rx;
            t.closed = st.cx_destroy;
            t.open = st.cx_active;
        }
    }
}
