//! Deployments / StatefulSets, their ReplicaSets and Pods (with the mesh's
//! sidecar, labels and annotations), as the API server would list them.

use serde_json::{Value, json};

use super::meta::{Meta, pairs, to_map};
use crate::sim::scenario::{MeshKind, Scenario, Workload, WorkloadKind};

const ISTIO_VERSION: &str = "1.24.2";
const LINKERD_VERSION: &str = "edge-25.1.1";

/// The node pod number `i` runs on (three simulated nodes).
pub fn node_of(i: usize) -> String {
    format!("sim-node-{}", i % 3 + 1)
}

fn container_ports(w: &Workload) -> Vec<Value> {
    w.ports
        .iter()
        .map(|p| {
            let mut v = json!({"containerPort": p.port, "protocol": "TCP"});
            if !p.name.is_empty() {
                v["name"] = json!(p.name);
            }
            v
        })
        .collect()
}

fn app_container(w: &Workload) -> Value {
    let name = if w.control_plane {
        w.name.clone()
    } else {
        w.app.clone()
    };
    json!({"name": name, "image": w.image, "imagePullPolicy": "IfNotPresent", "ports": container_ports(w),
           "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}})
}

fn sidecar(mesh: MeshKind) -> Value {
    match mesh {
        MeshKind::Istio => json!({
            "name": "istio-proxy", "image": format!("docker.io/istio/proxyv2:{ISTIO_VERSION}"),
            "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
            "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "10m", "memory": "40Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}}
        }),
        MeshKind::Linkerd => json!({
            "name": "linkerd-proxy", "image": format!("cr.l5d.io/linkerd/proxy:{LINKERD_VERSION}"),
            "ports": [{"containerPort": 4143, "name": "linkerd-proxy", "protocol": "TCP"},
                      {"containerPort": 4191, "name": "linkerd-admin", "protocol": "TCP"}],
            "env": [{"name": "LINKERD2_PROXY_IDENTITY_DIR", "value": "/var/run/linkerd/identity/end-entity"}]
        }),
    }
}

fn init_container(mesh: MeshKind) -> Value {
    match mesh {
        MeshKind::Istio => {
            json!({"name": "istio-init", "image": format!("docker.io/istio/proxyv2:{ISTIO_VERSION}"),
                                  "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337"]})
        }
        MeshKind::Linkerd => {
            json!({"name": "linkerd-init", "image": "cr.l5d.io/linkerd/proxy-init:v2.4.1",
                                    "args": ["--incoming-proxy-port", "4143", "--outgoing-proxy-port", "4140"]})
        }
    }
}

/// Pod labels and annotations once the mesh's injector has run.
type Pairs = Vec<(String, String)>;

