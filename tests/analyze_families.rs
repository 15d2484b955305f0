//! Declaration families beyond the planted scenarios: Gateway API weighted
//! routes, SMI TrafficTarget, Linkerd ServerAuthorization, mesh-wide Istio
//! policy and workload-level PeerAuthentication overrides.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analyze_common;

use analyze_common::{FULL, NONE, edge, gaps, pa, run};
use meshscope::model::snapshot::Severity;
use serde_json::json;

#[test]
fn gateway_api_route_weights_are_compared() {
    let route = |w1: u32, w2: u32| {
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
               "metadata": {"name": "b-split", "namespace": "ns"},
               "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "b"}],
                        "rules": [{"backendRefs": [{"name": "b", "port": 80, "weight": w1},
                                                   {"name": "missing", "port": 80, "weight": w2}]}]}})
    };
    let s = run(
        vec![edge("a", "b", 500, 0, FULL)],
        vec![route(50, 50)],
        false,
    );
    let o = gaps(&s, "orphan_route");
    assert_eq!(o.len(), 1);
    assert!(o[0].message.contains("ns/missing"), "{}", o[0].message);
    // Declared 50/50, observed 500/0: drift, named by the route.
    let d = gaps(&s, "split_drift");
    assert_eq!(
        (d.len(), d[0].subject.as_str()),
        (1, "HTTPRoute/ns/b-split")
    );
    let s = run(
        vec![edge("a", "b", 500, 0, FULL)],
        vec![route(100, 0)],
        false,
    );
    assert!(gaps(&s, "split_drift").is_empty());
}

#[test]
fn smi_traffic_target_admits_listed_service_accounts() {
    let tt = json!({"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget",
        "metadata": {"name": "b-access", "namespace": "ns"},
        "spec": {"destination": {"kind": "ServiceAccount", "name": "b", "namespace": "ns"},
                 "sources": [{"kind": "ServiceAccount", "name": "a", "namespace": "ns"}]}});
    let s = run(
        vec![edge("a", "b", 10, 0, FULL), edge("c", "b", 10, 0, FULL)],
        vec![tt],
        false,
    );
    assert_eq!(s.edge("ns/a", "ns/b").unwrap().declared, Some(true));
    assert_eq!(s.edge("ns/c", "ns/b").unwrap().declared, Some(false));
    let v = gaps(&s, "policy_violation");
    assert_eq!(
        (v.len(), v[0].subject.as_str(), v[0].severity),
        (1, "ns/c -> ns/b", Severity::Critical)
    );
}

#[test]
fn linkerd_server_authorization_requires_mtls() {
    let server = json!({"apiVersion": "policy.linkerd.io/v1beta1", "kind": "Server",
        "metadata": {"name": "b-http", "namespace": "ns"},
        "spec": {"podSelector": {"matchLabels": {"app": "b"}}, "port": "http"}});
    let authz = json!({"apiVersion": "policy.linkerd.io/v1beta1", "kind": "ServerAuthorization",
        "metadata": {"name": "b-from-a", "namespace": "ns"},
        "spec": {"server": {"name": "b-http"}, "client": {"meshTLS": {"serviceAccounts": [{"name": "a"}]}}}});
    let s = run(
        vec![edge("a", "b", 10, 0, FULL), edge("plain", "b", 10, 0, NONE)],
        vec![server, authz],
        false,
    );
    assert_eq!(s.edge("ns/a", "ns/b").unwrap().declared, Some(true));
    let m = gaps(&s, "mtls_gap");
    assert_eq!(
        (m.len(), m[0].subject.as_str(), m[0].severity),
        (1, "ns/plain -> ns/b", Severity::Critical)
    );
    assert!(m[0].message.contains("Server/ns/b-http"));
}

#[test]
fn mesh_wide_deny_and_workload_level_peer_authentication() {
    let deny = json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
        "metadata": {"name": "deny-c", "namespace": "istio-system"},
        "spec": {"action": "DENY", "rules": [{"from": [{"source": {"namespaces": ["ns"], "notPrincipals": ["cluster.local/ns/ns/sa/a"]}}]}]}});
    let mut permissive_b = pa("PERMISSIVE");
    permissive_b["metadata"]["name"] = json!("b-permissive");
    permissive_b["spec"]["selector"] = json!({"matchLabels": {"app": "b"}});
    let s = run(
        vec![
            edge("a", "c", 10, 0, FULL),
            edge("c", "a", 10, 0, FULL),
            edge("plain", "b", 10, 0, NONE),
        ],
        vec![deny, pa("STRICT"), permissive_b],
        false,
    );
    let v = gaps(&s, "policy_violation");
    assert_eq!(
        v.iter().map(|g| g.subject.as_str()).collect::<Vec<_>>(),
        ["ns/c -> ns/a"],
        "{v:?}"
    );
    // Workload-level PERMISSIVE beats the namespace's STRICT.
    let m = gaps(&s, "mtls_gap");
    assert_eq!((m.len(), m[0].severity), (1, Severity::Warning), "{m:?}");
    assert!(
        s.edge("ns/plain", "ns/b")
            .unwrap()
            .mtls
            .declared
            .as_deref()
            .unwrap()
            .contains("b-permissive")
    );
}
