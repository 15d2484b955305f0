//! Watches (kube-runtime watchers with backoff) over everything the model
//! needs, kept in memory for the TUI's continuous collection: Namespaces,
//! Pods, Services, the workload controllers and every mesh rule kind the
//! cluster serves (found through discovery). Never Secrets.
//!
//! Each resource has its own task; a 403 makes that resource `degraded`
//! (naming the refused verb) while the others go on; a 410 Gone or a
//! dropped connection restarts the watch (re-list) and is counted. Changes
//! to mesh rules after the first list are kept as [`RuleEvent`]s.

pub mod state;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube::Client;
use kube::api::{Api, DynamicObject, TypeMeta};
use kube::discovery::{ApiResource, Discovery, Scope as DiscoveryScope};
use kube::runtime::{WatchStreamExt, watcher};

use crate::collect::k8s::ObjectSet;
use crate::collect::kube::Scope;
use crate::collect::live::{MESH_GROUPS, describe_kube_error, now_ms};
use crate::model::inventory::Inventory;
use crate::model::snapshot::{SourceState, SourceStatus};

pub use state::RuleEvent;
use state::{Change, ResourceState};

#[derive(Default)]
struct Shared {
    resources: Vec<ResourceState>,
    /// Bumped whenever a visible object changes.
    generation: u64,
    events: VecDeque<RuleEvent>,
    discovery_error: Option<String>,
}

/// Running watches; dropping it stops them.
pub struct WatchSet {
    shared: Arc<Mutex<Shared>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    scope: Scope,
}

impl Drop for WatchSet {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panicking watch task cannot leave the maps half-written in a way
    // that matters more than losing them: keep going with what is there.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::All => "at the cluster scope".into(),
        Scope::Namespace(ns) => format!("in namespace '{ns}'"),
    }
}

/// An error of a watch, in words, and whether it is a refusal (403).
fn describe(e: &watcher::Error, plural: &str, scope: &Scope) -> (String, bool) {
    let refused = |verb: &str, err: &kube::Error| match err {
        kube::Error::Api(s) if s.code == 403 => Some(format!(
            "forbidden: RBAC refused verb '{verb}' on '{plural}' {}: {}",
            scope_text(scope),
            s.message
        )),
        _ => None,
    };
    match e {
        watcher::Error::InitialListFailed(err) => match refused("list", err) {
            Some(m) => (m, true),
            None => (
                format!(
                    "list {plural} failed: {}; retrying",
                    describe_kube_error(err)
                ),
                false,
            ),
        },
        watcher::Error::WatchStartFailed(err) => match refused("watch", err) {
            Some(m) => (m, true),
            None => (
                format!(
                    "watch {plural} failed to start: {}; retrying",
                    describe_kube_error(err)
                ),
                false,
            ),
        },
        watcher::Error::WatchError(s) if s.code == 410 => (
            format!(
                "watch of {plural} expired (410 Gone: {}); re-listed",
                s.message
            ),
            false,
        ),
        watcher::Error::WatchError(s) => (
            format!(
                "watch of {plural}: server error {} {}: {}",
                s.code, s.reason, s.message
            ),
            false,
        ),
        watcher::Error::WatchFailed(err) => (
            format!(
                "watch of {plural} broke: {}; resuming",
                describe_kube_error(err)
            ),
            false,
        ),
        watcher::Error::NoResourceVersion => (
            format!("{plural}: the server gave no resourceVersion (does it support watch?)"),
            false,
        ),
    }
}

