//! kube-rs against the simulated API server: lists, gets, errors, discovery,
//! dynamic objects, pod proxy and kubeconfig loading.

mod apiserver_common;

use apiserver_common::{METRICS_LINE, TEST_BOUND, install_crypto, start};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::Discovery;
use kube::{Client, Config};
use meshscope::sim::apiserver::{ApiServer, ApiServerConfig, ForbiddenRule};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn client_for(server: &ApiServer) -> Result<Client, Box<dyn std::error::Error>> {
    install_crypto();
    let config = Config::new(server.url().parse()?);
    Ok(Client::try_from(config)?)
}

fn api_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

#[tokio::test]
async fn lists_gets_and_not_found() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let server = start(ApiServerConfig::default()).await?;
        let client = client_for(&server)?;

        let all = Api::<Pod>::all(client.clone())
            .list(&ListParams::default())
            .await?;
        let mut names: Vec<String> = all
            .items
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "istiod-7c9d-abcde",
                "productpage-v1-6b7f-q9z8w",
                "reviews-v1-5d4c-x7k2p"
            ]
        );
        assert!(
            all.metadata
                .resource_version
                .as_deref()
                .is_some_and(|rv| !rv.is_empty())
        );

        let pods: Api<Pod> = Api::namespaced(client.clone(), "bookinfo");
        assert_eq!(pods.list(&ListParams::default()).await?.items.len(), 2);
        let reviews = pods
            .list(&ListParams::default().labels("app=reviews"))
            .await?;
        assert_eq!(reviews.items.len(), 1);
        let in_set = pods
            .list(&ListParams::default().labels("app in (reviews,productpage),version!=v2"))
            .await?;
        assert_eq!(in_set.items.len(), 2);
        let by_field = Api::<Pod>::all(client.clone())
            .list(&ListParams::default().fields("metadata.namespace=istio-system"))
            .await?;
        assert_eq!(by_field.items.len(), 1);

        // Pagination: one item per page, following continue tokens.
        let mut seen = Vec::new();
        let mut lp = ListParams::default().limit(1);
        loop {
            let page = Api::<Pod>::all(client.clone()).list(&lp).await?;
            seen.extend(page.items.iter().filter_map(|p| p.metadata.name.clone()));
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => lp = lp.continue_token(&token),
                None => break,
            }
            assert!(seen.len() <= 3, "pagination does not terminate: {seen:?}");
        }
        seen.sort();
        assert_eq!(seen, names);

        let pod = pods.get("reviews-v1-5d4c-x7k2p").await?;
        assert_eq!(
            pod.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("app"))
                .map(String::as_str),
            Some("reviews")
        );
        assert!(pod.metadata.uid.is_some() && pod.metadata.creation_timestamp.is_some());
        let err = pods
            .get("nope")
            .await
            .err()
            .ok_or("missing pod was found")?;
        assert_eq!(api_code(&err), Some(404), "{err:?}");

        let ns = Api::<Namespace>::all(client.clone())
            .get("bookinfo")
            .await?;
        assert_eq!(ns.metadata.name.as_deref(), Some("bookinfo"));
        let deploys = Api::<Deployment>::namespaced(client.clone(), "bookinfo")
            .list(&ListParams::default())
            .await?;
        assert_eq!(deploys.items.len(), 1);

        server.shutdown().await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn discovery_and_dynamic_crd_objects() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let server = start(ApiServerConfig::default()).await?;
        let client = client_for(&server)?;

        let gvk = GroupVersionKind::gvk("networking.istio.io", "v1beta1", "VirtualService");
        let discovery = Discovery::new(client.clone()).run().await?;
        let (ar, caps) = discovery.resolve_gvk(&gvk).ok_or("VirtualService not discovered")?;
        assert_eq!(ar.plural, "virtualservices");
        assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
        assert!(discovery.resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment")).is_some());
        assert!(discovery.resolve_gvk(&GroupVersionKind::gvk("discovery.k8s.io", "v1", "EndpointSlice")).is_some());
        assert!(discovery.resolve_gvk(&GroupVersionKind::gvk("", "v1", "Secret")).is_none());
        // The unserved v1alpha3 is not advertised.
        assert!(discovery.resolve_gvk(&GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "VirtualService")).is_none());

        let aggregated = Discovery::new(client.clone()).run_aggregated().await?;
        assert!(aggregated.resolve_gvk(&gvk).is_some());
        assert!(aggregated.resolve_gvk(&GroupVersionKind::gvk("", "v1", "Pod")).is_some());

        // Both served versions see the same object.
        for version in ["v1beta1", "v1"] {
            let ar = ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("networking.istio.io", version, "VirtualService"),
                "virtualservices",
            );
            let list = Api::<DynamicObject>::all_with(client.clone(), &ar).list(&ListParams::default()).await?;
            assert_eq!(list.items.len(), 1);
            let vs = &list.items[0];
            assert_eq!(vs.metadata.name.as_deref(), Some("reviews-route"));
            assert_eq!(vs.types.as_ref().map(|t| t.api_version.clone()), Some(format!("networking.istio.io/{version}")));
            assert_eq!(vs.data["spec"]["hosts"][0], "reviews");
        }

        // A CRD applied later becomes discoverable.
        server.store().apply(serde_json::json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "servers.policy.linkerd.io"},
            "spec": {"group": "policy.linkerd.io", "scope": "Namespaced",
                "names": {"plural": "servers", "singular": "server", "kind": "Server", "shortNames": ["srv"]},
                "versions": [{"name": "v1beta3", "served": true, "storage": true}]}
        }))?;
        let again = Discovery::new(client.clone()).run().await?;
        assert!(again.resolve_gvk(&GroupVersionKind::gvk("policy.linkerd.io", "v1beta3", "Server")).is_some());

        server.shutdown().await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn forbidden_resources_and_pod_proxy() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        let config = ApiServerConfig {
            forbidden: vec![
                ForbiddenRule::resource("services"),
                ForbiddenRule { resource: "pods".into(), namespace: Some("istio-system".into()), verb: Some("list".into()) },
            ],
            ..ApiServerConfig::default()
        };
        let server = start(config).await?;
        let client = client_for(&server)?;

        let err = Api::<Service>::all(client.clone()).list(&ListParams::default()).await.err().ok_or("services listed")?;
        assert_eq!(api_code(&err), Some(403), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("cannot list resource \"services\" in API group \"\" at the cluster scope"), "{msg}");
        let err = Api::<Pod>::namespaced(client.clone(), "istio-system").list(&ListParams::default()).await.err().ok_or("pods listed")?;
        assert_eq!(api_code(&err), Some(403));
        assert!(err.to_string().contains("in the namespace \"istio-system\""), "{err}");
        // Other namespaces and get are still allowed.
        assert_eq!(Api::<Pod>::namespaced(client.clone(), "bookinfo").list(&ListParams::default()).await?.items.len(), 2);
        Api::<Pod>::namespaced(client.clone(), "istio-system").get("istiod-7c9d-abcde").await?;

        let req = axum::http::Request::get("/api/v1/namespaces/bookinfo/pods/reviews-v1-5d4c-x7k2p:15090/proxy/stats/prometheus").body(Vec::new())?;
        let text = client.request_text(req).await?;
        assert!(text.contains(METRICS_LINE), "{text}");
        assert!(text.contains("# pod bookinfo/reviews-v1-5d4c-x7k2p port 15090 path stats/prometheus"), "{text}");
        // Named port, and no port (first container port).
        let req = axum::http::Request::get("/api/v1/namespaces/bookinfo/pods/reviews-v1-5d4c-x7k2p:http-envoy-prom/proxy/metrics?x=1").body(Vec::new())?;
        assert!(client.request_text(req).await?.contains("port 15090 path metrics?x=1"));
        let req = axum::http::Request::get("/api/v1/namespaces/bookinfo/pods/reviews-v1-5d4c-x7k2p/proxy/").body(Vec::new())?;
        assert!(client.request_text(req).await?.contains("port 9080 path \n"));
        // Unknown pod: 404 Status.
        let req = axum::http::Request::get("/api/v1/namespaces/bookinfo/pods/ghost:15090/proxy/stats/prometheus").body(Vec::new())?;
        let err = client.request_text(req).await.err().ok_or("ghost pod answered")?;
        assert_eq!(api_code(&err), Some(404), "{err:?}");
        // Unreachable pod: 503 Status (kube retries 503 by default: turn that off here).
        let mut no_retry = Config::new(server.url().parse()?);
        no_retry.default_retry = false;
        no_retry.read_timeout = Some(std::time::Duration::from_secs(1));
        let no_retry = Client::try_from(no_retry)?;
        let req = axum::http::Request::get("/api/v1/namespaces/bookinfo/pods/reviews-v1-5d4c-x7k2p:15090/proxy/down").body(Vec::new())?;
        let err = no_retry.request_text(req).await.err().ok_or("down pod answered")?;
        assert_eq!(api_code(&err), Some(503), "{err:?}");
        assert!(err.to_string().contains("error trying to reach service: dial tcp"), "{err}");
        // A pod that never answers: the client's read timeout fires.
        let started = std::time::Instant::now();
        let req = axum::http::Request::get("/api/v1/namespaces/bookinfo/pods/reviews-v1-5d4c-x7k2p:15090/proxy/hang").body(Vec::new())?;
        let err = no_retry.request_text(req).await.err().ok_or("hanging pod answered")?;
        assert_eq!(api_code(&err), None, "{err:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());

        server.shutdown().await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn client_from_written_kubeconfig() -> TestResult {
    tokio::time::timeout(TEST_BOUND, async {
        install_crypto();
        let server = start(ApiServerConfig::default()).await?;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("kubeconfig");
        server.write_kubeconfig(&path, "meshscope-demo")?;

        let kc = Kubeconfig::read_from(&path)?;
        assert_eq!(kc.current_context.as_deref(), Some("meshscope-demo"));
        let options = KubeConfigOptions {
            context: Some("meshscope-demo".into()),
            ..KubeConfigOptions::default()
        };
        let config = Config::from_custom_kubeconfig(kc, &options).await?;
        assert_eq!(
            config.cluster_url.to_string().trim_end_matches('/'),
            server.url()
        );
        assert_eq!(config.default_namespace, "default");
        let client = Client::try_from(config)?;
        let pods = Api::<Pod>::all(client.clone())
            .list(&ListParams::default())
            .await?;
        assert_eq!(pods.items.len(), 3);
        let version = client.apiserver_version().await?;
        assert_eq!(
            (version.major.as_str(), version.minor.as_str()),
            ("1", "33")
        );

        server.shutdown().await;
        Ok(())
    })
    .await?
}
