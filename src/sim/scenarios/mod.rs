//! The built-in scenarios and the small builder they share.

pub mod bookinfo;
pub mod boutique;
pub mod emojivoto;
pub mod scale;

use serde_json::Value;

use super::scenario::{
    Backend, ContainerPort, Edge, Imperfection, InboundPolicy, Latency, MeshKind, Namespace,
    Outcome, Protocol, Scenario, Service, ServicePort, Target, Workload, WorkloadKind,
};

/// An HTTP failure outcome.
pub(crate) fn http_err(share: f64, status: u16, flags: &'static str) -> Outcome {
    Outcome {
        share,
        http_status: status,
        grpc_status: None,
        response_flags: flags,
    }
}

/// A gRPC failure outcome (HTTP 200 with a non-OK `grpc-status`).
pub(crate) fn grpc_err(share: f64, code: u8) -> Outcome {
    Outcome {
        share,
        http_status: 200,
        grpc_status: Some(code),
        response_flags: "-",
    }
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// Accumulates a scenario; indices returned by its methods refer to its vectors.
pub(crate) struct Builder {
    mesh: MeshKind,
    namespaces: Vec<Namespace>,
    workloads: Vec<Workload>,
    services: Vec<Service>,
    edges: Vec<Edge>,
    declared: Vec<Value>,
    imperfections: Vec<Imperfection>,
    /// Cache: workloads selected by each service (filled on first edge).
    selected: Vec<Option<Vec<usize>>>,
}

impl Builder {
    pub(crate) fn new(mesh: MeshKind) -> Self {
        Self {
            mesh,
            namespaces: Vec::new(),
            workloads: Vec::new(),
            services: Vec::new(),
            edges: Vec::new(),
            declared: Vec::new(),
            imperfections: Vec::new(),
            selected: Vec::new(),
        }
    }

    /// A namespace; `injected` adds the mesh's injection label/annotation.
    pub(crate) fn namespace(&mut self, name: &str, injected: bool) {
        let mut ns = Namespace {
            name: name.to_string(),
            labels: vec![("kubernetes.io/metadata.name".to_string(), name.to_string())],
            annotations: Vec::new(),
        };
        if injected {
            match self.mesh {
                MeshKind::Istio => ns
                    .labels
                    .push(("istio-injection".to_string(), "enabled".to_string())),
                MeshKind::Linkerd => ns
                    .annotations
                    .push(("linkerd.io/inject".to_string(), "enabled".to_string())),
            }
        }
        self.namespaces.push(ns);
    }

    fn namespace_injected(&self, name: &str) -> bool {
        self.namespaces.iter().any(|n| {
            n.name == name
                && (n
                    .labels
                    .iter()
                    .any(|(k, v)| k == "istio-injection" && v == "enabled")
                    || n.annotations
                        .iter()
                        .any(|(k, v)| k == "linkerd.io/inject" && v == "enabled"))
        })
    }

    /// A Deployment with `app`/`version` pod labels; meshed when its namespace is injected.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn workload(
        &mut self,
        ns: &str,
        name: &str,
        app: &str,
        version: Option<&str>,
        sa: &str,
        replicas: u32,
        ports: &[(&str, u16)],
        image: &str,
    ) -> usize {
        let mut labels = vec![("app".to_string(), app.to_string())];
        if let Some(v) = version {
            labels.push(("version".to_string(), v.to_string()));
        }
        self.workloads.push(Workload {
            namespace: ns.to_string(),
            name: name.to_string(),
            app: app.to_string(),
            version: version.map(str::to_string),
            service_account: sa.to_string(),
            replicas,
            kind: WorkloadKind::Deployment,
            meshed: self.namespace_injected(ns),
            ports: ports
                .iter()
                .map(|(n, p)| ContainerPort {
                    name: (*n).to_string(),
                    port: *p,
                })
                .collect(),
            controller_labels: labels.clone(),
            labels,
            annotations: Vec::new(),
            image: image.to_string(),
            control_plane: false,
        });
        self.workloads.len() - 1
    }

    /// Mutable access to a workload, to adjust labels, kind or meshing.
    pub(crate) fn w(&mut self, idx: usize) -> &mut Workload {
        &mut self.workloads[idx]
    }

    /// Opt a workload out of the mesh with the mesh's own annotation.
    pub(crate) fn unmesh(&mut self, idx: usize) {
        let mesh = self.mesh;
        let w = &mut self.workloads[idx];
        w.meshed = false;
        let (k, v) = match mesh {
            MeshKind::Istio => ("sidecar.istio.io/inject", "false"),
            MeshKind::Linkerd => ("linkerd.io/inject", "disabled"),
        };
        w.annotations.push((k.to_string(), v.to_string()));
    }

    /// A control-plane workload (listed in the cluster, no scraped proxy).
    pub(crate) fn control_plane(
        &mut self,
        ns: &str,
        name: &str,
        sa: &str,
        image: &str,
        labels: &[(&str, &str)],
    ) {
        let idx = self.workload(ns, name, name, None, sa, 1, &[], image);
        let w = &mut self.workloads[idx];
        w.meshed = false;
        w.control_plane = true;
        w.labels = owned(labels);
        w.controller_labels = owned(labels);
    }

    /// A ClusterIP Service; `ports` are (name, port, targetPort, appProtocol).
    pub(crate) fn service(
        &mut self,
        ns: &str,
        name: &str,
        selector: &[(&str, &str)],
        ports: &[(&str, u16, u16, Option<&str>)],
    ) -> usize {
        self.services.push(Service {
            namespace: ns.to_string(),
            name: name.to_string(),
            selector: owned(selector),
            ports: ports
                .iter()
                .map(|(n, p, t, a)| ServicePort {
                    name: (*n).to_string(),
                    port: *p,
                    target_port: *t,
                    app_protocol: a.map(str::to_string),
                })
                .collect(),
        });
        self.services.len() - 1
    }

    /// An edge to a Service; traffic spreads over the selected workloads in
    /// proportion to their replicas (i.e. evenly across pods).
    pub(crate) fn edge(
        &mut self,
        from: usize,
        svc: usize,
        protocol: Protocol,
        rps: f64,
        median_ms: f64,
    ) -> usize {
        let s = &self.services[svc];
        let port = s.ports.first().map_or(80, |p| p.port);
        if self.selected.len() <= svc {
            self.selected.resize(svc + 1, None);
        }
        let selected: Vec<usize> = match &self.selected[svc] {
            Some(v) => v.clone(),
            None => {
                let v: Vec<usize> = (0..self.workloads.len())
                    .filter(|&i| {
                        let w = &self.workloads[i];
                        w.namespace == s.namespace
                            && !s.selector.is_empty()
                            && s.selector
                                .iter()
                                .all(|(k, v)| w.labels.iter().any(|(a, b)| a == k && b == v))
                    })
                    .collect();
                self.selected[svc] = Some(v.clone());
                v
            }
        };
        let total: f64 = selected
            .iter()
            .map(|&i| f64::from(self.workloads[i].replicas))
            .sum();
        let backends = selected
            .iter()
            .map(|&i| Backend {
                workload: i,
                share: f64::from(self.workloads[i].replicas) / total.max(1.0),
            })
            .collect();
        self.push_edge(
            from,
            Target::Service { service: svc, port },
            backends,
            protocol,
            rps,
            median_ms,
        )
    }

    /// An egress edge to a host outside the mesh.
    pub(crate) fn egress(
        &mut self,
        from: usize,
        host: &str,
        port: u16,
        protocol: Protocol,
        rps: f64,
        median_ms: f64,
    ) -> usize {
        let target = Target::External {
            host: host.to_string(),
            port,
        };
        self.push_edge(from, target, Vec::new(), protocol, rps, median_ms)
    }

    fn push_edge(
        &mut self,
        from: usize,
        target: Target,
        backends: Vec<Backend>,
        protocol: Protocol,
        rps: f64,
        median_ms: f64,
    ) -> usize {
        let (req, resp) = match protocol {
            Protocol::Http => (420.0, 3_100.0),
            Protocol::Grpc => (96.0, 640.0),
            Protocol::Tcp => (180.0, 260.0),
        };
        self.edges.push(Edge {
            from,
            target,
            backends,
            protocol,
            rps,
            errors: Vec::new(),
            latency: Latency {
                median_ms,
                sigma: 0.6,
            },
            mtls: false,
            request_bytes: req,
            response_bytes: resp,
            inbound_policy: None,
        });
        self.edges.len() - 1
    }

    /// Replace an edge's per-workload traffic shares.
    pub(crate) fn shares(&mut self, edge: usize, shares: &[(usize, f64)]) {
        self.edges[edge].backends = shares
            .iter()
            .map(|&(workload, share)| Backend { workload, share })
            .collect();
    }

    /// Add a failure outcome to an edge.
    pub(crate) fn fail(&mut self, edge: usize, outcome: Outcome) {
        self.edges[edge].errors.push(outcome);
    }

    /// Set the Linkerd Server/authorization that admits an edge.
    pub(crate) fn policy(&mut self, edge: usize, server: &str, authz_kind: &str, authz_name: &str) {
        self.edges[edge].inbound_policy = Some(InboundPolicy {
            server: server.to_string(),
            authz_kind: authz_kind.to_string(),
            authz_name: authz_name.to_string(),
        });
    }

    /// Set an edge's latency spread.
    pub(crate) fn sigma(&mut self, edge: usize, sigma: f64) {
        self.edges[edge].latency.sigma = sigma;
    }

    /// Add a declared mesh object.
    pub(crate) fn declare(&mut self, obj: Value) {
        self.declared.push(obj);
    }

    /// Record a planted imperfection.
    pub(crate) fn plant(&mut self, kind: &str, subject: &str, description: &str) {
        self.imperfections.push(Imperfection {
            kind: kind.to_string(),
            subject: subject.to_string(),
            description: description.to_string(),
        });
    }

    /// Finish: an edge is mTLS when caller and every backend carry a proxy.
    /// Multiply every edge's rate: the demo scenarios run under load, so
    /// that even their smallest edge carries enough requests for a 1 s
    /// window to measure its rate within a few percent (counters are
    /// integers: one request more or less is 1/(rps·window)).
    pub(crate) fn scale_rates(&mut self, factor: f64) {
        for e in &mut self.edges {
            e.rps *= factor;
        }
    }

    pub(crate) fn finish(mut self, name: &str) -> Scenario {
        for e in &mut self.edges {
            e.mtls = self.workloads[e.from].meshed
                && !e.backends.is_empty()
                && e.backends.iter().all(|b| self.workloads[b.workload].meshed);
        }
        Scenario::assemble(
            name,
            self.mesh,
            self.namespaces,
            self.workloads,
            self.services,
            self.edges,
            self.declared,
            self.imperfections,
        )
    }
}
