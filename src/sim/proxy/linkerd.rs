//! linkerd2-proxy `:4191/metrics` output, raw as the proxy exposes it (no
//! namespace/pod labels: those are added by Prometheus at collection time).
//! Label sets and order follow a real proxy scrape (linkerd2 `sampleMetrics`).

use std::fmt::Write;

use rustc_hash::FxHashMap;

use super::istio::line;
use super::{Noise, fmt_bound, linkerd_noise};
use crate::sim::rng;
use crate::sim::scenario::{Edge, Pod, Protocol, Scenario, Target, WorkloadKind};
use crate::sim::traffic::{self, HistAcc, LINKERD_BUCKETS};

/// Series accumulated by label string, in first-seen order.
struct Keyed<T> {
    map: FxHashMap<String, usize>,
    items: Vec<(String, T)>,
}

impl<T: Default> Keyed<T> {
    fn new() -> Self {
        Self {
            map: FxHashMap::default(),
            items: Vec::new(),
        }
    }
    fn at(&mut self, key: String) -> &mut T {
        let n = self.items.len();
        let i = *self.map.entry(key.clone()).or_insert(n);
        if i == n {
            self.items.push((key, T::default()));
        }
        &mut self.items[i].1
    }
}

type TcpGet = fn(&Tcp) -> f64;

#[derive(Default)]
struct Tcp {
    opened: f64,
    active: f64,
    read: f64,
    write: f64,
}

struct Acc {
    authz: Keyed<f64>,
    req: Keyed<f64>,
    lat: Keyed<HistAcc>,
    resp: Keyed<f64>,
    tcp: Keyed<Tcp>,
}

/// The Service port and container target port of an edge.
fn ports(s: &Scenario, e: &Edge) -> (u16, u16) {
    match &e.target {
        Target::Service { service, port } => {
            let tp = s.services[*service]
                .ports
                .iter()
                .find(|p| p.port == *port)
                .map_or(*port, |p| p.target_port);
            (*port, tp)
        }
        Target::External { port, .. } => (*port, *port),
    }
}

fn authority(s: &Scenario, e: &Edge) -> String {
    match &e.target {
        Target::Service { service, port } => format!("{}:{port}", s.services[*service].fqdn()),
        Target::External { host, port } => format!("{host}:{port}"),
    }
}

/// Add one flow share (`n` requests, `conns` connections) under `base` labels.
#[allow(clippy::too_many_arguments)]
fn add(
    acc: &mut Acc,
    e: &Edge,
    base: &str,
    tcp_base: &str,
    n: f64,
    conns: f64,
    active: f64,
    outbound: bool,
) {
    let (rd, wr) = if outbound {
        (e.response_bytes, e.request_bytes)
    } else {
        (e.request_bytes, e.response_bytes)
    };
    let t = acc.tcp.at(tcp_base.to_string());
    t.opened += conns;
    t.active += active;
    t.read += n * rd;
    t.write += n * wr;
    if e.protocol == Protocol::Tcp {
        return;
    }
    *acc.req.at(base.to_string()) += n;
    let (cdf, mean) = traffic::latency_profile(e.latency, &LINKERD_BUCKETS);
    for o in traffic::outcomes(e) {
        let class = if o.success { "success" } else { "failure" };
        let mut k = format!(
            "{base},status_code=\"{}\",classification=\"{class}\"",
            o.http_status
        );
        if let Some(g) = o.grpc_status {
            let _ = write!(k, ",grpc_status=\"{g}\"");
        }
        *acc.resp.at(k) += n * o.share;
        acc.lat
            .at(format!("{base},status_code=\"{}\"", o.http_status))
            .add(n * o.share, &cdf, mean);
    }
}

