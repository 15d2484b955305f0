//! The attributes a sidecar proxy puts on its spans (Envoy's tracing tags
//! for Istio, the same keys with linkerd2-proxy-style values for Linkerd).

use super::graph;
use super::model::{AttrValue, SpanKind};
use super::traces::Tracer;
use crate::sim::scenario::{MeshKind, Protocol};
use crate::sim::traffic::OutcomeView;

/// One side (client or server) of one call.
pub struct CallSide<'a> {
    pub edge: usize,
    pub kind: SpanKind,
    /// The workload and pod emitting the span.
    pub workload: usize,
    pub pod: usize,
    /// The caller's pod (the downstream peer address).
    pub caller_pod: usize,
    /// The workload on the other side, if known (`None`: external host).
    pub peer: Option<usize>,
    pub outcome: OutcomeView,
    pub request_id: &'a str,
}

fn s(v: impl Into<String>) -> AttrValue {
    AttrValue::Str(v.into())
}

/// The attributes of one span.
pub fn attributes(t: &Tracer, c: &CallSide<'_>, failed: bool) -> Vec<(String, AttrValue)> {
    let sc = t.scenario();
    let e = &sc.edges[c.edge];
    let w = &sc.workloads[c.workload];
    let pod = &sc.pods[c.pod];
    let (host, port) = graph::target_host(sc, e);
    let path = graph::path(sc, e);
    let mut a: Vec<(String, AttrValue)> = Vec::with_capacity(24);
    let mut push = |k: &str, v: AttrValue| a.push((k.to_string(), v));
    let node_id = match sc.mesh {
        MeshKind::Istio => {
            let role = if w.labels.iter().any(|(k, _)| k == "istio") && w.name.contains("gateway") {
                "router"
            } else {
                "sidecar"
            };
            format!(
                "{role}~{}~{}.{}~{}.svc.cluster.local",
                pod.ip, pod.name, pod.namespace, pod.namespace
            )
        }
        MeshKind::Linkerd => format!("{}.{}", pod.name, pod.namespace),
    };
    push("node_id", s(node_id));
    push("guid:x-request-id", s(c.request_id));
    push("http.url", s(format!("http://{host}:{port}{path}")));
    push("http.method", s(graph::method(e)));
    push("downstream_cluster", s("-"));
    push(
        "http.protocol",
        s(match e.protocol {
            Protocol::Grpc => "HTTP/2",
            Protocol::Http | Protocol::Tcp => "HTTP/1.1",
        }),
    );
    push("peer.address", s(sc.pods[c.caller_pod].ip.clone()));
    push("request_size", s(format!("{}", e.request_bytes.round())));
    push("response_size", s(format!("{}", e.response_bytes.round())));
    push("component", s("proxy"));
    let upstream = match (sc.mesh, c.kind) {
        (MeshKind::Istio, SpanKind::Client) => format!("outbound|{port}||{host}"),
        (MeshKind::Istio, SpanKind::Server) => {
            format!("inbound|{}||", graph::target_port(sc, e))
        }
        (MeshKind::Linkerd, _) => format!("{host}:{port}"),
    };
    push("upstream_cluster", s(upstream.clone()));
    push("upstream_cluster.name", s(upstream));
    let peer_service = c
        .peer
        .map_or_else(|| host.clone(), |p| t.service_name(p).to_string());
    push("peer.service", s(peer_service));
    push("http.status_code", s(c.outcome.http_status.to_string()));
    if let Some(g) = c.outcome.grpc_status {
        push("grpc.status_code", s(g.to_string()));
    }
    push("response_flags", s(c.outcome.response_flags));
    if sc.mesh == MeshKind::Istio {
        push("istio.canonical_service", s(w.app.clone()));
        push(
            "istio.canonical_revision",
            s(w.version.clone().unwrap_or_else(|| "latest".to_string())),
        );
        push("istio.namespace", s(w.namespace.clone()));
        push("istio.mesh_id", s("cluster.local"));
    }
    if failed {
        push("error", AttrValue::Bool(true));
    }
    a
}
