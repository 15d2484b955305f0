//! Each gap rule on a small built-in cluster: one case that triggers it and
//! one that does not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analyze_common;

use analyze_common::{FULL, NONE, allow_b, edge, gaps, inventory, pa, run, run_with, split};
use meshscope::model::snapshot::{ResponseCount, Severity};
use serde_json::json;

#[test]
fn undeclared_edge() {
    let s = run(
        vec![edge("a", "b", 100, 0, FULL), edge("c", "b", 100, 0, FULL)],
        vec![allow_b(&["a"], true)],
        false,
    );
    let g = gaps(&s, "undeclared_edge");
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].subject, "ns/c -> ns/b");
    assert!(g[0].message.contains("AuthorizationPolicy/ns/b-allow"));
    assert_eq!(s.edge("ns/c", "ns/b").unwrap().declared, Some(false));
    assert_eq!(s.edge("ns/a", "ns/b").unwrap().declared, Some(true));
    let s = run(
        vec![edge("a", "b", 100, 0, FULL)],
        vec![allow_b(&["a"], true)],
        false,
    );
    assert!(gaps(&s, "undeclared_edge").is_empty());
}

#[test]
fn unobserved_edge() {
    let s = run(
        vec![edge("a", "b", 100, 0, FULL)],
        vec![allow_b(&["a", "c"], false)],
        false,
    );
    let g = gaps(&s, "unobserved_edge");
    // Two workloads (b, b-v2) carry app=b, so the subject is the policy.
    assert_eq!(
        g.iter().map(|g| g.subject.as_str()).collect::<Vec<_>>(),
        ["AuthorizationPolicy/ns/b-allow"],
        "{g:?}"
    );
    assert!(
        g[0].message.contains("sa/c") && !g[0].message.contains("sa/a "),
        "{}",
        g[0].message
    );
    assert_eq!(g[0].severity, Severity::Info);
    let s = run(
        vec![edge("a", "b", 100, 0, FULL), edge("c", "b", 5, 0, FULL)],
        vec![allow_b(&["a", "c"], false)],
        false,
    );
    assert!(gaps(&s, "unobserved_edge").is_empty());
}

#[test]
fn split_drift_uses_a_significance_test() {
    let drift = run(
        vec![
            edge("a", "b", 900, 0, FULL),
            edge("a", "b-v2", 100, 0, FULL),
        ],
        split(50, 50),
        false,
    );
    let g = gaps(&drift, "split_drift");
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].subject, "VirtualService/ns/b");
    assert!(
        g[0].message.contains("50.0%") && g[0].message.contains("90.0%"),
        "{}",
        g[0].message
    );
    // 520/480 over 1000 requests is within chance for 50/50 (chi-square 1.6).
    let chance = run(
        vec![
            edge("a", "b", 520, 0, FULL),
            edge("a", "b-v2", 480, 0, FULL),
        ],
        split(50, 50),
        false,
    );
    assert!(gaps(&chance, "split_drift").is_empty());
    // 8/2 is far from 50/50 in share, but 10 requests prove nothing.
    let few = run(
        vec![edge("a", "b", 8, 0, FULL), edge("a", "b-v2", 2, 0, FULL)],
        split(50, 50),
        false,
    );
    assert!(gaps(&few, "split_drift").is_empty());
    // 90/10 matches a declared 90/10.
    let ok = run(
        vec![
            edge("a", "b", 900, 0, FULL),
            edge("a", "b-v2", 100, 0, FULL),
        ],
        split(90, 10),
        false,
    );
    assert!(gaps(&ok, "split_drift").is_empty());
}

#[test]
fn mtls_gap() {
    let strict = run(
        vec![
            edge("plain", "b", 100, 0, NONE),
            edge("a", "b", 100, 0, FULL),
        ],
        vec![pa("STRICT")],
        false,
    );
    let g = gaps(&strict, "mtls_gap");
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(
        (g[0].subject.as_str(), g[0].severity),
        ("ns/plain -> ns/b", Severity::Critical)
    );
    assert_eq!(
        strict
            .edge("ns/plain", "ns/b")
            .unwrap()
            .mtls
            .verdict
            .as_deref(),
        Some("plaintext_under_strict")
    );
    assert_eq!(
        strict.edge("ns/a", "ns/b").unwrap().mtls.verdict.as_deref(),
        Some("ok")
    );
    let permissive = run(
        vec![edge("plain", "b", 100, 0, NONE)],
        vec![pa("PERMISSIVE")],
        false,
    );
    assert_eq!(gaps(&permissive, "mtls_gap")[0].severity, Severity::Warning);
    let tighten = run(
        vec![edge("a", "b", 100, 0, FULL)],
        vec![pa("PERMISSIVE")],
        false,
    );
    let g = gaps(&tighten, "mtls_gap");
    assert_eq!(
        (g.len(), g[0].severity, g[0].subject.as_str()),
        (1, Severity::Info, "PeerAuthentication/ns/default")
    );
    let clean = run(
        vec![edge("a", "b", 100, 0, FULL)],
        vec![pa("STRICT")],
        false,
    );
    assert!(gaps(&clean, "mtls_gap").is_empty());
    let mut objs = vec![pa("STRICT")];
    objs.push(json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "b-plain", "namespace": "ns"},
        "spec": {"host": "b", "trafficPolicy": {"tls": {"mode": "DISABLE"}}}}));
    let dr = run(vec![edge("a", "b", 100, 0, FULL)], objs, false);
    let g = gaps(&dr, "mtls_gap");
    assert_eq!(
        (g.len(), g[0].subject.as_str(), g[0].severity),
        (1, "DestinationRule/ns/b-plain", Severity::Critical)
    );
}