/// What to watch: the core resources, then the mesh rule kinds discovery finds.
async fn resources(client: &Client) -> (Vec<(ApiResource, bool, bool)>, Option<String>) {
    // (resource, namespaced, is a mesh rule)
    let mut out = vec![
        (ApiResource::erase::<Namespace>(&()), false, false),
        (ApiResource::erase::<Pod>(&()), true, false),
        (ApiResource::erase::<Service>(&()), true, false),
        (ApiResource::erase::<Deployment>(&()), true, false),
        (ApiResource::erase::<ReplicaSet>(&()), true, false),
        (ApiResource::erase::<StatefulSet>(&()), true, false),
        (ApiResource::erase::<DaemonSet>(&()), true, false),
        (ApiResource::erase::<Job>(&()), true, false),
        (
            ApiResource::erase::<k8s_openapi::api::discovery::v1::EndpointSlice>(&()),
            true,
            false,
        ),
    ];
    match Discovery::new(client.clone())
        .filter(&MESH_GROUPS)
        .run()
        .await
    {
        Ok(d) => {
            for group in d.groups() {
                for (ar, caps) in group.recommended_resources() {
                    if caps.supports_operation(kube::discovery::verbs::WATCH)
                        && caps.supports_operation(kube::discovery::verbs::LIST)
                    {
                        out.push((ar, caps.scope == DiscoveryScope::Namespaced, true));
                    }
                }
            }
            (out, None)
        }
        Err(e) => (out, Some(format!("API discovery failed: {e}"))),
    }
}

impl WatchSet {
    /// Start watching. Returns at once; use [`WatchSet::wait_synced`] to
    /// wait for the first lists.
    pub async fn start(client: &Client, scope: &Scope) -> WatchSet {
        let (res, discovery_error) = resources(client).await;
        let shared = Arc::new(Mutex::new(Shared {
            resources: res
                .iter()
                .map(|(ar, _, rule)| ResourceState::new(&ar.plural, *rule))
                .collect(),
            discovery_error,
            ..Shared::default()
        }));
        let mut tasks = Vec::new();
        for (i, (ar, namespaced, _)) in res.into_iter().enumerate() {
            let (api, config) = match (scope, namespaced) {
                (Scope::Namespace(ns), true) => (
                    Api::<DynamicObject>::namespaced_with(client.clone(), ns, &ar),
                    watcher::Config::default(),
                ),
                // The one namespace of a namespaced scope, not all of them.
                (Scope::Namespace(ns), false) if ar.kind == "Namespace" => (
                    Api::<DynamicObject>::all_with(client.clone(), &ar),
                    watcher::Config::default().fields(&format!("metadata.name={ns}")),
                ),
                _ => (
                    Api::<DynamicObject>::all_with(client.clone(), &ar),
                    watcher::Config::default(),
                ),
            };
            let shared = shared.clone();
            let scope = scope.clone();
            tasks.push(tokio::spawn(async move {
                let types = TypeMeta {
                    api_version: ar.api_version.clone(),
                    kind: ar.kind.clone(),
                };
                let to_value = |mut o: DynamicObject| {
                    o.types = Some(types.clone());
                    serde_json::to_value(o).unwrap_or_default()
                };
                let mut stream = watcher(api, config).default_backoff().boxed();
                while let Some(item) = stream.next().await {
                    let at = now_ms();
                    let mut g = lock(&shared);
                    let Shared {
                        resources,
                        generation,
                        events,
                        ..
                    } = &mut *g;
                    let Some(r) = resources.get_mut(i) else {
                        return;
                    };
                    match item {
                        Ok(ev) => {
                            let change = match ev {
                                watcher::Event::Init => Change::Init,
                                watcher::Event::InitApply(o) => Change::InitApply(to_value(o)),
                                watcher::Event::InitDone => Change::InitDone,
                                watcher::Event::Apply(o) => Change::Apply(to_value(o)),
                                watcher::Event::Delete(o) => Change::Delete(to_value(o)),
                            };
                            if r.apply(change, at, events) {
                                *generation += 1;
                            }
                        }
                        // Not served by this cluster (e.g. an API group
                        // disabled): nothing to watch, not a problem.
                        Err(watcher::Error::InitialListFailed(kube::Error::Api(s)))
                            if s.code == 404 && !r.synced =>
                        {
                            r.mark_not_served();
                            return;
                        }
                        Err(e) => {
                            let (msg, forbidden) = describe(&e, &ar.plural, &scope);
                            r.fail(msg, forbidden);
                        }
                    }
                }
            }));
        }
        WatchSet {
            shared,
            tasks,
            scope: scope.clone(),
        }
    }

