//! A whole collection against a live cluster: connect, list, two scrape
//! rounds a window apart, build the snapshot.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use crate::collect::kube::{ConnectError, Connected, KubeOptions, connect};
use crate::collect::live::{ScrapeOptions, list_objects, select_targets};
use crate::collect::traces::TraceSource;
use crate::model::build::{BuildContext, Round, build_snapshot};
use crate::model::inventory::Inventory;
use crate::model::snapshot::{ClusterInfo, Snapshot, SourceState, SourceStatus};

#[derive(Debug)]
pub struct LiveOptions {
    pub kube: KubeOptions,
    /// Time between the two scrape rounds.
    pub window: Duration,
    pub scrape: ScrapeOptions,
    /// Print `scraped N/M` on stderr (only when it is a terminal).
    pub progress: bool,
    /// Extra declared topology (`--declared`).
    pub declared: Option<crate::analyze::Declared>,
}

/// Progress on stderr, only for a human watching a terminal.
pub fn stderr_progress(enabled: bool) -> impl Fn(usize, usize) + Sync {
    let tty = enabled && std::io::stderr().is_terminal();
    move |done, total| {
        if tty {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\rscraped {done}/{total}");
            if done == total {
                let _ = writeln!(e);
            }
        }
    }
}

/// List the cluster's objects into an inventory.
pub async fn inventory(conn: &Connected) -> (Inventory, Vec<SourceStatus>) {
    let (set, mut sources) = list_objects(&conn.client, &conn.scope).await;
    let (inv, problems) = set.into_inventory();
    sources.extend(problems.iter().map(|p| p.to_source("kube")));
    (inv, sources)
}

/// Summarise scrape failures of a set of rounds.
pub fn scrape_summary(rounds: &[Round], targets: usize, failures: &[SourceStatus]) -> SourceStatus {
    let scraped = rounds.last().map_or(0, |r| r.scrapes.len());
    let state = if targets > 0 && scraped == 0 {
        SourceState::Unavailable
    } else if failures.is_empty() {
        SourceState::Ok
    } else {
        SourceState::Degraded
    };
    SourceStatus::new(
        "scrapes",
        state,
        format!(
            "{} rounds; {scraped} of {targets} proxies scraped in the last round{}",
            rounds.len(),
            if failures.is_empty() {
                String::new()
            } else {
                format!("; {} scrape failures", failures.len())
            }
        ),
    )
}

/// Connect, list, scrape twice, build.
pub async fn live_snapshot(opts: &LiveOptions) -> Result<Snapshot, ConnectError> {
    live_snapshot_traced(opts, None).await
}

/// [`live_snapshot`], with trace spans from `traces` merged in before the
/// analysis (a failing backend is a `sources` entry, never an error).
pub async fn live_snapshot_traced(
    opts: &LiveOptions,
    traces: Option<&TraceSource>,
) -> Result<Snapshot, ConnectError> {
    let r = live_rounds(opts, 2, false).await?;
    let snap = build_live(&r);
    Ok(finish(snap, &r.inventory, opts, traces).await)
}

/// The snapshot of collected rounds, before traces and the analysis.
pub fn build_live(r: &LiveRounds) -> Snapshot {
    let ctx = BuildContext {
        sources: r.sources.clone(),
        cluster: Some(r.cluster.clone()),
        namespaces: r.namespaces.clone(),
    };
    build_snapshot(&r.inventory, &r.rounds, ctx)
}

/// What every live snapshot gets after it is built: the `--mesh` override,
/// trace spans merged in, then the analysis (which sees the trace edges).
async fn finish(
    mut snap: Snapshot,
    inv: &Inventory,
    opts: &LiveOptions,
    traces: Option<&TraceSource>,
) -> Snapshot {
    if let Some(m) = opts.scrape.mesh {
        snap.mesh.kind = m;
    }
    if let Some(t) = traces {
        // `--traces auto` looks for the tracing service in the cluster.
        let conn = if t.is_auto() {
            connect(&opts.kube).await.ok()
        } else {
            None
        };
        let kube = conn.as_ref().map(|c| (&c.client, &c.scope));
        t.merge_into(&mut snap, inv, kube).await;
    }
    let cfg = crate::analyze::AnalyzeConfig::default();
    crate::analyze::analyze(&mut snap, inv, opts.declared.as_ref(), &cfg);
    snap
}

