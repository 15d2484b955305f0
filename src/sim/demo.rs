//! `meshscope demo`: the simulated cluster in-process. The simulated pods
//! answer the API server's pod proxy with what their proxies would serve,
//! so meshscope reaches them exactly as it reaches a real cluster: kube-rs →
//! discovery and lists → pod-proxy scrapes → the model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;

use crate::sim::apiserver::{ApiServer, ApiServerConfig, ObjectStore, PodProxy, PodProxyResponse};
use crate::sim::cluster::{metrics_port, objects};
use crate::sim::jaeger::JaegerServer;
use crate::sim::proxy::{Noise, StatFilter, render_metrics_filtered};
use crate::sim::scenario::Scenario;

/// How long the simulated mesh has already been running when the demo
/// starts, so counters look lived-in.
pub const WARM_UP_MS: u64 = 3_600_000;

/// The simulated pods behind the pod proxy.
pub struct SimProxy {
    scenario: Arc<Scenario>,
    start: Instant,
    /// Pods that misbehave (for fault tests), by `namespace/pod`.
    faults: HashMap<String, PodProxyResponse>,
    /// The size of each pod's last answer, by `namespace/pod`: the next is
    /// rendered into a buffer of about that size (a sidecar's page is up to
    /// 11 MB; growing it by doubling copied and faulted in twice as much).
    sizes: std::sync::Mutex<HashMap<String, usize>>,
    /// The last `?filter=` regex compiled (every scrape of a run asks the same).
    filter: std::sync::Mutex<Option<(String, Arc<regex::Regex>)>>,
}

impl SimProxy {
    pub fn new(scenario: Arc<Scenario>) -> Self {
        SimProxy {
            scenario,
            start: Instant::now(),
            faults: HashMap::new(),
            sizes: std::sync::Mutex::new(HashMap::new()),
            filter: std::sync::Mutex::new(None),
        }
    }

    /// Make one pod answer with `response` instead of its metrics.
    pub fn with_fault(mut self, namespace: &str, pod: &str, response: PodProxyResponse) -> Self {
        self.faults.insert(format!("{namespace}/{pod}"), response);
        self
    }

    /// The compiled `filter` regex of a query (cached), or Envoy's answer to
    /// a bad one (400).
    fn stat_filter(&self, query: &str) -> Result<Option<Arc<regex::Regex>>, PodProxyResponse> {
        let Some(src) = crate::mesh::stat_filter::filter_param(query) else {
            return Ok(None);
        };
        let mut cached = self
            .filter
            .lock()
            .map_err(|_| PodProxyResponse::Status(500, "filter cache poisoned\n".into()))?;
        if let Some((s, re)) = cached.as_ref()
            && *s == src
        {
            return Ok(Some(re.clone()));
        }
        let re = regex::Regex::new(&src).map_err(|e| {
            PodProxyResponse::Status(400, format!("Invalid re2 regex: {src}: {e}\n"))
        })?;
        let re = Arc::new(re);
        *cached = Some((src, re.clone()));
        Ok(Some(re))
    }

    /// Milliseconds since the scenario epoch, now.
    pub fn now_ms(&self) -> u64 {
        WARM_UP_MS + self.start.elapsed().as_millis() as u64
    }
}

impl PodProxy for SimProxy {
    fn get(&self, namespace: &str, pod: &str, port: u16, path: &str) -> PodProxyResponse {
        if let Some(f) = self.faults.get(&format!("{namespace}/{pod}")) {
            return f.clone();
        }
        let Some(p) = self.scenario.pod(namespace, pod) else {
            return PodProxyResponse::Unreachable(format!("pod {namespace}/{pod} has no IP yet"));
        };
        let (mport, mpath) = metrics_port(&self.scenario, p);
        let want = mpath.trim_start_matches('/');
        let (asked, query) = path.split_once('?').unwrap_or((path, ""));
        let asked = asked.trim_start_matches('/');
        let meshed = self.scenario.workloads[p.workload].meshed;
        if port != mport || !meshed {
            return PodProxyResponse::Unreachable(format!(
                "dial tcp {}:{port}: connect: connection refused",
                p.ip
            ));
        }
        if asked != want {
            return PodProxyResponse::Status(404, "404 page not found\n".into());
        }
        // linkerd2-proxy has no `filter`; Envoy's admin does.
        let filter = match self.scenario.mesh {
            crate::sim::scenario::MeshKind::Istio => match self.stat_filter(query) {
                Ok(f) => f,
                Err(answer) => return answer,
            },
            crate::sim::scenario::MeshKind::Linkerd => None,
        };
        let key = format!("{namespace}/{pod}?{}", filter.is_some());
        let last = self
            .sizes
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied())
            .unwrap_or(0);
        let mut body = String::with_capacity(last + last / 16);
        render_metrics_filtered(
            &self.scenario,
            p,
            self.now_ms(),
            Noise::Realistic,
            StatFilter(filter.as_deref()),
            &mut body,
        );
        if let Ok(mut m) = self.sizes.lock() {
            m.insert(key, body.len());
        }
        PodProxyResponse::Ok {
            content_type: "text/plain; version=0.0.4; charset=utf-8".into(),
            body: Bytes::from(body),
        }
    }
}