    /// The scope the watches cover.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Wait until every resource has listed once or failed, at most `limit`.
    /// Returns whether all of them synced.
    pub async fn wait_synced(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let (all_synced, settled) = {
                let g = lock(&self.shared);
                (
                    g.resources.iter().all(|r| r.synced),
                    g.resources.iter().all(|r| r.synced || r.errors > 0),
                )
            };
            if all_synced {
                return true;
            }
            if settled || tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A counter that moves whenever a watched object changes.
    pub fn generation(&self) -> u64 {
        lock(&self.shared).generation
    }

    /// The objects known now, as an object set.
    pub fn objects(&self) -> ObjectSet {
        let g = lock(&self.shared);
        let mut set = ObjectSet::default();
        for r in &g.resources {
            for o in r.objects() {
                set.add(o.clone());
            }
        }
        set
    }

    /// The inventory from the objects known now, and the objects that could
    /// not be read (as sources).
    pub fn current(&self) -> (Inventory, Vec<SourceStatus>) {
        let (inv, problems) = self.objects().into_inventory();
        (inv, problems.iter().map(|p| p.to_source("kube")).collect())
    }

    /// The inventory with every source: the watches', then the objects'.
    pub fn inventory(&self) -> (Inventory, Vec<SourceStatus>) {
        let (inv, problems) = self.current();
        let mut sources = self.sources();
        sources.extend(problems);
        (inv, sources)
    }

    /// One `kube` summary, then one entry per resource in trouble.
    pub fn sources(&self) -> Vec<SourceStatus> {
        let g = lock(&self.shared);
        let objects: usize = g.resources.iter().map(ResourceState::len).sum();
        let restarts: u32 = g.resources.iter().map(|r| r.lists.saturating_sub(1)).sum();
        let rules = g.resources.iter().filter(|r| r.rule).count();
        let mut out = Vec::new();
        let mut troubled = 0;
        for r in g.resources.iter().filter(|r| !r.not_served) {
            let detail = if let Some(f) = &r.forbidden {
                Some(f.clone())
            } else if let Some(e) = &r.error {
                Some(if r.synced {
                    format!("{e} (serving the last known {} objects)", r.len())
                } else {
                    e.clone()
                })
            } else if !r.synced {
                Some("waiting for the first list".to_string())
            } else {
                None
            };
            if let Some(d) = detail {
                troubled += 1;
                out.push(SourceStatus::new(
                    format!("kube: {}", r.plural),
                    SourceState::Degraded,
                    d,
                ));
            }
        }
        if let Some(e) = &g.discovery_error {
            troubled += 1;
            out.push(SourceStatus::new(
                "kube: discovery",
                SourceState::Degraded,
                e.clone(),
            ));
        }
        let state = if troubled > 0 {
            SourceState::Degraded
        } else {
            SourceState::Ok
        };
        let last = g
            .resources
            .iter()
            .filter_map(|r| r.last_error.as_deref())
            .next_back();
        out.insert(
            0,
            SourceStatus::new(
                "kube",
                state,
                format!(
                    "watching {} resources {} ({rules} mesh rule kinds): {objects} objects; {restarts} watch restarts{}",
                    g.resources.iter().filter(|r| !r.not_served).count(),
                    scope_text(&self.scope),
                    last.map(|l| format!("; last problem: {l}")).unwrap_or_default()
                ),
            ),
        );
        out
    }

    /// Rule changes seen since the watches started, oldest first.
    pub fn rule_events(&self) -> Vec<RuleEvent> {
        lock(&self.shared).events.iter().cloned().collect()
    }

    /// Rule changes recorded after the one numbered `seq` (all of those
    /// still kept when `None`), oldest first.
    pub fn rule_events_after(&self, seq: Option<u64>) -> Vec<RuleEvent> {
        lock(&self.shared)
            .events
            .iter()
            .filter(|e| seq.is_none_or(|s| e.seq > s))
            .cloned()
            .collect()
    }
}
