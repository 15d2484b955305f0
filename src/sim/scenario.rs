//! The scenario data model: what the simulated cluster runs, how its workloads
//! call each other, what the operators declared, and which imperfections were
//! planted on purpose (so tests and demos can check that meshscope finds them).

use serde_json::Value;

use super::rng;
use super::scenarios;

/// Which service mesh the scenario runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeshKind {
    /// Istio with Envoy sidecars (`istio-proxy`, metrics on :15090).
    Istio,
    /// Linkerd with `linkerd2-proxy` sidecars (metrics on :4191).
    Linkerd,
}

impl MeshKind {
    /// `"istio"` or `"linkerd"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MeshKind::Istio => "istio",
            MeshKind::Linkerd => "linkerd",
        }
    }
}

/// The application protocol of an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 or HTTP/2 without gRPC.
    Http,
    /// gRPC over HTTP/2.
    Grpc,
    /// Opaque TCP.
    Tcp,
}

impl Protocol {
    /// `"http"`, `"grpc"` or `"tcp"` (Istio's `request_protocol` values).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Tcp => "tcp",
        }
    }
}

/// The controller kind of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// apps/v1 Deployment (pods owned through a ReplicaSet).
    Deployment,
    /// apps/v1 StatefulSet (pods `<name>-<ordinal>`).
    StatefulSet,
}

/// A namespace with its injection labels/annotations.
#[derive(Debug, Clone)]
pub struct Namespace {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
}

/// A named container port.
#[derive(Debug, Clone)]
pub struct ContainerPort {
    pub name: String,
    pub port: u16,
}

/// A workload (Deployment or StatefulSet) and its pod template essentials.
#[derive(Debug, Clone)]
pub struct Workload {
    pub namespace: String,
    /// The controller name, e.g. `reviews-v2`.
    pub name: String,
    /// The `app` label value.
    pub app: String,
    /// The `version` label value, when the workload has one.
    pub version: Option<String>,
    pub service_account: String,
    pub replicas: u32,
    pub kind: WorkloadKind,
    /// Whether the pods carry the mesh's sidecar proxy.
    pub meshed: bool,
    pub ports: Vec<ContainerPort>,
    /// Pod template labels (include `app` and, when set, `version`).
    pub labels: Vec<(String, String)>,
    /// Labels on the controller object itself.
    pub controller_labels: Vec<(String, String)>,
    /// Pod template annotations (e.g. `sidecar.istio.io/inject: "false"`).
    pub annotations: Vec<(String, String)>,
    pub image: String,
    /// Part of the mesh's control plane (istiod, linkerd-destination...).
    pub control_plane: bool,
}

/// A Service port.
#[derive(Debug, Clone)]
pub struct ServicePort {
    pub name: String,
    pub port: u16,
    pub target_port: u16,
    pub app_protocol: Option<String>,
}

/// A Kubernetes Service.
#[derive(Debug, Clone)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    pub selector: Vec<(String, String)>,
    pub ports: Vec<ServicePort>,
}

impl Service {
    /// `<name>.<namespace>.svc.cluster.local`.
    pub fn fqdn(&self) -> String {
        format!("{}.{}.svc.cluster.local", self.name, self.namespace)
    }
}

/// One non-default outcome of an edge's requests and its share of them.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Share of the edge's requests in `[0, 1]`.
    pub share: f64,
    /// The HTTP status (gRPC calls fail with 200 and a gRPC status).
    pub http_status: u16,
    /// The gRPC status code, for gRPC edges.
    pub grpc_status: Option<u8>,
    /// Envoy response flags (`-` when none).
    pub response_flags: &'static str,
}

/// A log-normal latency distribution.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub median_ms: f64,
    pub sigma: f64,
}

/// Where an edge goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// A Service of the cluster (index into [`Scenario::services`]) and port.
    Service { service: usize, port: u16 },
    /// A host outside the mesh (egress).
    External { host: String, port: u16 },
}

/// One workload behind an edge's service and the share of the edge's traffic
/// that actually reaches it.
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    pub workload: usize,
    pub share: f64,
}

