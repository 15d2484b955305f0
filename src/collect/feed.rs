//! The continuous collector behind the TUI: kube-runtime watches keep the
//! cluster's objects current (src/collect/watch), a task scrapes every
//! interval, rebuilds the snapshot from its last two rounds and publishes
//! it on a `watch` channel (latest wins: a stale scrape is worthless).
//! Commands from the UI (refresh now, pause, namespace) arrive on a bounded
//! channel.
//!
//! Like a headless snapshot, each snapshot merges the trace backend's
//! spans (`--traces`, fetched every [`TRACE_REFRESH`] alongside a scrape
//! round) and is analysed against `--declared`; the watches' changes to
//! mesh rules go through a [`RuleHistory`] and the last [`RULE_CHANGES`]
//! of them are attached as `rule_diffs` (`source: watch`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::analyze::history::RuleHistory;
use crate::collect::kube::{Connected, Scope};
use crate::collect::live::{ScrapeOptions, scrape_round, select_targets};
use crate::collect::session::scrape_summary;
use crate::collect::traces::{TraceInput, TraceSource};
use crate::collect::watch::WatchSet;
use crate::model::build::{BuildContext, Round, build_snapshot};
use crate::model::inventory::Inventory;
use crate::model::snapshot::{ClusterInfo, Snapshot, SourceStatus};
use crate::tui::{Command, Progress};

/// How long to wait for the watches' first lists before the first round.
const FIRST_SYNC: Duration = Duration::from_secs(10);

/// How often the trace backend is searched again (a search covers the
/// last 15 minutes and asks each service for up to 50 traces).
pub const TRACE_REFRESH: Duration = Duration::from_secs(30);

/// How far back the watched rule changes shown in a snapshot go.
pub const RULE_CHANGES: Duration = Duration::from_secs(30 * 60);

/// What the feed collects besides the proxies' metrics.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// Time between scrape rounds.
    pub interval: Duration,
    pub scrape: ScrapeOptions,
    /// `--declared`: extra declared topology for the analysis.
    pub declared: Option<crate::analyze::Declared>,
    /// `--traces`: the trace backend to merge.
    pub traces: Option<TraceSource>,
}

/// The watches' view of the cluster, rebuilt only when an object changed.
struct Objects {
    watches: WatchSet,
    generation: u64,
    inv: std::sync::Arc<Inventory>,
    /// Objects that could not be read (kept until the next rebuild).
    problems: Vec<SourceStatus>,
}

impl Objects {
    async fn start(conn: &Connected) -> Objects {
        let watches = WatchSet::start(&conn.client, &conn.scope).await;
        watches.wait_synced(FIRST_SYNC).await;
        let mut o = Objects {
            generation: watches.generation(),
            watches,
            inv: Default::default(),
            problems: Vec::new(),
        };
        o.rebuild();
        o
    }

    fn rebuild(&mut self) {
        let (inv, problems) = self.watches.current();
        (self.inv, self.problems) = (std::sync::Arc::new(inv), problems);
    }

    /// Refresh the inventory if an object changed; the sources now.
    fn refresh(&mut self) -> Vec<SourceStatus> {
        let g = self.watches.generation();
        if g != self.generation {
            self.generation = g;
            self.rebuild();
        }
        let mut s = self.watches.sources();
        s.extend(self.problems.iter().cloned());
        s
    }
}

/// How long to leave a pod alone after `failures` failed scrapes in a row:
/// one interval, doubling each time, at most a minute.
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    let factor = 1u32 << failures.min(6);
    (interval * factor).min(Duration::from_secs(60))
}

/// The watches' rule changes, diffed as they arrive.
struct RuleChanges {
    history: RuleHistory,
    /// The last watch event taken (`None`: none yet from this WatchSet).
    seen: Option<u64>,
}

impl RuleChanges {
    /// Take the events recorded since the last call and attach the last
    /// [`RULE_CHANGES`] to the snapshot.
    fn update(&mut self, watches: &WatchSet, snap: &mut Snapshot) {
        for ev in watches.rule_events_after(self.seen) {
            self.seen = Some(ev.seq);
            let at = jiff::Timestamp::from_millisecond(ev.at_ms).unwrap_or_else(|_| wall_clock());
            self.history
                .record(at, ev.before.as_ref(), ev.after.as_ref());
        }
        let since = wall_clock()
            .checked_sub(jiff::SignedDuration::try_from(RULE_CHANGES).unwrap_or_default())
            .unwrap_or_else(|_| wall_clock());
        self.history.prune_before(since);
        self.history.attach(snap, since);
    }
}

fn wall_clock() -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(crate::collect::live::now_ms())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The last trace search and when it was made.
#[derive(Default)]
struct Traces {
    latest: Option<TraceInput>,
    fetched: Option<tokio::time::Instant>,
}

impl Traces {
    /// Whether the last search is older than [`TRACE_REFRESH`] (or none).
    fn due(&self) -> bool {
        self.fetched.is_none_or(|t| t.elapsed() >= TRACE_REFRESH)
    }
}

