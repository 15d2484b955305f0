//! The last change of a rule as the API server recorded it:
//! `metadata.managedFields[].time`. A bundle has no watch history, so this
//! is what says when each rule last changed (shown as `last_changed` /
//! `changed_by` on the `declared.routes` / `declared.policies` entries,
//! not as a rule diff: it has a time but no before and after).

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::analyze::model::resource_id;

/// When a rule last changed and which field manager changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastChange {
    /// RFC 3339, as the server wrote it.
    pub at: String,
    /// The field manager (`kubectl-client-side-apply`, `argocd-controller`…).
    pub manager: Option<String>,
}

/// The latest `managedFields` entry of an object that touched the object
/// itself (entries for the `status` subresource are skipped). Times are
/// compared as instants; entries with unparsable times are ignored.
pub fn last_change(obj: &Value) -> Option<LastChange> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .filter(|e| e["subresource"].as_str() != Some("status"))
        .filter_map(|e| {
            let at = e["time"].as_str()?;
            let ts: jiff::Timestamp = at.parse().ok()?;
            Some((ts, e))
        })
        .max_by_key(|(ts, _)| *ts)
        .map(|(ts, e)| LastChange {
            at: ts.to_string(),
            manager: e["manager"].as_str().map(str::to_string),
        })
}

/// The last change of every object that records one, by `Kind/namespace/name`.
pub fn last_changes(objects: &[Value]) -> FxHashMap<String, LastChange> {
    objects
        .iter()
        .filter_map(|o| {
            let c = last_change(o)?;
            Some((resource_id(o), c))
        })
        .collect()
}

/// Add `last_changed` (and `changed_by`) to each declared entry whose
/// `resource` has a recorded change in `changes`.
pub fn annotate(entries: &mut [Value], changes: &FxHashMap<String, LastChange>) {
    if changes.is_empty() {
        return;
    }
    for e in entries.iter_mut() {
        let Some(c) = e["resource"].as_str().and_then(|r| changes.get(r)) else {
            continue;
        };
        if let Some(m) = e.as_object_mut() {
            m.insert("last_changed".into(), Value::String(c.at.clone()));
            if let Some(who) = &c.manager {
                m.insert("changed_by".into(), Value::String(who.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn latest_non_status_entry_wins() {
        let o = json!({"kind": "VirtualService", "metadata": {"name": "r", "namespace": "n",
            "managedFields": [
                {"manager": "kubectl", "operation": "Update", "time": "2024-03-01T10:00:00Z"},
                {"manager": "argocd", "operation": "Apply", "time": "2024-03-02T08:30:00+01:00"},
                {"manager": "pilot", "operation": "Update", "subresource": "status",
                 "time": "2024-03-05T00:00:00Z"},
                {"manager": "x", "time": "garbage"}]}});
        let c = last_change(&o);
        assert_eq!(
            c,
            Some(LastChange {
                at: "2024-03-02T07:30:00Z".into(),
                manager: Some("argocd".into())
            })
        );
        let mut entries = vec![
            json!({"resource": "VirtualService/n/r"}),
            json!({"resource": "X/n/r"}),
        ];
        annotate(&mut entries, &last_changes(&[o]));
        assert_eq!(entries[0]["last_changed"], "2024-03-02T07:30:00Z");
        assert_eq!(entries[0]["changed_by"], "argocd");
        assert!(entries[1].get("last_changed").is_none());
    }
}
