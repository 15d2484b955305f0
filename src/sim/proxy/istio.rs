//! Envoy sidecar (`istio-proxy`) `:15090/stats/prometheus` output: Istio's
//! standard metrics, both reporters, with the label set and order Envoy's
//! stats plugin emits (checked against a real scrape), plus Envoy noise.

use std::fmt::Write;

use rustc_hash::FxHashMap;

use super::{Noise, StatFilter, envoy_noise, fmt_bound};
use crate::sim::scenario::{Edge, Pod, Protocol, Scenario, Target};
use crate::sim::traffic::{self, HistAcc, ISTIO_BUCKETS, OutcomeView};

/// Label keys of `istio_requests_total` and the request histograms, in order.
pub const REQUEST_LABELS: [&str; 25] = [
    "response_code",
    "reporter",
    "source_workload",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_cluster",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "destination_cluster",
    "request_protocol",
    "response_flags",
    "grpc_response_status",
    "connection_security_policy",
    "source_canonical_service",
    "destination_canonical_service",
    "source_canonical_revision",
    "destination_canonical_revision",
];

/// One side of a call, as Istio labels it.
struct Peer {
    workload: String,
    namespace: String,
    principal: String,
    app: String,
    version: String,
    cluster: &'static str,
    canonical_service: String,
    canonical_revision: String,
}

impl Peer {
    fn unknown() -> Peer {
        let u = || "unknown".to_string();
        Peer {
            workload: u(),
            namespace: u(),
            principal: u(),
            app: u(),
            version: u(),
            cluster: "unknown",
            canonical_service: u(),
            canonical_revision: u(),
        }
    }

    fn of(s: &Scenario, w: usize, with_principal: bool) -> Peer {
        let wl = &s.workloads[w];
        if !wl.meshed {
            return Peer::unknown();
        }
        Peer {
            workload: wl.name.clone(),
            namespace: wl.namespace.clone(),
            principal: if with_principal {
                s.spiffe(w)
            } else {
                "unknown".into()
            },
            app: wl.app.clone(),
            version: wl.version.clone().unwrap_or_else(|| "unknown".into()),
            cluster: "Kubernetes",
            canonical_service: wl.app.clone(),
            canonical_revision: wl.version.clone().unwrap_or_else(|| "latest".into()),
        }
    }
}

struct Dest {
    service: String,
    name: String,
    namespace: String,
}

