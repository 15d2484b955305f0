//! Lookups over the inventory the declaration readers and rules share:
//! selectors → workloads, hosts → Services, service accounts → workloads,
//! and who a caller is.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Deref;

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::model::inventory::{Inventory, ServiceInfo, WorkloadInfo};

/// The inventory with the lookups the analysis needs indexed once.
pub struct Idx<'a> {
    pub inv: &'a Inventory,
    services: FxHashMap<(&'a str, &'a str), &'a ServiceInfo>,
    by_identity: FxHashMap<(&'a str, &'a str), Vec<Entry<'a>>>,
    /// Workloads by (namespace of the id, pod label key, value), in id
    /// order: a selector's candidates without scanning its namespace.
    by_label: FxHashMap<(&'a str, &'a str, &'a str), Vec<Entry<'a>>>,
    /// `Inventory::workloads` hashed, for the per-edge lookups.
    by_id: FxHashMap<&'a str, &'a WorkloadInfo>,
}

/// A workload with its id.
type Entry<'a> = (&'a String, &'a WorkloadInfo);

impl<'a> Idx<'a> {
    /// Index `inv`.
    pub fn new(inv: &'a Inventory) -> Self {
        let services = inv
            .services
            .iter()
            .map(|s| ((s.namespace.as_str(), s.name.as_str()), s))
            .collect();
        let n = inv.workloads.len();
        let mut by_identity: FxHashMap<(&str, &str), Vec<Entry>> =
            FxHashMap::with_capacity_and_hasher(n, Default::default());
        let mut by_label: FxHashMap<(&str, &str, &str), Vec<Entry>> =
            FxHashMap::with_capacity_and_hasher(n, Default::default());
        let mut by_id = FxHashMap::with_capacity_and_hasher(n, Default::default());
        for (id, w) in &inv.workloads {
            let sa = w.service_account.as_deref().unwrap_or("default");
            by_identity
                .entry((w.namespace.as_str(), sa))
                .or_default()
                .push((id, w));
            by_id.insert(id.as_str(), w);
            let Some((ns, _)) = id.split_once('/') else {
                continue;
            };
            for (k, v) in &w.pod_labels {
                by_label
                    .entry((ns, k.as_str(), v.as_str()))
                    .or_default()
                    .push((id, w));
            }
        }
        Idx {
            inv,
            services,
            by_identity,
            by_label,
            by_id,
        }
    }

    /// The workload by id (as [`Inventory::workload`], hashed).
    pub fn workload(&self, id: &str) -> Option<&'a WorkloadInfo> {
        self.by_id.get(id).copied()
    }

    /// The Service `namespace/name`.
    pub fn svc(&self, ns: &str, name: &str) -> Option<&'a ServiceInfo> {
        self.services.get(&(ns, name)).copied()
    }

    /// The workloads of one namespace (ids are `namespace/name`, sorted).
    pub fn in_namespace(&self, ns: &str) -> impl Iterator<Item = (&'a String, &'a WorkloadInfo)> {
        self.inv.workloads_in(ns)
    }

    /// The workloads of one namespace that may carry `label` (`key`,
    /// `value`), in id order: exactly those that do when `label` is given,
    /// all of the namespace otherwise. Callers still check the full selector.
    fn candidates<'s>(
        &'s self,
        ns: &'s str,
        label: Option<(&'s str, &'s str)>,
    ) -> impl Iterator<Item = Entry<'s>> {
        // A namespace with a `/` would match ids the index keys apart.
        let indexed = label.filter(|_| !ns.contains('/')).map(|(k, v)| {
            self.by_label
                .get(&(ns, k, v))
                .map(Vec::as_slice)
                .unwrap_or(&[])
        });
        let scan = indexed.is_none().then(|| self.in_namespace(ns));
        indexed
            .into_iter()
            .flatten()
            .copied()
            .chain(scan.into_iter().flatten())
    }
}

/// One `key: value` (string) equality a selector requires, if any; `sel`
/// as [`selector_matches`] reads it.
fn required_label(sel: &Value) -> Option<(&str, &str)> {
    let ml = if sel.get("matchLabels").is_some() || sel.get("matchExpressions").is_some() {
        &sel["matchLabels"]
    } else {
        sel
    };
    ml.as_object()?
        .iter()
        .find_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
}

impl Deref for Idx<'_> {
    type Target = Inventory;
    fn deref(&self) -> &Inventory {
        self.inv
    }
}

use super::model::Peer;

/// The caller of an edge, as far as policies can tell (borrowed from the
/// snapshot and the inventory: one per edge).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Caller<'a> {
    /// The node id used in gap subjects (an `unknown` caller may be
    /// attributed to the one unmeshed workload that can explain it).
    pub id: &'a str,
    pub namespace: Option<&'a str>,
    pub service_account: Option<&'a str>,
    /// Whether the calls carry a mesh identity (mTLS seen).
    pub authenticated: bool,
    /// Whether `id` was inferred for an `unknown` source.
    pub attributed: bool,
}

