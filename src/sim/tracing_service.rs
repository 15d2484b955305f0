//! The demo cluster's tracing service, as Istio's Jaeger addon installs it:
//! Service `istio-system/tracing` (port 80 `http-query` → 16686) selecting
//! a running `jaeger` pod whose port 16686 the simulated API server
//! forwards to a simulated Jaeger. That Jaeger runs on the real clock, so
//! `--traces auto` (which searches the last 15 minutes) finds its traces.

use serde_json::json;

use crate::sim::demo::{Demo, WARM_UP_MS};
use crate::sim::jaeger::JaegerServer;

/// Namespace, Service and pod of the demo's tracing service.
pub const NAMESPACE: &str = "istio-system";
pub const SERVICE: &str = "tracing";
pub const POD: &str = "jaeger-5f8c7d6b9-q7xkz";
/// The pod's query port (Jaeger's UI and API).
pub const PORT: u16 = 16686;

impl Demo {
    /// Start a simulated Jaeger on the real clock and expose it in the
    /// cluster as `istio-system/tracing`. The caller owns the Jaeger.
    pub async fn serve_tracing(&self) -> std::io::Result<JaegerServer> {
        let api = self
            .api()
            .ok_or_else(|| std::io::Error::other("the simulated API server is not running"))?;
        let mut scenario = (*self.scenario).clone();
        scenario.epoch_ms = (crate::collect::live::now_ms() as u64).saturating_sub(WARM_UP_MS);
        let start = std::time::Instant::now();
        let jaeger = JaegerServer::start(std::sync::Arc::new(scenario), move || {
            WARM_UP_MS + start.elapsed().as_millis() as u64
        })
        .await?;
        let addr: std::net::SocketAddr = jaeger
            .url()
            .trim_start_matches("http://")
            .parse()
            .map_err(|e| std::io::Error::other(format!("simulated Jaeger address: {e}")))?;
        let store = api.store();
        let bad = |e: String| std::io::Error::other(format!("tracing service objects: {e}"));
        store
            .apply(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": SERVICE, "namespace": NAMESPACE, "labels": {"app": "jaeger"}},
                "spec": {"selector": {"app": "jaeger"}, "ports": [
                    {"name": "http-query", "port": 80, "targetPort": PORT},
                    {"name": "grpc-query", "port": 16685, "targetPort": 16685}]}}))
            .map_err(|e| bad(e.to_string()))?;
        store
            .apply(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": POD, "namespace": NAMESPACE, "labels": {"app": "jaeger"}},
                "spec": {"containers": [{"name": "jaeger", "image": "docker.io/jaegertracing/all-in-one:1.67.0",
                    "ports": [{"containerPort": PORT, "protocol": "TCP"}]}]},
                "status": {"phase": "Running", "podIP": "10.0.9.10"}}))
            .map_err(|e| bad(e.to_string()))?;
        api.add_port_forward(NAMESPACE, POD, PORT, addr);
        Ok(jaeger)
    }
}