/// A snapshot from Prometheus: the cluster (when reachable) still gives the
/// inventory; without it the snapshot is built from the metrics alone and
/// `sources` says the cluster is unavailable.
pub async fn prometheus_live_snapshot(
    opts: &LiveOptions,
    url: &str,
) -> Result<Snapshot, crate::app_main::Failure> {
    prometheus_live_snapshot_traced(opts, url, None).await
}

/// [`prometheus_live_snapshot`], with trace spans merged in before the analysis.
pub async fn prometheus_live_snapshot_traced(
    opts: &LiveOptions,
    url: &str,
    traces: Option<&TraceSource>,
) -> Result<Snapshot, crate::app_main::Failure> {
    let (inv, sources, cluster, namespaces) = match connect(&opts.kube).await {
        Ok(conn) => {
            let (inv, sources) = inventory(&conn).await;
            let cluster = ClusterInfo {
                context: conn.context.clone(),
                server: Some(conn.server.clone()),
            };
            (inv, sources, Some(cluster), conn.scope.namespaces())
        }
        Err(e) => (
            Inventory::default(),
            vec![SourceStatus::new(
                "kube",
                SourceState::Unavailable,
                format!("{e}; the snapshot comes from Prometheus alone"),
            )],
            None,
            opts.kube
                .namespace
                .clone()
                .filter(|_| !opts.kube.all_namespaces)
                .map(|n| vec![n]),
        ),
    };
    let ctx = BuildContext {
        sources,
        cluster,
        namespaces,
    };
    let snap = crate::collect::prom_api::prometheus_snapshot(url, opts.window, &inv, ctx).await?;
    Ok(finish(snap, &inv, opts, traces).await)
}

/// `--prometheus auto`: find the mesh's Prometheus in the cluster, reach it
/// through a port-forward, and take the snapshot from it. Without a
/// reachable cluster there is nothing to find: exit 4.
pub async fn prometheus_in_cluster_snapshot(
    opts: &LiveOptions,
    traces: Option<&TraceSource>,
) -> Result<Snapshot, crate::app_main::Failure> {
    use crate::app_main::Failure;
    use crate::collect::portforward;
    let conn = connect(&opts.kube).await?;
    let found = portforward::find(&conn.client, &conn.scope)
        .await
        .map_err(|e| Failure::Unreachable(format!("--prometheus auto: {e}")))?;
    let fwd = portforward::forward(&conn.client, found)
        .await
        .map_err(|e| Failure::Internal(format!("--prometheus auto: {e}")))?;
    let mut snap = prometheus_live_snapshot_traced(opts, &fwd.url, traces).await?;
    let f = &fwd.found;
    snap.sources.push(SourceStatus::new(
        "prometheus: in-cluster",
        SourceState::Ok,
        format!(
            "service {}, pod {}/{}:{} through a port-forward",
            f.service, f.namespace, f.pod, f.port
        ),
    ));
    Ok(snap)
}

/// The raw material of a collection of several rounds (for `triage`, which
/// needs a baseline window, and `record`, which writes it out).
#[derive(Debug)]
pub struct LiveRounds {
    pub inventory: Inventory,
    /// Rounds a window apart, oldest first.
    pub rounds: Vec<Round>,
    /// The scrape bodies as served, per round (empty unless asked for).
    pub raw: Vec<crate::collect::live::RawScrapes>,
    /// The objects as listed (empty unless asked for).
    pub objects: Vec<serde_json::Value>,
    pub sources: Vec<SourceStatus>,
    pub cluster: ClusterInfo,
    pub namespaces: Option<Vec<String>>,
}

/// A connected cluster and what was listed from it.
pub struct LiveListing {
    pub conn: Connected,
    /// Shared with the scrape tasks (each parses in its own task).
    pub inventory: std::sync::Arc<Inventory>,
    /// The objects as listed (empty unless asked for).
    pub objects: Vec<serde_json::Value>,
    pub sources: Vec<SourceStatus>,
}

