//! One collection from a live cluster through kube-rs: list the objects the
//! model needs (never Secrets), then scrape every meshed pod's proxy through
//! the API server's pod proxy, streaming each body into the parser, with
//! bounded concurrency and a per-scrape timeout.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::{AsyncReadExt, FutureExt, StreamExt};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube::api::{Api, DynamicObject, ListParams, TypeMeta};
use kube::discovery::{ApiResource, Discovery, Scope as DiscoveryScope};
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::collect::k8s::{ObjectSet, SetItem};
use crate::collect::kube::Scope;
use crate::mesh::{ScrapeProcessor, ScrapeTarget};
use crate::model::build::{PodScrape, Round};
use crate::model::inventory::{Inventory, PodInfo, ProxyKind};
use crate::model::snapshot::{MeshKind, SourceState, SourceStatus};

/// API groups of the mesh rules we read (found through discovery; only the
/// ones the cluster serves are listed).
pub const MESH_GROUPS: [&str; 9] = [
    "networking.istio.io",
    "security.istio.io",
    "policy.linkerd.io",
    "linkerd.io",
    "split.smi-spec.io",
    "access.smi-spec.io",
    "specs.smi-spec.io",
    "gateway.networking.k8s.io",
    "telemetry.istio.io",
];

fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::All => "at the cluster scope".into(),
        Scope::Namespace(ns) => format!("in namespace '{ns}'"),
    }
}

/// A list that failed, as a source status: a 403 names the resource and
/// the refused verb, and collection goes on without it.
fn list_failure(plural: &str, scope: &Scope, e: &kube::Error) -> SourceStatus {
    match e {
        kube::Error::Api(s) if s.code == 403 => SourceStatus::new(
            format!("kube: {plural}"),
            SourceState::Degraded,
            format!(
                "forbidden: RBAC refused verb 'list' on '{plural}' {}: {}",
                scope_text(scope),
                s.message
            ),
        ),
        _ => SourceStatus::new(
            format!("kube: {plural}"),
            SourceState::Degraded,
            format!("list {plural} failed: {e}"),
        ),
    }
}

async fn list_pages<K>(api: Api<K>) -> Result<Vec<K>, kube::Error>
where
    K: Clone + DeserializeOwned + Debug,
{
    let mut out = Vec::new();
    let mut lp = ListParams::default().limit(500);
    loop {
        let list = api.list(&lp).await?;
        out.extend(list.items);
        match list.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    Ok(out)
}

/// One list's objects: its part of the object set, and the objects as
/// listed when kept (for `meshscope record`).
#[derive(Default)]
struct Part {
    set: ObjectSet,
    raw: Vec<Value>,
}

impl Part {
    fn typed<K: SetItem + Serialize>(items: Vec<K>, keep_raw: bool) -> Part {
        let mut part = Part::default();
        for o in items {
            if keep_raw && let Ok(v) = serde_json::to_value(&o) {
                part.raw.push(v);
            }
            part.set.add_typed(o);
        }
        part
    }
}

type Listed = Result<Part, kube::Error>;

/// A list running in its own task, aborted if dropped unfinished.
type Spawned<T> = futures::future::BoxFuture<'static, T>;

fn spawn_list<F>(what: String, list: F) -> Spawned<Listed>
where
    F: std::future::Future<Output = Listed> + Send + 'static,
{
    let task = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
        let listed = list.await;
        crate::collect::timings::mark(|| {
            let n = listed.as_ref().map_or(0, |p| p.set.count);
            format!("listed {what}: {n}")
        });
        listed
    }));
    async move {
        task.await
            .unwrap_or_else(|e| Err(kube::Error::Service(Box::new(e))))
    }
    .boxed()
}