/// A caller workload → service (or external host) traffic flow.
#[derive(Debug, Clone)]
pub struct Edge {
    /// The calling workload (index into [`Scenario::workloads`]).
    pub from: usize,
    pub target: Target,
    /// Empty for external targets; shares sum to 1 otherwise.
    pub backends: Vec<Backend>,
    pub protocol: Protocol,
    /// Requests (or, for TCP, connections) per second, whole edge.
    pub rps: f64,
    /// Failure outcomes with their shares; the rest succeed.
    pub errors: Vec<Outcome>,
    pub latency: Latency,
    /// Whether the traffic travels over mutual TLS.
    pub mtls: bool,
    /// Mean request / response sizes in bytes.
    pub request_bytes: f64,
    pub response_bytes: f64,
    /// Linkerd: the inbound policy that admits this edge (`None`: the
    /// cluster default, `all-unauthenticated`).
    pub inbound_policy: Option<InboundPolicy>,
}

/// Which Linkerd Server and authorization admit an edge on the server side.
#[derive(Debug, Clone)]
pub struct InboundPolicy {
    /// The `policy.linkerd.io` Server name.
    pub server: String,
    /// `authorizationpolicy`, or `default` for audit/default decisions.
    pub authz_kind: String,
    /// The AuthorizationPolicy name, or the default policy (`audit`).
    pub authz_name: String,
}

impl Edge {
    /// The host of an external target, if this is an egress call.
    pub fn external_host(&self) -> Option<&str> {
        match &self.target {
            Target::External { host, .. } => Some(host),
            Target::Service { .. } => None,
        }
    }
}

/// A flaw planted on purpose, using the gap kinds of CONTRACT.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imperfection {
    /// `split_drift`, `undeclared_edge`, `unobserved_edge`, `mtls_gap`, `failing_edge`.
    pub kind: String,
    /// `namespace/workload -> namespace/workload`, or `Kind/namespace/name` for a resource.
    pub subject: String,
    pub description: String,
}

/// One pod of a workload.
#[derive(Debug, Clone)]
pub struct Pod {
    pub workload: usize,
    pub namespace: String,
    /// e.g. `reviews-v2-7d9f8c6b5d-x4kzq` or `redis-0`.
    pub name: String,
    pub ip: String,
    /// The ReplicaSet's `pod-template-hash`, for Deployments.
    pub template_hash: Option<String>,
}

/// A complete simulated mesh.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The spec it was loaded from, e.g. `bookinfo` or `scale:200`.
    pub name: String,
    pub mesh: MeshKind,
    /// The seed everything random derives from.
    pub seed: u64,
    /// The scenario epoch (unix millis); traffic times are relative to it.
    pub epoch_ms: u64,
    pub namespaces: Vec<Namespace>,
    pub workloads: Vec<Workload>,
    pub services: Vec<Service>,
    pub edges: Vec<Edge>,
    /// Declared mesh objects (VirtualService, PeerAuthentication, Server, ...).
    pub declared: Vec<Value>,
    pub imperfections: Vec<Imperfection>,
    /// Every pod, in workload order.
    pub pods: Vec<Pod>,
    /// Per workload: indices of the edges it calls.
    pub out_edges: Vec<Vec<usize>>,
    /// Per workload: (edge, backend index) pairs it serves.
    pub in_edges: Vec<Vec<(usize, usize)>>,
    /// Per workload: indices into [`Scenario::pods`].
    pub workload_pods: Vec<Vec<usize>>,
}

/// A scenario spec that could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScenarioError {
    #[error(
        "unknown scenario {0:?}: expected one of bookinfo, emojivoto, boutique, scale:N (N >= 1)"
    )]
    Unknown(String),
    #[error(
        "bad scale in scenario {spec:?}: {reason}; expected scale:N with N a whole number >= 1 (accepted: bookinfo, emojivoto, boutique, scale:N)"
    )]
    BadScale { spec: String, reason: String },
}

