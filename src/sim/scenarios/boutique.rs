//! Google's Online Boutique (microservices-demo `kubernetes-manifests.yaml`:
//! names, service accounts, `app` labels, gRPC ports), on Istio, with a
//! productcatalogservice canary, a TCP edge to redis-cart and an egress call.

use serde_json::json;

use super::{Builder, grpc_err};
use crate::sim::scenario::{MeshKind, Protocol, Scenario};

const NS: &str = "default";

fn image(name: &str) -> String {
    format!("us-central1-docker.pkg.dev/google-samples/microservices-demo/{name}:v0.10.2")
}

/// Build the `boutique` scenario.
pub fn build() -> Scenario {
    let mut b = Builder::new(MeshKind::Istio);
    b.namespace("istio-system", false);
    b.namespace(NS, true);
    b.control_plane(
        "istio-system",
        "istiod",
        "istiod",
        "docker.io/istio/pilot:1.24.2",
        &[("app", "istiod"), ("istio", "pilot")],
    );

    let wl = |b: &mut Builder, name: &str, port: Option<(&str, u16)>| {
        let ports: Vec<(&str, u16)> = port.into_iter().collect();
        b.workload(NS, name, name, None, name, 1, &ports, &image(name))
    };
    let frontend = wl(&mut b, "frontend", Some(("", 8080)));
    let ad = wl(&mut b, "adservice", Some(("", 9555)));
    let currency = wl(&mut b, "currencyservice", Some(("grpc", 7000)));
    let cart = wl(&mut b, "cartservice", Some(("", 7070)));
    let redis = b.workload(
        NS,
        "redis-cart",
        "redis-cart",
        None,
        "default",
        1,
        &[("", 6379)],
        "redis:alpine",
    );
    let loadgen = wl(&mut b, "loadgenerator", None);
    b.unmesh(loadgen);
    let reco = wl(&mut b, "recommendationservice", Some(("", 8080)));
    let checkout = wl(&mut b, "checkoutservice", Some(("", 5050)));
    let email = wl(&mut b, "emailservice", Some(("", 8080)));
    let payment = wl(&mut b, "paymentservice", Some(("", 50051)));
    let shipping = wl(&mut b, "shippingservice", Some(("", 50051)));
    let catalog = wl(&mut b, "productcatalogservice", Some(("", 3550)));
    b.w(catalog).version = Some("v1".into());
    b.w(catalog).labels.push(("version".into(), "v1".into()));
    let catalog2 = b.workload(
        NS,
        "productcatalogservice-v2",
        "productcatalogservice",
        Some("v2"),
        "productcatalogservice",
        1,
        &[("", 3550)],
        &image("productcatalogservice").replace("v0.10.2", "v0.10.3-rc1"),
    );
    let _ = (redis, catalog2);

    let grpc = |b: &mut Builder, name: &str, port: u16, target: u16| {
        b.service(NS, name, &[("app", name)], &[("grpc", port, target, None)])
    };
    let s_front = b.service(
        NS,
        "frontend",
        &[("app", "frontend")],
        &[("http", 80, 8080, None)],
    );
    b.service(
        NS,
        "frontend-external",
        &[("app", "frontend")],
        &[("http", 80, 8080, None)],
    );
    let s_ad = grpc(&mut b, "adservice", 9555, 9555);
    let s_currency = grpc(&mut b, "currencyservice", 7000, 7000);
    let s_cart = grpc(&mut b, "cartservice", 7070, 7070);
    let s_redis = b.service(
        NS,
        "redis-cart",
        &[("app", "redis-cart")],
        &[("tcp-redis", 6379, 6379, None)],
    );
    let s_reco = grpc(&mut b, "recommendationservice", 8080, 8080);
    let s_checkout = grpc(&mut b, "checkoutservice", 5050, 5050);
    let s_email = grpc(&mut b, "emailservice", 5000, 8080);
    let s_payment = grpc(&mut b, "paymentservice", 50051, 50051);
    let s_shipping = grpc(&mut b, "shippingservice", 50051, 50051);
    let s_catalog = grpc(&mut b, "productcatalogservice", 3550, 3550);

    let g = Protocol::Grpc;
    b.edge(loadgen, s_front, Protocol::Http, 20.0, 55.0);
    for (svc, rps, ms) in [
        (s_catalog, 30.0, 2.0),
        (s_currency, 40.0, 0.9),
        (s_cart, 8.0, 3.0),
        (s_reco, 6.0, 4.0),
        (s_shipping, 3.0, 1.5),
        (s_checkout, 1.0, 60.0),
        (s_ad, 6.0, 2.0),
    ] {
        b.edge(frontend, svc, g, rps, ms);
    }
    for (svc, rps, ms) in [
        (s_catalog, 2.0, 2.0),
        (s_shipping, 2.0, 1.5),
        (s_email, 1.0, 5.0),
        (s_currency, 3.0, 0.9),
        (s_cart, 2.0, 3.0),
    ] {
        b.edge(checkout, svc, g, rps, ms);
    }
    let pay = b.edge(checkout, s_payment, g, 1.0, 3.5);
    b.fail(pay, grpc_err(0.2, 14));
    b.edge(reco, s_catalog, g, 6.0, 2.0);
    b.edge(reco, s_cart, g, 0.4, 3.0);
    b.edge(cart, s_redis, Protocol::Tcp, 16.0, 0.4);
    b.egress(
        frontend,
        "metadata.google.internal",
        80,
        Protocol::Http,
        0.2,
        1.2,
    );
    let _ = (currency, ad, email, payment, shipping, cart);

    declare(&mut b);
    b.plant("split_drift", "VirtualService/default/productcatalogservice",
        "the productcatalogservice VirtualService declares 75/25 to subsets v1/v2, but traffic spreads 50/50 over productcatalogservice and productcatalogservice-v2");
    b.plant("undeclared_edge", "default/recommendationservice -> default/cartservice",
        "recommendationservice calls cartservice; the cartservice AuthorizationPolicy (dry-run) only allows frontend and checkoutservice");
    b.plant("unobserved_edge", "default/frontend -> default/emailservice",
        "the emailservice AuthorizationPolicy allows frontend, but only checkoutservice ever sends mail");
    b.plant("mtls_gap", "default/loadgenerator -> default/frontend",
        "loadgenerator runs without a sidecar and reaches frontend in plaintext under a PERMISSIVE PeerAuthentication");
    b.plant(
        "failing_edge",
        "default/checkoutservice -> default/paymentservice",
        "20% of checkoutservice -> paymentservice Charge calls fail with gRPC Unavailable (14)",
    );
    b.scale_rates(50.0);
    b.finish("boutique")
}

