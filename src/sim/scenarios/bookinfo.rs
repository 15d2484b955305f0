//! Istio's Bookinfo sample (names, service accounts, labels and ports as in
//! istio/istio `samples/bookinfo/platform/kube/bookinfo.yaml`), behind the
//! default ingress gateway, with five planted imperfections.

use serde_json::json;

use super::{Builder, http_err};
use crate::sim::scenario::{MeshKind, Protocol, Scenario};

const IMG: &str = "docker.io/istio/examples-bookinfo";

/// Build the `bookinfo` scenario.
pub fn build() -> Scenario {
    let mut b = Builder::new(MeshKind::Istio);
    b.namespace("istio-system", false);
    b.namespace("default", true);
    b.namespace("legacy", false);
    b.control_plane(
        "istio-system",
        "istiod",
        "istiod",
        "docker.io/istio/pilot:1.24.2",
        &[("app", "istiod"), ("istio", "pilot")],
    );
    let gw = b.workload(
        "istio-system",
        "istio-ingressgateway",
        "istio-ingressgateway",
        None,
        "istio-ingressgateway-service-account",
        1,
        &[("http2", 8080), ("https", 8443), ("status-port", 15021)],
        "docker.io/istio/proxyv2:1.24.2",
    );
    b.w(gw).meshed = true;
    b.w(gw)
        .labels
        .push(("istio".into(), "ingressgateway".into()));
    let p = 9080;
    let details = b.workload(
        "default",
        "details-v1",
        "details",
        Some("v1"),
        "bookinfo-details",
        1,
        &[("", p)],
        &format!("{IMG}-details-v1:1.20.3"),
    );
    let ratings = b.workload(
        "default",
        "ratings-v1",
        "ratings",
        Some("v1"),
        "bookinfo-ratings",
        1,
        &[("", p)],
        &format!("{IMG}-ratings-v1:1.20.3"),
    );
    let r1 = b.workload(
        "default",
        "reviews-v1",
        "reviews",
        Some("v1"),
        "bookinfo-reviews",
        1,
        &[("", p)],
        &format!("{IMG}-reviews-v1:1.20.3"),
    );
    let r2 = b.workload(
        "default",
        "reviews-v2",
        "reviews",
        Some("v2"),
        "bookinfo-reviews",
        1,
        &[("", p)],
        &format!("{IMG}-reviews-v2:1.20.3"),
    );
    let r3 = b.workload(
        "default",
        "reviews-v3",
        "reviews",
        Some("v3"),
        "bookinfo-reviews",
        1,
        &[("", p)],
        &format!("{IMG}-reviews-v3:1.20.3"),
    );
    let pp = b.workload(
        "default",
        "productpage-v1",
        "productpage",
        Some("v1"),
        "bookinfo-productpage",
        1,
        &[("", p)],
        &format!("{IMG}-productpage-v1:1.20.3"),
    );
    let sleep = b.workload(
        "legacy",
        "sleep",
        "sleep",
        None,
        "sleep",
        1,
        &[],
        "curlimages/curl:8.8.0",
    );
    b.unmesh(sleep);

    b.service(
        "istio-system",
        "istio-ingressgateway",
        &[("app", "istio-ingressgateway"), ("istio", "ingressgateway")],
        &[
            ("status-port", 15021, 15021, None),
            ("http2", 80, 8080, None),
            ("https", 443, 8443, None),
        ],
    );
    let s_details = b.service(
        "default",
        "details",
        &[("app", "details")],
        &[("http", p, p, None)],
    );
    let s_ratings = b.service(
        "default",
        "ratings",
        &[("app", "ratings")],
        &[("http", p, p, None)],
    );
    let s_reviews = b.service(
        "default",
        "reviews",
        &[("app", "reviews")],
        &[("http", p, p, None)],
    );
    let s_pp = b.service(
        "default",
        "productpage",
        &[("app", "productpage")],
        &[("http", p, p, None)],
    );

    let ingress = b.edge(gw, s_pp, Protocol::Http, 12.0, 38.0);
    b.sigma(ingress, 0.8);
    b.edge(sleep, s_pp, Protocol::Http, 0.5, 35.0);
    b.edge(pp, s_details, Protocol::Http, 12.0, 2.5);
    let rev = b.edge(pp, s_reviews, Protocol::Http, 12.0, 14.0);
    b.shares(rev, &[(r1, 0.10), (r2, 0.40), (r3, 0.50)]);
    b.edge(r2, s_ratings, Protocol::Http, 4.8, 1.8);
    let failing = b.edge(r3, s_ratings, Protocol::Http, 6.0, 2.2);
    b.fail(failing, http_err(0.18, 500, "-"));
    b.fail(failing, http_err(0.02, 503, "URX"));
    b.edge(pp, s_ratings, Protocol::Http, 1.0, 1.9);
    let _ = (details, ratings);

    declare(&mut b);

    b.plant("split_drift", "VirtualService/default/reviews",
        "the reviews VirtualService declares 80/20 to subsets v1/v2, but traffic goes 10/40/50 to reviews-v1/v2/v3 (v3 is not routed at all)");
    b.plant("undeclared_edge", "default/productpage-v1 -> default/ratings-v1",
        "productpage calls ratings directly; the ratings-viewer AuthorizationPolicy (dry-run) only allows bookinfo-reviews and bookinfo-details");
    b.plant(
        "unobserved_edge",
        "default/details-v1 -> default/ratings-v1",
        "ratings-viewer allows the bookinfo-details identity, but details never calls ratings",
    );
    b.plant("mtls_gap", "legacy/sleep -> default/productpage-v1",
        "sleep in the uninjected legacy namespace calls productpage in plaintext; the default namespace is PERMISSIVE, so it is accepted");
    b.plant(
        "failing_edge",
        "default/reviews-v3 -> default/ratings-v1",
        "about 20% of reviews-v3 -> ratings requests fail (18% HTTP 500, 2% 503 URX)",
    );
    b.scale_rates(40.0);
    b.finish("bookinfo")
}

