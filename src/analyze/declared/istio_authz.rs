//! Istio `AuthorizationPolicy` (security.istio.io): ALLOW / DENY / AUDIT,
//! selectors, namespace- and mesh-wide scope, `istio.io/dry-run`.

use serde_json::Value;

use crate::analyze::index::Idx;

use crate::analyze::index::select;
use crate::analyze::model::{AccessRule, Action, Peer, SourceSpec, namespace_of, resource_id};

/// The mesh root namespace: policies there without a selector are mesh-wide.
pub const ROOT_NAMESPACE: &str = "istio-system";

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// A source field: its name, whether it names callers (or excludes them),
/// and how a value becomes a peer.
type Field = (&'static str, bool, fn(String) -> Peer);

fn source_spec(src: &Value) -> SourceSpec {
    let mut spec = SourceSpec::default();
    let fields: [Field; 6] = [
        ("principals", true, Peer::Principal),
        ("notPrincipals", false, Peer::Principal),
        ("requestPrincipals", true, |_| Peer::Any),
        ("namespaces", true, Peer::Namespace),
        ("notNamespaces", false, Peer::Namespace),
        ("ipBlocks", true, |_| Peer::Any),
    ];
    for (field, positive, make) in fields {
        let list = strings(&src[field]);
        if list.is_empty() {
            continue;
        }
        let peers: Vec<Peer> = list
            .into_iter()
            .map(|s| {
                if field == "principals" && s == "*" {
                    Peer::Authenticated
                } else {
                    make(s)
                }
            })
            .collect();
        spec.all.push((positive, peers));
    }
    spec
}

/// Read one AuthorizationPolicy; `None` for CUSTOM (external authorizer).
pub fn read(obj: &Value, inv: &Idx) -> Option<AccessRule> {
    let spec = &obj["spec"];
    let action = match spec["action"].as_str().unwrap_or("ALLOW") {
        "ALLOW" => Action::Allow,
        "DENY" => Action::Deny,
        "AUDIT" => Action::Audit,
        _ => return None,
    };
    let ns = namespace_of(obj);
    let dry_run = obj["metadata"]["annotations"]["istio.io/dry-run"].as_str() == Some("true");
    let selector = &spec["selector"];
    let scope = if ns == ROOT_NAMESPACE && selector.is_null() {
        None
    } else {
        Some(ns.as_str())
    };
    let targets = select(inv, scope, selector);
    let mut from = Vec::new();
    if let Some(rules) = spec["rules"].as_array() {
        for rule in rules {
            match rule["from"].as_array() {
                None => from.push(SourceSpec::default()),
                Some(srcs) => {
                    for s in srcs {
                        from.push(source_spec(&s["source"]));
                    }
                }
            }
        }
    }
    Some(AccessRule {
        resource: resource_id(obj),
        action,
        enforced: !dry_run,
        targets,
        from,
    })
}
