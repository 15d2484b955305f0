//! Istio standard metrics (`istio_requests_total`,
//! `istio_request_duration_milliseconds_*`, `istio_tcp_*`).
//!
//! Both the client's proxy (`reporter="source"`) and the server's proxy
//! (`reporter="destination"`) report each request; they are kept apart here
//! and counted once when signals are computed (destination preferred, as
//! Kiali does). Per-edge mTLS comes from the destination's
//! `connection_security_policy` (`mutual_tls` vs anything else; the source
//! always says `unknown`).

use crate::collect::scrape::Sample;
use crate::mesh::{
    Dialect, NodeHint, ScrapeAcc, ScrapeTarget, non_empty, resolve_service, strip_port,
};
use crate::model::ids::NodeRef;
use crate::model::intern::{NodeId, Sym};
use crate::model::sample::{EdgeKey, Reporter, ReqKey, Tls};
use crate::model::snapshot::{MeshKind, Protocol};

/// The Istio dialect. It remembers where the last histogram bucket line
/// went: a histogram's buckets are consecutive lines that differ only in
/// `le`, so the next bucket of the same series skips resolving its edge.
#[derive(Default)]
pub struct Istio {
    last_bucket: Option<LastBucket>,
}

/// The labels but `le` of a bucket line (each name and value
/// length-prefixed), and the edge it was counted on.
struct LastBucket {
    labels: Vec<u8>,
    key: EdgeKey,
    reporter: Reporter,
}

fn push_part(buf: &mut Vec<u8>, part: &str) {
    buf.extend_from_slice(&(part.len() as u64).to_le_bytes());
    buf.extend_from_slice(part.as_bytes());
}