#[test]
fn policy_violation() {
    let deny = json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
        "metadata": {"name": "no-c", "namespace": "ns"},
        "spec": {"selector": {"matchLabels": {"app": "b"}}, "action": "DENY",
                 "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/ns/sa/c"]}}]}]}});
    let s = run(
        vec![edge("a", "b", 100, 0, FULL), edge("c", "b", 100, 0, FULL)],
        vec![deny.clone()],
        false,
    );
    let g = gaps(&s, "policy_violation");
    assert_eq!(g.len(), 1);
    assert_eq!(
        (g[0].subject.as_str(), g[0].severity),
        ("ns/c -> ns/b", Severity::Critical)
    );
    assert!(g[0].message.contains("AuthorizationPolicy/ns/no-c"));
    // Denied attempts: only 403s came back.
    let mut denied = edge("c", "b", 0, 0, FULL);
    denied.responses = vec![ResponseCount {
        code: "403".into(),
        count: Some(40.0),
    }];
    denied.signals.success_rate = Some(1.0);
    let s = run(
        vec![edge("a", "b", 100, 0, FULL), denied],
        vec![deny],
        false,
    );
    let g = gaps(&s, "policy_violation");
    assert_eq!((g.len(), g[0].severity), (1, Severity::Warning), "{g:?}");
    // Enforced ALLOW honoured: nothing.
    let s = run(
        vec![edge("a", "b", 100, 0, FULL)],
        vec![allow_b(&["a"], false)],
        false,
    );
    assert!(gaps(&s, "policy_violation").is_empty());
}

#[test]
fn unmeshed_workload() {
    let s = run(vec![], vec![], true);
    let g = gaps(&s, "unmeshed_workload");
    assert_eq!(
        (g.len(), g[0].subject.as_str(), g[0].severity),
        (1, "Deployment/ns/plain", Severity::Warning)
    );
    let s = run(vec![], vec![], false);
    assert!(
        gaps(&s, "unmeshed_workload").is_empty(),
        "not injected, talks to nobody"
    );
    let s = run(vec![edge("plain", "b", 10, 0, NONE)], vec![], false);
    assert_eq!(gaps(&s, "unmeshed_workload")[0].severity, Severity::Info);
}

#[test]
fn orphan_route() {
    let mut objs = split(50, 50);
    objs[1]["spec"]["subsets"][1]["labels"]["version"] = json!("v9");
    let s = run(vec![], objs, false);
    let g = gaps(&s, "orphan_route");
    assert_eq!(
        (g.len(), g[0].subject.as_str(), g[0].severity),
        (1, "DestinationRule/ns/b", Severity::Warning),
        "{g:?}"
    );
    let s = run(vec![], split(50, 50), false);
    assert!(gaps(&s, "orphan_route").is_empty());
}

#[test]
fn orphan_route_service_without_ready_endpoints() {
    use meshscope::model::inventory::EndpointCount;
    let with = |ep: Option<EndpointCount>| {
        let mut inv = inventory(false);
        inv.services[0].endpoints = ep;
        inv
    };
    let none_ready = EndpointCount {
        ready: 0,
        not_ready: 2,
    };
    // Traffic to ns/b, whose slices list 2 endpoints, none ready.
    let s = run_with(
        with(Some(none_ready)),
        vec![edge("a", "b", 10, 90, FULL)],
        vec![],
    );
    let g = gaps(&s, "orphan_route");
    assert_eq!(
        (g.len(), g[0].subject.as_str(), g[0].severity),
        (1, "Service/ns/b", Severity::Warning),
        "{g:?}"
    );
    assert!(
        g[0].message.contains("2 endpoints, none ready"),
        "{}",
        g[0].message
    );
    // A route to it, no traffic: still reported, once.
    let s = run_with(with(Some(none_ready)), vec![], split(50, 50));
    assert_eq!(gaps(&s, "orphan_route").len(), 1);
    // Ready endpoints, no slices read, or nothing uses it: nothing.
    let ready = Some(EndpointCount {
        ready: 1,
        not_ready: 1,
    });
    for (inv, edges) in [
        (with(ready), vec![edge("a", "b", 10, 0, FULL)]),
        (with(None), vec![edge("a", "b", 10, 0, FULL)]),
        (with(Some(none_ready)), vec![edge("a", "c", 10, 0, FULL)]),
    ] {
        let s = run_with(inv, edges, vec![]);
        assert!(gaps(&s, "orphan_route").is_empty(), "{:?}", s.gaps);
    }
}

#[test]
fn failing_edge() {
    let s = run(
        vec![
            edge("a", "b", 80, 20, FULL),
            edge("c", "b", 95, 5, FULL),
            edge("a", "c", 100, 0, FULL),
        ],
        vec![],
        false,
    );
    let g = gaps(&s, "failing_edge");
    let found: Vec<(&str, Severity)> = g.iter().map(|g| (g.subject.as_str(), g.severity)).collect();
    assert_eq!(
        found,
        [
            ("ns/a -> ns/b", Severity::Critical),
            ("ns/c -> ns/b", Severity::Warning)
        ]
    );
}
