//! Kubernetes objects → the inventory. Conversion happens here, at the edge:
//! no `k8s_openapi` type crosses into `model/`.
//!
//! Pods map to workloads through ownerReferences (Pod → ReplicaSet →
//! Deployment, StatefulSet, DaemonSet, Job → CronJob), falling back to the
//! `app`/`version` labels for pods without an owner.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::Value;

use crate::model::inventory::{
    EndpointCount, Inventory, NamespaceInfo, PodInfo, ProxyKind, ServiceInfo, WorkloadInfo,
};
use crate::model::snapshot::MeshKind;

/// A Kubernetes object that could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectProblem {
    /// `Kind namespace/name` as far as known.
    pub object: String,
    pub message: String,
}

impl ObjectProblem {
    /// The problem as a degraded source named `{origin}: {object}`.
    pub fn to_source(&self, origin: &str) -> crate::model::snapshot::SourceStatus {
        crate::model::snapshot::SourceStatus::new(
            format!("{origin}: {}", self.object),
            crate::model::snapshot::SourceState::Degraded,
            self.message.clone(),
        )
    }
}

/// Objects grouped by kind, before conversion.
#[derive(Default)]
pub struct ObjectSet {
    pods: Vec<Pod>,
    replica_sets: Vec<ReplicaSet>,
    jobs: Vec<Job>,
    deployments: Vec<Deployment>,
    stateful_sets: Vec<StatefulSet>,
    daemon_sets: Vec<DaemonSet>,
    services: Vec<Service>,
    endpoint_slices: Vec<EndpointSlice>,
    namespaces: Vec<Namespace>,
    other: Vec<Value>,
    pub problems: Vec<ObjectProblem>,
    /// Objects added (list items counted one by one).
    pub count: usize,
}

/// A kind the set keeps typed.
pub trait SetItem {
    fn push_into(self, set: &mut ObjectSet);
}

macro_rules! set_item {
    ($($t:ty => $field:ident),* $(,)?) => {
        $(impl SetItem for $t {
            fn push_into(self, set: &mut ObjectSet) {
                set.$field.push(self);
            }
        })*
    };
}

set_item!(
    Pod => pods,
    ReplicaSet => replica_sets,
    Job => jobs,
    Deployment => deployments,
    StatefulSet => stateful_sets,
    DaemonSet => daemon_sets,
    Service => services,
    EndpointSlice => endpoint_slices,
    Namespace => namespaces,
);

