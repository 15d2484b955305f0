//! The simulated cluster's Kubernetes objects look like a live API server's.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use meshscope::sim::cluster::{metrics_port, objects};
use meshscope::sim::scenario::{self, MeshKind};
use serde_json::Value;

fn by_kind(objs: &[Value], kind: &str) -> Vec<Value> {
    objs.iter().filter(|o| o["kind"] == kind).cloned().collect()
}

fn key(o: &Value) -> (String, String, String) {
    let m = &o["metadata"];
    (
        o["kind"].as_str().unwrap().into(),
        m["namespace"].as_str().unwrap_or("").into(),
        m["name"].as_str().unwrap().into(),
    )
}

#[test]
fn objects_are_complete_and_consistent() {
    for spec in ["bookinfo", "emojivoto", "boutique", "scale:25"] {
        let s = scenario::load(spec).unwrap();
        let objs = objects(&s);
        assert_eq!(
            objs,
            objects(&scenario::load(spec).unwrap()),
            "{spec}: not deterministic"
        );
        let mut uids = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for o in &objs {
            let m = &o["metadata"];
            for f in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "managedFields",
            ] {
                assert!(!m[f].is_null(), "{spec}: {:?} lacks metadata.{f}", key(o));
            }
            assert!(
                uids.insert(m["uid"].as_str().unwrap().to_string()),
                "{spec}: duplicate uid"
            );
            assert!(keys.insert(key(o)), "{spec}: duplicate object {:?}", key(o));
        }
        let uid_of: BTreeMap<(String, String, String), String> = objs
            .iter()
            .map(|o| (key(o), o["metadata"]["uid"].as_str().unwrap().to_string()))
            .collect();
        let pods = by_kind(&objs, "Pod");
        assert_eq!(pods.len(), s.pods.len());
        for p in &pods {
            let ns = p["metadata"]["namespace"].as_str().unwrap();
            let owner = &p["metadata"]["ownerReferences"][0];
            let ok = (
                owner["kind"].as_str().unwrap().to_string(),
                ns.to_string(),
                owner["name"].as_str().unwrap().to_string(),
            );
            assert_eq!(
                uid_of.get(&ok).map(String::as_str),
                owner["uid"].as_str(),
                "{spec}: pod owner uid"
            );
            if owner["kind"] == "ReplicaSet" {
                let rs = objs.iter().find(|o| key(o) == ok).unwrap();
                let dep = &rs["metadata"]["ownerReferences"][0];
                assert_eq!(dep["kind"], "Deployment");
                let dk = (
                    "Deployment".to_string(),
                    ns.to_string(),
                    dep["name"].as_str().unwrap().to_string(),
                );
                assert_eq!(uid_of.get(&dk).map(String::as_str), dep["uid"].as_str());
                let hash = rs["metadata"]["labels"]["pod-template-hash"]
                    .as_str()
                    .unwrap();
                assert_eq!(p["metadata"]["labels"]["pod-template-hash"], hash);
                assert_eq!(ok.2, format!("{}-{hash}", dep["name"].as_str().unwrap()));
                let pname = p["metadata"]["name"].as_str().unwrap();
                assert_eq!(pname.len(), ok.2.len() + 6, "{pname}: <rs>-<5 chars>");
            }
            assert_eq!(p["status"]["phase"], "Running");
            assert!(
                p["status"]["podIP"]
                    .as_str()
                    .unwrap()
                    .starts_with("10.244.")
            );
            assert!(p["spec"]["serviceAccountName"].is_string());
            let sim_pod = s.pod(ns, p["metadata"]["name"].as_str().unwrap()).unwrap();
            let meshed = s.workloads[sim_pod.workload].meshed;
            let containers = p["spec"]["containers"].as_array().unwrap();
            let (port, path) = metrics_port(&s, sim_pod);
            let (sidecar, port_name) = match s.mesh {
                MeshKind::Istio => ("istio-proxy", "http-envoy-prom"),
                MeshKind::Linkerd => ("linkerd-proxy", "linkerd-admin"),
            };
            let has = containers.iter().any(|c| {
                c["name"] == sidecar
                    && c["ports"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x["containerPort"] == port && x["name"] == port_name)
            });
            assert_eq!(
                has, meshed,
                "{spec}: {} sidecar/{port}{path}",
                p["metadata"]["name"]
            );
            let labels = &p["metadata"]["labels"];
            if meshed {
                match s.mesh {
                    MeshKind::Istio => {
                        assert_eq!(labels["security.istio.io/tlsMode"], "istio");
                        assert!(labels["service.istio.io/canonical-name"].is_string());
                        assert!(labels["service.istio.io/canonical-revision"].is_string());
                    }
                    MeshKind::Linkerd => {
                        assert_eq!(labels["linkerd.io/control-plane-ns"], "linkerd");
                        assert!(labels["linkerd.io/proxy-deployment"].is_string());
                    }
                }
            }
        }
        // Services have ClusterIPs and EndpointSlices pointing at their pods.
        for svc in by_kind(&objs, "Service") {
            assert!(
                svc["spec"]["clusterIP"]
                    .as_str()
                    .unwrap()
                    .starts_with("10.96.")
            );
            let name = svc["metadata"]["name"].as_str().unwrap();
            let eps = objs
                .iter()
                .find(|o| {
                    o["kind"] == "EndpointSlice"
                        && o["metadata"]["labels"]["kubernetes.io/service-name"] == name
                        && o["metadata"]["namespace"] == svc["metadata"]["namespace"]
                })
                .unwrap();
            for ep in eps["endpoints"].as_array().unwrap() {
                let pk = (
                    "Pod".to_string(),
                    svc["metadata"]["namespace"].as_str().unwrap().to_string(),
                    ep["targetRef"]["name"].as_str().unwrap().to_string(),
                );
                assert_eq!(
                    uid_of.get(&pk).map(String::as_str),
                    ep["targetRef"]["uid"].as_str()
                );
            }
        }
        // A CRD for every declared mesh kind; declared objects are present.
        let crds: BTreeSet<(String, String)> = by_kind(&objs, "CustomResourceDefinition")
            .iter()
            .map(|c| {
                (
                    c["spec"]["group"].as_str().unwrap().into(),
                    c["spec"]["names"]["kind"].as_str().unwrap().into(),
                )
            })
            .collect();
        for d in &s.declared {
            let group = d["apiVersion"]
                .as_str()
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_string();
            assert!(
                crds.contains(&(group, d["kind"].as_str().unwrap().into())),
                "{spec}: no CRD for {}",
                d["kind"]
            );
            let dk = key(d);
            assert!(
                objs.iter().any(|o| key(o) == dk),
                "{spec}: declared {dk:?} missing"
            );
        }
        // Namespaces carry the injection marker.
        let injected = by_kind(&objs, "Namespace").iter().any(|n| {
            n["metadata"]["labels"]["istio-injection"] == "enabled"
                || n["metadata"]["annotations"]["linkerd.io/inject"] == "enabled"
        });
        assert!(injected, "{spec}");
        assert!(
            by_kind(&objs, "Deployment")
                .iter()
                .any(|d| d["metadata"]["name"] == "istiod"
                    || d["metadata"]["name"] == "linkerd-destination"),
            "{spec}: control plane"
        );
    }
}
