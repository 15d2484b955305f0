//! `--traces auto`: the tracing query API found in the cluster
//! ([`portforward::TRACING`]: `istio-system/tracing`, then `jaeger-query`,
//! `tracing`, `zipkin` or `tempo` Services) and read through a kube-rs
//! port-forward that lives as long as one fetch.

use kube::Client;

use super::client::{FetchOptions, fetch};
use super::{TraceInput, TraceSource};
use crate::collect::kube::Scope;
use crate::collect::portforward::{self, Forward, TRACING};

/// The `--traces` value that asks for discovery.
pub const AUTO: &str = "auto";

impl TraceSource {
    /// Whether this is `--traces auto`.
    pub fn is_auto(&self) -> bool {
        self.url.trim().eq_ignore_ascii_case(AUTO)
    }

    /// Fetch recent traces: from the URL, or (`auto`) from the tracing
    /// service found through `kube`. Never fails: the input says why.
    pub async fn fetch(&self, kube: Option<(&Client, &Scope)>) -> TraceInput {
        if !self.is_auto() {
            return fetch(&self.url, &self.options).await;
        }
        match kube {
            Some((client, scope)) => fetch_in_cluster(client, scope, &self.options).await,
            None => failed("the cluster cannot be reached to look for a tracing service".into()),
        }
    }
}

fn failed(why: String) -> TraceInput {
    let mut input = TraceInput::new("traces");
    input.failed = Some(format!("--traces auto: {why}"));
    input
}

/// Find the tracing service and forward a loopback port to its pod.
pub async fn forward_tracing(client: &Client, scope: &Scope) -> Result<Forward, String> {
    let found = portforward::find_wanted(client, scope, &TRACING)
        .await
        .map_err(|e| e.to_string())?;
    portforward::forward(client, found)
        .await
        .map_err(|e| e.to_string())
}

/// Find, forward, fetch; the source is named after the backend and the
/// service (`traces (jaeger api_v3, in-cluster istio-system/tracing)`).
pub async fn fetch_in_cluster(client: &Client, scope: &Scope, opts: &FetchOptions) -> TraceInput {
    let fwd = match forward_tracing(client, scope).await {
        Ok(f) => f,
        Err(e) => return failed(e),
    };
    let mut input = fetch(&fwd.url, opts).await;
    let f = &fwd.found;
    let via = format!("in-cluster {}", f.service);
    input.name = match input.name.strip_suffix(')') {
        Some(head) => format!("{head}, {via})"),
        None => format!("{} ({via})", input.name),
    };
    if let Some(why) = &mut input.failed {
        *why = format!(
            "--traces auto found {} (pod {}/{}:{}): {why}",
            f.service, f.namespace, f.pod, f.port
        );
    }
    input
}
