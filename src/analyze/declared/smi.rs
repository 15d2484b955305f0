//! SMI `TrafficSplit` (v1alpha1–v1alpha4) and `TrafficTarget` (access).

use serde_json::{Value, json};

use crate::analyze::index::Idx;
use crate::analyze::index::{service_workloads, workloads_with_identity};
use crate::analyze::model::{
    AccessRule, Action, Backend, Model, Orphan, Peer, Route, SourceSpec, namespace_of, resource_id,
};

/// A TrafficSplit weight: a number, or a quantity string (`500m`, `1`).
pub fn weight(v: &Value) -> f64 {
    if let Some(f) = v.as_f64() {
        return f;
    }
    let s = v.as_str().unwrap_or("0");
    match s.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().map(|x| x / 1000.0).unwrap_or(0.0),
        None => s.parse().unwrap_or(0.0),
    }
}

/// Read a TrafficSplit.
pub fn read_traffic_split(obj: &Value, inv: &Idx, m: &mut Model) {
    let ns = namespace_of(obj);
    let id = resource_id(obj);
    let root = obj["spec"]["service"].as_str().unwrap_or("");
    let root_svc = inv
        .service(&ns, root)
        .map(|s| format!("{}/{}", s.namespace, s.name));
    let mut backends = Vec::new();
    let mut empty = Vec::new();
    for b in obj["spec"]["backends"].as_array().into_iter().flatten() {
        let name = b["service"].as_str().unwrap_or("?");
        let w = weight(&b["weight"]);
        let ws = service_workloads(inv, &format!("{ns}/{name}"), &Value::Null);
        if ws.is_empty() && w > 0.0 {
            empty.push(name.to_string());
        }
        backends.push(Backend {
            name: name.to_string(),
            weight: w,
            workloads: ws,
        });
    }
    if !empty.is_empty() {
        m.orphans.push(Orphan {
            resource: id.clone(),
            referenced: true,
            what: format!("backend service(s) {}", empty.join(", ")),
        });
    }
    m.route_entries.push(json!({"resource": id, "understood": true, "service": root_svc,
        "backends": backends.iter().map(|b| json!({"name": b.name, "weight": b.weight, "workloads": b.workloads})).collect::<Vec<_>>()}));
    if root_svc.is_some() && !backends.is_empty() {
        m.routes.push(Route {
            resource: id,
            service: root_svc,
            backends,
            comparable: true,
        });
    }
}

/// Read a TrafficTarget: the destination service account's workloads may be
/// called by the source service accounts.
pub fn read_traffic_target(obj: &Value, inv: &Idx, m: &mut Model) {
    let ns = namespace_of(obj);
    let d = &obj["spec"]["destination"];
    let dns = d["namespace"].as_str().unwrap_or(&ns);
    let targets = workloads_with_identity(inv, dns, d["name"].as_str().unwrap_or(""));
    let peers: Vec<Peer> = obj["spec"]["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let sns = s["namespace"].as_str().unwrap_or(&ns);
            Peer::Principal(format!(
                "cluster.local/ns/{sns}/sa/{}",
                s["name"].as_str().unwrap_or("*")
            ))
        })
        .collect();
    let rule = AccessRule {
        resource: resource_id(obj),
        action: Action::Allow,
        enforced: true,
        targets,
        from: vec![SourceSpec {
            all: vec![(true, peers)],
        }],
    };
    m.policy_entries.push(rule.entry());
    m.access.push(rule);
}
