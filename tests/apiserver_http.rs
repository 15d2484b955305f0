//! The simulated API server at the HTTP level: read-only enforcement,
//! Status objects, watch wire format, discovery documents, pagination.

mod apiserver_common;

use std::time::{Duration, Instant};

use apiserver_common::{TEST_BOUND, install_crypto, pod, start};
use meshscope::sim::apiserver::{ApiServerConfig, ForbiddenRule};
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn http() -> Result<reqwest::Client, Box<dyn std::error::Error>> {
    install_crypto();
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?)
}

async fn get_json(
    c: &reqwest::Client,
    url: String,
) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let resp = c.get(url).send().await?;
    let code = resp.status().as_u16();
    Ok((code, resp.json().await?))
}

/// Read watch events until the stream ends (bounded by the request timeout).
async fn watch_events(
    c: &reqwest::Client,
    url: String,
) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let body = c.get(url).send().await?.text().await?;
    Ok(body
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?)
}

#[tokio::test]
async fn writes_are_refused_and_logged_secrets_forbidden() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let server = start(ApiServerConfig::default()).await?;
        let c = http()?;
        let url = format!("{}/api/v1/namespaces/bookinfo/pods", server.url());
        for req in [c.post(&url).body("{}"), c.put(format!("{url}/x")), c.patch(format!("{url}/x")), c.delete(format!("{url}/x"))] {
            let resp = req.send().await?;
            assert_eq!(resp.status().as_u16(), 405);
            let status: Value = resp.json().await?;
            assert_eq!((status["kind"].as_str(), status["reason"].as_str(), status["code"].as_u64()), (Some("Status"), Some("MethodNotAllowed"), Some(405)));
        }
        let log = server.request_log();
        let writes: Vec<&str> = log.iter().map(|r| r.method.as_str()).filter(|m| *m != "GET").collect();
        assert_eq!(writes, ["POST", "PUT", "PATCH", "DELETE"]);
        assert_eq!(log[0].path, "/api/v1/namespaces/bookinfo/pods");

        let (code, status) = get_json(&c, format!("{}/api/v1/namespaces/bookinfo/secrets", server.url())).await?;
        assert_eq!(code, 403);
        assert_eq!(status["reason"], "Forbidden");
        assert_eq!(
            status["message"],
            "secrets is forbidden: User \"system:serviceaccount:meshscope:meshscope\" cannot list resource \"secrets\" in API group \"\" in the namespace \"bookinfo\""
        );
        let (code, _) = get_json(&c, format!("{}/api/v1/secrets?watch=1", server.url())).await?;
        assert_eq!(code, 403);
        let (_, v1) = get_json(&c, format!("{}/api/v1", server.url())).await?;
        assert!(v1["resources"].as_array().is_some_and(|r| r.iter().all(|r| r["name"] != "secrets")));
        assert!(server.request_log().iter().any(|r| r.path == "/api/v1/secrets" && r.query == "watch=1"));

        let (code, status) = get_json(&c, format!("{}/apis/nope.example.com/v1/things", server.url())).await?;
        assert_eq!((code, status["reason"].as_str()), (404, Some("NotFound")));
        let (code, status) = get_json(&c, format!("{}/api/v1/namespaces/bookinfo/pods/ghost", server.url())).await?;
        assert_eq!((code, status["message"].as_str()), (404, Some("pods \"ghost\" not found")));
        let (code, status) = get_json(&c, format!("{}/api/v1/pods?labelSelector=app%20in%20reviews", server.url())).await?;
        assert_eq!(code, 400);
        assert!(status["message"].as_str().is_some_and(|m| m.contains("app in reviews")), "{status}");
        server.shutdown().await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn discovery_documents() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let server = start(ApiServerConfig::default()).await?;
        let c = http()?;
        let (_, version) = get_json(&c, format!("{}/version", server.url())).await?;
        assert_eq!(version["major"], "1");
        let (_, groups) = get_json(&c, format!("{}/apis", server.url())).await?;
        let names: Vec<&str> = groups["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "apps",
                "discovery.k8s.io",
                "apiextensions.k8s.io",
                "networking.istio.io"
            ]
        );
        let istio = &groups["groups"][3];
        assert_eq!(
            istio["preferredVersion"]["groupVersion"],
            "networking.istio.io/v1beta1"
        );
        let (_, list) =
            get_json(&c, format!("{}/apis/networking.istio.io/v1", server.url())).await?;
        assert_eq!(list["resources"][0]["shortNames"][0], "vs");
        let (_, core) = get_json(&c, format!("{}/api/v1", server.url())).await?;
        assert!(
            core["resources"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["name"] == "pods/proxy"))
        );

        let accept =
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        let resp = c
            .get(format!("{}/apis", server.url()))
            .header("Accept", accept)
            .send()
            .await?;
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(ct.contains("as=APIGroupDiscoveryList"), "{ct}");
        let agg: Value = resp.json().await?;
        assert_eq!(agg["kind"], "APIGroupDiscoveryList");
        assert_eq!(agg["items"][0]["metadata"]["name"], "apps");
        server.shutdown().await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn watch_wire_format_bookmarks_gone_and_timeout() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let config = ApiServerConfig { bookmark_interval: Duration::from_millis(200), ..ApiServerConfig::default() };
        let server = start(config).await?;
        let c = http()?;
        let base = format!("{}/api/v1/namespaces/bookinfo/pods", server.url());
        let (_, list) = get_json(&c, base.clone()).await?;
        let rv: u64 = list["metadata"]["resourceVersion"].as_str().ok_or("no rv")?.parse()?;

        // Changes after the listed version, then bookmarks, until timeoutSeconds closes the stream.
        server.store().apply(pod("bookinfo", "ratings-v1-1", "ratings", "ratings-v1"))?;
        server.store().apply(pod("istio-system", "elsewhere", "x", "y"))?;
        let started = Instant::now();
        let events = watch_events(&c, format!("{base}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=1")).await?;
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5), "{elapsed:?}");
        assert_eq!(events[0]["type"], "ADDED");
        assert_eq!(events[0]["object"]["metadata"]["name"], "ratings-v1-1");
        assert_eq!(events[0]["object"]["kind"], "Pod");
        assert!(events[1..].iter().all(|e| e["type"] == "BOOKMARK"), "{events:?}");
        assert!(events.len() >= 3, "expected bookmarks: {events:?}");
        assert_eq!(events[1]["object"]["metadata"]["resourceVersion"], (rv + 2).to_string());

        // Streaming list: ADDED for all, then the initial-events-end bookmark.
        let events = watch_events(&c, format!("{base}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1")).await?;
        let added = events.iter().take_while(|e| e["type"] == "ADDED").count();
        assert_eq!(added, 3);
        assert_eq!(events[added]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");

        // Selector transitions: leaving the selection is DELETED.
        let sel = format!("{base}?watch=1&labelSelector=version%3Dv1&resourceVersion={}&timeoutSeconds=1", rv + 2);
        let mut moved = pod("bookinfo", "ratings-v1-1", "ratings", "ratings-v1");
        moved["metadata"]["labels"]["version"] = "v2".into();
        server.store().apply(moved)?;
        let events = watch_events(&c, sel).await?;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["type"], "DELETED");

        // Compaction: ERROR with a 410 Status, then the stream ends at once.
        server.compact();
        let started = Instant::now();
        let events = watch_events(&c, format!("{base}?watch=1&resourceVersion={rv}&timeoutSeconds=5")).await?;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["type"], "ERROR");
        assert_eq!(events[0]["object"]["code"], 410);
        assert_eq!(events[0]["object"]["reason"], "Expired");

        // drop_watches ends an open stream early.
        let url = format!("{base}?watch=1&timeoutSeconds=30");
        let pending = tokio::spawn({
            let c = c.clone();
            async move { watch_events(&c, url).await.map_err(|e| e.to_string()) }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        server.drop_watches();
        let events = tokio::time::timeout(Duration::from_secs(5), pending).await???;
        assert_eq!(events.len(), 3);
        server.shutdown().await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn pagination_and_table_requests() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let server = start(ApiServerConfig::default()).await?;
        let c = http()?;
        let (_, page1) = get_json(&c, format!("{}/api/v1/pods?limit=2", server.url())).await?;
        assert_eq!(page1["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(page1["metadata"]["remainingItemCount"], 1);
        let token = page1["metadata"]["continue"].as_str().ok_or("no continue")?;
        let (_, page2) = get_json(&c, format!("{}/api/v1/pods?limit=2&continue={token}", server.url())).await?;
        assert_eq!(page2["items"].as_array().map(Vec::len), Some(1));
        assert!(page2["metadata"].get("continue").is_none());
        let (code, _) = get_json(&c, format!("{}/api/v1/pods?limit=2&continue=zz", server.url())).await?;
        assert_eq!(code, 400);

        let resp = c
            .get(format!("{}/api/v1/pods?limit=500", server.url()))
            .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
            .send()
            .await?;
        let list: Value = resp.json().await?;
        assert_eq!(list["kind"], "PodList");
        assert_eq!(list["items"][0]["apiVersion"], "v1");
        server.shutdown().await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn pod_proxy_faults() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let config = ApiServerConfig {
            proxy_hang: Duration::from_millis(500),
            ..ApiServerConfig::default()
        };
        let server = start(config).await?;
        let c = http()?;
        let base = format!(
            "{}/api/v1/namespaces/bookinfo/pods/reviews-v1-5d4c-x7k2p:15090/proxy",
            server.url()
        );

        let resp = c.get(format!("{base}/garbage")).send().await?;
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(
            resp.bytes().await?.as_ref(),
            [0xff, 0xfe, b'{', 0x00, b'\n']
        );

        let resp = c.get(format!("{base}/truncated")).send().await?;
        assert_eq!(resp.status().as_u16(), 200);
        assert!(
            resp.bytes().await.is_err(),
            "a truncated body must fail to read"
        );

        let resp = c.get(format!("{base}/missing")).send().await?;
        assert_eq!(resp.status().as_u16(), 404);
        assert_eq!(resp.text().await?, "404 page not found\n");

        // Hangs until proxy_hang, then 504 like the real request-timeout filter.
        let started = Instant::now();
        let (code, status) = get_json(&c, format!("{base}/hang")).await?;
        assert!(
            started.elapsed() >= Duration::from_millis(450),
            "{:?}",
            started.elapsed()
        );
        assert_eq!((code, status["reason"].as_str()), (504, Some("Timeout")));

        // Pod in another namespace than asked: 404.
        let (code, _) = get_json(
            &c,
            format!(
                "{}/api/v1/namespaces/istio-system/pods/reviews-v1-5d4c-x7k2p:15090/proxy/x",
                server.url()
            ),
        )
        .await?;
        assert_eq!(code, 404);
        let proxied: Vec<String> = server
            .request_log()
            .iter()
            .filter(|r| r.path.contains("/proxy/"))
            .map(|r| r.path.clone())
            .collect();
        assert_eq!(proxied.len(), 5);
        server.shutdown().await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn forbidden_pod_proxy_subresource() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let config = ApiServerConfig {
            forbidden: vec![ForbiddenRule::resource("pods/proxy")],
            ..ApiServerConfig::default()
        };
        let server = start(config).await?;
        let c = http()?;
        let url = format!("{}/api/v1/namespaces/bookinfo/pods/reviews-v1-5d4c-x7k2p:15090/proxy/stats/prometheus", server.url());
        let (code, status) = get_json(&c, url).await?;
        assert_eq!(code, 403);
        assert_eq!(
            status["message"],
            "pods \"reviews-v1-5d4c-x7k2p:15090\" is forbidden: User \"system:serviceaccount:meshscope:meshscope\" cannot get resource \"pods/proxy\" in API group \"\" in the namespace \"bookinfo\""
        );
        // Reading pods is still allowed.
        let (code, _) = get_json(&c, format!("{}/api/v1/pods", server.url())).await?;
        assert_eq!(code, 200);
        server.shutdown().await;
        Ok(())
    })
    .await?
}
