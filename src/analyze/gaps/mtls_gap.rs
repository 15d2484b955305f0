//! `mtls_gap`: plaintext into a workload whose effective mode is STRICT
//! (critical; warning when the requirement is not enforced, e.g. Linkerd
//! audit) or PERMISSIVE (warning); a DestinationRule disabling TLS towards
//! STRICT workloads (critical); and, as info, a PERMISSIVE declaration
//! under which every observed call is already mTLS ("safe to tighten").

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::analyze::declared::istio_peer::effective;
use crate::analyze::gaps::{Ctx, gap, pct, plaintext, subject};
use crate::analyze::index::Idx;
use crate::analyze::model::{EffectiveMode, MtlsMode, PeerAuthn};
use crate::model::snapshot::{Gap, MtlsStatus, Severity};
use rustc_hash::{FxHashMap, FxHashSet};

/// The effective mode of a meshed workload target, `None` otherwise
/// (borrowed when [`Ctx`] computed it already, for every edge target).
pub fn target_mode<'c>(ctx: &'c Ctx, target: &str) -> Option<Cow<'c, EffectiveMode>> {
    match ctx.target_modes.get(target) {
        Some(m) => m.as_ref().map(Cow::Borrowed),
        None => mode_of(ctx.inv, &ctx.model.peer, target).map(Cow::Owned),
    }
}

/// The effective PeerAuthentication mode of a meshed workload `target`.
pub fn mode_of(inv: &Idx, peers: &[PeerAuthn], target: &str) -> Option<EffectiveMode> {
    let w = inv.workload(target)?;
    w.meshed.then(|| effective(peers, w))
}

/// [`mode_of`] for each of `targets`. A workload that no workload-level
/// declaration names has its namespace's mode, computed once per namespace.
pub fn modes_of<'a>(
    inv: &Idx<'a>,
    peers: &[PeerAuthn],
    targets: impl Iterator<Item = &'a str>,
) -> FxHashMap<&'a str, Option<EffectiveMode>> {
    // (namespace, name) pairs some workload-level declaration may name:
    // every split of its ids at a `/`, as `effective` compares them.
    let mut pinned: FxHashSet<(&str, &str)> = FxHashSet::default();
    for p in peers.iter().filter(|p| p.mode != MtlsMode::Unset) {
        for id in p.workloads.iter().flatten() {
            for (i, _) in id.match_indices('/') {
                pinned.insert((&id[..i], &id[i + 1..]));
            }
        }
    }
    let mut by_ns: FxHashMap<&str, EffectiveMode> = FxHashMap::default();
    let mut out = FxHashMap::default();
    for t in targets {
        if out.contains_key(t) {
            continue;
        }
        let mode = inv.workload(t).filter(|w| w.meshed).map(|w| {
            if pinned.contains(&(w.namespace.as_str(), w.name.as_str())) {
                effective(peers, w)
            } else {
                by_ns
                    .entry(w.namespace.as_str())
                    .or_insert_with(|| effective(peers, w))
                    .clone()
            }
        });
        out.insert(t, mode);
    }
    out
}

/// Per edge: (declared mode text, verdict).
pub fn verdicts(ctx: &Ctx) -> Vec<Option<(String, String)>> {
    // The declared text is the same for every edge into a target.
    let mut texts: FxHashMap<&str, String> = FxHashMap::default();
    ctx.snap
        .edges
        .iter()
        .map(|e| {
            let m = target_mode(ctx, &e.target)?;
            let declared = texts
                .entry(e.target.as_str())
                .or_insert_with(|| format!("{} ({})", m.mode.as_str(), m.source))
                .clone();
            let verdict = match (e.mtls.status, m.mode) {
                (MtlsStatus::Unknown, _) => "unknown",
                (MtlsStatus::Full, MtlsMode::Permissive) if m.explicit => "safe_to_tighten",
                (MtlsStatus::Full, _) => "ok",
                (_, MtlsMode::Strict) => "plaintext_under_strict",
                (_, MtlsMode::Disable) => "ok",
                _ => "plaintext_permitted",
            };
            Some((declared, verdict.to_string()))
        })
        .collect()
}

/// Check every edge, DestinationRule and PERMISSIVE declaration.
pub fn check(ctx: &Ctx) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut by_source: BTreeMap<String, (bool, usize)> = BTreeMap::new();
    for (i, e) in ctx.snap.edges.iter().enumerate() {
        let Some(m) = target_mode(ctx, &e.target) else {
            continue;
        };
        if m.explicit && m.mode == MtlsMode::Permissive {
            let full = e.mtls.status == MtlsStatus::Full;
            match by_source.get_mut(&m.source) {
                Some(entry) => {
                    entry.0 &= full;
                    entry.1 += 1;
                }
                None => {
                    by_source.insert(m.source.clone(), (full, 1));
                }
            }
        }
        if !plaintext(e) {
            continue;
        }
        let share = e
            .mtls
            .fraction
            .map(|f| pct(1.0 - f))
            .unwrap_or_else(|| "part".into());
        let c = &ctx.callers[i];
        let (sev, why) = match m.mode {
            MtlsMode::Strict if m.enforced => (Severity::Critical, "requires mTLS"),
            MtlsMode::Strict => (
                Severity::Warning,
                "requires mTLS but does not enforce it (audit)",
            ),
            MtlsMode::Permissive | MtlsMode::Unset => {
                (Severity::Warning, "is PERMISSIVE, so plaintext is accepted")
            }
            MtlsMode::Disable => continue,
        };
        let via = if c.attributed {
            " (attributed: the only workload without a proxy)"
        } else {
            ""
        };
        out.push(gap(
            "mtls_gap",
            sev,
            subject(c, e),
            format!(
                "{share} of the calls from {}{via} to {} are plaintext, and {} {why}.",
                c.id, e.target, m.source
            ),
        ));
    }
    for (dr, ws) in &ctx.model.tls_disabled {
        let strict: Vec<&String> = ws
            .iter()
            .filter(|w| target_mode(ctx, w).is_some_and(|m| m.mode == MtlsMode::Strict))
            .collect();
        if !strict.is_empty() {
            out.push(gap("mtls_gap", Severity::Critical, dr.clone(), format!(
                "{dr} sets tls.mode DISABLE towards {}, whose effective PeerAuthentication is STRICT.",
                strict.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))));
        }
    }
    for (src, (all_full, n)) in by_source {
        if all_full && n > 0 {
            out.push(gap("mtls_gap", Severity::Info, src.clone(), format!(
                "{src} is PERMISSIVE but all {n} observed edges into its workloads use mTLS: safe to tighten to STRICT.")));
        }
    }
    out
}
