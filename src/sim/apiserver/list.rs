//! List and get: `…List` documents with pagination and selectors, single objects by name.

use std::sync::Arc;

use axum::response::Response;
use serde_json::{Value, json};

use super::resources::ResourceDef;
use super::selector::Filter;
use super::status;
use super::store::{ObjKey, ObjectStore};

/// The query parameters list and watch share.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pub pairs: Vec<(String, String)>,
}

impl Query {
    /// The last value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean parameter (`1`/`true`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("1" | "true" | "True"))
    }
}

/// Give a stored object the apiVersion/kind of the resource it is served as.
pub(crate) fn served_as(obj: &Value, def: &ResourceDef) -> Value {
    let mut out = obj.clone();
    if let Some(map) = out.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(def.api_version()));
        map.insert("kind".into(), Value::String(def.kind.clone()));
    }
    out
}

/// [`served_as`] written straight into `out` as JSON (`apiVersion` and
/// `kind` first), without cloning the object: a list page of 500 pods
/// cloned and re-serialised was most of the simulated server's listing.
pub(crate) fn write_served(out: &mut Vec<u8>, obj: &Value, def: &ResourceDef) {
    let Some(map) = obj.as_object() else {
        let _ = serde_json::to_writer(&mut *out, obj);
        return;
    };
    out.extend_from_slice(b"{\"apiVersion\":");
    let _ = serde_json::to_writer(&mut *out, &def.api_version());
    out.extend_from_slice(b",\"kind\":");
    let _ = serde_json::to_writer(&mut *out, &def.kind);
    for (k, v) in map
        .iter()
        .filter(|(k, _)| *k != "apiVersion" && *k != "kind")
    {
        out.push(b',');
        let _ = serde_json::to_writer(&mut *out, k);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, v);
    }
    out.push(b'}');
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// `GET` of a collection: a `<Kind>List`, filtered, paginated with `limit`/`continue`.
pub(crate) fn list(store: &ObjectStore, def: &ResourceDef, filter: &Filter, q: &Query) -> Response {
    let limit = match q
        .get("limit")
        .filter(|l| !l.is_empty())
        .map(str::parse::<usize>)
    {
        None | Some(Ok(0)) => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return status::bad_request(&format!(
                "invalid limit {:?}: not a non-negative integer",
                q.get("limit").unwrap_or_default()
            ));
        }
    };
    let after: Option<(String, String)> = match q.get("continue").filter(|c| !c.is_empty()) {
        None => None,
        Some(token) => match unhex(token).as_deref().and_then(|s| s.split_once('/')) {
            Some((ns, name)) => Some((ns.to_string(), name.to_string())),
            None => return status::bad_request(&format!("continue key {token:?} is not valid")),
        },
    };
    let (rv, compacted, matching): (u64, u64, Vec<(ObjKey, Arc<Value>)>) = {
        let st = store.lock();
        // Keys sort by group and kind first: one range.
        let first = ObjKey {
            group: def.group.clone(),
            kind: def.kind.clone(),
            namespace: String::new(),
            name: String::new(),
        };
        let items = st
            .objects
            .range(first..)
            .take_while(|(k, _)| k.group == def.group && k.kind == def.kind)
            .filter(|(k, _)| {
                after
                    .as_ref()
                    .is_none_or(|(ns, n)| (&k.namespace, &k.name) > (ns, n))
            })
            .filter(|(_, o)| filter.matches(o))
            .map(|(k, o)| (k.clone(), o.clone()))
            .collect();
        (st.rv, st.compacted, items)
    };
    if q.get("resourceVersionMatch") == Some("Exact")
        && let Some(asked) = q.get("resourceVersion").and_then(|r| r.parse::<u64>().ok())
        && asked < compacted
    {
        return status::json_response(410, &status::gone_object(asked, compacted));
    }
    let total = matching.len();
    let take = limit.unwrap_or(total).min(total);
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if take < total
        && let Some((last, _)) = take.checked_sub(1).and_then(|i| matching.get(i))
        && let Some(map) = metadata.as_object_mut()
    {
        map.insert(
            "continue".into(),
            json!(hex(&format!("{}/{}", last.namespace, last.name))),
        );
        map.insert("remainingItemCount".into(), json!(total - take));
    }
    let head = json!({
        "kind": format!("{}List", def.kind),
        "apiVersion": def.api_version(),
        "metadata": metadata,
    });
    let mut body = Vec::with_capacity(take * 2048 + 256);
    let _ = serde_json::to_writer(&mut body, &head);
    // `{...}` → `{...,"items":[...]}`
    body.pop();
    body.extend_from_slice(b",\"items\":[");
    for (i, (_, o)) in matching.iter().take(take).enumerate() {
        if i > 0 {
            body.push(b',');
        }
        write_served(&mut body, o, def);
    }
    body.extend_from_slice(b"]}");
    status::bytes_response(200, body, "application/json")
}

/// `GET` of one object by name.
pub(crate) fn get(
    store: &ObjectStore,
    def: &ResourceDef,
    namespace: Option<&str>,
    name: &str,
) -> Response {
    let key = ObjKey {
        group: def.group.clone(),
        kind: def.kind.clone(),
        namespace: namespace.unwrap_or_default().to_string(),
        name: name.to_string(),
    };
    let found = store.lock().objects.get(&key).cloned();
    match found {
        Some(obj) => status::json_response(200, &served_as(&obj, def)),
        None => status::not_found_object(&def.group, &def.plural, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_round_trips() {
        assert_eq!(unhex(&hex("ns/name")).as_deref(), Some("ns/name"));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("abc"), None);
    }
}
