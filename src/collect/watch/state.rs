//! The pure state behind the watches: one object map per watched resource,
//! fed with kube-runtime watcher events, plus the history of changes to mesh
//! rules. No I/O here, so every transition is tested without a server.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;

/// How many rule changes are kept (oldest dropped first).
pub const MAX_RULE_EVENTS: usize = 1000;

/// One change to a mesh rule seen by a watch: the object before and after
/// (`None` for a creation or a deletion), with the time it was seen.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleEvent {
    /// Position in the order of recording, from 0 (stays unique when the
    /// oldest events are dropped).
    pub seq: u64,
    /// Unix milliseconds when meshscope saw the change.
    pub at_ms: i64,
    /// `Kind/namespace/name` (or `Kind/name` for cluster-scoped rules).
    pub resource: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A watcher event, reduced to what the state needs (mirrors
/// `kube::runtime::watcher::Event`).
#[derive(Debug, Clone)]
pub enum Change {
    Init,
    InitApply(Value),
    InitDone,
    Apply(Value),
    Delete(Value),
}

/// One watched resource (`pods`, `virtualservices`…).
#[derive(Debug, Default)]
pub struct ResourceState {
    /// The plural name, as the API serves it.
    pub plural: String,
    /// Whether changes to these objects are recorded as rule events.
    pub rule: bool,
    objects: BTreeMap<String, Value>,
    buffer: Option<BTreeMap<String, Value>>,
    /// The initial list (or a re-list) completed at least once.
    pub synced: bool,
    /// Completed lists; more than one means the watch was restarted
    /// (410 Gone, a dropped connection the server could not resume).
    pub lists: u32,
    /// Errors seen since the start.
    pub errors: u32,
    /// The last error, cleared when the watch recovers.
    pub error: Option<String>,
    /// The last error ever seen, kept for the record.
    pub last_error: Option<String>,
    /// A refusal (403) that stays until a list succeeds.
    pub forbidden: Option<String>,
    /// The cluster does not serve this resource (404 on list): not watched.
    pub not_served: bool,
}

/// The key of an object in its resource's map: `namespace/name` or `name`.
pub fn object_key(v: &Value) -> Option<String> {
    let meta = v.get("metadata")?;
    let name = meta.get("name")?.as_str()?;
    Some(match meta.get("namespace").and_then(Value::as_str) {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    })
}

/// The rule as the rule diffs compare it (server-set fields and
/// bookkeeping removed): a change of resourceVersion alone is not a change.
fn semantic(v: &Value) -> Value {
    let ns = v["metadata"]["namespace"].as_str().unwrap_or_default();
    crate::analyze::diffs::normalize(v, ns)
}

/// Trim what meshscope never needs to keep (managed fields are large).
pub fn trim(mut v: Value) -> Value {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    v
}

impl ResourceState {
    pub fn new(plural: &str, rule: bool) -> Self {
        ResourceState {
            plural: plural.to_string(),
            rule,
            ..ResourceState::default()
        }
    }

    /// The objects currently known.
    pub fn objects(&self) -> impl Iterator<Item = &Value> {
        self.objects.values()
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    fn resource_name(&self, key: &str, v: Option<&Value>) -> String {
        let kind = v
            .and_then(|v| v.get("kind"))
            .and_then(Value::as_str)
            .unwrap_or(&self.plural);
        format!("{kind}/{key}")
    }

    fn record(
        &self,
        events: &mut VecDeque<RuleEvent>,
        at_ms: i64,
        key: &str,
        before: Option<Value>,
        after: Option<Value>,
    ) {
        if !self.rule || !self.synced {
            return;
        }
        let same = match (&before, &after) {
            (Some(b), Some(a)) => semantic(b) == semantic(a),
            (None, None) => true,
            _ => false,
        };
        if same {
            return;
        }
        let resource = self.resource_name(key, after.as_ref().or(before.as_ref()));
        let seq = events.back().map_or(0, |e| e.seq + 1);
        events.push_back(RuleEvent {
            seq,
            at_ms,
            resource,
            before,
            after,
        });
        while events.len() > MAX_RULE_EVENTS {
            events.pop_front();
        }
    }

    /// Apply one watcher event. Returns whether the visible objects changed.
    pub fn apply(&mut self, change: Change, at_ms: i64, events: &mut VecDeque<RuleEvent>) -> bool {
        match change {
            Change::Init => {
                self.buffer = Some(BTreeMap::new());
                false
            }
            Change::InitApply(v) => {
                let v = trim(v);
                if let Some(key) = object_key(&v) {
                    self.buffer.get_or_insert_with(BTreeMap::new).insert(key, v);
                }
                false
            }
            Change::InitDone => {
                let new = self.buffer.take().unwrap_or_default();
                let old = std::mem::replace(&mut self.objects, new);
                // A re-list: what changed while the watch was down.
                if self.synced && self.rule {
                    for (k, before) in &old {
                        let after = self.objects.get(k).cloned();
                        self.record(events, at_ms, k, Some(before.clone()), after);
                    }
                    for (k, after) in &self.objects {
                        if !old.contains_key(k) {
                            self.record(events, at_ms, k, None, Some(after.clone()));
                        }
                    }
                }
                self.synced = true;
                self.lists += 1;
                self.error = None;
                self.forbidden = None;
                true
            }
            Change::Apply(v) => {
                let v = trim(v);
                let Some(key) = object_key(&v) else {
                    return false;
                };
                let before = self.objects.insert(key.clone(), v.clone());
                self.record(events, at_ms, &key, before, Some(v));
                self.error = None;
                true
            }
            Change::Delete(v) => {
                let Some(key) = object_key(&v) else {
                    return false;
                };
                let before = self.objects.remove(&key);
                let existed = before.is_some();
                if existed {
                    self.record(events, at_ms, &key, before, None);
                }
                existed
            }
        }
    }

    /// The cluster does not serve this resource: nothing to watch.
    pub fn mark_not_served(&mut self) {
        self.not_served = true;
        self.synced = true;
        self.error = None;
    }

    /// Note an error of the watch (it keeps retrying with backoff).
    pub fn fail(&mut self, message: String, forbidden: bool) {
        self.errors += 1;
        if forbidden {
            self.forbidden = Some(message.clone());
        }
        self.last_error = Some(message.clone());
        self.error = Some(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vs(name: &str, rv: &str, weight: u32) -> Value {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": name, "namespace": "default", "resourceVersion": rv,
                            "managedFields": [{"manager": "kubectl"}]},
               "spec": {"http": [{"route": [{"weight": weight}]}]}})
    }

    #[test]
    fn initial_list_is_not_a_change_but_later_edits_are() {
        let mut ev = VecDeque::new();
        let mut r = ResourceState::new("virtualservices", true);
        r.apply(Change::Init, 1, &mut ev);
        r.apply(Change::InitApply(vs("reviews", "1", 80)), 1, &mut ev);
        assert!(r.is_empty(), "buffered until InitDone");
        assert!(r.apply(Change::InitDone, 1, &mut ev));
        assert_eq!(r.len(), 1);
        assert!(ev.is_empty());
        assert!(
            r.objects()
                .all(|o| o["metadata"].get("managedFields").is_none()),
            "managed fields trimmed"
        );
        // Only the resourceVersion moved: not a change.
        r.apply(Change::Apply(vs("reviews", "2", 80)), 2, &mut ev);
        assert!(ev.is_empty());
        r.apply(Change::Apply(vs("reviews", "3", 50)), 3, &mut ev);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].resource, "VirtualService/default/reviews");
        assert_eq!(ev[0].at_ms, 3);
        assert_eq!(
            ev[0].before.as_ref().unwrap()["spec"]["http"][0]["route"][0]["weight"],
            80
        );
        r.apply(Change::Delete(vs("reviews", "4", 50)), 4, &mut ev);
        assert_eq!(ev.len(), 2);
        assert!(ev[1].after.is_none());
        assert!(r.is_empty());
    }

    #[test]
    fn a_relist_after_410_records_what_changed_while_down() {
        let mut ev = VecDeque::new();
        let mut r = ResourceState::new("virtualservices", true);
        for c in [
            Change::Init,
            Change::InitApply(vs("a", "1", 80)),
            Change::InitApply(vs("b", "1", 80)),
            Change::InitDone,
        ] {
            r.apply(c, 1, &mut ev);
        }
        r.fail("watch expired (410 Gone)".into(), false);
        assert!(r.error.is_some());
        for c in [
            Change::Init,
            Change::InitApply(vs("a", "9", 10)),
            Change::InitApply(vs("c", "9", 80)),
            Change::InitDone,
        ] {
            r.apply(c, 5, &mut ev);
        }
        assert_eq!(r.lists, 2);
        assert!(r.error.is_none());
        assert_eq!(r.last_error.as_deref(), Some("watch expired (410 Gone)"));
        let names: Vec<(&str, bool, bool)> = ev
            .iter()
            .map(|e| (e.resource.as_str(), e.before.is_some(), e.after.is_some()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("VirtualService/default/a", true, true),
                ("VirtualService/default/b", true, false),
                ("VirtualService/default/c", false, true),
            ]
        );
    }

    #[test]
    fn non_rule_resources_keep_no_history_and_history_is_bounded() {
        let mut ev = VecDeque::new();
        let mut pods = ResourceState::new("pods", false);
        pods.apply(Change::InitDone, 0, &mut ev);
        pods.apply(
            Change::Apply(json!({"kind": "Pod", "metadata": {"name": "p", "namespace": "x"}})),
            1,
            &mut ev,
        );
        assert_eq!(pods.len(), 1);
        assert!(ev.is_empty());
        let mut r = ResourceState::new("virtualservices", true);
        r.apply(Change::InitDone, 0, &mut ev);
        for i in 0..(MAX_RULE_EVENTS as u32 + 10) {
            r.apply(Change::Apply(vs("a", "1", i)), i64::from(i), &mut ev);
        }
        assert_eq!(ev.len(), MAX_RULE_EVENTS);
        assert_eq!(
            ev.back().unwrap().at_ms,
            i64::from(MAX_RULE_EVENTS as u32 + 9)
        );
    }

    #[test]
    fn objects_without_a_name_are_ignored() {
        let mut ev = VecDeque::new();
        let mut r = ResourceState::new("pods", false);
        r.apply(Change::InitDone, 0, &mut ev);
        assert!(!r.apply(Change::Apply(json!({"kind": "Pod"})), 1, &mut ev));
        assert!(!r.apply(
            Change::Delete(json!({"metadata": {"name": "x"}})),
            1,
            &mut ev
        ));
    }
}
