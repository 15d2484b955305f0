//! Discovery documents: `/version`, `/api`, `/apis`, `/api/v1`,
//! `/apis/<group>/<version>`, legacy and aggregated (apidiscovery.k8s.io/v2).

use serde_json::{Value, json};

use super::resources::{Catalog, ResourceDef, VERBS};

/// Content type of an aggregated discovery answer.
pub(crate) const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether the Accept header asks for aggregated discovery v2 (kubectl and
/// `Discovery::run_aggregated` do; both fall back to plain answers).
pub(crate) fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let params: Vec<&str> = range.split(';').map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

/// `GET /version`.
pub(crate) fn version_info(git_version: &str) -> Value {
    let minor = git_version
        .trim_start_matches('v')
        .split('.')
        .nth(1)
        .unwrap_or("33")
        .to_string();
    json!({
        "major": "1",
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `GET /api` (legacy).
pub(crate) fn api_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}],
    })
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    json!({
        "name": group,
        "versions": versions.iter().map(gv).collect::<Vec<_>>(),
        "preferredVersion": versions.first().map(gv).unwrap_or(Value::Null),
    })
}

/// `GET /apis` (legacy APIGroupList).
pub(crate) fn api_group_list(catalog: &Catalog) -> Value {
    let groups: Vec<Value> = catalog
        .groups()
        .iter()
        .map(|(g, vs)| group_json(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/<group>` (APIGroup), `None` when the group is unknown.
pub(crate) fn api_group(catalog: &Catalog, group: &str) -> Option<Value> {
    let groups = catalog.groups();
    let (g, vs) = groups.iter().find(|(g, _)| g == group)?;
    let mut doc = group_json(g, vs);
    if let Some(map) = doc.as_object_mut() {
        map.insert("kind".into(), json!("APIGroup"));
        map.insert("apiVersion".into(), json!("v1"));
    }
    Some(doc)
}

fn resource_json(d: &ResourceDef) -> Vec<Value> {
    let mut out = vec![json!({
        "name": d.plural,
        "singularName": d.singular,
        "namespaced": d.namespaced,
        "kind": d.kind,
        "verbs": VERBS,
        "shortNames": d.short_names,
        "categories": d.categories,
    })];
    for sub in &d.subresources {
        let (kind, verbs) = match sub.as_str() {
            "proxy" => ("PodProxyOptions", vec!["get"]),
            _ => (d.kind.as_str(), vec!["get"]),
        };
        out.push(json!({
            "name": format!("{}/{sub}", d.plural),
            "singularName": "",
            "namespaced": d.namespaced,
            "kind": kind,
            "verbs": verbs,
        }));
    }
    out
}

/// `GET /api/v1` or `/apis/<group>/<version>` (APIResourceList), `None` when unknown.
pub(crate) fn api_resource_list(catalog: &Catalog, group: &str, version: &str) -> Option<Value> {
    let defs: Vec<&ResourceDef> = catalog.in_group_version(group, version).collect();
    if defs.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let resources: Vec<Value> = defs.into_iter().flat_map(resource_json).collect();
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn aggregated_resource(d: &ResourceDef) -> Value {
    let gvk = |kind: &str| json!({"group": d.group, "version": d.version, "kind": kind});
    let subs: Vec<Value> = d
        .subresources
        .iter()
        .map(|s| {
            let kind = if s == "proxy" {
                "PodProxyOptions"
            } else {
                d.kind.as_str()
            };
            json!({"subresource": s, "responseKind": gvk(kind), "verbs": ["get"]})
        })
        .collect();
    json!({
        "resource": d.plural,
        "responseKind": gvk(&d.kind),
        "scope": if d.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": d.singular,
        "verbs": VERBS,
        "shortNames": d.short_names,
        "categories": d.categories,
        "subresources": subs,
    })
}

fn aggregated_group(catalog: &Catalog, group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            let resources: Vec<Value> = catalog
                .in_group_version(group, v)
                .map(aggregated_resource)
                .collect();
            json!({"version": v, "resources": resources, "freshness": "Current"})
        })
        .collect();
    json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
}

/// Aggregated discovery for `/api` (`core = true`) or `/apis`.
pub(crate) fn aggregated(catalog: &Catalog, core: bool) -> Value {
    let items: Vec<Value> = if core {
        vec![aggregated_group(catalog, "", &["v1".to_string()])]
    } else {
        catalog
            .groups()
            .iter()
            .map(|(g, vs)| aggregated_group(catalog, g, vs))
            .collect()
    };
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_detection() {
        assert!(wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated("application/json"));
        assert!(!wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        ));
    }
}
