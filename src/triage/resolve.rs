//! SERVICE on the command line → the Service or workload to triage.
//! `ns/name`, or `name` with `-n NS`, or `name` alone (searched in every
//! namespace). A Service wins over a workload of the same name (it covers
//! its workloads). Unknown names get the closest known names (edit
//! distance); a name found in several namespaces lists the candidates.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::model::inventory::Inventory;
use crate::model::snapshot::{NodeKind, Snapshot};

/// What is being triaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// `svc:ns/name` for a Service, `ns/name` for a workload.
    pub id: String,
    /// `service` or `workload`.
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    /// The workload ids behind it (itself for a workload).
    pub workloads: BTreeSet<String>,
}

impl Target {
    /// Whether `node_id` is this target (one of its workloads, or the
    /// Service node itself).
    pub fn contains(&self, node_id: &str) -> bool {
        node_id == self.id || self.workloads.contains(node_id)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ResolveError {
    #[error("no Service or workload named '{asked}'{scope}{hint}")]
    Unknown {
        asked: String,
        scope: String,
        hint: String,
    },
    #[error(
        "'{asked}' is ambiguous: it names {}; say which with ns/name or -n NS",
        candidates.join(", ")
    )]
    Ambiguous {
        asked: String,
        candidates: Vec<String>,
    },
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

struct Known {
    id: String,
    kind: &'static str,
    namespace: String,
    name: String,
}

fn known(snap: &Snapshot, inv: &Inventory) -> Vec<Known> {
    let mut out: Vec<Known> = Vec::new();
    let mut seen = BTreeSet::new();
    for s in &inv.services {
        let id = format!("svc:{}/{}", s.namespace, s.name);
        if seen.insert(id.clone()) {
            out.push(Known {
                id,
                kind: "service",
                namespace: s.namespace.clone(),
                name: s.name.clone(),
            });
        }
    }
    for n in &snap.nodes {
        let (Some(ns), kind) = (&n.namespace, n.kind) else {
            continue;
        };
        let kind = match kind {
            NodeKind::Workload => "workload",
            NodeKind::Service => "service",
            _ => continue,
        };
        if seen.insert(n.id.clone()) {
            out.push(Known {
                id: n.id.clone(),
                kind,
                namespace: ns.clone(),
                name: n.name.clone(),
            });
        }
    }
    for w in inv.workloads.values() {
        let id = format!("{}/{}", w.namespace, w.name);
        if seen.insert(id.clone()) {
            out.push(Known {
                id,
                kind: "workload",
                namespace: w.namespace.clone(),
                name: w.name.clone(),
            });
        }
    }
    out
}

fn target_of(k: &Known, snap: &Snapshot, inv: &Inventory) -> Target {
    let mut workloads = BTreeSet::new();
    if k.kind == "service" {
        if let Some(s) = inv.service(&k.namespace, &k.name) {
            for w in inv.service_workloads(s) {
                workloads.insert(format!("{}/{}", w.namespace, w.name));
            }
        }
        for e in &snap.edges {
            if e.service.as_deref() == Some(k.id.as_str()) && !e.target.starts_with("svc:") {
                workloads.insert(e.target.clone());
            }
        }
    } else {
        workloads.insert(k.id.clone());
    }
    Target {
        id: k.id.clone(),
        kind: k.kind,
        namespace: k.namespace.clone(),
        name: k.name.clone(),
        workloads,
    }
}

/// Resolve `asked` (with `-n` as `namespace`) against the snapshot's nodes
/// and the inventory's Services and workloads.
pub fn resolve(
    asked: &str,
    namespace: Option<&str>,
    snap: &Snapshot,
    inv: &Inventory,
) -> Result<Target, ResolveError> {
    let asked_trim = asked.trim().trim_start_matches("svc:");
    let (ns, name) = match asked_trim.split_once('/') {
        Some((n, m)) => (Some(n), m),
        None => (namespace, asked_trim),
    };
    let all = known(snap, inv);
    let hits: Vec<&Known> = all
        .iter()
        .filter(|k| k.name == name && ns.is_none_or(|n| k.namespace == n))
        .collect();
    // A Service wins over a workload of the same namespace and name.
    let mut by_ns: Vec<&Known> = Vec::new();
    for h in &hits {
        match by_ns.iter().position(|k| k.namespace == h.namespace) {
            Some(i) if by_ns[i].kind == "workload" && h.kind == "service" => by_ns[i] = h,
            Some(_) => {}
            None => by_ns.push(h),
        }
    }
    match by_ns.as_slice() {
        [one] => Ok(target_of(one, snap, inv)),
        [] => {
            let full = match ns {
                Some(n) => format!("{n}/{name}"),
                None => name.to_string(),
            };
            let mut scored: Vec<(usize, String)> = all
                .iter()
                .map(|k| {
                    let d = if ns.is_some() {
                        edit_distance(&full, &format!("{}/{}", k.namespace, k.name))
                    } else {
                        edit_distance(name, &k.name)
                    };
                    (d, format!("{}/{}", k.namespace, k.name))
                })
                .collect();
            scored.sort();
            scored.dedup_by(|a, b| a.1 == b.1);
            let limit = (full.chars().count() / 2).max(3);
            let close: Vec<String> = scored
                .into_iter()
                .filter(|(d, _)| *d <= limit)
                .take(3)
                .map(|(_, n)| n)
                .collect();
            Err(ResolveError::Unknown {
                asked: asked.to_string(),
                scope: match ns {
                    Some(n) => format!(" in namespace '{n}'"),
                    None => String::new(),
                },
                hint: if close.is_empty() {
                    String::new()
                } else {
                    format!("; did you mean {}?", close.join(", "))
                },
            })
        }
        many => Err(ResolveError::Ambiguous {
            asked: asked.to_string(),
            candidates: many
                .iter()
                .map(|k| format!("{}/{} ({})", k.namespace, k.name, k.kind))
                .collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::snapshot::Node;

    fn snap(ids: &[&str]) -> Snapshot {
        let mut s = Snapshot::empty("2026-01-01T00:00:00Z".into(), 10.0);
        for id in ids {
            let (ns, name) = id.split_once('/').unwrap();
            s.nodes.push(Node {
                id: id.to_string(),
                kind: NodeKind::Workload,
                namespace: Some(ns.into()),
                name: name.into(),
                app: None,
                version: None,
                meshed: true,
                signals: None,
            });
        }
        s
    }

    #[test]
    fn ambiguous_unknown_and_scoped() {
        let s = snap(&["shop/checkout", "staging/checkout", "shop/cart"]);
        let inv = Inventory::default();
        match resolve("checkout", None, &s, &inv) {
            Err(ResolveError::Ambiguous { candidates, .. }) => {
                assert_eq!(candidates.len(), 2);
                assert!(candidates[0].contains("shop/checkout"));
            }
            other => panic!("{other:?}"),
        }
        let t = resolve("checkout", Some("staging"), &s, &inv).unwrap();
        assert_eq!(t.id, "staging/checkout");
        let t = resolve("shop/checkout", Some("staging"), &s, &inv).unwrap();
        assert_eq!(t.id, "shop/checkout");
        let e = resolve("chekout", None, &s, &inv).unwrap_err().to_string();
        assert!(
            e.contains("'chekout'") && e.contains("shop/checkout"),
            "{e}"
        );
        let e = resolve("zzzzzzzzzz", None, &s, &inv)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("reviews", "reviews"), 0);
        assert_eq!(edit_distance("revews", "reviews"), 1);
    }
}
