//! Writes a simulated cluster as a bundle (CONTRACT.md "Bundles"): the
//! objects as a JSON `List`, and one `.prom` file per meshed pod per round.

use std::fs;
use std::io;
use std::path::Path;

use serde_json::json;

use super::cluster;
use super::proxy::{self, Noise};
use super::scenario::Scenario;

/// The scrape rounds of the committed fixture bundles (ms after the epoch).
pub const FIXTURE_ROUNDS_MS: [u64; 2] = [0, 10_000];

/// Write `scenario` into `dir` as a bundle with one scrape round per entry of
/// `rounds_ms` (ms since the scenario epoch; folder names are unix millis).
pub fn write_bundle(
    dir: &Path,
    scenario: &Scenario,
    rounds_ms: &[u64],
    noise: Noise,
) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let last = rounds_ms.iter().copied().max().unwrap_or(0);
    let meta = json!({
        "schema": "meshscope.bundle/v1",
        "context": format!("meshscope-sim-{}", scenario.name.replace(':', "-")),
        "captured_at": cluster::rfc3339((scenario.epoch_ms + last) / 1000),
        "generator": "meshscope sim",
        "scenario": scenario.name,
    });
    fs::write(dir.join("meta.json"), to_pretty(&meta)?)?;
    let manifests = dir.join("manifests");
    fs::create_dir_all(&manifests)?;
    let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": cluster::objects(scenario)});
    fs::write(manifests.join("cluster.json"), to_pretty(&list)?)?;
    for &t in rounds_ms {
        let round = dir
            .join("scrapes")
            .join((scenario.epoch_ms + t).to_string());
        fs::create_dir_all(&round)?;
        for pod in scenario.meshed_pods() {
            let text = proxy::render_metrics_with(scenario, pod, t, noise);
            fs::write(
                round.join(format!("{}__{}.prom", pod.namespace, pod.name)),
                text,
            )?;
        }
    }
    Ok(())
}

fn to_pretty(v: &serde_json::Value) -> io::Result<String> {
    let mut s = serde_json::to_string_pretty(v).map_err(io::Error::other)?;
    s.push('\n');
    Ok(s)
}