/// Render the linkerd-proxy scrape of `pod` at `t_ms`.
pub fn render(s: &Scenario, pod: &Pod, t_ms: u64, noise: Noise, out: &mut String) {
    let w = pod.workload;
    let mut acc = Acc {
        authz: Keyed::new(),
        req: Keyed::new(),
        lat: Keyed::new(),
        resp: Keyed::new(),
        tcp: Keyed::new(),
    };
    for &ei in &s.out_edges[w] {
        let e = &s.edges[ei];
        let (_, tport) = ports(s, e);
        let auth = authority(s, e);
        if e.backends.is_empty() {
            let ip = format!("169.254.{}.{}", ei % 250, 254 - ei % 200);
            let tgt = format!(
                "target_addr=\"{ip}:{tport}\",target_ip=\"{ip}\",target_port=\"{tport}\",tls=\"no_identity\",no_tls_reason=\"not_provided_by_service_discovery\""
            );
            let frac = 1.0 / f64::from(s.workloads[w].replicas.max(1));
            let n = traffic::flow_requests(s, ei, 0, t_ms) * frac;
            let c = traffic::flow_connections(s, ei, 0, t_ms) * frac;
            let base = format!("direction=\"outbound\",authority=\"{auth}\",{tgt}");
            let tcp = format!("direction=\"outbound\",peer=\"dst\",{tgt}");
            add(
                &mut acc,
                e,
                &base,
                &tcp,
                n,
                c,
                traffic::open_connections(e) as f64,
                true,
            );
            continue;
        }
        for (bi, b) in e.backends.iter().enumerate() {
            let dw = &s.workloads[b.workload];
            let frac = traffic::pair_fraction(s, ei, bi);
            let n = traffic::flow_requests(s, ei, bi, t_ms) * frac;
            let c = traffic::flow_connections(s, ei, bi, t_ms) * frac;
            let svc = match &e.target {
                Target::Service { service, .. } => s.services[*service].name.as_str(),
                Target::External { .. } => "",
            };
            for &qi in &s.workload_pods[b.workload] {
                let q = &s.pods[qi];
                let tls = if dw.meshed {
                    format!(
                        "tls=\"true\",server_id=\"{}\",dst_control_plane_ns=\"linkerd\",",
                        s.linkerd_identity(b.workload)
                    )
                } else {
                    "tls=\"no_identity\",no_tls_reason=\"not_provided_by_service_discovery\","
                        .to_string()
                };
                let owner = match (dw.kind, &q.template_hash) {
                    (WorkloadKind::Deployment, Some(h)) => format!(
                        "dst_deployment=\"{}\",dst_namespace=\"{}\",dst_pod=\"{}\",dst_pod_template_hash=\"{h}\"",
                        dw.name, dw.namespace, q.name
                    ),
                    _ => format!("dst_namespace=\"{}\",dst_pod=\"{}\"", dw.namespace, q.name),
                };
                let sts = if dw.kind == WorkloadKind::StatefulSet {
                    format!(",dst_statefulset=\"{}\"", dw.name)
                } else {
                    String::new()
                };
                let tgt = format!(
                    "target_addr=\"{}:{tport}\",target_ip=\"{}\",target_port=\"{tport}\",{tls}{owner},dst_service=\"{svc}\",dst_serviceaccount=\"{}\"{sts}",
                    q.ip, q.ip, dw.service_account
                );
                let base = format!("direction=\"outbound\",authority=\"{auth}\",{tgt}");
                let tcp = format!("direction=\"outbound\",peer=\"dst\",{tgt}");
                add(
                    &mut acc,
                    e,
                    &base,
                    &tcp,
                    n,
                    c,
                    traffic::open_connections(e) as f64,
                    true,
                );
            }
        }
    }
    for &(ei, bi) in &s.in_edges[w] {
        let e = &s.edges[ei];
        let (_, tport) = ports(s, e);
        let tgt = format!(
            "target_addr=\"{}:{tport}\",target_ip=\"{}\",target_port=\"{tport}\"",
            pod.ip, pod.ip
        );
        let tls = if e.mtls {
            format!("tls=\"true\",client_id=\"{}\"", s.linkerd_identity(e.from))
        } else {
            "tls=\"no_identity\",no_tls_reason=\"no_tls_from_remote\"".to_string()
        };
        let (srv_kind, srv, ak, an) = match &e.inbound_policy {
            Some(p) => (
                "server",
                p.server.as_str(),
                p.authz_kind.as_str(),
                p.authz_name.as_str(),
            ),
            None => (
                "default",
                "all-unauthenticated",
                "default",
                "all-unauthenticated",
            ),
        };
        let srv_l = format!("srv_kind=\"{srv_kind}\",srv_name=\"{srv}\"");
        let authz_l = format!("authz_kind=\"{ak}\",authz_name=\"{an}\"");
        let src_pods = f64::from(s.workloads[e.from].replicas.max(1));
        let frac = traffic::pair_fraction(s, ei, bi) * src_pods;
        let n = traffic::flow_requests(s, ei, bi, t_ms) * frac;
        let c = traffic::flow_connections(s, ei, bi, t_ms) * frac;
        let base = format!(
            "direction=\"inbound\",authority=\"{}\",{tgt},{tls},{srv_l},{authz_l}",
            authority(s, e)
        );
        let tcp = format!("direction=\"inbound\",peer=\"src\",{tgt},{tls},{srv_l}");
        add(
            &mut acc,
            e,
            &base,
            &tcp,
            n,
            c,
            traffic::open_connections(e) as f64 * src_pods,
            false,
        );
        if e.protocol != Protocol::Tcp {
            *acc.authz.at(format!("{tgt},{srv_l},{authz_l},{tls}")) += n;
        }
    }
    write_out(s, pod, t_ms, noise, &acc, out);
}

