//! Istio `VirtualService` (weighted http routes over DestinationRule
//! subsets), `DestinationRule` (subsets, `trafficPolicy.tls.mode`) and
//! `ServiceEntry` (declared external hosts).

use serde_json::{Value, json};

use crate::analyze::index::{resolve_host, service_workloads};
use crate::analyze::model::{Backend, Model, Orphan, Route, namespace_of, resource_id};
use crate::model::inventory::Inventory;

/// The subsets (name → labels) DestinationRules declare for a Service.
fn subset_labels(drs: &[&Value], inv: &Inventory, svc: &str, subset: &str) -> Option<Value> {
    drs.iter().find_map(|dr| {
        let host = dr["spec"]["host"].as_str()?;
        (resolve_host(inv, &namespace_of(dr), host).as_deref() == Some(svc)).then_some(())?;
        dr["spec"]["subsets"]
            .as_array()?
            .iter()
            .find(|s| s["name"].as_str() == Some(subset))
            .map(|s| s["labels"].clone())
    })
}

/// Read every VirtualService (needs the DestinationRules for subsets).
pub fn read_virtual_service(obj: &Value, drs: &[&Value], inv: &Inventory, m: &mut Model) {
    let ns = namespace_of(obj);
    let id = resource_id(obj);
    let http = obj["spec"]["http"].as_array().cloned().unwrap_or_default();
    let comparable = http.len() == 1 && http[0]["match"].is_null();
    let mut routes_json = Vec::new();
    let mut missing = Vec::new();
    for (i, rule) in http.iter().enumerate() {
        let dests = rule["route"].as_array().cloned().unwrap_or_default();
        let single = dests.len() == 1;
        let mut backends = Vec::new();
        let mut service = None;
        for d in &dests {
            let host = d["destination"]["host"].as_str().unwrap_or("");
            let svc = resolve_host(inv, &ns, host);
            let subset = d["destination"]["subset"].as_str();
            let weight = d["weight"]
                .as_f64()
                .unwrap_or(if single { 100.0 } else { 0.0 });
            let (name, workloads) = match (&svc, subset) {
                (Some(s), Some(sub)) => match subset_labels(drs, inv, s, sub) {
                    Some(labels) => (format!("subset {sub}"), service_workloads(inv, s, &labels)),
                    None => {
                        missing.push(format!(
                            "subset {sub} of {host} (no DestinationRule defines it)"
                        ));
                        (format!("subset {sub}"), Vec::new())
                    }
                },
                (Some(s), None) => (host.to_string(), service_workloads(inv, s, &Value::Null)),
                (None, _) => (host.to_string(), Vec::new()),
            };
            if svc.is_some() && workloads.is_empty() && weight > 0.0 && !name.starts_with("subset")
            {
                missing.push(format!("host {host} (no pods)"));
            }
            if service.is_none() {
                service = svc;
            }
            backends.push(Backend {
                name,
                weight,
                workloads,
            });
        }
        routes_json.push(json!({"rule": i, "service": service, "backends": backends.iter()
            .map(|b| json!({"name": b.name, "weight": b.weight, "workloads": b.workloads})).collect::<Vec<_>>()}));
        if service.is_some() && backends.len() > 1 {
            m.routes.push(Route {
                resource: id.clone(),
                service,
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
        .push(json!({"resource": id, "understood": true,
        "hosts": obj["spec"]["hosts"], "gateways": obj["spec"]["gateways"], "http": routes_json}));
}

/// Read a DestinationRule: subsets selecting no pods, TLS disabled.
pub fn read_destination_rule(obj: &Value, vss: &[&Value], inv: &Inventory, m: &mut Model) {
    let ns = namespace_of(obj);
    let id = resource_id(obj);
    let host = obj["spec"]["host"].as_str().unwrap_or("");
    let svc = resolve_host(inv, &ns, host);
    let mut empty = Vec::new();
    let mut referenced = false;
    let mut subsets = Vec::new();
    if let Some(svc) = &svc {
        for s in obj["spec"]["subsets"].as_array().into_iter().flatten() {
            let name = s["name"].as_str().unwrap_or("?");
            let ws = service_workloads(inv, svc, &s["labels"]);
            if ws.is_empty() {
                referenced |= vss.iter().any(|vs| routes_to(vs, inv, svc, name));
                empty.push(name.to_string());
            }
            subsets.push(json!({"name": name, "workloads": ws}));
        }
        let tls = obj["spec"]["trafficPolicy"]["tls"]["mode"].as_str();
        if tls == Some("DISABLE") {
            m.tls_disabled
                .push((id.clone(), service_workloads(inv, svc, &Value::Null)));
        }
    }
    if !empty.is_empty() {
        m.orphans.push(Orphan {
            resource: id.clone(),
            referenced,
            what: format!("subset(s) {} of {host}", empty.join(", ")),
        });
    }
    m.route_entries.push(
        json!({"resource": id, "understood": true, "host": host, "service": svc,
        "subsets": subsets, "tls_mode": obj["spec"]["trafficPolicy"]["tls"]["mode"]}),
    );
}

fn routes_to(vs: &Value, inv: &Inventory, svc: &str, subset: &str) -> bool {
    let ns = namespace_of(vs);
    vs["spec"]["http"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| {
            r["route"].as_array().into_iter().flatten().any(|d| {
                d["destination"]["subset"].as_str() == Some(subset)
                    && d["weight"].as_f64().unwrap_or(100.0) > 0.0
                    && d["destination"]["host"]
                        .as_str()
                        .and_then(|h| resolve_host(inv, &ns, h))
                        .as_deref()
                        == Some(svc)
            })
        })
}

/// Read a ServiceEntry: its hosts become declared external destinations.
pub fn read_service_entry(obj: &Value, m: &mut Model) {
    let hosts: Vec<String> = obj["spec"]["hosts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    m.external_hosts.extend(hosts.iter().cloned());
    m.route_entries.push(
        json!({"resource": resource_id(obj), "understood": true, "hosts": hosts,
        "location": obj["spec"]["location"]}),
    );
}
