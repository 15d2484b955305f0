//! Linkerd proxy metrics as the proxy itself exposes them (a raw scrape of
//! `:4191/metrics`: no namespace/pod/deployment labels, so the source is the
//! scraped pod's workload).
//!
//! A meshed caller's requests are counted once, from its outbound side
//! (`direction="outbound"`, target from the `dst_*` labels). Inbound
//! requests without a client identity (`tls` not `true`) become an edge from
//! `unknown`; inbound requests with one are the outbound side of a meshed
//! caller and are skipped. Traffic to the proxy's own admin port (4191,
//! Prometheus scrapes and probes) is not part of the graph.

use crate::collect::scrape::Sample;
use crate::mesh::{
    Dialect, NodeHint, ScrapeAcc, ScrapeTarget, non_empty, parse_le, resolve_service,
    service_from_host, strip_port,
};
use crate::model::ids::NodeRef;
use crate::model::intern::{NodeId, Sym};
use crate::model::sample::{EdgeKey, Reporter, ReqKey, Tls};
use crate::model::snapshot::{MeshKind, Protocol};

pub struct Linkerd;

const RESPONSES: &str = "response_total";
const LAT_BUCKET: &str = "response_latency_ms_bucket";
const LAT_SUM: &str = "response_latency_ms_sum";
const LAT_COUNT: &str = "response_latency_ms_count";
const TCP_OPEN_NOW: &str = "tcp_open_connections";
const TCP_READ: &str = "tcp_read_bytes_total";
const TCP_WRITE: &str = "tcp_write_bytes_total";
const TCP_OPENED: &str = "tcp_open_total";
const TCP_CLOSED: &str = "tcp_close_total";

const FAMILIES: [&str; 9] = [
    RESPONSES,
    LAT_BUCKET,
    LAT_SUM,
    LAT_COUNT,
    TCP_OPEN_NOW,
    TCP_READ,
    TCP_WRITE,
    TCP_OPENED,
    TCP_CLOSED,
];

/// The linkerd-proxy admin port.
const ADMIN_PORT: &str = "4191";

pub fn wants(name: &[u8]) -> bool {
    matches!(name.first(), Some(b'r' | b't')) && FAMILIES.iter().any(|f| f.as_bytes() == name)
}

const DST_KINDS: [&str; 6] = [
    "dst_deployment",
    "dst_statefulset",
    "dst_daemonset",
    "dst_job",
    "dst_cronjob",
    "dst_replicaset",
];

/// The called node of an outbound series.
fn outbound_target(s: &Sample<'_>, target: &ScrapeTarget<'_>) -> NodeRef {
    let ns = non_empty(s.label("dst_namespace"));
    if let Some(ns) = ns {
        if let Some(name) = DST_KINDS.iter().find_map(|k| non_empty(s.label(k))) {
            return NodeRef::workload(ns, name);
        }
        if let Some(svc) = non_empty(s.label("dst_service")) {
            return resolve_service(target.inventory, ns, svc);
        }
    }
    if let Some(authority) = non_empty(s.label("authority")) {
        if let Some((ns, svc)) = service_from_host(authority) {
            return resolve_service(target.inventory, ns, svc);
        }
        return NodeRef::external(strip_port(authority));
    }
    match non_empty(s.label("target_addr")) {
        Some(addr) => NodeRef::external(strip_port(addr)),
        None => NodeRef::external("unknown"),
    }
}

fn service_of(s: &Sample<'_>) -> Option<String> {
    if let (Some(ns), Some(svc)) = (
        non_empty(s.label("dst_namespace")),
        non_empty(s.label("dst_service")),
    ) {
        return Some(crate::model::ids::service_id(ns, svc));
    }
    let (ns, svc) = service_from_host(non_empty(s.label("authority"))?)?;
    Some(crate::model::ids::service_id(ns, svc))
}

fn grpc_status(s: &Sample<'_>) -> Option<u16> {
    let raw =
        non_empty(s.label("grpc_status")).or_else(|| non_empty(s.label("grpc_status_code")))?;
    match raw.parse::<u16>() {
        Ok(v) => Some(v),
        // Proxies before 2023-10 wrote the status as text ("Unknown error").
        Err(_)
            if raw.eq_ignore_ascii_case("ok")
                || raw.starts_with("The operation completed successfully") =>
        {
            Some(0)
        }
        Err(_) => Some(2),
    }
}

impl Dialect for Linkerd {
    fn mesh(&self) -> MeshKind {
        MeshKind::Linkerd
    }

    fn wants(&self, name: &[u8]) -> bool {
        wants(name)
    }

