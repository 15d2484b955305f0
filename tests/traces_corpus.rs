#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every Jaeger, Zipkin and OTLP trace sample of the corpus parses and
//! yields the service calls a hand count of its spans gives.

mod common;

use meshscope::collect::traces::{TraceGraph, TraceInput, parse_str};

/// Parse one corpus file and link it.
fn graph_of(rel: &str) -> Option<(TraceGraph, TraceInput)> {
    let dir = common::corpus()?;
    let text = std::fs::read_to_string(dir.join(rel)).unwrap();
    let mut input = TraceInput::new("traces");
    input.add(parse_str(&text, rel).unwrap_or_else(|e| panic!("{rel}: {e}")));
    let g = input.graph();
    Some((g, input))
}

/// `(parent, child, calls, errors)`, sorted.
fn edges(list: &[(&str, &str, u64, u64)]) -> Vec<(String, String, u64, u64)> {
    let mut v: Vec<_> = list
        .iter()
        .map(|(p, c, n, e)| (p.to_string(), c.to_string(), *n, *e))
        .collect();
    v.sort();
    v
}

fn check(rel: &str, spans: usize, expected: &[(&str, &str, u64, u64)]) -> Option<TraceGraph> {
    let (g, input) = graph_of(rel)?;
    assert_eq!(input.problems, Vec::<String>::new(), "{rel}");
    assert_eq!(g.stats.spans, spans, "{rel}: span count");
    assert_eq!(g.counts(), edges(expected), "{rel}: edges");
    Some(g)
}

// --- Jaeger UI model ---------------------------------------------------

#[test]
fn jaeger_trace_success() {
    // Server span of 16af… (parent 4927… not in the file) → its child, a
    // client span of 3c22… tagged error=true: one failing call.
    let Some(g) = check(
        "jaeger/jaeger__trace_success.json",
        2,
        &[("16af988c443cff37", "3c220036602f839e", 1, 1)],
    ) else {
        return;
    };
    assert_eq!(g.stats.missing_parents, 1);
}

#[test]
fn jaeger_ui_01() {
    // Span 2 (service-x) appears twice: the copy is dropped. Spans 3 and 4
    // (service-y) are children of 2 (4 names a missing ff first, then 2);
    // span 5 is service-y → service-y (not a call).
    let Some(g) = check(
        "jaeger/jaeger__ui_01.json",
        5,
        &[("service-x", "service-y", 2, 0)],
    ) else {
        return;
    };
    assert_eq!(g.stats.duplicate_span_ids, 1);
    assert_eq!(g.stats.missing_parents, 0);
}

#[test]
fn jaeger_otlp2jaeger_out() {
    // Two copies of one telemetrygen server span (parent missing); its
    // peer.service names the caller: telemetrygen-client → telemetrygen.
    let Some(g) = check(
        "jaeger/jaeger__otlp2jaeger-out.json",
        2,
        &[("telemetrygen-client", "telemetrygen", 1, 0)],
    ) else {
        return;
    };
    assert_eq!(g.stats.duplicate_span_ids, 1);
}

#[test]
fn jaeger_dependency_links() {
    check(
        "jaeger/jaeger-ui__dependencygraph-small.json",
        0,
        &[
            ("Service1", "Service2", 30489, 0),
            ("Service1", "Service3", 30491, 0),
            ("Service1", "Service5", 8560, 0),
            ("Service8", "Service6", 30489, 0),
            ("Service6", "Service1", 30489, 0),
            ("Service2", "Service4", 129216, 0),
            ("Service3", "Service7", 30491, 0),
        ],
    );
}

// --- OTLP and Tempo ----------------------------------------------------

#[test]
fn otlp_single_service_files_have_no_calls() {
    for (rel, spans) in [
        ("otlp/jaeger__GetTrace.json", 1),
        ("otlp/jaeger__example_trace.json", 5),
        ("otlp/jaeger__link_attributes_trace.json", 1),
        ("otlp/jaeger__scope_attributes_trace.json", 1),
        ("otlp/opentelemetry-proto__trace.json", 1),
    ] {
        check(rel, spans, &[]);
    }
}

#[test]
fn otlp_otel_traces_01() {
    // Four service-x spans in two traces (…01… and …02…), all status
    // ERROR, all naming peer.service service-y. Trace 1: span 2 (server,
    // parent 3 is in trace 2) → service-y → service-x; span 4 (producer)
    // → service-x → service-y. Trace 2: span 3 (client, no child) →
    // service-x → service-y; span 5 (consumer) → service-y → service-x.
    let Some(g) = check(
        "otlp/jaeger__otel_traces_01.json",
        4,
        &[
            ("service-x", "service-y", 2, 2),
            ("service-y", "service-x", 2, 2),
        ],
    ) else {
        return;
    };
    assert_eq!(g.stats.traces, 2);
}

#[test]
fn otlp_telemetrygen_input() {
    check(
        "otlp/jaeger__otlp2jaeger-in.json",
        2,
        &[("telemetrygen-client", "telemetrygen", 1, 0)],
    );
}

#[test]
fn tempo_bookinfo_trace() {
    // ingress client → productpage server; productpage's two clients →
    // reviews and details servers; reviews' client → ratings server.
    let Some(g) = check(
        "otlp/kiali__responseTrace.json",
        8,
        &[
            (
                "istio-ingressgateway.istio-system",
                "productpage.bookinfo",
                1,
                0,
            ),
            ("productpage.bookinfo", "reviews.bookinfo", 1, 0),
            ("productpage.bookinfo", "details.bookinfo", 1, 0),
            ("reviews.bookinfo", "ratings.bookinfo", 1, 0),
        ],
    ) else {
        return;
    };
    assert_eq!(g.stats.missing_parents, 0);
    let e = &g.edges["productpage.bookinfo"]["reviews.bookinfo"];
    assert_eq!(e.slowest.len(), 1);
    assert!(e.durations_ms[0] > 0.0);
}