fn describe(v: &Value) -> String {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("?");
    let meta = v.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    match meta
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
    {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

impl ObjectSet {
    /// Add one object (a `List` is expanded).
    pub fn add(&mut self, mut v: Value) {
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind == "List" || (kind.ends_with("List") && v.get("items").is_some()) {
            let item_kind = kind.strip_suffix("List").unwrap_or("").to_string();
            let api_version = v.get("apiVersion").cloned();
            // Taken out of the list, not copied: a bundle's lists hold
            // thousands of objects.
            let items = v.as_object_mut().and_then(|m| m.remove("items"));
            if let Some(Value::Array(items)) = items {
                for mut item in items {
                    // Typed lists (`PodList`) omit the items' kind.
                    if let Value::Object(map) = &mut item {
                        if !map.contains_key("kind") && !item_kind.is_empty() {
                            map.insert("kind".into(), Value::String(item_kind.clone()));
                        }
                        if !map.contains_key("apiVersion")
                            && let Some(av) = &api_version
                        {
                            map.insert("apiVersion".into(), av.clone());
                        }
                    }
                    self.add(item);
                }
            }
            return;
        }
        self.count += 1;
        let desc = describe(&v);
        let mut typed = |res: Result<(), serde_json::Error>| {
            if let Err(e) = res {
                self.problems.push(ObjectProblem {
                    object: desc.clone(),
                    message: e.to_string(),
                });
            }
        };
        match kind {
            "Pod" => typed(serde_json::from_value(v).map(|o| self.pods.push(o))),
            "ReplicaSet" => typed(serde_json::from_value(v).map(|o| self.replica_sets.push(o))),
            "Job" => typed(serde_json::from_value(v).map(|o| self.jobs.push(o))),
            "Deployment" => typed(serde_json::from_value(v).map(|o| self.deployments.push(o))),
            "StatefulSet" => typed(serde_json::from_value(v).map(|o| self.stateful_sets.push(o))),
            "DaemonSet" => typed(serde_json::from_value(v).map(|o| self.daemon_sets.push(o))),
            "Service" => typed(serde_json::from_value(v).map(|o| self.services.push(o))),
            "EndpointSlice" => {
                typed(serde_json::from_value(v).map(|o| self.endpoint_slices.push(o)))
            }
            "Namespace" => typed(serde_json::from_value(v).map(|o| self.namespaces.push(o))),
            "Secret" => {} // never kept
            _ => self.other.push(v),
        }
    }

    /// Add a typed object as is (a live list's items need no detour
    /// through JSON).
    pub fn add_typed<T: SetItem>(&mut self, o: T) {
        self.count += 1;
        o.push_into(self);
    }

    /// Append `other`'s objects after this set's (kind by kind).
    pub fn merge(&mut self, other: ObjectSet) {
        let ObjectSet {
            pods,
            replica_sets,
            jobs,
            deployments,
            stateful_sets,
            daemon_sets,
            services,
            endpoint_slices,
            namespaces,
            other,
            problems,
            count,
        } = other;
        self.pods.extend(pods);
        self.replica_sets.extend(replica_sets);
        self.jobs.extend(jobs);
        self.deployments.extend(deployments);
        self.stateful_sets.extend(stateful_sets);
        self.daemon_sets.extend(daemon_sets);
        self.services.extend(services);
        self.endpoint_slices.extend(endpoint_slices);
        self.namespaces.extend(namespaces);
        self.other.extend(other);
        self.problems.extend(problems);
        self.count += count;
    }

    /// Convert everything into an inventory.
    pub fn into_inventory(self) -> (Inventory, Vec<ObjectProblem>) {
        let mut inv = Inventory::default();
        let rs_owner: BTreeMap<(String, String), OwnerReference> = self
            .replica_sets
            .iter()
            .filter_map(|rs| {
                let ns = rs.metadata.namespace.clone().unwrap_or_default();
                let name = rs.metadata.name.clone()?;
                let owner = controller_of(rs.metadata.owner_references.as_deref())?;
                Some(((ns, name), owner.clone()))
            })
            .collect();
        let job_owner: BTreeMap<(String, String), OwnerReference> = self
            .jobs
            .iter()
            .filter_map(|j| {
                let ns = j.metadata.namespace.clone().unwrap_or_default();
                let name = j.metadata.name.clone()?;
                let owner = controller_of(j.metadata.owner_references.as_deref())?;
                Some(((ns, name), owner.clone()))
            })
            .collect();

        for ns in &self.namespaces {
            if let Some(name) = &ns.metadata.name {
                inv.namespaces.insert(
                    name.clone(),
                    NamespaceInfo {
                        labels: ns.metadata.labels.clone().unwrap_or_default(),
                        annotations: ns.metadata.annotations.clone().unwrap_or_default(),
                    },
                );
            }
        }

        for pod in &self.pods {
            let Some(info) = pod_info(pod, &rs_owner, &job_owner) else {
                continue;
            };
            let id = info.workload.clone();
            let (wns, wname) = id.split_once('/').unwrap_or(("", &id));
            let kind = workload_kind(pod, &rs_owner, &job_owner);
            let entry = inv
                .workloads
                .entry(id.clone())
                .or_insert_with(|| WorkloadInfo {
                    namespace: wns.to_string(),
                    name: wname.to_string(),
                    kind,
                    app: label_any(&info.labels, &["app", "app.kubernetes.io/name"]),
                    version: label_any(&info.labels, &["version", "app.kubernetes.io/version"]),
                    service_account: info.service_account.clone(),
                    meshed: false,
                    pods: 0,
                    pod_labels: info.labels.clone(),
                });
            entry.pods += 1;
            entry.meshed |= info.proxy.is_some();
            inv.namespaces.entry(info.namespace.clone()).or_default();
            inv.pods.push(info);
        }

        // Workloads without pods (scaled to zero, or pods not collected).
        let controllers = self
            .deployments
            .iter()
            .map(|d| {
                (
                    &d.metadata,
                    "Deployment",
                    d.spec.as_ref().and_then(|s| s.template.metadata.as_ref()),
                )
            })
            .chain(self.stateful_sets.iter().map(|d| {
                (
                    &d.metadata,
                    "StatefulSet",
                    d.spec.as_ref().and_then(|s| s.template.metadata.as_ref()),
                )
            }))
            .chain(self.daemon_sets.iter().map(|d| {
                (
                    &d.metadata,
                    "DaemonSet",
                    d.spec.as_ref().and_then(|s| s.template.metadata.as_ref()),
                )
            }));
        for (meta, kind, template) in controllers {
            let (Some(name), ns) = (
                meta.name.clone(),
                meta.namespace.clone().unwrap_or_else(|| "default".into()),
            ) else {
                continue;
            };
            if let Some(cp) = control_plane(&name) {
                inv.control_planes.push((cp, format!("{ns}/{name}")));
            }
            let labels = template.and_then(|t| t.labels.clone()).unwrap_or_default();
            let annotations = template
                .and_then(|t| t.annotations.clone())
                .unwrap_or_default();
            let id = format!("{ns}/{name}");
            inv.workloads.entry(id).or_insert_with(|| WorkloadInfo {
                namespace: ns.clone(),
                name: name.clone(),
                kind: kind.to_string(),
                app: label_any(&labels, &["app", "app.kubernetes.io/name"]),
                version: label_any(&labels, &["version", "app.kubernetes.io/version"]),
                service_account: None,
                meshed: annotations
                    .get("sidecar.istio.io/inject")
                    .map(String::as_str)
                    == Some("true")
                    || annotations.get("linkerd.io/inject").map(String::as_str) == Some("enabled"),
                pods: 0,
                pod_labels: labels,
            });
            inv.namespaces.entry(ns).or_default();
        }

        let slices = endpoint_counts(&self.endpoint_slices);
        for svc in &self.services {
            let Some(name) = svc.metadata.name.clone() else {
                continue;
            };
            let namespace = svc
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into());
            let spec = svc.spec.as_ref();
            let endpoints = slices.get(&(namespace.clone(), name.clone())).copied();
            inv.services.push(ServiceInfo {
                namespace,
                name,
                selector: spec.and_then(|s| s.selector.clone()).unwrap_or_default(),
                cluster_ip: spec.and_then(|s| s.cluster_ip.clone()),
                ports: spec
                    .and_then(|s| s.ports.as_ref())
                    .map(|ps| {
                        ps.iter()
                            .filter_map(|p| u16::try_from(p.port).ok())
                            .collect()
                    })
                    .unwrap_or_default(),
                endpoints,
            });
        }
        inv.other_objects = self.other;
        inv.reindex();
        (inv, self.problems)
    }
}

/// Endpoints per Service `(namespace, name)`, from the slices' owner label
/// `kubernetes.io/service-name`; an endpoint counts as ready unless its
/// `ready` condition is false (unset means ready, as kube-proxy reads it).
pub fn endpoint_counts(slices: &[EndpointSlice]) -> BTreeMap<(String, String), EndpointCount> {
    let mut out: BTreeMap<(String, String), EndpointCount> = BTreeMap::new();
    for s in slices {
        let Some(svc) = s
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/service-name"))
        else {
            continue;
        };
        let ns = s
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let c = out.entry((ns, svc.clone())).or_default();
        for e in &s.endpoints {
            let ready = e.conditions.as_ref().and_then(|c| c.ready) != Some(false);
            if ready {
                c.ready += 1;
            } else {
                c.not_ready += 1;
            }
        }
    }
    out
}

fn control_plane(deployment: &str) -> Option<MeshKind> {
    match deployment {
        "istiod" => Some(MeshKind::Istio),
        "linkerd-destination" | "linkerd-identity" | "linkerd-proxy-injector" => {
            Some(MeshKind::Linkerd)
        }
        _ => None,
    }
}

fn label_any(labels: &BTreeMap<String, String>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| labels.get(*k).cloned())
}

