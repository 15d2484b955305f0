//! Services found in the cluster and reached through a kube-rs
//! port-forward: the mesh's own Prometheus (`--prometheus auto`: the
//! Service `istio-system/prometheus`, `linkerd-viz/prometheus`, or any
//! Service labelled `app.kubernetes.io/name=prometheus`) and a tracing
//! query API (`--traces auto`, [`TRACING`]). One running pod behind the
//! Service; a loopback listener whose every connection is a port-forward
//! stream to that pod. Only GETs (and the port-forward's upgrade) go to
//! the API.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Client;
use kube::api::{Api, ListParams};

use crate::collect::kube::Scope;
use crate::collect::live::describe_kube_error;

/// Well-known homes of a mesh's Prometheus, tried in this order.
pub const WELL_KNOWN: [(&str, &str); 2] = [
    ("istio-system", "prometheus"),
    ("linkerd-viz", "prometheus"),
];

/// The label other installs (kube-prometheus, the Helm chart) carry.
pub const LABEL: &str = "app.kubernetes.io/name=prometheus";

/// What to look for in the cluster and how to reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// What it is, in messages (`Prometheus`, `tracing query API`).
    pub what: &'static str,
    /// The flag that names it instead (`--prometheus`), in messages.
    pub flag: &'static str,
    /// `(namespace, name)` of Services, tried first, in this order.
    pub well_known: &'static [(&'static str, &'static str)],
    /// Service names tried next, in any namespace in scope, in this order.
    pub names: &'static [&'static str],
    /// Label selectors of Services tried last.
    pub labels: &'static [&'static str],
    /// Words a Service port's name may contain, best first (else the first port).
    pub port_hints: &'static [&'static str],
    /// The pod port when the Service says nothing.
    pub default_port: u16,
}

/// The mesh's Prometheus (`--prometheus auto`).
pub const PROMETHEUS: Wanted = Wanted {
    what: "Prometheus",
    flag: "--prometheus URL",
    well_known: &WELL_KNOWN,
    names: &[],
    labels: &[LABEL],
    port_hints: &["web", "http"],
    default_port: 9090,
};

/// A tracing query API (`--traces auto`): Istio's Jaeger addon
/// (`istio-system/tracing`), then `jaeger-query`, `zipkin` or `tempo`
/// Services in any namespace.
pub const TRACING: Wanted = Wanted {
    what: "tracing query API",
    flag: "--traces URL",
    well_known: &[("istio-system", "tracing")],
    names: &[
        "jaeger-query",
        "tracing",
        "zipkin",
        "tempo",
        "tempo-query-frontend",
    ],
    labels: &[],
    port_hints: &["query", "http"],
    default_port: 16686,
};

impl Wanted {
    /// Where it was looked for, as a phrase.
    pub fn looked_for(&self) -> String {
        let mut s = String::from("services ");
        s.push_str(
            &self
                .well_known
                .iter()
                .map(|(ns, n)| format!("{ns}/{n}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        if !self.names.is_empty() {
            s.push_str(&format!(
                " and services named {} in any namespace",
                self.names.join(", ")
            ));
        }
        for l in self.labels {
            s.push_str(&format!(" and services labelled {l}"));
        }
        s
    }
}

/// Why nothing could be used.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error(
        "no {what} found in the cluster: looked for {looked_for}{}; pass {flag}",
        if problems.is_empty() { String::new() } else { format!(" ({})", problems.join("; ")) }
    )]
    NotFound {
        what: &'static str,
        looked_for: String,
        flag: &'static str,
        problems: Vec<String>,
    },
    #[error("service {service} has no running pod behind it (selector {selector})")]
    NoPod { service: String, selector: String },
    #[error("cannot listen on loopback for the port-forward: {0}")]
    Listen(std::io::Error),
}

/// A service found in the cluster: where it is and how it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `namespace/name` of the Service.
    pub service: String,
    pub namespace: String,
    pub pod: String,
    /// The pod's port the Service sends to.
    pub port: u16,
}