fn declare(b: &mut Builder) {
    b.declare(json!({
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": NS},
        "spec": {"mtls": {"mode": "PERMISSIVE"}}
    }));
    b.declare(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "frontend", "namespace": NS},
        "spec": {"hosts": ["frontend.default.svc.cluster.local"],
                 "http": [{"route": [{"destination": {"host": "frontend", "port": {"number": 80}}}]}]}
    }));
    b.declare(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "productcatalogservice", "namespace": NS},
        "spec": {"hosts": ["productcatalogservice"],
                 "http": [{"route": [{"destination": {"host": "productcatalogservice", "subset": "v1"}, "weight": 75},
                                     {"destination": {"host": "productcatalogservice", "subset": "v2"}, "weight": 25}]}]}
    }));
    b.declare(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": "productcatalogservice", "namespace": NS},
        "spec": {"host": "productcatalogservice",
                 "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]}
    }));
    let allow = |name: &str, app: &str, sas: &[&str], dry: bool| {
        let principals: Vec<String> = sas
            .iter()
            .map(|s| format!("cluster.local/ns/{NS}/sa/{s}"))
            .collect();
        let mut meta = json!({"name": name, "namespace": NS});
        if dry {
            meta["annotations"] = json!({"istio.io/dry-run": "true"});
        }
        json!({
            "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": meta,
            "spec": {"selector": {"matchLabels": {"app": app}}, "action": "ALLOW",
                     "rules": [{"from": [{"source": {"principals": principals}}]}]}
        })
    };
    b.declare(allow(
        "cartservice",
        "cartservice",
        &["frontend", "checkoutservice"],
        true,
    ));
    b.declare(allow(
        "emailservice",
        "emailservice",
        &["checkoutservice", "frontend"],
        false,
    ));
    b.declare(allow(
        "paymentservice",
        "paymentservice",
        &["checkoutservice"],
        false,
    ));
    b.declare(allow("redis-cart", "redis-cart", &["cartservice"], false));
}
