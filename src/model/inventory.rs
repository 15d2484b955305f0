//! What the cluster says exists: pods, their workloads, services and
//! namespaces, already converted from Kubernetes objects (see
//! `collect::k8s`). Pure data plus the lookups the dialects need.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::model::ids::NodeRef;
use crate::model::snapshot::MeshKind;

/// The proxy a pod runs, from its containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyKind {
    Istio,
    Linkerd,
    /// Another Envoy-based mesh (Consul, Kuma, OSM…).
    Envoy,
}

impl ProxyKind {
    pub fn mesh(self) -> MeshKind {
        match self {
            ProxyKind::Istio => MeshKind::Istio,
            ProxyKind::Linkerd => MeshKind::Linkerd,
            ProxyKind::Envoy => MeshKind::Envoy,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub ip: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub service_account: Option<String>,
    /// The workload that owns the pod (`namespace/name`).
    pub workload: String,
    pub proxy: Option<ProxyKind>,
    /// The proxy's version, where the pod says (image tag, annotation).
    pub proxy_version: Option<String>,
    pub phase: Option<String>,
}

impl PodInfo {
    /// `namespace/name`: how rounds and scrape sources name the pod.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadInfo {
    pub namespace: String,
    pub name: String,
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob`, `Pod`…
    pub kind: String,
    pub app: Option<String>,
    pub version: Option<String>,
    pub service_account: Option<String>,
    /// Whether any of its pods runs a mesh proxy.
    pub meshed: bool,
    pub pods: usize,
    /// Labels of its pods (the first pod's), for selector matching.
    pub pod_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
    pub selector: BTreeMap<String, String>,
    pub cluster_ip: Option<String>,
    pub ports: Vec<u16>,
    /// The endpoints its EndpointSlices list (`None`: no slice was read).
    pub endpoints: Option<EndpointCount>,
}

/// Endpoints of a Service, summed over its EndpointSlices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointCount {
    /// Ready endpoints (condition `ready` true or unset, as kube-proxy
    /// counts them).
    pub ready: u32,
    /// Endpoints whose `ready` condition is false.
    pub not_ready: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NamespaceInfo {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// Everything known about the cluster's objects.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub pods: Vec<PodInfo>,
    pub workloads: BTreeMap<String, WorkloadInfo>,
    pub services: Vec<ServiceInfo>,
    pub namespaces: BTreeMap<String, NamespaceInfo>,
    /// Mesh and other objects not modelled here (CRDs), kept as read.
    pub other_objects: Vec<serde_json::Value>,
    /// Control-plane deployments seen (`istiod`, `linkerd-destination`…).
    pub control_planes: Vec<(MeshKind, String)>,
    pod_index: FxHashMap<(String, String), usize>,
    service_index: FxHashMap<(String, String), usize>,
}

impl Inventory {
    /// Rebuild the lookup indexes after pods were added or changed.
    pub fn reindex(&mut self) {
        self.pod_index = self
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| ((p.namespace.clone(), p.name.clone()), i))
            .collect();
        self.service_index = self
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.namespace.clone(), s.name.clone()), i))
            .collect();
    }

    pub fn pod(&self, namespace: &str, name: &str) -> Option<&PodInfo> {
        self.pod_index
            .get(&(namespace.to_string(), name.to_string()))
            .map(|&i| &self.pods[i])
    }

    pub fn workload(&self, id: &str) -> Option<&WorkloadInfo> {
        self.workloads.get(id)
    }

    /// The Service `namespace/name`: through the index [`Inventory::reindex`]
    /// builds, or by a scan when services were added since.
    pub fn service(&self, namespace: &str, name: &str) -> Option<&ServiceInfo> {
        let is = |s: &&ServiceInfo| s.namespace == namespace && s.name == name;
        if self.service_index.len() != self.services.len() {
            return self.services.iter().find(is);
        }
        self.service_index
            .get(&(namespace.to_string(), name.to_string()))
            .and_then(|&i| self.services.get(i))
            .filter(is)
    }

    /// The workloads of one namespace, in id order: workloads are keyed
    /// `namespace/name`, so they are one range of the map.
    pub fn workloads_in(&self, ns: &str) -> impl Iterator<Item = (&String, &WorkloadInfo)> {
        let prefix = format!("{ns}/");
        self.workloads
            .range(prefix.clone()..)
            .take_while(move |(id, _)| id.starts_with(&prefix))
    }

    /// The workloads whose pods a Service selects.
    pub fn service_workloads(&self, svc: &ServiceInfo) -> Vec<&WorkloadInfo> {
        if svc.selector.is_empty() {
            return Vec::new();
        }
        self.workloads_in(&svc.namespace)
            .map(|(_, w)| w)
            .filter(|w| {
                w.namespace == svc.namespace
                    && svc
                        .selector
                        .iter()
                        .all(|(k, v)| w.pod_labels.get(k) == Some(v))
            })
            .collect()
    }

    /// The single workload behind a Service, when there is exactly one.
    pub fn sole_workload_of_service(&self, namespace: &str, name: &str) -> Option<NodeRef> {
        let svc = self.service(namespace, name)?;
        match self.service_workloads(svc).as_slice() {
            [w] => Some(NodeRef::workload(&w.namespace, &w.name)),
            _ => None,
        }
    }

    /// The workload of a scraped pod: from the inventory, or guessed from
    /// the pod name (`<deployment>-<hash>-<5 chars>`) when the pod is unknown.
    pub fn workload_of_pod(&self, namespace: &str, pod: &str) -> NodeRef {
        match self.pod(namespace, pod) {
            Some(p) => {
                NodeRef::parse(&p.workload).unwrap_or_else(|| NodeRef::workload(namespace, pod))
            }
            None => NodeRef::workload(namespace, &guess_workload_name(pod)),
        }
    }

    /// The mesh(es) the pods and control planes show.
    pub fn mesh_kind(&self) -> MeshKind {
        let mut kinds: Vec<MeshKind> = self
            .pods
            .iter()
            .filter_map(|p| p.proxy.map(ProxyKind::mesh))
            .chain(self.control_planes.iter().map(|(k, _)| *k))
            .collect();
        kinds.sort_by_key(|k| k.as_str());
        kinds.dedup();
        match kinds.as_slice() {
            [] => MeshKind::None,
            [one] => *one,
            _ => MeshKind::Mixed,
        }
    }

    /// The version of the mesh's proxies, when they agree on one.
    pub fn mesh_version(&self) -> Option<String> {
        let mut versions: Vec<&str> = self
            .pods
            .iter()
            .filter_map(|p| p.proxy_version.as_deref())
            .collect();
        versions.sort_unstable();
        versions.dedup();
        match versions.as_slice() {
            [one] => Some((*one).to_string()),
            _ => None,
        }
    }
}

/// `reviews-v2-5b8c9f7d4-x2x9k` → `reviews-v2`; `web-0` → `web`; otherwise
/// the name itself.
pub fn guess_workload_name(pod: &str) -> String {
    let parts: Vec<&str> = pod.split('-').collect();
    let is_suffix5 = |s: &str| s.len() == 5 && s.chars().all(|c| c.is_ascii_alphanumeric());
    let is_hash =
        |s: &str| (6..=10).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric());
    if parts.len() >= 3 && is_suffix5(parts[parts.len() - 1]) && is_hash(parts[parts.len() - 2]) {
        return parts[..parts.len() - 2].join("-");
    }
    if parts.len() >= 2 && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit()) {
        return parts[..parts.len() - 1].join("-");
    }
    pod.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_workload_names() {
        assert_eq!(
            guess_workload_name("reviews-v2-5b8c9f7d4-x2x9k"),
            "reviews-v2"
        );
        assert_eq!(guess_workload_name("web-0"), "web");
        assert_eq!(guess_workload_name("standalone"), "standalone");
    }
}