/// Connect and list (keeping the objects as listed when `keep_raw`).
pub async fn live_listing(opts: &LiveOptions, keep_raw: bool) -> Result<LiveListing, ConnectError> {
    let conn = connect(&opts.kube).await?;
    crate::collect::timings::mark(|| "connected".into());
    let mut objects = Vec::new();
    let (set, mut sources) = crate::collect::live::list_objects_into(
        &conn.client,
        &conn.scope,
        keep_raw.then_some(&mut objects),
    )
    .await;
    crate::collect::timings::mark(|| "listed".into());
    let (inv, problems) = set.into_inventory();
    sources.extend(problems.iter().map(|p| p.to_source("kube")));
    Ok(LiveListing {
        conn,
        inventory: std::sync::Arc::new(inv),
        objects,
        sources,
    })
}

/// Connect, list, scrape `n` rounds (at least 2) a window apart; keep the
/// objects and scrape bodies as served when `keep_raw`.
pub async fn live_rounds(
    opts: &LiveOptions,
    n: usize,
    keep_raw: bool,
) -> Result<LiveRounds, ConnectError> {
    let listing = live_listing(opts, keep_raw).await?;
    Ok(scrape_rounds(listing, opts, n, keep_raw).await)
}

/// Scrape `n` rounds (at least 2) a window apart over a listing.
pub async fn scrape_rounds(
    listing: LiveListing,
    opts: &LiveOptions,
    n: usize,
    keep_raw: bool,
) -> LiveRounds {
    scrape_rounds_focused(listing, opts, n, keep_raw, None, None).await
}

/// A first round already taken (by a focused triage's discovery), its
/// failures and when it started.
pub struct FirstRound {
    pub round: Round,
    pub failures: Vec<SourceStatus>,
    pub started: tokio::time::Instant,
}

/// [`scrape_rounds`] over only the pods (`namespace/pod`) in `only` when
/// given, continuing after `first` when given (it counts as round 1).
pub async fn scrape_rounds_focused(
    listing: LiveListing,
    opts: &LiveOptions,
    n: usize,
    keep_raw: bool,
    only: Option<&std::collections::BTreeSet<String>>,
    first: Option<FirstRound>,
) -> LiveRounds {
    let LiveListing {
        conn,
        inventory: inv,
        objects,
        mut sources,
    } = listing;
    let targets: Vec<_> = select_targets(&inv, &conn.scope, &opts.scrape)
        .into_iter()
        .filter(|p| only.is_none_or(|o| o.contains(&p.key())))
        .collect();
    let progress = stderr_progress(opts.progress);
    let mut start = tokio::time::Instant::now();
    let mut rounds = Vec::new();
    let mut raw = Vec::new();
    let mut failures: Vec<SourceStatus> = Vec::new();
    if let Some(f) = first {
        start = f.started;
        rounds.push(f.round);
        raw.push(Default::default());
        failures.extend(f.failures);
    }
    for i in rounds.len()..n.max(2) {
        if i > 0 {
            tokio::time::sleep_until(start + opts.window * i as u32).await;
        }
        crate::collect::timings::mark(|| format!("round {}: start", i + 1));
        let (r, f, bodies) = crate::collect::live::scrape_round_raw(
            &conn.client,
            &inv,
            &targets,
            &opts.scrape,
            &progress,
            keep_raw,
        )
        .await;
        rounds.push(r);
        raw.push(bodies);
        failures.extend(f);
        crate::collect::timings::mark(|| {
            format!("round {}: scraped {} pods", i + 1, targets.len())
        });
    }
    failures.sort_by(|a, b| a.name.cmp(&b.name));
    failures.dedup_by(|a, b| a.name == b.name);
    sources.push(scrape_summary(&rounds, targets.len(), &failures));
    sources.extend(failures);
    drop(targets);
    LiveRounds {
        // Every scrape task has ended: the inventory is ours alone again.
        inventory: std::sync::Arc::try_unwrap(inv).unwrap_or_else(|shared| (*shared).clone()),
        rounds,
        raw,
        objects,
        sources,
        cluster: ClusterInfo {
            context: conn.context.clone(),
            server: Some(conn.server.clone()),
        },
        namespaces: conn.scope.namespaces(),
    }
}