#[test]
fn tempo_search_results_carry_ids_only() {
    for rel in [
        "otlp/kiali__response.json",
        "otlp/kiali__responseAmbient.json",
    ] {
        let Some(dir) = common::corpus() else { return };
        let text = std::fs::read_to_string(dir.join(rel)).unwrap();
        let p = parse_str(&text, rel).unwrap();
        assert_eq!(p.format, "tempo-search");
        assert!(!p.trace_ids.is_empty(), "{rel}");
        assert!(p.traces.is_empty());
    }
}

// --- Zipkin v2 ---------------------------------------------------------

#[test]
fn zipkin_ascend() {
    // mobile-gateway's two clients share ids with the content-service and
    // auth-service servers: one call each; content-service's client has
    // no remote endpoint and no child.
    check(
        "zipkin/zipkin-lens__ascend.json",
        8,
        &[
            ("mobile-gateway", "content-service", 1, 0),
            ("mobile-gateway", "auth-service", 1, 0),
        ],
    );
}

#[test]
fn zipkin_envoy_span_without_service() {
    let Some(g) = check("zipkin/zipkin-lens__envoy.json", 1, &[]) else {
        return;
    };
    assert_eq!(g.stats.spans_without_service, 1);
}

#[test]
fn zipkin_messaging_goes_through_the_broker() {
    // frontend PRODUCER → rabbitmq, rabbitmq → backend CONSUMER; no direct
    // frontend → backend call.
    check(
        "zipkin/zipkin-lens__messaging.json",
        4,
        &[
            ("frontend", "rabbitmq", 1, 0),
            ("rabbitmq", "backend", 1, 0),
        ],
    );
}

#[test]
fn zipkin_messaging_kafka() {
    // 9 servicea PRODUCER spans → kafka; CONSUMER spans: 4 in servicea
    // (0562 root, e047, 08e9, bad2), 3 in serviceb (b4a2, a552, 519d). The
    // error tags are on local child spans, not on the calls.
    check(
        "zipkin/zipkin-lens__messaging-kafka.json",
        28,
        &[
            ("servicea", "kafka", 9, 0),
            ("kafka", "servicea", 4, 0),
            ("kafka", "serviceb", 3, 0),
        ],
    );
}

#[test]
fn zipkin_messaging2() {
    // auth-service's server span is a child of mobile-gateway's server
    // span; transfer-service produces and notification-service consumes
    // through rabbitmq, under parents missing from the file (6 spans).
    let Some(g) = check(
        "zipkin/zipkin-lens__messaging2.json",
        11,
        &[
            ("mobile-gateway", "auth-service", 1, 0),
            ("transfer-service", "rabbitmq", 1, 0),
            ("rabbitmq", "notification-service", 1, 0),
        ],
    ) else {
        return;
    };
    assert_eq!(g.stats.missing_parents, 6);
}

#[test]
fn zipkin_simple_db() {
    check(
        "zipkin/zipkin-lens__simple-db-p6.json",
        5,
        &[("bootifulmeters", "app_db", 4, 0)],
    );
}

#[test]
fn zipkin_skew() {
    // servicea's client 7428 and serviceb's shared server 7428: one call;
    // the server half starts 3.4 ms before its client half (skew).
    let Some(g) = check(
        "zipkin/zipkin-lens__skew.json",
        4,
        &[("servicea", "serviceb", 1, 0)],
    ) else {
        return;
    };
    assert_eq!(g.stats.skewed_spans, 1);
}

#[test]
fn zipkin_yelp() {
    // routing (root server) → `unknown` (client 668e) → yelp_main/api_proxy
    // (its shared server); api_proxy → yelp-main (local span 241c and
    // client e7d1 under 668e); yelp-main's leaf clients → memcache ×3,
    // mysql ×2; routing → yelp-main (client f5f2) → mobile_api (its
    // server); mobile_api's leaf clients → blt, memcache ×2, and → spectre
    // through spectre's shared server.
    check(
        "zipkin/zipkin-lens__yelp.json",
        16,
        &[
            ("routing", "unknown", 1, 0),
            ("unknown", "yelp_main/api_proxy", 1, 0),
            ("yelp_main/api_proxy", "yelp-main", 2, 0),
            ("yelp-main", "memcache", 3, 0),
            ("yelp-main", "mysql", 2, 0),
            ("routing", "yelp-main", 1, 0),
            ("yelp-main", "mobile_api", 1, 0),
            ("mobile_api", "blt", 1, 0),
            ("mobile_api", "spectre", 1, 0),
            ("mobile_api", "memcache", 2, 0),
        ],
    );
}

#[test]
fn zipkin_single_span_objects() {
    check(
        "zipkin/zipkin__zipkin2-client.json",
        1,
        &[("frontend", "backend", 1, 0)],
    );
    check(
        "zipkin/zipkin__zipkin2-chinese.json",
        1,
        &[("订单维护服务", "个人信息服务", 1, 1)],
    );
}

#[test]
fn zipkin_smartthings_large_trace() {
    let Some((g, _)) = graph_of("zipkin/zipkin-lens__smartthings-oauth-authorization.json") else {
        return;
    };
    assert_eq!(g.stats.traces, 1);
    assert_eq!(g.stats.spans, 175);
    // pusher's leaf client → bouncer per its remote endpoint, and services
    // seen in the trace call each other.
    assert!(g.edges.contains_key("pusher"));
    assert!(g.counts().len() >= 5, "{:?}", g.counts());
}
