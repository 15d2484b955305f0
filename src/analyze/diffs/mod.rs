//! Rule diffs: the declared mesh rules (`--declared DIR`, a GitOps
//! repository) against the live ones (the cluster or a bundle), one
//! semantic diff per resource; see docs/rule-diffs.md for the direction
//! (`added` = live only, `removed` = declared only) and what is ignored.

pub mod managed;
pub mod normalize;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::model::snapshot::{Change, DiffSource, RuleDiff};

pub use normalize::{group, normalize};
pub use render::{to_yaml, unified};

/// The mesh rule kinds that are diffed and watched: (API group, kind).
pub const MESH_RULE_KINDS: [(&str, &str); 18] = [
    ("networking.istio.io", "VirtualService"),
    ("networking.istio.io", "DestinationRule"),
    ("networking.istio.io", "ServiceEntry"),
    ("networking.istio.io", "Sidecar"),
    ("security.istio.io", "AuthorizationPolicy"),
    ("security.istio.io", "PeerAuthentication"),
    ("policy.linkerd.io", "Server"),
    ("policy.linkerd.io", "ServerAuthorization"),
    ("policy.linkerd.io", "AuthorizationPolicy"),
    ("policy.linkerd.io", "MeshTLSAuthentication"),
    ("policy.linkerd.io", "NetworkAuthentication"),
    ("policy.linkerd.io", "HTTPRoute"),
    ("split.smi-spec.io", "TrafficSplit"),
    ("access.smi-spec.io", "TrafficTarget"),
    ("gateway.networking.k8s.io", "HTTPRoute"),
    ("gateway.networking.k8s.io", "GRPCRoute"),
    ("specs.smi-spec.io", "HTTPRouteGroup"),
    ("linkerd.io", "ServiceProfile"),
];

/// Is this object a mesh rule (one of [`MESH_RULE_KINDS`])?
pub fn is_mesh_rule(obj: &Value) -> bool {
    let (g, k) = (group(obj), obj["kind"].as_str().unwrap_or(""));
    MESH_RULE_KINDS.iter().any(|(mg, mk)| *mg == g && *mk == k)
}