fn controller_of(owners: Option<&[OwnerReference]>) -> Option<&OwnerReference> {
    let owners = owners?;
    owners
        .iter()
        .find(|o| o.controller == Some(true))
        .or_else(|| owners.first())
}

/// The owning workload of a pod: (kind, name).
fn owner_workload(
    pod: &Pod,
    rs_owner: &BTreeMap<(String, String), OwnerReference>,
    job_owner: &BTreeMap<(String, String), OwnerReference>,
) -> Option<(String, String)> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let owner = controller_of(pod.metadata.owner_references.as_deref())?;
    match owner.kind.as_str() {
        "ReplicaSet" => match rs_owner.get(&(ns, owner.name.clone())) {
            Some(o) => Some((o.kind.clone(), o.name.clone())),
            None => {
                // The ReplicaSet was not collected: strip its pod-template-hash.
                let hash = pod
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("pod-template-hash"));
                let name = match hash {
                    Some(h) => owner
                        .name
                        .strip_suffix(&format!("-{h}"))
                        .unwrap_or(&owner.name)
                        .to_string(),
                    None => owner.name.clone(),
                };
                Some(("Deployment".into(), name))
            }
        },
        "Job" => match job_owner.get(&(ns, owner.name.clone())) {
            Some(o) => Some((o.kind.clone(), o.name.clone())),
            None => Some(("Job".into(), owner.name.clone())),
        },
        _ => Some((owner.kind.clone(), owner.name.clone())),
    }
}

