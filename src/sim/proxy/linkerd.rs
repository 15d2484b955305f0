//! linkerd2-proxy `:4191/metrics` output, raw as the proxy exposes it (no
//! namespace/pod labels: those are added by Prometheus at collection time).
//! Label sets and order follow a real proxy scrape (linkerd2 `sampleMetrics`).

use std::fmt::Write;

use rustc_hash::FxHashMap;

use super::{Noise, fmt_bound};
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
pub fn render(s: &Scenario, pod: &Pod, t_ms: u64, noise: Noise) -> String {
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
    write_out(s, pod, t_ms, noise, &acc)
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn write_out(s: &Scenario, pod: &Pod, t_ms: u64, noise: Noise, acc: &Acc) -> String {
    let mut out = String::with_capacity(acc.lat.items.len() * 28 * 400 + 16_384);
    let seed = rng::hash(s.seed, &[&pod.namespace, &pod.name]);
    let uptime = 3600 + seed % 7200;
    let t_s = t_ms / 1000;
    if !acc.authz.items.is_empty() {
        family(
            &mut out,
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
            &mut out,
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
            &mut out,
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
        &mut out,
        "request_total",
        "counter",
        "Total count of HTTP requests.",
    );
    for (k, v) in &acc.req.items {
        let _ = writeln!(out, "request_total{{{k}}} {}", v.floor() as u64);
    }
    family(
        &mut out,
        "response_latency_ms",
        "histogram",
        "Elapsed times between a request's headers being received and its response stream completing",
    );
    let bounds: Vec<String> = LINKERD_BUCKETS.iter().map(|b| fmt_bound(*b)).collect();
    for (k, h) in &acc.lat.items {
        let h = h.finish();
        for (i, v) in h.buckets.iter().enumerate() {
            let _ = writeln!(
                out,
                "response_latency_ms_bucket{{{k},le=\"{}\"}} {v}",
                bounds.get(i).map_or("+Inf", String::as_str)
            );
        }
        let _ = writeln!(
            out,
            "response_latency_ms_count{{{k}}} {}\nresponse_latency_ms_sum{{{k}}} {}",
            h.count, h.sum
        );
    }
    family(
        &mut out,
        "response_total",
        "counter",
        "Total count of HTTP responses.",
    );
    for (k, v) in &acc.resp.items {
        let _ = writeln!(out, "response_total{{{k}}} {}", v.floor() as u64);
    }
    if noise == Noise::Realistic {
        control(&mut out, uptime + t_s);
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
        family(&mut out, name, kind, help);
        for (k, t) in &acc.tcp.items {
            let _ = writeln!(out, "{name}{{{k}}} {}", f(t).floor() as u64);
        }
    }
    family(
        &mut out,
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
        stacks(&mut out, seed, uptime + t_s);
    }
    if noise != Noise::None {
        process(&mut out, s, seed, uptime, t_s);
    }
    out
}

const CONTROL: [(&str, &str); 3] = [
    (
        "linkerd-dst-headless.linkerd.svc.cluster.local:8086",
        "linkerd-destination",
    ),
    (
        "linkerd-policy.linkerd.svc.cluster.local:8090",
        "linkerd-destination",
    ),
    (
        "linkerd-identity-headless.linkerd.svc.cluster.local:8080",
        "linkerd-identity",
    ),
];

fn control(out: &mut String, up: u64) {
    let l = |a: &str, id: &str| {
        format!(
            "addr=\"{a}\",tls=\"true\",server_id=\"{id}.linkerd.serviceaccount.identity.linkerd.cluster.local\""
        )
    };
    let n = |i: usize| 1 + up / (600 * (i as u64 + 1));
    family(
        out,
        "control_request_total",
        "counter",
        "Total count of HTTP requests.",
    );
    for (i, (a, id)) in CONTROL.iter().enumerate() {
        let _ = writeln!(out, "control_request_total{{{}}} {}", l(a, id), n(i));
    }
    family(
        out,
        "control_response_latency_ms",
        "histogram",
        "Elapsed times between a request's headers being received and its response stream completing",
    );
    for (i, (a, id)) in CONTROL.iter().enumerate() {
        let k = format!("{},status_code=\"200\"", l(a, id));
        for b in LINKERD_BUCKETS {
            let v = if b < 2.0 {
                0
            } else if b < 10.0 {
                n(i) / 2
            } else {
                n(i)
            };
            let _ = writeln!(
                out,
                "control_response_latency_ms_bucket{{{k},le=\"{}\"}} {v}",
                fmt_bound(b)
            );
        }
        let _ = writeln!(
            out,
            "control_response_latency_ms_bucket{{{k},le=\"+Inf\"}} {}\ncontrol_response_latency_ms_count{{{k}}} {}\ncontrol_response_latency_ms_sum{{{k}}} {}",
            n(i),
            n(i),
            n(i) * 4
        );
    }
    family(
        out,
        "control_response_total",
        "counter",
        "Total count of HTTP responses.",
    );
    for (i, (a, id)) in CONTROL.iter().enumerate() {
        let _ = writeln!(
            out,
            "control_response_total{{{},status_code=\"200\",classification=\"success\",grpc_status=\"0\"}} {}",
            l(a, id),
            n(i)
        );
    }
}

fn stacks(out: &mut String, seed: u64, up: u64) {
    const STACKS: [(&str, &str, &str); 9] = [
        ("outbound", "tcp", "balancer"),
        ("outbound", "http", "logical"),
        ("outbound", "tcp", "logical"),
        ("inbound", "tcp", "gateway"),
        ("outbound", "tcp", "server"),
        ("outbound", "http", "balancer"),
        ("inbound", "http", "gateway"),
        ("inbound", "http", "logical"),
        ("outbound", "http", "balance.endpoint"),
    ];
    let v = |i: usize, m: u64| {
        let h = rng::mix(seed ^ i as u64 ^ (m << 8));
        if h.is_multiple_of(3) {
            0
        } else {
            h % 7 + up / (300 + h % 3000)
        }
    };
    for (m, (name, help)) in [
        ("stack_create_total", "Total number of services created"),
        ("stack_drop_total", "Total number of services dropped"),
    ]
    .iter()
    .enumerate()
    {
        family(out, name, "counter", help);
        for (i, (d, p, n)) in STACKS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}{{direction=\"{d}\",protocol=\"{p}\",name=\"{n}\"}} {}",
                v(i, m as u64)
            );
        }
    }
    family(
        out,
        "stack_poll_total",
        "counter",
        "Total number of stack polls",
    );
    for (r, ready) in ["true", "false", "error"].iter().enumerate() {
        for (i, (d, p, n)) in STACKS.iter().enumerate() {
            let val = if *ready == "error" {
                0
            } else {
                v(i, 10 + r as u64)
            };
            let _ = writeln!(
                out,
                "stack_poll_total{{direction=\"{d}\",protocol=\"{p}\",name=\"{n}\",ready=\"{ready}\"}} {val}"
            );
        }
    }
    family(
        out,
        "stack_poll_total_ms",
        "counter",
        "Total number of milliseconds this service has spent awaiting readiness",
    );
    for (i, (d, p, n)) in STACKS.iter().enumerate() {
        let _ = writeln!(
            out,
            "stack_poll_total_ms{{direction=\"{d}\",protocol=\"{p}\",name=\"{n}\"}} {}",
            v(i, 20)
        );
    }
}

fn process(out: &mut String, s: &Scenario, seed: u64, uptime: u64, t_s: u64) {
    let start = s.epoch_ms / 1000 - uptime;
    let cpu = (uptime + t_s) as f64 * 0.004 * (1.0 + (seed % 100) as f64 / 100.0);
    family(
        out,
        "process_start_time_seconds",
        "gauge",
        "Time that the process started (in seconds since the UNIX epoch)",
    );
    let _ = writeln!(out, "process_start_time_seconds {start}");
    family(
        out,
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
    );
    let _ = writeln!(
        out,
        "process_cpu_seconds_total {:.2}",
        (cpu * 100.0).floor() / 100.0
    );
    family(
        out,
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
    );
    let _ = writeln!(
        out,
        "process_virtual_memory_bytes {}",
        52_211_712 + (seed % 64) * 4096
    );
    family(
        out,
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
    );
    let _ = writeln!(
        out,
        "process_resident_memory_bytes {}",
        9_478_144 + (seed % 512) * 4096
    );
    family(
        out,
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
    );
    let _ = writeln!(out, "process_open_fds {}", 20 + seed % 12);
    family(
        out,
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
    );
    let _ = writeln!(out, "process_max_fds 1048576");
    family(out, "proxy_build_info", "gauge", "Proxy build info");
    let _ = writeln!(
        out,
        "proxy_build_info{{git_branch=\"HEAD\",git_sha=\"a4c8d2e\",git_version=\"v2.276.0\",profile=\"release\",rust_version=\"rustc 1.83.0 (90b35a623 2024-11-26)\"}} 1"
    );
}