/// Load a scenario by spec: `bookinfo`, `emojivoto`, `boutique` or `scale:N`.
pub fn load(spec: &str) -> Result<Scenario, ScenarioError> {
    let trimmed = spec.trim();
    match trimmed {
        "bookinfo" => Ok(scenarios::bookinfo::build()),
        "emojivoto" => Ok(scenarios::emojivoto::build()),
        "boutique" => Ok(scenarios::boutique::build()),
        _ => {
            if let Some(n) = trimmed.strip_prefix("scale:") {
                let n: usize = n.parse().map_err(|e| ScenarioError::BadScale {
                    spec: spec.to_string(),
                    reason: format!("{n:?} is not a number ({e})"),
                })?;
                if n == 0 {
                    return Err(ScenarioError::BadScale {
                        spec: spec.to_string(),
                        reason: "N must be at least 1".to_string(),
                    });
                }
                if n > 100_000 {
                    return Err(ScenarioError::BadScale {
                        spec: spec.to_string(),
                        reason: format!("N = {n} is more than the 100000 supported"),
                    });
                }
                Ok(scenarios::scale::build(n))
            } else {
                Err(ScenarioError::Unknown(spec.to_string()))
            }
        }
    }
}

impl Scenario {
    /// Assemble a scenario and derive pods and indices.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn assemble(
        name: &str,
        mesh: MeshKind,
        namespaces: Vec<Namespace>,
        workloads: Vec<Workload>,
        services: Vec<Service>,
        edges: Vec<Edge>,
        declared: Vec<Value>,
        imperfections: Vec<Imperfection>,
    ) -> Scenario {
        let seed = rng::hash(0x6d65_7368, &[name]);
        let mut pods = Vec::new();
        let mut workload_pods = Vec::with_capacity(workloads.len());
        for (wi, w) in workloads.iter().enumerate() {
            let mut ids = Vec::new();
            let template_hash = match w.kind {
                WorkloadKind::Deployment => {
                    let h = rng::hash(seed, &[&w.namespace, &w.name, "rs"]);
                    Some(rng::k8s_suffix(h, 10))
                }
                WorkloadKind::StatefulSet => None,
            };
            for i in 0..w.replicas {
                let pod_name = match &template_hash {
                    Some(th) => {
                        let h = rng::hash(seed, &[&w.namespace, &w.name, &i.to_string()]);
                        format!("{}-{}-{}", w.name, th, rng::k8s_suffix(h, 5))
                    }
                    None => format!("{}-{}", w.name, i),
                };
                let n = pods.len() + 10;
                ids.push(pods.len());
                pods.push(Pod {
                    workload: wi,
                    namespace: w.namespace.clone(),
                    name: pod_name,
                    ip: format!("10.244.{}.{}", n / 250, n % 250 + 2),
                    template_hash: template_hash.clone(),
                });
            }
            workload_pods.push(ids);
        }
        let mut out_edges = vec![Vec::new(); workloads.len()];
        let mut in_edges = vec![Vec::new(); workloads.len()];
        for (ei, e) in edges.iter().enumerate() {
            out_edges[e.from].push(ei);
            for (bi, b) in e.backends.iter().enumerate() {
                in_edges[b.workload].push((ei, bi));
            }
        }
        Scenario {
            name: name.to_string(),
            mesh,
            seed,
            epoch_ms: EPOCH_MS,
            namespaces,
            workloads,
            services,
            edges,
            declared,
            imperfections,
            pods,
            out_edges,
            in_edges,
            workload_pods,
        }
    }

    /// The workload index by namespace and name.
    pub fn workload_index(&self, namespace: &str, name: &str) -> Option<usize> {
        self.workloads
            .iter()
            .position(|w| w.namespace == namespace && w.name == name)
    }

    /// The service index by namespace and name.
    pub fn service_index(&self, namespace: &str, name: &str) -> Option<usize> {
        self.services
            .iter()
            .position(|s| s.namespace == namespace && s.name == name)
    }

    /// Pods that carry a sidecar proxy (the ones with a metrics endpoint).
    pub fn meshed_pods(&self) -> impl Iterator<Item = &Pod> {
        self.pods
            .iter()
            .filter(|p| self.workloads[p.workload].meshed)
    }

    /// The pod by namespace and name.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<&Pod> {
        self.pods
            .iter()
            .find(|p| p.namespace == namespace && p.name == name)
    }

    /// The edge from workload `from` to service `service` (by names).
    pub fn edge_between(&self, from: &str, service: &str) -> Option<&Edge> {
        self.edges.iter().find(|e| {
            let w = &self.workloads[e.from];
            let src = format!("{}/{}", w.namespace, w.name);
            let dst = match &e.target {
                Target::Service { service, .. } => {
                    let s = &self.services[*service];
                    format!("{}/{}", s.namespace, s.name)
                }
                Target::External { host, .. } => host.clone(),
            };
            src == from && dst == service
        })
    }

    /// The SPIFFE-style identity Istio gives a workload.
    pub fn spiffe(&self, workload: usize) -> String {
        let w = &self.workloads[workload];
        format!(
            "spiffe://cluster.local/ns/{}/sa/{}",
            w.namespace, w.service_account
        )
    }

    /// The identity name Linkerd gives a workload.
    pub fn linkerd_identity(&self, workload: usize) -> String {
        let w = &self.workloads[workload];
        format!(
            "{}.{}.serviceaccount.identity.linkerd.cluster.local",
            w.service_account, w.namespace
        )
    }
}

