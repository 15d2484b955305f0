//! The simulated Jaeger query service over HTTP for bookinfo: payload
//! shapes against the real Jaeger payloads of the corpus, dependency links
//! against the scenario's call graph, the planted failing edge,
//! determinism, 400/404 answers.

#![allow(clippy::unwrap_used)]

mod sim_jaeger_common;

use std::collections::BTreeSet;

use sim_jaeger_common::*;

async fn bookinfo_body() {
    let f = Fixture::start("bookinfo").await;

    // Services and operations.
    let got = f.get("/api/v3/services").await;
    assert_eq!(got.status, 200);
    let v = got.json();
    assert_eq!(keys(&v), ["services".to_string()].into());
    let services: BTreeSet<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for s in [
        "istio-ingressgateway.istio-system",
        "productpage.default",
        "reviews.default",
        "ratings.default",
        "details.default",
    ] {
        assert!(services.contains(s), "{s} missing from {services:?}");
    }
    assert!(!services.contains("sleep.legacy"), "sleep has no proxy");
    let ops = f.get("/api/v3/operations?service=reviews.default").await;
    let ops = ops.json()["operations"].as_array().unwrap().clone();
    let kinds: BTreeSet<&str> = ops
        .iter()
        .map(|o| o["spanKind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["client", "server"].into());
    let server_only = f
        .get("/api/v3/operations?service=reviews.default&spanKind=server")
        .await
        .json();
    assert!(
        server_only["operations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["spanKind"] == "server" && o["name"].is_string())
    );

    // Find traces; snake_case aliases give the same answer plus deprecation headers.
    let camel = f
        .get(&f.find_path("productpage.default", HOUR, NOW, 20))
        .await;
    assert_eq!(camel.status, 200, "{}", camel.body);
    assert!(camel.headers.get("deprecation").is_none());
    let snake = f
        .get(&format!(
            "/api/v3/traces?query.service_name=productpage.default&query.start_time_min={}&query.start_time_max={}&query.num_traces=20",
            f.at(HOUR),
            f.at(NOW)
        ))
        .await;
    assert_eq!(snake.status, 200);
    assert_eq!(snake.headers["deprecation"], "true");
    assert_eq!(snake.body, camel.body, "aliases give the same traces");
    let v = camel.json();
    if let Some(c) = corpus_json("otlp/jaeger__GetTrace.json") {
        assert_eq!(keys(&v), keys(&c));
        assert_eq!(keys(&v["result"]), keys(&c["result"]));
        assert!(
            keys(&v["result"]["resourceSpans"][0])
                .is_superset(&keys(&c["result"]["resourceSpans"][0]))
        );
    }
    let spans = otlp_spans(&v);
    let trace_ids: BTreeSet<String> = spans
        .iter()
        .map(|(_, s)| s["traceId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(trace_ids.len(), 20, "searchDepth traces");
    let want_span_keys = corpus_json("otlp/jaeger__otlp2jaeger-in.json")
        .map(|c| keys(&c["resourceSpans"][0]["scopeSpans"][0]["spans"][0]));
    for (_, sp) in &spans {
        assert_eq!(sp["traceId"].as_str().unwrap().len(), 32);
        assert_eq!(sp["spanId"].as_str().unwrap().len(), 16);
        if let Some(p) = sp.get("parentSpanId") {
            assert_eq!(p.as_str().unwrap().len(), 16);
        }
        assert!(sp["kind"] == 2 || sp["kind"] == 3);
        let start: u64 = sp["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
        let end: u64 = sp["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
        assert!(start < end);
        assert!(start >= (f.scenario.epoch_ms + HOUR) * 1_000_000);
        if let Some(want) = &want_span_keys {
            // A trace's root span has no parent.
            let mut want = want.clone();
            if sp.get("parentSpanId").is_none() {
                want.remove("parentSpanId");
            }
            assert!(keys(sp).is_superset(&want), "{sp}");
        }
        for k in [
            "http.method",
            "http.url",
            "http.status_code",
            "upstream_cluster",
            "peer.service",
            "node_id",
            "guid:x-request-id",
        ] {
            assert!(attr(sp, k).is_some(), "{k} missing in {sp}");
        }
        assert_eq!(attr_str(sp, "component"), "proxy");
    }

    // One trace by id, in OTLP and in the UI model.
    let id = trace_ids.iter().next().unwrap();
    let one = f.get(&format!("/api/v3/traces/{id}")).await;
    assert_eq!(one.status, 200, "{}", one.body);
    let one_spans = otlp_spans(&one.json());
    let in_find = spans
        .iter()
        .filter(|(_, s)| s["traceId"] == id.as_str())
        .count();
    assert_eq!(one_spans.len(), in_find);
    let ui = f.get(&format!("/api/traces/{id}")).await;
    assert_eq!(ui.status, 200, "{}", ui.body);
    let ui = ui.json();
    if let Some(c) = corpus_json("jaeger/jaeger__otlp2jaeger-out.json") {
        assert_eq!(keys(&ui), keys(&c));
        assert_eq!(keys(&ui["data"][0]), keys(&c["data"][0]));
        let want = keys(&c["data"][0]["spans"][0]);
        for sp in ui["data"][0]["spans"].as_array().unwrap() {
            assert_eq!(keys(sp), want, "{sp}");
        }
        let p = keys(&c["data"][0]["processes"]["p1"]);
        for proc in ui["data"][0]["processes"].as_object().unwrap().values() {
            assert_eq!(keys(proc), p);
        }
    }
    let t = &ui["data"][0];
    assert_eq!(t["traceID"], id.as_str());
    assert_eq!(t["spans"].as_array().unwrap().len(), one_spans.len());
    for sp in t["spans"].as_array().unwrap() {
        assert!(t["processes"][sp["processID"].as_str().unwrap()]["serviceName"].is_string());
        let tags = sp["tags"].as_array().unwrap();
        assert!(
            tags.iter()
                .all(|g| keys(g) == ["key", "type", "value"].map(String::from).into())
        );
        assert!(tags.iter().any(|g| g["key"] == "span.kind"));
        for r in sp["references"].as_array().unwrap() {
            assert_eq!(r["refType"], "CHILD_OF");
        }
    }

    check_dependencies(&f).await;

    // The planted failing edge: reviews-v3 -> ratings fails ~20%, reviews-v2 -> ratings never.
    let (err3, n3) = error_share(&f, "ratings.default", "reviews-v3").await;
    let (err2, n2) = error_share(&f, "ratings.default", "reviews-v2").await;
    assert!(n3 >= 50 && n2 >= 30, "{n3} {n2}");
    let share = err3 as f64 / n3 as f64;
    assert!(
        (0.1..=0.32).contains(&share),
        "reviews-v3 -> ratings error share {share}"
    );
    assert_eq!(err2, 0, "reviews-v2 -> ratings has no planted errors");

    // 400s name the parameter; 404s for unknown ids and removed endpoints.
    for (path, param) in [
        (
            "/api/v3/traces?query.serviceName=x".to_string(),
            "query.startTimeMin",
        ),
        (
            format!(
                "/api/v3/traces?query.startTimeMin=yesterday&query.startTimeMax={}",
                f.at(NOW)
            ),
            "query.startTimeMin",
        ),
        (
            format!(
                "{}&query.num_traces=many",
                f.find_path("x", 0, NOW, 1)
                    .replace("&query.searchDepth=1", "")
            ),
            "query.num_traces",
        ),
        (
            format!("{}&query.durationMin=5", f.find_path("x", 0, NOW, 1)),
            "query.durationMin",
        ),
        ("/api/v3/traces/not-hex".to_string(), "trace_id"),
        ("/api/v3/operations".to_string(), "service"),
    ] {
        let got = f.get(&path).await;
        assert_eq!(got.status, 400, "{path}: {}", got.body);
        let msg = got.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(msg.contains(param), "{path}: {msg}");
        assert_eq!(got.json()["error"]["httpCode"], 400);
    }
    for (path, param) in [
        ("/api/traces/xyz", "traceID"),
        ("/api/dependencies?endTs=tomorrow", "endTs"),
        ("/api/dependencies?lookback=-5", "lookback"),
    ] {
        let got = f.get(path).await;
        assert_eq!(got.status, 400, "{path}: {}", got.body);
        let v = got.json();
        assert_eq!(v["errors"][0]["code"], 400);
        assert!(
            v["errors"][0]["msg"].as_str().unwrap().contains(param),
            "{v}"
        );
    }
    let unknown = "0123456789abcdef0123456789abcdef";
    let got = f.get(&format!("/api/v3/traces/{unknown}")).await;
    assert_eq!(got.status, 404);
    assert_eq!(got.json()["error"]["httpCode"], 404);
    let got = f.get(&format!("/api/traces/{unknown}")).await;
    assert_eq!(got.status, 404);
    assert_eq!(got.json()["errors"][0]["code"], 404);
    // A trace from the future (after NOW) does not exist yet.
    let future = f
        .get(&f.find_path("productpage.default", NOW + HOUR, NOW + 2 * HOUR, 5))
        .await;
    assert_eq!(future.status, 404, "{}", future.body);
    for removed in [
        "/api/services",
        "/api/traces?service=productpage.default",
        "/api/operations?service=reviews.default",
    ] {
        assert_eq!(f.get(removed).await.status, 404, "{removed}");
    }
    f.server.shutdown().await;
}

#[tokio::test]
async fn bookinfo_all_endpoints() {
    tokio::time::timeout(TEST_BOUND, bookinfo_body())
        .await
        .unwrap();
}