pub(crate) fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn write_out(s: &Scenario, pod: &Pod, t_ms: u64, noise: Noise, acc: &Acc, out: &mut String) {
    out.reserve(acc.lat.items.len() * 28 * 400 + 16_384);
    let seed = rng::hash(s.seed, &[&pod.namespace, &pod.name]);
    let uptime = 3600 + seed % 7200;
    let t_s = t_ms / 1000;
    if !acc.authz.items.is_empty() {
        family(
            out,
            "inbound_http_authz_allow_total",
            "counter",
            "The total number of inbound HTTP requests that were authorized",
        );
        for (k, v) in &acc.authz.items {
            let _ = writeln!(
                out,
                "inbound_http_authz_allow_total{{{k}}} {}",
                v.floor() as u64
            );
        }
    }
    if noise != Noise::None {
        family(
            out,
            "identity_cert_expiration_timestamp_seconds",
            "gauge",
            "Time when the this proxy's current mTLS identity certificate will expire (in seconds since the UNIX epoch).",
        );
        let _ = writeln!(
            out,
            "identity_cert_expiration_timestamp_seconds {}",
            s.epoch_ms / 1000 + 86_400 - uptime % 3600
        );
        family(
            out,
            "identity_cert_refresh_count",
            "counter",
            "The total number of times this proxy's mTLS identity certificate has been refreshed by the Identity service.",
        );
        let _ = writeln!(
            out,
            "identity_cert_refresh_count {}",
            1 + (uptime + t_s) / 86_400
        );
    }
    family(
        out,
        "request_total",
        "counter",
        "Total count of HTTP requests.",
    );
    for (k, v) in &acc.req.items {
        let _ = writeln!(out, "request_total{{{k}}} {}", v.floor() as u64);
    }
    family(
        out,
        "response_latency_ms",
        "histogram",
        "Elapsed times between a request's headers being received and its response stream completing",
    );
    let suffixes: Vec<String> = LINKERD_BUCKETS
        .iter()
        .map(|b| format!(",le=\"{}\"}} ", fmt_bound(*b)))
        .chain(std::iter::once(",le=\"+Inf\"} ".to_string()))
        .collect();
    for (k, h) in &acc.lat.items {
        let h = h.finish();
        for (v, suffix) in h.buckets.iter().zip(&suffixes) {
            line(out, "response_latency_ms", "_bucket{", k, suffix, *v);
        }
        line(out, "response_latency_ms", "_count{", k, "} ", h.count);
        line(out, "response_latency_ms", "_sum{", k, "} ", h.sum);
    }
    family(
        out,
        "response_total",
        "counter",
        "Total count of HTTP responses.",
    );
    for (k, v) in &acc.resp.items {
        let _ = writeln!(out, "response_total{{{k}}} {}", v.floor() as u64);
    }
    if noise == Noise::Realistic {
        linkerd_noise::control(out, uptime + t_s);
    }
    let tcp: [(&str, &str, &str, TcpGet); 4] = [
        (
            "tcp_open_total",
            "counter",
            "Total count of opened connections",
            |t| t.opened,
        ),
        (
            "tcp_open_connections",
            "gauge",
            "Number of currently-open connections",
            |t| t.active,
        ),
        (
            "tcp_read_bytes_total",
            "counter",
            "Total count of bytes read from peers",
            |t| t.read,
        ),
        (
            "tcp_write_bytes_total",
            "counter",
            "Total count of bytes written to peers",
            |t| t.write,
        ),
    ];
    for (name, kind, help, f) in tcp {
        family(out, name, kind, help);
        for (k, t) in &acc.tcp.items {
            let _ = writeln!(out, "{name}{{{k}}} {}", f(t).floor() as u64);
        }
    }
    family(
        out,
        "tcp_close_total",
        "counter",
        "Total count of closed connections",
    );
    for (k, t) in &acc.tcp.items {
        let _ = writeln!(
            out,
            "tcp_close_total{{{k},errno=\"\"}} {}",
            (t.opened - t.active).max(0.0).floor() as u64
        );
    }
    if noise == Noise::Realistic {
        linkerd_noise::stacks(out, seed, uptime + t_s);
    }
    if noise != Noise::None {
        linkerd_noise::process(out, s, seed, uptime, t_s);
    }
}
