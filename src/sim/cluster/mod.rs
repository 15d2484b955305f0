//! The Kubernetes objects a live cluster running the scenario would return:
//! namespaces, service accounts, workloads with their ReplicaSets and Pods,
//! Services, EndpointSlices, the declared mesh objects and their CRDs.
//! Deterministic: the same scenario always yields the same objects.

mod meta;
mod workloads;

use serde_json::{Value, json};

pub use meta::rfc3339;
use meta::{Meta, pairs};

use super::scenario::{MeshKind, Pod, Scenario};

/// Every object of the simulated cluster, in a stable order.
pub fn objects(s: &Scenario) -> Vec<Value> {
    let m = Meta { s };
    let mut out = Vec::new();
    for ns in &s.namespaces {
        out.push(json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": m.build("Namespace", "v1", None, &ns.name, &ns.labels, &ns.annotations, false, "kubectl-client-side-apply"),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        }));
    }
    let mut sas: Vec<(String, String)> = s
        .namespaces
        .iter()
        .map(|n| (n.name.clone(), "default".to_string()))
        .collect();
    for w in &s.workloads {
        let k = (w.namespace.clone(), w.service_account.clone());
        if !sas.contains(&k) {
            sas.push(k);
        }
    }
    for (ns, name) in &sas {
        out.push(json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": m.build("ServiceAccount", "v1", Some(ns), name, &[], &[], false, "kubectl-client-side-apply")
        }));
    }
    workloads::push_all(&m, &mut out);
    services(&m, &mut out);
    declared(&m, &mut out);
    out
}

/// The port and path where `pod`'s proxy serves metrics.
pub fn metrics_port(s: &Scenario, pod: &Pod) -> (u16, &'static str) {
    let _ = pod;
    match s.mesh {
        MeshKind::Istio => (15090, "/stats/prometheus"),
        MeshKind::Linkerd => (4191, "/metrics"),
    }
}

/// The ClusterIP of service number `i`.
fn cluster_ip(i: usize) -> String {
    format!("10.96.{}.{}", i / 250, i % 250 + 10)
}

fn services(m: &Meta, out: &mut Vec<Value>) {
    let s = m.s;
    for (i, svc) in s.services.iter().enumerate() {
        let mut labels = pairs(&[("app", &svc.name), ("service", &svc.name)]);
        if let Some((_, v)) = svc.selector.iter().find(|(k, _)| k == "app") {
            labels[0].1 = v.clone();
        }
        let ports: Vec<Value> = svc
            .ports
            .iter()
            .map(|p| {
                let mut v = json!({"name": p.name, "port": p.port, "targetPort": p.target_port, "protocol": "TCP"});
                if let Some(a) = &p.app_protocol {
                    v["appProtocol"] = json!(a);
                }
                v
            })
            .collect();
        let ip = cluster_ip(i);
        let sel = meta::to_map(&svc.selector);
        let svc_meta = m.build(
            "Service",
            "v1",
            Some(&svc.namespace),
            &svc.name,
            &labels,
            &[],
            false,
            "kubectl-client-side-apply",
        );
        out.push(json!({
            "apiVersion": "v1", "kind": "Service", "metadata": svc_meta,
            "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip], "ports": ports, "selector": sel,
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}
        }));
        let endpoints: Vec<Value> = s
            .pods
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                let w = &s.workloads[p.workload];
                w.namespace == svc.namespace
                    && !svc.selector.is_empty()
                    && svc.selector.iter().all(|(k, v)| w.labels.iter().any(|(a, b)| a == k && b == v))
            })
            .map(|(pi, p)| {
                json!({
                    "addresses": [p.ip], "conditions": {"ready": true, "serving": true, "terminating": false},
                    "nodeName": workloads::node_of(pi),
                    "targetRef": {"kind": "Pod", "name": p.name, "namespace": p.namespace,
                                  "uid": m.uid("Pod", &p.namespace, &p.name)}
                })
            })
            .collect();
        let eps_ports: Vec<Value> = svc
            .ports
            .iter()
            .map(|p| json!({"name": p.name, "port": p.target_port, "protocol": "TCP"}))
            .collect();
        let suffix = crate::sim::rng::k8s_suffix(
            crate::sim::rng::hash(s.seed, &[&svc.namespace, &svc.name, "eps"]),
            5,
        );
        let name = format!("{}-{suffix}", svc.name);
        let mut em = m.build(
            "EndpointSlice",
            "discovery.k8s.io/v1",
            Some(&svc.namespace),
            &name,
            &pairs(&[
                (
                    "endpointslice.kubernetes.io/managed-by",
                    "endpointslice-controller.k8s.io",
                ),
                ("kubernetes.io/service-name", &svc.name),
            ]),
            &[],
            true,
            "kube-controller-manager",
        );
        em["generateName"] = json!(format!("{}-", svc.name));
        em["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "Service", "name": svc.name,
            "uid": m.uid("Service", &svc.namespace, &svc.name), "controller": true, "blockOwnerDeletion": true}]);
        out.push(json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": em,
            "addressType": "IPv4", "endpoints": endpoints, "ports": eps_ports
        }));
    }
}

/// `VirtualService` → `virtualservices`, `AuthorizationPolicy` → `authorizationpolicies`.
fn plural(kind: &str) -> String {
    let l = kind.to_lowercase();
    match l.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{l}s"),
    }
}

fn declared(m: &Meta, out: &mut Vec<Value>) {
    let mut crds: Vec<(String, String, String)> = Vec::new();
    let mut objs = Vec::new();
    for obj in &m.s.declared {
        let api = obj["apiVersion"].as_str().unwrap_or("v1");
        let kind = obj["kind"].as_str().unwrap_or("Unknown");
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or("default");
        let name = obj["metadata"]["name"].as_str().unwrap_or("unnamed");
        let (group, version) = api.split_once('/').unwrap_or(("", api));
        let key = (group.to_string(), kind.to_string(), version.to_string());
        if !group.is_empty() && !crds.iter().any(|(g, k, _)| *g == key.0 && *k == key.1) {
            crds.push(key);
        }
        let mut o = obj.clone();
        let base = m.build(
            kind,
            api,
            Some(ns),
            name,
            &[],
            &[],
            true,
            "kubectl-client-side-apply",
        );
        if let (Some(dst), Some(src)) = (o["metadata"].as_object_mut(), base.as_object()) {
            for (k, v) in src {
                dst.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        objs.push(o);
    }
    for (group, kind, version) in &crds {
        let plural = plural(kind);
        let name = format!("{plural}.{group}");
        out.push(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": m.build("CustomResourceDefinition", "apiextensions.k8s.io/v1", None, &name, &[], &[], true, "helm"),
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "listKind": format!("{kind}List"), "plural": plural, "singular": kind.to_lowercase()},
                     "versions": [{"name": version, "served": true, "storage": true,
                                   "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]},
            "status": {"acceptedNames": {"kind": kind, "plural": plural}, "storedVersions": [version]}
        }));
    }
    out.extend(objs);
}
