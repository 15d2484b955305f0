//! Which gaps and declared entries of a snapshot are about a workload or a
//! Service: matched on exact `namespace/name` identities, never on substrings
//! (a policy that allows `sa default/bookinfo-productpage` to call details is
//! not about productpage).

/// Whether a subject (`a -> b`, `Kind/ns/name`, `ns/name`) names one of `names`.
pub fn subject_touches(subject: &str, names: &[String]) -> bool {
    subject.split(" -> ").any(|part| {
        let part = part.trim();
        names.iter().any(|n| {
            part == n
                || part
                    .strip_suffix(n.as_str())
                    .is_some_and(|head| head.ends_with('/'))
        })
    })
}

/// Whether a declared entry (`Snapshot::declared`) is about one of `names`:
/// one of its string values is exactly one of them (its targets, its
/// subsets' or backends' workloads, its Service), or its `resource` names one.
pub fn entry_touches(entry: &serde_json::Value, names: &[String]) -> bool {
    let by_resource = entry
        .get("resource")
        .and_then(|r| r.as_str())
        .is_some_and(|r| subject_touches(r, names));
    by_resource || has_string(entry, names)
}

fn has_string(v: &serde_json::Value, names: &[String]) -> bool {
    match v {
        serde_json::Value::String(s) => names.iter().any(|n| n == s),
        serde_json::Value::Array(a) => a.iter().any(|x| has_string(x, names)),
        serde_json::Value::Object(o) => o.values().any(|x| has_string(x, names)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn subjects() {
        let n = names(&["default/reviews", "default/reviews-v3"]);
        assert!(subject_touches(
            "default/reviews-v3 -> default/ratings-v1",
            &n
        ));
        assert!(subject_touches("VirtualService/default/reviews", &n));
        assert!(!subject_touches("VirtualService/default/reviews-v2", &n));
        assert!(!subject_touches("VirtualService/xdefault/reviews", &n));
        assert!(!subject_touches(
            "default/productpage-v1 -> default/ratings-v1",
            &n
        ));
    }

    #[test]
    fn entries_match_on_identities_not_substrings() {
        let policy = json!({
            "action": "ALLOW",
            "from": ["cluster.local/ns/default/sa/bookinfo-productpage"],
            "resource": "AuthorizationPolicy/default/details-viewer",
            "targets": ["default/details-v1"],
        });
        let rule = json!({
            "host": "productpage",
            "resource": "DestinationRule/default/pp",
            "subsets": [{"name": "v1", "workloads": ["default/productpage-v1"]}],
        });
        let pp = names(&["default/productpage-v1", "default/productpage"]);
        assert!(!entry_touches(&policy, &pp));
        assert!(entry_touches(&rule, &pp));
        assert!(entry_touches(&policy, &names(&["default/details-v1"])));
        let by_name = names(&["default/details-viewer"]);
        assert!(entry_touches(&policy, &by_name));
    }
}
