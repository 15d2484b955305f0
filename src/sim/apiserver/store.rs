//! The object store behind the simulated API server: objects keyed by
//! (group, kind, namespace, name), a monotonically increasing resourceVersion,
//! an event history for watch resumption and a broadcast channel for live watches.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast;

/// Most history events kept for watch resumption; older ones are compacted away.
const HISTORY_LIMIT: usize = 10_000;
/// Capacity of the live-event channel; a watcher lagging further is disconnected.
const CHANNEL_CAPACITY: usize = 4_096;

/// Why an object could not be stored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// The object lacks a required string field.
    #[error(
        "object {index} given to the simulated API server has no string field `{field}`: {snippet}"
    )]
    MissingField {
        /// Position of the object in the input (0 for `apply`).
        index: usize,
        /// The missing field, e.g. `metadata.name`.
        field: &'static str,
        /// The start of the offending object, for the reader.
        snippet: String,
    },
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    Added,
    Modified,
    Deleted,
}

/// Identity of a stored object. The API version is not part of it: every
/// served version of a group/kind sees the same objects (like a CRD with
/// conversion strategy `None`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ObjKey {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// One change, as recorded in the history and sent to live watchers.
#[derive(Debug, Clone)]
pub(crate) struct StoreEvent {
    pub rv: u64,
    pub kind: EventKind,
    pub key: ObjKey,
    pub object: Arc<Value>,
    /// The object before the change (for MODIFIED and DELETED).
    pub prev: Option<Arc<Value>>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub rv: u64,
    /// Watches from a resourceVersion below this get 410 Gone.
    pub compacted: u64,
    pub objects: BTreeMap<ObjKey, Arc<Value>>,
    pub history: Vec<StoreEvent>,
    uid_counter: u64,
}

/// Thread-safe store of Kubernetes objects (`serde_json::Value`s with
/// `apiVersion`, `kind`, `metadata`). Cloning shares the same store.
///
/// CustomResourceDefinition objects (`apiextensions.k8s.io/v1`) in the store
/// define the discoverable custom resources.
#[derive(Debug, Clone)]
pub struct ObjectStore {
    state: Arc<Mutex<State>>,
    events: broadcast::Sender<StoreEvent>,
}

/// The group part of an `apiVersion` (`""` for the core group).
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

fn str_field<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = obj;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

fn key_of(obj: &Value, index: usize) -> Result<ObjKey, StoreError> {
    let missing = |field| StoreError::MissingField {
        index,
        field,
        snippet: obj.to_string().chars().take(120).collect(),
    };
    let api_version = str_field(obj, &["apiVersion"]).ok_or_else(|| missing("apiVersion"))?;
    let kind = str_field(obj, &["kind"]).ok_or_else(|| missing("kind"))?;
    let name = str_field(obj, &["metadata", "name"]).ok_or_else(|| missing("metadata.name"))?;
    let namespace = str_field(obj, &["metadata", "namespace"]).unwrap_or_default();
    Ok(ObjKey {
        group: group_of(api_version).to_string(),
        kind: kind.to_string(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    })
}

fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second())
        .map(|t| t.to_string())
        .unwrap_or_else(|_| now.to_string())
}

impl ObjectStore {
    /// A store holding `objects` (each must have `apiVersion`, `kind` and
    /// `metadata.name`; the error names the first bad object by position).
    pub fn new(objects: Vec<Value>) -> Result<Self, StoreError> {
        let (events, _) = broadcast::channel(CHANNEL_CAPACITY);
        let store = ObjectStore {
            state: Arc::new(Mutex::new(State::default())),
            events,
        };
        for (index, obj) in objects.into_iter().enumerate() {
            store.apply_at(obj, index)?;
        }
        Ok(store)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Subscribe to live events; call while holding the lock to avoid gaps.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<StoreEvent> {
        self.events.subscribe()
    }

    /// Add or replace an object: bumps the resourceVersion, fills in
    /// `metadata.uid`/`creationTimestamp` when absent and emits ADDED or
    /// MODIFIED to watchers.
    pub fn apply(&self, obj: Value) -> Result<(), StoreError> {
        self.apply_at(obj, 0)
    }

    fn apply_at(&self, mut obj: Value, index: usize) -> Result<(), StoreError> {
        let key = key_of(&obj, index)?;
        let mut st = self.lock();
        st.rv += 1;
        let rv = st.rv;
        let prev = st.objects.get(&key).cloned();
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
            for field in ["uid", "creationTimestamp"] {
                let absent = meta.get(field).is_none_or(|v| v.is_null());
                if absent {
                    let inherited = prev
                        .as_ref()
                        .and_then(|p| p.get("metadata")?.get(field).cloned());
                    let value = match (inherited, field) {
                        (Some(v), _) => v,
                        (None, "uid") => {
                            st.uid_counter += 1;
                            Value::String(format!(
                                "5a1e0000-0000-4000-8000-{:012x}",
                                st.uid_counter
                            ))
                        }
                        (None, _) => Value::String(now_rfc3339()),
                    };
                    meta.insert(field.into(), value);
                }
            }
        }
        let object = Arc::new(obj);
        st.objects.insert(key.clone(), object.clone());
        let kind = if prev.is_some() {
            EventKind::Modified
        } else {
            EventKind::Added
        };
        self.record(
            &mut st,
            StoreEvent {
                rv,
                kind,
                key,
                object,
                prev,
            },
        );
        Ok(())
    }

    /// Delete an object; emits DELETED (carrying the deletion's
    /// resourceVersion). Returns whether the object existed.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let key = ObjKey {
            group: group_of(api_version).to_string(),
            kind: kind.to_string(),
            namespace: namespace.unwrap_or_default().to_string(),
            name: name.to_string(),
        };
        let mut st = self.lock();
        let Some(prev) = st.objects.remove(&key) else {
            return false;
        };
        st.rv += 1;
        let rv = st.rv;
        let mut obj = (*prev).clone();
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        let event = StoreEvent {
            rv,
            kind: EventKind::Deleted,
            key,
            object: Arc::new(obj),
            prev: Some(prev),
        };
        self.record(&mut st, event);
        true
    }

    fn record(&self, st: &mut State, event: StoreEvent) {
        st.history.push(event.clone());
        if st.history.len() > HISTORY_LIMIT {
            let drop_n = st.history.len() - HISTORY_LIMIT;
            st.history.drain(..drop_n);
            st.compacted = st.history.first().map_or(st.rv, |e| e.rv - 1);
        }
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(event);
    }

    /// Make every resourceVersion issued so far too old: bumps the
    /// resourceVersion and forgets the history, so a watch resuming from an
    /// older version gets 410 Gone.
    pub fn compact(&self) {
        let mut st = self.lock();
        st.rv += 1;
        st.compacted = st.rv;
        st.history.clear();
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// A copy of every stored object, in key order.
    pub fn objects(&self) -> Vec<Value> {
        self.lock()
            .objects
            .values()
            .map(|o| (**o).clone())
            .collect()
    }
}