/// Does a `matchLabels` (+ `matchExpressions` In/NotIn/Exists/DoesNotExist)
/// selector match these labels? `sel` may be the selector object or a plain
/// label map.
pub fn selector_matches(sel: &Value, labels: &BTreeMap<String, String>) -> bool {
    let (ml, exprs) = if sel.get("matchLabels").is_some() || sel.get("matchExpressions").is_some() {
        (&sel["matchLabels"], &sel["matchExpressions"])
    } else {
        (sel, &Value::Null)
    };
    if let Some(m) = ml.as_object() {
        for (k, v) in m {
            if labels.get(k).map(String::as_str) != v.as_str() {
                return false;
            }
        }
    }
    for e in exprs.as_array().into_iter().flatten() {
        let key = e["key"].as_str().unwrap_or("");
        let vals: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let have = labels.get(key).map(String::as_str);
        let ok = match e["operator"].as_str().unwrap_or("") {
            "In" => have.is_some_and(|h| vals.contains(&h)),
            "NotIn" => !have.is_some_and(|h| vals.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Workload ids in `namespace` (all namespaces when `None`) whose pod
/// labels match `sel`; a null selector matches all of them.
pub fn select(inv: &Idx, namespace: Option<&str>, sel: &Value) -> Vec<String> {
    let matches = |w: &WorkloadInfo| sel.is_null() || selector_matches(sel, &w.pod_labels);
    match namespace {
        Some(ns) => inv
            .candidates(ns, required_label(sel))
            .filter(|(_, w)| matches(w))
            .map(|(id, _)| id.clone())
            .collect(),
        None => inv
            .workloads
            .iter()
            .filter(|(_, w)| matches(w))
            .map(|(id, _)| id.clone())
            .collect(),
    }
}

/// Resolve a mesh host (`reviews`, `reviews.default`, `reviews.default.svc.cluster.local`)
/// seen from `namespace` into a Service `namespace/name`, when it exists.
pub fn resolve_host(inv: &Idx, namespace: &str, host: &str) -> Option<String> {
    let parts: Vec<&str> = host.split('.').collect();
    let (name, ns) = match parts.as_slice() {
        [name] => (*name, namespace),
        [name, ns] | [name, ns, "svc", ..] => (*name, *ns),
        _ => return None,
    };
    inv.svc(ns, name)
        .map(|s| format!("{}/{}", s.namespace, s.name))
}

/// Workloads behind a Service `namespace/name`, narrowed by extra labels.
pub fn service_workloads(inv: &Idx, svc: &str, extra: &Value) -> Vec<String> {
    let Some((ns, name)) = svc.split_once('/') else {
        return Vec::new();
    };
    let Some(s) = inv.svc(ns, name) else {
        return Vec::new();
    };
    if s.selector.is_empty() {
        return Vec::new();
    }
    let first = s
        .selector
        .iter()
        .next()
        .map(|(k, v)| (k.as_str(), v.as_str()));
    inv.candidates(ns, first)
        .filter(|(_, w)| {
            s.selector
                .iter()
                .all(|(k, v)| w.pod_labels.get(k) == Some(v))
        })
        .filter(|(_, w)| extra.is_null() || selector_matches(extra, &w.pod_labels))
        .map(|(id, _)| id.clone())
        .collect()
}

/// Workload ids running as service account `sa` in `ns`, preferring the
/// meshed ones (only those can present the identity).
pub fn workloads_with_identity(inv: &Idx, ns: &str, sa: &str) -> Vec<String> {
    identity_workloads(inv, ns, sa)
        .into_iter()
        .map(Cow::into_owned)
        .collect()
}

/// [`workloads_with_identity`], borrowing each id from the inventory when
/// its key is the workload's `namespace/name` (always, for a reindexed
/// inventory).
pub fn identity_workloads<'a>(inv: &Idx<'a>, ns: &str, sa: &str) -> Vec<Cow<'a, str>> {
    let all: &[Entry<'a>] = inv
        .by_identity
        .get(&(ns, sa))
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let any_meshed = all.iter().any(|(_, w)| w.meshed);
    all.iter()
        .filter(|(_, w)| w.meshed || !any_meshed)
        .map(|(id, w)| {
            let is_key = id
                .strip_prefix(w.namespace.as_str())
                .and_then(|r| r.strip_prefix('/'))
                == Some(w.name.as_str());
            if is_key {
                Cow::Borrowed(id.as_str())
            } else {
                Cow::Owned(format!("{}/{}", w.namespace, w.name))
            }
        })
        .collect()
}

/// The `(namespace, service account)` an exact identity names, Istio
/// (`[spiffe://]TD/ns/NS/sa/SA`) or Linkerd (`SA.NS.serviceaccount.identity…`).
pub fn parse_identity(p: &str) -> Option<(String, String)> {
    parse_identity_ref(p).map(|(ns, sa)| (ns.to_string(), sa.to_string()))
}

/// [`parse_identity`], borrowing from `p`.
pub fn parse_identity_ref(p: &str) -> Option<(&str, &str)> {
    if p.contains('*') {
        return None;
    }
    let p = p.strip_prefix("spiffe://").unwrap_or(p);
    if let Some(i) = p.find("/ns/") {
        let rest = &p[i + 4..];
        return rest.split_once("/sa/");
    }
    let (sa, rest) = p.split_once('.')?;
    let (ns, tail) = rest.split_once('.')?;
    tail.starts_with("serviceaccount.identity")
        .then_some((ns, sa))
}

fn glob(pattern: &str, s: &str) -> bool {
    glob_parts(pattern, &[s])
}

/// [`glob`] against the concatenation of `parts`, without building it.
fn glob_parts(pattern: &str, parts: &[&str]) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return ends_with(parts, suffix);
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return starts_with(parts, prefix);
    }
    parts.iter().map(|p| p.len()).sum::<usize>() == pattern.len() && starts_with(parts, pattern)
}

/// Does the concatenation of `parts` start with `prefix`?
fn starts_with(parts: &[&str], mut prefix: &str) -> bool {
    for part in parts {
        if prefix.len() <= part.len() {
            return part.starts_with(prefix);
        }
        match prefix.strip_prefix(part) {
            Some(rest) => prefix = rest,
            None => return false,
        }
    }
    prefix.is_empty()
}

/// Does the concatenation of `parts` end with `suffix`?
fn ends_with(parts: &[&str], mut suffix: &str) -> bool {
    for part in parts.iter().rev() {
        if suffix.len() <= part.len() {
            return part.ends_with(suffix);
        }
        match suffix.strip_suffix(part) {
            Some(rest) => suffix = rest,
            None => return false,
        }
    }
    suffix.is_empty()
}

/// Does `peer` name this caller?
pub fn peer_matches(peer: &Peer, c: &Caller) -> bool {
    match peer {
        Peer::Any => true,
        Peer::Authenticated => c.authenticated,
        Peer::Namespace(p) => c.authenticated && c.namespace.is_some_and(|n| glob(p, n)),
        Peer::Principal(p) => {
            let (Some(ns), Some(sa)) = (c.namespace, c.service_account) else {
                return false;
            };
            if !c.authenticated {
                return false;
            }
            let p = p.strip_prefix("spiffe://").unwrap_or(p);
            // `cluster.local/ns/NS/sa/SA`, Linkerd's
            // `SA.NS.serviceaccount.identity.linkerd.cluster.local`, or
            // any trust domain before `/ns/NS/sa/SA`.
            glob_parts(p, &["cluster.local/ns/", ns, "/sa/", sa])
                || glob_parts(
                    p,
                    &[
                        sa,
                        ".",
                        ns,
                        ".serviceaccount.identity.linkerd.cluster.local",
                    ],
                )
                || p.split_once('/')
                    .is_some_and(|(_, rest)| glob_parts(rest, &["ns/", ns, "/sa/", sa]))
        }
    }
}

/// Is this workload a mesh control-plane component?
pub fn is_control_plane(inv: &Inventory, id: &str) -> bool {
    inv.control_planes.iter().any(|(_, w)| w == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_parts_is_glob_of_the_concatenation() {
        let parts = ["cluster.local/ns/", "shop", "/sa/", "cart"];
        let whole = parts.concat();
        let reference = |p: &str| {
            if p == "*" {
                true
            } else if let Some(s) = p.strip_prefix('*') {
                whole.ends_with(s)
            } else if let Some(s) = p.strip_suffix('*') {
                whole.starts_with(s)
            } else {
                p == whole
            }
        };
        let patterns = [
            "*",
            "cluster.local/ns/shop/sa/cart",
            "cluster.local/ns/shop/sa/car",
            "cluster.local/ns/shop/sa/carts",
            "cluster.local/ns/shop/*",
            "cluster.local/ns/sh*",
            "cluster.local/ns/shop/sa/cart*",
            "cluster.local/ns/shop/sa/cartx*",
            "*/sa/cart",
            "*op/sa/cart",
            "*cluster.local/ns/shop/sa/cart",
            "*xcluster.local/ns/shop/sa/cart",
            "*t",
            "**",
            "",
            "*",
        ];
        for p in patterns {
            assert_eq!(glob_parts(p, &parts), reference(p), "{p}");
        }
        assert!(glob_parts("", &["", ""]));
        assert!(!glob_parts("a", &["", ""]));
    }
}