/// The scenario epoch: 2026-01-05T09:00:00Z in unix milliseconds.
pub const EPOCH_MS: u64 = 1_767_603_600_000;

impl Scenario {
    /// The same workloads and traffic on another mesh (`demo --mesh`): the
    /// injection markers are rewritten, declared objects of the other mesh are
    /// dropped, and only the imperfections that do not depend on them are kept
    /// (`failing_edge`, `mtls_gap`).
    pub fn with_mesh(mut self, mesh: MeshKind) -> Scenario {
        if mesh == self.mesh {
            return self;
        }
        let (old_ns, old_pod, new_ns, new_pod) = match mesh {
            MeshKind::Linkerd => (
                "istio-injection",
                "sidecar.istio.io/inject",
                "linkerd.io/inject",
                "linkerd.io/inject",
            ),
            MeshKind::Istio => (
                "linkerd.io/inject",
                "linkerd.io/inject",
                "istio-injection",
                "sidecar.istio.io/inject",
            ),
        };
        for ns in &mut self.namespaces {
            let injected = ns
                .labels
                .iter()
                .chain(&ns.annotations)
                .any(|(k, v)| k == old_ns && v == "enabled");
            ns.labels.retain(|(k, _)| k != old_ns);
            ns.annotations.retain(|(k, _)| k != old_ns);
            if injected {
                let entry = (new_ns.to_string(), "enabled".to_string());
                match mesh {
                    MeshKind::Istio => ns.labels.push(entry),
                    MeshKind::Linkerd => ns.annotations.push(entry),
                }
            }
        }
        for w in &mut self.workloads {
            if w.annotations.iter().any(|(k, _)| k == old_pod) {
                w.annotations.retain(|(k, _)| k != old_pod);
                let v = if mesh == MeshKind::Istio {
                    "false"
                } else {
                    "disabled"
                };
                w.annotations.push((new_pod.to_string(), v.to_string()));
            }
        }
        for e in &mut self.edges {
            e.inbound_policy = None;
        }
        let group = |o: &Value| o["apiVersion"].as_str().unwrap_or("").to_string();
        self.declared.retain(|o| {
            let g = group(o);
            match mesh {
                MeshKind::Istio => g.contains("istio.io"),
                MeshKind::Linkerd => g.contains("linkerd.io") || g.contains("smi-spec.io"),
            }
        });
        self.imperfections
            .retain(|i| i.kind == "failing_edge" || i.kind == "mtls_gap");
        self.mesh = mesh;
        self
    }
}