    fn sample(&mut self, target: &ScrapeTarget<'_>, s: &Sample<'_>, acc: &mut ScrapeAcc) {
        if !s.value.is_finite() {
            return;
        }
        let is_tcp = s.name.starts_with("tcp_");
        let tls = if s.label("tls") == Some("true") {
            Tls::Mutual
        } else {
            Tls::Plain
        };
        let (source, dest, reporter) = match s.label("direction") {
            Some("outbound") => {
                // On outbound TCP, `peer="src"` is the app's connection to its
                // own proxy; the call is the `peer="dst"` side.
                if is_tcp && s.label("peer") == Some("src") {
                    return;
                }
                (
                    target.workload.clone(),
                    outbound_target(s, target),
                    Reporter::Source,
                )
            }
            Some("inbound") => {
                if s.label("target_port") == Some(ADMIN_PORT)
                    || non_empty(s.label("target_addr")).is_some_and(|a| a.ends_with(":4191"))
                {
                    return;
                }
                if is_tcp && s.label("peer") == Some("dst") {
                    return;
                }
                if tls == Tls::Mutual {
                    // Counted from the meshed caller's outbound side.
                    return;
                }
                (
                    NodeRef::Unknown,
                    target.workload.clone(),
                    Reporter::Destination,
                )
            }
            _ => return,
        };
        let grpc = grpc_status(s);
        let protocol = if is_tcp {
            Protocol::Tcp
        } else if grpc.is_some() {
            Protocol::Grpc
        } else {
            Protocol::Http
        };
        acc.hint(
            NodeId::of(&target.workload),
            NodeHint {
                meshed: true,
                ..NodeHint::default()
            },
        );
        if reporter == Reporter::Source && tls == Tls::Mutual {
            acc.hint(
                NodeId::of(&dest),
                NodeHint {
                    meshed: true,
                    ..NodeHint::default()
                },
            );
        }
        let edge = acc.edge(
            EdgeKey {
                source: NodeId::of(&source),
                target: NodeId::of(&dest),
                protocol,
            },
            reporter,
        );
        if edge.service.is_none() && reporter == Reporter::Source {
            edge.service = service_of(s).map(Sym::from);
        }
        if edge.target_identity.is_none() {
            edge.target_identity = non_empty(s.label("server_id")).map(Sym::new);
        }
        if edge.source_identity.is_none() {
            edge.source_identity = non_empty(s.label("client_id")).map(Sym::new);
        }
        match s.name {
            RESPONSES => {
                let code = s
                    .label("status_code")
                    .and_then(|c| c.parse::<u16>().ok())
                    .unwrap_or(0);
                let failed = match s.label("classification") {
                    Some("failure") => true,
                    Some("success") => false,
                    _ => ReqKey::failed_by_codes(code, grpc),
                };
                let flags = non_empty(s.label("error")).map(Sym::new);
                edge.add_requests(
                    &ReqKey {
                        code,
                        grpc,
                        flags,
                        tls,
                        failed,
                    },
                    s.value,
                );
            }
            LAT_BUCKET => {
                if let Some(le) = s.label("le").and_then(parse_le) {
                    edge.add_bucket(le, s.value);
                }
            }
            LAT_SUM => edge.latency_sum += s.value,
            LAT_COUNT => edge.latency_count += s.value,
            // The proxy writes the caller's request bytes to the callee.
            TCP_WRITE => {
                if reporter == Reporter::Source {
                    edge.tcp_mut(tls).sent += s.value;
                } else {
                    edge.tcp_mut(tls).received += s.value;
                }
            }
            TCP_READ => {
                if reporter == Reporter::Source {
                    edge.tcp_mut(tls).received += s.value;
                } else {
                    edge.tcp_mut(tls).sent += s.value;
                }
            }
            TCP_OPENED => edge.tcp_mut(tls).opened += s.value,
            TCP_CLOSED => edge.tcp_mut(tls).closed += s.value,
            TCP_OPEN_NOW => {
                let t = edge.tcp_mut(tls);
                t.open = Some(t.open.unwrap_or(0.0) + s.value);
            }
            _ => {}
        }
    }

    /// gRPC is only visible on `response_total` (latency buckets carry no
    /// gRPC status), and every HTTP connection also has TCP stats: fold both
    /// into the call's single edge per (source, target, reporter).
    fn finish(&mut self, _target: &ScrapeTarget<'_>, acc: &mut ScrapeAcc) {
        let keys: Vec<(EdgeKey, Reporter)> = acc.edges.keys().cloned().collect();
        for (key, reporter) in keys {
            let into = match key.protocol {
                Protocol::Http => [Protocol::Grpc].as_slice(),
                Protocol::Tcp => [Protocol::Grpc, Protocol::Http].as_slice(),
                Protocol::Grpc => continue,
            };
            let Some(proto) = into.iter().copied().find(|p| {
                acc.edges.contains_key(&(
                    EdgeKey {
                        protocol: *p,
                        ..key.clone()
                    },
                    reporter,
                ))
            }) else {
                continue;
            };
            if let Some(sample) = acc.edges.remove(&(key.clone(), reporter)) {
                let dest = EdgeKey {
                    protocol: proto,
                    ..key
                };
                if let Some(d) = acc.edges.get_mut(&(dest, reporter)) {
                    d.merge(&sample);
                }
            }
        }
    }
}
