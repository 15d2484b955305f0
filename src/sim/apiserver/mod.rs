//! A read-only Kubernetes API server on loopback, serving an [`ObjectStore`]
//! to kube-rs and kubectl exactly like a real cluster would: discovery
//! (legacy and aggregated), list/get with selectors and pagination, watch
//! with bookmarks and 410 Gone, 403/404/405 `Status` objects and the pod
//! proxy subresource backed by a [`PodProxy`].
//!
//! Fault injection: [`ApiServer::drop_watches`], [`ApiServer::compact`],
//! [`ForbiddenRule`]s and [`PodProxyResponse::Timeout`] and friends.

mod config;
mod discovery;
mod kubeconfig;
mod list;
mod portforward;
mod proxy;
mod resources;
mod router;
mod selector;
mod status;
mod store;
mod watch;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{ApiServerConfig, ForbiddenRule, LoggedRequest};
pub use proxy::{PodProxy, PodProxyResponse};
pub use selector::{Selector, SelectorError};
pub use store::{ObjectStore, StoreError};

/// Most requests kept in the log; the oldest tenth is dropped beyond that.
const REQUEST_LOG_LIMIT: usize = 100_000;

/// State shared by every request handler.
pub(crate) struct Ctx {
    store: ObjectStore,
    proxy: Arc<dyn PodProxy>,
    config: ApiServerConfig,
    log: Mutex<Vec<LoggedRequest>>,
    /// Cancelled (and replaced) by `drop_watches`; a child of `shutdown`.
    watches: Mutex<CancellationToken>,
    shutdown: CancellationToken,
    /// Port-forward targets (from the config, plus any added later).
    port_forwards: Mutex<std::collections::BTreeMap<(String, String, u16), SocketAddr>>,
}

impl Ctx {
    fn log(&self, entry: LoggedRequest) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= REQUEST_LOG_LIMIT {
            log.drain(..REQUEST_LOG_LIMIT / 10);
        }
        log.push(entry);
    }

    fn watch_token(&self) -> CancellationToken {
        self.watches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A running simulated API server. Dropping it stops serving; prefer
/// [`ApiServer::shutdown`] to wait for that.
pub struct ApiServer {
    ctx: Arc<Ctx>,
    addr: SocketAddr,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl ApiServer {
    /// Bind a free port on 127.0.0.1 and start serving `store`.
    pub async fn start(
        store: ObjectStore,
        proxy: Arc<dyn PodProxy>,
        config: ApiServerConfig,
    ) -> std::io::Result<ApiServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let ctx = Arc::new(Ctx {
            store,
            proxy,
            log: Mutex::new(Vec::new()),
            watches: Mutex::new(shutdown.child_token()),
            shutdown: shutdown.clone(),
            port_forwards: Mutex::new(config.port_forwards.clone()),
            config,
        });
        let app = axum::Router::new()
            .route(
                "/api/v1/namespaces/{ns}/pods/{pod}/portforward",
                axum::routing::any(portforward::handle),
            )
            .fallback(router::dispatch)
            .with_state(ctx.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
        });
        Ok(ApiServer {
            ctx,
            addr,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The store being served (apply/delete on it reach watchers).
    pub fn store(&self) -> &ObjectStore {
        &self.ctx.store
    }

    /// Every request received so far, in arrival order (the most recent
    /// 100 000 in a long-running demo).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.ctx
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Write a kubeconfig (plain http cluster, one context named
    /// `context_name`, a user with a dummy token) that kubectl and kube-rs accept.
    pub fn write_kubeconfig(&self, path: &Path, context_name: &str) -> std::io::Result<()> {
        kubeconfig::write(path, &self.url(), context_name)
    }

    /// Make `namespace/pod:port` reachable by port-forward at `addr`.
    pub fn add_port_forward(&self, namespace: &str, pod: &str, port: u16, addr: SocketAddr) {
        self.ctx
            .port_forwards
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((namespace.to_string(), pod.to_string(), port), addr);
    }

    /// Fault injection: close every open watch stream (clients re-watch).
    pub fn drop_watches(&self) {
        let mut token = self.ctx.watches.lock().unwrap_or_else(|e| e.into_inner());
        token.cancel();
        *token = self.ctx.shutdown.child_token();
    }

    /// Fault injection: every resourceVersion issued so far becomes too old;
    /// the next watch from one of them gets a 410 Gone ERROR event.
    pub fn compact(&self) {
        self.ctx.store.compact();
    }

    /// Stop serving: ends watches and hanging proxy requests, then waits
    /// (at most 5 s) for the server task.
    pub async fn shutdown(mut self) {
        self.ctx.shutdown.cancel();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.ctx.shutdown.cancel();
    }
}
