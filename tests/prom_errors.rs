#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Prometheus source against a tiny fake Prometheus (axum): the
//! mapping of answers to edges, `status: "warning"` → a degraded source,
//! `status: "error"` and HTTP failures → errors naming the URL and query,
//! an unreachable URL → an error naming the URL.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use meshscope::collect::prom_api::{PromError, prometheus_inputs};
use meshscope::model::build::{BuildContext, build_from_inputs};
use meshscope::model::inventory::Inventory;
use meshscope::model::snapshot::SourceState;
use serde_json::{Value, json};

#[derive(Clone, Copy)]
enum Mode {
    /// Istio series for two targets, with warnings.
    Warning,
    /// `status: "error"` (HTTP 400) for the increase queries.
    Rejected,
    /// An HTML 502 from a proxy in front.
    BadGateway,
    /// The Istio targets, and one Linkerd target.
    Mixed,
}

const AT_S: f64 = 1_700_000_000.0;

/// A series as `sum by (…)` over the targets answers it: no target labels,
/// no `__name__`.
fn istio_series(value: f64, reporter: &str, code: &str) -> Value {
    json!({
        "metric": {
            "reporter": reporter,
            "source_workload": "web", "source_workload_namespace": "shop",
            "destination_workload": "api", "destination_workload_namespace": "shop",
            "destination_service": "api.shop.svc.cluster.local",
            "request_protocol": "http", "response_code": code,
            "connection_security_policy": "mutual_tls", "response_flags": "-"
        },
        "value": [AT_S, value.to_string()]
    })
}

async fn handler(State(mode): State<Mode>, Query(q): Query<HashMap<String, String>>) -> Response {
    let query = q.get("query").cloned().unwrap_or_default();
    let time = q.get("time").cloned().unwrap_or_default();
    assert_eq!(time, "1700000000.000", "every query at the given time");
    let is_increase = query.contains("(increase(");
    match mode {
        Mode::BadGateway => {
            (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response()
        }
        Mode::Rejected if is_increase => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"status": "error", "errorType": "bad_data",
                "error": "invalid parameter \"query\": 1:20: parse error: bad duration"})),
        )
            .into_response(),
        _ => {
            let result = if query.starts_with("group by (") {
                // The target queries: two Istio targets, no others.
                if query.contains("unless") {
                    match mode {
                        Mode::Mixed => vec![json!({"metric": {"namespace": "emoji", "pod": "vote-1", "instance": "10.0.0.9:4191"}, "value": [AT_S, "1"]})],
                        _ => vec![],
                    }
                } else {
                    ["web-1", "api-1"]
                        .map(|pod| json!({"metric": {"namespace": "shop", "pod": pod, "instance": "10.0.0.7:15090"}, "value": [AT_S, "1"]}))
                        .to_vec()
                }
            } else if query.starts_with("sum by (reporter,") && query.contains("(istio_requests_total{") {
                // Cumulative values, or their increase over the window.
                let k = if is_increase { 1.0 } else { 100.0 };
                vec![
                    istio_series(90.0 * k, "source", "200"),
                    istio_series(10.0 * k, "source", "503"),
                    istio_series(90.0 * k, "destination", "200"),
                    istio_series(10.0 * k, "destination", "503"),
                ]
            } else if query.starts_with("sum by (namespace,pod,kubernetes_namespace,kubernetes_pod_name,instance,direction,")
                && query.contains("(response_total[")
            {
                // Linkerd keeps its target: the caller is the scraped pod.
                assert!(query.contains(" unless on (namespace,pod,"), "{query}");
                let k = if is_increase { 1.0 } else { 50.0 };
                vec![json!({"metric": {"namespace": "emoji", "pod": "vote-7d4b9c8f6-x2x9z", "instance": "10.0.0.9:4191",
                    "direction": "outbound", "tls": "true", "dst_namespace": "emoji", "dst_deployment": "api",
                    "status_code": "200", "classification": "success"}, "value": [AT_S, (20.0 * k).to_string()]})]
            } else {
                vec![]
            };
            let mut body = json!({"status": "success",
                "data": {"resultType": "vector", "result": result}});
            if matches!(mode, Mode::Warning)
                && query.contains("(last_over_time(istio_requests_total{")
                && query.starts_with("sum by (reporter,")
            {
                body["status"] = json!("warning");
                body["warnings"] = json!(["partial response: store eu-1 unreachable"]);
            }
            axum::Json(body).into_response()
        }
    }
}

async fn fake(mode: Mode) -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new()
        .route("/prom/api/v1/query", get(handler))
        .with_state(mode);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/prom", l.local_addr().unwrap());
    let h = tokio::spawn(async move {
        axum::serve(l, app).await.unwrap();
    });
    (url, h)
}

const WINDOW: Duration = Duration::from_secs(10);
const AT_MS: i64 = 1_700_000_000_000;

