//! Envoy cluster names → the called service, for meshes without standard
//! metrics. Grammars (see the telemetry reference §4.3):
//! - Istio: `outbound|<port>|<subset>|<fqdn>`, `inbound|…`, `PassthroughCluster`, `BlackHoleCluster`
//! - Consul: `[subset.]<svc>.<ns>.[<partition>.]<dc>.internal[-v1].<trust>.consul`,
//!   `<svc>.<ns>.<peer>.external.<trust>.consul`, `<hash>~…`, `passthrough~…`
//! - Kuma: `<svc>_<ns>_svc_<port>`, `localhost_<port>`, `ads_cluster`, `kuma_envoy_admin`
//! - OSM: `<ns>/<svc>|<port>`, `<ns>/<svc>|<port>|local`

/// What a cluster name says about the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterTarget {
    /// An in-mesh service; `namespace` is `None` when the name carries none
    /// (resolve it in the caller's namespace).
    Service {
        namespace: Option<String>,
        name: String,
        subset: Option<String>,
    },
    /// Traffic leaving the mesh (`host` as well as known).
    External(String),
    /// The proxy's own plumbing (inbound, admin, xDS, metrics…): not an edge.
    Internal,
}

const INTERNAL: [&str; 15] = [
    "local_app",
    "prometheus_backend",
    // Istio's pilot-agent stats listener (every sidecar has it).
    "prometheus_stats",
    "xds-grpc",
    "xds_cluster",
    "sds-grpc",
    "agent",
    "consul-dataplane",
    "self_admin",
    "ads_cluster",
    "kuma_envoy_admin",
    "access_log_sink",
    "InboundPassthroughCluster",
    "InboundPassthroughClusterIpv4",
    "InboundPassthroughClusterIpv6",
];

fn svc(namespace: Option<&str>, name: &str, subset: Option<&str>) -> ClusterTarget {
    ClusterTarget::Service {
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
        subset: subset.filter(|s| !s.is_empty()).map(str::to_string),
    }
}

