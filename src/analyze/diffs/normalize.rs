//! What "the same rule" means: an object with everything the API server
//! sets or defaults removed, so the declared copy and the live copy compare
//! equal when only the server touched them.

use serde_json::{Map, Value};

/// `metadata` fields the API server sets; never part of a diff.
pub const SERVER_METADATA: [&str; 7] = [
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionGracePeriodSeconds",
];

/// Annotations written by clients as bookkeeping, not as intent.
pub const BOOKKEEPING_ANNOTATIONS: [&str; 1] = ["kubectl.kubernetes.io/last-applied-configuration"];

/// The API group of an object (`networking.istio.io`; `""` for core).
pub fn group(obj: &Value) -> &str {
    let av = obj["apiVersion"].as_str().unwrap_or("");
    av.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The object without `status`, the server-set metadata, the bookkeeping
/// annotations, `null` members and members that are empty maps or empty
/// lists (Kubernetes omits both, so `labels: {}` equals no labels), with
/// `metadata.namespace` set to `namespace` (manifests often leave it to
/// `kubectl -n` or kustomize) and integral floats written as integers
/// (`weight: 80.0` equals `weight: 80`). Map keys come out sorted; list
/// order is kept, as Kubernetes gives it meaning.
pub fn normalize(obj: &Value, namespace: &str) -> Value {
    let mut v = obj.clone();
    if let Some(top) = v.as_object_mut() {
        top.remove("status");
        if let Some(meta) = top.get_mut("metadata").and_then(Value::as_object_mut) {
            for f in SERVER_METADATA {
                meta.remove(f);
            }
            if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                for a in BOOKKEEPING_ANNOTATIONS {
                    ann.remove(a);
                }
            }
            meta.insert("namespace".into(), Value::String(namespace.to_string()));
        }
    }
    prune(&mut v);
    v
}

/// Drop null and empty members of every map, depth first; canonicalise
/// integral floats.
fn prune(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for child in m.values_mut() {
                prune(child);
            }
            m.retain(|_, c| !is_empty(c));
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                // Exact: |f| < 2^53.
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *v = Value::from(i);
            }
        }
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The normalized object with its top-level keys in the usual manifest
/// order (`apiVersion`, `kind`, `metadata`, `spec`, then the rest sorted),
/// as (key, value) pairs for rendering.
pub fn ordered(v: &Value) -> Vec<(&str, &Value)> {
    const FIRST: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];
    let Some(m) = v.as_object() else {
        return Vec::new();
    };
    let mut out: Vec<(&str, &Value)> = FIRST
        .iter()
        .filter_map(|k| m.get(*k).map(|x| (*k, x)))
        .collect();
    out.extend(
        m.iter()
            .filter(|(k, _)| !FIRST.contains(&k.as_str()))
            .map(|(k, x)| (k.as_str(), x)),
    );
    out
}

/// A one-member map, for rendering one top-level key.
pub fn single(key: &str, v: &Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), v.clone());
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_fields_and_empty_maps_go() {
        let live = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "r", "namespace": "ns", "uid": "u", "resourceVersion": "7",
                "generation": 3, "creationTimestamp": "2024-01-01T00:00:00Z",
                "managedFields": [{"manager": "kubectl"}], "labels": {},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"hosts": ["r"], "gateways": [], "x": null, "w": 80.0},
            "status": {"observedGeneration": 3}});
        let declared = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "r"}, "spec": {"w": 80, "hosts": ["r"]}});
        assert_eq!(normalize(&live, "ns"), normalize(&declared, "ns"));
    }

    #[test]
    fn list_order_matters_key_order_does_not() {
        let a = json!({"spec": {"hosts": ["a", "b"], "x": {"p": 1, "q": 2}}});
        let b = json!({"spec": {"x": {"q": 2, "p": 1}, "hosts": ["a", "b"]}});
        let c = json!({"spec": {"hosts": ["b", "a"], "x": {"p": 1, "q": 2}}});
        assert_eq!(normalize(&a, "n"), normalize(&b, "n"));
        assert_ne!(normalize(&a, "n"), normalize(&c, "n"));
    }

    #[test]
    fn group_of_core_and_crd() {
        assert_eq!(group(&json!({"apiVersion": "v1"})), "");
        assert_eq!(
            group(&json!({"apiVersion": "policy.linkerd.io/v1beta3"})),
            "policy.linkerd.io"
        );
    }
}