#[tokio::test]
async fn warning_answer_maps_edges_and_degrades_the_source() {
    let (url, h) = fake(Mode::Warning).await;
    let inv = Inventory::default();
    let (inputs, sources) = prometheus_inputs(&url, WINDOW, Some(AT_MS), &inv)
        .await
        .unwrap();
    h.abort();
    assert_eq!(sources.len(), 1);
    let s = &sources[0];
    assert_eq!(s.name, "prometheus");
    assert_eq!(s.status, SourceState::Degraded);
    let detail = s.detail.as_deref().unwrap();
    assert!(detail.contains("store eu-1 unreachable"), "{detail}");
    assert!(detail.contains(&url), "{detail}");
    assert!(detail.contains("from 2 targets"), "{detail}");

    let snap = build_from_inputs(&inv, inputs, BuildContext::default());
    assert_eq!(snap.window_seconds, 10.0);
    assert_eq!(snap.collected_at, "2023-11-14T22:13:20Z");
    assert_eq!(snap.edges.len(), 1, "{:?}", snap.edges);
    let e = snap.edge("shop/web", "shop/api").unwrap();
    // 100 requests in 10 s, 10 of them 503 (both reporters, deduplicated).
    assert!(
        (e.signals.rps.unwrap() - 10.0).abs() < 1e-9,
        "{:?}",
        e.signals
    );
    assert!((e.signals.success_rate.unwrap() - 0.9).abs() < 1e-9);
    assert!((e.signals.error_rate.unwrap() - 1.0).abs() < 1e-9);
}

/// Linkerd and Envoy queries only go out when a target without Istio
/// series has their series.
#[tokio::test]
async fn other_meshes_are_queried_only_when_present() {
    use meshscope::collect::prom_api::prometheus_collect;
    let inv = Inventory::default();
    let (url, h) = fake(Mode::Warning).await;
    let istio_only = prometheus_collect(&url, WINDOW, Some(AT_MS), &inv)
        .await
        .unwrap();
    h.abort();
    // 2 target queries; Istio: 5 counters twice, 3 histogram parts.
    assert_eq!(istio_only.timings.queries, 2 + 5 * 2 + 3);
    assert_eq!(istio_only.inputs.edges.len(), 1);
    let (url, h) = fake(Mode::Mixed).await;
    let mixed = prometheus_collect(&url, WINDOW, Some(AT_MS), &inv)
        .await
        .unwrap();
    h.abort();
    assert_eq!(mixed.timings.queries, 49);
    // 2 Istio targets and the Linkerd one.
    assert_eq!(mixed.stats.targets, 3, "{:?}", mixed.stats);
    let snap = build_from_inputs(&inv, mixed.inputs, BuildContext::default());
    assert_eq!(snap.edges.len(), 2, "{:?}", snap.edges);
    let e = snap
        .edge("emoji/vote", "emoji/api")
        .unwrap_or_else(|| panic!("{:?}", snap.edges));
    assert!(
        (e.signals.rps.unwrap() - 2.0).abs() < 1e-9,
        "{:?}",
        e.signals
    );
    assert!(snap.edge("shop/web", "shop/api").is_some());
}

#[tokio::test]
async fn error_status_names_url_query_and_message() {
    let (url, h) = fake(Mode::Rejected).await;
    let err = prometheus_inputs(&url, WINDOW, Some(AT_MS), &Inventory::default())
        .await
        .unwrap_err();
    h.abort();
    let msg = err.to_string();
    assert!(matches!(err, PromError::Rejected { .. }), "{err:?}");
    assert!(msg.contains(&url), "{msg}");
    // The first failing query in query order.
    assert!(
        msg.contains(
            "(increase(istio_requests_total{reporter=~\"source|destination|waypoint\"}[10000ms])))`"
        ),
        "{msg}"
    );
    assert!(msg.contains("bad_data: invalid parameter"), "{msg}");
}

#[tokio::test]
async fn non_api_answer_is_an_http_error() {
    let (url, h) = fake(Mode::BadGateway).await;
    let err = prometheus_inputs(&url, WINDOW, Some(AT_MS), &Inventory::default())
        .await
        .unwrap_err();
    h.abort();
    let msg = err.to_string();
    assert!(
        matches!(err, PromError::Http { status: 502, .. }),
        "{err:?}"
    );
    assert!(msg.contains(&url) && msg.contains("HTTP 502"), "{msg}");
}

#[tokio::test]
async fn unreachable_prometheus_names_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        prometheus_inputs(&url, WINDOW, None, &Inventory::default()),
    )
    .await
    .expect("fails fast")
    .unwrap_err();
    assert!(matches!(err, PromError::Unreachable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("cannot reach Prometheus at {url}")),
        "{msg}"
    );
}

#[tokio::test]
async fn bad_url_and_window_are_rejected_before_any_request() {
    for url in ["not a url", "ftp://prom:9090", ""] {
        let err = prometheus_inputs(url, WINDOW, None, &Inventory::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PromError::BadUrl { .. }), "{url}: {err:?}");
        assert_eq!(err.exit_code(), 3);
        assert!(err.to_string().contains(&format!("{url:?}")), "{err}");
    }
    let err = prometheus_inputs(
        "http://127.0.0.1:9",
        Duration::ZERO,
        None,
        &Inventory::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, PromError::BadWindow(_)), "{err:?}");
}
