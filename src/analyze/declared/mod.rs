//! Readers for each family of declarations, one file per family, and
//! [`build_model`], which turns a pile of objects into the [`Model`].

pub mod gateway;
pub mod istio_authz;
pub mod istio_peer;
pub mod istio_routes;
pub mod linkerd;
pub mod smi;

use serde_json::{Value, json};

use crate::analyze::index::Idx;
use crate::analyze::intent::IntentRule;
use crate::analyze::model::{AccessRule, Action, Model, Peer, SourceSpec, resource_id};

fn group(o: &Value) -> &str {
    o["apiVersion"].as_str().unwrap_or("")
}

/// Kinds read only as inputs of other kinds (no entry of their own).
const HELPERS: [&str; 4] = [
    "MeshTLSAuthentication",
    "NetworkAuthentication",
    "ServerAuthorization",
    "Gateway",
];

/// Whether an API group (with or without `/version`) is one of the mesh
/// APIs meshscope reads rules from.
fn is_mesh_group(g: &str) -> bool {
    let name = g.split('/').next().unwrap_or(g);
    crate::collect::live::MESH_GROUPS.contains(&name)
}

/// From this many objects on, [`build_model`] reads them on two threads.
const PARALLEL_OBJECTS: usize = 512;

/// Build the declared model from every object and the intent rules.
pub fn build_model(objects: &[&Value], intent: &[IntentRule], inv: &Idx) -> Model {
    let of = |k: &str| -> Vec<&Value> {
        objects
            .iter()
            .copied()
            .filter(|o| o["kind"].as_str() == Some(k))
            .collect()
    };
    let drs = istio_routes::index_drs(&of("DestinationRule"), inv);
    let vss: Vec<&Value> = of("VirtualService");
    // Each object's reading only appends to the model: the two halves of
    // the objects are read on two threads and appended in order, which is
    // the model one pass gives.
    let read = |chunk: &[&Value]| {
        let mut m = Model::default();
        for o in chunk.iter().copied() {
            let g = group(o);
            let k = o["kind"].as_str().unwrap_or("");
            match (k, g) {
                ("AuthorizationPolicy", g) if g.starts_with("security.istio.io") => {
                    match istio_authz::read(o, inv) {
                        Some(rule) => {
                            m.policy_entries.push(rule.entry());
                            m.access.push(rule);
                        }
                        None => m
                            .policy_entries
                            .push(json!({"resource": resource_id(o), "understood": false,
                        "reason": "CUSTOM action (external authorizer)"})),
                    }
                }
                ("PeerAuthentication", _) => {
                    let p = istio_peer::read(o, inv);
                    m.policy_entries.push(istio_peer::entry(&p));
                    m.peer.push(p);
                }
                ("VirtualService", _) => istio_routes::read_virtual_service(o, &drs, inv, &mut m),
                ("DestinationRule", _) => istio_routes::read_destination_rule(o, &vss, inv, &mut m),
                ("ServiceEntry", _) => istio_routes::read_service_entry(o, &mut m),
                ("TrafficSplit", _) => smi::read_traffic_split(o, inv, &mut m),
                ("TrafficTarget", _) => smi::read_traffic_target(o, inv, &mut m),
                ("HTTPRoute" | "GRPCRoute", _) => gateway::read_route(o, objects, inv, &mut m),
                ("Server", g) if g.contains("linkerd") => {}
                ("AuthorizationPolicy", g) if g.contains("linkerd") => {}
                (k, g)
                    if HELPERS.contains(&k) && (g.contains("linkerd") || g.contains("istio")) => {}
                // Other kinds of the mesh APIs are listed as not understood;
                // the rest of the cluster (EndpointSlices, CRDs…) is not a rule.
                (k, g) if is_mesh_group(g) && !k.is_empty() => {
                    m.policy_entries.push(
                        json!({"resource": resource_id(o), "apiVersion": g, "understood": false}),
                    );
                }
                _ => {}
            }
        }
        m
    };
    let (first, second) = objects.split_at(objects.len() / 2);
    let (mut m, rest) = crate::par::join(
        objects.len() >= PARALLEL_OBJECTS,
        || read(first),
        || read(second),
    );
    m.append(rest);
    linkerd::read_servers(objects, inv, &mut m);
    linkerd::read_namespace_defaults(inv, &mut m);
    for r in intent {
        let rule = intent_rule(r, inv);
        m.policy_entries.push(rule.entry());
        m.access.push(rule);
    }
    m.index();
    m
}

fn intent_rule(r: &IntentRule, inv: &Idx) -> AccessRule {
    let targets = match inv.workload(&r.to) {
        Some(_) => vec![r.to.clone()],
        None => crate::analyze::index::service_workloads(inv, &r.to, &Value::Null),
    };
    let from = r
        .from
        .iter()
        .map(|c| {
            if c == "*" {
                return SourceSpec::default();
            }
            let peers = match c.split_once('/') {
                Some((ns, "*")) => vec![Peer::Namespace(ns.to_string())],
                Some((ns, name)) => match inv.workload(c).and_then(|w| w.service_account.clone()) {
                    Some(sa) => vec![Peer::Principal(format!("cluster.local/ns/{ns}/sa/{sa}"))],
                    None => vec![Peer::Principal(format!("cluster.local/ns/{ns}/sa/{name}"))],
                },
                None => vec![Peer::Principal(c.clone())],
            };
            SourceSpec {
                all: vec![(true, peers)],
            }
        })
        .collect();
    AccessRule {
        resource: format!("Intent/{}", r.to),
        action: Action::Allow,
        enforced: false,
        targets,
        from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::inventory::Inventory;

    #[test]
    fn only_mesh_kinds_are_listed_as_not_understood() {
        let objs = [
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": "details-x", "namespace": "default"}}),
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": "virtualservices.networking.istio.io"}}),
            json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
                "metadata": {"name": "lua", "namespace": "default"}}),
        ];
        let refs: Vec<&Value> = objs.iter().collect();
        let inv = Inventory::default();
        let m = build_model(&refs, &[], &Idx::new(&inv));
        let listed: Vec<&str> = m
            .policy_entries
            .iter()
            .filter_map(|e| e["resource"].as_str())
            .collect();
        assert_eq!(listed, ["EnvoyFilter/default/lua"]);
        assert_eq!(m.policy_entries[0]["understood"], false);
    }
}