fn selector_string(sel: &BTreeMap<String, String>) -> String {
    sel.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The pod port a Prometheus Service port sends to ([`target_port_for`]).
pub fn target_port(svc: &Service, pod: &Pod) -> u16 {
    target_port_for(svc, pod, &PROMETHEUS)
}

/// The pod port a Service port sends to: the port whose name contains the
/// first of `wanted.port_hints` found (else the first port); a named
/// targetPort is looked up in the pod's containers; `default_port` when
/// nothing says.
pub fn target_port_for(svc: &Service, pod: &Pod, wanted: &Wanted) -> u16 {
    let dflt = wanted.default_port;
    let ports = svc.spec.as_ref().and_then(|s| s.ports.as_ref());
    let port = ports.and_then(|ps| {
        wanted
            .port_hints
            .iter()
            .find_map(|h| {
                ps.iter()
                    .find(|p| p.name.as_deref().is_some_and(|n| n.contains(h)))
            })
            .or_else(|| ps.first())
    });
    let Some(port) = port else {
        return dflt;
    };
    match &port.target_port {
        Some(IntOrString::Int(n)) => u16::try_from(*n).unwrap_or(dflt),
        Some(IntOrString::String(name)) => pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .unwrap_or(dflt),
        None => u16::try_from(port.port).unwrap_or(dflt),
    }
}

async fn candidates(
    client: &Client,
    scope: &Scope,
    wanted: &Wanted,
) -> (Vec<Service>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (ns, name) in wanted.well_known {
        match Api::<Service>::namespaced(client.clone(), ns)
            .get_opt(name)
            .await
        {
            Ok(Some(s)) => out.push(s),
            Ok(None) => {}
            Err(e) => problems.push(format!(
                "get service {ns}/{name}: {}",
                describe_kube_error(&e)
            )),
        }
    }
    let api: Api<Service> = match scope {
        Scope::All => Api::all(client.clone()),
        Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
    };
    if !wanted.names.is_empty() {
        match api.list(&ListParams::default()).await {
            Ok(list) => {
                for name in wanted.names {
                    out.extend(
                        list.items
                            .iter()
                            .filter(|s| s.metadata.name.as_deref() == Some(name))
                            .cloned(),
                    );
                }
            }
            Err(e) => problems.push(format!("list services: {}", describe_kube_error(&e))),
        }
    }
    for label in wanted.labels {
        match api.list(&ListParams::default().labels(label)).await {
            Ok(list) => out.extend(list.items),
            Err(e) => problems.push(format!(
                "list services {label}: {}",
                describe_kube_error(&e)
            )),
        }
    }
    (out, problems)
}

/// Find the mesh's Prometheus and one running pod behind it.
pub async fn find(client: &Client, scope: &Scope) -> Result<Found, FindError> {
    find_wanted(client, scope, &PROMETHEUS).await
}

/// Find the first Service matching `wanted` and one running pod behind it.
pub async fn find_wanted(
    client: &Client,
    scope: &Scope,
    wanted: &Wanted,
) -> Result<Found, FindError> {
    let (services, problems) = candidates(client, scope, wanted).await;
    let Some(svc) = services.into_iter().next() else {
        return Err(FindError::NotFound {
            what: wanted.what,
            looked_for: wanted.looked_for(),
            flag: wanted.flag,
            problems,
        });
    };
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let selector = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .unwrap_or_default();
    let sel = selector_string(&selector);
    let no_pod = || FindError::NoPod {
        service: format!("{ns}/{name}"),
        selector: sel.clone(),
    };
    if selector.is_empty() {
        return Err(no_pod());
    }
    let pods = Api::<Pod>::namespaced(client.clone(), &ns)
        .list(&ListParams::default().labels(&sel))
        .await
        .map_err(|_| no_pod())?;
    let pod = pods
        .items
        .into_iter()
        .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .ok_or_else(no_pod)?;
    Ok(Found {
        service: format!("{ns}/{name}"),
        namespace: ns,
        port: target_port_for(&svc, &pod, wanted),
        pod: pod.metadata.name.unwrap_or_default(),
    })
}

/// A running port-forward: `url` reaches the pod's port while it lives.
pub struct Forward {
    pub url: String,
    pub found: Found,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Listen on a free loopback port; every connection becomes a port-forward
/// stream to the found pod.
pub async fn forward(client: &Client, found: Found) -> Result<Forward, FindError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(FindError::Listen)?;
    let addr = listener.local_addr().map_err(FindError::Listen)?;
    let api: Api<Pod> = Api::namespaced(client.clone(), &found.namespace);
    let (pod, port) = (found.pod.clone(), found.port);
    let task = tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let (api, pod) = (api.clone(), pod.clone());
            tokio::spawn(async move {
                let Ok(mut pf) = api.portforward(&pod, &[port]).await else {
                    return;
                };
                let Some(mut upstream) = pf.take_stream(port) else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
                drop(upstream);
                let _ = pf.join().await;
            });
        }
    });
    Ok(Forward {
        url: format!("http://{addr}"),
        found,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn target_port_follows_names_and_numbers() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "prometheus", "ports": [{"name": "web", "containerPort": 9091}]}]}
        }))
        .unwrap();
        let svc = |ports: serde_json::Value| -> Service {
            serde_json::from_value(json!({"metadata": {"name": "s"}, "spec": {"ports": ports}}))
                .unwrap()
        };
        assert_eq!(
            target_port(&svc(json!([{"port": 9090, "targetPort": "web"}])), &pod),
            9091
        );
        assert_eq!(
            target_port(&svc(json!([{"port": 80, "targetPort": 9092}])), &pod),
            9092
        );
        assert_eq!(target_port(&svc(json!([{"port": 9093}])), &pod), 9093);
        assert_eq!(
            target_port(
                &svc(
                    json!([{"name": "grpc", "port": 1, "targetPort": 1}, {"name": "http-web", "port": 9090, "targetPort": 9094}])
                ),
                &pod
            ),
            9094
        );
        assert_eq!(target_port(&svc(json!([])), &pod), 9090);
    }
}
