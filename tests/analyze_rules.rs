//! Each gap rule on a small built-in cluster: one case that triggers it and
//! one that does not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use meshscope::analyze::{AnalyzeConfig, Declared, analyze};
use meshscope::model::inventory::{Inventory, NamespaceInfo, ServiceInfo, WorkloadInfo};
use meshscope::model::snapshot::{
    Edge, Evidence, Gap, Mtls, MtlsStatus, Node, NodeKind, Protocol, ResponseCount, Severity,
    Signals, Snapshot,
};
use serde_json::{Value, json};

/// Workloads `ns/a`, `ns/b` (app b, versions v1/v2 as `b`/`b-v2`) and
/// `ns/c`, all meshed with service accounts `a`, `b`, `c`; Service `ns/b`.
fn inventory(injected: bool) -> Inventory {
    let mut inv = Inventory::default();
    for (name, app, version, meshed) in [
        ("a", "a", None, true),
        ("b", "b", Some("v1"), true),
        ("b-v2", "b", Some("v2"), true),
        ("c", "c", None, true),
        ("plain", "plain", None, false),
    ] {
        let mut labels = BTreeMap::from([("app".to_string(), app.to_string())]);
        if let Some(v) = version {
            labels.insert("version".into(), v.into());
        }
        inv.workloads.insert(
            format!("ns/{name}"),
            WorkloadInfo {
                namespace: "ns".into(),
                name: name.into(),
                kind: "Deployment".into(),
                app: Some(app.into()),
                version: version.map(str::to_string),
                service_account: Some(app.into()),
                meshed,
                pods: 1,
                pod_labels: labels,
            },
        );
    }
    inv.services.push(ServiceInfo {
        namespace: "ns".into(),
        name: "b".into(),
        selector: BTreeMap::from([("app".to_string(), "b".to_string())]),
        cluster_ip: None,
        ports: vec![80],
    });
    let mut ns = NamespaceInfo::default();
    if injected {
        ns.labels.insert("istio-injection".into(), "enabled".into());
    }
    inv.namespaces.insert("ns".into(), ns);
    inv.reindex();
    inv
}

fn edge(src: &str, tgt: &str, ok: u32, fail: u32, status: MtlsStatus) -> Edge {
    let total = f64::from(ok + fail);
    let mut responses = vec![ResponseCount {
        code: "200".into(),
        count: Some(f64::from(ok)),
    }];
    if fail > 0 {
        responses.push(ResponseCount {
            code: "503".into(),
            count: Some(f64::from(fail)),
        });
    }
    Edge {
        source: format!("ns/{src}"),
        target: format!("ns/{tgt}"),
        service: (tgt.starts_with('b')).then(|| "svc:ns/b".to_string()),
        protocol: Protocol::Http,
        signals: Signals {
            rps: Some(total / 60.0),
            success_rate: Some(f64::from(ok) / total),
            ..Signals::default()
        },
        mtls: Mtls {
            status,
            fraction: Some(if status == MtlsStatus::Full { 1.0 } else { 0.0 }),
            declared: None,
            verdict: None,
        },
        evidence: vec![Evidence::Metrics],
        declared: None,
        responses,
        identities: None,
    }
}

fn run(edges: Vec<Edge>, objects: Vec<Value>, injected: bool) -> Snapshot {
    let inv = inventory(injected);
    let mut snap = Snapshot::empty("2026-01-05T09:00:00Z".into(), 60.0);
    snap.nodes = inv
        .workloads
        .values()
        .map(|w| Node {
            id: format!("{}/{}", w.namespace, w.name),
            kind: NodeKind::Workload,
            namespace: Some(w.namespace.clone()),
            name: w.name.clone(),
            app: w.app.clone(),
            version: w.version.clone(),
            meshed: w.meshed,
            signals: None,
        })
        .collect();
    snap.edges = edges;
    let extra = Declared {
        objects,
        ..Declared::default()
    };
    analyze(&mut snap, &inv, Some(&extra), &AnalyzeConfig::default());
    snap
}

fn gaps<'a>(s: &'a Snapshot, kind: &str) -> Vec<&'a Gap> {
    s.gaps.iter().filter(|g| g.kind == kind).collect()
}

fn allow_b(sas: &[&str], dry: bool) -> Value {
    let principals: Vec<String> = sas
        .iter()
        .map(|s| format!("cluster.local/ns/ns/sa/{s}"))
        .collect();
    let mut meta = json!({"name": "b-allow", "namespace": "ns"});
    if dry {
        meta["annotations"] = json!({"istio.io/dry-run": "true"});
    }
    json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": meta,
           "spec": {"selector": {"matchLabels": {"app": "b"}}, "action": "ALLOW",
                    "rules": [{"from": [{"source": {"principals": principals}}]}]}})
}

fn pa(mode: &str) -> Value {
    json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
           "metadata": {"name": "default", "namespace": "ns"}, "spec": {"mtls": {"mode": mode}}})
}

fn split(w1: u32, w2: u32) -> Vec<Value> {
    vec![
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "b", "namespace": "ns"},
               "spec": {"hosts": ["b"], "http": [{"route": [
                   {"destination": {"host": "b", "subset": "v1"}, "weight": w1},
                   {"destination": {"host": "b", "subset": "v2"}, "weight": w2}]}]}}),
        json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "b", "namespace": "ns"},
               "spec": {"host": "b", "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]}}),
    ]
}

const FULL: MtlsStatus = MtlsStatus::Full;
const NONE: MtlsStatus = MtlsStatus::None;

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