fn workload_kind(
    pod: &Pod,
    rs_owner: &BTreeMap<(String, String), OwnerReference>,
    job_owner: &BTreeMap<(String, String), OwnerReference>,
) -> String {
    owner_workload(pod, rs_owner, job_owner)
        .map(|(k, _)| k)
        .unwrap_or_else(|| "Pod".into())
}

/// The proxy a pod runs, and its version.
pub fn pod_proxy(pod: &Pod) -> Option<(ProxyKind, Option<String>)> {
    let spec = pod.spec.as_ref()?;
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    for c in containers {
        let image_tag = c
            .image
            .as_deref()
            .and_then(|i| i.rsplit_once(':'))
            .map(|(_, t)| t.to_string());
        match c.name.as_str() {
            "istio-proxy" => return Some((ProxyKind::Istio, image_tag)),
            "linkerd-proxy" => {
                let v = pod
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("linkerd.io/proxy-version").cloned())
                    .or(image_tag);
                return Some((ProxyKind::Linkerd, v));
            }
            "envoy"
            | "envoy-sidecar"
            | "consul-dataplane"
            | "consul-connect-envoy-sidecar"
            | "kuma-sidecar" => return Some((ProxyKind::Envoy, image_tag)),
            _ => {}
        }
    }
    None
}

