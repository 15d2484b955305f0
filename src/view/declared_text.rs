//! One readable line per declared route or policy (the `declared` entries
//! of the snapshot), for the Rules view and the edge detail:
//!
//! `VirtualService default/reviews · hosts reviews · rule 0: subset v1 80% → reviews-v1, subset v2 20% → reviews-v2`
//!
//! Workloads in the rule's own namespace are shown by name; principals
//! `cluster.local/ns/N/sa/S` as `sa N/S`. Fields this module does not know
//! are shown as `key=value`, so nothing the analysis wrote is hidden.

use serde_json::Value;

/// Fields rendered by a dedicated rule below (or deliberately left out).
const KNOWN: [&str; 21] = [
    "resource",
    "understood",
    "reason",
    "apiVersion",
    "action",
    "enforced",
    "mode",
    "scope",
    "port_level",
    "from",
    "targets",
    "host",
    "hosts",
    "gateways",
    "service",
    "subsets",
    "http",
    "backends",
    "tls_mode",
    "last_changed",
    "changed_by",
];

/// The line for one declared entry (or, for a raw manifest, `Kind ns/name`).
pub fn summarize(v: &Value) -> String {
    let Some(resource) = v["resource"].as_str() else {
        return manifest_name(v);
    };
    let (kind, rest) = resource.split_once('/').unwrap_or((resource, ""));
    let own_ns = rest.split_once('/').map(|(ns, _)| ns).unwrap_or("");
    let mut parts = vec![format!("{kind} {rest}")];
    if v["understood"] == false {
        let why = v["reason"]
            .as_str()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        parts.push(format!("not understood{why}"));
    }
    if let Some(a) = v["action"].as_str() {
        let off = if v["enforced"] == false {
            " (not enforced)"
        } else {
            ""
        };
        parts.push(format!("{a}{off}"));
    }
    if let Some(m) = v["mode"].as_str() {
        let scope = v["scope"]
            .as_str()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        parts.push(format!("{m}{scope}"));
    }
    if let Some(ports) = v["port_level"].as_array().filter(|p| !p.is_empty()) {
        parts.push(format!("ports {}", compact_list(ports)));
    }
    if let Some(from) = v["from"].as_array() {
        let who: Vec<String> = from
            .iter()
            .filter_map(Value::as_str)
            .map(principal)
            .collect();
        parts.push(format!("from {}", or_none(&who)));
    }
    if let Some(t) = v["targets"].as_array() {
        parts.push(format!("to {}", or_none(&names(t, own_ns))));
    }
    if let Some(h) = v["host"].as_str() {
        parts.push(format!("host {h}"));
    }
    if let Some(h) = v["hosts"].as_array() {
        parts.push(format!("hosts {}", compact_list(h)));
    }
    if let Some(g) = v["gateways"].as_array() {
        parts.push(format!("gateways {}", compact_list(g)));
    }
    if let Some(subsets) = v["subsets"].as_array() {
        let s: Vec<String> = subsets
            .iter()
            .map(|s| {
                let ws = s["workloads"].as_array().map(|w| names(w, own_ns));
                format!(
                    "{}→{}",
                    s["name"].as_str().unwrap_or("?"),
                    ws.filter(|w| !w.is_empty())
                        .map_or("(no pods)".to_string(), |w| w.join("+"))
                )
            })
            .collect();
        parts.push(format!("subsets {}", or_none(&s)));
    }
    if let Some(t) = v["tls_mode"].as_str() {
        parts.push(format!("tls {t}"));
    }
    if let Some(rules) = v["http"].as_array() {
        for r in rules {
            let n = r["rule"].as_u64().map_or(String::new(), |i| i.to_string());
            let b = r["backends"].as_array().map(|b| backends(b, own_ns));
            parts.push(format!("rule {n}: {}", b.unwrap_or_default()));
        }
    } else if let Some(b) = v["backends"].as_array() {
        let svc = v["service"]
            .as_str()
            .map(|s| format!("{s}: "))
            .unwrap_or_default();
        parts.push(format!("{svc}{}", backends(b, own_ns)));
    }
    if let Some(obj) = v.as_object() {
        for (k, x) in obj {
            if !KNOWN.contains(&k.as_str()) && !x.is_null() {
                parts.push(format!("{k}={}", compact(x)));
            }
        }
    }
    if let Some(at) = v["last_changed"].as_str() {
        let by = v["changed_by"]
            .as_str()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default();
        parts.push(format!("changed {at}{by}"));
    }
    parts.join(" · ")
}

/// `Kind ns/name` of a raw manifest, else its compact JSON.
fn manifest_name(v: &Value) -> String {
    let m = &v["metadata"];
    match (v["kind"].as_str(), m["name"].as_str()) {
        (Some(k), Some(n)) => match m["namespace"].as_str() {
            Some(ns) => format!("{k} {ns}/{n}"),
            None => format!("{k} {n}"),
        },
        _ => compact(v),
    }
}

