//! What each pod's sidecar proxy serves on its metrics port at a given moment:
//! Envoy's `:15090/stats/prometheus` for Istio, linkerd2-proxy's
//! `:4191/metrics` for Linkerd.

pub mod envoy_noise;
pub mod istio;
pub mod linkerd;
mod linkerd_noise;

use super::scenario::{MeshKind, Pod, Scenario};

/// How much unrelated proxy telemetry to emit around the mesh metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noise {
    /// Only the mesh metrics (istio_* / request_total ...).
    None,
    /// A few dozen lines of proxy self-metrics: small test bundles.
    Low,
    /// What a real proxy serves: Envoy server/cluster/listener stats (the
    /// majority of the lines), or linkerd2-proxy's control/stack/process families.
    Realistic,
}

/// The metrics text `pod`'s proxy would serve at `t_ms` (ms since the scenario
/// epoch), with realistic noise. Empty for a pod without a proxy.
pub fn render_metrics(scenario: &Scenario, pod: &Pod, t_ms: u64) -> String {
    render_metrics_with(scenario, pod, t_ms, Noise::Realistic)
}

/// [`render_metrics`] with an explicit amount of noise.
pub fn render_metrics_with(scenario: &Scenario, pod: &Pod, t_ms: u64, noise: Noise) -> String {
    let mut out = String::new();
    render_metrics_into(scenario, pod, t_ms, noise, &mut out);
    out
}

/// [`render_metrics_with`] appending to `out`, so a caller rendering many
/// pods can reuse one buffer (clear it between pods).
pub fn render_metrics_into(
    scenario: &Scenario,
    pod: &Pod,
    t_ms: u64,
    noise: Noise,
    out: &mut String,
) {
    render_metrics_filtered(scenario, pod, t_ms, noise, StatFilter::default(), out);
}

/// [`render_metrics_into`] under Envoy admin's `?filter=`: an Envoy sidecar
/// serves only the families `filter` keeps; linkerd2-proxy has no such
/// parameter and serves everything.
pub fn render_metrics_filtered(
    scenario: &Scenario,
    pod: &Pod,
    t_ms: u64,
    noise: Noise,
    filter: StatFilter<'_>,
    out: &mut String,
) {
    if !scenario.workloads[pod.workload].meshed {
        return;
    }
    match scenario.mesh {
        MeshKind::Istio => istio::render(scenario, pod, t_ms, noise, filter, out),
        MeshKind::Linkerd => linkerd::render(scenario, pod, t_ms, noise, out),
    }
}

/// Envoy admin's `filter` query parameter on `/stats/prometheus`: only the
/// stats whose name the regular expression matches, partially. Envoy
/// matches its own stat name
/// (`cluster.NAME.upstream_rq_200`); the simulator matches the Prometheus
/// family name (`envoy_cluster_upstream_rq`), the form the families of a
/// `/stats/prometheus` page carry. No regex: every family.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatFilter<'a>(pub Option<&'a regex::Regex>);

impl StatFilter<'_> {
    /// Whether the family `name` is served.
    pub fn keeps(&self, name: &str) -> bool {
        self.0.is_none_or(|r| r.is_match(name))
    }
}

/// Format a bucket bound the way Prometheus clients do (`0.5`, `10`, `1e+06` is
/// avoided: Envoy prints plain integers).
pub(crate) fn fmt_bound(b: f64) -> String {
    if b.fract() == 0.0 {
        format!("{}", b as u64)
    } else {
        format!("{b}")
    }
}