fn pod_info(
    pod: &Pod,
    rs_owner: &BTreeMap<(String, String), OwnerReference>,
    job_owner: &BTreeMap<(String, String), OwnerReference>,
) -> Option<PodInfo> {
    let name = pod.metadata.name.clone()?;
    let namespace = pod
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    let workload_name = match owner_workload(pod, rs_owner, job_owner) {
        Some((_, n)) => n,
        None => match (labels.get("app"), labels.get("version")) {
            (Some(app), Some(v)) => format!("{app}-{v}"),
            (Some(app), None) => app.clone(),
            _ => name.clone(),
        },
    };
    let proxy = pod_proxy(pod);
    Some(PodInfo {
        workload: format!("{namespace}/{workload_name}"),
        namespace,
        name,
        ip: pod.status.as_ref().and_then(|s| s.pod_ip.clone()),
        service_account: pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone()),
        labels,
        proxy: proxy.as_ref().map(|(k, _)| *k),
        proxy_version: proxy.and_then(|(_, v)| v),
        phase: pod.status.as_ref().and_then(|s| s.phase.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, owner: Option<(&str, &str)>, labels: Value, containers: &[&str]) -> Value {
        let mut meta = json!({"name": name, "namespace": "default", "labels": labels});
        if let Some((k, n)) = owner {
            meta["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": k, "name": n, "uid": "u", "controller": true}]);
        }
        let cs: Vec<Value> = containers
            .iter()
            .map(|c| json!({"name": c, "image": format!("img/{c}:1.2.3")}))
            .collect();
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": cs, "serviceAccountName": "sa"}})
    }

    #[test]
    fn owner_chain_and_fallbacks() {
        let mut set = ObjectSet::default();
        set.add(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "reviews-v2-abc123", "namespace": "default",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "reviews-v2", "uid": "d", "controller": true}]}}));
        set.add(pod(
            "reviews-v2-abc123-xyz12",
            Some(("ReplicaSet", "reviews-v2-abc123")),
            json!({"app": "reviews", "version": "v2"}),
            &["reviews", "istio-proxy"],
        ));
        // ReplicaSet missing: strip the hash.
        set.add(pod(
            "ratings-v1-9f8e7d-aaaaa",
            Some(("ReplicaSet", "ratings-v1-9f8e7d")),
            json!({"app": "ratings", "pod-template-hash": "9f8e7d"}),
            &["ratings"],
        ));
        set.add(pod(
            "db-0",
            Some(("StatefulSet", "db")),
            json!({}),
            &["db", "linkerd-proxy"],
        ));
        set.add(pod(
            "bare",
            None,
            json!({"app": "sleep", "version": "v1"}),
            &["sleep"],
        ));
        set.add(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}));
        let (inv, problems) = set.into_inventory();
        assert!(problems.is_empty(), "{problems:?}");
        let ids: Vec<&str> = inv.workloads.keys().map(String::as_str).collect();
        assert_eq!(
            ids,
            vec![
                "default/db",
                "default/ratings-v1",
                "default/reviews-v2",
                "default/sleep-v1"
            ]
        );
        let rv2 = &inv.workloads["default/reviews-v2"];
        assert_eq!(rv2.kind, "Deployment");
        assert!(rv2.meshed);
        assert_eq!(rv2.app.as_deref(), Some("reviews"));
        assert_eq!(
            inv.pod("default", "db-0").and_then(|p| p.proxy),
            Some(ProxyKind::Linkerd)
        );
        assert!(!inv.workloads["default/ratings-v1"].meshed);
        assert_eq!(inv.mesh_kind(), MeshKind::Mixed);
        assert!(inv.other_objects.is_empty(), "secrets are dropped");
    }

    #[test]
    fn lists_are_expanded_and_bad_objects_reported() {
        let mut set = ObjectSet::default();
        set.add(json!({"apiVersion": "v1", "kind": "PodList", "items": [
            {"metadata": {"name": "a", "namespace": "x"}, "spec": {"containers": []}}
        ]}));
        set.add(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad", "namespace": "x"}, "spec": {"ports": "nope"}}));
        let (inv, problems) = set.into_inventory();
        assert_eq!(inv.pods.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].object.contains("Service x/bad"), "{problems:?}");
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoint_slices_count_ready_endpoints_per_service() {
        let mut set = ObjectSet::default();
        set.add(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "reviews", "namespace": "default"},
            "spec": {"selector": {"app": "reviews"}, "ports": [{"port": 9080}]}}));
        set.add(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "idle", "namespace": "default"}, "spec": {}}));
        // Two slices of one Service: ready true, ready unset, ready false.
        for (name, eps) in [
            (
                "reviews-a",
                json!([{"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
                                 {"addresses": ["10.0.0.2"]}]),
            ),
            (
                "reviews-b",
                json!([{"addresses": ["10.0.0.3"], "conditions": {"ready": false, "terminating": true}}]),
            ),
        ] {
            set.add(
                json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": name, "namespace": "default",
                    "labels": {"kubernetes.io/service-name": "reviews"}},
                "addressType": "IPv4", "endpoints": eps}),
            );
        }
        let (inv, problems) = set.into_inventory();
        assert!(problems.is_empty(), "{problems:?}");
        let by = |n: &str| inv.services.iter().find(|s| s.name == n).unwrap().endpoints;
        assert_eq!(
            by("reviews"),
            Some(EndpointCount {
                ready: 2,
                not_ready: 1
            })
        );
        assert_eq!(by("idle"), None);
        assert!(
            inv.other_objects.is_empty(),
            "slices are read, not kept as other objects"
        );
    }
}