/// Run until `Command::Quit` or until the command channel closes.
pub async fn run(
    mut conn: Connected,
    feed: FeedOptions,
    snapshots: watch::Sender<Arc<Snapshot>>,
    progress: watch::Sender<Progress>,
    mut commands: mpsc::Receiver<Command>,
) {
    let FeedOptions {
        interval,
        scrape,
        declared,
        traces: trace_source,
    } = feed;
    let mut objects = Objects::start(&conn).await;
    let mut rules = RuleChanges {
        history: RuleHistory::default(),
        seen: None,
    };
    let mut traces = Traces::default();
    let mut prev: Option<Round> = None;
    let mut paused = false;
    // Failing pods: consecutive failures and when to try again.
    let mut failing: std::collections::HashMap<String, (u32, tokio::time::Instant)> =
        std::collections::HashMap::new();
    loop {
        if !paused {
            let kube_sources = objects.refresh();
            let inv = &objects.inv;
            let now = tokio::time::Instant::now();
            let targets: Vec<_> = select_targets(inv, &conn.scope, &scrape)
                .into_iter()
                .filter(|p| {
                    let key = format!("scrape: {}/{}", p.namespace, p.name);
                    failing.get(&key).is_none_or(|(_, next)| *next <= now)
                })
                .collect();
            let total = targets.len();
            let prog = progress.clone();
            let report = move |done: usize, total: usize| {
                prog.send_modify(|p| {
                    p.scraped = done;
                    p.total = total;
                });
            };
            let fetch = async {
                match &trace_source {
                    Some(t) if traces.due() => {
                        // `--traces auto`: found in the cluster, through a port-forward.
                        Some(t.fetch(Some((&conn.client, &conn.scope))).await)
                    }
                    _ => None,
                }
            };
            let ((round, failures), fetched) = tokio::join!(
                scrape_round(&conn.client, inv, &targets, &scrape, &report),
                fetch
            );
            if let Some(f) = fetched {
                traces.latest = Some(f);
                traces.fetched = Some(now);
            }
            for p in &targets {
                failing.remove(&format!("scrape: {}/{}", p.namespace, p.name));
            }
            for f in &failures {
                let n = failing.get(&f.name).map_or(0, |(n, _)| *n) + 1;
                failing.insert(f.name.clone(), (n, now + backoff(interval, n)));
            }
            let rounds: Vec<Round> = prev
                .take()
                .into_iter()
                .chain(std::iter::once(round))
                .collect();
            let mut sources = kube_sources;
            sources.push(scrape_summary(&rounds, total, &failures));
            sources.extend(failures);
            // Pods left alone this round still show as failing.
            for (name, (n, next)) in &failing {
                if *next > now && !sources.iter().any(|x| &x.name == name) {
                    sources.push(SourceStatus::new(
                        name.clone(),
                        crate::model::snapshot::SourceState::Unavailable,
                        format!(
                            "{n} failed scrapes in a row; next try in {}s",
                            next.saturating_duration_since(now).as_secs()
                        ),
                    ));
                }
            }
            let ctx = BuildContext {
                sources,
                cluster: Some(ClusterInfo {
                    context: conn.context.clone(),
                    server: Some(conn.server.clone()),
                }),
                namespaces: conn.scope.namespaces(),
            };
            let mut snap = build_snapshot(inv, &rounds, ctx);
            if let Some(m) = scrape.mesh {
                snap.mesh.kind = m;
            }
            if let Some(input) = &traces.latest {
                crate::collect::traces::merge::merge(&mut snap, inv, input.clone());
            }
            let cfg = crate::analyze::AnalyzeConfig::default();
            crate::analyze::analyze(&mut snap, inv, declared.as_ref(), &cfg);
            rules.update(&objects.watches, &mut snap);
            let _ = snapshots.send(Arc::new(snap));
            progress.send_modify(|p| {
                p.last_refresh = Some(tokio::time::Instant::now());
                p.note = None;
            });
            prev = rounds.into_iter().last();
        }
        let wait = tokio::time::sleep(interval);
        tokio::pin!(wait);
        tokio::select! {
            _ = &mut wait => {}
            cmd = commands.recv() => match cmd {
                None | Some(Command::Quit) => return,
                Some(Command::Refresh) => {}
                Some(Command::Pause(p)) => {
                    paused = p;
                    progress.send_modify(|x| x.paused = p);
                }
                Some(Command::SetNamespace(ns)) => {
                    conn.scope = ns.map_or(Scope::All, Scope::Namespace);
                    objects = Objects::start(&conn).await;
                    rules.seen = None;
                    prev = None;
                }
                Some(Command::SetContext(ctx)) => {
                    progress.send_modify(|p| {
                        p.note = Some(format!("switching context to '{ctx}' needs a restart: meshscope --context {ctx}"));
                    });
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let i = Duration::from_secs(2);
        assert_eq!(backoff(i, 1), Duration::from_secs(4));
        assert_eq!(backoff(i, 2), Duration::from_secs(8));
        assert_eq!(backoff(i, 10), Duration::from_secs(60));
    }
}
