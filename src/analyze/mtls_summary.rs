//! The mTLS summary per namespace and mesh-wide, like Kiali's badge
//! (enabled / partially / not enabled / disabled), computed from the
//! declared modes (PeerAuthentication, Linkerd default-inbound-policy and
//! Server requirements, DestinationRules disabling TLS), beside the share
//! of requests that were observed over mTLS. Pure.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use super::model::{Model, MtlsMode, PeerAuthn};
use crate::model::snapshot::{MtlsBadge, MtlsScopeSummary, MtlsSummary, NodeKind, Snapshot};

/// Share of mTLS over edges, weighted by rate (equal weights when no edge
/// has a rate, e.g. with a single collection round).
#[derive(Debug, Default, Clone, Copy)]
struct Share {
    weighted: (f64, f64),
    unweighted: (f64, f64),
}

impl Share {
    fn add(&mut self, fraction: f64, rps: Option<f64>) {
        if let Some(w) = rps.filter(|r| *r > 0.0) {
            self.weighted.0 += w * fraction;
            self.weighted.1 += w;
        }
        self.unweighted.0 += fraction;
        self.unweighted.1 += 1.0;
    }
    fn value(&self) -> Option<f64> {
        if self.weighted.1 > 0.0 {
            Some(self.weighted.0 / self.weighted.1)
        } else if self.unweighted.1 > 0.0 {
            Some(self.unweighted.0 / self.unweighted.1)
        } else {
            None
        }
    }
}

/// The scope-wide declaration: the first non-UNSET one (enforced first).
fn scope_mode<'a>(peers: impl Iterator<Item = &'a PeerAuthn>) -> Option<&'a PeerAuthn> {
    peers
        .filter(|p| p.mode != MtlsMode::Unset)
        .max_by_key(|p| p.enforced)
}

fn describe(p: Option<&PeerAuthn>, inherited: Option<&PeerAuthn>) -> (MtlsMode, bool, String) {
    match p.or(inherited) {
        Some(p) => (
            p.mode,
            p.enforced,
            format!("{} ({})", p.mode.as_str(), p.resource),
        ),
        None => (MtlsMode::Permissive, true, "PERMISSIVE (default)".into()),
    }
}

/// Exceptions below a scope-wide `mode`: more specific declarations with
/// another mode (workload or port level), and TLS-disabling rules.
fn exceptions<'a>(
    mode: MtlsMode,
    below: impl Iterator<Item = &'a PeerAuthn>,
    tls_off: impl Iterator<Item = &'a String>,
) -> (Vec<String>, bool, bool) {
    let (mut out, mut any_strict, mut any_weaker) = (Vec::new(), false, false);
    for p in below {
        let modes = std::iter::once(p.mode).chain(p.ports.iter().map(|(_, m)| *m));
        let differing: Vec<MtlsMode> = modes
            .filter(|m| *m != MtlsMode::Unset && *m != mode)
            .collect();
        if differing.is_empty() {
            continue;
        }
        any_strict |= differing.contains(&MtlsMode::Strict);
        any_weaker |= differing.iter().any(|m| *m != MtlsMode::Strict);
        let list: Vec<&str> = differing.iter().map(|m| m.as_str()).collect();
        out.push(format!("{} {}", list.join("/"), p.resource));
    }
    for dr in tls_off {
        any_weaker = true;
        out.push(format!("TLS disabled by {dr}"));
    }
    (out, any_strict, any_weaker)
}

fn badge(mode: MtlsMode, enforced: bool, any_strict: bool, any_weaker: bool) -> MtlsBadge {
    match mode {
        MtlsMode::Strict if enforced && !any_weaker => MtlsBadge::Enabled,
        MtlsMode::Strict => MtlsBadge::Partially,
        _ if any_strict => MtlsBadge::Partially,
        MtlsMode::Disable => MtlsBadge::Disabled,
        _ => MtlsBadge::NotEnabled,
    }
}

/// The summary for `snap`'s namespaces (those of its workload nodes and of
/// the inventory's workloads, `namespaces`) and the mesh.
pub fn summarize(snap: &Snapshot, model: &Model, namespaces: &BTreeSet<String>) -> MtlsSummary {
    let ns_of: FxHashMap<&str, &str> = snap
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Workload)
        .filter_map(|n| Some((n.id.as_str(), n.namespace.as_deref()?)))
        .collect();
    let mut mesh_share = Share::default();
    let mut ns_share: FxHashMap<&str, Share> = FxHashMap::default();
    for e in &snap.edges {
        let (Some(ns), Some(f)) = (ns_of.get(e.target.as_str()), e.mtls.fraction) else {
            continue;
        };
        mesh_share.add(f, e.signals.rps);
        ns_share.entry(ns).or_default().add(f, e.signals.rps);
    }
    let mut all_ns: BTreeSet<&str> = namespaces.iter().map(String::as_str).collect();
    all_ns.extend(ns_of.values().copied());

    let mesh_wide = scope_mode(
        model
            .peer
            .iter()
            .filter(|p| p.namespace.is_none() && p.workloads.is_none()),
    );
    let in_ns = |ws: &[String], ns: &str| {
        ws.iter()
            .any(|w| w.split_once('/').is_some_and(|(n, _)| n == ns))
    };
    let namespaces: Vec<MtlsScopeSummary> = all_ns
        .iter()
        .map(|ns| {
            let own = scope_mode(
                model
                    .peer
                    .iter()
                    .filter(|p| p.workloads.is_none() && p.namespace.as_deref() == Some(ns)),
            );
            let (mode, enforced, declared) = describe(own, mesh_wide);
            let below = model.peer.iter().filter(|p| {
                p.workloads.as_deref().is_some_and(|ws| in_ns(ws, ns))
                    || (p.workloads.is_none()
                        && p.namespace.as_deref() == Some(ns)
                        && !p.ports.is_empty())
            });
            let tls_off = model
                .tls_disabled
                .iter()
                .filter(|(_, ws)| in_ns(ws, ns))
                .map(|(r, _)| r);
            let (exceptions, any_strict, any_weaker) = exceptions(mode, below, tls_off);
            MtlsScopeSummary {
                namespace: Some((*ns).to_string()),
                status: badge(mode, enforced, any_strict, any_weaker),
                declared,
                exceptions,
                observed: ns_share.get(ns).and_then(Share::value),
            }
        })
        .collect();

    let (mode, enforced, declared) = describe(mesh_wide, None);
    let below = model
        .peer
        .iter()
        .filter(|p| p.namespace.is_some() || p.workloads.is_some() || !p.ports.is_empty());
    let tls_off = model.tls_disabled.iter().map(|(r, _)| r);
    let (exceptions, any_strict, any_weaker) = exceptions(mode, below, tls_off);
    MtlsSummary {
        mesh: MtlsScopeSummary {
            namespace: None,
            status: badge(mode, enforced, any_strict, any_weaker),
            declared,
            exceptions,
            observed: mesh_share.value(),
        },
        namespaces,
    }
}
