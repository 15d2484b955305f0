//! The continuous collector behind the TUI: kube-runtime watches keep the
//! cluster's objects current (src/collect/watch), a task scrapes every
//! interval, rebuilds the snapshot from its last two rounds and publishes
//! it on a `watch` channel (latest wins: a stale scrape is worthless).
//! Commands from the UI (refresh now, pause, namespace) arrive on a bounded
//! channel.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::collect::kube::{Connected, Scope};
use crate::collect::live::{ScrapeOptions, scrape_round, select_targets};
use crate::collect::session::scrape_summary;
use crate::collect::watch::WatchSet;
use crate::model::build::{BuildContext, Round, build_snapshot};
use crate::model::inventory::Inventory;
use crate::model::snapshot::{ClusterInfo, Snapshot, SourceStatus};
use crate::tui::{Command, Progress};

/// How long to wait for the watches' first lists before the first round.
const FIRST_SYNC: Duration = Duration::from_secs(10);

/// The watches' view of the cluster, rebuilt only when an object changed.
struct Objects {
    watches: WatchSet,
    generation: u64,
    inv: Inventory,
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
            inv: Inventory::default(),
            problems: Vec::new(),
        };
        o.rebuild();
        o
    }

    fn rebuild(&mut self) {
        (self.inv, self.problems) = self.watches.current();
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

/// Run until `Command::Quit` or until the command channel closes.
pub async fn run(
    mut conn: Connected,
    interval: Duration,
    scrape: ScrapeOptions,
    snapshots: watch::Sender<Arc<Snapshot>>,
    progress: watch::Sender<Progress>,
    mut commands: mpsc::Receiver<Command>,
) {
    let mut objects = Objects::start(&conn).await;
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
            let (round, failures) =
                scrape_round(&conn.client, inv, &targets, &scrape, &report).await;
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
            let cfg = crate::analyze::AnalyzeConfig::default();
            crate::analyze::analyze(&mut snap, inv, None, &cfg);
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