/// `labels` but `le`, encoded as [`LastBucket::labels`] holds them.
fn encode_but_le(labels: &[crate::collect::scrape::Label<'_>], buf: &mut Vec<u8>) {
    buf.clear();
    for l in labels.iter().filter(|l| l.name != "le") {
        push_part(buf, l.name);
        push_part(buf, &l.value);
    }
}

/// Whether `labels` but `le` are exactly those encoded in `buf`.
fn same_but_le(buf: &[u8], labels: &[crate::collect::scrape::Label<'_>]) -> bool {
    let mut rest = buf;
    for l in labels.iter().filter(|l| l.name != "le") {
        for part in [l.name, &*l.value] {
            let len = (part.len() as u64).to_le_bytes();
            let Some(tail) = rest.strip_prefix(&len[..]) else {
                return false;
            };
            let Some(tail) = tail.strip_prefix(part.as_bytes()) else {
                return false;
            };
            rest = tail;
        }
    }
    rest.is_empty()
}

const REQUESTS: &str = "istio_requests_total";
const DURATION_BUCKET: &str = "istio_request_duration_milliseconds_bucket";
const DURATION_SUM: &str = "istio_request_duration_milliseconds_sum";
const DURATION_COUNT: &str = "istio_request_duration_milliseconds_count";
const TCP_SENT: &str = "istio_tcp_sent_bytes_total";
const TCP_RECEIVED: &str = "istio_tcp_received_bytes_total";
const TCP_OPENED: &str = "istio_tcp_connections_opened_total";
const TCP_CLOSED: &str = "istio_tcp_connections_closed_total";

pub(crate) const FAMILIES: [&str; 8] = [
    REQUESTS,
    DURATION_BUCKET,
    DURATION_SUM,
    DURATION_COUNT,
    TCP_SENT,
    TCP_RECEIVED,
    TCP_OPENED,
    TCP_CLOSED,
];

/// The family prefilter: only the standard metrics above.
pub fn wants(name: &[u8]) -> bool {
    name.starts_with(b"istio_") && FAMILIES.iter().any(|f| f.as_bytes() == name)
}

/// The label names of one side of an Istio series (static: no formatting
/// per series).
struct Side {
    workload: &'static str,
    namespace: &'static str,
    app: [&'static str; 2],
    version: [&'static str; 2],
}

const SOURCE: Side = Side {
    workload: "source_workload",
    namespace: "source_workload_namespace",
    app: ["source_app", "source_canonical_service"],
    version: ["source_version", "source_canonical_revision"],
};

const DESTINATION: Side = Side {
    workload: "destination_workload",
    namespace: "destination_workload_namespace",
    app: ["destination_app", "destination_canonical_service"],
    version: ["destination_version", "destination_canonical_revision"],
};

fn workload_node(s: &Sample<'_>, side: &Side) -> NodeId {
    let name = s.label(side.workload);
    let ns = s.label(side.namespace);
    match (non_empty(ns), non_empty(name)) {
        (Some(ns), Some(name)) => NodeId::workload(ns, name),
        _ => NodeId::UNKNOWN,
    }
}

/// The called node when the destination workload is unknown (no sidecar at
/// the destination, traffic leaving the mesh, or no route).
fn fallback_target(s: &Sample<'_>, target: &ScrapeTarget<'_>) -> NodeRef {
    let svc_name = s.label("destination_service_name").unwrap_or("");
    let svc_ns = s.label("destination_service_namespace");
    let host = non_empty(s.label("destination_service")).unwrap_or(svc_name);
    match svc_name {
        // The original host when Istio recorded one, else "passthrough".
        "PassthroughCluster" => {
            let h = match host {
                "" | "PassthroughCluster" => "passthrough",
                h => strip_port(h),
            };
            return NodeRef::external(h);
        }
        "BlackHoleCluster" => return NodeRef::external("blackhole"),
        _ => {}
    }
    let in_cluster = host.contains(".svc.");
    match (non_empty(svc_ns), non_empty(Some(svc_name))) {
        (Some(ns), Some(name)) if in_cluster => resolve_service(target.inventory, ns, name),
        _ if !host.is_empty() => NodeRef::external(strip_port(host)),
        _ => NodeRef::external("unknown"),
    }
}

fn service_of(s: &Sample<'_>) -> Option<Sym> {
    let name = non_empty(s.label("destination_service_name"))?;
    let ns = non_empty(s.label("destination_service_namespace"))?;
    if name == "PassthroughCluster" || name == "BlackHoleCluster" {
        return None;
    }
    Some(Sym::new(&crate::model::ids::service_id(ns, name)))
}

fn tls_of(s: &Sample<'_>) -> Tls {
    match s.label("connection_security_policy") {
        Some("mutual_tls") => Tls::Mutual,
        Some("none") => Tls::Plain,
        _ => Tls::Unknown,
    }
}

fn hint(s: &Sample<'_>, side: &Side, meshed: bool) -> NodeHint {
    let pick = |[a, b]: [&str; 2]| {
        non_empty(s.label(a))
            .or_else(|| non_empty(s.label(b)))
            .map(str::to_string)
    };
    NodeHint {
        app: pick(side.app),
        version: pick(side.version),
        meshed,
    }
}

impl Dialect for Istio {
    fn mesh(&self) -> MeshKind {
        MeshKind::Istio
    }

    fn wants(&self, name: &[u8]) -> bool {
        wants(name)
    }

    fn sample(&mut self, target: &ScrapeTarget<'_>, s: &Sample<'_>, acc: &mut ScrapeAcc) {
        let bucket = s.name == DURATION_BUCKET;
        if bucket
            && let Some(last) = &self.last_bucket
            && same_but_le(&last.labels, s.labels)
        {
            // Everything but the bucket itself was done by the first line
            // of the series (and is the same for its other buckets).
            if s.value.is_finite()
                && let Some(le) = s.label("le").and_then(crate::mesh::parse_le)
            {
                acc.edge(last.key.clone(), last.reporter)
                    .add_bucket(le, s.value);
            }
            return;
        }
        let reporter = match s.label("reporter") {
            Some("source") => Reporter::Source,
            Some("destination") | Some("waypoint") => Reporter::Destination,
            _ => return,
        };
        if !s.value.is_finite() {
            return;
        }
        let source = workload_node(s, &SOURCE);
        let mut dest = workload_node(s, &DESTINATION);
        // Whether the called node is a workload (named by the labels, or
        // the Service's sole workload).
        let mut dest_is_workload = !dest.is_unknown();
        if dest.is_unknown() {
            let node = fallback_target(s, target);
            dest_is_workload = matches!(node, NodeRef::Workload { .. });
            dest = NodeId::of(&node);
        }
        let is_tcp = s.name.starts_with("istio_tcp_");
        let protocol = if is_tcp {
            Protocol::Tcp
        } else {
            match s.label("request_protocol") {
                Some("grpc") => Protocol::Grpc,
                Some("tcp") => Protocol::Tcp,
                _ => Protocol::Http,
            }
        };
        let source_meshed = !source.is_unknown();
        acc.hint(source, hint(s, &SOURCE, source_meshed));
        let dest_meshed = reporter == Reporter::Destination
            || dest_is_workload && non_empty(s.label("destination_workload")).is_some();
        acc.hint(dest, hint(s, &DESTINATION, dest_meshed));
        let tls = tls_of(s);
        let key = EdgeKey {
            source,
            target: dest,
            protocol,
        };
        if bucket {
            let mut labels = self
                .last_bucket
                .take()
                .map(|l| l.labels)
                .unwrap_or_default();
            encode_but_le(s.labels, &mut labels);
            self.last_bucket = Some(LastBucket {
                labels,
                key: key.clone(),
                reporter,
            });
        }
        let edge = acc.edge(key, reporter);
        if edge.service.is_none() {
            edge.service = service_of(s);
        }
        if edge.source_identity.is_none() {
            edge.source_identity = non_empty(s.label("source_principal")).map(Sym::new);
        }
        if edge.target_identity.is_none() {
            edge.target_identity = non_empty(s.label("destination_principal")).map(Sym::new);
        }
        match s.name {
            REQUESTS => {
                let code = s
                    .label("response_code")
                    .and_then(|c| c.parse::<u16>().ok())
                    .unwrap_or(0);
                let grpc = if protocol == Protocol::Grpc {
                    s.label("grpc_response_status")
                        .and_then(|g| g.parse::<u16>().ok())
                } else {
                    None
                };
                let flags = match s.label("response_flags") {
                    Some("-" | "") | None => None,
                    Some(f) => Some(Sym::new(f)),
                };
                let key = ReqKey {
                    code,
                    grpc,
                    flags,
                    tls,
                    failed: ReqKey::failed_by_codes(code, grpc),
                };
                edge.add_requests(&key, s.value);
            }
            DURATION_BUCKET => {
                let le = s.label("le").and_then(crate::mesh::parse_le);
                if let Some(le) = le {
                    edge.add_bucket(le, s.value);
                }
            }
            DURATION_SUM => edge.latency_sum += s.value,
            DURATION_COUNT => edge.latency_count += s.value,
            // Istio counts bytes by direction of the call, not by reporter:
            // `sent` is the response (callee → caller), `received` the request.
            TCP_SENT => edge.tcp_mut(tls).received += s.value,
            TCP_RECEIVED => edge.tcp_mut(tls).sent += s.value,
            TCP_OPENED => edge.tcp_mut(tls).opened += s.value,
            TCP_CLOSED => edge.tcp_mut(tls).closed += s.value,
            _ => {}
        }
    }
}
