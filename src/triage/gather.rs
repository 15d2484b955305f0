//! The focused collection of a triage (see [`crate::triage::focus`]): from a
//! bundle, only the needed scrape files are parsed; against a cluster, only
//! the needed proxies are scraped each round. Falls back to the whole mesh
//! when the focus cannot be found, or when `MESHSCOPE_TRIAGE_FULL=1`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::app_main::Failure;
use crate::collect::bundle::BundleIndex;
use crate::collect::session::{FirstRound, LiveOptions, scrape_rounds_focused};
use crate::model::build::Round;
use crate::model::inventory::Inventory;
use crate::model::snapshot::{ClusterInfo, SourceState, SourceStatus};
use crate::triage::focus::{Discovery, Fallback, PodsOf};
use crate::triage::run::{Material, Request};

/// Whether `MESHSCOPE_TRIAGE_FULL` turns the focus off.
pub fn focus_disabled() -> bool {
    std::env::var("MESHSCOPE_TRIAGE_FULL").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn pods_of<'k>(inv: &Inventory, keys: impl Iterator<Item = &'k String>) -> PodsOf {
    let mut m = PodsOf::new();
    for k in keys {
        let (ns, pod) = k.split_once('/').unwrap_or((k.as_str(), ""));
        m.entry(inv.workload_of_pod(ns, pod).id())
            .or_default()
            .push(k.clone());
    }
    m
}

/// What the focus did, as a `sources` entry.
fn focus_source(focus: &Result<usize, Fallback>, total: usize) -> SourceStatus {
    match focus {
        Ok(n) => SourceStatus::new(
            "triage focus",
            SourceState::Ok,
            format!(
                "{n} of {total} proxies: the service, its callers, callees and the walks of the report"
            ),
        ),
        Err(f) => SourceStatus::new(
            "triage focus",
            SourceState::Degraded,
            format!("every proxy was read: {f}"),
        ),
    }
}

/// Discover the focus over the last round of a bundle.
fn discover_bundle(
    idx: &BundleIndex,
    req: &Request,
) -> Result<(Round, BTreeSet<String>), Fallback> {
    let last = idx
        .rounds
        .len()
        .checked_sub(1)
        .ok_or_else(|| Fallback("the bundle has no scrape round".into()))?;
    let keys = idx.rounds[last].files.iter().map(|(k, _)| k);
    let mut d = Discovery::new(
        &idx.inventory,
        &req.service,
        req.namespace.as_deref(),
        pods_of(&idx.inventory, keys),
        idx.rounds[last].at_ms,
    )?;
    loop {
        let wave: BTreeSet<String> = d.next_wave()?.into_iter().collect();
        if wave.is_empty() {
            return Ok(d.finish());
        }
        let read = idx.read_round(last, &|k| wave.contains(k), d.wants_bodies());
        d.add_bodies(read.bodies.iter().map(|(k, b)| (k, b.as_slice())));
        d.add(read.round);
    }
}

/// A bundle's rounds as material, only the scrapes the triage reads.
pub fn bundle_material_focused(
    dir: &Path,
    req: &Request,
    declared: Option<crate::analyze::Declared>,
) -> Result<Material, Failure> {
    let idx =
        crate::collect::bundle::open_bundle(dir).map_err(|e| Failure::BadInput(e.to_string()))?;
    let total = idx.rounds.last().map_or(0, |r| r.files.len());
    let focus = if focus_disabled() {
        Err(Fallback("MESHSCOPE_TRIAGE_FULL is set".into()))
    } else {
        discover_bundle(&idx, req)
    };
    let cluster = idx.meta.context.as_ref().map(|c| ClusterInfo {
        context: Some(c.clone()),
        server: idx.meta.server.clone(),
    });
    let (b, counted) = match focus {
        Ok((round, pods)) => {
            let n = pods.len();
            let last = idx.rounds.len().saturating_sub(1);
            (
                idx.read_reusing(&|k| pods.contains(k), Some((last, round))),
                Ok(n),
            )
        }
        Err(f) => (idx.read(&|_| true), Err(f)),
    };
    let mut sources = b.sources;
    sources.push(focus_source(&counted, total));
    Ok(Material {
        inventory: b.inventory,
        rounds: b.rounds,
        sources,
        cluster,
        namespaces: None,
        declared,
    })
}

/// Three live rounds a window apart, over only the proxies the triage
/// reads. `req`'s service is resolved against the listed objects first, so
/// an unknown name fails before any scrape.
pub async fn live_material_focused(opts: &LiveOptions, req: &Request) -> Result<Material, Failure> {
    use crate::collect::timings::mark;
    mark(|| "listing".into());
    let listing = crate::collect::session::live_listing(opts, false).await?;
    mark(|| format!("listed {} pods", listing.inventory.pods.len()));
    let empty = crate::model::snapshot::Snapshot::empty(String::new(), 0.0);
    if !listing.inventory.workloads.is_empty() {
        crate::triage::resolve(
            &req.service,
            req.namespace.as_deref(),
            &empty,
            &listing.inventory,
        )
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    }
    let targets =
        crate::collect::live::select_targets(&listing.inventory, &listing.conn.scope, &opts.scrape);
    let total = targets.len();
    let keys: Vec<String> = targets.iter().map(|p| p.key()).collect();
    let started = tokio::time::Instant::now();
    let at_ms = crate::collect::live::now_ms();
    let mut failures = Vec::new();
    let found: Result<(Round, BTreeSet<String>), Fallback> = async {
        if focus_disabled() {
            return Err(Fallback("MESHSCOPE_TRIAGE_FULL is set".into()));
        }
        let mut d = Discovery::new(
            &listing.inventory,
            &req.service,
            req.namespace.as_deref(),
            pods_of(&listing.inventory, keys.iter()),
            at_ms,
        )?;
        let progress = crate::collect::session::stderr_progress(opts.progress);
        loop {
            let wave: BTreeSet<String> = d.next_wave()?.into_iter().collect();
            if wave.is_empty() {
                return Ok(d.finish());
            }
            let pods: Vec<_> = targets
                .iter()
                .copied()
                .filter(|p| wave.contains(&p.key()))
                .collect();
            let (r, f, bodies) = crate::collect::live::scrape_round_raw(
                &listing.conn.client,
                &listing.inventory,
                &pods,
                &opts.scrape,
                &progress,
                d.wants_bodies(),
            )
            .await;
            mark(|| format!("discovery wave: scraped {} pods", pods.len()));
            failures.extend(f);
            d.add_bodies(bodies.iter().map(|(k, b)| (k, b.as_slice())));
            d.add(r);
        }
    }
    .await;
    mark(|| "discovery done".into());
    let (r, counted) = match found {
        Ok((round, pods)) => {
            let n = pods.len();
            let first = FirstRound {
                round,
                failures,
                started,
            };
            let r = scrape_rounds_focused(listing, opts, 3, false, Some(&pods), Some(first)).await;
            (r, Ok(n))
        }
        Err(f) => (
            scrape_rounds_focused(listing, opts, 3, false, None, None).await,
            Err(f),
        ),
    };
    let mut sources = r.sources;
    sources.push(focus_source(&counted, total));
    Ok(Material {
        inventory: r.inventory,
        rounds: r.rounds,
        sources,
        cluster: Some(r.cluster),
        namespaces: r.namespaces,
        declared: opts.declared.clone(),
    })
}