/// A namespaced kind's list in its own task, with its plural.
fn spawn_typed<K>(
    plural: &'static str,
    client: &Client,
    scope: &Scope,
    keep_raw: bool,
) -> (&'static str, Spawned<Listed>)
where
    K: Resource<Scope = NamespaceResourceScope>
        + SetItem
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug
        + Send
        + 'static,
    K::DynamicType: Default,
{
    let api: Api<K> = match scope {
        Scope::All => Api::all(client.clone()),
        Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
    };
    let list = async move { Ok(Part::typed(list_pages(api).await?, keep_raw)) };
    (plural, spawn_list(plural.into(), list))
}

/// List everything the model needs into an object set.
pub async fn list_objects(client: &Client, scope: &Scope) -> (ObjectSet, Vec<SourceStatus>) {
    list_objects_into(client, scope, None).await
}

/// [`list_objects`], also keeping a copy of every object listed in `raw`
/// (for `meshscope record`).
pub async fn list_objects_into(
    client: &Client,
    scope: &Scope,
    mut raw: Option<&mut Vec<Value>>,
) -> (ObjectSet, Vec<SourceStatus>) {
    let keep_raw = raw.is_some();
    let mut take = |set: &mut ObjectSet, part: Part| {
        set.merge(part.set);
        if let Some(r) = raw.as_deref_mut() {
            r.extend(part.raw);
        }
    };
    let mut set = ObjectSet::default();
    let mut sources = Vec::new();
    let mut failed = 0usize;

    // Every list at once, each in its own task (one after the other they
    // were most of a triage's listing time; joined in one task, every
    // list's decoding ran on one thread), then read in a fixed order so the
    // object set is the same whatever answers first. Each task converts its
    // own objects: typed lists go into the set as decoded.
    let namespaces = {
        let (client, scope) = (client.clone(), scope.clone());
        async move {
            let items = match scope {
                Scope::All => list_pages(Api::<Namespace>::all(client)).await?,
                Scope::Namespace(ns) => vec![Api::<Namespace>::all(client).get(&ns).await?],
            };
            Ok(Part::typed(items, keep_raw))
        }
    };
    let lists: Vec<(&str, Spawned<Listed>)> = vec![
        ("namespaces", spawn_list("namespaces".into(), namespaces)),
        spawn_typed::<Pod>("pods", client, scope, keep_raw),
        spawn_typed::<Service>("services", client, scope, keep_raw),
        spawn_typed::<Deployment>("deployments", client, scope, keep_raw),
        spawn_typed::<ReplicaSet>("replicasets", client, scope, keep_raw),
        spawn_typed::<StatefulSet>("statefulsets", client, scope, keep_raw),
        spawn_typed::<DaemonSet>("daemonsets", client, scope, keep_raw),
        spawn_typed::<Job>("jobs", client, scope, keep_raw),
        spawn_typed::<k8s_openapi::api::discovery::v1::EndpointSlice>(
            "endpointslices",
            client,
            scope,
            keep_raw,
        ),
    ];
    let (plurals, futs): (Vec<&str>, Vec<_>) = lists.into_iter().unzip();
    let typed = async {
        plurals
            .into_iter()
            .zip(futures::future::join_all(futs).await)
    };
    // Mesh CRDs: only what the cluster serves, listed 8 at a time, in
    // discovery's order.
    let mesh = async {
        let discovery = Discovery::new(client.clone())
            .filter(&MESH_GROUPS)
            .run()
            .await?;
        let served: Vec<(ApiResource, bool)> = discovery
            .groups()
            .flat_map(|g| g.recommended_resources())
            .filter(|(_, caps)| caps.supports_operation(kube::discovery::verbs::LIST))
            .map(|(ar, caps)| (ar, caps.scope == DiscoveryScope::Namespaced))
            .collect();
        let listed: Vec<Listed> = futures::stream::iter(served.iter())
            .map(|(ar, namespaced)| {
                spawn_list(
                    ar.plural.clone(),
                    list_dynamic(
                        client.clone(),
                        scope.clone(),
                        ar.clone(),
                        *namespaced,
                        keep_raw,
                    ),
                )
            })
            .buffered(8)
            .collect()
            .await;
        Ok::<_, kube::Error>(
            served
                .into_iter()
                .map(|(ar, _)| ar)
                .zip(listed)
                .collect::<Vec<_>>(),
        )
    };
    let (results, mesh) = futures::join!(typed, mesh);
    for (plural, res) in results {
        match res {
            Ok(part) => take(&mut set, part),
            // Not served by this cluster (an API group disabled): nothing to read.
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => {
                failed += 1;
                sources.push(list_failure(plural, scope, &e));
            }
        }
    }
    let mut crd_kinds = 0;
    match mesh {
        Ok(lists) => {
            for (ar, res) in lists {
                crd_kinds += 1;
                match res {
                    Ok(part) => take(&mut set, part),
                    Err(e) => {
                        failed += 1;
                        sources.push(list_failure(&ar.plural, scope, &e));
                    }
                }
            }
        }
        Err(e) => {
            failed += 1;
            sources.push(SourceStatus::new(
                "kube: discovery",
                SourceState::Degraded,
                format!("API discovery failed: {e}"),
            ));
        }
    }
    let state = if failed > 0 {
        SourceState::Degraded
    } else {
        SourceState::Ok
    };
    sources.insert(
        0,
        SourceStatus::new(
            "kube",
            state,
            format!(
                "{} objects listed {}; {crd_kinds} mesh rule kinds served{}",
                set.count,
                scope_text(scope),
                if failed > 0 {
                    format!("; {failed} lists failed")
                } else {
                    String::new()
                }
            ),
        ),
    );
    (set, sources)
}

async fn list_dynamic(
    client: Client,
    scope: Scope,
    ar: ApiResource,
    namespaced: bool,
    keep_raw: bool,
) -> Listed {
    let api: Api<DynamicObject> = match (&scope, namespaced) {
        (Scope::Namespace(ns), true) => Api::namespaced_with(client, ns, &ar),
        _ => Api::all_with(client, &ar),
    };
    let mut part = Part::default();
    for mut o in list_pages(api).await? {
        o.types = Some(TypeMeta {
            api_version: ar.api_version.clone(),
            kind: ar.kind.clone(),
        });
        o.metadata.managed_fields = None;
        if let Ok(v) = serde_json::to_value(o) {
            if keep_raw {
                part.raw.push(v.clone());
            }
            part.set.add(v);
        }
    }
    Ok(part)
}

/// How to reach a proxy's metrics.
#[derive(Debug, Clone)]
pub struct ScrapeOptions {
    pub concurrency: usize,
    pub timeout: Duration,
    /// Override the proxy's metrics port and path (`PORT/PATH`).
    pub endpoint: Option<(u16, String)>,
    /// `--mesh`: only this mesh's proxies, read in this mesh's dialect
    /// (`Envoy` takes every Envoy sidecar, Istio's included, through
    /// Envoy's own cluster stats). `None`: detect.
    pub mesh: Option<MeshKind>,
    /// Ask Envoy sidecars for only the stats the dialects read
    /// (`?filter=`, [`crate::mesh::stat_filter`]) on their default
    /// endpoint. Never for `record` (a bundle keeps the page as served
    /// whole) nor an overridden endpoint (pilot-agent's merged `:15020`
    /// page may not pass the parameter on).
    pub stat_filter: bool,
}

impl Default for ScrapeOptions {
    fn default() -> Self {
        ScrapeOptions {
            concurrency: 16,
            timeout: Duration::from_secs(2),
            endpoint: None,
            mesh: None,
            stat_filter: true,
        }
    }
}

/// The metrics endpoint of a proxy: Istio's Envoy (`:15090/stats/prometheus`),
/// linkerd-proxy (`:4191/metrics`), Envoy's admin (`:19000/stats/prometheus`).
pub fn metrics_endpoint(proxy: ProxyKind) -> (u16, &'static str) {
    match proxy {
        ProxyKind::Istio => (15090, "stats/prometheus"),
        ProxyKind::Linkerd => (4191, "metrics"),
        ProxyKind::Envoy => (19000, "stats/prometheus"),
    }
}

/// Whether a pod's proxy is read under `--mesh`.
pub fn proxy_selected(proxy: ProxyKind, mesh: Option<MeshKind>) -> bool {
    match mesh {
        None => true,
        Some(MeshKind::Istio) => proxy == ProxyKind::Istio,
        Some(MeshKind::Linkerd) => proxy == ProxyKind::Linkerd,
        // Istio's sidecar is an Envoy too.
        Some(MeshKind::Envoy) => matches!(proxy, ProxyKind::Envoy | ProxyKind::Istio),
        Some(_) => true,
    }
}

/// The pods a round scrapes under these options (see [`scrape_targets`]).
pub fn select_targets<'a>(
    inv: &'a Inventory,
    scope: &Scope,
    opts: &ScrapeOptions,
) -> Vec<&'a PodInfo> {
    scrape_targets(inv, scope)
        .into_iter()
        .filter(|p| p.proxy.is_some_and(|k| proxy_selected(k, opts.mesh)))
        .collect()
}

