//! The traced call graph of a scenario: which requests start traces, how a
//! request fans out at each workload, and the names the proxies report.

use crate::sim::scenario::{Edge, MeshKind, Protocol, Scenario, Target};

/// The service name a workload's proxy reports to the tracing backend:
/// Istio's canonical service and namespace (`productpage.default`), or the
/// workload's `app` label for Linkerd.
pub fn service_name(s: &Scenario, workload: usize) -> String {
    let w = &s.workloads[workload];
    let app = if w.app.is_empty() { &w.name } else { &w.app };
    match s.mesh {
        MeshKind::Istio => format!("{app}.{}", w.namespace),
        MeshKind::Linkerd => app.clone(),
    }
}

/// Requests per second each workload receives over all its inbound edges.
pub fn inbound_rates(s: &Scenario) -> Vec<f64> {
    let mut rates = vec![0.0; s.workloads.len()];
    for e in &s.edges {
        for b in &e.backends {
            if let Some(r) = rates.get_mut(b.workload) {
                *r += e.rps * b.share;
            }
        }
    }
    rates
}

/// Whether proxies emit spans for an edge's requests (Envoy and
/// linkerd2-proxy do not trace opaque TCP).
pub fn traceable(e: &Edge) -> bool {
    e.protocol != Protocol::Tcp && e.rps > 0.0
}

/// Edges whose requests start traces: the outgoing edges of root workloads
/// (workloads nobody calls, outside the control plane).
pub fn root_edges(s: &Scenario) -> Vec<usize> {
    let mut roots = Vec::new();
    for (w, wl) in s.workloads.iter().enumerate() {
        if wl.control_plane || !s.in_edges[w].is_empty() {
            continue;
        }
        roots.extend(
            s.out_edges[w]
                .iter()
                .copied()
                .filter(|&e| traceable(&s.edges[e])),
        );
    }
    roots.sort_unstable();
    roots
}

/// The traceable outgoing edges of `workload` and the mean number of calls
/// on each per request the workload serves (edge rps / inbound rps).
pub fn fan_out(s: &Scenario, inbound: &[f64], workload: usize) -> Vec<(usize, f64)> {
    let rate = inbound.get(workload).copied().unwrap_or(0.0);
    if rate <= 0.0 {
        return Vec::new();
    }
    s.out_edges[workload]
        .iter()
        .filter(|&&e| traceable(&s.edges[e]))
        .map(|&e| (e, s.edges[e].rps / rate))
        .collect()
}

/// Host (FQDN or external host) and port an edge's requests are sent to.
pub fn target_host(s: &Scenario, e: &Edge) -> (String, u16) {
    match &e.target {
        Target::Service { service, port } => (s.services[*service].fqdn(), *port),
        Target::External { host, port } => (host.clone(), *port),
    }
}

/// The port the callee's container listens on for an edge (the Service's
/// target port).
pub fn target_port(s: &Scenario, e: &Edge) -> u16 {
    match &e.target {
        Target::Service { service, port } => s.services[*service]
            .ports
            .iter()
            .find(|p| p.port == *port)
            .map_or(*port, |p| p.target_port),
        Target::External { port, .. } => *port,
    }
}

/// The request path of an edge: `/<service>` for HTTP, a gRPC method path
/// (`/<namespace>.<Name>Service/Call`) for gRPC, `/` for external hosts.
pub fn path(s: &Scenario, e: &Edge) -> String {
    let Target::Service { service, .. } = &e.target else {
        return "/".to_string();
    };
    let svc = &s.services[*service];
    match e.protocol {
        Protocol::Grpc => {
            let base = svc
                .name
                .trim_end_matches("-svc")
                .trim_end_matches("service");
            let camel: String = base
                .split(['-', '_', '.'])
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let mut c = p.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect::<String>())
                        .unwrap_or_default()
                })
                .collect();
            format!("/{}.{camel}Service/Call", svc.namespace)
        }
        Protocol::Http | Protocol::Tcp => format!("/{}", svc.name),
    }
}

/// The HTTP method of an edge's requests.
pub fn method(e: &Edge) -> &'static str {
    match e.protocol {
        Protocol::Grpc => "POST",
        Protocol::Http | Protocol::Tcp => "GET",
    }
}

/// The operation names of an edge's client span and server span.
pub fn operation_names(s: &Scenario, e: &Edge) -> (String, String) {
    let p = path(s, e);
    match s.mesh {
        MeshKind::Istio => {
            let (host, port) = target_host(s, e);
            (format!("{host}:{port}/*"), format!("{host}:{port}{p}"))
        }
        MeshKind::Linkerd => (p.clone(), p),
    }
}

/// Which edges can appear in traces: root edges and the traceable edges of
/// meshed workloads reached by them through meshed callees.
pub fn traced_edges(s: &Scenario, inbound: &[f64]) -> Vec<bool> {
    let mut traced = vec![false; s.edges.len()];
    let mut reached = vec![false; s.workloads.len()];
    let mut stack: Vec<usize> = root_edges(s);
    while let Some(e) = stack.pop() {
        if traced[e] {
            continue;
        }
        traced[e] = true;
        for b in &s.edges[e].backends {
            let w = b.workload;
            if b.share <= 0.0 || !s.workloads[w].meshed || reached[w] {
                continue;
            }
            reached[w] = true;
            stack.extend(
                fan_out(s, inbound, w)
                    .into_iter()
                    .filter(|&(_, m)| m > 0.0)
                    .map(|(o, _)| o),
            );
        }
    }
    traced
}