/// What identifies a rule across copies: (group, kind, namespace, name).
/// The version is not part of it: `v1beta1` in Git and `v1` served live
/// are the same object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleKey {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl RuleKey {
    /// The key of an object (namespace `default` when absent).
    pub fn of(obj: &Value) -> RuleKey {
        RuleKey {
            group: group(obj).to_string(),
            kind: obj["kind"].as_str().unwrap_or("?").to_string(),
            namespace: obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string(),
            name: obj["metadata"]["name"].as_str().unwrap_or("?").to_string(),
        }
    }

    /// `Kind/namespace/name`, the form gaps and declared entries use.
    pub fn resource(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// The normalized YAML of a rule, for diffs; `None` renders as nothing.
pub fn rendering(obj: Option<&Value>) -> String {
    obj.map(|o| to_yaml(&normalize(o, &RuleKey::of(o).namespace)))
        .unwrap_or_default()
}

/// The diff of one rule from `before` to `after` (either may be absent),
/// or `None` when they are the same rule up to server-set fields. With
/// both present and the same API group, `after` is shown with `before`'s
/// `apiVersion`, so a served version change alone is no diff.
pub fn diff_one(
    before: Option<&Value>,
    after: Option<&Value>,
    labels: (&str, &str),
) -> Option<(RuleKey, Change, String)> {
    // The same object is the same rule (the common case: most declared
    // rules are synced), without normalizing copies of it.
    if let (Some(b), Some(a)) = (before, after)
        && b == a
    {
        return None;
    }
    let key = RuleKey::of(after.or(before)?);
    let norm = |o: &Value| normalize(o, &key.namespace);
    let (b, mut a) = (before.map(norm), after.map(norm));
    if let (Some(b), Some(a)) = (&b, &mut a)
        && group(b) == group(a)
        && let Some(m) = a.as_object_mut()
    {
        m.insert("apiVersion".into(), b["apiVersion"].clone());
    }
    let change = match (&b, &a) {
        (None, Some(_)) => Change::Added,
        (Some(_), None) => Change::Removed,
        (Some(b), Some(a)) if b != a => Change::Modified,
        _ => return None,
    };
    let text = |v: &Option<Value>| v.as_ref().map(to_yaml).unwrap_or_default();
    let diff = unified(&text(&b), &text(&a), labels.0, labels.1);
    Some((key, change, diff))
}

/// Compare the declared mesh rules with the live ones.
///
/// Direction (like a GitOps drift report): the diff goes from declared
/// (`---`) to live (`+++`); `added` = live but not declared (made by hand),
/// `removed` = declared but not live (deleted, or not synced yet),
/// `modified` = both, differing beyond server-set fields. Only rules
/// whose namespace is in `scope` are compared (when given), so a
/// namespace-scoped collection does not report the rest of the repository
/// as removed; and a live rule is `added` only in a namespace where the
/// declared side has mesh rules (an intent file or a repository for other
/// namespaces does not make every live rule "added"). Sorted by resource.
pub fn declared_vs_live<'a>(
    declared: &'a [Value],
    live: &'a [Value],
    scope: Option<&BTreeSet<String>>,
) -> Vec<RuleDiff> {
    let index = |objs: &'a [Value]| -> BTreeMap<RuleKey, &'a Value> {
        objs.iter()
            .filter(|o| is_mesh_rule(o))
            .map(|o| (RuleKey::of(o), o))
            .filter(|(k, _)| scope.is_none_or(|s| s.contains(&k.namespace)))
            .collect()
    };
    let d = index(declared);
    // Git owns the namespaces it declares mesh rules in; elsewhere a live
    // rule is not "added", just not managed from this repository.
    let owned: BTreeSet<&str> = d.keys().map(|k| k.namespace.as_str()).collect();
    let mut l = index(live);
    l.retain(|k, _| owned.contains(k.namespace.as_str()) || d.contains_key(k));
    let keys: BTreeSet<&RuleKey> = d.keys().chain(l.keys()).collect();
    let mut out: Vec<RuleDiff> = keys
        .into_iter()
        .filter_map(|k| {
            let (key, change, diff) =
                diff_one(d.get(k).copied(), l.get(k).copied(), ("declared", "live"))?;
            Some(RuleDiff {
                resource: key.resource(),
                change,
                diff,
                at: None,
                source: Some(DiffSource::Declared),
            })
        })
        .collect();
    out.sort_by(|a, b| a.resource.cmp(&b.resource));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vs(name: &str, weight: u64) -> Value {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"hosts": [name], "http": [{"route": [{"destination": {"host": name},
                "weight": weight}]}]}})
    }

    #[test]
    fn direction_and_scope() {
        let declared = vec![
            vs("a", 100),
            vs("b", 100),
            json!({"apiVersion": "v1",
            "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}}),
        ];
        let live = vec![vs("b", 90), vs("c", 100)];
        let d = declared_vs_live(&declared, &live, None);
        let got: Vec<(&str, Change)> = d.iter().map(|r| (r.resource.as_str(), r.change)).collect();
        assert_eq!(
            got,
            vec![
                ("VirtualService/ns/a", Change::Removed),
                ("VirtualService/ns/b", Change::Modified),
                ("VirtualService/ns/c", Change::Added),
            ]
        );
        assert!(
            d[1].diff.contains("-      weight: 100") && d[1].diff.contains("+      weight: 90"),
            "{}",
            d[1].diff
        );
        // Live rules in a namespace Git declares nothing for are not "added".
        let mut elsewhere = vs("d", 1);
        elsewhere["metadata"]["namespace"] = json!("other");
        assert_eq!(
            declared_vs_live(&declared, &[elsewhere.clone()], None).len(),
            2
        );
        assert!(declared_vs_live(&[], &[elsewhere], None).is_empty());
        let other: BTreeSet<String> = ["elsewhere".to_string()].into();
        assert!(declared_vs_live(&declared, &live, Some(&other)).is_empty());
    }

    #[test]
    fn served_version_alone_is_no_diff() {
        let mut old = vs("a", 1);
        old["apiVersion"] = json!("networking.istio.io/v1beta1");
        assert!(diff_one(Some(&old), Some(&vs("a", 1)), ("d", "l")).is_none());
    }
}