/// Parse a cluster name.
pub fn parse_cluster_name(name: &str) -> ClusterTarget {
    if name.is_empty() || INTERNAL.contains(&name) {
        return ClusterTarget::Internal;
    }
    match name {
        "PassthroughCluster" | "original-destination" | "original_destination" => {
            return ClusterTarget::External("passthrough".into());
        }
        "BlackHoleCluster" => return ClusterTarget::External("blackhole".into()),
        _ => {}
    }
    if let Some(rest) = name.strip_prefix("localhost_")
        && rest.chars().all(|c| c.is_ascii_digit())
    {
        return ClusterTarget::Internal;
    }
    // Istio
    if name.starts_with("inbound|") {
        return ClusterTarget::Internal;
    }
    if let Some(rest) = name.strip_prefix("outbound|") {
        let mut parts = rest.splitn(3, '|');
        let _port = parts.next();
        let subset = parts.next();
        let fqdn = parts.next().unwrap_or("");
        let labels: Vec<&str> = fqdn.split('.').collect();
        if labels.len() >= 3 && labels[2] == "svc" {
            return svc(Some(labels[1]), labels[0], subset);
        }
        return ClusterTarget::External(fqdn.to_string());
    }
    // OSM
    if let Some((ns, rest)) = name.split_once('/') {
        let mut parts = rest.split('|');
        let service = parts.next().unwrap_or("");
        let _port = parts.next();
        if parts.next() == Some("local") {
            return ClusterTarget::Internal;
        }
        if !ns.is_empty() && !service.is_empty() {
            return svc(Some(ns), service, None);
        }
    }
    // Consul
    if name.ends_with(".consul") {
        if name.starts_with("passthrough~") {
            let host = name.trim_start_matches("passthrough~");
            return ClusterTarget::External(host.split('.').next().unwrap_or(host).to_string());
        }
        let body = name.split_once('~').map_or(name, |(_, b)| b);
        let labels: Vec<&str> = body.split('.').collect();
        if let Some(i) = labels
            .iter()
            .position(|l| *l == "internal" || *l == "internal-v1" || *l == "external")
        {
            let before = &labels[..i];
            let (subset, rest): (Option<&str>, &[&str]) = match (labels[i], before.len()) {
                ("internal", 4) | ("internal-v1", 5) => (Some(before[0]), &before[1..]),
                _ => (None, before),
            };
            if rest.len() >= 2 {
                return svc(Some(rest[1]), rest[0], subset);
            }
        }
        return ClusterTarget::External(body.to_string());
    }
    // Kuma: <svc>_<ns>_svc_<port>
    if let Some((head, port)) = name.rsplit_once("_svc_")
        && port.chars().all(|c| c.is_ascii_digit())
        && let Some((service, ns)) = head.rsplit_once('_')
    {
        return svc(Some(ns), service, None);
    }
    // A bare name: a service in the caller's namespace, or an external host.
    svc(None, name, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(ns: Option<&str>, name: &str, subset: Option<&str>) -> ClusterTarget {
        svc(ns, name, subset)
    }

    #[test]
    fn istio() {
        assert_eq!(
            parse_cluster_name("outbound|9080|v2|reviews.default.svc.cluster.local"),
            s(Some("default"), "reviews", Some("v2"))
        );
        assert_eq!(
            parse_cluster_name("outbound|9080||reviews.default.svc.cluster.local"),
            s(Some("default"), "reviews", None)
        );
        assert_eq!(
            parse_cluster_name("outbound|443||api.example.com"),
            ClusterTarget::External("api.example.com".into())
        );
        assert_eq!(
            parse_cluster_name("inbound|9080||"),
            ClusterTarget::Internal
        );
        assert_eq!(
            parse_cluster_name("BlackHoleCluster"),
            ClusterTarget::External("blackhole".into())
        );
    }

    #[test]
    fn consul() {
        assert_eq!(
            parse_cluster_name("pong.default.dc2.internal.e5b08d03-7e4f-4b2d.consul"),
            s(Some("default"), "pong", None)
        );
        assert_eq!(
            parse_cluster_name("v2.pong.default.dc2.internal.e5b08d03.consul"),
            s(Some("default"), "pong", Some("v2"))
        );
        assert_eq!(
            parse_cluster_name("pong.default.part1.dc2.internal-v1.e5b08d03.consul"),
            s(Some("default"), "pong", None)
        );
        assert_eq!(
            parse_cluster_name("pong.default.peer1.external.e5b08d03.consul"),
            s(Some("default"), "pong", None)
        );
        assert_eq!(
            parse_cluster_name("passthrough~db.default.dc1.internal.e5b08d03.consul"),
            ClusterTarget::External("db".into())
        );
        assert_eq!(parse_cluster_name("local_app"), ClusterTarget::Internal);
    }

    #[test]
    fn kuma_and_osm() {
        assert_eq!(
            parse_cluster_name("backend_kuma-demo_svc_3001"),
            s(Some("kuma-demo"), "backend", None)
        );
        assert_eq!(
            parse_cluster_name("localhost_3001"),
            ClusterTarget::Internal
        );
        assert_eq!(
            parse_cluster_name("kuma_envoy_admin"),
            ClusterTarget::Internal
        );
        assert_eq!(
            parse_cluster_name("bookstore/bookstore-v1|14001"),
            s(Some("bookstore"), "bookstore-v1", None)
        );
        assert_eq!(
            parse_cluster_name("bookstore/bookstore-v1|14001|local"),
            ClusterTarget::Internal
        );
    }

    #[test]
    fn bare_names() {
        assert_eq!(
            parse_cluster_name("service_envoyproxy_io"),
            s(None, "service_envoyproxy_io", None)
        );
        assert_eq!(
            parse_cluster_name("prometheus_backend"),
            ClusterTarget::Internal
        );
        assert_eq!(
            parse_cluster_name("prometheus_stats"),
            ClusterTarget::Internal
        );
    }
}
