//! linkerd2-proxy's self-metrics around the traffic families: control-plane
//! clients, service stacks, process stats and build info (as in a real scrape).

use std::fmt::Write;

use super::fmt_bound;
use super::linkerd::family;
use crate::sim::rng;
use crate::sim::scenario::Scenario;
use crate::sim::traffic::LINKERD_BUCKETS;

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

pub(crate) fn control(out: &mut String, up: u64) {
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

pub(crate) fn stacks(out: &mut String, seed: u64, up: u64) {
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

pub(crate) fn process(out: &mut String, s: &Scenario, seed: u64, uptime: u64, t_s: u64) {
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