/// The pods a round scrapes: meshed and not finished.
pub fn scrape_targets<'a>(inv: &'a Inventory, scope: &Scope) -> Vec<&'a PodInfo> {
    inv.pods
        .iter()
        .filter(|p| p.proxy.is_some())
        .filter(|p| !matches!(p.phase.as_deref(), Some("Succeeded" | "Failed" | "Pending")))
        .filter(|p| match scope {
            Scope::All => true,
            Scope::Namespace(ns) => &p.namespace == ns,
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
enum ScrapeError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Kube(String),
    #[error("reading the body: {0}")]
    Body(String),
}

async fn scrape_pod(
    client: &Client,
    inv: &Inventory,
    pod: &PodInfo,
    opts: &ScrapeOptions,
    keep_raw: bool,
) -> Result<(PodScrape, Option<Vec<u8>>), ScrapeError> {
    let Some(proxy) = pod.proxy else {
        return Err(ScrapeError::Kube("no proxy".into()));
    };
    let (port, path) = match &opts.endpoint {
        Some((p, path)) => (*p, path.trim_start_matches('/').to_string()),
        None => {
            let (p, path) = metrics_endpoint(proxy);
            let envoy = matches!(proxy, ProxyKind::Istio | ProxyKind::Envoy);
            if envoy && opts.stat_filter && !keep_raw {
                (
                    p,
                    format!("{path}?{}", crate::mesh::stat_filter::envoy_stat_query()),
                )
            } else {
                (p, path.to_string())
            }
        }
    };
    let uri = format!(
        "/api/v1/namespaces/{}/pods/{}:{}/proxy/{}",
        pod.namespace, pod.name, port, path
    );
    let work = async {
        let req = http::Request::get(uri.as_str())
            .body(Vec::new())
            .map_err(|e| ScrapeError::Kube(e.to_string()))?;
        let body = client
            .request_stream(req)
            .await
            .map_err(|e| ScrapeError::Kube(describe_kube_error(&e)))?;
        let mut body = Box::pin(body);
        let mut proc =
            ScrapeProcessor::new(ScrapeTarget::new(&pod.namespace, &pod.name, inv)).only(opts.mesh);
        let mut buf = vec![0u8; 64 * 1024];
        let mut raw = keep_raw.then(Vec::new);
        loop {
            let n = body
                .read(&mut buf)
                .await
                .map_err(|e| ScrapeError::Body(e.to_string()))?;
            if n == 0 {
                break;
            }
            proc.feed(&buf[..n]);
            if let Some(r) = raw.as_mut() {
                r.extend_from_slice(&buf[..n]);
            }
        }
        let res = proc.finish();
        Ok::<_, ScrapeError>((res.mesh, res.acc, res.stats, raw))
    };
    match tokio::time::timeout(opts.timeout, work).await {
        Ok(Ok((mesh, data, stats, raw))) => {
            if stats.samples_kept == 0 && stats.issue_count > 0 {
                return Err(ScrapeError::Body(format!(
                    "not a metrics exposition ({} malformed lines, first: line {}: {})",
                    stats.issue_count,
                    stats.issues.first().map_or(0, |i| i.line),
                    stats.issues.first().map_or("", |i| i.message.as_str())
                )));
            }
            Ok((PodScrape { mesh, data }, raw))
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ScrapeError::Timeout(opts.timeout)),
    }
}

/// A kube error in one line (the API's Status message, not its Debug).
pub fn describe_kube_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("HTTP {} {}: {}", s.code, s.reason, s.message.trim()),
        other => other.to_string(),
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One scrape round over `targets`. `progress(done, total)` is called as
/// scrapes finish. Failing pods become source statuses.
pub async fn scrape_round(
    client: &Client,
    inv: &Arc<Inventory>,
    targets: &[&PodInfo],
    opts: &ScrapeOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> (Round, Vec<SourceStatus>) {
    let (round, failures, _) = scrape_round_raw(client, inv, targets, opts, progress, false).await;
    (round, failures)
}

/// A scrape body as served, keyed `namespace/pod` (for `meshscope record`).
pub type RawScrapes = std::collections::BTreeMap<String, Vec<u8>>;

/// [`scrape_round`], also returning the bodies as served when `keep_raw`.
///
/// Each scrape is its own task (at most `opts.concurrency` at once), so the
/// parsing, which is most of a scrape's CPU, runs on every worker thread: in
/// one task (a `buffer_unordered` stream) every body was parsed on the one
/// thread that polled it. The tasks are aborted if the round is dropped.
pub async fn scrape_round_raw(
    client: &Client,
    inv: &Arc<Inventory>,
    targets: &[&PodInfo],
    opts: &ScrapeOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
    keep_raw: bool,
) -> (Round, Vec<SourceStatus>, RawScrapes) {
    let mut raws = RawScrapes::new();
    let at_ms = now_ms();
    let total = targets.len();
    let mut done = 0usize;
    let mut round = Round {
        at_ms,
        ..Round::default()
    };
    let mut failures = Vec::new();
    let shared = Arc::new(opts.clone());
    let mut tasks = tokio::task::JoinSet::new();
    let mut ids = std::collections::HashMap::new();
    let mut next = 0usize;
    let limit = opts.concurrency.max(1);
    loop {
        while next < total && tasks.len() < limit {
            let pod = targets[next].clone();
            let (client, inv, opts) = (client.clone(), Arc::clone(inv), Arc::clone(&shared));
            let id = tasks
                .spawn(async move {
                    let res = scrape_pod(&client, &inv, &pod, &opts, keep_raw).await;
                    (pod, res)
                })
                .id();
            ids.insert(id, next);
            next += 1;
        }
        let Some(joined) = tasks.join_next_with_id().await else {
            break;
        };
        done += 1;
        progress(done, total);
        match joined {
            Ok((_, (pod, Ok((s, raw))))) => {
                let key = pod.key();
                if let Some(r) = raw {
                    raws.insert(key.clone(), r);
                }
                round.scrapes.insert(key, s);
            }
            Ok((_, (pod, Err(e)))) => failures.push(SourceStatus::new(
                format!("scrape: {}", pod.key()),
                SourceState::Unavailable,
                e.to_string(),
            )),
            // A scrape task that panicked: that pod is reported, the round goes on.
            Err(e) => {
                let pod = ids.get(&e.id()).map(|&i| targets[i]);
                failures.push(SourceStatus::new(
                    format!("scrape: {}", pod.map_or_else(|| "?".into(), PodInfo::key)),
                    SourceState::Unavailable,
                    format!("the scrape failed: {e}"),
                ));
            }
        }
    }
    failures.sort_by(|a, b| a.name.cmp(&b.name));
    (round, failures, raws)
}
