//! Istio `VirtualService` (weighted http routes over DestinationRule
//! subsets), `DestinationRule` (subsets, `trafficPolicy.tls.mode`) and
//! `ServiceEntry` (declared external hosts).

use rustc_hash::FxHashMap;
use serde_json::{Value, json};

use crate::analyze::index::Idx;
use crate::analyze::index::{resolve_host, service_workloads};
use crate::analyze::model::{Backend, Model, Orphan, Route, namespace_of, resource_id};

/// DestinationRules by the Service (`namespace/name`) their host resolves to.
pub type DrIndex<'a> = FxHashMap<String, Vec<&'a Value>>;

/// Index DestinationRules by Service.
pub fn index_drs<'a>(drs: &[&'a Value], inv: &Idx) -> DrIndex<'a> {
    let mut out: DrIndex = FxHashMap::default();
    for dr in drs {
        if let Some(svc) = dr["spec"]["host"]
            .as_str()
            .and_then(|h| resolve_host(inv, &namespace_of(dr), h))
        {
            out.entry(svc).or_default().push(dr);
        }
    }
    out
}

/// The labels of a subset some DestinationRule declares for a Service.
fn subset_labels<'a>(drs: &DrIndex<'a>, svc: &str, subset: &str) -> Option<&'a Value> {
    drs.get(svc)?.iter().find_map(|dr| {
        dr["spec"]["subsets"]
            .as_array()?
            .iter()
            .find(|s| s["name"].as_str() == Some(subset))
            .map(|s| &s["labels"])
    })
}

/// Read every VirtualService (needs the DestinationRules for subsets).
pub fn read_virtual_service(obj: &Value, drs: &DrIndex, inv: &Idx, m: &mut Model) {
    let ns = namespace_of(obj);
    let id = resource_id(obj);
    let http: &[Value] = obj["spec"]["http"].as_array().map_or(&[], Vec::as_slice);
    let comparable = http.len() == 1 && http[0]["match"].is_null();
    let mut routes_json = Vec::new();
    let mut missing = Vec::new();
    for (i, rule) in http.iter().enumerate() {
        let dests: &[Value] = rule["route"].as_array().map_or(&[], Vec::as_slice);
        let single = dests.len() == 1;
        let mut backends = Vec::new();
        let mut service = None;
        for d in dests {
            let host = d["destination"]["host"].as_str().unwrap_or("");
            let svc = resolve_host(inv, &ns, host);
            let subset = d["destination"]["subset"].as_str();
            let weight = d["weight"]
                .as_f64()
                .unwrap_or(if single { 100.0 } else { 0.0 });
            let (name, workloads) = match (&svc, subset) {
                (Some(s), Some(sub)) => match subset_labels(drs, s, sub) {
                    Some(labels) => (format!("subset {sub}"), service_workloads(inv, s, labels)),
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
pub fn read_destination_rule(obj: &Value, vss: &[&Value], inv: &Idx, m: &mut Model) {
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

fn routes_to(vs: &Value, inv: &Idx, svc: &str, subset: &str) -> bool {
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
