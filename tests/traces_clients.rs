#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Zipkin v2, Tempo and Jaeger v1-fallback clients against small
//! stand-in servers answering with corpus payloads.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use meshscope::collect::traces::client::{FetchOptions, fetch};

type Routes = Arc<HashMap<String, (u16, String)>>;
type Log = Arc<Mutex<Vec<String>>>;

async fn serve(routes: HashMap<String, (u16, String)>) -> (String, Log) {
    let log: Log = Arc::default();
    let state = (Arc::new(routes) as Routes, log.clone());
    let app = Router::new()
        .route(
            "/{*path}",
            get(
                |State((routes, log)): State<(Routes, Log)>, Path(path): Path<String>| async move {
                    log.lock().unwrap().push(path.clone());
                    match routes.get(&path) {
                        Some((code, body)) => (StatusCode::from_u16(*code).unwrap(), body.clone()),
                        None => (StatusCode::NOT_FOUND, "404 page not found".to_string()),
                    }
                },
            ),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), log)
}

fn corpus(rel: &str) -> Option<String> {
    Some(std::fs::read_to_string(common::corpus()?.join(rel)).unwrap())
}

#[tokio::test]
async fn zipkin_v2() {
    let Some(yelp) = corpus("zipkin/zipkin-lens__yelp.json") else {
        return;
    };
    let routes = HashMap::from([
        (
            "api/v2/services".to_string(),
            (200, r#"["routing"]"#.to_string()),
        ),
        ("api/v2/traces".to_string(), (200, format!("[{yelp}]"))),
    ]);
    let (url, log) = serve(routes).await;
    let input = fetch(&url, &FetchOptions::default()).await;
    assert_eq!(input.failed, None);
    assert_eq!(input.name, "traces (zipkin v2)");
    assert_eq!(input.traces.len(), 1);
    assert!(input.graph().edges["routing"].contains_key("yelp-main"));
    assert!(log.lock().unwrap().contains(&"api/v2/traces".to_string()));
}

#[tokio::test]
async fn tempo_search_then_traces() {
    let (Some(search), Some(trace)) = (
        corpus("otlp/kiali__response.json"),
        corpus("otlp/kiali__responseTrace.json"),
    ) else {
        return;
    };
    let ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&search).unwrap()["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["traceID"].as_str().unwrap().to_string())
        .collect();
    let mut routes = HashMap::from([
        ("api/echo".to_string(), (200, "echo".to_string())),
        ("api/search".to_string(), (200, search.clone())),
    ]);
    // The first id answers the captured trace; the others a server error.
    for (i, id) in ids.iter().enumerate() {
        let body = if i == 0 {
            (200, trace.clone())
        } else {
            (500, "boom".into())
        };
        routes.insert(
            format!("api/traces/{}", id.trim_start_matches('0')),
            body.clone(),
        );
        routes.insert(format!("api/traces/{id}"), body);
    }
    let (url, log) = serve(routes).await;
    let input = fetch(&url, &FetchOptions::default()).await;
    assert_eq!(input.failed, None, "{:?}", log.lock().unwrap());
    assert_eq!(input.name, "traces (tempo)");
    assert_eq!(
        input.traces.len(),
        1,
        "{:?} {:?}",
        input.problems,
        log.lock().unwrap()
    );
    let g = input.graph();
    assert!(g.edges["productpage.bookinfo"].contains_key("reviews.bookinfo"));
    assert_eq!(input.problems.len(), ids.len() - 1, "{:?}", input.problems);
    let want = if ids.len() > 1 {
        meshscope::model::snapshot::SourceState::Degraded
    } else {
        meshscope::model::snapshot::SourceState::Ok
    };
    assert_eq!(input.status(&g).status, want);
}

#[tokio::test]
async fn jaeger_v1_fallback() {
    let Some(out) = corpus("jaeger/jaeger__otlp2jaeger-out.json") else {
        return;
    };
    let routes = HashMap::from([
        (
            "api/services".to_string(),
            (200, r#"{"data":["telemetrygen"]}"#.to_string()),
        ),
        ("api/traces".to_string(), (200, out)),
    ]);
    let (url, log) = serve(routes).await;
    let input = fetch(&url, &FetchOptions::default()).await;
    assert_eq!(input.failed, None);
    assert_eq!(input.name, "traces (jaeger v1)");
    assert_eq!(input.traces.len(), 1);
    let log = log.lock().unwrap();
    assert_eq!(log[0], "api/v3/services", "v3 is tried first: {log:?}");
}

#[tokio::test]
async fn nothing_there_is_unavailable() {
    let (url, _) = serve(HashMap::new()).await;
    let input = fetch(&url, &FetchOptions::default()).await;
    let why = input.failed.clone().unwrap();
    assert!(why.contains("no Jaeger, Zipkin or Tempo"), "{why}");
    assert_eq!(
        input.status(&input.graph()).status,
        meshscope::model::snapshot::SourceState::Unavailable
    );
}
