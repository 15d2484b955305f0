//! Helpers for the analyze rule tests: a small built-in cluster.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::BTreeMap;

use meshscope::analyze::{AnalyzeConfig, Declared, analyze};
use meshscope::model::inventory::{Inventory, NamespaceInfo, ServiceInfo, WorkloadInfo};
use meshscope::model::snapshot::{
    Edge, Evidence, Gap, Mtls, MtlsStatus, Node, NodeKind, Protocol, ResponseCount, Signals,
    Snapshot,
};
use serde_json::{Value, json};

/// Workloads `ns/a`, `ns/b` (app b, versions v1/v2 as `b`/`b-v2`) and
/// `ns/c`, all meshed with service accounts `a`, `b`, `c`; Service `ns/b`.
pub fn inventory(injected: bool) -> Inventory {
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
        endpoints: None,
    });
    let mut ns = NamespaceInfo::default();
    if injected {
        ns.labels.insert("istio-injection".into(), "enabled".into());
    }
    inv.namespaces.insert("ns".into(), ns);
    inv.reindex();
    inv
}

pub fn edge(src: &str, tgt: &str, ok: u32, fail: u32, status: MtlsStatus) -> Edge {
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
        traces: Vec::new(),
    }
}

pub fn run(edges: Vec<Edge>, objects: Vec<Value>, injected: bool) -> Snapshot {
    run_with(inventory(injected), edges, objects)
}

/// [`run`] over a given inventory.
pub fn run_with(inv: Inventory, edges: Vec<Edge>, objects: Vec<Value>) -> Snapshot {
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

pub fn gaps<'a>(s: &'a Snapshot, kind: &str) -> Vec<&'a Gap> {
    s.gaps.iter().filter(|g| g.kind == kind).collect()
}

pub fn allow_b(sas: &[&str], dry: bool) -> Value {
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

pub fn pa(mode: &str) -> Value {
    json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
           "metadata": {"name": "default", "namespace": "ns"}, "spec": {"mtls": {"mode": mode}}})
}

pub fn split(w1: u32, w2: u32) -> Vec<Value> {
    vec![
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "b", "namespace": "ns"},
               "spec": {"hosts": ["b"], "http": [{"route": [
                   {"destination": {"host": "b", "subset": "v1"}, "weight": w1},
                   {"destination": {"host": "b", "subset": "v2"}, "weight": w2}]}]}}),
        json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "b", "namespace": "ns"},
               "spec": {"host": "b", "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]}}),
    ]
}

pub const FULL: MtlsStatus = MtlsStatus::Full;
pub const NONE: MtlsStatus = MtlsStatus::None;