fn dest_of(s: &Scenario, e: &Edge) -> Dest {
    match &e.target {
        Target::Service { service, .. } => {
            let sv = &s.services[*service];
            Dest {
                service: sv.fqdn(),
                name: sv.name.clone(),
                namespace: sv.namespace.clone(),
            }
        }
        Target::External { host, .. } => Dest {
            service: host.clone(),
            name: "PassthroughCluster".into(),
            namespace: "unknown".into(),
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn labels(
    out: &mut String,
    outcome: Option<&OutcomeView>,
    reporter: &str,
    src: &Peer,
    dst: &Peer,
    d: &Dest,
    proto: Protocol,
    csp: &str,
) {
    if let Some(o) = outcome {
        let _ = write!(out, "response_code=\"{}\",", o.http_status);
    }
    let _ = write!(
        out,
        "reporter=\"{reporter}\",source_workload=\"{}\",source_workload_namespace=\"{}\",source_principal=\"{}\",source_app=\"{}\",source_version=\"{}\",source_cluster=\"{}\",destination_workload=\"{}\",destination_workload_namespace=\"{}\",destination_principal=\"{}\",destination_app=\"{}\",destination_version=\"{}\",destination_service=\"{}\",destination_service_name=\"{}\",destination_service_namespace=\"{}\",destination_cluster=\"{}\",request_protocol=\"{}\",response_flags=\"{}\",",
        src.workload,
        src.namespace,
        src.principal,
        src.app,
        src.version,
        src.cluster,
        dst.workload,
        dst.namespace,
        dst.principal,
        dst.app,
        dst.version,
        d.service,
        d.name,
        d.namespace,
        dst.cluster,
        proto.as_str(),
        outcome.map_or("-", |o| o.response_flags),
    );
    if let Some(o) = outcome {
        match o.grpc_status {
            Some(g) => {
                let _ = write!(out, "grpc_response_status=\"{g}\",");
            }
            None => out.push_str("grpc_response_status=\"\","),
        }
    }
    let _ = write!(
        out,
        "connection_security_policy=\"{csp}\",source_canonical_service=\"{}\",destination_canonical_service=\"{}\",source_canonical_revision=\"{}\",destination_canonical_revision=\"{}\"",
        src.canonical_service,
        dst.canonical_service,
        src.canonical_revision,
        dst.canonical_revision
    );
}

#[derive(Default)]
struct ReqSeries {
    latency: HistAcc,
    req_bytes: HistAcc,
    resp_bytes: HistAcc,
}

type TcpGet = fn(&TcpSeries) -> f64;
type HistGet = fn(&ReqSeries) -> &HistAcc;

#[derive(Default)]
struct TcpSeries {
    opened: f64,
    active: f64,
    sent: f64,
    received: f64,
}

#[derive(Default)]
struct Acc {
    req_keys: FxHashMap<String, usize>,
    req: Vec<(String, ReqSeries)>,
    tcp_keys: FxHashMap<String, usize>,
    tcp: Vec<(String, TcpSeries)>,
    clusters: Vec<String>,
    /// Requests sent through each outbound cluster so far, by response
    /// class (index 1–5 = 1xx–5xx): Envoy's own cluster stats.
    cluster_rq: FxHashMap<String, [f64; 6]>,
}

impl Acc {
    fn req(&mut self, key: String) -> &mut ReqSeries {
        let n = self.req.len();
        let i = *self.req_keys.entry(key.clone()).or_insert(n);
        if i == n {
            self.req.push((key, ReqSeries::default()));
        }
        &mut self.req[i].1
    }
    fn tcp(&mut self, key: String) -> &mut TcpSeries {
        let n = self.tcp.len();
        let i = *self.tcp_keys.entry(key.clone()).or_insert(n);
        if i == n {
            self.tcp.push((key, TcpSeries::default()));
        }
        &mut self.tcp[i].1
    }
}

/// Add one flow as seen by one reporter; `frac` is this pod's share of the flow,
/// `pairs` how many pod pairs that share spans (for open connections).
#[allow(clippy::too_many_arguments)]
fn add_flow(
    acc: &mut Acc,
    s: &Scenario,
    ei: usize,
    bi: usize,
    t_ms: u64,
    frac: f64,
    pairs: f64,
    reporter: &str,
    src: &Peer,
    dst: &Peer,
    csp: &str,
) {
    let e = &s.edges[ei];
    let d = dest_of(s, e);
    if e.protocol == Protocol::Tcp {
        let mut key = String::with_capacity(900);
        labels(&mut key, None, reporter, src, dst, &d, e.protocol, csp);
        let n = traffic::flow_requests(s, ei, bi, t_ms) * frac;
        let t = acc.tcp(key);
        t.opened += traffic::flow_connections(s, ei, bi, t_ms) * frac;
        t.active += traffic::open_connections(e) as f64 * pairs;
        t.sent += n * e.response_bytes;
        t.received += n * e.request_bytes;
        return;
    }
    let n = traffic::flow_requests(s, ei, bi, t_ms) * frac;
    let (cdf, mean) = traffic::latency_profile(e.latency, &ISTIO_BUCKETS);
    let req_cdf = traffic::lognormal_cdf(e.request_bytes / 1.05, 0.3, &ISTIO_BUCKETS);
    let resp_cdf = traffic::lognormal_cdf(e.response_bytes / 1.05, 0.3, &ISTIO_BUCKETS);
    for o in traffic::outcomes(e) {
        let mut key = String::with_capacity(1000);
        labels(&mut key, Some(&o), reporter, src, dst, &d, e.protocol, csp);
        let m = n * o.share;
        let r = acc.req(key);
        r.latency.add(m, &cdf, mean);
        r.req_bytes.add(m, &req_cdf, e.request_bytes);
        r.resp_bytes.add(m, &resp_cdf, e.response_bytes);
    }
}

/// Render the sidecar scrape of `pod` at `t_ms`.
pub fn render(
    s: &Scenario,
    pod: &Pod,
    t_ms: u64,
    noise: Noise,
    filter: StatFilter<'_>,
    out: &mut String,
) {
    let w = pod.workload;
    let wl = &s.workloads[w];
    let mut acc = Acc::default();
    let me_src = Peer::of(s, w, true);
    for &ei in &s.out_edges[w] {
        let e = &s.edges[ei];
        let frac = 1.0 / f64::from(wl.replicas.max(1));
        let port = match &e.target {
            Target::Service { port, .. } | Target::External { port, .. } => *port,
        };
        let d = dest_of(s, e);
        let cluster = if e.backends.is_empty() {
            "PassthroughCluster".to_string()
        } else {
            format!("outbound|{port}||{}", d.service)
        };
        if e.protocol != Protocol::Tcp {
            let by_class = acc.cluster_rq.entry(cluster.clone()).or_default();
            for bi in 0..e.backends.len().max(1) {
                let n = traffic::flow_requests(s, ei, bi, t_ms) * frac;
                for o in traffic::outcomes(e) {
                    by_class[usize::from(o.http_status / 100).min(5)] += n * o.share;
                }
            }
        }
        acc.clusters.push(cluster);
        if e.backends.is_empty() {
            add_flow(
                &mut acc,
                s,
                ei,
                0,
                t_ms,
                frac,
                1.0,
                "source",
                &me_src,
                &Peer::unknown(),
                "unknown",
            );
        }
        for (bi, b) in e.backends.iter().enumerate() {
            let dst = Peer::of(s, b.workload, e.mtls);
            let pairs = f64::from(s.workloads[b.workload].replicas.max(1));
            add_flow(
                &mut acc, s, ei, bi, t_ms, frac, pairs, "source", &me_src, &dst, "unknown",
            );
        }
    }
    for &(ei, bi) in &s.in_edges[w] {
        let e = &s.edges[ei];
        let src = Peer::of(s, e.from, e.mtls);
        let mut dst = Peer::of(s, w, e.mtls);
        if !e.mtls {
            dst.principal = "unknown".into();
        }
        let csp = if e.mtls { "mutual_tls" } else { "none" };
        let frac = 1.0 / f64::from(wl.replicas.max(1));
        let pairs = f64::from(s.workloads[e.from].replicas.max(1));
        add_flow(
            &mut acc,
            s,
            ei,
            bi,
            t_ms,
            frac,
            pairs,
            "destination",
            &src,
            &dst,
            csp,
        );
        if let Some(p) = wl.ports.first() {
            let c = format!("inbound|{}||", p.port);
            if !acc.clusters.contains(&c) {
                acc.clusters.push(c);
            }
        }
    }
    write_out(s, pod, t_ms, noise, filter, &acc, out);
}

fn write_out(
    s: &Scenario,
    pod: &Pod,
    t_ms: u64,
    noise: Noise,
    filter: StatFilter<'_>,
    acc: &Acc,
    out: &mut String,
) {
    // A caller that sized `out` (from the pod's last page) knows better
    // than this estimate; growing past it copied the buffer for nothing.
    if out.capacity() == 0 {
        let lines = acc.req.len() * 70 + acc.tcp.len() * 4 + 64;
        out.reserve(lines * 700 + 16_384);
    }
    let nz = envoy_noise::NoiseCtx::new(s, pod, t_ms, noise, &acc.clusters)
        .with_traffic(&acc.cluster_rq)
        .with_filter(filter);
    nz.counters(out);
    if !acc.req.is_empty() && filter.keeps("istio_requests_total") {
        out.push_str("# TYPE istio_requests_total counter\n");
        for (k, r) in &acc.req {
            let _ = writeln!(
                out,
                "istio_requests_total{{{k}}} {}",
                r.latency.count.floor() as u64
            );
        }
    }
    if !acc.tcp.is_empty() {
        let fams: [(&str, TcpGet); 4] = [
            ("istio_tcp_connections_closed_total", |t| {
                (t.opened - t.active).max(0.0)
            }),
            ("istio_tcp_connections_opened_total", |t| t.opened),
            ("istio_tcp_received_bytes_total", |t| t.received),
            ("istio_tcp_sent_bytes_total", |t| t.sent),
        ];
        for (name, f) in fams.into_iter().filter(|(name, _)| filter.keeps(name)) {
            let _ = writeln!(out, "# TYPE {name} counter");
            for (k, t) in &acc.tcp {
                let _ = writeln!(out, "{name}{{{k}}} {}", f(t).floor() as u64);
            }
        }
    }
    nz.gauges(out);
    nz.histograms(out);
    let suffixes: Vec<String> = ISTIO_BUCKETS
        .iter()
        .map(|b| format!(",le=\"{}\"}} ", fmt_bound(*b)))
        .chain(std::iter::once(",le=\"+Inf\"} ".to_string()))
        .collect();
    let hists: [(&str, HistGet); 3] = [
        ("istio_request_bytes", |r| &r.req_bytes),
        ("istio_request_duration_milliseconds", |r| &r.latency),
        ("istio_response_bytes", |r| &r.resp_bytes),
    ];
    for (name, get) in hists.into_iter().filter(|(name, _)| filter.keeps(name)) {
        if acc.req.is_empty() {
            break;
        }
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (k, r) in &acc.req {
            let h = get(r).finish();
            for (v, suffix) in h.buckets.iter().zip(&suffixes) {
                line(out, name, "_bucket{", k, suffix, *v);
            }
            line(out, name, "_sum{", k, "} ", h.sum);
            line(out, name, "_count{", k, "} ", h.count);
        }
    }
}

/// Append `name part key suffix value\n` without the formatting machinery
/// (this loop writes most of the bytes of a scrape).
pub(crate) fn line(out: &mut String, name: &str, part: &str, key: &str, suffix: &str, v: u64) {
    out.push_str(name);
    out.push_str(part);
    out.push_str(key);
    out.push_str(suffix);
    push_u64(out, v);
    out.push('\n');
}

/// Append the decimal form of `v`.
pub(crate) fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}