/// A running simulated cluster and the kubeconfig pointing at it.
pub struct Demo {
    pub server: Option<ApiServer>,
    pub scenario: Arc<Scenario>,
    pub kubeconfig: PathBuf,
    /// Remove the kubeconfig when the demo ends (a temporary one).
    temporary: bool,
}

impl Demo {
    /// Start the API server for `scenario` and write a kubeconfig for it:
    /// at `kubeconfig_out`, or a temporary file removed when the demo ends.
    pub async fn start(
        scenario: Scenario,
        kubeconfig_out: Option<&Path>,
        config: ApiServerConfig,
    ) -> std::io::Result<Demo> {
        Self::start_with_proxy(scenario, kubeconfig_out, config, SimProxy::new).await
    }

    /// [`Demo::start`] with a customised pod proxy (fault injection).
    pub async fn start_with_proxy(
        scenario: Scenario,
        kubeconfig_out: Option<&Path>,
        config: ApiServerConfig,
        make_proxy: impl FnOnce(Arc<Scenario>) -> SimProxy,
    ) -> std::io::Result<Demo> {
        let scenario = Arc::new(scenario);
        let store = ObjectStore::new(objects(&scenario))
            .map_err(|e| std::io::Error::other(format!("simulated cluster objects: {e}")))?;
        let proxy = Arc::new(make_proxy(scenario.clone()));
        let server = ApiServer::start(store, proxy, config).await?;
        let (kubeconfig, temporary) = match kubeconfig_out {
            Some(p) => (p.to_path_buf(), false),
            None => (
                std::env::temp_dir().join(format!(
                    "meshscope-demo-{}-{}.kubeconfig",
                    std::process::id(),
                    server.url().rsplit(':').next().unwrap_or("0")
                )),
                true,
            ),
        };
        server.write_kubeconfig(
            &kubeconfig,
            &format!("meshscope-demo-{}", scenario.name.replace(':', "-")),
        )?;
        Ok(Demo {
            server: Some(server),
            scenario,
            kubeconfig,
            temporary,
        })
    }

    /// The API server's URL.
    pub fn url(&self) -> String {
        self.server.as_ref().map(ApiServer::url).unwrap_or_default()
    }

    /// Collection options for the whole simulated cluster (every namespace,
    /// through its kubeconfig): rounds `window` apart, default scrapes, no
    /// progress on stderr, nothing extra declared.
    pub fn live_options(
        &self,
        window: std::time::Duration,
    ) -> crate::collect::session::LiveOptions {
        crate::collect::session::LiveOptions {
            kube: crate::collect::kube::KubeOptions {
                kubeconfig: Some(self.kubeconfig.clone()),
                all_namespaces: true,
                ..Default::default()
            },
            window,
            scrape: crate::collect::live::ScrapeOptions::default(),
            progress: false,
            declared: None,
        }
    }

    /// Start a simulated Jaeger query service for this demo's scenario on
    /// 127.0.0.1 (its clock starts at [`WARM_UP_MS`] now, like the pods').
    /// The caller owns it: call [`JaegerServer::shutdown`] when done.
    pub async fn start_jaeger(&self) -> std::io::Result<JaegerServer> {
        let start = Instant::now();
        JaegerServer::start(self.scenario.clone(), move || {
            WARM_UP_MS + start.elapsed().as_millis() as u64
        })
        .await
    }

    /// The API server (for its request log and fault injection).
    pub fn api(&self) -> Option<&ApiServer> {
        self.server.as_ref()
    }

    /// Stop serving and remove a temporary kubeconfig.
    pub async fn shutdown(mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.kubeconfig);
        }
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.kubeconfig);
        }
    }
}