fn declare(b: &mut Builder) {
    b.declare(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "Gateway",
        "metadata": {"name": "bookinfo-gateway", "namespace": "default"},
        "spec": {"selector": {"istio": "ingressgateway"},
                 "servers": [{"port": {"number": 8080, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}
    }));
    b.declare(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "bookinfo", "namespace": "default"},
        "spec": {"hosts": ["*"], "gateways": ["bookinfo-gateway"],
                 "http": [{"match": [{"uri": {"exact": "/productpage"}}, {"uri": {"prefix": "/static"}},
                                     {"uri": {"exact": "/login"}}, {"uri": {"exact": "/logout"}},
                                     {"uri": {"prefix": "/api/v1/products"}}],
                           "route": [{"destination": {"host": "productpage", "port": {"number": 9080}}}]}]}
    }));
    b.declare(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "reviews", "namespace": "default"},
        "spec": {"hosts": ["reviews"],
                 "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 80},
                                     {"destination": {"host": "reviews", "subset": "v2"}, "weight": 20}]}]}
    }));
    for (host, versions) in [
        ("productpage", &["v1"][..]),
        ("reviews", &["v1", "v2", "v3"][..]),
        ("ratings", &["v1", "v2"][..]),
        ("details", &["v1", "v2"][..]),
    ] {
        let subsets: Vec<_> = versions
            .iter()
            .map(|v| json!({"name": v, "labels": {"version": v}}))
            .collect();
        b.declare(json!({
            "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": host, "namespace": "default"},
            "spec": {"host": host, "subsets": subsets}
        }));
    }
    b.declare(json!({
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "default"},
        "spec": {"mtls": {"mode": "PERMISSIVE"}}
    }));
    b.declare(json!({
        "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
        "metadata": {"name": "details-viewer", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "details"}}, "action": "ALLOW",
                 "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/default/sa/bookinfo-productpage"]}}],
                            "to": [{"operation": {"methods": ["GET"]}}]}]}
    }));
    b.declare(json!({
        "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
        "metadata": {"name": "ratings-viewer", "namespace": "default",
                     "annotations": {"istio.io/dry-run": "true"}},
        "spec": {"selector": {"matchLabels": {"app": "ratings"}}, "action": "ALLOW",
                 "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/default/sa/bookinfo-reviews",
                                                                "cluster.local/ns/default/sa/bookinfo-details"]}}],
                            "to": [{"operation": {"methods": ["GET"]}}]}]}
    }));
}