/// `name 80% → workload` per backend, weights as shares of their sum.
fn backends(b: &[Value], own_ns: &str) -> String {
    let total: f64 = b.iter().filter_map(|x| x["weight"].as_f64()).sum();
    let items: Vec<String> = b
        .iter()
        .map(|x| {
            let name = x["name"].as_str().unwrap_or("?");
            let share = match x["weight"].as_f64() {
                Some(w) if total > 0.0 => format!(" {}%", trim_float(100.0 * w / total)),
                _ => String::new(),
            };
            let ws = x["workloads"].as_array().map(|w| names(w, own_ns));
            let to = ws
                .filter(|w| !w.is_empty())
                .map_or("(no pods)".to_string(), |w| w.join("+"));
            format!("{name}{share} → {to}")
        })
        .collect();
    or_none(&items)
}

fn trim_float(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// Workload ids, without the namespace when it is the rule's own.
fn names(ws: &[Value], own_ns: &str) -> Vec<String> {
    ws.iter()
        .filter_map(Value::as_str)
        .map(|w| match w.split_once('/') {
            Some((ns, name)) if ns == own_ns => name.to_string(),
            _ => w.to_string(),
        })
        .collect()
}

/// `cluster.local/ns/N/sa/S` → `sa N/S` (each alternative of `a | b`).
fn principal(p: &str) -> String {
    p.split(" | ")
        .map(|one| {
            let parts: Vec<&str> = one.split('/').collect();
            match parts.as_slice() {
                [_, "ns", ns, "sa", sa] => format!("sa {ns}/{sa}"),
                _ => one.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        items.join(", ")
    }
}

fn compact_list(v: &[Value]) -> String {
    let items: Vec<String> = v.iter().map(compact).collect();
    or_none(&items)
}

/// A string as itself, anything else as compact JSON.
fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::summarize;
    use serde_json::json;

    #[test]
    fn virtual_service_weights_become_shares() {
        let v = json!({"gateways": null, "hosts": ["reviews"], "http": [{"backends": [
            {"name": "subset v1", "weight": 80.0, "workloads": ["default/reviews-v1"]},
            {"name": "subset v2", "weight": 20.0, "workloads": []}], "rule": 0,
            "service": "default/reviews"}], "resource": "VirtualService/default/reviews",
            "understood": true});
        assert_eq!(
            summarize(&v),
            "VirtualService default/reviews · hosts reviews · rule 0: subset v1 80% → reviews-v1, subset v2 20% → (no pods)"
        );
    }

    #[test]
    fn policies_name_principals_targets_and_enforcement() {
        let v = json!({"action": "ALLOW", "enforced": false,
            "from": ["cluster.local/ns/default/sa/bookinfo-reviews | cluster.local/ns/default/sa/bookinfo-details"],
            "resource": "AuthorizationPolicy/default/ratings-viewer",
            "targets": ["default/ratings-v1", "other/x"], "understood": true,
            "last_changed": "2025-12-29T08:00:26Z", "changed_by": "kubectl"});
        assert_eq!(
            summarize(&v),
            "AuthorizationPolicy default/ratings-viewer · ALLOW (not enforced) · from sa default/bookinfo-reviews | sa default/bookinfo-details · to ratings-v1, other/x · changed 2025-12-29T08:00:26Z by kubectl"
        );
        let pa = json!({"enforced": true, "mode": "STRICT", "port_level": [], "resource":
            "PeerAuthentication/istio-system/default", "scope": "mesh", "targets": null, "understood": true});
        assert_eq!(
            summarize(&pa),
            "PeerAuthentication istio-system/default · STRICT (mesh)"
        );
    }

    #[test]
    fn destination_rules_splits_and_unknown_fields() {
        let dr = json!({"host": "ratings", "resource": "DestinationRule/default/ratings",
            "service": "default/ratings", "subsets": [{"name": "v1", "workloads": ["default/ratings-v1"]},
            {"name": "v2", "workloads": []}], "tls_mode": "DISABLE", "understood": true});
        assert_eq!(
            summarize(&dr),
            "DestinationRule default/ratings · host ratings · subsets v1→ratings-v1, v2→(no pods) · tls DISABLE"
        );
        let ts = json!({"backends": [{"name": "web-stable", "weight": 900.0, "workloads": ["emojivoto/web"]},
            {"name": "web-canary", "weight": 100.0, "workloads": ["emojivoto/web-canary"]}],
            "resource": "TrafficSplit/emojivoto/web-split", "service": "emojivoto/web-svc", "understood": true,
            "access_policy": "audit"});
        assert_eq!(
            summarize(&ts),
            "TrafficSplit emojivoto/web-split · emojivoto/web-svc: web-stable 90% → web, web-canary 10% → web-canary · access_policy=audit"
        );
        let odd = json!({"resource": "EnvoyFilter/default/lua", "apiVersion": "networking.istio.io/v1alpha3",
            "understood": false});
        assert_eq!(summarize(&odd), "EnvoyFilter default/lua · not understood");
        let raw = json!({"kind": "Server", "metadata": {"name": "web", "namespace": "emojivoto"}});
        assert_eq!(summarize(&raw), "Server emojivoto/web");
    }
}
