//! Shared fixtures for the simulated API server tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use meshscope::sim::apiserver::{
    ApiServer, ApiServerConfig, ObjectStore, PodProxy, PodProxyResponse,
};
use serde_json::{Value, json};

/// Upper bound for every test.
pub const TEST_BOUND: Duration = Duration::from_secs(60);

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn pod(ns: &str, name: &str, app: &str, owner_rs: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": app, "version": "v1"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner_rs, "uid": "rs-uid", "controller": true}]},
        "spec": {"containers": [
            {"name": app, "image": format!("docker.io/istio/examples-bookinfo-{app}-v1:1.20"), "ports": [{"containerPort": 9080}]},
            {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.0", "ports": [{"name": "http-envoy-prom", "containerPort": 15090}]}
        ]},
        "status": {"phase": "Running", "podIP": "10.0.0.7"}
    })
}

pub fn vs_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "virtualservices.networking.istio.io"},
        "spec": {
            "group": "networking.istio.io",
            "names": {"plural": "virtualservices", "singular": "virtualservice", "kind": "VirtualService",
                "listKind": "VirtualServiceList", "shortNames": ["vs"], "categories": ["istio-io", "networking-istio-io"]},
            "scope": "Namespaced",
            "versions": [
                {"name": "v1", "served": true, "storage": false},
                {"name": "v1beta1", "served": true, "storage": true, "subresources": {"status": {}}},
                {"name": "v1alpha3", "served": false, "storage": false}
            ]
        }
    })
}

/// Two namespaces, Deployment→ReplicaSet→Pod, a second pod, a Service, a
/// VirtualService and its CRD.
pub fn fixture() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bookinfo", "labels": {"istio-injection": "enabled"}}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "reviews-v1", "namespace": "bookinfo", "labels": {"app": "reviews"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "reviews"}}}}),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "reviews-v1-5d4c", "namespace": "bookinfo", "labels": {"app": "reviews"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "reviews-v1", "uid": "d-uid", "controller": true}]}}),
        pod(
            "bookinfo",
            "reviews-v1-5d4c-x7k2p",
            "reviews",
            "reviews-v1-5d4c",
        ),
        pod(
            "bookinfo",
            "productpage-v1-6b7f-q9z8w",
            "productpage",
            "productpage-v1-6b7f",
        ),
        pod("istio-system", "istiod-7c9d-abcde", "istiod", "istiod-7c9d"),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": {"app": "reviews"}},
            "spec": {"selector": {"app": "reviews"}, "ports": [{"name": "http", "port": 9080}]}}),
        vs_crd(),
        json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService", "metadata": {"name": "reviews-route", "namespace": "bookinfo"},
            "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]}}),
    ]
}

/// Answers Envoy-style metrics naming the pod; `hang` never answers; `missing` is a 404.
pub struct FakePods;

pub const METRICS_LINE: &str = "envoy_cluster_upstream_rq_total{cluster_name=\"outbound|9080||reviews.bookinfo.svc.cluster.local\"} 42";

impl PodProxy for FakePods {
    fn get(&self, namespace: &str, pod: &str, port: u16, path: &str) -> PodProxyResponse {
        match path {
            "hang" => PodProxyResponse::Timeout,
            "garbage" => PodProxyResponse::Garbage(vec![0xff, 0xfe, b'{', 0x00, b'\n'].into()),
            "truncated" => PodProxyResponse::Truncated {
                content_type: "text/plain; version=0.0.4".into(),
                body: format!("{METRICS_LINE}\n{METRICS_LINE}\n").into(),
            },
            "missing" => PodProxyResponse::Status(404, "404 page not found\n".into()),
            "down" => PodProxyResponse::Unreachable("dial tcp 10.0.0.7:15090: connect: connection refused".into()),
            _ => PodProxyResponse::Ok {
                content_type: "text/plain; version=0.0.4; charset=utf-8".into(),
                body: format!("# pod {namespace}/{pod} port {port} path {path}\n# TYPE envoy_cluster_upstream_rq_total counter\n{METRICS_LINE}\n").into(),
            },
        }
    }
}

pub async fn start(config: ApiServerConfig) -> Result<ApiServer, Box<dyn std::error::Error>> {
    let store = ObjectStore::new(fixture())?;
    Ok(ApiServer::start(store, Arc::new(FakePods), config).await?)
}
