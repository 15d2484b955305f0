//! The simulated Jaeger query service over HTTP for emojivoto (Linkerd):
//! service names, dependency links, gRPC errors on the planted failing
//! edge, identical traces across server instances.

#![allow(clippy::unwrap_used)]

mod sim_jaeger_common;

use std::collections::{BTreeMap, BTreeSet};

use sim_jaeger_common::*;

async fn emojivoto_body() {
    let f = Fixture::start("emojivoto").await;
    let v = f.get("/api/v3/services").await.json();
    let services: BTreeSet<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        services,
        ["emoji-svc", "vote-bot", "voting-svc", "web-svc"].into()
    );
    check_dependencies(&f).await;
    // web -> voting fails with gRPC Unknown on ~16% of calls.
    let (err, n) = error_share(&f, "voting-svc", "web").await;
    assert!(n >= 50, "{n}");
    let share = err as f64 / n as f64;
    assert!(
        (0.08..=0.26).contains(&share),
        "web -> voting error share {share}"
    );
    let (err, n) = error_share(&f, "emoji-svc", "web").await;
    assert!(n >= 50 && err == 0, "{err}/{n} errors on web -> emoji");
    // Traces are identical across server instances (no hidden state).
    let path = f.find_path("web-svc", HOUR, NOW, 50);
    let a = f.get(&path).await.body;
    let g = Fixture::start("emojivoto").await;
    assert_eq!(g.get(&path).await.body, a);
    let per_trace: BTreeMap<String, usize> = otlp_spans(&serde_json::from_str(&a).unwrap())
        .into_iter()
        .fold(BTreeMap::new(), |mut m, (_, s)| {
            *m.entry(s["traceId"].as_str().unwrap().to_string())
                .or_default() += 1;
            m
        });
    assert_eq!(per_trace.len(), 50);
    g.server.shutdown().await;
    f.server.shutdown().await;
}

#[tokio::test]
async fn emojivoto_links_errors_determinism() {
    tokio::time::timeout(TEST_BOUND, emojivoto_body())
        .await
        .unwrap();
}
