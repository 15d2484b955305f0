//! Gateway API `HTTPRoute` / `GRPCRoute` (and Linkerd's `policy.linkerd.io`
//! HTTPRoute): weighted `backendRefs` on Service parents (GAMMA), or
//! authorization routes on a Linkerd Server.

use serde_json::{Value, json};

use crate::analyze::index::Idx;
use crate::analyze::index::service_workloads;
use crate::analyze::model::{Backend, Model, Orphan, Route, namespace_of, resource_id};

/// Read one HTTPRoute or GRPCRoute.
pub fn read_route(obj: &Value, all: &[&Value], inv: &Idx, m: &mut Model) {
    let ns = namespace_of(obj);
    let id = resource_id(obj);
    let parents: Vec<&Value> = obj["spec"]["parentRefs"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let mut missing = Vec::new();
    for p in &parents {
        if p["kind"].as_str() == Some("Server") {
            let pns = p["namespace"].as_str().unwrap_or(&ns);
            let found = all.iter().any(|o| {
                o["kind"].as_str() == Some("Server")
                    && namespace_of(o) == pns
                    && o["metadata"]["name"] == p["name"]
            });
            if !found {
                missing.push(format!(
                    "parent Server {}",
                    p["name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    let service_parent = parents.iter().find_map(|p| {
        (p["kind"].as_str() == Some("Service")).then(|| {
            format!(
                "{}/{}",
                p["namespace"].as_str().unwrap_or(&ns),
                p["name"].as_str().unwrap_or("")
            )
        })
    });
    let rules = obj["spec"]["rules"].as_array().cloned().unwrap_or_default();
    let comparable = rules.len() == 1 && rules[0]["matches"].is_null();
    let mut rules_json = Vec::new();
    for r in &rules {
        let refs = r["backendRefs"].as_array().cloned().unwrap_or_default();
        let mut backends = Vec::new();
        for b in &refs {
            let bns = b["namespace"].as_str().unwrap_or(&ns);
            let name = b["name"].as_str().unwrap_or("?");
            let svc = format!("{bns}/{name}");
            let ws = service_workloads(inv, &svc, &Value::Null);
            let weight = b["weight"].as_f64().unwrap_or(1.0);
            if ws.is_empty() && weight > 0.0 && b["kind"].as_str().unwrap_or("Service") == "Service"
            {
                missing.push(format!("backend {svc} (no pods)"));
            }
            backends.push(Backend {
                name: name.to_string(),
                weight,
                workloads: ws,
            });
        }
        rules_json.push(json!(
            backends
                .iter()
                .map(|b| json!({"name": b.name, "weight": b.weight, "workloads": b.workloads}))
                .collect::<Vec<_>>()
        ));
        if let Some(svc) = &service_parent
            && backends.len() > 1
        {
            m.routes.push(Route {
                resource: id.clone(),
                service: Some(svc.clone()),
                backends,
                comparable,
            });
        }
    }
    if !missing.is_empty() {
        m.orphans.push(Orphan {
            resource: id.clone(),
            referenced: true,
            what: missing.join(", "),
        });
    }
    m.route_entries
        .push(json!({"resource": id, "understood": true, "parents": parents, "rules": rules_json}));
}
