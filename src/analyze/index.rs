//! Lookups over the inventory the declaration readers and rules share:
//! selectors → workloads, hosts → Services, service accounts → workloads,
//! and who a caller is.

use std::collections::BTreeMap;
use std::ops::Deref;

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::model::inventory::{Inventory, ServiceInfo, WorkloadInfo};

/// The inventory with the lookups the analysis needs indexed once.
pub struct Idx<'a> {
    pub inv: &'a Inventory,
    services: FxHashMap<(&'a str, &'a str), &'a ServiceInfo>,
    by_identity: FxHashMap<(&'a str, &'a str), Vec<&'a WorkloadInfo>>,
}

impl<'a> Idx<'a> {
    /// Index `inv`.
    pub fn new(inv: &'a Inventory) -> Self {
        let services = inv
            .services
            .iter()
            .map(|s| ((s.namespace.as_str(), s.name.as_str()), s))
            .collect();
        let mut by_identity: FxHashMap<(&str, &str), Vec<&WorkloadInfo>> = FxHashMap::default();
        for w in inv.workloads.values() {
            let sa = w.service_account.as_deref().unwrap_or("default");
            by_identity
                .entry((w.namespace.as_str(), sa))
                .or_default()
                .push(w);
        }
        Idx {
            inv,
            services,
            by_identity,
        }
    }

    /// The Service `namespace/name`.
    pub fn svc(&self, ns: &str, name: &str) -> Option<&'a ServiceInfo> {
        self.services.get(&(ns, name)).copied()
    }

    /// The workloads of one namespace (ids are `namespace/name`, sorted).
    pub fn in_namespace(&self, ns: &str) -> impl Iterator<Item = (&'a String, &'a WorkloadInfo)> {
        let prefix = format!("{ns}/");
        self.inv
            .workloads
            .range(prefix.clone()..)
            .take_while(move |(id, _)| id.starts_with(&prefix))
    }
}

impl Deref for Idx<'_> {
    type Target = Inventory;
    fn deref(&self) -> &Inventory {
        self.inv
    }
}

use super::model::Peer;

/// The caller of an edge, as far as policies can tell.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The node id used in gap subjects (an `unknown` caller may be
    /// attributed to the one unmeshed workload that can explain it).
    pub id: String,
    pub namespace: Option<String>,
    pub service_account: Option<String>,
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
            .in_namespace(ns)
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
    inv.in_namespace(ns)
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
    let all: &[&WorkloadInfo] = inv
        .by_identity
        .get(&(ns, sa))
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let meshed: Vec<&WorkloadInfo> = all.iter().copied().filter(|w| w.meshed).collect();
    let pick = if meshed.is_empty() {
        all.to_vec()
    } else {
        meshed
    };
    pick.iter()
        .map(|w| format!("{}/{}", w.namespace, w.name))
        .collect()
}

/// The `(namespace, service account)` an exact identity names, Istio
/// (`[spiffe://]TD/ns/NS/sa/SA`) or Linkerd (`SA.NS.serviceaccount.identity…`).
pub fn parse_identity(p: &str) -> Option<(String, String)> {
    if p.contains('*') {
        return None;
    }
    let p = p.strip_prefix("spiffe://").unwrap_or(p);
    if let Some(i) = p.find("/ns/") {
        let rest = &p[i + 4..];
        let (ns, sa) = rest.split_once("/sa/")?;
        return Some((ns.to_string(), sa.to_string()));
    }
    let (sa, rest) = p.split_once('.')?;
    let (ns, tail) = rest.split_once('.')?;
    tail.starts_with("serviceaccount.identity")
        .then(|| (ns.to_string(), sa.to_string()))
}

fn glob(pattern: &str, s: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return s.ends_with(suffix);
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return s.starts_with(prefix);
    }
    pattern == s
}

/// Does `peer` name this caller?
pub fn peer_matches(peer: &Peer, c: &Caller) -> bool {
    match peer {
        Peer::Any => true,
        Peer::Authenticated => c.authenticated,
        Peer::Namespace(p) => c.authenticated && c.namespace.as_deref().is_some_and(|n| glob(p, n)),
        Peer::Principal(p) => {
            let (Some(ns), Some(sa)) = (&c.namespace, &c.service_account) else {
                return false;
            };
            if !c.authenticated {
                return false;
            }
            let p = p.strip_prefix("spiffe://").unwrap_or(p);
            let istio = format!("cluster.local/ns/{ns}/sa/{sa}");
            let linkerd = format!("{sa}.{ns}.serviceaccount.identity.linkerd.cluster.local");
            glob(p, &istio)
                || glob(p, &linkerd)
                || p.split_once('/')
                    .is_some_and(|(_, rest)| glob(rest, &format!("ns/{ns}/sa/{sa}")))
        }
    }
}

/// Is this workload a mesh control-plane component?
pub fn is_control_plane(inv: &Inventory, id: &str) -> bool {
    inv.control_planes.iter().any(|(_, w)| w == id)
}