fn injected(s: &Scenario, w: &Workload) -> (Pairs, Pairs) {
    let mut labels = w.labels.clone();
    let mut ann = w.annotations.clone();
    if !w.meshed {
        return (labels, ann);
    }
    match s.mesh {
        MeshKind::Istio => {
            let rev = w.version.clone().unwrap_or_else(|| "latest".into());
            labels.extend(pairs(&[
                ("security.istio.io/tlsMode", "istio"),
                ("service.istio.io/canonical-name", &w.app),
                ("service.istio.io/canonical-revision", &rev),
            ]));
            ann.extend(pairs(&[
                ("istio.io/rev", "default"),
                ("kubectl.kubernetes.io/default-container", &w.app),
                ("prometheus.io/path", "/stats/prometheus"),
                ("prometheus.io/port", "15020"),
                ("prometheus.io/scrape", "true"),
                ("sidecar.istio.io/status", r#"{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}"#),
            ]));
        }
        MeshKind::Linkerd => {
            labels.extend(pairs(&[
                ("linkerd.io/control-plane-ns", "linkerd"),
                ("linkerd.io/workload-ns", &w.namespace),
            ]));
            let owner = match w.kind {
                WorkloadKind::Deployment => "linkerd.io/proxy-deployment",
                WorkloadKind::StatefulSet => "linkerd.io/proxy-statefulset",
            };
            labels.push((owner.to_string(), w.name.clone()));
            ann.extend(pairs(&[
                (
                    "linkerd.io/created-by",
                    &format!("linkerd/proxy-injector {LINKERD_VERSION}"),
                ),
                ("linkerd.io/inject", "enabled"),
                ("linkerd.io/proxy-version", LINKERD_VERSION),
                (
                    "linkerd.io/trust-root-sha256",
                    "2f6e4b8a4e1c0b6f8f9a3d5c7e1b2a4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a",
                ),
                ("viz.linkerd.io/tap-enabled", "true"),
            ]));
        }
    }
    (labels, ann)
}

/// Push every workload's controller, ReplicaSet and Pods.
pub fn push_all(m: &Meta, out: &mut Vec<Value>) {
    let s = m.s;
    for (wi, w) in s.workloads.iter().enumerate() {
        let (ctl_kind, ctl_api) = match w.kind {
            WorkloadKind::Deployment => ("Deployment", "apps/v1"),
            WorkloadKind::StatefulSet => ("StatefulSet", "apps/v1"),
        };
        let selector = to_map(&w.labels);
        let mut containers = vec![app_container(w)];
        let mut init = Vec::new();
        let gateway = w.meshed && w.ports.iter().any(|p| p.port == 15021);
        if w.meshed {
            if gateway {
                containers = vec![sidecar(s.mesh)];
                containers[0]["args"] = json!([
                    "proxy",
                    "router",
                    "--domain",
                    "$(POD_NAMESPACE).svc.cluster.local"
                ]);
                containers[0]["ports"] = json!([{"containerPort": 15021, "name": "status-port", "protocol": "TCP"},
                    {"containerPort": 8080, "name": "http2", "protocol": "TCP"}, {"containerPort": 8443, "name": "https", "protocol": "TCP"},
                    {"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}]);
            } else {
                containers.push(sidecar(s.mesh));
                init.push(init_container(s.mesh));
            }
        }
        let template = json!({
            "metadata": {"labels": to_map(&w.labels), "annotations": to_map(&w.annotations)},
            "spec": {"serviceAccountName": w.service_account, "containers": [app_container(w)]}
        });
        let r = w.replicas;
        let mut cm = m.build(
            ctl_kind,
            ctl_api,
            Some(&w.namespace),
            &w.name,
            &w.controller_labels,
            &pairs(&[("deployment.kubernetes.io/revision", "1")]),
            true,
            "kubectl-client-side-apply",
        );
        if w.kind == WorkloadKind::StatefulSet {
            cm["annotations"] = json!({});
        }
        let generation = cm["generation"].clone();
        let cond = |t: &str, reason: &str| json!({"type": t, "status": "True", "reason": reason, "lastTransitionTime": cm["creationTimestamp"], "lastUpdateTime": cm["creationTimestamp"]});
        let status = match w.kind {
            WorkloadKind::Deployment => {
                json!({"observedGeneration": generation, "replicas": r, "updatedReplicas": r, "readyReplicas": r, "availableReplicas": r,
                "conditions": [cond("Available", "MinimumReplicasAvailable"), cond("Progressing", "NewReplicaSetAvailable")]})
            }
            WorkloadKind::StatefulSet => {
                json!({"observedGeneration": generation, "replicas": r, "readyReplicas": r, "currentReplicas": r, "updatedReplicas": r, "availableReplicas": r})
            }
        };
        let mut spec =
            json!({"replicas": r, "selector": {"matchLabels": selector}, "template": template});
        if w.kind == WorkloadKind::StatefulSet {
            spec["serviceName"] = json!(w.name);
        }
        out.push(json!({"apiVersion": ctl_api, "kind": ctl_kind, "metadata": cm.clone(), "spec": spec, "status": status}));
        let ctl_uid = m.uid(ctl_kind, &w.namespace, &w.name);
        let (pod_labels, pod_ann) = injected(s, w);
        let mut owner = json!({"apiVersion": ctl_api, "kind": ctl_kind, "name": w.name, "uid": ctl_uid, "controller": true, "blockOwnerDeletion": true});
        let mut generate = format!("{}-", w.name);
        let mut extra_labels = Vec::new();
        if let Some(hash) = s.workload_pods[wi]
            .first()
            .and_then(|&p| s.pods[p].template_hash.clone())
        {
            let rs = format!("{}-{hash}", w.name);
            let mut rl = w.labels.clone();
            rl.push(("pod-template-hash".into(), hash.clone()));
            let mut rm = m.build(
                "ReplicaSet",
                "apps/v1",
                Some(&w.namespace),
                &rs,
                &rl,
                &pairs(&[
                    ("deployment.kubernetes.io/desired-replicas", &r.to_string()),
                    (
                        "deployment.kubernetes.io/max-replicas",
                        &(r + 1).to_string(),
                    ),
                    ("deployment.kubernetes.io/revision", "1"),
                ]),
                true,
                "kube-controller-manager",
            );
            rm["ownerReferences"] = json!([owner]);
            let mut sel = w.labels.clone();
            sel.push(("pod-template-hash".into(), hash.clone()));
            out.push(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": rm,
                "spec": {"replicas": r, "selector": {"matchLabels": to_map(&sel)}, "template": {"metadata": {"labels": to_map(&sel)}, "spec": {"serviceAccountName": w.service_account}}},
                "status": {"replicas": r, "fullyLabeledReplicas": r, "readyReplicas": r, "availableReplicas": r, "observedGeneration": 1}}));
            owner = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": m.uid("ReplicaSet", &w.namespace, &rs), "controller": true, "blockOwnerDeletion": true});
            generate = format!("{rs}-");
            extra_labels.push(("pod-template-hash".to_string(), hash));
        }
        for &pi in &s.workload_pods[wi] {
            let p = &s.pods[pi];
            let mut labels = pod_labels.clone();
            labels.extend(extra_labels.iter().cloned());
            if w.kind == WorkloadKind::StatefulSet {
                labels.push(("statefulset.kubernetes.io/pod-name".into(), p.name.clone()));
            }
            let mut pm = m.build(
                "Pod",
                "v1",
                Some(&p.namespace),
                &p.name,
                &labels,
                &pod_ann,
                false,
                "kubelet",
            );
            pm["generateName"] = json!(generate);
            pm["ownerReferences"] = json!([owner]);
            let started = pm["creationTimestamp"].clone();
            let statuses: Vec<Value> = containers.iter().map(|c| json!({"name": c["name"], "image": c["image"], "ready": true, "started": true, "restartCount": 0,
                "state": {"running": {"startedAt": started}}})).collect();
            let node = node_of(pi);
            out.push(json!({"apiVersion": "v1", "kind": "Pod", "metadata": pm,
                "spec": {"serviceAccountName": w.service_account, "nodeName": node, "containers": containers, "initContainers": init,
                         "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"},
                "status": {"phase": "Running", "podIP": p.ip, "podIPs": [{"ip": p.ip}], "hostIP": format!("192.168.49.{}", pi % 3 + 2), "startTime": started, "qosClass": "Burstable",
                           "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
                           "containerStatuses": statuses}}));
        }
    }
}
